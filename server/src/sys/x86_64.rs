//! x86_64: the `syscall` instruction and this ISA's syscall numbers and
//! the few ABI constants that differ from aarch64.

use core::arch::asm;
#[cfg(not(test))]
use core::arch::global_asm;

pub const READ: usize = 0;
pub const WRITE: usize = 1;
pub const WRITEV: usize = 20;
pub const CLOSE: usize = 3;
pub const MMAP: usize = 9;
pub const SENDTO: usize = 44;
pub const MADVISE: usize = 28;
pub const RT_SIGACTION: usize = 13;
pub const RT_SIGPROCMASK: usize = 14;
pub const PREAD64: usize = 17;
pub const SCHED_YIELD: usize = 24;
pub const GETPID: usize = 39;
pub const SENDFILE: usize = 40;
pub const SOCKET: usize = 41;
pub const SHUTDOWN: usize = 48;
pub const BIND: usize = 49;
pub const LISTEN: usize = 50;
pub const IOCTL: usize = 16;
pub const SETSOCKOPT: usize = 54;
pub const CLONE: usize = 56;
pub const EXIT: usize = 60;
pub const WAIT4: usize = 61;
pub const KILL: usize = 62;
pub const FSYNC: usize = 74;
pub const FTRUNCATE: usize = 77;
pub const RT_SIGTIMEDWAIT: usize = 128;
pub const PRCTL: usize = 157;
pub const SCHED_GETAFFINITY: usize = 204;
pub const GETDENTS64: usize = 217;
pub const CLOCK_GETTIME: usize = 228;
pub const CLOCK_NANOSLEEP: usize = 230;
pub const EXIT_GROUP: usize = 231;
pub const EPOLL_CTL: usize = 233;
pub const OPENAT: usize = 257;
pub const UNLINKAT: usize = 263;
pub const EPOLL_PWAIT: usize = 281;
pub const ACCEPT4: usize = 288;
pub const SIGNALFD4: usize = 289;
pub const EPOLL_CREATE1: usize = 291;
pub const RENAMEAT2: usize = 316;
pub const GETRANDOM: usize = 318;
pub const MEMFD_CREATE: usize = 319;
pub const COPY_FILE_RANGE: usize = 326;
pub const STATX: usize = 332;
pub const OPENAT2: usize = 437;
pub const FLOCK: usize = 73;
pub const LSEEK: usize = 8;
pub const MKDIRAT: usize = 258;

pub const O_DIRECTORY: u64 = 0o200_000;
pub const O_NOFOLLOW: u64 = 0o400_000;

/// `struct epoll_event` is packed on x86_64 (12 bytes).
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub struct EpollEvent {
    pub events: u32,
    pub data: u64,
}

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
