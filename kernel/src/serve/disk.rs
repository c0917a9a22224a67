//! The app's journal on the virtio-blk disk (`bedrock_journal::disk` says
//! where records go and why each step is crash-safe; this file moves
//! them). At boot the headers are read (an empty disk gets one), every
//! record of the journal's region is replayed into the app and the space
//! after the end zeroed. Then each group of changes is one append and one
//! flush, and the replies waiting for it leave only after both completed.
//! Once the region is half full, or when a group does not fit, the app's
//! snapshot is written to the other region and the header switched to it
//! (compaction); a boot then replays at most one region (half the disk).

use bedrock_journal::disk::{find_header, region, Found, Header, Replay, Tail, Write};
use bedrock_journal::disk::{HEADER_SECTORS, MAX_APPEND, SECTOR};
use bedrock_web::Persist;

use crate::global::Global;
use crate::virtio::blk::{BlkError, Ticket, VirtioBlk, REQUESTS, REQUEST_BYTES};
use crate::{info, warn};

/// The longest change record a disk journal takes (an app's
/// `Persist::MAX_CHANGE` must fit: checked when the image is built).
pub const MAX_RECORD: usize = 4096;
/// Bytes of encoded records one commit takes at most: what an append of
/// [`MAX_APPEND`] holds beside the rewritten head of the end sector.
pub const GROUP_BYTES: usize = MAX_APPEND - SECTOR;
/// A commit that leaves the region fuller than this (a fraction:
/// numerator over 2) compacts right after.
const COMPACT_AT_HALVES: u64 = 1;

// One append's writes are in flight together.
const _: () = assert!(MAX_APPEND <= REQUESTS * REQUEST_BYTES);

type Scan = Replay<{ MAX_RECORD + bedrock_journal::HEADER + SECTOR }>;

/// One append's sectors, laid out.
static APPEND: Global<[u8; MAX_APPEND]> = Global::new([0; MAX_APPEND]);
/// A snapshot's records, encoded, a group at a time.
static CHUNK: Global<[u8; GROUP_BYTES]> = Global::new([0; GROUP_BYTES]);

/// Why a commit failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitError {
    /// The records do not fit on the disk (507).
    Full,
    /// The device failed or timed out (503; the disk is not used again).
    Device(BlkError),
}

impl From<BlkError> for CommitError {
    fn from(e: BlkError) -> Self {
        CommitError::Device(e)
    }
}

/// A commit in flight: its writes, then its flush (VIRTIO 1.2 §5.2.6.1:
/// a flush makes durable the writes that completed before it was sent,
/// so it goes only after they all completed).
#[derive(Clone, Copy)]
enum Committing {
    Idle,
    Writing {
        tickets: [Option<Ticket>; REQUESTS],
        records: usize,
        last: [u8; SECTOR],
    },
    Flushing {
        ticket: Ticket,
        records: usize,
        last: [u8; SECTOR],
    },
}

/// The journal on the disk.
pub struct Disk {
    blk: VirtioBlk,
    header: Header,
    tail: Tail,
    committing: Committing,
    append: &'static mut [u8; MAX_APPEND],
    chunk: &'static mut [u8; GROUP_BYTES],
    broken: Option<BlkError>,
}

impl Disk {
    /// The virtio-blk driver's counters (for the metrics page).
    pub fn stats(&self) -> crate::virtio::blk::Stats {
        self.blk.stats()
    }

    /// Descriptors in the device's request queue.
    pub fn queue_size(&self) -> u16 {
        self.blk.queue_size()
    }

    /// Reads the headers (an empty disk gets its first), replays the
    /// journal into `app` and zeroes after its end. `None`: the disk is
    /// not used (read-only, someone else's, or failing; the log says
    /// which).
    pub fn open<S: Persist>(blk: VirtioBlk, app: &mut S) -> Option<Disk> {
        let (append, chunk) = (APPEND.take()?, CHUNK.take()?);
        if blk.read_only() {
            warn!("disk: read-only; running without persistence");
            return None;
        }
        if !blk.can_flush() {
            warn!("disk: no VIRTIO_BLK_F_FLUSH: a completed write may still be in the device's cache; durability is not guaranteed");
        }
        let capacity = blk.capacity();
        let mut disk = Disk {
            blk,
            header: Header::FIRST,
            tail: Tail::empty(HEADER_SECTORS, HEADER_SECTORS),
            append,
            chunk,
            broken: None,
            committing: Committing::Idle,
        };
        match disk.boot(app) {
            Ok(Some(records)) => {
                let (first, limit) = disk.tail.region();
                info!(
                    "disk: {capacity} sectors, journal generation {} in sectors {first}..{limit}: replayed {records} records ({} bytes)",
                    disk.header.generation,
                    disk.tail.end()
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

    /// The boot: `Some(records replayed)`, or `None` for a foreign disk.
    fn boot<S: Persist>(&mut self, app: &mut S) -> Result<Option<u64>, BlkError> {
        let mut slots = [0u8; 2 * SECTOR];
        self.blk.read(0, &mut slots)?;
        let (s0, s1) = slots.split_at(SECTOR);
        let (s0, s1) = (
            s0.try_into().unwrap_or(&[0; SECTOR]),
            s1.try_into().unwrap_or(&[0; SECTOR]),
        );
        self.header = match find_header(s0, s1) {
            Found::Journal(h) => h,
            Found::Foreign => {
                warn!("disk: not a bedrock journal (no header in sectors 0-1): left alone, running without persistence");
                return Ok(None);
            }
            Found::Empty => {
                let h = Header::FIRST;
                write_all(
                    &mut self.blk,
                    Write {
                        sector: h.slot(),
                        len: SECTOR,
                    },
                    &h.encode(),
                )?;
                flush(&mut self.blk)?;
                info!("disk: a new journal");
                h
            }
        };
        let records = self.replay(app)?;
        let z = self.tail.zero_ahead();
        self.zero(z)?;
        flush(&mut self.blk)?;
        Ok(Some(records))
    }

    /// Replays the journal's region into `app` and sets the tail after it.
    fn replay<S: Persist>(&mut self, app: &mut S) -> Result<u64, BlkError> {
        app.clear();
        let (first, limit) = region(self.blk.capacity(), self.header.region);
        let mut scan = Scan::new(S::MAX_CHANGE);
        let mut sector = first;
        let per_read = (REQUEST_BYTES / SECTOR) as u64;
        while !scan.is_done() && sector < limit {
            let n = per_read.min(limit - sector) as usize;
            let t = self.blk.read_start(sector, n * SECTOR)?;
            self.blk.wait(t)?;
            scan.feed(self.blk.read_data(t, n * SECTOR), &mut |r| app.replay(r));
            sector += n as u64;
        }
        let end = scan.end();
        let mut last = [0u8; SECTOR];
        let at = Tail::end_sector(first, end);
        if at < limit {
            self.blk.read(at, &mut last)?;
        }
        self.tail = Tail::at(first, limit, end, &last);
        if scan.dropped_damage() {
            warn!("disk: the journal ends at a torn or damaged record at byte {end} of its region: dropped (it was never acknowledged, or the disk is damaged there)");
        }
        Ok(scan.records())
    }

    /// Starts appending `records` (encoded, at most [`GROUP_BYTES`]): its
    /// writes go out now, the flush once they completed
    /// ([`Disk::commit_poll`]). Only one commit is in flight at a time.
    pub fn commit_start(&mut self, records: &[u8]) -> Result<(), CommitError> {
        if let Some(e) = self.broken {
            return Err(CommitError::Device(e));
        }
        if !matches!(self.committing, Committing::Idle) {
            return Err(CommitError::Device(BlkError::Busy));
        }
        let w = self
            .tail
            .plan(records, &mut self.append[..])
            .ok_or(CommitError::Full)?;
        let (tickets, started) = start_writes(&mut self.blk, w, &self.append[..w.len]);
        if let Err(e) = started {
            let _ = wait_all(&mut self.blk, tickets);
            self.broken = Some(e);
            return Err(CommitError::Device(e));
        }
        let mut last = [0u8; SECTOR];
        last.copy_from_slice(&self.append[w.len - SECTOR..w.len]);
        self.committing = Committing::Writing {
            tickets,
            records: records.len(),
            last,
        };
        Ok(())
    }

    /// Whether a commit is in flight.
    pub fn committing(&self) -> bool {
        !matches!(self.committing, Committing::Idle)
    }

    /// Moves the commit in flight on: `Some(result)` once it is over (its
    /// records durable, or the error), `None` while it is in flight.
    pub fn commit_poll(&mut self) -> Option<Result<(), CommitError>> {
        match self.committing {
            Committing::Idle => None,
            Committing::Writing {
                mut tickets,
                records,
                last,
            } => {
                for slot in tickets.iter_mut() {
                    let Some(t) = *slot else { continue };
                    match self.blk.check(t) {
                        None => {
                            self.committing = Committing::Writing {
                                tickets,
                                records,
                                last,
                            };
                            return None;
                        }
                        Some(Ok(())) => *slot = None,
                        Some(Err(e)) => return Some(self.fail(e)),
                    }
                }
                match self.blk.flush_start() {
                    Ok(ticket) => {
                        self.committing = Committing::Flushing {
                            ticket,
                            records,
                            last,
                        }
                    }
                    Err(e) => return Some(self.fail(e)),
                }
                None
            }
            Committing::Flushing {
                ticket,
                records,
                last,
            } => match self.blk.check(ticket)? {
                Ok(()) => {
                    self.committing = Committing::Idle;
                    self.tail.advance(records, &last);
                    Some(Ok(()))
                }
                Err(e) => Some(self.fail(e)),
            },
        }
    }

    /// Waits for the commit in flight, if any.
    pub fn commit_wait(&mut self) -> Option<Result<(), CommitError>> {
        while self.committing() {
            if let Some(r) = self.commit_poll() {
                return Some(r);
            }
            core::hint::spin_loop();
        }
        None
    }

    /// A device error: the commit is over and the disk unusable.
    fn fail(&mut self, e: BlkError) -> Result<(), CommitError> {
        self.committing = Committing::Idle;
        self.broken = Some(e);
        Err(CommitError::Device(e))
    }

    /// Whether the region is full enough to compact.
    pub fn wants_compaction(&self) -> bool {
        let (first, limit) = self.tail.region();
        let bytes = (limit - first) * SECTOR as u64;
        self.tail.end() * 2 > bytes * COMPACT_AT_HALVES
    }

    /// Writes `app`'s snapshot as the journal of the other region, zeroes
    /// the rest of it, flushes, then switches the header to it and
    /// flushes again. On failure the old journal is still the journal.
    pub fn compact<S: Persist>(&mut self, app: &S) -> Result<(), CommitError> {
        if let Some(e) = self.broken {
            return Err(CommitError::Device(e));
        }
        let next = self.header.next();
        let (first, limit) = region(self.blk.capacity(), next.region);
        let mut tail = Tail::empty(first, limit);
        let mut len = 0;
        let mut failed = None;
        app.snapshot(&mut |record| {
            if failed.is_some() {
                return;
            }
            let fits = bedrock_journal::encode(record, &mut self.chunk[len..]);
            let n = match fits {
                Some(n) => n,
                None => {
                    // A group's worth: out it goes, and the record again.
                    failed = self.append_to(&mut tail, len).err();
                    len = 0;
                    match bedrock_journal::encode(record, &mut self.chunk[..]) {
                        Some(n) => n,
                        None => {
                            failed = Some(CommitError::Full);
                            0
                        }
                    }
                }
            };
            len += n;
        });
        if let Some(e) = failed {
            return Err(e);
        }
        self.append_to(&mut tail, len)?;
        let rest = tail.zero_ahead().sector;
        self.zero(Write {
            sector: rest,
            len: (limit - rest) as usize * SECTOR,
        })?;
        let done = flush(&mut self.blk)
            .and_then(|()| {
                write_all(
                    &mut self.blk,
                    Write {
                        sector: next.slot(),
                        len: SECTOR,
                    },
                    &next.encode(),
                )
            })
            .and_then(|()| flush(&mut self.blk));
        self.check(done)?;
        info!(
            "disk: compacted into sectors {first}..{limit} (generation {}): {} bytes of journal",
            next.generation,
            tail.end()
        );
        self.header = next;
        self.tail = tail;
        Ok(())
    }

    /// Writes the first `len` bytes of the chunk after `tail` (no flush).
    fn append_to(&mut self, tail: &mut Tail, len: usize) -> Result<(), CommitError> {
        if len == 0 {
            return Ok(());
        }
        let w = tail
            .plan(&self.chunk[..len], &mut self.append[..])
            .ok_or(CommitError::Full)?;
        let done = write_all(&mut self.blk, w, &self.append[..w.len]);
        self.check(done)?;
        tail.advance(len, &self.append[..w.len]);
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

    /// Writes zeros over `w` (any length, whole sectors), then nothing
    /// else: the caller flushes.
    fn zero(&mut self, w: Write) -> Result<(), BlkError> {
        self.append.fill(0);
        let mut done = 0;
        while done < w.len {
            let n = (w.len - done).min(MAX_APPEND);
            let sector = w.sector + (done / SECTOR) as u64;
            write_all(&mut self.blk, Write { sector, len: n }, &self.append[..n])?;
            done += n;
        }
        Ok(())
    }

    /// A device error makes the disk unusable from here on.
    fn check(&mut self, r: Result<(), BlkError>) -> Result<(), CommitError> {
        r.map_err(|e| {
            self.broken = Some(e);
            CommitError::Device(e)
        })
    }
}

/// Writes `bytes` (whole sectors) at `w.sector`, every request of it in
/// flight together, and waits for them all.
fn write_all(blk: &mut VirtioBlk, w: Write, bytes: &[u8]) -> Result<(), BlkError> {
    let (tickets, started) = start_writes(blk, w, bytes);
    started.and(wait_all(blk, tickets))
}

/// Starts writing `bytes` (whole sectors) at `w.sector`, a request per
/// [`REQUEST_BYTES`]; returns the requests started and whether all were
/// (on an error the rest are not started: wait for those that were).
fn start_writes(
    blk: &mut VirtioBlk,
    w: Write,
    bytes: &[u8],
) -> ([Option<Ticket>; REQUESTS], Result<(), BlkError>) {
    let mut tickets = [None; REQUESTS];
    for (k, chunk) in bytes[..w.len].chunks(REQUEST_BYTES).enumerate() {
        let sector = w.sector + (k * REQUEST_BYTES / SECTOR) as u64;
        if k >= tickets.len() {
            return (tickets, Err(BlkError::Busy));
        }
        match blk.write_start(sector, chunk) {
            Ok(t) => tickets[k] = Some(t),
            Err(e) => return (tickets, Err(e)),
        }
    }
    (tickets, Ok(()))
}

/// Waits for every request in `tickets`; the first error, if any.
fn wait_all(blk: &mut VirtioBlk, tickets: [Option<Ticket>; REQUESTS]) -> Result<(), BlkError> {
    let mut result = Ok(());
    for t in tickets.into_iter().flatten() {
        result = result.and(blk.wait(t));
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

    /// Forgets every record (their changes were undone).
    pub fn clear(&mut self) {
        self.len = 0;
        self.overflowed = false;
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len == 0 && !self.overflowed
    }

    /// Whether `bytes` more bytes of records fit.
    pub fn room(&self, bytes: usize) -> bool {
        self.len + bytes <= GROUP_BYTES
    }

    /// Starts committing the group to `disk` and empties it.
    pub fn start(&mut self, disk: &mut Disk) -> Result<(), CommitError> {
        let result = if self.overflowed {
            Err(CommitError::Full)
        } else {
            disk.commit_start(&self.bytes[..self.len])
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
