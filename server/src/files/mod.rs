//! Files under the root: GET/HEAD with validators, ranges and sendfile
//! bodies, directory index or listing, PUT (temp file, fsync, rename,
//! fsync dir), DELETE, error pages (overridable by `err/<code>.html` in
//! the root). Everything here builds a reply head in the connection's
//! output buffer and names a file range to send after it; the worker does
//! the sending.
//!
//! | module | what |
//! |---|---|
//! | `reply` | reply heads, small bodies, error pages, file bodies |
//! | `path` | request paths made safe and relative to the root |
//! | `validators` | a file's ETag and Last-Modified, its preconditions |
//! | `get` | GET and HEAD of a file |
//! | `range` | single ranges and multipart/byteranges bodies |
//! | `directory` | a directory: redirect, index.html, listing replies |
//! | `auth` | whether writes are on and the bearer token is right |
//! | `put`, `delete` | the two writes |
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
mod validators;

use bedrock_http::Version;

use crate::listing;

pub use auth::allow;
pub use delete::delete;
pub use directory::listed;
pub use get::get;
pub use path::TEMP_PREFIX;
pub use put::{put_start, Upload};
pub use reply::{error, small};

/// What the reply head depends on.
#[derive(Clone, Copy)]
pub struct HeadCtx<'d> {
    pub version: Version,
    pub keep: bool,
    pub head_only: bool,
    pub date: &'d [u8],
}

/// A file range sent after the head. `fd` is the worker's to close once
/// the range is sent (handed over with `sys::Fd::into_raw`).
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
