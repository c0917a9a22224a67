//! Property tests for the Host value check (RFC 9112 3.2, RFC 3986 3.2.2):
//! hosts built from the grammar are accepted, with any 16-bit port; one
//! byte the grammar never allows makes any of them invalid; bracketed
//! IPv6 agrees with the standard library's parser of RFC 4291 text.

use std::net::{Ipv4Addr, Ipv6Addr};

use bedrock_http::{framing, is_valid_host, parse_request, Error, Header, Limits, Status};
use proptest::prelude::*;

/// reg-name's single characters: unreserved and sub-delims (RFC 3986 2.2, 2.3).
const REG_CHARS: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=";
const HEX: &[u8] = b"0123456789abcdefABCDEF";

/// Bytes that appear nowhere in a valid Host value, brackets and colons
/// aside (those are placed by the grammar, so a stray one may still fit).
fn never_allowed() -> impl Strategy<Value = u8> {
    prop_oneof![
        0u8..0x21,
        Just(0x7f),
        0x80u8..=0xff,
        proptest::sample::select(&b"\"#/<>?@\\^`{|}"[..]),
    ]
}

fn reg_name() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        6 => proptest::sample::select(REG_CHARS).prop_map(|b| (b as char).to_string()),
        1 => (proptest::sample::select(HEX), proptest::sample::select(HEX))
            .prop_map(|(h, l)| format!("%{}{}", h as char, l as char)),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

fn ip_future() -> impl Strategy<Value = String> {
    let tail = proptest::collection::vec(
        proptest::sample::select(&b"abcXYZ019-._~!$&'()*+,;=:"[..]),
        1..12,
    );
    (
        proptest::collection::vec(proptest::sample::select(HEX), 1..4),
        tail,
    )
        .prop_map(|(v, t)| {
            format!(
                "[v{}.{}]",
                String::from_utf8(v).unwrap(),
                String::from_utf8(t).unwrap()
            )
        })
}

/// Every form of uri-host: reg-name, IPv4address, IPv6 (as the standard
/// library writes it, compressed and with IPv4 tails, or in full), IPvFuture.
fn uri_host() -> impl Strategy<Value = String> {
    prop_oneof![
        reg_name(),
        any::<u32>().prop_map(|a| Ipv4Addr::from(a).to_string()),
        any::<u128>().prop_map(|a| format!("[{}]", Ipv6Addr::from(a))),
        any::<u32>().prop_map(|a| format!("[{}]", Ipv4Addr::from(a).to_ipv6_mapped())),
        any::<[u16; 8]>().prop_map(|p| {
            let full: Vec<String> = p.iter().map(|g| format!("{g:x}")).collect();
            format!("[{}]", full.join(":"))
        }),
        proptest::collection::vec(0u16..3, 8).prop_map(|p| {
            // mostly zeros, so that std compresses runs of every length
            format!("[{}]", Ipv6Addr::from(<[u16; 8]>::try_from(p).unwrap()))
        }),
        ip_future(),
    ]
}

fn host_value() -> impl Strategy<Value = String> {
    (uri_host(), proptest::option::of(any::<u16>())).prop_map(|(h, port)| match port {
        Some(p) => format!("{h}:{p}"),
        None => h,
    })
}

/// Near-misses of IPv6 text: pieces of hex, empty pieces (so `::` and
/// `:::`), IPv4 pieces, over-long pieces, joined by colons.
fn ipv6_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => proptest::collection::vec(proptest::sample::select(HEX), 1..5)
            .prop_map(|v| String::from_utf8(v).unwrap()),
        2 => Just(String::new()),
        1 => any::<u32>().prop_map(|a| Ipv4Addr::from(a).to_string()),
        1 => Just("12345".to_string()),
        1 => Just("1.2.3".to_string()),
        1 => Just("01.2.3.4".to_string()),
        1 => Just("256.1.1.1".to_string()),
    ];
    proptest::collection::vec(piece, 1..11).prop_map(|v| v.join(":"))
}

/// Full IPv6 text with one edit: a run of pieces (possibly none, possibly
/// at an end) written as `::`, or a piece dropped or doubled; the last two
/// pieces may be an IPv4 tail.
fn ipv6_edited() -> impl Strategy<Value = String> {
    (
        any::<[u16; 8]>(),
        any::<bool>(),
        any::<prop::sample::Index>(),
        0usize..9,
        0u8..3,
    )
        .prop_map(|(groups, v4, at, run, edit)| {
            let mut p: Vec<String> = groups.iter().map(|g| format!("{g:x}")).collect();
            if v4 {
                p.truncate(6);
                p.push(
                    Ipv4Addr::from(u32::from(groups[6]) << 16 | u32::from(groups[7])).to_string(),
                );
            }
            let i = at.index(p.len() + 1);
            match edit {
                0 => {
                    let end = (i + run).min(p.len());
                    return format!("{}::{}", p[..i].join(":"), p[end..].join(":"));
                }
                1 => {
                    p.remove(i.min(p.len() - 1));
                }
                _ => {
                    let dup = p[i.min(p.len() - 1)].clone();
                    p.insert(i, dup);
                }
            }
            p.join(":")
        })
}

fn framing_of(host: &[u8]) -> Result<(), Error> {
    let mut head = b"GET / HTTP/1.1\r\nHost: ".to_vec();
    head.extend_from_slice(host);
    head.extend_from_slice(b"\r\n\r\n");
    let mut headers = [Header::EMPTY; 4];
    match parse_request(&head, &mut headers, &Limits::default()) {
        Ok(Status::Complete((req, _))) => framing(&req).map(|_| ()),
        other => panic!("head did not parse: {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn hosts_from_the_grammar_are_valid(h in host_value()) {
        prop_assert!(is_valid_host(h.as_bytes()), "{h:?}");
        prop_assert_eq!(framing_of(h.as_bytes()), Ok(()));
    }

    #[test]
    fn one_stray_byte_makes_a_host_invalid(
        h in host_value(),
        at in any::<prop::sample::Index>(),
        bad in never_allowed(),
    ) {
        let mut v = h.into_bytes();
        let i = at.index(v.len() + 1);
        v.insert(i, bad);
        prop_assert!(!is_valid_host(&v), "{:?}", String::from_utf8_lossy(&v));
        // Through a real head: OWS at either end is not part of the value,
        // and control bytes other than HTAB fail the head itself.
        let at_edge = matches!(v.first(), Some(b' ' | b'\t')) || matches!(v.last(), Some(b' ' | b'\t'));
        if !at_edge && !matches!(bad, 0..=0x08 | 0x0a..=0x1f | 0x7f) {
            prop_assert_eq!(framing_of(&v), Err(Error::BadHost));
        }
    }

    #[test]
    fn a_second_port_is_invalid(h in uri_host(), p in any::<u16>(), q in any::<u16>()) {
        for v in [format!("{h}:{p}:{q}"), format!("{h}:{p}:"), format!("{h}::{p}")] {
            prop_assert!(!is_valid_host(v.as_bytes()), "{:?}", v);
        }
    }

    #[test]
    fn ports_are_16_bits(h in uri_host(), port in 0u32..1_000_000) {
        let v = format!("{h}:{port}");
        prop_assert_eq!(is_valid_host(v.as_bytes()), port <= u32::from(u16::MAX), "{}", v);
    }

    #[test]
    fn bracketed_ipv6_agrees_with_std(s in ipv6_like()) {
        let ours = is_valid_host(format!("[{s}]").as_bytes());
        prop_assert_eq!(ours, s.parse::<Ipv6Addr>().is_ok(), "{}", s);
    }

    #[test]
    fn edited_ipv6_agrees_with_std(s in ipv6_edited()) {
        let ours = is_valid_host(format!("[{s}]").as_bytes());
        prop_assert_eq!(ours, s.parse::<Ipv6Addr>().is_ok(), "{}", s);
    }

    #[test]
    fn arbitrary_bytes_never_panic(v in proptest::collection::vec(any::<u8>(), 0..40)) {
        let valid = is_valid_host(&v);
        if valid {
            prop_assert!(v.iter().all(|&b| b.is_ascii_graphic()));
        }
    }
}
