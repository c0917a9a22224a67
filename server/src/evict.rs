//! Who makes room when a worker is at its connection cap (`--max-conns`)
//! and a new connection arrives, and the counts of what was done.
//!
//! The newcomer takes the place of the least valuable connection, in this
//! order:
//! 1. closed on our side and lingering (draining what the client still
//!    sends), oldest first;
//! 2. idle: answered at least once and waiting for its next request
//!    (keep-alive), longest idle first;
//! 3. stalled: sending a reply that has made no progress (no byte taken
//!    by the socket, none acknowledged by the client) for
//!    `STALLED_AFTER_US`, longest stalled first: a reader that does not
//!    read;
//! 4. a request head arriving (a new connection with nothing read yet,
//!    or part of a head), longest in that state first, whatever its age;
//!
//! and never a request being answered otherwise (a body being read, an
//! API call or a reply making progress, a listing being built). Only when
//! nobody can be evicted does the newcomer get 503 with Retry-After.
//!
//! Heads have no minimum age. A legitimate client sends its head right
//! behind the handshake's last ACK, and the worker reads what a new
//! connection has sent before it accepts the next one (and accepts at
//! most `worker::ACCEPT_BATCH` a turn, reading the others in between), so such a
//! client is answered at once; and oldest first, a newcomer is evicted
//! only after every head older than it, after at least `cap - 1` more
//! newcomers. A minimum age matters only when newcomers come faster than
//! `cap` per minimum age, and then it refuses (503) nearly every one,
//! legitimate or not, while hostile heads hold every slot: against 1,000
//! hostile connections that reconnect at once (about 10,000 newcomers a
//! second) and a cap of 256, a 1 s minimum age refused 99 of 100
//! legitimate requests, oldest first served all 100 (p99 under 0.1 s).
//! Oldest first gives every head the same time, `cap` over the rate of
//! newcomers.
//!
//! The counts are reported on stderr, one line per worker at most every
//! `REPORT_EVERY_US` and once at exit, so that a flood of connections
//! cannot flood the log.

use crate::out::Line;

/// A reply that made no progress for this long may be evicted (µs): the
/// unikernel's `TCP_EVICT_STALLED_AFTER`.
pub const STALLED_AFTER_US: u64 = 1_000_000;
/// Least time between two eviction reports of one worker (µs).
pub const REPORT_EVERY_US: u64 = 10_000_000;

/// What a connection is doing, in eviction order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// Closed on our side, draining: `since` is when that began.
    Lingering,
    /// Answered, waiting for the next request: `since` is its last
    /// activity.
    Idle,
    /// Sending a reply: `since` is its last progress; evictable (stalled)
    /// once that is `STALLED_AFTER_US` ago.
    Stalled,
    /// A head arriving: `since` is its first byte, or the accept of a new
    /// connection with nothing read yet.
    SlowHead,
    /// A request being answered otherwise: never evicted.
    Busy,
}

/// The connection a newcomer replaces, from `(slot, class, since)` of
/// every open connection at time `now` (µs); None if none may go.
pub fn victim(
    conns: impl IntoIterator<Item = (usize, Class, u64)>,
    now: u64,
) -> Option<(usize, Class)> {
    let mut best: Option<(Class, u64, usize)> = None;
    for (slot, class, since) in conns {
        let evictable = match class {
            Class::Lingering | Class::Idle | Class::SlowHead => true,
            Class::Stalled => now.saturating_sub(since) >= STALLED_AFTER_US,
            Class::Busy => false,
        };
        if evictable && best.is_none_or(|b| (class, since) < (b.0, b.1)) {
            best = Some((class, since, slot));
        }
    }
    best.map(|(class, _, slot)| (slot, class))
}

/// Evictions by reason, and newcomers refused, since the worker started.
#[derive(Default)]
pub struct Counters {
    pub lingering: u64,
    pub idle: u64,
    pub stalled: u64,
    pub slow_head: u64,
    pub refused: u64,
    /// The total at the last report, and when it was made.
    reported: u64,
    reported_at: Option<u64>,
}

impl Counters {
    /// Counts one connection evicted for a newcomer.
    pub fn evicted(&mut self, class: Class) {
        match class {
            Class::Lingering => self.lingering += 1,
            Class::Idle => self.idle += 1,
            Class::Stalled => self.stalled += 1,
            Class::SlowHead => self.slow_head += 1,
            Class::Busy => {}
        }
    }

    fn total(&self) -> u64 {
        self.lingering + self.idle + self.stalled + self.slow_head + self.refused
    }

    /// Whether a report is due at `now`: something happened since the
    /// last one, and that was `REPORT_EVERY_US` ago (or `exiting`).
    pub fn due(&self, now: u64, exiting: bool) -> bool {
        self.total() != self.reported
            && (exiting
                || self
                    .reported_at
                    .is_none_or(|t| now.saturating_sub(t) >= REPORT_EVERY_US))
    }

    /// The report line (without the program name), marked as made.
    pub fn report(&mut self, now: u64, pid: i32, cap: usize) -> Line {
        self.reported = self.total();
        self.reported_at = Some(now);
        let mut line = Line::new();
        line.s("worker ").n(pid as u64).s(" at its cap of ");
        line.n(cap as u64).s(" connections evicted ");
        line.n(self.lingering)
            .s(" lingering, ")
            .n(self.idle)
            .s(" idle, ");
        line.n(self.stalled).s(" stalled, ");
        line.n(self.slow_head)
            .s(" slow-head connections and refused ");
        line.n(self.refused).s(" newcomers (503) since it started");
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Class::*;

    const NOW: u64 = 100_000_000;

    fn pick(conns: &[(Class, u64)]) -> Option<(usize, Class)> {
        victim(conns.iter().enumerate().map(|(i, &(c, s))| (i, c, s)), NOW)
    }

    #[test]
    fn lingering_then_idle_then_stalled_then_slow_heads_oldest_first() {
        let old = NOW - 5 * STALLED_AFTER_US;
        let older = NOW - 9 * STALLED_AFTER_US;
        // Every class present: the oldest lingering one goes first, even
        // when others have waited longer.
        let all = [
            (Busy, 0),
            (SlowHead, older),
            (Stalled, older),
            (Idle, older),
            (Lingering, old),
            (Lingering, old - 1),
            (Idle, NOW),
        ];
        assert_eq!(pick(&all), Some((5, Lingering)));
        // No lingering: the longest idle, however recent.
        let no_linger = [
            (Busy, 0),
            (SlowHead, older),
            (Stalled, older),
            (Idle, old),
            (Idle, older),
        ];
        assert_eq!(pick(&no_linger), Some((4, Idle)));
        assert_eq!(pick(&[(Stalled, older), (Idle, NOW)]), Some((1, Idle)));
        // No idle: the longest stalled reply, before any head.
        let stalled = [
            (SlowHead, older),
            (Stalled, old),
            (Busy, 0),
            (Stalled, older),
        ];
        assert_eq!(pick(&stalled), Some((3, Stalled)));
        // Only heads arriving: the one in that state longest.
        let heads = [(SlowHead, old), (Busy, 0), (SlowHead, older)];
        assert_eq!(pick(&heads), Some((2, SlowHead)));
    }

    #[test]
    fn heads_go_oldest_first_whatever_their_age() {
        // A head (or a new connection with nothing read yet) accepted a
        // moment ago goes when it is the oldest one left...
        assert_eq!(pick(&[(Busy, 0), (SlowHead, NOW)]), Some((1, SlowHead)));
        assert_eq!(
            pick(&[(SlowHead, NOW), (SlowHead, NOW - 1)]),
            Some((1, SlowHead))
        );
        // ...but never before an idle connection or a stalled reply.
        assert_eq!(pick(&[(SlowHead, 0), (Idle, NOW)]), Some((1, Idle)));
        let stalled = NOW - STALLED_AFTER_US;
        assert_eq!(
            pick(&[(SlowHead, 0), (Stalled, stalled)]),
            Some((1, Stalled))
        );
        // A clock reading before `since` (never expected) changes nothing.
        assert_eq!(pick(&[(SlowHead, NOW + 1)]), Some((0, SlowHead)));
    }

    #[test]
    fn requests_being_answered_are_never_evicted() {
        assert_eq!(pick(&[(Busy, 0), (Busy, 1), (Busy, NOW)]), None);
        assert_eq!(pick(&[]), None);
    }

    #[test]
    fn stalled_replies_at_and_past_the_named_time() {
        let at = NOW - STALLED_AFTER_US;
        assert_eq!(pick(&[(Busy, 0), (Stalled, at)]), Some((1, Stalled)));
        // Progress less than the named time ago: kept (a reply making
        // progress is never evicted).
        assert_eq!(pick(&[(Busy, 0), (Stalled, at + 1)]), None);
        assert_eq!(pick(&[(Stalled, NOW)]), None);
        // A stalled reply goes before an old head; a young stall does not.
        let head = NOW - 9 * STALLED_AFTER_US;
        assert_eq!(pick(&[(SlowHead, head), (Stalled, at)]), Some((1, Stalled)));
        assert_eq!(
            pick(&[(SlowHead, head), (Stalled, at + 1)]),
            Some((0, SlowHead))
        );
    }

    #[test]
    fn counts_by_reason_and_reports_at_most_every_interval() {
        let mut c = Counters::default();
        assert!(!c.due(NOW, true), "nothing to report");
        c.evicted(Idle);
        c.evicted(Idle);
        c.evicted(Lingering);
        c.evicted(Stalled);
        c.evicted(Stalled);
        c.evicted(Stalled);
        c.evicted(SlowHead);
        c.evicted(Busy);
        c.refused += 1;
        assert_eq!(
            (c.lingering, c.idle, c.stalled, c.slow_head, c.refused),
            (1, 2, 3, 1, 1)
        );
        assert!(c.due(NOW, false), "the first report is due at once");
        let line = c.report(NOW, 42, 8);
        assert_eq!(
            core::str::from_utf8(line.as_bytes()).unwrap(),
            "worker 42 at its cap of 8 connections evicted 1 lingering, 2 idle, \
             3 stalled, 1 slow-head connections and refused 1 newcomers (503) since it started"
        );
        assert!(!c.due(NOW + REPORT_EVERY_US, false), "nothing new");
        c.evicted(Stalled);
        assert!(!c.due(NOW + REPORT_EVERY_US - 1, false), "just before");
        assert!(c.due(NOW + REPORT_EVERY_US, false), "at the interval");
        assert!(c.due(NOW + 1, true), "at exit, whatever the time");
    }
}
