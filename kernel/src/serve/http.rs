//! The HTTP side of the server: one `bedrock_conn::Conn` per TCP slot,
//! built the first time the slot is used, driven over the stack's sockets.

use bedrock_conn::{Activity, Config as HttpConfig, Conn, LogRecord};
use bedrock_net::tcp::{AppPhase, Handle, State, TcpStack};
use bedrock_web::{Persist, Service};
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU64, Ordering};

use super::disk::{CommitError, Disk, Group};
use super::{HttpConn, SLOTS};
use crate::{info, time, warn};
use bedrock_web::Reject;

/// Requests answered since boot (for the counters' CPU-per-request line).
pub static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// One access-log line per answered request.
fn log_request(r: &LogRecord<'_>) {
    REQUESTS.fetch_add(1, Ordering::Relaxed);
    info!("{} {} {} {}us", r.method, r.target, r.status, r.micros);
}

/// The HTTP connections and the app they serve.
pub struct Server<S: 'static> {
    conns: &'static mut [MaybeUninit<HttpConn>; SLOTS],
    built: [bool; SLOTS],
    /// The TCP connection each slot's HTTP connection serves.
    bound: [Option<Handle>; SLOTS],
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
    waiting: [bool; SLOTS],
}

impl<S: Service + Persist> Server<S> {
    pub fn new(
        conns: &'static mut [MaybeUninit<HttpConn>; SLOTS],
        app: &'static mut S,
        disk: Option<Disk>,
        group: &'static mut Group,
    ) -> Self {
        Server {
            conns,
            built: [false; SLOTS],
            bound: [None; SLOTS],
            active: [0; SLOTS],
            active_len: 0,
            app,
            disk,
            group,
            waiting: [false; SLOTS],
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

    pub fn accept(&mut self, h: Handle, now: u64) {
        let i = h.index();
        self.conn(i).open(now);
        if self.bound[i].replace(h).is_none() {
            self.active[self.active_len] = i as u16;
            self.active_len += 1;
        }
    }

    /// Serves every bound slot (see `serve`), then commits the changes
    /// their requests made and sends the replies that waited for that;
    /// returns whether any bytes moved. Slots whose connection ended leave
    /// the active list.
    pub fn serve_all<const N: usize>(&mut self, tcp: &mut TcpStack<N>, now: u64) -> bool {
        let mut any = false;
        let mut k = 0;
        while k < self.active_len {
            let i = usize::from(self.active[k]);
            if !self.group.room(CHANGES_PER_REQUEST * (S::MAX_CHANGE + 8)) {
                any |= self.commit(tcp, now);
            }
            any |= self.serve(tcp, i, now);
            if self.bound[i].is_none() {
                self.active_len -= 1;
                self.active[k] = self.active[self.active_len];
            } else {
                k += 1;
            }
        }
        any | self.commit(tcp, now)
    }

    /// Makes the waiting changes durable (one append, one flush), then
    /// lets their replies go: the app's on success; on failure, the app is
    /// rebuilt from the disk (which undoes them) and they get 507 (full)
    /// or 503 (device). Returns whether anything was sent.
    fn commit<const N: usize>(&mut self, tcp: &mut TcpStack<N>, now: u64) -> bool {
        let (Some(disk), false) = (self.disk.as_mut(), self.group.is_empty()) else {
            return false;
        };
        let failed = match self.group.commit(disk) {
            Ok(()) => {
                if disk.wants_compaction() {
                    // The app holds exactly what is acknowledged now.
                    if let Err(e) = disk.compact(&*self.app) {
                        warn!("disk: compaction failed ({e:?}); the journal goes on as it was");
                    }
                }
                None
            }
            // No room after the end: a snapshot of the app, which holds
            // the group's changes, may still fit (deletes shrink it).
            Err(CommitError::Full) if disk.compact(&*self.app).is_ok() => None,
            Err(e) => {
                disk.rebuild(&mut *self.app);
                Some(match e {
                    CommitError::Full => Reject::new(507, "the disk is full"),
                    CommitError::Device(_) => Reject::new(503, "the disk failed"),
                })
            }
        };
        let mut any = false;
        let mut replaced = 0;
        for i in 0..SLOTS {
            if !core::mem::take(&mut self.waiting[i]) {
                continue;
            }
            if let (Some(reject), true) = (failed, self.built[i]) {
                // SAFETY: built[i] is set only after conns[i] was written.
                let conn = unsafe { self.conns[i].assume_init_mut() };
                conn.replace_reply(None, &mut *self.app, reject);
                replaced += 1;
            }
            any |= self.serve(tcp, i, now);
        }
        if let Some(reject) = failed {
            warn!(
                "disk: commit failed; {replaced} replies replaced by {}",
                reject.status
            );
        }
        any
    }

    /// Moves bytes both ways on slot `i` (see [`pump`]), then tells the
    /// stack what the connection is doing, which ranks it for eviction
    /// when the table is full.
    fn serve<const N: usize>(&mut self, tcp: &mut TcpStack<N>, i: usize, now: u64) -> bool {
        let Some(h) = self.bound[i] else {
            return false;
        };
        // Nothing more can arrive in TIME-WAIT: the slot's HTTP side is
        // done, and the TCP side expires on its own.
        if matches!(tcp.state(h), State::Closed | State::TimeWait) {
            self.bound[i] = None;
            return false;
        }
        // Split the borrows: the connection and the app.
        if !self.built[i] {
            return false;
        }
        if self.waiting[i] {
            return false; // its reply waits for the commit
        }
        // SAFETY: built[i] is set only after conns[i] was written.
        let conn = unsafe { self.conns[i].assume_init_mut() };
        let (group, has_disk) = (&mut *self.group, self.disk.is_some());
        let mut held = false;
        let mut take = |app: &mut S| {
            held |= take_changes(app, group, has_disk);
            held
        };
        let any = pump(tcp, h, conn, &mut *self.app, now, &mut take);
        self.waiting[i] = held;
        tcp.set_phase(h, app_phase(conn.activity()));
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
                conn.on_timer(now, None, self.app, &mut log_request);
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

/// Moves bytes both ways on `h` until neither moves; returns whether any
/// did. `now` (taken after the poll that brought the bytes) stamps their
/// arrival; `process` reads the clock afresh, so the logged microseconds
/// cover parsing and the app.
/// `hold` is asked after every `process` whether the reply must wait (for
/// a commit); then nothing is sent.
fn pump<const N: usize, S: Service + Persist>(
    tcp: &mut TcpStack<N>,
    h: Handle,
    conn: &mut HttpConn,
    app: &mut S,
    now: u64,
    hold: &mut dyn FnMut(&mut S) -> bool,
) -> bool {
    let mut any = false;
    loop {
        let mut progress = false;
        if conn.wants_close() {
            // Closed on our side: drain what still arrives so the
            // window stays open until the FIN exchange ends (the stack
            // bounds this lingering close: TCP_LINGER_SILENCE/_TOTAL,
            // TCP_FIN_WAIT_2_TIMEOUT).
            loop {
                let n = tcp.peek(h).len();
                if n == 0 || tcp.consume(h, n) == 0 {
                    break;
                }
            }
            tcp.close(h);
            return any;
        }
        loop {
            let data = tcp.peek(h);
            if data.is_empty() {
                break;
            }
            let n = conn.receive(now, data);
            if n == 0 {
                break;
            }
            tcp.consume(h, n);
            progress = true;
        }
        let waiting = matches!(conn.activity(), Activity::Idle | Activity::Arriving)
            && conn.output().is_empty();
        if !tcp.may_recv(h) {
            conn.peer_closed();
        } else if waiting && !progress {
            // Nothing new for a connection waiting for input: parsing its
            // partial head again would find the same (with 256 slow
            // clients, that was most of each loop turn).
            return any;
        }
        conn.process(time::now().micros(), None, app, &mut log_request);
        if hold(app) {
            return true;
        }
        loop {
            let out = conn.output();
            if out.is_empty() {
                break;
            }
            let n = tcp.send(h, out);
            if n == 0 {
                break;
            }
            conn.sent(now, n);
            progress = true;
            conn.process(time::now().micros(), None, app, &mut log_request);
            if hold(app) {
                return true;
            }
        }
        if conn.wants_close() {
            progress = true;
        }
        if !progress {
            return any;
        }
        any = true;
    }
}
