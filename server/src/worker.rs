//! One worker process: an edge-triggered epoll loop over its own
//! SO_REUSEPORT listener and up to `--max-conns` client connections.
//!
//! Every request on every connection is read, answered and framed by a
//! `bedrock_conn::Conn`, driven over the client's socket (`socket`) with
//! the worker's `site::Site` as its handler: the app at its mount points,
//! the files elsewhere, whose replies are file bodies (sent here with
//! sendfile) and upload sinks. What stays here: accepting, epoll, the
//! deadline sweep every `TICK_MS` (`Conn::on_timer`), the lingering close,
//! who makes room at the connection cap (`evict`), the directory lister's
//! turns between events, and the shutdown.

use bedrock_conn::{AccessLine, Activity, Config, Conn, LogRecord, Stamp};
use bedrock_http::MAX_HEAD_LEN;
use bedrock_metrics::{HttpMetrics, Metered};

use crate::app::{BODY_BUFFER, REPLY_BUFFER};
use crate::evict::{self, Class};
use crate::files::{FileCfg, Files};
use crate::log::AccessLog;
use crate::metrics::Board;
use crate::site::Site;
use crate::socket::Client;
use crate::supervisor::{Common, SHUTDOWN_GRACE_MS};
use crate::sys::mem::{self, Pool};
use crate::sys::{self, Errno, SockAddr};

/// Input per connection: the largest head plus a body (or pipelined
/// requests) behind it.
const INPUT: usize = MAX_HEAD_LEN + BODY_BUFFER;
/// The connection engine of one client.
type HostConn = Conn<INPUT, BODY_BUFFER, REPLY_BUFFER>;
const _: () = assert!(
    bedrock_metrics::MIN_STREAM_BUFFER + bedrock_web::STREAM_FRAMING <= REPLY_BUFFER,
    "a piece of /metrics must fit the reply buffer"
);
const EVENTS: usize = 256;
/// Connections accepted per turn of the event loop at most (the listener
/// is level-triggered: the rest wait for the next turn), so that a flood
/// of newcomers cannot starve the connections already open.
const ACCEPT_BATCH: usize = 64;
/// How often deadlines are checked.
const TICK_MS: u64 = 250;
/// After our close, unread input is drained this long before the socket
/// is closed (closing with unread data would reset the reply).
const LINGER_MS: u64 = 2_000;
const LISTENER: u64 = u64::MAX;
const SIGNALS: u64 = u64::MAX - 1;
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 20\r\nRetry-After: 1\r\nConnection: close\r\n\r\nserver at capacity.\n";
/// The body bytes of `BUSY` (its Content-Length).
const BUSY_BODY: u64 = 20;

/// Everything the loop touches besides the connections.
struct Env {
    log: AccessLog,
    now: u64,
    /// The wall clock at the start of the turn (the access log's time).
    wall_ms: u64,
    date: [u8; 29],
    date_sec: u64,
    stopping: bool,
    evictions: evict::Counters,
    /// How every connection behaves (the command line's limits).
    config: Config,
    /// This worker's counters (it is their one writer), and everyone's,
    /// for `/metrics`.
    metrics: &'static HttpMetrics,
    board: &'static Board,
}

impl Env {
    fn tick_clock(&mut self) {
        self.now = sys::clock_us(sys::CLOCK_MONOTONIC);
        let wall_us = sys::clock_us(sys::CLOCK_REALTIME);
        self.wall_ms = wall_us / 1000;
        let sec = wall_us / 1_000_000;
        if sec != self.date_sec {
            self.date_sec = sec;
            bedrock_http::format_imf_fixdate(sec, &mut self.date);
        }
    }
}

/// Runs worker `index` until it is told to stop; never returns.
pub fn run(common: &Common<'_>, listener: i32, index: usize) -> ! {
    match run_inner(common, listener, index) {
        Ok(()) => sys::exit(0),
        Err(_) => {
            crate::out::say(&[b"worker failed to start"]);
            sys::exit(1)
        }
    }
}

/// The connection slots: each a socket and its connection engine.
struct Slots {
    clients: Pool<Client>,
    conns: Pool<HostConn>,
    max: usize,
    active: usize,
    /// Slots below this may be in use.
    high: usize,
}

impl Slots {
    /// Moves bytes both ways on the connection in `slot` and answers what
    /// arrived; closes it when it is done.
    fn drive(&mut self, env: &mut Env, site: &mut Site<'_>, slot: usize) {
        let c = self.clients.get(slot, Client::new);
        if c.fd < 0 {
            return;
        }
        let config = env.config;
        let conn = self.conns.get(slot, || HostConn::new(config));
        let (date, now, quiet) = (env.date, env.now, env.log.quiet());
        let mut log = logger(&mut env.log, env.metrics, c.peer, env.wall_ms);
        // The clock times each answer for the log; without one, the
        // turn's time does (a system call less per answer).
        let clock = || match quiet {
            true => now,
            false => sys::clock_us(sys::CLOCK_MONOTONIC),
        };
        let mut io = c.at(env.now);
        let mut app = Metered::new(site.at(slot), env.board);
        conn.drive(&mut io, env.now, clock, Some(&date), &mut app, &mut log);
        let (received, sent) = c.take_counts();
        env.metrics.received(received);
        env.metrics.sent(sent);
        let done = conn.wants_close() && c.eof;
        if c.failed || done {
            self.close(env.metrics, site, slot);
        }
    }

    /// Checks the deadlines of the connection in `slot` (408, idle and
    /// stalled replies closed; lingering bounded), then drives it.
    fn sweep(&mut self, env: &mut Env, site: &mut Site<'_>, slot: usize) {
        let c = self.clients.get(slot, Client::new);
        let config = env.config;
        if c.fd < 0 {
            if !c.retired {
                // Closed since the last sweep: its buffers' memory goes
                // back until the slot is used again.
                let conn = self.conns.get(slot, || HostConn::new(config));
                mem::give_back(&mut conn.retire());
                c.retired = true;
            }
            return;
        }
        if c.linger_since
            .is_some_and(|t| env.now.saturating_sub(t) > LINGER_MS * 1000)
        {
            return self.close(env.metrics, site, slot);
        }
        let conn = self.conns.get(slot, || HostConn::new(config));
        if env.stopping {
            conn.stop();
        }
        let sending = conn.activity() == Activity::Answering && !conn.deferred();
        if sending {
            conn.peer_took(c.send_progress(env.now));
        }
        let date = env.date;
        let mut log = logger(&mut env.log, env.metrics, c.peer, env.wall_ms);
        let timeout = conn.on_timer(env.now, Some(&date), site.at(slot), &mut log);
        drop(log);
        if let Some(timeout) = timeout {
            env.metrics.timeout(timeout);
        }
        if sending && conn.wants_close() {
            // Abandoned, as when evicted: the kernel drops what it holds.
            sys::reset_on_close(c.fd);
            return self.close(env.metrics, site, slot);
        }
        self.drive(env, site, slot);
    }

    fn close(&mut self, metrics: &HttpMetrics, site: &mut Site<'_>, slot: usize) {
        let c = self.clients.get(slot, Client::new);
        sys::close(c.fd);
        c.fd = -1;
        site.files.release(slot);
        self.active -= 1;
        metrics.closed();
    }
}

/// Writes the access-log line of each request `peer` had answered in
/// the turn that began at `wall_ms`, and counts it.
fn logger<'l>(
    log: &'l mut AccessLog,
    metrics: &'l HttpMetrics,
    peer: SockAddr,
    wall_ms: u64,
) -> impl FnMut(&LogRecord<'_>) + 'l {
    let (stamp, peer) = (Stamp::Utc { unix_ms: wall_ms }, crate::log::peer(peer));
    move |r| {
        metrics.request(r);
        log.write(&AccessLine::new(r, stamp, peer));
    }
}

fn run_inner(common: &Common<'_>, listener: i32, index: usize) -> Result<(), Errno> {
    let o = &common.opts;
    let max = o.max_conns;
    let ep = sys::epoll_create()?;
    sys::epoll_add(ep, listener, sys::EPOLLIN, LISTENER)?;
    let sigfd = sys::signalfd(&[sys::SIGTERM, sys::SIGINT])?;
    sys::epoll_add(ep, sigfd, sys::EPOLLIN, SIGNALS)?;
    let mut s = Slots {
        clients: Pool::new(max)?,
        conns: Pool::new(max)?,
        max,
        active: 0,
        high: 0,
    };
    let cfg = FileCfg {
        root: common.root,
        allow_write: o.allow_write,
        token: o.write_token,
        listing: o.listing,
        max_put: o.max_put,
    };
    let mut site = Site::new(common.app, Files::new(cfg, max)?);
    let mut config = Config::new(common.app.max_body());
    config.head_timeout_us = o.head_timeout_ms * 1000;
    config.read_timeout_us = o.read_timeout_ms * 1000;
    config.min_body_rate = o.min_body_rate;
    config.idle_timeout_us = o.keepalive_timeout_ms * 1000;
    config.send_timeout_us = o.send_timeout_ms * 1000;
    // Bodies of any length (uploads) are bounded by the silence and
    // minimum-rate limits, not by a deadline for the whole body.
    config.body_timeout_us = u64::MAX;
    let mut env = Env {
        log: AccessLog::new(o.quiet, o.log_format),
        now: 0,
        wall_ms: 0,
        date: [b' '; 29],
        date_sec: 0,
        stopping: false,
        evictions: evict::Counters::default(),
        config,
        metrics: common.metrics.worker(index),
        board: common.metrics,
    };
    // A worker restarted in a dead one's place: its connections are gone.
    env.metrics.restart();
    env.tick_clock();
    let mut events = [sys::EMPTY_EVENT; EVENTS];
    let mut last_sweep = env.now;
    let mut stop_deadline = 0;
    loop {
        // A listing in the works: look at the sockets and come back.
        let listing = site.files.listing_pending();
        let n = match sys::epoll_wait(ep, &mut events, if listing { 0 } else { TICK_MS as i32 }) {
            Ok(n) => n,
            Err(Errno::EINTR) => 0,
            Err(e) => return Err(e),
        };
        env.tick_clock();
        for ev in &events[..n] {
            let (flags, data) = sys::event_parts(ev);
            match data {
                LISTENER if !env.stopping => accept_all(&mut env, &mut s, &mut site, listener, ep),
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
                    s.drive(&mut env, &mut site, slot);
                }
            }
        }
        if listing {
            if let Some(slot) = site.files.listing_turn(s.high) {
                s.drive(&mut env, &mut site, slot);
            }
        }
        if env.now.saturating_sub(last_sweep) >= TICK_MS * 1000 || env.stopping {
            last_sweep = env.now;
            for slot in 0..s.high {
                s.sweep(&mut env, &mut site, slot);
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
fn accept_all(env: &mut Env, s: &mut Slots, site: &mut Site<'_>, listener: i32, ep: i32) {
    for _ in 0..ACCEPT_BATCH {
        let Ok((fd, peer)) = sys::accept(listener) else {
            return;
        };
        let slot = if s.active < s.max {
            (0..s.max).find(|&i| i >= s.high || s.clients.get(i, Client::new).fd < 0)
        } else {
            make_room(env, s, site)
        };
        let Some(slot) = slot else {
            env.evictions.refused += 1;
            env.metrics.rejected();
            let _ = sys::write(fd, BUSY);
            sys::shutdown_write(fd);
            sys::close(fd);
            env.log.write(&AccessLine {
                stamp: Stamp::Utc {
                    unix_ms: env.wall_ms,
                },
                peer: crate::log::peer(peer),
                method: b"-",
                path: b"-",
                status: 503,
                bytes: BUSY_BODY,
                duration_us: 0,
            });
            continue;
        };
        sys::set_nodelay(fd);
        let mask = sys::EPOLLIN | sys::EPOLLOUT | sys::EPOLLRDHUP | sys::EPOLLET;
        if sys::epoll_add(ep, fd, mask, slot as u64).is_err() {
            sys::close(fd);
            continue;
        }
        *s.clients.get(slot, Client::new) = Client::accepted(fd, peer, env.now);
        env.metrics.opened();
        let config = env.config;
        s.conns.get(slot, || HostConn::new(config)).open(env.now);
        s.active += 1;
        s.high = s.high.max(slot + 1);
        s.drive(env, site, slot);
    }
}

/// What a connection is worth keeping at the cap (see `evict`). A reply
/// being sent is ranked by its last progress as of the last sweep (or
/// look); `make_room` looks again before evicting it.
fn class_of(c: &Client, conn: &HostConn) -> (Class, u64) {
    if let Some(since) = c.linger_since {
        return (Class::Lingering, since);
    }
    match conn.activity() {
        Activity::Idle => (Class::Idle, c.last_in.max(c.last_out)),
        // A body being read, or a `100 Continue` on its way.
        Activity::Arriving if conn.reading_body() || !conn.output().is_empty() => (Class::Busy, 0),
        // A new connection with nothing read yet, or part of a head.
        Activity::Arriving => (Class::SlowHead, c.started),
        // Waiting for its listing, not for the client.
        Activity::Answering if conn.deferred() => (Class::Busy, 0),
        Activity::Answering => (Class::Stalled, c.seen_progress()),
        Activity::Closed => (Class::Lingering, c.last_out),
    }
}

/// Closes the least valuable connection for a newcomer; its slot, or
/// None when every connection is being answered.
fn make_room(env: &mut Env, s: &mut Slots, site: &mut Site<'_>) -> Option<usize> {
    loop {
        let (clients, conns) = (&mut s.clients, &mut s.conns);
        let config = env.config;
        let open = (0..s.high).filter_map(|i| {
            let c = clients.get(i, Client::new);
            (c.fd >= 0).then(|| {
                let (class, since) = class_of(c, conns.get(i, || HostConn::new(config)));
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
            // The reply is abandoned: reset, so the kernel drops its
            // unsent bytes rather than keep them for a reader that does
            // not read.
            sys::reset_on_close(c.fd);
        }
        env.evictions.evicted(class);
        env.metrics.evicted();
        s.close(env.metrics, site, slot);
        return Some(slot);
    }
}

fn report_evictions(env: &mut Env, cap: usize, exiting: bool) {
    if env.evictions.due(env.now, exiting) {
        let line = env.evictions.report(env.now, sys::getpid(), cap);
        crate::out::say(&[line.as_bytes()]);
    }
}
