//! The Linux system-call layer: the only place (with `start` and `mem`)
//! where this program uses `unsafe`. Each wrapper takes Rust slices and
//! structs and passes their addresses and lengths to the kernel, so
//! callers stay safe. The syscall numbers of both ISAs stand side by side
//! in `nr.rs`, the few ABI details that differ (epoll_event packing, two
//! open flags) below; the instruction that enters the kernel and the
//! process entry live in one file per ISA.
#![allow(dead_code)]

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
use aarch64 as arch;
#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
use x86_64 as arch;

mod fd;
pub mod mem;
mod nr;
#[cfg(not(test))]
pub mod start;

pub use fd::Fd;

use core::sync::atomic::{AtomicBool, Ordering};

/// Set once openat2 turned out to be missing (old kernels, qemu-user 7).
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// A failed system call's error number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    pub const EPERM: Errno = Errno(1);
    pub const ENOENT: Errno = Errno(2);
    pub const ESRCH: Errno = Errno(3);
    pub const EINTR: Errno = Errno(4);
    pub const EIO: Errno = Errno(5);
    pub const EBADF: Errno = Errno(9);
    pub const ECHILD: Errno = Errno(10);
    pub const EAGAIN: Errno = Errno(11);
    pub const EACCES: Errno = Errno(13);
    pub const EEXIST: Errno = Errno(17);
    pub const EXDEV: Errno = Errno(18);
    pub const ENOTDIR: Errno = Errno(20);
    pub const EISDIR: Errno = Errno(21);
    pub const EINVAL: Errno = Errno(22);
    pub const EMFILE: Errno = Errno(24);
    pub const EFBIG: Errno = Errno(27);
    pub const ENOSPC: Errno = Errno(28);
    pub const EPIPE: Errno = Errno(32);
    pub const ENAMETOOLONG: Errno = Errno(36);
    pub const ENOSYS: Errno = Errno(38);
    pub const ENOTEMPTY: Errno = Errno(39);
    pub const ELOOP: Errno = Errno(40);
    pub const EADDRINUSE: Errno = Errno(98);
    pub const ECONNRESET: Errno = Errno(104);
    pub const ETIMEDOUT: Errno = Errno(110);
    pub const EDQUOT: Errno = Errno(122);
}

/// A system call's result.
pub type Res<T> = Result<T, Errno>;

fn check(ret: isize) -> Res<usize> {
    if (-4095..0).contains(&ret) {
        Err(Errno(-ret as i32))
    } else {
        Ok(ret as usize)
    }
}

fn sc(n: usize, a: [usize; 6]) -> Res<usize> {
    check(arch::syscall6(n, a))
}

fn sc3(n: usize, a: usize, b: usize, c: usize) -> Res<usize> {
    sc(n, [a, b, c, 0, 0, 0])
}

/// Paths handed to the kernel must be NUL-terminated.
fn cpath(path: &[u8]) -> Res<usize> {
    match path.last() {
        Some(0) => Ok(path.as_ptr() as usize),
        _ => Err(Errno::EINVAL),
    }
}

// ---- constants shared by both ISAs ----
pub const O_RDONLY: u64 = 0;
pub const O_WRONLY: u64 = 1;
pub const O_RDWR: u64 = 2;
pub const O_CREAT: u64 = 0o100;
pub const O_EXCL: u64 = 0o200;
pub const O_TRUNC: u64 = 0o1000;
pub const O_APPEND: u64 = 0o2000;
pub const O_NONBLOCK: u64 = 0o4000;
pub const O_CLOEXEC: u64 = 0o2_000_000;
pub const O_PATH: u64 = 0o10_000_000;
// ---- the ABI details that differ ----
#[cfg(target_arch = "x86_64")]
pub const O_DIRECTORY: u64 = 0o200_000;
#[cfg(target_arch = "x86_64")]
pub const O_NOFOLLOW: u64 = 0o400_000;
#[cfg(target_arch = "aarch64")]
pub const O_DIRECTORY: u64 = 0o40_000;
#[cfg(target_arch = "aarch64")]
pub const O_NOFOLLOW: u64 = 0o100_000;

/// `struct epoll_event`: packed on x86_64 (12 bytes), naturally aligned
/// on aarch64 (16 bytes).
#[cfg_attr(target_arch = "x86_64", repr(C, packed))]
#[cfg_attr(target_arch = "aarch64", repr(C))]
#[derive(Clone, Copy)]
pub struct EpollEvent {
    pub events: u32,
    pub data: u64,
}
pub const AT_FDCWD: i32 = -100;
pub const AT_EMPTY_PATH: u32 = 0x1000;
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
pub const AT_REMOVEDIR: u32 = 0x200;
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
pub const RESOLVE_BENEATH: u64 = 0x08;
pub const S_IFMT: u32 = 0o170_000;
pub const S_IFDIR: u32 = 0o040_000;
pub const S_IFREG: u32 = 0o100_000;
pub const S_IFLNK: u32 = 0o120_000;
pub const EPOLLIN: u32 = 0x1;
pub const EPOLLOUT: u32 = 0x4;
pub const EPOLLERR: u32 = 0x8;
pub const EPOLLHUP: u32 = 0x10;
pub const EPOLLRDHUP: u32 = 0x2000;
pub const EPOLLET: u32 = 1 << 31;
pub const SIGHUP: u32 = 1;
pub const SIGINT: u32 = 2;
pub const SIGKILL: u32 = 9;
pub const SIGPIPE: u32 = 13;
pub const SIGTERM: u32 = 15;
pub const SIGCHLD: u32 = 17;
pub const CLOCK_REALTIME: usize = 0;
pub const CLOCK_MONOTONIC: usize = 1;

pub fn read(fd: i32, buf: &mut [u8]) -> Res<usize> {
    sc3(nr::READ, fd as usize, buf.as_mut_ptr() as usize, buf.len())
}

pub fn write(fd: i32, buf: &[u8]) -> Res<usize> {
    sc3(nr::WRITE, fd as usize, buf.as_ptr() as usize, buf.len())
}

/// `writev` of two buffers: `a`, then `b` (a reply head and its body in
/// one write).
pub fn write2(fd: i32, a: &[u8], b: &[u8]) -> Res<usize> {
    let iov: [usize; 4] = [a.as_ptr() as usize, a.len(), b.as_ptr() as usize, b.len()];
    sc3(nr::WRITEV, fd as usize, iov.as_ptr() as usize, 2)
}

/// Writes all of `buf` (blocking descriptors), retrying on EINTR.
pub fn write_all(fd: i32, mut buf: &[u8]) -> Res<()> {
    while !buf.is_empty() {
        match write(fd, buf) {
            Ok(n) => buf = &buf[n..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

pub fn pread(fd: i32, buf: &mut [u8], offset: u64) -> Res<usize> {
    sc(
        nr::PREAD64,
        [
            fd as usize,
            buf.as_mut_ptr() as usize,
            buf.len(),
            offset as usize,
            0,
            0,
        ],
    )
}

pub fn close(fd: i32) {
    let _ = sc3(nr::CLOSE, fd as usize, 0, 0);
}

/// `openat2(dirfd, path, {flags, mode, resolve})`; `path` ends in NUL.
/// Where openat2 does not exist, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS is
/// emulated by opening one component at a time with O_NOFOLLOW (`..`
/// and absolute paths refused), which resolves the same way.
pub fn openat2(dirfd: i32, path: &[u8], flags: u64, mode: u64, resolve: u64) -> Res<i32> {
    if NO_OPENAT2.load(Ordering::Relaxed) {
        return open_walk(dirfd, path, flags, mode, resolve);
    }
    match openat2_raw(dirfd, path, flags, mode, resolve) {
        Err(Errno::ENOSYS) => {
            NO_OPENAT2.store(true, Ordering::Relaxed);
            open_walk(dirfd, path, flags, mode, resolve)
        }
        r => r,
    }
}

fn open_walk(dirfd: i32, path: &[u8], flags: u64, mode: u64, resolve: u64) -> Res<i32> {
    if resolve == 0 {
        return openat(dirfd, path, flags, mode);
    }
    cpath(path)?;
    let path = &path[..path.len() - 1];
    if path.starts_with(b"/") {
        return Err(Errno::EXDEV);
    }
    let mut cur = dirfd;
    let mut comp = [0u8; 256];
    let mut parts = path
        .split(|&b| b == b'/')
        .filter(|p| !p.is_empty())
        .peekable();
    let result = loop {
        let Some(part) = parts.next() else {
            break openat(cur, b".\0", flags, mode);
        };
        if part == b".." || part.len() > 255 {
            break Err(Errno::EXDEV);
        }
        comp[..part.len()].copy_from_slice(part);
        comp[part.len()] = 0;
        let c = &comp[..part.len() + 1];
        // O_NOFOLLOW with O_DIRECTORY reports a symlink as ENOTDIR:
        // report it as ELOOP, as openat2 does.
        let symlink = |e: Errno| match e {
            Errno::ENOTDIR
                if statx(cur, c, AT_SYMLINK_NOFOLLOW).is_ok_and(|st| st.is_symlink()) =>
            {
                Errno::ELOOP
            }
            e => e,
        };
        if parts.peek().is_none() {
            break openat(cur, c, flags | O_NOFOLLOW, mode).map_err(symlink);
        }
        match openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0).map_err(symlink) {
            Ok(next) => {
                if cur != dirfd {
                    close(cur);
                }
                cur = next;
            }
            Err(e) => break Err(e),
        }
    };
    if cur != dirfd {
        close(cur);
    }
    result
}

fn openat2_raw(dirfd: i32, path: &[u8], flags: u64, mode: u64, resolve: u64) -> Res<i32> {
    let how = [flags | O_CLOEXEC, mode, resolve];
    let p = cpath(path)?;
    sc(
        nr::OPENAT2,
        [
            dirfd as usize,
            p,
            how.as_ptr() as usize,
            core::mem::size_of_val(&how),
            0,
            0,
        ],
    )
    .map(|fd| fd as i32)
}

/// Plain `openat` (for paths given on the command line).
pub fn openat(dirfd: i32, path: &[u8], flags: u64, mode: u64) -> Res<i32> {
    let p = cpath(path)?;
    sc(
        nr::OPENAT,
        [
            dirfd as usize,
            p,
            (flags | O_CLOEXEC) as usize,
            mode as usize,
            0,
            0,
        ],
    )
    .map(|fd| fd as i32)
}

pub fn mkdirat(dirfd: i32, path: &[u8], mode: u32) -> Res<()> {
    let p = cpath(path)?;
    sc3(nr::MKDIRAT, dirfd as usize, p, mode as usize).map(|_| ())
}

pub fn unlinkat(dirfd: i32, path: &[u8], flags: u32) -> Res<()> {
    let p = cpath(path)?;
    sc3(nr::UNLINKAT, dirfd as usize, p, flags as usize).map(|_| ())
}

/// `renameat2(olddir, old, newdir, new, 0)`.
pub fn renameat(olddir: i32, old: &[u8], newdir: i32, new: &[u8]) -> Res<()> {
    let (o, n) = (cpath(old)?, cpath(new)?);
    sc(
        nr::RENAMEAT2,
        [olddir as usize, o, newdir as usize, n, 0, 0],
    )
    .map(|_| ())
}

pub fn fsync(fd: i32) -> Res<()> {
    sc3(nr::FSYNC, fd as usize, 0, 0).map(|_| ())
}

pub fn ftruncate(fd: i32, len: u64) -> Res<()> {
    sc3(nr::FTRUNCATE, fd as usize, len as usize, 0).map(|_| ())
}

/// What `statx` tells about a file (the fields this server uses).
#[derive(Clone, Copy, Debug, Default)]
pub struct FileStat {
    pub mode: u32,
    /// Hard links: 0 once the file was unlinked.
    pub nlink: u32,
    pub ino: u64,
    pub size: u64,
    pub mtime_sec: i64,
    pub mtime_nsec: u32,
}

impl FileStat {
    pub fn is_dir(&self) -> bool {
        self.mode & S_IFMT == S_IFDIR
    }
    pub fn is_file(&self) -> bool {
        self.mode & S_IFMT == S_IFREG
    }
    pub fn is_symlink(&self) -> bool {
        self.mode & S_IFMT == S_IFLNK
    }
}

/// `statx` of `path` relative to `dirfd` (`b"\0"` with AT_EMPTY_PATH:
/// the descriptor itself). Same layout on every ISA, unlike `stat`.
pub fn statx(dirfd: i32, path: &[u8], flags: u32) -> Res<FileStat> {
    let mut buf = [0u64; 32]; // struct statx is 256 bytes
    let p = cpath(path)?;
    const MASK: usize = 0x7ff; // STATX_BASIC_STATS
    sc(
        nr::STATX,
        [
            dirfd as usize,
            p,
            flags as usize,
            MASK,
            buf.as_mut_ptr() as usize,
            0,
        ],
    )?;
    let word = |i: usize| buf[i];
    Ok(FileStat {
        mode: (word(3) >> 32) as u32 & 0xffff, // stx_mode at byte 28
        nlink: word(2) as u32,                 // stx_nlink at byte 16
        ino: word(4),                          // byte 32
        size: word(5),                         // byte 40
        mtime_sec: word(14) as i64,            // stx_mtime at byte 112
        mtime_nsec: word(15) as u32,
    })
}

pub fn fstat(fd: i32) -> Res<FileStat> {
    statx(fd, b"\0", AT_EMPTY_PATH)
}

/// What `fstatfs` says of the file system holding a file.
pub struct FsStat {
    /// Bytes an unprivileged writer may still take (`f_bavail` blocks).
    pub avail_bytes: u64,
    /// Mounted read-only (`ST_RDONLY` in `f_flags`).
    pub read_only: bool,
}

/// `fstatfs(fd)`. `struct statfs` has the same layout on x86_64 and
/// aarch64 (64-bit words: f_type, f_bsize, f_blocks, f_bfree, f_bavail,
/// f_files, f_ffree, f_fsid, f_namelen, f_frsize, f_flags, f_spare[4]).
pub fn fstatfs(fd: i32) -> Res<FsStat> {
    const ST_RDONLY: u64 = 1;
    let mut buf = [0u64; 16]; // struct statfs is 120 bytes
    sc3(nr::FSTATFS, fd as usize, buf.as_mut_ptr() as usize, 0)?;
    let (bsize, bavail, frsize, flags) = (buf[1], buf[4], buf[9], buf[10]);
    // Blocks count in fragments where the file system has them.
    let block = if frsize > 0 { frsize } else { bsize };
    Ok(FsStat {
        avail_bytes: bavail.saturating_mul(block),
        read_only: flags & ST_RDONLY != 0,
    })
}

pub const LOCK_EX: usize = 2;
pub const LOCK_NB: usize = 4;

/// `flock(fd, how)`: an advisory lock the kernel drops when the holder's
/// last descriptor closes, also when the process is killed.
pub fn flock(fd: i32, how: usize) -> Res<()> {
    sc3(nr::FLOCK, fd as usize, how, 0).map(|_| ())
}

/// Moves a descriptor back to its start (directories: read entries again).
pub fn rewind(fd: i32) -> Res<()> {
    const SEEK_SET: usize = 0;
    sc3(nr::LSEEK, fd as usize, 0, SEEK_SET).map(|_| ())
}

/// Reads directory entries into `buf`; 0 at the end.
pub fn getdents64(fd: i32, buf: &mut [u8]) -> Res<usize> {
    sc3(
        nr::GETDENTS64,
        fd as usize,
        buf.as_mut_ptr() as usize,
        buf.len(),
    )
}

/// `sendfile(out, in, &offset, count)`; advances `offset`.
pub fn sendfile(out_fd: i32, in_fd: i32, offset: &mut u64, count: usize) -> Res<usize> {
    let mut off = *offset as i64;
    let r = sc(
        nr::SENDFILE,
        [
            out_fd as usize,
            in_fd as usize,
            &mut off as *mut i64 as usize,
            count,
            0,
            0,
        ],
    );
    *offset = off as u64;
    r
}

/// `copy_file_range(in, &off_in, out, NULL, len)`.
pub fn copy_file_range(in_fd: i32, off_in: &mut u64, out_fd: i32, len: usize) -> Res<usize> {
    let mut off = *off_in as i64;
    let r = sc(
        nr::COPY_FILE_RANGE,
        [
            in_fd as usize,
            &mut off as *mut i64 as usize,
            out_fd as usize,
            0,
            len,
            0,
        ],
    );
    *off_in = off as u64;
    r
}

pub fn memfd_create(name: &[u8]) -> Res<i32> {
    let p = cpath(name)?;
    const MFD_CLOEXEC: usize = 1;
    sc3(nr::MEMFD_CREATE, p, MFD_CLOEXEC, 0).map(|fd| fd as i32)
}

// ---- sockets ----
pub const AF_INET: usize = 2;
pub const SOCK_STREAM: usize = 1;
pub const SOCK_NONBLOCK: usize = 0o4000;
pub const SOCK_CLOEXEC: usize = 0o2_000_000;
const SOL_SOCKET: usize = 1;
const SO_REUSEADDR: usize = 2;
const SO_REUSEPORT: usize = 15;
const IPPROTO_TCP: usize = 6;
const TCP_NODELAY: usize = 1;

/// An IPv4 socket address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SockAddr {
    pub ip: [u8; 4],
    pub port: u16,
}

impl SockAddr {
    fn to_raw(self) -> [u8; 16] {
        let mut raw = [0u8; 16];
        raw[0..2].copy_from_slice(&(AF_INET as u16).to_ne_bytes());
        raw[2..4].copy_from_slice(&self.port.to_be_bytes());
        raw[4..8].copy_from_slice(&self.ip);
        raw
    }
    fn from_raw(raw: &[u8; 16]) -> SockAddr {
        SockAddr {
            ip: [raw[4], raw[5], raw[6], raw[7]],
            port: u16::from_be_bytes([raw[2], raw[3]]),
        }
    }
}

fn setsockopt_int(fd: i32, level: usize, name: usize, value: i32) -> Res<()> {
    sc(
        nr::SETSOCKOPT,
        [
            fd as usize,
            level,
            name,
            &value as *const i32 as usize,
            4,
            0,
        ],
    )
    .map(|_| ())
}

/// A non-blocking TCP listener with SO_REUSEADDR and SO_REUSEPORT.
pub fn tcp_listener(addr: SockAddr, backlog: u32) -> Res<i32> {
    let fd = sc3(
        nr::SOCKET,
        AF_INET,
        SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
        0,
    )? as i32;
    let raw = addr.to_raw();
    let r = setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        .and_then(|()| setsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT, 1))
        .and_then(|()| sc3(nr::BIND, fd as usize, raw.as_ptr() as usize, raw.len()))
        .and_then(|_| sc3(nr::LISTEN, fd as usize, backlog as usize, 0));
    match r {
        Ok(_) => Ok(fd),
        Err(e) => {
            close(fd);
            Err(e)
        }
    }
}

/// Accepts one connection (non-blocking, close-on-exec) with its peer.
pub fn accept(listener: i32) -> Res<(i32, SockAddr)> {
    let mut raw = [0u8; 16];
    let mut len: u32 = 16;
    let fd = sc(
        nr::ACCEPT4,
        [
            listener as usize,
            raw.as_mut_ptr() as usize,
            &mut len as *mut u32 as usize,
            SOCK_NONBLOCK | SOCK_CLOEXEC,
            0,
            0,
        ],
    )? as i32;
    Ok((fd, SockAddr::from_raw(&raw)))
}

/// `send(fd, buf, MSG_MORE)`: more follows (a sendfile body), so the
/// kernel may hold a small head back to fill the first segment.
pub fn send_more(fd: i32, buf: &[u8]) -> Res<usize> {
    const MSG_MORE: usize = 0x8000;
    sc(
        nr::SENDTO,
        [
            fd as usize,
            buf.as_ptr() as usize,
            buf.len(),
            MSG_MORE,
            0,
            0,
        ],
    )
}

pub fn set_nodelay(fd: i32) {
    let _ = setsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
}

/// `SO_LINGER` of zero: the next `close` resets the connection and drops
/// what the send queue still holds (a reply abandoned), instead of
/// leaving the kernel to push it to a peer that does not read.
pub fn reset_on_close(fd: i32) {
    const SO_LINGER: usize = 13;
    let linger: [i32; 2] = [1, 0]; // l_onoff, l_linger
    let _ = sc(
        nr::SETSOCKOPT,
        [
            fd as usize,
            SOL_SOCKET,
            SO_LINGER,
            linger.as_ptr() as usize,
            8,
            0,
        ],
    );
}

/// Bytes in the socket's send queue not yet acknowledged by the peer
/// (`ioctl(SIOCOUTQ)`): it shrinks when the peer takes data.
pub fn send_queue(fd: i32) -> Res<u32> {
    const SIOCOUTQ: usize = 0x5411; // TIOCOUTQ, the same on both ISAs
    let mut n: i32 = 0;
    sc3(
        nr::IOCTL,
        fd as usize,
        SIOCOUTQ,
        &mut n as *mut i32 as usize,
    )?;
    Ok(n.max(0) as u32)
}

/// `shutdown(fd, SHUT_WR)`.
pub fn shutdown_write(fd: i32) {
    let _ = sc3(nr::SHUTDOWN, fd as usize, 1, 0);
}

// ---- epoll ----
pub const EPOLL_CTL_ADD: usize = 1;
pub const EPOLL_CTL_DEL: usize = 2;

pub fn epoll_create() -> Res<i32> {
    sc3(nr::EPOLL_CREATE1, O_CLOEXEC as usize, 0, 0).map(|fd| fd as i32)
}

pub fn epoll_add(epfd: i32, fd: i32, events: u32, data: u64) -> Res<()> {
    let ev = EpollEvent { events, data };
    sc(
        nr::EPOLL_CTL,
        [
            epfd as usize,
            EPOLL_CTL_ADD,
            fd as usize,
            &ev as *const EpollEvent as usize,
            0,
            0,
        ],
    )
    .map(|_| ())
}

pub fn epoll_del(epfd: i32, fd: i32) {
    let ev = EpollEvent { events: 0, data: 0 };
    let _ = sc(
        nr::EPOLL_CTL,
        [
            epfd as usize,
            EPOLL_CTL_DEL,
            fd as usize,
            &ev as *const EpollEvent as usize,
            0,
            0,
        ],
    );
}

pub fn epoll_wait(epfd: i32, events: &mut [EpollEvent], timeout_ms: i32) -> Res<usize> {
    sc(
        nr::EPOLL_PWAIT,
        [
            epfd as usize,
            events.as_mut_ptr() as usize,
            events.len(),
            timeout_ms as isize as usize,
            0,
            8,
        ],
    )
}

/// An empty event, to initialise arrays.
pub const EMPTY_EVENT: EpollEvent = EpollEvent { events: 0, data: 0 };

/// Reads (events, data) of an event (the struct may be packed).
pub fn event_parts(ev: &EpollEvent) -> (u32, u64) {
    let e = *ev;
    (e.events, e.data)
}

// ---- processes and signals ----

/// `fork()` as `clone(SIGCHLD)`: Ok(0) in the child, the child's pid in
/// the parent.
pub fn fork() -> Res<i32> {
    sc(nr::CLONE, [SIGCHLD as usize, 0, 0, 0, 0, 0]).map(|pid| pid as i32)
}

pub fn exit(code: i32) -> ! {
    let _ = sc3(nr::EXIT_GROUP, code as usize, 0, 0);
    loop {
        let _ = sc3(nr::EXIT, code as usize, 0, 0);
    }
}

pub fn getpid() -> i32 {
    sc3(nr::GETPID, 0, 0, 0).unwrap_or(0) as i32
}

pub fn kill(pid: i32, sig: u32) -> Res<()> {
    sc3(nr::KILL, pid as isize as usize, sig as usize, 0).map(|_| ())
}

/// How a child ended.
#[derive(Clone, Copy, Debug)]
pub enum ChildExit {
    Code(i32),
    Signal(u32),
}

/// `wait4(-1, &status, WNOHANG)`: Ok(None) when no child has ended.
pub fn wait_any_nohang() -> Res<Option<(i32, ChildExit)>> {
    let mut status: i32 = 0;
    let pid = sc(
        nr::WAIT4,
        [usize::MAX, &mut status as *mut i32 as usize, 1, 0, 0, 0],
    )? as i32;
    if pid == 0 {
        return Ok(None);
    }
    let how = if status & 0x7f == 0 {
        ChildExit::Code((status >> 8) & 0xff)
    } else {
        ChildExit::Signal((status & 0x7f) as u32)
    };
    Ok(Some((pid, how)))
}

/// Asks the kernel to send `sig` to this process when its parent dies.
pub fn set_parent_death_signal(sig: u32) {
    const PR_SET_PDEATHSIG: usize = 1;
    let _ = sc3(nr::PRCTL, PR_SET_PDEATHSIG, sig as usize, 0);
}

fn sigset(signals: &[u32]) -> u64 {
    signals.iter().fold(0u64, |s, &n| s | 1 << (n - 1))
}

/// Blocks `signals` (they stay pending for signalfd / sigtimedwait).
pub fn block_signals(signals: &[u32]) -> Res<()> {
    let set = sigset(signals);
    sc(
        nr::RT_SIGPROCMASK,
        [0, &set as *const u64 as usize, 0, 8, 0, 0],
    )
    .map(|_| ())
}

/// Sets `sig` to be ignored (no handler, so no restorer is needed).
pub fn ignore_signal(sig: u32) -> Res<()> {
    // struct kernel_sigaction: handler, flags, restorer, mask.
    let act: [u64; 4] = [1 /* SIG_IGN */, 0, 0, 0];
    sc(
        nr::RT_SIGACTION,
        [sig as usize, act.as_ptr() as usize, 0, 8, 0, 0],
    )
    .map(|_| ())
}

/// A non-blocking signalfd for `signals` (which must be blocked).
pub fn signalfd(signals: &[u32]) -> Res<i32> {
    let set = sigset(signals);
    const SFD_NONBLOCK: usize = 0o4000;
    const SFD_CLOEXEC: usize = 0o2_000_000;
    sc(
        nr::SIGNALFD4,
        [
            usize::MAX,
            &set as *const u64 as usize,
            8,
            SFD_NONBLOCK | SFD_CLOEXEC,
            0,
            0,
        ],
    )
    .map(|fd| fd as i32)
}

/// Reads one signal number from a signalfd.
pub fn read_signal(fd: i32) -> Res<u32> {
    let mut info = [0u8; 128];
    read(fd, &mut info)?;
    Ok(u32::from_ne_bytes([info[0], info[1], info[2], info[3]]))
}

/// Waits up to `timeout_ms` for one of `signals` (blocked); Ok(None) on
/// timeout.
pub fn sigtimedwait(signals: &[u32], timeout_ms: u64) -> Res<Option<u32>> {
    let set = sigset(signals);
    let ts: [i64; 2] = [
        (timeout_ms / 1000) as i64,
        (timeout_ms % 1000 * 1_000_000) as i64,
    ];
    match sc(
        nr::RT_SIGTIMEDWAIT,
        [
            &set as *const u64 as usize,
            0,
            ts.as_ptr() as usize,
            8,
            0,
            0,
        ],
    ) {
        Ok(sig) => Ok(Some(sig as u32)),
        Err(Errno::EAGAIN) | Err(Errno::EINTR) => Ok(None),
        Err(e) => Err(e),
    }
}

// ---- time, randomness, CPUs ----

/// Microseconds on `clock` (CLOCK_MONOTONIC or CLOCK_REALTIME).
pub fn clock_us(clock: usize) -> u64 {
    let mut ts: [i64; 2] = [0, 0];
    let _ = sc3(nr::CLOCK_GETTIME, clock, ts.as_mut_ptr() as usize, 0);
    ts[0] as u64 * 1_000_000 + ts[1] as u64 / 1000
}

pub fn sleep_ms(ms: u64) {
    let ts: [i64; 2] = [(ms / 1000) as i64, (ms % 1000 * 1_000_000) as i64];
    let _ = sc(
        nr::CLOCK_NANOSLEEP,
        [CLOCK_MONOTONIC, 0, ts.as_ptr() as usize, 0, 0, 0],
    );
}

pub fn getrandom(buf: &mut [u8]) -> Res<usize> {
    sc3(nr::GETRANDOM, buf.as_mut_ptr() as usize, buf.len(), 0)
}

pub fn sched_yield() {
    let _ = sc3(nr::SCHED_YIELD, 0, 0, 0);
}

/// CPUs this process may run on.
pub fn cpu_count() -> usize {
    let mut mask = [0u64; 16];
    match sc3(
        nr::SCHED_GETAFFINITY,
        0,
        core::mem::size_of_val(&mask),
        mask.as_mut_ptr() as usize,
    ) {
        Ok(n) => mask[..n / 8]
            .iter()
            .map(|w| w.count_ones() as usize)
            .sum::<usize>()
            .max(1),
        Err(_) => 1,
    }
}

/// Gives back the stack pages below the current frame (they are dead;
/// the kernel maps fresh zero pages if the stack grows there again).
/// Large temporaries built at start-up would otherwise stay resident in
/// the supervisor and in every forked worker.
#[inline(never)]
pub fn trim_stack() {
    const PAGE: usize = 4096;
    const KEEP: usize = 64 * 1024; // below the current frame, for callees
    const SPAN: usize = 16 << 20;
    let marker = 0u8;
    let sp = core::ptr::addr_of!(marker) as usize;
    let top = (sp - KEEP) & !(PAGE - 1);
    let bottom = top.saturating_sub(SPAN);
    const MADV_DONTNEED: usize = 4;
    // Holes below the stack's mapping make this report ENOMEM after
    // trimming the mapped part; that is fine.
    let _ = sc3(nr::MADVISE, bottom, top - bottom, MADV_DONTNEED);
}

/// Gives back the pages of `len` bytes at `addr` in a private anonymous
/// mapping: they read as zero again and cost nothing until touched.
pub(crate) fn release_pages(addr: usize, len: usize) {
    const PAGE: usize = 4096;
    const MADV_DONTNEED: usize = 4;
    let start = addr & !(PAGE - 1);
    let end = (addr + len).next_multiple_of(PAGE);
    if end > start {
        let _ = sc3(nr::MADVISE, start, end - start, MADV_DONTNEED);
    }
}

pub(crate) fn mmap_anon(len: usize, shared: bool) -> Res<usize> {
    const PROT_RW: usize = 3;
    const MAP_SHARED: usize = 1;
    const MAP_PRIVATE: usize = 2;
    const MAP_ANONYMOUS: usize = 0x20;
    const MAP_NORESERVE: usize = 0x4000;
    let kind = if shared { MAP_SHARED } else { MAP_PRIVATE };
    sc(
        nr::MMAP,
        [
            0,
            len,
            PROT_RW,
            kind | MAP_ANONYMOUS | MAP_NORESERVE,
            usize::MAX,
            0,
        ],
    )
}

#[cfg(test)]
mod tests {
    /// The kernel's `struct epoll_event`: packed on x86_64, naturally
    /// aligned on aarch64.
    #[test]
    fn epoll_event_has_the_kernels_layout() {
        let want = if cfg!(target_arch = "x86_64") { 12 } else { 16 };
        assert_eq!(core::mem::size_of::<super::EpollEvent>(), want);
    }
}
