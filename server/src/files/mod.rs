//! Files under the root: GET/HEAD with validators, ranges and file
//! bodies, directory index or listing, PUT (temp file, fsync, rename,
//! fsync dir), DELETE, error pages (overridable by `err/<code>.html` in
//! the root). Everything here answers with a `bedrock_web::Reply` whose
//! body is small bytes in the connection's reply buffer or a range of an
//! open file the host sends (`Answer`); `service` is the handler side
//! that keeps each connection's file, upload and listing.
//!
//! | module | what |
//! |---|---|
//! | `reply` | small bodies, error pages, file bodies |
//! | `path` | request paths made safe and relative to the root |
//! | `validators` | a file's ETag and Last-Modified, its preconditions |
//! | `get` | GET and HEAD of a file |
//! | `range` | single ranges and multipart/byteranges bodies |
//! | `directory` | a directory: redirect, index.html, listing replies |
//! | `auth` | whether writes are on and the bearer token is right |
//! | `put`, `delete` | the two writes |
//! | `service` | per-connection state: open file, upload sink, listing |
//!
//! The precondition rules themselves (RFC 9110 13) are
//! `bedrock_http::conditional`'s.

mod auth;
mod delete;
mod directory;
mod get;
mod path;
mod put;
mod range;
mod reply;
mod service;
mod validators;

use bedrock_web::Reply;

use crate::listing;
use crate::sys::Fd;

pub use path::TEMP_PREFIX;
pub use service::Files;

/// A reply to a file request and what it holds on to: the descriptor its
/// body is sent from, or a listing still to build (the reply is then
/// deferred).
pub struct Answer {
    pub reply: Reply,
    pub file: Option<Fd>,
    pub list: Option<listing::Job>,
}

impl Answer {
    /// A reply that holds nothing open.
    pub fn reply(reply: Reply) -> Answer {
        Answer {
            reply,
            file: None,
            list: None,
        }
    }
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
