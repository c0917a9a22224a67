//! Routes: a method, a path pattern and a handler, checked at compile time.
//!
//! A pattern is a `/`-separated path whose segments are literal text, a
//! parameter `{name}` (one non-empty segment) or, last only, `{*name}` (the
//! rest of the path, possibly empty). `Route::new` is a `const fn` that
//! rejects a malformed pattern, so a bad route stops the build rather than
//! misrouting at run time.

use bedrock_http::Method;

use crate::ctx::{Ctx, Params};
use crate::limits::MAX_PARAMS;
use crate::reply::{Reject, Reply};

/// What a handler returns: a reply, or a rejection the framework renders
/// through [`crate::Service::render_reject`]. `?` works on [`Reject`]s.
pub type Outcome = Result<Reply, Reject>;

/// One entry of a route table.
pub struct Route<S> {
    method: Method,
    pattern: &'static str,
    /// Bytes of `pattern` before its first parameter: compared in one go.
    literal_prefix: usize,
    /// `/` bytes in the pattern: a path can only match with as many (or,
    /// with a trailing `{*rest}`, at least as many), a cheap first filter.
    slashes: usize,
    wildcard: bool,
    /// Index keys of the first two segments, see [`segment_keys`].
    segment_keys: [SegmentKey; 2],
    /// Where each parameter sits in the pattern, so matching never
    /// re-parses it; the first `param_count` are used.
    params: [Param; MAX_PARAMS],
    param_count: usize,
    handler: fn(&mut S, &mut Ctx<'_>) -> Outcome,
}

impl<S> Route<S> {
    /// A route; panics at compile time (when used in a `const`) if the
    /// pattern is malformed.
    pub const fn new(
        method: Method,
        pattern: &'static str,
        handler: fn(&mut S, &mut Ctx<'_>) -> Outcome,
    ) -> Self {
        let literal_prefix = check_pattern(pattern);
        let (slashes, wildcard) = shape(pattern);
        let (params, param_count) = params_of(pattern);
        Route {
            method,
            pattern,
            literal_prefix,
            slashes,
            wildcard,
            segment_keys: segment_keys(pattern),
            params,
            param_count,
            handler,
        }
    }

    /// The method this route answers.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The pattern as written.
    pub const fn pattern(&self) -> &'static str {
        self.pattern
    }

    pub(crate) fn call(&self, app: &mut S, cx: &mut Ctx<'_>) -> Outcome {
        (self.handler)(app, cx)
    }

    /// The pattern's `/` count and whether it ends in `{*rest}`.
    pub(crate) const fn shape(&self) -> (usize, bool) {
        (self.slashes, self.wildcard)
    }

    /// What a matching path's first two segments can be.
    pub(crate) const fn segment_keys(&self) -> [SegmentKey; 2] {
        self.segment_keys
    }

    /// Whether a path with `path_slashes` `/` bytes could match at all.
    pub(crate) fn could_match(&self, path_slashes: usize) -> bool {
        path_slashes == self.slashes || (self.wildcard && path_slashes > self.slashes)
    }

    /// Matches `path` against the pattern; on success `params` hold its
    /// captures and nothing else (their names borrowed from the route).
    #[inline(always)]
    pub fn matches<'p>(&'p self, path: &'p str, params: &mut Params<'p>) -> bool {
        // Also for literal patterns: no captures left from a failed try.
        params.clear();
        let bytes = path.as_bytes();
        let prefix = self.pattern.as_bytes().split_at(self.literal_prefix).0;
        if self.param_count == 0 {
            return bytes.len() == prefix.len() && starts_with(bytes, prefix);
        }
        if !starts_with(bytes, prefix) {
            return false;
        }
        let captured = self.params.split_at(self.param_count).0;
        let mut at = prefix.len();
        for (param, end) in captured.iter().zip(params.ends_mut()) {
            if param.rest {
                // Always the last parameter.
                at = bytes.len();
                *end = at;
                continue;
            }
            let Some(value) = bytes.get(at..) else {
                return false;
            };
            let len = find(value, b'/');
            if len == 0 {
                return false;
            }
            at += len;
            *end = at;
            if !starts_with(&bytes[at..], param.literal) {
                return false;
            }
            at += param.literal.len();
        }
        if at != bytes.len() {
            return false;
        }
        params.capture(path, captured);
        true
    }
}

/// One `{name}` or `{*name}` of a pattern, cut out when the route is
/// built so that matching never re-parses the pattern.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Param {
    /// The name, without braces or `*`.
    name: &'static str,
    /// A `{*name}`: takes the rest of the path.
    rest: bool,
    /// Bytes of literal text between the previous parameter's value (or
    /// the start of the path) and this one's: where the value starts.
    lead: usize,
    /// The literal text after the closing brace, up to the next parameter
    /// or the end of the pattern.
    literal: &'static [u8],
}

impl Param {
    /// The parameter's name.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// Literal bytes between the previous value (or the path's start)
    /// and this parameter's value.
    pub(crate) fn lead(&self) -> usize {
        self.lead
    }
}

/// Whether `hay` begins with `needle`, a word at a time: patterns'
/// literal runs are short, and a call to `memcmp` costs more than this.
fn starts_with(hay: &[u8], needle: &[u8]) -> bool {
    hay.get(..needle.len())
        .is_some_and(|hay| same_bytes(hay, needle))
}

/// Whether `a` and `b`, of equal length, hold the same bytes: eight bytes
/// at a time with the last word overlapping, or two overlapping four-byte
/// words, or bytewise below four.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    fn word<const N: usize>(s: &[u8], at: usize) -> Option<&[u8; N]> {
        s.get(at..).and_then(|s| s.first_chunk::<N>())
    }
    let n = a.len();
    if n >= 8 {
        let mut at = 0;
        while at + 8 < n {
            if word::<8>(a, at) != word::<8>(b, at) {
                return false;
            }
            at += 8;
        }
        return word::<8>(a, n - 8) == word::<8>(b, n - 8);
    }
    if n >= 4 {
        return word::<4>(a, 0) == word::<4>(b, 0) && word::<4>(a, n - 4) == word::<4>(b, n - 4);
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

/// Index of the first `byte` in `hay`, or `hay.len()`.
fn find(hay: &[u8], byte: u8) -> usize {
    hay.iter().position(|&b| b == byte).unwrap_or(hay.len())
}

/// The parameters of a (validated) pattern and how many there are.
const fn params_of(pattern: &'static str) -> ([Param; MAX_PARAMS], usize) {
    const UNUSED: Param = Param {
        name: "",
        rest: false,
        lead: 0,
        literal: &[],
    };
    let p = pattern.as_bytes();
    let mut spans = [UNUSED; MAX_PARAMS];
    let mut count = 0;
    let mut literal_start = 0;
    let mut i = 0;
    while i < p.len() {
        if p[i] == b'{' {
            let rest = p[i + 1] == b'*';
            let start = if rest { i + 2 } else { i + 1 };
            let mut close = start;
            while p[close] != b'}' {
                close += 1;
            }
            let mut literal_end = close + 1;
            while literal_end < p.len() && p[literal_end] != b'{' {
                literal_end += 1;
            }
            spans[count] = Param {
                name: pattern.split_at(close).0.split_at(start).1,
                rest,
                lead: i - literal_start,
                literal: p.split_at(literal_end).0.split_at(close + 1).1,
            };
            literal_start = close + 1;
            count += 1;
            i = close;
        }
        i += 1;
    }
    (spans, count)
}

/// What one path segment can be, as far as the route index cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SegmentKey {
    /// The path has no such segment (fewer `/`).
    Absent,
    /// A segment whose bytes hash to this bucket, below [`SEGMENT_BUCKETS`].
    Hashed(u8),
    /// Any text: a parameter, or inside a `{*rest}`.
    Any,
}

/// Buckets literal segments are hashed into.
pub(crate) const SEGMENT_BUCKETS: usize = 32;

/// The bucket of the segment `bytes[start..end]`. Only a filter: it looks
/// at the length and the first and last byte, so different segments may
/// share one.
pub(crate) const fn segment_bucket(bytes: &[u8], start: usize, end: usize) -> u8 {
    let len = end - start;
    let (first, last) = if len == 0 {
        (0, 0)
    } else {
        (bytes[start], bytes[end - 1])
    };
    let mixed = (len as u32) ^ (first as u32) << 8 ^ (last as u32) << 16;
    // Fibonacci hashing: the top bits of the product depend on every input bit.
    (mixed.wrapping_mul(0x9E37_79B1) >> (32 - SEGMENT_BUCKETS.trailing_zeros())) as u8
}

/// The keys of the first two segments of a (validated) pattern: a literal
/// segment is hashed like a path's, a parameter is `Any`, and so is
/// everything from a `{*rest}` on.
const fn segment_keys(pattern: &str) -> [SegmentKey; 2] {
    let p = pattern.as_bytes();
    let mut keys = [SegmentKey::Absent; 2];
    let mut start = 1;
    let mut k = 0;
    while k < keys.len() {
        let mut end = start;
        while end < p.len() && p[end] != b'/' {
            end += 1;
        }
        if start < p.len() && p[start] == b'{' {
            if p[start + 1] == b'*' {
                while k < keys.len() {
                    keys[k] = SegmentKey::Any;
                    k += 1;
                }
                return keys;
            }
            keys[k] = SegmentKey::Any;
        } else {
            keys[k] = SegmentKey::Hashed(segment_bucket(p, start, end));
        }
        if end == p.len() {
            return keys;
        }
        start = end + 1;
        k += 1;
    }
    keys
}

/// The pattern's `/` count and whether it ends in `{*rest}` (the pattern
/// is already validated).
const fn shape(pattern: &str) -> (usize, bool) {
    let p = pattern.as_bytes();
    let (mut slashes, mut wildcard, mut i) = (0, false, 0);
    while i < p.len() {
        match p[i] {
            b'/' => slashes += 1,
            b'{' if i + 1 < p.len() && p[i + 1] == b'*' => wildcard = true,
            _ => {}
        }
        i += 1;
    }
    (slashes, wildcard)
}

/// Validates a pattern and returns the length of its literal prefix.
const fn check_pattern(pattern: &str) -> usize {
    let p = pattern.as_bytes();
    assert!(
        !p.is_empty() && p[0] == b'/',
        "route pattern must start with '/'"
    );
    let mut prefix = p.len();
    let mut params = 0;
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            b'{' => {
                assert!(p[i - 1] == b'/', "a parameter must start a segment");
                if prefix == p.len() {
                    prefix = i;
                }
                let start = i + 1;
                let mut j = start;
                while j < p.len() && p[j] != b'}' {
                    assert!(
                        p[j] != b'{' && p[j] != b'/',
                        "unclosed '{{' in route pattern"
                    );
                    j += 1;
                }
                assert!(j < p.len(), "unclosed '{{' in route pattern");
                let wildcard = p[start] == b'*';
                let name_start = if wildcard { start + 1 } else { start };
                assert!(j > name_start, "empty parameter name in route pattern");
                assert!(
                    j + 1 == p.len() || (!wildcard && p[j + 1] == b'/'),
                    "a parameter must fill its segment; {{*rest}} must come last"
                );
                params += 1;
                assert!(params <= MAX_PARAMS, "too many parameters in route pattern");
                i = j;
            }
            b'}' => panic!("unmatched '}}' in route pattern"),
            b'?' | b'#' => panic!("route pattern must not hold a query or fragment"),
            _ => {}
        }
        i += 1;
    }
    prefix
}

/// Declares a handler and its route together.
///
/// ```
/// use bedrock_web::{route, Ctx, Outcome, Reply};
/// struct Counter(u64);
/// route! {
///     /// Adds `{n}` to the counter.
///     POST "/add/{n}" as ADD;
///     fn add(app: &mut Counter, cx: &mut Ctx<'_>) -> Outcome {
///         app.0 += cx.param::<u64>("n")?;
///         Ok(Reply::no_content())
///     }
/// }
/// static ROUTES: &[bedrock_web::Route<Counter>] = &[ADD];
/// ```
///
/// This expands to the function as written plus a `const` named after
/// `as` holding its [`Route`]; route tables are `static` slices of such
/// constants, so the whole table is built by the compiler.
#[macro_export]
macro_rules! route {
    (
        $(#[$route_meta:meta])*
        $method:ident $pattern:literal as $route:ident;
        $(#[$fn_meta:meta])*
        $vis:vis fn $name:ident($app:ident: &mut $state:ty, $cx:ident: $cx_ty:ty) -> $ret:ty
        $body:block
    ) => {
        $(#[$fn_meta])*
        $vis fn $name($app: &mut $state, $cx: $cx_ty) -> $ret $body

        $(#[$route_meta])*
        $vis const $route: $crate::Route<$state> =
            $crate::Route::new($crate::route!(@method $method), $pattern, $name);
    };
    (@method GET) => { $crate::Method::Get };
    (@method HEAD) => { $crate::Method::Head };
    (@method POST) => { $crate::Method::Post };
    (@method PUT) => { $crate::Method::Put };
    (@method PATCH) => { $crate::Method::Patch };
    (@method DELETE) => { $crate::Method::Delete };
    (@method OPTIONS) => { $crate::Method::Options };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nothing(_: &mut (), _: &mut Ctx<'_>) -> Outcome {
        Ok(Reply::no_content())
    }

    fn matched<'p>(pattern: &'static str, path: &'p str) -> Option<Params<'p>> {
        // Captures borrow their names from the route.
        let route: &'static Route<()> = std::boxed::Box::leak(std::boxed::Box::new(Route::new(
            Method::Get,
            pattern,
            nothing,
        )));
        let mut params = Params::new();
        route.matches(path, &mut params).then_some(params)
    }

    /// `pattern` matches none of `paths`.
    #[track_caller]
    fn misses(pattern: &'static str, paths: &[&str]) {
        for path in paths {
            assert!(matched(pattern, path).is_none(), "{pattern} ~ {path:?}");
        }
    }

    #[test]
    fn literal_patterns_match_exactly() {
        assert!(matched("/", "/").is_some());
        assert!(matched("/api/hotels", "/api/hotels").is_some());
        misses(
            "/api/hotels",
            &["/api/hotels/", "/api/hotel", "/api/hotelsX"],
        );
        misses("/", &[""]);
    }

    #[test]
    fn parameters_capture_one_segment() {
        let p = matched("/api/hotels/{id}", "/api/hotels/42").unwrap();
        assert_eq!(p.get("id"), Some("42"));
        misses(
            "/api/hotels/{id}",
            &["/api/hotels/", "/api/hotels/4/2", "/api/hotels"],
        );
    }

    #[test]
    fn several_parameters() {
        let p = matched("/a/{x}/b/{y}/{z}", "/a/1/b/two/3").unwrap();
        assert_eq!(p.get("x"), Some("1"));
        assert_eq!(p.get("y"), Some("two"));
        assert_eq!(p.get("z"), Some("3"));
        assert_eq!(p.get("w"), None);
        assert_eq!(p.len(), 3);
        assert!(matched("/a/{x}/b/{y}/{z}", "/a/1/c/two/3").is_none());
    }

    #[test]
    fn wildcard_takes_the_rest() {
        let p = matched("/files/{*path}", "/files/a/b/c.txt").unwrap();
        assert_eq!(p.get("path"), Some("a/b/c.txt"));
        let p = matched("/files/{*path}", "/files/").unwrap();
        assert_eq!(p.get("path"), Some(""));
        assert!(matched("/files/{*path}", "/files").is_none());
        let p = matched("/{*all}", "/x/y").unwrap();
        assert_eq!(p.get("all"), Some("x/y"));
    }

    #[test]
    fn max_params_is_accepted() {
        let p = matched("/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}", "/1/2/3/4/5/6/7/8").unwrap();
        assert_eq!(p.len(), MAX_PARAMS);
        assert_eq!(p.get("h"), Some("8"));
    }

    #[test]
    #[should_panic(expected = "too many parameters")]
    fn one_past_max_params_is_refused() {
        check_pattern("/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}");
    }

    #[test]
    fn malformed_patterns_are_refused() {
        for bad in [
            "", "x", "/{", "/{}", "/{*}", "/a{b}", "/{a}b", "/{*a}/b", "/}", "/a?b", "/{a/b}",
        ] {
            let result = std::panic::catch_unwind(|| check_pattern(bad));
            assert!(result.is_err(), "pattern {bad:?} should be refused");
        }
    }

    #[test]
    fn slash_filter_agrees_with_matching() {
        let cases = [
            ("/", "/"),
            ("/api/hotels/{id}", "/api/hotels/7"),
            ("/files/{*p}", "/files/"),
            ("/files/{*p}", "/files/a/b/c"),
        ];
        for (pattern, path) in cases {
            let route = Route::new(Method::Get, pattern, nothing);
            let slashes = path.bytes().filter(|&b| b == b'/').count();
            assert!(route.could_match(slashes), "{pattern} {path}");
            assert!(route.matches(path, &mut Params::new()), "{pattern} {path}");
        }
        let route = Route::new(Method::Get, "/api/hotels/{id}", nothing);
        assert!(!route.could_match(2) && !route.could_match(4));
        let route = Route::new(Method::Get, "/files/{*p}", nothing);
        assert!(!route.could_match(1));
    }

    #[test]
    fn literal_prefix_is_the_text_before_the_first_parameter() {
        assert_eq!(check_pattern("/api/hotels"), 11);
        assert_eq!(check_pattern("/api/hotels/{id}"), 12);
        assert_eq!(check_pattern("/{x}"), 1);
    }

    extern crate std;
}
