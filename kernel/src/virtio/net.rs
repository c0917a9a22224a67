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
//!
//! Offloads (VIRTIO 1.2 §5.1.6), when the device offers them (QEMU does
//! on a tap back-end, not on the user network or a socket): with
//! VIRTIO_NET_F_CSUM the device completes the TCP checksums the stack
//! leaves partial; with VIRTIO_NET_F_GUEST_CSUM it says which received
//! checksums need no check. Without them the driver completes checksums
//! itself and vouches for nothing. Received frames are lent in place
//! (`Device::receive_lent`), with the driver, for the stack to answer
//! through while it reads them.

use super::queue::Queue;
use super::{find, Error, Line, Transport, F_VERSION_1, QUEUE_MAX, RING_BYTES, R_CONFIG};
use crate::arch::dmb;
use bedrock_net::device::{Capabilities, Device, RxInfo, TxOffload};
use bedrock_net::wire::checksum;
use bedrock_virtio::net::{buffer_skew, header_len, NetHeader, F_CSUM, F_GUEST_CSUM};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

pub use bedrock_virtio::net::F_MAC;

/// Size of each buffer: the skew (`buffer_skew`, at most 7 bytes), a
/// 12-byte header and a 1514-byte frame fit.
pub const BUF_SIZE: usize = 2048;
const _: () = assert!(7 + 12 + MAX_FRAME <= BUF_SIZE);
/// Largest Ethernet frame without FCS (1500-byte MTU).
pub const MAX_FRAME: usize = 1514;
/// VIRTIO_F_ANY_LAYOUT (legacy): header and data may share a descriptor.
pub const F_ANY_LAYOUT: u64 = 1 << 27;
/// The features asked for (those offered are agreed): the MAC, and the
/// checksum offloads both ways.
const WANTED: u64 = F_MAC | F_CSUM | F_GUEST_CSUM;

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
    /// Where the header starts in each buffer (`buffer_skew`).
    skew: usize,
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
        let features = t.negotiate(WANTED, WANTED | F_ANY_LAYOUT)?;
        // SAFETY: each ring is RING_BYTES of the static DMA area, page
        // aligned (repr align 4096, RING_BYTES a multiple of a page),
        // zeroed, and used by nothing else (TAKEN).
        let (mut rx, tx) = unsafe { (t.queue(0, rx_ring)?, t.queue(1, tx_ring)?) };
        let hdr_len = header_len(features, features & F_VERSION_1 != 0);
        let skew = buffer_skew(hdr_len);
        for i in 0..rx.size {
            // SAFETY: i < size <= QUEUE_MAX: inside the receive buffers.
            let addr = unsafe { rx_bufs.add(i as usize) } as u64 + skew as u64;
            rx.set_desc(i, addr, (BUF_SIZE - skew) as u32, DESC_F_WRITE, 0);
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
            hdr_len,
            skew,
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

    /// Whether the device completes the checksums of frames we send
    /// (VIRTIO_NET_F_CSUM) and vouches for those it receives
    /// (VIRTIO_NET_F_GUEST_CSUM).
    pub fn checksum_offloads(&self) -> (bool, bool) {
        (
            self.features & F_CSUM != 0,
            self.features & F_GUEST_CSUM != 0,
        )
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

    /// The next used receive buffer that holds a frame: (id, bytes
    /// written); entries that cannot are skipped (and re-posted).
    fn pop_rx(&mut self) -> Option<(u16, usize)> {
        loop {
            let (id, len) = self.rx.pop_used()?;
            if id >= self.rx.size as u32 {
                self.stats.rx_bad += 1; // not ours: nothing to re-post
                continue;
            }
            let (id, len) = (id as u16, len as usize);
            if len >= self.hdr_len && len <= BUF_SIZE - self.skew {
                return Some((id, len));
            }
            self.stats.rx_bad += 1;
            self.repost_rx(id);
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
        self.receive_lent(|_, frame, _| f(frame))
    }

    fn receive_lent<R>(&mut self, f: impl FnOnce(&mut Self, &[u8], RxInfo) -> R) -> Option<R> {
        let (id, len) = self.pop_rx()?;
        // SAFETY: the device has returned buffer `id` (it is not in the
        // avail ring) and wrote `len` bytes of it; it is not re-posted
        // until `f` returns. The buffer is static DMA memory reached
        // through a raw pointer, not part of `*self`: lending `self` to
        // `f` beside it aliases nothing, and nothing `f` can call writes
        // to it (transmits use the transmit buffers; a nested receive
        // takes other used buffers, this one is not in the avail ring).
        let whole: &[u8; BUF_SIZE] = unsafe { &*self.rx_bufs.add(id as usize) };
        let buf = &whole[self.skew..];
        let checksum_ok =
            NetHeader::read(buf, self.hdr_len).is_some_and(|h| h.checksum_ok(self.features));
        self.stats.rx_frames += 1;
        let frame = &buf[self.hdr_len..len];
        let info = RxInfo {
            len: frame.len(),
            checksum_ok,
        };
        let result = f(self, frame, info);
        self.repost_rx(id);
        Some(result)
    }

    fn transmit<R>(&mut self, len: usize, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        self.transmit_offloaded(len, TxOffload::default(), f)
    }

    fn transmit_offloaded<R>(
        &mut self,
        len: usize,
        offload: TxOffload,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
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
        let whole: &mut [u8; BUF_SIZE] = unsafe { &mut *self.tx_bufs.add(id as usize) };
        let buf = &mut whole[self.skew..];
        let (hdr_len, features) = (self.hdr_len, self.features);
        let (hdr, frame) = buf.split_at_mut(hdr_len);
        let r = f(&mut frame[..len]);
        // The device completes the checksum, or we do (no CSUM agreed).
        let header = NetHeader::for_checksum(features, offload.checksum);
        if let (None, Some((start, offset))) = (header, offload.checksum) {
            checksum::complete_partial(&mut frame[..len], start, offset);
        }
        header.unwrap_or_default().write(hdr, hdr_len);
        let addr = buf.as_ptr() as u64;
        self.tx.set_desc(id, addr, (hdr_len + len) as u32, 0, 0);
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
