//! The Hotel app's change records (what its `Persist` impl hands the
//! host), the format the hosted server's `hotels.journal` has always had:
//! `1 | id u64 LE | name_len u8 | name | city_len u8 | city` (the record's
//! state after a create or an update) and `2 | id u64 LE` (deleted).

use bedrock_store::Store;

use crate::limits::{CAPACITY, MAX_CITY_BYTES, MAX_NAME_BYTES};
use crate::record::{Hotel, Text};

const OP_PUT: u8 = 1;
const OP_DELETE: u8 = 2;
const OP_NEXT_ID: u8 = 3;

/// The longest record: op, id, two length bytes and two maximal fields.
pub const MAX_CHANGE_BYTES: usize = 1 + 8 + 2 + MAX_NAME_BYTES + MAX_CITY_BYTES;

// Field lengths are one byte each.
const _: () = assert!(MAX_NAME_BYTES <= 255 && MAX_CITY_BYTES <= 255);

/// Writes the record "hotel `id` is now `hotel`" into `out`; returns its
/// length. (For tools that write or seed a journal; the app records its
/// own changes.)
pub fn put(id: u64, hotel: &Hotel, out: &mut [u8; MAX_CHANGE_BYTES]) -> usize {
    out[..9].copy_from_slice(&head(OP_PUT, id));
    let mut at = 9;
    for field in [hotel.name.as_str(), hotel.city.as_str()] {
        out[at] = field.len() as u8;
        out[at + 1..at + 1 + field.len()].copy_from_slice(field.as_bytes());
        at += 1 + field.len();
    }
    at
}

/// The record "ids below `next` are used" (a snapshot's last).
pub(crate) fn next_id(next: u64) -> [u8; 9] {
    head(OP_NEXT_ID, next)
}

/// The record "hotel `id` was deleted".
pub(crate) fn delete(id: u64) -> [u8; 9] {
    head(OP_DELETE, id)
}

fn head(op: u8, id: u64) -> [u8; 9] {
    let mut h = [0u8; 9];
    h[0] = op;
    h[1..].copy_from_slice(&id.to_le_bytes());
    h
}

/// Applies one record to `store`; false if it makes no sense (the host
/// treats the journal as damaged from there).
pub(crate) fn apply(p: &[u8], store: &mut Store<Hotel, CAPACITY>) -> bool {
    let Some(id) = p
        .get(1..9)
        .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    else {
        return false;
    };
    match p[0] {
        OP_DELETE if p.len() == 9 => {
            store.remove(id);
            true
        }
        OP_NEXT_ID if p.len() == 9 => {
            store.skip_ids_below(id);
            true
        }
        OP_PUT => match parse_put(&p[9..]) {
            Some(hotel) => restore(store, id, hotel),
            None => false,
        },
        _ => false,
    }
}

/// `name_len | name | city_len | city`, exactly.
fn parse_put(mut p: &[u8]) -> Option<Hotel> {
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

/// Puts `hotel` under `id`: an update if the id is there, else a create,
/// whose id must be the store's next (ids whose creation is not in the
/// journal are skipped, never reused).
fn restore(store: &mut Store<Hotel, CAPACITY>, id: u64, hotel: Hotel) -> bool {
    if store.get(id).is_some() {
        return store.replace(id, hotel).is_ok();
    }
    store.insert_at(id, hotel).is_ok()
}
