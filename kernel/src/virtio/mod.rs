//! virtio-mmio (modern version 2 and legacy version 1, VIRTIO 1.2 §4.2)
//! and the drivers on it: virtio-net ([`net`], which implements
//! `bedrock_net::device::Device`) and virtio-blk ([`blk`]). This file is
//! the transport both share: probing the slots, the reset and feature
//! negotiation sequence (§3.1.1), queue set-up, config-space reads and the
//! interrupt lines; [`queue`] is one split virtqueue in DMA memory.
//!
//! Interrupts: a device raises its SPI (INTID 48 + slot) for used
//! buffers; the IRQ handler only acknowledges it ([`ack_interrupt`]).
//! Drivers poll their used rings; interrupts only wake the CPU from WFI.

pub mod blk;
pub mod net;
mod queue;

pub use net::VirtioNet;

use crate::mmio::Regs;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use queue::Queue;

/// First virtio-mmio transport.
pub const MMIO_BASE: usize = 0x0a00_0000;
/// Distance between transports.
pub const MMIO_STRIDE: usize = 0x200;
/// Number of transports on QEMU virt.
pub const SLOTS: usize = 32;
/// INTID of slot 0; slot n uses `FIRST_INTID + n`.
pub const FIRST_INTID: u32 = 48;
/// Largest queue a driver uses (QEMU's virtio-net offers 256).
pub const QUEUE_MAX: usize = 256;

/// VIRTIO_F_VERSION_1: the modern interface.
pub const F_VERSION_1: u64 = 1 << 32;

const MAGIC: u32 = 0x7472_6976; // "virt"

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

const PAGE: usize = 4096;
/// Bytes of DMA memory one queue of up to [`QUEUE_MAX`] entries takes:
/// descriptors and avail ring in the first pages, the used ring from the
/// next page (the legacy layout, which modern devices accept too).
pub(crate) const RING_BYTES: usize = 4 * PAGE;

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

/// The first slot holding a device of type `device_id`.
fn find(device_id: u32) -> Option<SlotInfo> {
    let mut found = None;
    probe(|s| {
        if s.device_id == device_id && found.is_none() {
            found = Some(s);
        }
    });
    found
}

/// Why a device could not be brought up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// No device of the driver's type in any slot.
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

/// The interrupt lines in use, one per driver, and their transports.
#[derive(Clone, Copy)]
pub(crate) enum Line {
    Net = 0,
    Blk = 1,
}

static INTIDS: [AtomicU32; 2] = [const { AtomicU32::new(u32::MAX) }; 2];
static BASES: [AtomicUsize; 2] = [const { AtomicUsize::new(0) }; 2];

/// Acknowledges a virtio device's interrupt if `intid` is one of theirs
/// (IRQ handler).
pub fn ack_interrupt(intid: u32) -> bool {
    let Some(line) = INTIDS
        .iter()
        .position(|i| i.load(Ordering::Relaxed) == intid)
    else {
        return false;
    };
    let r = slot_regs((BASES[line].load(Ordering::Relaxed) - MMIO_BASE) / MMIO_STRIDE);
    let status = r.read(R_INTERRUPT_STATUS);
    r.write(R_INTERRUPT_ACK, status);
    true
}

/// One transport being driven: the slot's registers and its version.
pub(crate) struct Transport {
    regs: Regs,
    slot: usize,
    version: u32,
    status: u32,
}

impl Transport {
    /// Resets the device in `info`'s slot and says ACKNOWLEDGE, DRIVER.
    fn open(info: SlotInfo) -> Result<Transport, Error> {
        if !matches!(info.version, 1 | 2) {
            return Err(Error::UnsupportedVersion(info.version));
        }
        let regs = slot_regs(info.slot);
        // Reset, and wait for it to finish (modern devices may take time).
        regs.write(R_STATUS, 0);
        while regs.read(R_STATUS) != 0 {
            core::hint::spin_loop();
        }
        let status = S_ACKNOWLEDGE | S_DRIVER;
        regs.write(R_STATUS, S_ACKNOWLEDGE);
        regs.write(R_STATUS, status);
        Ok(Transport {
            regs,
            slot: info.slot,
            version: info.version,
            status,
        })
    }

    fn legacy(&self) -> bool {
        self.version == 1
    }

    /// Negotiates features (§3.1.1 steps 4-6): the offered ones among
    /// `modern` (VERSION_1 required) or `legacy`; returns what was agreed.
    fn negotiate(&mut self, modern: u64, legacy: u64) -> Result<u64, Error> {
        self.negotiate_with(modern, legacy, |f| f)
    }

    /// [`Transport::negotiate`], with `fix` dropping from the features
    /// offered and wanted those that cannot go without others missing.
    fn negotiate_with(
        &mut self,
        modern: u64,
        legacy: u64,
        fix: impl FnOnce(u64) -> u64,
    ) -> Result<u64, Error> {
        let r = self.regs;
        r.write(R_DEVICE_FEATURES_SEL, 0);
        let mut offered = r.read(R_DEVICE_FEATURES) as u64;
        r.write(R_DEVICE_FEATURES_SEL, 1);
        offered |= (r.read(R_DEVICE_FEATURES) as u64) << 32;
        if !self.legacy() && offered & F_VERSION_1 == 0 {
            return Err(self.fail(Error::NoVersion1));
        }
        let features = fix(offered
            & if self.legacy() {
                legacy
            } else {
                modern | F_VERSION_1
            });
        r.write(R_DRIVER_FEATURES_SEL, 0);
        r.write(R_DRIVER_FEATURES, features as u32);
        r.write(R_DRIVER_FEATURES_SEL, 1);
        r.write(R_DRIVER_FEATURES, (features >> 32) as u32);
        if self.legacy() {
            // Legacy devices have no FEATURES_OK step (virtio 1.2, 4.2.4).
            r.write(R_LEGACY_GUEST_PAGE_SIZE, PAGE as u32);
        } else {
            self.status |= S_FEATURES_OK;
            r.write(R_STATUS, self.status);
            if r.read(R_STATUS) & S_FEATURES_OK == 0 {
                return Err(self.fail(Error::FeaturesRejected));
            }
        }
        Ok(features)
    }

    /// Sets up queue `index` in `ring`, as large as both sides allow.
    ///
    /// # Safety
    /// `ring` must be page-aligned, [`RING_BYTES`] of zeroed memory the
    /// caller owns for as long as the device runs, used for nothing else.
    unsafe fn queue(&mut self, index: u32, ring: *mut u8) -> Result<Queue, Error> {
        let r = self.regs;
        r.write(R_QUEUE_SEL, index);
        let live = if self.legacy() {
            r.read(R_LEGACY_QUEUE_PFN)
        } else {
            r.read(R_QUEUE_READY)
        };
        let max = r.read(R_QUEUE_NUM_MAX) as usize;
        if max == 0 || live != 0 {
            return Err(self.fail(Error::QueueUnavailable(index)));
        }
        // A power of two no larger than the device's limit or ours.
        let size = 1u16 << (max.min(QUEUE_MAX).ilog2());
        r.write(R_QUEUE_NUM, size as u32);
        // SAFETY: the caller's contract on `ring`.
        let q = unsafe { Queue::new(index, size, ring) };
        if self.legacy() {
            r.write(R_LEGACY_QUEUE_ALIGN, PAGE as u32);
            r.write(R_LEGACY_QUEUE_PFN, (ring as usize / PAGE) as u32);
        } else {
            let (d, a, u) = q.addresses();
            r.write(R_QUEUE_DESC_LOW, d as u32);
            r.write(R_QUEUE_DESC_HIGH, (d >> 32) as u32);
            r.write(R_QUEUE_DRIVER_LOW, a as u32);
            r.write(R_QUEUE_DRIVER_HIGH, (a >> 32) as u32);
            r.write(R_QUEUE_DEVICE_LOW, u as u32);
            r.write(R_QUEUE_DEVICE_HIGH, (u >> 32) as u32);
            r.write(R_QUEUE_READY, 1);
        }
        Ok(q)
    }

    /// Reads config space with `f`, again until the generation is stable
    /// (§4.2.2: a device may change it under the reader).
    fn read_config<T>(&self, f: impl Fn(&Regs) -> T) -> T {
        loop {
            let before = if self.legacy() {
                0
            } else {
                self.regs.read(R_CONFIG_GENERATION)
            };
            let value = f(&self.regs);
            let after = if self.legacy() {
                0
            } else {
                self.regs.read(R_CONFIG_GENERATION)
            };
            if before == after {
                return value;
            }
        }
    }

    /// Routes the slot's interrupt to `line` and enables it at the GIC.
    fn enable_interrupt(&self, line: Line) {
        let intid = FIRST_INTID + self.slot as u32;
        BASES[line as usize].store(self.regs.base(), Ordering::Relaxed);
        INTIDS[line as usize].store(intid, Ordering::Relaxed);
        crate::gic::enable(intid);
    }

    /// DRIVER_OK: the device is live.
    fn driver_ok(&mut self) {
        self.status |= S_DRIVER_OK;
        self.regs.write(R_STATUS, self.status);
    }

    /// Rings queue `index`'s doorbell (ring writes complete first).
    fn notify(&self, index: u32) {
        crate::arch::dsb();
        self.regs.write(R_QUEUE_NOTIFY, index);
    }

    /// The device status register.
    fn status(&self) -> u32 {
        self.regs.read(R_STATUS)
    }

    /// Marks the device FAILED and returns `e`.
    fn fail(&self, e: Error) -> Error {
        self.regs.write(R_STATUS, S_FAILED);
        e
    }
}
