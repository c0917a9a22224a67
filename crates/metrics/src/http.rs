//! The HTTP metrics every server keeps, whatever it runs on: requests by
//! method and status class, their durations, bytes each way,
//! connections (open, accepted, refused at the cap, evicted) and the
//! deadlines the connection engine enforced.
//!
//! Kept in atomics so that one writer (the unikernel's loop, one worker
//! process of the hosted server) updates them while anyone reads them
//! (another worker summing every worker's block in shared memory). With
//! one writer an update is a load and a store, no read-modify-write
//! instruction; two writers at once could lose counts, never corrupt
//! memory.

use core::sync::atomic::AtomicU64;

use bedrock_conn::{LogRecord, Timeout};

use crate::histogram::{Histogram, HistogramSnapshot};
use crate::limits::DURATION_BOUNDS_US;
use crate::text::{Kind, Value, Writer};
use crate::{add, load};

/// The `method` label's values: the methods of RFC 9110 9.3 an app
/// routes (compared case-sensitively, RFC 9110 9.1), and `other` for
/// the rest (TRACE, CONNECT, extension methods, and a request line too
/// broken to name one).
pub const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other",
];
/// The `status` label's values: the classes of RFC 9110 15 (a status
/// outside 100..=599 counts as `5xx`, a server fault).
pub const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
/// The `kind` label's values of the timeout counter, in the order of
/// [`Timeout`]'s variants.
pub const TIMEOUT_KINDS: [&str; 5] = ["head", "body", "body_rate", "idle", "send"];

type Duration = Histogram<{ DURATION_BOUNDS_US.len() }>;

/// The counters of one writer (see the module doc).
pub struct HttpMetrics {
    requests: [[AtomicU64; STATUS_CLASSES.len()]; METHODS.len()],
    duration: Duration,
    received: AtomicU64,
    sent: AtomicU64,
    opened: AtomicU64,
    closed: AtomicU64,
    rejected: AtomicU64,
    evicted: AtomicU64,
    timeouts: [AtomicU64; TIMEOUT_KINDS.len()],
}

/// [`HttpMetrics`] at one moment, to add up and write. A server may set
/// what it counts elsewhere (the unikernel's TCP stack refuses and
/// evicts connections itself) before writing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpSnapshot {
    /// Requests answered, by [`METHODS`] and [`STATUS_CLASSES`].
    pub requests: [[u64; STATUS_CLASSES.len()]; METHODS.len()],
    /// Their durations.
    pub duration: HistogramSnapshot<{ DURATION_BOUNDS_US.len() }>,
    /// Bytes received on HTTP connections.
    pub received: u64,
    /// Bytes sent on HTTP connections.
    pub sent: u64,
    /// Connections accepted.
    pub opened: u64,
    /// Connections closed.
    pub closed: u64,
    /// Connections refused because the server was at its cap.
    pub rejected: u64,
    /// Connections closed to make room for a new one.
    pub evicted: u64,
    /// Deadlines enforced, by [`TIMEOUT_KINDS`].
    pub timeouts: [u64; TIMEOUT_KINDS.len()],
}

fn method_index(method: &str) -> usize {
    METHODS[..METHODS.len() - 1]
        .iter()
        .position(|&m| m == method)
        .unwrap_or(METHODS.len() - 1)
}

fn status_index(status: u16) -> usize {
    match status {
        100..=599 => usize::from(status / 100 - 1),
        _ => STATUS_CLASSES.len() - 1,
    }
}

fn timeout_index(t: Timeout) -> usize {
    match t {
        Timeout::Head => 0,
        Timeout::Body => 1,
        Timeout::BodyRate => 2,
        Timeout::Idle => 3,
        Timeout::Send => 4,
    }
}

impl HttpMetrics {
    /// All zero. `const`, so it can be a `static`.
    pub const fn new() -> Self {
        HttpMetrics {
            requests: [const { [const { AtomicU64::new(0) }; STATUS_CLASSES.len()] };
                METHODS.len()],
            duration: Histogram::new(&DURATION_BOUNDS_US),
            received: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            opened: AtomicU64::new(0),
            closed: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
            timeouts: [const { AtomicU64::new(0) }; TIMEOUT_KINDS.len()],
        }
    }

    /// Counts an answered request (what the connection engine hands the
    /// server's logger).
    pub fn request(&self, r: &LogRecord<'_>) {
        add(
            &self.requests[method_index(r.method)][status_index(r.status)],
            1,
        );
        self.duration.observe(r.micros);
    }

    /// Counts bytes received on a connection.
    pub fn received(&self, bytes: usize) {
        add(&self.received, bytes as u64);
    }

    /// Counts bytes sent on a connection.
    pub fn sent(&self, bytes: usize) {
        add(&self.sent, bytes as u64);
    }

    /// A connection was accepted.
    pub fn opened(&self) {
        add(&self.opened, 1);
    }

    /// A connection was closed.
    pub fn closed(&self) {
        add(&self.closed, 1);
    }

    /// A connection was refused: the server was at its cap.
    pub fn rejected(&self) {
        add(&self.rejected, 1);
    }

    /// A connection was closed to make room for a new one.
    pub fn evicted(&self) {
        add(&self.evicted, 1);
    }

    /// The connection engine enforced a deadline ([`bedrock_conn::Conn::on_timer`]).
    pub fn timeout(&self, t: Timeout) {
        add(&self.timeouts[timeout_index(t)], 1);
    }

    /// A new writer takes over from one that died (a restarted worker):
    /// the counts go on, but the dead one's connections are gone.
    pub fn restart(&self) {
        self.closed
            .store(load(&self.opened), core::sync::atomic::Ordering::Relaxed);
    }

    /// The values now.
    pub fn snapshot(&self) -> HttpSnapshot {
        let all = |counters: &[AtomicU64]| -> [u64; STATUS_CLASSES.len()] {
            core::array::from_fn(|i| load(&counters[i]))
        };
        HttpSnapshot {
            requests: core::array::from_fn(|m| all(&self.requests[m])),
            duration: self.duration.snapshot(),
            received: load(&self.received),
            sent: load(&self.sent),
            opened: load(&self.opened),
            closed: load(&self.closed),
            rejected: load(&self.rejected),
            evicted: load(&self.evicted),
            timeouts: core::array::from_fn(|i| load(&self.timeouts[i])),
        }
    }
}

impl Default for HttpMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpSnapshot {
    /// Adds `other`'s counts (another worker's).
    pub fn add(&mut self, other: &HttpSnapshot) {
        for (row, o) in self.requests.iter_mut().zip(&other.requests) {
            for (c, o) in row.iter_mut().zip(o) {
                *c = c.wrapping_add(*o);
            }
        }
        self.duration.add(&other.duration);
        for (c, o) in [
            (&mut self.received, other.received),
            (&mut self.sent, other.sent),
            (&mut self.opened, other.opened),
            (&mut self.closed, other.closed),
            (&mut self.rejected, other.rejected),
            (&mut self.evicted, other.evicted),
        ] {
            *c = c.wrapping_add(o);
        }
        for (c, o) in self.timeouts.iter_mut().zip(other.timeouts) {
            *c = c.wrapping_add(o);
        }
    }

    /// Connections open now: accepted and not yet closed.
    pub fn open(&self) -> u64 {
        self.opened.saturating_sub(self.closed)
    }

    /// Writes the families `bedrock_http_*`.
    pub fn write(&self, w: &mut Writer<'_>) {
        if w.family(
            &["bedrock_http_requests_total"],
            "HTTP requests answered, by method and status class (health and metrics requests, and the 400s and 408s of malformed or slow ones, included).",
            Kind::Counter,
        ) {
            for (method, row) in METHODS.iter().zip(&self.requests) {
                for (status, &n) in STATUS_CLASSES.iter().zip(row) {
                    let labels = [("method", *method), ("status", *status)];
                    w.sample("", &labels, Value::Int(n));
                }
            }
        }
        self.duration.write(
            w,
            "bedrock_http_request_duration_seconds",
            "Time from a request's first byte to its reply being queued.",
        );
        w.counter(
            "bedrock_http_received_bytes_total",
            "Bytes received on HTTP connections (heads and bodies).",
            Value::Int(self.received),
        );
        w.counter(
            "bedrock_http_sent_bytes_total",
            "Bytes sent on HTTP connections (heads and bodies).",
            Value::Int(self.sent),
        );
        w.gauge(
            "bedrock_http_open_connections",
            "HTTP connections open now.",
            Value::Int(self.open()),
        );
        w.counter(
            "bedrock_http_accepted_connections_total",
            "HTTP connections accepted.",
            Value::Int(self.opened),
        );
        w.counter(
            "bedrock_http_rejected_connections_total",
            "Connections refused because the server was at its connection cap.",
            Value::Int(self.rejected),
        );
        w.counter(
            "bedrock_http_evicted_connections_total",
            "Connections closed to make room for a new one at the connection cap.",
            Value::Int(self.evicted),
        );
        if w.family(
            &["bedrock_http_timeouts_total"],
            "Connection deadlines enforced, by kind: head (408), body (408), body_rate (408: below the minimum rate), idle (closed), send (a reply not read, abandoned).",
            Kind::Counter,
        ) {
            for (kind, &n) in TIMEOUT_KINDS.iter().zip(&self.timeouts) {
                w.sample("", &[("kind", kind)], Value::Int(n));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MIN_STREAM_BUFFER;

    fn record(method: &str, status: u16, micros: u64) -> LogRecord<'_> {
        LogRecord {
            method,
            target: "/",
            status,
            bytes: 0,
            micros,
        }
    }

    fn text(s: &HttpSnapshot) -> String {
        let mut buf = vec![0u8; 64 * 1024];
        let mut w = Writer::new(&mut buf, 0);
        s.write(&mut w);
        let n = w.finish().len;
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    /// The value of the sample `series` (its name and labels as written).
    fn value(text: &str, series: &str) -> u64 {
        let line = text
            .lines()
            .find(|l| l.strip_prefix(series).is_some_and(|v| v.starts_with(' ')))
            .unwrap_or_else(|| panic!("no sample {series}"));
        line[series.len()..].trim().parse().unwrap()
    }

    #[test]
    fn requests_count_by_method_and_status_class() {
        let m = HttpMetrics::new();
        for _ in 0..3 {
            m.request(&record("GET", 200, 10));
        }
        m.request(&record("GET", 204, 10));
        m.request(&record("get", 404, 10));
        m.request(&record("BREW", 501, 10));
        m.request(&record("-", 400, 10));
        m.request(&record("DELETE", 99, 10));
        m.request(&record("DELETE", 600, 10));
        let t = text(&m.snapshot());
        for (method, status, want, why) in [
            ("GET", "2xx", 4, "200 and 204"),
            (
                "other",
                "4xx",
                2,
                "method names are case-sensitive; `-` is other",
            ),
            ("other", "5xx", 1, "an extension method"),
            ("DELETE", "5xx", 2, "99 and 600 are server faults"),
            ("GET", "4xx", 0, "zero is written too"),
        ] {
            let series =
                format!("bedrock_http_requests_total{{method=\"{method}\",status=\"{status}\"}}");
            assert_eq!(value(&t, &series), want, "{why}");
        }
        // Every combination is there, zero or not.
        let samples = t
            .lines()
            .filter(|l| l.starts_with("bedrock_http_requests_total{"))
            .count();
        assert_eq!(samples, METHODS.len() * STATUS_CLASSES.len());
        for (class, status) in STATUS_CLASSES.iter().zip([100, 200, 300, 400, 500]) {
            let m = HttpMetrics::new();
            m.request(&record("PUT", status + 99, 1));
            let s = m.snapshot();
            let class_at = STATUS_CLASSES.iter().position(|c| c == class).unwrap();
            assert_eq!(s.requests[3][class_at], 1, "{status} + 99 is {class}");
        }
        assert_eq!(value(&t, "bedrock_http_request_duration_seconds_count"), 9);
    }

    #[test]
    fn connections_bytes_and_timeouts() {
        let m = HttpMetrics::new();
        m.opened();
        m.opened();
        m.opened();
        m.closed();
        m.rejected();
        m.evicted();
        m.received(100);
        m.sent(2_000);
        m.timeout(Timeout::Idle);
        m.timeout(Timeout::Idle);
        m.timeout(Timeout::BodyRate);
        let t = text(&m.snapshot());
        for (series, want) in [
            ("bedrock_http_open_connections", 2),
            ("bedrock_http_accepted_connections_total", 3),
            ("bedrock_http_rejected_connections_total", 1),
            ("bedrock_http_evicted_connections_total", 1),
            ("bedrock_http_received_bytes_total", 100),
            ("bedrock_http_sent_bytes_total", 2000),
            ("bedrock_http_timeouts_total{kind=\"idle\"}", 2),
            ("bedrock_http_timeouts_total{kind=\"body_rate\"}", 1),
            ("bedrock_http_timeouts_total{kind=\"head\"}", 0),
        ] {
            assert_eq!(value(&t, series), want, "{series}");
        }
        // A restarted writer's connections are gone; its counts stay.
        m.restart();
        let s = m.snapshot();
        assert_eq!((s.open(), s.opened, s.rejected), (0, 3, 1));
    }

    #[test]
    fn workers_add_up() {
        let (a, b) = (HttpMetrics::new(), HttpMetrics::new());
        a.request(&record("GET", 200, 5));
        b.request(&record("GET", 200, 5_000_000));
        a.opened();
        b.opened();
        b.timeout(Timeout::Send);
        a.sent(1);
        b.sent(2);
        let mut sum = a.snapshot();
        sum.add(&b.snapshot());
        assert_eq!(sum.requests[0][1], 2);
        assert_eq!(sum.duration.count(), 2);
        assert_eq!((sum.open(), sum.sent, sum.timeouts[4]), (2, 3, 1));
    }

    #[test]
    fn every_family_fits_a_piece_at_its_largest() {
        // Every counter at its longest value, every family written into
        // one piece of MIN_STREAM_BUFFER bytes on its own.
        let m = HttpMetrics::new();
        let mut s = m.snapshot();
        s.requests = [[u64::MAX; STATUS_CLASSES.len()]; METHODS.len()];
        s.duration.counts = [u64::MAX / 64; DURATION_BOUNDS_US.len()];
        s.duration.sum_us = u64::MAX;
        let families = text(&s).matches("# TYPE ").count();
        let mut from = 0;
        while from < families as u32 {
            let mut buf = [0u8; MIN_STREAM_BUFFER];
            let mut w = Writer::new(&mut buf, from);
            s.write(&mut w);
            let piece = w.finish();
            let written = core::str::from_utf8(&buf[..piece.len]).unwrap();
            assert!(!written.contains("left out"), "{written}");
            assert!(piece.next > from);
            from = piece.next;
        }
    }
}
