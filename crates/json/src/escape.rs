//! String escaping per RFC 8259.
//!
//! `"` becomes `\"`, `\` becomes `\\`, the control characters U+0000..U+001F
//! become `\b \f \n \r \t` where JSON has a short form and `\u00xx` with
//! **lowercase** hex digits otherwise. Every other character, including `/`,
//! DEL, non-ASCII and U+2028/U+2029, passes through unchanged (a `&str` is
//! already valid UTF-8). Output is not meant to be embedded in a `<script>`
//! element, where U+2028/U+2029 and `</` would matter.

use crate::JsonError;
use crate::Sink;

/// Per byte: 0 when the byte is copied as is, otherwise the character that
/// follows the backslash (`u` for the `\u00xx` form).
static ESCAPE: [u8; 256] = build_table();

const fn build_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
}

/// Per byte: how many bytes it occupies once escaped.
static ESCAPED_WIDTH: [u8; 256] = build_widths();

const fn build_widths() -> [u8; 256] {
    let table = build_table();
    let mut w = [1u8; 256];
    let mut i = 0;
    while i < 256 {
        w[i] = match table[i] {
            0 => 1,
            b'u' => 6,
            _ => 2,
        };
        i += 1;
    }
    w
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Bytes that [`JsonWriter::string`](crate::JsonWriter::string) writes for
/// `s`, quotes included (not counting a separating comma).
pub fn escaped_len(s: &str) -> usize {
    let mut n = 2;
    for &b in s.as_bytes() {
        n += ESCAPED_WIDTH[b as usize] as usize;
    }
    n
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `x` that is below 0x20, `"` or `\`, plus
/// possibly bytes above the first such byte (borrows only run upwards), so
/// the lowest set bit marks the first such byte exactly.
#[inline(always)]
fn special_mask(x: u64) -> u64 {
    let quote = x ^ (LO * b'"' as u64);
    let bslash = x ^ (LO * b'\\' as u64);
    ((quote.wrapping_sub(LO) & !quote)
        | (bslash.wrapping_sub(LO) & !bslash)
        | (x.wrapping_sub(LO * 0x20) & !x))
        & HI
}

/// The eight bytes at `i`, little-endian, when they exist.
#[inline(always)]
fn word_at(s: &[u8], i: usize) -> Option<u64> {
    let chunk = s.get(i..i.checked_add(8)?)?;
    <[u8; 8]>::try_from(chunk).ok().map(u64::from_le_bytes)
}

/// The four bytes at `i`, little-endian, when they exist.
#[inline(always)]
fn word4_at(s: &[u8], i: usize) -> Option<u32> {
    let chunk = s.get(i..i.checked_add(4)?)?;
    <[u8; 4]>::try_from(chunk).ok().map(u32::from_le_bytes)
}

/// Index of the first byte at or after `i` that needs escaping, or
/// `s.len()`. Scans eight bytes per step with [`special_mask`]; a last
/// partial word is checked by re-reading the final eight bytes, 4 to 7
/// bytes by two overlapping 4-byte reads, fewer byte by byte.
#[inline(always)]
pub(crate) fn find_escape(s: &[u8], mut i: usize) -> usize {
    let n = s.len();
    if i >= n {
        return n;
    }
    let rem = n - i;
    if rem < 4 {
        while let Some(&b) = s.get(i) {
            if ESCAPE[b as usize] != 0 {
                break;
            }
            i += 1;
        }
        return i;
    }
    if rem < 8 {
        // Two overlapping 4-byte reads cover s[i..n]: the low half is
        // s[i..i+4], the high half s[n-4..n].
        let (Some(lo), Some(hi)) = (word4_at(s, i), word4_at(s, n - 4)) else {
            return n;
        };
        let m = special_mask(lo as u64 | (hi as u64) << 32);
        return match m.trailing_zeros() / 8 {
            8 => n,
            k @ 0..=3 => i + k as usize,
            k => n - 4 + (k as usize - 4),
        };
    }
    while let Some(x) = word_at(s, i) {
        let m = special_mask(x);
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    if i < n {
        // 1..=7 bytes left: re-read the final word, shift the bytes before
        // `i` out and pad the top with plain bytes.
        if let Some(x) = word_at(s, n - 8) {
            let shift = ((i - (n - 8)) * 8) as u32;
            let x = x.checked_shr(shift).unwrap_or(0)
                | (LO * b'a' as u64).checked_shl(64 - shift).unwrap_or(0);
            let m = special_mask(x);
            if m != 0 {
                return i + (m.trailing_zeros() / 8) as usize;
            }
        }
    }
    n
}

/// Writes `s[start..]` escaped (`start` is normally the index of a byte that
/// needs escaping). Escapes tend to cluster, so the runs between them are
/// found byte by byte: cheaper than word searches on short runs.
#[inline]
fn write_escaped_from<S: Sink>(sink: &mut S, s: &[u8], start: usize) -> Result<(), JsonError> {
    let mut plain = start;
    for (i, &b) in s.iter().enumerate().skip(start) {
        let e = ESCAPE[b as usize];
        if e == 0 {
            continue;
        }
        if plain < i {
            sink.write(&s[plain..i])?;
        }
        if e == b'u' {
            sink.write(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 0xf) as usize],
            ])?;
        } else {
            sink.write(&[b'\\', e])?;
        }
        plain = i + 1;
    }
    match s.get(plain..) {
        Some(rest) if !rest.is_empty() => sink.write(rest),
        _ => Ok(()),
    }
}

/// Writes `pre`, `s` escaped, then `post`; a string without escapes goes out
/// in one [`Sink::write3`]. On error some leading part may have been written.
/// Inlined so that the callers' constant `pre` and `post` lengths fold into
/// the copies; strings with escapes take the call below.
#[inline(always)]
pub(crate) fn write_wrapped<S: Sink>(
    sink: &mut S,
    pre: &[u8],
    s: &[u8],
    post: &[u8],
) -> Result<(), JsonError> {
    let first = find_escape(s, 0);
    if first == s.len() {
        return sink.write3(pre, s, post);
    }
    write_wrapped_escaping(sink, pre, s, first, post)
}

/// [`write_wrapped`] for a string whose first byte to escape is at `first`.
#[inline(never)]
fn write_wrapped_escaping<S: Sink>(
    sink: &mut S,
    pre: &[u8],
    s: &[u8],
    first: usize,
    post: &[u8],
) -> Result<(), JsonError> {
    sink.write3(pre, &s[..first], b"")?;
    write_escaped_from(sink, s, first)?;
    sink.write(post)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SliceSink;

    fn esc(s: &str) -> std::string::String {
        let mut buf = [0u8; 512];
        let mut sink = SliceSink::new(&mut buf);
        write_wrapped(&mut sink, b"\"", s.as_bytes(), b"\"").unwrap();
        let out = std::str::from_utf8(sink.as_bytes()).unwrap().to_owned();
        assert_eq!(out.len(), escaped_len(s), "escaped_len for {s:?}");
        out
    }

    #[test]
    fn plain_passes_through() {
        assert_eq!(esc(""), "\"\"");
        assert_eq!(esc("abc"), "\"abc\"");
        assert_eq!(esc("a/b"), "\"a/b\"");
        assert_eq!(esc("h\u{e9}llo \u{1f600}"), "\"h\u{e9}llo \u{1f600}\"");
        assert_eq!(esc("\u{2028}\u{2029}\u{7f}"), "\"\u{2028}\u{2029}\u{7f}\"");
    }

    #[test]
    fn quotes_and_backslashes() {
        assert_eq!(esc("\""), r#""\"""#);
        assert_eq!(esc("\\"), r#""\\""#);
        assert_eq!(esc(r#"a"b\c"#), r#""a\"b\\c""#);
    }

    #[test]
    fn every_control_character() {
        for c in 0u8..0x20 {
            let s = [c];
            let s = core::str::from_utf8(&s).unwrap();
            let want = match c {
                0x08 => "\"\\b\"".to_owned(),
                0x09 => "\"\\t\"".to_owned(),
                0x0a => "\"\\n\"".to_owned(),
                0x0c => "\"\\f\"".to_owned(),
                0x0d => "\"\\r\"".to_owned(),
                _ => format!("\"\\u{:04x}\"", c),
            };
            assert_eq!(esc(s), want, "control {c:#x}");
            let back: String = serde_json::from_str(&want).unwrap();
            assert_eq!(back, s);
        }
        assert_eq!(esc("\u{1f}x\u{0}"), "\"\\u001fx\\u0000\"");
    }

    #[test]
    fn escaped_len_counts() {
        assert_eq!(escaped_len(""), 2);
        assert_eq!(escaped_len("a\nb"), 6);
        assert_eq!(escaped_len("\u{1}"), 8);
        assert_eq!(escaped_len("\u{e9}"), 4);
        assert_eq!(find_escape(b"hello world", 0), 11);
        assert_eq!(find_escape(b"a\"b", 0), 1);
    }

    #[test]
    fn find_escape_every_position() {
        // Each special byte at each position of strings up to 40 bytes, with
        // plain bytes around it (including non-ASCII and DEL).
        let fillers = [b'a', 0x7f, 0xc3, b' ', b'~', 0x21, 0x5b, 0x5d];
        for len in 0..40 {
            for &f in &fillers {
                let plain = vec![f; len];
                assert_eq!(find_escape(&plain, 0), len);
                for at in 0..len {
                    for special in (0u8..0x20).chain([b'"', b'\\']) {
                        let mut v = plain.clone();
                        v[at] = special;
                        assert_eq!(find_escape(&v, 0), at, "len {len} at {at} {special:#x}");
                        if at + 1 < len {
                            v[at + 1] = special;
                            assert_eq!(find_escape(&v, 0), at);
                            assert_eq!(find_escape(&v, at + 1), at + 1);
                        }
                    }
                }
            }
        }
    }
}
