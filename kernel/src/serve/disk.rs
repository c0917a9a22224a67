//! The app's journal on the virtio-blk disk (`bedrock_journal::disk` says
//! where records go; this file moves them): at boot the label is checked
//! (an empty disk gets one), every record is replayed into the app and the
//! space after the end zeroed; then each group of changes is one append
//! and one flush, and the replies waiting for it leave only after both
//! completed.

use bedrock_journal::disk::{Replay, Tail, Write, LABEL, MAX_APPEND, SECTOR};
use bedrock_web::Persist;

use crate::global::Global;
use crate::virtio::blk::{BlkError, VirtioBlk, REQUEST_BYTES};
use crate::{info, warn};

/// The longest change record a disk journal takes (an app's
/// `Persist::MAX_CHANGE` must fit: checked when the image is built).
pub const MAX_RECORD: usize = 4096;
/// Bytes of encoded records one commit takes at most: what an append of
/// [`MAX_APPEND`] holds beside the rewritten head of the end sector.
pub const GROUP_BYTES: usize = MAX_APPEND - SECTOR;

type Scan = Replay<{ MAX_RECORD + bedrock_journal::HEADER + SECTOR }>;

/// One append's sectors, laid out.
static APPEND: Global<[u8; MAX_APPEND]> = Global::new([0; MAX_APPEND]);

/// Why a commit failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitError {
    /// The records do not fit on the disk (507).
    Full,
    /// The device failed or timed out (503; the disk is not used again).
    Device(BlkError),
}

/// The journal on the disk.
pub struct Disk {
    blk: VirtioBlk,
    tail: Tail,
    append: &'static mut [u8; MAX_APPEND],
    broken: Option<BlkError>,
}

/// What a boot found.
struct Opened {
    records: u64,
    end: u64,
}

impl Disk {
    /// Checks the label (labels an empty disk), replays every record into
    /// `app` and zeroes after the end. `None`: the disk is not used (it is
    /// read-only, holds something else, or failed; the log says which).
    pub fn open<S: Persist>(blk: VirtioBlk, app: &mut S) -> Option<Disk> {
        let append = APPEND.take()?;
        if blk.read_only() {
            warn!("disk: read-only; running without persistence");
            return None;
        }
        if !blk.can_flush() {
            warn!("disk: no VIRTIO_BLK_F_FLUSH: a completed write may still be in the device's cache; durability is not guaranteed");
        }
        let mut disk = Disk {
            blk,
            tail: Tail::empty(),
            append,
            broken: None,
        };
        match disk.boot(app) {
            Ok(Some(o)) => {
                info!(
                    "disk: {} sectors; replayed {} records ({} bytes of journal)",
                    disk.blk.capacity(),
                    o.records,
                    o.end
                );
                Some(disk)
            }
            Ok(None) => None,
            Err(e) => {
                warn!("disk: {e:?} at boot; running without persistence");
                None
            }
        }
    }

    fn boot<S: Persist>(&mut self, app: &mut S) -> Result<Option<Opened>, BlkError> {
        let mut sector = [0u8; SECTOR];
        self.blk.read(0, &mut sector)?;
        if sector.iter().all(|&b| b == 0) {
            sector[..LABEL.len()].copy_from_slice(&LABEL);
            write_all(
                &mut self.blk,
                Write {
                    sector: 0,
                    len: SECTOR,
                },
                &sector,
            )?;
            flush(&mut self.blk)?;
            info!("disk: labelled a new journal");
        } else if sector[..LABEL.len()] != LABEL {
            warn!("disk: not a bedrock journal (no label in sector 0): left alone, running without persistence");
            return Ok(None);
        }
        let records = self.replay(app)?;
        let end = self.tail.end();
        let z = self.tail.zero_ahead(self.blk.capacity());
        self.append.fill(0);
        let first = z.len.min(MAX_APPEND);
        write_all(
            &mut self.blk,
            Write { len: first, ..z },
            &self.append[..first],
        )?;
        if z.len > first {
            let sector = z.sector + (first / SECTOR) as u64;
            let rest = Write {
                sector,
                len: z.len - first,
            };
            write_all(&mut self.blk, rest, &self.append[..rest.len])?;
        }
        flush(&mut self.blk)?;
        Ok(Some(Opened { records, end }))
    }

    /// Replays the records into `app` and sets the tail after them.
    fn replay<S: Persist>(&mut self, app: &mut S) -> Result<u64, BlkError> {
        app.clear();
        let capacity = self.blk.capacity();
        let mut scan = Scan::new(S::MAX_CHANGE);
        let mut sector = bedrock_journal::disk::FIRST_SECTOR;
        let per_read = (REQUEST_BYTES / SECTOR) as u64;
        while !scan.is_done() && sector < capacity {
            let n = per_read.min(capacity - sector) as usize;
            let t = self.blk.read_start(sector, n * SECTOR)?;
            self.blk.wait(t)?;
            scan.feed(self.blk.read_data(t, n * SECTOR), &mut |r| app.replay(r));
            sector += n as u64;
        }
        let end = scan.end();
        let mut last = [0u8; SECTOR];
        let at = Tail::end_sector(end);
        if at < capacity {
            self.blk.read(at, &mut last)?;
        }
        self.tail = Tail::at(end, &last);
        Ok(scan.records())
    }

    /// Appends `records` (encoded, at most [`GROUP_BYTES`]) and flushes.
    pub fn commit(&mut self, records: &[u8]) -> Result<(), CommitError> {
        if let Some(e) = self.broken {
            return Err(CommitError::Device(e));
        }
        let w = self
            .tail
            .plan(records, self.blk.capacity(), &mut self.append[..])
            .ok_or(CommitError::Full)?;
        let done =
            write_all(&mut self.blk, w, &self.append[..w.len]).and_then(|()| flush(&mut self.blk));
        if let Err(e) = done {
            self.broken = Some(e);
            return Err(CommitError::Device(e));
        }
        self.tail.advance(records.len(), &self.append[..w.len]);
        Ok(())
    }

    /// Rebuilds `app` from the disk (after a commit failed: what the disk
    /// holds is what was acknowledged).
    pub fn rebuild<S: Persist>(&mut self, app: &mut S) {
        if let Err(e) = self.replay(app) {
            self.broken = Some(e);
            warn!("disk: {e:?} while rebuilding; changes refused");
        }
    }
}

/// Writes `bytes` (whole sectors) at `w.sector`, every request of it
/// in flight together, and waits for them all.
fn write_all(blk: &mut VirtioBlk, w: Write, bytes: &[u8]) -> Result<(), BlkError> {
    let mut tickets = [None; crate::virtio::blk::REQUESTS];
    let mut result = Ok(());
    for (k, chunk) in bytes[..w.len].chunks(REQUEST_BYTES).enumerate() {
        let sector = w.sector + (k * REQUEST_BYTES / SECTOR) as u64;
        if k >= tickets.len() {
            result = Err(BlkError::Busy);
            break;
        }
        match blk.write_start(sector, chunk) {
            Ok(t) => tickets[k] = Some(t),
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    for t in tickets.into_iter().flatten() {
        let r = blk.wait(t);
        result = result.and(r);
    }
    result
}

fn flush(blk: &mut VirtioBlk) -> Result<(), BlkError> {
    let t = blk.flush_start()?;
    blk.wait(t)
}

/// Change records waiting for one commit, encoded as the journal keeps
/// them.
pub struct Group {
    bytes: [u8; GROUP_BYTES],
    len: usize,
    /// A record did not fit: the group cannot be committed as made.
    overflowed: bool,
}

impl Group {
    /// Empty. `const`, for a `static`.
    pub const fn new() -> Group {
        Group {
            bytes: [0; GROUP_BYTES],
            len: 0,
            overflowed: false,
        }
    }

    /// Adds a record (see [`Group::room`]).
    pub fn push(&mut self, record: &[u8]) {
        match bedrock_journal::encode(record, &mut self.bytes[self.len..]) {
            Some(n) => self.len += n,
            None => self.overflowed = true,
        }
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len == 0 && !self.overflowed
    }

    /// Whether `bytes` more bytes of records fit.
    pub fn room(&self, bytes: usize) -> bool {
        self.len + bytes <= GROUP_BYTES
    }

    /// Commits the group to `disk` and empties it.
    pub fn commit(&mut self, disk: &mut Disk) -> Result<(), CommitError> {
        let result = if self.overflowed {
            Err(CommitError::Full)
        } else {
            disk.commit(&self.bytes[..self.len])
        };
        self.len = 0;
        self.overflowed = false;
        result
    }
}

impl Default for Group {
    fn default() -> Self {
        Self::new()
    }
}
