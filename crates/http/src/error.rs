//! Errors found in a request, each mapped to the response status a server
//! should send.

use core::fmt;

/// Why a request (head, framing or chunked body) was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The request line is not `method SP target SP version CRLF` (400).
    BadRequestLine,
    /// The method is empty or not a token (400).
    BadMethod,
    /// The request-target is empty, has a forbidden byte or an unknown form (400).
    BadTarget,
    /// The request-target is longer than `max_target_len` (414).
    UriTooLong,
    /// The version is not of the form `HTTP/DIGIT.DIGIT` (400).
    BadVersion,
    /// A well-formed version other than HTTP/1.0 and HTTP/1.1 (505).
    VersionNotSupported,
    /// A header name is empty, not a token, or has whitespace before the colon (400).
    BadHeaderName,
    /// A header value has a control byte, or a line ends in a bare CR or LF (400).
    BadHeaderValue,
    /// A header line starts with whitespace: obsolete line folding (400).
    ObsoleteLineFolding,
    /// The request head is longer than `max_head_len` (431).
    HeadTooLarge,
    /// More header lines than `max_headers` or the caller's slice (431).
    TooManyHeaders,
    /// An HTTP/1.1 request without a Host header (400).
    MissingHost,
    /// More than one Host header line (400).
    DuplicateHost,
    /// A Host value that is not `uri-host [ ":" port ]` (400, RFC 9112 3.2).
    BadHost,
    /// Content-Length is not a decimal number, overflows, or lists differing values (400).
    BadContentLength,
    /// Both Transfer-Encoding and Content-Length are present (400).
    LengthAndChunked,
    /// Transfer-Encoding in an HTTP/1.0 request (400).
    TransferEncodingOnHttp10,
    /// Transfer-Encoding is empty, does not end in chunked, or repeats chunked (400).
    BadTransferEncoding,
    /// A transfer coding other than chunked (501).
    UnsupportedTransferEncoding,
    /// A malformed chunked body (400).
    BadChunk,
    /// A chunk extension longer than `max_chunk_ext_len` (400).
    ChunkExtensionTooLong,
    /// A chunked trailer section longer than `max_trailer_len` (431).
    TrailerTooLarge,
}

impl Error {
    /// The HTTP status code a server should answer with.
    pub fn status(self) -> u16 {
        match self {
            Error::UriTooLong => 414,
            Error::HeadTooLarge | Error::TooManyHeaders | Error::TrailerTooLarge => 431,
            Error::VersionNotSupported => 505,
            Error::UnsupportedTransferEncoding => 501,
            Error::BadRequestLine
            | Error::BadMethod
            | Error::BadTarget
            | Error::BadVersion
            | Error::BadHeaderName
            | Error::BadHeaderValue
            | Error::ObsoleteLineFolding
            | Error::MissingHost
            | Error::DuplicateHost
            | Error::BadHost
            | Error::BadContentLength
            | Error::LengthAndChunked
            | Error::TransferEncodingOnHttp10
            | Error::BadTransferEncoding
            | Error::BadChunk
            | Error::ChunkExtensionTooLong => 400,
        }
    }

    /// A one-line human-readable description, fit for a response body or log.
    pub fn message(self) -> &'static str {
        match self {
            Error::BadRequestLine => "malformed request line",
            Error::BadMethod => "malformed method",
            Error::BadTarget => "malformed request target",
            Error::UriTooLong => "request target too long",
            Error::BadVersion => "malformed HTTP version",
            Error::VersionNotSupported => "HTTP version not supported",
            Error::BadHeaderName => "malformed header name",
            Error::BadHeaderValue => "malformed header value or line ending",
            Error::ObsoleteLineFolding => "obsolete header line folding is not accepted",
            Error::HeadTooLarge => "request head too large",
            Error::TooManyHeaders => "too many header fields",
            Error::MissingHost => "missing Host header",
            Error::DuplicateHost => "more than one Host header",
            Error::BadHost => "invalid Host header",
            Error::BadContentLength => "invalid Content-Length",
            Error::LengthAndChunked => "both Transfer-Encoding and Content-Length",
            Error::TransferEncodingOnHttp10 => "Transfer-Encoding in an HTTP/1.0 request",
            Error::BadTransferEncoding => "invalid Transfer-Encoding",
            Error::UnsupportedTransferEncoding => "unsupported transfer coding",
            Error::BadChunk => "malformed chunked body",
            Error::ChunkExtensionTooLong => "chunk extension too long",
            Error::TrailerTooLarge => "chunked trailer section too large",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Error; 22] = [
        Error::BadRequestLine,
        Error::BadMethod,
        Error::BadTarget,
        Error::UriTooLong,
        Error::BadVersion,
        Error::VersionNotSupported,
        Error::BadHeaderName,
        Error::BadHeaderValue,
        Error::ObsoleteLineFolding,
        Error::HeadTooLarge,
        Error::TooManyHeaders,
        Error::MissingHost,
        Error::DuplicateHost,
        Error::BadHost,
        Error::BadContentLength,
        Error::LengthAndChunked,
        Error::TransferEncodingOnHttp10,
        Error::BadTransferEncoding,
        Error::UnsupportedTransferEncoding,
        Error::BadChunk,
        Error::ChunkExtensionTooLong,
        Error::TrailerTooLarge,
    ];

    #[test]
    fn statuses() {
        assert_eq!(Error::UriTooLong.status(), 414);
        assert_eq!(Error::HeadTooLarge.status(), 431);
        assert_eq!(Error::TooManyHeaders.status(), 431);
        assert_eq!(Error::TrailerTooLarge.status(), 431);
        assert_eq!(Error::VersionNotSupported.status(), 505);
        assert_eq!(Error::UnsupportedTransferEncoding.status(), 501);
        assert_eq!(Error::BadChunk.status(), 400);
        assert_eq!(Error::BadHost.status(), 400);
        for e in ALL {
            assert!(matches!(e.status(), 400 | 414 | 431 | 501 | 505));
        }
    }

    #[test]
    fn messages_are_one_line_and_display() {
        for e in ALL {
            let m = e.message();
            assert!(!m.is_empty() && !m.contains('\n'));
            assert_eq!(format!("{e}"), m);
        }
    }
}
