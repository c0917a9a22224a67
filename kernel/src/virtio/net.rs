//! The virtio-net driver (VIRTIO 1.2 §5.1), which implements
//! `bedrock_net::device::Device`.
//!
//! Memory: two split virtqueues (receive 0, transmit 1) of up to
//! [`QUEUE_MAX`] entries, each with its own 2 KiB buffers, all in one
//! static DMA area (identity-mapped normal memory; QEMU's virtio is cache
//! coherent). Receive buffers stay posted; a received frame is lent to the
//! caller and its buffer re-posted. Transmit buffers are taken from a free
//! list and returned when the device reports them used.
//!
//! While the main loop is busy it suppresses the device's interrupts
//! (VIRTQ_AVAIL_F_NO_INTERRUPT) and re-enables them before sleeping, then
//! re-checks the used rings so a buffer used in between is not missed.

use super::queue::Queue;
use super::{find, Error, Line, Transport, F_VERSION_1, QUEUE_MAX, RING_BYTES, R_CONFIG};
use crate::arch::dmb;
use bedrock_net::device::{Capabilities, Device};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

/// Size of each buffer: a 12-byte header plus a 1514-byte frame fit.
pub const BUF_SIZE: usize = 2048;
/// Largest Ethernet frame without FCS (1500-byte MTU).
pub const MAX_FRAME: usize = 1514;
/// VIRTIO_NET_F_MAC: the MAC address is in config space.
pub const F_MAC: u64 = 1 << 5;
/// VIRTIO_F_ANY_LAYOUT (legacy): header and data may share a descriptor.
pub const F_ANY_LAYOUT: u64 = 1 << 27;

const DEVICE_NET: u32 = 1;
const DESC_F_WRITE: u16 = 2;

static TAKEN: AtomicBool = AtomicBool::new(false);

#[repr(C, align(4096))]
struct DmaArea {
    rings: [[u8; RING_BYTES]; 2],
    rx: [[u8; BUF_SIZE]; QUEUE_MAX],
    tx: [[u8; BUF_SIZE]; QUEUE_MAX],
}

struct Dma(UnsafeCell<DmaArea>);

// SAFETY: the area is handed out once (TAKEN) to the single driver
// instance; only that instance and the device touch it.
unsafe impl Sync for Dma {}

static DMA: Dma = Dma(UnsafeCell::new(DmaArea {
    rings: [[0; RING_BYTES]; 2],
    rx: [[0; BUF_SIZE]; QUEUE_MAX],
    tx: [[0; BUF_SIZE]; QUEUE_MAX],
}));

/// Counters kept by the driver.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames handed to the stack.
    pub rx_frames: u64,
    /// Frames sent.
    pub tx_frames: u64,
    /// Used receive buffers with an impossible id or length, dropped.
    pub rx_bad: u64,
    /// Transmits refused because every buffer was in flight.
    pub tx_full: u64,
    /// Doorbell writes.
    pub notifies: u64,
}

/// The virtio-net device, driven through one virtio-mmio transport.
pub struct VirtioNet {
    t: Transport,
    slot: usize,
    version: u32,
    features: u64,
    hdr_len: usize,
    mac: [u8; 6],
    rx: Queue,
    tx: Queue,
    tx_free: [u16; QUEUE_MAX],
    tx_free_len: usize,
    rx_bufs: *mut [u8; BUF_SIZE],
    tx_bufs: *mut [u8; BUF_SIZE],
    stats: Stats,
}

impl VirtioNet {
    /// Finds the first virtio-net device and brings it up: reset,
    /// ACKNOWLEDGE, DRIVER, feature negotiation (checked), queues, RX
    /// buffers posted, DRIVER_OK; its interrupt is enabled at the GIC.
    pub fn init() -> Result<VirtioNet, Error> {
        let info = find(DEVICE_NET).ok_or(Error::NoDevice)?;
        if TAKEN.swap(true, Ordering::SeqCst) {
            return Err(Error::AlreadyTaken);
        }
        let dma = DMA.0.get();
        // SAFETY: TAKEN guarantees this is the only user of the DMA area;
        // the pointers stay valid for 'static.
        let (rx_ring, tx_ring, rx_bufs, tx_bufs) = unsafe {
            (
                (*dma).rings[0].as_mut_ptr(),
                (*dma).rings[1].as_mut_ptr(),
                (*dma).rx.as_mut_ptr(),
                (*dma).tx.as_mut_ptr(),
            )
        };
        let mut t = Transport::open(info)?;
        let features = t.negotiate(F_MAC, F_MAC | F_ANY_LAYOUT)?;
        // SAFETY: each ring is RING_BYTES of the static DMA area, page
        // aligned (repr align 4096, RING_BYTES a multiple of a page),
        // zeroed, and used by nothing else (TAKEN).
        let (mut rx, tx) = unsafe { (t.queue(0, rx_ring)?, t.queue(1, tx_ring)?) };
        for i in 0..rx.size {
            // SAFETY: i < size <= QUEUE_MAX: inside the receive buffers.
            let addr = unsafe { rx_bufs.add(i as usize) } as u64;
            rx.set_desc(i, addr, BUF_SIZE as u32, DESC_F_WRITE, 0);
            rx.push_avail(i);
        }
        let mut tx_free = [0u16; QUEUE_MAX];
        for (i, slot) in tx_free.iter_mut().enumerate().take(tx.size as usize) {
            *slot = i as u16;
        }
        let mac = if features & F_MAC != 0 {
            t.read_config(|r| core::array::from_fn(|i| r.read8(R_CONFIG + i)))
        } else {
            [0x02, 0, 0, 0, 0, 0x01] // locally administered fallback
        };
        t.enable_interrupt(Line::Net);
        t.driver_ok();
        let tx_free_len = tx.size as usize;
        let mut nic = VirtioNet {
            slot: info.slot,
            version: info.version,
            hdr_len: if features & F_VERSION_1 != 0 { 12 } else { 10 },
            t,
            features,
            mac,
            rx,
            tx,
            tx_free,
            tx_free_len,
            rx_bufs,
            tx_bufs,
            stats: Stats::default(),
        };
        nic.notify(nic.rx.index);
        Ok(nic)
    }

    fn notify(&mut self, queue: u32) {
        self.t.notify(queue);
        self.stats.notifies += 1;
    }

    /// Slot of the transport in use.
    pub fn slot(&self) -> usize {
        self.slot
    }

    /// Transport version (1 legacy, 2 modern).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The negotiated feature bits.
    pub fn features(&self) -> u64 {
        self.features
    }

    /// The net header length in use (12 modern, 10 legacy).
    pub fn header_len(&self) -> usize {
        self.hdr_len
    }

    /// Queue sizes (receive, transmit).
    pub fn queue_sizes(&self) -> (u16, u16) {
        (self.rx.size, self.tx.size)
    }

    /// The driver's counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The device status register (tests check DRIVER_OK and no FAILED).
    pub fn status(&self) -> u32 {
        self.t.status()
    }

    /// Suppresses the device's interrupts while the caller is polling.
    pub fn suppress_interrupts(&mut self) {
        self.rx.set_interrupts(false);
        self.tx.set_interrupts(false);
    }

    /// Re-enables interrupts before the caller sleeps, and says whether it
    /// may: `false` when a buffer was used while they were off (the
    /// re-check after enabling that closes the missed-interrupt race).
    pub fn enable_interrupts_and_check_idle(&mut self) -> bool {
        self.rx.set_interrupts(true);
        self.tx.set_interrupts(true);
        dmb();
        // Completed transmits are reclaimed here, not left to wake us:
        // only buffers used after this point may (and will) interrupt.
        self.reclaim_tx();
        !(self.rx.has_used() || self.tx.has_used())
    }

    fn repost_rx(&mut self, id: u16) {
        self.rx.push_avail(id);
        if self.rx.device_wants_notify() {
            self.notify(self.rx.index);
        }
    }

    fn reclaim_tx(&mut self) {
        while let Some((id, _)) = self.tx.pop_used() {
            if id < self.tx.size as u32 && self.tx_free_len < self.tx.size as usize {
                self.tx_free[self.tx_free_len] = id as u16;
                self.tx_free_len += 1;
            }
        }
    }
}

impl Device for VirtioNet {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_frame_len: MAX_FRAME,
        }
    }

    fn mac(&self) -> [u8; 6] {
        self.mac
    }

    fn receive<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        // Skip (and re-post) entries that cannot hold a frame.
        let (id, len) = loop {
            let (id, len) = self.rx.pop_used()?;
            if id >= self.rx.size as u32 {
                self.stats.rx_bad += 1; // not ours: nothing to re-post
                continue;
            }
            let (id, len) = (id as u16, len as usize);
            if len >= self.hdr_len && len <= BUF_SIZE {
                break (id, len);
            }
            self.stats.rx_bad += 1;
            self.repost_rx(id);
        };
        // SAFETY: the device has returned buffer `id` (it is not in the
        // avail ring) and wrote `len` bytes of it; nothing else aliases it
        // until it is re-posted below.
        let buf = unsafe { &*self.rx_bufs.add(id as usize) };
        self.stats.rx_frames += 1;
        let result = f(&buf[self.hdr_len..len]);
        self.repost_rx(id);
        Some(result)
    }

    fn transmit<R>(&mut self, len: usize, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        if len > MAX_FRAME {
            return None;
        }
        if self.tx_free_len == 0 {
            self.reclaim_tx();
        }
        if self.tx_free_len == 0 {
            self.stats.tx_full += 1;
            return None;
        }
        self.tx_free_len -= 1;
        let id = self.tx_free[self.tx_free_len];
        // SAFETY: descriptor `id` came from the free list, so the device is
        // done with its buffer and no other reference to it exists.
        let buf = unsafe { &mut *self.tx_bufs.add(id as usize) };
        let hdr = self.hdr_len;
        buf[..hdr].fill(0); // no checksum offload, no GSO
        let r = f(&mut buf[hdr..hdr + len]);
        let addr = buf.as_ptr() as u64;
        self.tx.set_desc(id, addr, (hdr + len) as u32, 0, 0);
        self.tx.push_avail(id);
        if self.tx.device_wants_notify() {
            self.notify(self.tx.index);
        }
        self.stats.tx_frames += 1;
        // Return buffers of earlier sends while we are here.
        self.reclaim_tx();
        Some(r)
    }
}
