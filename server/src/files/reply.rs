//! File replies as `bedrock_web::Reply` values: small bodies written into
//! the connection's reply buffer, error pages (`err/<code>.html` from the
//! root if present), and bodies that are a range of an open file: copied
//! into the buffer when they fit (so head and body go out in one write),
//! else sent by the host from the descriptor (sendfile). The connection
//! writes the head (Date, Server, Content-Length, Connection).

use bedrock_web::{Body, FileBody, Reply};

use super::path::RESOLVE;
use super::{Answer, FileCfg};
use crate::out::Cursor;
use crate::sys::{self, Fd};

pub(super) const TEXT_HTML: &str = "text/html; charset=utf-8";

/// Extra headers of a reply: names and values.
pub(super) type Headers<'a> = &'a [(&'static str, &'a [u8])];

/// The head of a reply whose body is a file.
pub(super) struct FileHead<'a> {
    pub status: u16,
    pub content_type: &'static str,
    /// Written after Content-Type.
    pub headers: Headers<'a>,
    pub content_range: Option<&'a [u8]>,
}

/// `reply` with `headers` added; None when they do not fit (a `Location`
/// past `bedrock_web::REPLY_HEADER_BYTES`): the caller answers a bare 500
/// rather than a reply without them.
fn with_headers(mut reply: Reply, headers: Headers<'_>) -> Option<Reply> {
    for (name, value) in headers {
        reply = reply.header(name, value);
    }
    reply.headers_ok().then_some(reply)
}

/// A reply with a small body copied into `out` and extra headers; a bare
/// 500 when the body does not fit.
pub fn small(
    out: &mut [u8],
    status: u16,
    ctype: Option<&'static str>,
    headers: Headers<'_>,
    body: &[u8],
) -> Answer {
    if body.len() > out.len() {
        return Answer::reply(Reply::new(500));
    }
    out[..body.len()].copy_from_slice(body);
    let mut reply = Reply::new(status);
    reply.content_type = ctype;
    reply.body = match body.len() {
        0 => Body::Empty,
        n => Body::Out(n),
    };
    Answer::reply(with_headers(reply, headers).unwrap_or(Reply::new(500)))
}

/// An error page: `err/<code>.html` from the root if present, else a
/// small built-in page.
pub fn error(cfg: &FileCfg<'_>, out: &mut [u8], status: u16, headers: Headers<'_>) -> Answer {
    let mut name = [0u8; 16];
    let mut c = Cursor::new(&mut name);
    c.s("err/").n(u64::from(status)).s(".html\0");
    let n = c.len();
    let flags = sys::O_RDONLY | sys::O_NONBLOCK;
    if let Ok(fd) = Fd::openat2(cfg.root, &name[..n], flags, 0, RESOLVE) {
        if let Ok(st) = sys::fstat(fd.raw()) {
            if st.is_file() {
                let head = FileHead {
                    status,
                    content_type: TEXT_HTML,
                    headers,
                    content_range: None,
                };
                return file_reply(out, &head, fd, 0, st.size);
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
    small(out, status, Some(TEXT_HTML), headers, &page[..n])
}

/// A reply of `head` and `fd[offset..stop]` as its body: read into `out`
/// when it fits (and `fd` closed), else `fd` kept for the host to send.
pub(super) fn file_reply(
    out: &mut [u8],
    head: &FileHead<'_>,
    fd: Fd,
    offset: u64,
    stop: u64,
) -> Answer {
    let len = stop - offset;
    let mut reply = Reply::new(head.status);
    reply.content_type = Some(head.content_type);
    let range = head.content_range.map(|r| ("Content-Range", r));
    let headers = with_headers(reply, head.headers).and_then(|r| with_headers(r, range.as_slice()));
    let Some(mut reply) = headers else {
        return Answer::reply(Reply::new(500));
    };
    if len <= out.len() as u64 && read_at(&fd, &mut out[..len as usize], offset) {
        reply.body = Body::Out(len as usize);
        return Answer::reply(reply);
    }
    reply.body = Body::File(FileBody {
        handle: fd.raw() as u64,
        offset,
        len,
    });
    Answer {
        reply,
        file: Some(fd),
        list: None,
    }
}

/// Fills `buf` from `fd` at `offset`; false when the file is shorter.
fn read_at(fd: &Fd, buf: &mut [u8], offset: u64) -> bool {
    let mut done = 0;
    while done < buf.len() {
        match sys::pread(fd.raw(), &mut buf[done..], offset + done as u64) {
            Ok(0) | Err(_) => return false,
            Ok(n) => done += n,
        }
    }
    true
}
