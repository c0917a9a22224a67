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
use bedrock_virtio::net::{
    buffer_skew, consistent, contiguous, header_len, NetHeader, TxSlots, F_CSUM, F_GUEST_CSUM,
    F_GUEST_TSO4, F_HOST_TSO4, F_MRG_RXBUF,
};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

pub use bedrock_virtio::net::F_MAC;

/// Size of each buffer: a 12-byte header and a 1514-byte frame fit.
/// The receive buffers lie end to end (from the skew on, `buffer_skew`),
/// so a frame merged over several of them (VIRTIO_NET_F_MRG_RXBUF) is
/// one run of memory unless it wraps past the last one.
pub const BUF_SIZE: usize = 2048;
const _: () = assert!(12 + MAX_FRAME <= BUF_SIZE);
/// Largest Ethernet frame without FCS (1500-byte MTU).
pub const MAX_FRAME: usize = 1514;
/// VIRTIO_F_ANY_LAYOUT (legacy): header and data may share a descriptor.
pub const F_ANY_LAYOUT: u64 = 1 << 27;
/// Transmit buffers for frames the device cuts into TCP segments
/// (VIRTIO_NET_F_HOST_TSO4), taken from the transmit queue's descriptors
/// (at most half of them). 32 of them hold 2 MiB in flight, half the
/// bulk build's 4 MiB window.
pub const TSO_BUFFERS: usize = 32;
/// Size of each: the skew, the header and a frame of [`MAX_TSO_FRAME`].
pub const TSO_BUF_SIZE: usize = 64 * 1024;
/// Largest frame sent for the device to cut (Ethernet header included):
/// what a TSO buffer holds after the largest skew and the header. It
/// carries up to 45 segments of 1448 bytes.
pub const MAX_TSO_FRAME: usize = TSO_BUF_SIZE - 8 - 12;
/// Largest frame received (Ethernet header included): one IPv4 packet of
/// the most its total length allows, which the device hands over whole
/// with VIRTIO_NET_F_GUEST_TSO4 (a TCP segment of many MSS the host did
/// not cut). Longer ones are dropped (`rx_bad`).
pub const MAX_RX_FRAME: usize = bedrock_net::limits::MAX_LENT_FRAME_LEN;
/// Most receive buffers one frame spans: its header and
/// [`MAX_RX_FRAME`] bytes. A header that says more is dropped (`rx_bad`).
pub const MAX_MERGED: usize = (12 + MAX_RX_FRAME).div_ceil(BUF_SIZE);
/// The features asked for (those offered are agreed, less those whose
/// prerequisites are missing): the MAC, the checksum offloads both ways,
/// TCP segmentation both ways, receive buffers merged for big frames.
const WANTED: u64 = F_MAC | F_CSUM | F_GUEST_CSUM | F_HOST_TSO4 | F_GUEST_TSO4 | F_MRG_RXBUF;

const DEVICE_NET: u32 = 1;
const DESC_F_WRITE: u16 = 2;

static TAKEN: AtomicBool = AtomicBool::new(false);

#[repr(C, align(4096))]
struct DmaArea {
    rings: [[u8; RING_BYTES]; 2],
    rx: [[u8; BUF_SIZE]; QUEUE_MAX],
    /// What the last receive buffer reaches past `rx` by the skew.
    rx_tail: [u8; 8],
    /// A frame merged over buffers that wrap past the last one, pieced
    /// together (the device never touches it).
    bounce: [u8; MAX_RX_FRAME],
    tx: [[u8; BUF_SIZE]; QUEUE_MAX],
    tso: [[u8; TSO_BUF_SIZE]; TSO_BUFFERS],
}

struct Dma(UnsafeCell<DmaArea>);

// SAFETY: the area is handed out once (TAKEN) to the single driver
// instance; only that instance and the device touch it.
unsafe impl Sync for Dma {}

static DMA: Dma = Dma(UnsafeCell::new(DmaArea {
    rings: [[0; RING_BYTES]; 2],
    rx: [[0; BUF_SIZE]; QUEUE_MAX],
    rx_tail: [0; 8],
    bounce: [0; MAX_RX_FRAME],
    tx: [[0; BUF_SIZE]; QUEUE_MAX],
    tso: [[0; TSO_BUF_SIZE]; TSO_BUFFERS],
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
    /// Frames merged over several receive buffers (big TCP segments).
    pub rx_merged: u64,
    /// Merged frames that wrapped past the last buffer, pieced together.
    pub rx_bounced: u64,
    /// Transmits refused because every buffer was in flight.
    pub tx_full: u64,
    /// Used transmit entries with an id not in flight, ignored.
    pub tx_bad: u64,
    /// Frames sent for the device to cut into TCP segments (TSO).
    pub tx_tso_frames: u64,
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
    /// Transmit descriptors: small ones first (a buffer in `tx_bufs`
    /// each), then the TSO ones (`tso_bufs`, none without HOST_TSO4).
    tx_slots: TxSlots,
    /// The first receive buffer (the skew in): buffer `i` is the
    /// `BUF_SIZE` bytes from `rx_base + i * BUF_SIZE`.
    rx_base: *mut u8,
    bounce: *mut [u8; MAX_RX_FRAME],
    /// A frame in `bounce` is lent (to a `receive_lent` closure).
    bounce_lent: bool,
    tx_bufs: *mut [u8; BUF_SIZE],
    tso_bufs: *mut [u8; TSO_BUF_SIZE],
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
        let (rx_ring, tx_ring, rx_bufs, bounce, tx_bufs, tso_bufs) = unsafe {
            (
                (*dma).rings[0].as_mut_ptr(),
                (*dma).rings[1].as_mut_ptr(),
                (*dma).rx.as_mut_ptr() as *mut u8,
                &raw mut (*dma).bounce,
                (*dma).tx.as_mut_ptr(),
                (*dma).tso.as_mut_ptr(),
            )
        };
        let mut t = Transport::open(info)?;
        let features = t.negotiate_with(WANTED, WANTED | F_ANY_LAYOUT, consistent)?;
        // SAFETY: each ring is RING_BYTES of the static DMA area, page
        // aligned (repr align 4096, RING_BYTES a multiple of a page),
        // zeroed, and used by nothing else (TAKEN).
        let (mut rx, tx) = unsafe { (t.queue(0, rx_ring)?, t.queue(1, tx_ring)?) };
        let hdr_len = header_len(features, features & F_VERSION_1 != 0);
        let skew = buffer_skew(hdr_len);
        // SAFETY: skew < 8: `rx_tail` holds what the last buffer reaches
        // past `rx`; the rest stays inside `rx`.
        let rx_base = unsafe { rx_bufs.add(skew) };
        for i in 0..rx.size {
            let addr = rx_base as u64 + (i as usize * BUF_SIZE) as u64;
            rx.set_desc(i, addr, BUF_SIZE as u32, DESC_F_WRITE, 0);
            rx.push_avail(i);
        }
        let large = if features & F_HOST_TSO4 != 0 {
            TSO_BUFFERS.min(tx.size as usize / 2) as u16
        } else {
            0
        };
        // tx.size <= QUEUE_MAX = bedrock_virtio::MAX_QUEUE.
        let tx_slots = TxSlots::new(tx.size - large, large).ok_or(Error::QueueUnavailable(1))?;
        let mac = if features & F_MAC != 0 {
            t.read_config(|r| core::array::from_fn(|i| r.read8(R_CONFIG + i)))
        } else {
            [0x02, 0, 0, 0, 0, 0x01] // locally administered fallback
        };
        t.enable_interrupt(Line::Net);
        t.driver_ok();
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
            tx_slots,
            rx_base,
            bounce,
            bounce_lent: false,
            tx_bufs,
            tso_bufs,
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

    /// Whether the device may hand over TCP segments of many MSS merged
    /// over receive buffers (VIRTIO_NET_F_GUEST_TSO4 with MRG_RXBUF).
    pub fn merges_rx(&self) -> bool {
        self.features & F_GUEST_TSO4 != 0
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
        self.repost_all(&[(id, 0)]);
    }

    /// Offers the buffers of `pieces` to the device again, in order (the
    /// order keeps the buffers of a merged frame end to end), with one
    /// doorbell for them all if the device wants one.
    fn repost_all(&mut self, pieces: &[(u16, u32)]) {
        self.rx.push_avail_all(pieces.iter().map(|&(id, _)| id));
        if self.rx.device_wants_notify() {
            self.notify(self.rx.index);
        }
    }

    /// The next used receive buffer that holds a frame's start: (id,
    /// bytes written); entries that cannot are skipped (and re-posted).
    fn pop_rx(&mut self) -> Option<(u16, u32)> {
        loop {
            let (id, len) = self.rx.pop_used()?;
            if id >= self.rx.size as u32 {
                self.stats.rx_bad += 1; // not ours: nothing to re-post
                continue;
            }
            let id = id as u16;
            if len as usize >= self.hdr_len && len as usize <= BUF_SIZE {
                return Some((id, len));
            }
            self.stats.rx_bad += 1;
            self.repost_rx(id);
        }
    }

    /// The next received frame: the used entries it spans (one unless
    /// the device merged buffers, VIRTIO_NET_F_MRG_RXBUF) and how many.
    /// Frames that cannot be whole (a count past [`MAX_MERGED`], entries
    /// missing or impossible) are dropped and their buffers re-posted.
    fn pop_frame(&mut self) -> Option<([(u16, u32); MAX_MERGED], usize)> {
        loop {
            let (id, len) = self.pop_rx()?;
            let mut pieces = [(0u16, 0u32); MAX_MERGED];
            pieces[0] = (id, len);
            let wanted = if self.features & F_MRG_RXBUF != 0 {
                // SAFETY: buffer `id` is used (out of the avail ring) and
                // holds at least the header (pop_rx checked `len`).
                let start = unsafe { self.rx_buf(id, self.hdr_len) };
                NetHeader::read(start, self.hdr_len).map_or(1, |h| usize::from(h.num_buffers))
            } else {
                1
            };
            let mut got = 1;
            while got < wanted.min(MAX_MERGED) {
                match self.rx.pop_used() {
                    Some((id, len)) if id < self.rx.size as u32 => {
                        pieces[got] = (id as u16, len);
                        got += 1;
                    }
                    Some(_) => self.stats.rx_bad += 1,
                    None => break,
                }
            }
            let total: usize = pieces[..got].iter().map(|&(_, len)| len as usize).sum();
            let whole = (1..=MAX_MERGED).contains(&wanted) && got == wanted;
            let fits = pieces[1..got]
                .iter()
                .all(|&(_, len)| len as usize <= BUF_SIZE);
            if whole && fits && total - self.hdr_len <= MAX_RX_FRAME {
                return Some((pieces, got));
            }
            self.stats.rx_bad += 1;
            self.repost_all(&pieces[..got]);
        }
    }

    /// The first `len` bytes of receive buffer `id`.
    ///
    /// # Safety
    /// The device must have returned buffer `id` (it is out of the avail
    /// ring) and nothing may write to it while the slice lives; `id <
    /// rx.size` and `len <= BUF_SIZE`.
    unsafe fn rx_buf(&self, id: u16, len: usize) -> &[u8] {
        // SAFETY: buffer `id` lies inside `rx` and `rx_tail` (id < size <=
        // QUEUE_MAX, len <= BUF_SIZE), and the caller's contract.
        unsafe { core::slice::from_raw_parts(self.rx_base.add(usize::from(id) * BUF_SIZE), len) }
    }

    fn reclaim_tx(&mut self) {
        while let Some((id, _)) = self.tx.pop_used() {
            if !self.tx_slots.give_back(id) {
                self.stats.tx_bad += 1;
            }
        }
    }

    /// The buffer of transmit descriptor `id`, skew and all.
    ///
    /// # Safety
    /// `id` must be in flight (just taken from `tx_slots`): the device is
    /// done with its buffer and no other reference to it exists.
    unsafe fn tx_buf(&mut self, id: u16) -> &mut [u8] {
        if self.tx_slots.is_large(id) {
            let i = usize::from(id - self.tx_slots.first_large());
            // SAFETY: i < TSO_BUFFERS (the large ids), and the caller's
            // contract.
            unsafe { &mut *self.tso_bufs.add(i) }
        } else {
            // SAFETY: a small id is below tx.size <= QUEUE_MAX, and the
            // caller's contract.
            unsafe { &mut *self.tx_bufs.add(usize::from(id)) }
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
        let (pieces, n) = self.pop_frame()?;
        let pieces = &pieces[..n];
        let total: usize = pieces.iter().map(|&(_, len)| len as usize).sum();
        let (first, hdr_len) = (pieces[0].0, self.hdr_len);
        let size = self.rx.size;
        let in_place = contiguous(pieces, size, BUF_SIZE as u32);
        if !in_place && self.bounce_lent {
            // A receive from inside `f` while a pieced-together frame is
            // lent: the bounce buffer is taken, so this one is dropped.
            self.stats.rx_bad += 1;
            self.repost_all(pieces);
            return None;
        }
        // SAFETY: every buffer in `pieces` is used (out of the avail ring,
        // by pop_frame), so the device does not write to them until they
        // are re-posted below, after `f`. In one run of memory (one
        // buffer, or consecutive full ones: `contiguous`) the frame is
        // lent where it lies, `total` bytes from buffer `first` (inside
        // `rx` and `rx_tail`: ids below size, each piece at most
        // BUF_SIZE). Otherwise it is pieced together in `bounce`, which
        // the device never touches and no other slice borrows: a nested
        // receive leaves it alone while `bounce_lent` is set. The memory
        // is static, reached through raw pointers, not part of `*self`:
        // lending `self` to `f` beside it aliases nothing, and nothing `f`
        // can call writes to it (transmits use the transmit buffers, a
        // nested receive other used buffers).
        let frame: &[u8] = unsafe {
            if in_place {
                let all = self.rx_base.add(usize::from(first) * BUF_SIZE);
                core::slice::from_raw_parts(all, total)
            } else {
                let bounce = &mut *self.bounce;
                let mut at = 0;
                for &(id, len) in pieces {
                    let piece = self.rx_buf(id, len as usize);
                    bounce[at..at + piece.len()].copy_from_slice(piece);
                    at += piece.len();
                }
                self.stats.rx_bounced += 1;
                &bounce[..total]
            }
        };
        let checksum_ok =
            NetHeader::read(frame, hdr_len).is_some_and(|h| h.checksum_ok(self.features));
        self.stats.rx_frames += 1;
        if n > 1 {
            self.stats.rx_merged += 1;
        }
        let frame = &frame[hdr_len..];
        let info = RxInfo {
            len: frame.len(),
            checksum_ok,
        };
        self.bounce_lent = !in_place;
        let result = f(self, frame, info);
        self.bounce_lent = false;
        self.repost_all(pieces);
        Some(result)
    }

    fn transmit<R>(&mut self, len: usize, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        self.transmit_offloaded(len, TxOffload::default(), f)
    }

    fn tcp_segmentation(&self) -> Option<usize> {
        (self.tx_slots.first_large() < self.tx.size).then_some(MAX_TSO_FRAME)
    }

    fn transmit_offloaded<R>(
        &mut self,
        len: usize,
        offload: TxOffload,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        let large = offload.segment_payload.is_some();
        if len > if large { MAX_TSO_FRAME } else { MAX_FRAME } {
            return None;
        }
        let id = match self.tx_slots.take(large) {
            Some(id) => id,
            None => {
                self.reclaim_tx();
                let Some(id) = self.tx_slots.take(large) else {
                    self.stats.tx_full += 1;
                    return None;
                };
                id
            }
        };
        if large && !self.tx_slots.is_large(id) {
            return None; // cannot happen: take(true) gives large ids
        }
        let (hdr_len, features, skew) = (self.hdr_len, self.features, self.skew);
        // SAFETY: `id` was just taken from the free slots.
        let whole = unsafe { self.tx_buf(id) };
        let buf = &mut whole[skew..];
        let (hdr, frame) = buf.split_at_mut(hdr_len);
        let frame = &mut frame[..len];
        let r = f(frame);
        // The device completes the checksum and cuts the segments, or we
        // complete the checksum (no CSUM agreed; no segments asked then).
        let header = match (offload.segment_payload, offload.checksum) {
            (Some(mss), Some(at)) => NetHeader::for_segmentation(features, frame, at, mss),
            (_, checksum) => NetHeader::for_checksum(features, checksum),
        };
        if let (None, Some((start, offset))) = (header, offload.checksum) {
            checksum::complete_partial(frame, start, offset);
        }
        header.unwrap_or_default().write(hdr, hdr_len);
        let addr = buf.as_ptr() as u64;
        self.tx.set_desc(id, addr, (hdr_len + len) as u32, 0, 0);
        self.tx.push_avail(id);
        if self.tx.device_wants_notify() {
            self.notify(self.tx.index);
        }
        self.stats.tx_frames += 1;
        if large {
            self.stats.tx_tso_frames += 1;
        }
        // Return buffers of earlier sends while we are here.
        self.reclaim_tx();
        Some(r)
    }
}
