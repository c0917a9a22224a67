//! Property: how the input is cut into reads never changes what a
//! connection answers. The head is parsed only at some reads (head.rs), so
//! this holds only if a head the parser refuses at some length it refuses
//! at every greater length, with the same error.

use bedrock_conn::{Config, Conn, LogRecord};
use bedrock_hotel::Hotels;
use proptest::prelude::*;

type SmallConn = Conn<1024, 256, 1024>;

/// Pieces requests are made of, well-formed and not.
const FRAGMENTS: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\n",
    b"GET /api/hotels HTTP/1.1\r\n",
    b"POST /api/hotels HTTP/1.1\r\n",
    b"Host: x\r\n",
    b"Content-Length: 3\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Connection: close\r\n",
    b"Expect: 100-continue\r\n",
    b"A,B",
    b"3\r\nA,B\r\n0\r\n\r\n",
    b"\r\n",
    b"\r\n\r\n",
    b"\n",
    b"\r",
    b" ",
    b":",
    b"\x01",
    b"\xff",
    b"HTTP/1.0",
    b"HTTP/2.0\r\n",
    b"GET",
    b"/p?q",
];

fn input() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop_oneof![
        4 => proptest::sample::select(FRAGMENTS).prop_map(<[u8]>::to_vec),
        1 => proptest::collection::vec(any::<u8>(), 1..40),
    ];
    proptest::collection::vec(fragment, 0..24).prop_map(|v| v.concat())
}

/// A connection and what it has answered.
struct Run {
    conn: Box<SmallConn>,
    app: Box<Hotels>,
    wire: Vec<u8>,
    statuses: Vec<u16>,
}

impl Run {
    /// Processes and sends everything there is.
    fn drain(&mut self) {
        let statuses = &mut self.statuses;
        let mut log = |r: &LogRecord<'_>| statuses.push(r.status);
        self.conn.process(0, None, &mut *self.app, &mut log);
        while !self.conn.output().is_empty() {
            self.wire.extend_from_slice(self.conn.output());
            let n = self.conn.output().len();
            self.conn.sent(0, n);
            self.conn.process(0, None, &mut *self.app, &mut log);
        }
    }
}

/// Feeds `input` cut at `cuts` (offsets, any order), processing and
/// sending everything after each read, then closes the peer's side;
/// returns the bytes sent, the statuses logged, whether it wants to close.
fn run(input: &[u8], cuts: &[usize]) -> (Vec<u8>, Vec<u16>, bool) {
    let mut r = Run {
        conn: Box::new(SmallConn::new(Config::new(256))),
        app: Box::new(Hotels::new()),
        wire: Vec::new(),
        statuses: Vec::new(),
    };
    r.conn.open(0);
    let mut ends: Vec<usize> = cuts.iter().map(|&c| c % (input.len() + 1)).collect();
    ends.push(input.len());
    ends.sort_unstable();
    let mut at = 0;
    for end in ends {
        while at < end {
            let n = r.conn.receive(0, &input[at..end]);
            at += n;
            r.drain();
            if n == 0 {
                break; // input full and nothing answered: the rest waits
            }
        }
    }
    r.conn.peer_closed();
    r.drain();
    (without_continue(&r.wire), r.statuses, r.conn.wants_close())
}

/// The bytes sent without any `100 Continue`: a server may omit it once
/// some of the body has arrived (RFC 9110 10.1.1), so whether it goes out
/// depends on where the input was cut; the final answers must not.
fn without_continue(wire: &[u8]) -> Vec<u8> {
    const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";
    let mut out = Vec::with_capacity(wire.len());
    let mut at = 0;
    while at < wire.len() {
        if wire[at..].starts_with(CONTINUE) {
            at += CONTINUE.len();
        } else {
            out.push(wire[at]);
            at += 1;
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_cut_gives_the_same_answers(input in input(), cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let whole = run(&input, &[]);
        prop_assert_eq!(&run(&input, &cuts), &whole);
    }

    #[test]
    fn byte_at_a_time_gives_the_same_answers(input in input()) {
        let whole = run(&input, &[]);
        let cuts: Vec<usize> = (1..input.len()).collect();
        prop_assert_eq!(&run(&input, &cuts), &whole);
    }
}
