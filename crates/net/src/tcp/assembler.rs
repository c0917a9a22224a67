//! Out-of-order bookkeeping for the receive side: which byte ranges past
//! `RCV.NXT` are already in the receive buffer. Data that arrives ahead of
//! a gap is written into the ring at its offset and recorded here; when
//! the gap fills, the recorded ranges become contiguous and are queued.
//! Holds at most [`ASSEMBLER_RANGES`] disjoint ranges: a segment that would
//! need one more is dropped (and retransmitted by the peer later).
//!
//! The ranges are also what SACK blocks report (RFC 2018), most recently
//! touched first: each range remembers when a segment last landed in it.

use super::ranges;
use crate::limits::ASSEMBLER_RANGES;

/// Disjoint, non-adjacent, sorted `[start, end)` offsets from `RCV.NXT`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Assembler {
    ranges: [(u32, u32); ASSEMBLER_RANGES],
    /// For each range, the insert that last touched it (higher: later).
    touched: [u64; ASSEMBLER_RANGES],
    inserts: u64,
    count: usize,
}

impl Assembler {
    /// Nothing recorded.
    pub const fn new() -> Assembler {
        Assembler {
            ranges: [(0, 0); ASSEMBLER_RANGES],
            touched: [0; ASSEMBLER_RANGES],
            inserts: 0,
            count: 0,
        }
    }

    /// Whether no out-of-order data is held.
    pub const fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The recorded ranges.
    pub fn ranges(&self) -> &[(u32, u32)] {
        &self.ranges[..self.count]
    }

    /// The recorded ranges, the one touched last first, then the others
    /// from the most recently touched (the order of SACK blocks, RFC
    /// 2018 §4).
    pub fn most_recent_first(&self) -> impl Iterator<Item = (u32, u32)> {
        let mut order = [0usize; ASSEMBLER_RANGES];
        for (i, o) in order.iter_mut().enumerate() {
            *o = i;
        }
        order[..self.count].sort_unstable_by_key(|&i| core::cmp::Reverse(self.touched[i]));
        let ranges = self.ranges;
        order.into_iter().take(self.count).map(move |i| ranges[i])
    }

    /// Records `[start, end)` (start > 0: ahead of a gap), merging with
    /// ranges it touches. `false` if it needed a slot and none was free.
    pub fn insert(&mut self, start: u32, end: u32) -> bool {
        if start >= end {
            return true;
        }
        let touched = &mut self.touched;
        let ((s, e), at) =
            ranges::absorb(&mut self.ranges, &mut self.count, (start, end), |i, n| {
                touched.copy_within(i + 1..n, i)
            });
        if self.count == ASSEMBLER_RANGES {
            return false;
        }
        self.ranges.copy_within(at..self.count, at + 1);
        self.touched.copy_within(at..self.count, at + 1);
        self.inserts += 1;
        self.ranges[at] = (s, e);
        self.touched[at] = self.inserts;
        self.count += 1;
        true
    }

    fn remove(&mut self, i: usize) {
        self.touched.copy_within(i + 1..self.count, i);
        ranges::remove(&mut self.ranges, &mut self.count, i);
    }

    /// `RCV.NXT` advanced by `n` contiguous bytes: drops what they cover
    /// and returns how many more bytes recorded here now follow on
    /// without a gap (they are removed too, and offsets re-based).
    pub fn advance(&mut self, n: u32) -> u32 {
        let mut total = n;
        let mut extra = 0;
        loop {
            // Ranges entirely below the new front are stale duplicates.
            while self.count > 0 && self.ranges[0].1 <= total {
                self.remove(0);
            }
            if self.count > 0 && self.ranges[0].0 <= total {
                let end = self.ranges[0].1;
                extra += end - total;
                total = end;
                self.remove(0);
            } else {
                break;
            }
        }
        for r in &mut self.ranges[..self.count] {
            r.0 -= total;
            r.1 -= total;
        }
        extra
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_gaps_in_any_order() {
        let mut a = Assembler::new();
        assert!(a.insert(10, 20));
        assert!(a.insert(30, 40));
        assert!(a.insert(20, 25), "touches the first");
        assert_eq!(a.ranges(), &[(10, 25), (30, 40)]);
        assert_eq!(a.advance(5), 0, "gap 5..10 still open");
        assert_eq!(a.ranges(), &[(5, 20), (25, 35)]);
        assert_eq!(a.advance(5), 15);
        assert_eq!(a.ranges(), &[(5, 15)]);
        assert_eq!(a.advance(20), 0, "covers all that is left");
        assert!(a.is_empty());
    }

    #[test]
    fn range_limit_at_and_past() {
        let mut a = Assembler::new();
        for i in 0..ASSEMBLER_RANGES as u32 {
            assert!(a.insert(10 + 10 * i, 15 + 10 * i));
        }
        assert!(!a.insert(1000, 1001), "one range too many");
        assert!(a.insert(15, 25), "merging needs no new slot");
        assert_eq!(a.ranges().len(), ASSEMBLER_RANGES - 1);
    }

    #[test]
    fn most_recent_first_follows_the_last_insert() {
        let mut a = Assembler::new();
        a.insert(30, 40);
        a.insert(10, 20);
        a.insert(50, 60);
        let order: std::vec::Vec<_> = a.most_recent_first().collect();
        assert_eq!(order, [(50, 60), (10, 20), (30, 40)]);
        // A segment landing inside a range makes it the most recent.
        a.insert(32, 34);
        let order: std::vec::Vec<_> = a.most_recent_first().collect();
        assert_eq!(order, [(30, 40), (50, 60), (10, 20)]);
        // Merging two ranges: the merged one is the most recent.
        a.insert(20, 30);
        let order: std::vec::Vec<_> = a.most_recent_first().collect();
        assert_eq!(order, [(10, 40), (50, 60)]);
        // Advancing keeps the order of what is left.
        a.insert(45, 47);
        assert_eq!(a.advance(10), 30);
        let order: std::vec::Vec<_> = a.most_recent_first().collect();
        assert_eq!(order, [(5, 7), (10, 20)]);
    }
}
