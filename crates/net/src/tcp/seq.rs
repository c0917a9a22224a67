//! TCP sequence numbers: 32-bit values compared modulo 2^32 (RFC 9293
//! §3.4). `a < b` means "b is at most 2^31 - 1 ahead of a"; the order is
//! only meaningful for numbers less than 2^31 apart, which every window
//! this stack uses is.

use core::cmp::Ordering;
use core::fmt;
use core::ops::{Add, Sub};

/// A sequence or acknowledgement number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// `self - other` as a signed distance (positive when `self` is ahead).
    pub const fn diff(self, other: SeqNumber) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// How far `self` is ahead of `earlier`, or 0 if it is not ahead.
    pub const fn since(self, earlier: SeqNumber) -> u32 {
        let d = self.diff(earlier);
        if d > 0 {
            d as u32
        } else {
            0
        }
    }

    /// The later of two numbers.
    pub fn max(self, other: SeqNumber) -> SeqNumber {
        if self.diff(other) >= 0 {
            self
        } else {
            other
        }
    }

    /// The earlier of two numbers.
    pub fn min(self, other: SeqNumber) -> SeqNumber {
        if self.diff(other) <= 0 {
            self
        } else {
            other
        }
    }

    /// Whether `start <= self < start + len` (modulo 2^32).
    pub const fn in_window(self, start: SeqNumber, len: u32) -> bool {
        self.0.wrapping_sub(start.0) < len
    }
}

impl PartialOrd for SeqNumber {
    fn partial_cmp(&self, other: &SeqNumber) -> Option<Ordering> {
        Some(self.diff(*other).cmp(&0))
    }
}

impl Add<u32> for SeqNumber {
    type Output = SeqNumber;
    fn add(self, n: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(n))
    }
}

impl Add<usize> for SeqNumber {
    type Output = SeqNumber;
    fn add(self, n: usize) -> SeqNumber {
        // Truncation is the modulo-2^32 arithmetic wanted here.
        SeqNumber(self.0.wrapping_add(n as u32))
    }
}

impl Sub<u32> for SeqNumber {
    type Output = SeqNumber;
    fn sub(self, n: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_sub(n))
    }
}

impl fmt::Display for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_wrap() {
        let a = SeqNumber(u32::MAX - 10);
        let b = a + 20u32;
        assert_eq!(b.0, 9);
        assert!(a < b);
        assert!(b > a);
        assert_eq!(b.diff(a), 20);
        assert_eq!(a.diff(b), -20);
        assert_eq!(b.since(a), 20);
        assert_eq!(a.since(b), 0);
        assert_eq!(a.max(b), b);
        assert_eq!(a.min(b), a);
        assert!(SeqNumber(5) <= SeqNumber(5));
        assert_eq!(b - 20u32, a);
    }

    #[test]
    fn window_membership_wraps() {
        let start = SeqNumber(u32::MAX - 1);
        assert!(start.in_window(start, 1));
        assert!(SeqNumber(2).in_window(start, 5));
        assert!(!SeqNumber(3).in_window(start, 5));
        assert!(!SeqNumber(u32::MAX - 2).in_window(start, 5));
        assert!(!start.in_window(start, 0));
    }

    #[test]
    fn half_space_is_the_horizon() {
        let a = SeqNumber(0);
        assert!(SeqNumber(0x7fff_ffff) > a);
        assert!(SeqNumber(0x8000_0001) < a);
    }
}
