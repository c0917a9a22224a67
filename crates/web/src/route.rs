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
        Route {
            method,
            pattern,
            literal_prefix,
            slashes,
            wildcard,
            handler,
        }
    }

    /// The method this route answers.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &'static str {
        self.pattern
    }

    pub(crate) fn call(&self, app: &mut S, cx: &mut Ctx<'_>) -> Outcome {
        (self.handler)(app, cx)
    }

    /// Whether a path with `path_slashes` `/` bytes could match at all.
    pub(crate) fn could_match(&self, path_slashes: usize) -> bool {
        path_slashes == self.slashes || (self.wildcard && path_slashes > self.slashes)
    }

    /// Matches `path` against the pattern, filling `params` on success.
    pub fn matches<'p>(&self, path: &'p str, params: &mut Params<'p>) -> bool {
        let pattern = self.pattern.as_bytes();
        let bytes = path.as_bytes();
        let prefix = self.literal_prefix;
        if bytes.get(..prefix) != Some(&pattern[..prefix]) {
            return false;
        }
        if prefix == pattern.len() {
            return bytes.len() == prefix;
        }
        params.clear();
        let (mut p, mut s) = (prefix, prefix);
        while p < pattern.len() {
            if pattern[p] == b'{' {
                let close = p + find(&pattern[p..], b'}');
                let name = &self.pattern[p + 1..close];
                p = close + 1;
                if let Some(rest) = name.strip_prefix('*') {
                    params.push(rest, &path[s..]);
                    return true;
                }
                let end = s + find(&bytes[s..], b'/');
                if end == s {
                    return false;
                }
                params.push(name, &path[s..end]);
                s = end;
            } else {
                if bytes.get(s) != Some(&pattern[p]) {
                    return false;
                }
                p += 1;
                s += 1;
            }
        }
        s == bytes.len()
    }
}

/// Index of the first `byte` in `hay`, or `hay.len()`.
fn find(hay: &[u8], byte: u8) -> usize {
    hay.iter().position(|&b| b == byte).unwrap_or(hay.len())
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
        let route = Route::new(Method::Get, pattern, nothing);
        let mut params = Params::new();
        route.matches(path, &mut params).then_some(params)
    }

    #[test]
    fn literal_patterns_match_exactly() {
        assert!(matched("/", "/").is_some());
        assert!(matched("/api/hotels", "/api/hotels").is_some());
        assert!(matched("/api/hotels", "/api/hotels/").is_none());
        assert!(matched("/api/hotels", "/api/hotel").is_none());
        assert!(matched("/api/hotels", "/api/hotelsX").is_none());
        assert!(matched("/", "").is_none());
    }

    #[test]
    fn parameters_capture_one_segment() {
        let p = matched("/api/hotels/{id}", "/api/hotels/42").unwrap();
        assert_eq!(p.get("id"), Some("42"));
        assert!(matched("/api/hotels/{id}", "/api/hotels/").is_none());
        assert!(matched("/api/hotels/{id}", "/api/hotels/4/2").is_none());
        assert!(matched("/api/hotels/{id}", "/api/hotels").is_none());
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
