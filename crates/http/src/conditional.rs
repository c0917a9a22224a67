//! Conditional requests (RFC 9110 13): `If-Match`, `If-None-Match`,
//! `If-Modified-Since`, `If-Unmodified-Since` and `If-Range`, evaluated in
//! the order RFC 9110 13.2.2 prescribes against the selected
//! representation's validators.
//!
//! I/O-free: the caller passes the header values as received
//! ([`Conditions`]), the method, and the current representation's entity
//! tag and modification time ([`Representation`], or `None` when the
//! target has none, as for a PUT that creates it), and gets a [`Verdict`]:
//! go on (honouring `Range` or not), 304 or 412.
//!
//! Per RFC 9110 13.2.1 the caller evaluates preconditions only when the
//! request would otherwise have succeeded (2xx); a 404 or 403 is answered
//! as such whatever the conditions say.
//!
//! Only the first field line of each header is read (as
//! [`Request::header`] does): a list split over several lines is judged by
//! its first line.

use crate::chars::trim_ows;
use crate::date::parse_http_date;
use crate::request::{Method, Request};

/// The precondition header fields of a request, as received (`None`:
/// the field is absent).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Conditions<'a> {
    /// `If-Match` (RFC 9110 13.1.1): `*` or a list of entity-tags.
    pub if_match: Option<&'a [u8]>,
    /// `If-None-Match` (RFC 9110 13.1.2): `*` or a list of entity-tags.
    pub if_none_match: Option<&'a [u8]>,
    /// `If-Modified-Since` (RFC 9110 13.1.3): an HTTP-date.
    pub if_modified_since: Option<&'a [u8]>,
    /// `If-Unmodified-Since` (RFC 9110 13.1.4): an HTTP-date.
    pub if_unmodified_since: Option<&'a [u8]>,
    /// `If-Range` (RFC 9110 13.1.5): one entity-tag or an HTTP-date.
    pub if_range: Option<&'a [u8]>,
}

impl<'b> Conditions<'b> {
    /// The precondition fields of `req` (the first line of each).
    pub fn of(req: &Request<'b, '_>) -> Conditions<'b> {
        Conditions {
            if_match: req.header("if-match"),
            if_none_match: req.header("if-none-match"),
            if_modified_since: req.header("if-modified-since"),
            if_unmodified_since: req.header("if-unmodified-since"),
            if_range: req.header("if-range"),
        }
    }
}

/// The selected representation's current validators (RFC 9110 8.8).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Representation<'a> {
    /// Its entity-tag as sent in `ETag`, quotes included (`"x"` strong,
    /// `W/"x"` weak); `None` when it has none. A malformed tag matches
    /// only `*`.
    pub etag: Option<&'a [u8]>,
    /// Its `Last-Modified` time in seconds since the Unix epoch; `None`
    /// when it has none.
    pub last_modified: Option<u64>,
}

/// What to do with a request after its preconditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Perform the method. `range`: whether a `Range` header, if any, may
    /// be honoured: the method is GET (RFC 9110 14.2) and `If-Range`, if
    /// sent, holds (RFC 9110 13.2.2 step 5); otherwise the whole
    /// representation is sent.
    Proceed {
        /// Honour `Range`.
        range: bool,
    },
    /// 304 Not Modified (GET and HEAD only).
    NotModified,
    /// 412 Precondition Failed.
    PreconditionFailed,
}

impl Verdict {
    /// The status that ends the request (304 or 412), `None` to proceed.
    pub fn status(self) -> Option<u16> {
        match self {
            Verdict::Proceed { .. } => None,
            Verdict::NotModified => Some(304),
            Verdict::PreconditionFailed => Some(412),
        }
    }
}

/// Evaluates the preconditions of a `method` request against `current`
/// (`None`: the target has no current representation) in the order of
/// RFC 9110 13.2.2.
pub fn evaluate(
    c: &Conditions<'_>,
    method: Method,
    current: Option<&Representation<'_>>,
) -> Verdict {
    let safe = matches!(method, Method::Get | Method::Head);
    // Step 1: If-Match; step 2: If-Unmodified-Since only without it.
    if let Some(list) = c.if_match {
        if !if_match(list, current) {
            return Verdict::PreconditionFailed;
        }
    } else if let Some(date) = c.if_unmodified_since {
        if if_unmodified_since(date, current) == Some(false) {
            return Verdict::PreconditionFailed;
        }
    }
    // Step 3: If-None-Match; step 4: If-Modified-Since only without it,
    // and for GET and HEAD only (RFC 9110 13.1.3).
    if let Some(list) = c.if_none_match {
        if !if_none_match(list, current) {
            return if safe {
                Verdict::NotModified
            } else {
                Verdict::PreconditionFailed
            };
        }
    } else if let (Some(date), true) = (c.if_modified_since, safe) {
        if if_modified_since(date, current) == Some(false) {
            return Verdict::NotModified;
        }
    }
    // Step 5: If-Range decides whether Range applies (GET only).
    let range = method == Method::Get && c.if_range.is_none_or(|v| if_range(v, current));
    Verdict::Proceed { range }
}

/// `If-Match` (RFC 9110 13.1.1): true for `*` when there is a current
/// representation, or when a listed tag strongly matches its entity-tag.
pub fn if_match(list: &[u8], current: Option<&Representation<'_>>) -> bool {
    let Some(current) = current else {
        return false;
    };
    let etag = current.etag.and_then(entity_tag);
    members(list).any(|m| match m {
        Member::Any => true,
        Member::Tag(tag) => etag.is_some_and(|e| strong_match(tag, e)),
        Member::Junk => false,
    })
}

/// `If-None-Match` (RFC 9110 13.1.2): false for `*` when there is a
/// current representation, or when a listed tag weakly matches its
/// entity-tag; true otherwise.
pub fn if_none_match(list: &[u8], current: Option<&Representation<'_>>) -> bool {
    let Some(current) = current else {
        return true;
    };
    let etag = current.etag.and_then(entity_tag);
    !members(list).any(|m| match m {
        Member::Any => true,
        Member::Tag(tag) => etag.is_some_and(|e| weak_match(tag, e)),
        Member::Junk => false,
    })
}

/// `If-Unmodified-Since` (RFC 9110 13.1.4): whether the representation
/// was last modified at or before the date; `None` when the field must be
/// ignored (not a valid HTTP-date, or no modification date known).
pub fn if_unmodified_since(date: &[u8], current: Option<&Representation<'_>>) -> Option<bool> {
    let modified = current?.last_modified?;
    parse_http_date(date).map(|t| modified <= t)
}

/// `If-Modified-Since` (RFC 9110 13.1.3): whether the representation was
/// modified after the date; `None` when the field must be ignored (not a
/// valid HTTP-date, or no modification date known). The method check
/// (GET and HEAD only) is [`evaluate`]'s.
pub fn if_modified_since(date: &[u8], current: Option<&Representation<'_>>) -> Option<bool> {
    let modified = current?.last_modified?;
    parse_http_date(date).map(|t| modified > t)
}

/// `If-Range` (RFC 9110 13.1.5): an entity-tag holds when it strongly
/// matches the current one (a weak tag never does); a date holds when it
/// is exactly the current `Last-Modified`; anything else does not hold.
pub fn if_range(value: &[u8], current: Option<&Representation<'_>>) -> bool {
    let Some(current) = current else {
        return false;
    };
    let value = trim_ows(value);
    if value.starts_with(b"\"") || value.starts_with(b"W/\"") {
        let etag = current.etag.and_then(entity_tag);
        return match (entity_tag(value), etag) {
            (Some(tag), Some(e)) => strong_match(tag, e),
            _ => false,
        };
    }
    match (parse_http_date(value), current.last_modified) {
        (Some(t), Some(modified)) => t == modified,
        _ => false,
    }
}

/// A parsed entity-tag (RFC 9110 8.8.3): weakness and the opaque-tag,
/// quotes included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Tag<'a> {
    weak: bool,
    opaque: &'a [u8],
}

/// Strong comparison (RFC 9110 8.8.3.2): neither is weak, same opaque-tag.
fn strong_match(a: Tag<'_>, b: Tag<'_>) -> bool {
    !a.weak && !b.weak && a.opaque == b.opaque
}

/// Weak comparison (RFC 9110 8.8.3.2): same opaque-tag, weak or not.
fn weak_match(a: Tag<'_>, b: Tag<'_>) -> bool {
    a.opaque == b.opaque
}

/// `etagc` (RFC 9110 8.8.3): `!`, `#`..`~`, obs-text.
fn is_etagc(b: u8) -> bool {
    b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80
}

/// Splits off the entity-tag that `v` starts with: `W/`? DQUOTE
/// *etagc DQUOTE (RFC 9110 8.8.3). `None` when `v` does not start with one.
fn leading_tag(v: &[u8]) -> Option<(Tag<'_>, &[u8])> {
    let (weak, rest) = match v.strip_prefix(b"W/") {
        Some(rest) => (true, rest),
        None => (false, v),
    };
    let inner = rest.strip_prefix(b"\"")?;
    let close = inner.iter().position(|&b| !is_etagc(b))?;
    if inner[close] != b'"' {
        return None;
    }
    let opaque = &rest[..close + 2];
    Some((Tag { weak, opaque }, &rest[close + 2..]))
}

/// `v` (OWS allowed around it) as exactly one entity-tag.
fn entity_tag(v: &[u8]) -> Option<Tag<'_>> {
    match leading_tag(trim_ows(v))? {
        (tag, []) => Some(tag),
        _ => None,
    }
}

/// One member of an `If-Match` / `If-None-Match` list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Member<'a> {
    /// `*`: any current representation.
    Any,
    /// An entity-tag.
    Tag(Tag<'a>),
    /// Anything else: matches nothing.
    Junk,
}

/// The members of a `#entity-tag` list or `*` (RFC 9110 5.6.1: empty
/// members and OWS around commas are allowed). A comma inside an
/// opaque-tag belongs to the tag.
fn members(list: &[u8]) -> impl Iterator<Item = Member<'_>> {
    let mut rest = list;
    core::iter::from_fn(move || {
        while let [b' ' | b'\t' | b',', tail @ ..] = rest {
            rest = tail;
        }
        if rest.is_empty() {
            return None;
        }
        let (member, after) = match leading_tag(rest) {
            Some((tag, after)) => (Member::Tag(tag), after),
            None => (Member::Junk, rest),
        };
        // The member ends at the next comma; anything but OWS before it
        // makes the member junk.
        let end = after.iter().position(|&b| b == b',').unwrap_or(after.len());
        let (tail, next) = after.split_at(end);
        rest = next;
        Some(match (member, trim_ows(tail)) {
            (Member::Tag(tag), []) => Member::Tag(tag),
            (Member::Junk, b"*") => Member::Any,
            _ => Member::Junk,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::format_imf_fixdate;

    const T: u64 = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT
    const DATE: &[u8] = b"Sun, 06 Nov 1994 08:49:37 GMT";
    const ETAG: &[u8] = b"\"abc\"";
    const REP: Representation<'static> = Representation {
        etag: Some(ETAG),
        last_modified: Some(T),
    };
    const METHODS: [Method; 4] = [Method::Get, Method::Head, Method::Put, Method::Delete];
    const GO: Verdict = Verdict::Proceed { range: true };
    const GO_WHOLE: Verdict = Verdict::Proceed { range: false };

    fn date(t: u64) -> String {
        let mut buf = [0u8; 29];
        format_imf_fixdate(t, &mut buf).to_string()
    }

    fn eval(c: Conditions<'_>, method: Method) -> Verdict {
        evaluate(&c, method, Some(&REP))
    }

    const IM: usize = 0;
    const INM: usize = 1;
    const IMS: usize = 2;
    const IUS: usize = 3;
    const IR: usize = 4;

    /// Conditions with the fields given set: `IM`, `INM`, `IMS`, `IUS`, `IR`.
    fn with<'a>(set: &[(usize, &'a str)]) -> Conditions<'a> {
        let mut f = [None; 5];
        for &(field, v) in set {
            f[field] = Some(v.as_bytes());
        }
        let [if_match, if_none_match, if_modified_since, if_unmodified_since, if_range] = f;
        Conditions {
            if_match,
            if_none_match,
            if_modified_since,
            if_unmodified_since,
            if_range,
        }
    }

    fn one(field: usize, v: &str) -> Conditions<'_> {
        with(&[(field, v)])
    }

    #[test]
    fn no_conditions_proceed_and_only_get_honours_range() {
        let none = Conditions::default();
        assert_eq!(eval(none, Method::Get), GO);
        for m in [Method::Head, Method::Put, Method::Delete, Method::Post] {
            assert_eq!(eval(none, m), GO_WHOLE, "{m:?}");
        }
        assert_eq!(evaluate(&none, Method::Put, None), GO_WHOLE);
        assert_eq!(GO.status(), None);
        assert_eq!(Verdict::NotModified.status(), Some(304));
        assert_eq!(Verdict::PreconditionFailed.status(), Some(412));
    }

    #[test]
    fn entity_tags_parse_per_rfc_9110_8_8_3() {
        let t = |v: &'static str| entity_tag(v.as_bytes()).map(|t| (t.weak, t.opaque));
        assert_eq!(t("\"abc\""), Some((false, &b"\"abc\""[..])));
        assert_eq!(t("W/\"abc\""), Some((true, &b"\"abc\""[..])));
        assert_eq!(t(" \"\"\t"), Some((false, &b"\"\""[..])));
        assert_eq!(t("\"a,b\""), Some((false, &b"\"a,b\""[..])));
        assert_eq!(
            t("\"caf\u{e9}\""),
            Some((false, "\"caf\u{e9}\"".as_bytes()))
        );
        for bad in [
            "",
            "abc",
            "\"abc",
            "abc\"",
            "w/\"abc\"",
            "W/abc",
            "W/ \"abc\"",
            "\"a b\"",
            "\"a\"b",
            "\"a\" \"b\"",
            "*",
            "W/",
            "\"",
            "\"a\tb\"",
            "\"a\x7fb\"",
        ] {
            assert_eq!(t(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn list_members() {
        let m = |v: &'static str| members(v.as_bytes()).collect::<Vec<_>>();
        let tag = |weak, opaque: &'static str| {
            Member::Tag(Tag {
                weak,
                opaque: opaque.as_bytes(),
            })
        };
        assert_eq!(m(""), []);
        assert_eq!(m(" , ,\t"), []);
        assert_eq!(m("*"), [Member::Any]);
        assert_eq!(m(" * "), [Member::Any]);
        assert_eq!(m("*x"), [Member::Junk]);
        assert_eq!(
            m("\"a\", W/\"b\" ,\"c,d\""),
            [
                tag(false, "\"a\""),
                tag(true, "\"b\""),
                tag(false, "\"c,d\"")
            ]
        );
        assert_eq!(m(",,\"a\",,"), [tag(false, "\"a\"")]);
        assert_eq!(m("\"a\" x, \"b\""), [Member::Junk, tag(false, "\"b\"")]);
        assert_eq!(m("abc, \"b\""), [Member::Junk, tag(false, "\"b\"")]);
        assert_eq!(
            m("\"unterminated, \"b\""),
            [Member::Junk, tag(false, "\"b\"")]
        );
    }

    #[test]
    fn strong_and_weak_comparison_per_rfc_9110_8_8_3_2() {
        // The table of RFC 9110 8.8.3.2.
        let tag = |v: &'static str| entity_tag(v.as_bytes()).unwrap();
        let cases = [
            ("W/\"1\"", "W/\"1\"", false, true),
            ("W/\"1\"", "W/\"2\"", false, false),
            ("W/\"1\"", "\"1\"", false, true),
            ("\"1\"", "\"1\"", true, true),
        ];
        for (a, b, strong, weak) in cases {
            assert_eq!(strong_match(tag(a), tag(b)), strong, "{a} {b}");
            assert_eq!(strong_match(tag(b), tag(a)), strong, "{b} {a}");
            assert_eq!(weak_match(tag(a), tag(b)), weak, "{a} {b}");
            assert_eq!(weak_match(tag(b), tag(a)), weak, "{b} {a}");
        }
    }

    #[test]
    fn if_match_uses_strong_comparison() {
        for m in METHODS {
            let whole = if m == Method::Get { GO } else { GO_WHOLE };
            assert_eq!(eval(one(IM, "\"abc\""), m), whole, "{m:?}");
            assert_eq!(eval(one(IM, "\"x\", \"abc\""), m), whole);
            assert_eq!(eval(one(IM, "*"), m), whole);
            assert_eq!(eval(one(IM, "\"x\", *"), m), whole);
            assert_eq!(eval(one(IM, "\"x\""), m), Verdict::PreconditionFailed);
            assert_eq!(eval(one(IM, "W/\"abc\""), m), Verdict::PreconditionFailed);
            assert_eq!(eval(one(IM, "\"ABC\""), m), Verdict::PreconditionFailed);
            assert_eq!(eval(one(IM, "abc"), m), Verdict::PreconditionFailed);
            assert_eq!(eval(one(IM, ""), m), Verdict::PreconditionFailed);
        }
        // A weak current tag never matches strongly; `*` still does.
        let weak = Representation {
            etag: Some(b"W/\"abc\""),
            last_modified: Some(T),
        };
        assert!(!if_match(b"\"abc\"", Some(&weak)));
        assert!(!if_match(b"W/\"abc\"", Some(&weak)));
        assert!(if_match(b"*", Some(&weak)));
    }

    #[test]
    fn if_match_without_a_representation_fails_even_for_star() {
        for list in ["*", "\"abc\"", ""] {
            let c = one(IM, list);
            assert_eq!(
                evaluate(&c, Method::Put, None),
                Verdict::PreconditionFailed,
                "{list}"
            );
        }
        // A representation without an entity-tag matches only `*`.
        let untagged = Representation {
            etag: None,
            last_modified: Some(T),
        };
        assert!(if_match(b"*", Some(&untagged)));
        assert!(!if_match(b"\"abc\"", Some(&untagged)));
        let malformed = Representation {
            etag: Some(b"abc"),
            last_modified: None,
        };
        assert!(if_match(b"*", Some(&malformed)));
        assert!(!if_match(b"abc", Some(&malformed)));
    }

    #[test]
    fn if_none_match_uses_weak_comparison_304_for_get_and_head_412_else() {
        for list in ["\"abc\"", "W/\"abc\"", "\"x\", W/\"abc\"", "*", " * "] {
            assert_eq!(
                eval(one(INM, list), Method::Get),
                Verdict::NotModified,
                "{list}"
            );
            assert_eq!(eval(one(INM, list), Method::Head), Verdict::NotModified);
            assert_eq!(
                eval(one(INM, list), Method::Put),
                Verdict::PreconditionFailed
            );
            assert_eq!(
                eval(one(INM, list), Method::Delete),
                Verdict::PreconditionFailed
            );
        }
        for list in ["\"x\"", "\"ABC\"", "abc", "", "W/\"x\", \"y\""] {
            assert_eq!(eval(one(INM, list), Method::Get), GO, "{list}");
            assert_eq!(eval(one(INM, list), Method::Put), GO_WHOLE, "{list}");
        }
        // A weak current tag matches weakly.
        let weak = Representation {
            etag: Some(b"W/\"abc\""),
            last_modified: None,
        };
        assert!(!if_none_match(b"\"abc\"", Some(&weak)));
    }

    #[test]
    fn if_none_match_star_lets_a_put_create() {
        let c = one(INM, "*");
        assert_eq!(evaluate(&c, Method::Put, None), GO_WHOLE);
        assert_eq!(
            evaluate(&c, Method::Put, Some(&REP)),
            Verdict::PreconditionFailed
        );
        let c = one(INM, "\"abc\"");
        assert_eq!(evaluate(&c, Method::Put, None), GO_WHOLE);
    }

    #[test]
    fn if_unmodified_since_at_and_past_the_modification_time() {
        for m in METHODS {
            let whole = if m == Method::Get { GO } else { GO_WHOLE };
            assert_eq!(eval(one(IUS, &date(T)), m), whole, "{m:?}");
            assert_eq!(eval(one(IUS, &date(T + 1)), m), whole);
            assert_eq!(eval(one(IUS, &date(T - 1)), m), Verdict::PreconditionFailed);
            assert_eq!(eval(one(IUS, &date(0)), m), Verdict::PreconditionFailed);
        }
        // The obsolete forms are HTTP-dates too (RFC 9110 5.6.7).
        assert_eq!(
            eval(one(IUS, "Saturday, 05-Nov-94 08:49:37 GMT"), Method::Put),
            Verdict::PreconditionFailed
        );
        assert_eq!(
            eval(one(IUS, "Sun Nov  6 08:49:37 1994"), Method::Put),
            GO_WHOLE
        );
    }

    #[test]
    fn date_conditions_are_ignored_when_malformed_or_unknown() {
        // RFC 9110 13.1.3, 13.1.4: not a valid HTTP-date (a list of dates
        // is not one), or no modification date to compare with.
        let malformed = [
            "",
            "yesterday",
            "1994-11-06",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Wed, 31 Dec 1969 23:59:59 GMT",
        ];
        let undated = Representation {
            etag: Some(ETAG),
            last_modified: None,
        };
        for (field, m, go) in [(IUS, Method::Put, GO_WHOLE), (IMS, Method::Get, GO)] {
            for bad in malformed {
                assert_eq!(eval(one(field, bad), m), go, "{bad}");
            }
            for d in [
                "Thu, 01 Jan 1970 00:00:00 GMT",
                "Sun, 06 Nov 1994 08:49:37 GMT",
            ] {
                let c = one(field, d);
                assert_eq!(evaluate(&c, m, Some(&undated)), go, "{d}");
                assert_eq!(evaluate(&c, m, None), go, "{d}");
            }
        }
        assert_eq!(if_unmodified_since(b"nonsense", Some(&REP)), None);
        assert_eq!(if_modified_since(b"nonsense", Some(&REP)), None);
    }

    #[test]
    fn if_modified_since_at_and_past_the_modification_time() {
        for m in [Method::Get, Method::Head] {
            assert_eq!(eval(one(IMS, &date(T)), m), Verdict::NotModified, "{m:?}");
            assert_eq!(eval(one(IMS, &date(T + 1)), m), Verdict::NotModified);
            assert!(matches!(
                eval(one(IMS, &date(T - 1)), m),
                Verdict::Proceed { .. }
            ));
        }
        // Ignored for other methods (RFC 9110 13.1.3).
        for m in [Method::Put, Method::Delete, Method::Post] {
            assert_eq!(eval(one(IMS, &date(T)), m), GO_WHOLE, "{m:?}");
        }
    }

    #[test]
    fn precedence_per_rfc_9110_13_2_2() {
        const EPOCH: &str = "Thu, 01 Jan 1970 00:00:00 GMT";
        const AT: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
        let (tag, other) = ("\"abc\"", "\"x\"");
        let (pf, nm) = (Verdict::PreconditionFailed, Verdict::NotModified);
        #[rustfmt::skip]
        let cases = [
            // Step 2 only without If-Match: a failing date is not looked at.
            ([(IM, tag), (IUS, EPOCH)], Method::Put, GO_WHOLE),
            ([(IM, other), (IUS, AT)], Method::Put, pf),
            // Step 4 only without If-None-Match.
            ([(INM, other), (IMS, AT)], Method::Get, GO),
            ([(INM, tag), (IMS, EPOCH)], Method::Get, nm),
            // Steps 1-2 (412) before steps 3-4 (304).
            ([(IM, other), (INM, tag)], Method::Get, pf),
            ([(IUS, EPOCH), (IMS, AT)], Method::Get, pf),
            ([(IM, tag), (INM, tag)], Method::Get, nm),
            ([(IM, tag), (INM, tag)], Method::Delete, pf),
            // Step 5 (If-Range) after the others.
            ([(INM, tag), (IR, tag)], Method::Get, nm),
            ([(IM, tag), (IR, other)], Method::Get, GO_WHOLE),
            ([(IM, tag), (IR, tag)], Method::Get, GO),
        ];
        for (set, m, verdict) in cases {
            assert_eq!(eval(with(&set), m), verdict, "{set:?} {m:?}");
        }
    }

    #[test]
    fn if_range_with_an_entity_tag_needs_a_strong_match() {
        assert_eq!(eval(one(IR, "\"abc\""), Method::Get), GO);
        assert_eq!(eval(one(IR, " \"abc\" "), Method::Get), GO);
        for v in [
            "\"x\"",
            "W/\"abc\"",
            "\"abc\", \"x\"",
            "\"abc",
            "abc",
            "*",
            "",
        ] {
            assert_eq!(eval(one(IR, v), Method::Get), GO_WHOLE, "{v}");
        }
        let weak = Representation {
            etag: Some(b"W/\"abc\""),
            last_modified: None,
        };
        assert!(!if_range(b"\"abc\"", Some(&weak)));
        assert!(!if_range(b"W/\"abc\"", Some(&weak)));
        assert!(!if_range(b"\"abc\"", None));
    }

    #[test]
    fn if_range_with_a_date_needs_an_exact_match() {
        assert_eq!(eval(one(IR, &date(T)), Method::Get), GO);
        assert_eq!(
            eval(one(IR, "Sunday, 06-Nov-94 08:49:37 GMT"), Method::Get),
            GO
        );
        for t in [T - 1, T + 1, 0] {
            assert_eq!(eval(one(IR, &date(t)), Method::Get), GO_WHOLE, "{t}");
        }
        assert_eq!(
            eval(one(IR, "Sun, 06 Nov 1994 08:49:37"), Method::Get),
            GO_WHOLE
        );
        let undated = Representation {
            etag: Some(ETAG),
            last_modified: None,
        };
        assert!(!if_range(DATE, Some(&undated)));
    }

    #[test]
    fn if_range_only_matters_for_get_and_after_the_other_steps() {
        for m in [Method::Head, Method::Put] {
            assert_eq!(eval(one(IR, "\"abc\""), m), GO_WHOLE, "{m:?}");
        }
    }

    #[test]
    fn conditions_of_a_request() {
        let raw = b"GET / HTTP/1.1\r\nHost: x\r\nIf-Match: \"a\"\r\nif-none-match: *\r\n\
            IF-MODIFIED-SINCE: d1\r\nIf-Unmodified-Since: d2\r\nIf-Range: \"r\"\r\n\
            If-Match: \"second\"\r\n\r\n";
        let mut headers = [crate::Header::EMPTY; 16];
        let limits = crate::Limits::default();
        let Ok(crate::Status::Complete((req, _))) =
            crate::parse_request(raw, &mut headers, &limits)
        else {
            panic!("parse");
        };
        let c = Conditions::of(&req);
        assert_eq!(c.if_match, Some(&b"\"a\""[..]));
        assert_eq!(c.if_none_match, Some(&b"*"[..]));
        assert_eq!(c.if_modified_since, Some(&b"d1"[..]));
        assert_eq!(c.if_unmodified_since, Some(&b"d2"[..]));
        assert_eq!(c.if_range, Some(&b"\"r\""[..]));
        let mut headers = [crate::Header::EMPTY; 4];
        let Ok(crate::Status::Complete((req, _))) =
            crate::parse_request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", &mut headers, &limits)
        else {
            panic!("parse");
        };
        assert_eq!(Conditions::of(&req), Conditions::default());
    }
}
