//! The app's change records, what the host journals: `1 | id u64 LE |
//! the todo as JSON` (its state after a create or an update), `2 | id u64
//! LE` (deleted), `3` (every todo deleted) and, ending a snapshot, `4 |
//! next id u64 LE` (ids below it are used). The same `apply` runs a live
//! change and a replayed one.

use bedrock_json::{JsonWriter, SliceSink};
use bedrock_store::{Store, StoreError};

use crate::body::Patch;
use crate::{write_fields, Todo, CAPACITY, MAX_TITLE};

/// The longest record: op, id and a todo whose title is all escapes.
pub const MAX_CHANGE: usize = 9 + 64 + 6 * MAX_TITLE;

/// One change to the todos (short-lived: the size of a `Put` is fine).
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug)]
pub enum Change {
    Put(u64, Todo),
    Delete(u64),
    Clear,
    NextId(u64),
}

impl Change {
    /// Makes the change. A put of an id not there is a create, which must
    /// get that id (ids whose creation is not in the journal are skipped).
    pub fn apply(&self, store: &mut Store<Todo, CAPACITY>) -> Result<(), StoreError> {
        match *self {
            Change::Put(id, todo) if store.get(id).is_some() => store.replace(id, todo).map(drop),
            Change::Put(id, todo) => store.insert_at(id, todo),
            Change::Delete(id) => store.remove(id).map(drop).ok_or(StoreError::NotFound),
            Change::Clear => {
                while let Some((id, _)) = store.iter().next() {
                    store.remove(id);
                }
                Ok(())
            }
            Change::NextId(next) => {
                store.skip_ids_below(next);
                Ok(())
            }
        }
    }

    /// Writes the record; returns its length.
    pub fn encode(&self, out: &mut [u8; MAX_CHANGE]) -> usize {
        let (op, id) = match *self {
            Change::Put(id, _) => (1, id),
            Change::Delete(id) => (2, id),
            Change::NextId(next) => (4, next),
            Change::Clear => {
                out[0] = 3;
                return 1;
            }
        };
        out[0] = op;
        out[1..9].copy_from_slice(&id.to_le_bytes());
        let Change::Put(_, todo) = self else { return 9 };
        let mut w = JsonWriter::new(SliceSink::new(&mut out[9..]));
        // MAX_CHANGE holds the longest todo.
        let _ = write_fields(&mut w, todo).and_then(|()| w.end_object());
        9 + w.sink().as_bytes().len()
    }

    /// Reads a record; `None` if it is not one this app writes.
    pub fn decode(r: &[u8]) -> Option<Change> {
        let id = r
            .get(1..9)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()));
        match (r.first()?, r.len()) {
            (1, _) => {
                let p = Patch::parse(&r[9..]).ok()?;
                let todo = Todo {
                    title: p.title?,
                    completed: p.completed?,
                    order: p.order?,
                };
                Some(Change::Put(id?, todo))
            }
            (2, 9) => Some(Change::Delete(id?)),
            (3, 1) => Some(Change::Clear),
            (4, 9) => Some(Change::NextId(id?)),
            _ => None,
        }
    }
}
