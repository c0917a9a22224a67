//! Request bodies that describe a hotel, in the three forms clients send:
//!
//! - the seed's text, `Hilton,Toronto`: no content type, `text/plain`, or
//!   `application/x-www-form-urlencoded` without any `=` (what
//!   `curl -d "Hilton,Toronto"` sends). Exactly one comma; spaces around
//!   each field are trimmed; no percent-decoding (bytes are taken as sent).
//! - an HTML form, `name=Hilton&city=Toronto` (urlencoded, `+` is a space).
//! - JSON, `{"name":"Hilton","city":"Toronto"}`: other fields are ignored;
//!   strings may hold any character, commas included.

use bedrock_http::{percent_decode_query, query_pairs};
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
    /// `name` absent, or not a string (422).
    NameMissing,
    /// `city` absent, or not a string (422).
    CityMissing,
    /// `name` empty after trimming (422).
    NameEmpty,
    /// `city` empty after trimming (422).
    CityEmpty,
    /// `name` longer than the limit (422).
    NameTooLong,
    /// `city` longer than the limit (422).
    CityTooLong,
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
            _ => 422,
        }
    }

    /// One line for the client.
    pub fn message(self) -> &'static str {
        match self {
            BodyError::TooLarge => "request body too large",
            BodyError::UnsupportedType => {
                "send text/plain name,city, an urlencoded form or application/json"
            }
            BodyError::BadText => "text body must be name,city with exactly one comma",
            BodyError::BadForm => "form must have name and city",
            BodyError::BadJson => "body is not a flat JSON object",
            BodyError::NotUtf8 => "body is not valid UTF-8",
            BodyError::NameMissing => "name is required and must be a string",
            BodyError::CityMissing => "city is required and must be a string",
            BodyError::NameEmpty => "name must not be empty",
            BodyError::CityEmpty => "city must not be empty",
            BodyError::NameTooLong => "name is too long",
            BodyError::CityTooLong => "city is too long",
        }
    }
}

impl From<BodyError> for Reject {
    fn from(e: BodyError) -> Self {
        Reject::new(e.status(), e.message())
    }
}

#[derive(Clone, Copy)]
enum Which {
    Name,
    City,
}

impl Which {
    fn too_long(self) -> BodyError {
        match self {
            Which::Name => BodyError::NameTooLong,
            Which::City => BodyError::CityTooLong,
        }
    }
    fn empty(self) -> BodyError {
        match self {
            Which::Name => BodyError::NameEmpty,
            Which::City => BodyError::CityEmpty,
        }
    }
    fn missing(self) -> BodyError {
        match self {
            Which::Name => BodyError::NameMissing,
            Which::City => BodyError::CityMissing,
        }
    }
}

/// Trims, checks UTF-8, emptiness and length, and fills `text`.
fn set_field<const N: usize>(
    text: &mut Text<N>,
    raw: &[u8],
    which: Which,
) -> Result<(), BodyError> {
    let raw = raw.trim_ascii();
    if raw.is_empty() {
        return Err(which.empty());
    }
    let s = core::str::from_utf8(raw).map_err(|_| BodyError::NotUtf8)?;
    *text = Text::new(s).ok_or(which.too_long())?;
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
    hotel.field_mut(Which::Name, name)?;
    hotel.field_mut(Which::City, city)?;
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
        let decoded =
            percent_decode_query(raw.as_bytes(), &mut scratch).map_err(|_| BodyError::BadForm)?;
        hotel.field_mut(which, decoded)?;
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
            return Err(which.missing());
        };
        // Unescaping never lengthens, so a body-sized scratch always suffices.
        let decoded = s
            .decode_into(&mut scratch)
            .map_err(|_| BodyError::BadJson)?;
        hotel.field_mut(which, decoded.as_bytes())?;
    }
    Ok(hotel)
}
