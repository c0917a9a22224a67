//! Request-head parsing: request line and header fields (RFC 9112 2-5).
//!
//! [`parse_request`] borrows everything from the input buffer and fills a
//! caller-provided header slice; it never allocates and never panics. Only
//! CRLF ends a line (bare LF and bare CR are rejected), one leading empty
//! line is skipped, obsolete line folding is rejected.

use crate::chars::{is_token, TOKEN};
use crate::error::Error;
use crate::limits::Limits;
use crate::scan::{find, is_uri, Lf, NotVisible, ValueEnd};

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

struct RequestLine<'b> {
    method: Method,
    method_str: &'b str,
    target: &'b str,
    version: Version,
}

/// `Ok(None)` is "partial".
type Parsed<'b> = Result<Option<(RequestLine<'b>, usize, usize)>, Error>;

#[inline(always)]
fn parse_head<'b>(
    buf: &'b [u8],
    headers: &mut [Header<'b>],
    max_headers: usize,
    max_target_len: usize,
) -> Parsed<'b> {
    // One optional empty line before the request line (RFC 9112 2.2).
    let start = match buf {
        [] | [b'\r'] => return Ok(None),
        [b'\r', b'\n', ..] => 2,
        [b'\r' | b'\n', ..] => return Err(Error::BadRequestLine),
        _ => 0,
    };

    // method SP: GET and POST by their first bytes, the rest by a search.
    let (method, m_end) = match buf.get(start..).and_then(|b| b.first_chunk::<5>()) {
        Some([b'G', b'E', b'T', b' ', _]) => (Method::Get, start + 3),
        Some(b"POST ") => (Method::Post, start + 4),
        _ => {
            let m_end = find::<NotVisible>(buf, start);
            let method_bytes = &buf[start..m_end];
            let method = Method::from_bytes(method_bytes);
            let valid = method != Method::Other || all_in(method_bytes, &TOKEN);
            match buf.get(m_end) {
                None if valid => return Ok(None),
                Some(b' ') if valid && m_end > start => {}
                _ => return Err(Error::BadMethod),
            }
            (method, m_end)
        }
    };

    // request-target SP
    let t_start = m_end + 1;
    let t_limit = t_start.saturating_add(max_target_len).saturating_add(1);
    let t_end = match buf.get(..t_limit) {
        Some(b) => find::<NotVisible>(b, t_start),
        None => find::<NotVisible>(buf, t_start),
    };
    if t_end - t_start > max_target_len {
        return Err(Error::UriTooLong);
    }
    let target_ok = is_uri(buf, t_start, t_end);
    match buf.get(t_end) {
        None if target_ok => return Ok(None),
        Some(b' ') if target_ok && t_end > t_start => {}
        Some(b'\r' | b'\n') => return Err(Error::BadRequestLine),
        _ => return Err(Error::BadTarget),
    }
    check_target_form(method, &buf[t_start..t_end])?;

    // HTTP-version CRLF
    let v_start = t_end + 1;
    let fast = buf
        .get(v_start..)
        .and_then(|v| v.first_chunk::<10>())
        .map(|v| {
            let [a @ .., _, _] = *v;
            let [.., c, d] = *v;
            (u64::from_le_bytes(a), [c, d])
        });
    const V11: u64 = u64::from_le_bytes(*b"HTTP/1.1");
    const V10: u64 = u64::from_le_bytes(*b"HTTP/1.0");
    let (version, mut i) = match fast {
        Some((V11, [b'\r', b'\n'])) => (Version::Http11, v_start + 10),
        Some((V10, [b'\r', b'\n'])) => (Version::Http10, v_start + 10),
        _ => match parse_version(buf.get(v_start..).unwrap_or(&[]))? {
            Some(v) => (v, v_start + 10),
            None => return Ok(None),
        },
    };

    // header field lines
    let mut count = 0;
    loop {
        match buf.get(i) {
            None => return Ok(None),
            Some(b'\r') => {
                return match buf.get(i + 1) {
                    None => Ok(None),
                    Some(b'\n') => Ok(Some((
                        RequestLine {
                            method,
                            method_str: match method {
                                Method::Other => ascii(&buf[start..m_end]),
                                known => known.as_str(),
                            },
                            target: ascii(&buf[t_start..t_end]),
                            version,
                        },
                        count,
                        i + 2,
                    ))),
                    Some(_) => Err(Error::BadHeaderValue),
                };
            }
            Some(b'\n') => return Err(Error::BadHeaderValue),
            Some(b' ' | b'\t') if count > 0 => return Err(Error::ObsoleteLineFolding),
            Some(_) => {}
        }
        if count >= max_headers {
            return Err(Error::TooManyHeaders);
        }
        // field-name ":"
        // Names are short: a byte loop, whose exit the CPU predicts, beats
        // a word search whose result every later step waits on.
        let n_start = i;
        let mut n_end = n_start;
        while let Some(&b) = buf.get(n_end) {
            if !is_token(b) {
                break;
            }
            n_end += 1;
        }
        match buf.get(n_end) {
            Some(b':') if n_end > n_start => {}
            None => return Ok(None),
            _ => return Err(Error::BadHeaderName),
        }
        let name = &buf[n_start..n_end];
        // OWS field-value OWS CRLF
        // A loop, not a conditional add: its exit is predicted, while an
        // add would make every later step wait for this byte's load.
        let mut v_start = n_end + 1;
        while let Some(b' ' | b'\t') = buf.get(v_start) {
            v_start += 1;
        }
        let v_end = find::<ValueEnd>(buf, v_start);
        match buf.get(v_end) {
            None => return Ok(None),
            Some(b'\r') => {}
            Some(_) => return Err(Error::BadHeaderValue),
        }
        match buf.get(v_end + 1) {
            None => return Ok(None),
            Some(b'\n') => {}
            Some(_) => return Err(Error::BadHeaderValue),
        }
        let mut value = &buf[v_start..v_end];
        while let [rest @ .., b' ' | b'\t'] = value {
            value = rest;
        }
        if let Some(slot) = headers.get_mut(count) {
            *slot = Header { name, value };
        }
        count += 1;
        i = v_end + 2;
    }
}

/// Slow path for the version: `HTTP/DIGIT.DIGIT CRLF`, possibly cut short.
fn parse_version(v: &[u8]) -> Result<Option<Version>, Error> {
    const SHAPE: &[u8; 10] = b"HTTP/0.0\r\n";
    for (k, (&b, &want)) in v.iter().zip(SHAPE.iter()).enumerate() {
        let ok = match k {
            5 | 7 => b.is_ascii_digit(),
            _ => b == want,
        };
        if !ok {
            return Err(if k < 8 {
                Error::BadVersion
            } else {
                Error::BadRequestLine
            });
        }
    }
    match v.get(..8) {
        None => Ok(None),
        Some(b"HTTP/1.1") | Some(b"HTTP/1.0") if v.len() < 10 => Ok(None),
        Some(b"HTTP/1.1") => Ok(Some(Version::Http11)),
        Some(b"HTTP/1.0") => Ok(Some(Version::Http10)),
        Some(_) => Err(Error::VersionNotSupported),
    }
}

/// The four request-target forms of RFC 9112 3.2.
fn check_target_form(method: Method, t: &[u8]) -> Result<(), Error> {
    match t {
        [b'/', ..] => Ok(()),
        [b'*'] if method == Method::Options => Ok(()),
        _ if method == Method::Connect => Ok(()),
        [first, rest @ ..] if first.is_ascii_alphabetic() => {
            for &b in rest {
                if b == b':' {
                    return Ok(());
                }
                if !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')) {
                    break;
                }
            }
            Err(Error::BadTarget)
        }
        _ => Err(Error::BadTarget),
    }
}

/// `s` as text; only called on bytes already checked to be ASCII, so the
/// fallback is unreachable.
#[inline(always)]
fn ascii(s: &[u8]) -> &str {
    core::str::from_utf8(s).unwrap_or("")
}

/// Is every byte of `s` in `table`? (No early exit: the answer is almost
/// always yes, and a branch-free loop is faster then.)
#[inline(always)]
fn all_in(s: &[u8], table: &[bool; 256]) -> bool {
    let (chunks, tail) = s.as_chunks::<8>();
    let mut ok = chunks.iter().fold(true, |ok, c| {
        ok & table[c[0] as usize]
            & table[c[1] as usize]
            & table[c[2] as usize]
            & table[c[3] as usize]
            & table[c[4] as usize]
            & table[c[5] as usize]
            & table[c[6] as usize]
            & table[c[7] as usize]
    });
    for &b in tail {
        ok &= table[b as usize];
    }
    ok
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{MAX_HEADERS, MAX_HEAD_LEN, MAX_TARGET_LEN};

    type Fields = (
        Method,
        String,
        String,
        Version,
        Vec<(String, Vec<u8>)>,
        usize,
    );
    type Parsed = Result<Status<Fields>, Error>;

    fn parse_with(buf: &[u8], slots: usize, limits: &Limits) -> Parsed {
        let mut h = vec![Header::EMPTY; slots];
        parse_request(buf, &mut h, limits).map(|s| match s {
            Status::Complete((r, n)) => Status::Complete((
                r.method,
                r.method_str.to_string(),
                r.target.to_string(),
                r.version,
                r.headers
                    .iter()
                    .map(|h| (h.name_str().to_string(), h.value.to_vec()))
                    .collect(),
                n,
            )),
            Status::Partial => Status::Partial,
        })
    }

    fn parse(buf: &[u8]) -> Parsed {
        parse_with(buf, 64, &Limits::default())
    }

    /// Parse complete input, and check every proper prefix is Partial.
    fn complete(buf: &[u8]) -> Fields {
        for cut in 0..buf.len() {
            assert_eq!(
                parse(&buf[..cut]),
                Ok(Status::Partial),
                "prefix {cut} of {:?}",
                String::from_utf8_lossy(buf)
            );
        }
        match parse(buf) {
            Ok(Status::Complete(r)) => r,
            other => panic!("{other:?} for {:?}", String::from_utf8_lossy(buf)),
        }
    }

    /// The error for `buf`, which every longer input shares.
    fn error(buf: &[u8]) -> Error {
        let e = parse(buf).expect_err("expected an error");
        let mut longer = buf.to_vec();
        longer.extend_from_slice(b"\r\nX: y\r\n\r\n");
        assert_eq!(
            parse(&longer),
            Err(e),
            "longer input, {:?}",
            String::from_utf8_lossy(buf)
        );
        e
    }

    #[test]
    fn simple_get() {
        let r =
            complete(b"GET /index.html?a=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n");
        assert_eq!(r.0, Method::Get);
        assert_eq!(r.1, "GET");
        assert_eq!(r.2, "/index.html?a=1");
        assert_eq!(r.3, Version::Http11);
        assert_eq!(
            r.4,
            [
                ("Host".into(), b"example.com".to_vec()),
                ("Accept".into(), b"*/*".to_vec())
            ]
        );
        assert_eq!(r.5, 64);
    }

    #[test]
    fn body_is_not_part_of_the_head() {
        let buf = b"POST / HTTP/1.0\r\nContent-Length: 4\r\n\r\nbody";
        assert_eq!(complete(&buf[..buf.len() - 4]).5, buf.len() - 4);
        match parse(buf) {
            Ok(Status::Complete(r)) => assert_eq!(r.5, buf.len() - 4),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn methods() {
        for (m, s) in [
            (Method::Get, "GET"),
            (Method::Head, "HEAD"),
            (Method::Post, "POST"),
            (Method::Put, "PUT"),
            (Method::Delete, "DELETE"),
            (Method::Options, "OPTIONS"),
            (Method::Patch, "PATCH"),
            (Method::Trace, "TRACE"),
        ] {
            let r = complete(format!("{s} / HTTP/1.1\r\n\r\n").as_bytes());
            assert_eq!((r.0, r.1.as_str()), (m, s));
            assert_eq!(m.as_str(), s);
            assert_eq!(Method::from_bytes(s.as_bytes()), m);
        }
        let r = complete(b"CONNECT example.com:443 HTTP/1.1\r\n\r\n");
        assert_eq!((r.0, r.2.as_str()), (Method::Connect, "example.com:443"));
        // GETS and POSTS share a prefix with the methods read by their
        // first bytes.
        for other in [
            "get",
            "PROPFIND",
            "M-SEARCH",
            "X!#$%&'*+-.^_`|~",
            "GETS",
            "POSTS",
        ] {
            let r = complete(format!("{other} / HTTP/1.1\r\n\r\n").as_bytes());
            assert_eq!((r.0, r.1.as_str()), (Method::Other, other));
        }
        assert_eq!(Method::Other.as_str(), "");
        let r = complete(b"\r\nPOST /x HTTP/1.1\r\n\r\n");
        assert_eq!((r.0, r.2.as_str(), r.5), (Method::Post, "/x", 22));
    }

    #[test]
    fn bad_methods() {
        assert_eq!(error(b" / HTTP/1.1\r\n"), Error::BadMethod);
        assert_eq!(error(b"G(T / HTTP/1.1\r\n"), Error::BadMethod);
        assert_eq!(error(b"GET\t/ HTTP/1.1\r\n"), Error::BadMethod);
        assert_eq!(error(b"GE\xc3\xa9T / HTTP/1.1\r\n"), Error::BadMethod);
        assert_eq!(error(b"GET\r\n"), Error::BadMethod);
        assert_eq!(error(b"G:T / HTTP/1.1\r\n"), Error::BadMethod);
    }

    #[test]
    fn targets() {
        for t in [
            "/",
            "*",
            "/a/b;c=d?x=%20&y=+!$&'()*,;=:@-._~[]",
            "http://example.com/x?y",
            "h2c+x.y-z:rest",
        ] {
            let m = if t == "*" { "OPTIONS" } else { "GET" };
            let r = complete(format!("{m} {t} HTTP/1.1\r\n\r\n").as_bytes());
            assert_eq!(r.2, t);
        }
        assert_eq!(error(b"GET  / HTTP/1.1\r\n"), Error::BadTarget);
        assert_eq!(error(b"GET * HTTP/1.1\r\n"), Error::BadTarget);
        assert_eq!(error(b"GET example.com HTTP/1.1\r\n"), Error::BadTarget);
        assert_eq!(error(b"GET 1http://x/ HTTP/1.1\r\n"), Error::BadTarget);
        assert_eq!(error(b"GET a/b:c HTTP/1.1\r\n"), Error::BadTarget);
        for bad in [
            &b"/a#frag"[..],
            b"/a\"b",
            b"/<",
            b"/>",
            b"/\\",
            b"/^",
            b"/`",
            b"/{",
            b"/|",
            b"/}",
            b"/\x7f",
            b"/\xc3\xa9",
            b"/\x00",
            b"/\t",
        ] {
            let mut req = b"GET ".to_vec();
            req.extend_from_slice(bad);
            req.extend_from_slice(b" HTTP/1.1\r\n\r\n");
            assert_eq!(parse(&req), Err(Error::BadTarget), "{bad:?}");
        }
        // HTTP/0.9 style: no version
        assert_eq!(error(b"GET /\r\n"), Error::BadRequestLine);
        assert_eq!(error(b"GET /\n"), Error::BadRequestLine);
    }

    #[test]
    fn path_and_query() {
        let mut h = [Header::EMPTY; 4];
        let buf = b"GET /a/b?x=1&y=?z HTTP/1.1\r\nHost: h\r\nX: 1\r\nx: 2\r\n\r\n";
        let Ok(Status::Complete((r, _))) = parse_request(buf, &mut h, &Limits::default()) else {
            panic!()
        };
        assert_eq!(r.path(), "/a/b");
        assert_eq!(r.query(), Some("x=1&y=?z"));
        assert_eq!(r.header("HOST"), Some(&b"h"[..]));
        assert_eq!(r.header("x"), Some(&b"1"[..]));
        assert_eq!(r.header("missing"), None);
        assert_eq!(r.headers_named("X").collect::<Vec<_>>(), [b"1", b"2"]);
        let buf = b"GET /p? HTTP/1.1\r\n\r\n";
        let Ok(Status::Complete((r, _))) = parse_request(buf, &mut h, &Limits::default()) else {
            panic!()
        };
        assert_eq!((r.path(), r.query()), ("/p", Some("")));
        let buf = b"GET /p HTTP/1.1\r\n\r\n";
        let Ok(Status::Complete((r, _))) = parse_request(buf, &mut h, &Limits::default()) else {
            panic!()
        };
        assert_eq!((r.path(), r.query()), ("/p", None));
    }

    #[test]
    fn versions() {
        assert_eq!(complete(b"GET / HTTP/1.0\r\n\r\n").3, Version::Http10);
        assert_eq!(Version::Http10.as_str(), "HTTP/1.0");
        assert_eq!(Version::Http11.as_str(), "HTTP/1.1");
        for v in ["HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTP/9.9", "HTTP/3.0"] {
            let req = format!("GET / {v}\r\n\r\n");
            assert_eq!(
                parse(req.as_bytes()),
                Err(Error::VersionNotSupported),
                "{v}"
            );
            // detected as soon as the CRLF is there, before the head ends
            assert_eq!(
                parse(&req.as_bytes()[..req.len() - 2]),
                Err(Error::VersionNotSupported),
                "{v}"
            );
        }
        for v in [
            "http/1.1",
            "HTTP/1",
            "HTTP/11",
            "HTTP/1.a",
            "HTTP 1.1",
            "HTTPS/1.1",
            "HTTP/1,1",
            "XTTP/1.1",
            "HTTP/1.1x",
        ] {
            let req = format!("GET / {v}\r\n\r\n");
            assert!(
                matches!(
                    parse(req.as_bytes()),
                    Err(Error::BadVersion | Error::BadRequestLine)
                ),
                "{v}"
            );
        }
        assert_eq!(error(b"GET / http"), Error::BadVersion);
        assert_eq!(error(b"GET / HTTP/1.1 \r\n"), Error::BadRequestLine);
        assert_eq!(error(b"GET / HTTP/1.1\n"), Error::BadRequestLine);
        assert_eq!(error(b"GET / HTTP/1.1\rX"), Error::BadRequestLine);
        assert_eq!(error(b"GET / HTTP/1.10"), Error::BadRequestLine);
    }

    #[test]
    fn leading_empty_line() {
        let r = complete(b"\r\nGET / HTTP/1.1\r\n\r\n");
        assert_eq!((r.2.as_str(), r.5), ("/", 20));
        assert_eq!(
            parse(b"\r\n\r\nGET / HTTP/1.1\r\n\r\n"),
            Err(Error::BadMethod)
        );
        assert_eq!(
            parse(b"\nGET / HTTP/1.1\r\n\r\n"),
            Err(Error::BadRequestLine)
        );
        assert_eq!(
            parse(b"\rGET / HTTP/1.1\r\n\r\n"),
            Err(Error::BadRequestLine)
        );
    }

    #[test]
    fn header_values() {
        let r = complete(b"GET / HTTP/1.1\r\nA:b\r\nB: \t spaced \t out \t \r\nC:\r\nD:   \r\nE: \xff\x80obs\tt\r\nF: \"q\" ~\r\n\r\n");
        let v: Vec<(&str, &[u8])> =
            r.4.iter()
                .map(|(n, v)| (n.as_str(), v.as_slice()))
                .collect();
        assert_eq!(
            v,
            [
                ("A", &b"b"[..]),
                ("B", b"spaced \t out"),
                ("C", b""),
                ("D", b""),
                ("E", b"\xff\x80obs\tt"),
                ("F", b"\"q\" ~"),
            ]
        );
        for bad in [
            &b"X: a\x00b"[..],
            b"X: a\x01",
            b"X: a\x7fb",
            b"X: a\x1b[0m",
            b"X: a\rb",
            b"X: a\nY: b",
            b"X: \x0b",
        ] {
            let mut req = b"GET / HTTP/1.1\r\n".to_vec();
            req.extend_from_slice(bad);
            req.extend_from_slice(b"\r\n\r\n");
            assert_eq!(parse(&req), Err(Error::BadHeaderValue), "{bad:?}");
        }
        assert_eq!(error(b"GET / HTTP/1.1\r\nX: y\n"), Error::BadHeaderValue);
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nX: y\r\n\n"),
            Error::BadHeaderValue
        );
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nX: y\r\n\rZ"),
            Error::BadHeaderValue
        );
    }

    #[test]
    fn header_names() {
        let r = complete(b"GET / HTTP/1.1\r\nx-!#$%&'*+.^_`|~9: 1\r\nhOsT: h\r\n\r\n");
        assert_eq!(r.4[0].0, "x-!#$%&'*+.^_`|~9");
        assert_eq!(r.4[1].0, "hOsT");
        // The name is the sent bytes; name_str is the same text.
        let mut h = [Header::EMPTY; 2];
        let buf = b"GET / HTTP/1.1\r\nContent-Length: 0\r\nx-Y: 1\r\n\r\n";
        let Ok(Status::Complete((req, _))) = parse_request(buf, &mut h, &Limits::default()) else {
            panic!("valid request")
        };
        assert_eq!(req.headers[0].name, b"Content-Length");
        assert_eq!(req.headers[1].name, b"x-Y");
        assert_eq!(req.headers[1].name_str(), "x-Y");
        for bad in [
            &b"X : y"[..],
            b"X\t: y",
            b": y",
            b"X(: y",
            b"X\"Y: z",
            b"X/Y: z",
            b"\xc3\xa9: y",
            b"X\x00: y",
            b"X y: z",
            b"X",
        ] {
            let mut req = b"GET / HTTP/1.1\r\n".to_vec();
            req.extend_from_slice(bad);
            req.extend_from_slice(b"\r\n\r\n");
            assert_eq!(
                parse(&req),
                Err(Error::BadHeaderName),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // whitespace between the request line and the first field (RFC 9112 2.2)
        assert_eq!(error(b"GET / HTTP/1.1\r\n X: y\r\n"), Error::BadHeaderName);
        // obsolete line folding
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nX: y\r\n z\r\n"),
            Error::ObsoleteLineFolding
        );
        assert_eq!(
            error(b"GET / HTTP/1.1\r\nX: y\r\n\tz\r\n"),
            Error::ObsoleteLineFolding
        );
    }

    #[test]
    fn target_limit() {
        let limits = Limits {
            max_target_len: 10,
            ..Limits::default()
        };
        let at = b"GET /123456789 HTTP/1.1\r\n\r\n";
        assert!(matches!(
            parse_with(at, 8, &limits),
            Ok(Status::Complete(_))
        ));
        let past = b"GET /1234567890 HTTP/1.1\r\n\r\n";
        assert_eq!(parse_with(past, 8, &limits), Err(Error::UriTooLong));
        // detected while partial, before the space after the target arrives
        assert_eq!(parse_with(&past[..15], 8, &limits), Err(Error::UriTooLong));
        assert_eq!(parse_with(&past[..14], 8, &limits), Ok(Status::Partial));
        // the default
        let t = "/".repeat(MAX_TARGET_LEN);
        assert!(matches!(
            parse(format!("GET {t} HTTP/1.1\r\n\r\n").as_bytes()),
            Ok(Status::Complete(_))
        ));
        assert_eq!(
            parse(format!("GET {t}a HTTP/1.1\r\n\r\n").as_bytes()),
            Err(Error::UriTooLong)
        );
        assert_eq!(
            parse(format!("GET {t}a").as_bytes()),
            Err(Error::UriTooLong)
        );
        assert_eq!(Error::UriTooLong.status(), 414);
    }

    fn head_of_len(n: usize) -> Vec<u8> {
        // "GET / HTTP/1.1\r\n" (16) + "X: " (3) + value + "\r\n\r\n" (4)
        let mut v = b"GET / HTTP/1.1\r\nX: ".to_vec();
        v.resize(n - 4, b'v');
        v.extend_from_slice(b"\r\n\r\n");
        v
    }

    #[test]
    fn head_limit() {
        let limits = Limits {
            max_head_len: 100,
            ..Limits::default()
        };
        let at = head_of_len(100);
        assert!(matches!(
            parse_with(&at, 8, &limits),
            Ok(Status::Complete((.., 100)))
        ));
        // a body after the head does not count
        let mut with_body = at.clone();
        with_body.extend_from_slice(&[b'b'; 50]);
        assert!(matches!(
            parse_with(&with_body, 8, &limits),
            Ok(Status::Complete((.., 100)))
        ));
        let past = head_of_len(101);
        assert_eq!(parse_with(&past, 8, &limits), Err(Error::HeadTooLarge));
        // while partial: 100 bytes of an unfinished head are fine, 101 are not
        assert_eq!(parse_with(&past[..100], 8, &limits), Ok(Status::Partial));
        assert_eq!(
            parse_with(&past[..101], 8, &limits),
            Err(Error::HeadTooLarge)
        );
        // the default
        assert!(matches!(
            parse(&head_of_len(MAX_HEAD_LEN)),
            Ok(Status::Complete(_))
        ));
        assert_eq!(
            parse(&head_of_len(MAX_HEAD_LEN + 1)),
            Err(Error::HeadTooLarge)
        );
        assert_eq!(
            parse(&head_of_len(MAX_HEAD_LEN + 1)[..MAX_HEAD_LEN + 1]),
            Err(Error::HeadTooLarge)
        );
        assert_eq!(Error::HeadTooLarge.status(), 431);
    }

    fn with_headers(n: usize) -> Vec<u8> {
        let mut v = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..n {
            v.extend_from_slice(format!("H{i}: {i}\r\n").as_bytes());
        }
        v.extend_from_slice(b"\r\n");
        v
    }

    #[test]
    fn header_count_limit() {
        let limits = Limits {
            max_headers: 3,
            ..Limits::default()
        };
        assert!(matches!(
            parse_with(&with_headers(3), 10, &limits),
            Ok(Status::Complete(_))
        ));
        assert_eq!(
            parse_with(&with_headers(4), 10, &limits),
            Err(Error::TooManyHeaders)
        );
        // the slice caps it too
        assert!(matches!(
            parse_with(&with_headers(3), 3, &Limits::default()),
            Ok(Status::Complete(_))
        ));
        assert_eq!(
            parse_with(&with_headers(4), 3, &Limits::default()),
            Err(Error::TooManyHeaders)
        );
        assert!(matches!(
            parse_with(&with_headers(0), 0, &Limits::default()),
            Ok(Status::Complete(_))
        ));
        assert_eq!(
            parse_with(&with_headers(1), 0, &Limits::default()),
            Err(Error::TooManyHeaders)
        );
        // the default
        assert!(matches!(
            parse_with(&with_headers(MAX_HEADERS), 100, &Limits::default()),
            Ok(Status::Complete(_))
        ));
        assert_eq!(
            parse_with(&with_headers(MAX_HEADERS + 1), 100, &Limits::default()),
            Err(Error::TooManyHeaders)
        );
        assert_eq!(Error::TooManyHeaders.status(), 431);
    }

    #[test]
    fn head_end_search() {
        let req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY\r\n\r\n";
        assert_eq!(find_head_end(req, 0), Some(27));
        // fed byte by byte, resuming where the last call stopped
        let mut scanned = 0;
        let mut found = None;
        for n in 0..=req.len() {
            if let Some(end) = find_head_end(&req[..n], scanned) {
                found = Some((n, end));
                break;
            }
            scanned = n;
        }
        assert_eq!(found, Some((27, 27)));
        assert_eq!(find_head_end(b"\r\nGET / HTTP/1.1\r\n\r\n", 0), Some(20));
        assert_eq!(find_head_end(b"\r\n\r\n", 0), None);
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n\r", 0), None);
        assert_eq!(find_head_end(b"", 0), None);
        assert_eq!(find_head_end(b"ab", 100), None);
        assert_eq!(find_head_end(b"ab", usize::MAX), None);
        // agrees with parse_request
        for buf in [
            &req[..],
            b"\r\nGET / HTTP/1.1\r\nA: b\r\n\r\n",
            &head_of_len(300),
        ] {
            let mut h = [Header::EMPTY; 8];
            let Ok(Status::Complete((_, n))) = parse_request(buf, &mut h, &Limits::default())
            else {
                panic!()
            };
            assert_eq!(find_head_end(buf, 0), Some(n));
        }
    }

    #[test]
    fn partial_everywhere_and_never_panics() {
        let req: &[u8] =
            b"\r\nPOST /a?b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nX:\t v \r\n\r\nabc";
        let r = complete(&req[..req.len() - 3]);
        assert_eq!(r.5, req.len() - 3);
        // corrupt each byte in turn: must not panic, and errors are stable
        for i in 0..req.len() {
            for b in [0u8, b'\r', b'\n', b' ', b':', 0xff, b'a'] {
                let mut v = req.to_vec();
                v[i] = b;
                let _ = parse(&v);
                let _ = parse_with(
                    &v,
                    1,
                    &Limits {
                        max_target_len: 2,
                        max_head_len: 20,
                        ..Limits::default()
                    },
                );
            }
        }
    }
}
