//! Message framing of a request (RFC 9112 6, RFC 9110 7.2): where the body
//! ends and whether the connection stays open afterwards.
//!
//! The rules are strict on purpose, because disagreeing with a proxy about
//! framing is how request smuggling works: Transfer-Encoding together with
//! Content-Length is refused, as is Transfer-Encoding on HTTP/1.0, any
//! final coding but chunked, and Content-Length lists whose values differ.
//! The Host rules of RFC 9112 3.2 are checked here too, since every server
//! calls this for every request: one Host line (none is allowed only in
//! HTTP/1.0), and its value `uri-host [ ":" port ]` ([`is_valid_host`]).

use crate::chars::{list_has_token, trim_ows};
use crate::error::Error;
use crate::host::is_valid_host;
use crate::request::{Request, Version};

/// How the request body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// No body (neither Content-Length nor Transfer-Encoding).
    None,
    /// Exactly this many bytes follow the head (`Content-Length`; may be 0).
    Length(u64),
    /// A chunked body follows; decode it with [`ChunkedDecoder`](crate::ChunkedDecoder).
    Chunked,
}

/// The framing of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Framing {
    /// How the body is delimited.
    pub body: BodyKind,
    /// Whether the client wants the connection kept open after the response.
    pub keep_alive: bool,
}

/// Work out the framing of `req`, checking the header rules that guard it.
///
/// * HTTP/1.1 needs exactly one `Host`; any request with two is refused,
///   as is any Host value that is not `uri-host [ ":" port ]` (RFC 9112
///   3.2: all three are 400).
/// * `Transfer-Encoding` is refused with `Content-Length`, on HTTP/1.0, when
///   empty or when its final coding is not `chunked` (400), and when it names
///   any coding besides `chunked` (501).
/// * `Content-Length` must be decimal digits; a list of identical values
///   (`5, 5`, or repeated lines) counts as one, differing values or overflow
///   are refused.
/// * Keep-alive: HTTP/1.1 unless `Connection` lists `close`; HTTP/1.0 only
///   if `Connection` lists `keep-alive` (and not `close`).
pub fn framing(req: &Request<'_, '_>) -> Result<Framing, Error> {
    let mut hosts = 0usize;
    let mut te_seen = false;
    let mut length: Option<u64> = None;
    let mut close = false;
    let mut keep_alive = false;
    for h in req.headers {
        let name = h.name;
        if name.eq_ignore_ascii_case(b"host") {
            if !is_valid_host(h.value) {
                return Err(Error::BadHost);
            }
            hosts += 1;
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            te_seen = true;
        } else if name.eq_ignore_ascii_case(b"content-length") {
            for el in h.value.split(|&b| b == b',') {
                let n = parse_length(trim_ows(el))?;
                match length {
                    Some(prev) if prev != n => return Err(Error::BadContentLength),
                    _ => length = Some(n),
                }
            }
        } else if name.eq_ignore_ascii_case(b"connection") {
            close |= list_has_token(h.value, "close");
            keep_alive |= list_has_token(h.value, "keep-alive");
        }
    }
    if hosts > 1 {
        return Err(Error::DuplicateHost);
    }
    if hosts == 0 && req.version == Version::Http11 {
        return Err(Error::MissingHost);
    }
    let keep_alive = match req.version {
        Version::Http11 => !close,
        Version::Http10 => keep_alive && !close,
    };
    let body = if te_seen {
        if req.version == Version::Http10 {
            return Err(Error::TransferEncodingOnHttp10);
        }
        if length.is_some() {
            return Err(Error::LengthAndChunked);
        }
        check_transfer_coding(req)?;
        BodyKind::Chunked
    } else {
        match length {
            Some(n) => BodyKind::Length(n),
            None => BodyKind::None,
        }
    };
    Ok(Framing { body, keep_alive })
}

/// Content-Length = 1*DIGIT, within `u64`.
fn parse_length(digits: &[u8]) -> Result<u64, Error> {
    if digits.is_empty() {
        return Err(Error::BadContentLength);
    }
    let mut n: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return Err(Error::BadContentLength);
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
            .ok_or(Error::BadContentLength)?;
    }
    Ok(n)
}

/// The codings of every Transfer-Encoding line, in order, must end in one
/// `chunked` and contain nothing else we implement.
fn check_transfer_coding(req: &Request<'_, '_>) -> Result<(), Error> {
    let mut last_chunked = false;
    let mut chunked_count = 0usize;
    let mut other = false;
    let mut any = false;
    for value in req.headers_named("transfer-encoding") {
        for el in value.split(|&b| b == b',') {
            let coding = trim_ows(el.split(|&b| b == b';').next().unwrap_or(&[]));
            if trim_ows(el).is_empty() {
                continue; // empty list elements are allowed (RFC 9110 5.6.1)
            }
            if !crate::chars::is_token_str(coding) {
                return Err(Error::BadTransferEncoding);
            }
            any = true;
            last_chunked = coding.eq_ignore_ascii_case(b"chunked");
            if last_chunked {
                chunked_count += 1;
            } else {
                other = true;
            }
        }
    }
    if !any || !last_chunked || chunked_count > 1 {
        return Err(Error::BadTransferEncoding);
    }
    if other {
        return Err(Error::UnsupportedTransferEncoding);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;
    use crate::request::{parse_request, Header, Status};

    fn fr(head: &str) -> Result<Framing, Error> {
        let mut h = [Header::EMPTY; 16];
        match parse_request(head.as_bytes(), &mut h, &Limits::default()) {
            Ok(Status::Complete((req, _))) => framing(&req),
            other => panic!("head did not parse: {other:?}"),
        }
    }

    fn ok(body: BodyKind, keep_alive: bool) -> Result<Framing, Error> {
        Ok(Framing { body, keep_alive })
    }

    #[test]
    fn host_rules() {
        assert_eq!(
            fr("GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
            ok(BodyKind::None, true)
        );
        assert_eq!(fr("GET / HTTP/1.1\r\n\r\n"), Err(Error::MissingHost));
        assert_eq!(
            fr("GET / HTTP/1.1\r\nHOST: a\r\nhost: a\r\n\r\n"),
            Err(Error::DuplicateHost)
        );
        assert_eq!(fr("GET / HTTP/1.0\r\n\r\n"), ok(BodyKind::None, false));
        assert_eq!(
            fr("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"),
            Err(Error::DuplicateHost)
        );
        // an empty Host is allowed (RFC 9110 7.2)
        assert_eq!(
            fr("GET / HTTP/1.1\r\nHost:\r\n\r\n"),
            ok(BodyKind::None, true)
        );
        assert_eq!(
            fr("GET / HTTP/1.1\r\nHost:   \r\n\r\n"),
            ok(BodyKind::None, true)
        );
        // the value must be uri-host [":" port] (RFC 9112 3.2), OWS aside
        for host in ["localhost:8888", "10.0.2.15", "[::1]:80", " a.example\t"] {
            let head = format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
            assert_eq!(fr(&head), ok(BodyKind::None, true), "{host:?}");
        }
        for host in ["a b", "a@b", "a:b", "[::1", "a:99999", "a:1:2", "caf\u{e9}"] {
            let head = format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
            assert_eq!(fr(&head), Err(Error::BadHost), "{host:?}");
        }
        // HTTP/1.0 may leave Host out, but one it sends is checked too
        assert_eq!(
            fr("GET / HTTP/1.0\r\nHost: a b\r\n\r\n"),
            Err(Error::BadHost)
        );
        // an absolute-form target does not excuse the Host line (RFC 9112 3.2.2)
        assert_eq!(
            fr("GET http://a/ HTTP/1.1\r\nHost: a b\r\n\r\n"),
            Err(Error::BadHost)
        );
        assert_eq!(
            fr("GET http://a/ HTTP/1.1\r\n\r\n"),
            Err(Error::MissingHost)
        );
    }

    #[test]
    fn keep_alive_rules() {
        let c = |v: &str, conn: &str| {
            fr(&format!(
                "GET / {v}\r\nHost: a\r\nConnection: {conn}\r\n\r\n"
            ))
            .unwrap()
            .keep_alive
        };
        assert!(c("HTTP/1.1", "keep-alive"));
        assert!(c("HTTP/1.1", "upgrade"));
        assert!(!c("HTTP/1.1", "close"));
        assert!(!c("HTTP/1.1", "Upgrade, CLOSE"));
        assert!(c("HTTP/1.0", "Keep-Alive"));
        assert!(c("HTTP/1.0", "foo , keep-alive"));
        assert!(!c("HTTP/1.0", "close"));
        assert!(!c("HTTP/1.0", "keep-alive, close"));
        assert!(!c("HTTP/1.0", "keep-alived"));
        // tokens spread over several lines
        let r = fr("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo\r\nConnection: close\r\n\r\n");
        assert_eq!(r, ok(BodyKind::None, false));
    }

    #[test]
    fn content_length_rules() {
        let cl = |v: &str| {
            fr(&format!(
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {v}\r\n\r\n"
            ))
            .map(|f| f.body)
        };
        assert_eq!(cl("0"), Ok(BodyKind::Length(0)));
        assert_eq!(cl("42"), Ok(BodyKind::Length(42)));
        assert_eq!(cl("007"), Ok(BodyKind::Length(7)));
        assert_eq!(cl("5, 5"), Ok(BodyKind::Length(5)));
        assert_eq!(cl("5,5,5"), Ok(BodyKind::Length(5)));
        assert_eq!(cl("18446744073709551615"), Ok(BodyKind::Length(u64::MAX)));
        assert_eq!(cl("18446744073709551616"), Err(Error::BadContentLength));
        assert_eq!(cl("99999999999999999999999"), Err(Error::BadContentLength));
        assert_eq!(cl("5, 6"), Err(Error::BadContentLength));
        assert_eq!(cl("5,"), Err(Error::BadContentLength));
        assert_eq!(cl(""), Err(Error::BadContentLength));
        assert_eq!(cl("-1"), Err(Error::BadContentLength));
        assert_eq!(cl("+1"), Err(Error::BadContentLength));
        assert_eq!(cl("1 2"), Err(Error::BadContentLength));
        assert_eq!(cl("0x10"), Err(Error::BadContentLength));
        let two = |a: &str, b: &str| {
            fr(&format!(
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {a}\r\nContent-Length: {b}\r\n\r\n"
            ))
            .map(|f| f.body)
        };
        assert_eq!(two("3", "3"), Ok(BodyKind::Length(3)));
        assert_eq!(two("3", "4"), Err(Error::BadContentLength));
        // HTTP/1.0 with a length
        assert_eq!(
            fr("POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\n"),
            ok(BodyKind::Length(3), false)
        );
    }

    #[test]
    fn transfer_encoding_rules() {
        let te = |v: &str| {
            fr(&format!(
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: {v}\r\n\r\n"
            ))
            .map(|f| f.body)
        };
        assert_eq!(te("chunked"), Ok(BodyKind::Chunked));
        assert_eq!(te("Chunked"), Ok(BodyKind::Chunked));
        assert_eq!(te(" , chunked"), Ok(BodyKind::Chunked));
        assert_eq!(te("gzip, chunked"), Err(Error::UnsupportedTransferEncoding));
        assert_eq!(
            te("identity, chunked"),
            Err(Error::UnsupportedTransferEncoding)
        );
        assert_eq!(te("gzip"), Err(Error::BadTransferEncoding));
        assert_eq!(te("chunked, gzip"), Err(Error::BadTransferEncoding));
        assert_eq!(te("chunked, chunked"), Err(Error::BadTransferEncoding));
        assert_eq!(te(""), Err(Error::BadTransferEncoding));
        assert_eq!(te(","), Err(Error::BadTransferEncoding));
        assert_eq!(te("chun ked"), Err(Error::BadTransferEncoding));
        assert_eq!(te("chunkedx"), Err(Error::BadTransferEncoding));
        // codings over several lines are one list
        let r = fr("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(r, Err(Error::UnsupportedTransferEncoding));
        let r = fr("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(r, Err(Error::BadTransferEncoding));
        // smuggling guards
        let r = fr(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        );
        assert_eq!(r, Err(Error::LengthAndChunked));
        let r = fr(
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        );
        assert_eq!(r, Err(Error::LengthAndChunked));
        let r = fr("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(r, Err(Error::TransferEncodingOnHttp10));
        let r = fr("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n");
        assert_eq!(r, Err(Error::TransferEncodingOnHttp10));
        // keep-alive is still reported with a chunked body
        let r = fr(
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(r, ok(BodyKind::Chunked, false));
    }
}
