//! A whole exchange in memory, for tests of apps and of the framework:
//! raw request bytes in, the exact response bytes a server would send out,
//! and those bytes decoded back (status, headers, de-chunked body). Built
//! only with the `test-support` feature; it uses `std`.

extern crate std;

use std::string::String;
use std::vec::Vec;

use bedrock_http::{
    framing, parse_request, write_chunk_header, BodyKind, ChunkedDecoder, Header, Limits, Status,
    Version, CHUNK_TRAILER, LAST_CHUNK,
};

use crate::dispatch::{dispatch, Response, Service};
use crate::persist::Persist;
use crate::reply::{Body, Framing, HeadInfo, HeadOptions};

/// Size of the body buffer handed to handlers and streams, like a server's.
pub const OUT_BUFFER: usize = 4096;

/// A response as a client sees it.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// Everything written to the connection.
    pub wire: Vec<u8>,
    /// The status code.
    pub status: u16,
    /// The head as text.
    pub head: String,
    /// The body with any chunked coding removed.
    pub body: Vec<u8>,
    /// Whether the server would keep the connection open.
    pub keep_alive: bool,
    /// The change records the app handed over for this request (taken
    /// after the reply is made, as a host does before sending it).
    pub changes: Vec<Vec<u8>>,
}

impl Exchange {
    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.split("\r\n").skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then_some(v.trim())
        })
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("body is not UTF-8")
    }
}

/// Room for a response head: every head an app writes fits.
pub const HEAD_BUFFER: usize = 2048;

/// The head of `response` as a server without a clock or a `Server`
/// header writes it, to a request of `version` whose framing lets the
/// connection stay open or not (`keep_alive`), and what it decided.
/// Panics if it does not fit [`HEAD_BUFFER`].
pub fn head(version: Version, keep_alive: bool, response: &Response) -> (Vec<u8>, HeadInfo) {
    let opts = HeadOptions {
        version,
        keep_alive,
        head_only: response.head_only,
        date: None,
        server: None,
    };
    let mut head = [0u8; HEAD_BUFFER];
    let info = response
        .reply
        .write_head(&opts, &mut head)
        .expect("head fits 2 KiB");
    (head[..info.len].to_vec(), info)
}

/// Serves one complete raw request to `app` the way a server does, or
/// returns the parse/framing error's status for malformed input.
pub fn serve<S: Service + Persist>(app: &mut S, raw: &[u8]) -> Result<Exchange, u16> {
    let mut headers = [Header::EMPTY; 64];
    let (request, head_len) = match parse_request(raw, &mut headers, &Limits::default()) {
        Ok(Status::Complete(done)) => done,
        Ok(Status::Partial) => panic!("incomplete request head"),
        Err(e) => return Err(e.status()),
    };
    let framed = framing(&request).map_err(|e| e.status())?;
    let rest = &raw[head_len..];
    let mut body = Vec::new();
    match framed.body {
        BodyKind::None => {}
        BodyKind::Length(n) => body.extend_from_slice(&rest[..n as usize]),
        BodyKind::Chunked => {
            let mut decoder = ChunkedDecoder::new(&Limits::default());
            let mut buf = [0u8; 512];
            let mut input = rest;
            while !decoder.is_done() {
                let progress = decoder.decode(input, &mut buf).map_err(|e| e.status())?;
                body.extend_from_slice(&buf[..progress.written]);
                input = &input[progress.consumed..];
                assert!(
                    progress.consumed + progress.written > 0 || decoder.is_done(),
                    "stuck"
                );
            }
        }
    }
    let mut out = std::vec![0u8; OUT_BUFFER];
    let response = dispatch(app, &request, &body, &mut out);
    let (head, info) = head(request.version, framed.keep_alive, &response);
    let mut changes = Vec::new();
    app.drain_changes(&mut |record| changes.push(record.to_vec()));
    let mut wire = head.clone();
    let mut decoded = Vec::new();
    match (info.body, response.reply.body) {
        (Framing::None, _) | (_, Body::Empty) => {}
        (_, Body::Static(bytes)) => decoded.extend_from_slice(bytes),
        (_, Body::Out(n)) => decoded.extend_from_slice(&out[..n]),
        // A host's file, sink or pending reply: nothing an app test sends.
        (_, Body::File(_) | Body::Sink(_) | Body::Deferred(_)) => {}
        (framing, Body::Stream(mut stream)) => loop {
            let n = app.stream(&mut stream, &mut out);
            if framing == Framing::Chunked {
                let mut size = [0u8; 20];
                let len = write_chunk_header(n, &mut size).expect("chunk header fits");
                if n == 0 {
                    wire.extend_from_slice(LAST_CHUNK);
                    break;
                }
                wire.extend_from_slice(&size[..len]);
                wire.extend_from_slice(&out[..n]);
                wire.extend_from_slice(CHUNK_TRAILER);
            } else if n == 0 {
                break;
            } else {
                wire.extend_from_slice(&out[..n]);
            }
            decoded.extend_from_slice(&out[..n]);
        },
    }
    if !matches!(response.reply.body, Body::Stream(_)) && info.body != Framing::None {
        wire.extend_from_slice(&decoded);
    }
    Ok(Exchange {
        status: response.reply.status,
        head: String::from_utf8(head).expect("head is ASCII"),
        wire,
        body: decoded,
        keep_alive: info.keep_alive,
        changes,
    })
}
