//! Request bodies that describe a hotel, in the three forms clients send:
//!
//! - the seed's text, `Hilton,Toronto`: no content type, `text/plain`, or
//!   `application/x-www-form-urlencoded` without any `=` (what
//!   `curl -d "Hilton,Toronto"` sends). Exactly one comma; ASCII
//!   whitespace (space, tab, CR, LF, form feed) around each field is
//!   trimmed, so `Ritz, Paris\n` is `Ritz` in `Paris`; no percent-decoding
//!   (bytes are taken as sent).
//! - an HTML form, `name=Hilton&city=Toronto` (urlencoded, `+` is a
//!   space), each field trimmed like the text form after decoding.
//! - JSON, `{"name":"Hilton","city":"Toronto"}`: other fields are ignored;
//!   strings are stored exactly as decoded, with no trimming (`"Ritz "`
//!   keeps its space), commas and any other character included.
//!
//! In every form a field must be non-empty (after the trimming, where
//! there is one), UTF-8, at most its byte limit, and free of control
//! characters, U+0000 to U+001F and U+007F (422): they cannot be typed in
//! a name, break the lines they are shown in, and one stored as sent
//! would be an invisible difference between two names. In JSON they can
//! only come escaped (`\b`, `\u0000`): RFC 8259 7 forbids them raw, and a
//! raw one is malformed JSON (400). Other characters, U+0080 to U+009F
//! and U+2028 included, are names' business and are kept.

use bedrock_http::{percent_decode_query, query_pairs, PercentError};
use bedrock_json::{get, parse_flat_object, Field, Value};
use bedrock_web::Reject;

use crate::limits::MAX_BODY_BYTES;
use crate::record::{Hotel, Text};

/// Fields a JSON body may have (extra ones are ignored, but bounded).
const MAX_JSON_FIELDS: usize = 8;

/// Why a body does not describe a hotel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyError {
    /// The body is larger than [`MAX_BODY_BYTES`] (413).
    TooLarge,
    /// A content type the app does not read (415).
    UnsupportedType,
    /// Text that is not `name,city` (400).
    BadText,
    /// A form without both fields, or with broken escapes (400).
    BadForm,
    /// Malformed JSON, or not a flat object (400).
    BadJson,
    /// Bytes that are not UTF-8 (400).
    NotUtf8,
    /// What is wrong with `name` (422).
    Name(FieldError),
    /// What is wrong with `city` (422).
    City(FieldError),
}

/// What is wrong with one field of a hotel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldError {
    /// Absent, or (in JSON) not a string.
    Missing,
    /// Empty (after trimming, in the text and form bodies).
    Empty,
    /// Holding a control character, U+0000-U+001F or U+007F.
    Control,
    /// Longer than the field's limit.
    TooLong,
}

impl BodyError {
    /// The HTTP status this error answers with.
    pub fn status(self) -> u16 {
        match self {
            BodyError::TooLarge => 413,
            BodyError::UnsupportedType => 415,
            BodyError::BadText | BodyError::BadForm | BodyError::BadJson | BodyError::NotUtf8 => {
                400
            }
            BodyError::Name(_) | BodyError::City(_) => 422,
        }
    }

    /// One line for the client.
    pub fn message(self) -> &'static str {
        use FieldError::{Control, Empty, Missing, TooLong};
        match self {
            BodyError::TooLarge => "request body too large",
            BodyError::UnsupportedType => {
                "send text/plain name,city, an urlencoded form or application/json"
            }
            BodyError::BadText => "text body must be name,city with exactly one comma",
            BodyError::BadForm => "form must have name and city",
            BodyError::BadJson => "body is not a flat JSON object",
            BodyError::NotUtf8 => "body is not valid UTF-8",
            BodyError::Name(Missing) => "name is required and must be a string",
            BodyError::City(Missing) => "city is required and must be a string",
            BodyError::Name(Empty) => "name must not be empty",
            BodyError::City(Empty) => "city must not be empty",
            BodyError::Name(Control) => "name must not contain control characters",
            BodyError::City(Control) => "city must not contain control characters",
            BodyError::Name(TooLong) => "name is too long",
            BodyError::City(TooLong) => "city is too long",
        }
    }
}

impl From<BodyError> for Reject {
    fn from(e: BodyError) -> Self {
        Reject::new(e.status(), e.message())
    }
}

/// A hotel's field.
#[derive(Clone, Copy)]
enum Which {
    Name,
    City,
}

impl Which {
    /// `problem`, of this field.
    fn error(self, problem: FieldError) -> BodyError {
        match self {
            Which::Name => BodyError::Name(problem),
            Which::City => BodyError::City(problem),
        }
    }
}

/// A C0 control character or DEL. In UTF-8 these bytes only ever stand
/// for those characters, so a byte test is a character test.
fn is_control(b: u8) -> bool {
    b < 0x20 || b == 0x7f
}

/// Checks emptiness, UTF-8, control characters and length of a field as
/// it is to be stored (trimmed by the caller, if its form trims), and
/// fills `text`.
fn set_field<const N: usize>(
    text: &mut Text<N>,
    raw: &[u8],
    which: Which,
) -> Result<(), BodyError> {
    if raw.is_empty() {
        return Err(which.error(FieldError::Empty));
    }
    let s = core::str::from_utf8(raw).map_err(|_| BodyError::NotUtf8)?;
    if raw.iter().any(|&b| is_control(b)) {
        return Err(which.error(FieldError::Control));
    }
    *text = Text::new(s).ok_or(which.error(FieldError::TooLong))?;
    Ok(())
}

fn media_type(content_type: Option<&[u8]>) -> &[u8] {
    let value = content_type.unwrap_or(b"");
    let end = value.iter().position(|&b| b == b';').unwrap_or(value.len());
    value[..end].trim_ascii()
}

/// Reads a hotel from a request body and its `Content-Type`.
pub fn parse_hotel(content_type: Option<&[u8]>, body: &[u8]) -> Result<Hotel, BodyError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(BodyError::TooLarge);
    }
    let media = media_type(content_type);
    let is = |name: &str| media.eq_ignore_ascii_case(name.as_bytes());
    if is("application/json") {
        parse_json(body)
    } else if is("application/x-www-form-urlencoded") && body.contains(&b'=') {
        parse_form(body)
    } else if media.is_empty() || is("text/plain") || is("application/x-www-form-urlencoded") {
        parse_text(body)
    } else {
        Err(BodyError::UnsupportedType)
    }
}

fn empty_hotel() -> Hotel {
    Hotel {
        name: Text::empty(),
        city: Text::empty(),
    }
}

fn parse_text(body: &[u8]) -> Result<Hotel, BodyError> {
    let mut parts = body.split(|&b| b == b',');
    let (Some(name), Some(city), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(BodyError::BadText);
    };
    let mut hotel = empty_hotel();
    hotel.field_mut(Which::Name, name.trim_ascii())?;
    hotel.field_mut(Which::City, city.trim_ascii())?;
    Ok(hotel)
}

impl Hotel {
    fn field_mut(&mut self, which: Which, raw: &[u8]) -> Result<(), BodyError> {
        match which {
            Which::Name => set_field(&mut self.name, raw, which),
            Which::City => set_field(&mut self.city, raw, which),
        }
    }
}

fn parse_form(body: &[u8]) -> Result<Hotel, BodyError> {
    let body = core::str::from_utf8(body).map_err(|_| BodyError::NotUtf8)?;
    let (mut name, mut city) = (None, None);
    for (key, value) in query_pairs(body) {
        let slot = match key {
            "name" => &mut name,
            "city" => &mut city,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(BodyError::BadForm);
        }
    }
    let mut hotel = empty_hotel();
    // Decoding never lengthens, so a body-sized scratch always suffices.
    let mut scratch = [0u8; MAX_BODY_BYTES];
    for (raw, which) in [(name, Which::Name), (city, Which::City)] {
        let raw = raw.ok_or(BodyError::BadForm)?;
        let decoded = match percent_decode_query(raw.as_bytes(), &mut scratch) {
            Ok(decoded) => decoded,
            // `%00` (or a raw NUL) is a control character like any other.
            Err(PercentError::EncodedNul) => return Err(which.error(FieldError::Control)),
            Err(_) => return Err(BodyError::BadForm),
        };
        hotel.field_mut(which, decoded.trim_ascii())?;
    }
    Ok(hotel)
}

fn parse_json(body: &[u8]) -> Result<Hotel, BodyError> {
    let mut fields = [Field::EMPTY; MAX_JSON_FIELDS];
    let fields = parse_flat_object(body, &mut fields).map_err(|_| BodyError::BadJson)?;
    let mut hotel = empty_hotel();
    let mut scratch = [0u8; MAX_BODY_BYTES];
    for (key, which) in [("name", Which::Name), ("city", Which::City)] {
        let Some(Value::Str(s)) = get(fields, key) else {
            return Err(which.error(FieldError::Missing));
        };
        // Unescaping never lengthens, so a body-sized scratch always suffices.
        let decoded = s
            .decode_into(&mut scratch)
            .map_err(|_| BodyError::BadJson)?;
        // Stored exactly as decoded: no trimming.
        hotel.field_mut(which, decoded.as_bytes())?;
    }
    Ok(hotel)
}
