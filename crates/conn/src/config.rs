//! Timeouts and sizes of a connection, in one place.

use bedrock_http::Limits;

/// A request head must arrive whole within this long of its first byte
/// (slowloris defence): 408 and close past it.
pub const HEAD_TIMEOUT_US: u64 = 10_000_000;

/// A request body must arrive whole within this long of its head: 408 and
/// close past it.
pub const BODY_TIMEOUT_US: u64 = 30_000_000;

/// A kept-alive connection with no request in progress is closed after
/// this long without a byte.
pub const IDLE_TIMEOUT_US: u64 = 5_000_000;

/// A reply that makes no progress (the client stopped reading) for this
/// long is abandoned and the connection closed.
pub const SEND_TIMEOUT_US: u64 = 30_000_000;

/// By default a request may fall silent for as long as its head or body
/// deadline allows: no separate silence limit.
pub const NO_READ_TIMEOUT: u64 = u64::MAX;

/// Bytes reserved for a reply head (status line and headers).
pub const HEAD_BUFFER: usize = 1024;

/// How a connection behaves.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Parser limits (target, head, header count, trailers).
    pub limits: Limits,
    /// Largest request body accepted (413 past it); at most the
    /// connection's body buffer.
    pub max_body: usize,
    /// See [`HEAD_TIMEOUT_US`].
    pub head_timeout_us: u64,
    /// See [`BODY_TIMEOUT_US`].
    pub body_timeout_us: u64,
    /// See [`IDLE_TIMEOUT_US`].
    pub idle_timeout_us: u64,
    /// See [`SEND_TIMEOUT_US`].
    pub send_timeout_us: u64,
    /// A request (head or body) that sends nothing for this long gets 408
    /// and a close ([`NO_READ_TIMEOUT`]: no such limit).
    pub read_timeout_us: u64,
    /// Once a body has been arriving for `read_timeout_us`, it must have
    /// averaged at least this many bytes a second (408 otherwise; 0: no
    /// minimum). Bounds how long a large upload may trickle.
    pub min_body_rate: u64,
    /// `Server` header value, if any.
    pub server: Option<&'static str>,
}

impl Config {
    /// The defaults above, with bodies up to `max_body` bytes.
    pub const fn new(max_body: usize) -> Config {
        Config {
            limits: Limits {
                max_target_len: bedrock_http::MAX_TARGET_LEN,
                max_head_len: bedrock_http::MAX_HEAD_LEN,
                max_headers: bedrock_http::MAX_HEADERS,
                max_trailer_len: bedrock_http::MAX_TRAILER_LEN,
                max_chunk_ext_len: bedrock_http::MAX_CHUNK_EXT_LEN,
            },
            max_body,
            head_timeout_us: HEAD_TIMEOUT_US,
            body_timeout_us: BODY_TIMEOUT_US,
            idle_timeout_us: IDLE_TIMEOUT_US,
            send_timeout_us: SEND_TIMEOUT_US,
            read_timeout_us: NO_READ_TIMEOUT,
            min_body_rate: 0,
            server: Some("bedrock"),
        }
    }
}
