//! A file's validators (RFC 9110 8.8): its ETag, made of inode, size and
//! modification time in nanoseconds, and its Last-Modified date; and the
//! request's preconditions judged against them (`bedrock_http::conditional`).

use bedrock_http::{evaluate, format_imf_fixdate, Conditions, Representation, Request, Verdict};

use crate::out::Cursor;
use crate::sys::FileStat;

/// A file's ETag and Last-Modified, formatted.
pub(super) struct Validators {
    etag: [u8; 64],
    etag_len: usize,
    modified: [u8; 29],
    mtime: u64,
}

impl Validators {
    pub(super) fn of(st: &FileStat) -> Self {
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
        format_imf_fixdate(v.mtime, &mut v.modified);
        v
    }

    /// The strong entity-tag, quotes included.
    pub(super) fn etag(&self) -> &[u8] {
        &self.etag[..self.etag_len]
    }

    /// The Last-Modified value (IMF-fixdate).
    pub(super) fn modified(&self) -> &[u8] {
        &self.modified
    }

    /// The headers a file reply carries: ETag, Last-Modified, and
    /// Accept-Ranges (RFC 9110 14.3).
    pub(super) fn headers(&self) -> [(&'static str, &[u8]); 3] {
        [
            ("ETag", self.etag()),
            ("Last-Modified", self.modified()),
            ("Accept-Ranges", b"bytes"),
        ]
    }
}

/// The request's preconditions (RFC 9110 13.2.2) against a file's
/// validators (`None`: no file there yet, as for a PUT that creates one).
pub(super) fn check(req: &Request<'_, '_>, v: Option<&Validators>) -> Verdict {
    let current = v.map(|v| Representation {
        etag: Some(v.etag()),
        last_modified: Some(v.mtime),
    });
    evaluate(&Conditions::of(req), req.method, current.as_ref())
}
