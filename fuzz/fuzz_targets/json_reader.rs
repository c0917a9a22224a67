//! Fuzz the strict flat-object reader: it must never panic; every accepted
//! string must decode; and an accepted object, re-written with `JsonWriter`,
//! must parse again to the same decoded keys and values.
#![no_main]

use bedrock_json::{parse_flat_object, Field, JsonError, JsonWriter, SliceSink, Value};
use libfuzzer_sys::fuzz_target;

const FIELDS: usize = 16;
const DECODE: usize = 256;

/// Decodes a string into `buf`; `None` when it does not fit.
fn decode<'o>(s: bedrock_json::JsonStr<'_>, buf: &'o mut [u8; DECODE]) -> Option<&'o str> {
    match s.decode_into(buf) {
        Ok(text) => {
            assert_eq!(text.len(), s.decoded_len());
            assert!(s.eq_str(text));
            Some(text)
        }
        Err(bedrock_json::ReadError::OutputFull) => {
            assert!(s.decoded_len() > DECODE);
            None
        }
        Err(e) => panic!("validated string failed to decode: {e:?}"),
    }
}

/// Writes the fields as an object; `Ok(false)` when a string is too long to
/// decode into the fuzz buffer.
fn rewrite(got: &[Field<'_>], w: &mut JsonWriter<SliceSink<'_>>) -> Result<bool, JsonError> {
    w.begin_object()?;
    for f in got {
        let mut kbuf = [0u8; DECODE];
        let Some(key) = decode(f.key, &mut kbuf) else {
            return Ok(false);
        };
        w.key(key)?;
        match f.value {
            Value::Str(s) => {
                let mut vbuf = [0u8; DECODE];
                let Some(text) = decode(s, &mut vbuf) else {
                    return Ok(false);
                };
                w.string(text)?;
            }
            Value::Number(n) => w.raw_number(n)?,
            Value::Bool(b) => w.bool(b)?,
            Value::Null => w.null()?,
        }
    }
    w.end_object()?;
    Ok(true)
}

fuzz_target!(|data: &[u8]| {
    let mut fields = [Field::EMPTY; FIELDS];
    let Ok(got) = parse_flat_object(data, &mut fields) else {
        return;
    };
    for f in got.iter() {
        let mut buf = [0u8; DECODE];
        let _ = decode(f.key, &mut buf);
        if let Value::Str(s) = f.value {
            let _ = decode(s, &mut buf);
        }
    }

    // Re-write the object; skip it when a string is too long to decode
    // here or the output does not fit (long numbers).
    let mut out = [0u8; 16 * 1024];
    let mut w = JsonWriter::new(SliceSink::new(&mut out));
    match rewrite(got, &mut w) {
        Ok(true) => {}
        Ok(false) | Err(JsonError::Full) => return,
        Err(e) => panic!("re-writing failed: {e:?}"),
    }
    assert!(w.is_complete());
    let written = w.into_sink().into_written();

    let mut again = [Field::EMPTY; FIELDS];
    let back = parse_flat_object(written, &mut again).expect("re-written object must parse");
    assert_eq!(back.len(), got.len());
    for (a, b) in got.iter().zip(back.iter()) {
        assert!(a.key.eq_decoded(&b.key));
        match (a.value, b.value) {
            (Value::Str(x), Value::Str(y)) => assert!(x.eq_decoded(&y)),
            (x, y) => assert_eq!(x, y),
        }
    }
});
