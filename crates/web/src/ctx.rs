//! What a handler sees: the request, its path parameters, its body and a
//! buffer to write its reply body into.

use bedrock_http::{query_get, Request};

use crate::limits::MAX_PARAMS;
use crate::reply::Reject;
use crate::route::Param;

/// Path parameters captured by a route pattern, in pattern order. Values
/// are raw path text (still percent-encoded).
///
/// Small on purpose (a lookup starts by making an empty one): the names
/// are the matched route's own, and a value is kept as where it ends in
/// the path; where it starts follows from the pattern.
#[derive(Clone, Copy, Debug)]
pub struct Params<'p> {
    /// The path the values are cut from.
    path: &'p str,
    /// The matched route's parameters, empty when nothing is captured.
    captured: &'p [Param],
    /// Where the value of each captured parameter ends in `path`.
    ends: [usize; MAX_PARAMS],
}

impl Default for Params<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'p> Params<'p> {
    /// No parameters.
    pub const fn new() -> Self {
        Params {
            path: "",
            captured: &[],
            ends: [0; MAX_PARAMS],
        }
    }

    /// Forgets every capture.
    pub(crate) fn clear(&mut self) {
        self.captured = &[];
    }

    /// Where matching writes the end of value `at` (below `MAX_PARAMS`,
    /// as patterns are checked to hold at most that many).
    pub(crate) fn ends_mut(&mut self) -> &mut [usize; MAX_PARAMS] {
        &mut self.ends
    }

    /// Makes the values whose ends are in place the captures of
    /// `captured` on `path`.
    pub(crate) fn capture(&mut self, path: &'p str, captured: &'p [Param]) {
        self.path = path;
        self.captured = captured;
    }

    /// The value captured for `name`.
    pub fn get(&self, name: &str) -> Option<&'p str> {
        let at = self.captured.iter().position(|p| p.name() == name)?;
        let previous_end = match at.checked_sub(1) {
            Some(previous) => *self.ends.get(previous)?,
            None => 0,
        };
        let start = previous_end + self.captured[at].lead();
        self.path.get(start..*self.ends.get(at)?)
    }

    /// How many parameters were captured.
    pub fn len(&self) -> usize {
        self.captured.len()
    }

    /// True when the pattern had no parameters.
    pub fn is_empty(&self) -> bool {
        self.captured.is_empty()
    }
}

/// Types a path parameter can be extracted as. A value that does not parse
/// is the client's fault: 400.
pub trait FromParam<'p>: Sized {
    /// Parses the raw segment.
    fn from_param(raw: &'p str) -> Option<Self>;
}

impl<'p> FromParam<'p> for &'p str {
    fn from_param(raw: &'p str) -> Option<Self> {
        Some(raw)
    }
}

macro_rules! from_param_unsigned {
    ($($t:ty),*) => {$(
        impl FromParam<'_> for $t {
            /// Plain decimal digits only: no sign, no spaces, no overflow.
            fn from_param(raw: &str) -> Option<Self> {
                if raw.is_empty() || raw.len() > 20 || !raw.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                raw.parse().ok()
            }
        }
    )*};
}
from_param_unsigned!(u8, u16, u32, u64, usize);

/// The context of one request, handed to its handler.
pub struct Ctx<'a> {
    /// The parsed request head.
    pub request: &'a Request<'a, 'a>,
    /// Parameters captured by the route pattern.
    pub params: Params<'a>,
    /// The request body, already de-chunked by the server.
    pub body: &'a [u8],
    /// Where the handler writes its reply body ([`crate::Body::Out`]).
    pub out: &'a mut [u8],
}

impl<'a> Ctx<'a> {
    /// A typed path parameter; 400 when absent or unparsable.
    pub fn param<T: FromParam<'a>>(&self, name: &str) -> Result<T, Reject> {
        self.params
            .get(name)
            .and_then(T::from_param)
            .ok_or(Reject::new(400, "invalid path parameter"))
    }

    /// A raw (still percent-encoded) query parameter.
    pub fn query(&self, key: &str) -> Option<&'a str> {
        query_get(self.request.query()?, key)
    }

    /// A request header, first of its name.
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.request.header(name)
    }

    /// The media type of the body without parameters, lower-cased
    /// comparison left to the caller; `None` when absent.
    pub fn content_type(&self) -> Option<&'a [u8]> {
        let value = self.header("content-type")?;
        let end = value.iter().position(|&b| b == b';').unwrap_or(value.len());
        Some(value[..end].trim_ascii())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_params_are_strict() {
        assert_eq!(u64::from_param("42"), Some(42));
        assert_eq!(u64::from_param("0"), Some(0));
        assert_eq!(u64::from_param("18446744073709551615"), Some(u64::MAX));
        assert_eq!(u64::from_param("18446744073709551616"), None);
        assert_eq!(u64::from_param("99999999999999999999999"), None);
        for bad in ["", "-1", "+1", " 1", "1 ", "1a", "0x10", "١"] {
            assert_eq!(u64::from_param(bad), None, "{bad:?}");
        }
        assert_eq!(u8::from_param("255"), Some(255));
        assert_eq!(u8::from_param("256"), None);
    }

    #[test]
    fn params_lookup() {
        let route = crate::Route::new(bedrock_http::Method::Get, "/x/{a}/y/{b}", nothing);
        let mut p = Params::new();
        assert!(p.is_empty());
        assert!(route.matches("/x/1/y/22", &mut p));
        assert_eq!(
            (p.len(), p.get("a"), p.get("b")),
            (2, Some("1"), Some("22"))
        );
        assert_eq!(p.get("c"), None);
        p.clear();
        assert_eq!(p.get("a"), None);
        assert!(p.is_empty());
    }

    fn nothing(_: &mut (), _: &mut Ctx<'_>) -> crate::Outcome {
        Ok(crate::Reply::no_content())
    }
}
