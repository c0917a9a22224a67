//! What a host's handler can answer besides an in-memory body: a file
//! range the transport sends, an upload sink the body is streamed to, a
//! reply deferred until the handler has it; and the host's limits on a
//! request that falls silent or trickles, its shutdown, and send progress
//! it sees below the transport.

use std::collections::VecDeque;

use bedrock_conn::{Activity, Config, Conn, LogRecord, Timeout, Transport};
use bedrock_http::{Method, Request};
use bedrock_web::{FileBody, Handler, Reject, Reply, Response, Stream};

type TestConn = Conn<4096, 256, 1024>;

/// The file every file body is cut from.
const FILE: &[u8] = b"0123456789abcdefghij";

/// A handler that answers by path: `/file` a file body, `/put` a sink,
/// `/later` a deferred reply, `/refuse` a refusal before the body.
#[derive(Default)]
struct Host {
    /// Bytes each sink took, in order.
    sunk: Vec<u8>,
    ends: usize,
    aborts: usize,
    /// The deferred reply is ready.
    ready: bool,
    /// The sink refuses bytes past this many.
    sink_max: usize,
}

impl Handler for Host {
    fn respond(&mut self, request: &Request<'_, '_>, _body: &[u8], _out: &mut [u8]) -> Response {
        let file = FileBody {
            handle: 7,
            offset: 2,
            len: 5,
        };
        let reply = match request.path() {
            "/file" => Reply::file(200, "text/plain", file),
            "/later" => Reply::deferred(3),
            _ => Reply::fixed(200, "text/plain", b"plain"),
        };
        Response {
            reply,
            head_only: request.method == Method::Head,
        }
    }

    fn render_reject(&mut self, reject: Reject, _out: &mut [u8]) -> Reply {
        Reply::new(reject.status)
    }

    fn stream(&mut self, _stream: &mut Stream, _out: &mut [u8]) -> usize {
        0
    }

    fn on_head(&mut self, request: &Request<'_, '_>, _out: &mut [u8]) -> Option<Response> {
        let reply = match request.path() {
            "/put" => Reply::sink(9),
            "/refuse" => Reply::new(401),
            _ => return None,
        };
        Some(Response {
            reply,
            head_only: false,
        })
    }

    fn sink(&mut self, sink: u64, bytes: &[u8]) -> Result<(), Reject> {
        assert_eq!(sink, 9);
        self.sunk.extend_from_slice(bytes);
        if self.sink_max > 0 && self.sunk.len() > self.sink_max {
            self.aborts += 1;
            return Err(Reject::new(413, "too large"));
        }
        Ok(())
    }

    fn sink_end(&mut self, sink: u64, _out: &mut [u8]) -> Reply {
        assert_eq!(sink, 9);
        self.ends += 1;
        Reply::fixed(201, "text/plain", b"created\n")
    }

    fn sink_abort(&mut self, sink: u64) {
        assert_eq!(sink, 9);
        self.aborts += 1;
    }

    fn resume(&mut self, token: u64, _out: &mut [u8]) -> Option<Reply> {
        assert_eq!(token, 3);
        self.ready
            .then(|| Reply::fixed(200, "text/plain", b"at last"))
    }
}

/// A transport that sends files from [`FILE`] and writes head and body
/// together.
#[derive(Default)]
struct Wire {
    incoming: VecDeque<u8>,
    sent: Vec<u8>,
    /// Calls that carried a head and its body together.
    joined: usize,
    /// Calls that held a head back for a file.
    more: usize,
    eof: bool,
    closed: bool,
}

impl Transport for Wire {
    fn recv(&mut self, into: &mut [u8]) -> usize {
        let n = into.len().min(self.incoming.len());
        for (slot, b) in into.iter_mut().zip(self.incoming.drain(..n)) {
            *slot = b;
        }
        n
    }

    fn send(&mut self, bytes: &[u8]) -> usize {
        self.sent.extend_from_slice(bytes);
        bytes.len()
    }

    fn send_parts(&mut self, head: &[u8], body: &[u8], more: bool) -> usize {
        self.joined += usize::from(!body.is_empty());
        self.more += usize::from(more);
        self.send(head) + self.send(body)
    }

    fn send_file(&mut self, file: FileBody) -> usize {
        assert_eq!(file.handle, 7);
        let at = file.offset as usize;
        // Two bytes a call: the range goes out in pieces.
        let n = (file.len as usize).min(2);
        self.sent.extend_from_slice(&FILE[at..at + n]);
        n
    }

    fn peer_closed(&self) -> bool {
        self.eof
    }

    fn close(&mut self) {
        self.closed = true;
    }
}

struct Run {
    conn: Box<TestConn>,
    host: Host,
    io: Wire,
    statuses: Vec<u16>,
    bytes: Vec<u64>,
}

impl Run {
    fn new(config: Config) -> Run {
        let mut conn = Box::new(TestConn::new(config));
        conn.open(0);
        Run {
            conn,
            host: Host::default(),
            io: Wire::default(),
            statuses: Vec::new(),
            bytes: Vec::new(),
        }
    }

    fn at(&mut self, now: u64, bytes: &[u8]) {
        self.io.incoming.extend(bytes);
        let (statuses, sizes) = (&mut self.statuses, &mut self.bytes);
        let mut log = |r: &LogRecord<'_>| {
            statuses.push(r.status);
            sizes.push(r.bytes);
        };
        self.conn
            .drive(&mut self.io, now, || now, None, &mut self.host, &mut log);
    }

    /// A run whose PUT to the sink has sent its head with `fields`.
    fn put(config: Config, fields: &str) -> Run {
        let mut r = Run::new(config);
        let head = format!("PUT /put HTTP/1.1\r\nHost: x\r\n{fields}\r\n");
        r.at(0, head.as_bytes());
        r
    }

    fn timer(&mut self, now: u64) -> Option<Timeout> {
        let statuses = &mut self.statuses;
        let mut log = |r: &LogRecord<'_>| statuses.push(r.status);
        let timeout = self.conn.on_timer(now, None, &mut self.host, &mut log);
        self.at(now, b"");
        timeout
    }

    fn wire(&self) -> String {
        String::from_utf8_lossy(&self.io.sent).into_owned()
    }
}

#[test]
fn a_file_body_is_sent_by_the_transport_after_its_head() {
    let mut r = Run::new(Config::new(256));
    r.at(
        0,
        b"GET /file HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let wire = r.wire();
    assert!(wire.contains("Content-Length: 5\r\n"), "{wire}");
    assert!(wire.contains("\r\n\r\n23456HTTP/1.1 200"), "{wire}");
    assert!(wire.ends_with("\r\n\r\nplain"), "kept alive: {wire}");
    assert_eq!(r.statuses, [200, 200]);
    assert_eq!(r.bytes, [5, 5]);
    assert_eq!(r.io.more, 1, "the head a file follows is held back");
    assert_eq!(r.io.joined, 1, "a head and its in-memory body go together");
    assert!(!r.io.closed);
}

#[test]
fn a_file_body_is_not_sent_for_head() {
    let mut r = Run::new(Config::new(256));
    r.at(0, b"HEAD /file HTTP/1.1\r\nHost: x\r\n\r\n");
    let wire = r.wire();
    assert!(wire.contains("Content-Length: 5\r\n") && wire.ends_with("\r\n\r\n"));
    assert_eq!(r.bytes, [0]);
    assert_eq!(r.conn.activity(), Activity::Idle);
}

#[test]
fn a_body_goes_to_the_sink_as_it_arrives() {
    let mut r = Run::put(Config::new(16), "Content-Length: 600\r\n");
    // Longer than the body buffer and than the connection's max_body.
    for piece in [b'a', b'b', b'c'] {
        assert!(r.conn.reading_body());
        r.at(1, &[piece; 200]);
    }
    assert_eq!(r.host.sunk.len(), 600);
    assert_eq!(&r.host.sunk[..3], b"aaa");
    assert_eq!((r.host.ends, r.host.aborts), (1, 0));
    assert_eq!(r.statuses, [201]);
    assert!(r.wire().ends_with("created\n"));
    assert_eq!(r.conn.activity(), Activity::Idle);
}

#[test]
fn a_chunked_body_goes_to_the_sink_decoded() {
    let mut r = Run::put(
        Config::new(16),
        "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n",
    );
    assert!(r.wire().starts_with("HTTP/1.1 100 Continue\r\n\r\n"));
    r.at(1, b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    assert_eq!(r.host.sunk, b"hello world");
    assert_eq!(r.statuses, [201]);
}

#[test]
fn a_sink_is_aborted_when_its_body_will_not_come() {
    // The peer leaves mid-body.
    let mut r = Run::put(Config::new(16), "Content-Length: 10\r\n");
    r.at(0, b"abc");
    r.io.eof = true;
    r.at(1, b"");
    assert_eq!((r.host.ends, r.host.aborts), (0, 1));
    assert!(r.io.closed && r.statuses.is_empty());
    // A malformed chunk.
    let mut r = Run::put(Config::new(16), "Transfer-Encoding: chunked\r\n");
    r.at(0, b"zz\r\n");
    assert_eq!((r.host.ends, r.host.aborts), (0, 1));
    assert_eq!(r.statuses, [400]);
    // The sink refuses (it drops the upload itself).
    let mut r = Run::put(Config::new(16), "Content-Length: 10\r\n");
    r.host.sink_max = 4;
    r.at(0, b"0123456789");
    assert_eq!((r.host.ends, r.host.aborts), (0, 1));
    assert_eq!(r.statuses, [413]);
    assert!(r.io.closed);
}

#[test]
fn a_refusal_before_the_body_closes_the_connection() {
    let mut r = Run::new(Config::new(16));
    r.at(
        0,
        b"PUT /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n",
    );
    assert_eq!(r.statuses, [401]);
    assert!(r.wire().contains("Connection: close\r\n"));
    assert!(r.io.closed);
}

#[test]
fn a_deferred_reply_is_sent_once_the_handler_has_it() {
    let mut r = Run::new(Config::new(16));
    r.at(0, b"GET /later HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(r.conn.deferred() && r.io.sent.is_empty() && r.statuses.is_empty());
    assert_eq!(
        r.conn.deadline(),
        None,
        "waiting for the handler, not the client"
    );
    assert_eq!(r.conn.activity(), Activity::Answering);
    r.at(1, b"");
    assert!(r.io.sent.is_empty());
    r.host.ready = true;
    r.at(2, b"");
    assert!(r.wire().ends_with("at last"));
    assert_eq!(r.statuses, [200]);
    assert!(!r.conn.deferred());
}

const SECOND: u64 = 1_000_000;

#[test]
fn a_request_that_falls_silent_gets_408_at_the_read_timeout() {
    let mut config = Config::new(16);
    config.read_timeout_us = 2 * SECOND;
    let mut r = Run::new(config);
    r.at(0, b"GET / HTTP/1.1\r\n");
    r.at(SECOND, b"Host: x\r\n");
    assert_eq!(r.conn.deadline(), Some(3 * SECOND));
    assert_eq!(r.timer(3 * SECOND - 1), None);
    assert!(r.statuses.is_empty(), "not before");
    assert_eq!(
        r.timer(3 * SECOND),
        Some(Timeout::Head),
        "silence in a head"
    );
    assert_eq!(r.statuses, [408]);
}

#[test]
fn a_body_below_the_minimum_rate_gets_408() {
    let mut config = Config::new(16);
    config.read_timeout_us = 2 * SECOND;
    config.min_body_rate = 100;
    let mut r = Run::put(config, "Content-Length: 1000\r\n");
    // 350 bytes by 2.9 s: at 100 bytes/s they last until 3.5 s (the
    // silence limit would be 4.9 s).
    r.at(SECOND, &[b'x'; 300]);
    r.at(2_900_000, &[b'x'; 50]);
    assert_eq!(r.timer(3_500_000), None);
    assert!(r.statuses.is_empty(), "at the rate");
    assert_eq!(r.timer(3_500_001), Some(Timeout::BodyRate));
    assert_eq!(r.statuses, [408]);
    assert_eq!(r.host.aborts, 1);
    // With a rate of 0 only the silence counts.
    let mut config = Config::new(16);
    config.read_timeout_us = 2 * SECOND;
    let mut r = Run::put(config, "Content-Length: 1000\r\n");
    r.at(SECOND, b"x");
    assert_eq!(r.conn.deadline(), Some(3 * SECOND));
    assert_eq!(
        r.timer(3 * SECOND),
        Some(Timeout::Body),
        "silence in a body"
    );
    assert_eq!(r.statuses, [408]);
}

#[test]
fn stop_closes_an_idle_connection_and_ends_the_one_answering() {
    let mut r = Run::new(Config::new(16));
    r.at(0, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    r.conn.stop();
    assert!(r.conn.wants_close());
    let mut r = Run::new(Config::new(16));
    r.at(0, b"GET / HTTP/1.1\r\n");
    r.conn.stop();
    assert!(!r.conn.wants_close(), "a request arriving is answered");
    r.at(1, b"Host: x\r\n\r\n");
    assert!(r.wire().contains("Connection: close\r\n"));
    assert!(r.io.closed);
}

#[test]
fn progress_below_the_transport_keeps_a_reply_alive() {
    struct Full(Wire);
    impl Transport for Full {
        fn recv(&mut self, into: &mut [u8]) -> usize {
            self.0.recv(into)
        }
        fn send(&mut self, _bytes: &[u8]) -> usize {
            0
        }
        fn peer_closed(&self) -> bool {
            false
        }
        fn close(&mut self) {}
    }
    let mut conn = Box::new(TestConn::new(Config::new(16)));
    let mut host = Host::default();
    let mut io = Full(Wire::default());
    conn.open(0);
    io.0.incoming.extend(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    conn.drive(&mut io, 0, || 0, None, &mut host, &mut |_| {});
    let send = Config::new(16).send_timeout_us;
    assert_eq!(conn.deadline(), Some(send));
    conn.peer_took(SECOND);
    assert_eq!(conn.deadline(), Some(SECOND + send));
}
