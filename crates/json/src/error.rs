//! Error types of the writer and the reader.

use core::fmt;

/// Why a [`JsonWriter`](crate::JsonWriter) call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonError {
    /// The sink has no room for the bytes. Nothing of the failing `write` was
    /// stored, but earlier pieces of the same writer call may have been: roll
    /// back to a [`Mark`](crate::Mark) to drop them.
    Full,
    /// Opening one more container would exceed
    /// [`MAX_DEPTH`](crate::limits::MAX_DEPTH).
    TooDeep,
    /// An `f64` that is NaN or infinite: JSON has no spelling for it.
    NotFinite,
    /// The call does not fit the document's structure: a value where a key is
    /// expected, a key outside an object, an unbalanced or mismatched end, a
    /// second top-level value, or an invalid raw number.
    Misuse,
}

impl JsonError {
    /// A short, static, human-readable description.
    pub fn message(self) -> &'static str {
        match self {
            JsonError::Full => "output buffer full",
            JsonError::TooDeep => "nesting too deep",
            JsonError::NotFinite => "number is NaN or infinite",
            JsonError::Misuse => "call does not fit the document structure",
        }
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// Why [`parse_flat_object`](crate::parse_flat_object) or a string decode
/// failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// A byte that the JSON grammar does not allow here, at this offset
    /// (or at the input's length when the input ends early).
    Syntax {
        /// Byte offset into the input.
        offset: usize,
    },
    /// Bytes other than whitespace after the closing `}`.
    TrailingData,
    /// The input is not valid UTF-8.
    InvalidUtf8,
    /// A raw control character (U+0000..U+001F) inside a string.
    ControlInString,
    /// A backslash escape that JSON does not define, or a `\u` without four
    /// hex digits.
    BadEscape,
    /// A `\u` escape of a UTF-16 surrogate that is not part of a valid pair.
    LoneSurrogate,
    /// A number that breaks the RFC 8259 grammar (`01`, `1.`, `.5`, `+1`, `-`).
    BadNumber,
    /// An object or array as a value: only flat objects are supported.
    Nested,
    /// More fields than the caller's field buffer holds.
    TooManyFields,
    /// The same key (after unescaping) appears twice.
    DuplicateKey,
    /// The output buffer of a decode is too small.
    OutputFull,
    /// The input is empty or only whitespace.
    Empty,
}

impl ReadError {
    /// A short, static, human-readable description.
    pub fn message(self) -> &'static str {
        match self {
            ReadError::Syntax { .. } => "invalid JSON syntax",
            ReadError::TrailingData => "data after the JSON object",
            ReadError::InvalidUtf8 => "invalid UTF-8",
            ReadError::ControlInString => "control character in string",
            ReadError::BadEscape => "invalid escape in string",
            ReadError::LoneSurrogate => "unpaired UTF-16 surrogate escape",
            ReadError::BadNumber => "invalid number",
            ReadError::Nested => "nested objects and arrays are not supported",
            ReadError::TooManyFields => "too many fields",
            ReadError::DuplicateKey => "duplicate key",
            ReadError::OutputFull => "output buffer too small",
            ReadError::Empty => "empty input",
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Syntax { offset } => write!(f, "invalid JSON syntax at byte {offset}"),
            other => f.write_str(other.message()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_display() {
        assert_eq!(JsonError::Full.to_string(), "output buffer full");
        assert_eq!(
            JsonError::Misuse.message(),
            "call does not fit the document structure"
        );
        assert_eq!(
            ReadError::Syntax { offset: 7 }.to_string(),
            "invalid JSON syntax at byte 7"
        );
        assert_eq!(ReadError::Empty.to_string(), "empty input");
        for e in [
            ReadError::TrailingData,
            ReadError::InvalidUtf8,
            ReadError::ControlInString,
            ReadError::BadEscape,
            ReadError::LoneSurrogate,
            ReadError::BadNumber,
            ReadError::Nested,
            ReadError::TooManyFields,
            ReadError::DuplicateKey,
            ReadError::OutputFull,
        ] {
            assert!(!e.message().is_empty());
            assert_eq!(e.to_string(), e.message());
        }
        for e in [JsonError::TooDeep, JsonError::NotFinite] {
            assert_eq!(e.to_string(), e.message());
        }
    }
}
