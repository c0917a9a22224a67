//! One worker process: an edge-triggered epoll loop over its own
//! SO_REUSEPORT listener and up to `--max-conns` client connections.
//!
//! Each connection is a small state machine: read a request head (parsed
//! by bedrock-http), then either
//! - answer a file request here (`files`), sending the head from the
//!   connection's output buffer and the body with sendfile; PUT bodies are
//!   streamed to a temp file; or
//! - hand a request for one of the app's paths (`app::ApiHost::owns`),
//!   once its body is complete, to a `bedrock_conn::Conn` driving the app
//!   (`app`), with the shared store locked while it runs; the changes it
//!   records are journaled under the same lock and fsynced before the
//!   reply is sent.
//!
//! Deadlines (head, read silence, body rate, keep-alive, send) are checked
//! by a sweep every `TICK_MS`.

use bedrock_conn::LogRecord;
use bedrock_http::{
    framing, parse_request, BodyKind, ChunkedDecoder, Header, Limits, Method, Request, Status,
    Version, MAX_HEADERS, MAX_HEAD_LEN,
};

use crate::app::{ApiConn, API_BODY, API_IN};
use crate::evict::{self, Class};
use crate::files::{self, FileBody, FileCfg, HeadCtx, Plan, Upload};
use crate::listing::{self, Job, Lister, Progress};
use crate::log::{AccessLog, Entry};
use crate::supervisor::{Common, SHUTDOWN_GRACE_MS};
use crate::sys::mem::{Bytes, Pool};
use crate::sys::{self, Errno, SockAddr};

/// API requests one worker answers at once; past it, 503.
pub const MAX_API_CONNS: usize = 256;

/// Input per connection: the largest head plus an API body behind it.
const INPUT: usize = MAX_HEAD_LEN + API_IN;
/// Output per connection: a reply head and small bodies (small files are
/// copied in after the head so they go out in one write).
const OUTPUT: usize = 16 * 1024;
const EVENTS: usize = 256;
/// Connections accepted per turn of the event loop at most (the listener
/// is level-triggered: the rest wait for the next turn), so that a flood
/// of newcomers cannot starve the connections already open.
const ACCEPT_BATCH: usize = 64;
/// How often deadlines are checked.
const TICK_MS: u64 = 250;
/// After answering with `Connection: close`, unread input is drained this
/// long before closing (closing with unread data would reset the reply).
const LINGER_MS: u64 = 2_000;
const LISTENER: u64 = u64::MAX;
const SIGNALS: u64 = u64::MAX - 1;
const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 20\r\nRetry-After: 1\r\nConnection: close\r\n\r\nserver at capacity.\n";

// No heap: the upload state lives inline, so `Upload` is the big variant.
#[allow(clippy::large_enum_variant)]
enum Phase {
    /// Waiting for, or reading, a request head.
    Head,
    /// Collecting an API request whole: its raw bytes end at `end` (0
    /// until known; chunked bodies are scanned as they arrive).
    ApiBody {
        head_len: usize,
        end: usize,
        dec: Option<ChunkedDecoder>,
        scanned: usize,
        decoded: usize,
    },
    /// The app is answering from API connection `slot`.
    Api { slot: usize },
    /// A PUT body going to a temp file.
    Upload(Upload),
    /// Sending `out[out_at..out_len]`, then `file`.
    Send,
    /// A directory listing: queued (Some) or being built by the
    /// worker's lister (None); then `Send`.
    Listing(Option<Job>),
    /// Closing: write side shut, input drained until EOF or a timeout.
    Linger,
}

/// What the log line of a request answered later needs.
struct Pending {
    method: [u8; 16],
    method_len: usize,
    target: [u8; 256],
    target_len: usize,
    version: Version,
    keep: bool,
}

impl Pending {
    fn of(req: &Request<'_, '_>, keep: bool) -> Pending {
        let mut p = Pending {
            method: [0; 16],
            method_len: 0,
            target: [0; 256],
            target_len: 0,
            version: req.version,
            keep,
        };
        let m = req.method_str.as_bytes();
        p.method_len = m.len().min(16);
        p.method[..p.method_len].copy_from_slice(&m[..p.method_len]);
        let t = req.target.as_bytes();
        p.target_len = t.len().min(256);
        p.target[..p.target_len].copy_from_slice(&t[..p.target_len]);
        p
    }
}

struct Client {
    fd: i32,
    peer: SockAddr,
    in_len: usize,
    out_at: usize,
    out_len: usize,
    file: Option<FileBody>,
    phase: Phase,
    close_after: bool,
    readable: bool,
    writable: bool,
    eof: bool,
    /// When the current request's first byte arrived (µs).
    started: u64,
    last_in: u64,
    /// The last byte the socket took, or the start of the reply.
    last_out: u64,
    /// The last time the client was seen to take reply bytes (the send
    /// queue shrank), and the queue's length then (`u32::MAX`: unknown,
    /// after a write).
    acked_at: u64,
    send_queue: u32,
    /// Whether a reply went out on this connection: only then is it idle
    /// between requests (a new one is a head arriving).
    answered: bool,
    phase_since: u64,
    received: u64,
    pending: Pending,
    api_status: u16,
    api_bytes: u64,
    api_micros: u64,
}

impl Client {
    fn new() -> Client {
        Client {
            fd: -1,
            peer: SockAddr::default(),
            in_len: 0,
            out_at: 0,
            out_len: 0,
            file: None,
            phase: Phase::Head,
            close_after: false,
            readable: false,
            writable: false,
            eof: false,
            started: 0,
            last_in: 0,
            last_out: 0,
            acked_at: 0,
            send_queue: u32::MAX,
            answered: false,
            phase_since: 0,
            received: 0,
            api_status: 0,
            api_bytes: 0,
            api_micros: 0,
            pending: Pending {
                method: [0; 16],
                method_len: 0,
                target: [0; 256],
                target_len: 0,
                version: Version::Http11,
                keep: false,
            },
        }
    }

    fn output_pending(&self) -> bool {
        self.out_at < self.out_len || self.file.is_some()
    }

    /// The socket took reply bytes at `now`.
    fn wrote(&mut self, now: u64) {
        self.last_out = now;
        self.send_queue = u32::MAX;
    }

    /// The last sign of progress of the reply being sent: a byte taken by
    /// the socket, or one taken by the client (seen as a shorter send
    /// queue since the last look, which is now).
    fn send_progress(&mut self, now: u64) -> u64 {
        if let Ok(queued) = sys::send_queue(self.fd) {
            // The first look after a write only takes the measure (the
            // write itself is the progress until then).
            if self.send_queue != u32::MAX && queued < self.send_queue {
                self.acked_at = now;
            }
            self.send_queue = queued;
        }
        self.last_out.max(self.acked_at)
    }

    /// Drops the first `n` bytes of input.
    fn consume(&mut self, input: &mut [u8], n: usize) {
        let n = n.min(self.in_len);
        input.copy_within(n..self.in_len, 0);
        self.in_len -= n;
    }
}

/// Everything a connection's handlers may touch besides the connection.
struct Env<'s> {
    common: &'s Common<'s>,
    cfg: FileCfg<'s>,
    log: AccessLog,
    now: u64,
    date: [u8; 29],
    date_sec: u64,
    stopping: bool,
    apis: Pool<ApiConn>,
    api_used: [bool; MAX_API_CONNS],
    lister: Lister,
    /// The slot whose listing the lister builds (while it is busy).
    list_owner: usize,
    /// Connections with a listing queued, and where to look next.
    list_waiting: usize,
    list_next: usize,
    evictions: evict::Counters,
}

impl Env<'_> {
    fn head(&self, version: Version, keep: bool, head_only: bool) -> HeadCtx<'_> {
        HeadCtx {
            version,
            keep: keep && !self.stopping,
            head_only,
            date: &self.date,
        }
    }

    /// Microseconds since `t` (a fresh clock reading, for the log).
    fn micros_since(&self, t: u64) -> u64 {
        sys::clock_us(sys::CLOCK_MONOTONIC).saturating_sub(t)
    }

    fn tick_clock(&mut self) {
        self.now = sys::clock_us(sys::CLOCK_MONOTONIC);
        let sec = sys::clock_us(sys::CLOCK_REALTIME) / 1_000_000;
        if sec != self.date_sec {
            self.date_sec = sec;
            bedrock_http::format_imf_fixdate(sec, &mut self.date);
        }
    }
}

/// Runs a worker until it is told to stop; never returns.
pub fn run(common: &Common<'_>, listener: i32) -> ! {
    match run_inner(common, listener) {
        Ok(()) => sys::exit(0),
        Err(_) => {
            crate::out::say(&[b"worker failed to start"]);
            sys::exit(1)
        }
    }
}

/// The connection slots and their buffers.
struct Slots {
    clients: Pool<Client>,
    inputs: Bytes,
    outputs: Bytes,
    max: usize,
    active: usize,
    /// Slots below this may be in use.
    high: usize,
}

impl Slots {
    /// Makes progress on the connection in `slot`; closes it when done.
    fn drive(&mut self, env: &mut Env<'_>, slot: usize) {
        let c = self.clients.get(slot, Client::new);
        if c.fd >= 0 && !drive(env, c, self.inputs.slice(slot), self.outputs.slice(slot)) {
            self.close(env, slot);
        }
    }

    fn close(&mut self, env: &mut Env<'_>, slot: usize) {
        close_client(env, self.clients.get(slot, Client::new));
        self.active -= 1;
    }
}

fn run_inner(common: &Common<'_>, listener: i32) -> Result<(), Errno> {
    let o = &common.opts;
    let max = o.max_conns;
    let ep = sys::epoll_create()?;
    sys::epoll_add(ep, listener, sys::EPOLLIN, LISTENER)?;
    let sigfd = sys::signalfd(&[sys::SIGTERM, sys::SIGINT])?;
    sys::epoll_add(ep, sigfd, sys::EPOLLIN, SIGNALS)?;
    let mut s = Slots {
        clients: Pool::new(max)?,
        inputs: Bytes::new(max, INPUT)?,
        outputs: Bytes::new(max, OUTPUT)?,
        max,
        active: 0,
        high: 0,
    };
    let mut env = Env {
        common,
        cfg: FileCfg {
            root: common.root,
            allow_write: o.allow_write,
            token: o.write_token,
            listing: o.listing,
            max_put: o.max_put,
        },
        log: AccessLog::new(o.quiet),
        now: 0,
        date: [b' '; 29],
        date_sec: 0,
        stopping: false,
        apis: Pool::new(MAX_API_CONNS)?,
        api_used: [false; MAX_API_CONNS],
        lister: Lister::new(
            listing::MAX_LISTING_ENTRIES,
            listing::MAX_LISTING_NAME_BYTES,
        )?,
        list_owner: 0,
        list_waiting: 0,
        list_next: 0,
        evictions: evict::Counters::default(),
    };
    env.tick_clock();
    let mut events = [sys::EMPTY_EVENT; EVENTS];
    let mut last_sweep = env.now;
    let mut stop_deadline = 0;
    loop {
        // A listing in the works: look at the sockets and come back.
        let listing = env.lister.busy() || env.list_waiting > 0;
        let n = match sys::epoll_wait(ep, &mut events, if listing { 0 } else { TICK_MS as i32 }) {
            Ok(n) => n,
            Err(Errno::EINTR) => 0,
            Err(e) => return Err(e),
        };
        env.tick_clock();
        for ev in &events[..n] {
            let (flags, data) = sys::event_parts(ev);
            match data {
                LISTENER if !env.stopping => accept_all(&mut env, &mut s, listener, ep),
                LISTENER => {}
                SIGNALS => {
                    while sys::read_signal(sigfd).is_ok() {}
                    if !env.stopping {
                        env.stopping = true;
                        stop_deadline = env.now + SHUTDOWN_GRACE_MS * 1000;
                        sys::close(listener);
                    }
                }
                slot => {
                    let slot = slot as usize;
                    if slot >= s.high {
                        continue;
                    }
                    let c = s.clients.get(slot, Client::new);
                    if flags & (sys::EPOLLIN | sys::EPOLLHUP | sys::EPOLLERR | sys::EPOLLRDHUP) != 0
                    {
                        c.readable = true;
                    }
                    if flags & (sys::EPOLLOUT | sys::EPOLLHUP | sys::EPOLLERR) != 0 {
                        c.writable = true;
                    }
                    s.drive(&mut env, slot);
                }
            }
        }
        if listing {
            listing_turn(&mut env, &mut s);
        }
        if env.now.saturating_sub(last_sweep) >= TICK_MS * 1000 || env.stopping {
            last_sweep = env.now;
            for slot in 0..s.high {
                let c = s.clients.get(slot, Client::new);
                if c.fd < 0 {
                    continue;
                }
                if !sweep(&mut env, c, s.outputs.slice(slot)) {
                    s.close(&mut env, slot);
                } else {
                    s.drive(&mut env, slot);
                }
            }
            while s.high > 0 && s.clients.get(s.high - 1, Client::new).fd < 0 {
                s.high -= 1;
            }
            report_evictions(&mut env, max, false);
        }
        env.log.flush();
        if env.stopping && (s.active == 0 || env.now > stop_deadline) {
            report_evictions(&mut env, max, true);
            return Ok(());
        }
    }
}

/// Accepts waiting connections, at most `ACCEPT_BATCH` a turn: each into
/// a free slot, else into the slot of a connection evicted for it
/// (`evict`), else 503. What a new connection already sent is read (and
/// answered, if it is a whole request) before the next one is accepted.
fn accept_all(env: &mut Env<'_>, s: &mut Slots, listener: i32, ep: i32) {
    for _ in 0..ACCEPT_BATCH {
        let Ok((fd, peer)) = sys::accept(listener) else {
            return;
        };
        let slot = if s.active < s.max {
            (0..s.max).find(|&i| i >= s.high || s.clients.get(i, Client::new).fd < 0)
        } else {
            make_room(env, s)
        };
        let Some(slot) = slot else {
            env.evictions.refused += 1;
            let _ = sys::write(fd, BUSY);
            sys::shutdown_write(fd);
            sys::close(fd);
            env.log.write(
                &env.date,
                &Entry {
                    peer,
                    method: b"-",
                    target: b"-",
                    status: 503,
                    bytes: 20,
                    micros: 0,
                },
            );
            continue;
        };
        let c = s.clients.get(slot, Client::new);
        *c = Client::new();
        c.fd = fd;
        c.peer = peer;
        c.last_in = env.now;
        c.last_out = env.now;
        c.started = env.now;
        sys::set_nodelay(fd);
        let mask = sys::EPOLLIN | sys::EPOLLOUT | sys::EPOLLRDHUP | sys::EPOLLET;
        if sys::epoll_add(ep, fd, mask, slot as u64).is_err() {
            sys::close(fd);
            c.fd = -1;
            continue;
        }
        s.active += 1;
        s.high = s.high.max(slot + 1);
        c.readable = true;
        c.writable = true;
        s.drive(env, slot);
    }
}

/// What a connection is worth keeping at the cap (see `evict`). A reply
/// being sent is ranked by its last progress as of the last sweep (or
/// look); `make_room` looks again before evicting it.
fn class_of(c: &Client) -> (Class, u64) {
    match c.phase {
        Phase::Linger => (Class::Lingering, c.phase_since),
        Phase::Head if c.output_pending() => (Class::Busy, 0),
        Phase::Head if c.in_len == 0 && c.answered => (Class::Idle, c.last_in.max(c.last_out)),
        // A new connection with nothing read yet, or part of a head.
        Phase::Head => (Class::SlowHead, c.started),
        Phase::Send | Phase::Api { .. } => (Class::Stalled, c.last_out.max(c.acked_at)),
        _ => (Class::Busy, 0),
    }
}

/// Closes the least valuable connection for a newcomer; its slot, or
/// None when every connection is being answered.
fn make_room(env: &mut Env<'_>, s: &mut Slots) -> Option<usize> {
    loop {
        let clients = &mut s.clients;
        let open = (0..s.high).filter_map(|i| {
            let c = clients.get(i, Client::new);
            (c.fd >= 0).then(|| {
                let (class, since) = class_of(c);
                (i, class, since)
            })
        });
        let (slot, class) = evict::victim(open, env.now)?;
        if class == Class::Stalled {
            // Look again: the client may have taken bytes since the last
            // sweep. Then it is no longer a candidate; choose again.
            let c = s.clients.get(slot, Client::new);
            let since = c.send_progress(env.now);
            if env.now.saturating_sub(since) < evict::STALLED_AFTER_US {
                continue;
            }
        }
        if class == Class::Stalled {
            // The reply is abandoned: reset, so the kernel drops its
            // unsent bytes rather than keep them for a reader that does
            // not read.
            sys::reset_on_close(s.clients.get(slot, Client::new).fd);
        }
        env.evictions.evicted(class);
        s.close(env, slot);
        return Some(slot);
    }
}

fn report_evictions(env: &mut Env<'_>, cap: usize, exiting: bool) {
    if env.evictions.due(env.now, exiting) {
        let line = env.evictions.report(env.now, sys::getpid(), cap);
        crate::out::say(&[line.as_bytes()]);
    }
}

/// Takes the next queued listing when the lister is free, and works on
/// the current one for one step (`listing::STEP_US`); a finished listing
/// is answered.
fn listing_turn(env: &mut Env<'_>, s: &mut Slots) {
    if !env.lister.busy() {
        let high = s.high.max(1);
        let queued = (0..high).map(|k| (env.list_next + k) % high).find(|&i| {
            let c = s.clients.get(i, Client::new);
            c.fd >= 0 && matches!(c.phase, Phase::Listing(Some(_)))
        });
        let Some(slot) = queued else {
            env.list_waiting = 0; // not reached: every queued one is found
            return;
        };
        let c = s.clients.get(slot, Client::new);
        let Phase::Listing(job) = &mut c.phase else {
            return;
        };
        if let Some(job) = job.take() {
            env.lister.start(job);
        }
        env.list_waiting -= 1;
        env.list_owner = slot;
        env.list_next = slot + 1;
    }
    let deadline = sys::clock_us(sys::CLOCK_MONOTONIC) + listing::STEP_US;
    let Progress::Finished(outcome) = env.lister.step(usize::MAX, deadline) else {
        return;
    };
    let slot = env.list_owner;
    let c = s.clients.get(slot, Client::new);
    let out = s.outputs.slice(slot);
    let job = outcome.job();
    let h = env.head(job.version, job.keep, job.head_only);
    let plan = files::listed(&env.cfg, outcome, out, &h);
    let (m, t) = (c.pending.method, c.pending.target);
    let (ml, tl) = (c.pending.method_len, c.pending.target_len);
    answer(env, c, out, &m[..ml], &t[..tl], plan);
    s.drive(env, slot);
}

fn close_client(env: &mut Env<'_>, c: &mut Client) {
    sys::close(c.fd);
    c.fd = -1;
    if let Some(f) = c.file.take() {
        sys::close(f.fd);
    }
    match core::mem::replace(&mut c.phase, Phase::Head) {
        Phase::Upload(up) => up.abort(),
        Phase::Api { slot } => env.api_used[slot] = false,
        Phase::Listing(Some(job)) => {
            job.drop_fds();
            env.list_waiting -= 1;
        }
        Phase::Listing(None) => env.lister.abort(),
        _ => {}
    }
}

/// Checks deadlines; false to close now.
fn sweep(env: &mut Env<'_>, c: &mut Client, out: &mut [u8]) -> bool {
    let o = &env.common.opts;
    let now = env.now;
    let ms = |since: u64| now.saturating_sub(since) / 1000;
    match c.phase {
        Phase::Head if c.in_len == 0 && !c.output_pending() => {
            // Idle keep-alive connection (or any, when stopping).
            !(env.stopping || ms(c.last_in.max(c.last_out)) > o.keepalive_timeout_ms)
        }
        Phase::Head => {
            if ms(c.started) > o.head_timeout_ms || ms(c.last_in) > o.read_timeout_ms {
                reject(env, c, out, 408, b"-", b"-");
            }
            true
        }
        Phase::ApiBody { .. } | Phase::Upload(_) => {
            let elapsed = ms(c.phase_since);
            let too_slow = o.min_body_rate > 0
                && elapsed > o.read_timeout_ms
                && c.received.saturating_mul(1000) / elapsed.max(1) < o.min_body_rate;
            if ms(c.last_in) > o.read_timeout_ms || too_slow {
                let (m, t) = (c.pending.method, c.pending.target);
                let (ml, tl) = (c.pending.method_len, c.pending.target_len);
                reject(env, c, out, 408, &m[..ml], &t[..tl]);
            }
            true
        }
        Phase::Send | Phase::Api { .. } => {
            let keep = ms(c.send_progress(now)) <= o.send_timeout_ms;
            if !keep {
                sys::reset_on_close(c.fd); // abandoned, as when evicted
            }
            keep
        }
        // Waiting for us, not for the client.
        Phase::Listing(_) => true,
        Phase::Linger => ms(c.phase_since) <= LINGER_MS,
    }
}

/// Reads into the input buffer; Some(true) if bytes came, Some(false) at
/// EOF/blocked, None on error.
fn fill(env: &Env<'_>, c: &mut Client, input: &mut [u8]) -> Option<bool> {
    if !c.readable || c.eof || c.in_len == input.len() {
        return Some(false);
    }
    match sys::read(c.fd, &mut input[c.in_len..]) {
        Ok(0) => {
            c.eof = true;
            c.readable = false;
            Some(true)
        }
        Ok(n) => {
            if c.in_len == 0 && matches!(c.phase, Phase::Head) {
                c.started = env.now;
            }
            c.in_len += n;
            c.last_in = env.now;
            if matches!(c.phase, Phase::ApiBody { .. } | Phase::Upload(_)) {
                c.received += n as u64;
            }
            Some(true)
        }
        Err(Errno::EAGAIN) | Err(Errno::EINTR) => {
            c.readable = false;
            Some(false)
        }
        Err(_) => None,
    }
}

enum Sent {
    Done,
    Blocked,
    Failed,
}

fn send(env: &mut Env<'_>, c: &mut Client, out: &[u8]) -> Sent {
    while c.out_at < c.out_len {
        if !c.writable {
            return Sent::Blocked;
        }
        let pending = &out[c.out_at..c.out_len];
        let sent = if c.file.is_some() {
            sys::send_more(c.fd, pending)
        } else {
            sys::write(c.fd, pending)
        };
        match sent {
            Ok(n) => {
                c.out_at += n;
                c.wrote(env.now);
            }
            Err(Errno::EAGAIN) => {
                c.writable = false;
                return Sent::Blocked;
            }
            Err(Errno::EINTR) => {}
            Err(_) => return Sent::Failed,
        }
    }
    while let Some(f) = c.file.as_mut() {
        if f.offset >= f.end {
            sys::close(f.fd);
            c.file = None;
            break;
        }
        if !c.writable {
            return Sent::Blocked;
        }
        let want = (f.end - f.offset).min(1 << 30) as usize;
        match sys::sendfile(c.fd, f.fd, &mut f.offset, want) {
            Ok(0) => return Sent::Failed, // the file shrank under us
            Ok(_) => c.wrote(env.now),
            Err(Errno::EAGAIN) => {
                c.writable = false;
                return Sent::Blocked;
            }
            Err(Errno::EINTR) => {}
            Err(_) => return Sent::Failed,
        }
    }
    Sent::Done
}

/// Makes progress on a connection until it must wait; false to close it.
fn drive(env: &mut Env<'_>, c: &mut Client, input: &mut [u8], out: &mut [u8]) -> bool {
    loop {
        // 1. Output first: replies go out in order.
        match c.phase {
            Phase::Api { slot } => match api_send(env, c, slot) {
                Sent::Done => {}
                Sent::Blocked => return true,
                Sent::Failed => return false,
            },
            _ => {
                if c.output_pending() {
                    match send(env, c, out) {
                        Sent::Done => {}
                        Sent::Blocked => return true,
                        Sent::Failed => return false,
                    }
                }
            }
        }
        if matches!(c.phase, Phase::Send) {
            // The reply is out.
            c.out_at = 0;
            c.out_len = 0;
            c.answered = true;
            if c.close_after || (env.stopping && c.in_len == 0) {
                if c.eof {
                    return false;
                }
                sys::shutdown_write(c.fd);
                c.phase = Phase::Linger;
                c.phase_since = env.now;
                c.in_len = 0;
            } else {
                c.phase = Phase::Head;
                c.started = env.now;
            }
        }
        // 2. Work on what has been read.
        let progressed = match step(env, c, input, out) {
            Some(p) => p,
            None => return false,
        };
        if progressed {
            continue;
        }
        // 3. Read more.
        match fill(env, c, input) {
            Some(true) => continue,
            Some(false) => {
                if c.eof && matches!(c.phase, Phase::Linger) {
                    return false;
                }
                return true;
            }
            None => return false,
        }
    }
}

/// Logs the answer to `c`'s request (`method`, `target`) and starts
/// sending it.
fn answer(
    env: &mut Env<'_>,
    c: &mut Client,
    out: &mut [u8],
    method: &[u8],
    target: &[u8],
    plan: Plan,
) {
    env.log.write(
        &env.date,
        &Entry {
            peer: c.peer,
            method,
            target,
            status: plan.status,
            bytes: plan.body_bytes,
            micros: env.micros_since(c.started),
        },
    );
    start_send(c, out, plan, env.now);
}

fn start_send(c: &mut Client, out: &mut [u8], plan: Plan, now: u64) {
    c.wrote(now); // the reply's progress is counted from its start
    c.out_at = 0;
    c.out_len = plan.len;
    c.close_after = plan.close;
    c.file = plan.body;
    // Small files ride in the same write as the head.
    if let Some(f) = c.file {
        let size = (f.end - f.offset) as usize;
        if size <= out.len() - plan.len {
            let mut done = 0;
            while done < size {
                match sys::pread(
                    f.fd,
                    &mut out[plan.len + done..plan.len + size],
                    f.offset + done as u64,
                ) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => done += n,
                }
            }
            if done == size {
                sys::close(f.fd);
                c.file = None;
                c.out_len += size;
            }
        }
    }
    c.phase = Phase::Send;
}

/// Origin-form path of a target (absolute-form loses scheme and host).
fn routing_path(target: &str) -> &str {
    let path = target.split('?').next().unwrap_or(target);
    for scheme in ["http://", "https://"] {
        if path.len() > scheme.len() && path[..scheme.len()].eq_ignore_ascii_case(scheme) {
            let rest = &path[scheme.len()..];
            return rest.find('/').map_or("/", |at| &rest[at..]);
        }
    }
    path
}

/// One step on buffered input; Some(true) if it made progress, None to
/// close.
fn step(env: &mut Env<'_>, c: &mut Client, input: &mut [u8], out: &mut [u8]) -> Option<bool> {
    match c.phase {
        Phase::Head => {
            if c.in_len == 0 {
                return if c.eof { None } else { Some(false) };
            }
            let mut headers = [Header::EMPTY; MAX_HEADERS];
            let limits = Limits::default();
            match parse_request(&input[..c.in_len], &mut headers, &limits) {
                Ok(Status::Partial) => {
                    if c.eof {
                        return None;
                    }
                    if c.in_len >= MAX_HEAD_LEN {
                        reject(env, c, out, 431, b"-", b"-");
                        return Some(true);
                    }
                    Some(false)
                }
                Err(e) => {
                    reject(env, c, out, e.status(), b"-", b"-");
                    Some(true)
                }
                Ok(Status::Complete((req, head_len))) => {
                    on_request(env, c, &req, head_len, out);
                    if matches!(c.phase, Phase::Send | Phase::Upload(_) | Phase::Listing(_)) {
                        c.consume(input, head_len);
                    }
                    Some(true)
                }
            }
        }
        Phase::ApiBody {
            head_len,
            end,
            mut dec,
            mut scanned,
            mut decoded,
        } => {
            if end > 0 {
                if c.in_len < end {
                    return if c.eof { None } else { Some(false) };
                }
                api_dispatch(env, c, input, out, end);
                return Some(true);
            }
            let d = dec.as_mut()?;
            let mut scratch = [0u8; API_BODY + 1];
            let from = head_len + scanned;
            if from >= c.in_len {
                return if c.eof { None } else { Some(false) };
            }
            match d.decode(&input[from..c.in_len], &mut scratch) {
                Err(e) => {
                    reject(env, c, out, e.status(), b"-", b"-");
                    Some(true)
                }
                Ok(p) => {
                    scanned += p.consumed;
                    decoded += p.written;
                    if decoded > API_BODY || head_len + scanned > API_IN {
                        reject(env, c, out, 413, b"-", b"-");
                        return Some(true);
                    }
                    let end = if p.done { head_len + scanned } else { 0 };
                    c.phase = Phase::ApiBody {
                        head_len,
                        end,
                        dec,
                        scanned,
                        decoded,
                    };
                    if p.consumed == 0 && !p.done {
                        return if c.eof { None } else { Some(false) };
                    }
                    Some(true)
                }
            }
        }
        Phase::Upload(_) => upload_step(env, c, input, out),
        Phase::Api { .. } | Phase::Send | Phase::Listing(_) => Some(false),
        Phase::Linger => {
            c.in_len = 0; // discard
            if c.eof {
                None
            } else {
                Some(false)
            }
        }
    }
}

/// Answers a request that cannot be read on with an error and closes.
fn reject(
    env: &mut Env<'_>,
    c: &mut Client,
    out: &mut [u8],
    status: u16,
    method: &[u8],
    target: &[u8],
) {
    if let Phase::Upload(up) = core::mem::replace(&mut c.phase, Phase::Send) {
        up.abort();
    }
    let h = env.head(Version::Http11, false, false);
    let plan = files::error(&env.cfg, out, &h, status, &[]);
    env.log.write(
        &env.date,
        &Entry {
            peer: c.peer,
            method,
            target,
            status,
            bytes: plan.body_bytes,
            micros: env.micros_since(c.started),
        },
    );
    c.in_len = 0;
    start_send(c, out, plan, env.now);
    c.close_after = true;
}

fn on_request(
    env: &mut Env<'_>,
    c: &mut Client,
    req: &Request<'_, '_>,
    head_len: usize,
    out: &mut [u8],
) {
    let method = req.method_str.as_bytes();
    let target = req.target.as_bytes();
    let framed = match framing(req) {
        Ok(f) => f,
        Err(e) => return reject(env, c, out, e.status(), method, target),
    };
    let has_body = !matches!(framed.body, BodyKind::None | BodyKind::Length(0));
    let path = routing_path(req.target);
    let wants_continue = req
        .header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue"))
        && req.version == Version::Http11;
    c.pending = Pending::of(req, framed.keep_alive);
    c.received = 0;
    c.phase_since = env.now;

    if env.common.app.owns(path) {
        let end = match framed.body {
            BodyKind::None => head_len,
            BodyKind::Length(n) if head_len as u64 + n <= API_IN as u64 => head_len + n as usize,
            BodyKind::Length(_) => return reject(env, c, out, 413, method, target),
            BodyKind::Chunked => 0,
        };
        if head_len > API_IN {
            return reject(env, c, out, 431, method, target);
        }
        let dec = matches!(framed.body, BodyKind::Chunked)
            .then(|| ChunkedDecoder::new(&Limits::default()));
        if wants_continue && has_body && c.in_len == head_len {
            out[..CONTINUE.len()].copy_from_slice(CONTINUE);
            c.out_at = 0;
            c.out_len = CONTINUE.len();
        }
        c.phase = Phase::ApiBody {
            head_len,
            end,
            dec,
            scanned: 0,
            decoded: 0,
        };
        return;
    }

    // A body we do not read leaves the connection unusable: close after
    // (an accepted PUT reads it, and its reply uses `pending.keep`).
    let keep = framed.keep_alive && !has_body;
    let h = env.head(req.version, keep, req.method == Method::Head);
    let plan = match req.method {
        Method::Get | Method::Head => files::get(&env.cfg, req, path, out, &h),
        Method::Put => match files::put_start(&env.cfg, req, path, framed.body, out, &h) {
            Ok(up) => {
                if wants_continue && c.in_len == head_len {
                    out[..CONTINUE.len()].copy_from_slice(CONTINUE);
                    c.out_at = 0;
                    c.out_len = CONTINUE.len();
                }
                c.phase = Phase::Upload(up);
                return;
            }
            Err(plan) => plan,
        },
        Method::Delete => files::delete(&env.cfg, req, path, out, &h),
        Method::Options => files::small(
            out,
            &h,
            204,
            None,
            &[("Allow", files::allow(&env.cfg))],
            b"",
        ),
        Method::Other => files::error(&env.cfg, out, &h, 501, &[]),
        Method::Post | Method::Patch | Method::Trace | Method::Connect => {
            files::error(&env.cfg, out, &h, 405, &[("Allow", files::allow(&env.cfg))])
        }
    };
    if let Some(job) = plan.list {
        // Built in steps by the worker's lister; logged when answered.
        c.phase = Phase::Listing(Some(job));
        env.list_waiting += 1;
        return;
    }
    answer(env, c, out, method, target, plan);
}

fn upload_step(
    env: &mut Env<'_>,
    c: &mut Client,
    input: &mut [u8],
    out: &mut [u8],
) -> Option<bool> {
    let Phase::Upload(up) = &mut c.phase else {
        return Some(false);
    };
    if c.in_len == 0 {
        if c.eof {
            return None;
        }
        if up.chunked.is_none() && up.remaining == 0 {
            // zero-length body: commit below
        } else {
            return Some(false);
        }
    }
    let mut consumed = 0;
    let mut failed: Option<u16> = None;
    let mut done = false;
    match up.chunked.as_mut() {
        None => {
            let take = (c.in_len as u64).min(up.remaining) as usize;
            if take > 0 {
                if let Err(e) = up.write(&input[..take]) {
                    failed = Some(if e == Errno::ENOSPC { 507 } else { 500 });
                }
            }
            up.remaining -= take as u64;
            consumed = take;
            done = up.remaining == 0;
        }
        Some(dec) => {
            let mut scratch = [0u8; 16 * 1024];
            match dec.decode(&input[..c.in_len], &mut scratch) {
                Err(e) => failed = Some(e.status()),
                Ok(p) => {
                    consumed = p.consumed;
                    done = p.done;
                    let max = up.max;
                    if up.received + p.written as u64 > max {
                        failed = Some(413);
                    } else if p.written > 0 {
                        if let Err(e) = up.write(&scratch[..p.written]) {
                            failed = Some(if e == Errno::ENOSPC { 507 } else { 500 });
                        }
                    }
                }
            }
        }
    }
    c.consume(input, consumed);
    let (method, target) = (c.pending.method, c.pending.target);
    let (ml, tl) = (c.pending.method_len, c.pending.target_len);
    if let Some(status) = failed {
        reject(env, c, out, status, &method[..ml], &target[..tl]);
        return Some(true);
    }
    if !done {
        return Some(consumed > 0);
    }
    let Phase::Upload(up) = core::mem::replace(&mut c.phase, Phase::Send) else {
        return None;
    };
    let h = env.head(c.pending.version, c.pending.keep, false);
    let plan = up.commit(&env.cfg, out, &h);
    answer(env, c, out, &method[..ml], &target[..tl], plan);
    Some(true)
}

/// Hands the complete API request `input[..end]` to a Conn and runs it.
fn api_dispatch(env: &mut Env<'_>, c: &mut Client, input: &mut [u8], out: &mut [u8], end: usize) {
    let Some(slot) = env.api_used.iter().position(|used| !used) else {
        let (m, t) = (c.pending.method, c.pending.target);
        let (ml, tl) = (c.pending.method_len, c.pending.target_len);
        return reject(env, c, out, 503, &m[..ml], &t[..tl]);
    };
    env.api_used[slot] = true;
    let app = env.common.app;
    let conn = env.apis.get(slot, || app.new_conn());
    conn.open(env.now);
    conn.receive(env.now, &input[..end]);
    c.consume(input, end);
    c.phase = Phase::Api { slot };
    c.wrote(env.now); // the reply's progress is counted from its start
    c.api_status = 0;
    c.api_bytes = 0;
    if let Err(status) = api_process(env, c, slot) {
        // The app's reply promised a change that was not kept: drop it.
        env.apis.get(slot, || app.new_conn()).open(env.now);
        env.api_used[slot] = false;
        let (m, t) = (c.pending.method, c.pending.target);
        let (ml, tl) = (c.pending.method_len, c.pending.target_len);
        reject(env, c, out, status, &m[..ml], &t[..tl]);
    }
}

/// Whether a request may change the store (refused while the journal is
/// broken).
fn may_change(method: &[u8]) -> bool {
    !matches!(method, b"GET" | b"HEAD" | b"OPTIONS")
}

/// Runs the app on API connection `slot` (see `app::ApiHost::process`).
/// Err(status): a change could not be recorded and the app's reply must
/// be replaced by this status.
fn api_process(env: &mut Env<'_>, c: &mut Client, slot: usize) -> Result<(), u16> {
    let app = env.common.app;
    let conn = env.apis.get(slot, || app.new_conn());
    let may_change = may_change(&c.pending.method[..c.pending.method_len]);
    let mut status = 0u16;
    app.process(
        conn,
        env.now,
        &env.date,
        may_change,
        env.common.journal,
        &mut |r: &LogRecord<'_>| status = r.status,
    )?;
    if status != 0 {
        c.api_status = status;
        c.api_micros = env.micros_since(c.started);
    }
    Ok(())
}

/// Sends what the app produced; Done once the reply is complete (the
/// client then moves to `Send` with nothing left, or closes).
fn api_send(env: &mut Env<'_>, c: &mut Client, slot: usize) -> Sent {
    let app = env.common.app;
    loop {
        let conn = env.apis.get(slot, || app.new_conn());
        if conn.output().is_empty() {
            if api_process(env, c, slot).is_err() {
                // Only the request fed in api_dispatch can change the
                // store, so this is not reached; close if it ever is.
                return Sent::Failed;
            }
            let conn = env.apis.get(slot, || app.new_conn());
            if conn.output().is_empty() {
                let (m, t) = (c.pending.method, c.pending.target);
                let (ml, tl) = (c.pending.method_len, c.pending.target_len);
                env.log.write(
                    &env.date,
                    &Entry {
                        peer: c.peer,
                        method: &m[..ml],
                        target: &t[..tl],
                        status: c.api_status,
                        bytes: c.api_bytes,
                        micros: c.api_micros,
                    },
                );
                let conn = env.apis.get(slot, || app.new_conn());
                c.close_after = conn.wants_close() || !c.pending.keep;
                env.api_used[slot] = false;
                c.phase = Phase::Send;
                return Sent::Done;
            }
            continue;
        }
        if !c.writable {
            return Sent::Blocked;
        }
        match sys::write(c.fd, conn.output()) {
            Ok(n) => {
                conn.sent(env.now, n);
                c.api_bytes += n as u64;
                c.wrote(env.now);
            }
            Err(Errno::EAGAIN) => {
                c.writable = false;
                return Sent::Blocked;
            }
            Err(Errno::EINTR) => {}
            Err(_) => return Sent::Failed,
        }
    }
}
