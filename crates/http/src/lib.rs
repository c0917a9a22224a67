//! bedrock http: the HTTP/1.1 wire format (RFC 9112) and the few HTTP
//! semantics (RFC 9110) a server needs to read requests and write responses.
//! It owns request-head parsing, message framing (Content-Length, chunked,
//! the Host rules), the chunked body decoder, percent-decoding, query strings, Range headers,
//! conditional requests, HTTP dates, media types by file extension and a
//! response-head writer. It is I/O-free, allocation-free and `no_std`: every
//! function works on caller buffers, reports "need more bytes" as
//! [`Status::Partial`], and never panics on any input. It must not touch sockets, clocks, files, routing or
//! application logic; those belong to the crates above it.
//!
//! Line endings: only CRLF is accepted. A bare LF or a bare CR anywhere in a
//! request head is rejected with a 400 error rather than tolerated, so this
//! parser can never disagree with a stricter peer about where a line ends.
//! One empty line (CRLF) before the request line is ignored (RFC 9112 2.2).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod chars;
pub mod chunked;
pub mod conditional;
pub mod date;
pub mod error;
pub mod framing;
pub mod host;
pub mod limits;
pub mod mime;
pub mod percent;
pub mod query;
pub mod range;
pub mod request;
pub mod response;
mod scan;

pub use chunked::{ChunkProgress, ChunkedDecoder};
pub use conditional::{evaluate, Conditions, Representation, Verdict};
pub use date::{format_imf_fixdate, format_rfc3339_millis, parse_http_date};
pub use error::Error;
pub use framing::{framing, BodyKind, Framing};
pub use host::is_valid_host;
pub use limits::{
    Limits, MAX_CHUNK_EXT_LEN, MAX_HEADERS, MAX_HEAD_LEN, MAX_RANGES, MAX_TARGET_LEN,
    MAX_TRAILER_LEN,
};
pub use mime::mime_for_path;
pub use percent::{percent_decode, percent_decode_query, PercentError};
pub use query::{query_get, query_pairs, QueryPairs};
pub use range::{parse_range_header, ByteRange, RangeOutcome, RangeSpec};
pub use request::{find_head_end, parse_request, Header, Method, Request, Status, Version};
pub use response::{
    reason_phrase, write_chunk_header, write_decimal, ResponseWriter, WriteError, CHUNK_TRAILER,
    LAST_CHUNK,
};
