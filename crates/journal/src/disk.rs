//! The journal on a block device, I/O-free: where records go on the
//! sectors and how a boot finds where they end.
//!
//! Layout: sector 0 holds the label ([`LABEL`]); records follow from
//! sector 1 as one byte stream, back to back (a record may span sectors);
//! space never written reads as zeros, which is never a record (a zero
//! length is [`Next::Damaged`]), so a replay stops where the records end.
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

use crate::{next_record, Next, HEADER};

/// Bytes in a sector.
pub const SECTOR: usize = 512;
/// Sector 0: the journal's label and format version.
pub const LABEL: [u8; 16] = *b"bedrock-jrnl-v1\n";
/// The first sector of records.
pub const FIRST_SECTOR: u64 = 1;
/// The most bytes one append may write (its records plus the rewritten
/// head of the end sector, rounded up to sectors).
pub const MAX_APPEND: usize = 64 * 1024;
/// Bytes zeroed after the end at boot: more than any append writes.
pub const ZERO_AHEAD: usize = MAX_APPEND + SECTOR;

/// Where the records end, and the bytes of the sector holding the end
/// (the part before the end; the rest is zeros).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tail {
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
    /// An empty journal.
    pub const fn empty() -> Tail {
        Tail {
            end: 0,
            last: [0; SECTOR],
        }
    }

    /// The tail of records ending at byte `end`, given the sector that
    /// holds it as read from the disk (only its bytes before the end are
    /// kept).
    pub fn at(end: u64, sector: &[u8; SECTOR]) -> Tail {
        let head = (end % SECTOR as u64) as usize;
        let mut last = [0; SECTOR];
        last[..head].copy_from_slice(&sector[..head]);
        Tail { end, last }
    }

    /// The sector holding byte `end` of the records.
    pub fn end_sector(end: u64) -> u64 {
        FIRST_SECTOR + end / SECTOR as u64
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
    /// would not fit a device of `capacity` sectors (the disk is full).
    pub fn plan(&self, records: &[u8], capacity: u64, out: &mut [u8]) -> Option<Write> {
        let head = (self.end % SECTOR as u64) as usize;
        let len = (head + records.len()).div_ceil(SECTOR) * SECTOR;
        if len > out.len().min(MAX_APPEND) {
            return None;
        }
        let sector = Self::end_sector(self.end);
        if sector + (len / SECTOR) as u64 > capacity {
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

    /// The zeroing a boot does after the end (see the module doc): its
    /// first sector and the bytes to zero, within `capacity` sectors.
    pub fn zero_ahead(&self, capacity: u64) -> Write {
        let sector = FIRST_SECTOR + Self::sectors_for(self.end);
        let room = capacity.saturating_sub(sector) as usize * SECTOR;
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
                        break;
                    }
                }
            }
            self.end = base + used as u64;
            self.carry.copy_within(used..self.carry_len, 0);
            self.carry_len -= used;
            if self.carry_len == CARRY {
                self.done = true; // a "record" longer than any real one
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
