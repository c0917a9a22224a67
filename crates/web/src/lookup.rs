//! Finding the route for a method and path: a linear scan of the table in
//! order ([`lookup`]), and the same answer through an index the compiler
//! builds from the table ([`Routes`]), which is what [`crate::dispatch`]
//! uses.
//!
//! The index is three tables of bit sets over the first
//! [`INDEXED_ROUTES`] routes: by the path's `/` count, by a hash of its
//! first segment and by a hash of its second. A lookup intersects the sets
//! of its path's keys (first segment, second segment, `/` count, each
//! only while more than one route is left), and tries the routes left in
//! table order, so priorities stay those of the linear scan. A path no
//! route can match usually leaves an empty set. The index only ever rules
//! routes out that cannot match; the full match decides.

use core::ops::Range;

use bedrock_http::Method;

use crate::ctx::Params;
use crate::methods::MethodSet;
use crate::route::{segment_bucket, Route, SegmentKey, SEGMENT_BUCKETS};

/// The result of looking a request up in a route table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The route at this index of the table answers (for HEAD, possibly
    /// its GET route).
    Found(usize),
    /// Routes exist for the path, with these methods only.
    NotAllowed(MethodSet),
    /// No route has this path.
    NotFound,
}

/// Finds the route for `method` and `path` by trying every route in
/// order, filling `params`. HEAD falls back to the path's GET route when
/// it has no HEAD route of its own. [`Routes::lookup`] gives the same
/// answer faster. The captures borrow their names from `routes`.
pub fn lookup<'p, S>(
    routes: &'p [Route<S>],
    method: Method,
    path: &'p str,
    params: &mut Params<'p>,
) -> Lookup {
    let slashes = path.bytes().filter(|&b| b == b'/').count();
    let order = Order {
        candidates: 0,
        tail: 0..routes.len(),
        repeats: 0,
    };
    first_match(routes, order, slashes, method, path, params)
}

/// Routes the index covers; later ones are always tried (after the
/// indexed ones, keeping table order).
pub const INDEXED_ROUTES: usize = u128::BITS as usize;

/// `/` counts the index tells apart; paths and patterns with more share
/// the last bucket.
const SLASH_BUCKETS: usize = 16;

/// One bucket per [`SegmentKey::Hashed`] value plus one for `Absent`.
const KEY_BUCKETS: usize = SEGMENT_BUCKETS + 1;

/// A route table with its lookup index. Build it in a `const` or `static`
/// and the index is computed by the compiler.
pub struct Routes<'r, S> {
    routes: &'r [Route<S>],
    /// Bit `i` of entry `n`: route `i` may match a path with `n` slashes.
    by_slashes: [u128; SLASH_BUCKETS + 1],
    /// Bit `i` of entry `k`: route `i` may match a path whose first (and
    /// in `by_second`, second) segment has key bucket `k`.
    by_first: [u128; KEY_BUCKETS],
    by_second: [u128; KEY_BUCKETS],
    /// Bit `i`: route `i` has the same pattern as route `i - 1` (say GET
    /// and DELETE of one path), so one match answers for both.
    repeats: u128,
}

impl<'r, S> Routes<'r, S> {
    /// Indexes `routes`.
    pub const fn new(routes: &'r [Route<S>]) -> Self {
        let mut table = Routes {
            routes,
            by_slashes: [0; SLASH_BUCKETS + 1],
            by_first: [0; KEY_BUCKETS],
            by_second: [0; KEY_BUCKETS],
            repeats: 0,
        };
        let mut at = 0;
        while at < routes.len() && at < INDEXED_ROUTES {
            let bit = 1u128 << at;
            let (slashes, wildcard) = routes[at].shape();
            let mut n = 0;
            while n <= SLASH_BUCKETS {
                let fits = if wildcard {
                    n >= slashes || n == SLASH_BUCKETS
                } else {
                    n == slashes || (n == SLASH_BUCKETS && slashes >= n)
                };
                if fits {
                    table.by_slashes[n] |= bit;
                }
                n += 1;
            }
            let [first, second] = routes[at].segment_keys();
            add_key(&mut table.by_first, first, bit);
            add_key(&mut table.by_second, second, bit);
            if at > 0 && same_text(routes[at - 1].pattern(), routes[at].pattern()) {
                table.repeats |= bit;
            }
            at += 1;
        }
        table
    }

    /// Finds the route for `method` and `path`, filling `params`: the same
    /// answer as [`lookup`] on the same table. The captures borrow their
    /// names from the table's routes.
    pub fn lookup<'p>(&self, method: Method, path: &'p str, params: &mut Params<'p>) -> Lookup
    where
        'r: 'p,
    {
        let bytes = path.as_bytes();
        if bytes.first() != Some(&b'/') {
            // Every pattern starts with '/'.
            return Lookup::NotFound;
        }
        let unindexed = INDEXED_ROUTES.min(self.routes.len())..self.routes.len();
        // Only routes past the index are filtered by `/` count in the loop.
        let slashes = if unindexed.is_empty() {
            0
        } else {
            count_slashes(bytes, 0)
        };
        let order = Order {
            candidates: self.candidates(bytes),
            tail: unindexed,
            repeats: self.repeats,
        };
        first_match(self.routes, order, slashes, method, path, params)
    }

    /// The indexed routes that may match `path` (which starts with `/`).
    /// The keys are taken cheapest first, and only while more than one
    /// route is left: matching that one costs less than a further key
    /// would save, and a path nothing matches is mostly told by its first
    /// segments without reading the rest.
    fn candidates(&self, path: &[u8]) -> u128 {
        let first_end = next_slash(path, 1);
        let mut candidates =
            self.by_first[key_bucket(SegmentKey::Hashed(segment_bucket(path, 1, first_end)))];
        if candidates & candidates.wrapping_sub(1) == 0 {
            return candidates;
        }
        if first_end == path.len() {
            // The only `/` is the leading one.
            return candidates
                & self.by_second[key_bucket(SegmentKey::Absent)]
                & self.by_slashes[1];
        }
        let second_end = next_slash(path, first_end + 1);
        let second = segment_bucket(path, first_end + 1, second_end);
        candidates &= self.by_second[key_bucket(SegmentKey::Hashed(second))];
        if candidates & candidates.wrapping_sub(1) == 0 {
            return candidates;
        }
        // The two `/` before `second_end`, the one there, and those after.
        let slashes = match second_end.checked_add(1) {
            Some(rest) if rest <= path.len() => 3 + count_slashes(path, rest),
            _ => 2,
        };
        candidates & self.by_slashes[slashes.min(SLASH_BUCKETS)]
    }
}

/// The `/` marks of the eight bytes at `from`, the bytes past the path's
/// end read as zero (not '/').
#[inline(always)]
fn marks_at(path: &[u8], from: usize) -> u64 {
    let word = match path
        .get(from..)
        .map(|rest| (rest.first_chunk::<8>(), rest.len()))
    {
        Some((Some(chunk), _)) => u64::from_le_bytes(*chunk),
        // The path's last eight bytes with those before `from` shifted out.
        Some((None, left)) => match path.last_chunk::<8>() {
            Some(last) => u64::from_le_bytes(*last) >> (8 * (8 - left)),
            None => path[from..]
                .iter()
                .rev()
                .fold(0, |word, &b| word << 8 | u64::from(b)),
        },
        None => 0,
    };
    slash_marks(word)
}

/// Offset of the first `/` at or after `from`, or the path's length.
#[inline(always)]
fn next_slash(path: &[u8], mut from: usize) -> usize {
    while from < path.len() {
        let marks = marks_at(path, from);
        if marks != 0 {
            return from + marks.trailing_zeros() as usize / 8;
        }
        from += 8;
    }
    path.len()
}

/// The number of `/` in `path` from `from` on, eight bytes at a time.
fn count_slashes(path: &[u8], mut from: usize) -> usize {
    let mut slashes = 0;
    while from < path.len() {
        // One bit per '/' byte: summing the bytes counts them.
        let marks = marks_at(path, from);
        slashes += ((marks >> 7).wrapping_mul(0x0101_0101_0101_0101) >> 56) as usize;
        from += 8;
    }
    slashes
}

/// The high bit of each byte of `word` that is `/`, and no other bit
/// (exact, unlike the usual has-zero-byte test: no borrow crosses bytes).
fn slash_marks(word: u64) -> u64 {
    const SLASHES: u64 = u64::from_le_bytes([b'/'; 8]);
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let zero_where_slash = word ^ SLASHES;
    !(((zero_where_slash & LOW7) + LOW7) | zero_where_slash | LOW7)
}

/// Byte equality of two strings in a `const fn`.
const fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Marks `bit` in every bucket a segment with `key` may land in.
const fn add_key(buckets: &mut [u128; KEY_BUCKETS], key: SegmentKey, bit: u128) {
    let mut k = 0;
    while k < KEY_BUCKETS {
        if matches!(key, SegmentKey::Any) || key_bucket(key) == k {
            buckets[k] |= bit;
        }
        k += 1;
    }
}

/// A path's key as a bucket index; never called with `Any` on a path.
const fn key_bucket(key: SegmentKey) -> usize {
    match key {
        SegmentKey::Hashed(bucket) => bucket as usize,
        SegmentKey::Absent | SegmentKey::Any => SEGMENT_BUCKETS,
    }
}

/// Which routes a lookup tries, in table order.
struct Order {
    /// Bit `i`: try route `i` (a superset of the indexed routes that can
    /// match the path).
    candidates: u128,
    /// Then these, each first filtered by its `/` count.
    tail: Range<usize>,
    /// Bit `i`: route `i` has the pattern of route `i - 1`.
    repeats: u128,
}

/// The lookup itself: tries the routes in `order`; `path` has `slashes`
/// `/` bytes (needed only for the routes of `order.tail`).
fn first_match<'p, S>(
    routes: &'p [Route<S>],
    order: Order,
    slashes: usize,
    method: Method,
    path: &'p str,
    params: &mut Params<'p>,
) -> Lookup {
    let mut routed = MethodSet::EMPTY;
    let mut get_route = None;
    let Order {
        candidates: mut pending,
        mut tail,
        repeats,
    } = order;
    // Whether the route tried last matched (`params` then hold its
    // captures). A repeated pattern's route is a candidate exactly when
    // the route before it is, so that one was tried last.
    let mut last_matched = false;
    loop {
        // `fits`: no `/` count filter needed (the index has filtered).
        let (at, repeat, fits) = if pending != 0 {
            let at = pending.trailing_zeros() as usize;
            pending &= pending - 1;
            (at, repeats >> at & 1 == 1, true)
        } else if let Some(at) = tail.next() {
            (at, false, false)
        } else {
            break;
        };
        let Some(route) = routes.get(at) else {
            break;
        };
        last_matched = if repeat {
            last_matched
        } else {
            (fits || route.could_match(slashes)) && route.matches(path, params)
        };
        if !last_matched {
            continue;
        }
        if route.method() == method {
            return Lookup::Found(at);
        }
        if method == Method::Head && route.method() == Method::Get && get_route.is_none() {
            get_route = Some(at);
        }
        routed = routed.with(route.method());
    }
    match get_route {
        Some(at) => {
            // Later candidates may have overwritten the parameters.
            routes[at].matches(path, params);
            Lookup::Found(at)
        }
        None if routed.is_empty() => Lookup::NotFound,
        None => Lookup::NotAllowed(routed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Ctx, Outcome, Reply};

    extern crate std;
    use std::{string::String, vec::Vec};

    #[test]
    fn slash_marks_are_exact_for_every_byte_at_every_position() {
        for byte in 0..=255u8 {
            for position in 0..8 {
                let mut bytes = [b'/'; 8];
                bytes[position] = byte;
                let marks = slash_marks(u64::from_le_bytes(bytes));
                let expected = bytes
                    .iter()
                    .enumerate()
                    .filter(|(_, &b)| b == b'/')
                    .fold(0, |m, (i, _)| m | 0x80 << (8 * i));
                assert_eq!(marks, expected, "byte {byte:#x} at {position}");
            }
        }
    }

    #[test]
    fn slash_search_and_count_agree_with_a_byte_by_byte_look() {
        // Every path of '/' and 'a' up to 19 bytes: all word and tail splits.
        for len in 1..20 {
            for bits in 0..1u32 << (len - 1) {
                let path: String = core::iter::once('/')
                    .chain((1..len).map(|i| if bits >> (i - 1) & 1 == 1 { '/' } else { 'a' }))
                    .collect();
                let at: Vec<usize> = path.match_indices('/').map(|(i, _)| i).collect();
                for from in 0..=len {
                    let after = at.iter().filter(|&&i| i >= from).count();
                    assert_eq!(
                        count_slashes(path.as_bytes(), from),
                        after,
                        "{path} from {from}"
                    );
                    let next = at.iter().copied().find(|&i| i >= from).unwrap_or(len);
                    assert_eq!(
                        next_slash(path.as_bytes(), from),
                        next,
                        "{path} from {from}"
                    );
                }
            }
        }
    }

    fn nothing(_: &mut (), _: &mut Ctx<'_>) -> Outcome {
        Ok(Reply::no_content())
    }

    #[test]
    fn a_miss_leaves_no_candidate() {
        static ROUTES: [Route<()>; 4] = [
            Route::new(Method::Get, "/", nothing),
            Route::new(Method::Get, "/api/hotels/{id}", nothing),
            Route::new(Method::Get, "/api/guests/{id}", nothing),
            Route::new(Method::Get, "/static/{*path}", nothing),
        ];
        static TABLE: Routes<'static, ()> = Routes::new(&ROUTES);
        let candidates = |path: &str| TABLE.candidates(path.as_bytes());
        assert_eq!(candidates("/api/nothing/here"), 0);
        // One candidate is left to the full match rather than counted out.
        assert_eq!(candidates("/api/hotels"), 1 << 1);
        assert_eq!(candidates("/api/hotels/7/8"), 1 << 1);
        assert_eq!(candidates("/nothing"), 0);
        assert_eq!(candidates("/api/hotels/7"), 1 << 1);
        assert_eq!(candidates("/api/guests/7"), 1 << 2);
        assert_eq!(candidates("/static/a/b/c"), 1 << 3);
        assert_eq!(candidates("/"), 1 << 0);
    }
}
