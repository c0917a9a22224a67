//! Conditional requests (RFC 9110 13.2.2): arbitrary header values, method,
//! entity-tag and modification time. Nothing may panic, and the verdicts
//! must keep the rules any input obeys: 304 only for GET and HEAD, Range
//! only for GET, GET and HEAD alike, If-Range deciding the range alone, no
//! 304 without a representation, what If-Match accepts If-None-Match
//! refuses, and a representation's own validators match it.
#![no_main]

use bedrock_http::conditional::{if_match, if_none_match, if_range};
use bedrock_http::{evaluate, format_imf_fixdate, Conditions, Method, Representation, Verdict};
use libfuzzer_sys::fuzz_target;

const METHODS: [Method; 6] = [
    Method::Get,
    Method::Head,
    Method::Put,
    Method::Delete,
    Method::Post,
    Method::Options,
];
/// Last-Modified times up to the year 9999 format as IMF-fixdate.
const LAST_DATE: u64 = 253_402_300_799;

/// A strong entity-tag by the grammar of RFC 9110 8.8.3, written out
/// again: DQUOTE *etagc DQUOTE.
fn is_strong_tag(t: &[u8]) -> bool {
    let [b'"', inner @ .., b'"'] = t else {
        return false;
    };
    inner
        .iter()
        .all(|&b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
}

fuzz_target!(|data: &[u8]| {
    // [method, presence bits, 8 bytes of mtime, fields split by '\n'].
    let [m, bits, t0, t1, t2, t3, t4, t5, t6, t7, rest @ ..] = data else {
        return;
    };
    let method = METHODS[usize::from(*m) % METHODS.len()];
    let mtime = u64::from_le_bytes([*t0, *t1, *t2, *t3, *t4, *t5, *t6, *t7]);
    let mut fields = rest.split(|&b| b == b'\n');
    let mut field = |bit: u8| {
        let v = fields.next().unwrap_or(b"");
        (bits & (1 << bit) != 0).then_some(v)
    };
    let etag = field(0);
    let cond = Conditions {
        if_match: field(1),
        if_none_match: field(2),
        if_modified_since: field(3),
        if_unmodified_since: field(4),
        if_range: field(5),
    };
    let rep = Representation {
        etag,
        last_modified: (bits & (1 << 6) != 0).then_some(mtime),
    };
    let current = (bits & (1 << 7) == 0).then_some(&rep);

    let v = evaluate(&cond, method, current);
    let safe = matches!(method, Method::Get | Method::Head);
    assert!(v != Verdict::NotModified || safe);
    assert!(v != Verdict::Proceed { range: true } || method == Method::Get);
    if safe {
        let other = if method == Method::Get {
            Method::Head
        } else {
            Method::Get
        };
        assert_eq!(evaluate(&cond, other, current).status(), v.status());
    }
    let plain = Conditions {
        if_range: None,
        ..cond
    };
    let p = evaluate(&plain, method, current);
    assert_eq!(p.status(), v.status());
    if method == Method::Get && p.status().is_none() {
        assert_eq!(p, Verdict::Proceed { range: true });
        let holds = cond.if_range.is_none_or(|r| if_range(r, current));
        assert_eq!(v, Verdict::Proceed { range: holds });
    }
    if current.is_none() {
        assert!(v != Verdict::NotModified);
        assert!(cond.if_match.is_none() || v == Verdict::PreconditionFailed);
    }
    for list in [cond.if_match, cond.if_none_match, cond.if_range, etag]
        .into_iter()
        .flatten()
    {
        if if_match(list, current) {
            assert!(!if_none_match(list, current));
        }
        if list.starts_with(b"\"") && if_range(list, current) {
            assert!(if_match(list, current));
        }
    }
    // The representation's own validators match it.
    if let Some(rep) = current {
        if let Some(tag) = rep.etag.filter(|t| is_strong_tag(t)) {
            assert!(if_range(tag, current));
            assert!(if_match(tag, current));
            assert!(!if_none_match(tag, current));
        }
        if let Some(t) = rep.last_modified.filter(|&t| t <= LAST_DATE) {
            let mut buf = [0u8; 29];
            let date = format_imf_fixdate(t, &mut buf).as_bytes();
            assert!(if_range(date, current));
            let since = Conditions {
                if_modified_since: Some(date),
                if_unmodified_since: Some(date),
                ..Conditions::default()
            };
            let expect = if safe {
                Verdict::NotModified
            } else {
                Verdict::Proceed {
                    range: method == Method::Get,
                }
            };
            assert_eq!(evaluate(&since, method, current), expect);
        }
    }
});
