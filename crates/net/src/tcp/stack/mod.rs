//! The socket set: every connection slot, the listeners, and the
//! [`IpHandler`] that feeds them from [`crate::Interface::poll_with`].
//! What one segment in does (demultiplexing, passive open, SYN cookies,
//! eviction) is in `input`.

mod input;

use super::config::TcpConfig;
use super::conn::{bare_repr, send_bare, window_shift, Conn, Endpoint, Offer, State, Tcb, Verdict};
use super::cookie::{self, CookieSyn};
use super::counters::{bump, TcpCounters};
use super::evict::{self, AppPhase, Victim};
use super::isn::IsnGenerator;
use super::live::{Cursor, SlotKey, SlotSet};
use super::time_wait;
use crate::device::Device;
use crate::iface::{IpHandler, Sender};
use crate::limits::{
    TCP_DEFAULT_PEER_MSS, TCP_EVICT_FAIR_SHARE_DIVISOR, TCP_MAX_LISTENERS, TCP_RX_BUFFER_LEN,
    TCP_SLOT_LIMIT, TCP_SYN_COOKIE_PERIOD, TCP_TX_BUFFER_LEN,
};
use crate::time::Instant;
use crate::wire::{self, Ipv4Address, Ipv4Repr, Protocol, TcpControl, TcpPacket, TcpRepr};

/// Names one connection. Handles are cheap to copy; once the connection
/// is gone (closed, reset, timed out) its handle is stale and every call
/// with it reads as [`State::Closed`] and moves no data, even after the
/// slot is reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Handle {
    index: u16,
    gen: u16,
}

impl Handle {
    /// The slot number (0..N), for tables indexed by connection.
    pub const fn index(self) -> usize {
        self.index as usize
    }
}

/// Why a stack call was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcpError {
    /// Port 0, or a backlog of 0.
    InvalidArgument,
    /// Already listening on that port.
    PortInUse,
    /// [`TCP_MAX_LISTENERS`] ports are listened on already.
    TooManyListeners,
    /// Every connection slot is busy.
    NoFreeSlot,
}

#[derive(Clone, Copy, Debug)]
struct Listener {
    port: u16,
    backlog: usize,
}

/// `N` TCP connections with `RX`/`TX`-byte buffers each, plus up to
/// [`TCP_MAX_LISTENERS`] listening ports. All storage is inline (about
/// `N × (RX + TX + 480)` bytes: 8.1 MiB with the defaults and N = 256),
/// so keep it in a `static`; [`TcpStack::new`] is `const` for that, and
/// with an all-zero key the whole stack is zero bytes, so the static lands
/// in `.bss` rather than in the image ([`TcpStack::reseed`] at boot).
pub struct TcpStack<
    const N: usize,
    const RX: usize = TCP_RX_BUFFER_LEN,
    const TX: usize = TCP_TX_BUFFER_LEN,
> {
    conns: [Conn<RX, TX>; N],
    /// Each slot's 4-tuple and TIME-WAIT deadline, apart from `conns` so
    /// that lookups read a few contiguous pages (see `tcp::live`).
    keys: [SlotKey; N],
    /// Slots that may be in use, TIME-WAIT aside: every scan walks these.
    live: SlotSet,
    /// Slots that may be in TIME-WAIT: walked only when one is due to
    /// expire or owes an ACK, and when a segment matches no live slot.
    /// Server-closed connections pile up here (one per request with
    /// `Connection: close`), so keeping them out of `live` keeps the
    /// per-segment and per-poll scans short.
    time_wait: SlotSet,
    /// The earliest moment a TIME-WAIT slot needs a dispatch (a lower
    /// bound: stale values only cost one early walk).
    time_wait_due: Option<Instant>,
    listeners: [Option<Listener>; TCP_MAX_LISTENERS],
    isn: IsnGenerator,
    /// Set by [`TcpStack::set_config`]; until then (`config_set` false)
    /// [`TcpConfig::new`] applies. Not an `Option`: a fresh stack must be
    /// all zero bytes (it lives in `.bss`), and `None` of a type holding
    /// a `bool` is not.
    config: TcpConfig,
    config_set: bool,
    counters: TcpCounters,
    /// The latest time a poll brought (for calls that take none).
    clock: Instant,
    /// Cookie ACKs are checked until then (two cookie periods after the
    /// last cookie sent); other stray ACKs just get RST.
    cookies_until: Instant,
}

impl<const N: usize, const RX: usize, const TX: usize> TcpStack<N, RX, TX> {
    /// An empty stack whose initial sequence numbers are keyed by `secret`
    /// (RFC 6528; see [`TcpStack::reseed`]), with [`TcpConfig::new`].
    pub const fn new(secret: [u8; 16]) -> Self {
        const { assert!(N <= TCP_SLOT_LIMIT, "more TCP slots than TCP_SLOT_LIMIT") };
        TcpStack {
            conns: [const { Conn::new() }; N],
            keys: [SlotKey::EMPTY; N],
            live: SlotSet::new(),
            time_wait: SlotSet::new(),
            time_wait_due: None,
            listeners: [None; TCP_MAX_LISTENERS],
            isn: IsnGenerator::new(secret),
            config: TcpConfig::ZEROED,
            config_set: false,
            counters: TcpCounters::ZERO,
            clock: Instant(0),
            cookies_until: Instant(0),
        }
    }

    /// Replaces the ISN key (for a stack built in a `static` before an
    /// unpredictable value was at hand). Call before the first connection.
    pub fn reseed(&mut self, secret: [u8; 16]) {
        self.isn = IsnGenerator::new(secret);
    }

    /// The timeouts in force.
    pub fn config(&self) -> TcpConfig {
        if self.config_set {
            self.config
        } else {
            TcpConfig::new()
        }
    }

    /// Changes the timeouts; applies to running connections too.
    pub fn set_config(&mut self, config: TcpConfig) {
        self.config = config;
        self.config_set = true;
    }

    /// The counters.
    pub fn counters(&self) -> &TcpCounters {
        &self.counters
    }

    /// Connection slots in all (`N`).
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Connection slots held, in any state but TIME-WAIT: a TIME-WAIT
    /// slot goes to the next connection that finds no free one, so it
    /// is not held (see [`TcpStack::time_wait_slots`]).
    pub fn active(&self) -> usize {
        self.live_conns()
            .filter(|(_, c)| !matches!(c.tcb.state, State::Closed | State::TimeWait))
            .count()
    }

    /// Connection slots in TIME-WAIT (reclaimable: see
    /// [`crate::limits::TCP_TIME_WAIT`]).
    pub fn time_wait_slots(&self) -> usize {
        self.time_wait_conns()
            .filter(|(_, c)| c.tcb.state == State::TimeWait)
            .count()
    }

    /// The slots that may be in use (TIME-WAIT aside), with their
    /// connections.
    fn live_conns(&self) -> impl Iterator<Item = (usize, &Conn<RX, TX>)> + '_ {
        self.live.iter(N).map(|i| (i, &self.conns[i]))
    }

    /// The slots that may be in TIME-WAIT, with their connections.
    fn time_wait_conns(&self) -> impl Iterator<Item = (usize, &Conn<RX, TX>)> + '_ {
        self.time_wait.iter(N).map(|i| (i, &self.conns[i]))
    }

    /// Frees slot `i` (its handles go stale) and takes it out of the sets.
    fn release(&mut self, i: usize) {
        self.conns[i].free();
        self.live.remove(i);
        self.time_wait.remove(i);
    }

    /// Puts a new connection's control block in slot `i` (from
    /// [`TcpStack::free_slot`]) and notes its 4-tuple.
    fn occupy(&mut self, i: usize, tcb: Tcb) -> &mut Conn<RX, TX> {
        self.keys[i] = SlotKey {
            local: tcb.local,
            remote: tcb.remote,
            time_wait_until: Instant(0),
        };
        let conn = &mut self.conns[i];
        conn.tcb = tcb;
        conn
    }

    /// Moves slot `i` to the TIME-WAIT set once its connection is there
    /// (sending the ACK it owes now, rather than walking every TIME-WAIT
    /// slot for it at the next dispatch) and notes when it expires.
    fn track_time_wait<D: Device>(&mut self, i: usize, tx: &mut Sender<'_, D>) {
        let config = self.config();
        let conn = &mut self.conns[i];
        if conn.tcb.state != State::TimeWait {
            return;
        }
        self.live.remove(i);
        self.time_wait.insert(i);
        let held = self.time_wait.len() as u64;
        let peak = &mut self.counters.time_wait_peak;
        *peak = (*peak).max(held);
        if conn.tcb.ack_now && conn.dispatch(tx, &config, &mut self.counters) {
            return self.release(i);
        }
        let until = conn.tcb.timers.time_wait_until;
        self.keys[i].time_wait_until = until;
        self.time_wait_due_by(until);
    }

    /// Notes that a TIME-WAIT slot needs a dispatch by `at`.
    fn time_wait_due_by(&mut self, at: Instant) {
        self.time_wait_due = Some(self.time_wait_due.map_or(at, |d| d.min(at)));
    }

    /// Accepts connections to `port`, at most `backlog` of them waiting
    /// for [`TcpStack::accept`] (handshaking or established). Use
    /// [`crate::limits::TCP_DEFAULT_BACKLOG`] when in doubt.
    pub fn listen(&mut self, port: u16, backlog: usize) -> Result<(), TcpError> {
        if port == 0 || backlog == 0 {
            return Err(TcpError::InvalidArgument);
        }
        if self.listener(port).is_some() {
            return Err(TcpError::PortInUse);
        }
        let slot = self
            .listeners
            .iter_mut()
            .find(|l| l.is_none())
            .ok_or(TcpError::TooManyListeners)?;
        *slot = Some(Listener { port, backlog });
        Ok(())
    }

    /// Stops listening on `port` (connections already made stay);
    /// `false` if it was not listened on.
    pub fn unlisten(&mut self, port: u16) -> bool {
        match self
            .listeners
            .iter_mut()
            .find(|l| l.is_some_and(|l| l.port == port))
        {
            Some(l) => {
                *l = None;
                true
            }
            None => false,
        }
    }

    fn listener(&self, port: u16) -> Option<Listener> {
        self.listeners
            .iter()
            .flatten()
            .find(|l| l.port == port)
            .copied()
    }

    /// The next established connection not yet taken, lowest slot first
    /// (it may already hold data, or even the peer's FIN).
    pub fn accept(&mut self) -> Option<Handle> {
        let (i, _) = self.live_conns().find(|(_, c)| {
            !c.tcb.accepted && c.tcb.state.is_synchronized() && c.tcb.state != State::TimeWait
        })?;
        let conn = &mut self.conns[i];
        conn.tcb.accepted = true;
        Some(Handle {
            index: i as u16,
            gen: conn.gen,
        })
    }

    /// Every accepted connection still alive, by slot.
    pub fn handles(&self) -> impl Iterator<Item = Handle> + '_ {
        self.live_conns()
            .chain(self.time_wait_conns())
            .filter_map(|(i, c)| {
                (c.tcb.accepted && c.tcb.state != State::Closed).then_some(Handle {
                    index: i as u16,
                    gen: c.gen,
                })
            })
    }

    /// Opens a connection from `local` to `remote` (active open: sends a
    /// SYN at the next dispatch). A minimal client, used by the tests to
    /// talk to a listening stack.
    pub fn connect(
        &mut self,
        now: Instant,
        local: Endpoint,
        remote: Endpoint,
    ) -> Result<Handle, TcpError> {
        if local.1 == 0 || remote.1 == 0 {
            return Err(TcpError::InvalidArgument);
        }
        let i = self.free_slot().ok_or(TcpError::NoFreeSlot)?;
        let iss = self.isn.isn(now, local, remote);
        let offer = self.offer(local, remote);
        let conn = self.occupy(i, Tcb::open(now, State::SynSent, local, remote, iss));
        conn.tcb.offer_in_syn(&offer);
        conn.tcb.accepted = true;
        Ok(Handle {
            index: i as u16,
            gen: conn.gen,
        })
    }

    /// The control block behind `h` (tests look at timers and windows).
    #[cfg(test)]
    pub(crate) fn tcb(&self, h: Handle) -> Option<&Tcb> {
        self.conn(h).map(|c| &c.tcb)
    }

    /// The ISN of the connection from remote port `port` (tests).
    #[cfg(test)]
    pub(crate) fn tcb_by_port(&self, port: u16) -> Option<u32> {
        self.conns
            .iter()
            .find(|c| c.tcb.state != State::Closed && c.tcb.remote.1 == port)
            .map(|c| c.tcb.iss.0)
    }

    fn conn(&self, h: Handle) -> Option<&Conn<RX, TX>> {
        self.conns
            .get(h.index())
            .filter(|c| c.gen == h.gen && c.tcb.state != State::Closed)
    }

    fn conn_mut(&mut self, h: Handle) -> Option<&mut Conn<RX, TX>> {
        self.conns
            .get_mut(h.index())
            .filter(|c| c.gen == h.gen && c.tcb.state != State::Closed)
    }

    /// The connection's state; [`State::Closed`] for a stale handle.
    pub fn state(&self, h: Handle) -> State {
        self.conn(h).map_or(State::Closed, |c| c.tcb.state)
    }

    /// The peer's address and port.
    pub fn remote(&self, h: Handle) -> Option<Endpoint> {
        self.conn(h).map(|c| c.tcb.remote)
    }

    /// Our address and port.
    pub fn local(&self, h: Handle) -> Option<Endpoint> {
        self.conn(h).map(|c| c.tcb.local)
    }

    /// Whether received data is waiting.
    pub fn can_recv(&self, h: Handle) -> bool {
        self.conn(h).is_some_and(|c| !c.rx.is_empty())
    }

    /// Whether data is waiting or may still come. `false` after the
    /// peer's FIN once everything is read: end of stream.
    pub fn may_recv(&self, h: Handle) -> bool {
        self.conn(h).is_some_and(|c| c.may_recv())
    }

    /// Bytes waiting to be read.
    pub fn recv_queue(&self, h: Handle) -> usize {
        self.conn(h).map_or(0, |c| c.rx.len())
    }

    /// Whether [`TcpStack::send`] may queue data (the connection is open
    /// for sending and not closed by us).
    pub fn may_send(&self, h: Handle) -> bool {
        self.conn(h).is_some_and(|c| c.may_send())
    }

    /// Whether [`TcpStack::send`] would take at least one byte now.
    pub fn can_send(&self, h: Handle) -> bool {
        self.send_capacity(h) > 0
    }

    /// Bytes [`TcpStack::send`] would take now.
    pub fn send_capacity(&self, h: Handle) -> usize {
        self.conn(h)
            .filter(|c| c.may_send())
            .map_or(0, |c| c.tx.free())
    }

    /// Bytes queued to send, unacknowledged ones included.
    pub fn send_queue(&self, h: Handle) -> usize {
        self.conn(h).map_or(0, |c| c.tx.len())
    }

    /// Moves received bytes into `buf`; returns how many (0 when none
    /// are waiting: see [`TcpStack::may_recv`] for end of stream).
    pub fn recv(&mut self, h: Handle, buf: &mut [u8]) -> usize {
        let Some(c) = self.conn_mut(h) else {
            return 0;
        };
        let n = c.rx.dequeue(buf);
        if n > 0 {
            c.window_opened();
        }
        n
    }

    /// The received bytes at the front, without removing them: the first
    /// contiguous piece of the ring (call again after
    /// [`TcpStack::consume`] for the rest). Empty for a stale handle.
    pub fn peek(&self, h: Handle) -> &[u8] {
        self.conn(h).map_or(&[], |c| c.rx.peek())
    }

    /// Drops `n` received bytes from the front (after [`TcpStack::peek`]);
    /// returns how many were dropped.
    pub fn consume(&mut self, h: Handle, n: usize) -> usize {
        let Some(c) = self.conn_mut(h) else {
            return 0;
        };
        let n = c.rx.discard(n);
        if n > 0 {
            c.window_opened();
        }
        n
    }

    /// Queues as much of `data` as fits in the send buffer; returns how
    /// much. Segments go out at the next dispatch. 0 once closed for
    /// sending.
    pub fn send(&mut self, h: Handle, data: &[u8]) -> usize {
        match self.conn_mut(h) {
            Some(c) if c.may_send() => c.tx.enqueue(data),
            _ => 0,
        }
    }

    /// Moves received bytes straight into the send buffer, as many as
    /// both allow: an echo in one copy, where [`TcpStack::recv`] and
    /// [`TcpStack::send`] take two. Returns how many (0 once closed for
    /// sending).
    pub fn echo(&mut self, h: Handle) -> usize {
        self.conn_mut(h).map_or(0, |c| c.echo())
    }

    /// Closes our side: a FIN goes after the queued data (ESTABLISHED to
    /// FIN-WAIT-1, CLOSE-WAIT to LAST-ACK). The peer may still send until
    /// its own FIN; the slot frees itself when the connection ends.
    pub fn close(&mut self, h: Handle) {
        let now = self.clock;
        if self.conn_mut(h).is_some_and(|c| c.close(now)) {
            self.release(h.index());
        }
    }

    /// Tells the stack what the application is doing with `h`, which
    /// decides whether (and how soon) it may be evicted when the table is
    /// full (see [`AppPhase`] and `tcp::evict`). Connections start
    /// [`AppPhase::Busy`]; a server marks them `Head` while a request
    /// arrives and `Idle` between requests.
    pub fn set_phase(&mut self, h: Handle, phase: AppPhase) {
        let now = self.clock;
        if let Some(c) = self.conn_mut(h) {
            if c.tcb.phase != phase {
                c.tcb.phase = phase;
                c.tcb.phase_since = now;
            }
        }
    }

    /// Aborts: a RST goes out at the next dispatch and the slot is freed;
    /// queued data in both directions is dropped.
    pub fn abort(&mut self, h: Handle) {
        match self.conn_mut(h) {
            Some(c) if matches!(c.tcb.state, State::SynSent | State::TimeWait) => {
                self.release(h.index())
            }
            Some(c) => c.tcb.rst_pending = true,
            None => {}
        }
    }

    /// When the stack next needs a poll (to send, or for a timer): `now`
    /// when something is ready to go, `None` when nothing is pending.
    /// The kernel sleeps until the earlier of this and the interface's
    /// own `poll_at`.
    pub fn poll_at(&self, now: Instant) -> Option<Instant> {
        let config = self.config();
        self.live_conns()
            .filter_map(|(_, c)| c.poll_at(now, &config))
            .chain(self.time_wait_due)
            .min()
            .map(|at| at.max(now))
    }

    fn find(&self, local: Endpoint, remote: Endpoint) -> Option<usize> {
        self.live.iter(N).chain(self.time_wait.iter(N)).find(|&i| {
            let key = &self.keys[i];
            key.remote == remote && key.local == local && self.conns[i].tcb.state != State::Closed
        })
    }

    /// A free slot, or else the TIME-WAIT slot closest to expiry
    /// (recycled early, counted).
    fn free_slot(&mut self) -> Option<usize> {
        let i = match self.live.first_absent_in_both(&self.time_wait, N) {
            Some(i) => i,
            None => {
                let keys = &self.keys;
                let i = self
                    .time_wait
                    .iter(N)
                    .min_by_key(|&i| keys[i].time_wait_until)?;
                // (The set may still hold a slot that closed since.)
                if self.conns[i].tcb.state == State::TimeWait {
                    bump(&mut self.counters.time_wait_recycled);
                }
                self.release(i);
                i
            }
        };
        self.time_wait.remove(i);
        self.live.insert(i);
        Some(i)
    }
}

impl<const N: usize, const RX: usize, const TX: usize> IpHandler for TcpStack<N, RX, TX> {
    fn receive<D: Device>(
        &mut self,
        ip: &Ipv4Repr,
        payload: &[u8],
        tx: &mut Sender<'_, D>,
    ) -> bool {
        if ip.protocol != Protocol::Tcp {
            return false;
        }
        self.receive_segment(ip, payload, tx);
        true
    }

    fn dispatch<D: Device>(&mut self, tx: &mut Sender<'_, D>) -> bool {
        self.clock = tx.now();
        let before = self.counters.segs_out;
        let config = self.config();
        let mut slots = Cursor::new(N);
        while let Some(i) = slots.next(&self.live) {
            let conn = &mut self.conns[i];
            if conn.dispatch(tx, &config, &mut self.counters) {
                conn.free();
            }
            if conn.tcb.state == State::Closed {
                self.live.remove(i);
            }
        }
        if self.time_wait_due.is_some_and(|due| tx.now() >= due) {
            self.time_wait_due = None;
            let mut slots = Cursor::new(N);
            while let Some(i) = slots.next(&self.time_wait) {
                let until = self.keys[i].time_wait_until;
                if until > tx.now() {
                    // Not due: what else TIME-WAIT sends (the ACK of a
                    // resent FIN) went at once (`track_time_wait`).
                    self.time_wait_due_by(until);
                    continue;
                }
                let conn = &mut self.conns[i];
                if conn.dispatch(tx, &config, &mut self.counters) {
                    conn.free();
                }
                if conn.tcb.state == State::TimeWait {
                    let until = conn.tcb.timers.time_wait_until;
                    self.keys[i].time_wait_until = until;
                    self.time_wait_due_by(until);
                } else {
                    self.time_wait.remove(i);
                }
            }
        }
        self.counters.segs_out != before
    }
}
