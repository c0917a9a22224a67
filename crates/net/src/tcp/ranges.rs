//! What the receive side's [`Assembler`](super::assembler::Assembler)
//! (bytes held out of order) and the send side's
//! [`Scoreboard`](super::scoreboard::Scoreboard) (bytes the peer SACKed)
//! share: a fixed array whose first `count` entries are sorted, disjoint,
//! non-adjacent `[start, end)` ranges, and the merge of a new range into
//! it.

use super::seq::SeqNumber;

/// A range end: ordered, with the `min`/`max` its type means (modulo 2^32
/// for sequence numbers, RFC 9293 §3.4).
pub(crate) trait Bound: Copy + PartialOrd {
    fn lower(self, other: Self) -> Self;
    fn upper(self, other: Self) -> Self;
}

impl Bound for u32 {
    fn lower(self, other: u32) -> u32 {
        self.min(other)
    }
    fn upper(self, other: u32) -> u32 {
        self.max(other)
    }
}

impl Bound for SeqNumber {
    fn lower(self, other: SeqNumber) -> SeqNumber {
        self.min(other)
    }
    fn upper(self, other: SeqNumber) -> SeqNumber {
        self.max(other)
    }
}

/// Removes `ranges[i]` of the first `*count`, keeping the rest in order.
pub(crate) fn remove<T: Copy>(ranges: &mut [T], count: &mut usize, i: usize) {
    ranges.copy_within(i + 1..*count, i);
    *count -= 1;
}

/// Merges `[start, end)` with the ranges of `ranges[..*count]` it overlaps
/// or touches: each is removed (`removed(i, count)` is told, for an array
/// kept in step, before `count` drops). Returns the range covering them
/// all and the index it belongs at; inserting it is the caller's (its
/// room rules differ).
pub(crate) fn absorb<T: Bound>(
    ranges: &mut [(T, T)],
    count: &mut usize,
    (start, end): (T, T),
    mut removed: impl FnMut(usize, usize),
) -> ((T, T), usize) {
    let (mut s, mut e) = (start, end);
    let mut i = 0;
    while i < *count {
        let (rs, re) = ranges[i];
        if rs <= e && s <= re {
            s = s.lower(rs);
            e = e.upper(re);
            removed(i, *count);
            remove(ranges, count, i);
        } else {
            i += 1;
        }
    }
    let at = ranges[..*count]
        .iter()
        .position(|&(rs, _)| rs > s)
        .unwrap_or(*count);
    ((s, e), at)
}

#[cfg(test)]
mod tests {
    use std::vec::Vec;

    use super::*;

    #[test]
    fn a_range_swallows_what_it_overlaps_or_touches_and_nothing_else() {
        let mut ranges = [(10u32, 20), (30, 40), (50, 60), (70, 80), (0, 0)];
        let mut count = 4;
        let mut told = Vec::new();
        // Touches (30, 40) at 40 and overlaps (50, 60); (70, 80) is a gap away.
        let got = absorb(&mut ranges, &mut count, (40, 55), |i, n| told.push((i, n)));
        assert_eq!(got, ((30, 60), 1));
        assert_eq!(&ranges[..count], &[(10, 20), (70, 80)]);
        assert_eq!(told, [(1, 4), (1, 3)]);
        // Below everything, touching nothing: nothing removed, index 0.
        assert_eq!(
            absorb(&mut ranges, &mut count, (0, 9), |_, _| {}),
            ((0, 9), 0)
        );
        // Past everything: the index is the count.
        assert_eq!(
            absorb(&mut ranges, &mut count, (81, 90), |_, _| {}),
            ((81, 90), 2)
        );
        assert_eq!(count, 2);
    }

    #[test]
    fn sequence_ranges_merge_across_the_wrap() {
        let top = SeqNumber(u32::MAX - 4);
        let mut ranges = [(top, SeqNumber(3)), (SeqNumber(0), SeqNumber(0))];
        let mut count = 1;
        let got = absorb(
            &mut ranges,
            &mut count,
            (SeqNumber(3), SeqNumber(9)),
            |_, _| {},
        );
        assert_eq!(got, ((top, SeqNumber(9)), 0));
        assert_eq!(count, 0);
    }
}
