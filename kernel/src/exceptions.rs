//! Exception handling: IRQs go to the interrupt dispatcher; every other
//! exception is fatal and produces a readable report (exception class by
//! name, ESR, FAR, ELR, registers) on the UART, then QEMU exits with a
//! failure status. Tests can announce one expected BRK to check that the
//! vectors work without ending the run.

use crate::arch::{self, read_sysreg};
use crate::uart;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Exit status for a fatal exception or a panic (the test runner's pass
/// status is 33, so neither a crash nor a plain exit 0 can read as a pass).
pub const FAILURE_EXIT: u32 = 1;

/// The registers saved by the vector stubs in boot.rs (layout shared with
/// the assembly: x0-x30 at 8*n, ELR at 248, SPSR at 256).
#[repr(C)]
pub struct Frame {
    /// x0 to x30.
    pub x: [u64; 31],
    /// The return address (ELR_EL1).
    pub elr: u64,
    /// The saved program state (SPSR_EL1).
    pub spsr: u64,
    _pad: u64,
}

const KIND_NAMES: [&str; 16] = [
    "synchronous, current EL, SP_EL0",
    "IRQ, current EL, SP_EL0",
    "FIQ, current EL, SP_EL0",
    "SError, current EL, SP_EL0",
    "synchronous, current EL, SP_ELx",
    "IRQ, current EL, SP_ELx",
    "FIQ, current EL, SP_ELx",
    "SError, current EL, SP_ELx",
    "synchronous, lower EL, AArch64",
    "IRQ, lower EL, AArch64",
    "FIQ, lower EL, AArch64",
    "SError, lower EL, AArch64",
    "synchronous, lower EL, AArch32",
    "IRQ, lower EL, AArch32",
    "FIQ, lower EL, AArch32",
    "SError, lower EL, AArch32",
];

/// The name of an ESR_EL1 exception class (bits [31:26]).
pub fn exception_class_name(ec: u64) -> &'static str {
    match ec {
        0x00 => "unknown reason (e.g. an undefined instruction)",
        0x01 => "trapped WFI/WFE",
        0x07 => "SVE/SIMD/FP access trapped",
        0x0e => "illegal execution state",
        0x15 => "SVC from AArch64",
        0x16 => "HVC from AArch64",
        0x17 => "SMC from AArch64",
        0x18 => "trapped MSR/MRS/system instruction",
        0x20 => "instruction abort from a lower EL",
        0x21 => "instruction abort, same EL",
        0x22 => "PC alignment fault",
        0x24 => "data abort from a lower EL",
        0x25 => "data abort, same EL",
        0x26 => "SP alignment fault",
        0x2c => "trapped floating-point exception",
        0x2f => "SError interrupt",
        0x30 | 0x31 => "breakpoint",
        0x32 | 0x33 => "software step",
        0x34 | 0x35 => "watchpoint",
        0x3c => "BRK instruction",
        _ => "reserved or unhandled class",
    }
}

fn fault_status_name(dfsc: u64) -> &'static str {
    match dfsc & 0x3f {
        0x00..=0x03 => "address size fault",
        0x04..=0x07 => "translation fault",
        0x09..=0x0b => "access flag fault",
        0x0d..=0x0f => "permission fault",
        0x10 => "synchronous external abort",
        0x21 => "alignment fault",
        0x30 => "TLB conflict abort",
        _ => "other fault",
    }
}

/// Exception class of a BRK instruction.
const EC_BRK: u64 = 0x3c;
/// Exception class "unknown reason": what an HLT becomes when QEMU runs
/// without semihosting.
pub const EC_UNKNOWN: u64 = 0x00;
/// No trap expected (not a valid exception class).
const EXPECT_NONE: u64 = u64::MAX;

static EXPECT_CLASS: AtomicU64 = AtomicU64::new(EXPECT_NONE);
static LAST_TRAP_ESR: AtomicU64 = AtomicU64::new(0);
static IN_FATAL: AtomicBool = AtomicBool::new(false);

/// Announces that the next synchronous exception may be one of class
/// `ec` from a one-instruction probe: it is recorded and skipped instead
/// of being fatal.
pub fn expect_trap(ec: u64) {
    LAST_TRAP_ESR.store(0, Ordering::SeqCst);
    EXPECT_CLASS.store(ec, Ordering::SeqCst);
}

/// Ends the window opened by `expect_trap`; returns the ESR_EL1 of the
/// trap if it was taken, `None` if the probed instruction ran normally.
pub fn end_expected_trap() -> Option<u64> {
    EXPECT_CLASS.store(EXPECT_NONE, Ordering::SeqCst);
    match LAST_TRAP_ESR.swap(0, Ordering::SeqCst) {
        0 => None,
        esr => Some(esr),
    }
}

/// Announces that the next exception is an expected BRK (a test of the
/// vector table).
pub fn expect_brk() {
    expect_trap(EC_BRK);
}

/// Called by the vector stubs with the vector index and the saved frame.
#[no_mangle]
extern "C" fn exception_dispatch(kind: u64, frame: &mut Frame) {
    if kind == 5 {
        crate::irq::handle();
        return;
    }
    let esr = read_sysreg!("ESR_EL1");
    let ec = (esr >> 26) & 0x3f;
    if kind == 4
        && EXPECT_CLASS
            .compare_exchange(ec, EXPECT_NONE, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    {
        LAST_TRAP_ESR.store(esr, Ordering::SeqCst);
        frame.elr += 4;
        return;
    }
    fatal(kind, esr, frame)
}

fn fatal(kind: u64, esr: u64, frame: &Frame) -> ! {
    if IN_FATAL.swap(true, Ordering::SeqCst) {
        // An exception while reporting one (e.g. no -semihosting): stop.
        arch::park();
    }
    crate::console::flush();
    let far = read_sysreg!("FAR_EL1");
    let ec = (esr >> 26) & 0x3f;
    let mut w = uart::Writer;
    let _ = writeln!(
        w,
        "\n*** FATAL EXCEPTION: {}",
        KIND_NAMES[(kind & 15) as usize]
    );
    let _ = writeln!(
        w,
        "    class  0x{ec:02x} = {} (ESR_EL1 0x{esr:08x}, ISS 0x{:07x})",
        exception_class_name(ec),
        esr & 0x1ff_ffff
    );
    if matches!(ec, 0x20 | 0x21 | 0x24 | 0x25) {
        let wnr = if ec >= 0x24 && esr & (1 << 6) != 0 {
            "write"
        } else {
            "read"
        };
        let _ = writeln!(
            w,
            "    fault  {} at level {} on {wnr}",
            fault_status_name(esr),
            esr & 3
        );
    }
    let _ = writeln!(w, "    FAR    0x{far:016x}  (faulting address)");
    let _ = writeln!(w, "    ELR    0x{:016x}  (faulting instruction)", frame.elr);
    let _ = writeln!(w, "    SPSR   0x{:016x}", frame.spsr);
    for (i, pair) in frame.x.chunks(2).enumerate() {
        let _ = write!(w, "    x{:<2} 0x{:016x}", 2 * i, pair[0]);
        if let Some(x) = pair.get(1) {
            let _ = write!(w, "  x{:<2} 0x{:016x}", 2 * i + 1, x);
        }
        let _ = writeln!(w);
    }
    let _ = writeln!(w, "*** stopping QEMU with exit status {FAILURE_EXIT}");
    arch::semihosting_exit(FAILURE_EXIT)
}

/// The panic report: message and location, then exit with failure.
pub fn panic_report(info: &core::panic::PanicInfo) -> ! {
    arch::mask_irq();
    if IN_FATAL.swap(true, Ordering::SeqCst) {
        arch::park();
    }
    crate::console::flush();
    let mut w = uart::Writer;
    let _ = writeln!(w, "\n*** PANIC: {}", info.message());
    if let Some(loc) = info.location() {
        let _ = writeln!(w, "    at {}:{}:{}", loc.file(), loc.line(), loc.column());
    }
    let _ = writeln!(w, "*** stopping QEMU with exit status {FAILURE_EXIT}");
    arch::semihosting_exit(FAILURE_EXIT)
}
