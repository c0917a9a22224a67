//! Which connection gives up its slot when the table is full and a new
//! connection has proved its address (its SYN cookie came back: see
//! [`super::cookie`]). Without this, anyone holding `N` connections open
//! takes the server off the air for as long as they like.
//!
//! The order, cheapest loss first (after TIME-WAIT slots, which are
//! recycled before any eviction):
//!
//! 1. **Half-open** (SYN-RECEIVED) whose SYN-ACK went unanswered for a
//!    retransmission timeout (a spoofed SYN, or a lost ACK: the peer's
//!    retransmission gets a cookie). Oldest first. A younger one is left
//!    alone: its ACK is likely on the way, and evicting it would make
//!    that ACK meet a RST.
//! 2. **Lingering**: the application closed it; at most the tail of a
//!    reply is lost. Oldest close first.
//! 3. **Idle**: the application said it is between requests (keep-alive);
//!    nothing is lost, the client reconnects. Longest idle first.
//! 4. **Stalled**: data waits for the peer's ACK and SND.UNA has not moved
//!    for [`TCP_EVICT_STALLED_AFTER`](crate::limits::TCP_EVICT_STALLED_AFTER):
//!    a reader that does not read. Longest stalled first.
//! 5. **Slow head**: the application said a request is arriving and not
//!    complete. Longest arriving first: a legitimate client completes its
//!    head within a round trip, so the oldest is the slowest.
//!
//! Fairness comes first: at a full table, a SYN from an address that
//! already holds a [`TCP_EVICT_FAIR_SHARE_DIVISOR`](crate::limits::TCP_EVICT_FAIR_SHARE_DIVISOR)th
//! of the slots gets RST (no cookie), and a cookie that comes back from
//! such an address may only evict that address's own connections.
//! Otherwise a host with more connections than there are slots, each
//! reconnecting as soon as it is dropped, would churn the table and evict
//! a legitimate client between its handshake and its request.
//!
//! Never evicted: connections the application has not accepted yet, and
//! those it marks [`AppPhase::Busy`] (a request being answered) unless
//! their reply stalls. A victim gets RST.

use super::config::TcpConfig;
use super::conn::{State, Tcb};
use crate::time::Instant;

/// What the application is doing with a connection, as it tells the stack
/// ([`TcpStack::set_phase`](super::TcpStack::set_phase)); eviction ranks
/// connections by it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AppPhase {
    /// Serving a request, or not said: not evicted (unless its reply
    /// stalls). Where a connection starts.
    #[default]
    Busy,
    /// Between requests: closing it loses nothing.
    Idle,
    /// A request is arriving and is not complete yet.
    Head,
}

/// Why a connection was chosen, in eviction order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Victim {
    SynReceived,
    Lingering,
    Idle,
    Stalled,
    SlowHead,
}

/// The rank of a connection for eviction: its class, then the moment
/// that orders it within the class (earlier goes first). `None`: keep it.
/// `pending`: data or a FIN waits for the peer's ACK.
pub(crate) fn rank(
    t: &Tcb,
    pending: bool,
    now: Instant,
    cfg: &TcpConfig,
) -> Option<(Victim, Instant)> {
    match t.state {
        State::SynReceived if t.timers.retries > 0 => {
            return Some((Victim::SynReceived, t.timers.opened))
        }
        State::Closed | State::SynSent | State::SynReceived | State::TimeWait => return None,
        _ => {}
    }
    if !t.accepted {
        return None;
    }
    if t.fin_queued {
        return Some((Victim::Lingering, t.timers.closed_at));
    }
    if t.phase == AppPhase::Idle {
        return Some((Victim::Idle, t.phase_since));
    }
    if pending && now >= t.timers.progress_at + cfg.evict_stalled_after {
        return Some((Victim::Stalled, t.timers.progress_at));
    }
    if t.phase == AppPhase::Head {
        return Some((Victim::SlowHead, t.phase_since));
    }
    None
}
