//! Property tests for conditional requests (RFC 9110 13): the verdicts
//! keep their rules over any mix of fields, and the date conditions split
//! time exactly at the modification time.

use bedrock_http::conditional::{
    if_match, if_modified_since, if_none_match, if_range, if_unmodified_since,
};
use bedrock_http::{evaluate, format_imf_fixdate, Conditions, Method, Representation, Verdict};
use proptest::prelude::*;

const T: u64 = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT
const DATE: &[u8] = b"Sun, 06 Nov 1994 08:49:37 GMT";
const REP: Representation<'static> = Representation {
    etag: Some(b"\"abc\""),
    last_modified: Some(T),
};
const GO: Verdict = Verdict::Proceed { range: true };

fn date(t: u64) -> String {
    let mut buf = [0u8; 29];
    format_imf_fixdate(t, &mut buf).to_string()
}

fn field() -> impl Strategy<Value = Option<Vec<u8>>> {
    let pieces = prop_oneof![
        Just(b"\"abc\"".to_vec()),
        Just(b"W/\"abc\"".to_vec()),
        Just(b"\"x\"".to_vec()),
        Just(b"*".to_vec()),
        Just(b", ".to_vec()),
        Just(DATE.to_vec()),
        Just(b"Thu, 01 Jan 1970 00:00:00 GMT".to_vec()),
        proptest::collection::vec(0x20u8..0x7f, 0..6),
    ];
    proptest::option::of(proptest::collection::vec(pieces, 0..4).prop_map(|v| v.concat()))
}

const METHODS: [Method; 5] = [
    Method::Get,
    Method::Head,
    Method::Put,
    Method::Delete,
    Method::Post,
];

proptest! {
    #[test]
    fn verdicts_are_consistent(
        a in field(), b in field(), c in field(), d in field(), e in field(),
        m in proptest::sample::select(&METHODS[..]), exists in any::<bool>(),
    ) {
        let cond = Conditions {
            if_match: a.as_deref(),
            if_none_match: b.as_deref(),
            if_modified_since: c.as_deref(),
            if_unmodified_since: d.as_deref(),
            if_range: e.as_deref(),
        };
        let current = exists.then_some(REP);
        let v = evaluate(&cond, m, current.as_ref());
        let safe = matches!(m, Method::Get | Method::Head);
        // 304 only for GET and HEAD; Range only for GET.
        prop_assert!(v != Verdict::NotModified || safe);
        prop_assert!(v != GO || m == Method::Get);
        // GET and HEAD agree but for Range.
        if safe {
            let other = if m == Method::Get { Method::Head } else { Method::Get };
            let w = evaluate(&cond, other, current.as_ref());
            prop_assert_eq!(v.status(), w.status());
        }
        // Without If-Range, Range is honoured whenever a GET proceeds.
        let plain = Conditions { if_range: None, ..cond };
        let p = evaluate(&plain, m, current.as_ref());
        prop_assert_eq!(p.status(), v.status());
        if m == Method::Get && p.status().is_none() {
            prop_assert_eq!(p, GO);
        }
        // A list that matches strongly also matches weakly.
        if let (Some(list), Some(rep)) = (a.as_deref(), current.as_ref()) {
            if if_match(list, Some(rep)) {
                prop_assert!(!if_none_match(list, Some(rep)));
            }
        }
        // Dropping every field proceeds.
        prop_assert!(evaluate(&Conditions::default(), m, current.as_ref()).status().is_none());
    }

    #[test]
    fn date_conditions_split_time_at_the_modification_time(t in 0u64..4_000_000_000) {
        let d = date(t);
        // Modified since t when t is earlier than T; unmodified since t
        // from T on; If-Range holds at T only.
        prop_assert_eq!(if_modified_since(d.as_bytes(), Some(&REP)), Some(t < T));
        prop_assert_eq!(if_unmodified_since(d.as_bytes(), Some(&REP)), Some(t >= T));
        prop_assert_eq!(if_range(d.as_bytes(), Some(&REP)), t == T);
    }

    #[test]
    fn arbitrary_bytes_never_panic(v in proptest::collection::vec(any::<u8>(), 0..40)) {
        let cond = Conditions {
            if_match: Some(&v),
            if_none_match: Some(&v),
            if_modified_since: Some(&v),
            if_unmodified_since: Some(&v),
            if_range: Some(&v),
        };
        let rep = Representation { etag: Some(&v), last_modified: Some(T) };
        let _ = evaluate(&cond, Method::Get, Some(&rep));
        let _ = evaluate(&cond, Method::Put, Some(&REP));
        // Any list of members either is or is not matched; `*` always is.
        let mut star = v.clone();
        star.extend_from_slice(b", *");
        prop_assert!(if_match(&star, Some(&REP)));
        prop_assert!(!if_none_match(&star, Some(&REP)));
    }
}
