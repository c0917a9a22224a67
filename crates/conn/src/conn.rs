//! The connection state machine: its type, its states and the calls a
//! server makes on it.
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
//!
//! Each phase has its module: reading the head (request.rs), a body read
//! whole (body.rs) or streamed to a sink (sink.rs), queuing and feeding
//! the reply (reply.rs), and the deadlines (timers.rs).

use bedrock_http::{ChunkedDecoder, Method};
use bedrock_web::{Handler, Response};

use crate::config::Config;
use crate::head::HeadScan;
use crate::output::{Output, CHUNK_PREFIX};

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
    pub(crate) head: HeadScan,
    pub(crate) body_len: usize,
    pub(crate) output: Output,
    pub(crate) phase: Phase,
    /// When the current request's first byte arrived.
    pub(crate) request_start: u64,
    /// When bytes last moved either way.
    pub(crate) last_progress: u64,
    /// Body bytes received since the body began (for the minimum rate).
    pub(crate) body_received: u64,
    pub(crate) peer_eof: bool,
    /// Close once the current reply is out.
    pub(crate) close_after: bool,
    /// A reply has gone out whole: waiting for the next request is idling
    /// (before the first one it is a request yet to arrive).
    pub(crate) kept_alive: bool,
    /// The server is shutting down: no more keep-alive.
    pub(crate) stopping: bool,
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

    /// The file range to send next
    /// ([`Body::File`](bedrock_web::Body::File)): what remains of it, once
    /// [`Conn::output`] is empty.
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
    pub(crate) fn close(&mut self) -> bool {
        self.phase = Phase::Closed;
        true
    }
}
