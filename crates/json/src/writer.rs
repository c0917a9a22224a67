//! The streaming [`JsonWriter`].

use crate::escape::write_wrapped;
use crate::limits::{MAX_DEPTH, MAX_F64_LEN};
use crate::number::{format_f64, format_i64, format_u64, is_valid_number, small_u64};
use crate::{JsonError, Sink, Truncate};

/// Where the writer stands, one byte so each call checks and updates it with
/// a single load and store.
mod mode {
    /// Top level, nothing written yet.
    pub const TOP_EMPTY: u8 = 0;
    /// Top level, one complete value written.
    pub const TOP_DONE: u8 = 1;
    /// In an array, before its first element.
    pub const ARR_FIRST: u8 = 2;
    /// In an array, after an element (a comma comes next).
    pub const ARR_NEXT: u8 = 3;
    /// In an object, before its first key.
    pub const OBJ_KEY_FIRST: u8 = 4;
    /// In an object, after a member (a comma comes next).
    pub const OBJ_KEY_NEXT: u8 = 5;
    /// In an object, after a key: its value is due.
    pub const OBJ_VALUE: u8 = 6;
    /// A sink write failed part-way through a call; every call fails with
    /// `Full` until a rollback.
    pub const BROKEN: u8 = 7;
}

/// The writer's structural state, small and `Copy` so a [`Mark`] can hold it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct State {
    /// One bit per open container, bit `d` for depth `d + 1`: 1 = object.
    kinds: u64,
    /// Number of open containers.
    depth: u8,
    /// One of the [`mode`] constants.
    mode: u8,
}

impl State {
    const START: State = State {
        kinds: 0,
        depth: 0,
        mode: mode::TOP_EMPTY,
    };
}

/// A saved position of a [`JsonWriter`]: the sink length and the structural
/// state. See [`JsonWriter::rollback`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    len: usize,
    state: State,
}

impl Mark {
    /// The sink length when the mark was taken.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the mark was taken before anything was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Writes one JSON value (normally an object or array) into a [`Sink`],
/// placing commas and colons itself and checking that calls fit the
/// document's structure.
///
/// Structural mistakes return [`JsonError::Misuse`] and write nothing. When
/// the sink fills, the call returns [`JsonError::Full`]; bytes of that call
/// may already be in the sink, and the writer refuses further calls until
/// [`JsonWriter::rollback`] restores a [`Mark`] taken earlier. That gives
/// "a whole record or nothing":
///
/// ```
/// use bedrock_json::{JsonWriter, SliceSink, JsonError};
/// let mut buf = [0u8; 24];
/// let mut w = JsonWriter::new(SliceSink::new(&mut buf));
/// w.begin_array()?;
/// for name in ["Ritz", "Savoy", "Adlon"] {
///     let mark = w.mark();
///     let r = (|| { w.begin_object()?; w.field_str("name", name)?; w.end_object() })();
///     if r == Err(JsonError::Full) { w.rollback(mark); break; }
/// }
/// w.end_array().ok(); // may itself not fit: check is_complete()
/// assert_eq!(w.sink().as_bytes(), br#"[{"name":"Ritz"}]"#);
/// # Ok::<(), JsonError>(())
/// ```
#[derive(Debug)]
pub struct JsonWriter<S: Sink> {
    sink: S,
    state: State,
}

impl<S: Sink> JsonWriter<S> {
    /// A writer at the start of a document.
    pub fn new(sink: S) -> Self {
        JsonWriter {
            sink,
            state: State::START,
        }
    }

    /// The sink, e.g. to read what has been written.
    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// Consumes the writer, returning the sink.
    pub fn into_sink(self) -> S {
        self.sink
    }

    /// True when a complete top-level value has been written and every
    /// container is closed (false before anything is written).
    pub fn is_complete(&self) -> bool {
        self.state.mode == mode::TOP_DONE
    }

    /// Number of open containers.
    pub fn depth(&self) -> usize {
        self.state.depth as usize
    }

    /// The current position, for [`JsonWriter::rollback`].
    pub fn mark(&self) -> Mark {
        Mark {
            len: self.sink.len(),
            state: self.state,
        }
    }

    /// Marks the writer broken when `r` is a sink error.
    #[inline]
    fn track<T>(&mut self, r: Result<T, JsonError>) -> Result<T, JsonError> {
        if r.is_err() {
            self.state.mode = mode::BROKEN;
        }
        r
    }

    /// Checks a value may be written here; returns the mode to set once the
    /// value is complete and whether a comma must precede it (the caller
    /// writes it together with the value).
    #[inline]
    fn before_value(&self) -> Result<(u8, bool), JsonError> {
        match self.state.mode {
            mode::OBJ_VALUE => Ok((mode::OBJ_KEY_NEXT, false)),
            mode::ARR_NEXT => Ok((mode::ARR_NEXT, true)),
            mode::ARR_FIRST => Ok((mode::ARR_NEXT, false)),
            mode::TOP_EMPTY => Ok((mode::TOP_DONE, false)),
            mode::BROKEN => Err(JsonError::Full),
            _ => Err(JsonError::Misuse),
        }
    }

    /// Writes a complete scalar token.
    #[inline]
    fn scalar(&mut self, bytes: &[u8]) -> Result<(), JsonError> {
        let (next, comma) = self.before_value()?;
        let r = if comma {
            self.sink.write3(b",", bytes, b"")
        } else {
            self.sink.write(bytes)
        };
        self.track(r)?;
        self.state.mode = next;
        Ok(())
    }

    fn begin(&mut self, open: u8, object: bool) -> Result<(), JsonError> {
        let st = self.state;
        if st.mode == mode::BROKEN {
            return Err(JsonError::Full);
        }
        if st.depth as usize >= MAX_DEPTH {
            return Err(JsonError::TooDeep);
        }
        let (_, comma) = self.before_value()?;
        let r = if comma {
            self.sink.write(&[b',', open])
        } else {
            self.sink.write_byte(open)
        };
        self.track(r)?;
        let st = &mut self.state;
        if object {
            st.kinds |= 1 << st.depth;
            st.mode = mode::OBJ_KEY_FIRST;
        } else {
            st.kinds &= !(1 << st.depth);
            st.mode = mode::ARR_FIRST;
        }
        st.depth += 1;
        Ok(())
    }

    fn end(&mut self, close: u8, object: bool) -> Result<(), JsonError> {
        let ok = match self.state.mode {
            mode::OBJ_KEY_FIRST | mode::OBJ_KEY_NEXT => object,
            mode::ARR_FIRST | mode::ARR_NEXT => !object,
            mode::BROKEN => return Err(JsonError::Full),
            _ => false,
        };
        if !ok {
            return Err(JsonError::Misuse);
        }
        let r = self.sink.write_byte(close);
        self.track(r)?;
        let st = &mut self.state;
        st.depth -= 1;
        st.mode = if st.depth == 0 {
            mode::TOP_DONE
        } else if (st.kinds >> (st.depth - 1)) & 1 == 1 {
            mode::OBJ_KEY_NEXT
        } else {
            mode::ARR_NEXT
        };
        Ok(())
    }

    /// Opens an object (`{`).
    pub fn begin_object(&mut self) -> Result<(), JsonError> {
        self.begin(b'{', true)
    }

    /// Closes the innermost object (`}`); `Misuse` when it is not an object
    /// or a key awaits its value.
    pub fn end_object(&mut self) -> Result<(), JsonError> {
        self.end(b'}', true)
    }

    /// Opens an array (`[`).
    pub fn begin_array(&mut self) -> Result<(), JsonError> {
        self.begin(b'[', false)
    }

    /// Closes the innermost array (`]`); `Misuse` when it is not an array.
    pub fn end_array(&mut self) -> Result<(), JsonError> {
        self.end(b']', false)
    }

    /// Writes an object key (escaped) and its colon; `Misuse` outside an
    /// object or when the previous key has no value yet.
    pub fn key(&mut self, key: &str) -> Result<(), JsonError> {
        let comma = match self.state.mode {
            mode::OBJ_KEY_NEXT => true,
            mode::OBJ_KEY_FIRST => false,
            mode::BROKEN => return Err(JsonError::Full),
            _ => return Err(JsonError::Misuse),
        };
        let r = self.write_key(key, comma);
        self.track(r)?;
        self.state.mode = mode::OBJ_VALUE;
        Ok(())
    }

    #[inline]
    fn write_key(&mut self, key: &str, comma: bool) -> Result<(), JsonError> {
        let pre: &[u8] = if comma { b",\"" } else { b"\"" };
        write_wrapped(&mut self.sink, pre, key.as_bytes(), b"\":")
    }

    /// Writes a string value, escaped per RFC 8259 (see
    /// [`escaped_len`](crate::escaped_len)).
    pub fn string(&mut self, s: &str) -> Result<(), JsonError> {
        let (next, comma) = self.before_value()?;
        let pre: &[u8] = if comma { b",\"" } else { b"\"" };
        let r = write_wrapped(&mut self.sink, pre, s.as_bytes(), b"\"");
        self.track(r)?;
        self.state.mode = next;
        Ok(())
    }

    /// Writes an unsigned integer.
    pub fn u64(&mut self, v: u64) -> Result<(), JsonError> {
        if v < 100_000_000 {
            let (d, n) = small_u64(v as u32);
            return self.scalar(&d[8 - n..]);
        }
        let mut buf = [0u8; 20];
        let start = format_u64(v, &mut buf);
        self.scalar(&buf[start..])
    }

    /// Writes a signed integer.
    pub fn i64(&mut self, v: i64) -> Result<(), JsonError> {
        let mut buf = [0u8; 21];
        let start = format_i64(v, &mut buf);
        self.scalar(&buf[start..])
    }

    /// Writes a finite float so that it parses back to the same `f64`:
    /// integral values below 2^53 as `3.0`, others with round-trip digits
    /// (`0.1`, `1e300`). NaN and infinities return [`JsonError::NotFinite`]
    /// and write nothing.
    pub fn f64(&mut self, v: f64) -> Result<(), JsonError> {
        let mut buf = [0u8; MAX_F64_LEN];
        let n = format_f64(v, &mut buf).ok_or(JsonError::NotFinite)?;
        self.scalar(&buf[..n])
    }

    /// Writes number text as is, after checking it against the RFC 8259
    /// number grammar (`Misuse` when it does not match). Useful to pass a
    /// number read by [`parse_flat_object`](crate::parse_flat_object) through
    /// unchanged.
    pub fn raw_number(&mut self, text: &str) -> Result<(), JsonError> {
        if !is_valid_number(text.as_bytes()) {
            return Err(JsonError::Misuse);
        }
        self.scalar(text.as_bytes())
    }

    /// Writes `true` or `false`.
    pub fn bool(&mut self, v: bool) -> Result<(), JsonError> {
        self.scalar(if v { b"true" } else { b"false" })
    }

    /// Writes `null`.
    pub fn null(&mut self) -> Result<(), JsonError> {
        self.scalar(b"null")
    }

    /// Writes `key` and a string value.
    pub fn field_str(&mut self, key: &str, v: &str) -> Result<(), JsonError> {
        self.key(key)?;
        self.string(v)
    }

    /// Writes `key` and an unsigned integer value.
    pub fn field_u64(&mut self, key: &str, v: u64) -> Result<(), JsonError> {
        self.key(key)?;
        self.u64(v)
    }

    /// Writes `key` and a signed integer value.
    pub fn field_i64(&mut self, key: &str, v: i64) -> Result<(), JsonError> {
        self.key(key)?;
        self.i64(v)
    }

    /// Writes `key` and a float value (NaN and infinities: `NotFinite`,
    /// checked before the key is written).
    pub fn field_f64(&mut self, key: &str, v: f64) -> Result<(), JsonError> {
        if !v.is_finite() {
            return Err(JsonError::NotFinite);
        }
        self.key(key)?;
        self.f64(v)
    }

    /// Writes `key` and a boolean value.
    pub fn field_bool(&mut self, key: &str, v: bool) -> Result<(), JsonError> {
        self.key(key)?;
        self.bool(v)
    }

    /// Writes `key` and `null`.
    pub fn field_null(&mut self, key: &str) -> Result<(), JsonError> {
        self.key(key)?;
        self.null()
    }
}

impl<S: Truncate> JsonWriter<S> {
    /// Returns to `mark`: the sink forgets every byte written since, and the
    /// nesting and comma state is restored (also clearing a failure). A mark
    /// must come from this writer; a mark past the sink's length restores
    /// the state without growing the sink.
    pub fn rollback(&mut self, mark: Mark) {
        self.sink.truncate(mark.len);
        self.state = mark.state;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{escaped_len, CountingSink, SliceSink};

    fn with<F>(f: F) -> String
    where
        F: FnOnce(&mut JsonWriter<SliceSink<'_>>) -> Result<(), JsonError>,
    {
        let mut buf = [0u8; 1024];
        let mut w = JsonWriter::new(SliceSink::new(&mut buf));
        f(&mut w).unwrap();
        assert!(w.is_complete());
        String::from_utf8(w.into_sink().as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn commas_and_colons() {
        let s = with(|w| {
            w.begin_object()?;
            w.field_u64("id", 7)?;
            w.field_str("name", "Ritz")?;
            w.key("tags")?;
            w.begin_array()?;
            w.string("a")?;
            w.i64(-3)?;
            w.bool(true)?;
            w.null()?;
            w.begin_object()?;
            w.end_object()?;
            w.begin_array()?;
            w.end_array()?;
            w.f64(1.5)?;
            w.end_array()?;
            w.field_bool("ok", false)?;
            w.field_null("n")?;
            w.field_i64("i", i64::MIN)?;
            w.field_f64("f", 2.0)?;
            w.key("r")?;
            w.raw_number("-1.5e3")?;
            w.end_object()
        });
        assert_eq!(
            s,
            r#"{"id":7,"name":"Ritz","tags":["a",-3,true,null,{},[],1.5],"ok":false,"n":null,"i":-9223372036854775808,"f":2.0,"r":-1.5e3}"#
        );
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["tags"][0], "a");
    }

    #[test]
    fn top_level_scalars() {
        assert_eq!(with(|w| w.u64(0)), "0");
        assert_eq!(with(|w| w.string("x\n")), "\"x\\n\"");
        assert_eq!(with(|w| w.null()), "null");
        assert_eq!(with(|w| w.begin_array().and_then(|_| w.end_array())), "[]");
    }

    #[test]
    fn keys_are_escaped() {
        let s = with(|w| {
            w.begin_object()?;
            w.field_str("a\"b", "1")?;
            w.field_str("x\\y\n", "2")?;
            let long = "k".repeat(100);
            w.field_u64(&long, 3)?;
            w.end_object()
        });
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["a\"b"], "1");
        assert_eq!(v["x\\y\n"], "2");
        assert_eq!(v["k".repeat(100)], 3);
    }

    fn fresh<'b>(buf: &'b mut [u8]) -> JsonWriter<SliceSink<'b>> {
        JsonWriter::new(SliceSink::new(buf))
    }

    #[test]
    fn misuse() {
        let mut buf = [0u8; 64];
        let mut w = fresh(&mut buf);
        assert_eq!(w.key("a"), Err(JsonError::Misuse)); // key at top level
        assert_eq!(w.end_object(), Err(JsonError::Misuse));
        assert_eq!(w.end_array(), Err(JsonError::Misuse));
        assert!(!w.is_complete());
        w.begin_object().unwrap();
        assert_eq!(w.u64(1), Err(JsonError::Misuse)); // value where key expected
        assert_eq!(w.begin_array(), Err(JsonError::Misuse));
        assert_eq!(w.end_array(), Err(JsonError::Misuse)); // mismatched end
        w.key("a").unwrap();
        assert_eq!(w.key("b"), Err(JsonError::Misuse)); // key where value expected
        assert_eq!(w.end_object(), Err(JsonError::Misuse)); // dangling key
        w.begin_array().unwrap();
        assert_eq!(w.key("c"), Err(JsonError::Misuse)); // key in array
        assert_eq!(w.end_object(), Err(JsonError::Misuse));
        assert_eq!(w.raw_number("01"), Err(JsonError::Misuse));
        w.end_array().unwrap();
        assert!(!w.is_complete());
        w.end_object().unwrap();
        assert!(w.is_complete());
        assert_eq!(w.null(), Err(JsonError::Misuse)); // second top-level value
        assert_eq!(w.begin_object(), Err(JsonError::Misuse));
        assert_eq!(w.end_object(), Err(JsonError::Misuse)); // unbalanced
        assert_eq!(w.sink().as_bytes(), br#"{"a":[]}"#);
    }

    #[test]
    fn not_finite_writes_nothing() {
        let mut buf = [0u8; 64];
        let mut w = fresh(&mut buf);
        w.begin_object().unwrap();
        assert_eq!(w.field_f64("x", f64::NAN), Err(JsonError::NotFinite));
        w.key("y").unwrap();
        assert_eq!(w.f64(f64::INFINITY), Err(JsonError::NotFinite));
        assert_eq!(w.f64(f64::NEG_INFINITY), Err(JsonError::NotFinite));
        w.f64(-0.25).unwrap();
        w.end_object().unwrap();
        assert_eq!(w.sink().as_bytes(), br#"{"y":-0.25}"#);
    }

    #[test]
    fn depth_limit_at_and_past() {
        let mut buf = [0u8; 2 * MAX_DEPTH + 8];
        let mut w = fresh(&mut buf);
        for _ in 0..MAX_DEPTH {
            w.begin_array().unwrap();
        }
        assert_eq!(w.depth(), MAX_DEPTH);
        assert_eq!(w.begin_array(), Err(JsonError::TooDeep));
        assert_eq!(w.begin_object(), Err(JsonError::TooDeep));
        for _ in 0..MAX_DEPTH {
            w.end_array().unwrap();
        }
        assert!(w.is_complete());
        let s = w.into_sink().into_written();
        assert_eq!(s.len(), 2 * MAX_DEPTH);

        // Alternating objects and arrays keep their kinds at full depth.
        let mut buf = [0u8; 8 * MAX_DEPTH];
        let mut w = fresh(&mut buf);
        for d in 0..MAX_DEPTH {
            if d % 2 == 0 {
                w.begin_object().unwrap();
                if d + 1 < MAX_DEPTH {
                    w.key("k").unwrap();
                }
            } else {
                w.begin_array().unwrap();
            }
        }
        assert_eq!(w.begin_array(), Err(JsonError::TooDeep));
        for d in (0..MAX_DEPTH).rev() {
            if d % 2 == 0 {
                w.end_object().unwrap();
            } else {
                w.end_array().unwrap();
            }
        }
        assert!(w.is_complete());
        let s = w.into_sink().into_written();
        serde_json::from_slice::<serde_json::Value>(s).unwrap();
    }

    /// A small document, written as a unit under a mark.
    fn doc<S: Sink>(w: &mut JsonWriter<S>) -> Result<(), JsonError> {
        w.begin_object()?;
        w.field_u64("id", 42)?;
        w.field_str("name", "H\u{f4}tel \"Ritz\"\n")?;
        w.key("rooms")?;
        w.begin_array()?;
        w.i64(-1)?;
        w.f64(0.5)?;
        w.bool(false)?;
        w.null()?;
        w.end_array()?;
        w.end_object()
    }

    #[test]
    fn full_at_every_buffer_size() {
        let mut big = [0u8; 256];
        let mut w = fresh(&mut big);
        doc(&mut w).unwrap();
        let want = w.into_sink().into_written().to_vec();
        let mut count = JsonWriter::new(CountingSink::new());
        doc(&mut count).unwrap();
        assert_eq!(count.sink().count(), want.len());

        for size in 0..=want.len() {
            let mut buf = vec![0u8; size];
            let mut w = fresh(&mut buf);
            let mark = w.mark();
            match doc(&mut w) {
                Ok(()) => {
                    assert_eq!(size, want.len());
                    assert_eq!(w.sink().as_bytes(), &want[..]);
                    assert!(w.is_complete());
                }
                Err(e) => {
                    assert_eq!(e, JsonError::Full, "size {size}");
                    assert!(size < want.len());
                    assert!(!w.is_complete());
                    // A broken writer refuses to go on.
                    assert_eq!(w.null(), Err(JsonError::Full));
                    assert_eq!(w.key("x"), Err(JsonError::Full));
                    assert_eq!(w.end_object(), Err(JsonError::Full));
                    assert_eq!(w.begin_array(), Err(JsonError::Full));
                    w.rollback(mark);
                    assert_eq!(w.sink().as_bytes(), b"");
                    assert_eq!(w.mark(), mark);
                }
            }
        }
    }

    #[test]
    fn whole_records_or_nothing() {
        // Records inside an array: each either fully present or absent, and
        // the closing bracket reserved by writing into a shorter view.
        let names = ["a", "bb\"", "ccc\n", "dddd", "\u{e9}e"];
        for size in 2..=120 {
            let mut buf = vec![0u8; size];
            let mut w = fresh(&mut buf[..size - 1]);
            w.begin_array().unwrap();
            let mut written = 0;
            for (i, n) in names.iter().enumerate() {
                let mark = w.mark();
                let r = (|| {
                    w.begin_object()?;
                    w.field_u64("id", i as u64)?;
                    w.field_str("name", n)?;
                    w.end_object()
                })();
                match r {
                    Ok(()) => written += 1,
                    Err(e) => {
                        assert_eq!(e, JsonError::Full);
                        w.rollback(mark);
                        break;
                    }
                }
            }
            let body = w.into_sink().into_written().len();
            buf[body] = b']';
            let v: serde_json::Value = serde_json::from_slice(&buf[..=body]).unwrap();
            let arr = v.as_array().unwrap();
            assert_eq!(arr.len(), written);
            for (i, rec) in arr.iter().enumerate() {
                assert_eq!(rec["id"], i as u64);
                assert_eq!(rec["name"], names[i]);
            }
        }
    }

    #[test]
    fn rollback_restores_commas() {
        let mut buf = [0u8; 64];
        let mut w = fresh(&mut buf);
        w.begin_array().unwrap();
        let m0 = w.mark();
        w.u64(1).unwrap();
        w.rollback(m0);
        w.u64(2).unwrap(); // no comma: still the first element
        let m1 = w.mark();
        w.begin_object().unwrap();
        w.key("k").unwrap();
        w.rollback(m1);
        w.u64(3).unwrap();
        w.end_array().unwrap();
        assert_eq!(w.sink().as_bytes(), b"[2,3]");
        // Counting sinks roll back too.
        let mut c = JsonWriter::new(CountingSink::new());
        let m = c.mark();
        c.string("abc").unwrap();
        assert_eq!(c.sink().len(), escaped_len("abc"));
        c.rollback(m);
        assert_eq!(c.sink().len(), 0);
        assert!(m.is_empty());
        assert_eq!(m.len(), 0);
    }

    #[test]
    fn writer_over_borrowed_sink() {
        let mut buf = [0u8; 16];
        let mut sink = SliceSink::new(&mut buf);
        {
            let mut w = JsonWriter::new(&mut sink);
            w.begin_array().unwrap();
            w.end_array().unwrap();
            let m = w.mark();
            w.rollback(m);
        }
        assert_eq!(sink.as_bytes(), b"[]");
    }
}
