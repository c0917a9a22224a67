//! `/metrics` through the connection engine, in front of the Hotel app:
//! the reply's head, a page streamed in many pieces and read back whole,
//! HEAD, other methods and paths left to the app.

use bedrock_conn::{Config, Conn, LogRecord};
use bedrock_hotel::Hotels;
use bedrock_metrics::{
    piece, Exposition, HttpMetrics, Kind, Metered, Value, Writer, CONTENT_TYPE, STREAM_KIND,
};
use bedrock_web::Stream;

/// A reply buffer of 512 bytes: a piece holds a few small families only.
type SmallConn = Conn<4096, 4096, 512>;

/// Forty gauges, `g_0` to `g_39`, of about 60 bytes each (2,400 bytes in
/// all), then the HTTP counters of `http` (3,000 bytes and more).
struct Page {
    http: HttpMetrics,
}

impl Exposition for Page {
    fn expose(&self, w: &mut Writer<'_>) {
        for i in 0..40u64 {
            let name = format!("g_{i}");
            w.single(
                &[&name],
                "A gauge of the test page.",
                Kind::Gauge,
                Value::Int(i),
            );
        }
        // Only the small families: the request counters need a piece
        // of MIN_STREAM_BUFFER.
        let s = self.http.snapshot();
        w.counter("t_sent_bytes_total", "Sent.", Value::Int(s.sent));
    }
}

/// Sends `request` to a fresh connection with `page` in front of the
/// Hotel app; returns the wire and the statuses logged.
fn exchange(page: &Page, request: &[u8]) -> (Vec<u8>, Vec<u16>) {
    let mut hotels = Box::new(Hotels::new());
    exchange_with(&mut Metered::new(&mut *hotels, page), request)
}

/// Sends `request` to a fresh connection in front of `app`; returns the
/// wire and the statuses logged.
fn exchange_with(app: &mut impl bedrock_web::Handler, request: &[u8]) -> (Vec<u8>, Vec<u16>) {
    let mut conn = Box::new(SmallConn::new(Config::new(4096)));
    conn.open(0);
    assert_eq!(conn.receive(0, request), request.len());
    let mut statuses = Vec::new();
    let mut wire = Vec::new();
    let mut log = |r: &LogRecord<'_>| statuses.push(r.status);
    loop {
        conn.process(0, None, app, &mut log);
        let out = conn.output();
        if out.is_empty() {
            break;
        }
        let n = out.len();
        wire.extend_from_slice(out);
        conn.sent(0, n);
    }
    (wire, statuses)
}

/// The head's lines and the body (chunked coding decoded).
fn split(wire: &[u8]) -> (Vec<String>, Vec<u8>) {
    let (head, body, _) = split_chunks(wire);
    (head, body)
}

/// The head's lines, the body and how many chunks it came in.
fn split_chunks(wire: &[u8]) -> (Vec<String>, Vec<u8>, usize) {
    let end = wire.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8(wire[..end].to_vec()).unwrap();
    let lines: Vec<String> = head.split("\r\n").map(str::to_string).collect();
    let mut rest = &wire[end..];
    let mut body = Vec::new();
    let mut chunks = 0;
    if head.contains("Transfer-Encoding: chunked") {
        loop {
            let line = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[..line]).unwrap(), 16).unwrap();
            rest = &rest[line + 2..];
            if size == 0 {
                break;
            }
            assert!(size <= 512, "a piece fits the reply buffer");
            body.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
            chunks += 1;
        }
    } else {
        body.extend_from_slice(rest);
    }
    (lines, body, chunks)
}

/// The page written into one large buffer.
fn whole(page: &Page) -> String {
    let mut buf = vec![0u8; 1 << 16];
    let mut stream = Stream::new(STREAM_KIND, 0);
    let n = piece(page, &mut stream, &mut buf);
    let mut end = Stream::new(STREAM_KIND, stream.cursor);
    assert_eq!(piece(page, &mut end, &mut buf[n..]), 0, "all in one piece");
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

#[test]
fn get_metrics_streams_the_page_in_pieces() {
    let page = Page {
        http: HttpMetrics::new(),
    };
    page.http.sent(1234);
    let (wire, statuses) = exchange(&page, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    let (head, body, chunks) = split_chunks(&wire);
    assert!(chunks >= 5, "{chunks} pieces");
    assert_eq!(head[0], "HTTP/1.1 200 OK");
    assert!(
        head.contains(&format!("Content-Type: {CONTENT_TYPE}")),
        "{head:?}"
    );
    assert!(
        head.contains(&"Cache-Control: no-store".to_string()),
        "{head:?}"
    );
    let body = String::from_utf8(body).unwrap();
    assert_eq!(body, whole(&page));
    assert!(body.ends_with("# TYPE t_sent_bytes_total counter\nt_sent_bytes_total 1234\n"));
    assert_eq!(body.matches("# TYPE ").count(), 41);
    assert_eq!(statuses, [200]);
    // A query string names the same resource.
    let (wire, _) = exchange(&page, b"GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(split(&wire).1, whole(&page).into_bytes());
}

#[test]
fn head_gets_the_head_alone_and_http_1_0_a_close_delimited_page() {
    let page = Page {
        http: HttpMetrics::new(),
    };
    let (wire, _) = exchange(&page, b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    let text = String::from_utf8(wire).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
    assert!(text.ends_with("\r\n\r\n"), "no body: {text}");
    let (wire, _) = exchange(&page, b"GET /metrics HTTP/1.0\r\n\r\n");
    let (head, body) = split(&wire);
    assert!(!head.iter().any(|l| l.starts_with("Transfer-Encoding")));
    assert_eq!(String::from_utf8(body).unwrap(), whole(&page));
}

#[test]
fn other_methods_and_paths_go_to_the_app() {
    let page = Page {
        http: HttpMetrics::new(),
    };
    for (request, status) in [
        (
            &b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"[..],
            "404",
        ),
        (b"GET /metricsx HTTP/1.1\r\nHost: x\r\n\r\n", "404"),
        (b"GET /api/hotels HTTP/1.1\r\nHost: x\r\n\r\n", "200"),
    ] {
        let (wire, _) = exchange(&page, request);
        let (head, body) = split(&wire);
        assert!(
            head[0].contains(status),
            "{:?}: {head:?}",
            std::str::from_utf8(request)
        );
        assert!(!String::from_utf8_lossy(&body).contains("# TYPE"));
    }
    // The app's own stream (the list of hotels) still reaches it.
    let (wire, _) = exchange(&page, b"GET /api/hotels HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(split(&wire).1, b"[]");
}

/// A host that is not ready, with its reason.
struct Unready;

impl bedrock_web::Handler for Unready {
    fn respond(
        &mut self,
        _: &bedrock_web::Request<'_, '_>,
        _: &[u8],
        _: &mut [u8],
    ) -> bedrock_web::Response {
        unreachable!("the probe answers before the app")
    }

    fn render_reject(&mut self, reject: bedrock_web::Reject, _: &mut [u8]) -> bedrock_web::Reply {
        bedrock_web::Reply::fixed(reject.status, "text/plain", b"")
    }

    fn stream(&mut self, _: &mut Stream, _: &mut [u8]) -> usize {
        0
    }

    fn readiness(&mut self) -> Result<(), &str> {
        Err("the disk is full")
    }
}

#[test]
fn the_hosts_readiness_reaches_the_probe_through_metered() {
    let page = Page {
        http: HttpMetrics::new(),
    };
    let mut host = Unready;
    let request = b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n";
    let (wire, _) = exchange_with(&mut Metered::new(&mut host, &page), request);
    let (head, body) = split(&wire);
    assert!(head[0].contains("503"), "{head:?}");
    assert_eq!(body, b"not ready: the disk is full\n");
}
