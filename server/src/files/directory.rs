//! A directory's answer: a redirect to the path with its slash, its
//! `index.html`, or a listing (`crate::listing` builds it between turns of
//! the event loop; `listed` makes its reply); 403 when listings are off.

use bedrock_http::{Request, MAX_TARGET_LEN};
use bedrock_web::Reply;

use super::get::serve;
use super::path::{RelPath, RESOLVE};
use super::reply::{error, file_reply, small, FileHead, TEXT_HTML};
use super::{Answer, FileCfg};
use crate::listing::{self, Outcome, MAX_LISTING_ENTRIES, MAX_LISTING_NAME_BYTES};
use crate::out::Cursor;
use crate::sys::{self, Fd};

/// GET or HEAD of the directory `dir`, at `rel` (request path `path`).
pub(super) fn get(
    cfg: &FileCfg<'_>,
    req: &Request<'_, '_>,
    path: &str,
    rel: &RelPath,
    dir: Fd,
    out: &mut [u8],
) -> Answer {
    if !rel.slash && !rel.is_root() {
        let mut loc = [0u8; MAX_TARGET_LEN + 2];
        let mut c = Cursor::new(&mut loc);
        c.s(path).s("/");
        let n = c.len();
        return small(
            out,
            301,
            Some(TEXT_HTML),
            &[("Location", &loc[..n])],
            b"<!doctype html>\n<title>301 Moved Permanently</title>\n",
        );
    }
    let index_flags = sys::O_RDONLY | sys::O_NONBLOCK;
    if let Ok(index) = Fd::openat2(dir.raw(), b"index.html\0", index_flags, 0, RESOLVE) {
        if let Ok(ist) = sys::fstat(index.raw()) {
            if ist.is_file() {
                return serve(cfg, req, out, index, &ist, TEXT_HTML);
            }
        }
    }
    if !cfg.listing {
        return error(cfg, out, 403, &[]);
    }
    // The listing takes the directory over (and closes it if it fails).
    match listing::begin(dir.into_raw(), path) {
        // The token is the connection's (`service`).
        Ok(job) => Answer {
            reply: Reply::deferred(0),
            file: None,
            list: Some(job),
        },
        Err(_) => error(cfg, out, 500, &[]),
    }
}

/// The reply to a listing once it is built (`listing::Lister`): the page
/// as a memfd body; 403 with a page saying why past the caps; 500 when
/// the directory could not be read.
pub(super) fn listed(cfg: &FileCfg<'_>, outcome: Outcome, out: &mut [u8]) -> Answer {
    // The memfd is ours now: sent as the body, or closed on return.
    let page = Fd::from_raw(outcome.job().mfd);
    match outcome {
        Outcome::Listed(job) => {
            let head = FileHead {
                status: 200,
                content_type: TEXT_HTML,
                headers: &[("Cache-Control", b"no-cache")],
                content_range: None,
            };
            file_reply(out, &head, page, 0, job.size)
        }
        Outcome::TooBig(_) => {
            let mut text = [0u8; 256];
            let mut c = Cursor::new(&mut text);
            c.s("<!doctype html>\n<title>403 Forbidden</title>\n<h1>403 Forbidden</h1>\n");
            c.s("<p>This directory is too large to list: more than ")
                .n(MAX_LISTING_ENTRIES as u64)
                .s(" entries or ")
                .n(MAX_LISTING_NAME_BYTES as u64 >> 20)
                .s(" MiB of names.</p>\n");
            let n = c.len();
            small(out, 403, Some(TEXT_HTML), &[], &text[..n])
        }
        Outcome::Failed(_, e) => {
            crate::out::say(&[b"listing failed: ", crate::out::errno_text(e)]);
            error(cfg, out, 500, &[])
        }
    }
}
