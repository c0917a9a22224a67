//! The strict reader for flat objects: [`parse_flat_object`].

use crate::number::{parse_i64, parse_u64, scan_number};
use crate::string::scan_string;
use crate::{JsonStr, ReadError};

/// A field value of a flat object.
///
/// Equality compares the raw text (`Str` by its escaped bytes, `Number` by
/// its spelling).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    /// A string, still escaped (see [`JsonStr`]).
    Str(JsonStr<'a>),
    /// A number's text, validated against the RFC 8259 grammar.
    Number(&'a str),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

impl<'a> Value<'a> {
    /// The number as a `u64` when its text is a plain non-negative integer
    /// (no sign, fraction or exponent: `1.0` and `1e2` give `None`) that fits.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(t) => parse_u64(t),
            _ => None,
        }
    }

    /// The number as an `i64` when its text is a plain integer (optional
    /// `-`, no fraction or exponent) that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(t) => parse_i64(t),
            _ => None,
        }
    }

    /// The number as the nearest `f64`; `None` for non-numbers and for
    /// numbers too large for a finite `f64` (`1e400`).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(t) => t.parse::<f64>().ok().filter(|v| v.is_finite()),
            _ => None,
        }
    }

    /// The string, when this is one.
    pub fn as_str(&self) -> Option<JsonStr<'a>> {
        match self {
            Value::Str(s) => Some(*s),
            _ => None,
        }
    }

    /// The boolean, when this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// One `key: value` member of a flat object.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Field<'a> {
    /// The key, still escaped.
    pub key: JsonStr<'a>,
    /// The value.
    pub value: Value<'a>,
}

impl<'a> Field<'a> {
    /// A placeholder to fill field buffers: `[Field::EMPTY; MAX_FIELDS]`.
    pub const EMPTY: Field<'a> = Field {
        key: JsonStr::EMPTY,
        value: Value::Null,
    };
}

impl JsonStr<'_> {
    /// The empty string.
    pub const EMPTY: JsonStr<'static> = JsonStr::EMPTY_INNER;
}

#[inline]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

#[inline]
fn syntax(b: &[u8], i: usize) -> ReadError {
    ReadError::Syntax {
        offset: i.min(b.len()),
    }
}

/// Parses `input` as exactly one JSON object, surrounded only by JSON
/// whitespace, whose values are strings, numbers, booleans or `null`; stores
/// the fields in order into `fields` and returns the filled part.
///
/// Strict: trailing commas, single quotes, comments, `NaN`, numbers outside
/// the RFC 8259 grammar, invalid UTF-8 anywhere, raw control characters in
/// strings, undefined escapes, unpaired surrogate escapes and duplicate keys
/// (compared after unescaping) are errors. Nested objects or arrays as
/// values are [`ReadError::Nested`]; more members than `fields` holds is
/// [`ReadError::TooManyFields`]. Duplicate detection compares keys pairwise,
/// so keep `fields` short (see [`MAX_FIELDS`](crate::limits::MAX_FIELDS)).
pub fn parse_flat_object<'a, 'f>(
    input: &'a [u8],
    fields: &'f mut [Field<'a>],
) -> Result<&'f [Field<'a>], ReadError> {
    let text = core::str::from_utf8(input).map_err(|_| ReadError::InvalidUtf8)?;
    let b = input;
    let mut i = skip_ws(b, 0);
    match b.get(i) {
        None => return Err(ReadError::Empty),
        Some(b'{') => i += 1,
        Some(_) => return Err(syntax(b, i)),
    }
    let mut n = 0;
    i = skip_ws(b, i);
    if b.get(i) == Some(&b'}') {
        i += 1;
    } else {
        loop {
            if b.get(i) != Some(&b'"') {
                return Err(syntax(b, i));
            }
            if n == fields.len() {
                return Err(ReadError::TooManyFields);
            }
            let end = scan_string(b, i + 1)?;
            let key = JsonStr::from_validated(&b[i + 1..end]);
            if fields[..n].iter().any(|f| f.key.eq_decoded(&key)) {
                return Err(ReadError::DuplicateKey);
            }
            i = skip_ws(b, end + 1);
            if b.get(i) != Some(&b':') {
                return Err(syntax(b, i));
            }
            i = skip_ws(b, i + 1);
            let value = match b.get(i) {
                Some(b'"') => {
                    let end = scan_string(b, i + 1)?;
                    let s = JsonStr::from_validated(&b[i + 1..end]);
                    i = end + 1;
                    Value::Str(s)
                }
                Some(b'{' | b'[') => return Err(ReadError::Nested),
                Some(b't') => literal(b, &mut i, b"true", Value::Bool(true))?,
                Some(b'f') => literal(b, &mut i, b"false", Value::Bool(false))?,
                Some(b'n') => literal(b, &mut i, b"null", Value::Null)?,
                Some(b'-' | b'+' | b'.' | b'0'..=b'9') => {
                    let len = scan_number(&b[i..]).map_err(|_| ReadError::BadNumber)?;
                    let t = text.get(i..i + len).ok_or(ReadError::BadNumber)?;
                    i += len;
                    Value::Number(t)
                }
                _ => return Err(syntax(b, i)),
            };
            fields[n] = Field { key, value };
            n += 1;
            i = skip_ws(b, i);
            match b.get(i) {
                Some(b',') => i = skip_ws(b, i + 1),
                Some(b'}') => {
                    i += 1;
                    break;
                }
                _ => return Err(syntax(b, i)),
            }
        }
    }
    if skip_ws(b, i) != b.len() {
        return Err(ReadError::TrailingData);
    }
    Ok(&fields[..n])
}

/// Matches the literal `word` at `*i`.
#[inline]
fn literal<'a>(
    b: &[u8],
    i: &mut usize,
    word: &[u8],
    value: Value<'a>,
) -> Result<Value<'a>, ReadError> {
    match b.get(*i..*i + word.len()) {
        Some(w) if w == word => {
            *i += word.len();
            Ok(value)
        }
        _ => {
            // Offset of the first byte that differs.
            let k = (0..word.len())
                .find(|&k| b.get(*i + k) != Some(&word[k]))
                .unwrap_or(0);
            Err(syntax(b, *i + k))
        }
    }
}

/// The value of the first field whose decoded key equals `key`.
pub fn get<'a>(fields: &[Field<'a>], key: &str) -> Option<Value<'a>> {
    fields.iter().find(|f| f.key.eq_str(key)).map(|f| f.value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_FIELDS;

    fn parse(input: &str) -> Result<Vec<(String, Value<'_>)>, ReadError> {
        let mut fields = [Field::EMPTY; MAX_FIELDS];
        let got = parse_flat_object(input.as_bytes(), &mut fields)?;
        Ok(got
            .iter()
            .map(|f| {
                let mut buf = [0u8; 256];
                (f.key.decode_into(&mut buf).unwrap().to_owned(), f.value)
            })
            .collect())
    }

    fn err(input: &[u8]) -> ReadError {
        let mut fields = [Field::EMPTY; MAX_FIELDS];
        parse_flat_object(input, &mut fields).unwrap_err()
    }

    #[test]
    fn accepts_flat_objects() {
        assert_eq!(parse("{}").unwrap(), vec![]);
        assert_eq!(parse(" \t\r\n{ } \n").unwrap(), vec![]);
        let got = parse(
            r#" {"id": 42, "name":"H\u00f4tel \"Ritz\"", "ok":true, "no" : false, "x":null, "f":-1.5e-3, "z":0} "#,
        )
        .unwrap();
        let keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["id", "name", "ok", "no", "x", "f", "z"]);
        assert_eq!(got[0].1, Value::Number("42"));
        assert_eq!(got[0].1.as_u64(), Some(42));
        let mut buf = [0u8; 64];
        let name = got[1].1.as_str().unwrap();
        assert_eq!(name.decode_into(&mut buf), Ok("H\u{f4}tel \"Ritz\""));
        assert!(name.eq_str("H\u{f4}tel \"Ritz\""));
        assert_eq!(got[2].1.as_bool(), Some(true));
        assert_eq!(got[3].1, Value::Bool(false));
        assert!(got[4].1.is_null());
        assert_eq!(got[5].1.as_f64(), Some(-1.5e-3));
        assert_eq!(got[5].1.as_u64(), None);
        assert_eq!(got[6].1.as_i64(), Some(0));
    }

    #[test]
    fn get_by_decoded_key() {
        let input = br#"{"a\u0062":1,"c":"d"}"#;
        let mut fields = [Field::EMPTY; 4];
        let f = parse_flat_object(input, &mut fields).unwrap();
        assert_eq!(get(f, "ab"), Some(Value::Number("1")));
        assert_eq!(
            get(f, "c").and_then(|v| v.as_str()).map(|s| s.raw()),
            Some(&b"d"[..])
        );
        assert_eq!(get(f, "a\\u0062"), None);
        assert_eq!(get(f, "zz"), None);
    }

    #[test]
    fn value_conversions() {
        let n = |t| Value::Number(t);
        assert_eq!(n("18446744073709551615").as_u64(), Some(u64::MAX));
        assert_eq!(n("18446744073709551616").as_u64(), None);
        assert_eq!(n("-5").as_u64(), None);
        assert_eq!(n("-5").as_i64(), Some(-5));
        assert_eq!(n("1.0").as_i64(), None);
        assert_eq!(n("1e2").as_f64(), Some(100.0));
        assert_eq!(n("1e400").as_f64(), None);
        assert_eq!(Value::Null.as_u64(), None);
        assert_eq!(Value::Null.as_i64(), None);
        assert_eq!(Value::Bool(true).as_f64(), None);
        assert_eq!(Value::Null.as_str(), None);
        assert_eq!(Value::Null.as_bool(), None);
        assert!(!Value::Bool(false).is_null());
    }

    #[test]
    fn error_classes() {
        use ReadError::*;
        let cases: &[(&[u8], ReadError)] = &[
            (b"", Empty),
            (b" \n\t\r", Empty),
            (b"[]", Syntax { offset: 0 }),
            (b"  1", Syntax { offset: 2 }),
            (b"\"a\"", Syntax { offset: 0 }),
            (b"{", Syntax { offset: 1 }),
            (b"{\"a\"", Syntax { offset: 4 }),
            (b"{\"a\":", Syntax { offset: 5 }),
            (b"{\"a\":1", Syntax { offset: 6 }),
            (b"{\"a", Syntax { offset: 3 }),
            (b"{\"a\" 1}", Syntax { offset: 5 }),
            (b"{\"a\":1,}", Syntax { offset: 7 }),
            (b"{,}", Syntax { offset: 1 }),
            (b"{\"a\":1 \"b\":2}", Syntax { offset: 7 }),
            (b"{'a':1}", Syntax { offset: 1 }),
            (b"{\"a\":'x'}", Syntax { offset: 5 }),
            (b"{/*c*/}", Syntax { offset: 1 }),
            (b"{\"a\":1}//", TrailingData),
            (b"{\"a\":NaN}", Syntax { offset: 5 }),
            (b"{\"a\":tru}", Syntax { offset: 8 }),
            (b"{\"a\":truex}", Syntax { offset: 9 }),
            (b"{\"a\":nul", Syntax { offset: 8 }),
            (b"{\"a\":False}", Syntax { offset: 5 }),
            (b"{a:1}", Syntax { offset: 1 }),
            (b"{}{}", TrailingData),
            (b"{} x", TrailingData),
            (b"{}\x00", TrailingData),
            // A byte-order mark is valid UTF-8 but not JSON whitespace.
            (b"\xef\xbb\xbf{}", Syntax { offset: 0 }),
            (b"{\"a\xff\":1}", InvalidUtf8),
            (b"{}\xc3", InvalidUtf8),
            (b"{\"a\":\"x\ny\"}", ControlInString),
            (b"{\"a\x1f\":1}", ControlInString),
            (b"{\"a\":\"\\x\"}", BadEscape),
            (b"{\"a\":\"\\u00g0\"}", BadEscape),
            (b"{\"a\":\"\\U0041\"}", BadEscape),
            (b"{\"a\":\"\\ud800\"}", LoneSurrogate),
            (b"{\"a\":\"\\udc00\\ud800\"}", LoneSurrogate),
            (b"{\"a\":\"\\ud800\\n\"}", LoneSurrogate),
            (b"{\"a\":01}", BadNumber),
            (b"{\"a\":-01}", BadNumber),
            (b"{\"a\":1.}", BadNumber),
            (b"{\"a\":.5}", BadNumber),
            (b"{\"a\":+1}", BadNumber),
            (b"{\"a\":-}", BadNumber),
            (b"{\"a\":1e}", BadNumber),
            (b"{\"a\":-Infinity}", BadNumber),
            (b"{\"a\":1.5.2}", Syntax { offset: 8 }),
            (b"{\"a\":0x10}", Syntax { offset: 6 }),
            (b"{\"a\":{}}", Nested),
            (b"{\"a\":[1]}", Nested),
            (b"{\"a\":1,\"a\":2}", DuplicateKey),
            (b"{\"a\":1,\"\\u0061\":2}", DuplicateKey),
        ];
        for (input, want) in cases {
            assert_eq!(err(input), *want, "{:?}", String::from_utf8_lossy(input));
        }
    }

    fn object_with(n: usize) -> String {
        let mut s = String::from("{");
        for k in 0..n {
            if k > 0 {
                s.push(',');
            }
            s.push_str(&format!("\"k{k}\":{k}"));
        }
        s.push('}');
        s
    }

    #[test]
    fn field_limit_at_and_past() {
        let at = object_with(MAX_FIELDS);
        let got = parse(&at).unwrap();
        assert_eq!(got.len(), MAX_FIELDS);
        assert_eq!(got[MAX_FIELDS - 1].1.as_u64(), Some(MAX_FIELDS as u64 - 1));
        let past = object_with(MAX_FIELDS + 1);
        assert_eq!(parse(&past).unwrap_err(), ReadError::TooManyFields);
        // The caller's slice is the limit.
        let mut two = [Field::EMPTY; 2];
        assert_eq!(
            parse_flat_object(b"{\"a\":1,\"b\":2}", &mut two)
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            parse_flat_object(b"{\"a\":1,\"b\":2,\"c\":3}", &mut two),
            Err(ReadError::TooManyFields)
        );
        let mut none: [Field; 0] = [];
        assert_eq!(parse_flat_object(b"{}", &mut none).unwrap().len(), 0);
        assert_eq!(
            parse_flat_object(b"{\"a\":1}", &mut none),
            Err(ReadError::TooManyFields)
        );
    }
}
