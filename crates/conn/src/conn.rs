//! The connection state machine.
//!
//! A connection alternates between reading a request (head, then body)
//! and writing its reply; replies go out in request order, so pipelined
//! requests simply wait in the input buffer. [`Conn::drive`] (drive.rs)
//! runs it over a transport; by hand it goes:
//!
//! ```text
//! conn.open(now);
//! loop {
//!     let n = socket.read(conn.recv_buffer());   // n == 0: conn.peer_closed()
//!     conn.received(now, n);
//!     conn.process(now, date, &mut app, &mut log);
//!     while !conn.output().is_empty() {
//!         let sent = socket.write(conn.output()); // stop when the socket is full
//!         conn.sent(now, sent);
//!         conn.process(now, date, &mut app, &mut log); // refills streamed bodies
//!     }
//!     if conn.wants_close() { socket.close() }
//!     wake up again at conn.deadline() and call conn.on_timer(..)
//! }
//! ```

use bedrock_http::{
    framing, parse_request, BodyKind, ChunkedDecoder, Error, Header, Method, Request, Status,
    Version, MAX_HEADERS,
};
use bedrock_web::{Body, Framing, Handler, HeadOptions, Reject, Reply, Response};

use crate::config::Config;
use crate::head::HeadScan;
use crate::output::{frame_chunk, Output, Source, Streaming, CHUNK_PREFIX};

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// A reply head for when even the error reply's head does not fit.
const FALLBACK_500: &[u8] =
    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// One line of the access log, handed to the server's logger when a
/// request has been answered (its reply is queued, maybe not yet sent).
#[derive(Clone, Copy, Debug)]
pub struct LogRecord<'a> {
    /// The request method, or `-` when the request line was unreadable.
    pub method: &'a str,
    /// The request target as sent, or `-`.
    pub target: &'a str,
    /// The reply status.
    pub status: u16,
    /// Bytes of body the reply's head announces (0 for HEAD, for a
    /// bodiless status and for a streamed body, whose length is unknown).
    pub bytes: u64,
    /// Microseconds from the request's first byte to its reply.
    pub micros: u64,
}

/// What a connection is doing, for a server that must choose which
/// connection to drop when it has no room for a new one (idle ones cost
/// nothing to drop, requests still arriving little, replies a lot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activity {
    /// Between requests (kept alive after a reply), nothing received of
    /// the next one.
    Idle,
    /// A request (head or body) is arriving and is not complete, or a new
    /// connection's first request is still to come.
    Arriving,
    /// A request is being answered.
    Answering,
    /// Done (see [`Conn::wants_close`]).
    Closed,
}

/// Which deadline [`Conn::on_timer`] enforced (for a server's counters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// A request head did not arrive whole in time, or fell silent
    /// (`head_timeout_us`, `read_timeout_us`): 408.
    Head,
    /// A request body did not arrive whole in time, or fell silent
    /// (`body_timeout_us`, `read_timeout_us`): 408.
    Body,
    /// A request body arrived more slowly than `min_body_rate`: 408.
    BodyRate,
    /// No request came within `idle_timeout_us` (kept alive, or newly
    /// opened): closed.
    Idle,
    /// A reply made no progress for `send_timeout_us` (the client stopped
    /// reading): abandoned.
    Send,
}

/// What one call from the server brings along: the time, a `Date`
/// value, the app and the access logger.
pub(crate) struct Turn<'t, S, L> {
    pub(crate) now: u64,
    pub(crate) date: Option<&'t [u8]>,
    pub(crate) app: &'t mut S,
    pub(crate) log: &'t mut L,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum BodyRead {
    Length { remaining: u64 },
    Chunked(ChunkedDecoder),
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Phase {
    /// Waiting for (more of) a request head.
    Head,
    /// Reading the body of the request whose head is `input[..head_len]`.
    Body {
        head_len: usize,
        read: BodyRead,
        complete: bool,
        since: u64,
    },
    /// The body of the request whose head is `input[..head_len]` goes
    /// to the handler's upload sink `sink` as it arrives (sink.rs).
    Sink {
        head_len: usize,
        read: BodyRead,
        sink: u64,
        since: u64,
    },
    /// The handler is still working on the reply to the request whose
    /// head is `input[..head_len]`.
    Deferred { head_len: usize, token: u64 },
    /// A reply is being sent.
    Write,
    /// Done: nothing more is read or answered.
    Closed,
}

/// The three buffers of a connection, end to end (`repr(C)`: in this
/// order, nothing between them), so that a host giving their memory back
/// between connections ([`Conn::retire`]) gives back whole pages across
/// them.
#[repr(C)]
pub(crate) struct Buffers<const IN: usize, const BODY: usize, const OUT: usize> {
    pub(crate) input: [u8; IN],
    pub(crate) body: [u8; BODY],
    pub(crate) scratch: [u8; OUT],
}

/// One HTTP/1.1 server connection. `IN` bytes hold request heads (and
/// pipelined requests), `BODY` bytes a request body, `OUT` bytes a reply
/// body written by a handler or one streamed piece.
pub struct Conn<const IN: usize, const BODY: usize, const OUT: usize> {
    pub(crate) config: Config,
    pub(crate) bufs: Buffers<IN, BODY, OUT>,
    pub(crate) in_len: usize,
    /// How far the search for the end of the head at `input`'s start got.
    head: HeadScan,
    body_len: usize,
    pub(crate) output: Output,
    pub(crate) phase: Phase,
    /// When the current request's first byte arrived.
    request_start: u64,
    /// When bytes last moved either way.
    last_progress: u64,
    /// Body bytes received since the body began (for the minimum rate).
    body_received: u64,
    pub(crate) peer_eof: bool,
    /// Close once the current reply is out.
    close_after: bool,
    /// A reply has gone out whole: waiting for the next request is idling
    /// (before the first one it is a request yet to arrive).
    kept_alive: bool,
    /// The server is shutting down: no more keep-alive.
    stopping: bool,
}

impl<const IN: usize, const BODY: usize, const OUT: usize> Conn<IN, BODY, OUT> {
    const SIZES_OK: () = assert!(
        OUT > CHUNK_PREFIX + 2 && IN > 0,
        "connection buffers too small"
    );

    /// A closed connection; [`Conn::open`] starts it.
    pub const fn new(config: Config) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::SIZES_OK;
        Conn {
            config,
            bufs: Buffers {
                input: [0; IN],
                body: [0; BODY],
                scratch: [0; OUT],
            },
            in_len: 0,
            head: HeadScan::new(),
            body_len: 0,
            output: Output::new(),
            phase: Phase::Closed,
            request_start: 0,
            last_progress: 0,
            body_received: 0,
            peer_eof: false,
            close_after: false,
            kept_alive: false,
            stopping: false,
        }
    }

    /// Starts (or restarts, for reuse) a connection accepted at `now`.
    pub fn open(&mut self, now: u64) {
        self.in_len = 0;
        self.head = HeadScan::new();
        self.body_len = 0;
        self.output.clear();
        self.phase = Phase::Head;
        self.request_start = now;
        self.last_progress = now;
        self.body_received = 0;
        self.peer_eof = false;
        self.close_after = false;
        self.kept_alive = false;
        self.stopping = false;
    }

    /// Ends the connection and lends out its three buffers (input, body,
    /// reply; end to end in memory, in that order), which now hold
    /// nothing it will read before writing them again: a host may give
    /// their memory back while the slot waits for its next
    /// [`Conn::open`].
    pub fn retire(&mut self) -> [&mut [u8]; 3] {
        self.in_len = 0;
        self.body_len = 0;
        self.output.clear();
        self.phase = Phase::Closed;
        let Buffers {
            input,
            body,
            scratch,
        } = &mut self.bufs;
        [input, body, scratch]
    }

    /// The server is shutting down: an idle connection is done now; the
    /// request arriving or being answered gets its reply with
    /// `Connection: close`.
    pub fn stop(&mut self) {
        self.stopping = true;
        if matches!(self.phase, Phase::Head) && self.in_len == 0 && self.output.pending_is_empty() {
            self.phase = Phase::Closed;
        }
    }

    /// Whether the request being answered waits for the handler (a
    /// deferred reply), not for the client.
    pub fn deferred(&self) -> bool {
        matches!(self.phase, Phase::Deferred { .. })
    }

    /// Whether a request body is arriving (read whole or going to a sink).
    pub fn reading_body(&self) -> bool {
        matches!(self.phase, Phase::Body { .. } | Phase::Sink { .. })
    }

    /// Whether the connection is finished: close the transport once
    /// [`Conn::output`] is empty.
    pub fn wants_close(&self) -> bool {
        matches!(self.phase, Phase::Closed) && self.output.pending_is_empty()
    }

    /// What the connection is doing now.
    pub fn activity(&self) -> Activity {
        match self.phase {
            Phase::Head
                if self.in_len == 0 && self.output.pending_is_empty() && self.kept_alive =>
            {
                Activity::Idle
            }
            Phase::Head | Phase::Body { .. } | Phase::Sink { .. } => Activity::Arriving,
            Phase::Write | Phase::Deferred { .. } => Activity::Answering,
            Phase::Closed => Activity::Closed,
        }
    }

    /// Free input space to read into (empty when the input is full: stop
    /// reading until replies drain it).
    pub fn recv_buffer(&mut self) -> &mut [u8] {
        &mut self.bufs.input[self.in_len..]
    }

    /// Records `n` bytes read into [`Conn::recv_buffer`].
    pub fn received(&mut self, now: u64, n: usize) {
        if n == 0 || matches!(self.phase, Phase::Closed) {
            return;
        }
        if matches!(self.phase, Phase::Head) && self.in_len == 0 {
            self.request_start = now;
        }
        if self.reading_body() {
            self.body_received += n as u64;
        }
        self.in_len = (self.in_len + n).min(IN);
        self.last_progress = now;
    }

    /// Copies `data` into the input; returns how much fit.
    pub fn receive(&mut self, now: u64, data: &[u8]) -> usize {
        let room = self.recv_buffer();
        let n = data.len().min(room.len());
        room[..n].copy_from_slice(&data[..n]);
        self.received(now, n);
        n
    }

    /// Bytes the head search and parser have looked at since the
    /// connection opened (head.rs).
    #[cfg(test)]
    pub(crate) fn head_examined(&self) -> usize {
        self.head.examined
    }

    /// The peer will send nothing more (it half-closed or vanished).
    pub fn peer_closed(&mut self) {
        self.peer_eof = true;
    }

    /// The bytes to send next; empty when there is nothing to send now
    /// or a file range is next ([`Conn::output_file`]).
    pub fn output(&self) -> &[u8] {
        self.output.pending(&self.bufs.scratch)
    }

    /// The bytes that follow [`Conn::output`] from another buffer (a body
    /// behind its head), to send in the same write.
    pub fn output_following(&self) -> &[u8] {
        self.output.following(&self.bufs.scratch)
    }

    /// The file range to send next ([`Body::File`]): what remains of it,
    /// once [`Conn::output`] is empty.
    pub fn output_file(&self) -> Option<bedrock_web::FileBody> {
        self.output.file()
    }

    /// Whether a file range follows [`Conn::output`] (a transport may
    /// hold the head back to send it with the file's first bytes).
    pub fn file_follows(&self) -> bool {
        self.output.file_follows()
    }

    /// Records that the transport took `n` bytes of [`Conn::output`],
    /// [`Conn::output_following`] and [`Conn::output_file`], in that order.
    pub fn sent(&mut self, now: u64, n: usize) {
        if n > 0 {
            self.output.advance(n);
            self.last_progress = now;
        }
    }

    /// Records that the peer took reply bytes the transport held (its
    /// send queue shrank) at `at`: the reply makes progress even while
    /// the transport takes nothing new.
    pub fn peer_took(&mut self, at: u64) {
        if matches!(self.phase, Phase::Write) {
            self.last_progress = self.last_progress.max(at);
        }
    }

    /// When [`Conn::on_timer`] must run next, if ever.
    pub fn deadline(&self) -> Option<u64> {
        let c = &self.config;
        let silent = self.last_progress.saturating_add(c.read_timeout_us);
        match self.phase {
            Phase::Head if self.in_len > 0 => {
                Some(silent.min(self.request_start.saturating_add(c.head_timeout_us)))
            }
            Phase::Head => Some(self.last_progress.saturating_add(c.idle_timeout_us)),
            Phase::Body { since, .. } | Phase::Sink { since, .. } => {
                let whole = since.saturating_add(c.body_timeout_us);
                Some(whole.min(silent).min(self.too_slow_at(since)))
            }
            Phase::Write => Some(self.last_progress.saturating_add(c.send_timeout_us)),
            Phase::Deferred { .. } | Phase::Closed => None,
        }
    }

    /// When a body that began at `since` falls below the minimum average
    /// rate if nothing more arrives: `received / elapsed < rate` once
    /// `elapsed > received / rate`, never before `read_timeout_us`.
    fn too_slow_at(&self, since: u64) -> u64 {
        let c = &self.config;
        if c.min_body_rate == 0 {
            return u64::MAX;
        }
        let allowed = self.body_received.saturating_mul(1_000_000) / c.min_body_rate;
        since.saturating_add(allowed.max(c.read_timeout_us).saturating_add(1))
    }

    /// Enforces the deadlines: a head or body that is too slow gets 408
    /// and a close; an idle keep-alive connection or a reply the client
    /// stopped reading is closed. Returns which deadline it enforced, if
    /// any (none for a partial head the parser refuses: that gets its
    /// error).
    pub fn on_timer<H: Handler>(
        &mut self,
        now: u64,
        date: Option<&[u8]>,
        app: &mut H,
        log: &mut impl FnMut(&LogRecord<'_>),
    ) -> Option<Timeout> {
        if self.deadline().is_none_or(|at| now < at) {
            return None;
        }
        let t = &mut Turn {
            now,
            date,
            app,
            log,
        };
        match self.phase {
            Phase::Head if self.in_len > 0 => {
                // A head the parser refuses gets its error, as it would
                // have had it been parsed at every read (head.rs).
                let (reject, timeout) = match self.head_error() {
                    Some(e) => (Reject::from(e), None),
                    None => (
                        Reject::new(408, "request head too slow"),
                        Some(Timeout::Head),
                    ),
                };
                self.respond_error(t, reject);
                timeout
            }
            Phase::Body { since, .. } | Phase::Sink { since, .. } => {
                let c = &self.config;
                let whole = since.saturating_add(c.body_timeout_us);
                let silent = self.last_progress.saturating_add(c.read_timeout_us);
                let timeout = match self.too_slow_at(since) < whole.min(silent) {
                    true => Timeout::BodyRate,
                    false => Timeout::Body,
                };
                if let Phase::Sink { sink, .. } = self.phase {
                    t.app.sink_abort(sink);
                }
                let reject = Reject::new(408, "request body too slow");
                self.respond_error(t, reject);
                Some(timeout)
            }
            Phase::Head | Phase::Write => {
                let timeout = match self.phase {
                    Phase::Write => Timeout::Send,
                    _ => Timeout::Idle,
                };
                self.output.clear();
                self.phase = Phase::Closed;
                Some(timeout)
            }
            Phase::Deferred { .. } | Phase::Closed => None,
        }
    }

    /// Answers every complete request it can and refills streamed output.
    pub fn process<H: Handler>(
        &mut self,
        now: u64,
        date: Option<&[u8]>,
        app: &mut H,
        log: &mut impl FnMut(&LogRecord<'_>),
    ) {
        let t = &mut Turn {
            now,
            date,
            app,
            log,
        };
        loop {
            let progressed = match self.phase {
                Phase::Closed => false,
                Phase::Head => self.read_head(t),
                Phase::Body { .. } => self.read_body(t),
                Phase::Sink { .. } => self.read_sink(t),
                Phase::Deferred { head_len, token } => {
                    self.answer_with(t, head_len, |app, r, _, out| {
                        let reply = app.resume(token, out)?;
                        let head_only = r.method == Method::Head;
                        Some(Response { reply, head_only })
                    })
                }
                Phase::Write => self.write(t.now, t.app),
            };
            if !progressed {
                return;
            }
        }
    }

    /// Refills a stream or finishes the reply; false when waiting for the
    /// transport.
    fn write<H: Handler>(&mut self, now: u64, app: &mut H) -> bool {
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

    pub(crate) fn close(&mut self) -> bool {
        self.phase = Phase::Closed;
        true
    }

    /// The error the parser finds in the partial head, if any.
    fn head_error(&mut self) -> Option<Error> {
        let mut headers = [Header::EMPTY; MAX_HEADERS];
        let input = &self.bufs.input[..self.in_len];
        let parsed = parse_request(input, &mut headers, &self.config.limits);
        self.head.parsed(input, None);
        parsed.err()
    }

    fn read_head<H: Handler, L: FnMut(&LogRecord<'_>)>(&mut self, t: &mut Turn<'_, H, L>) -> bool {
        if self.in_len == 0 {
            return self.peer_eof && self.close();
        }
        // Whatever the bytes, these need an answer now: a peer that is
        // gone, an input with no room left, a head past its limit.
        let decide =
            self.peer_eof || self.in_len == IN || self.in_len > self.config.limits.max_head_len;
        if !self.head.due(&self.bufs.input[..self.in_len], decide) {
            return false;
        }
        let mut headers = [Header::EMPTY; MAX_HEADERS];
        let input = &self.bufs.input[..self.in_len];
        let parsed = parse_request(input, &mut headers, &self.config.limits);
        let head_len = match parsed {
            Ok(Status::Complete((_, n))) => Some(n),
            _ => None,
        };
        self.head.parsed(input, head_len);
        let (request, head_len) = match parsed {
            Ok(Status::Complete(done)) => done,
            Ok(Status::Partial) if self.in_len == IN => {
                let reject = Reject::new(431, "request head too large");
                return self.respond_error(t, reject);
            }
            // An incomplete request from a peer that is gone gets no answer.
            Ok(Status::Partial) => return self.peer_eof && self.close(),
            Err(e) => return self.respond_error(t, Reject::from(e)),
        };
        let framed = match framing(&request) {
            Ok(framed) => framed,
            Err(e) => return self.respond_error(t, Reject::from(e)),
        };
        // RFC 9110 10.1.1: an expectation the server cannot meet is 417.
        let wants_continue = match request.header("expect") {
            None => false,
            Some(v) if v.eq_ignore_ascii_case(b"100-continue") => {
                request.version == Version::Http11
            }
            Some(_) => {
                let reject = Reject::new(417, "only 100-continue is understood");
                return self.respond_error(t, reject);
            }
        };
        let read = match framed.body {
            BodyKind::None => BodyRead::Length { remaining: 0 },
            BodyKind::Length(n) => BodyRead::Length { remaining: n },
            BodyKind::Chunked => BodyRead::Chunked(ChunkedDecoder::new(&self.config.limits)),
        };
        let body_expected = !matches!(read, BodyRead::Length { remaining: 0 });
        // The next head starts where this request ends.
        self.head.restart();
        self.body_len = 0;
        self.body_received = 0;
        let keep_alive = framed.keep_alive && !self.peer_eof && !self.stopping;
        let early = match body_expected {
            true => t.app.on_head(&request, &mut self.bufs.scratch),
            false => None,
        };
        if let Some(response) = early {
            let Body::Sink(sink) = response.reply.body else {
                // Answered before its body, which stays unread: close.
                let out = Outgoing {
                    output: &mut self.output,
                    server: self.config.server,
                };
                // A deferred reply here is the handler's mistake: a 500.
                let sent = send_response(t, &request, &response, false, self.request_start, out);
                if let Sent::Deferred(_) = sent {
                    self.output.set_head(FALLBACK_500);
                }
                self.answered(head_len, true);
                return true;
            };
            self.start_body(t.now, head_len, wants_continue);
            self.phase = Phase::Sink {
                head_len,
                read,
                sink,
                since: t.now,
            };
            return true;
        }
        if matches!(framed.body, BodyKind::Length(n) if n > self.config.max_body.min(BODY) as u64) {
            let reject = Reject::new(413, "request body too large");
            return self.respond_error(t, reject);
        }
        if !body_expected && self.output.pending_is_empty() {
            // Nothing more to read: answered with the head parsed here
            // (the health endpoints before the app: crate::probes).
            let scratch = &mut self.bufs.scratch;
            let response = crate::probes::reply(&request, self.stopping, t.app, scratch)
                .unwrap_or_else(|| t.app.respond(&request, &[], scratch));
            let out = Outgoing {
                output: &mut self.output,
                server: self.config.server,
            };
            let sent = send_response(t, &request, &response, keep_alive, self.request_start, out);
            self.settle(head_len, sent);
            return true;
        }
        self.start_body(t.now, head_len, wants_continue && body_expected);
        self.phase = Phase::Body {
            head_len,
            read,
            complete: !body_expected,
            since: t.now,
        };
        true
    }

    /// A body follows the head `input[..head_len]`: `100 Continue` first
    /// if the client waits for it (RFC 9110 10.1.1) and sent none yet.
    fn start_body(&mut self, now: u64, head_len: usize, wants_continue: bool) {
        self.last_progress = now;
        if wants_continue && self.in_len == head_len {
            self.output.set_head(CONTINUE);
        }
    }

    fn read_body<H: Handler, L: FnMut(&LogRecord<'_>)>(&mut self, t: &mut Turn<'_, H, L>) -> bool {
        let Phase::Body {
            head_len,
            mut read,
            mut complete,
            since,
        } = self.phase
        else {
            return false;
        };
        if !complete {
            let available = &self.bufs.input[head_len..self.in_len];
            let max_body = self.config.max_body.min(BODY);
            let (consumed, done) = match &mut read {
                BodyRead::Length { remaining } => {
                    let take = available.len().min(*remaining as usize);
                    self.bufs.body[self.body_len..self.body_len + take]
                        .copy_from_slice(&available[..take]);
                    self.body_len += take;
                    *remaining -= take as u64;
                    (take, *remaining == 0)
                }
                BodyRead::Chunked(decoder) => {
                    let room = &mut self.bufs.body[self.body_len..max_body];
                    let room_len = room.len();
                    match decoder.decode(available, room) {
                        Ok(p) => {
                            self.body_len += p.written;
                            let starved =
                                !p.done && room_len == p.written && p.consumed < available.len();
                            if starved {
                                let reject = Reject::new(413, "request body too large");
                                return self.respond_error(t, reject);
                            }
                            (p.consumed, p.done)
                        }
                        Err(e) => {
                            return self.respond_error(t, Reject::from(e));
                        }
                    }
                }
            };
            self.bufs
                .input
                .copy_within(head_len + consumed..self.in_len, head_len);
            self.in_len -= consumed;
            complete = done;
            self.phase = Phase::Body {
                head_len,
                read,
                complete,
                since,
            };
        }
        if !complete {
            return self.peer_eof && self.close();
        }
        // A `100 Continue` already on its way must go out before the reply.
        if !self.output.pending_is_empty() {
            return false;
        }
        self.answer_with(t, head_len, |app, request, body, out| {
            Some(app.respond(request, body, out))
        })
    }

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
    fn settle(&mut self, head_len: usize, sent: Sent) {
        match sent {
            Sent::Queued { close_after } => self.answered(head_len, close_after),
            Sent::Deferred(token) => self.phase = Phase::Deferred { head_len, token },
        }
    }

    /// A request whose head was `input[..head_len]` has its reply queued:
    /// drops the head and sends the reply.
    fn answered(&mut self, head_len: usize, close_after: bool) {
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
    /// must not see the app's success.
    pub fn replace_reply<H: Handler>(&mut self, date: Option<&[u8]>, app: &mut H, reject: Reject) {
        self.output.clear();
        self.queue_error(date, app, reject);
    }
}

/// Where a reply goes: the output queue, and the `Server` header value.
struct Outgoing<'o> {
    output: &'o mut Output,
    server: Option<&'static str>,
}

/// What became of a handler's response.
enum Sent {
    /// Its head and body are queued.
    Queued { close_after: bool },
    /// It is not ready ([`Body::Deferred`]): nothing queued or logged.
    Deferred(u64),
}

/// Queues the reply to `request` and logs it with the time since
/// `started`, unless the handler deferred it.
fn send_response<H, L: FnMut(&LogRecord<'_>)>(
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
