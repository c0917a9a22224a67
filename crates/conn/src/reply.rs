//! Answering a request: a handler's response (or an error's) becomes a
//! reply head in the output and a body source behind it, the access log
//! gets its line, and the reply is fed to the transport, a streamed body
//! refilled piece by piece, until it is out and the next request may
//! start.

use bedrock_http::{framing, parse_request, Header, Request, Status, Version, MAX_HEADERS};
use bedrock_web::{Body, Framing, Handler, HeadOptions, Reject, Reply, Response};

use crate::conn::{Conn, LogRecord, Phase, Turn};
use crate::output::{frame_chunk, Output, Source, Streaming, CHUNK_PREFIX};

/// A reply head for when even the error reply's head does not fit.
pub(crate) const FALLBACK_500: &[u8] =
    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

impl<const IN: usize, const BODY: usize, const OUT: usize> Conn<IN, BODY, OUT> {
    /// Answers the request whose head is `input[..head_len]` (and whose
    /// body, if read whole, is complete) with what `make` returns, queues
    /// the reply and drops the head; false when `make` has no reply yet.
    /// The head is parsed again: the request parsed when it arrived
    /// borrowed the input, which the body was read into since.
    pub(crate) fn answer_with<H: Handler, L: FnMut(&LogRecord<'_>)>(
        &mut self,
        t: &mut Turn<'_, H, L>,
        head_len: usize,
        make: impl FnOnce(&mut H, &Request<'_, '_>, &[u8], &mut [u8]) -> Option<Response>,
    ) -> bool {
        let mut headers = [Header::EMPTY; MAX_HEADERS];
        let Ok(Status::Complete((request, _))) = parse_request(
            &self.bufs.input[..head_len],
            &mut headers,
            &self.config.limits,
        ) else {
            // It parsed before and the bytes are unchanged.
            self.output.set_head(FALLBACK_500);
            self.close_after = true;
            self.phase = Phase::Write;
            return true;
        };
        let keep_alive =
            framing(&request).is_ok_and(|f| f.keep_alive) && !self.peer_eof && !self.stopping;
        let body = &self.bufs.body[..self.body_len];
        let Some(response) = make(t.app, &request, body, &mut self.bufs.scratch) else {
            return false;
        };
        let out = Outgoing {
            output: &mut self.output,
            server: self.config.server,
        };
        let sent = send_response(t, &request, &response, keep_alive, self.request_start, out);
        self.settle(head_len, sent);
        true
    }

    /// The request whose head is `input[..head_len]` has its reply queued
    /// or deferred.
    pub(crate) fn settle(&mut self, head_len: usize, sent: Sent) {
        match sent {
            Sent::Queued { close_after } => self.answered(head_len, close_after),
            Sent::Deferred(token) => self.phase = Phase::Deferred { head_len, token },
        }
    }

    /// A request whose head was `input[..head_len]` has its reply queued:
    /// drops the head and sends the reply.
    pub(crate) fn answered(&mut self, head_len: usize, close_after: bool) {
        self.close_after = close_after;
        self.bufs.input.copy_within(head_len..self.in_len, 0);
        self.in_len -= head_len;
        self.body_len = 0;
        self.phase = Phase::Write;
    }

    /// Answers a request that cannot be read on with `reject`, then closes
    /// (its framing is unknown, so nothing after it can be trusted).
    pub(crate) fn respond_error<H: Handler, L: FnMut(&LogRecord<'_>)>(
        &mut self,
        t: &mut Turn<'_, H, L>,
        reject: Reject,
    ) -> bool {
        let bytes = self.queue_error(t.date, t.app, reject);
        (t.log)(&LogRecord {
            method: "-",
            target: "-",
            status: reject.status,
            bytes,
            micros: t.now.saturating_sub(self.request_start),
        });
        true
    }

    /// Queues `reject`'s reply, to close after it; returns its body bytes.
    fn queue_error<H: Handler>(&mut self, date: Option<&[u8]>, app: &mut H, reject: Reject) -> u64 {
        let reply = app.render_reject(reject, &mut self.bufs.scratch);
        let opts = HeadOptions {
            version: Version::Http11,
            keep_alive: false,
            head_only: false,
            date,
            server: self.config.server,
        };
        let (_, bytes) = queue_reply(&mut self.output, &reply, &opts);
        self.in_len = 0;
        self.body_len = 0;
        self.close_after = true;
        self.phase = Phase::Write;
        bytes
    }

    /// Replaces the reply queued for the last request, none of which may
    /// have been sent, with `reject`'s, and closes after it; requests
    /// pipelined behind it are dropped. For a host that could not make
    /// that request's change durable (a full or failing disk): the client
    /// must not see the app's success. Returns the new reply's body bytes
    /// (for the host's access-log line of that request).
    pub fn replace_reply<H: Handler>(
        &mut self,
        date: Option<&[u8]>,
        app: &mut H,
        reject: Reject,
    ) -> u64 {
        self.output.clear();
        self.queue_error(date, app, reject)
    }

    /// Refills a stream or finishes the reply; false when waiting for the
    /// transport.
    pub(crate) fn write<H: Handler>(&mut self, now: u64, app: &mut H) -> bool {
        if !self.output.pending_is_empty() {
            return false;
        }
        if let Some(Streaming {
            mut stream,
            chunked,
        }) = self.output.streaming
        {
            let end = OUT - 2;
            let n = app.stream(&mut stream, &mut self.bufs.scratch[CHUNK_PREFIX..end]);
            let (start, end) = if chunked {
                frame_chunk(&mut self.bufs.scratch, n)
            } else {
                (CHUNK_PREFIX, CHUNK_PREFIX + n)
            };
            self.output.source = Source::Scratch { start, end };
            self.output.streaming = (n > 0).then_some(Streaming { stream, chunked });
            if start == end {
                self.output.source = Source::None;
            }
            return true;
        }
        // The reply is out.
        if self.close_after || (self.stopping && self.in_len == 0) {
            self.phase = Phase::Closed;
        } else {
            self.phase = Phase::Head;
            self.request_start = now;
            self.last_progress = now;
            self.kept_alive = true;
        }
        true
    }
}

/// Where a reply goes: the output queue, and the `Server` header value.
pub(crate) struct Outgoing<'o> {
    pub(crate) output: &'o mut Output,
    pub(crate) server: Option<&'static str>,
}

/// What became of a handler's response.
pub(crate) enum Sent {
    /// Its head and body are queued.
    Queued { close_after: bool },
    /// It is not ready ([`Body::Deferred`]): nothing queued or logged.
    Deferred(u64),
}

/// Queues the reply to `request` and logs it with the time since
/// `started`, unless the handler deferred it.
pub(crate) fn send_response<H, L: FnMut(&LogRecord<'_>)>(
    t: &mut Turn<'_, H, L>,
    request: &Request<'_, '_>,
    response: &Response,
    keep_alive: bool,
    started: u64,
    out: Outgoing<'_>,
) -> Sent {
    if let Body::Deferred(token) = response.reply.body {
        return Sent::Deferred(token);
    }
    let opts = HeadOptions {
        version: request.version,
        keep_alive,
        head_only: response.head_only,
        date: t.date,
        server: out.server,
    };
    let (close_after, bytes) = queue_reply(out.output, &response.reply, &opts);
    (t.log)(&LogRecord {
        method: request.method_str,
        target: request.target,
        status: response.reply.status,
        bytes,
        micros: t.now.saturating_sub(started),
    });
    Sent::Queued { close_after }
}

/// Writes `reply`'s head into `output` and queues its body; returns whether
/// the connection must close after it, and the body length announced.
fn queue_reply(output: &mut Output, reply: &Reply, opts: &HeadOptions<'_>) -> (bool, u64) {
    let info = match reply.write_head(opts, output.head_mut()) {
        Ok(info) => info,
        Err(_) => {
            output.set_head(FALLBACK_500);
            return (true, 0);
        }
    };
    output.head_written(info.len);
    if info.body != Framing::None {
        match reply.body {
            Body::Empty | Body::Sink(_) | Body::Deferred(_) => {}
            Body::Static(bytes) if !bytes.is_empty() => output.source = Source::Static(bytes, 0),
            Body::Static(_) => {}
            Body::Out(0) => {}
            Body::Out(n) => output.source = Source::Scratch { start: 0, end: n },
            Body::File(f) if f.len == 0 => {}
            Body::File(f) => {
                output.source = Source::File {
                    handle: f.handle,
                    offset: f.offset,
                    end: f.offset + f.len,
                }
            }
            Body::Stream(stream) => {
                output.streaming = Some(Streaming {
                    stream,
                    chunked: info.body == Framing::Chunked,
                })
            }
        }
    }
    let bytes = match info.body {
        Framing::Length(n) => n,
        _ => 0,
    };
    (!info.keep_alive, bytes)
}
