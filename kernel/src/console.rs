//! Console output for log lines and reports, a line at a time.
//!
//! The PL011 costs QEMU one trap and one host write per byte: at the
//! default log level the access-log line of each request took about
//! 170 us of host time and cut keep-alive throughput by 4-5x. When QEMU
//! offers semihosting (our command lines route its console to the serial
//! port's chardev: `-semihosting-config enable=on,chardev=serial0`), a
//! whole line goes out with one SYS_WRITE0 instead. Without semihosting,
//! or for the fatal-exception report (`uart::Writer`), bytes go to the
//! PL011 as before. Input stays on the PL011.

use crate::{arch, uart};
use core::sync::atomic::{AtomicBool, Ordering};

/// Longest piece written at once; a longer line goes out in pieces.
pub const LINE_MAX: usize = 254;

static SEMIHOSTING: AtomicBool = AtomicBool::new(false);

/// Chooses the output path (call once, after the exception vectors are
/// installed and before the first line).
pub fn init() {
    SEMIHOSTING.store(arch::semihosting_available(), Ordering::Relaxed);
}

/// Whether lines go through semihosting.
pub fn semihosting() -> bool {
    SEMIHOSTING.load(Ordering::Relaxed)
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
        // SYS_WRITE0 stops at NUL: show one instead of losing the rest.
        self.buf[self.len] = if b == 0 { b'?' } else { b };
        self.len += 1;
    }

    fn flush(&mut self) {
        if self.len == 0 {
            return;
        }
        if semihosting() {
            self.buf[self.len] = 0;
            arch::semihosting_write0(&self.buf[..=self.len]);
        } else {
            self.buf[..self.len].iter().for_each(|&b| uart::put_byte(b));
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
