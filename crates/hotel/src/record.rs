//! A hotel record and its bounded text fields.

use bedrock_json::{JsonError, JsonWriter, Sink};

use crate::limits::{MAX_CITY_BYTES, MAX_NAME_BYTES};

/// UTF-8 text of at most `N` bytes, stored inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Text<const N: usize> {
    len: u16,
    bytes: [u8; N],
}

impl<const N: usize> core::fmt::Debug for Text<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> Text<N> {
    const LEN_FITS: () = assert!(N <= u16::MAX as usize);

    /// The empty text.
    pub const fn empty() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::LEN_FITS;
        Text {
            len: 0,
            bytes: [0; N],
        }
    }

    /// `s` if it fits in `N` bytes.
    pub fn new(s: &str) -> Option<Self> {
        let mut text = Self::empty();
        text.bytes.get_mut(..s.len())?.copy_from_slice(s.as_bytes());
        text.len = s.len() as u16;
        Some(text)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Only `new` and `set_len` set `len`, both after a UTF-8 check, so
        // the fallback never happens.
        core::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

/// A hotel as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hotel {
    /// Its name, 1 to [`MAX_NAME_BYTES`] bytes.
    pub name: Text<MAX_NAME_BYTES>,
    /// Its city, 1 to [`MAX_CITY_BYTES`] bytes.
    pub city: Text<MAX_CITY_BYTES>,
}

impl Hotel {
    /// Writes `{"id":..,"name":..,"city":..}`.
    pub fn write_json<S: Sink>(&self, id: u64, w: &mut JsonWriter<S>) -> Result<(), JsonError> {
        w.begin_object()?;
        w.field_u64("id", id)?;
        w.field_str("name", self.name.as_str())?;
        w.field_str("city", self.city.as_str())?;
        w.end_object()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_at_and_past_its_limit() {
        let at = "é".repeat(MAX_NAME_BYTES / 2);
        assert_eq!(at.len(), MAX_NAME_BYTES);
        assert_eq!(Text::<MAX_NAME_BYTES>::new(&at).unwrap().as_str(), at);
        let past = "x".repeat(MAX_NAME_BYTES + 1);
        assert!(Text::<MAX_NAME_BYTES>::new(&past).is_none());
    }
}
