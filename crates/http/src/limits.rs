//! Every size limit of the crate, in one place.
//!
//! The parser and decoders refuse input beyond these bounds with a specific
//! [`Error`](crate::Error) (414 or 431) instead of buffering without end.

/// Longest request-target accepted, in bytes (longer: 414 URI Too Long).
pub const MAX_TARGET_LEN: usize = 4096;
/// Longest request head accepted, in bytes, from the first byte through the
/// final CRLFCRLF (longer: 431).
pub const MAX_HEAD_LEN: usize = 16 * 1024;
/// Most header field lines accepted in one request (more: 431).
pub const MAX_HEADERS: usize = 64;
/// Longest chunked trailer section accepted, in bytes, including its final
/// CRLF (longer: 431).
pub const MAX_TRAILER_LEN: usize = 16 * 1024;
/// Longest chunk extension accepted on one chunk-size line, in bytes,
/// counted from the first byte after the chunk size up to the CR (longer: 400).
pub const MAX_CHUNK_EXT_LEN: usize = 1024;
/// Most range-specs honoured in one `Range` header; a header with more is
/// ignored and the whole representation served (RFC 9110 14.2 allows this).
pub const MAX_RANGES: usize = 16;
/// Most hex digits in a chunk size (16 digits fill a `u64`, so the size can
/// never overflow).
pub const MAX_CHUNK_SIZE_DIGITS: usize = 16;

/// Run-time limits for parsing one request; [`Default`] uses the named
/// constants of this module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest request-target, in bytes ([`MAX_TARGET_LEN`]).
    pub max_target_len: usize,
    /// Longest request head, in bytes ([`MAX_HEAD_LEN`]).
    pub max_head_len: usize,
    /// Most header lines ([`MAX_HEADERS`]); the header slice passed to
    /// [`parse_request`](crate::parse_request) caps it further.
    pub max_headers: usize,
    /// Longest chunked trailer section, in bytes ([`MAX_TRAILER_LEN`]).
    pub max_trailer_len: usize,
    /// Longest chunk extension, in bytes ([`MAX_CHUNK_EXT_LEN`]).
    pub max_chunk_ext_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_target_len: MAX_TARGET_LEN,
            max_head_len: MAX_HEAD_LEN,
            max_headers: MAX_HEADERS,
            max_trailer_len: MAX_TRAILER_LEN,
            max_chunk_ext_len: MAX_CHUNK_EXT_LEN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_uses_named_constants() {
        let l = Limits::default();
        assert_eq!(l.max_target_len, MAX_TARGET_LEN);
        assert_eq!(l.max_head_len, MAX_HEAD_LEN);
        assert_eq!(l.max_headers, MAX_HEADERS);
        assert_eq!(l.max_trailer_len, MAX_TRAILER_LEN);
        assert_eq!(l.max_chunk_ext_len, MAX_CHUNK_EXT_LEN);
        assert_eq!(MAX_TARGET_LEN, 4096);
        assert_eq!(MAX_HEAD_LEN, 16384);
        assert_eq!(MAX_HEADERS, 64);
        assert_eq!(MAX_CHUNK_EXT_LEN, 1024);
        assert_eq!(MAX_TRAILER_LEN, 16384);
        assert_eq!(
            16usize.pow(MAX_CHUNK_SIZE_DIGITS as u32 - 1) as u64,
            1u64 << 60
        );
    }
    // The tests at and just past each limit live next to the code enforcing
    // it: request.rs (target, head, headers), chunked.rs (extension, trailer,
    // size digits) and range.rs (ranges).
}
