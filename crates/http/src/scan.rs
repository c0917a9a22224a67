//! Byte searches over a request head, in safe code and without intrinsics.
//!
//! A search looks at 16 bytes at a time. First a branch-free "does any byte
//! stop here" reduction, which the compiler emits as a few vector compares
//! and one mask test (SSE2 on x86_64, NEON on aarch64); then, only in the
//! block that stops, word-at-a-time arithmetic on two `u64`s ("SIMD within a
//! register") finds the first stopping byte. So every stop set is written
//! twice, as a byte predicate ([`Stop::stops`]) and as a word mask
//! ([`Stop::mask`]), and the tests check the two agree. Where no word mask
//! exists (the request-target's character set), [`flags`] gives one
//! 0x00/0xFF byte per input byte instead. The last few bytes of a buffer
//! are searched as one block that ends where the buffer ends, with the
//! bytes already searched cleared from its word masks. Predicates use `&`
//! and `|` rather than `&&` and `||` so that they stay branch-free and
//! vectorise.

use crate::chars::URI;

/// Bytes looked at per step: one 128-bit vector.
const BLOCK: usize = 16;

const L: u64 = u64::from_le_bytes([0x01; 8]);
const H: u64 = u64::from_le_bytes([0x80; 8]);
const LOW7: u64 = u64::from_le_bytes([0x7f; 8]);

/// Bytes whose low seven bits are below `n` or all ones (`1 <= n < 0x80`).
#[inline(always)]
const fn low7_lt_or_max(w: u64, n: u8) -> u64 {
    let wrapped = ((w & LOW7) + L) & LOW7;
    !(wrapped + L * (0x80 - (n + 1)) as u64) & H
}

/// Bytes equal to `c`.
#[inline(always)]
const fn eq(w: u64, c: u8) -> u64 {
    let x = w ^ (L * c as u64);
    !(((x & LOW7) + LOW7) | x) & H
}

/// A set of bytes that stop a search.
pub(crate) trait Stop {
    /// Does `b` stop the search? Branch-free, so that blocks vectorise.
    fn stops(b: u8) -> bool;
    /// High bit of every stopping byte in an 8-byte little-endian word.
    fn mask(w: u64) -> u64;
}

/// The end of a field value: a control other than HTAB (CR, LF, NUL...)
/// or DEL. Obs-text (0x80-0xFF) does not stop it.
pub(crate) struct ValueEnd;
impl Stop for ValueEnd {
    #[inline(always)]
    fn stops(b: u8) -> bool {
        (b < 0x20) & (b != b'\t') | (b == 0x7f)
    }
    #[inline(always)]
    fn mask(w: u64) -> u64 {
        low7_lt_or_max(w, 0x20) & !w & !eq(w, b'\t')
    }
}

/// Anything that is not visible ASCII: the end of a method or target (SP).
pub(crate) struct NotVisible;
impl Stop for NotVisible {
    #[inline(always)]
    fn stops(b: u8) -> bool {
        b.wrapping_sub(0x21) >= 0x7f - 0x21
    }
    #[inline(always)]
    fn mask(w: u64) -> u64 {
        low7_lt_or_max(w, 0x21) | (w & H)
    }
}

/// Line feed.
pub(crate) struct Lf;
impl Stop for Lf {
    #[inline(always)]
    fn stops(b: u8) -> bool {
        b == b'\n'
    }
    #[inline(always)]
    fn mask(w: u64) -> u64 {
        eq(w, b'\n')
    }
}

/// A byte a request-target may not hold: anything but RFC 3986
/// unreserved, sub-delims, `:` `@` `/` `?` `%` `[` `]`. The same set as
/// the `URI` table of `chars`, written as ranges so that blocks vectorise.
#[inline(always)]
fn not_uri(b: u8) -> bool {
    let allowed = (b == b'!')
        | (b.wrapping_sub(b'$') <= b';' - b'$')
        | (b == b'=')
        | (b.wrapping_sub(b'?') <= b'[' - b'?')
        | (b == b']')
        | (b == b'_')
        | (b.wrapping_sub(b'a') <= b'z' - b'a')
        | (b == b'~');
    !allowed
}

/// 0xFF for every byte of the block that satisfies `pred`, 0x00 for the
/// others, as a little-endian `u128` (byte `k` at bits `8k..8k+8`).
#[inline(always)]
fn flags(block: &[u8; BLOCK], pred: impl Fn(u8) -> bool) -> u128 {
    // An indexed loop into an array: the shape the compiler vectorises
    // (`array::map` and `from_fn` are not always inlined).
    let mut out = [0u8; BLOCK];
    for k in 0..BLOCK {
        out[k] = 0u8.wrapping_sub(u8::from(pred(block[k])));
    }
    u128::from_le_bytes(out)
}

/// Does any byte of the block satisfy `pred`? A reduction with no early
/// exit, which the compiler turns into vector compares and one mask test:
/// cheaper than [`flags`] for the common case of a block that does not stop.
#[inline(always)]
fn any(block: &[u8; BLOCK], pred: impl Fn(u8) -> bool) -> bool {
    block.iter().fold(false, |any, &b| any | pred(b))
}

/// The block's two halves as little-endian words.
#[inline(always)]
fn words(block: &[u8; BLOCK]) -> (u64, u64) {
    let (lo, hi) = block.split_at(BLOCK / 2);
    let word = |half: &[u8]| match half.first_chunk::<8>() {
        Some(w) => u64::from_le_bytes(*w),
        None => 0,
    };
    (word(lo), word(hi))
}

/// Offset of the first stopping byte in a block known to hold one.
#[inline(always)]
fn first_in_block<S: Stop>(block: &[u8; BLOCK]) -> usize {
    let (lo, hi) = words(block);
    match S::mask(lo) {
        0 => BLOCK / 2 + (S::mask(hi).trailing_zeros() / 8) as usize,
        m => (m.trailing_zeros() / 8) as usize,
    }
}

/// Is every byte of `buf[from..to]` allowed in a request-target?
///
/// A short last stretch is checked as one block of `buf` whose flags past
/// `to` are cleared, when `buf` has the bytes; by table otherwise.
#[inline(always)]
pub(crate) fn is_uri(buf: &[u8], from: usize, to: usize) -> bool {
    let Some(s) = buf.get(from..to) else {
        return false;
    };
    let (blocks, tail) = s.as_chunks::<BLOCK>();
    let bad_blocks = blocks.iter().fold(0, |bad, b| bad | flags(b, not_uri));
    let tail_start = to - tail.len();
    let bad_tail = match buf.get(tail_start..).and_then(|b| b.first_chunk::<BLOCK>()) {
        _ if tail.is_empty() => false,
        Some(block) => {
            let beyond = (BLOCK - tail.len()) * 8;
            flags(block, not_uri) << beyond != 0
        }
        None => tail.iter().any(|&b| !URI[usize::from(b)]),
    };
    bad_blocks == 0 && !bad_tail
}

/// Index of the first byte at or after `i` that stops `S`, or `buf.len()`.
#[inline(always)]
pub(crate) fn find<S: Stop>(buf: &[u8], mut i: usize) -> usize {
    let Some(rest) = buf.get(i..) else {
        return buf.len();
    };
    let (blocks, tail) = rest.as_chunks::<BLOCK>();
    // Most fields end in their first block, which is tested before the
    // loop: measured, that beat entering the loop at once.
    let mut blocks = blocks.iter();
    if let Some(block) = blocks.next() {
        if any(block, S::stops) {
            return i + first_in_block::<S>(block);
        }
        i += BLOCK;
    }
    for block in blocks {
        if any(block, S::stops) {
            return i + first_in_block::<S>(block);
        }
        i += BLOCK;
    }
    if tail.is_empty() {
        return i;
    }
    // The last few bytes: one more block that ends where `buf` ends,
    // overlapping bytes already searched, whose masks are cleared.
    let last = buf.len().saturating_sub(BLOCK);
    if let Some(block) = buf.get(last..).and_then(|b| b.first_chunk::<BLOCK>()) {
        let (lo, hi) = words(block);
        let (lo, hi) = (S::mask(lo), S::mask(hi));
        // Clear the bytes already searched (1 to 15 of them).
        let searched = i - last;
        let (lo, hi) = if searched < 8 {
            (lo >> (searched * 8) << (searched * 8), hi)
        } else {
            (0, hi >> ((searched - 8) * 8) << ((searched - 8) * 8))
        };
        return match (lo, hi) {
            (0, 0) => buf.len(),
            (0, hi) => last + 8 + (hi.trailing_zeros() / 8) as usize,
            (lo, _) => last + (lo.trailing_zeros() / 8) as usize,
        };
    }
    // A buffer shorter than one block.
    for &b in tail {
        if S::stops(b) {
            return i;
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chars::VALUE;

    fn naive(buf: &[u8], i: usize, stops: impl Fn(u8) -> bool) -> usize {
        (i..buf.len()).find(|&k| stops(buf[k])).unwrap_or(buf.len())
    }

    #[test]
    fn stop_sets_match_their_definitions() {
        for b in 0..=255u8 {
            let visible = (0x21..=0x7e).contains(&b);
            assert_eq!(ValueEnd::stops(b), !VALUE[usize::from(b)], "{b:#04x}");
            assert_eq!(NotVisible::stops(b), !visible, "{b:#04x}");
            assert_eq!(Lf::stops(b), b == b'\n', "{b:#04x}");
            assert_eq!(not_uri(b), !URI[usize::from(b)], "{b:#04x}");
        }
    }

    fn check<S: Stop>(buf: &[u8], start: usize) {
        assert_eq!(
            find::<S>(buf, start),
            naive(buf, start, S::stops),
            "start {start} in {buf:?}"
        );
    }

    #[test]
    fn find_agrees_with_bytewise_search() {
        // Every buffer length up to three blocks, every start, one or two
        // stopping bytes anywhere: full blocks, the overlapping last block
        // and buffers shorter than a block all take their turn.
        for len in 0..=48 {
            for start in 0..=len + 1 {
                let clean = vec![b'a'; len];
                check::<Lf>(&clean, start);
                for pos in 0..len {
                    for b in [b'\n', b'\r', b'\t', b' ', b':', 0x00, 0x7f, 0x80, 0xff] {
                        let mut buf = clean.clone();
                        buf[pos] = b;
                        check::<ValueEnd>(&buf, start);
                        check::<NotVisible>(&buf, start);
                        check::<Lf>(&buf, start);
                        buf[(pos * 7 + 3) % len] = b'\n';
                        check::<Lf>(&buf, start);
                        check::<ValueEnd>(&buf, start);
                    }
                }
            }
        }
        // Every byte value at every position of a block.
        for pos in 0..BLOCK {
            for b in 0..=255u8 {
                let mut buf = [b'a'; BLOCK];
                buf[pos] = b;
                check::<ValueEnd>(&buf, 0);
                check::<NotVisible>(&buf, 0);
                check::<Lf>(&buf, 0);
            }
        }
    }

    #[test]
    fn word_masks_agree_with_bytewise_search() {
        // The masks work on each byte's low seven bits so that no sum
        // carries into its neighbour: every byte value at every position,
        // beside neighbours just above and below the thresholds.
        fn first<S: Stop>(buf: &[u8; 8]) -> usize {
            match S::mask(u64::from_le_bytes(*buf)) {
                0 => 8,
                m => (m.trailing_zeros() / 8) as usize,
            }
        }
        for pos in 0..8 {
            for b in 0..=255u8 {
                for fill in [b'a', 0x21, 0x20, 0x09, 0x0b, 0x7e, 0x80, 0xff] {
                    let mut buf = [fill; 8];
                    buf[pos] = b;
                    assert_eq!(first::<ValueEnd>(&buf), naive(&buf, 0, ValueEnd::stops));
                    assert_eq!(first::<NotVisible>(&buf), naive(&buf, 0, NotVisible::stops));
                    assert_eq!(first::<Lf>(&buf), naive(&buf, 0, Lf::stops));
                }
            }
        }
    }

    #[test]
    fn is_uri_sees_every_position() {
        // With and without bytes (not allowed ones) after the target, so
        // that both the masked block and the table take their turn.
        for len in [0, 1, 15, 16, 17, 31, 32, 33, 47] {
            for after in [0, 1, 15, 16] {
                let mut clean = vec![b'a'; len];
                clean.resize(len + after, b' ');
                assert!(is_uri(&clean, 0, len), "len {len} + {after}");
                for pos in 0..len {
                    for bad in [b' ', b'"', b'#', 0x7f, 0x80] {
                        let mut s = clean.clone();
                        s[pos] = bad;
                        assert!(
                            !is_uri(&s, 0, len),
                            "len {len} + {after}, {bad:#04x} at {pos}"
                        );
                        s.insert(0, b'a');
                        assert!(!is_uri(&s, 1, len + 1), "at 1, len {len} + {after}");
                    }
                }
            }
        }
    }
}
