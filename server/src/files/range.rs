//! Range replies (RFC 9110 14): 416 for an unsatisfiable Range, 206 with
//! Content-Range for one range (sent straight from the file), 206
//! multipart/byteranges for several (built in a memfd, RFC 9110 14.6), or
//! the whole file with 200.

use bedrock_http::{ByteRange, RangeOutcome};

use super::reply::{error, file_reply, FileHead, Headers};
use super::{Answer, FileCfg};
use crate::out::Cursor;
use crate::sys::{self, Errno, Fd};

/// Multipart range replies are built in memory; past this total the
/// Range header is ignored and the whole file sent (RFC 9110 14.2 allows
/// it).
const MAX_MULTIPART_BYTES: u64 = 64 << 20;
const BOUNDARY: &str = "bedrock-byteranges-3d1f0c";
/// The type of a multipart/byteranges reply (RFC 9110 14.6).
const MULTIPART: &str = "multipart/byteranges; boundary=bedrock-byteranges-3d1f0c";
const _: () = assert!(MULTIPART.len() == 31 + BOUNDARY.len());

/// The file a GET selected.
pub(super) struct Selected<'a> {
    pub fd: Fd,
    pub size: u64,
    pub mime: &'static str,
    /// ETag, Last-Modified, Accept-Ranges.
    pub validators: Headers<'a>,
}

/// The reply to a GET of `file` given what its Range header asked for.
pub(super) fn reply(
    cfg: &FileCfg<'_>,
    out: &mut [u8],
    file: Selected<'_>,
    range: RangeOutcome<'_>,
) -> Answer {
    let size = file.size;
    let mut head = FileHead {
        status: 206,
        content_type: file.mime,
        headers: file.validators,
        content_range: None,
    };
    match range {
        RangeOutcome::Unsatisfiable => {
            let mut cr = [0u8; 40];
            let mut c = Cursor::new(&mut cr);
            c.s("bytes */").n(size);
            let n = c.len();
            error(cfg, out, 416, &[("Content-Range", &cr[..n])])
        }
        RangeOutcome::Satisfiable(&[r]) => {
            let mut cr = [0u8; 80];
            let mut c = Cursor::new(&mut cr);
            c.s("bytes ").n(r.start).s("-").n(r.end).s("/").n(size);
            let n = c.len();
            head.content_range = Some(&cr[..n]);
            file_reply(out, &head, file.fd, r.start, r.end + 1)
        }
        RangeOutcome::Satisfiable(many)
            if many.iter().map(|r| r.len()).sum::<u64>() <= MAX_MULTIPART_BYTES =>
        {
            let Ok((body, total)) = multipart(&file.fd, many, size, file.mime) else {
                return error(cfg, out, 500, &[]);
            };
            head.content_type = MULTIPART;
            file_reply(out, &head, body, 0, total)
        }
        _ => {
            head.status = 200;
            file_reply(out, &head, file.fd, 0, size)
        }
    }
}

/// Builds a multipart/byteranges body (RFC 9110 14.6) of `ranges` of
/// `fd` in a new memfd; returns it and its size.
fn multipart(fd: &Fd, ranges: &[ByteRange], size: u64, mime: &str) -> Result<(Fd, u64), Errno> {
    let body = Fd::memfd(b"bedrock-ranges\0")?;
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
        sys::write_all(body.raw(), &part[..n])?;
        total += n as u64;
        let mut at = r.start;
        while at <= r.end {
            let want = ((r.end + 1 - at) as usize).min(chunk.len());
            let got = sys::pread(fd.raw(), &mut chunk[..want], at)?;
            if got == 0 {
                return Err(Errno::EINVAL);
            }
            sys::write_all(body.raw(), &chunk[..got])?;
            at += got as u64;
            total += got as u64;
        }
    }
    let mut tail = [0u8; 64];
    let mut c = Cursor::new(&mut tail);
    c.s("\r\n--").s(BOUNDARY).s("--\r\n");
    let n = c.len();
    sys::write_all(body.raw(), &tail[..n])?;
    total += n as u64;
    Ok((body, total))
}
