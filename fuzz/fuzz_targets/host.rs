//! The Host value check (RFC 9112 3.2, RFC 3986 3.2.2) on arbitrary bytes:
//! it never panics, what it accepts is visible ASCII without the bytes the
//! grammar never allows, bracketed text that is not IPvFuture is accepted
//! exactly when the standard library reads it as an IPv6 address, text
//! without brackets or colons exactly when it is a reg-name, and a port
//! is accepted exactly when it fits in 16 bits.
#![no_main]

use std::net::Ipv6Addr;

use bedrock_http::is_valid_host;
use libfuzzer_sys::fuzz_target;

/// reg-name = *( unreserved / pct-encoded / sub-delims ), written out again.
fn is_reg_name(s: &[u8]) -> bool {
    let mut rest = s;
    while let [b, tail @ ..] = rest {
        rest = match (b, tail) {
            (b'%', [h, l, tail @ ..]) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => tail,
            (b'%', _) => return false,
            (b, _) if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(b) => tail,
            _ => return false,
        };
    }
    true
}

fuzz_target!(|data: &[u8]| {
    let valid = is_valid_host(data);
    if valid {
        assert!(data.iter().all(|&b| b.is_ascii_graphic()));
        assert!(!data.iter().any(|b| b"\"#/<>?@\\^`{|}".contains(b)));
    }
    if let [b'[', inner @ .., b']'] = data {
        if !matches!(inner.first(), Some(b'v' | b'V')) {
            let std_ok = core::str::from_utf8(inner).is_ok_and(|s| s.parse::<Ipv6Addr>().is_ok());
            assert_eq!(valid, std_ok);
        }
    }
    if !data.iter().any(|b| b"[]:".contains(b)) {
        assert_eq!(valid, is_reg_name(data));
    }
    // The first bytes as a port after a known-good host.
    let digits: Vec<u8> = data.iter().copied().take_while(u8::is_ascii_digit).collect();
    let mut with_port = b"a:".to_vec();
    with_port.extend_from_slice(&digits);
    let fits = digits.iter().try_fold(0u32, |n, &d| {
        let n = n * 10 + u32::from(d - b'0');
        (n <= u32::from(u16::MAX)).then_some(n)
    });
    assert_eq!(is_valid_host(&with_port), fits.is_some());
});
