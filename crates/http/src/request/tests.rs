//! Request-head parsing, every rule at and just past its limit, every
//! prefix of a good head partial.

use super::*;
use crate::limits::{MAX_HEADERS, MAX_HEAD_LEN, MAX_TARGET_LEN};

type Fields = (
    Method,
    String,
    String,
    Version,
    Vec<(String, Vec<u8>)>,
    usize,
);
type Parsed = Result<Status<Fields>, Error>;

fn parse_with(buf: &[u8], slots: usize, limits: &Limits) -> Parsed {
    let mut h = vec![Header::EMPTY; slots];
    parse_request(buf, &mut h, limits).map(|s| match s {
        Status::Complete((r, n)) => Status::Complete((
            r.method,
            r.method_str.to_string(),
            r.target.to_string(),
            r.version,
            r.headers
                .iter()
                .map(|h| (h.name_str().to_string(), h.value.to_vec()))
                .collect(),
            n,
        )),
        Status::Partial => Status::Partial,
    })
}

fn parse(buf: &[u8]) -> Parsed {
    parse_with(buf, 64, &Limits::default())
}

/// Parse complete input, and check every proper prefix is Partial.
fn complete(buf: &[u8]) -> Fields {
    for cut in 0..buf.len() {
        assert_eq!(
            parse(&buf[..cut]),
            Ok(Status::Partial),
            "prefix {cut} of {:?}",
            String::from_utf8_lossy(buf)
        );
    }
    match parse(buf) {
        Ok(Status::Complete(r)) => r,
        other => panic!("{other:?} for {:?}", String::from_utf8_lossy(buf)),
    }
}

/// The error for `buf`, which every longer input shares.
fn error(buf: &[u8]) -> Error {
    let e = parse(buf).expect_err("expected an error");
    let mut longer = buf.to_vec();
    longer.extend_from_slice(b"\r\nX: y\r\n\r\n");
    assert_eq!(
        parse(&longer),
        Err(e),
        "longer input, {:?}",
        String::from_utf8_lossy(buf)
    );
    e
}

#[test]
fn simple_get() {
    let r = complete(b"GET /index.html?a=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n");
    assert_eq!(r.0, Method::Get);
    assert_eq!(r.1, "GET");
    assert_eq!(r.2, "/index.html?a=1");
    assert_eq!(r.3, Version::Http11);
    assert_eq!(
        r.4,
        [
            ("Host".into(), b"example.com".to_vec()),
            ("Accept".into(), b"*/*".to_vec())
        ]
    );
    assert_eq!(r.5, 64);
}

#[test]
fn body_is_not_part_of_the_head() {
    let buf = b"POST / HTTP/1.0\r\nContent-Length: 4\r\n\r\nbody";
    assert_eq!(complete(&buf[..buf.len() - 4]).5, buf.len() - 4);
    match parse(buf) {
        Ok(Status::Complete(r)) => assert_eq!(r.5, buf.len() - 4),
        other => panic!("{other:?}"),
    }
}

#[test]
fn methods() {
    for (m, s) in [
        (Method::Get, "GET"),
        (Method::Head, "HEAD"),
        (Method::Post, "POST"),
        (Method::Put, "PUT"),
        (Method::Delete, "DELETE"),
        (Method::Options, "OPTIONS"),
        (Method::Patch, "PATCH"),
        (Method::Trace, "TRACE"),
    ] {
        let r = complete(format!("{s} / HTTP/1.1\r\n\r\n").as_bytes());
        assert_eq!((r.0, r.1.as_str()), (m, s));
        assert_eq!(m.as_str(), s);
        assert_eq!(Method::from_bytes(s.as_bytes()), m);
    }
    let r = complete(b"CONNECT example.com:443 HTTP/1.1\r\n\r\n");
    assert_eq!((r.0, r.2.as_str()), (Method::Connect, "example.com:443"));
    // GETS and POSTS share a prefix with the methods read by their
    // first bytes.
    for other in [
        "get",
        "PROPFIND",
        "M-SEARCH",
        "X!#$%&'*+-.^_`|~",
        "GETS",
        "POSTS",
    ] {
        let r = complete(format!("{other} / HTTP/1.1\r\n\r\n").as_bytes());
        assert_eq!((r.0, r.1.as_str()), (Method::Other, other));
    }
    assert_eq!(Method::Other.as_str(), "");
    let r = complete(b"\r\nPOST /x HTTP/1.1\r\n\r\n");
    assert_eq!((r.0, r.2.as_str(), r.5), (Method::Post, "/x", 22));
}

#[test]
fn bad_methods() {
    assert_eq!(error(b" / HTTP/1.1\r\n"), Error::BadMethod);
    assert_eq!(error(b"G(T / HTTP/1.1\r\n"), Error::BadMethod);
    assert_eq!(error(b"GET\t/ HTTP/1.1\r\n"), Error::BadMethod);
    assert_eq!(error(b"GE\xc3\xa9T / HTTP/1.1\r\n"), Error::BadMethod);
    assert_eq!(error(b"GET\r\n"), Error::BadMethod);
    assert_eq!(error(b"G:T / HTTP/1.1\r\n"), Error::BadMethod);
}

#[test]
fn targets() {
    for t in [
        "/",
        "*",
        "/a/b;c=d?x=%20&y=+!$&'()*,;=:@-._~[]",
        "http://example.com/x?y",
        "h2c+x.y-z:rest",
    ] {
        let m = if t == "*" { "OPTIONS" } else { "GET" };
        let r = complete(format!("{m} {t} HTTP/1.1\r\n\r\n").as_bytes());
        assert_eq!(r.2, t);
    }
    assert_eq!(error(b"GET  / HTTP/1.1\r\n"), Error::BadTarget);
    assert_eq!(error(b"GET * HTTP/1.1\r\n"), Error::BadTarget);
    assert_eq!(error(b"GET example.com HTTP/1.1\r\n"), Error::BadTarget);
    assert_eq!(error(b"GET 1http://x/ HTTP/1.1\r\n"), Error::BadTarget);
    assert_eq!(error(b"GET a/b:c HTTP/1.1\r\n"), Error::BadTarget);
    for bad in [
        &b"/a#frag"[..],
        b"/a\"b",
        b"/<",
        b"/>",
        b"/\\",
        b"/^",
        b"/`",
        b"/{",
        b"/|",
        b"/}",
        b"/\x7f",
        b"/\xc3\xa9",
        b"/\x00",
        b"/\t",
    ] {
        let mut req = b"GET ".to_vec();
        req.extend_from_slice(bad);
        req.extend_from_slice(b" HTTP/1.1\r\n\r\n");
        assert_eq!(parse(&req), Err(Error::BadTarget), "{bad:?}");
    }
    // HTTP/0.9 style: no version
    assert_eq!(error(b"GET /\r\n"), Error::BadRequestLine);
    assert_eq!(error(b"GET /\n"), Error::BadRequestLine);
}

#[test]
fn path_and_query() {
    let mut h = [Header::EMPTY; 4];
    let buf = b"GET /a/b?x=1&y=?z HTTP/1.1\r\nHost: h\r\nX: 1\r\nx: 2\r\n\r\n";
    let Ok(Status::Complete((r, _))) = parse_request(buf, &mut h, &Limits::default()) else {
        panic!()
    };
    assert_eq!(r.path(), "/a/b");
    assert_eq!(r.query(), Some("x=1&y=?z"));
    assert_eq!(r.header("HOST"), Some(&b"h"[..]));
    assert_eq!(r.header("x"), Some(&b"1"[..]));
    assert_eq!(r.header("missing"), None);
    assert_eq!(r.headers_named("X").collect::<Vec<_>>(), [b"1", b"2"]);
    let buf = b"GET /p? HTTP/1.1\r\n\r\n";
    let Ok(Status::Complete((r, _))) = parse_request(buf, &mut h, &Limits::default()) else {
        panic!()
    };
    assert_eq!((r.path(), r.query()), ("/p", Some("")));
    let buf = b"GET /p HTTP/1.1\r\n\r\n";
    let Ok(Status::Complete((r, _))) = parse_request(buf, &mut h, &Limits::default()) else {
        panic!()
    };
    assert_eq!((r.path(), r.query()), ("/p", None));
}

#[test]
fn versions() {
    assert_eq!(complete(b"GET / HTTP/1.0\r\n\r\n").3, Version::Http10);
    assert_eq!(Version::Http10.as_str(), "HTTP/1.0");
    assert_eq!(Version::Http11.as_str(), "HTTP/1.1");
    for v in ["HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTP/9.9", "HTTP/3.0"] {
        let req = format!("GET / {v}\r\n\r\n");
        assert_eq!(
            parse(req.as_bytes()),
            Err(Error::VersionNotSupported),
            "{v}"
        );
        // detected as soon as the CRLF is there, before the head ends
        assert_eq!(
            parse(&req.as_bytes()[..req.len() - 2]),
            Err(Error::VersionNotSupported),
            "{v}"
        );
    }
    for v in [
        "http/1.1",
        "HTTP/1",
        "HTTP/11",
        "HTTP/1.a",
        "HTTP 1.1",
        "HTTPS/1.1",
        "HTTP/1,1",
        "XTTP/1.1",
        "HTTP/1.1x",
    ] {
        let req = format!("GET / {v}\r\n\r\n");
        assert!(
            matches!(
                parse(req.as_bytes()),
                Err(Error::BadVersion | Error::BadRequestLine)
            ),
            "{v}"
        );
    }
    assert_eq!(error(b"GET / http"), Error::BadVersion);
    assert_eq!(error(b"GET / HTTP/1.1 \r\n"), Error::BadRequestLine);
    assert_eq!(error(b"GET / HTTP/1.1\n"), Error::BadRequestLine);
    assert_eq!(error(b"GET / HTTP/1.1\rX"), Error::BadRequestLine);
    assert_eq!(error(b"GET / HTTP/1.10"), Error::BadRequestLine);
}

#[test]
fn leading_empty_line() {
    let r = complete(b"\r\nGET / HTTP/1.1\r\n\r\n");
    assert_eq!((r.2.as_str(), r.5), ("/", 20));
    assert_eq!(
        parse(b"\r\n\r\nGET / HTTP/1.1\r\n\r\n"),
        Err(Error::BadMethod)
    );
    assert_eq!(
        parse(b"\nGET / HTTP/1.1\r\n\r\n"),
        Err(Error::BadRequestLine)
    );
    assert_eq!(
        parse(b"\rGET / HTTP/1.1\r\n\r\n"),
        Err(Error::BadRequestLine)
    );
}

#[test]
fn header_values() {
    let r = complete(b"GET / HTTP/1.1\r\nA:b\r\nB: \t spaced \t out \t \r\nC:\r\nD:   \r\nE: \xff\x80obs\tt\r\nF: \"q\" ~\r\n\r\n");
    let v: Vec<(&str, &[u8])> =
        r.4.iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
    assert_eq!(
        v,
        [
            ("A", &b"b"[..]),
            ("B", b"spaced \t out"),
            ("C", b""),
            ("D", b""),
            ("E", b"\xff\x80obs\tt"),
            ("F", b"\"q\" ~"),
        ]
    );
    for bad in [
        &b"X: a\x00b"[..],
        b"X: a\x01",
        b"X: a\x7fb",
        b"X: a\x1b[0m",
        b"X: a\rb",
        b"X: a\nY: b",
        b"X: \x0b",
    ] {
        let mut req = b"GET / HTTP/1.1\r\n".to_vec();
        req.extend_from_slice(bad);
        req.extend_from_slice(b"\r\n\r\n");
        assert_eq!(parse(&req), Err(Error::BadHeaderValue), "{bad:?}");
    }
    assert_eq!(error(b"GET / HTTP/1.1\r\nX: y\n"), Error::BadHeaderValue);
    assert_eq!(
        error(b"GET / HTTP/1.1\r\nX: y\r\n\n"),
        Error::BadHeaderValue
    );
    assert_eq!(
        error(b"GET / HTTP/1.1\r\nX: y\r\n\rZ"),
        Error::BadHeaderValue
    );
}

#[test]
fn header_names() {
    let r = complete(b"GET / HTTP/1.1\r\nx-!#$%&'*+.^_`|~9: 1\r\nhOsT: h\r\n\r\n");
    assert_eq!(r.4[0].0, "x-!#$%&'*+.^_`|~9");
    assert_eq!(r.4[1].0, "hOsT");
    // The name is the sent bytes; name_str is the same text.
    let mut h = [Header::EMPTY; 2];
    let buf = b"GET / HTTP/1.1\r\nContent-Length: 0\r\nx-Y: 1\r\n\r\n";
    let Ok(Status::Complete((req, _))) = parse_request(buf, &mut h, &Limits::default()) else {
        panic!("valid request")
    };
    assert_eq!(req.headers[0].name, b"Content-Length");
    assert_eq!(req.headers[1].name, b"x-Y");
    assert_eq!(req.headers[1].name_str(), "x-Y");
    for bad in [
        &b"X : y"[..],
        b"X\t: y",
        b": y",
        b"X(: y",
        b"X\"Y: z",
        b"X/Y: z",
        b"\xc3\xa9: y",
        b"X\x00: y",
        b"X y: z",
        b"X",
    ] {
        let mut req = b"GET / HTTP/1.1\r\n".to_vec();
        req.extend_from_slice(bad);
        req.extend_from_slice(b"\r\n\r\n");
        assert_eq!(
            parse(&req),
            Err(Error::BadHeaderName),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    // whitespace between the request line and the first field (RFC 9112 2.2)
    assert_eq!(error(b"GET / HTTP/1.1\r\n X: y\r\n"), Error::BadHeaderName);
    // obsolete line folding
    assert_eq!(
        error(b"GET / HTTP/1.1\r\nX: y\r\n z\r\n"),
        Error::ObsoleteLineFolding
    );
    assert_eq!(
        error(b"GET / HTTP/1.1\r\nX: y\r\n\tz\r\n"),
        Error::ObsoleteLineFolding
    );
}

#[test]
fn target_limit() {
    let limits = Limits {
        max_target_len: 10,
        ..Limits::default()
    };
    let at = b"GET /123456789 HTTP/1.1\r\n\r\n";
    assert!(matches!(
        parse_with(at, 8, &limits),
        Ok(Status::Complete(_))
    ));
    let past = b"GET /1234567890 HTTP/1.1\r\n\r\n";
    assert_eq!(parse_with(past, 8, &limits), Err(Error::UriTooLong));
    // detected while partial, before the space after the target arrives
    assert_eq!(parse_with(&past[..15], 8, &limits), Err(Error::UriTooLong));
    assert_eq!(parse_with(&past[..14], 8, &limits), Ok(Status::Partial));
    // the default
    let t = "/".repeat(MAX_TARGET_LEN);
    assert!(matches!(
        parse(format!("GET {t} HTTP/1.1\r\n\r\n").as_bytes()),
        Ok(Status::Complete(_))
    ));
    assert_eq!(
        parse(format!("GET {t}a HTTP/1.1\r\n\r\n").as_bytes()),
        Err(Error::UriTooLong)
    );
    assert_eq!(
        parse(format!("GET {t}a").as_bytes()),
        Err(Error::UriTooLong)
    );
    assert_eq!(Error::UriTooLong.status(), 414);
}

fn head_of_len(n: usize) -> Vec<u8> {
    // "GET / HTTP/1.1\r\n" (16) + "X: " (3) + value + "\r\n\r\n" (4)
    let mut v = b"GET / HTTP/1.1\r\nX: ".to_vec();
    v.resize(n - 4, b'v');
    v.extend_from_slice(b"\r\n\r\n");
    v
}

#[test]
fn head_limit() {
    let limits = Limits {
        max_head_len: 100,
        ..Limits::default()
    };
    let at = head_of_len(100);
    assert!(matches!(
        parse_with(&at, 8, &limits),
        Ok(Status::Complete((.., 100)))
    ));
    // a body after the head does not count
    let mut with_body = at.clone();
    with_body.extend_from_slice(&[b'b'; 50]);
    assert!(matches!(
        parse_with(&with_body, 8, &limits),
        Ok(Status::Complete((.., 100)))
    ));
    let past = head_of_len(101);
    assert_eq!(parse_with(&past, 8, &limits), Err(Error::HeadTooLarge));
    // while partial: 100 bytes of an unfinished head are fine, 101 are not
    assert_eq!(parse_with(&past[..100], 8, &limits), Ok(Status::Partial));
    assert_eq!(
        parse_with(&past[..101], 8, &limits),
        Err(Error::HeadTooLarge)
    );
    // the default
    assert!(matches!(
        parse(&head_of_len(MAX_HEAD_LEN)),
        Ok(Status::Complete(_))
    ));
    assert_eq!(
        parse(&head_of_len(MAX_HEAD_LEN + 1)),
        Err(Error::HeadTooLarge)
    );
    assert_eq!(
        parse(&head_of_len(MAX_HEAD_LEN + 1)[..MAX_HEAD_LEN + 1]),
        Err(Error::HeadTooLarge)
    );
    assert_eq!(Error::HeadTooLarge.status(), 431);
}

fn with_headers(n: usize) -> Vec<u8> {
    let mut v = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..n {
        v.extend_from_slice(format!("H{i}: {i}\r\n").as_bytes());
    }
    v.extend_from_slice(b"\r\n");
    v
}

#[test]
fn header_count_limit() {
    let limits = Limits {
        max_headers: 3,
        ..Limits::default()
    };
    assert!(matches!(
        parse_with(&with_headers(3), 10, &limits),
        Ok(Status::Complete(_))
    ));
    assert_eq!(
        parse_with(&with_headers(4), 10, &limits),
        Err(Error::TooManyHeaders)
    );
    // the slice caps it too
    assert!(matches!(
        parse_with(&with_headers(3), 3, &Limits::default()),
        Ok(Status::Complete(_))
    ));
    assert_eq!(
        parse_with(&with_headers(4), 3, &Limits::default()),
        Err(Error::TooManyHeaders)
    );
    assert!(matches!(
        parse_with(&with_headers(0), 0, &Limits::default()),
        Ok(Status::Complete(_))
    ));
    assert_eq!(
        parse_with(&with_headers(1), 0, &Limits::default()),
        Err(Error::TooManyHeaders)
    );
    // the default
    assert!(matches!(
        parse_with(&with_headers(MAX_HEADERS), 100, &Limits::default()),
        Ok(Status::Complete(_))
    ));
    assert_eq!(
        parse_with(&with_headers(MAX_HEADERS + 1), 100, &Limits::default()),
        Err(Error::TooManyHeaders)
    );
    assert_eq!(Error::TooManyHeaders.status(), 431);
}

#[test]
fn head_end_search() {
    let req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY\r\n\r\n";
    assert_eq!(find_head_end(req, 0), Some(27));
    // fed byte by byte, resuming where the last call stopped
    let mut scanned = 0;
    let mut found = None;
    for n in 0..=req.len() {
        if let Some(end) = find_head_end(&req[..n], scanned) {
            found = Some((n, end));
            break;
        }
        scanned = n;
    }
    assert_eq!(found, Some((27, 27)));
    assert_eq!(find_head_end(b"\r\nGET / HTTP/1.1\r\n\r\n", 0), Some(20));
    assert_eq!(find_head_end(b"\r\n\r\n", 0), None);
    assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n\r", 0), None);
    assert_eq!(find_head_end(b"", 0), None);
    assert_eq!(find_head_end(b"ab", 100), None);
    assert_eq!(find_head_end(b"ab", usize::MAX), None);
    // agrees with parse_request
    for buf in [
        &req[..],
        b"\r\nGET / HTTP/1.1\r\nA: b\r\n\r\n",
        &head_of_len(300),
    ] {
        let mut h = [Header::EMPTY; 8];
        let Ok(Status::Complete((_, n))) = parse_request(buf, &mut h, &Limits::default()) else {
            panic!()
        };
        assert_eq!(find_head_end(buf, 0), Some(n));
    }
}

#[test]
fn partial_everywhere_and_never_panics() {
    let req: &[u8] =
        b"\r\nPOST /a?b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nX:\t v \r\n\r\nabc";
    let r = complete(&req[..req.len() - 3]);
    assert_eq!(r.5, req.len() - 3);
    // corrupt each byte in turn: must not panic, and errors are stable
    for i in 0..req.len() {
        for b in [0u8, b'\r', b'\n', b' ', b':', 0xff, b'a'] {
            let mut v = req.to_vec();
            v[i] = b;
            let _ = parse(&v);
            let _ = parse_with(
                &v,
                1,
                &Limits {
                    max_target_len: 2,
                    max_head_len: 20,
                    ..Limits::default()
                },
            );
        }
    }
}
