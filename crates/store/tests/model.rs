//! The store against a model (`BTreeMap` plus a counter) under random
//! sequences of operations.

use bedrock_store::{Store, StoreError};
use proptest::prelude::*;
use std::collections::BTreeMap;

const CAP: usize = 8;

#[derive(Debug, Clone)]
enum Op {
    Insert(u32),
    Remove(u64),
    Replace(u64, u32),
    Get(u64),
    IterFrom(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<u32>().prop_map(Op::Insert),
        (0u64..40).prop_map(Op::Remove),
        (0u64..40, any::<u32>()).prop_map(|(i, v)| Op::Replace(i, v)),
        (0u64..40).prop_map(Op::Get),
        (0u64..40).prop_map(Op::IterFrom),
    ]
}

proptest! {
    #[test]
    fn behaves_like_an_ordered_map(ops in proptest::collection::vec(op(), 0..200)) {
        let mut store: Store<u32, CAP> = Store::new();
        let mut model = BTreeMap::new();
        let mut next_id = 1u64;
        for op in ops {
            match op {
                Op::Insert(v) => {
                    let got = store.insert(v);
                    if model.len() == CAP {
                        prop_assert_eq!(got, Err(StoreError::Full));
                    } else {
                        prop_assert_eq!(got, Ok(next_id));
                        model.insert(next_id, v);
                        next_id += 1;
                    }
                }
                Op::Remove(id) => prop_assert_eq!(store.remove(id), model.remove(&id)),
                Op::Replace(id, v) => {
                    let want = match model.get_mut(&id) {
                        Some(slot) => Ok(std::mem::replace(slot, v)),
                        None => Err(StoreError::NotFound),
                    };
                    prop_assert_eq!(store.replace(id, v), want);
                }
                Op::Get(id) => prop_assert_eq!(store.get(id), model.get(&id)),
                Op::IterFrom(id) => {
                    let got: Vec<_> = store.iter_from(id).map(|(i, v)| (i, *v)).collect();
                    let want: Vec<_> = model.range(id..).map(|(i, v)| (*i, *v)).collect();
                    prop_assert_eq!(got, want);
                }
            }
            prop_assert_eq!(store.len(), model.len());
            let all: Vec<_> = store.iter().map(|(i, v)| (i, *v)).collect();
            let want: Vec<_> = model.iter().map(|(i, v)| (*i, *v)).collect();
            prop_assert_eq!(all, want);
        }
    }
}
