//! Bounded text for records: UTF-8 of at most `N` bytes stored inline, so
//! a record holding it has a fixed size and can live in a [`crate::Store`].

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
        // Only `new` sets `len`, from a `&str`, so the fallback never
        // happens.
        core::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::Text;

    #[test]
    fn text_at_and_past_its_limit() {
        let at = "é".repeat(4);
        assert_eq!(at.len(), 8);
        assert_eq!(Text::<8>::new(&at).unwrap().as_str(), at);
        assert!(Text::<8>::new("123456789").is_none());
        assert_eq!(Text::<8>::empty().as_str(), "");
    }
}
