//! The sender's record of what the peer selectively acknowledged (RFC
//! 2018 SACK blocks) above SND.UNA, and the RFC 6675 questions asked of
//! it: which holes count as lost (`IsLost`), how many bytes are still in
//! the network (`SetPipe`), which hole to resend next (`NextSeg`), and
//! what to skip when resending after a timeout.
//!
//! Fixed size: at most [`TCP_SACK_SCOREBOARD_RANGES`] disjoint ranges.
//! Past that the highest range is forgotten; its bytes then count as not
//! SACKed, so at worst they are sent again, never lost.

use super::ranges;
use super::seq::SeqNumber;
use crate::limits::{TCP_DUP_ACK_THRESHOLD, TCP_SACK_SCOREBOARD_RANGES};

/// What one SACK block changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sacked {
    /// Bytes SACKed now that were not before.
    pub new_bytes: u32,
    /// A range had to be forgotten for want of room.
    pub forgot: bool,
}

/// Disjoint, non-adjacent `[start, end)` ranges, sorted by sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scoreboard {
    ranges: [(SeqNumber, SeqNumber); TCP_SACK_SCOREBOARD_RANGES],
    count: usize,
}

impl Default for Scoreboard {
    fn default() -> Self {
        Self::new()
    }
}

impl Scoreboard {
    /// Nothing SACKed.
    pub const fn new() -> Scoreboard {
        Scoreboard {
            ranges: [(SeqNumber(0), SeqNumber(0)); TCP_SACK_SCOREBOARD_RANGES],
            count: 0,
        }
    }

    /// Whether nothing is SACKed.
    pub const fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The SACKed ranges, lowest first.
    pub fn ranges(&self) -> &[(SeqNumber, SeqNumber)] {
        &self.ranges[..self.count]
    }

    /// Forgets everything (after repeated timeouts: the peer may have
    /// dropped what it SACKed, RFC 2018 §8).
    pub fn clear(&mut self) {
        self.count = 0;
    }

    /// Records the SACKed block `[start, end)`, which the caller has
    /// clipped to the unacknowledged sequence space.
    pub fn insert(&mut self, start: SeqNumber, end: SeqNumber) -> Sacked {
        let mut done = Sacked {
            new_bytes: 0,
            forgot: false,
        };
        if start >= end {
            return done;
        }
        done.new_bytes = end.since(start) - self.sacked_in(start, end);
        let ((s, e), at) =
            ranges::absorb(&mut self.ranges, &mut self.count, (start, end), |_, _| {});
        if self.count == TCP_SACK_SCOREBOARD_RANGES {
            done.forgot = true;
            if at == self.count {
                // The new range is the highest: it is the one forgotten.
                done.new_bytes = 0;
                return done;
            }
            self.count -= 1;
        }
        self.ranges.copy_within(at..self.count, at + 1);
        self.ranges[at] = (s, e);
        self.count += 1;
        done
    }

    fn remove(&mut self, i: usize) {
        ranges::remove(&mut self.ranges, &mut self.count, i);
    }

    /// SND.UNA moved to `una`: forgets what it covers.
    pub fn trim(&mut self, una: SeqNumber) {
        while self.count > 0 && self.ranges[0].1 <= una {
            self.remove(0);
        }
        if self.count > 0 && self.ranges[0].0 < una {
            self.ranges[0].0 = una;
        }
    }

    /// SACKed bytes within `[from, to)`.
    pub fn sacked_in(&self, from: SeqNumber, to: SeqNumber) -> u32 {
        self.ranges()
            .iter()
            .map(|&(s, e)| {
                let (s, e) = (s.max(from), e.min(to));
                if s < e {
                    e.since(s)
                } else {
                    0
                }
            })
            .sum()
    }

    /// RFC 6675 `IsLost(seq)`: at least DupThresh ranges, or more than
    /// (DupThresh - 1) full segments, SACKed above `seq`.
    pub fn is_lost(&self, seq: SeqNumber, mss: usize) -> bool {
        let (mut bytes, mut ranges) = (0usize, 0usize);
        for &(s, e) in self.ranges().iter().filter(|&&(_, e)| e > seq + 1u32) {
            bytes += e.since(s.max(seq + 1u32)) as usize;
            ranges += 1;
        }
        let thresh = usize::from(TCP_DUP_ACK_THRESHOLD);
        ranges >= thresh || bytes > (thresh - 1) * mss
    }

    /// The end of the range holding `seq`, if `seq` is SACKed.
    pub fn sacked_end(&self, seq: SeqNumber) -> Option<SeqNumber> {
        self.ranges()
            .iter()
            .find(|&&(s, e)| s <= seq && seq < e)
            .map(|&(_, e)| e)
    }

    /// The first SACKed byte after `seq`.
    pub fn next_sacked(&self, seq: SeqNumber) -> Option<SeqNumber> {
        self.ranges()
            .iter()
            .find(|&&(s, _)| s > seq)
            .map(|&(s, _)| s)
    }

    /// The first hole at or after `from` that has SACKed data above it,
    /// as `[start, end)`; with `lost_only`, the first such hole that
    /// [`Scoreboard::is_lost`] says is lost (RFC 6675 `NextSeg` rules 1
    /// and 3).
    pub fn next_hole(
        &self,
        from: SeqNumber,
        lost_only: bool,
        mss: usize,
    ) -> Option<(SeqNumber, SeqNumber)> {
        let start = self.sacked_end(from).unwrap_or(from);
        let end = self.next_sacked(start)?;
        if !lost_only || self.is_lost(start, mss) {
            return Some((start, end));
        }
        // Holes further up have less SACKed above them: none is lost.
        None
    }

    /// RFC 6675 `SetPipe` over `[una, nxt)`: every byte not SACKed counts
    /// once if it is not lost and once more if it was resent (it lies
    /// below `high_rxt`).
    pub fn pipe(&self, una: SeqNumber, nxt: SeqNumber, high_rxt: SeqNumber, mss: usize) -> usize {
        let mut pipe = 0;
        let mut hole = |a: SeqNumber, b: SeqNumber| {
            if a >= b {
                return;
            }
            if !self.is_lost(a, mss) {
                pipe += b.since(a) as usize;
            }
            let resent_end = high_rxt.min(b);
            if resent_end > a {
                pipe += resent_end.since(a) as usize;
            }
        };
        let mut at = una;
        for &(s, e) in self.ranges() {
            if s >= nxt {
                break;
            }
            hole(at, s);
            at = at.max(e);
        }
        hole(at, nxt);
        pipe
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: usize = 100;

    fn sq(n: u32) -> SeqNumber {
        SeqNumber(n)
    }

    fn board(ranges: &[(u32, u32)]) -> Scoreboard {
        let mut b = Scoreboard::new();
        for &(s, e) in ranges {
            b.insert(sq(s), sq(e));
        }
        b
    }

    #[test]
    fn merges_and_counts_new_bytes() {
        let mut b = Scoreboard::new();
        assert_eq!(b.insert(sq(300), sq(400)).new_bytes, 100);
        assert_eq!(b.insert(sq(100), sq(200)).new_bytes, 100);
        assert_eq!(
            b.insert(sq(150), sq(250)).new_bytes,
            50,
            "overlaps the first"
        );
        assert_eq!(b.insert(sq(100), sq(250)).new_bytes, 0, "nothing new");
        assert_eq!(b.insert(sq(250), sq(300)).new_bytes, 50, "joins both");
        assert_eq!(b.ranges(), &[(sq(100), sq(400))]);
        assert_eq!(b.insert(sq(500), sq(500)).new_bytes, 0, "empty block");
        assert_eq!(b.ranges().len(), 1);
    }

    #[test]
    fn works_across_sequence_wrap() {
        let mut b = Scoreboard::new();
        b.insert(sq(u32::MAX - 99), sq(50));
        b.insert(sq(100), sq(200));
        assert_eq!(b.ranges()[0], (sq(u32::MAX - 99), sq(50)));
        assert_eq!(b.sacked_in(sq(u32::MAX - 199), sq(300)), 250);
        b.trim(sq(0));
        assert_eq!(b.ranges(), &[(sq(0), sq(50)), (sq(100), sq(200))]);
    }

    #[test]
    fn trim_drops_and_cuts() {
        let mut b = board(&[(100, 200), (300, 400)]);
        b.trim(sq(150));
        assert_eq!(b.ranges(), &[(sq(150), sq(200)), (sq(300), sq(400))]);
        b.trim(sq(350));
        assert_eq!(b.ranges(), &[(sq(350), sq(400))]);
        b.trim(sq(400));
        assert!(b.is_empty());
    }

    #[test]
    fn range_limit_at_and_past() {
        let n = TCP_SACK_SCOREBOARD_RANGES as u32;
        let mut b = Scoreboard::new();
        for i in 0..n {
            let s = b.insert(sq(1000 + 200 * i), sq(1100 + 200 * i));
            assert_eq!((s.new_bytes, s.forgot), (100, false), "range {i}");
        }
        assert_eq!(b.ranges().len(), TCP_SACK_SCOREBOARD_RANGES);
        // Past the limit, above everything: the new range is forgotten.
        let high = b.insert(sq(1000 + 200 * n), sq(1100 + 200 * n));
        assert_eq!((high.new_bytes, high.forgot), (0, true));
        // Past the limit, below: kept, and the highest range goes.
        let low = b.insert(sq(500), sq(600));
        assert_eq!((low.new_bytes, low.forgot), (100, true));
        assert_eq!(b.ranges().len(), TCP_SACK_SCOREBOARD_RANGES);
        assert_eq!(b.ranges()[0], (sq(500), sq(600)));
        let top = 1100 + 200 * (n - 2);
        assert_eq!(b.ranges().last(), Some(&(sq(top - 100), sq(top))));
        // Merging needs no slot.
        let merged = b.insert(sq(600), sq(1000));
        assert_eq!((merged.new_bytes, merged.forgot), (400, false));
        assert_eq!(b.ranges().len(), TCP_SACK_SCOREBOARD_RANGES - 1);
    }

    #[test]
    fn is_lost_by_bytes_or_by_ranges() {
        // Two full segments SACKed above 0: not lost; a third byte: lost.
        let b = board(&[(100, 300)]);
        assert!(!b.is_lost(sq(0), MSS));
        let b = board(&[(100, 301)]);
        assert!(b.is_lost(sq(0), MSS));
        assert!(!b.is_lost(sq(150), MSS), "less above 150");
        // Three small ranges above: lost.
        let b = board(&[(100, 110), (200, 210), (300, 310)]);
        assert!(b.is_lost(sq(0), MSS));
        assert!(!b.is_lost(sq(150), MSS));
    }

    #[test]
    fn next_hole_lost_first_then_any() {
        let b = board(&[(100, 200), (300, 400), (500, 600), (700, 800)]);
        assert_eq!(b.next_hole(sq(0), true, MSS), Some((sq(0), sq(100))));
        assert_eq!(b.next_hole(sq(50), true, MSS), Some((sq(50), sq(100))));
        assert_eq!(b.next_hole(sq(100), true, MSS), Some((sq(200), sq(300))));
        assert_eq!(b.next_hole(sq(300), true, MSS), None, "two ranges above");
        assert_eq!(b.next_hole(sq(300), false, MSS), Some((sq(400), sq(500))));
        assert_eq!(b.next_hole(sq(800), false, MSS), None, "nothing above");
    }

    #[test]
    fn pipe_counts_unsacked_not_lost_and_resent() {
        let b = board(&[(100, 200), (300, 400), (500, 600)]);
        // Hole 0..100 is lost (three ranges above); 200..300 and 400..500
        // are not; 600..700 is the unSACKed tail.
        assert_eq!(b.pipe(sq(0), sq(700), sq(0), MSS), 300);
        // 0..100 resent: it counts.
        assert_eq!(b.pipe(sq(0), sq(700), sq(100), MSS), 400);
        // Resent holes that are not lost count twice.
        assert_eq!(b.pipe(sq(0), sq(700), sq(450), MSS), 300 + 250);
        // Only up to `nxt`.
        assert_eq!(b.pipe(sq(0), sq(350), sq(0), MSS), 100);
        assert_eq!(Scoreboard::new().pipe(sq(0), sq(700), sq(0), MSS), 700);
    }
}
