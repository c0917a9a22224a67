//! A request body that goes to the handler's upload sink as it arrives
//! (an atomic PUT's temp file), rather than into the connection's body
//! buffer: for bodies of any length. The framing is the connection's
//! (Content-Length or chunked, RFC 9112 6-7); the sink sees the decoded
//! bytes, in order, and makes the reply once they are all there.

use bedrock_web::{Handler, Reject, Response};

use crate::conn::{BodyRead, Conn, LogRecord, Phase, Turn};

impl<const IN: usize, const BODY: usize, const OUT: usize> Conn<IN, BODY, OUT> {
    /// Hands what has arrived of the body to the sink; answers with the
    /// sink's reply once the body is complete. False when waiting for
    /// the client.
    pub(crate) fn read_sink<H: Handler, L: FnMut(&LogRecord<'_>)>(
        &mut self,
        t: &mut Turn<'_, H, L>,
    ) -> bool {
        let Phase::Sink {
            head_len,
            mut read,
            sink,
            since,
        } = self.phase
        else {
            return false;
        };
        let available = &self.bufs.input[head_len..self.in_len];
        let (consumed, done, taken) = match &mut read {
            BodyRead::Length { remaining } => {
                let take = available.len().min(*remaining as usize);
                *remaining -= take as u64;
                let taken = match take {
                    0 => Ok(()),
                    _ => t.app.sink(sink, &available[..take]),
                };
                (take, *remaining == 0, taken)
            }
            BodyRead::Chunked(decoder) => match decoder.decode(available, &mut self.bufs.scratch) {
                Ok(p) => {
                    let taken = match p.written {
                        0 => Ok(()),
                        n => t.app.sink(sink, &self.bufs.scratch[..n]),
                    };
                    (p.consumed, p.done, taken)
                }
                Err(e) => {
                    t.app.sink_abort(sink);
                    return self.respond_error(t, Reject::from(e));
                }
            },
        };
        if let Err(reject) = taken {
            return self.respond_error(t, reject);
        }
        self.bufs
            .input
            .copy_within(head_len + consumed..self.in_len, head_len);
        self.in_len -= consumed;
        if done {
            // Nothing more to decode: complete whenever looked at again.
            read = BodyRead::Length { remaining: 0 };
        }
        self.phase = Phase::Sink {
            head_len,
            read,
            sink,
            since,
        };
        if !done {
            if self.peer_eof {
                t.app.sink_abort(sink);
                return self.close();
            }
            return consumed > 0;
        }
        // A `100 Continue` already on its way must go out before the reply.
        if !self.output.pending_is_empty() {
            return false;
        }
        self.answer_with(t, head_len, |app, _, _, out| {
            let reply = app.sink_end(sink, out);
            Some(Response {
                reply,
                head_only: false,
            })
        })
    }
}
