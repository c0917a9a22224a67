//! Files under the root: path safety, GET/HEAD with validators, ranges
//! and sendfile bodies, directory index or listing, PUT (temp file, fsync,
//! rename, fsync dir), DELETE, OPTIONS, error pages (overridable by
//! `err/<code>.html` in the root). Everything here builds a reply head in
//! the connection's output buffer and names a file range to send after it;
//! the worker does the sending.

use bedrock_http::{
    mime_for_path, parse_http_date, parse_range_header, percent_decode, BodyKind, ByteRange,
    ChunkedDecoder, Limits, Method, PercentError, RangeOutcome, Request, ResponseWriter, Version,
    WriteError, MAX_RANGES, MAX_TARGET_LEN,
};

use crate::dir;
use crate::listing::{self, Outcome, MAX_LISTING_ENTRIES, MAX_LISTING_NAME_BYTES};
use crate::out::Cursor;
use crate::sys::{self, Errno, FileStat};

/// Prefix of in-flight PUT temp files: never listed, served or deleted.
pub const TEMP_PREFIX: &[u8] = b".bedrock-put-";
/// Multipart range replies are built in memory; past this total the
/// Range header is ignored and the whole file sent (RFC 9110 allows it).
const MAX_MULTIPART_BYTES: u64 = 64 << 20;
const BOUNDARY: &str = "bedrock-byteranges-3d1f0c";
const TEXT_HTML: &str = "text/html; charset=utf-8";

/// What the reply head depends on.
#[derive(Clone, Copy)]
pub struct HeadCtx<'d> {
    pub version: Version,
    pub keep: bool,
    pub head_only: bool,
    pub date: &'d [u8],
}

/// A file range sent after the head.
#[derive(Clone, Copy, Debug)]
pub struct FileBody {
    pub fd: i32,
    pub offset: u64,
    pub end: u64,
}

/// A reply ready to send: `out[..len]`, then the file range if any; or,
/// with `list`, a listing to build first (`listed` makes its reply).
pub struct Plan {
    pub len: usize,
    pub status: u16,
    pub body: Option<FileBody>,
    pub body_bytes: u64,
    pub close: bool,
    pub list: Option<listing::Job>,
}

/// Server-wide file settings.
#[derive(Clone, Copy)]
pub struct FileCfg<'a> {
    pub root: i32,
    pub allow_write: bool,
    pub token: Option<&'a [u8]>,
    pub listing: bool,
    pub max_put: u64,
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

const FALLBACK_500: &[u8] =
    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

fn fallback(out: &mut [u8]) -> Plan {
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
    if let Ok(fd) = sys::openat2(
        cfg.root,
        &name[..n],
        flags,
        0,
        sys::RESOLVE_BENEATH | sys::RESOLVE_NO_SYMLINKS,
    ) {
        if let Ok(st) = sys::fstat(fd) {
            if st.is_file() {
                let r = (|| {
                    let mut w = begin(out, h, status)?;
                    w.header("Content-Type", TEXT_HTML.as_bytes())?;
                    for (name, value) in headers {
                        w.header(name, value)?;
                    }
                    end(w, h, status, Some(st.size))
                })();
                if let Ok(len) = r {
                    return with_file(len, status, h, fd, 0, st.size);
                }
            }
        }
        sys::close(fd);
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

fn with_file(len: usize, status: u16, h: &HeadCtx<'_>, fd: i32, offset: u64, end: u64) -> Plan {
    if h.head_only || end == offset {
        sys::close(fd);
        return Plan {
            len,
            status,
            body: None,
            body_bytes: 0,
            close: !h.keep,
            list: None,
        };
    }
    Plan {
        len,
        status,
        body: Some(FileBody { fd, offset, end }),
        body_bytes: end - offset,
        close: !h.keep,
        list: None,
    }
}

// ---- paths ----

/// Why a path cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
    /// `..`, NUL, or a name the server owns: 403.
    Forbidden,
    /// A temp file: 404 (it does not exist as far as clients know).
    Hidden,
    /// A broken escape: 400.
    Bad,
    /// Too long: 414.
    TooLong,
}

impl PathError {
    pub fn status(self) -> u16 {
        match self {
            PathError::Forbidden => 403,
            PathError::Hidden => 404,
            PathError::Bad => 400,
            PathError::TooLong => 414,
        }
    }
}

/// A request path made relative to the root, NUL-terminated (`.` for
/// the root itself).
pub struct RelPath {
    buf: [u8; MAX_TARGET_LEN + 2],
    len: usize,
    /// The request path ended in `/`.
    pub slash: bool,
}

impl RelPath {
    /// With the NUL.
    pub fn c(&self) -> &[u8] {
        &self.buf[..self.len + 1]
    }
    /// Without the NUL.
    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
    pub fn is_root(&self) -> bool {
        self.bytes() == b"."
    }
    /// (parent directory with NUL, last segment with NUL) in `bufs`.
    fn split<'b>(
        &self,
        parent: &'b mut [u8; MAX_TARGET_LEN + 2],
        name: &'b mut [u8; 258],
    ) -> Option<(&'b [u8], &'b [u8])> {
        let b = self.bytes();
        let cut = b.iter().rposition(|&c| c == b'/');
        let (dir, last): (&[u8], &[u8]) = match cut {
            Some(i) => (&b[..i], &b[i + 1..]),
            None => (b".", b),
        };
        if last.len() > 255 || last == b"." {
            return None;
        }
        parent[..dir.len()].copy_from_slice(dir);
        parent[dir.len()] = 0;
        name[..last.len()].copy_from_slice(last);
        name[last.len()] = 0;
        Some((&parent[..dir.len() + 1], &name[..last.len() + 1]))
    }
}

/// Decodes and checks a request path: percent-decoding, NUL and `..`
/// refused, empty and `.` segments dropped, temp files hidden.
pub fn resolve(path: &str) -> Result<RelPath, PathError> {
    let mut decoded = [0u8; MAX_TARGET_LEN];
    if path.len() > MAX_TARGET_LEN {
        return Err(PathError::TooLong);
    }
    let d = match percent_decode(path.as_bytes(), &mut decoded) {
        Ok(d) => d,
        Err(PercentError::EncodedNul) => return Err(PathError::Forbidden),
        Err(PercentError::InvalidEscape) => return Err(PathError::Bad),
        Err(PercentError::OutputFull) => return Err(PathError::TooLong),
    };
    let mut rel = RelPath {
        buf: [0; MAX_TARGET_LEN + 2],
        len: 0,
        slash: d.last() == Some(&b'/'),
    };
    for seg in d.split(|&b| b == b'/') {
        if seg.is_empty() || seg == b"." {
            continue;
        }
        if seg == b".." {
            return Err(PathError::Forbidden);
        }
        if seg.starts_with(TEMP_PREFIX) {
            return Err(PathError::Hidden);
        }
        if seg.contains(&0) {
            return Err(PathError::Forbidden);
        }
        let sep = usize::from(rel.len > 0);
        if rel.len + sep + seg.len() > MAX_TARGET_LEN {
            return Err(PathError::TooLong);
        }
        if sep == 1 {
            rel.buf[rel.len] = b'/';
        }
        rel.buf[rel.len + sep..rel.len + sep + seg.len()].copy_from_slice(seg);
        rel.len += sep + seg.len();
    }
    if rel.len == 0 {
        rel.buf[0] = b'.';
        rel.len = 1;
    }
    rel.buf[rel.len] = 0;
    Ok(rel)
}

const RESOLVE: u64 = sys::RESOLVE_BENEATH | sys::RESOLVE_NO_SYMLINKS;

fn open_status(e: Errno) -> u16 {
    match e {
        Errno::ENOENT | Errno::ENOTDIR | Errno::ENAMETOOLONG => 404,
        // ELOOP: a symlink on the way; EXDEV: an escape from the root.
        Errno::ELOOP | Errno::EXDEV | Errno::EACCES | Errno::EPERM => 403,
        _ => 500,
    }
}

// ---- validators ----

struct Validators {
    etag: [u8; 64],
    etag_len: usize,
    modified: [u8; 29],
    mtime: u64,
}

impl Validators {
    fn of(st: &FileStat) -> Self {
        let mut v = Validators {
            etag: [0; 64],
            etag_len: 0,
            modified: [0; 29],
            mtime: st.mtime_sec.max(0) as u64,
        };
        let mut c = Cursor::new(&mut v.etag);
        let nanos =
            (st.mtime_sec.max(0) as u64).wrapping_mul(1_000_000_000) + u64::from(st.mtime_nsec);
        c.s("\"")
            .hex(st.ino)
            .s("-")
            .hex(st.size)
            .s("-")
            .hex(nanos)
            .s("\"");
        v.etag_len = c.len();
        bedrock_http::format_imf_fixdate(v.mtime, &mut v.modified);
        v
    }
    fn etag(&self) -> &[u8] {
        &self.etag[..self.etag_len]
    }
}

fn trim(v: &[u8]) -> &[u8] {
    v.trim_ascii()
}

/// Whether an If-Match / If-None-Match list matches `etag` (`*` matches
/// any existing file). Weak comparison strips `W/`; strong refuses it.
fn list_matches(list: &[u8], etag: Option<&[u8]>, weak: bool) -> bool {
    let Some(etag) = etag else { return false };
    for item in list.split(|&b| b == b',') {
        let item = trim(item);
        if item == b"*" {
            return true;
        }
        let (is_weak, tag) = match item.strip_prefix(b"W/") {
            Some(t) => (true, t),
            None => (false, item),
        };
        if (weak || !is_weak) && tag == etag {
            return true;
        }
    }
    false
}

/// Preconditions (RFC 9110 13.2.2): Some(412 or 304) when the request
/// must not proceed.
fn preconditions(req: &Request<'_, '_>, v: Option<&Validators>) -> Option<u16> {
    let safe = matches!(req.method, Method::Get | Method::Head);
    let etag = v.map(|v| v.etag());
    if let Some(im) = req.header("if-match") {
        if !list_matches(im, etag, false) {
            return Some(412);
        }
    } else if let (Some(ius), Some(v)) = (req.header("if-unmodified-since"), v) {
        if let Some(t) = parse_http_date(ius) {
            if v.mtime > t {
                return Some(412);
            }
        }
    }
    if let Some(inm) = req.header("if-none-match") {
        if list_matches(inm, etag, true) {
            return Some(if safe { 304 } else { 412 });
        }
    } else if let (Some(ims), Some(v), true) = (req.header("if-modified-since"), v, safe) {
        if let Some(t) = parse_http_date(ims) {
            if v.mtime <= t {
                return Some(304);
            }
        }
    }
    None
}

fn if_range_ok(req: &Request<'_, '_>, v: &Validators) -> bool {
    let Some(ir) = req.header("if-range") else {
        return true;
    };
    let ir = trim(ir);
    if ir.starts_with(b"\"") {
        return ir == v.etag();
    }
    if ir.starts_with(b"W/") {
        return false;
    }
    parse_http_date(ir) == Some(v.mtime)
}

// ---- GET / HEAD ----

/// GET or HEAD of a path.
pub fn get(
    cfg: &FileCfg<'_>,
    req: &Request<'_, '_>,
    path: &str,
    out: &mut [u8],
    h: &HeadCtx<'_>,
) -> Plan {
    let rel = match resolve(path) {
        Ok(rel) => rel,
        Err(e) => return error(cfg, out, h, e.status(), &[]),
    };
    let fd = match sys::openat2(
        cfg.root,
        rel.c(),
        sys::O_RDONLY | sys::O_NONBLOCK,
        0,
        RESOLVE,
    ) {
        Ok(fd) => fd,
        Err(e) => return error(cfg, out, h, open_status(e), &[]),
    };
    let Ok(st) = sys::fstat(fd) else {
        sys::close(fd);
        return error(cfg, out, h, 500, &[]);
    };
    if st.is_dir() {
        if !rel.slash && !rel.is_root() {
            sys::close(fd);
            let mut loc = [0u8; MAX_TARGET_LEN + 2];
            let mut c = Cursor::new(&mut loc);
            c.s(path).s("/");
            let n = c.len();
            return small(
                out,
                h,
                301,
                Some(TEXT_HTML),
                &[("Location", &loc[..n])],
                b"<!doctype html>\n<title>301 Moved Permanently</title>\n",
            );
        }
        let index_flags = sys::O_RDONLY | sys::O_NONBLOCK;
        if let Ok(index) = sys::openat2(fd, b"index.html\0", index_flags, 0, RESOLVE) {
            match sys::fstat(index) {
                Ok(ist) if ist.is_file() => {
                    sys::close(fd);
                    return serve(cfg, req, out, h, index, &ist, TEXT_HTML);
                }
                _ => sys::close(index),
            }
        }
        if !cfg.listing {
            sys::close(fd);
            return error(cfg, out, h, 403, &[]);
        }
        let head_only = req.method == Method::Head;
        return match listing::begin(fd, path, h.version, h.keep, head_only) {
            Ok(job) => Plan {
                len: 0,
                status: 200,
                body: None,
                body_bytes: 0,
                close: !h.keep,
                list: Some(job),
            },
            Err(_) => error(cfg, out, h, 500, &[]),
        };
    }
    if !st.is_file() {
        sys::close(fd);
        return error(cfg, out, h, 403, &[]);
    }
    let rel_str = core::str::from_utf8(rel.bytes()).unwrap_or("");
    let mime = mime_for_path(rel_str);
    serve(cfg, req, out, h, fd, &st, mime)
}

fn serve(
    cfg: &FileCfg<'_>,
    req: &Request<'_, '_>,
    out: &mut [u8],
    h: &HeadCtx<'_>,
    fd: i32,
    st: &FileStat,
    mime: &str,
) -> Plan {
    let v = Validators::of(st);
    let size = st.size;
    let validators: [(&str, &[u8]); 3] = [
        ("ETag", v.etag()),
        ("Last-Modified", &v.modified),
        ("Accept-Ranges", b"bytes"),
    ];
    if let Some(status) = preconditions(req, Some(&v)) {
        sys::close(fd);
        if status == 304 {
            return small(out, h, 304, None, &validators[..2], b"");
        }
        return error(cfg, out, h, status, &[]);
    }
    let mut ranges = [ByteRange { start: 0, end: 0 }; MAX_RANGES];
    let range = match req.header("range") {
        Some(value) if req.method == Method::Get && if_range_ok(req, &v) => {
            parse_range_header(value, size, &mut ranges)
        }
        _ => RangeOutcome::Ignore,
    };
    match range {
        RangeOutcome::Unsatisfiable => {
            sys::close(fd);
            let mut cr = [0u8; 40];
            let mut c = Cursor::new(&mut cr);
            c.s("bytes */").n(size);
            let n = c.len();
            error(cfg, out, h, 416, &[("Content-Range", &cr[..n])])
        }
        RangeOutcome::Satisfiable(&[r]) => {
            let mut cr = [0u8; 80];
            let mut c = Cursor::new(&mut cr);
            c.s("bytes ").n(r.start).s("-").n(r.end).s("/").n(size);
            let n = c.len();
            let range = Some(&cr[..n]);
            file_reply(
                out,
                h,
                206,
                mime.as_bytes(),
                &validators,
                range,
                fd,
                r.start,
                r.end + 1,
            )
        }
        RangeOutcome::Satisfiable(many)
            if many.iter().map(|r| r.len()).sum::<u64>() <= MAX_MULTIPART_BYTES =>
        {
            let built = multipart(fd, many, size, mime);
            sys::close(fd);
            let Ok((mfd, total)) = built else {
                return error(cfg, out, h, 500, &[]);
            };
            let mut ct = [0u8; 80];
            let mut c = Cursor::new(&mut ct);
            c.s("multipart/byteranges; boundary=").s(BOUNDARY);
            let n = c.len();
            file_reply(out, h, 206, &ct[..n], &validators, None, mfd, 0, total)
        }
        _ => file_reply(out, h, 200, mime.as_bytes(), &validators, None, fd, 0, size),
    }
}

/// Writes the head of a file reply (type, validators, optional
/// Content-Range) and plans `fd[offset..stop]` as its body; closes `fd`
/// and answers 500 when the head does not fit.
#[allow(clippy::too_many_arguments)]
fn file_reply(
    out: &mut [u8],
    h: &HeadCtx<'_>,
    status: u16,
    content_type: &[u8],
    validators: &[(&str, &[u8])],
    content_range: Option<&[u8]>,
    fd: i32,
    offset: u64,
    stop: u64,
) -> Plan {
    let head = (|| {
        let mut w = begin(out, h, status)?;
        w.header("Content-Type", content_type)?;
        for (name, value) in validators {
            w.header(name, value)?;
        }
        if let Some(range) = content_range {
            w.header("Content-Range", range)?;
        }
        end(w, h, status, Some(stop - offset))
    })();
    match head {
        Ok(len) => with_file(len, status, h, fd, offset, stop),
        Err(_) => {
            sys::close(fd);
            fallback(out)
        }
    }
}

/// A body built by `build` in a new memfd named `name` (NUL-terminated):
/// `build` writes it and returns its size. The memfd is closed if `build`
/// fails.
fn in_memfd(
    name: &[u8],
    build: impl FnOnce(i32) -> Result<u64, Errno>,
) -> Result<(i32, u64), Errno> {
    let mfd = sys::memfd_create(name)?;
    match build(mfd) {
        Ok(total) => Ok((mfd, total)),
        Err(e) => {
            sys::close(mfd);
            Err(e)
        }
    }
}

/// Builds a multipart/byteranges body in a memfd; returns it and its size.
fn multipart(fd: i32, ranges: &[ByteRange], size: u64, mime: &str) -> Result<(i32, u64), Errno> {
    in_memfd(b"bedrock-ranges\0", |mfd| {
        let mut total = 0u64;
        let mut chunk = [0u8; 8192];
        for r in ranges {
            let mut part = [0u8; 256];
            let mut c = Cursor::new(&mut part);
            c.s("\r\n--").s(BOUNDARY).s("\r\nContent-Type: ").s(mime);
            c.s("\r\nContent-Range: bytes ")
                .n(r.start)
                .s("-")
                .n(r.end)
                .s("/")
                .n(size)
                .s("\r\n\r\n");
            let n = c.len();
            sys::write_all(mfd, &part[..n])?;
            total += n as u64;
            let mut at = r.start;
            while at <= r.end {
                let want = ((r.end + 1 - at) as usize).min(chunk.len());
                let got = sys::pread(fd, &mut chunk[..want], at)?;
                if got == 0 {
                    return Err(Errno::EINVAL);
                }
                sys::write_all(mfd, &chunk[..got])?;
                at += got as u64;
                total += got as u64;
            }
        }
        let mut tail = [0u8; 64];
        let mut c = Cursor::new(&mut tail);
        c.s("\r\n--").s(BOUNDARY).s("--\r\n");
        let n = c.len();
        sys::write_all(mfd, &tail[..n])?;
        total += n as u64;
        Ok(total)
    })
}

/// The reply to a listing once it is built (`listing::Lister`): the page
/// as a memfd body; 403 with a page saying why past the caps; 500 when
/// the directory could not be read.
pub fn listed(cfg: &FileCfg<'_>, outcome: Outcome, out: &mut [u8], h: &HeadCtx<'_>) -> Plan {
    match outcome {
        Outcome::Listed(job) => {
            let r = (|| {
                let mut w = begin(out, h, 200)?;
                w.header("Content-Type", TEXT_HTML.as_bytes())?;
                w.header("Cache-Control", b"no-cache")?;
                end(w, h, 200, Some(job.size))
            })();
            match r {
                Ok(len) => with_file(len, 200, h, job.mfd, 0, job.size),
                Err(_) => {
                    sys::close(job.mfd);
                    fallback(out)
                }
            }
        }
        Outcome::TooBig(job) => {
            sys::close(job.mfd);
            let mut page = [0u8; 256];
            let mut c = Cursor::new(&mut page);
            c.s("<!doctype html>\n<title>403 Forbidden</title>\n<h1>403 Forbidden</h1>\n");
            c.s("<p>This directory is too large to list: more than ")
                .n(MAX_LISTING_ENTRIES as u64)
                .s(" entries or ")
                .n(MAX_LISTING_NAME_BYTES as u64 >> 20)
                .s(" MiB of names.</p>\n");
            let n = c.len();
            small(out, h, 403, Some(TEXT_HTML), &[], &page[..n])
        }
        Outcome::Failed(job, e) => {
            sys::close(job.mfd);
            crate::out::say(&[b"listing failed: ", crate::out::errno_text(e)]);
            error(cfg, out, h, 500, &[])
        }
    }
}

// ---- writes ----

/// Methods allowed on files.
pub fn allow(cfg: &FileCfg<'_>) -> &'static [u8] {
    if cfg.allow_write {
        b"GET, HEAD, PUT, DELETE, OPTIONS"
    } else {
        b"GET, HEAD, OPTIONS"
    }
}

/// Checks that writes are on and authorised: Err(reply) otherwise.
pub fn write_allowed(
    cfg: &FileCfg<'_>,
    req: &Request<'_, '_>,
    out: &mut [u8],
    h: &HeadCtx<'_>,
) -> Result<(), Plan> {
    if !cfg.allow_write {
        return Err(error(cfg, out, h, 405, &[("Allow", allow(cfg))]));
    }
    if let Some(token) = cfg.token {
        let given = req.header("authorization").and_then(|v| {
            let v = trim(v);
            (v.len() > 7 && v[..7].eq_ignore_ascii_case(b"bearer ")).then(|| trim(&v[7..]))
        });
        if !given.is_some_and(|g| constant_time_eq(g, token)) {
            return Err(error(cfg, out, h, 401, &[("WWW-Authenticate", b"Bearer")]));
        }
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An upload in progress: the body goes to `tmp` in `dir`, renamed to
/// `name` when complete.
pub struct Upload {
    pub dir: i32,
    pub tmp: i32,
    tmp_name: [u8; 48],
    name: [u8; 258],
    pub created: bool,
    pub remaining: u64,
    pub chunked: Option<ChunkedDecoder>,
    pub received: u64,
    pub max: u64,
}

impl Upload {
    fn tmp_c(&self) -> &[u8] {
        let n = self.tmp_name.iter().position(|&b| b == 0).unwrap_or(0);
        &self.tmp_name[..n + 1]
    }
    fn name_c(&self) -> &[u8] {
        let n = self.name.iter().position(|&b| b == 0).unwrap_or(0);
        &self.name[..n + 1]
    }

    /// Writes body bytes to the temp file.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), Errno> {
        self.received += bytes.len() as u64;
        sys::write_all(self.tmp, bytes)
    }

    /// Drops the upload: the temp file is removed, the target untouched.
    /// (Unlinked before the close drops its lock: see `dir::reap_orphans`.)
    pub fn abort(self) {
        let _ = sys::unlinkat(self.dir, self.tmp_c(), 0);
        sys::close(self.tmp);
        sys::close(self.dir);
    }

    /// Makes the upload the file: fsync, rename over the target, fsync
    /// the directory. 201 when created, 204 when replaced.
    pub fn commit(self, cfg: &FileCfg<'_>, out: &mut [u8], h: &HeadCtx<'_>) -> Plan {
        // The temp file stays open (locked) until it is renamed.
        let ok = sys::fsync(self.tmp).is_ok();
        let renamed = ok && sys::renameat(self.dir, self.tmp_c(), self.dir, self.name_c()).is_ok();
        if !renamed {
            let _ = sys::unlinkat(self.dir, self.tmp_c(), 0);
            sys::close(self.tmp);
            sys::close(self.dir);
            return error(cfg, out, h, 500, &[]);
        }
        sys::close(self.tmp);
        let _ = sys::fsync(self.dir);
        sys::close(self.dir);
        if self.created {
            small(
                out,
                h,
                201,
                Some("text/plain; charset=utf-8"),
                &[],
                b"created\n",
            )
        } else {
            small(out, h, 204, None, &[], b"")
        }
    }
}

/// Starts a PUT: checks, preconditions, the temp file. Err(reply) when
/// it cannot go on.
pub fn put_start(
    cfg: &FileCfg<'_>,
    req: &Request<'_, '_>,
    path: &str,
    body: BodyKind,
    out: &mut [u8],
    h: &HeadCtx<'_>,
) -> Result<Upload, Plan> {
    write_allowed(cfg, req, out, h)?;
    let (remaining, chunked) = match body {
        BodyKind::None => return Err(error(cfg, out, h, 411, &[])),
        BodyKind::Length(n) if n > cfg.max_put => return Err(error(cfg, out, h, 413, &[])),
        BodyKind::Length(n) => (n, None),
        BodyKind::Chunked => (0, Some(ChunkedDecoder::new(&Limits::default()))),
    };
    let rel = resolve(path).map_err(|e| error(cfg, out, h, e.status(), &[]))?;
    let mut parent = [0u8; MAX_TARGET_LEN + 2];
    let mut name = [0u8; 258];
    if rel.is_root() || rel.slash {
        return Err(error(cfg, out, h, 403, &[]));
    }
    let Some((parent_c, name_c)) = rel.split(&mut parent, &mut name) else {
        return Err(error(cfg, out, h, 403, &[]));
    };
    let dir = sys::openat2(
        cfg.root,
        parent_c,
        sys::O_RDONLY | sys::O_DIRECTORY,
        0,
        RESOLVE,
    )
    .map_err(|e| {
        let status = if open_status(e) == 404 {
            409
        } else {
            open_status(e)
        };
        error(cfg, out, h, status, &[])
    })?;
    let existing = match sys::statx(dir, name_c, sys::AT_SYMLINK_NOFOLLOW) {
        Ok(st) if st.is_file() => Some(st),
        Ok(_) => {
            sys::close(dir);
            return Err(error(cfg, out, h, 403, &[])); // a directory, symlink or device
        }
        Err(_) => None,
    };
    let v = existing.as_ref().map(Validators::of);
    if let Some(status) = preconditions(req, v.as_ref()) {
        sys::close(dir);
        return Err(error(cfg, out, h, status, &[]));
    }
    let mut up = Upload {
        dir,
        tmp: -1,
        tmp_name: [0; 48],
        name: [0; 258],
        created: existing.is_none(),
        remaining,
        chunked,
        received: 0,
        max: cfg.max_put,
    };
    up.name[..name_c.len()].copy_from_slice(name_c);
    for _ in 0..8 {
        let mut rnd = [0u8; 8];
        let _ = sys::getrandom(&mut rnd);
        let mut c = Cursor::new(&mut up.tmp_name);
        c.b(TEMP_PREFIX).hex(u64::from_ne_bytes(rnd)).s("\0");
        match sys::openat2(
            dir,
            up.tmp_c(),
            sys::O_WRONLY | sys::O_CREAT | sys::O_EXCL,
            0o644,
            RESOLVE,
        ) {
            Ok(fd) => {
                if dir::claim_temp(fd).is_err() {
                    sys::close(fd); // the orphan sweep is removing it
                    continue;
                }
                up.tmp = fd;
                return Ok(up);
            }
            Err(Errno::EEXIST) => continue,
            Err(e) => {
                sys::close(dir);
                return Err(error(cfg, out, h, open_status(e), &[]));
            }
        }
    }
    sys::close(dir);
    Err(error(cfg, out, h, 500, &[]))
}

/// DELETE of a file: 204; missing 404; directory or symlink 403.
pub fn delete(
    cfg: &FileCfg<'_>,
    req: &Request<'_, '_>,
    path: &str,
    out: &mut [u8],
    h: &HeadCtx<'_>,
) -> Plan {
    if let Err(plan) = write_allowed(cfg, req, out, h) {
        return plan;
    }
    let rel = match resolve(path) {
        Ok(rel) => rel,
        Err(e) => return error(cfg, out, h, e.status(), &[]),
    };
    if rel.is_root() {
        return error(cfg, out, h, 403, &[]);
    }
    let mut parent = [0u8; MAX_TARGET_LEN + 2];
    let mut name = [0u8; 258];
    let Some((parent_c, name_c)) = rel.split(&mut parent, &mut name) else {
        return error(cfg, out, h, 403, &[]);
    };
    let dir = match sys::openat2(
        cfg.root,
        parent_c,
        sys::O_RDONLY | sys::O_DIRECTORY,
        0,
        RESOLVE,
    ) {
        Ok(fd) => fd,
        Err(e) => return error(cfg, out, h, open_status(e), &[]),
    };
    let plan = match sys::statx(dir, name_c, sys::AT_SYMLINK_NOFOLLOW) {
        Err(e) => error(cfg, out, h, open_status(e), &[]),
        Ok(st) if !st.is_file() => error(cfg, out, h, 403, &[]),
        Ok(st) => {
            let v = Validators::of(&st);
            if let Some(status) = preconditions(req, Some(&v)) {
                error(cfg, out, h, status, &[])
            } else {
                match sys::unlinkat(dir, name_c, 0) {
                    Ok(()) => {
                        let _ = sys::fsync(dir);
                        small(out, h, 204, None, &[], b"")
                    }
                    Err(e) => error(cfg, out, h, open_status(e), &[]),
                }
            }
        }
    };
    sys::close(dir);
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(path: &str) -> (String, bool) {
        let rel = resolve(path).unwrap_or_else(|e| panic!("{path}: {e:?}"));
        (String::from_utf8(rel.bytes().to_vec()).unwrap(), rel.slash)
    }

    fn err(path: &str) -> u16 {
        match resolve(path) {
            Ok(rel) => panic!("{path} resolved to {:?}", rel.bytes()),
            Err(e) => e.status(),
        }
    }

    #[test]
    fn safe_paths_resolve_relative_to_the_root() {
        assert_eq!(ok("/"), (".".into(), true));
        assert_eq!(ok(""), (".".into(), false));
        assert_eq!(ok("/hello.txt"), ("hello.txt".into(), false));
        assert_eq!(ok("/sub/dir/"), ("sub/dir".into(), true));
        assert_eq!(ok("//a///b/./c"), ("a/b/c".into(), false));
        assert_eq!(ok("/ohwell...txt"), ("ohwell...txt".into(), false));
        assert_eq!(ok("/..."), ("...".into(), false));
        assert_eq!(ok("/sp%20ace.txt"), ("sp ace.txt".into(), false));
        assert_eq!(ok("/%252e%252e/x"), ("%2e%2e/x".into(), false));
        assert_eq!(ok("/a\\..\\b"), ("a\\..\\b".into(), false));
        assert!(resolve("/x").unwrap().c().ends_with(b"x\0"));
    }

    #[test]
    fn traversal_nul_and_temp_files_are_refused() {
        for p in [
            "/..",
            "/../etc/passwd",
            "/a/../../b",
            "/%2e%2e/x",
            "/%2E%2E",
            "/.%2e/x",
            "/a/%2e%2e%2f..%2fx",
            "/a%2f..%2f..%2fx",
        ] {
            assert_eq!(err(p), 403, "{p}");
        }
        assert_eq!(err("/a%00b"), 403);
        assert_eq!(err("/hello.txt%00.png"), 403);
        assert_eq!(err("/.bedrock-put-0123"), 404);
        assert_eq!(err("/sub/.bedrock-put-x/y"), 404);
        assert_eq!(err("/%2ebedrock-put-x"), 404);
        assert_eq!(ok("/x.bedrock-put-"), ("x.bedrock-put-".into(), false));
        assert_eq!(err("/%zz"), 400);
        assert_eq!(err("/%4"), 400);
    }

    #[test]
    fn path_length_at_and_past_the_limit() {
        let at = format!("/{}", "a".repeat(MAX_TARGET_LEN - 1));
        assert_eq!(ok(&at).0.len(), MAX_TARGET_LEN - 1);
        let past = format!("/{}", "a".repeat(MAX_TARGET_LEN));
        assert_eq!(err(&past), 414);
    }
}
