//! Reading directories: entries from getdents64, and the start-up sweep
//! that removes the temp files of uploads cut off by a crash. (Sorted
//! listings are `listing.rs`.)

use crate::files::TEMP_PREFIX;
use crate::sys::{self, Errno, Res};

/// getdents64's type of a directory.
pub const DT_DIR: u8 = 4;
/// getdents64's "type not known" (some filesystems): look closer.
const DT_UNKNOWN: u8 = 0;
/// Bytes of `struct linux_dirent64` before the name.
const DIRENT_HEAD: usize = 19;
/// Longest file name Linux allows.
pub const MAX_NAME: usize = 255;
/// Deepest nesting below the root that the orphan sweep descends into.
pub const REAP_MAX_DEPTH: usize = 32;

/// The entries of a directory descriptor, `.` and `..` left out.
pub struct Entries<'b> {
    fd: i32,
    buf: &'b mut [u8],
    len: usize,
    at: usize,
}

/// One `linux_dirent64` record as getdents64 left it in a buffer.
pub struct Dirent {
    /// Where its name starts in the buffer.
    pub name_at: usize,
    pub name_len: usize,
    /// Its getdents64 type (`DT_DIR`, ...).
    pub kind: u8,
    /// Where the next record starts.
    pub next: usize,
}

/// The record at `at` in `buf[..len]`; None when no whole record head is
/// left (read more).
pub fn dirent(buf: &[u8], at: usize, len: usize) -> Option<Dirent> {
    if at + DIRENT_HEAD > len {
        return None;
    }
    let reclen = usize::from(u16::from_ne_bytes([buf[at + 16], buf[at + 17]]));
    let area = &buf[at + DIRENT_HEAD..(at + reclen).clamp(at + DIRENT_HEAD, len)];
    Some(Dirent {
        name_at: at + DIRENT_HEAD,
        name_len: area.iter().position(|&b| b == 0).unwrap_or(area.len()),
        kind: buf[at + 18],
        next: at + reclen.max(1),
    })
}

impl<'b> Entries<'b> {
    /// Reads `fd` from its current position, `buf` at a time.
    pub fn new(fd: i32, buf: &'b mut [u8]) -> Self {
        Entries {
            fd,
            buf,
            len: 0,
            at: 0,
        }
    }

    /// The next entry's name and getdents64 type; None at the end.
    pub fn next_entry(&mut self) -> Res<Option<(&[u8], u8)>> {
        let d = loop {
            let Some(d) = dirent(self.buf, self.at, self.len) else {
                let n = sys::getdents64(self.fd, self.buf)?;
                if n == 0 {
                    return Ok(None);
                }
                self.len = n;
                self.at = 0;
                continue;
            };
            self.at = d.next;
            let name = &self.buf[d.name_at..d.name_at + d.name_len];
            if name != b"." && name != b".." {
                break d;
            }
        };
        Ok(Some((&self.buf[d.name_at..d.name_at + d.name_len], d.kind)))
    }
}

/// One name with its NUL, for the `*at` calls.
fn c_name(name: &[u8], buf: &mut [u8; MAX_NAME + 1]) -> Option<usize> {
    if name.len() > MAX_NAME {
        return None;
    }
    buf[..name.len()].copy_from_slice(name);
    buf[name.len()] = 0;
    Some(name.len() + 1)
}

/// Removes the temp files of uploads whose writer is gone (a crash or
/// kill -9 mid-PUT) from `dir` and the directories below it, never
/// following symlinks; returns how many. A live upload holds an flock on
/// its temp file (the kernel drops it when the writer dies), so only
/// unlocked ones are taken.
pub fn reap_orphans(dir: i32, depth: usize) -> u64 {
    let mut dents = [0u8; 4096];
    let mut entries = Entries::new(dir, &mut dents);
    let mut removed = 0;
    let mut name_c = [0u8; MAX_NAME + 1];
    while let Ok(Some((name, kind))) = entries.next_entry() {
        let Some(n) = c_name(name, &mut name_c) else {
            continue;
        };
        let name_c = &name_c[..n];
        if name.starts_with(TEMP_PREFIX) {
            removed += u64::from(reap_one(dir, name_c));
        } else if (kind == DT_DIR || kind == DT_UNKNOWN) && depth < REAP_MAX_DEPTH {
            let flags = sys::O_RDONLY | sys::O_DIRECTORY | sys::O_NOFOLLOW | sys::O_CLOEXEC;
            if let Ok(sub) = sys::openat(dir, name_c, flags, 0) {
                removed += reap_orphans(sub, depth + 1);
                sys::close(sub);
            }
        }
    }
    removed
}

/// Unlinks one temp file if it is a regular file no live upload locks.
fn reap_one(dir: i32, name_c: &[u8]) -> bool {
    let flags = sys::O_RDONLY | sys::O_NOFOLLOW | sys::O_NONBLOCK | sys::O_CLOEXEC;
    let Ok(fd) = sys::openat(dir, name_c, flags, 0) else {
        return false;
    };
    let orphan = sys::fstat(fd).is_ok_and(|st| st.is_file())
        && sys::flock(fd, sys::LOCK_EX | sys::LOCK_NB).is_ok();
    // Unlinked while still locked, so a new upload never loses its file.
    let removed = orphan && sys::unlinkat(dir, name_c, 0).is_ok();
    sys::close(fd);
    removed
}

/// Takes the lock that marks a temp file as a live upload's; Err when
/// the orphan sweep got it first (it is removing the file: pick another
/// name).
pub fn claim_temp(fd: i32) -> Res<()> {
    sys::flock(fd, sys::LOCK_EX | sys::LOCK_NB)?;
    match sys::fstat(fd) {
        Ok(st) if st.nlink > 0 => Ok(()),
        Ok(_) => Err(Errno::ENOENT),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{dir_fd, temp_dir};
    use std::fs;
    use std::os::fd::AsRawFd;

    #[test]
    fn reaping_takes_orphans_only() {
        let d = temp_dir("reap");
        fs::create_dir_all(d.join("a/b")).unwrap();
        let outside = temp_dir("reap-outside");
        fs::write(outside.join(".bedrock-put-outside"), b"x").unwrap();
        std::os::unix::fs::symlink(&outside, d.join("a/link")).unwrap();
        for p in [".bedrock-put-1", "a/.bedrock-put-2", "a/b/.bedrock-put-3"] {
            fs::write(d.join(p), b"orphan").unwrap();
        }
        fs::create_dir(d.join(".bedrock-put-dir")).unwrap();
        fs::write(d.join("a/keep.txt"), b"keep").unwrap();
        // A live upload holds its lock.
        let live = fs::File::create(d.join("a/.bedrock-put-live")).unwrap();
        claim_temp(live.as_raw_fd()).unwrap();
        let fd = dir_fd(&d);
        assert_eq!(reap_orphans(fd, 0), 3);
        for p in [".bedrock-put-1", "a/.bedrock-put-2", "a/b/.bedrock-put-3"] {
            assert!(!d.join(p).exists(), "{p}");
        }
        for p in ["a/.bedrock-put-live", "a/keep.txt", ".bedrock-put-dir"] {
            assert!(d.join(p).exists(), "{p}");
        }
        assert!(outside.join(".bedrock-put-outside").exists());
        // Once the upload is gone, its leftover is an orphan too.
        drop(live);
        sys::rewind(fd).unwrap();
        assert_eq!(reap_orphans(fd, 0), 1);
        sys::close(fd);
    }

    #[test]
    fn a_temp_file_being_reaped_is_not_claimed() {
        let d = temp_dir("claim");
        let f = fs::File::create(d.join(".bedrock-put-x")).unwrap();
        fs::remove_file(d.join(".bedrock-put-x")).unwrap();
        assert_eq!(claim_temp(f.as_raw_fd()), Err(Errno::ENOENT));
        let g = fs::File::create(d.join(".bedrock-put-y")).unwrap();
        let other = fs::File::open(d.join(".bedrock-put-y")).unwrap();
        claim_temp(other.as_raw_fd()).unwrap();
        assert_eq!(claim_temp(g.as_raw_fd()), Err(Errno::EAGAIN));
    }
}
