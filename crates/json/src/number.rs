//! Number formatting (writer) and number grammar and parsing (reader).

use crate::limits::MAX_F64_LEN;
use core::fmt::{self, Write};

/// Eight ASCII digits of `v < 100_000_000`, zero-padded, most significant
/// digit in the lowest byte (so `to_le_bytes` reads in order). Splits into
/// lanes (4+4 digits, then 2+2, then 1+1) with multiply-shift division, all
/// in one register, so the digits leave with a single 8-byte store.
#[inline]
fn digits8(v: u32) -> u64 {
    let v = v as u64;
    let x = (v / 10_000) | ((v % 10_000) << 32); // 32-bit lanes, each < 10^4
    let hundreds = ((x * 5243) >> 19) & 0x0000_007F_0000_007F; // lane / 100
    let x = hundreds | ((x - hundreds * 100) << 16); // 16-bit lanes < 100
    let tens = ((x * 103) >> 10) & 0x000F_000F_000F_000F; // lane / 10
    let x = tens | ((x - tens * 10) << 8); // one digit per byte
    x | 0x3030_3030_3030_3030
}

/// Number of decimal digits of `v < 100_000_000` (1 for 0).
#[inline]
fn digit_count8(v: u32) -> usize {
    match v {
        0..=9 => 1,
        10..=99 => 2,
        100..=999 => 3,
        1000..=9999 => 4,
        10_000..=99_999 => 5,
        100_000..=999_999 => 6,
        1_000_000..=9_999_999 => 7,
        _ => 8,
    }
}

/// The digits of `v < 100_000_000` in the last `n` bytes of the array.
#[inline]
pub(crate) fn small_u64(v: u32) -> ([u8; 8], usize) {
    (digits8(v).to_le_bytes(), digit_count8(v))
}

/// Formats `v` in decimal at the end of `buf`; returns the start index.
#[inline]
pub(crate) fn format_u64(v: u64, buf: &mut [u8; 20]) -> usize {
    const E8: u64 = 100_000_000;
    if v < E8 {
        let d = digits8(v as u32).to_le_bytes();
        let n = digit_count8(v as u32);
        buf[20 - n..].copy_from_slice(&d[8 - n..]);
        return 20 - n;
    }
    let low = digits8((v % E8) as u32).to_le_bytes();
    let rest = v / E8;
    buf[12..].copy_from_slice(&low);
    if rest < E8 {
        let n = digit_count8(rest as u32);
        let d = digits8(rest as u32).to_le_bytes();
        buf[12 - n..12].copy_from_slice(&d[8 - n..]);
        return 12 - n;
    }
    let mid = digits8((rest % E8) as u32).to_le_bytes();
    let top = (rest / E8) as u32; // at most 1844
    buf[4..12].copy_from_slice(&mid);
    let n = digit_count8(top);
    let d = digits8(top).to_le_bytes();
    buf[4 - n..4].copy_from_slice(&d[8 - n..]);
    4 - n
}

/// Formats `v` in decimal at the end of `buf`; returns the start index.
#[inline]
pub(crate) fn format_i64(v: i64, buf: &mut [u8; 21]) -> usize {
    let mut digits = [0u8; 20];
    let start = format_u64(v.unsigned_abs(), &mut digits);
    let n = 20 - start;
    buf[21 - n..].copy_from_slice(&digits[start..]);
    if v < 0 {
        buf[20 - n] = b'-';
        20 - n
    } else {
        21 - n
    }
}

/// A fixed stack buffer that `core::fmt` can write into.
struct StackBuf {
    buf: [u8; MAX_F64_LEN],
    len: usize,
}

impl Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Formats a finite `f64` as a JSON number that parses back to the same
/// value. Integral values below 2^53 in magnitude are written exactly with a
/// `.0` suffix (`3.0`, `-0.0`); others use the shortest round-trip digits of
/// `core::fmt` (`0.1`, `1e300`, `1.5e-7`). Returns `None` for NaN and
/// infinities.
pub(crate) fn format_f64(v: f64, out: &mut [u8; MAX_F64_LEN]) -> Option<usize> {
    if !v.is_finite() {
        return None;
    }
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if v > -EXACT && v < EXACT && (v as i64) as f64 == v {
        let mut digits = [0u8; 21];
        let start = format_i64(v as i64, &mut digits);
        let mut n = 0;
        if v == 0.0 && v.is_sign_negative() {
            out[0] = b'-';
            n = 1;
        }
        let body = &digits[start..];
        out[n..n + body.len()].copy_from_slice(body);
        n += body.len();
        out[n..n + 2].copy_from_slice(b".0");
        return Some(n + 2);
    }
    let mut sb = StackBuf {
        buf: [0; MAX_F64_LEN],
        len: 0,
    };
    // Debug prints the shortest round-trip digits and switches to an
    // exponent for very large and very small magnitudes.
    if write!(sb, "{v:?}").is_ok() && is_valid_number(&sb.buf[..sb.len]) {
        out[..sb.len].copy_from_slice(&sb.buf[..sb.len]);
        return Some(sb.len);
    }
    // Fallback, should Debug's spelling ever stop being JSON: LowerExp is
    // always `-?d(.d+)?e-?d+`.
    sb.len = 0;
    write!(sb, "{v:e}").ok()?;
    out[..sb.len].copy_from_slice(&sb.buf[..sb.len]);
    Some(sb.len)
}

/// Length of the longest prefix of `s` that is a JSON number, or the error
/// the number has. `s` must start at the number's first byte.
pub(crate) fn scan_number(s: &[u8]) -> Result<usize, ()> {
    let mut i = 0;
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    if at(i) == b'-' {
        i += 1;
    }
    match at(i) {
        b'0' => {
            i += 1;
            if at(i).is_ascii_digit() {
                return Err(()); // leading zero
            }
        }
        b'1'..=b'9' => {
            while at(i).is_ascii_digit() {
                i += 1;
            }
        }
        _ => return Err(()),
    }
    if at(i) == b'.' {
        i += 1;
        if !at(i).is_ascii_digit() {
            return Err(());
        }
        while at(i).is_ascii_digit() {
            i += 1;
        }
    }
    if at(i) == b'e' || at(i) == b'E' {
        i += 1;
        if at(i) == b'+' || at(i) == b'-' {
            i += 1;
        }
        if !at(i).is_ascii_digit() {
            return Err(());
        }
        while at(i).is_ascii_digit() {
            i += 1;
        }
    }
    Ok(i)
}

/// True when all of `s` is one number per the RFC 8259 grammar
/// (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`).
pub fn is_valid_number(s: &[u8]) -> bool {
    matches!(scan_number(s), Ok(n) if n == s.len())
}

/// Exact parse of plain unsigned integer text (`[0-9]+`, no sign, fraction or
/// exponent); `None` otherwise or on overflow.
pub(crate) fn parse_u64(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(v)
}

/// Exact parse of plain integer text with an optional `-`; `None` otherwise
/// or when out of `i64` range.
pub(crate) fn parse_i64(s: &str) -> Option<i64> {
    match s.strip_prefix('-') {
        Some(rest) => {
            let m = parse_u64(rest)?;
            if m <= i64::MAX as u64 {
                Some(-(m as i64))
            } else if m == i64::MAX as u64 + 1 {
                Some(i64::MIN)
            } else {
                None
            }
        }
        None => i64::try_from(parse_u64(s)?).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(v: u64) -> String {
        let mut b = [0; 20];
        let s = format_u64(v, &mut b);
        String::from_utf8(b[s..].to_vec()).unwrap()
    }
    fn i(v: i64) -> String {
        let mut b = [0; 21];
        let s = format_i64(v, &mut b);
        String::from_utf8(b[s..].to_vec()).unwrap()
    }
    fn f(v: f64) -> String {
        let mut b = [0; MAX_F64_LEN];
        let n = format_f64(v, &mut b).unwrap();
        String::from_utf8(b[..n].to_vec()).unwrap()
    }

    #[test]
    fn digits8_all_small_and_sampled() {
        for v in (0..200_000u32)
            .chain((0..100_000_000).step_by(9_973))
            .chain([99_999_999])
        {
            let d = digits8(v).to_le_bytes();
            assert_eq!(std::str::from_utf8(&d).unwrap(), format!("{v:08}"));
            assert_eq!(digit_count8(v), v.to_string().len());
        }
    }

    #[test]
    fn integers_at_every_power_of_ten() {
        let mut p: u64 = 1;
        loop {
            for v in [p - 1, p, p + 1] {
                assert_eq!(u(v), v.to_string());
            }
            match p.checked_mul(10) {
                Some(q) => p = q,
                None => break,
            }
        }
    }

    #[test]
    fn integers() {
        for v in [0, 1, 9, 10, 99, 100, 101, 12345, u64::MAX, u64::MAX / 10] {
            assert_eq!(u(v), v.to_string());
        }
        for v in [0, -1, 1, -10, 99, -100, i64::MIN, i64::MAX, i64::MIN + 1] {
            assert_eq!(i(v), v.to_string());
        }
    }

    #[test]
    fn floats() {
        assert_eq!(f(0.0), "0.0");
        assert_eq!(f(-0.0), "-0.0");
        assert_eq!(f(3.0), "3.0");
        assert_eq!(f(-42.0), "-42.0");
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(1e300), "1e300");
        assert_eq!(f(9_007_199_254_740_992.0), "9007199254740992.0");
        for v in [
            0.1,
            -2.5,
            1e300,
            -1e-300,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            5e-324,
            1.0 / 3.0,
            123_456_789.123_456_79,
            9_007_199_254_740_993.0,
            1e16,
            1e15 + 0.5,
        ] {
            let s = f(v);
            assert!(is_valid_number(s.as_bytes()), "{s}");
            let back: f64 = serde_json::from_str(&s).unwrap();
            assert_eq!(back.to_bits(), v.to_bits(), "{v} -> {s}");
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), v.to_bits());
        }
        let mut b = [0; MAX_F64_LEN];
        assert_eq!(format_f64(f64::NAN, &mut b), None);
        assert_eq!(format_f64(f64::INFINITY, &mut b), None);
        assert_eq!(format_f64(f64::NEG_INFINITY, &mut b), None);
    }

    #[test]
    fn grammar() {
        for ok in [
            "0",
            "-0",
            "1",
            "-1",
            "10",
            "0.5",
            "-0.5",
            "1e5",
            "1E5",
            "1e+5",
            "1e-5",
            "1.25e10",
            "123456789012345678901234567890",
        ] {
            assert!(is_valid_number(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "",
            "-",
            "01",
            "-01",
            "1.",
            ".5",
            "+1",
            "1e",
            "1e+",
            "1.e5",
            "0x1",
            "1 ",
            " 1",
            "NaN",
            "Infinity",
            "-Infinity",
            "1..2",
            "--1",
            "1e5.0",
        ] {
            assert!(!is_valid_number(bad.as_bytes()), "{bad}");
        }
        assert_eq!(scan_number(b"12,"), Ok(2));
        assert_eq!(scan_number(b"0}"), Ok(1));
    }

    #[test]
    fn integer_parse() {
        assert_eq!(parse_u64("0"), Some(0));
        assert_eq!(parse_u64("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64("18446744073709551616"), None);
        assert_eq!(parse_u64("-1"), None);
        assert_eq!(parse_u64("1.0"), None);
        assert_eq!(parse_u64("1e2"), None);
        assert_eq!(parse_u64(""), None);
        assert_eq!(parse_i64("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64("-9223372036854775809"), None);
        assert_eq!(parse_i64("9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64("9223372036854775808"), None);
        assert_eq!(parse_i64("-0"), Some(0));
        assert_eq!(parse_i64("-"), None);
    }
}
