//! The file server as the connection engine's handler sees it: each
//! request's answer (`get`, `put`, `delete`, OPTIONS, refusals), and
//! what each connection holds on to meanwhile, in its slot: the file its
//! reply's body is sent from, its upload's temp file (the sink the
//! engine streams a PUT body to), its listing (queued, being built by
//! the worker's one lister in steps between turns of the event loop, or
//! built and waiting for the engine to ask again). Sink and deferred
//! reply numbers are slot numbers.

use bedrock_http::{framing, Method, Request};
use bedrock_web::{Body, Reject, Reply, Response};

use super::auth::allow;
use super::delete::delete;
use super::directory::listed;
use super::get::get;
use super::put::{self, Upload};
use super::reply::{error, small};
use super::{Answer, FileCfg};
use crate::listing::{self, Job, Lister, Outcome, Progress};
use crate::sys::mem::Pool;
use crate::sys::{self, Errno, Fd};

/// Where a connection's listing is.
enum Listing {
    None,
    /// Waiting for the lister.
    Queued(Job),
    /// The lister is building it.
    Building,
    /// Built: the reply is made when the engine asks for it.
    Built(Outcome),
}

/// What one connection holds.
struct Held {
    /// The body of the reply being sent (closed when replaced).
    file: Option<Fd>,
    upload: Option<Upload>,
    listing: Listing,
}

impl Held {
    fn new() -> Held {
        Held {
            file: None,
            upload: None,
            listing: Listing::None,
        }
    }
}

/// The files under the root, served to the worker's connections.
pub struct Files<'a> {
    cfg: FileCfg<'a>,
    held: Pool<Held>,
    lister: Lister,
    /// The slot whose listing the lister builds (while it is busy).
    building: usize,
    /// Listings queued, and where to look for the next one.
    queued: usize,
    next: usize,
}

impl<'a> Files<'a> {
    /// Files for up to `slots` connections.
    pub fn new(cfg: FileCfg<'a>, slots: usize) -> Result<Files<'a>, Errno> {
        Ok(Files {
            cfg,
            held: Pool::new(slots)?,
            lister: Lister::new(
                listing::MAX_LISTING_ENTRIES,
                listing::MAX_LISTING_NAME_BYTES,
            )?,
            building: 0,
            queued: 0,
            next: 0,
        })
    }

    /// The reply to the whole request `req` for `path` on `slot`.
    pub fn respond(
        &mut self,
        slot: usize,
        req: &Request<'_, '_>,
        path: &str,
        out: &mut [u8],
    ) -> Response {
        let cfg = &self.cfg;
        let answer = match req.method {
            Method::Get | Method::Head => get(cfg, req, path, out),
            // A PUT with an empty body (a body goes to `on_head`'s sink).
            Method::Put => match self.on_head(slot, req, path, out) {
                Some(early) if early.reply.body == Body::Sink(slot as u64) => {
                    return Response {
                        reply: self.sink_end(slot, out),
                        head_only: false,
                    };
                }
                Some(early) => return early,
                None => Answer::reply(Reply::new(500)),
            },
            Method::Delete => delete(cfg, req, path, out),
            Method::Options => small(out, 204, None, &[("Allow", allow(cfg))], b""),
            Method::Other => error(cfg, out, 501, &[]),
            Method::Post | Method::Patch | Method::Trace | Method::Connect => {
                error(cfg, out, 405, &[("Allow", allow(cfg))])
            }
        };
        Response {
            reply: self.hold(slot, answer),
            head_only: req.method == Method::Head,
        }
    }

    /// A PUT's head: an upload sink, or the refusal (401, 405, 409, 411,
    /// 412, 413 ...). Other methods read their body whole (None).
    pub fn on_head(
        &mut self,
        slot: usize,
        req: &Request<'_, '_>,
        path: &str,
        out: &mut [u8],
    ) -> Option<Response> {
        if req.method != Method::Put {
            return None;
        }
        let body = framing(req).ok()?.body;
        let reply = match put::put_start(&self.cfg, req, path, body, out) {
            Ok(upload) => {
                self.held.get(slot, Held::new).upload = Some(upload);
                Reply::sink(slot as u64)
            }
            Err(answer) => self.hold(slot, answer),
        };
        Some(Response {
            reply,
            head_only: false,
        })
    }

    /// Writes the next piece of `slot`'s upload; a failure drops it.
    pub fn sink(&mut self, slot: usize, bytes: &[u8]) -> Result<(), Reject> {
        let held = self.held.get(slot, Held::new);
        let Some(upload) = held.upload.as_mut() else {
            return Err(Reject::new(500, "no upload"));
        };
        upload.write(bytes).map_err(|status| {
            self.sink_abort(slot);
            Reject::new(status, "upload failed")
        })
    }

    /// `slot`'s upload is complete: renamed into place, 201 or 204.
    pub fn sink_end(&mut self, slot: usize, out: &mut [u8]) -> Reply {
        let answer = match self.held.get(slot, Held::new).upload.take() {
            Some(upload) => upload.commit(&self.cfg, out),
            None => error(&self.cfg, out, 500, &[]),
        };
        self.hold(slot, answer)
    }

    /// `slot`'s upload will not complete: its temp file is removed.
    pub fn sink_abort(&mut self, slot: usize) {
        if let Some(upload) = self.held.get(slot, Held::new).upload.take() {
            upload.abort();
        }
    }

    /// `slot`'s listing reply, once it is built.
    pub fn resume(&mut self, slot: usize, out: &mut [u8]) -> Option<Reply> {
        let held = self.held.get(slot, Held::new);
        if !matches!(held.listing, Listing::Built(_)) {
            return None;
        }
        let Listing::Built(outcome) = core::mem::replace(&mut held.listing, Listing::None) else {
            return None;
        };
        let answer = listed(&self.cfg, outcome, out);
        Some(self.hold(slot, answer))
    }

    /// An error page with `status` for `slot`.
    pub fn render(&mut self, slot: usize, status: u16, out: &mut [u8]) -> Reply {
        let answer = error(&self.cfg, out, status, &[]);
        self.hold(slot, answer)
    }

    /// Keeps what `answer` holds in `slot`; a listing is queued and the
    /// reply deferred until it is built.
    fn hold(&mut self, slot: usize, answer: Answer) -> Reply {
        let Answer {
            mut reply,
            file,
            list,
        } = answer;
        let held = self.held.get(slot, Held::new);
        held.file = file;
        if let Some(job) = list {
            held.listing = Listing::Queued(job);
            self.queued += 1;
            reply = Reply::deferred(slot as u64);
        }
        reply
    }

    /// `slot`'s connection is gone: everything it held is let go.
    pub fn release(&mut self, slot: usize) {
        self.sink_abort(slot);
        let held = self.held.get(slot, Held::new);
        held.file = None;
        match core::mem::replace(&mut held.listing, Listing::None) {
            Listing::None => {}
            Listing::Queued(job) => {
                job.drop_fds();
                self.queued -= 1;
            }
            Listing::Building => self.lister.abort(),
            Listing::Built(outcome) => sys::close(outcome.job().mfd),
        }
    }

    /// Whether a listing waits for [`Files::listing_turn`].
    pub fn listing_pending(&self) -> bool {
        self.lister.busy() || self.queued > 0
    }

    /// Takes the next queued listing (among slots below `high`) when the
    /// lister is free, and works on the current one for one step
    /// (`listing::STEP_US`); the slot whose listing is then built.
    pub fn listing_turn(&mut self, high: usize) -> Option<usize> {
        if !self.lister.busy() {
            let high = high.max(1);
            let queued = (0..high)
                .map(|k| (self.next + k) % high)
                .find(|&i| matches!(self.held.get(i, Held::new).listing, Listing::Queued(_)));
            let Some(slot) = queued else {
                self.queued = 0; // not reached: every queued one is found
                return None;
            };
            let held = self.held.get(slot, Held::new);
            if let Listing::Queued(job) = core::mem::replace(&mut held.listing, Listing::Building) {
                self.lister.start(job);
            }
            self.queued -= 1;
            self.building = slot;
            self.next = slot + 1;
        }
        let deadline = sys::clock_us(sys::CLOCK_MONOTONIC) + listing::STEP_US;
        let Progress::Finished(outcome) = self.lister.step(usize::MAX, deadline) else {
            return None;
        };
        let slot = self.building;
        self.held.get(slot, Held::new).listing = Listing::Built(outcome);
        Some(slot)
    }
}
