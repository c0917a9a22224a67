//! Query strings: `key=value` pairs separated by `&`, left encoded.
//!
//! Keys and values are returned raw (still percent-encoded, `+` not yet a
//! space); decode them with [`percent_decode_query`](crate::percent_decode_query).

/// Iterator over the raw `(key, value)` pairs of a query string; see [`query_pairs`].
#[derive(Clone, Debug)]
pub struct QueryPairs<'q> {
    rest: &'q str,
}

/// Iterate the pairs of `query` (the part after `?`). Pieces are split on
/// `&`; empty pieces are skipped; a piece without `=` is a key with an empty
/// value; only the first `=` separates key from value.
pub fn query_pairs(query: &str) -> QueryPairs<'_> {
    QueryPairs { rest: query }
}

impl<'q> Iterator for QueryPairs<'q> {
    type Item = (&'q str, &'q str);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let (piece, rest) = match self.rest.split_once('&') {
                Some((p, r)) => (p, r),
                None => (self.rest, ""),
            };
            self.rest = rest;
            if piece.is_empty() {
                continue;
            }
            return Some(piece.split_once('=').unwrap_or((piece, "")));
        }
    }
}

/// The raw value of the first pair whose raw key equals `key` exactly.
pub fn query_get<'q>(query: &'q str, key: &str) -> Option<&'q str> {
    query_pairs(query).find(|&(k, _)| k == key).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs() {
        let v: Vec<_> = query_pairs("a=1&b=&c&&d=x=y&=z&").collect();
        assert_eq!(
            v,
            [("a", "1"), ("b", ""), ("c", ""), ("d", "x=y"), ("", "z")]
        );
        assert_eq!(query_pairs("").count(), 0);
        assert_eq!(query_pairs("&&&").count(), 0);
        assert_eq!(query_pairs("a").collect::<Vec<_>>(), [("a", "")]);
        assert_eq!(query_pairs("q=a+b%20c").next(), Some(("q", "a+b%20c")));
    }

    #[test]
    fn get() {
        assert_eq!(query_get("a=1&b=2&a=3", "a"), Some("1"));
        assert_eq!(query_get("a=1&b=2", "b"), Some("2"));
        assert_eq!(query_get("a=1&flag", "flag"), Some(""));
        assert_eq!(query_get("a=1", "A"), None);
        assert_eq!(query_get("", "a"), None);
    }
}
