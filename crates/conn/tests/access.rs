//! The access-log line in both formats: the fields of a known request,
//! escaping of hostile bytes (a line stays one line with its own fields),
//! targets and methods cut at their limits, the longest line.

use bedrock_conn::{
    AccessLine, LogFormat, LogRecord, Peer, Stamp, MAX_LINE, MAX_LOGGED_METHOD, MAX_LOGGED_PATH,
};
use serde_json::Value;

/// 2023-11-14T22:13:20.123Z.
const UNIX_MS: u64 = 1_700_000_000_123;
const PEER: Peer = Peer {
    ip: [127, 0, 0, 1],
    port: 51234,
};
const KEYS: [&str; 7] = [
    "time",
    "peer",
    "method",
    "path",
    "status",
    "bytes",
    "duration_us",
];

fn line<'a>(method: &'a [u8], path: &'a [u8]) -> AccessLine<'a> {
    AccessLine {
        stamp: Stamp::Utc { unix_ms: UNIX_MS },
        peer: Some(PEER),
        method,
        path,
        status: 200,
        bytes: 12,
        duration_us: 87,
    }
}

fn written(l: &AccessLine<'_>, format: LogFormat) -> Vec<u8> {
    let mut out = [0u8; MAX_LINE];
    let n = l.write(format, &mut out).expect("fits in MAX_LINE");
    out[..n].to_vec()
}

/// A logfmt line parsed: (key, value bytes) in order, with `\"`, `\\`,
/// `\n`, `\r`, `\t` and `\xHH` undone in quoted values.
fn parse_logfmt(line: &[u8]) -> Vec<(String, Vec<u8>)> {
    let line = line.strip_suffix(b"\n").expect("ends in a newline");
    let mut fields = Vec::new();
    let mut i = 0;
    while i < line.len() {
        let eq = i + line[i..].iter().position(|&b| b == b'=').expect("key=");
        let key = String::from_utf8(line[i..eq].to_vec()).unwrap();
        assert!(
            !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "{key:?}"
        );
        i = eq + 1;
        let mut value = Vec::new();
        if line.get(i) == Some(&b'"') {
            i += 1;
            loop {
                match line[i] {
                    b'"' => break,
                    b'\\' => {
                        i += 1;
                        match line[i] {
                            b'n' => value.push(b'\n'),
                            b'r' => value.push(b'\r'),
                            b't' => value.push(b'\t'),
                            b'x' => {
                                let hex = std::str::from_utf8(&line[i + 1..i + 3]).unwrap();
                                value.push(u8::from_str_radix(hex, 16).unwrap());
                                i += 2;
                            }
                            other => value.push(other),
                        }
                    }
                    b => value.push(b),
                }
                i += 1;
            }
            i += 1;
        } else {
            while i < line.len() && line[i] != b' ' {
                value.push(line[i]);
                i += 1;
            }
        }
        fields.push((key, value));
        if i < line.len() {
            assert_eq!(line[i], b' ', "fields are separated by one space");
            i += 1;
        }
    }
    fields
}

fn get<'f>(fields: &'f [(String, Vec<u8>)], key: &str) -> &'f [u8] {
    &fields.iter().find(|(k, _)| k == key).unwrap().1
}

fn keys(fields: &[(String, Vec<u8>)]) -> Vec<&str> {
    fields.iter().map(|(k, _)| k.as_str()).collect()
}

/// A JSON line parsed, and a string field's bytes (one char per byte).
fn parse_json(line: &[u8]) -> serde_json::Map<String, Value> {
    let text = std::str::from_utf8(line.strip_suffix(b"\n").unwrap()).expect("ASCII");
    match serde_json::from_str(text).unwrap() {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn json_bytes(v: &Value) -> Vec<u8> {
    v.as_str()
        .unwrap()
        .chars()
        .map(|c| u8::try_from(u32::from(c)).expect("U+0000..U+00FF"))
        .collect()
}

/// Exactly one line, of printable ASCII and spaces.
fn one_clean_line(line: &[u8]) {
    assert_eq!(line.last(), Some(&b'\n'));
    let body = &line[..line.len() - 1];
    assert!(
        body.iter().all(|&b| b == b' ' || b.is_ascii_graphic()),
        "{}",
        String::from_utf8_lossy(line)
    );
}

#[test]
fn a_known_request_in_both_formats() {
    let record = LogRecord {
        method: "GET",
        target: "/hello.txt",
        status: 200,
        bytes: 12,
        micros: 87,
    };
    let l = AccessLine::new(&record, Stamp::Utc { unix_ms: UNIX_MS }, Some(PEER));
    assert_eq!(
        String::from_utf8(written(&l, LogFormat::Logfmt)).unwrap(),
        "time=2023-11-14T22:13:20.123Z peer=127.0.0.1:51234 method=GET path=/hello.txt \
         status=200 bytes=12 duration_us=87\n"
    );
    assert_eq!(
        String::from_utf8(written(&l, LogFormat::Json)).unwrap(),
        "{\"time\":\"2023-11-14T22:13:20.123Z\",\"peer\":\"127.0.0.1:51234\",\"method\":\"GET\",\
         \"path\":\"/hello.txt\",\"status\":200,\"bytes\":12,\"duration_us\":87}\n"
    );
    let j = parse_json(&written(&l, LogFormat::Json));
    assert_eq!(j.keys().cloned().collect::<Vec<_>>().len(), 7);
    assert_eq!(j["status"], 200);
    assert_eq!(j["bytes"], 12);
    assert_eq!(j["duration_us"], 87);
}

#[test]
fn without_a_clock_or_a_peer() {
    let l = AccessLine {
        stamp: Stamp::SinceBoot { micros: 1_234_567 },
        peer: None,
        ..line(b"-", b"-")
    };
    assert_eq!(
        String::from_utf8(written(&l, LogFormat::Logfmt)).unwrap(),
        "uptime_us=1234567 peer=- method=- path=- status=200 bytes=12 duration_us=87\n"
    );
    let j = parse_json(&written(&l, LogFormat::Json));
    assert_eq!(j["uptime_us"], 1_234_567);
    assert_eq!(j["peer"], "-");
    assert!(!j.contains_key("time"));
}

#[test]
fn hostile_targets_stay_one_line_with_their_own_fields() {
    let hostile: [&[u8]; 12] = [
        b"/a\nstatus=500 peer=6.6.6.6:6",
        b"/a\r\n{\"status\":500}",
        b"/a\" status=\"500",
        b"/a\\\" status=500",
        b"/a\\",
        b"/a=b",
        b"/a b",
        b"/\xff\xfe\x80 not utf-8",
        b"/\x00\x01\x1b[31m\x7f",
        b"/tab\there",
        b"",
        b"\"",
    ];
    for path in hostile {
        let l = line(b"GET", path);
        let text = written(&l, LogFormat::Logfmt);
        one_clean_line(&text);
        let fields = parse_logfmt(&text);
        assert_eq!(keys(&fields), KEYS, "{}", String::from_utf8_lossy(&text));
        assert_eq!(
            get(&fields, "path"),
            path,
            "{}",
            String::from_utf8_lossy(&text)
        );
        assert_eq!(get(&fields, "status"), b"200");
        assert_eq!(get(&fields, "peer"), b"127.0.0.1:51234");

        let text = written(&l, LogFormat::Json);
        one_clean_line(&text);
        let j = parse_json(&text);
        assert_eq!(j.keys().cloned().collect::<Vec<_>>().len(), 7);
        assert_eq!(
            json_bytes(&j["path"]),
            path,
            "{}",
            String::from_utf8_lossy(&text)
        );
        assert_eq!(j["status"], 200);
    }
}

#[test]
fn logfmt_quotes_only_what_needs_it() {
    let cases: [(&[u8], &str); 7] = [
        (b"/plain/path?x-y.z~_!", "path=/plain/path?x-y.z~_!"),
        (b"/a b", "path=\"/a b\""),
        (b"/a=b", "path=\"/a=b\""),
        (b"/a\"b", "path=\"/a\\\"b\""),
        (b"/a\\b", "path=\"/a\\\\b\""),
        (b"/a\nb\xff", "path=\"/a\\nb\\xff\""),
        (b"", "path=\"\""),
    ];
    for (path, want) in cases {
        let text = String::from_utf8(written(&line(b"GET", path), LogFormat::Logfmt)).unwrap();
        assert!(text.contains(&format!(" {want} ")), "{text}");
    }
    let text = String::from_utf8(written(&line(b"GET", b"/\x01\xff"), LogFormat::Json)).unwrap();
    assert!(text.contains("\"path\":\"/\\u0001\\u00ff\""), "{text}");
}

#[test]
fn targets_and_methods_are_cut_at_their_limits() {
    for (len, cut) in [(MAX_LOGGED_PATH, false), (MAX_LOGGED_PATH + 1, true)] {
        let path = vec![b'p'; len];
        let l = line(b"GET", &path);
        let fields = parse_logfmt(&written(&l, LogFormat::Logfmt));
        assert_eq!(get(&fields, "path").len(), MAX_LOGGED_PATH.min(len));
        let flag = fields
            .iter()
            .any(|(k, v)| k == "path_truncated" && v == b"true");
        assert_eq!(flag, cut, "{len}");
        let j = parse_json(&written(&l, LogFormat::Json));
        assert_eq!(json_bytes(&j["path"]).len(), MAX_LOGGED_PATH.min(len));
        assert_eq!(j.get("path_truncated") == Some(&Value::Bool(true)), cut);
    }
    for (len, cut) in [(MAX_LOGGED_METHOD, false), (MAX_LOGGED_METHOD + 1, true)] {
        let method = vec![b'M'; len];
        let l = line(&method, b"/");
        let fields = parse_logfmt(&written(&l, LogFormat::Logfmt));
        assert_eq!(get(&fields, "method").len(), MAX_LOGGED_METHOD.min(len));
        let flag = fields.iter().any(|(k, _)| k == "method_truncated");
        assert_eq!(flag, cut, "{len}");
        let j = parse_json(&written(&l, LogFormat::Json));
        assert_eq!(j.get("method_truncated") == Some(&Value::Bool(true)), cut);
    }
}

#[test]
fn the_longest_line_fits_max_line_and_a_shorter_buffer_is_refused() {
    // Every byte escaped at its longest, every number at its longest.
    let path = vec![0x01; MAX_LOGGED_PATH + 100];
    let method = vec![0xff; MAX_LOGGED_METHOD + 100];
    for stamp in [
        Stamp::Utc { unix_ms: u64::MAX },
        Stamp::SinceBoot { micros: u64::MAX },
    ] {
        let l = AccessLine {
            stamp,
            peer: Some(Peer {
                ip: [255; 4],
                port: u16::MAX,
            }),
            method: &method,
            path: &path,
            status: u16::MAX,
            bytes: u64::MAX,
            duration_us: u64::MAX,
        };
        for format in [LogFormat::Logfmt, LogFormat::Json] {
            let mut out = vec![0u8; MAX_LINE];
            let n = l.write(format, &mut out).expect("the longest line fits");
            println!("{format:?}: longest line {n} of {MAX_LINE} bytes");
            one_clean_line(&out[..n]);
            // A buffer one byte short of the line holds none of it.
            let mut short = vec![0u8; n - 1];
            assert_eq!(l.write(format, &mut short), None);
        }
    }
}

#[test]
fn format_names() {
    assert_eq!(LogFormat::from_name(b"logfmt"), Some(LogFormat::Logfmt));
    assert_eq!(LogFormat::from_name(b"json"), Some(LogFormat::Json));
    for bad in [&b"JSON"[..], b"", b"bogus", b"logfmt "] {
        assert_eq!(LogFormat::from_name(bad), None);
    }
}
