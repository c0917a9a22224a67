//! Word-at-a-time byte searches ("SIMD within a register"), in safe code.
//!
//! Each search loads 8 bytes as a `u64`, computes a mask with the high bit
//! of every byte that stops the search, and jumps straight to the first one
//! with `trailing_zeros`.

const L: u64 = u64::from_le_bytes([0x01; 8]);
const H: u64 = u64::from_le_bytes([0x80; 8]);
const LOW7: u64 = u64::from_le_bytes([0x7f; 8]);

// Every helper works on the low seven bits of each byte, so no sum ever
// carries into the next byte and every flag is exact.

/// Bytes whose low seven bits are below `n` or all ones (`1 <= n < 0x80`):
/// adding one to the low seven bits wraps 0x7F to 0, then one compare.
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
    /// Mask of stopping bytes in an 8-byte little-endian word.
    fn mask(w: u64) -> u64;
    /// Does `b` stop the search?
    fn stops(b: u8) -> bool;
}

/// Bytes whose low seven bits are a control or DEL: the end of a field
/// value (CR), bytes to look at (HTAB, obs-text 0x80-0x9F and 0xFF) and
/// bytes to refuse.
pub(crate) struct Ctl;
impl Stop for Ctl {
    #[inline(always)]
    fn mask(w: u64) -> u64 {
        low7_lt_or_max(w, 0x20)
    }
    #[inline(always)]
    fn stops(b: u8) -> bool {
        let low7 = b & 0x7f;
        low7 < 0x20 || low7 == 0x7f
    }
}

/// Anything that is not visible ASCII: the end of a method or target (SP).
pub(crate) struct NotVisible;
impl Stop for NotVisible {
    #[inline(always)]
    fn mask(w: u64) -> u64 {
        low7_lt_or_max(w, 0x21) | (w & H)
    }
    #[inline(always)]
    fn stops(b: u8) -> bool {
        !(0x21..0x7f).contains(&b)
    }
}

/// Like [`NotVisible`], and also `:`: the end of a field name.
pub(crate) struct NameEnd;
impl Stop for NameEnd {
    #[inline(always)]
    fn mask(w: u64) -> u64 {
        NotVisible::mask(w) | eq(w, b':')
    }
    #[inline(always)]
    fn stops(b: u8) -> bool {
        NotVisible::stops(b) || b == b':'
    }
}

/// Line feed.
pub(crate) struct Lf;
impl Stop for Lf {
    #[inline(always)]
    fn mask(w: u64) -> u64 {
        eq(w, b'\n')
    }
    #[inline(always)]
    fn stops(b: u8) -> bool {
        b == b'\n'
    }
}

/// Index of the first byte at or after `i` that stops `S`, or `buf.len()`.
#[inline(always)]
pub(crate) fn find<S: Stop>(buf: &[u8], mut i: usize) -> usize {
    let Some(rest) = buf.get(i..) else {
        return buf.len();
    };
    let (words, tail) = rest.as_chunks::<8>();
    for w in words {
        let m = S::mask(u64::from_le_bytes(*w));
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
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

    fn naive<S: Stop>(buf: &[u8], i: usize) -> usize {
        (i..buf.len())
            .find(|&k| S::stops(buf[k]))
            .unwrap_or(buf.len())
    }

    #[test]
    fn agrees_with_bytewise_search() {
        // every byte value at every position of a 40-byte buffer
        for pos in 0..40 {
            for b in 0..=255u8 {
                let mut buf = [b'a'; 40];
                buf[pos] = b;
                buf[(pos + 7) % 40] = b;
                for start in [0, 1, 5, 17] {
                    assert_eq!(find::<Ctl>(&buf, start), naive::<Ctl>(&buf, start));
                    assert_eq!(
                        find::<NotVisible>(&buf, start),
                        naive::<NotVisible>(&buf, start)
                    );
                    assert_eq!(find::<NameEnd>(&buf, start), naive::<NameEnd>(&buf, start));
                    assert_eq!(find::<Lf>(&buf, start), naive::<Lf>(&buf, start));
                }
            }
        }
        // borrows: a stopping byte followed by bytes just above the threshold
        let buf = [
            0x00, 0x20, 0x21, 0x7e, 0x7f, 0x80, 0xff, 0x3a, 0x0a, 0x0b, 0x01, 0x02, 0x20, 0x21,
            0x22, 0x23, 0x24,
        ];
        for start in 0..buf.len() {
            assert_eq!(find::<Ctl>(&buf, start), naive::<Ctl>(&buf, start));
            assert_eq!(
                find::<NotVisible>(&buf, start),
                naive::<NotVisible>(&buf, start)
            );
            assert_eq!(find::<NameEnd>(&buf, start), naive::<NameEnd>(&buf, start));
            assert_eq!(find::<Lf>(&buf, start), naive::<Lf>(&buf, start));
        }
        assert_eq!(find::<Lf>(b"abc", 10), 3);
    }

    #[test]
    fn word_masks_agree_with_bytewise_search() {
        // The portable `u64` masks, tested on every target.
        fn first<S: Stop>(buf: &[u8; 8]) -> usize {
            let m = S::mask(u64::from_le_bytes(*buf));
            if m == 0 {
                8
            } else {
                (m.trailing_zeros() / 8) as usize
            }
        }
        for pos in 0..8 {
            for b in 0..=255u8 {
                for fill in [b'a', 0x21, 0x20, 0x0b, 0x80, 0xff, b':' + 1] {
                    let mut buf = [fill; 8];
                    buf[pos] = b;
                    assert_eq!(first::<Ctl>(&buf), naive::<Ctl>(&buf, 0).min(8));
                    assert_eq!(
                        first::<NotVisible>(&buf),
                        naive::<NotVisible>(&buf, 0).min(8)
                    );
                    assert_eq!(first::<NameEnd>(&buf), naive::<NameEnd>(&buf, 0).min(8));
                    assert_eq!(first::<Lf>(&buf), naive::<Lf>(&buf, 0).min(8));
                }
            }
        }
    }
}
