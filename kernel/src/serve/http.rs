//! The HTTP side of the server: one `bedrock_conn::Conn` per TCP slot,
//! built the first time the slot is used, driven over the stack's sockets.

use bedrock_conn::{
    AccessLine, Activity, Config as HttpConfig, Conn, LogRecord, Peer, Stamp, Transport, MAX_LINE,
    MAX_LOGGED_METHOD, MAX_LOGGED_PATH,
};
use bedrock_metrics::Metered;
use bedrock_net::tcp::{AppPhase, Endpoint, Handle, State, TcpStack};
use bedrock_web::{Handler, Persist, Reply, Request, Response, Service, Stream};
use core::cell::{Cell, RefCell};
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU64, Ordering};

use super::disk::{CommitError, Disk, Group};
use super::metrics::{Net, Page, HTTP};
use super::{HttpConn, SLOTS};
use crate::log::{enabled, Level};
use crate::{config, time, warn};
use bedrock_web::Reject;

/// Requests answered since boot (for the counters' CPU-per-request line).
pub static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// Counts the request `r` answered for `peer` and writes its access-log
/// line on the console at the info level, without the console's header:
/// bedrock_conn's access line as the hosted server writes it, in
/// `BEDROCK_LOG_FORMAT`, its time the `uptime_us` since boot (the
/// unikernel has no wall clock).
fn log_answered(r: &LogRecord<'_>, peer: Option<Endpoint>) {
    REQUESTS.fetch_add(1, Ordering::Relaxed);
    HTTP.request(r);
    if !enabled(Level::Info) {
        return;
    }
    let stamp = Stamp::SinceBoot {
        micros: time::now().micros(),
    };
    let peer = peer.map(|(ip, port)| Peer { ip: ip.0, port });
    let mut line = [0u8; MAX_LINE];
    let n = AccessLine::new(r, stamp, peer)
        .write(config::LOG_FORMAT, &mut line)
        .unwrap_or(0);
    // Printable ASCII and spaces only (access.rs escapes the rest).
    let text = core::str::from_utf8(&line[..n]).unwrap_or("");
    let _ = core::fmt::Write::write_str(&mut crate::console::Line::new(), text);
}

/// The logger of slot `peer`'s requests: a request whose reply is held
/// for its commit (`hold` set) is kept in `held` and logged when the
/// commit ends, with the status the client then gets ([`Held`]).
fn log_request<'a>(
    peer: Option<Endpoint>,
    hold: &'a Cell<bool>,
    held: &'a mut Held,
) -> impl FnMut(&LogRecord<'_>) + 'a {
    move |r| {
        if hold.get() {
            held.keep(r);
        } else {
            log_answered(r, peer);
        }
    }
}

/// The access-log record of a request whose reply waits for its changes
/// to be durable: logged (and counted in /metrics) only once the commit
/// ends, with the app's status if it succeeded and the 507/503 that
/// replaced the reply if it failed, so that the log and the metrics say
/// what the client got. Method and target are kept up to one byte past
/// what the access line writes, so a cut one is still marked as cut.
pub struct Held {
    method: [u8; MAX_LOGGED_METHOD + 1],
    method_len: usize,
    target: [u8; MAX_LOGGED_PATH + 1],
    target_len: usize,
    status: u16,
    bytes: u64,
    micros: u64,
    /// When it was kept (µs since boot): the line's duration runs to the
    /// end of the commit.
    kept_at: u64,
    kept: bool,
}

impl Held {
    pub const EMPTY: Held = Held {
        method: [0; MAX_LOGGED_METHOD + 1],
        method_len: 0,
        target: [0; MAX_LOGGED_PATH + 1],
        target_len: 0,
        status: 0,
        bytes: 0,
        micros: 0,
        kept_at: 0,
        kept: false,
    };

    fn keep(&mut self, r: &LogRecord<'_>) {
        self.method_len = copy_cut(&mut self.method, r.method);
        self.target_len = copy_cut(&mut self.target, r.target);
        (self.status, self.bytes, self.micros) = (r.status, r.bytes, r.micros);
        self.kept_at = time::now().micros();
        self.kept = true;
    }

    /// Logs the kept record, if any: as it was, or with `replaced`'s
    /// status and body bytes.
    fn log(&mut self, peer: Option<Endpoint>, replaced: Option<(u16, u64)>) {
        if !core::mem::take(&mut self.kept) {
            return;
        }
        let (status, bytes) = replaced.unwrap_or((self.status, self.bytes));
        // The request line's bytes are visible ASCII (the parser takes no
        // other), so a cut is on a character boundary.
        let record = LogRecord {
            method: ascii(&self.method[..self.method_len]),
            target: ascii(&self.target[..self.target_len]),
            status,
            bytes,
            micros: self.micros + time::now().micros().saturating_sub(self.kept_at),
        };
        log_answered(&record, peer);
    }
}

/// `bytes` as text, `-` if they are not UTF-8.
fn ascii(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or("-")
}

/// Copies as much of `from` as `into` holds; returns how much.
fn copy_cut(into: &mut [u8], from: &str) -> usize {
    let n = from.len().min(into.len());
    into[..n].copy_from_slice(&from.as_bytes()[..n]);
    n
}

/// The HTTP connections and the app they serve.
pub struct Server<S: 'static> {
    conns: &'static mut [MaybeUninit<HttpConn>; SLOTS],
    built: [bool; SLOTS],
    /// The TCP connection each slot's HTTP connection serves.
    bound: [Option<Handle>; SLOTS],
    /// Its peer (the remote side of the TCP 4-tuple), for the log.
    peers: [Option<Endpoint>; SLOTS],
    /// The slots with a bound connection, `active[..active_len]`, so the
    /// loop visits the connections there are rather than every slot.
    active: [u16; SLOTS],
    active_len: usize,
    app: &'static mut S,
    /// The app's journal, if the image has a disk.
    disk: Option<Disk>,
    /// Changes waiting for the next commit, and the slots whose replies
    /// wait for it (group commit: one flush for every change of a turn).
    group: &'static mut Group,
    waiting: [Wait; SLOTS],
    /// The access-log records of the replies that wait.
    held: &'static mut [Held; SLOTS],
    /// Why the server is not ready (`GET /readyz` 503): the last commit
    /// failed, on a full disk (until a commit succeeds) or a failing one
    /// (for good: the disk is not used again).
    unready: Option<&'static str>,
}

/// Whether a slot's reply waits for its request's changes to be durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wait {
    No,
    /// Its changes are in the group gathering now.
    Next,
    /// Its changes are in the commit in flight.
    Committing,
}

impl<S: Service + Persist> Server<S> {
    pub fn new(
        conns: &'static mut [MaybeUninit<HttpConn>; SLOTS],
        app: &'static mut S,
        disk: Option<Disk>,
        group: &'static mut Group,
        held: &'static mut [Held; SLOTS],
    ) -> Self {
        Server {
            conns,
            built: [false; SLOTS],
            bound: [None; SLOTS],
            peers: [None; SLOTS],
            active: [0; SLOTS],
            active_len: 0,
            app,
            disk,
            group,
            waiting: [Wait::No; SLOTS],
            held,
            unready: None,
        }
    }

    fn conn(&mut self, i: usize) -> &mut HttpConn {
        if !self.built[i] {
            self.conns[i].write(Conn::new(HttpConfig::new(S::MAX_BODY)));
            self.built[i] = true;
        }
        // SAFETY: built[i] is set only after conns[i] was written.
        unsafe { self.conns[i].assume_init_mut() }
    }

    /// Takes the new connection `h` from `peer`.
    pub fn accept(&mut self, h: Handle, peer: Option<Endpoint>, now: u64) {
        let i = h.index();
        self.conn(i).open(now);
        self.peers[i] = peer;
        HTTP.opened();
        if self.bound[i].replace(h).is_none() {
            self.active[self.active_len] = i as u16;
            self.active_len += 1;
        } else {
            HTTP.closed(); // the slot's last connection, replaced
        }
    }

    /// Serves every bound slot (see `serve`), and moves the group commit
    /// on (see `progress`); returns whether any bytes moved or a commit is
    /// in flight (the loop keeps turning for it). Slots whose connection
    /// ended leave the active list.
    pub fn serve_all<const N: usize>(&mut self, net: &Net<'_, '_, N>, now: u64) -> bool {
        let mut any = self.progress(net, now, false);
        let mut k = 0;
        while k < self.active_len {
            let i = usize::from(self.active[k]);
            if crate::config::COMMIT_EACH_REQUEST
                || !self
                    .group
                    .room(CHANGES_PER_REQUEST * (S::MAX_CHANGE + bedrock_journal::HEADER))
            {
                any |= self.progress(net, now, true);
            }
            any |= self.serve(net, i, now);
            if self.bound[i].is_none() {
                self.active_len -= 1;
                self.active[k] = self.active[self.active_len];
            } else {
                k += 1;
            }
        }
        any |= self.progress(net, now, false);
        any || self.disk.as_ref().is_some_and(|d| d.committing())
    }

    /// Group commit, pipelined: while one group's append and flush are in
    /// flight, the changes of the requests served meanwhile gather in the
    /// next group, which starts when the first is durable; each group's
    /// replies leave when it is. `block`: wait until every change made so
    /// far is durable (or failed). On a failure the app is rebuilt from
    /// the disk, which undoes every change not yet durable, and all their
    /// replies become 507 (full) or 503 (device). When the region has no
    /// room, a snapshot of the app (its state including the group) may
    /// still fit the other region: deletes shrink it. Returns whether
    /// anything was sent.
    fn progress<const N: usize>(&mut self, net: &Net<'_, '_, N>, now: u64, block: bool) -> bool {
        let mut any = false;
        loop {
            let Some(disk) = self.disk.as_mut() else {
                return any;
            };
            let done = if block {
                disk.commit_wait()
            } else {
                disk.commit_poll()
            };
            let in_flight = disk.committing();
            match done {
                Some(Ok(())) => {
                    self.unready = None;
                    any |= self.release(net, now, Wait::Committing, None);
                }
                Some(Err(e)) => return any | self.fail_all(net, now, e),
                None if in_flight => return any,
                None => {}
            }
            let Some(disk) = self.disk.as_mut() else {
                return any;
            };
            if self.group.is_empty() {
                // Idle, and the app holds exactly what is durable.
                if disk.wants_compaction() {
                    if let Err(e) = disk.compact(&*self.app) {
                        warn!("disk: compaction failed ({e:?}); the journal goes on as it was");
                    }
                }
                return any;
            }
            for w in self.waiting.iter_mut().filter(|w| **w == Wait::Next) {
                *w = Wait::Committing;
            }
            match self.group.start(disk) {
                Ok(()) if block => {}
                Ok(()) => return any,
                Err(CommitError::Full) if disk.compact(&*self.app).is_ok() => {
                    self.unready = None;
                    return any | self.release(net, now, Wait::Committing, None);
                }
                Err(e) => return any | self.fail_all(net, now, e),
            }
        }
    }

    /// Lets the replies waiting in `which` go (replaced by `reject`'s).
    fn release<const N: usize>(
        &mut self,
        net: &Net<'_, '_, N>,
        now: u64,
        which: Wait,
        reject: Option<Reject>,
    ) -> bool {
        let mut any = false;
        for i in 0..SLOTS {
            if self.waiting[i] != which {
                continue;
            }
            self.waiting[i] = Wait::No;
            let mut replaced = None;
            if let (Some(reject), true) = (reject, self.built[i]) {
                // SAFETY: built[i] is set only after conns[i] was written.
                let conn = unsafe { self.conns[i].assume_init_mut() };
                let bytes = conn.replace_reply(None, &mut *self.app, reject);
                replaced = Some((reject.status, bytes));
            }
            self.held[i].log(self.peers[i], replaced);
            any |= self.serve(net, i, now);
        }
        any
    }

    /// A commit failed: the app goes back to what the disk holds, and
    /// every reply waiting for durability says why instead.
    fn fail_all<const N: usize>(&mut self, net: &Net<'_, '_, N>, now: u64, e: CommitError) -> bool {
        if let Some(disk) = self.disk.as_mut() {
            disk.rebuild(&mut *self.app);
        }
        self.group.clear();
        let reject = match e {
            CommitError::Full => Reject::new(507, "the disk is full"),
            CommitError::Device(_) => Reject::new(503, "the disk failed"),
        };
        self.unready = Some(reject.message);
        let waiting = self.waiting.iter().filter(|w| **w != Wait::No).count();
        warn!(
            "disk: commit failed ({e:?}); {waiting} replies replaced by {}",
            reject.status
        );
        for w in self.waiting.iter_mut().filter(|w| **w == Wait::Next) {
            *w = Wait::Committing;
        }
        self.release(net, now, Wait::Committing, Some(reject))
    }

    /// Moves bytes both ways on slot `i` (`Conn::drive` over its
    /// [`Socket`], the app as [`Recording`]), then tells the
    /// stack what the connection is doing, which ranks it for eviction
    /// when the table is full.
    fn serve<const N: usize>(&mut self, net: &Net<'_, '_, N>, i: usize, now: u64) -> bool {
        let Some(h) = self.bound[i] else {
            return false;
        };
        // Nothing more can arrive in TIME-WAIT: the slot's HTTP side is
        // done, and the TCP side expires on its own.
        if matches!(net.tcp.borrow().state(h), State::Closed | State::TimeWait) {
            self.bound[i] = None;
            HTTP.closed();
            return false;
        }
        // Split the borrows: the connection and the app.
        if !self.built[i] {
            return false;
        }
        if self.waiting[i] != Wait::No {
            return false; // its reply waits for the commit
        }
        // SAFETY: built[i] is set only after conns[i] was written.
        let conn = unsafe { self.conns[i].assume_init_mut() };
        let hold = Cell::new(false);
        let mut app = Recording {
            app: &mut *self.app,
            group: &mut *self.group,
            has_disk: self.disk.is_some(),
            hold: &hold,
            unready: self.unready,
        };
        let mut io = Socket {
            tcp: &net.tcp,
            h,
            hold: &hold,
        };
        let page = Page {
            net,
            disk: self.disk.as_ref(),
        };
        let mut app = Metered::new(&mut app, &page);
        let clock = || time::now().micros();
        let mut log = log_request(self.peers[i], &hold, &mut self.held[i]);
        let any = conn.drive(&mut io, now, clock, None, &mut app, &mut log);
        drop(log);
        if hold.get() {
            self.waiting[i] = Wait::Next;
        }
        net.tcp
            .borrow_mut()
            .set_phase(h, app_phase(conn.activity()));
        any
    }

    /// Runs the deadlines due by `now`; returns the earliest one left.
    pub fn timers(&mut self, now: u64) -> Option<u64> {
        let mut next: Option<u64> = None;
        for &i in &self.active[..self.active_len] {
            let i = usize::from(i);
            if !self.built[i] {
                continue;
            }
            // SAFETY: built[i] is set only after conns[i] was written.
            let conn = unsafe { self.conns[i].assume_init_mut() };
            if conn.deadline().is_some_and(|at| at <= now) {
                let peer = self.peers[i];
                let mut log = |r: &LogRecord<'_>| log_answered(r, peer);
                if let Some(timeout) = conn.on_timer(now, None, self.app, &mut log) {
                    HTTP.timeout(timeout);
                }
                // A timer answers with an error, which changes nothing.
                take_changes(self.app, self.group, self.disk.is_some());
            }
            if let Some(at) = conn.deadline() {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
        next
    }
}

/// Changes one request may make (room kept in the group before serving a
/// connection, so a group never overflows in practice).
const CHANGES_PER_REQUEST: usize = 4;

/// Takes the app's new change records into `group` (with a disk) or
/// drops them (without one: nothing persists); returns whether the reply
/// must wait for a commit.
fn take_changes<S: Persist>(app: &mut S, group: &mut Group, has_disk: bool) -> bool {
    let mut any = false;
    app.drain_changes(&mut |record| {
        any = true;
        if has_disk {
            group.push(record);
        }
    });
    any && has_disk
}

/// How much dropping a connection would lose, for the stack's eviction:
/// idle and finished ones nothing, one whose request is still arriving
/// little (the oldest is the slowest), one being answered a reply.
fn app_phase(activity: Activity) -> AppPhase {
    match activity {
        Activity::Idle | Activity::Closed => AppPhase::Idle,
        Activity::Arriving => AppPhase::Head,
        Activity::Answering => AppPhase::Busy,
    }
}

/// A connection of the unikernel's TCP stack as the connection engine's
/// transport. While `hold` is set (its request's changes wait for a
/// commit) it takes nothing to send.
/// The stack is shared with the metrics page (`metrics::Net`): each
/// call borrows it for its own length. Bytes either way are counted.
struct Socket<'a, 'b, const N: usize> {
    tcp: &'a RefCell<&'b mut TcpStack<N>>,
    h: Handle,
    hold: &'a Cell<bool>,
}

impl<const N: usize> Transport for Socket<'_, '_, N> {
    fn recv(&mut self, into: &mut [u8]) -> usize {
        let mut tcp = self.tcp.borrow_mut();
        let data = tcp.peek(self.h);
        let n = data.len().min(into.len());
        into[..n].copy_from_slice(&data[..n]);
        let n = tcp.consume(self.h, n);
        HTTP.received(n);
        n
    }

    fn send(&mut self, bytes: &[u8]) -> usize {
        if self.hold.get() {
            return 0;
        }
        let n = self.tcp.borrow_mut().send(self.h, bytes);
        HTTP.sent(n);
        n
    }

    fn peer_closed(&self) -> bool {
        !self.tcp.borrow().may_recv(self.h)
    }

    /// Drops what arrived where it is (no copy).
    fn discard(&mut self) -> usize {
        let mut tcp = self.tcp.borrow_mut();
        let n = tcp.peek(self.h).len();
        let n = tcp.consume(self.h, n);
        HTTP.received(n);
        n
    }

    /// The stack bounds the lingering close that follows
    /// (TCP_LINGER_SILENCE/_TOTAL, TCP_FIN_WAIT_2_TIMEOUT).
    fn close(&mut self) {
        self.tcp.borrow_mut().close(self.h);
    }
}

/// The app as its connections see it: after each request it answers, the
/// change records it made go to the group and the reply is held until
/// they are durable (`hold`, which the [`Socket`] obeys).
struct Recording<'a, S> {
    app: &'a mut S,
    group: &'a mut Group,
    has_disk: bool,
    hold: &'a Cell<bool>,
    /// Why the server is not ready, if it is not.
    unready: Option<&'static str>,
}

impl<S: Service + Persist> Handler for Recording<'_, S> {
    fn respond(&mut self, request: &Request<'_, '_>, body: &[u8], out: &mut [u8]) -> Response {
        let response = Handler::respond(self.app, request, body, out);
        if take_changes(self.app, self.group, self.has_disk) {
            self.hold.set(true);
        }
        response
    }

    fn render_reject(&mut self, reject: Reject, out: &mut [u8]) -> Reply {
        Handler::render_reject(self.app, reject, out)
    }

    fn stream(&mut self, stream: &mut Stream, out: &mut [u8]) -> usize {
        Handler::stream(self.app, stream, out)
    }

    fn readiness(&mut self) -> Result<(), &str> {
        self.unready.map_or(Ok(()), Err)
    }
}
