//! Slots, an id index and an id-ordered list, all in fixed arrays.
//!
//! Layout: records live in `slots`; a free slot is recycled but an id never
//! is. `buckets` is a chained hash index (one bucket per slot, so the load
//! factor is at most 1) from id to slot, which makes `get` and `remove` O(1)
//! expected. Live slots are also threaded on a doubly linked list in id order;
//! because ids only grow, an insert is an append at the tail.
//!
//! An empty store is all zero bytes (links hold slot + 1, `None` is 0, and
//! the id counter counts ids issued), so a `static` store lands in `.bss`
//! instead of making the image as large as the store.

use core::fmt;
use core::num::NonZeroU32;

/// A link to a slot: slot index + 1, so that "none" is zero.
type Link = Option<NonZeroU32>;

fn link(slot: usize) -> Link {
    // Slots are below N < u32::MAX (checked in `new`), so slot + 1 fits.
    NonZeroU32::new(slot as u32 + 1)
}

fn slot_index(l: NonZeroU32) -> usize {
    l.get() as usize - 1
}

/// Why the store refused an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// Every slot is in use; the app maps this to 507 Insufficient Storage.
    Full,
    /// No record has this id (never created, or removed).
    NotFound,
    /// All `u64` ids have been handed out; ids are never reused.
    IdsExhausted,
}

impl StoreError {
    /// One line of text for logs and error bodies.
    pub fn message(self) -> &'static str {
        match self {
            StoreError::Full => "the store is full",
            StoreError::NotFound => "no record with this id",
            StoreError::IdsExhausted => "no ids left",
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

struct Slot<T> {
    /// `Some` while the slot holds a record.
    record: Option<(u64, T)>,
    /// Neighbours in id order (live slots) or the next free slot (free slots, in `next`).
    prev: Link,
    next: Link,
    /// Next slot in the same hash bucket.
    chain: Link,
}

impl<T> Slot<T> {
    const FREE: Slot<T> = Slot {
        record: None,
        prev: None,
        next: None,
        chain: None,
    };
}

/// A fixed-capacity store of `N` records of type `T`.
///
/// `N` must be at least 1 and below `u32::MAX` (checked at compile time when
/// `new` is evaluated).
pub struct Store<T, const N: usize> {
    slots: [Slot<T>; N],
    buckets: [Link; N],
    /// Head of the free-slot stack (linked through `Slot::next`).
    free: Link,
    /// Never-used slots start at `fresh`; using them first avoids building a
    /// free list of N entries in `new`, which keeps `new` a cheap `const fn`.
    fresh: usize,
    head: Link,
    tail: Link,
    len: usize,
    /// Ids handed out so far: the next one is `issued + 1`.
    issued: u64,
}

impl<T, const N: usize> Default for Store<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const N: usize> Store<T, N> {
    const CAPACITY_OK: () = assert!(
        N >= 1 && N < u32::MAX as usize,
        "store capacity out of range"
    );

    /// An empty store. `const`, so it can initialise a `static`.
    pub const fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::CAPACITY_OK;
        Store {
            slots: [Slot::FREE; N],
            buckets: [None; N],
            free: None,
            fresh: 0,
            head: None,
            tail: None,
            len: 0,
            issued: 0,
        }
    }

    /// Empties the store in place, ids included (the next insert gets 1
    /// again), without building a second store on the stack: for a host
    /// about to rebuild it from a journal.
    pub fn clear(&mut self) {
        for slot in &mut self.slots[..self.fresh] {
            *slot = Slot::FREE;
        }
        self.buckets.fill(None);
        self.free = None;
        self.fresh = 0;
        self.head = None;
        self.tail = None;
        self.len = 0;
        self.issued = 0;
    }

    /// How many records the store can hold.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// How many records it holds now.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when it holds no record.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The id the next insert will get.
    pub fn next_id(&self) -> u64 {
        self.issued + 1
    }

    /// Stores `value` under `id`, the id a replayed create was given: ids
    /// between the next one and `id` (creates the journal lost) are
    /// skipped, never handed out. `NotFound` when `id` is below the next id
    /// (it was handed out already: a replay out of order).
    pub fn insert_at(&mut self, id: u64, value: T) -> Result<(), StoreError> {
        if id < self.next_id() {
            return Err(StoreError::NotFound);
        }
        self.skip_ids_below(id);
        self.insert(value).map(drop)
    }

    /// Makes the next insert's id at least `next` (ids below it are never
    /// handed out): for a snapshot that ends with the deleted top ids.
    pub fn skip_ids_below(&mut self, next: u64) {
        self.issued = self.issued.max(next.saturating_sub(1));
    }

    fn bucket_of(id: u64) -> usize {
        // splitmix64's finaliser: spreads sequential ids and makes chains
        // that an API client could lengthen on purpose hard to construct.
        let mut z = id;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z % N as u64) as usize
    }

    fn slot_of(&self, id: u64) -> Option<usize> {
        let mut at = self.buckets[Self::bucket_of(id)];
        while let Some(l) = at {
            let slot = &self.slots[slot_index(l)];
            if matches!(slot.record, Some((rid, _)) if rid == id) {
                return Some(slot_index(l));
            }
            at = slot.chain;
        }
        None
    }

    /// Stores `value` under a new id and returns the id.
    pub fn insert(&mut self, value: T) -> Result<u64, StoreError> {
        if self.len == N {
            return Err(StoreError::Full);
        }
        let id = self.next_id();
        // The last id, u64::MAX, is never issued (as before: the counter
        // of the next id must not overflow).
        if id == u64::MAX {
            return Err(StoreError::IdsExhausted);
        }
        let at = match self.free {
            Some(l) => {
                let at = slot_index(l);
                self.free = self.slots[at].next;
                at
            }
            None => {
                // len < N and the free stack is empty, so a fresh slot remains.
                let at = self.fresh;
                self.fresh += 1;
                at
            }
        };
        let bucket = Self::bucket_of(id);
        self.slots[at] = Slot {
            record: Some((id, value)),
            prev: self.tail,
            next: None,
            chain: self.buckets[bucket],
        };
        self.buckets[bucket] = link(at);
        match self.tail {
            None => self.head = link(at),
            Some(tail) => self.slots[slot_index(tail)].next = link(at),
        }
        self.tail = link(at);
        self.len += 1;
        self.issued = id;
        Ok(id)
    }

    /// The record with this id.
    pub fn get(&self, id: u64) -> Option<&T> {
        let at = self.slot_of(id)?;
        self.slots[at].record.as_ref().map(|(_, v)| v)
    }

    /// The record with this id, to change in place.
    pub fn get_mut(&mut self, id: u64) -> Option<&mut T> {
        let at = self.slot_of(id)?;
        self.slots[at].record.as_mut().map(|(_, v)| v)
    }

    /// Replaces the record with this id, returning the old value.
    pub fn replace(&mut self, id: u64, value: T) -> Result<T, StoreError> {
        let slot = self.get_mut(id).ok_or(StoreError::NotFound)?;
        Ok(core::mem::replace(slot, value))
    }

    /// Removes the record with this id and returns it.
    pub fn remove(&mut self, id: u64) -> Option<T> {
        let bucket = Self::bucket_of(id);
        // Unlink from the hash chain, remembering the predecessor.
        let mut before: Link = None;
        let mut cursor = self.buckets[bucket];
        let at = loop {
            let l = cursor?;
            let slot = &self.slots[slot_index(l)];
            if matches!(slot.record, Some((rid, _)) if rid == id) {
                break slot_index(l);
            }
            before = cursor;
            cursor = slot.chain;
        };
        let slot = &mut self.slots[at];
        let (chain, prev, next) = (slot.chain, slot.prev, slot.next);
        let (_, value) = slot.record.take()?;
        match before {
            None => self.buckets[bucket] = chain,
            Some(b) => self.slots[slot_index(b)].chain = chain,
        }
        // Unlink from the id-ordered list.
        match prev {
            None => self.head = next,
            Some(p) => self.slots[slot_index(p)].next = next,
        }
        match next {
            None => self.tail = prev,
            Some(n) => self.slots[slot_index(n)].prev = prev,
        }
        self.slots[at] = Slot {
            next: self.free,
            ..Slot::FREE
        };
        self.free = link(at);
        self.len -= 1;
        Some(value)
    }

    /// All records in id order.
    pub fn iter(&self) -> Iter<'_, T, N> {
        Iter {
            store: self,
            at: self.head,
        }
    }

    /// Records in id order starting at the first id `>= id`: the resume point
    /// for output streamed in pieces. O(1) when `id` is live (the usual case:
    /// a cursor names the next record to send); otherwise the list is walked
    /// from the head, O(len).
    pub fn iter_from(&self, id: u64) -> Iter<'_, T, N> {
        let at = match self.slot_of(id) {
            Some(at) => link(at),
            None => {
                let mut at = self.head;
                while let Some(l) = at {
                    match &self.slots[slot_index(l)].record {
                        Some((rid, _)) if *rid >= id => break,
                        _ => at = self.slots[slot_index(l)].next,
                    }
                }
                at
            }
        };
        Iter { store: self, at }
    }
}

/// Iterator over `(id, &record)` in id order.
pub struct Iter<'s, T, const N: usize> {
    store: &'s Store<T, N>,
    at: Link,
}

impl<'s, T, const N: usize> Iterator for Iter<'s, T, N> {
    type Item = (u64, &'s T);

    fn next(&mut self) -> Option<Self::Item> {
        let slot = &self.store.slots[slot_index(self.at?)];
        self.at = slot.next;
        slot.record.as_ref().map(|(id, v)| (*id, v))
    }
}

#[cfg(test)]
mod tests;
