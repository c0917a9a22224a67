//! The hotel journal: an append-only file of length-prefixed, checksummed
//! records (`len u32 | crc32 u32 | payload`), one per change, appended
//! under the store's lock so its order is the store's order, and fsynced
//! before the reply goes out. Replaying it rebuilds the store; a torn or
//! corrupt tail (a crash mid-write) is detected, reported and cut off.
//!
//! Payloads: `1 | id u64 | name_len u8 | name | city_len u8 | city` (the
//! record's state after a create or an update) and `2 | id u64` (deleted).

use bedrock_hotel::{Hotel, Hotels, Text};

use crate::out::Line;
use crate::sys::{self, Errno, Res};

pub const FILE_NAME: &[u8] = b"hotels.journal\0";

/// What every worker shares under one lock: the hotels, and whether
/// their journal still takes records (not after a failure that could not
/// be undone: changes are then refused until a restart replays it).
pub struct Journaled {
    pub hotels: Hotels,
    pub broken: bool,
}

impl Journaled {
    pub const fn new() -> Self {
        Journaled {
            hotels: Hotels::new(),
            broken: false,
        }
    }

    /// Rebuilds the hotels from the journal, which holds exactly the
    /// changes that were recorded (a change it could not record is undone
    /// this way, and so is one a dead worker left half-made). A torn tail
    /// is cut off; a journal that cannot be read or cut is marked broken.
    pub fn rebuild(&mut self, fd: i32) -> Res<Replayed> {
        self.hotels = Hotels::new();
        let replayed = replay(fd, &mut self.hotels);
        if let Ok(r) = &replayed {
            r.report();
        }
        self.broken |= replayed.is_err();
        replayed
    }
}

/// The status of a change the journal could not record: 507 when the
/// disk (or quota, or file size limit) is full, else 500.
pub fn failure_status(e: Errno) -> u16 {
    match e {
        Errno::ENOSPC | Errno::EDQUOT | Errno::EFBIG => 507,
        _ => 500,
    }
}

const OP_PUT: u8 = 1;
const OP_DELETE: u8 = 2;
const HEADER: usize = 8;
/// Largest payload: op, id, two length bytes and two maximal fields.
const MAX_PAYLOAD: usize =
    1 + 8 + 2 + bedrock_hotel::MAX_NAME_BYTES + bedrock_hotel::MAX_CITY_BYTES;
const MIN_PAYLOAD: usize = 1 + 8;

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-32 (IEEE).
pub fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |c, &b| {
        CRC_TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8)
    })
}

/// Opens (creating) `dir/hotels.journal` for appending; creates `dir`.
pub fn open(dir: &[u8]) -> Res<i32> {
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
        FILE_NAME,
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

fn record(payload: &[u8], out: &mut [u8; HEADER + MAX_PAYLOAD]) -> usize {
    out[0..4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    out[4..8].copy_from_slice(&crc32(payload).to_le_bytes());
    out[HEADER..HEADER + payload.len()].copy_from_slice(payload);
    HEADER + payload.len()
}

/// Appends "hotel `id` is now `hotel`".
pub fn append_put(fd: i32, id: u64, hotel: &Hotel) -> Res<()> {
    let mut p = [0u8; MAX_PAYLOAD];
    p[0] = OP_PUT;
    p[1..9].copy_from_slice(&id.to_le_bytes());
    let mut at = 9;
    for field in [
        hotel.name.as_str().as_bytes(),
        hotel.city.as_str().as_bytes(),
    ] {
        p[at] = field.len() as u8;
        p[at + 1..at + 1 + field.len()].copy_from_slice(field);
        at += 1 + field.len();
    }
    append(fd, &p[..at])
}

/// Appends "hotel `id` was deleted".
pub fn append_delete(fd: i32, id: u64) -> Res<()> {
    let mut p = [0u8; 9];
    p[0] = OP_DELETE;
    p[1..9].copy_from_slice(&id.to_le_bytes());
    append(fd, &p)
}

fn append(fd: i32, payload: &[u8]) -> Res<()> {
    let mut rec = [0u8; HEADER + MAX_PAYLOAD];
    let n = record(payload, &mut rec);
    // One write on an O_APPEND descriptor: records never interleave. A
    // short write leaves a torn record; `Journaled::rebuild` cuts it off.
    match sys::write(fd, &rec[..n]) {
        Ok(w) if w == n => Ok(()),
        Ok(_) => Err(Errno::ENOSPC),
        Err(e) => Err(e),
    }
}

/// Applies one payload; false if it makes no sense (treated as corrupt).
fn apply(p: &[u8], hotels: &mut Hotels) -> bool {
    let Some(id) = p
        .get(1..9)
        .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    else {
        return false;
    };
    match p[0] {
        OP_DELETE if p.len() == 9 => {
            hotels.delete(id);
            true
        }
        OP_PUT => {
            let mut fields = [""; 2];
            let mut at = 9;
            for f in fields.iter_mut() {
                let Some(&len) = p.get(at) else { return false };
                let Some(bytes) = p.get(at + 1..at + 1 + usize::from(len)) else {
                    return false;
                };
                let Ok(s) = core::str::from_utf8(bytes) else {
                    return false;
                };
                *f = s;
                at += 1 + usize::from(len);
            }
            let (Some(name), Some(city)) = (Text::new(fields[0]), Text::new(fields[1])) else {
                return false;
            };
            if at != p.len() {
                return false;
            }
            let hotel = Hotel { name, city };
            if hotels.store().get(id).is_some() {
                return hotels.update(id, hotel).is_ok();
            }
            // A create: ids are handed out in order, so the store's next id
            // is this one (skip ids whose creation was lost, if any).
            while hotels.store().next_id() < id {
                match hotels.create(hotel) {
                    Ok(skipped) => {
                        hotels.delete(skipped);
                    }
                    Err(_) => return false,
                }
            }
            hotels.store().next_id() == id && hotels.create(hotel).is_ok()
        }
        _ => false,
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

/// Replays the journal into `hotels`; a bad tail is cut off (see
/// `Replayed::report`).
pub fn replay(fd: i32, hotels: &mut Hotels) -> Res<Replayed> {
    let size = sys::fstat(fd)?.size;
    let mut buf = [0u8; 16 * 1024];
    let mut pos: u64 = 0;
    let mut records = 0;
    let mut torn = false;
    while pos < size && !torn {
        let n = sys::pread(fd, &mut buf, pos)?;
        if n == 0 {
            break;
        }
        let mut at = 0;
        loop {
            let rest = &buf[at..n];
            if rest.is_empty() {
                break;
            }
            if rest.len() < HEADER {
                torn = pos + (at + rest.len()) as u64 >= size; // else refill
                break;
            }
            let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
            if !(MIN_PAYLOAD..=MAX_PAYLOAD).contains(&len) {
                torn = true;
                break;
            }
            if rest.len() < HEADER + len {
                torn = pos + (at + rest.len()) as u64 >= size; // else refill
                break;
            }
            let payload = &rest[HEADER..HEADER + len];
            if crc32(payload) != crc || !apply(payload, hotels) {
                torn = true;
                break;
            }
            records += 1;
            at += HEADER + len;
        }
        pos += at as u64;
        if at == 0 {
            break; // a refill that made no progress: treat the rest as torn
        }
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

    fn hotel(name: &str, city: &str) -> Hotel {
        Hotel {
            name: Text::new(name).unwrap(),
            city: Text::new(city).unwrap(),
        }
    }

    fn listed(h: &Hotels) -> Vec<(u64, String, String)> {
        h.store()
            .iter()
            .map(|(id, x)| (id, x.name.as_str().into(), x.city.as_str().into()))
            .collect()
    }

    /// A journal file in a fresh directory: (file, its path).
    fn journal_file(name: &str) -> (std::fs::File, std::path::PathBuf) {
        let path = crate::test_util::temp_dir(name).join("hotels.journal");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)
            .unwrap();
        (f, path)
    }

    fn replayed(fd: i32) -> (Hotels, u64, u64) {
        let size = sys::fstat(fd).unwrap().size;
        let mut h = Hotels::new();
        let r = replay(fd, &mut h).unwrap();
        assert_eq!(r.valid_len + r.dropped, size);
        (h, r.records, r.valid_len)
    }

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn records_replay_to_the_same_store() {
        let (f, _) = journal_file("roundtrip");
        let fd = f.as_raw_fd();
        let longest = "n".repeat(bedrock_hotel::MAX_NAME_BYTES);
        append_put(fd, 1, &hotel("Ritz", "Paris")).unwrap();
        append_put(fd, 2, &hotel(&longest, "Zürich")).unwrap();
        append_put(fd, 3, &hotel("Gone", "Soon")).unwrap();
        append_put(fd, 1, &hotel("Ritz", "London")).unwrap();
        append_delete(fd, 3).unwrap();
        let (h, records, valid) = replayed(fd);
        assert_eq!(records, 5);
        assert_eq!(valid, f.metadata().unwrap().len());
        assert_eq!(
            listed(&h),
            vec![
                (1, "Ritz".into(), "London".into()),
                (2, longest.clone(), "Zürich".into())
            ]
        );
        assert_eq!(h.store().next_id(), 4);
    }

    #[test]
    fn lost_creations_leave_their_ids_unused() {
        let (f, _) = journal_file("gaps");
        let fd = f.as_raw_fd();
        append_put(fd, 1, &hotel("A", "a")).unwrap();
        append_put(fd, 4, &hotel("D", "d")).unwrap();
        let (h, records, _) = replayed(fd);
        assert_eq!(records, 2);
        assert_eq!(listed(&h).iter().map(|r| r.0).collect::<Vec<_>>(), [1, 4]);
        assert_eq!(h.store().next_id(), 5);
    }

    #[test]
    fn a_torn_last_record_is_dropped_and_cut_off() {
        let (f, path) = journal_file("torn");
        let fd = f.as_raw_fd();
        append_put(fd, 1, &hotel("Kept", "K")).unwrap();
        let good = f.metadata().unwrap().len();
        append_put(fd, 2, &hotel("Torn", "T")).unwrap();
        let full = f.metadata().unwrap().len();
        // Every length of the second record short of whole is a crash
        // mid-write: the first record stays, the rest goes.
        for cut in good + 1..full {
            f.set_len(cut).unwrap();
            let (h, records, valid) = replayed(fd);
            assert_eq!((records, valid), (1, good), "cut at {cut}");
            assert_eq!(listed(&h), vec![(1, "Kept".into(), "K".into())]);
            assert_eq!(std::fs::metadata(&path).unwrap().len(), good);
        }
    }

    #[test]
    fn corrupt_records_end_the_replay() {
        let (f, _) = journal_file("corrupt");
        let fd = f.as_raw_fd();
        append_put(fd, 1, &hotel("One", "1")).unwrap();
        let good = f.metadata().unwrap().len();
        let mut bad_crc = [0u8; HEADER + MAX_PAYLOAD];
        let n = record(&[OP_DELETE, 1, 0, 0, 0, 0, 0, 0, 0], &mut bad_crc);
        bad_crc[4] ^= 1;
        let mut huge = [0u8; HEADER + MAX_PAYLOAD];
        huge[..4].copy_from_slice(&((MAX_PAYLOAD + 1) as u32).to_le_bytes());
        let mut unknown_op = [0u8; HEADER + MAX_PAYLOAD];
        let m = record(&[9, 1, 0, 0, 0, 0, 0, 0, 0], &mut unknown_op);
        let mut bad_utf8 = [0u8; HEADER + MAX_PAYLOAD];
        let u = record(
            &[OP_PUT, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 1, b'c'],
            &mut bad_utf8,
        );
        for junk in [
            &bad_crc[..n],
            &huge[..HEADER],
            &unknown_op[..m],
            &bad_utf8[..u],
        ] {
            f.set_len(good).unwrap();
            sys::write_all(fd, junk).unwrap();
            append_put(fd, 2, &hotel("After", "junk")).unwrap();
            let (h, records, valid) = replayed(fd);
            assert_eq!((records, valid), (1, good));
            assert_eq!(listed(&h), vec![(1, "One".into(), "1".into())]);
        }
    }

    #[test]
    fn payload_size_limits() {
        let (f, _) = journal_file("limits");
        let fd = f.as_raw_fd();
        // The largest record a hotel can make is exactly MAX_PAYLOAD.
        let name = "n".repeat(bedrock_hotel::MAX_NAME_BYTES);
        let city = "c".repeat(bedrock_hotel::MAX_CITY_BYTES);
        append_put(fd, 1, &hotel(&name, &city)).unwrap();
        assert_eq!(f.metadata().unwrap().len(), (HEADER + MAX_PAYLOAD) as u64);
        assert_eq!(replayed(fd).1, 1);
        // One byte shorter than the smallest payload is refused.
        let mut short = [0u8; HEADER + MAX_PAYLOAD];
        let n = record(&[OP_DELETE, 1, 0, 0, 0, 0, 0, 0], &mut short);
        sys::write_all(fd, &short[..n]).unwrap();
        assert_eq!(replayed(fd).1, 1);
    }

    #[test]
    fn rebuild_undoes_unrecorded_changes() {
        let (f, _) = journal_file("rebuild");
        let fd = f.as_raw_fd();
        let mut j = Journaled::new();
        let id = j.hotels.create(hotel("Rec", "orded")).unwrap();
        append_put(fd, id, &j.hotels.store().get(id).copied().unwrap()).unwrap();
        j.hotels.create(hotel("Not", "recorded")).unwrap();
        j.hotels.delete(id);
        j.rebuild(fd).unwrap();
        assert_eq!(listed(&j.hotels), vec![(1, "Rec".into(), "orded".into())]);
        assert!(!j.broken);
        // A journal that cannot be read marks the store broken.
        assert!(j.rebuild(-1).is_err());
        assert!(j.broken);
    }

    #[test]
    fn full_disk_is_507() {
        assert_eq!(failure_status(Errno::ENOSPC), 507);
        assert_eq!(failure_status(Errno::EDQUOT), 507);
        assert_eq!(failure_status(Errno::EFBIG), 507);
        assert_eq!(failure_status(Errno::EIO), 500);
    }
}
