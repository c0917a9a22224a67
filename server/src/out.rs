//! Small text building without `core::fmt`: a bounded line buffer and a
//! cursor over a caller's buffer. Both truncate rather than fail.

use crate::sys::Errno;

/// A cursor writing into a borrowed buffer; writes past the end are cut.
pub struct Cursor<'a> {
    buf: &'a mut [u8],
    len: usize,
    /// Set when something did not fit.
    pub overflow: bool,
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a mut [u8]) -> Self {
        Cursor {
            buf,
            len: 0,
            overflow: false,
        }
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn b(&mut self, bytes: &[u8]) -> &mut Self {
        let room = self.buf.len() - self.len;
        let n = bytes.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
        self.overflow |= n < bytes.len();
        self
    }
    pub fn s(&mut self, s: &str) -> &mut Self {
        self.b(s.as_bytes())
    }
    pub fn n(&mut self, v: u64) -> &mut Self {
        let mut d = [0u8; 20];
        let n = bedrock_http::write_decimal(v, &mut d).unwrap_or(0);
        self.b(&d[..n])
    }
    pub fn hex(&mut self, v: u64) -> &mut Self {
        let mut d = [0u8; 16];
        let mut i = 16;
        let mut v = v;
        loop {
            i -= 1;
            d[i] = b"0123456789abcdef"[(v & 15) as usize];
            v >>= 4;
            if v == 0 {
                break;
            }
        }
        self.b(&d[i..])
    }
}

/// A line of at most 512 bytes, for messages.
pub struct Line {
    buf: [u8; 512],
    len: usize,
}

impl Line {
    pub fn new() -> Self {
        Line {
            buf: [0; 512],
            len: 0,
        }
    }
    fn cursor(&mut self) -> Cursor<'_> {
        let len = self.len;
        let mut c = Cursor::new(&mut self.buf);
        c.len = len;
        c
    }
    pub fn b(&mut self, bytes: &[u8]) -> &mut Self {
        let mut c = self.cursor();
        c.b(bytes);
        self.len = c.len;
        self
    }
    pub fn s(&mut self, s: &str) -> &mut Self {
        self.b(s.as_bytes())
    }
    pub fn n(&mut self, v: u64) -> &mut Self {
        let mut c = self.cursor();
        c.n(v);
        self.len = c.len;
        self
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// Writes `ip:port`.
pub fn addr(c: &mut Cursor<'_>, a: crate::sys::SockAddr) {
    for (i, octet) in a.ip.iter().enumerate() {
        if i > 0 {
            c.s(".");
        }
        c.n(u64::from(*octet));
    }
    c.s(":").n(u64::from(a.port));
}

/// Prints a message line on stderr: `bedrock-serve: <parts...>`.
pub fn say(parts: &[&[u8]]) {
    let mut line = Line::new();
    line.s("bedrock-serve: ");
    for p in parts {
        line.b(p);
    }
    line.s("\n");
    let _ = crate::sys::write_all(2, line.as_bytes());
}

/// A few words on an error number, for messages and the log.
pub fn errno_text(e: Errno) -> &'static [u8] {
    match e {
        Errno::ENOENT => b"no such file or directory",
        Errno::ENOTDIR => b"not a directory",
        Errno::EACCES | Errno::EPERM => b"permission denied",
        Errno::EADDRINUSE => b"address already in use",
        Errno::ENOSPC => b"no space left on device",
        Errno::EDQUOT => b"disk quota exceeded",
        Errno::EFBIG => b"file too large",
        Errno::EIO => b"input/output error",
        _ => b"system error",
    }
}
