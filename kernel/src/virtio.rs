//! virtio-mmio transport (modern version 2 and legacy version 1) and the
//! virtio-net driver, which implements `bedrock_net::device::Device`.
//!
//! Memory: two split virtqueues (receive 0, transmit 1) of up to
//! [`QUEUE_MAX`] entries, each with its own 2 KiB buffers, all in one
//! static DMA area (identity-mapped normal memory; QEMU's virtio is cache
//! coherent). Receive buffers stay posted; a received frame is lent to the
//! caller and its buffer re-posted. Transmit buffers are taken from a free
//! list and returned when the device reports them used.
//!
//! Interrupts: the device raises its SPI (INTID 48 + slot) for used
//! buffers on either queue; the IRQ handler only acknowledges it
//! ([`ack_interrupt`]). While the main loop is busy it suppresses them
//! (VIRTQ_AVAIL_F_NO_INTERRUPT) and re-enables them before sleeping, then
//! re-checks the used rings so a buffer used in between is not missed.

use crate::arch::{dmb, dsb};
use crate::mmio::Regs;
use bedrock_net::device::{Capabilities, Device};
use core::cell::UnsafeCell;
use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

/// First virtio-mmio transport.
pub const MMIO_BASE: usize = 0x0a00_0000;
/// Distance between transports.
pub const MMIO_STRIDE: usize = 0x200;
/// Number of transports on QEMU virt.
pub const SLOTS: usize = 32;
/// INTID of slot 0; slot n uses `FIRST_INTID + n`.
pub const FIRST_INTID: u32 = 48;
/// Largest queue this driver uses (QEMU's virtio-net offers 256).
pub const QUEUE_MAX: usize = 256;
/// Size of each buffer: a 12-byte header plus a 1514-byte frame fit.
pub const BUF_SIZE: usize = 2048;
/// Largest Ethernet frame without FCS (1500-byte MTU).
pub const MAX_FRAME: usize = 1514;

const MAGIC: u32 = 0x7472_6976; // "virt"
const DEVICE_NET: u32 = 1;

// Register offsets (virtio 1.2, 4.2.2; legacy-only ones from 4.2.4).
const R_MAGIC: usize = 0x000;
const R_VERSION: usize = 0x004;
const R_DEVICE_ID: usize = 0x008;
const R_VENDOR_ID: usize = 0x00c;
const R_DEVICE_FEATURES: usize = 0x010;
const R_DEVICE_FEATURES_SEL: usize = 0x014;
const R_DRIVER_FEATURES: usize = 0x020;
const R_DRIVER_FEATURES_SEL: usize = 0x024;
const R_LEGACY_GUEST_PAGE_SIZE: usize = 0x028;
const R_QUEUE_SEL: usize = 0x030;
const R_QUEUE_NUM_MAX: usize = 0x034;
const R_QUEUE_NUM: usize = 0x038;
const R_LEGACY_QUEUE_ALIGN: usize = 0x03c;
const R_LEGACY_QUEUE_PFN: usize = 0x040;
const R_QUEUE_READY: usize = 0x044;
const R_QUEUE_NOTIFY: usize = 0x050;
const R_INTERRUPT_STATUS: usize = 0x060;
const R_INTERRUPT_ACK: usize = 0x064;
const R_STATUS: usize = 0x070;
const R_QUEUE_DESC_LOW: usize = 0x080;
const R_QUEUE_DESC_HIGH: usize = 0x084;
const R_QUEUE_DRIVER_LOW: usize = 0x090;
const R_QUEUE_DRIVER_HIGH: usize = 0x094;
const R_QUEUE_DEVICE_LOW: usize = 0x0a0;
const R_QUEUE_DEVICE_HIGH: usize = 0x0a4;
const R_CONFIG_GENERATION: usize = 0x0fc;
const R_CONFIG: usize = 0x100;

const S_ACKNOWLEDGE: u32 = 1;
const S_DRIVER: u32 = 2;
const S_DRIVER_OK: u32 = 4;
const S_FEATURES_OK: u32 = 8;
const S_FAILED: u32 = 128;

/// VIRTIO_NET_F_MAC: the MAC address is in config space.
pub const F_MAC: u64 = 1 << 5;
/// VIRTIO_F_ANY_LAYOUT (legacy): header and data may share a descriptor.
pub const F_ANY_LAYOUT: u64 = 1 << 27;
/// VIRTIO_F_VERSION_1: the modern interface (12-byte net header).
pub const F_VERSION_1: u64 = 1 << 32;

const DESC_F_WRITE: u16 = 2;
const AVAIL_F_NO_INTERRUPT: u16 = 1;
const USED_F_NO_NOTIFY: u16 = 1;

const PAGE: usize = 4096;
/// Bytes reserved per ring: descriptors, avail ring, then the used ring at
/// the next page (the legacy layout, which modern devices accept too).
const RING_BYTES: usize = 4 * PAGE;

/// What a probe of one slot found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotInfo {
    /// Slot number (0..32).
    pub slot: usize,
    /// Transport version: 1 legacy, 2 modern.
    pub version: u32,
    /// virtio device id (1 = net, 2 = block, ...).
    pub device_id: u32,
    /// Vendor id ("QEMU" = 0x554d4551).
    pub vendor_id: u32,
}

fn slot_regs(slot: usize) -> Regs {
    // SAFETY: slots 0..32 are the virtio-mmio transports of QEMU virt,
    // inside the device window that mmu.rs maps.
    unsafe { Regs::new(MMIO_BASE + slot * MMIO_STRIDE) }
}

/// Reads the identification registers of every slot and calls `f` for each
/// one that holds a device (magic right, device id non-zero).
pub fn probe(mut f: impl FnMut(SlotInfo)) {
    for slot in 0..SLOTS {
        let r = slot_regs(slot);
        if r.read(R_MAGIC) != MAGIC {
            continue;
        }
        let device_id = r.read(R_DEVICE_ID);
        if device_id == 0 {
            continue;
        }
        f(SlotInfo {
            slot,
            version: r.read(R_VERSION),
            device_id,
            vendor_id: r.read(R_VENDOR_ID),
        });
    }
}

/// Why the NIC could not be brought up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// No virtio-net device in any slot.
    NoDevice,
    /// The transport version is neither 1 nor 2.
    UnsupportedVersion(u32),
    /// A modern device that does not offer VIRTIO_F_VERSION_1.
    NoVersion1,
    /// FEATURES_OK did not stick after writing it.
    FeaturesRejected,
    /// A queue is missing (QueueNumMax 0) or already live.
    QueueUnavailable(u32),
    /// The driver was already initialised (it owns static DMA memory).
    AlreadyTaken,
}

// The interrupt the NIC uses, and its registers, for `ack_interrupt`.
static NET_INTID: AtomicU32 = AtomicU32::new(u32::MAX);
static NET_BASE: AtomicUsize = AtomicUsize::new(0);
static TAKEN: AtomicBool = AtomicBool::new(false);

/// Acknowledges the NIC's interrupt if `intid` is its line (IRQ handler).
pub fn ack_interrupt(intid: u32) -> bool {
    if intid != NET_INTID.load(Ordering::Relaxed) {
        return false;
    }
    let r = slot_regs((NET_BASE.load(Ordering::Relaxed) - MMIO_BASE) / MMIO_STRIDE);
    let status = r.read(R_INTERRUPT_STATUS);
    r.write(R_INTERRUPT_ACK, status);
    true
}

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

/// One split virtqueue in DMA memory: raw pointers, because the device
/// writes the used ring behind the compiler's back (all accesses volatile).
struct Queue {
    index: u32,
    size: u16,
    desc: *mut u8,
    avail: *mut u8,
    used: *mut u8,
    avail_idx: u16,
    last_used: u16,
}

impl Queue {
    /// Lays a queue of `size` entries out in `ring` (zeroed).
    fn new(index: u32, size: u16, ring: *mut u8) -> Queue {
        let n = size as usize;
        let avail_off = 16 * n;
        let used_off = (avail_off + 6 + 2 * n).div_ceil(PAGE) * PAGE;
        debug_assert!(used_off + 6 + 8 * n <= RING_BYTES);
        Queue {
            index,
            size,
            desc: ring,
            // SAFETY: both offsets stay inside the RING_BYTES of `ring`.
            avail: unsafe { ring.add(avail_off) },
            // SAFETY: as above (checked by the debug assertion).
            used: unsafe { ring.add(used_off) },
            avail_idx: 0,
            last_used: 0,
        }
    }

    fn set_desc(&mut self, i: u16, addr: u64, len: u32, flags: u16) {
        // SAFETY: i < size, so the 16-byte descriptor lies in the table;
        // the device reads it only after it is published in the avail ring.
        unsafe {
            let d = self.desc.add(16 * i as usize);
            write_volatile(d as *mut u64, addr);
            write_volatile(d.add(8) as *mut u32, len);
            write_volatile(d.add(12) as *mut u16, flags);
            write_volatile(d.add(14) as *mut u16, 0);
        }
    }

    /// Offers descriptor `id` to the device (not yet notified).
    fn push_avail(&mut self, id: u16) {
        let slot = (self.avail_idx % self.size) as usize;
        // SAFETY: slot < size: the entry lies in the avail ring.
        unsafe { write_volatile(self.avail.add(4 + 2 * slot) as *mut u16, id) };
        self.avail_idx = self.avail_idx.wrapping_add(1);
        // The descriptor and ring entry must be visible before the index.
        dmb();
        // SAFETY: avail.idx at offset 2 of the avail ring.
        unsafe { write_volatile(self.avail.add(2) as *mut u16, self.avail_idx) };
    }

    fn set_interrupts(&mut self, on: bool) {
        let flags = if on { 0 } else { AVAIL_F_NO_INTERRUPT };
        // SAFETY: avail.flags at offset 0 of the avail ring.
        unsafe { write_volatile(self.avail as *mut u16, flags) };
    }

    fn used_idx(&self) -> u16 {
        // SAFETY: used.idx at offset 2 of the used ring, written by the device.
        unsafe { read_volatile(self.used.add(2) as *const u16) }
    }

    fn has_used(&self) -> bool {
        self.used_idx() != self.last_used
    }

    /// Takes the next used element: (descriptor id, bytes written), both
    /// as the device wrote them (callers check the id against the size).
    fn pop_used(&mut self) -> Option<(u32, u32)> {
        if !self.has_used() {
            return None;
        }
        // Read the element only after seeing the index that covers it.
        dmb();
        let slot = (self.last_used % self.size) as usize;
        // SAFETY: slot < size: the 8-byte element lies in the used ring.
        let (id, len) = unsafe {
            let e = self.used.add(4 + 8 * slot);
            (
                read_volatile(e as *const u32),
                read_volatile(e.add(4) as *const u32),
            )
        };
        self.last_used = self.last_used.wrapping_add(1);
        Some((id, len))
    }

    fn device_wants_notify(&self) -> bool {
        dmb();
        // SAFETY: used.flags at offset 0 of the used ring.
        unsafe { read_volatile(self.used as *const u16) & USED_F_NO_NOTIFY == 0 }
    }
}

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
    regs: Regs,
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
        let mut found = None;
        probe(|s| {
            if s.device_id == DEVICE_NET && found.is_none() {
                found = Some(s);
            }
        });
        let info = found.ok_or(Error::NoDevice)?;
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
        let regs = slot_regs(info.slot);
        let legacy = match info.version {
            1 => true,
            2 => false,
            v => return Err(Error::UnsupportedVersion(v)),
        };

        // Reset, and wait for it to finish (modern devices may take time).
        regs.write(R_STATUS, 0);
        while regs.read(R_STATUS) != 0 {
            core::hint::spin_loop();
        }
        regs.write(R_STATUS, S_ACKNOWLEDGE);
        regs.write(R_STATUS, S_ACKNOWLEDGE | S_DRIVER);

        regs.write(R_DEVICE_FEATURES_SEL, 0);
        let mut offered = regs.read(R_DEVICE_FEATURES) as u64;
        regs.write(R_DEVICE_FEATURES_SEL, 1);
        offered |= (regs.read(R_DEVICE_FEATURES) as u64) << 32;
        let wanted = if legacy {
            F_MAC | F_ANY_LAYOUT
        } else {
            if offered & F_VERSION_1 == 0 {
                regs.write(R_STATUS, S_FAILED);
                return Err(Error::NoVersion1);
            }
            F_MAC | F_VERSION_1
        };
        let features = offered & wanted;
        regs.write(R_DRIVER_FEATURES_SEL, 0);
        regs.write(R_DRIVER_FEATURES, features as u32);
        regs.write(R_DRIVER_FEATURES_SEL, 1);
        regs.write(R_DRIVER_FEATURES, (features >> 32) as u32);
        let mut status = S_ACKNOWLEDGE | S_DRIVER;
        if !legacy {
            // Legacy devices have no FEATURES_OK step (virtio 1.2, 4.2.4).
            status |= S_FEATURES_OK;
            regs.write(R_STATUS, status);
            if regs.read(R_STATUS) & S_FEATURES_OK == 0 {
                regs.write(R_STATUS, S_FAILED);
                return Err(Error::FeaturesRejected);
            }
        } else {
            regs.write(R_LEGACY_GUEST_PAGE_SIZE, PAGE as u32);
        }

        let mut queues =
            [(0u32, rx_ring), (1u32, tx_ring)].map(|(index, ring)| (index, ring, 0u16));
        for q in queues.iter_mut() {
            regs.write(R_QUEUE_SEL, q.0);
            let ready = if legacy {
                regs.read(R_LEGACY_QUEUE_PFN)
            } else {
                regs.read(R_QUEUE_READY)
            };
            let max = regs.read(R_QUEUE_NUM_MAX) as usize;
            if max == 0 || ready != 0 {
                regs.write(R_STATUS, S_FAILED);
                return Err(Error::QueueUnavailable(q.0));
            }
            // A power of two no larger than the device's limit or ours.
            let size = 1u16 << (max.min(QUEUE_MAX).ilog2());
            q.2 = size;
            regs.write(R_QUEUE_NUM, size as u32);
            let base = q.1 as usize;
            let probe_q = Queue::new(q.0, size, q.1);
            if legacy {
                regs.write(R_LEGACY_QUEUE_ALIGN, PAGE as u32);
                regs.write(R_LEGACY_QUEUE_PFN, (base / PAGE) as u32);
            } else {
                let (d, a, u) = (
                    probe_q.desc as u64,
                    probe_q.avail as u64,
                    probe_q.used as u64,
                );
                regs.write(R_QUEUE_DESC_LOW, d as u32);
                regs.write(R_QUEUE_DESC_HIGH, (d >> 32) as u32);
                regs.write(R_QUEUE_DRIVER_LOW, a as u32);
                regs.write(R_QUEUE_DRIVER_HIGH, (a >> 32) as u32);
                regs.write(R_QUEUE_DEVICE_LOW, u as u32);
                regs.write(R_QUEUE_DEVICE_HIGH, (u >> 32) as u32);
                regs.write(R_QUEUE_READY, 1);
            }
        }

        let mut rx = Queue::new(0, queues[0].2, rx_ring);
        let tx = Queue::new(1, queues[1].2, tx_ring);
        for i in 0..rx.size {
            // SAFETY: i < size <= QUEUE_MAX: inside the receive buffers.
            let addr = unsafe { rx_bufs.add(i as usize) } as u64;
            rx.set_desc(i, addr, BUF_SIZE as u32, DESC_F_WRITE);
            rx.push_avail(i);
        }
        let mut tx_free = [0u16; QUEUE_MAX];
        for (i, slot) in tx_free.iter_mut().enumerate().take(tx.size as usize) {
            *slot = i as u16;
        }

        let mac = if features & F_MAC != 0 {
            read_mac(&regs, legacy)
        } else {
            [0x02, 0, 0, 0, 0, 0x01] // locally administered fallback
        };

        NET_BASE.store(regs.base(), Ordering::Relaxed);
        NET_INTID.store(FIRST_INTID + info.slot as u32, Ordering::Relaxed);
        crate::gic::enable(FIRST_INTID + info.slot as u32);

        status |= S_DRIVER_OK;
        regs.write(R_STATUS, status);
        let tx_free_len = tx.size as usize;
        let mut nic = VirtioNet {
            regs,
            slot: info.slot,
            version: info.version,
            features,
            hdr_len: if features & F_VERSION_1 != 0 { 12 } else { 10 },
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
        // Ring entries and indices complete before the doorbell.
        dsb();
        self.regs.write(R_QUEUE_NOTIFY, queue);
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
        self.regs.read(R_STATUS)
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

fn read_mac(regs: &Regs, legacy: bool) -> [u8; 6] {
    loop {
        let before = if legacy {
            0
        } else {
            regs.read(R_CONFIG_GENERATION)
        };
        let mut mac = [0u8; 6];
        for (i, b) in mac.iter_mut().enumerate() {
            *b = regs.read8(R_CONFIG + i);
        }
        let after = if legacy {
            0
        } else {
            regs.read(R_CONFIG_GENERATION)
        };
        if before == after {
            return mac;
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
        self.tx.set_desc(id, addr, (hdr + len) as u32, 0);
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
