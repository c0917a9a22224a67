//! The record store: a fixed-capacity table of records of one type, owned by
//! value, with ids that auto-increment from 1 and are never reused. Capacity is
//! a const parameter and all memory lives inside the `Store` itself, so it can
//! sit in a `static` on bare metal or in a worker's state on Linux; nothing
//! here allocates. It owns id assignment, O(1) lookup and removal, and
//! iteration in id order, and [`Text`], bounded inline text for records'
//! fields; it knows nothing about HTTP, JSON or persistence (callers
//! journal what they did if they need durability).
#![no_std]
#![forbid(unsafe_code)]

mod store;
mod text;

pub use store::{Iter, Store, StoreError};
pub use text::Text;
