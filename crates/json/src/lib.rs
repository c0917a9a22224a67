//! bedrock json: an allocation-free JSON layer for the bedrock web stack.
//!
//! This crate owns two things: a streaming [`JsonWriter`] that emits RFC 8259
//! JSON into any [`Sink`] (a caller-provided byte slice through [`SliceSink`],
//! or a [`CountingSink`] that only counts bytes so a `Content-Length` can be
//! known before writing), and a strict reader, [`parse_flat_object`], for the
//! flat request bodies the stack accepts (one object whose values are strings,
//! numbers, booleans or `null`), and [`ArrayCursor`], a JSON array written
//! in resumable pieces for streamed replies. It is `no_std`, uses no heap and no `unsafe`,
//! and never panics on any input. It must not touch I/O, HTTP framing or
//! application types: callers hand it bytes and buffers, it hands back bytes
//! and borrowed views into them. Nesting and field counts are bounded by the
//! named constants in [`limits`].
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod array;
mod error;
mod escape;
pub mod limits;
mod number;
mod reader;
mod sink;
mod string;
mod writer;

pub use array::ArrayCursor;
pub use error::{JsonError, ReadError};
pub use escape::escaped_len;
pub use number::is_valid_number;
pub use reader::{get, parse_flat_object, Field, Value};
pub use sink::{CountingSink, Sink, SliceSink, Truncate};
pub use string::JsonStr;
pub use writer::{JsonWriter, Mark};
