//! aarch64: `svc #0` into the kernel and the process entry (the syscall
//! numbers are in `nr.rs`).

use core::arch::asm;
#[cfg(not(test))]
use core::arch::global_asm;

/// Raw system call with up to six arguments; returns the kernel's value
/// (negative errno on failure).
#[inline(always)]
pub fn syscall6(n: usize, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: `svc #0` reads x8 and x0-x5 and writes x0 only. What the
    // kernel does with pointer arguments is the caller's contract: every
    // wrapper in `sys/mod.rs` passes pointers to live buffers of the
    // stated length.
    unsafe {
        asm!(
            "svc #0",
            in("x8") n,
            inlateout("x0") a[0] as isize => ret,
            in("x1") a[1], in("x2") a[2], in("x3") a[3], in("x4") a[4], in("x5") a[5],
            options(nostack),
        );
    }
    ret
}

// The process entry: sp points at argc, then argv and envp; it is already
// 16-byte aligned.
#[cfg(not(test))]
global_asm!(
    ".globl _start",
    "_start:",
    "mov x29, xzr",
    "mov x30, xzr",
    "mov x0, sp",
    "bl {entry}",
    "brk #0",
    entry = sym super::start::entry,
);
