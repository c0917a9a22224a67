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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::TEMP_PREFIX;
    use crate::test_util::{dir_fd, temp_dir};
    use bedrock_http::{parse_request, Header, Limits, Status};
    use std::path::PathBuf;

    /// A root with a small and a large file and a directory, served with
    /// writes on.
    fn files(name: &str) -> (Files<'static>, PathBuf) {
        let root = temp_dir(name);
        std::fs::write(root.join("small.txt"), b"small\n").unwrap();
        std::fs::write(root.join("big.bin"), vec![7u8; 100_000]).unwrap();
        std::fs::create_dir(root.join("dir")).unwrap();
        std::fs::write(root.join("dir").join("a"), b"").unwrap();
        let cfg = FileCfg {
            root: dir_fd(&root),
            allow_write: true,
            token: None,
            listing: true,
            max_put: 1000,
        };
        (Files::new(cfg, 4).unwrap(), root)
    }

    /// Runs `f` on the request `head` (its path routed as sent).
    fn with_request<T>(head: &str, f: impl FnOnce(&Request<'_, '_>, &str) -> T) -> T {
        let mut headers = [Header::EMPTY; 16];
        let parsed = parse_request(head.as_bytes(), &mut headers, &Limits::default());
        let Ok(Status::Complete((req, _))) = parsed else {
            panic!("{head:?} does not parse");
        };
        let path = req.path();
        f(&req, path)
    }

    fn get(files: &mut Files<'_>, slot: usize, path: &str, out: &mut [u8]) -> Reply {
        let head = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        with_request(&head, |req, path| files.respond(slot, req, path, out).reply)
    }

    /// Whether descriptor `fd` is open on `file` (other tests' files may
    /// take the number once it is closed).
    fn open_on(fd: u64, file: &std::path::Path) -> bool {
        std::fs::read_link(format!("/proc/self/fd/{fd}")).is_ok_and(|p| p == file)
    }

    #[test]
    fn small_files_ride_in_the_reply_buffer_large_ones_are_held_until_released() {
        let (mut files, root) = files("service-get");
        let mut out = [0u8; 4096];
        let reply = get(&mut files, 0, "/small.txt", &mut out);
        assert_eq!((reply.status, reply.body), (200, Body::Out(6)));
        assert_eq!(&out[..6], b"small\n");
        let big = root.join("big.bin").canonicalize().unwrap();
        let held = |files: &mut Files<'_>, out: &mut [u8]| {
            let reply = get(files, 1, "/big.bin", out);
            let Body::File(file) = reply.body else {
                panic!("{:?}", reply.body);
            };
            assert_eq!((file.offset, file.len), (0, 100_000));
            assert!(open_on(file.handle, &big), "held for the host to send");
            file.handle
        };
        // Replaced by the slot's next reply, or let go with the slot.
        let fd = held(&mut files, &mut out);
        get(&mut files, 1, "/small.txt", &mut out);
        assert!(!open_on(fd, &big));
        let fd = held(&mut files, &mut out);
        files.release(1);
        assert!(!open_on(fd, &big));
    }

    #[test]
    fn a_put_goes_to_its_sink_and_is_renamed_into_place_or_removed() {
        let (mut files, root) = files("service-put");
        let mut out = [0u8; 4096];
        let head = "PUT /new.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n";
        let early = with_request(head, |req, path| files.on_head(2, req, path, &mut out));
        assert_eq!(early.map(|r| r.reply.body), Some(Body::Sink(2)));
        files.sink(2, b"hel").unwrap();
        files.sink(2, b"lo").unwrap();
        assert!(!root.join("new.txt").exists(), "not there before the end");
        assert_eq!(files.sink_end(2, &mut out).status, 201);
        assert_eq!(std::fs::read(root.join("new.txt")).unwrap(), b"hello");
        // Past --max-body the upload is refused and its temp file removed.
        let head = "PUT /new.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        with_request(head, |req, path| files.on_head(2, req, path, &mut out));
        assert_eq!(files.sink(2, &[b'x'; 1001]).unwrap_err().status, 413);
        // An aborted one leaves the target as it was.
        with_request(head, |req, path| files.on_head(3, req, path, &mut out));
        files.sink(3, b"partial").unwrap();
        files.release(3);
        assert_eq!(std::fs::read(root.join("new.txt")).unwrap(), b"hello");
        let names: Vec<_> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(
            !names
                .iter()
                .any(|n| n.as_encoded_bytes().starts_with(TEMP_PREFIX)),
            "{names:?}"
        );
    }

    #[test]
    fn a_listing_is_deferred_until_the_lister_has_built_it() {
        let (mut files, _root) = files("service-list");
        let mut out = [0u8; 16384];
        let reply = get(&mut files, 1, "/dir/", &mut out);
        assert_eq!(reply.body, Body::Deferred(1));
        assert!(files.listing_pending());
        assert!(files.resume(1, &mut out).is_none(), "not built yet");
        let mut built = None;
        for _ in 0..1000 {
            built = built.or(files.listing_turn(4));
        }
        assert_eq!(built, Some(1));
        let reply = files.resume(1, &mut out).unwrap();
        let Body::Out(n) = reply.body else {
            panic!("{:?}", reply.body);
        };
        assert_eq!(reply.status, 200);
        assert!(String::from_utf8_lossy(&out[..n]).contains("href=\"a\""));
        assert!(!files.listing_pending());
        // A listing whose connection goes away is dropped, queued or not.
        get(&mut files, 2, "/dir/", &mut out);
        files.release(2);
        assert!(!files.listing_pending());
    }
}
