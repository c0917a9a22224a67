//! What every connection of a worker is answered by: the app at its
//! mount points (`app::ApiHost`: store locked, changes journaled and
//! fsynced before the reply), the files under the root everywhere else
//! (`files::Files`), as one `bedrock_web::Handler` for the connection
//! engine. The worker says which connection it drives ([`Site::at`]), so
//! that what a reply holds (its file, its upload, its listing) is kept
//! with that connection.

use bedrock_http::{framing, BodyKind, Method, Request};
use bedrock_web::{routing_path, Handler, Reject, Reply, Response, Stream};

use crate::app::ApiHost;
use crate::files::Files;

/// The app and the files, for one worker's connections.
pub struct Site<'a> {
    app: &'a dyn ApiHost,
    /// The files, and what each connection holds of them.
    pub files: Files<'a>,
    /// The connection being driven.
    slot: usize,
}

impl<'a> Site<'a> {
    pub fn new(app: &'a dyn ApiHost, files: Files<'a>) -> Site<'a> {
        Site {
            app,
            files,
            slot: 0,
        }
    }

    /// The handler for the connection in `slot`.
    pub fn at(&mut self, slot: usize) -> &mut Site<'a> {
        self.slot = slot;
        self
    }
}

impl Handler for Site<'_> {
    fn respond(&mut self, request: &Request<'_, '_>, body: &[u8], out: &mut [u8]) -> Response {
        let path = routing_path(request);
        if !self.app.owns(path) {
            return self.files.respond(self.slot, request, path, out);
        }
        match self.app.respond(request, body, out) {
            Ok(response) => response,
            // The reply promised a change that was not kept.
            Err(status) => Response {
                reply: self.files.render(self.slot, status, out),
                head_only: request.method == Method::Head,
            },
        }
    }

    fn render_reject(&mut self, reject: Reject, out: &mut [u8]) -> Reply {
        self.files.render(self.slot, reject.status, out)
    }

    fn stream(&mut self, stream: &mut Stream, out: &mut [u8]) -> usize {
        self.app.stream(stream, out)
    }

    fn on_head(&mut self, request: &Request<'_, '_>, out: &mut [u8]) -> Option<Response> {
        let path = routing_path(request);
        if !self.app.owns(path) {
            return self.files.on_head(self.slot, request, path, out);
        }
        let length = framing(request).ok()?.body;
        let too_long = matches!(length, BodyKind::Length(n) if n > self.app.max_body() as u64);
        too_long.then(|| Response {
            reply: self
                .app
                .render_reject(Reject::new(413, "request body too large"), out),
            head_only: false,
        })
    }

    fn sink(&mut self, sink: u64, bytes: &[u8]) -> Result<(), Reject> {
        self.files.sink(sink as usize, bytes)
    }

    fn sink_end(&mut self, sink: u64, out: &mut [u8]) -> Reply {
        self.files.sink_end(sink as usize, out)
    }

    fn sink_abort(&mut self, sink: u64) {
        self.files.sink_abort(sink as usize)
    }

    fn readiness(&mut self) -> Result<(), &str> {
        self.app.readiness()
    }

    fn resume(&mut self, token: u64, out: &mut [u8]) -> Option<Reply> {
        self.files.resume(token as usize, out)
    }
}
