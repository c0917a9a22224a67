//! The health endpoints every server answers for every app, before the
//! app sees the request, so that an orchestrator can watch any image the
//! same way (Kubernetes probes, a container's HEALTHCHECK):
//! `GET /healthz` (the process is alive and answering: 200) and
//! `GET /readyz` (it takes new work: 200; 503 once the connection is being
//! stopped for a shutdown, [`crate::Conn::stop`]). Only GET and HEAD are
//! taken; any other method goes to the app.

use bedrock_http::{Method, Request};
use bedrock_web::{routing_path, Reply, Response};

/// Liveness: 200 while the server answers at all.
pub const HEALTH_PATH: &str = "/healthz";
/// Readiness: 200 while the server takes new work.
pub const READY_PATH: &str = "/readyz";

const TEXT: &str = "text/plain; charset=utf-8";

/// The reply to a health request, or `None` for any other request.
pub(crate) fn reply(request: &Request<'_, '_>, stopping: bool) -> Option<Response> {
    if !matches!(request.method, Method::Get | Method::Head) {
        return None;
    }
    let reply = match routing_path(request) {
        HEALTH_PATH => Reply::fixed(200, TEXT, b"ok\n"),
        READY_PATH if stopping => Reply::fixed(503, TEXT, b"shutting down\n"),
        READY_PATH => Reply::fixed(200, TEXT, b"ready\n"),
        _ => return None,
    };
    Some(Response {
        reply: reply.header("Cache-Control", b"no-store"),
        head_only: request.method == Method::Head,
    })
}
