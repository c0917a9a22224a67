//! Stage-1 translation for EL1: an identity map with 4 KiB granule, 39-bit
//! addresses, 2 MiB blocks. RAM (0x4000_0000, [`RAM_SIZE`]) is normal
//! write-back cacheable memory; the MMIO window (GIC, UART, RTC, fw_cfg,
//! GPIO, virtio-mmio: 0x0800_0000..0x0a20_0000) is Device-nGnRE and never
//! executable. Everything else is unmapped, so a null or wild pointer
//! faults with a translation fault instead of reading flash.

use crate::arch::{dsb, isb, read_sysreg, write_sysreg};
use core::cell::UnsafeCell;

/// RAM the image runs in (QEMU's `-m 128M`, set by every command line).
pub const RAM_BASE: usize = 0x4000_0000;
/// Mapped RAM size; more RAM given to QEMU is left unmapped.
pub const RAM_SIZE: usize = 128 << 20;
/// Start of the device window.
pub const MMIO_BASE: usize = 0x0800_0000;
/// End (exclusive) of the device window.
pub const MMIO_END: usize = 0x0a20_0000;

/// MAIR index 0: Device-nGnRE.
pub const ATTR_DEVICE: u64 = 0x04;
/// MAIR index 1: Normal, inner and outer write-back read/write-allocate.
pub const ATTR_NORMAL: u64 = 0xff;

const BLOCK_2M: usize = 2 << 20;
const DESC_TABLE: u64 = 0b11;
const DESC_BLOCK: u64 = 0b01;
const ATTR_INDEX_DEVICE: u64 = 0 << 2;
const ATTR_INDEX_NORMAL: u64 = 1 << 2;
const SH_INNER: u64 = 0b11 << 8;
const AF: u64 = 1 << 10;
const PXN: u64 = 1 << 53;
const UXN: u64 = 1 << 54;

#[repr(C, align(4096))]
struct Table(UnsafeCell<[u64; 512]>);

// SAFETY: the tables are written once, by `init` on the boot core before
// the MMU uses them, and only read by the hardware walker afterwards.
unsafe impl Sync for Table {}

static L1: Table = Table(UnsafeCell::new([0; 512]));
static L2_LOW: Table = Table(UnsafeCell::new([0; 512])); // 0..1 GiB
static L2_RAM: Table = Table(UnsafeCell::new([0; 512])); // 1..2 GiB

/// Builds the tables and turns on the MMU and both caches. Must run once,
/// early, on the boot core with the MMU off.
pub fn init() {
    // SAFETY: called once at boot with the MMU off and nothing else
    // touching the tables, so these exclusive references are unique.
    let (l1, low, ram) = unsafe { (&mut *L1.0.get(), &mut *L2_LOW.0.get(), &mut *L2_RAM.0.get()) };
    for addr in (MMIO_BASE..MMIO_END).step_by(BLOCK_2M) {
        low[addr / BLOCK_2M] = addr as u64 | DESC_BLOCK | ATTR_INDEX_DEVICE | AF | PXN | UXN;
    }
    for addr in (RAM_BASE..RAM_BASE + RAM_SIZE).step_by(BLOCK_2M) {
        ram[(addr - RAM_BASE) / BLOCK_2M] =
            addr as u64 | DESC_BLOCK | ATTR_INDEX_NORMAL | SH_INNER | AF | UXN;
    }
    l1[0] = L2_LOW.0.get() as u64 | DESC_TABLE;
    l1[1] = L2_RAM.0.get() as u64 | DESC_TABLE;
    dsb();

    write_sysreg!("MAIR_EL1", ATTR_DEVICE | (ATTR_NORMAL << 8));
    // T0SZ = 25 (39-bit VA, walks start at level 1), IRGN0/ORGN0 = WB WA,
    // SH0 = inner shareable, TG0 = 4 KiB, EPD1 = no TTBR1 walks,
    // IPS = 40-bit physical addresses.
    let tcr: u64 = 25 | (0b01 << 8) | (0b01 << 10) | (0b11 << 12) | (1 << 23) | (0b010 << 32);
    write_sysreg!("TCR_EL1", tcr);
    write_sysreg!("TTBR0_EL1", L1.0.get() as u64);
    isb();
    // SAFETY: invalidating the EL1 TLBs only drops cached translations.
    unsafe { core::arch::asm!("tlbi vmalle1", "dsb ish", "isb", options(nostack)) };

    // SCTLR_EL1: M (MMU), C (data cache), I (instruction cache); clear A
    // (alignment checks) and WXN. The identity map keeps the PC and every
    // pointer valid across the switch.
    let sctlr = read_sysreg!("SCTLR_EL1");
    let sctlr = (sctlr | 1 | (1 << 2) | (1 << 12)) & !((1 << 1) | (1 << 19));
    write_sysreg!("SCTLR_EL1", sctlr);
    isb();
}

/// Whether the MMU is on.
pub fn enabled() -> bool {
    read_sysreg!("SCTLR_EL1") & 1 != 0
}

/// Whether the data and instruction caches are on (SCTLR_EL1.C and .I).
pub fn caches_enabled() -> bool {
    let sctlr = read_sysreg!("SCTLR_EL1");
    sctlr & (1 << 2) != 0 && sctlr & (1 << 12) != 0
}

/// Drops every cached translation (the tables are unchanged). Under QEMU's
/// TCG this is also when the emulated TLB is resized to what the guest
/// used since the last flush: a kernel that never flushes keeps the small
/// default size however many pages it touches.
pub fn flush_tlb() {
    // SAFETY: invalidating the EL1 TLBs only drops cached translations.
    unsafe {
        core::arch::asm!(
            "dsb ish",
            "tlbi vmalle1",
            "dsb ish",
            "isb",
            options(nostack)
        )
    };
}
