//! A JSON array written in pieces, for a reply body streamed from records
//! that do not fit one buffer: each piece holds whole items only, and the
//! position between pieces is one `u64` (a streamed reply's cursor).

use crate::{JsonError, JsonWriter, SliceSink};

/// `[` has been written.
const OPENED: u64 = 1 << 63;
/// An item has been written (the next needs a comma).
const MORE: u64 = 1 << 62;
/// `]` has been written.
const DONE: u64 = 1 << 61;
/// The key of the next item to write.
const KEY: u64 = DONE - 1;

/// Where a streamed array stands; `ArrayCursor(0)` is the start. Items
/// are keyed by increasing `u64` keys below 2^61 (record ids).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArrayCursor(pub u64);

impl ArrayCursor {
    /// The key to resume from: iterate the items from it.
    pub fn next_key(self) -> u64 {
        self.0 & KEY
    }

    /// Whether the closing `]` is out.
    pub fn is_done(self) -> bool {
        self.0 & DONE != 0
    }

    /// Writes the next piece into `out`: `[` first, then as many whole
    /// items of `items` (from [`ArrayCursor::next_key`] on) as fit, each
    /// written by `write` (given its key), then `]` once they are all out. Returns the
    /// bytes written; 0 when the array is complete, or when `out` cannot
    /// hold the next item at all (make `out` hold the largest item plus
    /// two bytes).
    pub fn piece<T>(
        &mut self,
        out: &mut [u8],
        items: impl Iterator<Item = (u64, T)>,
        mut write: impl FnMut(&mut JsonWriter<SliceSink<'_>>, u64, T) -> Result<(), JsonError>,
    ) -> usize {
        if self.is_done() || out.is_empty() {
            return 0;
        }
        let mut len = 0;
        if self.0 & OPENED == 0 {
            out[0] = b'[';
            len = 1;
            self.0 |= OPENED;
        }
        for (key, item) in items {
            let comma = usize::from(self.0 & MORE != 0);
            let Some(room) = out.get_mut(len + comma..) else {
                return len;
            };
            let mut w = JsonWriter::new(SliceSink::new(room));
            if write(&mut w, key, item).is_err() {
                return len; // the rest in the next piece
            }
            let n = w.sink().as_bytes().len();
            if comma == 1 {
                out[len] = b',';
            }
            len += comma + n;
            self.0 = (self.0 & !KEY) | MORE | ((key + 1) & KEY);
        }
        if let Some(end) = out.get_mut(len) {
            *end = b']';
            self.0 |= DONE;
            len += 1;
        }
        len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// The whole array pulled through buffers of `size` bytes.
    fn pulled(items: &[(u64, u32)], size: usize) -> Vec<u8> {
        let mut cursor = ArrayCursor(0);
        let mut out = std::vec![0u8; size];
        let mut body = Vec::new();
        loop {
            let from = cursor.next_key();
            let rest = items.iter().filter(|(k, _)| *k >= from).copied();
            let n = cursor.piece(&mut out, rest, |w, _, v| w.u64(u64::from(v)));
            if n == 0 {
                break;
            }
            body.extend_from_slice(&out[..n]);
        }
        assert!(cursor.is_done(), "stuck at {size}");
        body
    }

    #[test]
    fn empty_and_whole_arrays() {
        assert_eq!(pulled(&[], 1), b"[]");
        assert_eq!(pulled(&[], 64), b"[]");
        assert_eq!(pulled(&[(1, 10), (5, 50), (6, 6)], 64), b"[10,50,6]");
    }

    #[test]
    fn every_buffer_size_from_the_largest_item_up_gives_the_same_bytes() {
        let items: Vec<(u64, u32)> = (1..200).map(|k| (k * 3, k as u32 * 997)).collect();
        let whole = pulled(&items, 4096);
        // The largest item is 6 digits: with its comma 7 bytes.
        for size in 7..80 {
            assert_eq!(pulled(&items, size), whole, "size {size}");
        }
        let parsed: Vec<u64> = whole[1..whole.len() - 1]
            .split(|&b| b == b',')
            .map(|d| std::str::from_utf8(d).unwrap().parse().unwrap())
            .collect();
        assert_eq!(parsed.len(), 199);
    }

    #[test]
    fn a_buffer_too_small_for_an_item_stops_without_writing_half() {
        let mut cursor = ArrayCursor(0);
        let mut out = [0u8; 3];
        let n = cursor.piece(&mut out, [(1u64, 123_456u32)].into_iter(), |w, _, v| {
            w.u64(u64::from(v))
        });
        assert_eq!(&out[..n], b"[");
        let n = cursor.piece(&mut out, [(1u64, 123_456u32)].into_iter(), |w, _, v| {
            w.u64(u64::from(v))
        });
        assert_eq!(n, 0);
        assert!(!cursor.is_done());
    }
}
