//! Absolute URLs a reply names resources by, built from the request's
//! `Host` (RFC 9110 7.2: the authority the client asked for), the way
//! APIs such as the Todo-Backend's give each item its `url`. The scheme
//! is `http`: neither server speaks TLS.

use crate::ctx::Ctx;
use crate::limits::{MAX_URL_PATH, STREAM_NOTE_BYTES};
use crate::reply::{Reject, Stream};

const BAD_HOST: Reject = Reject::new(400, "a Host this app cannot put in a URL");

const SCHEME: &[u8] = b"http://";

/// Longest [`Url`]: scheme, host, path and a `u64` in decimal.
const URL_BYTES: usize = SCHEME.len() + STREAM_NOTE_BYTES + MAX_URL_PATH + 20;

impl<'a> Ctx<'a> {
    /// The request's `Host`, to build absolute URLs from; `localhost`
    /// when it has none (HTTP/1.0). 400 unless it is visible ASCII
    /// without `"` or `\` (it goes into JSON and HTML as it is) and at
    /// most [`STREAM_NOTE_BYTES`] long (a stream can carry it:
    /// [`Stream::with_host`]).
    pub fn host(&self) -> Result<&'a [u8], Reject> {
        let host = self.header("host").unwrap_or(b"localhost");
        let plain = |b: &u8| b.is_ascii_graphic() && *b != b'"' && *b != b'\\';
        match !host.is_empty() && host.len() <= STREAM_NOTE_BYTES && host.iter().all(plain) {
            true => Ok(host),
            false => Err(BAD_HOST),
        }
    }
}

impl Stream {
    /// The same stream carrying the request's `Host` ([`Ctx::host`]) as
    /// its note, for the URLs in its pieces.
    pub fn with_host(self, cx: &Ctx<'_>) -> Result<Self, Reject> {
        self.with_note(cx.host()?).ok_or(BAD_HOST)
    }
}

/// `http://` + host + path + an id in decimal:
/// `http://todo.example:8080/todos/7`.
pub struct Url {
    bytes: [u8; URL_BYTES],
    len: usize,
}

impl Url {
    /// The URL of item `id` under `path` (which ends in `/`) on `host`
    /// (from [`Ctx::host`], or a stream's note); `None` when `host` is
    /// past [`STREAM_NOTE_BYTES`], `path` past [`MAX_URL_PATH`] or either
    /// is not UTF-8.
    pub fn new(host: &[u8], path: &str, id: u64) -> Option<Url> {
        if host.len() > STREAM_NOTE_BYTES || path.len() > MAX_URL_PATH {
            return None;
        }
        let mut url = Url {
            bytes: [0; URL_BYTES],
            len: 0,
        };
        for part in [SCHEME, host, path.as_bytes()] {
            url.bytes[url.len..url.len + part.len()].copy_from_slice(part);
            url.len += part.len();
        }
        url.len += bedrock_http::write_decimal(id, &mut url.bytes[url.len..]).ok()?;
        core::str::from_utf8(host).ok()?;
        Some(url)
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        // `new` checked the host; the rest is the path and ASCII.
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;

    #[test]
    fn urls_at_and_past_their_limits() {
        let url = Url::new(b"todo.example:8080", "/todos/", 7).unwrap();
        assert_eq!(url.as_str(), "http://todo.example:8080/todos/7");
        let host = "h".repeat(STREAM_NOTE_BYTES);
        let path = std::format!("/{}/", "p".repeat(MAX_URL_PATH - 2));
        let longest = Url::new(host.as_bytes(), &path, u64::MAX).unwrap();
        assert_eq!(longest.as_str().len(), URL_BYTES);
        let longer_host = String::from("h") + &host;
        assert!(Url::new(longer_host.as_bytes(), &path, 1).is_none());
        let longer_path = String::from("p") + &path;
        assert!(Url::new(host.as_bytes(), &longer_path, 1).is_none());
        assert!(Url::new(b"\xff", "/", 1).is_none());
    }

    fn host_of(head: &str) -> Result<std::vec::Vec<u8>, u16> {
        crate::with_request(head, |request| {
            let mut out = [0u8; 0];
            let cx = Ctx {
                request,
                params: crate::Params::new(),
                body: b"",
                out: &mut out,
            };
            let stream = Stream::new(1, 0).with_host(&cx).map_err(|r| r.status)?;
            assert_eq!(Ok(stream.note.as_bytes()), cx.host());
            Ok(stream.note.as_bytes().to_vec())
        })
    }

    #[test]
    fn the_host_is_checked_and_carried() {
        let get = |host: &str| host_of(&std::format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n"));
        assert_eq!(get("a.example:80"), Ok(b"a.example:80".to_vec()));
        let longest = "h".repeat(STREAM_NOTE_BYTES);
        assert_eq!(get(&longest), Ok(longest.clone().into_bytes()));
        assert_eq!(get(&(longest + "h")), Err(400));
        assert_eq!(host_of("GET / HTTP/1.0\r\n\r\n"), Ok(b"localhost".to_vec()));
    }
}
