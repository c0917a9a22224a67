//! Reading directories: entries from getdents64, a listing's entries in
//! bytewise name order without a heap (a bounded batch per pass), and the
//! start-up sweep that removes the temp files of uploads cut off by a
//! crash.

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
/// Names one pass of a sorted listing holds; a larger directory is read
/// again for each further batch (a directory of n entries takes
/// n / SORT_BATCH + 1 passes).
pub const SORT_BATCH: usize = 128;
/// Deepest nesting below the root that the orphan sweep descends into.
pub const REAP_MAX_DEPTH: usize = 32;

/// The entries of a directory descriptor, `.` and `..` left out.
pub struct Entries<'b> {
    fd: i32,
    buf: &'b mut [u8],
    len: usize,
    at: usize,
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
        loop {
            if self.at + DIRENT_HEAD > self.len {
                let n = sys::getdents64(self.fd, self.buf)?;
                if n == 0 {
                    return Ok(None);
                }
                self.len = n;
                self.at = 0;
                continue;
            }
            let at = self.at;
            let reclen = usize::from(u16::from_ne_bytes([self.buf[at + 16], self.buf[at + 17]]));
            self.at += reclen.max(1);
            let kind = self.buf[at + 18];
            let area = &self.buf[at + DIRENT_HEAD..(at + reclen).min(self.len)];
            let name_len = area.iter().position(|&b| b == 0).unwrap_or(area.len());
            let name = &area[..name_len];
            if name == b"." || name == b".." {
                continue;
            }
            let start = at + DIRENT_HEAD;
            return Ok(Some((&self.buf[start..start + name_len], kind)));
        }
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

/// The `SORT_BATCH` smallest names seen (bytewise), kept in order.
pub struct Batch {
    names: [[u8; MAX_NAME]; SORT_BATCH],
    lens: [u8; SORT_BATCH],
    kinds: [u8; SORT_BATCH],
    /// Slot numbers in name order.
    order: [u8; SORT_BATCH],
    count: usize,
}

const _: () = assert!(SORT_BATCH <= 256 && MAX_NAME <= 255);

impl Batch {
    pub const fn new() -> Self {
        Batch {
            names: [[0; MAX_NAME]; SORT_BATCH],
            lens: [0; SORT_BATCH],
            kinds: [0; SORT_BATCH],
            order: [0; SORT_BATCH],
            count: 0,
        }
    }

    fn name(&self, slot: u8) -> &[u8] {
        let s = usize::from(slot);
        &self.names[s][..usize::from(self.lens[s])]
    }

    /// How many names it holds.
    pub fn len(&self) -> usize {
        self.count
    }

    /// The names in order, with their getdents64 types.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], u8)> + '_ {
        self.order[..self.count]
            .iter()
            .map(|&s| (self.name(s), self.kinds[usize::from(s)]))
    }

    /// Keeps `name` if it is among the `SORT_BATCH` smallest offered.
    pub fn offer(&mut self, name: &[u8], kind: u8) {
        if name.len() > MAX_NAME {
            return;
        }
        let slot = if self.count < SORT_BATCH {
            self.count += 1;
            self.count - 1
        } else {
            let largest = self.order[SORT_BATCH - 1];
            if name >= self.name(largest) {
                return;
            }
            usize::from(largest)
        };
        // Drop the slot from the order (it is the last entry there, or
        // not there yet), then insert it where its name belongs.
        let placed = self.count - 1;
        let at = self.order[..placed].partition_point(|&s| self.name(s) < name);
        self.order.copy_within(at..placed, at + 1);
        self.order[at] = slot as u8;
        self.names[slot][..name.len()].copy_from_slice(name);
        self.lens[slot] = name.len() as u8;
        self.kinds[slot] = kind;
    }
}

/// Calls `visit` with every entry of `dir` except temp files, in
/// bytewise name order: each pass over the directory keeps the next
/// `SORT_BATCH` names above the last one shown.
pub fn sorted(
    dir: i32,
    batch: &mut Batch,
    dents: &mut [u8],
    visit: &mut impl FnMut(&[u8], u8) -> Res<()>,
) -> Res<()> {
    let mut after = [0u8; MAX_NAME];
    let mut after_len: Option<usize> = None;
    loop {
        sys::rewind(dir)?;
        *batch = Batch::new();
        let mut entries = Entries::new(dir, dents);
        while let Some((name, kind)) = entries.next_entry()? {
            let seen = after_len.is_some_and(|n| name <= &after[..n]);
            if !seen && !name.starts_with(TEMP_PREFIX) {
                batch.offer(name, kind);
            }
        }
        let mut last = None;
        for (name, kind) in batch.iter() {
            visit(name, kind)?;
            last = Some(name);
        }
        match last {
            Some(name) if batch.len() == SORT_BATCH => {
                after[..name.len()].copy_from_slice(name);
                after_len = Some(name.len());
            }
            _ => return Ok(()),
        }
    }
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

    fn sorted_names(fd: i32) -> Vec<(Vec<u8>, bool)> {
        let mut batch = Box::new(Batch::new());
        let mut dents = [0u8; 1024]; // small: many getdents calls per pass
        let mut seen = Vec::new();
        sorted(fd, &mut batch, &mut dents, &mut |name, kind| {
            seen.push((name.to_vec(), kind == DT_DIR));
            Ok(())
        })
        .unwrap();
        seen
    }

    #[test]
    fn batch_keeps_the_smallest_names_in_order() {
        let mut b = Box::new(Batch::new());
        let names: Vec<String> = (0..SORT_BATCH * 3)
            .rev()
            .map(|i| format!("n{i:04}"))
            .collect();
        for n in &names {
            b.offer(n.as_bytes(), 8);
        }
        let kept: Vec<&[u8]> = b.iter().map(|(n, _)| n).collect();
        let mut want: Vec<&[u8]> = names.iter().map(|n| n.as_bytes()).collect();
        want.sort();
        assert_eq!(b.len(), SORT_BATCH);
        assert_eq!(kept, want[..SORT_BATCH]);
        // At the batch's size and one past it.
        let mut b = Box::new(Batch::new());
        for i in 0..=SORT_BATCH {
            b.offer(format!("{:03}", SORT_BATCH - i).as_bytes(), 8);
        }
        assert_eq!(b.len(), SORT_BATCH);
        assert_eq!(b.iter().next().unwrap().0, b"000");
        assert_eq!(
            b.iter().last().unwrap().0,
            format!("{:03}", SORT_BATCH - 1).as_bytes()
        );
        // A name longer than Linux allows is never kept.
        b.offer(&[b'0'; MAX_NAME + 1], 8);
        assert_eq!(b.iter().next().unwrap().0, b"000");
    }

    #[test]
    fn listings_are_sorted_bytewise_across_batches() {
        for count in [
            0,
            1,
            SORT_BATCH - 1,
            SORT_BATCH,
            SORT_BATCH + 1,
            2 * SORT_BATCH,
            333,
        ] {
            let d = temp_dir(&format!("sorted-{count}"));
            let mut want = Vec::new();
            for i in 0..count {
                // Scrambled creation order; upper case sorts before lower.
                let name = format!(
                    "{}{:x}",
                    if i % 3 == 0 { 'B' } else { 'a' },
                    (i * 7919) % 100_003
                );
                fs::write(d.join(&name), b"").unwrap();
                want.push((name.into_bytes(), false));
            }
            fs::create_dir(d.join("\u{e9}dir")).unwrap();
            want.push(("\u{e9}dir".as_bytes().to_vec(), true));
            fs::write(d.join(".bedrock-put-1234"), b"temp").unwrap();
            want.sort();
            let fd = dir_fd(&d);
            assert_eq!(sorted_names(fd), want, "{count} files");
            sys::close(fd);
        }
    }

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
