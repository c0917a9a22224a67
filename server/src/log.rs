//! The access log: one line per request on stdout, buffered per worker
//! and written once per event-loop turn (or when the buffer fills).

use crate::out::{addr, Cursor};
use crate::sys::{self, SockAddr};

const LOG_BUFFER: usize = 32 * 1024;
/// Longest request target written to the log; longer ones are cut.
const MAX_LOGGED_TARGET: usize = 512;

pub struct AccessLog {
    buf: [u8; LOG_BUFFER],
    len: usize,
    quiet: bool,
}

/// One request's facts for the log.
pub struct Entry<'a> {
    pub peer: SockAddr,
    pub method: &'a [u8],
    pub target: &'a [u8],
    pub status: u16,
    pub bytes: u64,
    pub micros: u64,
}

impl AccessLog {
    pub const fn new(quiet: bool) -> Self {
        AccessLog {
            buf: [0; LOG_BUFFER],
            len: 0,
            quiet,
        }
    }

    /// Whether lines are dropped (`--quiet`).
    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// `date peer method target status bytes micros`.
    pub fn write(&mut self, date: &[u8], e: &Entry<'_>) {
        if self.quiet {
            return;
        }
        if self.len > LOG_BUFFER - MAX_LOGGED_TARGET - 160 {
            self.flush();
        }
        let mut c = Cursor::new(&mut self.buf[self.len..]);
        c.b(date).s(" ");
        addr(&mut c, e.peer);
        c.s(" ")
            .b(if e.method.is_empty() { b"-" } else { e.method });
        c.s(" ");
        let target = &e.target[..e.target.len().min(MAX_LOGGED_TARGET)];
        c.b(if target.is_empty() { b"-" } else { target });
        c.s(" ")
            .n(u64::from(e.status))
            .s(" ")
            .n(e.bytes)
            .s(" ")
            .n(e.micros)
            .s("us\n");
        self.len += c.len();
    }

    pub fn flush(&mut self) {
        if self.len > 0 {
            let _ = sys::write_all(1, &self.buf[..self.len]);
            self.len = 0;
        }
    }
}
