//! A hotel record and its bounded text fields.

use bedrock_json::{JsonError, JsonWriter, Sink};

pub use bedrock_store::Text;

use crate::limits::{MAX_CITY_BYTES, MAX_NAME_BYTES};

/// A hotel as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hotel {
    /// Its name, 1 to [`MAX_NAME_BYTES`] bytes.
    pub name: Text<MAX_NAME_BYTES>,
    /// Its city, 1 to [`MAX_CITY_BYTES`] bytes.
    pub city: Text<MAX_CITY_BYTES>,
}

impl Hotel {
    /// Writes `{"id":..,"name":..,"city":..}`.
    pub fn write_json<S: Sink>(&self, id: u64, w: &mut JsonWriter<S>) -> Result<(), JsonError> {
        w.begin_object()?;
        w.field_u64("id", id)?;
        w.field_str("name", self.name.as_str())?;
        w.field_str("city", self.city.as_str())?;
        w.end_object()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_at_and_past_its_limit() {
        let at = "é".repeat(MAX_NAME_BYTES / 2);
        assert_eq!(at.len(), MAX_NAME_BYTES);
        assert_eq!(Text::<MAX_NAME_BYTES>::new(&at).unwrap().as_str(), at);
        let past = "x".repeat(MAX_NAME_BYTES + 1);
        assert!(Text::<MAX_NAME_BYTES>::new(&past).is_none());
    }
}
