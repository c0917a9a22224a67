//! Byte-class lookup tables, built at compile time.

/// `tchar` (RFC 9110 5.6.2): the bytes of a token.
pub(crate) static TOKEN: [bool; 256] = build(CLASS_TOKEN);
/// Bytes allowed in a request-target: RFC 3986 unreserved, sub-delims,
/// `:` `@` `/` `?` and `%` (for pct-encoded). Nothing else, no space.
pub(crate) static URI: [bool; 256] = build(CLASS_URI);
/// Bytes allowed in a field value: VCHAR, obs-text, SP and HTAB.
pub(crate) static VALUE: [bool; 256] = build(CLASS_VALUE);

const CLASS_TOKEN: u8 = 0;
const CLASS_URI: u8 = 1;
const CLASS_VALUE: u8 = 2;

const fn build(class: u8) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = match class {
            CLASS_TOKEN => is_tchar(b),
            CLASS_URI => is_uri(b),
            _ => is_value(b),
        };
        i += 1;
    }
    t
}

const fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

const fn is_uri(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'_' | b'~' // unreserved
                | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' // sub-delims
                | b':' | b'@' | b'/' | b'?' | b'%' | b'[' | b']'
        )
}

const fn is_value(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b != 0x7f)
}

/// Is `b` a token character?
#[inline(always)]
pub(crate) fn is_token(b: u8) -> bool {
    TOKEN[b as usize]
}

/// Is every byte of `s` a token character (and `s` non-empty)?
pub(crate) fn is_token_str(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_token(b))
}

/// The value of one hex digit, either case (HEXDIG, RFC 5234 B.1: the
/// chunk-size of RFC 9112 7.1 and the pct-encoded octet of RFC 3986 2.1).
pub(crate) fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Trim optional whitespace (SP, HTAB) from both ends.
pub(crate) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Does the comma-separated list `value` contain `token` (ASCII
/// case-insensitive, OWS and parameters after `;` ignored)?
pub(crate) fn list_has_token(value: &[u8], token: &str) -> bool {
    value.split(|&b| b == b',').any(|el| {
        let el = el.split(|&b| b == b';').next().unwrap_or(&[]);
        trim_ows(el).eq_ignore_ascii_case(token.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables() {
        assert!(TOKEN[b'a' as usize] && TOKEN[b'~' as usize] && !TOKEN[b':' as usize]);
        assert!(!TOKEN[b' ' as usize] && !TOKEN[0x80]);
        assert!(URI[b'/' as usize] && URI[b'%' as usize] && !URI[b' ' as usize]);
        assert!(!URI[b'#' as usize] && !URI[b'"' as usize] && !URI[0x80]);
        assert!(VALUE[b'\t' as usize] && VALUE[b' ' as usize] && VALUE[0xff]);
        assert!(!VALUE[b'\r' as usize] && !VALUE[b'\n' as usize] && !VALUE[0] && !VALUE[0x7f]);
    }

    #[test]
    fn helpers() {
        assert_eq!(trim_ows(b" \t a b \t"), b"a b");
        assert_eq!(trim_ows(b"   "), b"");
        assert!(list_has_token(b"keep-alive, Close", "close"));
        assert!(list_has_token(b"foo;q=1 , bar", "foo"));
        assert!(!list_has_token(b"closed", "close"));
        assert!(is_token_str(b"abc") && !is_token_str(b"") && !is_token_str(b"a b"));
    }

    #[test]
    fn hex_digits_and_their_neighbours() {
        let digits = [
            (b'0', 0),
            (b'9', 9),
            (b'a', 10),
            (b'f', 15),
            (b'A', 10),
            (b'F', 15),
        ];
        for (b, v) in digits {
            assert_eq!(hex_digit(b), Some(v), "{}", b as char);
        }
        for b in [b'/', b':', b'`', b'g', b'@', b'G', b' ', 0, 0xff] {
            assert_eq!(hex_digit(b), None, "{b:#x}");
        }
    }
}
