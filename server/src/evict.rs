//! Who makes room when a worker is at its connection cap (`--max-conns`)
//! and a new connection arrives, and the counts of what was done.
//!
//! The newcomer takes the place of the least valuable connection, in this
//! order:
//! 1. closed on our side and lingering (draining what the client still
//!    sends), oldest first;
//! 2. idle: no byte of a request yet (a fresh connection or a kept-alive
//!    one between requests), longest idle first;
//! 3. a request head still arriving (some bytes, no complete head),
//!    longest in that state first, once older than `MIN_EVICT_AGE_US`
//!    (so that newcomers do not evict each other's first packets);
//!
//! and never a request being answered (a body being read, an API call, a
//! reply being sent, a listing being built). Only when nobody can be
//! evicted does the newcomer get 503 with Retry-After.
//!
//! The counts are reported on stderr, one line per worker at most every
//! `REPORT_EVERY_US` and once at exit, so that a flood of connections
//! cannot flood the log.

use crate::out::Line;

/// A head in progress younger than this is not evicted (µs).
pub const MIN_EVICT_AGE_US: u64 = 1_000_000;
/// Least time between two eviction reports of one worker (µs).
pub const REPORT_EVERY_US: u64 = 10_000_000;

/// What a connection is doing, in eviction order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// Closed on our side, draining: `since` is when that began.
    Lingering,
    /// No byte of a request yet: `since` is its last activity.
    Idle,
    /// Part of a request head: `since` is its first byte.
    SlowHead,
    /// A request being answered: never evicted.
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
            Class::Lingering | Class::Idle => true,
            Class::SlowHead => now.saturating_sub(since) >= MIN_EVICT_AGE_US,
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
            Class::SlowHead => self.slow_head += 1,
            Class::Busy => {}
        }
    }

    fn total(&self) -> u64 {
        self.lingering + self.idle + self.slow_head + self.refused
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
    fn lingering_then_idle_then_slow_heads_oldest_first() {
        let old = NOW - 5 * MIN_EVICT_AGE_US;
        let older = NOW - 9 * MIN_EVICT_AGE_US;
        // Every class present: the oldest lingering one goes first, even
        // when others have waited longer.
        let all = [
            (Busy, 0),
            (SlowHead, older),
            (Idle, older),
            (Lingering, old),
            (Lingering, old - 1),
            (Idle, 0),
        ];
        assert_eq!(pick(&all), Some((4, Lingering)));
        // No lingering: the longest idle.
        let no_linger = [(Busy, 0), (SlowHead, older), (Idle, old), (Idle, older)];
        assert_eq!(pick(&no_linger), Some((3, Idle)));
        // Only heads in progress: the one in that state longest.
        let heads = [(SlowHead, old), (Busy, 0), (SlowHead, older)];
        assert_eq!(pick(&heads), Some((2, SlowHead)));
        // A fresh connection (idle since its accept a moment ago) goes
        // before a head in progress.
        assert_eq!(pick(&[(SlowHead, older), (Idle, NOW)]), Some((1, Idle)));
    }

    #[test]
    fn requests_being_answered_are_never_evicted() {
        assert_eq!(pick(&[(Busy, 0), (Busy, 1), (Busy, NOW)]), None);
        assert_eq!(pick(&[]), None);
    }

    #[test]
    fn slow_heads_at_and_past_the_minimum_age() {
        let at = NOW - MIN_EVICT_AGE_US;
        assert_eq!(pick(&[(Busy, 0), (SlowHead, at)]), Some((1, SlowHead)));
        assert_eq!(pick(&[(Busy, 0), (SlowHead, at + 1)]), None);
        // A clock reading before `since` (never expected) is "young".
        assert_eq!(pick(&[(SlowHead, NOW + 1)]), None);
    }

    #[test]
    fn counts_by_reason_and_reports_at_most_every_interval() {
        let mut c = Counters::default();
        assert!(!c.due(NOW, true), "nothing to report");
        c.evicted(Idle);
        c.evicted(Idle);
        c.evicted(Lingering);
        c.evicted(SlowHead);
        c.evicted(Busy);
        c.refused += 1;
        assert_eq!((c.lingering, c.idle, c.slow_head, c.refused), (1, 2, 1, 1));
        assert!(c.due(NOW, false), "the first report is due at once");
        let line = c.report(NOW, 42, 8);
        assert_eq!(
            core::str::from_utf8(line.as_bytes()).unwrap(),
            "worker 42 at its cap of 8 connections evicted 1 lingering, 2 idle, \
             1 slow-head connections and refused 1 newcomers (503) since it started"
        );
        assert!(!c.due(NOW + REPORT_EVERY_US, false), "nothing new");
        c.evicted(Idle);
        assert!(!c.due(NOW + REPORT_EVERY_US - 1, false), "just before");
        assert!(c.due(NOW + REPORT_EVERY_US, false), "at the interval");
        assert!(c.due(NOW + 1, true), "at exit, whatever the time");
    }
}
