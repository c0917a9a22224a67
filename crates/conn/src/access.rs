//! The access log's line, written once for both servers: one line per
//! answered request, in one of two structured formats.
//!
//! **logfmt** (the default) is `key=value` pairs separated by spaces:
//!
//! ```text
//! time=2026-11-06T08:49:37.042Z peer=127.0.0.1:51234 method=GET path=/hello.txt status=200 bytes=12 duration_us=87
//! ```
//!
//! **JSON** is one object per line with the same keys, numbers as numbers:
//!
//! ```text
//! {"time":"2026-11-06T08:49:37.042Z","peer":"127.0.0.1:51234","method":"GET","path":"/hello.txt","status":200,"bytes":12,"duration_us":87}
//! ```
//!
//! The keys, in this order: `time` (RFC 3339 UTC with milliseconds, RFC
//! 3339 section 5.6) on a host with a wall clock, or `uptime_us`
//! (microseconds since boot) on one without (the unikernel); `peer` (the
//! client's `ip:port`, `-` when unknown); `method` and `path` (the
//! request method and target as sent, `-` when the request line could
//! not be read); `path_truncated=true` only when the target was longer
//! than [`MAX_LOGGED_PATH`] bytes and is cut there (likewise
//! `method_truncated` past [`MAX_LOGGED_METHOD`]); `status`; `bytes` (of
//! body the reply's head announces, see [`crate::LogRecord`]);
//! `duration_us` (from the request's first byte to its reply).
//!
//! Whatever the bytes of a method or target, a line stays one line with
//! these fields only, and every byte outside printable ASCII is escaped:
//! in logfmt a value holding a space, `=`, `"`, `\` or such a byte (or
//! empty) is quoted, with `\"`, `\\`, `\n`, `\r`, `\t` and `\xHH` for the
//! other bytes; in JSON strings are escaped as RFC 8259 section 7 says,
//! and every byte outside printable ASCII is written `\u00HH` (so a
//! decoder gets one character U+0000..U+00FF per byte: non-UTF-8 targets
//! survive, read as Latin-1).
//!
//! Why logfmt by default: a line is as readable on a terminal or the
//! unikernel's console as the old space-separated one, grep and `cut`
//! still work, it is shorter than JSON (the console costs per byte), and
//! log tools read it as it is (Loki's `| logfmt`, Vector, Promtail, Go's
//! logfmt). JSON is for pipelines that want typed fields (Elasticsearch,
//! Cloud Logging, `jq`).

use crate::conn::LogRecord;

/// Bytes of a request target written to the log; a longer one is cut
/// there and the line says `path_truncated=true`.
pub const MAX_LOGGED_PATH: usize = 512;
/// Bytes of a request method written to the log (the parser takes any
/// token as a method); past it, `method_truncated=true`.
pub const MAX_LOGGED_METHOD: usize = 32;
/// The longest a byte of a value becomes once escaped (JSON's `\u00HH`).
const MAX_ESCAPE: usize = 6;
/// Room for everything but the method and target: keys, quotes, the
/// time, peer and numbers at their longest, both truncation flags and
/// the line end (checked by the tests, which write the longest line).
const FIXED_PART: usize = 240;
/// The longest line either format writes: a buffer this long always
/// holds a whole line.
pub const MAX_LINE: usize = FIXED_PART + MAX_ESCAPE * (MAX_LOGGED_PATH + MAX_LOGGED_METHOD);

/// How access-log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// `key=value` pairs (the default).
    Logfmt,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// The format called `name` (`logfmt`, `json`).
    pub fn from_name(name: &[u8]) -> Option<LogFormat> {
        match name {
            b"logfmt" => Some(LogFormat::Logfmt),
            b"json" => Some(LogFormat::Json),
            _ => None,
        }
    }
}

/// When a request was answered, as its host can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    /// Milliseconds since the Unix epoch (a host with a wall clock):
    /// the `time` field.
    Utc {
        /// Milliseconds since 1970-01-01T00:00:00Z.
        unix_ms: u64,
    },
    /// Microseconds since boot (the unikernel has no wall clock): the
    /// `uptime_us` field.
    SinceBoot {
        /// Microseconds since boot.
        micros: u64,
    },
}

/// A client's IPv4 address and port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peer {
    /// The address, in network order (`[127, 0, 0, 1]`).
    pub ip: [u8; 4],
    /// The port.
    pub port: u16,
}

/// One access-log line's facts.
#[derive(Clone, Copy, Debug)]
pub struct AccessLine<'a> {
    /// When it was answered.
    pub stamp: Stamp,
    /// The client (`None`: written `-`).
    pub peer: Option<Peer>,
    /// The request method, any bytes (cut at [`MAX_LOGGED_METHOD`]).
    pub method: &'a [u8],
    /// The request target, any bytes (cut at [`MAX_LOGGED_PATH`]).
    pub path: &'a [u8],
    /// The reply's status.
    pub status: u16,
    /// Body bytes the reply announced.
    pub bytes: u64,
    /// Microseconds from the request's first byte to its reply.
    pub duration_us: u64,
}

impl<'a> AccessLine<'a> {
    /// The line of a request the connection engine answered.
    pub fn new(record: &LogRecord<'a>, stamp: Stamp, peer: Option<Peer>) -> Self {
        AccessLine {
            stamp,
            peer,
            method: record.method.as_bytes(),
            path: record.target.as_bytes(),
            status: record.status,
            bytes: record.bytes,
            duration_us: record.micros,
        }
    }

    /// Writes the line, its `\n` included, at the start of `out` and
    /// returns its length; `None` (and `out` holds no usable line) when
    /// `out` is too short, which it never is at [`MAX_LINE`] bytes.
    pub fn write(&self, format: LogFormat, out: &mut [u8]) -> Option<usize> {
        let (method, method_cut) = cut(self.method, MAX_LOGGED_METHOD);
        let (path, path_cut) = cut(self.path, MAX_LOGGED_PATH);
        let stamp = match self.stamp {
            Stamp::Utc { unix_ms } => (&b"time"[..], Value::Time(unix_ms)),
            Stamp::SinceBoot { micros } => (&b"uptime_us"[..], Value::Num(micros)),
        };
        let fields: [Option<(&[u8], Value<'_>)>; 9] = [
            Some(stamp),
            Some((b"peer", Value::Peer(self.peer))),
            Some((b"method", Value::Text(method))),
            method_cut.then_some((b"method_truncated", Value::True)),
            Some((b"path", Value::Text(path))),
            path_cut.then_some((b"path_truncated", Value::True)),
            Some((b"status", Value::Num(u64::from(self.status)))),
            Some((b"bytes", Value::Num(self.bytes))),
            Some((b"duration_us", Value::Num(self.duration_us))),
        ];
        let syntax = Syntax::of(format);
        let mut w = Writer {
            out,
            len: 0,
            full: false,
        };
        w.bytes(syntax.start);
        for (i, (key, value)) in fields.iter().flatten().enumerate() {
            if i > 0 {
                w.bytes(syntax.between);
            }
            w.bytes(syntax.key_open).bytes(key).bytes(syntax.key_close);
            w.value(format, value);
        }
        w.bytes(syntax.end).bytes(b"\n");
        (!w.full).then_some(w.len)
    }
}

/// A field's value.
enum Value<'a> {
    Num(u64),
    /// Milliseconds since the Unix epoch, written as RFC 3339.
    Time(u64),
    Peer(Option<Peer>),
    /// Any bytes, escaped as the format says.
    Text(&'a [u8]),
    True,
}

/// What surrounds the fields and their keys in a format.
struct Syntax {
    start: &'static [u8],
    between: &'static [u8],
    end: &'static [u8],
    key_open: &'static [u8],
    key_close: &'static [u8],
}

impl Syntax {
    const fn of(format: LogFormat) -> Syntax {
        match format {
            LogFormat::Logfmt => Syntax {
                start: b"",
                between: b" ",
                end: b"",
                key_open: b"",
                key_close: b"=",
            },
            LogFormat::Json => Syntax {
                start: b"{",
                between: b",",
                end: b"}",
                key_open: b"\"",
                key_close: b"\":",
            },
        }
    }
}

/// `value` cut to `limit` bytes, and whether it was.
fn cut(value: &[u8], limit: usize) -> (&[u8], bool) {
    (&value[..value.len().min(limit)], value.len() > limit)
}

/// A bounded writer: what does not fit is dropped and remembered.
struct Writer<'o> {
    out: &'o mut [u8],
    len: usize,
    full: bool,
}

impl Writer<'_> {
    fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        match self.out.get_mut(self.len..self.len + bytes.len()) {
            Some(room) => {
                room.copy_from_slice(bytes);
                self.len += bytes.len();
            }
            None => self.full = true,
        }
        self
    }

    /// `value` as `format` writes it: JSON quotes every string (time,
    /// peer, text), logfmt only text that needs it.
    fn value(&mut self, format: LogFormat, value: &Value<'_>) {
        let json = format == LogFormat::Json;
        let quoted = json && matches!(value, Value::Time(_) | Value::Peer(_) | Value::Text(_));
        if quoted {
            self.bytes(b"\"");
        }
        match *value {
            Value::Num(n) => {
                self.num(n);
            }
            Value::Time(ms) => {
                self.time(ms);
            }
            Value::Peer(p) => {
                self.peer(p);
            }
            Value::True => {
                self.bytes(b"true");
            }
            Value::Text(t) if json => self.escaped(t, b"\\u00"),
            Value::Text(t) => self.logfmt_value(t),
        }
        if quoted {
            self.bytes(b"\"");
        }
    }

    fn num(&mut self, v: u64) -> &mut Self {
        let mut digits = [0u8; 20];
        let n = bedrock_http::write_decimal(v, &mut digits).unwrap_or(0);
        self.bytes(&digits[..n])
    }

    fn time(&mut self, unix_ms: u64) -> &mut Self {
        let mut stamp = [0u8; 24];
        bedrock_http::format_rfc3339_millis(unix_ms, &mut stamp);
        self.bytes(&stamp)
    }

    fn peer(&mut self, peer: Option<Peer>) -> &mut Self {
        let Some(p) = peer else {
            return self.bytes(b"-");
        };
        for (i, octet) in p.ip.iter().enumerate() {
            if i > 0 {
                self.bytes(b".");
            }
            self.num(u64::from(*octet));
        }
        self.bytes(b":").num(u64::from(p.port))
    }

    /// `value` with `"`, `\`, `\n`, `\r` and `\t` escaped by a
    /// backslash and every other byte outside printable ASCII as `hex`
    /// and two hex digits: the inside of a quoted logfmt value (`\x`) or
    /// of a JSON string (`\u00`, RFC 8259 section 7).
    fn escaped(&mut self, value: &[u8], hex: &[u8]) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for &b in value {
            match b {
                b'"' => self.bytes(b"\\\""),
                b'\\' => self.bytes(b"\\\\"),
                b'\n' => self.bytes(b"\\n"),
                b'\r' => self.bytes(b"\\r"),
                b'\t' => self.bytes(b"\\t"),
                b' ' => self.bytes(b" "),
                b if b.is_ascii_graphic() => self.bytes(&[b]),
                b => self
                    .bytes(hex)
                    .bytes(&[DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]]),
            };
        }
    }

    /// A logfmt value: bare when it is printable ASCII without `"`, `\`
    /// or `=` (and not empty), else quoted and escaped.
    fn logfmt_value(&mut self, value: &[u8]) {
        let bare = !value.is_empty()
            && value
                .iter()
                .all(|&b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\\' | b'='));
        if bare {
            self.bytes(value);
        } else {
            self.bytes(b"\"");
            self.escaped(value, b"\\x");
            self.bytes(b"\"");
        }
    }
}
