//! The journal on a block device, I/O-free: where records go on the
//! sectors and how a boot finds where they end.
//!
//! Layout: sectors 0 and 1 hold two copies of the [`Header`] (written
//! alternately, each with its CRC, so a torn header write leaves the
//! other); the rest is two equal regions, and the header says which one
//! holds the journal. In it, records follow one another as one byte
//! stream (a record may span sectors); space never written reads as
//! zeros, which is never a record (a zero length is [`Next::Damaged`]), so
//! a replay stops where the records end.
//!
//! Compaction writes a snapshot of the live state as the first records of
//! the other region (and zeroes what follows), flushes, then writes the
//! header naming that region with the next generation, and flushes again:
//! until that header is on the disk the old region is the journal, after
//! it the new one; there is no moment at which neither is whole.
//!
//! An append rewrites the sector holding the end (its earlier bytes
//! unchanged) and writes the sectors after it, then the host flushes; the
//! records are acknowledged only after the flush. A crash before that may
//! leave any subset of those sectors written. Whatever was written, the
//! earlier bytes of the rewritten sector are the same, so acknowledged
//! records survive (this assumes a sector is written whole or not at all,
//! as virtio-blk devices and disks do for 512-byte sectors); a replay
//! stops at the first record that is not whole. Sectors written past that
//! point by the crashed append are stale: at boot the host zeroes
//! [`ZERO_AHEAD`] bytes after the end, which covers the longest append,
//! before anything is appended, so a stale record can never line up with
//! a later end and come back.

use crate::{crc32, next_record, Next, HEADER};

/// Bytes in a sector.
pub const SECTOR: usize = 512;
/// What a header starts with: the format and its version.
pub const LABEL: [u8; 16] = *b"bedrock-jrnl-v2\n";
/// Sectors 0 and 1 are the two header slots.
pub const HEADER_SECTORS: u64 = 2;
/// Bytes of a header: label, generation, region, CRC-32.
const HEADER_BYTES: usize = 16 + 8 + 1 + 4;

/// Which region holds the journal, and how many times that changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Counts compactions; the newer valid slot wins.
    pub generation: u64,
    /// 0 or 1.
    pub region: u8,
}

impl Header {
    /// The header of a new journal.
    pub const FIRST: Header = Header {
        generation: 1,
        region: 0,
    };

    /// The sector this header is written to (slots alternate).
    pub fn slot(&self) -> u64 {
        self.generation % 2
    }

    /// The header after a compaction into the other region.
    pub fn next(&self) -> Header {
        Header {
            generation: self.generation + 1,
            region: 1 - self.region,
        }
    }

    /// The sector holding it.
    pub fn encode(&self) -> [u8; SECTOR] {
        let mut s = [0u8; SECTOR];
        s[..16].copy_from_slice(&LABEL);
        s[16..24].copy_from_slice(&self.generation.to_le_bytes());
        s[24] = self.region;
        let crc = crc32(&s[..25]);
        s[25..HEADER_BYTES].copy_from_slice(&crc.to_le_bytes());
        s
    }

    /// The header in a slot, if it holds a whole one.
    pub fn decode(s: &[u8; SECTOR]) -> Option<Header> {
        let crc = u32::from_le_bytes([s[25], s[26], s[27], s[28]]);
        (s[..16] == LABEL && s[24] <= 1 && crc32(&s[..25]) == crc).then(|| Header {
            generation: u64::from_le_bytes(s[16..24].try_into().unwrap_or_default()),
            region: s[24],
        })
    }
}

/// What the two header slots say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// Both slots are zeros: a new disk.
    Empty,
    /// The newer of the valid headers.
    Journal(Header),
    /// Neither slot holds a header, and they are not zeros: not ours.
    Foreign,
}

/// Reads the two header slots (sectors 0 and 1).
pub fn find_header(slot0: &[u8; SECTOR], slot1: &[u8; SECTOR]) -> Found {
    match (Header::decode(slot0), Header::decode(slot1)) {
        (Some(a), Some(b)) => Found::Journal(if a.generation >= b.generation { a } else { b }),
        (Some(h), None) | (None, Some(h)) => Found::Journal(h),
        (None, None) if slot0.iter().chain(slot1).all(|&b| b == 0) => Found::Empty,
        (None, None) => Found::Foreign,
    }
}

/// The sectors of region `region` (0 or 1) on a disk of `capacity`
/// sectors: `first..limit`.
pub fn region(capacity: u64, region: u8) -> (u64, u64) {
    let size = capacity.saturating_sub(HEADER_SECTORS) / 2;
    let first = HEADER_SECTORS + u64::from(region) * size;
    (first, first + size)
}
/// The most bytes one append may write (its records plus the rewritten
/// head of the end sector, rounded up to sectors).
pub const MAX_APPEND: usize = 64 * 1024;
/// Bytes zeroed after the end at boot: more than any append writes.
pub const ZERO_AHEAD: usize = MAX_APPEND + SECTOR;

/// Where the records of a region end, and the bytes of the sector
/// holding the end (the part before the end; the rest is zeros).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tail {
    /// The region: sectors `first..limit`.
    first: u64,
    limit: u64,
    end: u64,
    last: [u8; SECTOR],
}

/// Sectors to write: `len` bytes starting at sector `sector`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Write {
    /// The first sector.
    pub sector: u64,
    /// Bytes, whole sectors.
    pub len: usize,
}

impl Tail {
    /// No records in the region of sectors `first..limit`.
    pub const fn empty(first: u64, limit: u64) -> Tail {
        Tail {
            first,
            limit,
            end: 0,
            last: [0; SECTOR],
        }
    }

    /// The tail of records ending at byte `end` of the region
    /// `first..limit`, given the sector that holds it as read from the
    /// disk ([`Tail::end_sector`]; only its bytes before the end are kept).
    pub fn at(first: u64, limit: u64, end: u64, sector: &[u8; SECTOR]) -> Tail {
        let head = (end % SECTOR as u64) as usize;
        let mut last = [0; SECTOR];
        last[..head].copy_from_slice(&sector[..head]);
        Tail {
            first,
            limit,
            end,
            last,
        }
    }

    /// The sector holding byte `end` of a region starting at `first`.
    pub fn end_sector(first: u64, end: u64) -> u64 {
        first + end / SECTOR as u64
    }

    /// The region's sectors, `first..limit`.
    pub fn region(&self) -> (u64, u64) {
        (self.first, self.limit)
    }

    /// Bytes of records.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Whole sectors records up to byte `end` take.
    fn sectors_for(end: u64) -> u64 {
        end.div_ceil(SECTOR as u64)
    }

    /// Lays out `records` (encoded records, back to back) after the end
    /// into `out`: the end sector's head, the records, zeros to a whole
    /// sector. `None` when it is longer than `out` or [`MAX_APPEND`], or
    /// would not fit the region (the disk is full).
    pub fn plan(&self, records: &[u8], out: &mut [u8]) -> Option<Write> {
        let head = (self.end % SECTOR as u64) as usize;
        let len = (head + records.len()).div_ceil(SECTOR) * SECTOR;
        if len > out.len().min(MAX_APPEND) {
            return None;
        }
        let sector = Self::end_sector(self.first, self.end);
        if sector + (len / SECTOR) as u64 > self.limit {
            return None;
        }
        out[..head].copy_from_slice(&self.last[..head]);
        out[head..head + records.len()].copy_from_slice(records);
        out[head + records.len()..len].fill(0);
        Some(Write { sector, len })
    }

    /// After the planned write and a flush succeeded: the records are in.
    /// `written` is what `plan` laid out for `records`.
    pub fn advance(&mut self, records: usize, written: &[u8]) {
        self.end += records as u64;
        let head = (self.end % SECTOR as u64) as usize;
        self.last = [0; SECTOR];
        if head > 0 {
            let start = written.len() - SECTOR;
            self.last[..head].copy_from_slice(&written[start..start + head]);
        }
    }

    /// The zeroing a boot (or a compaction) does after the end (see the
    /// module doc): its first sector and the bytes to zero, within the
    /// region.
    pub fn zero_ahead(&self) -> Write {
        let sector = self.first + Self::sectors_for(self.end);
        let room = self.limit.saturating_sub(sector) as usize * SECTOR;
        Write {
            sector,
            len: room.min(ZERO_AHEAD).div_ceil(SECTOR) * SECTOR,
        }
    }
}

/// A boot's walk over the records, fed the record area in pieces of whole
/// sectors, in order.
pub struct Replay<const CARRY: usize> {
    /// Bytes of a record begun in an earlier piece.
    carry: [u8; CARRY],
    carry_len: usize,
    /// Bytes of good records so far.
    end: u64,
    records: u64,
    done: bool,
    /// The replay ended at bytes that are not zeros: a torn or damaged
    /// record (or one the app refused), dropped.
    damaged: bool,
    max_payload: usize,
}

impl<const CARRY: usize> Replay<CARRY> {
    /// A replay of records of at most `max_payload` bytes; `CARRY` must
    /// hold the longest record and a sector (checked: longer records count
    /// as damage).
    pub fn new(max_payload: usize) -> Self {
        Replay {
            carry: [0; CARRY],
            carry_len: 0,
            end: 0,
            records: 0,
            done: false,
            damaged: false,
            max_payload: max_payload.min(CARRY.saturating_sub(HEADER + SECTOR)),
        }
    }

    /// Whether the records have ended (stop reading).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Records replayed.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Whether the records ended at a torn, damaged or refused record
    /// (bytes that are not zeros) rather than at the zeros after the last.
    pub fn dropped_damage(&self) -> bool {
        self.damaged
    }

    /// Takes the next piece of the record area (whole sectors) and hands
    /// each whole record in it to `apply`; a record `apply` refuses, or a
    /// damaged one, ends the replay.
    pub fn feed(&mut self, piece: &[u8], apply: &mut dyn FnMut(&[u8]) -> bool) {
        let mut at = 0;
        while !self.done && at < piece.len() {
            let take = (CARRY - self.carry_len).min(piece.len() - at);
            self.carry[self.carry_len..self.carry_len + take]
                .copy_from_slice(&piece[at..at + take]);
            self.carry_len += take;
            at += take;
            let base = self.end;
            let mut used = 0;
            loop {
                match next_record(&self.carry[used..self.carry_len], self.max_payload) {
                    Next::Record(payload, n) if apply(payload) => {
                        used += n;
                        self.records += 1;
                    }
                    Next::Partial => break,
                    _ => {
                        self.done = true;
                        let rest = &self.carry[used..self.carry_len];
                        self.damaged = rest.iter().take(HEADER).any(|&b| b != 0);
                        break;
                    }
                }
            }
            self.end = base + used as u64;
            self.carry.copy_within(used..self.carry_len, 0);
            self.carry_len -= used;
            if self.carry_len == CARRY {
                self.done = true; // a "record" longer than any real one
                self.damaged = true;
            }
        }
    }

    /// Bytes of good records: where the next append goes. Read the
    /// sector holding it ([`Tail::end_sector`]) and make the [`Tail`]
    /// with [`Tail::at`].
    pub fn end(&self) -> u64 {
        self.end
    }
}
