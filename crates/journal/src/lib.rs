//! The journal's record format, shared by every host that persists an
//! app's changes (bedrock-web's `Persist` records; the hosted server's
//! journal file today, the unikernel's disk later): `len u32 LE | crc32
//! u32 LE | payload`, appended one after another. It owns encoding a
//! record and walking a byte buffer of them, telling a whole record from
//! a partial one (read more) and from damage (a crash mid-write, or
//! corruption: the journal ends there). It does no I/O and knows no app:
//! payloads are opaque.
#![no_std]
#![forbid(unsafe_code)]

mod crc;
pub mod disk;

pub use crc::crc32;

/// Bytes in front of each payload: its length and its CRC-32.
pub const HEADER: usize = 8;

/// Writes the record for `payload` at the start of `out`; returns its
/// length, or `None` when `out` is too small (or the payload longer than
/// a `u32` can say).
pub fn encode(payload: &[u8], out: &mut [u8]) -> Option<usize> {
    let len = u32::try_from(payload.len()).ok()?;
    let total = HEADER + payload.len();
    let out = out.get_mut(..total)?;
    out[0..4].copy_from_slice(&len.to_le_bytes());
    out[4..8].copy_from_slice(&crc32(payload).to_le_bytes());
    out[HEADER..].copy_from_slice(payload);
    Some(total)
}

/// What the bytes at the front of a buffer hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next<'a> {
    /// A whole record: its payload, and the bytes it took (header
    /// included).
    Record(&'a [u8], usize),
    /// The start of a record: more bytes are needed to tell (at the end
    /// of the journal, that is a torn last record).
    Partial,
    /// Not a record: an empty or over-long length, or a CRC mismatch.
    Damaged,
}

/// Reads the record at the start of `buf`; payloads longer than
/// `max_payload` (the app's `Persist::MAX_CHANGE`) count as damage, which
/// keeps a corrupt length from swallowing the rest of the journal.
pub fn next_record(buf: &[u8], max_payload: usize) -> Next<'_> {
    let Some(header) = buf.get(..HEADER) else {
        return Next::Partial;
    };
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if len == 0 || len > max_payload {
        return Next::Damaged;
    }
    let Some(payload) = buf.get(HEADER..HEADER + len) else {
        return Next::Partial;
    };
    if crc32(payload) != crc {
        return Next::Damaged;
    }
    Next::Record(payload, HEADER + len)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    fn record(payload: &[u8]) -> Vec<u8> {
        let mut out = std::vec![0u8; HEADER + payload.len()];
        assert_eq!(encode(payload, &mut out), Some(out.len()));
        out
    }

    #[test]
    fn the_format_is_len_crc_payload() {
        let r = record(b"123456789");
        assert_eq!(&r[..4], &9u32.to_le_bytes());
        assert_eq!(&r[4..8], &0xcbf4_3926u32.to_le_bytes());
        assert_eq!(&r[8..], b"123456789");
        assert_eq!(next_record(&r, 9), Next::Record(b"123456789", 17));
    }

    #[test]
    fn too_small_an_output_is_refused() {
        let mut out = [0u8; HEADER + 2];
        assert_eq!(encode(b"abc", &mut out), None);
        assert_eq!(encode(b"ab", &mut out), Some(HEADER + 2));
    }

    #[test]
    fn every_cut_of_a_record_is_partial() {
        let r = record(b"hello");
        for cut in 0..r.len() {
            assert_eq!(next_record(&r[..cut], 16), Next::Partial, "cut at {cut}");
        }
    }

    #[test]
    fn length_limits_at_and_past() {
        let r = record(&[7; 16]);
        assert!(matches!(next_record(&r, 16), Next::Record(_, 24)));
        assert_eq!(next_record(&r, 15), Next::Damaged);
        // An empty payload is never a record (zeroed disk blocks read so).
        assert_eq!(next_record(&[0u8; HEADER], 16), Next::Damaged);
    }

    #[test]
    fn any_flipped_bit_is_damage_or_partial_never_another_record() {
        let r = record(b"change: hotel 42 is now Ritz, Paris");
        for bit in 0..r.len() * 8 {
            let mut bad = r.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            match next_record(&bad, 64) {
                Next::Damaged | Next::Partial => {}
                Next::Record(p, _) => panic!("bit {bit} gave a record {p:?}"),
            }
        }
    }

    proptest! {
        #[test]
        fn records_back_to_back_read_back_in_order(
            payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..40), 0..20)
        ) {
            let mut journal = Vec::new();
            for p in &payloads {
                journal.extend(record(p));
            }
            let mut at = 0;
            let mut got = Vec::new();
            while let Next::Record(p, n) = next_record(&journal[at..], 40) {
                got.push(p.to_vec());
                at += n;
            }
            prop_assert_eq!(at, journal.len());
            prop_assert_eq!(got, payloads);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64), max in 0usize..64) {
            if let Next::Record(p, n) = next_record(&bytes, max) {
                prop_assert!(!p.is_empty() && p.len() <= max && n == HEADER + p.len());
            }
        }
    }
}
