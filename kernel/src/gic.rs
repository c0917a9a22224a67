//! The GICv2 of QEMU virt: distributor at 0x0800_0000, CPU interface at
//! 0x0801_0000. One core, all interrupts in group 0 signalled as IRQ.

use crate::mmio::Regs;

// SAFETY: the GICv2 distributor and CPU interface of QEMU virt.
const GICD: Regs = unsafe { Regs::new(0x0800_0000) };
// SAFETY: as above.
const GICC: Regs = unsafe { Regs::new(0x0801_0000) };

const GICD_CTLR: usize = 0x000;
const GICD_TYPER: usize = 0x004;
const GICD_ISENABLER: usize = 0x100;
const GICD_ICENABLER: usize = 0x180;
const GICD_ICPENDR: usize = 0x280;
const GICD_IPRIORITYR: usize = 0x400;
const GICD_ITARGETSR: usize = 0x800;
const GICD_ICFGR: usize = 0xc00;

const GICC_CTLR: usize = 0x000;
const GICC_PMR: usize = 0x004;
const GICC_BPR: usize = 0x008;
const GICC_IAR: usize = 0x00c;
const GICC_EOIR: usize = 0x010;

/// INTIDs at or above this value from IAR mean "nothing pending".
pub const SPURIOUS: u32 = 1020;

/// Disables and clears every interrupt, then turns the distributor and the
/// CPU interface on with a priority mask that lets everything through.
pub fn init() {
    let lines = ((GICD.read(GICD_TYPER) & 0x1f) + 1) * 32;
    GICD.write(GICD_CTLR, 0);
    for i in 0..(lines as usize / 32) {
        GICD.write(GICD_ICENABLER + 4 * i, 0xffff_ffff);
        GICD.write(GICD_ICPENDR + 4 * i, 0xffff_ffff);
    }
    for i in 0..(lines as usize / 4) {
        GICD.write(GICD_IPRIORITYR + 4 * i, 0xa0a0_a0a0);
        if i >= 8 {
            // SPIs go to CPU 0 (SGI/PPI target registers are read-only).
            GICD.write(GICD_ITARGETSR + 4 * i, 0x0101_0101);
        }
    }
    // SPIs level-triggered (the reset value, set explicitly).
    for i in 2..(lines as usize / 16) {
        GICD.write(GICD_ICFGR + 4 * i, 0);
    }
    GICD.write(GICD_CTLR, 1);
    GICC.write(GICC_PMR, 0xf0);
    GICC.write(GICC_BPR, 0);
    GICC.write(GICC_CTLR, 1);
}

/// Lets interrupt `intid` through the distributor.
pub fn enable(intid: u32) {
    let (reg, bit) = ((intid / 32) as usize, intid % 32);
    GICD.write(GICD_ISENABLER + 4 * reg, 1 << bit);
}

/// Acknowledges the highest-priority pending interrupt and returns its
/// INTID (>= [`SPURIOUS`] when none).
pub fn acknowledge() -> u32 {
    GICC.read(GICC_IAR) & 0x3ff
}

/// Signals the end of handling `intid`.
pub fn end_of_interrupt(intid: u32) {
    GICC.write(GICC_EOIR, intid);
}
