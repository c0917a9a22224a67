//! A set of methods, for `Allow` headers.

use bedrock_http::Method;

/// Methods in the order `Allow` lists them.
const ORDER: [Method; 9] = [
    Method::Get,
    Method::Head,
    Method::Post,
    Method::Put,
    Method::Patch,
    Method::Delete,
    Method::Options,
    Method::Trace,
    Method::Connect,
];

/// A small bit set of known methods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MethodSet(u16);

impl MethodSet {
    /// The empty set.
    pub const EMPTY: MethodSet = MethodSet(0);

    const fn bit(method: Method) -> u16 {
        match method {
            Method::Get => 1,
            Method::Head => 1 << 1,
            Method::Post => 1 << 2,
            Method::Put => 1 << 3,
            Method::Patch => 1 << 4,
            Method::Delete => 1 << 5,
            Method::Options => 1 << 6,
            Method::Trace => 1 << 7,
            Method::Connect => 1 << 8,
            Method::Other => 0,
        }
    }

    /// The set with `method` added.
    pub const fn with(self, method: Method) -> MethodSet {
        MethodSet(self.0 | Self::bit(method))
    }

    /// Whether `method` is in the set.
    pub const fn contains(self, method: Method) -> bool {
        let bit = Self::bit(method);
        bit != 0 && self.0 & bit != 0
    }

    /// True for the empty set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The methods in `Allow` order.
    pub fn iter(self) -> impl Iterator<Item = Method> {
        ORDER.into_iter().filter(move |m| self.contains(*m))
    }

    /// Writes `GET, HEAD, ...` into `out`; returns the length, or `None`
    /// when `out` is too small.
    pub fn write_allow(self, out: &mut [u8]) -> Option<usize> {
        let mut len = 0;
        for method in self.iter() {
            let sep: &[u8] = if len == 0 { b"" } else { b", " };
            for part in [sep, method.as_str().as_bytes()] {
                out.get_mut(len..len + part.len())?.copy_from_slice(part);
                len += part.len();
            }
        }
        Some(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_in_fixed_order() {
        let set = MethodSet::EMPTY
            .with(Method::Delete)
            .with(Method::Get)
            .with(Method::Options);
        let mut buf = [0u8; 32];
        let n = set.write_allow(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"GET, DELETE, OPTIONS");
    }

    #[test]
    fn allow_needs_room() {
        let set = MethodSet::EMPTY.with(Method::Get).with(Method::Head);
        let mut exact = [0u8; 9];
        assert_eq!(set.write_allow(&mut exact), Some(9));
        let mut short = [0u8; 8];
        assert_eq!(set.write_allow(&mut short), None);
    }

    #[test]
    fn other_is_never_a_member() {
        let set = MethodSet::EMPTY.with(Method::Other);
        assert!(set.is_empty());
        assert!(!set.contains(Method::Other));
    }
}
