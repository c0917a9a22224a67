//! `bedrock-probe [PORT [PATH]]`: the container image's health probe.
//!
//! The image is `FROM scratch`: no shell, no curl. Its HEALTHCHECK runs this
//! instead: connect to 127.0.0.1:PORT (default 8080), send `GET PATH`
//! (default `/`), exit 0 if the status line says 2xx, 1 otherwise (no
//! answer, refused, another status, a bad argument), within
//! `TIMEOUT_SECONDS` for the connect and for each send and receive.
//!
//! x86_64 Linux only, without libc: four system calls through `syscall`.
#![no_std]
#![no_main]

use core::arch::{asm, global_asm};

/// The longest the connect, a send or a receive may take.
const TIMEOUT_SECONDS: i64 = 2;
/// The port asked when none is given (the image's `--listen`).
const DEFAULT_PORT: u16 = 8080;
/// The status line's first bytes that are read: `HTTP/1.1 200`.
const STATUS_PREFIX_LEN: usize = 12;
/// The longest argument looked at (a PATH longer is cut there).
const MAX_ARG_BYTES: usize = 1024;

const SYS_READ: usize = 0;
const SYS_WRITE: usize = 1;
const SYS_SOCKET: usize = 41;
const SYS_CONNECT: usize = 42;
const SYS_SETSOCKOPT: usize = 54;
const SYS_EXIT_GROUP: usize = 231;
const AF_INET: usize = 2;
const SOCK_STREAM: usize = 1;
const SOL_SOCKET: usize = 1;
const SO_RCVTIMEO: usize = 20;
const SO_SNDTIMEO: usize = 21;
const STDERR: usize = 2;

/// `struct sockaddr_in`.
#[repr(C)]
struct SockAddrIn {
    family: u16,
    port_be: u16,
    addr: [u8; 4],
    zero: [u8; 8],
}

/// `struct timeval`.
#[repr(C)]
struct TimeVal {
    sec: i64,
    usec: i64,
}

fn syscall(n: usize, a: usize, b: usize, c: usize, d: usize, e: usize) -> isize {
    let ret: isize;
    // SAFETY: the x86_64 Linux system call convention: number in rax,
    // arguments in rdi, rsi, rdx, r10, r8; the kernel clobbers rcx and r11.
    // Every pointer passed by the callers below points to live memory of the
    // length passed with it.
    unsafe {
        asm!("syscall", inlateout("rax") n as isize => ret, in("rdi") a, in("rsi") b, in("rdx") c,
             in("r10") d, in("r8") e, lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

fn exit(code: usize) -> ! {
    // SAFETY: exit_group takes one number and never returns.
    unsafe { asm!("syscall", in("rax") SYS_EXIT_GROUP, in("rdi") code, options(noreturn, nostack)) }
}

fn write_all(fd: usize, mut buf: &[u8]) -> bool {
    while !buf.is_empty() {
        let n = syscall(SYS_WRITE, fd, buf.as_ptr() as usize, buf.len(), 0, 0);
        if n <= 0 {
            return false;
        }
        buf = &buf[n as usize..];
    }
    true
}

fn fail(why: &[u8]) -> ! {
    write_all(STDERR, b"bedrock-probe: ");
    write_all(STDERR, why);
    write_all(STDERR, b"\n");
    exit(1)
}

/// A NUL-terminated C string as a byte slice, cut at `MAX_ARG_BYTES`
/// (the bound also keeps the loop from being compiled into a call to
/// `strlen`, which nothing provides here).
///
/// # Safety
/// `p` points to a NUL-terminated string that lives for the program.
unsafe fn c_str(p: *const u8) -> &'static [u8] {
    let mut n = 0;
    // SAFETY: the string is NUL-terminated (caller), so every byte read up
    // to and including the NUL is inside it.
    while n < MAX_ARG_BYTES && unsafe { *p.add(n) } != 0 {
        n += 1;
    }
    // SAFETY: the n bytes before the NUL are the string.
    unsafe { core::slice::from_raw_parts(p, n) }
}

fn parse_port(s: &[u8]) -> Option<u16> {
    if s.is_empty() || s.len() > 5 {
        return None;
    }
    let mut v: u32 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(b - b'0');
    }
    u16::try_from(v).ok().filter(|&p| p != 0)
}

fn probe(port: u16, path: &[u8]) -> ! {
    if path.first() != Some(&b'/') || path.iter().any(|&b| b <= b' ' || b == 0x7f) {
        fail(b"PATH must start with / and hold no spaces or control bytes");
    }
    let fd = syscall(SYS_SOCKET, AF_INET, SOCK_STREAM, 0, 0, 0);
    if fd < 0 {
        fail(b"socket failed");
    }
    let fd = fd as usize;
    let tv = TimeVal {
        sec: TIMEOUT_SECONDS,
        usec: 0,
    };
    for opt in [SO_RCVTIMEO, SO_SNDTIMEO] {
        let tvp = &tv as *const TimeVal as usize;
        syscall(
            SYS_SETSOCKOPT,
            fd,
            SOL_SOCKET,
            opt,
            tvp,
            core::mem::size_of::<TimeVal>(),
        );
    }
    let addr = SockAddrIn {
        family: AF_INET as u16,
        port_be: port.to_be(),
        addr: [127, 0, 0, 1],
        zero: [0; 8],
    };
    let addrp = &addr as *const SockAddrIn as usize;
    if syscall(
        SYS_CONNECT,
        fd,
        addrp,
        core::mem::size_of::<SockAddrIn>(),
        0,
        0,
    ) < 0
    {
        fail(b"cannot connect to 127.0.0.1");
    }
    let sent = write_all(fd, b"GET ")
        && write_all(fd, path)
        && write_all(fd, b" HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bedrock-probe\r\nConnection: close\r\n\r\n");
    if !sent {
        fail(b"cannot send the request");
    }
    let mut status = [0u8; STATUS_PREFIX_LEN];
    let mut got = 0;
    while got < STATUS_PREFIX_LEN {
        let rest = &mut status[got..];
        let n = syscall(SYS_READ, fd, rest.as_mut_ptr() as usize, rest.len(), 0, 0);
        if n <= 0 {
            fail(b"no answer");
        }
        got += n as usize;
    }
    let http = &status[..9] == b"HTTP/1.1 " || &status[..9] == b"HTTP/1.0 ";
    if http && status[9] == b'2' {
        exit(0)
    }
    fail(b"the answer is not 2xx")
}

/// The process entry from `_start`: `sp` is the initial stack pointer,
/// where argc and then argv's pointers are.
///
/// # Safety
/// Called once by `_start` with the stack the kernel set up.
#[no_mangle]
unsafe extern "C" fn probe_main(sp: *const usize) -> ! {
    // SAFETY: Linux's initial stack holds argc, then argc pointers to
    // NUL-terminated strings, then a null.
    let argc = unsafe { *sp };
    // SAFETY: as above; only argv[1] and argv[2] are read, when present.
    let arg = |i: usize| unsafe { c_str(*sp.add(1 + i) as *const u8) };
    let port = if argc > 1 {
        parse_port(arg(1)).unwrap_or_else(|| fail(b"PORT must be 1-65535"))
    } else {
        DEFAULT_PORT
    };
    let path: &[u8] = if argc > 2 { arg(2) } else { b"/" };
    probe(port, path)
}

global_asm!(
    ".globl _start",
    "_start:",
    "mov rdi, rsp",
    "and rsp, -16",
    "call {main}",
    main = sym probe_main,
);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    fail(b"panic")
}
