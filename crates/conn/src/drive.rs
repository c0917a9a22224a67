//! The loop that moves bytes between a connection and its transport,
//! written once for every server: read what arrived, answer it, send what
//! the transport takes, close when done.

use bedrock_web::{FileBody, Handler};

use crate::conn::{Activity, Conn, LogRecord};

/// Bytes [`Transport::discard`]'s default reads and drops per call.
const DISCARD_CHUNK: usize = 512;

/// The byte stream under one connection: a TCP socket of the unikernel's
/// own stack, a non-blocking Linux socket, a test's mock. No call waits.
pub trait Transport {
    /// Moves bytes that have arrived into `into` (never empty) and returns
    /// how many, at most `into.len()`; 0 when none are waiting. A
    /// transport that holds what arrived (the unikernel's socket: peek,
    /// copy, consume) copies it; one that reads (read(2)) reads straight
    /// into `into`: either way each byte is copied once, into the
    /// connection's input.
    fn recv(&mut self, into: &mut [u8]) -> usize;

    /// Takes bytes from the start of `bytes` to send and returns how
    /// many: 0 when it has no room now (then [`Conn::drive`] stops and
    /// tries again at its next call).
    fn send(&mut self, bytes: &[u8]) -> usize;

    /// Takes bytes from `head` and then from `body` (a reply head and the
    /// body behind it, which a transport may send in one write), and
    /// returns how many in all; `more`: a file range follows, so a
    /// transport may hold a short write back to go with it. The default
    /// sends `head` only (the body goes at the next call).
    fn send_parts(&mut self, head: &[u8], body: &[u8], more: bool) -> usize {
        let _ = (body, more);
        self.send(head)
    }

    /// Sends bytes of the host's file `file` (a [`bedrock_web::Body::File`]
    /// its handler made) and returns how many: 0 when it has no room now.
    /// The default sends nothing: a host whose handlers make file bodies
    /// implements it (sendfile on Linux).
    fn send_file(&mut self, file: FileBody) -> usize {
        let _ = file;
        0
    }

    /// Whether the peer will send nothing more (its FIN arrived, read(2)
    /// returned 0). What it sent before may still wait to be received.
    fn peer_closed(&self) -> bool;

    /// Drops bytes that have arrived, unread, and returns how many: 0
    /// when none are waiting. The default receives into a small buffer
    /// and throws it away; a transport that can drop bytes where they
    /// are overrides it.
    fn discard(&mut self) -> usize {
        let mut sink = [0u8; DISCARD_CHUNK];
        self.recv(&mut sink)
    }

    /// Closes the connection once what it took to send is out (an orderly
    /// close: FIN, not RST). [`Conn::drive`] calls it on every call once
    /// the connection is done, so it must do nothing the second time.
    fn close(&mut self);
}

impl<const IN: usize, const BODY: usize, const OUT: usize> Conn<IN, BODY, OUT> {
    /// Moves bytes both ways between the connection and `io`, answering
    /// with `app`, until neither moves; returns whether any did (or the
    /// connection finished). Call it whenever `io` may have news (bytes
    /// arrived or room to send) and after [`Conn::on_timer`].
    ///
    /// `now` stamps the bytes received and sent (take it when the
    /// transport was polled); `clock` is read for every
    /// [`Conn::process`], so that the microseconds logged cover the app.
    /// Once the connection is done, every call drops what still arrives
    /// and closes `io`: a peer that is still sending finds an open window
    /// until the close completes (a lingering close, RFC 9112 9.6; the
    /// transport bounds how long it lasts). A connection waiting for
    /// input that got nothing new is not processed again.
    pub fn drive<H: Handler>(
        &mut self,
        io: &mut impl Transport,
        now: u64,
        mut clock: impl FnMut() -> u64,
        date: Option<&[u8]>,
        app: &mut H,
        log: &mut impl FnMut(&LogRecord<'_>),
    ) -> bool {
        let mut any = false;
        loop {
            if self.wants_close() {
                while io.discard() > 0 {}
                io.close();
                return any;
            }
            let mut progress = false;
            loop {
                let room = self.recv_buffer();
                if room.is_empty() {
                    break; // full: replies must drain the input first
                }
                let n = io.recv(room).min(room.len());
                if n == 0 {
                    break;
                }
                self.received(now, n);
                progress = true;
            }
            let waiting = matches!(self.activity(), Activity::Idle | Activity::Arriving)
                && self.output().is_empty();
            if io.peer_closed() {
                self.peer_closed();
            } else if waiting && !progress {
                return any;
            }
            self.process(clock(), date, app, log);
            loop {
                let n = match self.output_file() {
                    Some(file) => io.send_file(file).min(file.len as usize),
                    None => {
                        let (head, body) = (self.output(), self.output_following());
                        if head.is_empty() {
                            break;
                        }
                        let more = self.file_follows();
                        io.send_parts(head, body, more).min(head.len() + body.len())
                    }
                };
                if n == 0 {
                    break;
                }
                self.sent(now, n);
                progress = true;
                // Refills a streamed body, or answers the next request.
                self.process(clock(), date, app, log);
            }
            if !progress && !self.wants_close() {
                return any;
            }
            any = true;
        }
    }
}
