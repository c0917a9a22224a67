//! `GET /metrics` for every app: [`Metered`] puts itself in front of a
//! server's handler, answers `GET` and `HEAD` of [`METRICS_PATH`] before
//! the app sees them (as bedrock-conn answers `/healthz` and `/readyz`),
//! and streams what the server's [`Exposition`] writes, a piece at a
//! time, so the page may be larger than any one buffer. Any other
//! request, and every other method on the path, goes to the app.

use bedrock_http::{Method, Request};
use bedrock_web::{routing_path, Handler, Reject, Reply, Response, Stream};

use crate::text::Writer;

/// Where the metrics are.
pub const METRICS_PATH: &str = "/metrics";
/// The reply's type: the text exposition format, version 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The [`Stream::kind`] of a metrics page: taken from every app's
/// streams (an app's own stream of this kind would never reach it).
pub const STREAM_KIND: u32 = u32::MAX;

/// What a server exposes: it writes every family, in the same order each
/// time (the page is written in pieces, each calling this again and
/// keeping only the families it has room for, see [`Writer`]).
pub trait Exposition {
    /// Writes every family into `w`.
    fn expose(&self, w: &mut Writer<'_>);
}

/// A server's handler with `/metrics` answered from `metrics`.
pub struct Metered<'a, H: ?Sized, E: ?Sized> {
    app: &'a mut H,
    metrics: &'a E,
}

impl<'a, H: Handler + ?Sized, E: Exposition + ?Sized> Metered<'a, H, E> {
    /// `app`, with `/metrics` answered from `metrics`.
    pub fn new(app: &'a mut H, metrics: &'a E) -> Self {
        Metered { app, metrics }
    }
}

/// The reply to a metrics request, or `None` for any other request.
fn scrape(request: &Request<'_, '_>) -> Option<Response> {
    let head_only = match request.method {
        Method::Get => false,
        Method::Head => true,
        _ => return None,
    };
    if routing_path(request) != METRICS_PATH {
        return None;
    }
    let reply = Reply::stream(200, CONTENT_TYPE, Stream::new(STREAM_KIND, 0))
        .header("Cache-Control", b"no-store");
    Some(Response { reply, head_only })
}

/// Writes the piece of `metrics`'s page that `stream` is at into `out`;
/// returns its length (0: the page is done).
pub fn piece<E: Exposition + ?Sized>(metrics: &E, stream: &mut Stream, out: &mut [u8]) -> usize {
    let from = u32::try_from(stream.cursor).unwrap_or(u32::MAX);
    let mut w = Writer::new(out, from);
    metrics.expose(&mut w);
    let piece = w.finish();
    stream.cursor = u64::from(piece.next);
    piece.len
}

impl<H: Handler + ?Sized, E: Exposition + ?Sized> Handler for Metered<'_, H, E> {
    fn respond(&mut self, request: &Request<'_, '_>, body: &[u8], out: &mut [u8]) -> Response {
        scrape(request).unwrap_or_else(|| self.app.respond(request, body, out))
    }

    fn render_reject(&mut self, reject: Reject, out: &mut [u8]) -> Reply {
        self.app.render_reject(reject, out)
    }

    fn stream(&mut self, stream: &mut Stream, out: &mut [u8]) -> usize {
        match stream.kind {
            STREAM_KIND => piece(self.metrics, stream, out),
            _ => self.app.stream(stream, out),
        }
    }

    fn on_head(&mut self, request: &Request<'_, '_>, out: &mut [u8]) -> Option<Response> {
        self.app.on_head(request, out)
    }

    fn sink(&mut self, sink: u64, bytes: &[u8]) -> Result<(), Reject> {
        self.app.sink(sink, bytes)
    }

    fn sink_end(&mut self, sink: u64, out: &mut [u8]) -> Reply {
        self.app.sink_end(sink, out)
    }

    fn sink_abort(&mut self, sink: u64) {
        self.app.sink_abort(sink)
    }

    fn readiness(&mut self) -> Result<(), &str> {
        self.app.readiness()
    }

    fn resume(&mut self, token: u64, out: &mut [u8]) -> Option<Reply> {
        self.app.resume(token, out)
    }
}
