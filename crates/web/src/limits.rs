//! The framework's limits, in one place.

/// Most `{name}` parameters one pattern may hold (checked when the route
/// table is compiled).
pub const MAX_PARAMS: usize = 8;

/// Extra headers (beyond status, type, length and connection) one reply
/// can carry, e.g. `Location` or `Allow`. Past it the request is answered
/// with 500.
pub const MAX_REPLY_HEADERS: usize = 8;

/// Bytes of extra header values (beyond status, type, length and connection) one
/// reply can carry. Past it the request is answered with 500.
pub const REPLY_HEADER_BYTES: usize = 512;

// Value ends are stored as u16.
const _: () = assert!(REPLY_HEADER_BYTES <= u16::MAX as usize);

/// Bytes of the request a streamed body can keep ([`crate::Stream::note`]):
/// a scheme and a `Host` of up to 120 bytes fit (a larger note would make
/// every reply value large).
pub const STREAM_NOTE_BYTES: usize = 128;

/// Longest change record a [`crate::Records`] makes, its head included
/// (the hosts' journals take records up to this size; a snapshot builds
/// one on the stack). A record type past it fails the build.
pub const MAX_RECORD_BYTES: usize = 4096;

/// Members a JSON request body ([`crate::JsonBody`]) may have; more is a
/// 400. Duplicate keys are looked for pairwise, so it stays small.
pub const MAX_JSON_FIELDS: usize = 16;

/// Longest path (the part before the id) a [`crate::Url`] holds.
pub const MAX_URL_PATH: usize = 64;
