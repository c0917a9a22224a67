//! Writing response heads (RFC 9112 4-6) and chunked framing into caller
//! buffers.
//!
//! Every write checks space first, so a [`WriteError::Full`] leaves what was
//! already written intact. Header names must be tokens and values may not
//! hold CR, LF or NUL, so a response can never be split by caller data.

use crate::chars::is_token_str;
use crate::request::Version;

/// Why a response could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteError {
    /// The output buffer is too small.
    Full,
    /// A header name that is not a token, a value with CR, LF or NUL, a
    /// status outside 100-999, or conflicting body framing.
    InvalidHeader,
}

/// The blank line that ends each chunk's data.
pub const CHUNK_TRAILER: &[u8] = b"\r\n";
/// The last chunk and the end of a chunked body (no trailers).
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Builds a response head in a caller-provided buffer.
///
/// ```
/// use bedrock_http::{ResponseWriter, Version};
/// let mut buf = [0u8; 128];
/// let mut w = ResponseWriter::new(&mut buf, Version::Http11, 200).unwrap();
/// w.header("Content-Type", b"text/plain").unwrap();
/// let n = w.finish_with_body(b"hi").unwrap();
/// assert_eq!(&buf[..n], b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi");
/// ```
#[derive(Debug)]
pub struct ResponseWriter<'a> {
    buf: &'a mut [u8],
    pos: usize,
    length: Option<u64>,
    chunked: bool,
}

impl<'a> ResponseWriter<'a> {
    /// Start a response with its status line (`HTTP/1.1 200 OK\r\n`).
    /// `status` must be 100-999; unknown codes get an empty reason phrase.
    pub fn new(buf: &'a mut [u8], version: Version, status: u16) -> Result<Self, WriteError> {
        if !(100..=999).contains(&status) {
            return Err(WriteError::InvalidHeader);
        }
        let mut w = ResponseWriter {
            buf,
            pos: 0,
            length: None,
            chunked: false,
        };
        let digits = [
            b'0' + (status / 100) as u8,
            b'0' + (status / 10 % 10) as u8,
            b'0' + (status % 10) as u8,
        ];
        w.put(&[
            version.as_str().as_bytes(),
            b" ",
            &digits,
            b" ",
            reason_phrase(status).as_bytes(),
            b"\r\n",
        ])?;
        Ok(w)
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.pos
    }

    /// True before anything is written (never, after [`ResponseWriter::new`]).
    pub fn is_empty(&self) -> bool {
        self.pos == 0
    }

    /// Append `name: value\r\n`.
    pub fn header(&mut self, name: &str, value: &[u8]) -> Result<&mut Self, WriteError> {
        if !is_token_str(name.as_bytes()) || value.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0)) {
            return Err(WriteError::InvalidHeader);
        }
        self.put(&[name.as_bytes(), b": ", value, b"\r\n"])?;
        Ok(self)
    }

    /// Append a header whose value is a decimal number.
    pub fn header_u64(&mut self, name: &str, value: u64) -> Result<&mut Self, WriteError> {
        let mut digits = [0u8; 20];
        let n = write_decimal(value, &mut digits)?;
        self.header(name, &digits[..n])
    }

    /// Append `Content-Length: len`. Refused after [`ResponseWriter::chunked`]
    /// or a second time.
    pub fn content_length(&mut self, len: u64) -> Result<&mut Self, WriteError> {
        if self.chunked || self.length.is_some() {
            return Err(WriteError::InvalidHeader);
        }
        self.header_u64("Content-Length", len)?;
        self.length = Some(len);
        Ok(self)
    }

    /// Append `Transfer-Encoding: chunked`. Refused after a Content-Length
    /// or a second time.
    pub fn chunked(&mut self) -> Result<&mut Self, WriteError> {
        if self.chunked || self.length.is_some() {
            return Err(WriteError::InvalidHeader);
        }
        self.header("Transfer-Encoding", b"chunked")?;
        self.chunked = true;
        Ok(self)
    }

    /// End the head with the blank line; returns the total bytes written.
    pub fn finish_head(mut self) -> Result<usize, WriteError> {
        self.put(&[b"\r\n"])?;
        Ok(self.pos)
    }

    /// Add `Content-Length: body.len()` (unless the same length was already
    /// set), end the head and append `body`; returns the total bytes written.
    /// Refused if chunked or a different length was set.
    pub fn finish_with_body(mut self, body: &[u8]) -> Result<usize, WriteError> {
        let len = body.len() as u64;
        match self.length {
            Some(n) if n == len && !self.chunked => {}
            None if !self.chunked => {
                // Check the whole response fits before writing anything.
                let mut digits = [0u8; 20];
                let d = write_decimal(len, &mut digits)?;
                let need = "Content-Length: \r\n\r\n".len() + d + body.len();
                if self.buf.len() - self.pos < need {
                    return Err(WriteError::Full);
                }
                self.content_length(len)?;
            }
            _ => return Err(WriteError::InvalidHeader),
        }
        self.put(&[b"\r\n", body])?;
        Ok(self.pos)
    }

    /// Append all `parts`, or nothing if they do not fit.
    fn put(&mut self, parts: &[&[u8]]) -> Result<(), WriteError> {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        if self.buf.len() - self.pos < total {
            return Err(WriteError::Full);
        }
        for p in parts {
            self.buf[self.pos..self.pos + p.len()].copy_from_slice(p);
            self.pos += p.len();
        }
        Ok(())
    }
}

/// Write `value` in decimal at the start of `out`; returns the length.
pub fn write_decimal(value: u64, out: &mut [u8]) -> Result<usize, WriteError> {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    let mut v = value;
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let digits = &tmp[i..];
    let dst = out.get_mut(..digits.len()).ok_or(WriteError::Full)?;
    dst.copy_from_slice(digits);
    Ok(digits.len())
}

/// Write a chunk-size line (`1a\r\n`, lower-case hex) at the start of `out`;
/// returns its length. Follow it with the data and [`CHUNK_TRAILER`].
pub fn write_chunk_header(len: usize, out: &mut [u8]) -> Result<usize, WriteError> {
    let mut tmp = [0u8; 18];
    let mut i = 16;
    let mut v = len as u64;
    loop {
        i -= 1;
        tmp[i] = b"0123456789abcdef"[(v & 0xf) as usize];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    tmp[16..18].copy_from_slice(b"\r\n");
    let line = &tmp[i..];
    let dst = out.get_mut(..line.len()).ok_or(WriteError::Full)?;
    dst.copy_from_slice(line);
    Ok(line.len())
}

/// The reason phrase of a status code: every code of RFC 9110 15 plus 429,
/// 431 and 507; `""` for codes it does not know (an empty reason is valid).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        507 => "Insufficient Storage",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_line_and_headers() {
        let mut buf = [0u8; 256];
        let mut w = ResponseWriter::new(&mut buf, Version::Http11, 404).unwrap();
        w.header("Content-Type", b"text/plain")
            .unwrap()
            .header_u64("X-N", 0)
            .unwrap();
        w.content_length(3).unwrap();
        let n = w.finish_head().unwrap();
        assert_eq!(
            &buf[..n],
            b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nX-N: 0\r\nContent-Length: 3\r\n\r\n"
        );
        let mut buf = [0u8; 64];
        let mut w = ResponseWriter::new(&mut buf, Version::Http10, 299).unwrap();
        w.chunked().unwrap();
        let n = w.finish_head().unwrap();
        assert_eq!(
            &buf[..n],
            b"HTTP/1.0 299 \r\nTransfer-Encoding: chunked\r\n\r\n"
        );
    }

    #[test]
    fn invalid() {
        let mut buf = [0u8; 256];
        assert_eq!(
            ResponseWriter::new(&mut buf, Version::Http11, 99).unwrap_err(),
            WriteError::InvalidHeader
        );
        assert_eq!(
            ResponseWriter::new(&mut buf, Version::Http11, 1000).unwrap_err(),
            WriteError::InvalidHeader
        );
        let mut w = ResponseWriter::new(&mut buf, Version::Http11, 200).unwrap();
        let before = w.len();
        for (name, value) in [
            ("", &b"v"[..]),
            ("A B", b"v"),
            ("A:", b"v"),
            ("A\r\n", b"v"),
            ("A", b"x\r\nSet-Cookie: evil"),
            ("A", b"x\ny"),
            ("A", b"x\ry"),
            ("A", b"x\0y"),
        ] {
            assert_eq!(
                w.header(name, value).unwrap_err(),
                WriteError::InvalidHeader
            );
        }
        assert_eq!(w.len(), before);
        w.header("A", b"tab\tand \xff obs").unwrap();
        w.chunked().unwrap();
        assert_eq!(w.chunked().unwrap_err(), WriteError::InvalidHeader);
        assert_eq!(w.content_length(1).unwrap_err(), WriteError::InvalidHeader);
        assert_eq!(
            w.finish_with_body(b"x").unwrap_err(),
            WriteError::InvalidHeader
        );
        let mut w = ResponseWriter::new(&mut buf, Version::Http11, 200).unwrap();
        w.content_length(1).unwrap();
        assert_eq!(w.content_length(1).unwrap_err(), WriteError::InvalidHeader);
        assert_eq!(w.chunked().unwrap_err(), WriteError::InvalidHeader);
        assert_eq!(
            w.finish_with_body(b"xy").unwrap_err(),
            WriteError::InvalidHeader
        );
    }

    #[test]
    fn finish_with_body_sets_exact_length() {
        let mut buf = [0u8; 128];
        let w = ResponseWriter::new(&mut buf, Version::Http11, 200).unwrap();
        let n = w.finish_with_body(b"a\0b").unwrap();
        assert_eq!(
            &buf[..n],
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\na\0b"
        );
        // the same length set beforehand is not repeated
        let mut w = ResponseWriter::new(&mut buf, Version::Http11, 200).unwrap();
        w.content_length(2).unwrap();
        let n = w.finish_with_body(b"hi").unwrap();
        assert_eq!(&buf[..n], b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
        let w = ResponseWriter::new(&mut buf, Version::Http11, 204).unwrap();
        let n = w.finish_with_body(b"").unwrap();
        assert_eq!(
            &buf[..n],
            b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
        );
    }

    #[test]
    fn full_at_exact_sizes() {
        let full: &[u8] = b"HTTP/1.1 200 OK\r\nServer: b\r\nContent-Length: 5\r\n\r\nhello";
        for size in 0..=full.len() + 1 {
            let mut buf = vec![0u8; size];
            let result = (|| {
                let mut w = ResponseWriter::new(&mut buf, Version::Http11, 200)?;
                w.header("Server", b"b")?;
                w.finish_with_body(b"hello")
            })();
            if size >= full.len() {
                assert_eq!(result, Ok(full.len()));
                assert_eq!(&buf[..full.len()], full);
            } else {
                assert_eq!(result, Err(WriteError::Full), "size {size}");
            }
        }
        let head: &[u8] = b"HTTP/1.1 200 OK\r\n\r\n";
        for size in 0..=head.len() {
            let mut buf = vec![0u8; size];
            let r =
                ResponseWriter::new(&mut buf, Version::Http11, 200).and_then(|w| w.finish_head());
            assert_eq!(
                r,
                if size == head.len() {
                    Ok(size)
                } else {
                    Err(WriteError::Full)
                }
            );
        }
    }

    #[test]
    fn decimal_and_chunk_lines() {
        let mut out = [0u8; 20];
        for (v, s) in [
            (0u64, "0"),
            (7, "7"),
            (10, "10"),
            (1234567890, "1234567890"),
            (u64::MAX, "18446744073709551615"),
        ] {
            let n = write_decimal(v, &mut out).unwrap();
            assert_eq!(&out[..n], s.as_bytes());
        }
        assert_eq!(write_decimal(100, &mut [0u8; 3]), Ok(3));
        assert_eq!(write_decimal(100, &mut [0u8; 2]), Err(WriteError::Full));
        assert_eq!(write_decimal(0, &mut []), Err(WriteError::Full));
        for (v, s) in [
            (0usize, "0\r\n"),
            (26, "1a\r\n"),
            (4096, "1000\r\n"),
            (255, "ff\r\n"),
        ] {
            let n = write_chunk_header(v, &mut out).unwrap();
            assert_eq!(&out[..n], s.as_bytes());
        }
        assert_eq!(write_chunk_header(26, &mut [0u8; 4]), Ok(4));
        assert_eq!(write_chunk_header(26, &mut [0u8; 3]), Err(WriteError::Full));
        let n = write_chunk_header(usize::MAX, &mut out).unwrap();
        assert_eq!(n, 2 * core::mem::size_of::<usize>() + 2);
        assert_eq!(CHUNK_TRAILER, b"\r\n");
        assert_eq!(LAST_CHUNK, b"0\r\n\r\n");
    }

    #[test]
    fn reasons() {
        assert_eq!(reason_phrase(200), "OK");
        assert_eq!(reason_phrase(413), "Content Too Large");
        assert_eq!(reason_phrase(429), "Too Many Requests");
        assert_eq!(reason_phrase(431), "Request Header Fields Too Large");
        assert_eq!(reason_phrase(507), "Insufficient Storage");
        assert_eq!(reason_phrase(599), "");
        let known = (100..600).filter(|&c| !reason_phrase(c).is_empty()).count();
        assert_eq!(known, 47);
    }
}
