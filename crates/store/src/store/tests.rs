use super::*;

extern crate std;
use std::vec::Vec;

fn ids<T, const N: usize>(s: &Store<T, N>) -> Vec<u64> {
    s.iter().map(|(id, _)| id).collect()
}

/// A store holding `values`, inserted in order (ids 1, 2, ...).
fn holding<T, const N: usize>(values: impl IntoIterator<Item = T>) -> Store<T, N> {
    let mut s = Store::new();
    for v in values {
        s.insert(v).unwrap();
    }
    s
}

#[test]
fn ids_start_at_one_and_increase() {
    let mut s: Store<&str, 4> = Store::new();
    assert_eq!(s.insert("a"), Ok(1));
    assert_eq!(s.insert("b"), Ok(2));
    assert_eq!(s.get(1), Some(&"a"));
    assert_eq!(s.get(2), Some(&"b"));
    assert_eq!(s.get(0), None);
    assert_eq!(s.get(3), None);
    assert_eq!(s.len(), 2);
}

#[test]
fn ids_are_never_reused_after_remove() {
    let mut s: Store<u32, 2> = Store::new();
    assert_eq!(s.insert(10), Ok(1));
    assert_eq!(s.remove(1), Some(10));
    assert_eq!(s.insert(11), Ok(2));
    assert_eq!(s.remove(2), Some(11));
    assert_eq!(s.insert(12), Ok(3));
    assert_eq!(s.get(1), None);
    assert_eq!(s.get(3), Some(&12));
    assert_eq!(s.next_id(), 4);
}

#[test]
fn full_at_capacity_and_not_before() {
    let mut s: Store<u32, 3> = Store::new();
    for i in 0..3 {
        assert!(s.insert(i).is_ok(), "insert {i} below capacity");
    }
    assert_eq!(s.insert(99), Err(StoreError::Full));
    assert_eq!(s.len(), 3);
    // A failed insert consumes no id.
    assert_eq!(s.next_id(), 4);
    assert_eq!(s.remove(2), Some(1));
    assert_eq!(s.insert(7), Ok(4));
    assert_eq!(s.insert(8), Err(StoreError::Full));
}

#[test]
fn remove_missing_is_none_and_changes_nothing() {
    let mut s: Store<u32, 3> = Store::new();
    s.insert(1).unwrap();
    assert_eq!(s.remove(5), None);
    assert_eq!(s.remove(1), Some(1));
    assert_eq!(s.remove(1), None);
    assert!(s.is_empty());
    assert_eq!(ids(&s), Vec::<u64>::new());
}

#[test]
fn replace_updates_in_place_and_keeps_order() {
    let mut s: Store<u32, 4> = holding([10, 20, 30]);
    assert_eq!(s.replace(2, 21), Ok(20));
    assert_eq!(s.replace(9, 0), Err(StoreError::NotFound));
    let all: Vec<(u64, u32)> = s.iter().map(|(i, v)| (i, *v)).collect();
    assert_eq!(all, [(1, 10), (2, 21), (3, 30)]);
}

#[test]
fn iteration_is_in_id_order_after_slot_reuse() {
    let mut s: Store<u64, 4> = holding(1..=4);
    s.remove(2);
    s.remove(1);
    // Freed slots are reused by ids 5 and 6, but order follows ids.
    s.insert(5).unwrap();
    s.insert(6).unwrap();
    assert_eq!(ids(&s), [3, 4, 5, 6]);
    let values: Vec<u64> = s.iter().map(|(_, v)| *v).collect();
    assert_eq!(values, [3, 4, 5, 6]);
}

#[test]
fn iter_from_resumes_at_live_and_dead_ids() {
    let mut s: Store<u64, 8> = holding(1..=6);
    s.remove(3);
    s.remove(4);
    let from = |id| s.iter_from(id).map(|(i, _)| i).collect::<Vec<_>>();
    assert_eq!(from(2), [2, 5, 6]);
    assert_eq!(from(3), [5, 6]);
    assert_eq!(from(0), [1, 2, 5, 6]);
    assert_eq!(from(6), [6]);
    assert_eq!(from(7), Vec::<u64>::new());
}

#[test]
fn capacity_one() {
    let mut s: Store<u8, 1> = Store::new();
    assert_eq!(s.capacity(), 1);
    assert_eq!(s.insert(1), Ok(1));
    assert_eq!(s.insert(2), Err(StoreError::Full));
    assert_eq!(s.remove(1), Some(1));
    assert_eq!(s.insert(3), Ok(2));
    assert_eq!(ids(&s), [2]);
}

#[test]
fn long_hash_chains_still_resolve() {
    // With 4 buckets and 1000 ids, every bucket is shared by many ids over time.
    let mut s: Store<u64, 4> = Store::new();
    for round in 0..250u64 {
        let base = s.next_id();
        for k in 0..4 {
            assert_eq!(s.insert(round * 4 + k), Ok(base + k));
        }
        for k in [2, 0, 3, 1] {
            assert_eq!(s.remove(base + k), Some(round * 4 + k));
        }
    }
    assert!(s.is_empty());
    assert_eq!(s.next_id(), 1001);
}

#[test]
fn ids_exhausted_is_an_error_not_a_wrap() {
    let mut s: Store<u8, 2> = Store::new();
    s.issued = u64::MAX - 2;
    // At the limit: the last id issued is u64::MAX - 1.
    assert_eq!(s.insert(1), Ok(u64::MAX - 1));
    // Past it: an error, and nothing stored.
    assert_eq!(s.insert(2), Err(StoreError::IdsExhausted));
    assert_eq!(s.len(), 1);
    assert_eq!(s.get(u64::MAX - 1), Some(&1));
}

#[test]
fn static_store_is_const_constructible() {
    static EMPTY: Store<u64, 16> = Store::new();
    assert_eq!(EMPTY.len(), 0);
    assert_eq!(EMPTY.capacity(), 16);
}

#[test]
fn clear_empties_in_place_and_restarts_ids() {
    let mut s: Store<u32, 4> = holding(0..4);
    s.remove(2);
    s.clear();
    assert!(s.is_empty());
    assert_eq!(s.next_id(), 1);
    assert_eq!(s.get(1), None);
    assert_eq!(ids(&s), Vec::<u64>::new());
    // Full capacity again, ids from 1, lookups right.
    for v in 10..14 {
        s.insert(v).unwrap();
    }
    assert_eq!(ids(&s), [1, 2, 3, 4]);
    assert_eq!(s.get(3), Some(&12));
    assert_eq!(s.insert(99), Err(StoreError::Full));
}

#[test]
fn skipped_ids_are_never_handed_out() {
    let mut s: Store<u32, 4> = Store::new();
    s.insert(1).unwrap();
    s.skip_ids_below(10);
    assert_eq!(s.insert(2), Ok(10));
    // Never backwards.
    s.skip_ids_below(3);
    assert_eq!(s.next_id(), 11);
}

#[test]
fn insert_at_skips_lost_ids_and_refuses_used_ones() {
    let mut s: Store<u32, 4> = Store::new();
    assert_eq!(s.insert_at(1, 10), Ok(()));
    assert_eq!(s.insert_at(4, 40), Ok(()));
    assert_eq!(s.next_id(), 5);
    assert_eq!(ids(&s), [1, 4]);
    // At and below the ids handed out: refused, nothing stored.
    assert_eq!(s.insert_at(4, 0), Err(StoreError::NotFound));
    assert_eq!(s.insert_at(2, 0), Err(StoreError::NotFound));
    // A huge gap costs nothing (no insert per skipped id).
    assert_eq!(s.insert_at(1 << 40, 7), Ok(()));
    assert_eq!(s.get(1 << 40), Some(&7));
    s.insert(8).unwrap();
    assert_eq!(s.insert_at(u64::MAX - 1, 9), Err(StoreError::Full));
}
