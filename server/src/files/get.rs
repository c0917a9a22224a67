//! GET and HEAD of a path: the file with its validators, 304 or 412 per
//! its preconditions, a range of it, or the directory's answer.

use bedrock_http::{
    mime_for_path, parse_range_header, ByteRange, RangeOutcome, Request, Verdict, MAX_RANGES,
};

use super::path::{open_status, resolve, RESOLVE};
use super::reply::{error, small};
use super::validators::{check, Validators};
use super::{directory, range, Answer, FileCfg};
use crate::sys::{self, Fd, FileStat};

/// GET or HEAD of a path.
pub fn get(cfg: &FileCfg<'_>, req: &Request<'_, '_>, path: &str, out: &mut [u8]) -> Answer {
    let rel = match resolve(path) {
        Ok(rel) => rel,
        Err(e) => return error(cfg, out, e.status(), &[]),
    };
    let flags = sys::O_RDONLY | sys::O_NONBLOCK;
    let fd = match Fd::openat2(cfg.root, rel.c(), flags, 0, RESOLVE) {
        Ok(fd) => fd,
        Err(e) => return error(cfg, out, open_status(e), &[]),
    };
    let Ok(st) = sys::fstat(fd.raw()) else {
        return error(cfg, out, 500, &[]);
    };
    if st.is_dir() {
        return directory::get(cfg, req, path, &rel, fd, out);
    }
    if !st.is_file() {
        return error(cfg, out, 403, &[]);
    }
    let rel_str = core::str::from_utf8(rel.bytes()).unwrap_or("");
    let mime = mime_for_path(rel_str);
    serve(cfg, req, out, fd, &st, mime)
}

/// Answers with the open file `fd` (`st` its status), of type `mime`.
pub(super) fn serve(
    cfg: &FileCfg<'_>,
    req: &Request<'_, '_>,
    out: &mut [u8],
    fd: Fd,
    st: &FileStat,
    mime: &'static str,
) -> Answer {
    let v = Validators::of(st);
    let validators = v.headers();
    let honour_range = match check(req, Some(&v)) {
        Verdict::Proceed { range } => range,
        Verdict::NotModified => return small(out, 304, None, &validators[..2], b""),
        Verdict::PreconditionFailed => return error(cfg, out, 412, &[]),
    };
    let mut ranges = [ByteRange { start: 0, end: 0 }; MAX_RANGES];
    let outcome = match req.header("range") {
        Some(value) if honour_range => parse_range_header(value, st.size, &mut ranges),
        _ => RangeOutcome::Ignore,
    };
    let file = range::Selected {
        fd,
        size: st.size,
        mime,
        validators: &validators,
    };
    range::reply(cfg, out, file, outcome)
}
