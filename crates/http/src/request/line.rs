//! The request line (RFC 9112 3): `method SP request-target SP
//! HTTP-version CRLF`, after one optional empty line (RFC 9112 2.2).

use super::{ascii, Method, Version};
use crate::chars::TOKEN;
use crate::error::Error;
use crate::scan::{find, is_uri, NotVisible};

/// A request line, its parts borrowed from the input.
pub(super) struct RequestLine<'b> {
    pub(super) method: Method,
    pub(super) method_str: &'b str,
    pub(super) target: &'b str,
    pub(super) version: Version,
}

/// Where a request line's parts lie in the input. The text slices are
/// made only once the whole head has parsed ([`LineSpans::line`]): kept
/// live across the field-line loop instead, they cost about a tenth of a
/// typical head's parse time (`make bench`, parse_request).
#[derive(Clone, Copy)]
pub(super) struct LineSpans {
    method: Method,
    method_span: (usize, usize),
    target_span: (usize, usize),
    version: Version,
}

impl LineSpans {
    /// The request line these spans of `buf` make.
    #[inline(always)]
    pub(super) fn line(self, buf: &[u8]) -> RequestLine<'_> {
        let (m_start, m_end) = self.method_span;
        let (t_start, t_end) = self.target_span;
        RequestLine {
            method: self.method,
            method_str: match self.method {
                Method::Other => ascii(&buf[m_start..m_end]),
                known => known.as_str(),
            },
            target: ascii(&buf[t_start..t_end]),
            version: self.version,
        }
    }
}

/// Parses the request line at the start of `buf`; returns where its parts
/// are and the offset of the first field line, or `None` when `buf` ends
/// first.
#[inline(always)]
pub(super) fn parse_request_line(
    buf: &[u8],
    max_target_len: usize,
) -> Result<Option<(LineSpans, usize)>, Error> {
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
    let (version, i) = match fast {
        Some((V11, [b'\r', b'\n'])) => (Version::Http11, v_start + 10),
        Some((V10, [b'\r', b'\n'])) => (Version::Http10, v_start + 10),
        _ => match parse_version(buf.get(v_start..).unwrap_or(&[]))? {
            Some(v) => (v, v_start + 10),
            None => return Ok(None),
        },
    };
    let line = LineSpans {
        method,
        method_span: (start, m_end),
        target_span: (t_start, t_end),
        version,
    };
    Ok(Some((line, i)))
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
