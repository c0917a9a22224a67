//! What a connection still has to send for the current reply: a head in
//! its own buffer, then a body from wherever the reply keeps it.

use bedrock_http::{write_chunk_header, CHUNK_TRAILER, LAST_CHUNK};
use bedrock_web::{FileBody, Stream};

use crate::config::HEAD_BUFFER;

/// Room kept in front of a streamed piece for its chunk-size line
/// (16 hex digits and CRLF).
pub(crate) const CHUNK_PREFIX: usize = 18;

/// Where the next body bytes after the head come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// Nothing queued.
    None,
    /// A static slice, from the given offset.
    Static(&'static [u8], usize),
    /// `scratch[start..end]`: a handler-written body or a framed piece.
    Scratch { start: usize, end: usize },
    /// A file range the transport sends, from `offset` to `end`.
    File { handle: u64, offset: u64, end: u64 },
}

/// A body still being pulled from the app piece by piece.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Streaming {
    pub(crate) stream: Stream,
    /// Frame pieces with the chunked coding (HTTP/1.1), or send them raw
    /// until the connection closes (HTTP/1.0).
    pub(crate) chunked: bool,
}

/// The pending output of one reply.
pub(crate) struct Output {
    head: [u8; HEAD_BUFFER],
    head_at: usize,
    head_end: usize,
    pub(crate) source: Source,
    pub(crate) streaming: Option<Streaming>,
}

impl Output {
    pub(crate) const fn new() -> Self {
        Output {
            head: [0; HEAD_BUFFER],
            head_at: 0,
            head_end: 0,
            source: Source::None,
            streaming: None,
        }
    }

    /// The head buffer, to write a new head into; clears what was pending.
    pub(crate) fn head_mut(&mut self) -> &mut [u8; HEAD_BUFFER] {
        self.head_at = 0;
        self.head_end = 0;
        self.source = Source::None;
        self.streaming = None;
        &mut self.head
    }

    /// Marks the first `len` bytes of the head buffer as pending.
    pub(crate) fn head_written(&mut self, len: usize) {
        self.head_at = 0;
        self.head_end = len;
    }

    /// Queues fixed bytes (e.g. `100 Continue`) as the head.
    pub(crate) fn set_head(&mut self, bytes: &[u8]) {
        let len = bytes.len().min(HEAD_BUFFER);
        self.head_mut()[..len].copy_from_slice(&bytes[..len]);
        self.head_written(len);
    }

    /// Whether nothing is queued right now (a stream may still follow).
    pub(crate) fn pending_is_empty(&self) -> bool {
        self.head_at == self.head_end && self.source == Source::None
    }

    /// Drops everything pending (an abandoned reply).
    pub(crate) fn clear(&mut self) {
        self.head_mut();
    }

    /// The next bytes to send (empty when waiting for a stream refill, a
    /// file range is next, or done).
    pub(crate) fn pending<'s>(&'s self, scratch: &'s [u8]) -> &'s [u8] {
        if self.head_at < self.head_end {
            return &self.head[self.head_at..self.head_end];
        }
        self.body_bytes(scratch)
    }

    /// The bytes that follow [`Output::pending`] from another buffer: the
    /// body behind a head still being sent (so both can go in one write).
    pub(crate) fn following<'s>(&'s self, scratch: &'s [u8]) -> &'s [u8] {
        if self.head_at < self.head_end {
            return self.body_bytes(scratch);
        }
        &[]
    }

    fn body_bytes<'s>(&'s self, scratch: &'s [u8]) -> &'s [u8] {
        match self.source {
            Source::Static(bytes, at) => &bytes[at..],
            Source::Scratch { start, end } => &scratch[start..end],
            Source::None | Source::File { .. } => &[],
        }
    }

    /// The file range to send next, once the head is out.
    pub(crate) fn file(&self) -> Option<FileBody> {
        match self.source {
            Source::File {
                handle,
                offset,
                end,
            } if self.head_at == self.head_end => Some(FileBody {
                handle,
                offset,
                len: end - offset,
            }),
            _ => None,
        }
    }

    /// Whether a file range follows what is pending.
    pub(crate) fn file_follows(&self) -> bool {
        matches!(self.source, Source::File { .. })
    }

    /// Records that `n` bytes went out: of the head first, then of the
    /// body (see [`Output::following`]).
    pub(crate) fn advance(&mut self, mut n: usize) {
        if self.head_at < self.head_end {
            let taken = n.min(self.head_end - self.head_at);
            self.head_at += taken;
            n -= taken;
            if n == 0 {
                return;
            }
        }
        match &mut self.source {
            Source::Static(bytes, at) => {
                *at += n;
                if *at >= bytes.len() {
                    self.source = Source::None;
                }
            }
            Source::Scratch { start, end } => {
                *start += n;
                if *start >= *end {
                    self.source = Source::None;
                }
            }
            Source::File { offset, end, .. } => {
                *offset += n as u64;
                if *offset >= *end {
                    self.source = Source::None;
                }
            }
            Source::None => {}
        }
    }
}

/// Frames a streamed piece of `n` bytes sitting at
/// `scratch[CHUNK_PREFIX..CHUNK_PREFIX + n]`; returns the range to send.
/// `n == 0` queues the last chunk instead.
pub(crate) fn frame_chunk(scratch: &mut [u8], n: usize) -> (usize, usize) {
    if n == 0 {
        scratch[..LAST_CHUNK.len()].copy_from_slice(LAST_CHUNK);
        return (0, LAST_CHUNK.len());
    }
    let mut size = [0u8; CHUNK_PREFIX];
    // n fits in 16 hex digits; CHUNK_PREFIX holds them and CRLF.
    let len = write_chunk_header(n, &mut size).unwrap_or(0);
    let start = CHUNK_PREFIX - len;
    scratch[start..CHUNK_PREFIX].copy_from_slice(&size[..len]);
    let end = CHUNK_PREFIX + n;
    scratch[end..end + CHUNK_TRAILER.len()].copy_from_slice(CHUNK_TRAILER);
    (start, end + CHUNK_TRAILER.len())
}
