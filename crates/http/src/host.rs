//! The Host field value (RFC 9110 7.2): `uri-host [ ":" port ]`, where
//! `uri-host` is RFC 3986's `host` (3.2.2) and `port` its `*DIGIT` (3.2.3).
//!
//! A server must refuse a request whose Host value is not of that form
//! (RFC 9112 3.2: 400), so [`framing`](mod@crate::framing) checks every Host
//! line with [`is_valid_host`]. The grammar, from RFC 3986:
//!
//! ```text
//! host        = IP-literal / IPv4address / reg-name
//! IP-literal  = "[" ( IPv6address / IPvFuture ) "]"
//! IPvFuture   = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
//! reg-name    = *( unreserved / pct-encoded / sub-delims )
//! ```
//!
//! Every IPv4address is also a reg-name (digits and dots), so outside
//! brackets only the reg-name rule decides; `999.1.1.1` is a valid
//! (registered) name. Choices beyond the grammar, each on the strict side:
//! a port must fit in 16 bits (it names a TCP port, RFC 9293 3.1), and
//! IPv6 zone identifiers (`[fe80::1%25eth0]`, RFC 6874) are refused, as
//! RFC 9110 does not take them up. An empty value, and an empty port
//! (`example.com:`), are allowed: the grammar has both (RFC 9110 7.2 asks
//! for an empty Host when the target has no authority).

/// Is `value` (a Host field value, OWS already trimmed) `uri-host [ ":" port ]`?
pub fn is_valid_host(value: &[u8]) -> bool {
    let (host_ok, rest) = match value {
        [b'[', inner @ ..] => match inner.iter().position(|&b| b == b']') {
            Some(end) => (is_ip_literal(&inner[..end]), &inner[end + 1..]),
            None => return false,
        },
        _ => {
            let end = value.iter().position(|&b| b == b':');
            let end = end.unwrap_or(value.len());
            (is_reg_name(&value[..end]), &value[end..])
        }
    };
    host_ok
        && match rest {
            [] => true,
            [b':', port @ ..] => is_port(port),
            _ => false,
        }
}

/// `port = *DIGIT` (RFC 3986 3.2.3), at most 65535.
fn is_port(digits: &[u8]) -> bool {
    digits
        .iter()
        .try_fold(0u16, |n, &b| {
            if !b.is_ascii_digit() {
                return None;
            }
            n.checked_mul(10)?.checked_add(u16::from(b - b'0'))
        })
        .is_some()
}

/// `unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"` (RFC 3986 2.3).
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// `sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="`
/// (RFC 3986 2.2).
fn is_sub_delim(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

/// `reg-name = *( unreserved / pct-encoded / sub-delims )`, with
/// `pct-encoded = "%" HEXDIG HEXDIG` (RFC 3986 2.1, 3.2.2).
fn is_reg_name(s: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if b == b'%' {
            match s.get(i + 1..i + 3) {
                Some([h, l]) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => i += 3,
                _ => return false,
            }
        } else if is_unreserved(b) || is_sub_delim(b) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// What is between the brackets of an IP-literal: IPv6address or IPvFuture.
fn is_ip_literal(s: &[u8]) -> bool {
    match s {
        [b'v' | b'V', rest @ ..] => is_ip_future(rest),
        _ => is_ipv6(s),
    }
}

/// IPvFuture after its `v`: `1*HEXDIG "." 1*( unreserved / sub-delims / ":" )`.
fn is_ip_future(s: &[u8]) -> bool {
    let Some(dot) = s.iter().position(|&b| b == b'.') else {
        return false;
    };
    let (version, tail) = (&s[..dot], &s[dot + 1..]);
    !version.is_empty()
        && version.iter().all(u8::is_ascii_hexdigit)
        && !tail.is_empty()
        && tail
            .iter()
            .all(|&b| is_unreserved(b) || is_sub_delim(b) || b == b':')
}

/// Pieces of 16 bits in an IPv6address (RFC 3986 3.2.2, RFC 4291 2.2).
const IPV6_PIECES: usize = 8;

/// IPv6address: eight `h16` pieces separated by `:`, the last two possibly
/// written as an IPv4address, or fewer with one `::` standing for at least
/// one zero piece.
fn is_ipv6(s: &[u8]) -> bool {
    match s.windows(2).position(|w| w == b"::") {
        None => pieces(s, true) == Some(IPV6_PIECES),
        Some(i) => {
            let (head, tail) = (&s[..i], &s[i + 2..]);
            let head = if head.is_empty() {
                Some(0)
            } else {
                pieces(head, false)
            };
            let tail = if tail.is_empty() {
                Some(0)
            } else {
                pieces(tail, true)
            };
            matches!((head, tail), (Some(h), Some(t)) if h + t < IPV6_PIECES)
        }
    }
}

/// How many 16-bit pieces `s` holds: `h16` separated by single colons, the
/// last one possibly an IPv4address (two pieces) when `v4_tail`; `None` if
/// it is not of that form (an empty piece included, so a second `::` fails).
fn pieces(s: &[u8], v4_tail: bool) -> Option<usize> {
    let mut count = 0usize;
    let mut parts = s.split(|&b| b == b':').peekable();
    while let Some(part) = parts.next() {
        let last = parts.peek().is_none();
        if (1..=4).contains(&part.len()) && part.iter().all(u8::is_ascii_hexdigit) {
            count += 1;
        } else if last && v4_tail && is_ipv4(part) {
            count += 2;
        } else {
            return None;
        }
    }
    Some(count)
}

/// `IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet`
/// (RFC 3986 3.2.2).
fn is_ipv4(s: &[u8]) -> bool {
    let mut octets = 0;
    for octet in s.split(|&b| b == b'.') {
        if !is_dec_octet(octet) {
            return false;
        }
        octets += 1;
    }
    octets == 4
}

/// `dec-octet`: 0 to 255 in decimal, without leading zeros.
fn is_dec_octet(s: &[u8]) -> bool {
    match *s {
        [d] => d.is_ascii_digit(),
        [b'1'..=b'9', d] => d.is_ascii_digit(),
        [b'1', d, e] => d.is_ascii_digit() && e.is_ascii_digit(),
        [b'2', b'0'..=b'4', e] => e.is_ascii_digit(),
        [b'2', b'5', b'0'..=b'5'] => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(s: &str) -> bool {
        is_valid_host(s.as_bytes())
    }

    #[test]
    fn reg_names() {
        for h in [
            "",
            "a",
            "localhost",
            "example.com",
            "EXAMPLE.com.",
            "xn--bcher-kva.example",
            "under_score-and~tilde",
            "caf%C3%A9.example",
            "%2f%2F",
            "!$&'()*+,;=",
            "a,b;c=d",
            "999.1.1.1",
            "1.2.3",
            "01.02.03.04",
        ] {
            assert!(valid(h), "{h:?}");
        }
    }

    #[test]
    fn ipv4_and_ports() {
        for h in [
            "127.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "10.0.2.15:8888",
            "localhost:80",
            "example.com:0",
            "example.com:65535",
            "example.com:00080",
            "example.com:",
            ":80",
            ":",
        ] {
            assert!(valid(h), "{h:?}");
        }
        for h in [
            "example.com:65536",
            "example.com:99999",
            "example.com:123456789012345678901234567890",
            "example.com:-1",
            "example.com:+1",
            "example.com:8o",
            "example.com:http",
            "example.com: 80",
            "example.com:80 ",
            "example.com:0x50",
        ] {
            assert!(!valid(h), "{h:?}");
        }
    }

    #[test]
    fn ip_literals() {
        for h in [
            "[::]",
            "[::1]",
            "[::1]:8080",
            "[::1]:",
            "[1::]",
            "[2001:db8::1]",
            "[2001:DB8:0:0:8:800:200C:417A]",
            "[1:2:3:4:5:6:7:8]",
            "[1:2:3:4:5:6:7::]",
            "[::2:3:4:5:6:7:8]",
            "[1:2:3:4:5:6::8]",
            "[0000:0000:0000:0000:0000:0000:0000:0001]",
            "[::ffff:192.0.2.1]",
            "[::192.0.2.1]",
            "[1:2:3:4:5:6:1.2.3.4]",
            "[1::6:255.255.255.255]:443",
            "[v1.x]",
            "[V1F.a:b!$&'()*+,;=-._~]:80",
        ] {
            assert!(valid(h), "{h:?}");
        }
        for h in [
            "[]",
            "[::1",
            "::1]",
            "[::1]]",
            "[[::1]]",
            "[::1]x",
            "[::1]:x",
            "[::1]:65536",
            "::1",
            "[:]",
            "[:::]",
            "[1:::2]",
            "[1::2::3]",
            "[:1:2:3:4:5:6:7]",
            "[1:2:3:4:5:6:7:]",
            "[1:2:3:4:5:6:7]",
            "[1:2:3:4:5:6:7:8:9]",
            "[1:2:3:4::5:6:7:8]",
            "[1:2:3:4:5:6:7:8::]",
            "[12345::]",
            "[g::]",
            "[::1.2.3]",
            "[::1.2.3.4.5]",
            "[::256.0.0.1]",
            "[::01.2.3.4]",
            "[1.2.3.4::]",
            "[::1.2.3.4:5]",
            "[1:2:3:4:5:6:7:1.2.3.4]",
            "[fe80::1%25eth0]",
            "[fe80::1%eth0]",
            "[127.0.0.1]",
            "[localhost]",
            "[v1]",
            "[v.x]",
            "[v1.]",
            "[vg.x]",
            "[v1.x y]",
            "[v1.x/]",
        ] {
            assert!(!valid(h), "{h:?}");
        }
    }

    #[test]
    fn invalid_values() {
        for h in [
            "a b",
            " a",
            "a\t",
            "user@example.com",
            "user:pass@example.com",
            "a:b:c",
            "a:80:80",
            "example.com/",
            "example.com/path",
            "example.com?q",
            "example.com#f",
            "a\\b",
            "a\"b",
            "<a>",
            "a{b}",
            "a|b",
            "a^b",
            "a`b",
            "%",
            "%4",
            "%4g",
            "a%zz",
            "caf\u{e9}.example",
            "例え.jp",
            "a\u{7f}",
            "[::1]:80:80",
            "]",
            "[",
            "a[::1]",
            "a]",
        ] {
            assert!(!valid(h), "{h:?}");
        }
        assert!(!is_valid_host(b"a\x00b"));
        assert!(!is_valid_host(b"\xff"));
        assert!(!is_valid_host(b"example.com\x80"));
    }
}
