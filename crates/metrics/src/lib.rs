//! Metrics for every bedrock server, in the Prometheus text exposition
//! format (version 0.0.4): a writer of the format ([`Writer`]: `# HELP`
//! and `# TYPE` lines, samples with escaped label values, histograms
//! with cumulative `le` buckets, `_sum` and `_count`), the HTTP metrics
//! every server keeps ([`HttpMetrics`], fed from the connection engine's
//! log records and events), a way to write the counter sets of the
//! layers below ([`write_counters`]), and `GET /metrics` answered for
//! every app in front of a server's handler ([`Metered`]), streamed in
//! pieces. It owns the format and the HTTP counters' names; it does no
//! I/O and reads no clock, and what else a server exposes (its network
//! stack, its workers) is the server's to write.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod counters;
mod histogram;
mod http;
mod limits;
mod scrape;
mod text;

use core::sync::atomic::{AtomicU64, Ordering};

pub use counters::{write_counters, Drops};
pub use histogram::{Histogram, HistogramSnapshot};
pub use http::{HttpMetrics, HttpSnapshot, METHODS, STATUS_CLASSES, TIMEOUT_KINDS};
pub use limits::{DURATION_BOUNDS_US, MAX_NAME, MIN_STREAM_BUFFER};
pub use scrape::{piece, Exposition, Metered, CONTENT_TYPE, METRICS_PATH, STREAM_KIND};
pub use text::{valid_label_name, valid_metric_name, Kind, Piece, Value, Writer};

/// Adds `n` to a counter with one writer (a load and a store: see
/// [`HttpMetrics`]); wraps rather than overflow.
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    let v = counter.load(Ordering::Relaxed);
    counter.store(v.wrapping_add(n), Ordering::Relaxed);
}

/// A counter's value.
pub(crate) fn load(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}
