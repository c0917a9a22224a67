//! x86_64: the `syscall` instruction into the kernel and the process
//! entry (the syscall numbers are in `nr.rs`).

use core::arch::asm;
#[cfg(not(test))]
use core::arch::global_asm;

/// Raw system call with up to six arguments; returns the kernel's value
/// (negative errno on failure).
#[inline(always)]
pub fn syscall6(n: usize, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the `syscall` instruction only reads the registers given here
    // and clobbers rcx and r11, declared below. What the kernel does with
    // pointer arguments is the caller's contract: every wrapper in
    // `sys/mod.rs` passes pointers to live buffers of the stated length.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") n as isize => ret,
            in("rdi") a[0], in("rsi") a[1], in("rdx") a[2],
            in("r10") a[3], in("r8") a[4], in("r9") a[5],
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

// The process entry: the kernel leaves argc, argv and envp on the stack.
// Pass the stack pointer to `entry` and align the stack for the call.
#[cfg(not(test))]
global_asm!(
    ".globl _start",
    "_start:",
    "xor ebp, ebp",
    "mov rdi, rsp",
    "and rsp, -16",
    "call {entry}",
    "ud2",
    entry = sym super::start::entry,
);
