//! The HTTP side of the server: one `bedrock_conn::Conn` per TCP slot,
//! built the first time the slot is used, driven over the stack's sockets.

use bedrock_conn::{Activity, Config as HttpConfig, Conn, LogRecord};
use bedrock_net::tcp::{AppPhase, Handle, State, TcpStack};
use bedrock_web::{Persist, Service};
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU64, Ordering};

use super::{HttpConn, SLOTS};
use crate::{info, time};

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
}

impl<S: Service + Persist> Server<S> {
    pub fn new(conns: &'static mut [MaybeUninit<HttpConn>; SLOTS], app: &'static mut S) -> Self {
        Server {
            conns,
            built: [false; SLOTS],
            bound: [None; SLOTS],
            active: [0; SLOTS],
            active_len: 0,
            app,
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

    /// Serves every bound slot (see `serve`); returns whether any moved
    /// bytes. Slots whose connection ended leave the active list.
    pub fn serve_all<const N: usize>(&mut self, tcp: &mut TcpStack<N>, now: u64) -> bool {
        let mut any = false;
        let mut k = 0;
        while k < self.active_len {
            let i = usize::from(self.active[k]);
            any |= self.serve(tcp, i, now);
            if self.bound[i].is_none() {
                self.active_len -= 1;
                self.active[k] = self.active[self.active_len];
            } else {
                k += 1;
            }
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
        // SAFETY: built[i] is set only after conns[i] was written.
        let conn = unsafe { self.conns[i].assume_init_mut() };
        let any = pump(tcp, h, conn, &mut *self.app, now);
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
                forget_changes(self.app);
            }
            if let Some(at) = conn.deadline() {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
        next
    }
}

/// The unikernel has no disk yet (issue 14): the changes an app records
/// are taken and dropped, so its log never fills.
fn forget_changes<S: Persist>(app: &mut S) {
    app.drain_changes(&mut |_| {});
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
fn pump<const N: usize, S: Service + Persist>(
    tcp: &mut TcpStack<N>,
    h: Handle,
    conn: &mut HttpConn,
    app: &mut S,
    now: u64,
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
        forget_changes(app);
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
            forget_changes(app);
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
