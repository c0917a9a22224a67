//! Replies: status, content type, body and extra headers, and how their
//! head goes on the wire (framing and persistence decided here, once, for
//! both servers).

use bedrock_http::{ResponseWriter, Version, WriteError};

use crate::limits::{MAX_REPLY_HEADERS, REPLY_HEADER_BYTES, STREAM_NOTE_BYTES};

/// A handler's refusal: a status and a short message for the client. The
/// app renders it (JSON for an API, HTML for pages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reject {
    /// HTTP status, 4xx or 5xx.
    pub status: u16,
    /// One line for the client and the log.
    pub message: &'static str,
}

impl Reject {
    /// A refusal with this status and message.
    pub const fn new(status: u16, message: &'static str) -> Self {
        Reject { status, message }
    }
}

impl From<bedrock_http::Error> for Reject {
    /// A request that cannot be parsed or framed, with the status the
    /// parser chose (400, 413, 414, 431, 501, 505 ...).
    fn from(e: bedrock_http::Error) -> Self {
        Reject::new(e.status(), e.message())
    }
}

/// A body produced in pieces by [`crate::Service::stream`]; `kind` and
/// `cursor` mean whatever the app makes them mean (which listing, where it
/// stopped), and `note` carries a few bytes of the request the pieces need
/// (the `Host` for absolute URLs, say): the request is gone by the time
/// they are written. Used for bodies of any length, like a list of every
/// hotel. `kind` `u32::MAX` is taken by the servers' `/metrics` page
/// (`bedrock_metrics::STREAM_KIND`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stream {
    /// Which stream of the app.
    pub kind: u32,
    /// Where the next piece starts.
    pub cursor: u64,
    /// Bytes kept from the request ([`Stream::with_note`]).
    pub note: StreamNote,
}

impl Stream {
    /// Stream `kind` from `cursor`, with no note.
    pub const fn new(kind: u32, cursor: u64) -> Self {
        Stream {
            kind,
            cursor,
            note: StreamNote::EMPTY,
        }
    }

    /// The same stream carrying `note`; `None` if it is longer than
    /// [`STREAM_NOTE_BYTES`].
    pub fn with_note(mut self, note: &[u8]) -> Option<Self> {
        let bytes = self.note.bytes.get_mut(..note.len())?;
        bytes.copy_from_slice(note);
        self.note.len = note.len() as u8;
        Some(self)
    }
}

/// Up to [`STREAM_NOTE_BYTES`] bytes a [`Stream`] carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamNote {
    len: u8,
    bytes: [u8; STREAM_NOTE_BYTES],
}

impl StreamNote {
    /// No bytes.
    pub const EMPTY: StreamNote = StreamNote {
        len: 0,
        bytes: [0; STREAM_NOTE_BYTES],
    };

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// A range of a file the host sends itself (sendfile on Linux). `handle`
/// means whatever the host's service makes it mean (a descriptor, an
/// index); the framework and the connection only carry it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileBody {
    /// The host's name for the file.
    pub handle: u64,
    /// Where the body starts in the file.
    pub offset: u64,
    /// Bytes of body.
    pub len: u64,
}

/// Where a reply's body comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// No body (Content-Length: 0, or nothing at all for 204/304).
    Empty,
    /// Bytes that live for the whole program (pages, fixed messages).
    Static(&'static [u8]),
    /// The first `n` bytes the handler wrote into [`crate::Ctx::out`].
    Out(usize),
    /// A body of unknown length, pulled piece by piece.
    Stream(Stream),
    /// A file range, sent by the host.
    File(FileBody),
    /// Not a reply yet: the request body goes, as it arrives, to the
    /// upload sink of this number ([`crate::Handler::sink`]), and the
    /// reply comes when it ends ([`crate::Handler::sink_end`]). Only an
    /// answer to [`crate::Handler::on_head`].
    Sink(u64),
    /// Not a reply yet: the handler is still working on it (a directory
    /// listing built between turns of the host's event loop); the host
    /// asks again with [`crate::Handler::resume`] and this number.
    Deferred(u64),
}

/// What a handler answers.
#[derive(Clone, Debug)]
pub struct Reply {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type` value, if there is a body.
    pub content_type: Option<&'static str>,
    /// The body's source.
    pub body: Body,
    /// Extra headers: names, and values packed in `values` ending at `ends`.
    names: [&'static str; MAX_REPLY_HEADERS],
    ends: [u16; MAX_REPLY_HEADERS],
    count: usize,
    values: [u8; REPLY_HEADER_BYTES],
    /// Set when an extra header did not fit or was malformed; the
    /// dispatcher then answers 500 instead of sending a wrong head.
    header_error: bool,
}

impl Reply {
    /// A reply with this status and no body.
    pub const fn new(status: u16) -> Self {
        Reply {
            status,
            content_type: None,
            body: Body::Empty,
            names: [""; MAX_REPLY_HEADERS],
            ends: [0; MAX_REPLY_HEADERS],
            count: 0,
            values: [0; REPLY_HEADER_BYTES],
            header_error: false,
        }
    }

    /// 204 No Content.
    pub const fn no_content() -> Self {
        Reply::new(204)
    }

    const fn with(status: u16, content_type: Option<&'static str>, body: Body) -> Self {
        let mut reply = Reply::new(status);
        reply.content_type = content_type;
        reply.body = body;
        reply
    }

    /// This status with a static body of this type.
    pub const fn fixed(status: u16, content_type: &'static str, body: &'static [u8]) -> Self {
        Reply::with(status, Some(content_type), Body::Static(body))
    }

    /// This status with the first `len` bytes of the handler's `out` buffer.
    pub const fn out(status: u16, content_type: &'static str, len: usize) -> Self {
        Reply::with(status, Some(content_type), Body::Out(len))
    }

    /// This status with a file range as its body.
    pub const fn file(status: u16, content_type: &'static str, file: FileBody) -> Self {
        Reply::with(status, Some(content_type), Body::File(file))
    }

    /// This status with a streamed body.
    pub const fn stream(status: u16, content_type: &'static str, stream: Stream) -> Self {
        Reply::with(status, Some(content_type), Body::Stream(stream))
    }

    /// Not a reply yet: the request body goes to the handler's upload
    /// sink `sink` ([`Body::Sink`]; an answer to
    /// [`crate::Handler::on_head`]).
    pub const fn sink(sink: u64) -> Self {
        Reply::with(100, None, Body::Sink(sink))
    }

    /// Not a reply yet: the handler has it later ([`Body::Deferred`]).
    pub const fn deferred(token: u64) -> Self {
        Reply::with(200, None, Body::Deferred(token))
    }

    /// Adds a header. A name that is not a token, a value holding CR, LF
    /// or NUL, more than [`MAX_REPLY_HEADERS`] headers or more than
    /// [`REPLY_HEADER_BYTES`] of values turn the reply into a 500 at
    /// dispatch rather than a malformed head.
    pub fn header(mut self, name: &'static str, value: &[u8]) -> Self {
        let valid_name =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
        let valid_value = !value.iter().any(|b| matches!(b, b'\r' | b'\n' | 0));
        let start = self.values_len();
        let end = start + value.len();
        if !valid_name
            || !valid_value
            || self.count == MAX_REPLY_HEADERS
            || end > REPLY_HEADER_BYTES
        {
            self.header_error = true;
            return self;
        }
        self.values[start..end].copy_from_slice(value);
        self.names[self.count] = name;
        // end <= REPLY_HEADER_BYTES, which fits in u16 (checked in limits).
        self.ends[self.count] = end as u16;
        self.count += 1;
        self
    }

    fn values_len(&self) -> usize {
        match self.count {
            0 => 0,
            n => usize::from(self.ends[n - 1]),
        }
    }

    /// The extra headers, in the order added.
    pub fn extra_headers(&self) -> impl Iterator<Item = (&'static str, &[u8])> {
        (0..self.count).map(|i| {
            let start = if i == 0 {
                0
            } else {
                usize::from(self.ends[i - 1])
            };
            (
                self.names[i],
                &self.values[start..usize::from(self.ends[i])],
            )
        })
    }

    /// Whether every extra header was accepted.
    pub fn headers_ok(&self) -> bool {
        !self.header_error
    }

    /// Statuses that never carry a body or a Content-Length (RFC 9110 8.6).
    fn forbids_body(&self) -> bool {
        matches!(self.status, 100..=199 | 204 | 304)
    }

    /// Writes the status line and headers, choosing the framing.
    pub fn write_head(
        &self,
        opts: &HeadOptions<'_>,
        out: &mut [u8],
    ) -> Result<HeadInfo, WriteError> {
        let mut keep_alive = opts.keep_alive;
        let mut w = ResponseWriter::new(out, opts.version, self.status)?;
        if let Some(date) = opts.date {
            w.header("Date", date)?;
        }
        if let Some(server) = opts.server {
            w.header("Server", server.as_bytes())?;
        }
        if let Some(ct) = self.content_type {
            w.header("Content-Type", ct.as_bytes())?;
        }
        let framing = if self.forbids_body() {
            Framing::None
        } else {
            match self.body {
                Body::Empty => Framing::Length(0),
                Body::Static(b) => Framing::Length(b.len() as u64),
                Body::Out(n) => Framing::Length(n as u64),
                Body::File(f) => Framing::Length(f.len),
                // Never written: the connection waits for the real reply.
                Body::Sink(_) | Body::Deferred(_) => Framing::Length(0),
                Body::Stream(_) if opts.version == Version::Http11 => Framing::Chunked,
                // HTTP/1.0 has no chunked coding: the body ends with the connection.
                Body::Stream(_) => {
                    keep_alive = false;
                    Framing::UntilClose
                }
            }
        };
        match framing {
            Framing::Length(n) => {
                w.content_length(n)?;
            }
            Framing::Chunked => {
                w.chunked()?;
            }
            Framing::None | Framing::UntilClose => {}
        }
        match (keep_alive, opts.version) {
            (false, _) => {
                w.header("Connection", b"close")?;
            }
            (true, Version::Http10) => {
                w.header("Connection", b"keep-alive")?;
            }
            (true, Version::Http11) => {}
        }
        for (name, value) in self.extra_headers() {
            w.header(name, value)?;
        }
        let len = w.finish_head()?;
        let body = if opts.head_only {
            Framing::None
        } else {
            framing
        };
        Ok(HeadInfo {
            len,
            keep_alive,
            body,
        })
    }
}

/// How the body that follows a head is framed on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body bytes follow.
    None,
    /// Exactly this many bytes follow.
    Length(u64),
    /// Chunked transfer coding follows.
    Chunked,
    /// Bytes follow until the server closes the connection.
    UntilClose,
}

/// The request-side facts a head depends on.
#[derive(Clone, Copy, Debug)]
pub struct HeadOptions<'d> {
    /// The request's version; the reply uses the same.
    pub version: Version,
    /// Whether the connection may stay open (from the request's framing
    /// and the server's own limits).
    pub keep_alive: bool,
    /// HEAD request: the head describes the body, which is not sent.
    pub head_only: bool,
    /// An IMF-fixdate for the `Date` header (servers with a clock).
    pub date: Option<&'d [u8]>,
    /// A `Server` header value.
    pub server: Option<&'static str>,
}

/// What `write_head` decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadInfo {
    /// Bytes of head written.
    pub len: usize,
    /// Whether the connection stays open after this reply.
    pub keep_alive: bool,
    /// What the server must send after the head.
    pub body: Framing,
}
