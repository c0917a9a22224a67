//! What a connection engine drives: any [`Service`] through its route
//! table, or a host's own handler that puts several together (the hosted
//! server's files beside an app). Besides a reply to a whole request, a
//! handler may take a request body as it arrives (an upload sink) and
//! answer later than it is asked (a deferred reply); both are named by
//! numbers the handler chooses, so the engine stays free of I/O.

use bedrock_http::Request;

use crate::dispatch::{dispatch, Response, Service};
use crate::reply::{Reject, Reply, Stream};

/// A request handler as a connection sees it.
pub trait Handler {
    /// Answers `request`, whose whole body is `body`; `out` is where the
    /// reply body may be written ([`crate::Body::Out`]).
    fn respond(&mut self, request: &Request<'_, '_>, body: &[u8], out: &mut [u8]) -> Response;

    /// Renders a refusal the connection makes itself (a malformed
    /// request, a body too slow or too large).
    fn render_reject(&mut self, reject: Reject, out: &mut [u8]) -> Reply;

    /// The next piece of a streamed body (see [`Service::stream`]).
    fn stream(&mut self, stream: &mut Stream, out: &mut [u8]) -> usize;

    /// Sees a request whose body is still to come, before it is read.
    /// `None` (the default): the body is read whole and the request goes
    /// to [`Handler::respond`]. A reply with [`crate::Body::Sink`]: the
    /// body goes to that sink as it arrives. Any other reply is sent at
    /// once, the body unread, and the connection closes after it (RFC
    /// 9112 9.6: its framing cannot be trusted to find the next request).
    fn on_head(&mut self, request: &Request<'_, '_>, out: &mut [u8]) -> Option<Response> {
        let _ = (request, out);
        None
    }

    /// Takes the next piece of a body going to `sink`. Err: the upload
    /// is refused with that answer (and the sink dropped, as by
    /// [`Handler::sink_abort`]).
    fn sink(&mut self, sink: u64, bytes: &[u8]) -> Result<(), Reject> {
        let _ = (sink, bytes);
        Err(Reject::new(500, "no upload sink"))
    }

    /// The body going to `sink` is complete: the reply.
    fn sink_end(&mut self, sink: u64, out: &mut [u8]) -> Reply {
        let _ = sink;
        self.render_reject(Reject::new(500, "no upload sink"), out)
    }

    /// The body going to `sink` will not be complete (the peer left, it
    /// was too slow or malformed): drop what it took.
    fn sink_abort(&mut self, sink: u64) {
        let _ = sink;
    }

    /// Whether the host takes new work now, for `GET /readyz` (answered
    /// by the connection engine for every app): `Err(reason)` makes it
    /// 503 with the reason in its body, while the host stays alive
    /// (`/healthz` 200). For a host whose store cannot take changes (a
    /// full or failing disk, an unwritable journal). Asked at every
    /// probe, so it must be cheap. The default: ready.
    fn readiness(&mut self) -> Result<(), &str> {
        Ok(())
    }

    /// The reply deferred as `token`, once it is ready.
    fn resume(&mut self, token: u64, out: &mut [u8]) -> Option<Reply> {
        let _ = token;
        Some(self.render_reject(Reject::new(500, "no deferred reply"), out))
    }
}

impl<S: Service> Handler for S {
    fn respond(&mut self, request: &Request<'_, '_>, body: &[u8], out: &mut [u8]) -> Response {
        dispatch(self, request, body, out)
    }

    fn render_reject(&mut self, reject: Reject, out: &mut [u8]) -> Reply {
        Service::render_reject(self, reject, out)
    }

    fn stream(&mut self, stream: &mut Stream, out: &mut [u8]) -> usize {
        Service::stream(self, stream, out)
    }
}
