//! Reply heads (Date, Server, Content-Length, Connection), small replies
//! whose body rides in the output buffer, error pages, and replies whose
//! body is a file range the worker sends after the head.

use bedrock_http::{ResponseWriter, Version, WriteError};

use super::path::RESOLVE;
use super::{FileBody, FileCfg, HeadCtx, Plan};
use crate::out::Cursor;
use crate::sys::{self, Fd};

pub(super) const TEXT_HTML: &str = "text/html; charset=utf-8";

const FALLBACK_500: &[u8] =
    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// The head of a reply whose body is a file.
pub(super) struct FileHead<'a> {
    pub status: u16,
    pub content_type: &'a [u8],
    /// Written after Content-Type.
    pub headers: &'a [(&'a str, &'a [u8])],
    pub content_range: Option<&'a [u8]>,
}

fn begin<'o>(
    out: &'o mut [u8],
    h: &HeadCtx<'_>,
    status: u16,
) -> Result<ResponseWriter<'o>, WriteError> {
    let mut w = ResponseWriter::new(out, h.version, status)?;
    w.header("Date", h.date)?;
    w.header("Server", b"bedrock")?;
    Ok(w)
}

fn end(
    mut w: ResponseWriter<'_>,
    h: &HeadCtx<'_>,
    status: u16,
    len: Option<u64>,
) -> Result<usize, WriteError> {
    // No Content-Length on 1xx, 204 and 304 (RFC 9110 8.6).
    if let (Some(n), false) = (len, matches!(status, 100..=199 | 204 | 304)) {
        w.content_length(n)?;
    }
    match (h.keep, h.version) {
        (false, _) => {
            w.header("Connection", b"close")?;
        }
        (true, Version::Http10) => {
            w.header("Connection", b"keep-alive")?;
        }
        _ => {}
    }
    w.finish_head()
}

/// A bare 500 that closes, for when a head does not fit.
pub(super) fn fallback(out: &mut [u8]) -> Plan {
    let n = FALLBACK_500.len().min(out.len());
    out[..n].copy_from_slice(&FALLBACK_500[..n]);
    Plan {
        len: n,
        status: 500,
        body: None,
        body_bytes: 0,
        close: true,
        list: None,
    }
}

/// A reply with a small in-buffer body and extra headers.
pub fn small(
    out: &mut [u8],
    h: &HeadCtx<'_>,
    status: u16,
    ctype: Option<&str>,
    headers: &[(&str, &[u8])],
    body: &[u8],
) -> Plan {
    let r = (|| {
        let mut w = begin(out, h, status)?;
        if let Some(ct) = ctype {
            w.header("Content-Type", ct.as_bytes())?;
        }
        for (name, value) in headers {
            w.header(name, value)?;
        }
        end(w, h, status, Some(body.len() as u64))
    })();
    let Ok(mut len) = r else { return fallback(out) };
    let send_body = !h.head_only && !matches!(status, 204 | 304);
    if send_body {
        if out.len() - len < body.len() {
            return fallback(out);
        }
        out[len..len + body.len()].copy_from_slice(body);
        len += body.len();
    }
    Plan {
        len,
        status,
        body: None,
        body_bytes: if send_body { body.len() as u64 } else { 0 },
        close: !h.keep,
        list: None,
    }
}

/// An error page: `err/<code>.html` from the root if present, else a
/// small built-in page.
pub fn error(
    cfg: &FileCfg<'_>,
    out: &mut [u8],
    h: &HeadCtx<'_>,
    status: u16,
    headers: &[(&str, &[u8])],
) -> Plan {
    let mut name = [0u8; 16];
    let mut c = Cursor::new(&mut name);
    c.s("err/").n(u64::from(status)).s(".html\0");
    let n = c.len();
    let flags = sys::O_RDONLY | sys::O_NONBLOCK;
    if let Ok(fd) = Fd::openat2(cfg.root, &name[..n], flags, 0, RESOLVE) {
        if let Ok(st) = sys::fstat(fd.raw()) {
            let head = FileHead {
                status,
                content_type: TEXT_HTML.as_bytes(),
                headers,
                content_range: None,
            };
            if st.is_file() {
                if let Ok(len) = file_head(out, h, &head, st.size) {
                    return with_file(len, status, h, fd, 0, st.size);
                }
            }
        }
    }
    let mut page = [0u8; 256];
    let mut c = Cursor::new(&mut page);
    let reason = bedrock_http::reason_phrase(status);
    c.s("<!doctype html>\n<title>")
        .n(u64::from(status))
        .s(" ")
        .s(reason);
    c.s("</title>\n<h1>")
        .n(u64::from(status))
        .s(" ")
        .s(reason)
        .s("</h1>\n");
    let n = c.len();
    small(out, h, status, Some(TEXT_HTML), headers, &page[..n])
}

/// The head written (`len` bytes); `fd[offset..end]` planned as the body,
/// handed to the worker, unless there is nothing to send (HEAD, empty
/// range): then `fd` is closed here.
fn with_file(len: usize, status: u16, h: &HeadCtx<'_>, fd: Fd, offset: u64, end: u64) -> Plan {
    let body = (!h.head_only && end != offset).then(|| FileBody {
        fd: fd.into_raw(),
        offset,
        end,
    });
    Plan {
        len,
        status,
        body,
        body_bytes: body.map_or(0, |_| end - offset),
        close: !h.keep,
        list: None,
    }
}

/// Writes `head` with a Content-Length of `len`.
fn file_head(
    out: &mut [u8],
    h: &HeadCtx<'_>,
    head: &FileHead<'_>,
    len: u64,
) -> Result<usize, WriteError> {
    let mut w = begin(out, h, head.status)?;
    w.header("Content-Type", head.content_type)?;
    for (name, value) in head.headers {
        w.header(name, value)?;
    }
    if let Some(range) = head.content_range {
        w.header("Content-Range", range)?;
    }
    end(w, h, head.status, Some(len))
}

/// A reply of `head` and `fd[offset..stop]` as its body; a bare 500 (and
/// `fd` closed) when the head does not fit.
pub(super) fn file_reply(
    out: &mut [u8],
    h: &HeadCtx<'_>,
    head: &FileHead<'_>,
    fd: Fd,
    offset: u64,
    stop: u64,
) -> Plan {
    match file_head(out, h, head, stop - offset) {
        Ok(len) => with_file(len, head.status, h, fd, offset, stop),
        Err(_) => fallback(out),
    }
}
