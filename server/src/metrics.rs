//! The hosted server's `/metrics` page (bedrock-metrics answers the path
//! for every app): the HTTP counters every server keeps, summed over the
//! workers, and the supervisor's own. Each worker counts into its own
//! block of atomics in memory shared by every process (made before the
//! workers are forked); the worker that answers a scrape reads every
//! block and adds them up, so no lock is taken and no worker waits for
//! another.

use core::sync::atomic::{AtomicU64, Ordering};

use bedrock_metrics::{Exposition, HttpMetrics, Value, Writer};

use crate::args::MAX_WORKERS;
use crate::sys::mem::shared_atomics;
use crate::sys::Errno;

/// Every worker's counters, and the supervisor's.
pub struct Board {
    workers: [HttpMetrics; MAX_WORKERS],
    /// Worker processes configured (`--workers`).
    count: usize,
    restarts: AtomicU64,
}

impl Board {
    /// A board for `count` workers, in shared memory.
    pub fn create(count: usize) -> Result<&'static Board, Errno> {
        shared_atomics(|| Board::new(count))
    }

    fn new(count: usize) -> Board {
        Board {
            workers: [const { HttpMetrics::new() }; MAX_WORKERS],
            count: count.clamp(1, MAX_WORKERS),
            restarts: AtomicU64::new(0),
        }
    }

    /// Worker `i`'s block (the worker is its one writer).
    pub fn worker(&self, i: usize) -> &HttpMetrics {
        &self.workers[i.min(MAX_WORKERS - 1)]
    }

    /// The supervisor restarted a worker that died.
    pub fn restarted(&self) {
        self.restarts.fetch_add(1, Ordering::Relaxed);
    }
}

impl Exposition for Board {
    fn expose(&self, w: &mut Writer<'_>) {
        let mut http = self.workers[0].snapshot();
        for block in &self.workers[1..self.count] {
            http.add(&block.snapshot());
        }
        http.write(w);
        w.gauge(
            "bedrock_serve_workers",
            "Worker processes (--workers), each with its own listener and connections.",
            Value::Int(self.count as u64),
        );
        w.counter(
            "bedrock_serve_worker_restarts_total",
            "Worker processes the supervisor restarted after they died.",
            Value::Int(self.restarts.load(Ordering::Relaxed)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bedrock_conn::{LogRecord, Timeout};

    fn page(board: &Board) -> String {
        let mut buf = vec![0u8; 64 * 1024];
        let mut w = Writer::new(&mut buf, 0);
        board.expose(&mut w);
        let n = w.finish().len;
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    fn value(page: &str, series: &str) -> u64 {
        let line = page.lines().find(|l| l.starts_with(series)).unwrap();
        line[series.len()..].trim().parse().unwrap()
    }

    #[test]
    fn the_page_sums_the_configured_workers() {
        let board = Board::new(3);
        let get = LogRecord {
            method: "GET",
            target: "/",
            status: 200,
            bytes: 0,
            micros: 7,
        };
        board.worker(0).request(&get);
        board.worker(2).request(&get);
        board.worker(2).timeout(Timeout::Head);
        // Past the configured workers: not counted.
        board.worker(3).request(&get);
        board.worker(1).opened();
        board.restarted();
        let p = page(&board);
        let get_2xx = "bedrock_http_requests_total{method=\"GET\",status=\"2xx\"} ";
        assert_eq!(value(&p, get_2xx), 2);
        assert_eq!(value(&p, "bedrock_http_timeouts_total{kind=\"head\"} "), 1);
        assert_eq!(value(&p, "bedrock_http_open_connections "), 1);
        assert_eq!(value(&p, "bedrock_serve_workers "), 3);
        assert_eq!(value(&p, "bedrock_serve_worker_restarts_total "), 1);
        // A restarted worker's connections died with it.
        board.worker(1).restart();
        assert_eq!(value(&page(&board), "bedrock_http_open_connections "), 0);
    }

    #[test]
    fn worker_counts_at_and_past_the_limit() {
        let board = Board::new(MAX_WORKERS + 1);
        assert_eq!(board.count, MAX_WORKERS);
        assert!(core::ptr::eq(
            board.worker(MAX_WORKERS),
            board.worker(MAX_WORKERS - 1)
        ));
        assert_eq!(Board::new(0).count, 1);
    }
}
