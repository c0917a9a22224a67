//! JSON bodies: a request body that is one flat object (RFC 8259 4), read
//! member by member into typed values ([`JsonBody`], [`FromJson`]), and
//! replies written by a `bedrock_json::JsonWriter` straight into the
//! handler's `out` ([`Reply::json`], [`Reject::json_reply`]).

use bedrock_json::{get, parse_flat_object, Field, JsonError, JsonWriter, SliceSink, Value};
use bedrock_store::Text;

use crate::limits::MAX_JSON_FIELDS;
use crate::reply::{Reject, Reply};

/// The media type of JSON (RFC 8259 11).
pub const JSON: &str = "application/json";

/// A request body that is one flat JSON object: values are strings,
/// numbers, booleans or `null`, at most [`MAX_JSON_FIELDS`] members, no
/// key twice (the strict reader of `bedrock_json`).
pub struct JsonBody<'a> {
    fields: [Field<'a>; MAX_JSON_FIELDS],
    len: usize,
}

impl<'a> JsonBody<'a> {
    /// Reads `body`; 400 when it is not such an object.
    pub fn parse(body: &'a [u8]) -> Result<Self, Reject> {
        let mut fields = [Field::EMPTY; MAX_JSON_FIELDS];
        let len = parse_flat_object(body, &mut fields)
            .map_err(|_| Reject::new(400, "the body is not a flat JSON object"))?
            .len();
        Ok(JsonBody { fields, len })
    }

    /// Member `key` as a `T`: `None` when the object has none, a 422
    /// saying `message` when its value is not a `T`.
    pub fn get<T: FromJson>(&self, key: &str, message: &'static str) -> Result<Option<T>, Reject> {
        match get(&self.fields[..self.len], key) {
            None => Ok(None),
            Some(value) => T::from_json(&value)
                .map(Some)
                .ok_or(Reject::new(422, message)),
        }
    }
}

/// Types a member of a [`JsonBody`] can be read as.
pub trait FromJson: Sized {
    /// The value as `Self`; `None` when it is not one.
    fn from_json(value: &Value<'_>) -> Option<Self>;
}

impl FromJson for bool {
    fn from_json(value: &Value<'_>) -> Option<Self> {
        value.as_bool()
    }
}

impl FromJson for i64 {
    /// A plain integer that fits (no fraction or exponent: `1.5`, `1e2`
    /// are not).
    fn from_json(value: &Value<'_>) -> Option<Self> {
        value.as_i64()
    }
}

impl FromJson for u64 {
    /// A plain non-negative integer that fits.
    fn from_json(value: &Value<'_>) -> Option<Self> {
        value.as_u64()
    }
}

impl<T: FromJson> FromJson for Option<T> {
    /// `null` is `None`; anything else must be a `T`.
    fn from_json(value: &Value<'_>) -> Option<Self> {
        match value {
            Value::Null => Some(None),
            _ => T::from_json(value).map(Some),
        }
    }
}

impl<const N: usize> FromJson for Text<N> {
    /// A string of 1 to `N` bytes once decoded, kept exactly as decoded,
    /// none of its characters a control character (U+0000 to U+001F and
    /// U+007F: they cannot be typed and break the lines they are shown
    /// in; RFC 8259 7 lets them in only escaped).
    fn from_json(value: &Value<'_>) -> Option<Self> {
        let mut decoded = [0u8; N];
        let text = value.as_str()?.decode_into(&mut decoded).ok()?;
        let plain = !text.is_empty() && !text.bytes().any(|b| b < 0x20 || b == 0x7f);
        plain.then(|| Text::new(text)).flatten()
    }
}

impl Reply {
    /// This status with a JSON body that `write` writes into `out` (the
    /// handler's `cx.out`); 500 when it does not fit.
    pub fn json(
        status: u16,
        out: &mut [u8],
        write: impl FnOnce(&mut JsonWriter<SliceSink<'_>>) -> Result<(), JsonError>,
    ) -> Result<Reply, Reject> {
        let mut w = JsonWriter::new(SliceSink::new(out));
        write(&mut w).map_err(|_| Reject::new(500, "reply too large"))?;
        Ok(Reply::out(status, JSON, w.sink().as_bytes().len()))
    }
}

impl Reject {
    /// The refusal as a JSON body, `{"error":"...","status":404}`, for an
    /// API's `Service::render_reject`; the bare status when `out` cannot
    /// hold it.
    pub fn json_reply(self, out: &mut [u8]) -> Reply {
        Reply::json(self.status, out, |w| {
            w.begin_object()?;
            w.field_str("error", self.message)?;
            w.field_u64("status", u64::from(self.status))?;
            w.end_object()
        })
        .unwrap_or(Reply::new(self.status))
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::Body;
    use std::format;
    use std::string::String;

    fn read<T: FromJson>(body: &str) -> Result<Option<T>, u16> {
        let body = JsonBody::parse(body.as_bytes()).map_err(|r| r.status)?;
        body.get("v", "bad v").map_err(|r| r.status)
    }

    #[test]
    fn members_are_read_as_their_types() {
        assert_eq!(read::<bool>(r#"{"v":true}"#), Ok(Some(true)));
        assert_eq!(read::<bool>(r#"{"w":true}"#), Ok(None));
        assert_eq!(read::<bool>(r#"{"v":1}"#), Err(422));
        assert_eq!(read::<i64>(r#"{"v":-7}"#), Ok(Some(-7)));
        assert_eq!(read::<i64>(r#"{"v":1.5}"#), Err(422));
        assert_eq!(read::<u64>(r#"{"v":-7}"#), Err(422));
        assert_eq!(read::<Option<i64>>(r#"{"v":null}"#), Ok(Some(None)));
        assert_eq!(read::<Option<i64>>(r#"{"v":3}"#), Ok(Some(Some(3))));
        assert_eq!(read::<Option<i64>>(r#"{"v":"3"}"#), Err(422));
        assert_eq!(read::<i64>(r#"{"v":null}"#), Err(422));
        for bad in ["", "[1]", "{\"v\":{}}", "{\"v\":1,\"v\":2}", "{\"v\":1,}"] {
            assert_eq!(read::<i64>(bad), Err(400), "{bad}");
        }
    }

    #[test]
    fn text_is_one_to_n_bytes_decoded_without_control_characters() {
        let text = |body: &str| read::<Text<4>>(body).map(|t| t.map(|t| String::from(t.as_str())));
        assert_eq!(text(r#"{"v":"\u00e9\"z"}"#), Ok(Some("é\"z".into())));
        assert_eq!(text(r#"{"v":" ab "}"#), Ok(Some(" ab ".into())));
        for bad in [
            r#""""#,
            r#""abcde""#,
            r#""\t""#,
            r#""a\u007f""#,
            r#""\u0000""#,
            "5",
        ] {
            assert_eq!(text(&format!("{{\"v\":{bad}}}")), Err(422), "{bad}");
        }
    }

    #[test]
    fn a_body_holds_max_json_fields_members_and_not_one_more() {
        let object = |n: usize| {
            let members: std::vec::Vec<String> = (0..n).map(|i| format!("\"k{i}\":{i}")).collect();
            format!("{{{}}}", members.join(","))
        };
        let at = object(MAX_JSON_FIELDS);
        let body = JsonBody::parse(at.as_bytes()).unwrap();
        let last = format!("k{}", MAX_JSON_FIELDS - 1);
        assert_eq!(
            body.get::<u64>(&last, "x"),
            Ok(Some(MAX_JSON_FIELDS as u64 - 1))
        );
        let past = object(MAX_JSON_FIELDS + 1);
        assert_eq!(
            JsonBody::parse(past.as_bytes()).err().map(|r| r.status),
            Some(400)
        );
    }

    #[test]
    fn json_replies_and_refusals() {
        let mut out = [0u8; 64];
        let reply = Reply::json(201, &mut out, |w| w.string("hi")).unwrap();
        assert_eq!((reply.status, reply.content_type), (201, Some(JSON)));
        assert_eq!(reply.body, Body::Out(4));
        assert_eq!(&out[..4], b"\"hi\"");
        let mut small = [0u8; 3];
        let full = Reply::json(200, &mut small, |w| w.string("hi"));
        assert_eq!(full.err().map(|r| r.status), Some(500));
        let reply = Reject::new(404, "no such").json_reply(&mut out);
        let Body::Out(n) = reply.body else {
            panic!("{reply:?}")
        };
        assert_eq!(&out[..n], br#"{"error":"no such","status":404}"#);
        let bare = Reject::new(404, "no such").json_reply(&mut small);
        assert_eq!((bare.status, bare.body), (404, Body::Empty));
    }
}
