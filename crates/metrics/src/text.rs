//! The Prometheus text exposition format, version 0.0.4: one family per
//! `# HELP` and `# TYPE` pair, then its samples, one a line
//! (`name{label="value",...} value`), lines ended by `\n`.
//!
//! A [`Writer`] writes into one buffer, a piece of a streamed body: the
//! host calls the same code for every piece and the writer keeps only the
//! families from `from` on that fit whole, so a family never straddles
//! two pieces and the cursor between pieces is a family's index.

use crate::limits::MAX_NAME;

/// What a family is: its `# TYPE` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (resets when the process restarts); names end in
    /// `_total`.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Cumulative `_bucket{le=..}` counts, `_sum` and `_count`.
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A sample's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// A whole number (counts, bytes).
    Int(u64),
    /// Microseconds, written in seconds, the base unit: `1.5` for
    /// 1,500,000, `0.00005` for 50.
    Micros(u64),
}

/// How far a piece got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// Bytes written at the start of the buffer.
    pub len: usize,
    /// The family the next piece starts at; past the last family when
    /// every family has been written (the next piece is then empty).
    pub next: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Between families, or in one that is not written here (before
    /// `from`, after the piece filled up, or with an invalid name).
    Skip,
    /// Writing the current family.
    Write,
}

/// Writes families into one buffer; see the module doc.
pub struct Writer<'a> {
    out: &'a mut [u8],
    len: usize,
    /// Families before this index went out in earlier pieces.
    from: u32,
    /// Families begun so far.
    index: u32,
    /// Where the current family starts in `out`.
    family_at: usize,
    name: [u8; MAX_NAME],
    name_len: usize,
    mode: Mode,
    /// The current family did not fit.
    overflow: bool,
    /// The first family that did not fit, where the next piece starts.
    stopped: Option<u32>,
}

impl<'a> Writer<'a> {
    /// A writer of the families from index `from` on into `out`.
    pub fn new(out: &'a mut [u8], from: u32) -> Self {
        Writer {
            out,
            len: 0,
            from,
            index: 0,
            family_at: 0,
            name: [0; MAX_NAME],
            name_len: 0,
            mode: Mode::Skip,
            overflow: false,
            stopped: None,
        }
    }

    /// Begins a family named by `name`'s parts put together, with its
    /// `# HELP` and `# TYPE` lines; its samples follow
    /// ([`Writer::sample`]). Returns whether they are written here: false
    /// for a family an earlier piece had, one after the piece filled up,
    /// and one whose name is not a metric name or longer than
    /// [`MAX_NAME`] (left out), so a caller can skip work.
    pub fn family(&mut self, name: &[&str], help: &str, kind: Kind) -> bool {
        self.end_family();
        let index = self.index;
        self.index = self.index.saturating_add(1);
        if index < self.from || self.stopped.is_some() {
            return false;
        }
        let mut len = 0;
        for part in name.iter().map(|p| p.as_bytes()) {
            let Some(room) = self.name.get_mut(len..len + part.len()) else {
                return false;
            };
            room.copy_from_slice(part);
            len += part.len();
        }
        if !valid_metric_name(&self.name[..len]) {
            return false;
        }
        self.name_len = len;
        self.family_at = self.len;
        self.overflow = false;
        self.mode = Mode::Write;
        self.put(b"# HELP ");
        self.put_name();
        self.put(b" ");
        self.put_escaped(help.trim().as_bytes(), false);
        self.put(b"\n# TYPE ");
        self.put_name();
        self.put(b" ");
        self.put(kind.as_str().as_bytes());
        self.put(b"\n");
        true
    }

    /// A sample of the current family: its name followed by `suffix`
    /// (`""`, or `_bucket`, `_sum`, `_count` in a histogram), `labels`
    /// as `name="value"` pairs (values escaped), and `value`. A sample
    /// with a label name that is not one is left out.
    pub fn sample(&mut self, suffix: &str, labels: &[(&str, &str)], value: Value) {
        if self.mode != Mode::Write {
            return;
        }
        if !labels.iter().all(|(k, _)| valid_label_name(k.as_bytes())) {
            return;
        }
        self.put_name();
        self.put(suffix.as_bytes());
        for (i, (k, v)) in labels.iter().enumerate() {
            self.put(if i == 0 { b"{" } else { b"," });
            self.put(k.as_bytes());
            self.put(b"=\"");
            self.put_escaped(v.as_bytes(), true);
            self.put(b"\"");
        }
        if !labels.is_empty() {
            self.put(b"}");
        }
        self.put(b" ");
        let mut digits = [0u8; VALUE_BYTES];
        let n = format_value(value, &mut digits);
        self.put(&digits[..n]);
        self.put(b"\n");
    }

    /// A family of one unlabelled sample.
    pub fn single(&mut self, name: &[&str], help: &str, kind: Kind, value: Value) {
        if self.family(name, help, kind) {
            self.sample("", &[], value);
        }
    }

    /// A counter of one unlabelled sample.
    pub fn counter(&mut self, name: &str, help: &str, value: Value) {
        self.single(&[name], help, Kind::Counter, value);
    }

    /// A gauge of one unlabelled sample.
    pub fn gauge(&mut self, name: &str, help: &str, value: Value) {
        self.single(&[name], help, Kind::Gauge, value);
    }

    /// Ends the piece: what was written and where the next one starts.
    pub fn finish(mut self) -> Piece {
        self.end_family();
        Piece {
            len: self.len,
            next: self.stopped.unwrap_or(self.index),
        }
    }

    /// Closes the current family: one that did not fit is taken out
    /// again, and the piece ends before it; one that would not fit an
    /// empty piece either is left out for good, with a comment line.
    fn end_family(&mut self) {
        if self.mode == Mode::Write && self.overflow {
            self.len = self.family_at;
            if self.family_at == 0 {
                self.overflow = false;
                self.put(b"# bedrock-metrics: ");
                self.put_name();
                self.put(b" left out: larger than one piece\n");
                if self.overflow {
                    self.len = 0;
                }
            } else {
                self.stopped = Some(self.index - 1);
            }
        }
        self.mode = Mode::Skip;
    }

    fn put_name(&mut self) {
        let (name, len) = (self.name, self.name_len);
        self.put(&name[..len]);
    }

    fn put(&mut self, bytes: &[u8]) {
        if self.overflow {
            return;
        }
        match self.out.get_mut(self.len..self.len + bytes.len()) {
            Some(room) => {
                room.copy_from_slice(bytes);
                self.len += bytes.len();
            }
            None => self.overflow = true,
        }
    }

    /// Writes `text` escaped: backslash and line feed always, the double
    /// quote too in a label value (the format's only escapes).
    fn put_escaped(&mut self, text: &[u8], label: bool) {
        let mut start = 0;
        for (i, &b) in text.iter().enumerate() {
            let escaped: &[u8] = match b {
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'"' if label => b"\\\"",
                _ => continue,
            };
            self.put(&text[start..i]);
            self.put(escaped);
            start = i + 1;
        }
        self.put(&text[start..]);
    }
}

/// Bytes of the longest value written: 20 digits of a `u64`, or 14
/// digits of seconds, a point and 6 of a fraction.
const VALUE_BYTES: usize = 24;

/// Writes `value` at the start of `out`; returns its length.
fn format_value(value: Value, out: &mut [u8; VALUE_BYTES]) -> usize {
    match value {
        Value::Int(n) => format_u64(n, out),
        Value::Micros(us) => {
            let mut n = format_u64(us / 1_000_000, out);
            let mut frac = us % 1_000_000;
            if frac > 0 {
                let mut digits = 6;
                while frac % 10 == 0 {
                    frac /= 10;
                    digits -= 1;
                }
                out[n] = b'.';
                for i in (0..digits).rev() {
                    out[n + 1 + i] = b'0' + (frac % 10) as u8;
                    frac /= 10;
                }
                n += 1 + digits;
            }
            n
        }
    }
}

fn format_u64(mut n: u64, out: &mut [u8]) -> usize {
    let mut digits = [0u8; 20];
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for i in 0..len {
        out[i] = digits[len - 1 - i];
    }
    len
}

/// `us` as seconds (a histogram bound for an `le` label): its text in
/// `out`.
pub(crate) fn seconds_text(us: u64, out: &mut [u8; VALUE_BYTES]) -> &str {
    let n = format_value(Value::Micros(us), out);
    // Digits and a point: ASCII.
    core::str::from_utf8(&out[..n]).unwrap_or("")
}

/// The buffer [`seconds_text`] writes into.
pub(crate) const fn value_buffer() -> [u8; VALUE_BYTES] {
    [0; VALUE_BYTES]
}

/// A metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn valid_metric_name(name: &[u8]) -> bool {
    let first = |b: &u8| b.is_ascii_alphabetic() || *b == b'_' || *b == b':';
    let rest = |b: &u8| first(b) || b.is_ascii_digit();
    name.first().is_some_and(first) && name.iter().all(rest)
}

/// A label name: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`
/// (reserved for Prometheus's own).
pub fn valid_label_name(name: &[u8]) -> bool {
    let first = |b: &u8| b.is_ascii_alphabetic() || *b == b'_';
    let rest = |b: &u8| first(b) || b.is_ascii_digit();
    name.first().is_some_and(first) && name.iter().all(rest) && !name.starts_with(b"__")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_piece(out: &mut [u8], write: impl Fn(&mut Writer<'_>)) -> (String, Piece) {
        let mut w = Writer::new(out, 0);
        write(&mut w);
        let piece = w.finish();
        (String::from_utf8(out[..piece.len].to_vec()).unwrap(), piece)
    }

    #[test]
    fn a_counter_and_a_labelled_gauge_line_by_line() {
        let mut buf = [0u8; 512];
        let (text, piece) = one_piece(&mut buf, |w| {
            w.counter("a_total", "Things done.", Value::Int(7));
            if w.family(&["b_", "open"], "Open now.", Kind::Gauge) {
                w.sample("", &[("kind", "x"), ("side", "in")], Value::Int(0));
                w.sample("", &[("kind", "y"), ("side", "in")], Value::Int(u64::MAX));
            }
        });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "# HELP a_total Things done.",
                "# TYPE a_total counter",
                "a_total 7",
                "# HELP b_open Open now.",
                "# TYPE b_open gauge",
                "b_open{kind=\"x\",side=\"in\"} 0",
                "b_open{kind=\"y\",side=\"in\"} 18446744073709551615",
            ]
        );
        assert!(text.ends_with('\n'));
        assert_eq!(piece.next, 2, "both families written");
    }

    #[test]
    fn label_values_and_help_are_escaped_by_the_formats_rules() {
        let mut buf = [0u8; 512];
        let (text, _) = one_piece(&mut buf, |w| {
            w.family(&["e"], " back\\slash \"quoted\"\nnext line ", Kind::Gauge);
            w.sample("", &[("v", "a\\b\"c\nd")], Value::Int(1));
        });
        let lines: Vec<&str> = text.lines().collect();
        // HELP escapes backslash and line feed only; the quote stays.
        assert_eq!(lines[0], "# HELP e back\\\\slash \"quoted\"\\nnext line");
        assert_eq!(lines[2], "e{v=\"a\\\\b\\\"c\\nd\"} 1");
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn microseconds_are_written_in_seconds() {
        let cases = [
            (0, "0"),
            (1, "0.000001"),
            (50, "0.00005"),
            (1_000_000, "1"),
            (1_500_000, "1.5"),
            (2_500_000, "2.5"),
            (10_000_001, "10.000001"),
            (u64::MAX, "18446744073709.551615"),
        ];
        for (us, text) in cases {
            let mut b = value_buffer();
            assert_eq!(seconds_text(us, &mut b), text, "{us}");
        }
    }

    #[test]
    fn names_that_are_not_metric_names_are_left_out() {
        for bad in ["", "1abc", "a-b", "a b", "é"] {
            let mut buf = [0u8; 128];
            let (text, piece) = one_piece(&mut buf, |w| {
                w.counter(bad, "x", Value::Int(1));
                w.counter("ok_total", "y", Value::Int(2));
            });
            assert!(text.starts_with("# HELP ok_total y\n"), "{bad:?}: {text}");
            assert_eq!(piece.next, 2);
        }
        assert!(valid_metric_name(b"a:b_c9"));
        assert!(valid_metric_name(b"_x"));
        assert!(valid_label_name(b"le"));
        assert!(!valid_label_name(b"__name"));
        assert!(!valid_label_name(b"a:b"));
    }

    #[test]
    fn a_sample_with_an_invalid_label_name_is_left_out() {
        let mut buf = [0u8; 256];
        let (text, _) = one_piece(&mut buf, |w| {
            w.family(&["g"], "h", Kind::Gauge);
            w.sample("", &[("bad-name", "v")], Value::Int(1));
            w.sample("", &[("good", "v")], Value::Int(2));
        });
        assert_eq!(text, "# HELP g h\n# TYPE g gauge\ng{good=\"v\"} 2\n");
    }

    #[test]
    fn names_at_and_past_max_name() {
        let at = "n".repeat(MAX_NAME);
        let past = "n".repeat(MAX_NAME + 1);
        let mut buf = [0u8; 1024];
        let (text, _) = one_piece(&mut buf, |w| w.gauge(&at, "h", Value::Int(1)));
        assert!(text.contains(&format!("\n{at} 1\n")));
        let (text, piece) = one_piece(&mut buf, |w| {
            let (a, b) = past.split_at(10);
            w.single(&[a, b], "h", Kind::Gauge, Value::Int(1));
        });
        assert_eq!((text.as_str(), piece.next), ("", 1));
    }

    /// Three families of 33 bytes each ("# HELP fN h\n# TYPE fN gauge\nfN 1\n"
    /// is 12 + 16 + 5 bytes).
    fn three(w: &mut Writer<'_>) {
        for name in ["f1", "f2", "f3"] {
            w.gauge(name, "h", Value::Int(1));
        }
    }
    const FAMILY: usize = 33;

    #[test]
    fn a_piece_holds_whole_families_and_says_where_the_next_starts() {
        // Room for exactly two: the third goes in the next piece.
        let mut buf = [0u8; 2 * FAMILY];
        let (text, piece) = one_piece(&mut buf, three);
        assert_eq!(text.len(), 2 * FAMILY);
        assert!(text.ends_with("f2 1\n"));
        assert_eq!(piece.next, 2);
        // One byte short of two: one family.
        let mut buf = [0u8; 2 * FAMILY - 1];
        let (text, piece) = one_piece(&mut buf, three);
        assert_eq!((text.len(), piece.next), (FAMILY, 1));
        // The rest, from family 1 on.
        let mut buf = [0u8; 2 * FAMILY];
        let mut w = Writer::new(&mut buf, 1);
        three(&mut w);
        let piece = w.finish();
        assert_eq!(
            piece,
            Piece {
                len: 2 * FAMILY,
                next: 3
            }
        );
        assert!(buf.starts_with(b"# HELP f2 h\n"));
        // Past the last family: an empty piece, the stream's end.
        let mut w = Writer::new(&mut buf, 3);
        three(&mut w);
        assert_eq!(w.finish(), Piece { len: 0, next: 3 });
    }

    #[test]
    fn a_family_larger_than_a_whole_piece_is_left_out_with_a_comment() {
        let mut buf = [0u8; 80];
        let (text, piece) = one_piece(&mut buf, |w| {
            w.family(&["big"], "h", Kind::Gauge);
            for _ in 0..10 {
                w.sample("", &[("k", "vvvvvvvv")], Value::Int(1));
            }
            w.gauge("f2", "h", Value::Int(1));
        });
        assert_eq!(
            text,
            "# bedrock-metrics: big left out: larger than one piece\n"
        );
        assert_eq!(piece.next, 1, "f2 did not fit behind the comment");
        // At exactly the family's size it is written.
        let mut buf = [0u8; FAMILY];
        let (text, _) = one_piece(&mut buf, |w| w.gauge("f1", "h", Value::Int(1)));
        assert_eq!(text.len(), FAMILY);
    }
}
