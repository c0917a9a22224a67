//! `Conn::drive` over a mock transport: what arrives, what is sent, when
//! the transport is closed, and when the app's clock is read.

use std::collections::VecDeque;

use bedrock_conn::{Config, Conn, LogRecord, Transport, HEAD_TIMEOUT_US};
use bedrock_hotel::Hotels;

type HotelConn = Conn<16384, 4096, 4096>;

/// A transport whose peer is the test.
struct Mock {
    /// Sent by the peer, not yet received.
    incoming: VecDeque<u8>,
    /// Most bytes one `recv` hands over.
    recv_max: usize,
    /// Most bytes one `send` takes.
    send_max: usize,
    /// Bytes `send` takes before it is full, until the test makes room.
    room: usize,
    /// Everything sent.
    wire: Vec<u8>,
    eof: bool,
    sends: usize,
    closes: usize,
}

impl Transport for Mock {
    fn recv(&mut self, into: &mut [u8]) -> usize {
        assert!(!into.is_empty(), "recv into an empty buffer");
        let n = into.len().min(self.recv_max).min(self.incoming.len());
        for (slot, b) in into.iter_mut().zip(self.incoming.drain(..n)) {
            *slot = b;
        }
        n
    }

    fn send(&mut self, bytes: &[u8]) -> usize {
        assert_eq!(self.closes, 0, "send after close");
        let n = bytes.len().min(self.send_max).min(self.room);
        self.wire.extend_from_slice(&bytes[..n]);
        self.room -= n;
        self.sends += usize::from(n > 0);
        n
    }

    fn peer_closed(&self) -> bool {
        self.eof
    }

    fn close(&mut self) {
        self.closes += 1;
    }
}

struct Harness {
    conn: Box<HotelConn>,
    app: Box<Hotels>,
    io: Mock,
    now: u64,
    /// What the clock says, and how often it was read.
    clock: u64,
    clock_reads: usize,
    /// (method, target, status, micros) of each answer.
    log: Vec<(String, String, u16, u64)>,
}

impl Harness {
    fn new() -> Self {
        let mut conn = Box::new(HotelConn::new(Config::new(4096)));
        conn.open(0);
        Harness {
            conn,
            app: Box::new(Hotels::new()),
            io: Mock {
                incoming: VecDeque::new(),
                recv_max: usize::MAX,
                send_max: usize::MAX,
                room: usize::MAX,
                wire: Vec::new(),
                eof: false,
                sends: 0,
                closes: 0,
            },
            now: 0,
            clock: 0,
            clock_reads: 0,
            log: Vec::new(),
        }
    }

    fn arrive(&mut self, bytes: &[u8]) {
        self.io.incoming.extend(bytes);
    }

    fn drive(&mut self) -> bool {
        let (clock, reads) = (self.clock, &mut self.clock_reads);
        let log = &mut self.log;
        self.conn.drive(
            &mut self.io,
            self.now,
            || {
                *reads += 1;
                clock
            },
            None,
            &mut *self.app,
            &mut |r: &LogRecord<'_>| {
                log.push((r.method.into(), r.target.into(), r.status, r.micros));
            },
        )
    }

    fn statuses(&self) -> Vec<u16> {
        self.log.iter().map(|l| l.2).collect()
    }
}

/// Status codes and bodies of the replies on `wire` (Content-Length or
/// chunked; a HEAD reply's or a 1xx's head alone is not expected).
fn replies(mut wire: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let mut out = Vec::new();
    while !wire.is_empty() {
        let end = wire.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let head = std::str::from_utf8(&wire[..end])
            .unwrap()
            .to_ascii_lowercase();
        wire = &wire[end..];
        let status = head[9..12].parse().unwrap();
        let mut body = Vec::new();
        if let Some(at) = head.find("content-length: ") {
            let len: usize = head[at + 16..]
                .split("\r\n")
                .next()
                .unwrap()
                .parse()
                .unwrap();
            body.extend_from_slice(&wire[..len]);
            wire = &wire[len..];
        } else {
            assert!(head.contains("transfer-encoding: chunked"), "{head}");
            loop {
                let line = wire.windows(2).position(|w| w == b"\r\n").unwrap();
                let size = std::str::from_utf8(&wire[..line]).unwrap();
                let size = usize::from_str_radix(size, 16).unwrap();
                wire = &wire[line + 2..];
                body.extend_from_slice(&wire[..size]);
                wire = &wire[size + 2..];
                if size == 0 {
                    break;
                }
            }
        }
        out.push((status, body));
    }
    out
}

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn one_request() {
    let mut h = Harness::new();
    h.arrive(GET);
    assert!(h.drive());
    let got = replies(&h.io.wire);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, 200);
    assert_eq!(h.io.closes, 0, "kept alive");
    // Nothing new: nothing moves, and the idle connection is not processed.
    let reads = h.clock_reads;
    assert!(!h.drive());
    assert_eq!(h.clock_reads, reads);
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let mut h = Harness::new();
    h.arrive(b"GET /api/hotels/1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /api/hotels HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nA,BGET /api/hotels/1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(h.drive());
    assert_eq!(h.statuses(), [404, 201, 200]);
    let wire: Vec<u16> = replies(&h.io.wire).iter().map(|r| r.0).collect();
    assert_eq!(wire, [404, 201, 200]);
}

#[test]
fn more_pipelined_requests_than_the_input_holds() {
    // Replies drain the input, and the rest is read in the same call.
    let mut h = Harness::new();
    let burst = GET.repeat(1000);
    assert!(burst.len() > 16384);
    h.arrive(&burst);
    assert!(h.drive());
    assert_eq!(h.statuses(), vec![200; 1000]);
    assert!(h.io.incoming.is_empty());
    assert_eq!(replies(&h.io.wire).len(), 1000);
}

#[test]
fn a_reply_larger_than_the_transport_takes_goes_out_in_pieces() {
    let mut whole = Harness::new();
    let mut pieces = Harness::new();
    for h in [&mut whole, &mut pieces] {
        let mut record = [0u8; bedrock_hotel::MAX_CHANGE_BYTES];
        for i in 0..500 {
            let hotel = bedrock_hotel::parse_hotel(None, format!("H{i},C{i}").as_bytes()).unwrap();
            let len = bedrock_hotel::put_record(i + 1, &hotel, &mut record);
            assert!(bedrock_web::Persist::replay(&mut *h.app, &record[..len]));
        }
        h.arrive(b"GET /api/hotels HTTP/1.1\r\nHost: x\r\n\r\n");
        h.arrive(GET);
    }
    assert!(whole.drive());
    let expected = whole.io.wire.clone();
    assert!(expected.len() > 15_000, "{} bytes", expected.len());

    // At most 700 bytes a send, 3000 until the peer reads some.
    pieces.io.send_max = 700;
    pieces.io.room = 0;
    assert!(pieces.drive(), "the requests were read");
    assert!(pieces.io.wire.is_empty());
    assert!(!pieces.drive(), "full: nothing moves");
    let mut rounds = 0;
    while pieces.io.wire.len() < expected.len() {
        pieces.io.room = 3000;
        assert!(pieces.drive());
        let done = pieces.io.wire.len() == expected.len();
        assert!(
            done || pieces.io.room == 0,
            "it sends while the transport takes"
        );
        rounds += 1;
    }
    assert!(rounds > 6);
    assert_eq!(pieces.io.wire, expected);
    assert_eq!(pieces.statuses(), [200, 200]);
    let got = replies(&pieces.io.wire);
    assert_eq!(got.len(), 2);
    assert!(got[0].1.starts_with(b"[{"), "the list, streamed");
    assert_eq!(pieces.io.closes, 0);
}

#[test]
fn peer_close_mid_request_closes_without_a_reply() {
    let mut h = Harness::new();
    h.arrive(b"GET / HTTP/1.1\r\nHo");
    assert!(h.drive());
    assert_eq!(h.io.closes, 0);
    h.io.eof = true;
    assert!(h.drive());
    assert!(h.io.wire.is_empty());
    assert!(h.conn.wants_close());
    assert_eq!(h.io.closes, 1);
}

#[test]
fn connection_close_closes_after_the_reply_and_lingers() {
    let mut h = Harness::new();
    h.arrive(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(h.drive());
    assert_eq!(replies(&h.io.wire).len(), 1);
    assert_eq!(h.io.closes, 1);
    // What the peer still sends is dropped (by `Transport::discard`'s
    // default) until the close completes.
    h.arrive(&GET.repeat(100));
    assert!(!h.drive(), "nothing is answered once closed");
    assert!(h.io.incoming.is_empty());
    assert_eq!(replies(&h.io.wire).len(), 1);
    assert_eq!(h.io.closes, 2, "close again: the transport ignores it");
}

#[test]
fn a_reply_the_peer_half_closed_for_is_sent_then_closed() {
    let mut h = Harness::new();
    h.arrive(GET);
    h.io.eof = true;
    assert!(h.drive());
    assert_eq!(replies(&h.io.wire)[0].0, 200);
    assert_eq!(h.io.closes, 1);
}

#[test]
fn a_head_arriving_one_byte_per_call() {
    let mut h = Harness::new();
    for (k, &b) in GET.iter().enumerate() {
        h.arrive(&[b]);
        let reads = h.clock_reads;
        assert!(h.drive(), "byte {k} moved");
        if k + 1 < GET.len() {
            assert_eq!(h.clock_reads, reads + 1, "processed once for byte {k}");
            assert!(h.io.wire.is_empty(), "answered at byte {k}");
            // Nothing new: not processed again.
            assert!(!h.drive());
            assert_eq!(h.clock_reads, reads + 1);
        }
    }
    assert_eq!(replies(&h.io.wire)[0].0, 200);
}

#[test]
fn a_transport_that_hands_over_one_byte_at_a_time() {
    let mut h = Harness::new();
    h.io.recv_max = 1;
    h.arrive(&GET.repeat(3));
    assert!(h.drive());
    assert_eq!(h.statuses(), [200, 200, 200]);
    // One process after the reads, one after each send (a reply's head
    // and body go out as two).
    assert_eq!(h.io.sends, 6);
    assert_eq!(h.clock_reads, 1 + h.io.sends);
}

#[test]
fn logged_time_covers_the_app() {
    let mut h = Harness::new();
    h.now = 1_000;
    h.clock = 1_250; // the clock moved on while the request was handled
    h.arrive(GET);
    assert!(h.drive());
    assert_eq!(h.log[0].3, 250);
}

#[test]
fn a_deadline_reply_goes_out_at_the_next_drive() {
    let mut h = Harness::new();
    h.arrive(b"GET / HTTP/1.1\r\nHo");
    assert!(h.drive());
    h.conn
        .on_timer(HEAD_TIMEOUT_US, None, &mut *h.app, &mut |_: &LogRecord<
            '_,
        >| {});
    assert!(h.drive());
    assert_eq!(replies(&h.io.wire)[0].0, 408);
    assert_eq!(h.io.closes, 1);
}
