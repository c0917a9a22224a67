//! aarch64: `svc #0` and the generic syscall table (no open, fork, rename
//! or epoll_wait: openat, clone, renameat2 and epoll_pwait serve both).

use core::arch::asm;
#[cfg(not(test))]
use core::arch::global_asm;

pub const READ: usize = 63;
pub const WRITE: usize = 64;
pub const WRITEV: usize = 66;
pub const CLOSE: usize = 57;
pub const MMAP: usize = 222;
pub const SENDTO: usize = 206;
pub const MADVISE: usize = 233;
pub const RT_SIGACTION: usize = 134;
pub const RT_SIGPROCMASK: usize = 135;
pub const PREAD64: usize = 67;
pub const SCHED_YIELD: usize = 124;
pub const GETPID: usize = 172;
pub const SENDFILE: usize = 71;
pub const SOCKET: usize = 198;
pub const SHUTDOWN: usize = 210;
pub const BIND: usize = 200;
pub const LISTEN: usize = 201;
pub const IOCTL: usize = 29;
pub const SETSOCKOPT: usize = 208;
pub const CLONE: usize = 220;
pub const EXIT: usize = 93;
pub const WAIT4: usize = 260;
pub const KILL: usize = 129;
pub const FSYNC: usize = 82;
pub const FTRUNCATE: usize = 46;
pub const RT_SIGTIMEDWAIT: usize = 137;
pub const PRCTL: usize = 167;
pub const SCHED_GETAFFINITY: usize = 123;
pub const GETDENTS64: usize = 61;
pub const CLOCK_GETTIME: usize = 113;
pub const CLOCK_NANOSLEEP: usize = 115;
pub const EXIT_GROUP: usize = 94;
pub const EPOLL_CTL: usize = 21;
pub const OPENAT: usize = 56;
pub const UNLINKAT: usize = 35;
pub const EPOLL_PWAIT: usize = 22;
pub const ACCEPT4: usize = 242;
pub const SIGNALFD4: usize = 74;
pub const EPOLL_CREATE1: usize = 20;
pub const RENAMEAT2: usize = 276;
pub const GETRANDOM: usize = 278;
pub const MEMFD_CREATE: usize = 279;
pub const COPY_FILE_RANGE: usize = 285;
pub const STATX: usize = 291;
pub const OPENAT2: usize = 437;
pub const FLOCK: usize = 32;
pub const LSEEK: usize = 62;
pub const MKDIRAT: usize = 34;

pub const O_DIRECTORY: u64 = 0o40_000;
pub const O_NOFOLLOW: u64 = 0o100_000;

/// `struct epoll_event` has natural alignment on aarch64 (16 bytes).
#[repr(C)]
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
