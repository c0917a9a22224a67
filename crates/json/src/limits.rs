//! Named limits of the crate. Every limit has a test at the limit and just
//! past it.

/// Deepest nesting of arrays and objects the [`JsonWriter`](crate::JsonWriter)
/// accepts. Opening one more container returns
/// [`JsonError::TooDeep`](crate::JsonError::TooDeep). The nesting state is a
/// 64-bit stack, one bit per open container.
pub const MAX_DEPTH: usize = 64;

/// Recommended number of fields for the buffer handed to
/// [`parse_flat_object`](crate::parse_flat_object), e.g.
/// `[Field::EMPTY; MAX_FIELDS]`. The reader itself accepts as many fields as
/// the caller's slice holds and returns
/// [`ReadError::TooManyFields`](crate::ReadError::TooManyFields) past that.
/// Duplicate keys are checked pairwise, so the cost of a parse grows with the
/// square of the field count: keep buffers near this size.
pub const MAX_FIELDS: usize = 32;

/// Largest number of bytes a formatted `f64` occupies (sign, 17 significant
/// digits, point, exponent); the writer formats floats into a stack buffer of
/// this size.
pub const MAX_F64_LEN: usize = 32;
