//! The JSON a client sends: `title`, `completed` and `order`, each
//! optional (a create needs a title); other fields are ignored. A title is
//! stored exactly as decoded; control characters are refused.

use bedrock_json::{get, parse_flat_object, Field, Value};
use bedrock_store::Text;
use bedrock_web::Reject;

use crate::{MAX_BODY, MAX_TITLE};

/// What a body says to set; `order: Some(None)` is an explicit `null`.
pub struct Patch {
    pub title: Option<Text<MAX_TITLE>>,
    pub completed: Option<bool>,
    pub order: Option<Option<i64>>,
}

const fn unprocessable(message: &'static str) -> Reject {
    Reject::new(422, message)
}

impl Patch {
    pub fn parse(body: &[u8]) -> Result<Patch, Reject> {
        let mut fields = [Field::EMPTY; 8];
        let fields = parse_flat_object(body, &mut fields)
            .map_err(|_| Reject::new(400, "the body is not a flat JSON object"))?;
        let mut scratch = [0u8; MAX_BODY];
        let title = match get(fields, "title") {
            None => None,
            Some(Value::Str(s)) => {
                let text = s
                    .decode_into(&mut scratch)
                    .map_err(|_| unprocessable("bad title"))?;
                if text.is_empty() || text.chars().any(|c| c.is_ascii_control()) {
                    return Err(unprocessable(
                        "a title is 1 or more characters, none of them control characters",
                    ));
                }
                Some(Text::new(text).ok_or(unprocessable("title longer than 200 bytes"))?)
            }
            Some(_) => return Err(unprocessable("title must be a string")),
        };
        let completed = match get(fields, "completed") {
            None => None,
            Some(v) => Some(
                v.as_bool()
                    .ok_or(unprocessable("completed must be true or false"))?,
            ),
        };
        let order = match get(fields, "order") {
            None => None,
            Some(v) if v.is_null() => Some(None),
            Some(v) => Some(Some(
                v.as_i64()
                    .ok_or(unprocessable("order must be an integer"))?,
            )),
        };
        Ok(Patch {
            title,
            completed,
            order,
        })
    }
}
