//! When to parse a request head that is still arriving.
//!
//! The parser reads a head from its first byte whenever it runs, so
//! running it on every read makes a head that arrives one byte at a time
//! cost O(n²). Instead the connection searches only the bytes that are
//! new since its last look for the empty line that ends a head (RFC 9112
//! 2.1: CRLF CRLF after the field lines; the parser accepts no bare-LF
//! line end (RFC 9112 2.2 allows refusing it), so neither does the
//! search), and parses when that line is there.
//!
//! Three more occasions call for a parse, so that a connection answers
//! exactly what parsing on every read would have answered: when the
//! connection must decide now (its peer is gone, its input is full, the
//! head is over its size limit: the caller's `decide`), at the head's
//! deadline (see `Conn::on_timer`), and whenever the input has grown
//! [`REPARSE_GROWTH`] times since the last parse. The parser refuses a
//! malformed head at its first bad byte; the last rule keeps such a head
//! from lingering until its deadline (garbage or a TLS handshake sent in
//! one piece is refused at once, since a new head is always parsed at
//! first sight), while those parses cost less than 2n bytes together.

use bedrock_http::find_head_end;

/// A partial head is parsed again once the input has grown this many
/// times since its last parse.
pub(crate) const REPARSE_GROWTH: usize = 2;

/// How far the search for the end of the head at the start of the input
/// has got.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeadScan {
    /// Bytes at the start of the input known to hold no complete head.
    scanned: usize,
    /// How long the input was at the last parse; 0 before the first.
    parsed: usize,
    /// Bytes looked at by the search and the parser since the connection
    /// opened (a parse counts the bytes it can have read).
    #[cfg(test)]
    pub(crate) examined: usize,
}

impl HeadScan {
    /// Nothing looked at yet: a new head starts at the input's first byte.
    pub(crate) const fn new() -> Self {
        HeadScan {
            scanned: 0,
            parsed: 0,
            #[cfg(test)]
            examined: 0,
        }
    }

    /// The head just parsed is taken: the next one starts at the input's
    /// first byte.
    pub(crate) fn restart(&mut self) {
        self.scanned = 0;
        self.parsed = 0;
    }

    /// Whether the head at the start of `input` must be parsed now:
    /// `decide` when the caller needs an answer whatever the bytes,
    /// otherwise when the head may be complete or a parse is due. Looks
    /// only at bytes it has not searched before.
    pub(crate) fn due(&mut self, input: &[u8], decide: bool) -> bool {
        if decide || input.len() >= self.parsed.saturating_mul(REPARSE_GROWTH) {
            return true;
        }
        if input.len() <= self.scanned {
            return false;
        }
        // Only the new bytes are searched; at a line feed among them the
        // search looks at the three bytes before it, which may be old
        // (a CRLFCRLF can straddle two looks).
        #[cfg(test)]
        {
            self.examined += input.len() - self.scanned;
        }
        match find_head_end(input, self.scanned) {
            Some(_) => true,
            None => {
                self.scanned = input.len();
                false
            }
        }
    }

    /// Records a parse of `input`; `complete` is the head's length when
    /// the head was complete. A parse that ran out of input read it all
    /// without finding the end, so no head ends in it.
    pub(crate) fn parsed(&mut self, input: &[u8], complete: Option<usize>) {
        #[cfg(test)]
        {
            self.examined += complete.unwrap_or(input.len());
        }
        if complete.is_none() {
            self.scanned = input.len();
            self.parsed = input.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Conn, LogRecord};
    use bedrock_hotel::Hotels;

    /// 8 KiB: half the input buffer, half the parser's head limit.
    const N: usize = 8 * 1024;

    type TestConn = Conn<16384, 64, 4096>;

    fn head_of(len: usize) -> Vec<u8> {
        let mut head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ".to_vec();
        head.resize(len - 4, b'p');
        head.extend_from_slice(b"\r\n\r\n");
        head
    }

    /// Feeds `input` in pieces of `step` bytes, processing after each;
    /// returns the statuses answered and the bytes examined in all.
    fn feed(input: &[u8], step: usize) -> (Vec<u16>, usize) {
        let mut conn = Box::new(TestConn::new(Config::new(64)));
        let mut app = Box::new(Hotels::new());
        let mut statuses = Vec::new();
        let mut log = |r: &LogRecord<'_>| statuses.push(r.status);
        conn.open(0);
        for piece in input.chunks(step) {
            assert_eq!(conn.receive(0, piece), piece.len());
            conn.process(0, None, &mut *app, &mut log);
            while !conn.output().is_empty() {
                let n = conn.output().len();
                conn.sent(0, n);
                conn.process(0, None, &mut *app, &mut log);
            }
        }
        let examined = conn.head_examined();
        (statuses, examined)
    }

    #[test]
    fn a_head_fed_byte_by_byte_is_examined_in_linear_time() {
        let head = head_of(N);
        let (statuses, examined) = feed(&head, 1);
        assert_eq!(statuses, [200]);
        // Parsing the whole input on every read, as before, reads
        // 1 + 2 + ... + N bytes: N²/2, 33.6 million for 8 KiB.
        let every_read = N * (N + 1) / 2;
        println!(
            "{N}-byte head by 1 byte: {examined} bytes examined (every-read parsing: {every_read})"
        );
        // The search looks at each byte once, the parses at 1, 2, 4 ...
        // 4096 bytes read less than N together, and the final one N.
        assert!(examined <= 3 * N, "{examined} bytes examined");
        assert!(examined >= N, "every byte is looked at: {examined}");
        assert!(examined * 1000 < every_read);
    }

    #[test]
    fn a_head_in_one_piece_is_parsed_once_and_not_searched() {
        let head = head_of(N);
        let (statuses, examined) = feed(&head, head.len());
        assert_eq!(statuses, [200]);
        assert_eq!(examined, N);
        // In pieces of 512 bytes: parses at 512, 1024, 2048, 4096 and
        // 8192 (the last finds it complete), searches in between.
        let (statuses, examined) = feed(&head, 512);
        assert_eq!(statuses, [200]);
        assert!(examined <= 3 * N, "{examined} bytes examined");
    }

    #[test]
    fn pipelined_heads_are_each_examined_once() {
        let one = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let many = one.repeat(16);
        let (statuses, examined) = feed(&many, many.len());
        assert_eq!(statuses, [200; 16]);
        assert_eq!(examined, many.len());
    }

    #[test]
    fn the_search_resumes_where_it_stopped() {
        let head = head_of(64);
        let mut scan = HeadScan::new();
        assert!(scan.due(&head[..10], false), "a new head is parsed at once");
        scan.parsed(&head[..10], None);
        // Searched, not parsed, until the input doubles.
        assert!(!scan.due(&head[..11], false));
        assert!(!scan.due(&head[..19], false));
        assert_eq!(scan.examined, 10 + 1 + 8);
        assert!(!scan.due(&head[..19], false), "nothing new: nothing to do");
        assert_eq!(scan.examined, 19);
        assert!(scan.due(&head[..20], false), "doubled");
        scan.parsed(&head[..40], None);
        assert!(scan.due(&head[..41], true), "the caller must decide");
        // The CRLFCRLF at 60..64, split between two looks.
        assert!(!scan.due(&head[..62], false));
        assert!(scan.due(&head[..64], false));
        assert_eq!(scan.examined, 19 + 40 + 22 + 2);
    }
}
