//! Which connection slots may be in use, so that the stack's scans (demux,
//! accept, dispatch, timers) visit the live connections instead of every
//! slot: with 256 slots of 32 KiB each, a full scan touched 256 pages per
//! poll and cost more than the request it served.
//!
//! A slot's bit is set when the slot is handed out and cleared when a scan
//! finds the slot closed, so the set is a superset of the live slots:
//! "not in the set" always means closed.
//!
//! [`SlotKey`] keeps what the per-segment lookup and TIME-WAIT recycling
//! read of every slot in one small array, apart from the connections:
//! those scans visit every TIME-WAIT slot (up to `N` of them under
//! `Connection: close` load), and reading each connection's control
//! block there touched one page per slot. Whether that thrashed the TLB
//! depended on the connection's exact size: 48 bytes more in the control
//! block halved the unikernel's new-connection rate under QEMU (17.2k to
//! 9.1k requests/s, same instruction count).

use super::conn::Endpoint;
use crate::limits::TCP_SLOT_LIMIT;
use crate::time::Instant;
use crate::wire::Ipv4Address;

const WORDS: usize = TCP_SLOT_LIMIT.div_ceil(64);

/// A fixed bit set of slot numbers below [`TCP_SLOT_LIMIT`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct SlotSet {
    words: [u64; WORDS],
}

impl SlotSet {
    pub(crate) const fn new() -> Self {
        SlotSet { words: [0; WORDS] }
    }

    pub(crate) fn insert(&mut self, slot: usize) {
        self.words[slot / 64] |= 1 << (slot % 64);
    }

    pub(crate) fn remove(&mut self, slot: usize) {
        self.words[slot / 64] &= !(1 << (slot % 64));
    }

    /// How many slots are in the set.
    pub(crate) fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The lowest slot below `n` in neither this set nor `other`.
    pub(crate) fn first_absent_in_both(&self, other: &SlotSet, n: usize) -> Option<usize> {
        self.words
            .iter()
            .zip(&other.words)
            .map(|(a, b)| a | b)
            .enumerate()
            .find(|(_, w)| *w != u64::MAX)
            .map(|(i, w)| i * 64 + (!w).trailing_zeros() as usize)
            .filter(|slot| *slot < n)
    }

    /// The slots in the set, lowest first, for `n` slots in all.
    pub(crate) fn iter(&self, n: usize) -> Slots<'_> {
        Slots {
            set: self,
            cursor: Cursor::new(n),
        }
    }
}

/// A slot's 4-tuple and TIME-WAIT deadline. Written when the slot is
/// handed out (and when it enters TIME-WAIT); a freed slot's key is stale,
/// so a match is confirmed against the connection's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlotKey {
    pub local: Endpoint,
    pub remote: Endpoint,
    /// When TIME-WAIT ends, while the slot is in the TIME-WAIT set.
    pub time_wait_until: Instant,
}

impl SlotKey {
    /// All zero bytes (the stack lives in `.bss`); no segment comes from
    /// or to 0.0.0.0 port 0, and a stale key is never trusted anyway.
    pub(crate) const EMPTY: SlotKey = SlotKey {
        local: (Ipv4Address([0; 4]), 0),
        remote: (Ipv4Address([0; 4]), 0),
        time_wait_until: Instant(0),
    };
}

/// A position in a walk over a [`SlotSet`] that does not borrow it
/// between steps, so the walk can change the slots (and the set) it
/// visits. Bits of the current word are read once: a slot inserted
/// behind the cursor is not visited, which no caller needs.
pub(crate) struct Cursor {
    word: usize,
    bits: u64,
    end_word: usize,
}

impl Cursor {
    pub(crate) const fn new(n: usize) -> Self {
        Cursor {
            word: usize::MAX,
            bits: 0,
            end_word: n.div_ceil(64),
        }
    }

    pub(crate) fn next(&mut self, set: &SlotSet) -> Option<usize> {
        while self.bits == 0 {
            self.word = self.word.wrapping_add(1);
            if self.word >= self.end_word {
                self.word = self.end_word;
                return None;
            }
            self.bits = set.words[self.word];
        }
        let bit = self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        Some(self.word * 64 + bit)
    }
}

/// Iterator form of a [`Cursor`] walk (for scans that only read).
pub(crate) struct Slots<'a> {
    set: &'a SlotSet,
    cursor: Cursor,
}

impl Iterator for Slots<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        self.cursor.next(self.set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_members_in_order_within_n() {
        let mut s = SlotSet::new();
        for slot in [0, 5, 63, 64, 130, 255, 256, TCP_SLOT_LIMIT - 1] {
            s.insert(slot);
        }
        let got: [usize; 6] = core::array::from_fn({
            let mut it = s.iter(256);
            move |_| it.next().unwrap()
        });
        assert_eq!(got, [0, 5, 63, 64, 130, 255]);
        assert_eq!(s.iter(256).count(), 6);
        assert_eq!(s.len(), 8);
        assert_eq!(s.iter(TCP_SLOT_LIMIT).count(), 8);
        s.remove(64);
        assert_eq!(s.iter(256).count(), 5);
    }

    #[test]
    fn first_absent_looks_at_both_sets_and_respects_n() {
        let (mut a, mut b) = (SlotSet::new(), SlotSet::new());
        assert_eq!(a.first_absent_in_both(&b, 4), Some(0));
        a.insert(0);
        a.insert(2);
        b.insert(1);
        b.insert(3);
        assert_eq!(a.first_absent_in_both(&b, 4), None);
        assert_eq!(a.first_absent_in_both(&b, 5), Some(4));
        for slot in 0..TCP_SLOT_LIMIT {
            a.insert(slot);
        }
        assert_eq!(a.first_absent_in_both(&b, TCP_SLOT_LIMIT), None);
        a.remove(70);
        assert_eq!(a.first_absent_in_both(&b, TCP_SLOT_LIMIT), Some(70));
        b.insert(70);
        assert_eq!(a.first_absent_in_both(&b, TCP_SLOT_LIMIT), None);
    }

    #[test]
    fn cursor_survives_removal_during_the_walk() {
        let mut s = SlotSet::new();
        for slot in [1, 2, 3, 70] {
            s.insert(slot);
        }
        let mut c = Cursor::new(128);
        let mut seen = 0;
        while let Some(slot) = c.next(&s) {
            s.remove(slot);
            seen += 1;
        }
        assert_eq!(seen, 4);
        assert_eq!(s.iter(128).count(), 0);
    }
}
