//! Console output for log lines and reports, a line at a time.
//!
//! The PL011 costs QEMU one trap and one host write per byte: at the
//! default log level the access-log line of each request took about
//! 170 us of host time and cut keep-alive throughput by 4-5x. When QEMU
//! offers semihosting (our command lines route its console to the serial
//! port's chardev: `-semihosting-config enable=on,chardev=serial0`), lines
//! go out with one SYS_WRITE to its console handle instead. Without semihosting,
//! or for the fatal-exception report (`uart::Writer`), bytes go to the
//! PL011 as before. Input stays on the PL011.
//!
//! With batching on (the server's main loop, `set_batching`), finished
//! lines collect in a buffer that `flush` writes with one trap: the loop
//! flushes once per turn, so a busy turn that answers many requests pays
//! for one write, and a line is late by at most one turn. Fatal reports
//! flush what is pending first.

use crate::{arch, uart};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Longest piece written at once; a longer line goes out in pieces.
pub const LINE_MAX: usize = 254;
/// Finished lines held back while batching.
pub const BATCH_BYTES: usize = 8192;

/// The semihosting console handle, or NO_HANDLE for the PL011.
static HANDLE: AtomicU64 = AtomicU64::new(NO_HANDLE);
const NO_HANDLE: u64 = u64::MAX;
static BATCHING: AtomicBool = AtomicBool::new(false);
/// Set while the batch buffer is borrowed, so that a fatal report taken
/// in the middle does not borrow it a second time.
static BATCH_BUSY: AtomicBool = AtomicBool::new(false);

struct Batch {
    buf: [u8; BATCH_BYTES],
    len: usize,
}

struct BatchCell(UnsafeCell<Batch>);

// SAFETY: single core; the buffer is borrowed only by `with_batch`, whose
// BATCH_BUSY flag refuses a nested borrow (a fatal report interrupting a
// flush), and interrupt handlers never print.
unsafe impl Sync for BatchCell {}

static BATCH: BatchCell = BatchCell(UnsafeCell::new(Batch {
    buf: [0; BATCH_BYTES],
    len: 0,
}));

/// Runs `f` on the batch buffer unless it is already borrowed.
fn with_batch(f: impl FnOnce(&mut Batch)) -> bool {
    if BATCH_BUSY.swap(true, Ordering::Acquire) {
        return false;
    }
    // SAFETY: BATCH_BUSY was clear, so this is the only borrow (see the
    // `Sync` impl); it ends before the flag is cleared.
    f(unsafe { &mut *BATCH.0.get() });
    BATCH_BUSY.store(false, Ordering::Release);
    true
}

/// Writes `bytes` now.
fn write_out(bytes: &[u8]) {
    match HANDLE.load(Ordering::Relaxed) {
        NO_HANDLE => bytes.iter().for_each(|&b| uart::put_byte(b)),
        handle => arch::semihosting_write(handle, bytes),
    }
}

/// Holds finished lines back until `flush` (or writes them at once).
pub fn set_batching(on: bool) {
    if !on {
        flush();
    }
    BATCHING.store(on, Ordering::Relaxed);
}

/// Writes the lines held back by batching.
pub fn flush() {
    with_batch(|b| {
        if b.len > 0 {
            write_out(&b.buf[..b.len]);
            b.len = 0;
        }
    });
}

/// Chooses the output path (call once, after the exception vectors are
/// installed and before the first line).
pub fn init() {
    let handle = arch::semihosting_console().unwrap_or(NO_HANDLE);
    HANDLE.store(handle, Ordering::Relaxed);
}

/// Whether lines go through semihosting.
pub fn semihosting() -> bool {
    HANDLE.load(Ordering::Relaxed) != NO_HANDLE
}

/// A line being written: bytes collect here and go out at each `\n`, when
/// the buffer is full, and when the `Line` is dropped. `\n` becomes
/// `\r\n` (the console is a raw terminal under `-nographic`).
pub struct Line {
    buf: [u8; LINE_MAX + 2],
    len: usize,
}

impl Line {
    /// An empty line.
    pub const fn new() -> Self {
        Line {
            buf: [0; LINE_MAX + 2],
            len: 0,
        }
    }

    fn push(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    fn flush(&mut self) {
        if self.len == 0 {
            return;
        }
        let line = &self.buf[..self.len];
        let batched = BATCHING.load(Ordering::Relaxed)
            && with_batch(|b| {
                if b.len + line.len() > BATCH_BYTES {
                    write_out(&b.buf[..b.len]);
                    b.len = 0;
                }
                b.buf[b.len..b.len + line.len()].copy_from_slice(line);
                b.len += line.len();
            });
        if !batched {
            write_out(&self.buf[..self.len]);
        }
        self.len = 0;
    }
}

impl Default for Line {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                self.push(b'\r');
                self.push(b'\n');
                self.flush();
            } else {
                self.push(b);
                if self.len >= LINE_MAX {
                    self.flush();
                }
            }
        }
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        self.flush();
    }
}
