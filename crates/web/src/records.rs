//! Data an app keeps, ready-made: records of one type in a
//! `bedrock_store::Store`, every change made through [`Records`] and
//! recorded as it is made, so that an app's [`Persist`] hands each call
//! to it and an app's handlers never write a change record themselves.
//! The change records it hands the host (what a journal holds):
//!
//! - `1 | id u64 LE | the record` ([`Record::encode`]): its state after a
//!   create or an update;
//! - `2 | id u64 LE`: deleted;
//! - `3 | next id u64 LE`: ids below it are used (a snapshot's last);
//! - `4`: every record deleted (their ids are not handed out again).
//!
//! The first three are the records the Hotel app's `hotels.journal` has
//! always held.

use bedrock_json::{ArrayCursor, JsonError, JsonWriter, SliceSink};
use bedrock_store::Store;

use crate::limits::MAX_RECORD_BYTES;
use crate::persist::{ChangeLog, Persist, LEN_BYTES};
use crate::reply::{Reject, Stream};

const PUT: u8 = 1;
const DELETE: u8 = 2;
const NEXT_ID: u8 = 3;
const DELETE_ALL: u8 = 4;

/// Bytes of a change record in front of the record itself: its kind and
/// the id.
pub const CHANGE_HEAD: usize = 9;

/// What [`Records`] refuses a change with when the host has not taken
/// the change records waiting (it takes them after every request, so
/// only a host that does not can meet it).
const WAITING: Reject = Reject::new(503, "changes are waiting to be recorded");

/// A record an app keeps in [`Records`]: how it is written into a change
/// record and read back, and how the app words the refusals a change can
/// meet.
pub trait Record: Copy {
    /// The longest [`Record::encode`] writes; with [`CHANGE_HEAD`] at
    /// most [`MAX_RECORD_BYTES`].
    const MAX_BYTES: usize;
    /// The answer when an id names no record (a 404).
    const NOT_FOUND: Reject;
    /// The answer when the store is full (a 507).
    const FULL: Reject;

    /// Writes the record into `out`, which holds at least
    /// [`Record::MAX_BYTES`]; returns the bytes written.
    fn encode(&self, out: &mut [u8]) -> usize;

    /// Reads a record back; `None` if these are not the bytes of one.
    fn decode(bytes: &[u8]) -> Option<Self>;
}

/// Bytes of change log (the `LOG` of [`Records`]) that hold `changes`
/// changes of `T` records at their longest.
pub const fn log_bytes<T: Record>(changes: usize) -> usize {
    changes * (LEN_BYTES + CHANGE_HEAD + T::MAX_BYTES)
}

/// Writes the change record "record `id` is now `value`" into `out`;
/// returns its length, or `None` if `out` is shorter than
/// [`CHANGE_HEAD`] plus [`Record::MAX_BYTES`]. (For tools that write or
/// seed a journal; [`Records`] records its own changes.)
pub fn put_record<T: Record>(id: u64, value: &T, out: &mut [u8]) -> Option<usize> {
    let out = out.get_mut(..CHANGE_HEAD + T::MAX_BYTES)?;
    Some(write_change(PUT, id, Some(value), out))
}

/// Writes one change record into `out`, at least [`CHANGE_HEAD`] plus
/// `T::MAX_BYTES` long; returns its length. A record that claims more
/// than its `MAX_BYTES` is cut there.
fn write_change<T: Record>(op: u8, id: u64, value: Option<&T>, out: &mut [u8]) -> usize {
    out[0] = op;
    if op == DELETE_ALL {
        return 1;
    }
    out[1..CHANGE_HEAD].copy_from_slice(&id.to_le_bytes());
    let room = &mut out[CHANGE_HEAD..CHANGE_HEAD + T::MAX_BYTES];
    CHANGE_HEAD + value.map_or(0, |v| v.encode(room).min(T::MAX_BYTES))
}

/// Every record of an app, up to `N` of them, and the change records its
/// requests made that the host has not taken yet (`LOG` bytes of them:
/// [`log_bytes`]). Changes go through its methods, each refused (503)
/// before anything changes when its change record could not be kept;
/// reads go to [`Records::store`].
pub struct Records<T, const N: usize, const LOG: usize> {
    store: Store<T, N>,
    log: ChangeLog<LOG>,
}

impl<T: Record, const N: usize, const LOG: usize> Default for Records<T, N, LOG> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Record, const N: usize, const LOG: usize> Records<T, N, LOG> {
    /// No records. `const`, so an app holding them can live in a
    /// `static`. A record type longer than [`MAX_RECORD_BYTES`] fails
    /// the build (or, called at run time, panics).
    pub const fn new() -> Self {
        assert!(
            CHANGE_HEAD + T::MAX_BYTES <= MAX_RECORD_BYTES,
            "the record type's MAX_BYTES is past MAX_RECORD_BYTES"
        );
        Records {
            store: Store::new(),
            log: ChangeLog::EMPTY,
        }
    }

    /// The records, to read.
    pub fn store(&self) -> &Store<T, N> {
        &self.store
    }

    /// Record `id`, or the app's 404.
    pub fn get(&self, id: u64) -> Result<T, Reject> {
        self.store.get(id).copied().ok_or(T::NOT_FOUND)
    }

    /// Stores `value` under a new id and returns the id; the app's 507
    /// when the store is full.
    pub fn create(&mut self, value: T) -> Result<u64, Reject> {
        self.room()?;
        let id = self.store.insert(value).map_err(|_| T::FULL)?;
        self.record(PUT, id, Some(&value));
        Ok(id)
    }

    /// Makes record `id` `value`; the app's 404 when there is none.
    pub fn update(&mut self, id: u64, value: T) -> Result<(), Reject> {
        self.room()?;
        self.store.replace(id, value).map_err(|_| T::NOT_FOUND)?;
        self.record(PUT, id, Some(&value));
        Ok(())
    }

    /// Deletes record `id` and returns it; the app's 404 when there is
    /// none.
    pub fn delete(&mut self, id: u64) -> Result<T, Reject> {
        self.room()?;
        let value = self.store.remove(id).ok_or(T::NOT_FOUND)?;
        self.record(DELETE, id, None);
        Ok(value)
    }

    /// Deletes every record; their ids are not handed out again.
    pub fn delete_all(&mut self) -> Result<(), Reject> {
        self.room()?;
        delete_all(&mut self.store);
        self.record(DELETE_ALL, 0, None);
        Ok(())
    }

    /// Writes the next piece of a streamed JSON array of every record, in
    /// id order, each written by `write`; returns its length, 0 once the
    /// array is complete (see `bedrock_json::ArrayCursor::piece`: `out`
    /// must hold the longest item and two bytes more).
    pub fn json_piece(
        &self,
        stream: &mut Stream,
        out: &mut [u8],
        write: impl FnMut(&mut JsonWriter<SliceSink<'_>>, u64, &T) -> Result<(), JsonError>,
    ) -> usize {
        let mut cursor = ArrayCursor(stream.cursor);
        let n = cursor.piece(out, self.store.iter_from(cursor.next_key()), write);
        stream.cursor = cursor.0;
        n
    }

    fn room(&self) -> Result<(), Reject> {
        match self.log.has_room(CHANGE_HEAD + T::MAX_BYTES) {
            true => Ok(()),
            false => Err(WAITING),
        }
    }

    /// Records a change already made (room was checked before it was).
    fn record(&mut self, op: u8, id: u64, value: Option<&T>) {
        let max = CHANGE_HEAD + T::MAX_BYTES;
        let _ = self
            .log
            .record_with(max, |out| write_change(op, id, value, out));
    }
}

/// Removes every record but keeps the ids used.
fn delete_all<T, const N: usize>(store: &mut Store<T, N>) {
    let next = store.next_id();
    store.clear();
    store.skip_ids_below(next);
}

/// Makes one change record's change; false if it makes no sense.
fn apply<T: Record, const N: usize>(store: &mut Store<T, N>, record: &[u8]) -> bool {
    let id = record
        .get(1..CHANGE_HEAD)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes);
    match (record.first(), id) {
        (Some(&DELETE_ALL), _) if record.len() == 1 => {
            delete_all(store);
            true
        }
        // A delete of an id already gone changes nothing.
        (Some(&DELETE), Some(id)) if record.len() == CHANGE_HEAD => {
            store.remove(id);
            true
        }
        (Some(&NEXT_ID), Some(next)) if record.len() == CHANGE_HEAD => {
            store.skip_ids_below(next);
            true
        }
        (Some(&PUT), Some(id)) => match T::decode(&record[CHANGE_HEAD..]) {
            Some(value) if store.get(id).is_some() => store.replace(id, value).is_ok(),
            // A create: its id must not have been handed out (ids whose
            // creation is not in the journal are skipped).
            Some(value) => store.insert_at(id, value).is_ok(),
            None => false,
        },
        _ => false,
    }
}

/// The change records of every create, update, delete and delete-all;
/// replay rebuilds the same records under the same ids.
impl<T: Record, const N: usize, const LOG: usize> Persist for Records<T, N, LOG> {
    const MAX_CHANGE: usize = CHANGE_HEAD + T::MAX_BYTES;

    fn drain_changes(&mut self, sink: &mut dyn FnMut(&[u8])) {
        self.log.drain(sink);
    }

    fn replay(&mut self, change: &[u8]) -> bool {
        apply(&mut self.store, change)
    }

    fn clear(&mut self) {
        self.store.clear();
        self.log.clear();
    }

    /// Every record as a put, then the next id.
    fn snapshot(&self, sink: &mut dyn FnMut(&[u8])) {
        let mut buf = [0u8; MAX_RECORD_BYTES];
        for (id, value) in self.store.iter() {
            let n = write_change(PUT, id, Some(value), &mut buf);
            sink(&buf[..n]);
        }
        let n = write_change::<T>(NEXT_ID, self.store.next_id(), None, &mut buf);
        sink(&buf[..n]);
    }
}

/// Implements [`Persist`] for an app whose data is its [`Records`]:
/// `persist_records!(Todos, todos: List)` hands each of the host's calls
/// into `Todos` to its field `todos`, of type `List`, so the app's change
/// records are those of its records.
#[macro_export]
macro_rules! persist_records {
    ($app:ty, $field:ident: $records:ty) => {
        impl $crate::Persist for $app {
            const MAX_CHANGE: usize = <$records as $crate::Persist>::MAX_CHANGE;

            fn drain_changes(&mut self, sink: &mut dyn FnMut(&[u8])) {
                $crate::Persist::drain_changes(&mut self.$field, sink)
            }

            fn replay(&mut self, change: &[u8]) -> bool {
                $crate::Persist::replay(&mut self.$field, change)
            }

            fn clear(&mut self) {
                $crate::Persist::clear(&mut self.$field)
            }

            fn snapshot(&self, sink: &mut dyn FnMut(&[u8])) {
                $crate::Persist::snapshot(&self.$field, sink)
            }
        }
    };
}

#[cfg(test)]
mod tests;
