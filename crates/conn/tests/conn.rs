//! The connection machine driven like a server drives it, with the Hotel
//! app behind it: byte splits, pipelining, bodies, deadlines, closes.

use bedrock_conn::{
    Activity, Config, Conn, LogRecord, Timeout, HEAD_TIMEOUT_US, IDLE_TIMEOUT_US, SEND_TIMEOUT_US,
};
use bedrock_hotel::Hotels;
use bedrock_web::{Handler, Reject, Reply, Request, Response, Stream};
use serde_json::Value;

type HotelConn = Conn<16384, 4096, 4096>;

struct Harness<H = Hotels> {
    conn: Box<HotelConn>,
    app: Box<H>,
    now: u64,
    wire: Vec<u8>,
    log: Vec<(String, String, u16)>,
    /// Most bytes the "socket" takes per write.
    write_size: usize,
}

impl Harness {
    fn new() -> Self {
        Self::with_config(Config::new(4096))
    }

    fn with_config(config: Config) -> Self {
        Harness::with_app(config, Hotels::new())
    }
}

impl<H: Handler> Harness<H> {
    fn with_app(config: Config, app: H) -> Self {
        let mut conn = Box::new(HotelConn::new(config));
        conn.open(0);
        Harness {
            conn,
            app: Box::new(app),
            now: 0,
            wire: Vec::new(),
            log: Vec::new(),
            write_size: usize::MAX,
        }
    }

    fn pump(&mut self) {
        let log = &mut self.log;
        let mut logger =
            |r: &LogRecord<'_>| log.push((r.method.to_string(), r.target.to_string(), r.status));
        loop {
            self.conn
                .process(self.now, None, &mut *self.app, &mut logger);
            let out = self.conn.output();
            if out.is_empty() {
                break;
            }
            let n = out.len().min(self.write_size);
            self.wire.extend_from_slice(&out[..n]);
            self.conn.sent(self.now, n);
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = self.conn.receive(self.now, rest);
            assert!(n > 0, "input buffer full");
            rest = &rest[n..];
            self.pump();
        }
    }

    fn timer(&mut self, now: u64) -> Option<Timeout> {
        self.now = now;
        let log = &mut self.log;
        let mut logger =
            |r: &LogRecord<'_>| log.push((r.method.to_string(), r.target.to_string(), r.status));
        let timeout = self.conn.on_timer(now, None, &mut *self.app, &mut logger);
        self.pump();
        timeout
    }

    fn take_wire(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.wire)
    }
}

/// A response read back from the wire.
#[derive(Debug, Clone, PartialEq)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// Splits a byte stream into responses (Content-Length, chunked, or to
/// the end for close-delimited), the way a client reads them.
fn responses(mut wire: &[u8]) -> Vec<Resp> {
    let mut out = Vec::new();
    while !wire.is_empty() {
        let end = wire
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("complete head")
            + 4;
        let head = std::str::from_utf8(&wire[..end]).unwrap();
        wire = &wire[end..];
        let mut lines = head.split("\r\n");
        let status: u16 = lines.next().unwrap()[9..12].parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (n, v) = l.split_once(':').unwrap();
                (n.to_string(), v.trim().to_string())
            })
            .collect();
        let mut resp = Resp {
            status,
            headers,
            body: Vec::new(),
        };
        if status < 200 || status == 204 || status == 304 {
        } else if let Some(len) = resp.header("content-length") {
            let len: usize = len.parse().unwrap();
            resp.body = wire[..len].to_vec();
            wire = &wire[len..];
        } else if resp.header("transfer-encoding") == Some("chunked") {
            loop {
                let line_end = wire.windows(2).position(|w| w == b"\r\n").unwrap();
                let size =
                    usize::from_str_radix(std::str::from_utf8(&wire[..line_end]).unwrap(), 16)
                        .unwrap();
                wire = &wire[line_end + 2..];
                if size == 0 {
                    assert_eq!(&wire[..2], b"\r\n");
                    wire = &wire[2..];
                    break;
                }
                resp.body.extend_from_slice(&wire[..size]);
                assert_eq!(&wire[size..size + 2], b"\r\n");
                wire = &wire[size + 2..];
            }
        } else {
            resp.body = wire.to_vec();
            wire = &[];
        }
        out.push(resp);
    }
    out
}

const SEED: &[u8] = b"POST /api/hotels HTTP/1.1\r\nHost: localhost:8888\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 14\r\n\r\nHilton,Toronto\
GET /api/hotels/1 HTTP/1.1\r\nHost: localhost:8888\r\n\r\n\
GET /api/hotels HTTP/1.1\r\nHost: localhost:8888\r\n\r\n\
DELETE /api/hotels/1 HTTP/1.1\r\nHost: localhost:8888\r\n\r\n\
GET /api/hotels/1 HTTP/1.1\r\nHost: localhost:8888\r\n\r\n";

fn check_seed(resps: &[Resp]) {
    let statuses: Vec<u16> = resps.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [201, 200, 200, 204, 404]);
    assert_eq!(
        resps[0].json(),
        serde_json::json!({"id":1,"name":"Hilton","city":"Toronto"})
    );
    assert_eq!(resps[0].header("location"), Some("/api/hotels/1"));
    assert_eq!(resps[1].json(), resps[0].json());
    assert_eq!(
        resps[2].json(),
        serde_json::json!([{"id":1,"name":"Hilton","city":"Toronto"}])
    );
    assert_eq!(resps[4].json()["status"], 404);
}

#[test]
fn pipelined_requests_are_answered_in_order_on_one_connection() {
    let mut h = Harness::new();
    h.send(SEED);
    check_seed(&responses(&h.take_wire()));
    assert!(!h.conn.wants_close(), "keep-alive");
    let methods: Vec<&str> = h.log.iter().map(|(m, _, _)| m.as_str()).collect();
    assert_eq!(methods, ["POST", "GET", "GET", "DELETE", "GET"]);
}

#[test]
fn every_input_split_gives_the_same_bytes() {
    let mut whole = Harness::new();
    whole.send(SEED);
    let expected = whole.take_wire();
    for split in 1..SEED.len() {
        let mut h = Harness::new();
        h.send(&SEED[..split]);
        h.send(&SEED[split..]);
        assert_eq!(h.take_wire(), expected, "split at {split}");
    }
    let mut trickle = Harness::new();
    for b in SEED {
        trickle.send(std::slice::from_ref(b));
    }
    assert_eq!(trickle.take_wire(), expected);
}

#[test]
fn tiny_writes_give_the_same_bytes() {
    let mut whole = Harness::new();
    whole.send(SEED);
    let expected = whole.take_wire();
    for size in [1, 2, 7, 100] {
        let mut h = Harness::new();
        h.write_size = size;
        h.send(SEED);
        assert_eq!(h.take_wire(), expected, "write size {size}");
    }
}

#[test]
fn http_1_0_and_connection_close_end_the_connection() {
    let mut h = Harness::new();
    h.send(b"GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n");
    let resps = responses(&h.take_wire());
    assert_eq!(resps.len(), 1, "nothing is answered after a close");
    assert_eq!(resps[0].header("connection"), Some("close"));
    assert!(h.conn.wants_close());

    let mut h = Harness::new();
    h.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(responses(&h.take_wire())[0].status, 200);
    assert!(h.conn.wants_close());

    let mut h = Harness::new();
    h.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(
        responses(&h.take_wire())[0].header("connection"),
        Some("keep-alive")
    );
    assert!(!h.conn.wants_close());
}

#[test]
fn chunked_request_bodies_are_decoded() {
    let mut h = Harness::new();
    h.send(b"POST /api/hotels HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nHilton\r\n8;ext=1\r\n,Toronto\r\n0\r\nTrailer: x\r\n\r\n");
    let resps = responses(&h.take_wire());
    assert_eq!(resps[0].status, 201);
    assert_eq!(resps[0].json()["city"], "Toronto");
}

#[test]
fn expect_100_continue() {
    let mut h = Harness::new();
    h.send(b"POST /api/hotels HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    assert_eq!(h.take_wire(), b"HTTP/1.1 100 Continue\r\n\r\n");
    h.send(b"A,B");
    let resps = responses(&h.take_wire());
    assert_eq!(resps[0].status, 201);
    // Body already sent with the head: no 100.
    let mut h = Harness::new();
    h.send(b"POST /api/hotels HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nA,B");
    assert_eq!(responses(&h.take_wire())[0].status, 201);
    // Too large: refused at once, no 100.
    let mut h = Harness::new();
    h.send(b"POST /api/hotels HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\nExpect: 100-continue\r\n\r\n");
    let resps = responses(&h.take_wire());
    assert_eq!(resps.len(), 1);
    assert_eq!(resps[0].status, 413);
    assert!(h.conn.wants_close());
    let mut h = Harness::new();
    h.send(
        b"POST /api/hotels HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: teapot\r\n\r\nA,B",
    );
    assert_eq!(responses(&h.take_wire())[0].status, 417);
}

#[test]
fn body_limit_at_and_past() {
    let max = 64;
    let body_at = format!("{},{}", "n".repeat(30), "c".repeat(max - 31));
    assert_eq!(body_at.len(), max);
    let mut h = Harness::with_config(Config::new(max));
    h.send(
        format!("POST /api/hotels HTTP/1.1\r\nHost: x\r\nContent-Length: {max}\r\n\r\n{body_at}")
            .as_bytes(),
    );
    assert_eq!(responses(&h.take_wire())[0].status, 201);
    let mut h = Harness::with_config(Config::new(max));
    h.send(
        format!(
            "POST /api/hotels HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            max + 1
        )
        .as_bytes(),
    );
    assert_eq!(responses(&h.take_wire())[0].status, 413);
    assert!(h.conn.wants_close());
    // Chunked bodies hit the same limit as they arrive.
    let mut h = Harness::with_config(Config::new(max));
    let chunked = format!("POST /api/hotels HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n", max + 1, "x".repeat(max + 1));
    h.send(chunked.as_bytes());
    assert_eq!(responses(&h.take_wire())[0].status, 413);
    let mut h = Harness::with_config(Config::new(max));
    let chunked = format!("POST /api/hotels HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{max:x}\r\n{body_at}\r\n0\r\n\r\n");
    h.send(chunked.as_bytes());
    assert_eq!(responses(&h.take_wire())[0].status, 201);
}

#[test]
fn slow_head_gets_408_at_the_deadline_and_not_before() {
    let mut h = Harness::new();
    h.now = 1_000;
    h.send(b"GET / HTTP/1.1\r\nHo");
    assert_eq!(h.conn.deadline(), Some(1_000 + HEAD_TIMEOUT_US));
    // Trickling more bytes does not move the deadline (whole-head limit).
    h.now = 5_000_000;
    h.send(b"st: x\r\n");
    assert_eq!(h.timer(1_000 + HEAD_TIMEOUT_US - 1), None);
    assert!(h.take_wire().is_empty());
    assert_eq!(h.timer(1_000 + HEAD_TIMEOUT_US), Some(Timeout::Head));
    let resps = responses(&h.take_wire());
    assert_eq!(resps[0].status, 408);
    assert!(h.conn.wants_close());
    assert_eq!(h.log.last().unwrap().2, 408);
}

#[test]
fn idle_keep_alive_connection_closes_silently() {
    let mut h = Harness::new();
    h.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    h.take_wire();
    assert_eq!(h.conn.deadline(), Some(IDLE_TIMEOUT_US));
    assert_eq!(h.timer(IDLE_TIMEOUT_US - 1), None);
    assert!(!h.conn.wants_close());
    assert_eq!(h.timer(IDLE_TIMEOUT_US), Some(Timeout::Idle));
    assert!(h.conn.wants_close());
    assert!(h.take_wire().is_empty());
}

#[test]
fn activity_follows_the_request_cycle() {
    let mut h = Harness::new();
    assert_eq!(
        h.conn.activity(),
        Activity::Arriving,
        "the first request is to come"
    );
    h.send(b"POST /api/hotels HTTP/1.1\r\nHo");
    assert_eq!(h.conn.activity(), Activity::Arriving, "half a head");
    h.send(b"st: x\r\nContent-Length: 9\r\n\r\nRitz,");
    assert_eq!(h.conn.activity(), Activity::Arriving, "half a body");
    // The last byte in, processed, nothing sent yet: the reply waits.
    h.conn.receive(h.now, b"Rome");
    let mut ignore = |_: &LogRecord<'_>| {};
    h.conn.process(h.now, None, &mut *h.app, &mut ignore);
    assert_eq!(h.conn.activity(), Activity::Answering);
    h.pump();
    assert_eq!(responses(&h.take_wire())[0].status, 201);
    assert_eq!(h.conn.activity(), Activity::Idle, "kept alive");
    h.send(b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(h.conn.activity(), Activity::Closed);
}

#[test]
fn slow_body_gets_408() {
    let mut h = Harness::new();
    h.send(b"POST /api/hotels HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab");
    let deadline = h.conn.deadline().unwrap();
    assert_eq!(h.timer(deadline), Some(Timeout::Body));
    assert_eq!(responses(&h.take_wire())[0].status, 408);
    assert!(h.conn.wants_close());
    assert_eq!(h.app.store().len(), 0);
}

#[test]
fn reply_the_client_never_reads_is_abandoned() {
    let mut h = Harness::new();
    h.write_size = 0; // the socket takes nothing
    h.conn.receive(0, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut ignore = |_: &LogRecord<'_>| {};
    h.conn.process(0, None, &mut *h.app, &mut ignore);
    assert!(!h.conn.output().is_empty());
    assert_eq!(h.conn.deadline(), Some(SEND_TIMEOUT_US));
    let timeout = h
        .conn
        .on_timer(SEND_TIMEOUT_US, None, &mut *h.app, &mut ignore);
    assert_eq!(timeout, Some(Timeout::Send));
    assert!(h.conn.output().is_empty());
    assert!(h.conn.wants_close());
}

#[test]
fn malformed_requests_get_an_error_and_a_close() {
    for (raw, status) in [
        (&b"GARBAGE\r\n\r\n"[..], 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
    ] {
        let mut h = Harness::new();
        h.send(raw);
        h.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let resps = responses(&h.take_wire());
        assert_eq!(resps.len(), 1, "{:?}", String::from_utf8_lossy(raw));
        assert_eq!(resps[0].status, status, "{:?}", String::from_utf8_lossy(raw));
        assert_eq!(resps[0].json()["status"], status);
        assert!(h.conn.wants_close());
    }
}

/// A connection with `IN` bytes of input and little else, open at 0.
fn small_conn<const IN: usize>() -> Box<Conn<IN, 64, 1024>> {
    let mut conn = Box::new(Conn::<IN, 64, 1024>::new(Config::new(64)));
    conn.open(0);
    conn
}

#[test]
fn head_larger_than_the_input_buffer_is_431() {
    let mut conn = small_conn::<256>();
    let mut app = Box::new(Hotels::new());
    let mut ignore = |_: &LogRecord<'_>| {};
    let head = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n",
        "p".repeat(300)
    );
    let taken = conn.receive(0, head.as_bytes());
    assert_eq!(taken, 256);
    conn.process(0, None, &mut *app, &mut ignore);
    assert!(String::from_utf8_lossy(conn.output()).starts_with("HTTP/1.1 431 "));
    // A head that exactly fills the buffer is fine.
    let mut conn = small_conn::<256>();
    let fixed = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: \r\n\r\n".len();
    let head = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n",
        "p".repeat(256 - fixed)
    );
    assert_eq!(conn.receive(0, head.as_bytes()), 256);
    conn.process(0, None, &mut *app, &mut ignore);
    assert!(String::from_utf8_lossy(conn.output()).starts_with("HTTP/1.1 200 "));
}

#[test]
fn head_filling_the_input_byte_by_byte_is_431() {
    // 300 bytes: not a length at which the head is parsed anyway (1, 2,
    // 4 ... 256), so the full input itself must trigger the parse.
    let mut conn = small_conn::<300>();
    let mut app = Box::new(Hotels::new());
    let mut ignore = |_: &LogRecord<'_>| {};
    let head = format!("GET / HTTP/1.1\r\nX-Pad: {}", "p".repeat(300));
    for (k, b) in head.as_bytes()[..300].iter().enumerate() {
        assert!(conn.output().is_empty(), "answered after {k} bytes");
        assert_eq!(conn.receive(0, std::slice::from_ref(b)), 1);
        conn.process(0, None, &mut *app, &mut ignore);
    }
    assert!(String::from_utf8_lossy(conn.output()).starts_with("HTTP/1.1 431 "));
}

#[test]
fn malformed_partial_head_gets_its_own_error() {
    // The head is parsed when it first arrives (partial here), then when
    // it may be complete, when the input has doubled, at the deadline or
    // when the peer closes: a bad byte that follows the first parse is
    // refused at the first of those, with the error parsing at every read
    // would have given (400), never 408.
    const LINE: &[u8] = b"GET / HTTP/1.1\r\n"; // 16 bytes
    const BAD: &[u8] = b"Bad\x01"; // a control in a field name
    let mut h = Harness::new();
    h.send(LINE);
    h.send(BAD);
    h.send(&[b'x'; 11]);
    assert!(h.take_wire().is_empty(), "31 bytes: not parsed since 16");
    h.send(b"x");
    assert_eq!(responses(&h.take_wire())[0].status, 400, "doubled");
    assert!(h.conn.wants_close());

    let mut h = Harness::new();
    h.send(LINE);
    h.send(BAD);
    assert_eq!(h.timer(HEAD_TIMEOUT_US), None, "an error, not a timeout");
    assert_eq!(responses(&h.take_wire())[0].status, 400, "deadline");
    assert_eq!(h.log.last().unwrap().2, 400);

    let mut h = Harness::new();
    h.send(LINE);
    h.send(BAD);
    h.conn.peer_closed();
    h.pump();
    assert_eq!(responses(&h.take_wire())[0].status, 400, "peer closed");

    // Garbage (here the start of a TLS ClientHello) is refused at once.
    let mut h = Harness::new();
    h.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
    assert_eq!(responses(&h.take_wire())[0].status, 400, "garbage");
}

#[test]
fn peer_close_mid_head_closes_without_reply() {
    let mut h = Harness::new();
    h.send(b"GET / HT");
    h.conn.peer_closed();
    h.pump();
    assert!(h.take_wire().is_empty());
    assert!(h.conn.wants_close());
}

#[test]
fn half_closed_peer_still_gets_its_reply() {
    let mut h = Harness::new();
    h.conn.receive(0, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    h.conn.peer_closed();
    h.pump();
    let resps = responses(&h.take_wire());
    assert_eq!(resps[0].status, 200);
    assert_eq!(resps[0].header("connection"), Some("close"));
    assert!(h.conn.wants_close());
}

#[test]
fn long_list_streams_through_small_writes() {
    let mut h = Harness::new();
    seed(&mut h.app, 2000);
    h.write_size = 1000;
    h.send(
        b"GET /api/hotels HTTP/1.1\r\nHost: x\r\n\r\nHEAD /api/hotels HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let wire = h.take_wire();
    // The HEAD reply follows with no body at all.
    let head_at = wire
        .windows(24)
        .rposition(|w| w == b"HTTP/1.1 200 OK\r\nServer:")
        .unwrap();
    assert!(wire[head_at..].ends_with(b"\r\n\r\n"));
    let resps = responses(&wire[..head_at]);
    assert_eq!(resps.len(), 1);
    let list = resps[0].json();
    assert_eq!(list.as_array().unwrap().len(), 2000);
    assert_eq!(list[1999]["name"], "H1999");
    assert!(!h.conn.wants_close());
}

/// Puts hotels 1..=n (named H0.., in C0..) in the app, as a replay would.
fn seed(app: &mut bedrock_hotel::Hotels, n: u64) {
    let mut record = [0u8; bedrock_hotel::MAX_CHANGE_BYTES];
    for i in 0..n {
        let hotel = bedrock_hotel::parse_hotel(None, format!("H{i},C{i}").as_bytes()).unwrap();
        let len = bedrock_hotel::put_record(i + 1, &hotel, &mut record);
        assert!(bedrock_web::Persist::replay(app, &record[..len]));
    }
}

#[test]
fn a_replaced_reply_goes_out_instead_and_the_connection_closes() {
    // What a host does when a change could not be made durable: the
    // app's 201 is never seen, 507 is, and pipelined requests are dropped.
    let mut h = Harness::new();
    let post = b"POST /api/hotels HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nA,b";
    let mut both = post.to_vec();
    both.extend_from_slice(b"GET /api/hotels HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(h.conn.receive(0, &both), both.len());
    h.conn
        .process(0, None, &mut *h.app, &mut |_: &LogRecord<'_>| {});
    assert!(h.conn.output().starts_with(b"HTTP/1.1 201"));
    let full = bedrock_web::Reject::new(507, "the disk is full");
    let bytes = h.conn.replace_reply(None, &mut *h.app, full);
    h.pump();
    let resps = responses(&h.take_wire());
    assert_eq!(resps.len(), 1, "pipelined requests are dropped");
    assert_eq!(resps[0].status, 507);
    assert_eq!(
        bytes,
        resps[0].body.len() as u64,
        "the new reply's body bytes"
    );
    assert_eq!(resps[0].json()["error"], "the disk is full");
    assert_eq!(resps[0].header("connection"), Some("close"));
    assert!(h.conn.wants_close());
}

#[test]
fn health_endpoints_are_answered_for_every_app() {
    let mut h = Harness::new();
    h.send(
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz?probe=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let resps = responses(&h.take_wire());
    assert_eq!(resps.len(), 2);
    assert_eq!(
        (resps[0].status, resps[0].body.as_slice()),
        (200, &b"ok\n"[..])
    );
    assert_eq!(
        (resps[1].status, resps[1].body.as_slice()),
        (200, &b"ready\n"[..])
    );
    assert_eq!(resps[0].header("cache-control"), Some("no-store"));
    h.send(b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    let head = h.take_wire();
    assert!(head.starts_with(b"HTTP/1.1 200") && head.ends_with(b"\r\n\r\n"));
    // Other methods are the app's (the Hotel app routes neither path).
    h.send(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(responses(&h.take_wire())[0].status, 404);
}

#[test]
fn readiness_fails_once_the_connection_is_stopped() {
    let mut h = Harness::new();
    // A probe arriving as the server stops: 503, then the connection ends.
    h.send(b"GET /readyz HTTP/1.1\r\nHost: x\r\n");
    h.conn.stop();
    h.send(b"\r\n");
    let resps = responses(&h.take_wire());
    assert_eq!(resps[0].status, 503);
    assert_eq!(resps[0].body, b"shutting down\n");
    assert_eq!(resps[0].header("connection"), Some("close"));
    assert!(h.conn.wants_close());
}

/// The Hotel app behind a host that may say it is not ready (a journal
/// that cannot be written, say).
struct Host {
    app: Hotels,
    unready: Option<String>,
}

impl Host {
    fn new(unready: Option<&str>) -> Self {
        Host {
            app: Hotels::new(),
            unready: unready.map(String::from),
        }
    }
}

impl Handler for Host {
    fn respond(&mut self, request: &Request<'_, '_>, body: &[u8], out: &mut [u8]) -> Response {
        Handler::respond(&mut self.app, request, body, out)
    }
    fn render_reject(&mut self, reject: Reject, out: &mut [u8]) -> Reply {
        Handler::render_reject(&mut self.app, reject, out)
    }
    fn stream(&mut self, stream: &mut Stream, out: &mut [u8]) -> usize {
        Handler::stream(&mut self.app, stream, out)
    }
    fn readiness(&mut self) -> Result<(), &str> {
        self.unready.as_deref().map_or(Ok(()), Err)
    }
}

#[test]
fn readiness_fails_with_the_hosts_reason_while_liveness_holds() {
    let mut h = Harness::with_app(Config::new(4096), Host::new(Some("the disk is full")));
    h.send(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    let resps = responses(&h.take_wire());
    assert_eq!(resps.len(), 2);
    assert_eq!(resps[0].status, 503);
    assert_eq!(resps[0].body, b"not ready: the disk is full\n");
    assert_eq!(resps[0].header("cache-control"), Some("no-store"));
    assert_eq!(
        resps[0].header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(
        (resps[1].status, resps[1].body.as_slice()),
        (200, &b"ok\n"[..])
    );
    // Not ready is not a reason to close: the connection goes on.
    assert!(!h.conn.wants_close());
    h.send(b"HEAD /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    let head = h.take_wire();
    assert!(head.starts_with(b"HTTP/1.1 503"), "{head:?}");
    assert!(head.ends_with(b"\r\n\r\n"), "HEAD has no body");
    // The app still answers everything else.
    h.send(b"GET /api/hotels HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(responses(&h.take_wire())[0].status, 200);
    // Ready again once the host says so.
    h.app.unready = None;
    h.send(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    let resps = responses(&h.take_wire());
    assert_eq!(
        (resps[0].status, resps[0].body.as_slice()),
        (200, &b"ready\n"[..])
    );
    let statuses: Vec<u16> = h.log.iter().map(|l| l.2).collect();
    assert_eq!(statuses, [503, 200, 503, 200, 200], "each probe is logged");
}

#[test]
fn shutting_down_wins_over_the_hosts_reason() {
    let mut h = Harness::with_app(Config::new(4096), Host::new(Some("the disk failed")));
    h.send(b"GET /readyz HTTP/1.1\r\nHost: x\r\n");
    h.conn.stop();
    h.send(b"\r\n");
    let resps = responses(&h.take_wire());
    assert_eq!(
        (resps[0].status, resps[0].body.as_slice()),
        (503, &b"shutting down\n"[..])
    );
}

#[test]
fn a_long_reason_is_cut_to_the_reply_buffer() {
    const OUT: usize = 64;
    // "not ready: " and the line end take 12 bytes of the reply buffer.
    let room = OUT - 12;
    for (len, shown) in [(room, room), (room + 1, room), (room + 100, room)] {
        let reason = "r".repeat(len);
        let mut conn = Box::new(Conn::<1024, 64, OUT>::new(Config::new(64)));
        let mut host = Host::new(Some(&reason));
        conn.open(0);
        conn.receive(0, b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut wire = Vec::new();
        loop {
            conn.process(0, None, &mut host, &mut |_: &LogRecord<'_>| {});
            let out = conn.output();
            if out.is_empty() {
                break;
            }
            let n = out.len();
            wire.extend_from_slice(out);
            conn.sent(0, n);
        }
        let resps = responses(&wire);
        assert_eq!(resps[0].status, 503);
        let want = format!("not ready: {}\n", "r".repeat(shown));
        assert_eq!(resps[0].body, want.as_bytes(), "reason of {len} bytes");
    }
}
