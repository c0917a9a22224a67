//! Thin wrappers over the AArch64 instructions the kernel needs: system
//! registers, barriers, waiting for interrupts, and the semihosting exit.
//! Every `asm!` of the kernel outside boot.S-like entry code lives here.

use core::arch::asm;

/// Reads a system register by name, e.g. `sysreg!(read "CNTVCT_EL0")`.
macro_rules! read_sysreg {
    ($name:literal) => {{
        let v: u64;
        // SAFETY: reading this system register has no side effect on memory.
        unsafe { core::arch::asm!(concat!("mrs {}, ", $name), out(reg) v, options(nomem, nostack, preserves_flags)) };
        v
    }};
}
pub(crate) use read_sysreg;

/// Writes a system register by name; the caller's module documents why the
/// value is valid.
macro_rules! write_sysreg {
    ($name:literal, $v:expr) => {{
        let v: u64 = $v;
        // SAFETY: the registers written through this macro (timer, VBAR,
        // MMU set-up) are each written with values checked at the call site;
        // none of them changes how Rust code in flight addresses memory
        // except SCTLR/TTBR/TCR/MAIR, which mmu.rs writes under an identity map.
        unsafe { core::arch::asm!(concat!("msr ", $name, ", {}"), in(reg) v, options(nostack, preserves_flags)) };
    }};
}
pub(crate) use write_sysreg;

/// Instruction synchronisation barrier.
#[inline(always)]
pub fn isb() {
    // SAFETY: a barrier only orders execution.
    unsafe { asm!("isb", options(nostack, preserves_flags)) };
}

/// Full-system data memory barrier: orders normal-memory accesses (DMA
/// rings) against each other and against device accesses.
#[inline(always)]
pub fn dmb() {
    // SAFETY: a barrier only orders memory accesses.
    unsafe { asm!("dmb sy", options(nostack, preserves_flags)) };
}

/// Full-system data synchronisation barrier: completes every earlier access
/// before any later one (used before a doorbell write to a device).
#[inline(always)]
pub fn dsb() {
    // SAFETY: a barrier only orders memory accesses.
    unsafe { asm!("dsb sy", options(nostack, preserves_flags)) };
}

/// Masks IRQs (PSTATE.I = 1). The kernel runs with IRQs masked and opens
/// them only inside [`wait_for_interrupt`].
#[inline(always)]
pub fn mask_irq() {
    // SAFETY: changing the IRQ mask does not touch memory.
    unsafe { asm!("msr daifset, #2", options(nostack, preserves_flags)) };
}

/// Sleeps until an interrupt is pending, then lets the IRQ handler run and
/// masks IRQs again.
///
/// WFI wakes on a pending interrupt even while PSTATE.I masks it, so a
/// caller that checked for work with IRQs masked cannot miss a wake-up
/// between that check and the WFI. The handler then runs only in the short
/// window between `daifclr` and `daifset`, a known point where the compiler
/// has been told (by `clobber_abi("C")`) that every caller-saved register,
/// including the SIMD ones the handler may use, is clobbered.
#[inline(always)]
pub fn wait_for_interrupt() {
    // SAFETY: WFI and the IRQ mask do not touch Rust-visible memory; the
    // handler that runs in the window preserves callee-saved registers (it
    // is an extern "C" function) and the clobber list covers the rest.
    unsafe {
        asm!(
            "dsb sy",
            "wfi",
            "msr daifclr, #2",
            "isb",
            "msr daifset, #2",
            clobber_abi("C"),
            options(nostack)
        )
    };
}

/// Opens the IRQ window without sleeping: pending interrupts are handled.
#[inline(always)]
pub fn take_pending_interrupts() {
    // SAFETY: as in `wait_for_interrupt`, minus the WFI.
    unsafe {
        asm!(
            "msr daifclr, #2",
            "isb",
            "msr daifset, #2",
            clobber_abi("C"),
            options(nostack)
        )
    };
}

/// The semihosting exit: QEMU (started with `-semihosting`) ends with exit
/// status `code`. Without semihosting the HLT traps as an undefined
/// instruction, which the exception handler reports, and the CPU parks.
pub fn semihosting_exit(code: u32) -> ! {
    // ADP_Stopped_ApplicationExit, then the exit status.
    let block: [u64; 2] = [0x20026, code as u64];
    // SAFETY: SYS_EXIT (0x18) reads the two words at `block`, which live on
    // this stack frame for the duration of the call.
    unsafe {
        asm!(
            "hlt #0xf000",
            in("x0") 0x18u64,
            in("x1") block.as_ptr(),
            options(nostack)
        )
    };
    park()
}

/// Opens QEMU's semihosting console for writing (SYS_OPEN of ":tt"), made
/// with the exception handler told to skip the "unknown instruction" trap
/// that HLT raises when semihosting is off: `None` then, or if the open
/// fails.
pub fn semihosting_console() -> Option<u64> {
    const CONSOLE: &[u8] = b":tt\0";
    const MODE_WRITE: u64 = 4; // fopen "w"
    let block: [u64; 3] = [
        CONSOLE.as_ptr() as u64,
        MODE_WRITE,
        CONSOLE.len() as u64 - 1,
    ];
    let handle: i64;
    crate::exceptions::expect_trap(crate::exceptions::EC_UNKNOWN);
    // SAFETY: SYS_OPEN (0x01) reads the three words at x1 and the name they
    // point to, both alive for the call, and returns a handle in x0;
    // without semihosting the trap is skipped by the handler and x0 keeps
    // the call number.
    unsafe {
        asm!(
            "hlt #0xf000",
            inout("x0") 0x01i64 => handle,
            in("x1") block.as_ptr(),
            options(nostack, readonly)
        )
    };
    let trapped = crate::exceptions::end_expected_trap().is_some();
    (!trapped && handle >= 0).then_some(handle as u64)
}

/// Writes `bytes` to a semihosting handle (SYS_WRITE): one trap, and QEMU
/// copies the buffer at once (SYS_WRITE0 reads a string byte by byte,
/// which cost about a microsecond per byte). Only call with a handle from
/// `semihosting_console`.
pub fn semihosting_write(handle: u64, bytes: &[u8]) {
    let block: [u64; 3] = [handle, bytes.as_ptr() as u64, bytes.len() as u64];
    // SAFETY: SYS_WRITE (0x05) reads the three words at x1 and the
    // `bytes.len()` bytes they point to, alive for the call; it writes
    // nothing to memory and returns the count not written in x0.
    unsafe {
        asm!(
            "hlt #0xf000",
            inout("x0") 0x05u64 => _,
            in("x1") block.as_ptr(),
            options(nostack, readonly)
        )
    };
}

/// Copies the command line QEMU was given (`-append`) into `buf` through
/// semihosting SYS_GET_CMDLINE; `None` when there is none or it does not fit.
pub fn semihosting_cmdline(buf: &mut [u8]) -> Option<&str> {
    let mut block: [u64; 2] = [buf.as_mut_ptr() as u64, buf.len() as u64];
    let ret: u64;
    // SAFETY: SYS_GET_CMDLINE (0x15) writes at most block[1] bytes to the
    // buffer block[0] and the length back into block[1]; both outlive the call.
    unsafe {
        asm!(
            "hlt #0xf000",
            inout("x0") 0x15u64 => ret,
            in("x1") block.as_mut_ptr(),
            options(nostack)
        )
    };
    let len = block[1] as usize;
    if ret != 0 || len > buf.len() {
        return None;
    }
    core::str::from_utf8(&buf[..len]).ok()
}

/// Stops this core for good: IRQs masked, WFE forever.
pub fn park() -> ! {
    mask_irq();
    loop {
        // SAFETY: WFE only waits.
        unsafe { asm!("wfe", options(nomem, nostack, preserves_flags)) };
    }
}

/// Translates `va` for an EL1 read with the current stage-1 tables (AT
/// S1E1R) and returns PAR_EL1: bit 0 set means the walk faulted, else
/// bits [47:12] are the physical page and bits [63:56] its MAIR attribute.
pub fn translate_read(va: usize) -> u64 {
    // SAFETY: AT only performs a table walk and writes PAR_EL1.
    unsafe { asm!("at s1e1r, {}", in(reg) va, options(nostack, preserves_flags)) };
    isb();
    read_sysreg!("PAR_EL1")
}
