//! Request-head parsing: request line and header fields (RFC 9112 2-5).
//!
//! [`parse_request`] borrows everything from the input buffer and fills a
//! caller-provided header slice; it never allocates and never panics. Only
//! CRLF ends a line (bare LF and bare CR are rejected), one leading empty
//! line is skipped, obsolete line folding is rejected.
//!
//! The request line is read in `line.rs`, the field lines in `fields.rs`;
//! this module holds the types they fill and [`find_head_end`].

mod fields;
mod line;
#[cfg(test)]
mod tests;

use crate::error::Error;
use crate::limits::Limits;
use crate::scan::{find, Lf};
use line::RequestLine;

/// Result of an incremental parse: done, or more bytes are needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status<T> {
    /// Parsing finished with this value.
    Complete(T),
    /// The input ends before the item does; call again with more bytes.
    Partial,
}

/// A request method (RFC 9110 9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `GET`
    Get,
    /// `HEAD`
    Head,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `DELETE`
    Delete,
    /// `OPTIONS`
    Options,
    /// `PATCH`
    Patch,
    /// `TRACE`
    Trace,
    /// `CONNECT`
    Connect,
    /// Any other valid token; its text is in [`Request::method_str`].
    /// Servers usually answer 501 Not Implemented.
    Other,
}

impl Method {
    /// The method name as sent on the wire (`"GET"`); `""` for [`Method::Other`].
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Patch => "PATCH",
            Method::Trace => "TRACE",
            Method::Connect => "CONNECT",
            Method::Other => "",
        }
    }

    /// The method named by `name` (case-sensitive, RFC 9110 9.1).
    pub fn from_bytes(name: &[u8]) -> Method {
        match name {
            b"GET" => Method::Get,
            b"HEAD" => Method::Head,
            b"POST" => Method::Post,
            b"PUT" => Method::Put,
            b"DELETE" => Method::Delete,
            b"OPTIONS" => Method::Options,
            b"PATCH" => Method::Patch,
            b"TRACE" => Method::Trace,
            b"CONNECT" => Method::Connect,
            _ => Method::Other,
        }
    }
}

/// An HTTP version this crate speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// HTTP/1.0
    Http10,
    /// HTTP/1.1
    Http11,
}

impl Version {
    /// The version as written on the wire: `"HTTP/1.0"` or `"HTTP/1.1"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// One header field line, borrowed from the input buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'b> {
    /// The field name as sent: a token (RFC 9110 5.6.2), so ASCII only.
    /// Compare it case-insensitively, as bytes
    /// (`h.name.eq_ignore_ascii_case(b"host")`); [`Header::name_str`]
    /// gives it as text.
    pub name: &'b [u8],
    /// The field value with leading and trailing whitespace removed. It may
    /// hold obs-text bytes (0x80-0xFF), never CR, LF, NUL or other controls
    /// besides HTAB.
    pub value: &'b [u8],
}

impl<'b> Header<'b> {
    /// An empty header, to initialise arrays: `[Header::EMPTY; 64]`.
    pub const EMPTY: Header<'static> = Header {
        name: b"",
        value: b"",
    };

    /// The field name as text. A parsed name is a token, hence ASCII, so
    /// this never fails for one; it costs a UTF-8 check, which is why the
    /// parser leaves it to the callers that need text.
    pub fn name_str(&self) -> &'b str {
        ascii(self.name)
    }
}

/// A parsed request head. Everything borrows from the input buffer; the
/// header slice is the filled prefix of the caller's array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'b, 'h> {
    /// The method.
    pub method: Method,
    /// The method as sent, useful for [`Method::Other`].
    pub method_str: &'b str,
    /// The raw request-target as sent (origin, absolute, authority or
    /// asterisk form); ASCII only.
    pub target: &'b str,
    /// The protocol version.
    pub version: Version,
    /// The header field lines, in order.
    pub headers: &'h [Header<'b>],
}

impl<'b, 'h> Request<'b, 'h> {
    /// The target before the first `?` (the whole target if there is none),
    /// still percent-encoded.
    pub fn path(&self) -> &'b str {
        match self.target.as_bytes().iter().position(|&b| b == b'?') {
            Some(i) => self.target.get(..i).unwrap_or(self.target),
            None => self.target,
        }
    }

    /// The target after the first `?`, possibly empty; `None` without `?`.
    pub fn query(&self) -> Option<&'b str> {
        let i = self.target.as_bytes().iter().position(|&b| b == b'?')?;
        self.target.get(i + 1..)
    }

    /// The value of the first header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'b [u8]> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name.as_bytes()))
            .map(|h| h.value)
    }

    /// The values of every header named `name` (ASCII case-insensitive), in order.
    pub fn headers_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'b [u8]> + 's {
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name.as_bytes()))
            .map(|h| h.value)
    }
}

/// Parse a request head from the start of `buf`.
///
/// On success returns the request and the head length, counting through the
/// final CRLFCRLF (and the skipped leading empty line, if any); the body, if
/// any, starts at that offset. Returns [`Status::Partial`] when `buf` ends
/// before the head does. Limits are enforced even on partial input: a target
/// longer than `limits.max_target_len` gives [`Error::UriTooLong`], a head
/// longer than `limits.max_head_len` [`Error::HeadTooLarge`], and more than
/// `min(limits.max_headers, headers.len())` header lines
/// [`Error::TooManyHeaders`].
pub fn parse_request<'b, 'h>(
    buf: &'b [u8],
    headers: &'h mut [Header<'b>],
    limits: &Limits,
) -> Result<Status<(Request<'b, 'h>, usize)>, Error> {
    let window = match buf.get(..limits.max_head_len) {
        Some(w) => w,
        None => buf,
    };
    let max_headers = limits.max_headers.min(headers.len());
    match parse_head(window, headers, max_headers, limits.max_target_len)? {
        Some((line, count, len)) => {
            let headers: &'h [Header<'b>] = headers;
            let request = Request {
                method: line.method,
                method_str: line.method_str,
                target: line.target,
                version: line.version,
                headers: headers.get(..count).unwrap_or(&[]),
            };
            Ok(Status::Complete((request, len)))
        }
        None if buf.len() > limits.max_head_len => Err(Error::HeadTooLarge),
        None => Ok(Status::Partial),
    }
}

/// `Ok(None)` is "partial".
type Parsed<'b> = Result<Option<(RequestLine<'b>, usize, usize)>, Error>;

/// The request line, then the field lines.
#[inline(always)]
fn parse_head<'b>(
    buf: &'b [u8],
    headers: &mut [Header<'b>],
    max_headers: usize,
    max_target_len: usize,
) -> Parsed<'b> {
    let Some((line, i)) = line::parse_request_line(buf, max_target_len)? else {
        return Ok(None);
    };
    let parsed = fields::parse_fields(buf, i, headers, max_headers)?;
    Ok(parsed.map(|(count, len)| (line.line(buf), count, len)))
}

/// `s` as text; only called on bytes already checked to be ASCII, so the
/// fallback is unreachable.
#[inline(always)]
fn ascii(s: &[u8]) -> &str {
    core::str::from_utf8(s).unwrap_or("")
}

/// Find the end of a request head: the offset just past the first CRLFCRLF,
/// ignoring one leading empty line as [`parse_request`] does.
///
/// `already_scanned` is how many bytes of `buf` a previous call searched
/// without success (0 the first time, then the previous `buf.len()`); the
/// search resumes three bytes before it, so feeding a head byte by byte
/// costs linear, not quadratic, time. The result agrees with the length
/// [`parse_request`] returns for any head that parses.
pub fn find_head_end(buf: &[u8], already_scanned: usize) -> Option<usize> {
    let lead = if buf.starts_with(b"\r\n") { 2 } else { 0 };
    let from = lead.max(already_scanned.saturating_sub(3));
    let mut i = from.checked_add(3)?;
    loop {
        i = find::<Lf>(buf, i);
        if i >= buf.len() {
            return None;
        }
        if let Some(b"\r\n\r") = buf.get(i - 3..i) {
            return Some(i + 1);
        }
        i += 1;
    }
}
