//! Reading a request body whole into the connection's body buffer
//! (Content-Length or chunked, RFC 9112 6.2-7.1), bounded by the
//! configured maximum, then answering the request with it.

use bedrock_web::{Handler, Reject};

use crate::conn::{BodyRead, Conn, LogRecord, Phase, Turn};

impl<const IN: usize, const BODY: usize, const OUT: usize> Conn<IN, BODY, OUT> {
    /// Moves what has arrived of the body into the body buffer; answers
    /// the request once the body is complete. False when waiting for the
    /// client.
    pub(crate) fn read_body<H: Handler, L: FnMut(&LogRecord<'_>)>(
        &mut self,
        t: &mut Turn<'_, H, L>,
    ) -> bool {
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
}
