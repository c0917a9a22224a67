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
    framing, parse_request, BodyKind, ChunkedDecoder, Error, Header, Request, Status, Version,
    MAX_HEADERS,
};
use bedrock_web::{dispatch, Body, Framing, HeadOptions, Reject, Reply, Service};

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

/// What one call from the server brings along: the time, a `Date`
/// value, the app and the access logger.
struct Turn<'t, S, L> {
    now: u64,
    date: Option<&'t [u8]>,
    app: &'t mut S,
    log: &'t mut L,
}

#[derive(Clone, Copy, Debug)]
enum BodyRead {
    Length { remaining: u64 },
    Chunked(ChunkedDecoder),
}

#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Waiting for (more of) a request head.
    Head,
    /// Reading the body of the request whose head is `input[..head_len]`.
    Body {
        head_len: usize,
        read: BodyRead,
        complete: bool,
        since: u64,
    },
    /// A reply is being sent.
    Write,
    /// Done: nothing more is read or answered.
    Closed,
}

/// One HTTP/1.1 server connection. `IN` bytes hold request heads (and
/// pipelined requests), `BODY` bytes a request body, `OUT` bytes a reply
/// body written by a handler or one streamed piece.
pub struct Conn<const IN: usize, const BODY: usize, const OUT: usize> {
    config: Config,
    input: [u8; IN],
    in_len: usize,
    /// How far the search for the end of the head at `input`'s start got.
    head: HeadScan,
    body: [u8; BODY],
    body_len: usize,
    scratch: [u8; OUT],
    output: Output,
    phase: Phase,
    /// When the current request's first byte arrived.
    request_start: u64,
    /// When bytes last moved either way.
    last_progress: u64,
    peer_eof: bool,
    /// Close once the current reply is out.
    close_after: bool,
    /// A reply has gone out whole: waiting for the next request is idling
    /// (before the first one it is a request yet to arrive).
    kept_alive: bool,
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
            input: [0; IN],
            in_len: 0,
            head: HeadScan::new(),
            body: [0; BODY],
            body_len: 0,
            scratch: [0; OUT],
            output: Output::new(),
            phase: Phase::Closed,
            request_start: 0,
            last_progress: 0,
            peer_eof: false,
            close_after: false,
            kept_alive: false,
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
        self.peer_eof = false;
        self.close_after = false;
        self.kept_alive = false;
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
            Phase::Head | Phase::Body { .. } => Activity::Arriving,
            Phase::Write => Activity::Answering,
            Phase::Closed => Activity::Closed,
        }
    }

    /// Free input space to read into (empty when the input is full: stop
    /// reading until replies drain it).
    pub fn recv_buffer(&mut self) -> &mut [u8] {
        &mut self.input[self.in_len..]
    }

    /// Records `n` bytes read into [`Conn::recv_buffer`].
    pub fn received(&mut self, now: u64, n: usize) {
        if n == 0 || matches!(self.phase, Phase::Closed) {
            return;
        }
        if matches!(self.phase, Phase::Head) && self.in_len == 0 {
            self.request_start = now;
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

    /// The bytes to send next; empty when there is nothing to send now.
    pub fn output(&self) -> &[u8] {
        self.output.pending(&self.scratch)
    }

    /// Records that the transport took `n` bytes of [`Conn::output`].
    pub fn sent(&mut self, now: u64, n: usize) {
        if n > 0 {
            self.output.advance(n);
            self.last_progress = now;
        }
    }

    /// When [`Conn::on_timer`] must run next, if ever.
    pub fn deadline(&self) -> Option<u64> {
        let c = &self.config;
        match self.phase {
            Phase::Head if self.in_len > 0 => Some(self.request_start + c.head_timeout_us),
            Phase::Head => Some(self.last_progress + c.idle_timeout_us),
            Phase::Body { since, .. } => Some(since + c.body_timeout_us),
            Phase::Write => Some(self.last_progress + c.send_timeout_us),
            Phase::Closed => None,
        }
    }

    /// Enforces the deadlines: a head or body that is too slow gets 408
    /// and a close; an idle keep-alive connection or a reply the client
    /// stopped reading is closed.
    pub fn on_timer<S: Service>(
        &mut self,
        now: u64,
        date: Option<&[u8]>,
        app: &mut S,
        log: &mut impl FnMut(&LogRecord<'_>),
    ) {
        if self.deadline().is_none_or(|at| now < at) {
            return;
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
                let reject = match self.head_error() {
                    Some(e) => Reject::from(e),
                    None => Reject::new(408, "request head too slow"),
                };
                self.respond_error(t, reject);
            }
            Phase::Body { .. } => {
                let reject = Reject::new(408, "request body too slow");
                self.respond_error(t, reject);
            }
            Phase::Head | Phase::Write => {
                self.output.clear();
                self.phase = Phase::Closed;
            }
            Phase::Closed => {}
        }
    }

    /// Answers every complete request it can and refills streamed output.
    pub fn process<S: Service>(
        &mut self,
        now: u64,
        date: Option<&[u8]>,
        app: &mut S,
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
                Phase::Write => self.write(t.now, t.app),
            };
            if !progressed {
                return;
            }
        }
    }

    /// Refills a stream or finishes the reply; false when waiting for the
    /// transport.
    fn write<S: Service>(&mut self, now: u64, app: &mut S) -> bool {
        if !self.output.pending_is_empty() {
            return false;
        }
        if let Some(Streaming {
            mut stream,
            chunked,
        }) = self.output.streaming
        {
            let end = OUT - 2;
            let n = app.stream(&mut stream, &mut self.scratch[CHUNK_PREFIX..end]);
            let (start, end) = if chunked {
                frame_chunk(&mut self.scratch, n)
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
        if self.close_after {
            self.phase = Phase::Closed;
        } else {
            self.phase = Phase::Head;
            self.request_start = now;
            self.last_progress = now;
            self.kept_alive = true;
        }
        true
    }

    fn close(&mut self) -> bool {
        self.phase = Phase::Closed;
        true
    }

    /// The error the parser finds in the partial head, if any.
    fn head_error(&mut self) -> Option<Error> {
        let mut headers = [Header::EMPTY; MAX_HEADERS];
        let input = &self.input[..self.in_len];
        let parsed = parse_request(input, &mut headers, &self.config.limits);
        self.head.parsed(input, None);
        parsed.err()
    }

    fn read_head<S: Service, L: FnMut(&LogRecord<'_>)>(&mut self, t: &mut Turn<'_, S, L>) -> bool {
        if self.in_len == 0 {
            return self.peer_eof && self.close();
        }
        // Whatever the bytes, these need an answer now: a peer that is
        // gone, an input with no room left, a head past its limit.
        let decide =
            self.peer_eof || self.in_len == IN || self.in_len > self.config.limits.max_head_len;
        if !self.head.due(&self.input[..self.in_len], decide) {
            return false;
        }
        let mut headers = [Header::EMPTY; MAX_HEADERS];
        let input = &self.input[..self.in_len];
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
        let expect = request.header("expect");
        let wants_continue = match expect {
            None => false,
            Some(v) if v.eq_ignore_ascii_case(b"100-continue") => {
                request.version == Version::Http11
            }
            Some(_) => {
                let reject = Reject::new(417, "only 100-continue is understood");
                return self.respond_error(t, reject);
            }
        };
        let max_body = self.config.max_body.min(BODY);
        let read = match framed.body {
            BodyKind::None => BodyRead::Length { remaining: 0 },
            BodyKind::Length(n) if n > max_body as u64 => {
                let reject = Reject::new(413, "request body too large");
                return self.respond_error(t, reject);
            }
            BodyKind::Length(n) => BodyRead::Length { remaining: n },
            BodyKind::Chunked => BodyRead::Chunked(ChunkedDecoder::new(&self.config.limits)),
        };
        // The next head starts where this request ends.
        self.head.restart();
        self.body_len = 0;
        let body_expected = !matches!(read, BodyRead::Length { remaining: 0 });
        if !body_expected && self.output.pending_is_empty() {
            // Nothing more to read: answered with the head parsed here.
            let keep_alive = framed.keep_alive && !self.peer_eof;
            let out = Outgoing {
                scratch: &mut self.scratch,
                output: &mut self.output,
                server: self.config.server,
            };
            let close_after = run_app(t, &request, &[], keep_alive, self.request_start, out);
            self.answered(head_len, close_after);
            return true;
        }
        if wants_continue && body_expected && self.in_len == head_len {
            self.output.set_head(CONTINUE);
        }
        self.phase = Phase::Body {
            head_len,
            read,
            complete: !body_expected,
            since: t.now,
        };
        true
    }

    fn read_body<S: Service, L: FnMut(&LogRecord<'_>)>(&mut self, t: &mut Turn<'_, S, L>) -> bool {
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
            let available = &self.input[head_len..self.in_len];
            let max_body = self.config.max_body.min(BODY);
            let (consumed, done) = match &mut read {
                BodyRead::Length { remaining } => {
                    let take = available.len().min(*remaining as usize);
                    self.body[self.body_len..self.body_len + take]
                        .copy_from_slice(&available[..take]);
                    self.body_len += take;
                    *remaining -= take as u64;
                    (take, *remaining == 0)
                }
                BodyRead::Chunked(decoder) => {
                    let room = &mut self.body[self.body_len..max_body];
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
            self.input
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
        self.answer(t, head_len);
        true
    }

    /// Dispatches the request whose head is `input[..head_len]` and whose
    /// body is complete, queues the reply, and drops the head. The head
    /// is parsed again: the request parsed when it arrived borrowed the
    /// input, which the body was read into since.
    fn answer<S: Service, L: FnMut(&LogRecord<'_>)>(
        &mut self,
        t: &mut Turn<'_, S, L>,
        head_len: usize,
    ) {
        let mut headers = [Header::EMPTY; MAX_HEADERS];
        let Ok(Status::Complete((request, _))) =
            parse_request(&self.input[..head_len], &mut headers, &self.config.limits)
        else {
            // It parsed before and the bytes are unchanged.
            self.output.set_head(FALLBACK_500);
            self.close_after = true;
            self.phase = Phase::Write;
            return;
        };
        let keep_alive = framing(&request).is_ok_and(|f| f.keep_alive) && !self.peer_eof;
        let out = Outgoing {
            scratch: &mut self.scratch,
            output: &mut self.output,
            server: self.config.server,
        };
        let body = &self.body[..self.body_len];
        let close_after = run_app(t, &request, body, keep_alive, self.request_start, out);
        self.answered(head_len, close_after);
    }

    /// A request whose head was `input[..head_len]` has its reply queued:
    /// drops the head and sends the reply.
    fn answered(&mut self, head_len: usize, close_after: bool) {
        self.close_after = close_after;
        self.input.copy_within(head_len..self.in_len, 0);
        self.in_len -= head_len;
        self.body_len = 0;
        self.phase = Phase::Write;
    }

    /// Answers a request that cannot be read on with `reject`, then closes
    /// (its framing is unknown, so nothing after it can be trusted).
    fn respond_error<S: Service, L: FnMut(&LogRecord<'_>)>(
        &mut self,
        t: &mut Turn<'_, S, L>,
        reject: Reject,
    ) -> bool {
        (t.log)(&LogRecord {
            method: "-",
            target: "-",
            status: reject.status,
            micros: t.now.saturating_sub(self.request_start),
        });
        self.queue_error(t.date, t.app, reject);
        true
    }

    /// Queues `reject`'s reply, to close after it.
    fn queue_error<S: Service>(&mut self, date: Option<&[u8]>, app: &mut S, reject: Reject) {
        let reply = app.render_reject(reject, &mut self.scratch);
        let opts = HeadOptions {
            version: Version::Http11,
            keep_alive: false,
            head_only: false,
            date,
            server: self.config.server,
        };
        queue_reply(&mut self.output, &reply, &opts);
        self.in_len = 0;
        self.body_len = 0;
        self.close_after = true;
        self.phase = Phase::Write;
    }

    /// Replaces the reply queued for the last request, none of which may
    /// have been sent, with `reject`'s, and closes after it; requests
    /// pipelined behind it are dropped. For a host that could not make
    /// that request's change durable (a full or failing disk): the client
    /// must not see the app's success.
    pub fn replace_reply<S: Service>(&mut self, date: Option<&[u8]>, app: &mut S, reject: Reject) {
        self.output.clear();
        self.queue_error(date, app, reject);
    }
}

/// Where a reply goes: the buffer a handler writes its body into, the
/// output queue, and the `Server` header value.
struct Outgoing<'o> {
    scratch: &'o mut [u8],
    output: &'o mut Output,
    server: Option<&'static str>,
}

/// Runs the app on `request` (its whole body in `body`), queues the reply
/// and logs it with the time since `started`; returns whether the
/// connection must close after the reply.
fn run_app<S: Service, L: FnMut(&LogRecord<'_>)>(
    t: &mut Turn<'_, S, L>,
    request: &Request<'_, '_>,
    body: &[u8],
    keep_alive: bool,
    started: u64,
    out: Outgoing<'_>,
) -> bool {
    let response = dispatch(t.app, request, body, out.scratch);
    let opts = HeadOptions {
        version: request.version,
        keep_alive,
        head_only: response.head_only,
        date: t.date,
        server: out.server,
    };
    let close_after = queue_reply(out.output, &response.reply, &opts);
    (t.log)(&LogRecord {
        method: request.method_str,
        target: request.target,
        status: response.reply.status,
        micros: t.now.saturating_sub(started),
    });
    close_after
}

/// Writes `reply`'s head into `output` and queues its body; returns whether
/// the connection must close after it.
fn queue_reply(output: &mut Output, reply: &Reply, opts: &HeadOptions<'_>) -> bool {
    let info = match reply.write_head(opts, output.head_mut()) {
        Ok(info) => info,
        Err(_) => {
            output.set_head(FALLBACK_500);
            return true;
        }
    };
    output.head_written(info.len);
    if info.body != Framing::None {
        match reply.body {
            Body::Empty => {}
            Body::Static(bytes) if !bytes.is_empty() => output.source = Source::Static(bytes, 0),
            Body::Static(_) => {}
            Body::Out(0) => {}
            Body::Out(n) => output.source = Source::Scratch { start: 0, end: n },
            Body::Stream(stream) => {
                output.streaming = Some(Streaming {
                    stream,
                    chunked: info.body == Framing::Chunked,
                })
            }
        }
    }
    !info.keep_alive
}
