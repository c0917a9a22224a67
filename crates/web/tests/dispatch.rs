//! The framework end to end on the host: parse a request with bedrock-http,
//! dispatch it through a small app, write the head, and check the bytes.

use bedrock_http::Version;
use bedrock_web::{
    route, testing, Ctx, HeadOptions, Outcome, Reject, Reply, Route, Service, Stream,
    MAX_REPLY_HEADERS, REPLY_HEADER_BYTES,
};

#[derive(Default)]
struct Notes {
    count: u64,
    calls: u32,
}

route! {
    GET "/" as HOME;
    fn home(app: &mut Notes, _cx: &mut Ctx<'_>) -> Outcome {
        app.calls += 1;
        Ok(Reply::fixed(200, "text/plain", b"home\n"))
    }
}

route! {
    GET "/notes/{id}" as GET_NOTE;
    fn get_note(app: &mut Notes, cx: &mut Ctx<'_>) -> Outcome {
        app.calls += 1;
        let id: u64 = cx.param("id")?;
        if id > app.count {
            return Err(Reject::new(404, "no such note"));
        }
        let text = b"note ";
        cx.out[..text.len()].copy_from_slice(text);
        let n = text.len() + write_u64(id, &mut cx.out[text.len()..]);
        Ok(Reply::out(200, "text/plain", n).header("X-Note", b"yes"))
    }
}

route! {
    DELETE "/notes/{id}" as DELETE_NOTE;
    fn delete_note(app: &mut Notes, cx: &mut Ctx<'_>) -> Outcome {
        let _: u64 = cx.param("id")?;
        app.count = app.count.saturating_sub(1);
        Ok(Reply::no_content())
    }
}

route! {
    POST "/notes" as ADD_NOTE;
    fn add_note(app: &mut Notes, cx: &mut Ctx<'_>) -> Outcome {
        if cx.body.is_empty() {
            return Err(Reject::new(400, "empty note"));
        }
        app.count += 1;
        let by = cx.query("by").unwrap_or("nobody");
        cx.out[..by.len()].copy_from_slice(by.as_bytes());
        Ok(Reply::out(201, "text/plain", by.len()))
    }
}

route! {
    GET "/pair/{a}/{b}" as PAIR;
    fn pair(_app: &mut Notes, cx: &mut Ctx<'_>) -> Outcome {
        let a: &str = cx.param("a")?;
        let b: &str = cx.param("b")?;
        let n = a.len() + b.len() + 1;
        cx.out[..a.len()].copy_from_slice(a.as_bytes());
        cx.out[a.len()] = b'+';
        cx.out[a.len() + 1..n].copy_from_slice(b.as_bytes());
        Ok(Reply::out(200, "text/plain", n))
    }
}

route! {
    GET "/count" as COUNT;
    fn count(_app: &mut Notes, _cx: &mut Ctx<'_>) -> Outcome {
        Ok(Reply::stream(200, "text/plain", Stream::new(1, 0)))
    }
}

route! {
    GET "/too-many-headers" as TOO_MANY_HEADERS;
    fn too_many_headers(_app: &mut Notes, _cx: &mut Ctx<'_>) -> Outcome {
        let mut reply = Reply::no_content();
        for _ in 0..=MAX_REPLY_HEADERS {
            reply = reply.header("X-A", b"1");
        }
        Ok(reply)
    }
}

route! {
    GET "/header-injection" as HEADER_INJECTION;
    fn header_injection(_app: &mut Notes, _cx: &mut Ctx<'_>) -> Outcome {
        Ok(Reply::no_content().header("X-A", b"1\r\nSet-Cookie: x"))
    }
}

fn write_u64(v: u64, out: &mut [u8]) -> usize {
    bedrock_http::write_decimal(v, out).unwrap()
}

/// Notes are not kept across restarts.
impl bedrock_web::Persist for Notes {}

impl Service for Notes {
    const ROUTES: &'static [Route<Self>] = &[
        HOME,
        GET_NOTE,
        DELETE_NOTE,
        ADD_NOTE,
        PAIR,
        COUNT,
        TOO_MANY_HEADERS,
        HEADER_INJECTION,
    ];

    fn stream(&mut self, stream: &mut Stream, out: &mut [u8]) -> usize {
        // Counts 0..3, one digit per piece.
        if stream.kind != 1 || stream.cursor == 3 {
            return 0;
        }
        out[0] = b'0' + stream.cursor as u8;
        stream.cursor += 1;
        1
    }
}

/// The reply to a raw request, as (status, head text, body bytes).
fn serve(app: &mut Notes, raw: &str) -> (u16, String, Vec<u8>) {
    let exchange = testing::serve(app, raw.as_bytes()).expect("test request parses");
    (exchange.status, exchange.head, exchange.body)
}

fn get(app: &mut Notes, method: &str, target: &str) -> (u16, String, Vec<u8>) {
    serve(
        app,
        &format!("{method} {target} HTTP/1.1\r\nHost: x\r\n\r\n"),
    )
}

#[test]
fn literal_route() {
    let mut app = Notes::default();
    let (status, head, body) = get(&mut app, "GET", "/");
    assert_eq!(status, 200);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("Content-Length: 5\r\n"), "{head}");
    assert!(head.contains("Content-Type: text/plain\r\n"), "{head}");
    assert_eq!(body, b"home\n");
}

#[test]
fn typed_parameter_and_extra_header() {
    let mut app = Notes {
        count: 10,
        ..Notes::default()
    };
    let (status, head, body) = get(&mut app, "GET", "/notes/7");
    assert_eq!(status, 200);
    assert_eq!(body, b"note 7");
    assert!(head.contains("X-Note: yes\r\n"), "{head}");
    assert!(head.contains("Content-Length: 6\r\n"), "{head}");
}

#[test]
fn non_numeric_parameter_is_400() {
    let mut app = Notes::default();
    for target in [
        "/notes/abc",
        "/notes/-1",
        "/notes/1x",
        "/notes/99999999999999999999",
    ] {
        let (status, _, body) = get(&mut app, "GET", target);
        assert_eq!(status, 400, "{target}");
        assert_eq!(body, b"invalid path parameter\n");
    }
}

#[test]
fn handler_reject_is_rendered() {
    let mut app = Notes::default();
    let (status, head, body) = get(&mut app, "GET", "/notes/3");
    assert_eq!(status, 404);
    assert!(head.starts_with("HTTP/1.1 404 Not Found\r\n"));
    assert_eq!(body, b"no such note\n");
}

#[test]
fn unknown_path_is_404() {
    let mut app = Notes::default();
    for target in ["/nope", "/notes/", "/notes/1/2", "//"] {
        let (status, _, _) = get(&mut app, "GET", target);
        assert_eq!(status, 404, "{target}");
    }
}

#[test]
fn wrong_method_is_405_with_allow() {
    let mut app = Notes::default();
    let (status, head, _) = get(&mut app, "PUT", "/notes/1");
    assert_eq!(status, 405);
    assert!(
        head.contains("Allow: GET, HEAD, DELETE, OPTIONS\r\n"),
        "{head}"
    );
    let (status, head, _) = get(&mut app, "GET", "/notes");
    assert_eq!(status, 405);
    assert!(head.contains("Allow: POST, OPTIONS\r\n"), "{head}");
}

#[test]
fn unknown_method_is_501() {
    let mut app = Notes::default();
    let (status, _, _) = get(&mut app, "BREW", "/");
    assert_eq!(status, 501);
}

#[test]
fn head_runs_get_without_body() {
    let mut app = Notes {
        count: 10,
        ..Notes::default()
    };
    let (status, head, body) = get(&mut app, "HEAD", "/notes/7");
    assert_eq!(status, 200);
    assert!(head.contains("Content-Length: 6\r\n"), "{head}");
    assert!(body.is_empty());
    assert_eq!(app.calls, 1, "HEAD ran the GET handler once");
}

#[test]
fn options_lists_allowed_methods() {
    let mut app = Notes::default();
    let (status, head, body) = get(&mut app, "OPTIONS", "/notes/1");
    assert_eq!(status, 204);
    assert!(
        head.contains("Allow: GET, HEAD, DELETE, OPTIONS\r\n"),
        "{head}"
    );
    assert!(
        !head.contains("Content-Length"),
        "204 carries no length: {head}"
    );
    assert!(body.is_empty());
    let (status, head, _) = get(&mut app, "OPTIONS", "*");
    assert_eq!(status, 204);
    assert!(
        head.contains("Allow: GET, HEAD, POST, DELETE, OPTIONS\r\n"),
        "{head}"
    );
    let (status, _, _) = get(&mut app, "OPTIONS", "/nope");
    assert_eq!(status, 404);
    // The parser already refuses '*' for anything but OPTIONS.
    let refused = testing::serve(&mut app, b"GET * HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(refused.err(), Some(400));
}

#[test]
fn several_parameters() {
    let mut app = Notes::default();
    let (status, _, body) = get(&mut app, "GET", "/pair/left/right");
    assert_eq!(status, 200);
    assert_eq!(body, b"left+right");
}

#[test]
fn body_and_query_reach_the_handler() {
    let mut app = Notes::default();
    let raw = "POST /notes?by=ann&x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi";
    let (status, head, body) = serve(&mut app, raw);
    assert_eq!(status, 201);
    assert!(head.starts_with("HTTP/1.1 201 Created\r\n"));
    assert_eq!(body, b"ann");
    assert_eq!(app.count, 1);
    let raw = "POST /notes HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
    let (status, _, body) = serve(&mut app, raw);
    assert_eq!(status, 400);
    assert_eq!(body, b"empty note\n");
}

#[test]
fn absolute_form_target_routes_on_its_path() {
    let mut app = Notes::default();
    let (status, _, body) = get(&mut app, "GET", "http://example.com/pair/a/b");
    assert_eq!(status, 200);
    assert_eq!(body, b"a+b");
    let (status, _, _) = get(&mut app, "GET", "http://example.com");
    assert_eq!(status, 200, "no path means /");
}

#[test]
fn streams_are_chunked_on_1_1_and_close_delimited_on_1_0() {
    let mut app = Notes::default();
    let exchange = testing::serve(&mut app, b"GET /count HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert!(exchange
        .wire
        .ends_with(b"\r\n\r\n1\r\n0\r\n1\r\n1\r\n1\r\n2\r\n0\r\n\r\n"));
    let (status, head, body) = get(&mut app, "GET", "/count");
    assert_eq!(status, 200);
    assert!(head.contains("Transfer-Encoding: chunked\r\n"), "{head}");
    assert!(!head.contains("Content-Length"), "{head}");
    assert_eq!(body, b"012");
    let (_, head, _) = serve(&mut app, "GET /count HTTP/1.0\r\n\r\n");
    assert!(head.starts_with("HTTP/1.0 200 OK\r\n"), "{head}");
    assert!(head.contains("Connection: close\r\n"), "{head}");
    assert!(!head.contains("chunked"), "{head}");
}

#[test]
fn too_many_reply_headers_become_500() {
    let mut app = Notes::default();
    let (status, _, _) = get(&mut app, "GET", "/too-many-headers");
    assert_eq!(status, 500);
    // The limit itself is fine.
    let mut reply = Reply::no_content();
    for _ in 0..MAX_REPLY_HEADERS {
        reply = reply.header("X-A", b"1");
    }
    assert!(reply.headers_ok());
    assert_eq!(reply.extra_headers().count(), MAX_REPLY_HEADERS);
}

#[test]
fn header_value_bytes_limit() {
    let big = vec![b'v'; REPLY_HEADER_BYTES];
    assert!(Reply::no_content().header("X-Big", &big).headers_ok());
    let too_big = vec![b'v'; REPLY_HEADER_BYTES + 1];
    assert!(!Reply::no_content().header("X-Big", &too_big).headers_ok());
}

#[test]
fn header_injection_becomes_500() {
    let mut app = Notes::default();
    let (status, head, _) = get(&mut app, "GET", "/header-injection");
    assert_eq!(status, 500);
    assert!(!head.contains("Set-Cookie"));
    assert!(!Reply::no_content().header("Bad Name", b"v").headers_ok());
    assert!(!Reply::no_content().header("", b"v").headers_ok());
}

#[test]
fn keep_alive_and_close_heads() {
    let reply = Reply::no_content();
    let mut buf = [0u8; 256];
    let opts = |version, keep_alive| HeadOptions {
        version,
        keep_alive,
        head_only: false,
        date: Some(b"Sun, 06 Nov 1994 08:49:37 GMT"),
        server: Some("bedrock"),
    };
    let info = reply
        .write_head(&opts(Version::Http11, false), &mut buf)
        .unwrap();
    let head = std::str::from_utf8(&buf[..info.len]).unwrap();
    assert!(head.contains("Connection: close\r\n"));
    assert!(head.contains("Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"));
    assert!(head.contains("Server: bedrock\r\n"));
    assert!(!info.keep_alive);
    let info = reply
        .write_head(&opts(Version::Http10, true), &mut buf)
        .unwrap();
    let head = std::str::from_utf8(&buf[..info.len]).unwrap();
    assert!(head.contains("Connection: keep-alive\r\n"));
    assert!(info.keep_alive);
    assert!(head.ends_with("\r\n\r\n"));
}

#[test]
fn head_that_does_not_fit_is_an_error() {
    let reply = Reply::fixed(200, "text/plain", b"x");
    let opts = HeadOptions {
        version: Version::Http11,
        keep_alive: true,
        head_only: false,
        date: None,
        server: None,
    };
    let mut big = [0u8; 256];
    let full = reply.write_head(&opts, &mut big).unwrap().len;
    let mut exact = vec![0u8; full];
    assert_eq!(reply.write_head(&opts, &mut exact).unwrap().len, full);
    let mut short = vec![0u8; full - 1];
    assert!(reply.write_head(&opts, &mut short).is_err());
}
