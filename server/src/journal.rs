//! The app's journal file: an append-only file of the records its
//! `Persist` impl hands over, in bedrock-journal's format (`len u32 |
//! crc32 u32 | payload`), appended under the store's lock so its order is
//! the store's order, and fsynced before the reply goes out. Replaying it
//! rebuilds the store; a torn or corrupt tail (a crash mid-write) is
//! detected, reported and cut off.

use bedrock_journal::{next_record, Next, HEADER};

use crate::out::Line;
use crate::sys::{self, Errno, Res};

/// The longest record this server writes (its stack buffer); an app's
/// `Persist::MAX_CHANGE` must fit (checked where the app is served).
pub const MAX_RECORD: usize = 4096;

/// The status of a change the journal could not record: 507 when the
/// disk (or quota, or file size limit) is full, else 500.
pub fn failure_status(e: Errno) -> u16 {
    match e {
        Errno::ENOSPC | Errno::EDQUOT | Errno::EFBIG => 507,
        _ => 500,
    }
}

/// Opens (creating) `dir/name` (`name` ends in NUL) for appending;
/// creates `dir`.
pub fn open(dir: &[u8], name: &[u8]) -> Res<i32> {
    let mut path = [0u8; 4096];
    if dir.len() + 1 > path.len() {
        return Err(Errno::ENAMETOOLONG);
    }
    path[..dir.len()].copy_from_slice(dir);
    let path = &path[..dir.len() + 1];
    match sys::mkdirat(sys::AT_FDCWD, path, 0o755) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => return Err(e),
    }
    let dirfd = sys::openat(sys::AT_FDCWD, path, sys::O_RDONLY | sys::O_DIRECTORY, 0)?;
    let fd = sys::openat2(
        dirfd,
        name,
        sys::O_RDWR | sys::O_CREAT | sys::O_APPEND,
        0o644,
        0,
    );
    if fd.is_ok() {
        let _ = sys::fsync(dirfd);
    }
    sys::close(dirfd);
    fd
}

/// Appends one record holding `payload`.
pub fn append(fd: i32, payload: &[u8]) -> Res<()> {
    let mut rec = [0u8; HEADER + MAX_RECORD];
    let n = bedrock_journal::encode(payload, &mut rec).ok_or(Errno::EINVAL)?;
    // One write on an O_APPEND descriptor: records never interleave. A
    // short write leaves a torn record; a rebuild cuts it off.
    match sys::write(fd, &rec[..n]) {
        Ok(w) if w == n => Ok(()),
        Ok(_) => Err(Errno::ENOSPC),
        Err(e) => Err(e),
    }
}

/// Whether the journal in `fd` can take a record of `max_payload`
/// bytes now, for readiness (`GET /readyz`): Err(why) when its file
/// system is read-only, has less room than one such record (header
/// included), or cannot be asked.
pub fn writable(fd: i32, max_payload: usize) -> Result<(), &'static str> {
    match sys::fstatfs(fd) {
        Ok(fs) => room(&fs, (HEADER + max_payload) as u64),
        Err(_) => Err("journal: fstatfs of its file system failed"),
    }
}

/// Whether a file system as `fs` says takes `need` more bytes.
fn room(fs: &sys::FsStat, need: u64) -> Result<(), &'static str> {
    if fs.read_only {
        Err("journal: its file system is read-only")
    } else if fs.avail_bytes < need {
        Err("journal: its file system has no room for another change")
    } else {
        Ok(())
    }
}

/// What a replay found.
pub struct Replayed {
    pub records: u64,
    pub valid_len: u64,
    /// Bytes of a torn or corrupt tail cut off the end.
    pub dropped: u64,
}

impl Replayed {
    /// Logs a tail that was cut off, if any.
    pub fn report(&self) {
        if self.dropped > 0 {
            let mut line = Line::new();
            line.s("bedrock-serve: journal: dropped a torn or corrupt tail of ")
                .n(self.dropped)
                .s(" bytes at offset ")
                .n(self.valid_len)
                .s(" (after ")
                .n(self.records)
                .s(" good records); truncated\n");
            let _ = sys::write_all(2, line.as_bytes());
        }
    }
}

/// Hands every record of the journal to `apply`, in order; a bad tail (a
/// damaged or partial record, one longer than `max_payload`, or one
/// `apply` refuses) is cut off (see `Replayed::report`).
pub fn replay(fd: i32, max_payload: usize, apply: &mut dyn FnMut(&[u8]) -> bool) -> Res<Replayed> {
    let size = sys::fstat(fd)?.size;
    let mut buf = [0u8; 16 * 1024];
    let max_payload = max_payload.min(buf.len() - HEADER);
    let mut pos: u64 = 0;
    let mut records = 0;
    let mut damaged = false;
    while pos < size && !damaged {
        let n = sys::pread(fd, &mut buf, pos)?;
        let mut at = 0;
        loop {
            match next_record(&buf[at..n], max_payload) {
                Next::Record(payload, len) if apply(payload) => {
                    records += 1;
                    at += len;
                }
                // A partial record short of the end of the file: read on.
                Next::Partial if at > 0 && pos + (n as u64) < size => break,
                _ => {
                    damaged = true;
                    break;
                }
            }
        }
        pos += at as u64;
    }
    let dropped = size - pos;
    if dropped > 0 {
        sys::ftruncate(fd, pos)?;
        sys::fsync(fd)?;
    }
    Ok(Replayed {
        records,
        valid_len: pos,
        dropped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    /// A journal file in a fresh directory: (file, its path).
    pub(crate) fn journal_file(name: &str) -> (std::fs::File, std::path::PathBuf) {
        let path = crate::test_util::temp_dir(name).join("app.journal");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)
            .unwrap();
        (f, path)
    }

    /// Replays with an app that takes records starting with `+` and
    /// refuses the rest: (records taken, good records, valid length).
    fn replayed(fd: i32, max: usize) -> (Vec<Vec<u8>>, u64, u64) {
        let size = sys::fstat(fd).unwrap().size;
        let mut taken = Vec::new();
        let r = replay(fd, max, &mut |p| {
            taken.push(p.to_vec());
            p[0] == b'+'
        })
        .unwrap();
        assert_eq!(r.valid_len + r.dropped, size);
        taken.retain(|p| p[0] == b'+');
        (taken, r.records, r.valid_len)
    }

    #[test]
    fn records_replay_in_order() {
        let (f, _) = journal_file("roundtrip");
        let fd = f.as_raw_fd();
        let long = [b'+'; 300];
        for p in [&b"+one"[..], &long, b"+three"] {
            append(fd, p).unwrap();
        }
        let (taken, records, valid) = replayed(fd, 300);
        assert_eq!(records, 3);
        assert_eq!(valid, f.metadata().unwrap().len());
        assert_eq!(taken, [b"+one".to_vec(), long.to_vec(), b"+three".to_vec()]);
    }

    #[test]
    fn records_across_read_buffers_replay_whole() {
        // More than one 16 KiB read: records straddle the reads.
        let (f, _) = journal_file("straddle");
        let fd = f.as_raw_fd();
        let p = [b'+'; 1000];
        for _ in 0..40 {
            append(fd, &p).unwrap();
        }
        let (taken, records, valid) = replayed(fd, 1000);
        assert_eq!((taken.len(), records), (40, 40));
        assert_eq!(valid, 40 * (HEADER as u64 + 1000));
    }

    #[test]
    fn a_torn_last_record_is_dropped_and_cut_off() {
        let (f, path) = journal_file("torn");
        let fd = f.as_raw_fd();
        append(fd, b"+kept").unwrap();
        let good = f.metadata().unwrap().len();
        append(fd, b"+torn").unwrap();
        let full = f.metadata().unwrap().len();
        // Every length of the second record short of whole is a crash
        // mid-write: the first record stays, the rest goes.
        for cut in good + 1..full {
            f.set_len(cut).unwrap();
            let (taken, records, valid) = replayed(fd, 64);
            assert_eq!((records, valid), (1, good), "cut at {cut}");
            assert_eq!(taken, [b"+kept".to_vec()]);
            assert_eq!(std::fs::metadata(&path).unwrap().len(), good);
        }
    }

    #[test]
    fn corrupt_records_end_the_replay() {
        let (f, _) = journal_file("corrupt");
        let fd = f.as_raw_fd();
        append(fd, b"+one").unwrap();
        let good = f.metadata().unwrap().len();
        let mut bad_crc = [0u8; 32];
        let n = bedrock_journal::encode(b"+two", &mut bad_crc).unwrap();
        bad_crc[4] ^= 1;
        let mut huge = [0u8; HEADER];
        huge[..4].copy_from_slice(&65u32.to_le_bytes());
        let mut refused = [0u8; 32];
        let m = bedrock_journal::encode(b"-app says no", &mut refused).unwrap();
        for junk in [&bad_crc[..n], &huge[..], &refused[..m], &[0u8; HEADER][..]] {
            f.set_len(good).unwrap();
            sys::write_all(fd, junk).unwrap();
            append(fd, b"+after junk").unwrap();
            let (taken, records, valid) = replayed(fd, 64);
            assert_eq!((records, valid), (1, good));
            assert_eq!(taken, [b"+one".to_vec()]);
        }
    }

    #[test]
    fn payload_size_limits() {
        let (f, _) = journal_file("limits");
        let fd = f.as_raw_fd();
        // The longest record this server writes, and one byte more.
        append(fd, &[b'+'; MAX_RECORD]).unwrap();
        assert_eq!(f.metadata().unwrap().len(), (HEADER + MAX_RECORD) as u64);
        assert_eq!(append(fd, &[b'+'; MAX_RECORD + 1]), Err(Errno::EINVAL));
        assert_eq!(replayed(fd, MAX_RECORD).1, 1);
        // Past the app's longest change, a record is damage.
        assert_eq!(replayed(fd, MAX_RECORD - 1).1, 0);
        assert_eq!(f.metadata().unwrap().len(), 0);
    }

    #[test]
    fn writable_needs_room_for_the_longest_record() {
        let need = (HEADER + MAX_RECORD) as u64;
        let fs = |avail_bytes, read_only| sys::FsStat {
            avail_bytes,
            read_only,
        };
        assert_eq!(room(&fs(need, false), need), Ok(()));
        assert!(room(&fs(need - 1, false), need)
            .unwrap_err()
            .contains("no room"));
        assert!(room(&fs(u64::MAX, true), need)
            .unwrap_err()
            .contains("read-only"));
        // A journal on a file system with room (the test's temporary one).
        let (f, _) = journal_file("writable");
        assert_eq!(writable(f.as_raw_fd(), 64), Ok(()));
        assert!(writable(-1, 64).is_err());
    }

    #[test]
    fn full_disk_is_507() {
        assert_eq!(failure_status(Errno::ENOSPC), 507);
        assert_eq!(failure_status(Errno::EDQUOT), 507);
        assert_eq!(failure_status(Errno::EFBIG), 507);
        assert_eq!(failure_status(Errno::EIO), 500);
    }
}
