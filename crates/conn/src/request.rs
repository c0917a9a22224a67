//! Reading a request head: parsed once it is due (head.rs), then its
//! framing (RFC 9112 6) and expectation (RFC 9110 10.1.1) decide how its
//! body is read: not at all (answered at once), whole into the body
//! buffer (body.rs), or streamed to the handler's upload sink (sink.rs).

use bedrock_http::{
    framing, parse_request, BodyKind, ChunkedDecoder, Error, Header, Status, Version, MAX_HEADERS,
};
use bedrock_web::{Body, Handler, Reject};

use crate::conn::{BodyRead, Conn, LogRecord, Phase, Turn};
use crate::reply::{send_response, Outgoing, Sent, FALLBACK_500};

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

impl<const IN: usize, const BODY: usize, const OUT: usize> Conn<IN, BODY, OUT> {
    /// The error the parser finds in the partial head, if any.
    pub(crate) fn head_error(&mut self) -> Option<Error> {
        let mut headers = [Header::EMPTY; MAX_HEADERS];
        let input = &self.bufs.input[..self.in_len];
        let parsed = parse_request(input, &mut headers, &self.config.limits);
        self.head.parsed(input, None);
        parsed.err()
    }

    /// Parses the head at the input's start once it is due (head.rs),
    /// then answers it or starts reading its body; false when waiting for
    /// more of it.
    pub(crate) fn read_head<H: Handler, L: FnMut(&LogRecord<'_>)>(
        &mut self,
        t: &mut Turn<'_, H, L>,
    ) -> bool {
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
}
