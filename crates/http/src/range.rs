//! `Range` request headers (RFC 9110 14.1-14.2), byte ranges only.
//!
//! The outcome tells a server what to send: [`RangeOutcome::Ignore`] (serve
//! the whole representation with 200, as RFC 9110 14.2 requires for a
//! malformed or unknown-unit header), [`RangeOutcome::Unsatisfiable`] (416)
//! or the satisfiable ranges (206). At most [`MAX_RANGES`] range-specs are
//! honoured; a header with more is ignored. Overlapping ranges are kept as
//! sent, so the work per request stays bounded by `MAX_RANGES` times the size.

use crate::chars::trim_ows;
use crate::limits::MAX_RANGES;

/// One syntactically valid range-spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeSpec {
    /// `first-last`, both inclusive (`first <= last`).
    FromTo(u64, u64),
    /// `first-`: from `first` to the end.
    From(u64),
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

/// A satisfiable byte range of a representation, both ends inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    /// Offset of the first byte.
    pub start: u64,
    /// Offset of the last byte (inclusive).
    pub end: u64,
}

impl ByteRange {
    /// Number of bytes in the range (`end - start + 1`).
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    /// Always false: a satisfiable range has at least one byte.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// What to do with a `Range` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeOutcome<'o> {
    /// Malformed, not the `bytes` unit, or too many ranges: ignore the header
    /// and serve the whole representation (200).
    Ignore,
    /// Valid, but no range overlaps the representation: answer 416 with
    /// `Content-Range: bytes */size`.
    Unsatisfiable,
    /// The satisfiable ranges, in the order sent (206).
    Satisfiable(&'o [ByteRange]),
}

impl RangeSpec {
    /// Parse one range-spec (`0-99`, `100-`, `-50`); `None` if malformed.
    pub fn parse(spec: &[u8]) -> Option<RangeSpec> {
        let dash = spec.iter().position(|&b| b == b'-')?;
        let (first, last) = (&spec[..dash], &spec[dash + 1..]);
        match (first.is_empty(), last.is_empty()) {
            (true, true) => None,
            (true, false) => Some(RangeSpec::Suffix(digits(last)?)),
            (false, true) => Some(RangeSpec::From(digits(first)?)),
            (false, false) => {
                let (a, b) = (digits(first)?, digits(last)?);
                (a <= b).then_some(RangeSpec::FromTo(a, b))
            }
        }
    }

    /// The bytes this spec selects in a representation of `size` bytes, or
    /// `None` if it is unsatisfiable. A suffix longer than the representation
    /// selects all of it; nothing is satisfiable when `size` is 0.
    pub fn resolve(self, size: u64) -> Option<ByteRange> {
        let last = size.checked_sub(1)?;
        match self {
            RangeSpec::FromTo(a, b) if a <= last => Some(ByteRange {
                start: a,
                end: b.min(last),
            }),
            RangeSpec::From(a) if a <= last => Some(ByteRange {
                start: a,
                end: last,
            }),
            RangeSpec::Suffix(n) if n > 0 => Some(ByteRange {
                start: size.saturating_sub(n),
                end: last,
            }),
            _ => None,
        }
    }
}

/// 1*DIGIT as a `u64`; `None` if empty, not digits, or overflowing.
fn digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |n, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// Evaluate a `Range` header value against a representation of `size`
/// bytes, writing satisfiable ranges to `out`.
///
/// The unit `bytes` is matched case-insensitively; list elements may be
/// surrounded by whitespace and empty elements are skipped. More than
/// [`MAX_RANGES`] range-specs, or more satisfiable ranges than `out` holds,
/// makes the header ignored. Unsatisfiable specs among satisfiable ones are
/// dropped.
pub fn parse_range_header<'o>(
    value: &[u8],
    size: u64,
    out: &'o mut [ByteRange],
) -> RangeOutcome<'o> {
    let value = trim_ows(value);
    let Some(eq) = value.iter().position(|&b| b == b'=') else {
        return RangeOutcome::Ignore;
    };
    if !value[..eq].eq_ignore_ascii_case(b"bytes") {
        return RangeOutcome::Ignore;
    }
    let cap = out.len().min(MAX_RANGES);
    let mut specs = 0;
    let mut n = 0;
    for el in value[eq + 1..].split(|&b| b == b',') {
        let el = trim_ows(el);
        if el.is_empty() {
            continue;
        }
        specs += 1;
        if specs > MAX_RANGES {
            return RangeOutcome::Ignore;
        }
        let Some(spec) = RangeSpec::parse(el) else {
            return RangeOutcome::Ignore;
        };
        if let Some(r) = spec.resolve(size) {
            if n >= cap {
                return RangeOutcome::Ignore;
            }
            out[n] = r;
            n += 1;
        }
    }
    match (specs, n) {
        (0, _) => RangeOutcome::Ignore,
        (_, 0) => RangeOutcome::Unsatisfiable,
        _ => RangeOutcome::Satisfiable(&out[..n]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn br(start: u64, end: u64) -> ByteRange {
        ByteRange { start, end }
    }

    fn eval(v: &str, size: u64) -> Result<Vec<ByteRange>, RangeOutcome<'static>> {
        let mut out = [br(0, 0); MAX_RANGES];
        match parse_range_header(v.as_bytes(), size, &mut out) {
            RangeOutcome::Satisfiable(r) => Ok(r.to_vec()),
            RangeOutcome::Ignore => Err(RangeOutcome::Ignore),
            RangeOutcome::Unsatisfiable => Err(RangeOutcome::Unsatisfiable),
        }
    }

    const IGNORE: Result<Vec<ByteRange>, RangeOutcome<'static>> = Err(RangeOutcome::Ignore);
    const UNSAT: Result<Vec<ByteRange>, RangeOutcome<'static>> = Err(RangeOutcome::Unsatisfiable);

    #[test]
    fn single_ranges() {
        assert_eq!(eval("bytes=0-499", 10000), Ok(vec![br(0, 499)]));
        assert_eq!(eval("bytes=500-999", 10000), Ok(vec![br(500, 999)]));
        assert_eq!(eval("bytes=9500-", 10000), Ok(vec![br(9500, 9999)]));
        assert_eq!(eval("bytes=-500", 10000), Ok(vec![br(9500, 9999)]));
        assert_eq!(eval("bytes=0-0", 1), Ok(vec![br(0, 0)]));
        assert_eq!(eval("bytes=5-5", 10), Ok(vec![br(5, 5)]));
        // last beyond the end is clipped
        assert_eq!(eval("bytes=5-1000", 10), Ok(vec![br(5, 9)]));
        // suffix longer than the file is the whole file
        assert_eq!(eval("bytes=-1000", 10), Ok(vec![br(0, 9)]));
        assert_eq!(eval("BYTES=1-2", 10), Ok(vec![br(1, 2)]));
        assert_eq!(eval(" bytes= 1-2 ", 10), Ok(vec![br(1, 2)]));
        assert_eq!(br(3, 7).len(), 5);
        assert!(!br(3, 7).is_empty());
    }

    #[test]
    fn several_ranges() {
        assert_eq!(
            eval("bytes=0-0,-1", 10000),
            Ok(vec![br(0, 0), br(9999, 9999)])
        );
        assert_eq!(
            eval("bytes=500-600, 601-999", 10000),
            Ok(vec![br(500, 600), br(601, 999)])
        );
        assert_eq!(eval("bytes=0-1,,2-3, ,", 10), Ok(vec![br(0, 1), br(2, 3)]));
        // unsatisfiable members are dropped when others are satisfiable
        assert_eq!(eval("bytes=50-60,0-1", 10), Ok(vec![br(0, 1)]));
        // one malformed member spoils the header
        assert_eq!(eval("bytes=0-1,x", 10), IGNORE);
    }

    #[test]
    fn unsatisfiable() {
        assert_eq!(eval("bytes=10-", 10), UNSAT);
        assert_eq!(eval("bytes=10-20", 10), UNSAT);
        assert_eq!(eval("bytes=-0", 10), UNSAT);
        assert_eq!(eval("bytes=10-11,20-", 10), UNSAT);
        assert_eq!(eval("bytes=0-", 0), UNSAT);
        assert_eq!(eval("bytes=-5", 0), UNSAT);
    }

    #[test]
    fn malformed_is_ignored() {
        for v in [
            "",
            "bytes",
            "bytes=",
            "bytes=,",
            "bytes=-",
            "bytes=5-4",
            "bytes=a-b",
            "bytes=1-2-3",
            "bytes=--1",
            "bytes=1 -2",
            "bytes=+1-2",
            "items=0-1",
            "bytes 0-1",
            "bytes=0-1;x",
            "bytes=99999999999999999999-",
            "bytes=-99999999999999999999",
        ] {
            assert_eq!(eval(v, 10), IGNORE, "{v}");
        }
    }

    #[test]
    fn max_ranges_limit() {
        let at = vec!["0-0"; MAX_RANGES].join(",");
        assert_eq!(eval(&format!("bytes={at}"), 10).unwrap().len(), MAX_RANGES);
        let past = vec!["0-0"; MAX_RANGES + 1].join(",");
        assert_eq!(eval(&format!("bytes={past}"), 10), IGNORE);
        // unsatisfiable specs count too
        let past = vec!["20-"; MAX_RANGES + 1].join(",");
        assert_eq!(eval(&format!("bytes={past}"), 10), IGNORE);
        // a short output slice caps the count
        let mut out = [br(0, 0); 2];
        assert_eq!(
            parse_range_header(b"bytes=0-0,1-1", 10, &mut out),
            RangeOutcome::Satisfiable(&[br(0, 0), br(1, 1)])
        );
        assert_eq!(
            parse_range_header(b"bytes=0-0,1-1,2-2", 10, &mut out),
            RangeOutcome::Ignore
        );
        assert_eq!(
            parse_range_header(b"bytes=0-0", 10, &mut []),
            RangeOutcome::Ignore
        );
        assert_eq!(
            parse_range_header(b"bytes=20-", 10, &mut []),
            RangeOutcome::Unsatisfiable
        );
    }

    #[test]
    fn spec_parse_and_resolve() {
        assert_eq!(RangeSpec::parse(b"1-2"), Some(RangeSpec::FromTo(1, 2)));
        assert_eq!(RangeSpec::parse(b"1-"), Some(RangeSpec::From(1)));
        assert_eq!(RangeSpec::parse(b"-2"), Some(RangeSpec::Suffix(2)));
        assert_eq!(RangeSpec::parse(b"2-1"), None);
        assert_eq!(RangeSpec::From(u64::MAX).resolve(u64::MAX), None);
        assert_eq!(
            RangeSpec::Suffix(u64::MAX).resolve(u64::MAX),
            Some(br(0, u64::MAX - 1))
        );
    }
}
