//! Validated JSON string contents ([`JsonStr`]) and their unescaping.

use crate::ReadError;

/// Per byte: true when a string scan must stop at it (`"`, `\`, or a control
/// character).
static STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// The contents of a JSON string as it appears in the input: the bytes
/// between the quotes, still escaped, already validated (UTF-8, no raw
/// control characters, only defined escapes, surrogates paired).
///
/// Equality (`==`) compares the raw bytes; use [`JsonStr::eq_str`] or
/// [`JsonStr::eq_decoded`] to compare decoded values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonStr<'a> {
    raw: &'a [u8],
}

impl<'a> JsonStr<'a> {
    pub(crate) const EMPTY_INNER: JsonStr<'static> = JsonStr { raw: b"" };

    /// Validates `raw` as the contents of a JSON string (without the quotes).
    pub fn new(raw: &'a [u8]) -> Result<Self, ReadError> {
        if core::str::from_utf8(raw).is_err() {
            return Err(ReadError::InvalidUtf8);
        }
        let mut i = 0;
        loop {
            i = skip_plain(raw, i);
            match raw.get(i) {
                None => return Ok(JsonStr { raw }),
                Some(b'\\') => {
                    i = scan_escape(raw, i).map_err(|e| match e {
                        ReadError::Syntax { .. } => ReadError::BadEscape, // trailing `\`
                        other => other,
                    })?
                }
                Some(b'"') => return Err(ReadError::Syntax { offset: i }),
                Some(_) => return Err(ReadError::ControlInString),
            }
        }
    }

    /// Wraps bytes the reader has validated.
    pub(crate) fn from_validated(raw: &'a [u8]) -> Self {
        JsonStr { raw }
    }

    /// The bytes between the quotes, still escaped.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// True when the raw bytes contain no escape, so they are the value.
    pub fn is_plain(&self) -> bool {
        !self.raw.contains(&b'\\')
    }

    /// The value without copying when it contains no escape.
    pub fn as_plain_str(&self) -> Option<&'a str> {
        if self.is_plain() {
            core::str::from_utf8(self.raw).ok()
        } else {
            None
        }
    }

    /// Unescapes into `out` (`\uXXXX` including surrogate pairs) and returns
    /// the decoded text; [`ReadError::OutputFull`] when `out` is too small.
    pub fn decode_into<'o>(&self, out: &'o mut [u8]) -> Result<&'o str, ReadError> {
        let mut n = 0;
        for piece in Pieces::new(self.raw) {
            let bytes = piece.bytes();
            let dst = out
                .get_mut(n..n + bytes.len())
                .ok_or(ReadError::OutputFull)?;
            dst.copy_from_slice(bytes);
            n += bytes.len();
        }
        core::str::from_utf8(&out[..n]).map_err(|_| ReadError::InvalidUtf8)
    }

    /// Length in bytes of the decoded value.
    pub fn decoded_len(&self) -> usize {
        Pieces::new(self.raw).map(|p| p.bytes().len()).sum()
    }

    /// True when the decoded value equals `s`; needs no buffer.
    pub fn eq_str(&self, s: &str) -> bool {
        if self.is_plain() {
            return self.raw == s.as_bytes();
        }
        let mut rest = s.as_bytes();
        for piece in Pieces::new(self.raw) {
            match rest.strip_prefix(piece.bytes()) {
                Some(r) => rest = r,
                None => return false,
            }
        }
        rest.is_empty()
    }

    /// True when both decoded values are equal (`"a"` equals `"\u0061"`).
    pub fn eq_decoded(&self, other: &JsonStr<'_>) -> bool {
        if self.raw == other.raw {
            return true;
        }
        if self.is_plain() && other.is_plain() {
            return false;
        }
        DecodedBytes::new(self.raw).eq(DecodedBytes::new(other.raw))
    }
}

/// Scans string contents from `i` (just past an opening quote) to the closing
/// quote, whose index it returns. The caller has checked UTF-8. An
/// unterminated string is `Syntax` at `input.len()`.
pub(crate) fn scan_string(input: &[u8], mut i: usize) -> Result<usize, ReadError> {
    loop {
        i = skip_plain(input, i);
        let Some(&b) = input.get(i) else {
            return Err(ReadError::Syntax {
                offset: input.len(),
            });
        };
        match b {
            b'"' => return Ok(i),
            b'\\' => i = scan_escape(input, i)?,
            _ => return Err(ReadError::ControlInString),
        }
    }
}

/// Index of the first byte at or after `i` that ends a plain run.
#[inline]
fn skip_plain(input: &[u8], mut i: usize) -> usize {
    while i < input.len() && !STOP[input[i] as usize] {
        i += 1;
    }
    i
}

/// Validates the escape whose backslash is at `i`; returns the index after it.
fn scan_escape(input: &[u8], i: usize) -> Result<usize, ReadError> {
    match input.get(i + 1) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(i + 2),
        Some(b'u') => {
            let unit = hex4(input, i + 2).ok_or(ReadError::BadEscape)?;
            match unit {
                0xD800..=0xDBFF => {
                    if input.get(i + 6) == Some(&b'\\') && input.get(i + 7) == Some(&b'u') {
                        let low = hex4(input, i + 8).ok_or(ReadError::BadEscape)?;
                        if (0xDC00..=0xDFFF).contains(&low) {
                            return Ok(i + 12);
                        }
                    }
                    Err(ReadError::LoneSurrogate)
                }
                0xDC00..=0xDFFF => Err(ReadError::LoneSurrogate),
                _ => Ok(i + 6),
            }
        }
        None => Err(ReadError::Syntax {
            offset: input.len(),
        }),
        Some(_) => Err(ReadError::BadEscape),
    }
}

/// Four hex digits at `i`, as a number.
fn hex4(input: &[u8], i: usize) -> Option<u32> {
    let digits = input.get(i..i + 4)?;
    let mut v = 0u32;
    for &d in digits {
        let x = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return None,
        };
        v = v * 16 + x as u32;
    }
    Some(v)
}

/// One decoded piece: a run of bytes without escapes, or one unescaped
/// character.
enum Piece<'a> {
    Run(&'a [u8]),
    Char([u8; 4], usize),
}

impl Piece<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Piece::Run(r) => r,
            Piece::Char(b, n) => &b[..*n],
        }
    }
}

/// Splits validated raw string contents into decoded pieces. Malformed input
/// (impossible after validation) decodes to U+FFFD rather than panicking.
struct Pieces<'a> {
    raw: &'a [u8],
    pos: usize,
}

impl<'a> Pieces<'a> {
    fn new(raw: &'a [u8]) -> Self {
        Pieces { raw, pos: 0 }
    }
}

fn char_piece(c: char) -> Piece<'static> {
    let mut b = [0u8; 4];
    let n = c.encode_utf8(&mut b).len();
    Piece::Char(b, n)
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Piece<'a>;

    fn next(&mut self) -> Option<Piece<'a>> {
        let rest = self.raw.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        if rest[0] != b'\\' {
            let n = rest.iter().position(|&b| b == b'\\').unwrap_or(rest.len());
            self.pos += n;
            return Some(Piece::Run(&rest[..n]));
        }
        let simple = |c: char| Some(c);
        let (c, used) = match rest.get(1) {
            Some(b'"') => (simple('"'), 2),
            Some(b'\\') => (simple('\\'), 2),
            Some(b'/') => (simple('/'), 2),
            Some(b'b') => (simple('\u{8}'), 2),
            Some(b'f') => (simple('\u{c}'), 2),
            Some(b'n') => (simple('\n'), 2),
            Some(b'r') => (simple('\r'), 2),
            Some(b't') => (simple('\t'), 2),
            Some(b'u') => match hex4(rest, 2) {
                Some(hi @ 0xD800..=0xDBFF) => match (rest.get(6..8), hex4(rest, 8)) {
                    (Some(b"\\u"), Some(lo @ 0xDC00..=0xDFFF)) => (
                        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)),
                        12,
                    ),
                    _ => (None, 6),
                },
                Some(u) => (char::from_u32(u), 6),
                None => (None, 1),
            },
            _ => (None, 1),
        };
        self.pos += used;
        Some(char_piece(c.unwrap_or(char::REPLACEMENT_CHARACTER)))
    }
}

/// The decoded bytes of validated raw string contents, one at a time.
struct DecodedBytes<'a> {
    pieces: Pieces<'a>,
    run: &'a [u8],
    ch: [u8; 4],
    ch_len: usize,
    ch_pos: usize,
}

impl<'a> DecodedBytes<'a> {
    fn new(raw: &'a [u8]) -> Self {
        DecodedBytes {
            pieces: Pieces::new(raw),
            run: &[],
            ch: [0; 4],
            ch_len: 0,
            ch_pos: 0,
        }
    }
}

impl Iterator for DecodedBytes<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        loop {
            if let Some((&b, rest)) = self.run.split_first() {
                self.run = rest;
                return Some(b);
            }
            if self.ch_pos < self.ch_len {
                self.ch_pos += 1;
                return Some(self.ch[self.ch_pos - 1]);
            }
            match self.pieces.next()? {
                Piece::Run(r) => self.run = r,
                Piece::Char(b, n) => {
                    self.ch = b;
                    self.ch_len = n;
                    self.ch_pos = 0;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn js(raw: &str) -> JsonStr<'_> {
        JsonStr::new(raw.as_bytes()).unwrap()
    }

    fn decode(raw: &str) -> String {
        let mut buf = [0u8; 128];
        let s = js(raw).decode_into(&mut buf).unwrap().to_owned();
        assert_eq!(s.len(), js(raw).decoded_len());
        assert!(js(raw).eq_str(&s));
        s
    }

    #[test]
    fn decodes_escapes() {
        assert_eq!(decode(""), "");
        assert_eq!(decode("plain"), "plain");
        assert_eq!(decode(r#"a\"b\\c\/d"#), "a\"b\\c/d");
        assert_eq!(decode(r"\b\f\n\r\t"), "\u{8}\u{c}\n\r\t");
        assert_eq!(decode(r"\u0041\u00e9\u20AC"), "A\u{e9}\u{20ac}");
        assert_eq!(decode(r"x\ud83d\ude00y"), "x\u{1f600}y");
        assert_eq!(decode(r"\u0000"), "\u{0}");
        assert_eq!(decode("h\u{e9}llo"), "h\u{e9}llo");
    }

    #[test]
    fn output_full_at_every_size() {
        let s = js(r"ab\u00e9\ud83d\ude00c");
        let want = "ab\u{e9}\u{1f600}c";
        assert_eq!(s.decoded_len(), want.len());
        for size in 0..want.len() {
            let mut buf = vec![0u8; size];
            assert_eq!(
                s.decode_into(&mut buf),
                Err(ReadError::OutputFull),
                "{size}"
            );
        }
        let mut buf = vec![0u8; want.len()];
        assert_eq!(s.decode_into(&mut buf), Ok(want));
    }

    #[test]
    fn comparisons() {
        assert!(js("abc").eq_str("abc"));
        assert!(!js("abc").eq_str("abcd"));
        assert!(!js("abc").eq_str("ab"));
        assert!(js(r"\u0061bc").eq_str("abc"));
        assert!(!js(r"\u0061bc").eq_str("abd"));
        assert!(!js(r"\u0061bc").eq_str("abcd"));
        assert!(!js(r"\u0061bc").eq_str("a"));
        assert!(js(r"\u0061bc").eq_decoded(&js("abc")));
        assert!(js("abc").eq_decoded(&js(r"a\u0062c")));
        assert!(!js("abc").eq_decoded(&js("abd")));
        assert!(!js(r"\n").eq_decoded(&js(r"\r")));
        assert!(js(r"\ud83d\ude00").eq_decoded(&js("\u{1f600}")));
        assert_eq!(js(r"\n").as_plain_str(), None);
        assert_eq!(js("x").as_plain_str(), Some("x"));
    }

    #[test]
    fn new_validates() {
        assert_eq!(JsonStr::new(b"a\"b"), Err(ReadError::Syntax { offset: 1 }));
        assert_eq!(JsonStr::new(b"a\nb"), Err(ReadError::ControlInString));
        assert_eq!(JsonStr::new(b"\\x"), Err(ReadError::BadEscape));
        assert_eq!(JsonStr::new(b"\\u12"), Err(ReadError::BadEscape));
        assert_eq!(JsonStr::new(b"\\u12G4"), Err(ReadError::BadEscape));
        assert_eq!(JsonStr::new(b"\\ud800"), Err(ReadError::LoneSurrogate));
        assert_eq!(
            JsonStr::new(b"\\ud800\\u0041"),
            Err(ReadError::LoneSurrogate)
        );
        assert_eq!(
            JsonStr::new(b"\\ud800\\ud800"),
            Err(ReadError::LoneSurrogate)
        );
        assert_eq!(JsonStr::new(b"\\ude00"), Err(ReadError::LoneSurrogate));
        assert_eq!(JsonStr::new(b"\\ud800\\uzzzz"), Err(ReadError::BadEscape));
        assert_eq!(JsonStr::new(b"\\"), Err(ReadError::BadEscape));
        assert_eq!(JsonStr::new(b"a\\\\"), Ok(JsonStr { raw: b"a\\\\" }));
        assert_eq!(JsonStr::new(b"\xff"), Err(ReadError::InvalidUtf8));
        assert!(JsonStr::new(b"\\ud800\\udc00").is_ok());
    }

    #[test]
    fn pieces_never_panic_on_malformed() {
        // Not reachable through the public API; the decoder still copes.
        for raw in [
            &b"\\"[..],
            b"\\x",
            b"\\u12",
            b"\\ud800",
            b"\\ud800\\u",
            b"\\udc00",
        ] {
            let s = JsonStr::from_validated(raw);
            let mut buf = [0u8; 64];
            let d = s.decode_into(&mut buf).unwrap();
            assert!(d.contains('\u{fffd}'));
            let _ = s.eq_decoded(&JsonStr::from_validated(b"a"));
        }
    }
}
