//! How a hotel is kept in a change record (framed by
//! `bedrock_web::Records`, what the app's `Persist` hands the host):
//! `name_len u8 | name | city_len u8 | city`, so that `1 | id u64 LE |
//! hotel` (its state after a create or an update), `2 | id u64 LE`
//! (deleted) and `3 | next id u64 LE` are the records the hosted server's
//! `hotels.journal` has always had.

use bedrock_web::{Record, Reject, CHANGE_HEAD};

use crate::limits::{MAX_CITY_BYTES, MAX_NAME_BYTES};
use crate::record::{Hotel, Text};

/// The longest change record: its head and a hotel with two maximal
/// fields.
pub const MAX_CHANGE_BYTES: usize = CHANGE_HEAD + <Hotel as Record>::MAX_BYTES;

// Field lengths are one byte each.
const _: () = assert!(MAX_NAME_BYTES <= 255 && MAX_CITY_BYTES <= 255);

impl Record for Hotel {
    /// Two length bytes and two maximal fields.
    const MAX_BYTES: usize = 2 + MAX_NAME_BYTES + MAX_CITY_BYTES;
    const NOT_FOUND: Reject = Reject::new(404, "no hotel with this id");
    const FULL: Reject = Reject::new(507, "the hotel store is full");

    fn encode(&self, out: &mut [u8]) -> usize {
        let mut at = 0;
        for field in [self.name.as_str(), self.city.as_str()] {
            out[at] = field.len() as u8;
            out[at + 1..at + 1 + field.len()].copy_from_slice(field.as_bytes());
            at += 1 + field.len();
        }
        at
    }

    /// `name_len | name | city_len | city`, exactly.
    fn decode(mut p: &[u8]) -> Option<Hotel> {
        let mut fields = [""; 2];
        for f in fields.iter_mut() {
            let (&len, rest) = p.split_first()?;
            let bytes = rest.get(..usize::from(len))?;
            *f = core::str::from_utf8(bytes).ok()?;
            p = &rest[usize::from(len)..];
        }
        if !p.is_empty() {
            return None;
        }
        Some(Hotel {
            name: Text::new(fields[0])?,
            city: Text::new(fields[1])?,
        })
    }
}

/// Writes the record "hotel `id` is now `hotel`" into `out`; returns its
/// length. (For tools that write or seed a journal; the app records its
/// own changes.)
pub fn put(id: u64, hotel: &Hotel, out: &mut [u8; MAX_CHANGE_BYTES]) -> usize {
    // `out` holds the longest record, so this is never 0.
    bedrock_web::put_record(id, hotel, out).unwrap_or(0)
}
