//! Percent-decoding (RFC 3986 2.1) of paths and query components.
//!
//! Decoding writes into a caller buffer; the output is never longer than the
//! input. An encoded NUL (`%00`) is refused because it truncates strings in
//! too many places further down.

use crate::chars::hex_digit;

/// Why percent-decoding failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PercentError {
    /// A `%` not followed by two hex digits.
    InvalidEscape,
    /// `%00`, or a raw NUL byte in the input.
    EncodedNul,
    /// The output buffer is too small (an output as long as the input always fits).
    OutputFull,
}

/// Decode `%XX` escapes of a path into `out`; `+` stays `+`.
pub fn percent_decode<'o>(input: &[u8], out: &'o mut [u8]) -> Result<&'o [u8], PercentError> {
    decode(input, out, false)
}

/// Decode a query key or value into `out`: `%XX` escapes, and `+` becomes a space
/// (`application/x-www-form-urlencoded`).
pub fn percent_decode_query<'o>(input: &[u8], out: &'o mut [u8]) -> Result<&'o [u8], PercentError> {
    decode(input, out, true)
}

fn decode<'o>(input: &[u8], out: &'o mut [u8], plus: bool) -> Result<&'o [u8], PercentError> {
    let mut i = 0;
    let mut n = 0;
    while let Some(&b) = input.get(i) {
        let byte = match b {
            b'%' => {
                let hi = input.get(i + 1).and_then(|&h| hex_digit(h));
                let lo = input.get(i + 2).and_then(|&l| hex_digit(l));
                match (hi, lo) {
                    (Some(h), Some(l)) => {
                        i += 3;
                        (h << 4) | l
                    }
                    _ => return Err(PercentError::InvalidEscape),
                }
            }
            b'+' if plus => {
                i += 1;
                b' '
            }
            _ => {
                i += 1;
                b
            }
        };
        if byte == 0 {
            return Err(PercentError::EncodedNul);
        }
        let slot = out.get_mut(n).ok_or(PercentError::OutputFull)?;
        *slot = byte;
        n += 1;
    }
    Ok(&out[..n])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Vec<u8>, PercentError> {
        let mut out = [0u8; 64];
        percent_decode(s.as_bytes(), &mut out).map(|s| s.to_vec())
    }

    fn q(s: &str) -> Result<Vec<u8>, PercentError> {
        let mut out = [0u8; 64];
        percent_decode_query(s.as_bytes(), &mut out).map(|s| s.to_vec())
    }

    #[test]
    fn decodes() {
        assert_eq!(p("/a%20b/%C3%A9").unwrap(), b"/a b/\xc3\xa9");
        assert_eq!(p("%2f%2F").unwrap(), b"//");
        assert_eq!(p("a+b").unwrap(), b"a+b");
        assert_eq!(q("a+b%2B").unwrap(), b"a b+");
        assert_eq!(p("").unwrap(), b"");
        assert_eq!(p("%ff").unwrap(), b"\xff");
    }

    #[test]
    fn errors() {
        assert_eq!(p("%"), Err(PercentError::InvalidEscape));
        assert_eq!(p("%2"), Err(PercentError::InvalidEscape));
        assert_eq!(p("%g0"), Err(PercentError::InvalidEscape));
        assert_eq!(p("%0g"), Err(PercentError::InvalidEscape));
        assert_eq!(p("%00"), Err(PercentError::EncodedNul));
        assert_eq!(q("a%00"), Err(PercentError::EncodedNul));
        assert_eq!(p("a\0"), Err(PercentError::EncodedNul));
    }

    #[test]
    fn output_size() {
        let mut out = [0u8; 3];
        assert_eq!(percent_decode(b"abc", &mut out), Ok(&b"abc"[..]));
        assert_eq!(percent_decode(b"%41%42%43", &mut out), Ok(&b"ABC"[..]));
        assert_eq!(
            percent_decode(b"abcd", &mut out),
            Err(PercentError::OutputFull)
        );
        assert_eq!(percent_decode(b"", &mut []), Ok(&b""[..]));
        assert_eq!(percent_decode(b"a", &mut []), Err(PercentError::OutputFull));
    }
}
