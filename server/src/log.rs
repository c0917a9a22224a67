//! The access log: one line per request on stdout, in the format
//! `--log-format` chose (`bedrock_conn::AccessLine`: logfmt or JSON),
//! buffered per worker and written once per event-loop turn (or when the
//! buffer fills).

use bedrock_conn::{AccessLine, LogFormat, Peer, MAX_LINE};

use crate::sys::{self, SockAddr};

/// Bytes of lines a worker holds before writing them.
const LOG_BUFFER: usize = 32 * 1024;
const _: () = assert!(LOG_BUFFER >= MAX_LINE);

pub struct AccessLog {
    buf: [u8; LOG_BUFFER],
    len: usize,
    quiet: bool,
    format: LogFormat,
}

/// The client as the log names it.
pub fn peer(a: SockAddr) -> Option<Peer> {
    Some(Peer {
        ip: a.ip,
        port: a.port,
    })
}

impl AccessLog {
    pub const fn new(quiet: bool, format: LogFormat) -> Self {
        AccessLog {
            buf: [0; LOG_BUFFER],
            len: 0,
            quiet,
            format,
        }
    }

    /// Whether lines are dropped (`--quiet`).
    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// Adds `line`'s line.
    pub fn write(&mut self, line: &AccessLine<'_>) {
        if self.quiet {
            return;
        }
        if self.len > LOG_BUFFER - MAX_LINE {
            self.flush();
        }
        // At least MAX_LINE bytes are free: the line fits.
        if let Some(n) = line.write(self.format, &mut self.buf[self.len..]) {
            self.len += n;
        }
    }

    pub fn flush(&mut self) {
        if self.len > 0 {
            let _ = sys::write_all(1, &self.buf[..self.len]);
            self.len = 0;
        }
    }
}
