//! The virtio-blk driver (VIRTIO 1.2 §5.2): read, write and flush with
//! up to [`REQUESTS`] requests in flight, capacity and block size from the
//! config space, and every failure an error (a device status, a protocol
//! violation, a timeout), never a hang. Which descriptors a request takes
//! and what a used entry completes is `bedrock_virtio`'s (tested on the
//! host against a simulated device); this file moves bytes.
//!
//! Memory: one queue and, per request slot, a header, a status byte and a
//! data buffer of [`REQUEST_BYTES`], all in a static DMA area. Data is
//! copied in and out of the slot's buffer, so callers lend nothing to the
//! device.

use super::queue::Queue;
use super::{find, Error, Line, Transport, RING_BYTES};
use crate::time::{self, Duration, Instant};
use bedrock_virtio::{BlkRequest, BlkStatus, Chains, Op, UsedError, HEADER_LEN, SECTOR};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

/// Requests in flight at most.
pub const REQUESTS: usize = 8;
/// Data bytes one request moves at most.
pub const REQUEST_BYTES: usize = 64 * 1024;
/// How long a request may take before the device counts as broken.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// VIRTIO_BLK_F_RO: the device is read-only.
pub const F_RO: u64 = 1 << 5;
/// VIRTIO_BLK_F_BLK_SIZE: `blk_size` in config space is valid.
pub const F_BLK_SIZE: u64 = 1 << 6;
/// VIRTIO_BLK_F_FLUSH: the device has a cache that FLUSH writes back.
pub const F_FLUSH: u64 = 1 << 9;

const DEVICE_BLK: u32 = 2;
/// Config space offsets (§5.2.4).
const C_CAPACITY: usize = 0x100;
const C_BLK_SIZE: usize = 0x100 + 20;

/// Why a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlkError {
    /// Every request slot is in flight.
    Busy,
    /// Not whole sectors, longer than [`REQUEST_BYTES`], or past the end.
    OutOfRange,
    /// A write to a read-only device.
    ReadOnly,
    /// The device answered with this status.
    Device(BlkStatus),
    /// The device broke the protocol (a used entry that means nothing).
    Protocol(UsedError),
    /// No answer within [`TIMEOUT`]: the device is given up on.
    Timeout,
    /// An earlier timeout or protocol error: no more requests.
    Broken,
}

/// A request in flight (its slot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket(usize);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Free,
    /// Started at this time.
    InFlight(Instant),
    Done(Result<(), BlkError>),
}

#[repr(C, align(4096))]
struct DmaArea {
    ring: [u8; RING_BYTES],
    data: [[u8; REQUEST_BYTES]; REQUESTS],
    headers: [[u8; HEADER_LEN]; REQUESTS],
    status: [u8; REQUESTS],
}

struct Dma(UnsafeCell<DmaArea>);

// SAFETY: the area is handed out once (TAKEN) to the single driver
// instance; only that instance and the device touch it.
unsafe impl Sync for Dma {}

static DMA: Dma = Dma(UnsafeCell::new(DmaArea {
    ring: [0; RING_BYTES],
    data: [[0; REQUEST_BYTES]; REQUESTS],
    headers: [[0; HEADER_LEN]; REQUESTS],
    status: [0; REQUESTS],
}));
static TAKEN: AtomicBool = AtomicBool::new(false);

/// Counters kept by the driver.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Read requests started.
    pub reads: u64,
    /// Write requests started.
    pub writes: u64,
    /// Flush requests started.
    pub flushes: u64,
    /// Requests that failed (device status, protocol, timeout).
    pub errors: u64,
    /// Doorbell writes.
    pub notifies: u64,
}

/// The virtio-blk device.
pub struct VirtioBlk {
    t: Transport,
    q: Queue,
    chains: Chains,
    dma: *mut DmaArea,
    slots: [Slot; REQUESTS],
    capacity: u64,
    block_size: u32,
    features: u64,
    broken: bool,
    stats: Stats,
}

impl VirtioBlk {
    /// Finds the first virtio-blk device and brings it up; `Ok(None)`
    /// when there is none.
    pub fn init() -> Result<Option<VirtioBlk>, Error> {
        let Some(info) = find(DEVICE_BLK) else {
            return Ok(None);
        };
        if TAKEN.swap(true, Ordering::SeqCst) {
            return Err(Error::AlreadyTaken);
        }
        let dma = DMA.0.get();
        let mut t = Transport::open(info)?;
        let features = t.negotiate(F_RO | F_BLK_SIZE | F_FLUSH, F_RO | F_BLK_SIZE | F_FLUSH)?;
        // SAFETY: the ring is RING_BYTES of the static DMA area, page
        // aligned (it comes first in a 4096-aligned struct), zeroed, and
        // used by nothing else (TAKEN).
        let q = unsafe { t.queue(0, (*dma).ring.as_mut_ptr())? };
        let (capacity, block_size) = t.read_config(|r| {
            let sectors = u64::from(r.read(C_CAPACITY)) | u64::from(r.read(C_CAPACITY + 4)) << 32;
            let size = if features & F_BLK_SIZE != 0 {
                r.read(C_BLK_SIZE)
            } else {
                SECTOR as u32
            };
            (sectors, size)
        });
        t.enable_interrupt(Line::Blk);
        t.driver_ok();
        Ok(Some(VirtioBlk {
            t,
            chains: Chains::new(q.size),
            q,
            dma,
            slots: [Slot::Free; REQUESTS],
            capacity,
            block_size,
            features,
            broken: false,
            stats: Stats::default(),
        }))
    }

    /// Capacity in 512-byte sectors.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// The device's block size (its unit of atomic writes, typically 512).
    pub fn block_size(&self) -> u32 {
        self.block_size
    }

    /// Whether writes can be made durable (VIRTIO_BLK_F_FLUSH); without
    /// it a completed write may still sit in the device's cache.
    pub fn can_flush(&self) -> bool {
        self.features & F_FLUSH != 0
    }

    /// Whether the device refuses writes.
    pub fn read_only(&self) -> bool {
        self.features & F_RO != 0
    }

    /// The driver's counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Descriptors in the request queue.
    pub fn queue_size(&self) -> u16 {
        self.q.size
    }

    /// Starts writing `data` (whole sectors) at `sector`.
    pub fn write_start(&mut self, sector: u64, data: &[u8]) -> Result<Ticket, BlkError> {
        if self.read_only() {
            return Err(BlkError::ReadOnly);
        }
        let req = BlkRequest {
            op: Op::Write,
            sector,
            len: data.len() as u32,
        };
        let slot = self.slot_for(&req, data.len())?;
        // SAFETY: the slot is free, so the device is not using its buffer.
        unsafe { (&mut (*self.dma).data[slot])[..data.len()].copy_from_slice(data) };
        self.start(slot, req)
    }

    /// Starts reading `len` bytes (whole sectors) at `sector`; the bytes
    /// are [`VirtioBlk::read_data`] once it completed.
    pub fn read_start(&mut self, sector: u64, len: usize) -> Result<Ticket, BlkError> {
        let req = BlkRequest {
            op: Op::Read,
            sector,
            len: len as u32,
        };
        let slot = self.slot_for(&req, len)?;
        self.start(slot, req)
    }

    /// Starts a flush of every completed write (a no-op success without
    /// VIRTIO_BLK_F_FLUSH: the caller was told by `can_flush`).
    pub fn flush_start(&mut self) -> Result<Ticket, BlkError> {
        let req = BlkRequest {
            op: Op::Flush,
            sector: 0,
            len: 0,
        };
        let slot = self.slot_for(&req, 0)?;
        if !self.can_flush() {
            self.slots[slot] = Slot::Done(Ok(()));
            return Ok(Ticket(slot));
        }
        self.start(slot, req)
    }

    /// What a completed read brought (valid until the slot's next use).
    pub fn read_data(&self, t: Ticket, len: usize) -> &[u8] {
        // SAFETY: the caller waited for the read: the device is done with
        // the slot's buffer, and only `&mut self` methods reuse it.
        unsafe { &(&(*self.dma).data[t.0])[..len.min(REQUEST_BYTES)] }
    }

    /// Whether `t` is over: `Some(result)` (its slot freed), or `None`
    /// while it is in flight and younger than [`TIMEOUT`].
    pub fn check(&mut self, t: Ticket) -> Option<Result<(), BlkError>> {
        self.reap();
        match self.slots[t.0] {
            Slot::Done(result) => {
                self.slots[t.0] = Slot::Free;
                Some(result)
            }
            _ if self.broken => {
                self.slots[t.0] = Slot::Free;
                Some(Err(BlkError::Broken))
            }
            Slot::InFlight(since) if time::now() >= since + TIMEOUT => {
                self.broken = true;
                self.stats.errors += 1;
                self.slots[t.0] = Slot::Free;
                Some(Err(BlkError::Timeout))
            }
            _ => None,
        }
    }

    /// Waits (polling, at most [`TIMEOUT`]) for `t` and frees its slot.
    pub fn wait(&mut self, t: Ticket) -> Result<(), BlkError> {
        loop {
            if let Some(result) = self.check(t) {
                return result;
            }
            core::hint::spin_loop();
        }
    }

    /// Reads `out.len()` bytes (whole sectors, at most REQUEST_BYTES) at
    /// `sector`.
    pub fn read(&mut self, sector: u64, out: &mut [u8]) -> Result<(), BlkError> {
        let t = self.read_start(sector, out.len())?;
        self.wait(t)?;
        out.copy_from_slice(self.read_data(t, out.len()));
        Ok(())
    }

    fn slot_for(&self, req: &BlkRequest, len: usize) -> Result<usize, BlkError> {
        if self.broken {
            return Err(BlkError::Broken);
        }
        if len > REQUEST_BYTES || !req.fits(self.capacity) {
            return Err(BlkError::OutOfRange);
        }
        self.slots
            .iter()
            .position(|s| *s == Slot::Free)
            .ok_or(BlkError::Busy)
    }

    fn start(&mut self, slot: usize, req: BlkRequest) -> Result<Ticket, BlkError> {
        let dma = self.dma;
        // SAFETY: the slot is free: the device uses none of its buffers.
        let (header, data, status) = unsafe {
            (*dma).headers[slot] = req.header();
            (*dma).status[slot] = 0xff; // what no device writes
            (
                (*dma).headers[slot].as_ptr() as u64,
                (*dma).data[slot].as_ptr() as u64,
                core::ptr::addr_of!((*dma).status[slot]) as u64,
            )
        };
        let parts_rw = [
            (header, HEADER_LEN as u32, false),
            (data, req.len, req.op == Op::Read),
            (status, 1, true),
        ];
        let parts_flush = [(header, HEADER_LEN as u32, false), (status, 1, true)];
        let parts: &[(u64, u32, bool)] = if req.op == Op::Flush {
            &parts_flush
        } else {
            &parts_rw
        };
        let chain = self
            .chains
            .start(slot as u32, parts)
            .ok_or(BlkError::Busy)?;
        for d in chain.descs() {
            self.q.set_desc(d.index, d.addr, d.len, d.flags, d.next);
        }
        self.q.push_avail(chain.head);
        if self.q.device_wants_notify() {
            self.t.notify(self.q.index);
            self.stats.notifies += 1;
        }
        self.slots[slot] = Slot::InFlight(time::now());
        match req.op {
            Op::Read => self.stats.reads += 1,
            Op::Write => self.stats.writes += 1,
            Op::Flush => self.stats.flushes += 1,
        }
        Ok(Ticket(slot))
    }

    /// Takes every used entry: each completes its slot.
    fn reap(&mut self) {
        while let Some((id, written)) = self.q.pop_used() {
            match self.chains.complete(id, written) {
                Ok(done) => {
                    let slot = done.tag as usize;
                    // SAFETY: the device returned the chain: it wrote the
                    // status byte and is done with the slot.
                    let status = BlkStatus::from_byte(unsafe { (*self.dma).status[slot] });
                    let result = match status {
                        BlkStatus::Ok => Ok(()),
                        other => {
                            self.stats.errors += 1;
                            Err(BlkError::Device(other))
                        }
                    };
                    self.slots[slot] = Slot::Done(result);
                }
                Err(e) => {
                    // A device that says such things cannot be trusted
                    // with the next write either.
                    self.stats.errors += 1;
                    self.broken = true;
                    for s in self
                        .slots
                        .iter_mut()
                        .filter(|s| matches!(s, Slot::InFlight(_)))
                    {
                        *s = Slot::Done(Err(BlkError::Protocol(e)));
                    }
                }
            }
        }
    }
}
