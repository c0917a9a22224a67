//! The health endpoints every server answers for every app, before the
//! app sees the request, so that an orchestrator can watch any image the
//! same way (Kubernetes probes, a container's HEALTHCHECK):
//! `GET /healthz` (the process is alive and answering: 200) and
//! `GET /readyz` (it takes new work: 200; 503 once the connection is being
//! stopped for a shutdown, [`crate::Conn::stop`], or while the host says
//! it is not ready, [`bedrock_web::Handler::readiness`], its reason in
//! the body: `not ready: REASON`). Only GET and HEAD are taken; any other
//! method goes to the app.

use bedrock_http::{Method, Request};
use bedrock_web::{routing_path, Handler, Reply, Response};

/// Liveness: 200 while the server answers at all.
pub const HEALTH_PATH: &str = "/healthz";
/// Readiness: 200 while the server takes new work.
pub const READY_PATH: &str = "/readyz";

const TEXT: &str = "text/plain; charset=utf-8";
/// What a 503 from [`READY_PATH`] says before the host's reason.
const NOT_READY: &[u8] = b"not ready: ";

/// The reply to a health request, or `None` for any other request; a
/// reason the host gives for not being ready is written into `out`.
pub(crate) fn reply<H: Handler>(
    request: &Request<'_, '_>,
    stopping: bool,
    app: &mut H,
    out: &mut [u8],
) -> Option<Response> {
    if !matches!(request.method, Method::Get | Method::Head) {
        return None;
    }
    let reply = match routing_path(request) {
        HEALTH_PATH => Reply::fixed(200, TEXT, b"ok\n"),
        READY_PATH if stopping => Reply::fixed(503, TEXT, b"shutting down\n"),
        READY_PATH => match app.readiness() {
            Ok(()) => Reply::fixed(200, TEXT, b"ready\n"),
            Err(reason) => Reply::out(503, TEXT, not_ready(reason.as_bytes(), out)),
        },
        _ => return None,
    };
    Some(Response {
        reply: reply.header("Cache-Control", b"no-store"),
        head_only: request.method == Method::Head,
    })
}

/// Writes `not ready: REASON\n` into `out` (the reason cut to fit, the
/// line end kept); returns its length.
fn not_ready(reason: &[u8], out: &mut [u8]) -> usize {
    let Some(room) = out.len().checked_sub(NOT_READY.len() + 1) else {
        return 0;
    };
    let reason = &reason[..reason.len().min(room)];
    let end = NOT_READY.len() + reason.len();
    out[..NOT_READY.len()].copy_from_slice(NOT_READY);
    out[NOT_READY.len()..end].copy_from_slice(reason);
    out[end] = b'\n';
    end + 1
}
