//! A histogram of durations: fixed bucket bounds, counts kept per bucket
//! (not cumulative: one store per observation), written cumulatively
//! with `le` labels ending in `+Inf`, then `_sum` and `_count` (the
//! format's histogram, exposition format 0.0.4).

use core::sync::atomic::AtomicU64;

use crate::text::{seconds_text, value_buffer, Kind, Value, Writer};
use crate::{add, load};

/// Durations counted into buckets with the upper bounds `bounds` (in
/// microseconds, ascending): an observation goes to the first bucket
/// whose bound it does not exceed (`le`: less than or equal), past the
/// last one to `+Inf`. Updated by one writer at a time (see
/// [`crate::HttpMetrics`]), read by anyone.
pub struct Histogram<const N: usize> {
    bounds: &'static [u64; N],
    counts: [AtomicU64; N],
    /// Observations past the last bound.
    over: AtomicU64,
    sum_us: AtomicU64,
}

/// A histogram's values at one moment, to add up and write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistogramSnapshot<const N: usize> {
    /// The bucket bounds, in microseconds.
    pub bounds: &'static [u64; N],
    /// Observations in each bucket (not cumulative).
    pub counts: [u64; N],
    /// Observations past the last bound.
    pub over: u64,
    /// Sum of every observation, in microseconds.
    pub sum_us: u64,
}

impl<const N: usize> Histogram<N> {
    /// Empty, with these bounds.
    pub const fn new(bounds: &'static [u64; N]) -> Self {
        Histogram {
            bounds,
            counts: [const { AtomicU64::new(0) }; N],
            over: AtomicU64::new(0),
            sum_us: AtomicU64::new(0),
        }
    }

    /// Counts one observation of `us` microseconds.
    pub fn observe(&self, us: u64) {
        let bucket = self.bounds.iter().position(|&b| us <= b);
        add(bucket.map_or(&self.over, |i| &self.counts[i]), 1);
        add(&self.sum_us, us);
    }

    /// The values now.
    pub fn snapshot(&self) -> HistogramSnapshot<N> {
        HistogramSnapshot {
            bounds: self.bounds,
            counts: core::array::from_fn(|i| load(&self.counts[i])),
            over: load(&self.over),
            sum_us: load(&self.sum_us),
        }
    }
}

impl<const N: usize> HistogramSnapshot<N> {
    /// Adds `other`'s counts (same bounds: the same histogram of another
    /// worker).
    pub fn add(&mut self, other: &HistogramSnapshot<N>) {
        for (c, o) in self.counts.iter_mut().zip(other.counts) {
            *c = c.wrapping_add(o);
        }
        self.over = self.over.wrapping_add(other.over);
        self.sum_us = self.sum_us.wrapping_add(other.sum_us);
    }

    /// Every observation: what `+Inf` and `_count` say.
    pub fn count(&self) -> u64 {
        self.counts
            .iter()
            .fold(self.over, |sum, &c| sum.wrapping_add(c))
    }

    /// Writes the family `name` (in seconds: its name should end in
    /// `_seconds`).
    pub fn write(&self, w: &mut Writer<'_>, name: &str, help: &str) {
        if !w.family(&[name], help, Kind::Histogram) {
            return;
        }
        let mut cumulative = 0u64;
        for (&bound, &count) in self.bounds.iter().zip(&self.counts) {
            cumulative = cumulative.wrapping_add(count);
            let mut text = value_buffer();
            let le = seconds_text(bound, &mut text);
            w.sample("_bucket", &[("le", le)], Value::Int(cumulative));
        }
        let count = self.count();
        w.sample("_bucket", &[("le", "+Inf")], Value::Int(count));
        w.sample("_sum", &[], Value::Micros(self.sum_us));
        w.sample("_count", &[], Value::Int(count));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::DURATION_BOUNDS_US;

    static BOUNDS: [u64; 3] = [100, 1_000, 1_500_000];

    #[test]
    fn observations_at_a_bound_count_in_its_bucket_and_past_it_in_the_next() {
        for (i, &bound) in DURATION_BOUNDS_US.iter().enumerate() {
            let h = Histogram::new(&DURATION_BOUNDS_US);
            h.observe(bound);
            h.observe(bound + 1);
            let s = h.snapshot();
            assert_eq!(s.counts[i], 1, "{bound} is in its own bucket (le)");
            match DURATION_BOUNDS_US.get(i + 1) {
                Some(_) => assert_eq!(s.counts[i + 1], 1, "{bound} + 1 is in the next"),
                None => assert_eq!(s.over, 1, "past the last bound: +Inf only"),
            }
            assert_eq!(s.count(), 2);
            assert_eq!(s.sum_us, 2 * bound + 1);
        }
        let h = Histogram::new(&DURATION_BOUNDS_US);
        h.observe(0);
        assert_eq!(h.snapshot().counts[0], 1);
    }

    #[test]
    fn written_cumulatively_ending_in_inf_sum_and_count() {
        let h = Histogram::new(&BOUNDS);
        for us in [5, 100, 101, 2_000_000] {
            h.observe(us);
        }
        let mut buf = [0u8; 1024];
        let mut w = Writer::new(&mut buf, 0);
        h.snapshot().write(&mut w, "d_seconds", "Durations.");
        let n = w.finish().len;
        let text = core::str::from_utf8(&buf[..n]).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "# HELP d_seconds Durations.",
                "# TYPE d_seconds histogram",
                "d_seconds_bucket{le=\"0.0001\"} 2",
                "d_seconds_bucket{le=\"0.001\"} 3",
                "d_seconds_bucket{le=\"1.5\"} 3",
                "d_seconds_bucket{le=\"+Inf\"} 4",
                "d_seconds_sum 2.000206",
                "d_seconds_count 4",
            ]
        );
    }

    #[test]
    fn snapshots_of_two_workers_add_up() {
        let (a, b) = (Histogram::new(&BOUNDS), Histogram::new(&BOUNDS));
        a.observe(50);
        b.observe(50);
        b.observe(10_000_000);
        let mut sum = a.snapshot();
        sum.add(&b.snapshot());
        assert_eq!(sum.counts, [2, 0, 0]);
        assert_eq!((sum.over, sum.count(), sum.sum_us), (1, 3, 10_000_100));
    }
}
