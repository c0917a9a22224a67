//! From a parsed request to a reply: route lookup, the automatic answers
//! (404, 405, HEAD, OPTIONS, 501) and the handler call.

use bedrock_http::{Method, Request};

use crate::ctx::{Ctx, Params};
use crate::lookup::{Lookup, Routes};
use crate::methods::MethodSet;
use crate::reply::{Reject, Reply, Stream};
use crate::route::Route;

/// An app the framework can serve: its route table and how it renders
/// refusals and streams.
pub trait Service: Sized + 'static {
    /// The route table, a `static` slice of [`crate::route!`] constants.
    /// The first route whose pattern and method match wins.
    const ROUTES: &'static [Route<Self>];

    /// The largest request body the app takes (longer ones get 413 before
    /// the app sees them). Servers size their body buffers by it.
    const MAX_BODY: usize = 4096;

    /// The smallest `out` buffer with which [`Service::stream`] always
    /// makes progress; servers check theirs against it when they are
    /// built.
    const MIN_STREAM_BUFFER: usize = 0;

    /// Renders a refusal (404, 405, a handler's [`Reject`]) into `out`.
    /// The default is a plain-text line.
    fn render_reject(&mut self, reject: Reject, out: &mut [u8]) -> Reply {
        let message = reject.message.as_bytes();
        let len = message.len().min(out.len().saturating_sub(1));
        out[..len].copy_from_slice(&message[..len]);
        let mut len = len;
        if let Some(slot) = out.get_mut(len) {
            *slot = b'\n';
            len += 1;
        }
        Reply::out(reject.status, "text/plain; charset=utf-8", len)
    }

    /// A last look at every reply to `request` before it goes out, the
    /// framework's own answers (404, 405, OPTIONS, 501) included: where
    /// headers that every reply carries are added (CORS, say). The
    /// default changes nothing.
    fn finish(&mut self, request: &Request<'_, '_>, reply: Reply) -> Reply {
        let _ = request;
        reply
    }

    /// Writes the next piece of a streamed body into `out`, advancing
    /// `stream.cursor`; returns the bytes written, 0 when the body is
    /// complete. A piece must be non-empty while the body is unfinished.
    fn stream(&mut self, stream: &mut Stream, out: &mut [u8]) -> usize {
        let _ = (stream, out);
        0
    }
}

/// A reply and how to send it.
#[derive(Clone, Debug)]
pub struct Response {
    /// What to send.
    pub reply: Reply,
    /// HEAD: send the head only.
    pub head_only: bool,
}

/// The path to route on: origin-form as is, absolute-form
/// (`http://host/path`, RFC 9112 3.2.2) without scheme and authority.
fn routing_path<'b>(request: &Request<'b, '_>) -> &'b str {
    let path = request.path();
    for scheme in ["http://", "https://"] {
        if path.len() > scheme.len() && path[..scheme.len()].eq_ignore_ascii_case(scheme) {
            let rest = &path[scheme.len()..];
            return rest.find('/').map_or("/", |at| &rest[at..]);
        }
    }
    path
}

/// The methods to advertise for a path: every routed one, HEAD wherever
/// GET is served, and OPTIONS.
fn advertised(routed: MethodSet) -> MethodSet {
    let with_head = if routed.contains(Method::Get) {
        routed.with(Method::Head)
    } else {
        routed
    };
    with_head.with(Method::Options)
}

fn reply_with_allow<S: Service>(
    app: &mut S,
    status: u16,
    allowed: MethodSet,
    out: &mut [u8],
) -> Reply {
    let mut allow = [0u8; 96];
    // Nine methods with separators fit in 96 bytes.
    let len = allowed.write_allow(&mut allow).unwrap_or(0);
    let reply = match status {
        204 => Reply::no_content(),
        _ => app.render_reject(Reject::new(status, "method not allowed"), out),
    };
    reply.header("Allow", &allow[..len])
}

/// Routes `request` through `S::ROUTES` and answers it. `body` is the
/// de-chunked request body; `out` is where the handler writes its reply
/// body ([`crate::Body::Out`] refers to it).
pub fn dispatch<S: Service>(
    app: &mut S,
    request: &Request<'_, '_>,
    body: &[u8],
    out: &mut [u8],
) -> Response {
    let method = request.method;
    let head_only = method == Method::Head;
    let reply = if method == Method::Other {
        app.render_reject(Reject::new(501, "method not implemented"), out)
    } else if request.target == "*" {
        // Server-wide OPTIONS (RFC 9110 9.3.7); anything else on "*" is bad.
        if method == Method::Options {
            let all = S::ROUTES
                .iter()
                .fold(MethodSet::EMPTY, |set, r| set.with(r.method()));
            reply_with_allow(app, 204, advertised(all), out)
        } else {
            app.render_reject(Reject::new(400, "'*' is only for OPTIONS"), out)
        }
    } else {
        route(app, request, body, out)
    };
    let reply = app.finish(request, reply);
    let reply = if reply.headers_ok() {
        reply
    } else {
        app.render_reject(Reject::new(500, "reply headers too large"), out)
    };
    Response { reply, head_only }
}

fn route<S: Service>(app: &mut S, request: &Request<'_, '_>, body: &[u8], out: &mut [u8]) -> Reply {
    let path = routing_path(request);
    let mut params = Params::new();
    // The index is built by the compiler, once per app.
    let table: &Routes<'static, S> = const { &Routes::new(S::ROUTES) };
    let route = match table.lookup(request.method, path, &mut params) {
        Lookup::Found(at) => &S::ROUTES[at],
        Lookup::NotFound => return app.render_reject(Reject::new(404, "not found"), out),
        Lookup::NotAllowed(routed) if request.method == Method::Options => {
            return reply_with_allow(app, 204, advertised(routed), out)
        }
        Lookup::NotAllowed(routed) => return reply_with_allow(app, 405, advertised(routed), out),
    };
    let mut cx = Ctx {
        request,
        params,
        body,
        out,
    };
    match route.call(app, &mut cx) {
        Ok(reply) => reply,
        Err(reject) => app.render_reject(reject, cx.out),
    }
}
