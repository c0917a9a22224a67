//! Syscall numbers, one line a call with both ISAs' numbers side by side:
//! x86_64's own table (arch/x86/entry/syscalls/syscall_64.tbl) first,
//! then aarch64's, the generic one (include/uapi/asm-generic/unistd.h:
//! no open, fork, rename or epoll_wait; openat, clone, renameat2 and
//! epoll_pwait serve both). Adding a call is one line here.

/// `NAME = x86_64, aarch64;` becomes `pub const NAME: usize` for the
/// target's ISA.
macro_rules! numbers {
    ($( $name:ident = $x86_64:literal, $aarch64:literal; )+) => {
        $(
            #[cfg(target_arch = "x86_64")]
            pub const $name: usize = $x86_64;
            #[cfg(target_arch = "aarch64")]
            pub const $name: usize = $aarch64;
        )+
    };
}

numbers! {
    READ = 0, 63;
    WRITE = 1, 64;
    WRITEV = 20, 66;
    CLOSE = 3, 57;
    MMAP = 9, 222;
    SENDTO = 44, 206;
    MADVISE = 28, 233;
    RT_SIGACTION = 13, 134;
    RT_SIGPROCMASK = 14, 135;
    PREAD64 = 17, 67;
    SCHED_YIELD = 24, 124;
    GETPID = 39, 172;
    SENDFILE = 40, 71;
    SOCKET = 41, 198;
    SHUTDOWN = 48, 210;
    BIND = 49, 200;
    LISTEN = 50, 201;
    IOCTL = 16, 29;
    SETSOCKOPT = 54, 208;
    CLONE = 56, 220;
    EXIT = 60, 93;
    WAIT4 = 61, 260;
    KILL = 62, 129;
    FSYNC = 74, 82;
    FSTATFS = 138, 44;
    FTRUNCATE = 77, 46;
    RT_SIGTIMEDWAIT = 128, 137;
    PRCTL = 157, 167;
    SCHED_GETAFFINITY = 204, 123;
    GETDENTS64 = 217, 61;
    CLOCK_GETTIME = 228, 113;
    CLOCK_NANOSLEEP = 230, 115;
    EXIT_GROUP = 231, 94;
    EPOLL_CTL = 233, 21;
    OPENAT = 257, 56;
    UNLINKAT = 263, 35;
    EPOLL_PWAIT = 281, 22;
    ACCEPT4 = 288, 242;
    SIGNALFD4 = 289, 74;
    EPOLL_CREATE1 = 291, 20;
    RENAMEAT2 = 316, 276;
    GETRANDOM = 318, 278;
    MEMFD_CREATE = 319, 279;
    COPY_FILE_RANGE = 326, 285;
    STATX = 332, 291;
    OPENAT2 = 437, 437;
    FLOCK = 73, 32;
    LSEEK = 8, 62;
    MKDIRAT = 258, 34;
}
