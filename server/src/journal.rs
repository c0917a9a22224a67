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
    // One write on an O_APPEND descriptor: records never interleave.
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
}

/// Replays the journal into `hotels`; a bad tail is cut off (logged).
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
        let mut line = Line::new();
        line.s("bedrock-serve: journal: dropped a torn or corrupt tail of ")
            .n(dropped)
            .s(" bytes at offset ")
            .n(pos)
            .s(" (after ")
            .n(records)
            .s(" good records); truncating\n");
        let _ = sys::write_all(2, line.as_bytes());
        sys::ftruncate(fd, pos)?;
        sys::fsync(fd)?;
    }
    Ok(Replayed {
        records,
        valid_len: pos,
    })
}
