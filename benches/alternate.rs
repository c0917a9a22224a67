//! Alternating batches, shared by the criterion benches of several crates
//! (each includes this file with `#[path]`).
//!
//! Criterion times one function for seconds, then the other. On a shared
//! VM a burst of noise then lands on one side only and moves a ratio by
//! 10-30%. Here the two sides take turns in short batches and each keeps
//! its fastest batch: a burst slows batches of both, and the minimum is
//! what the code costs when nothing else runs.

use std::time::{Duration, Instant};

/// Batches per side.
pub const BATCHES: usize = 400;
/// Calls per batch.
pub const PER_BATCH: u32 = 1000;

/// A bench binary's `main`: the criterion group `benches`, then (only
/// under `cargo bench`) the same cases in `alternating` batches, then
/// criterion's summary.
pub fn main(benches: fn(), alternating: fn()) {
    benches();
    if wanted() {
        alternating();
    }
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}

/// Only under `cargo bench`, not when `cargo test --benches` smoke-runs a
/// bench binary.
pub fn wanted() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// The heading above a group's rows.
pub fn heading(group: &str) {
    println!("{group}, fastest of {BATCHES} alternating batches of {PER_BATCH}:");
}

/// Fastest batch of `ours` and of `theirs`, taken in turn, in ns per call.
pub fn fastest(mut ours: impl FnMut(), mut theirs: impl FnMut()) -> (f64, f64) {
    // Generic, not `dyn`: an indirect call would add the same few ns to
    // both sides and pull every ratio towards 1.
    fn batch(f: &mut impl FnMut(), best: &mut Duration) {
        let t = Instant::now();
        for _ in 0..PER_BATCH {
            f();
        }
        *best = (*best).min(t.elapsed());
    }
    let (mut best_ours, mut best_theirs) = (Duration::MAX, Duration::MAX);
    for _ in 0..BATCHES {
        batch(&mut ours, &mut best_ours);
        batch(&mut theirs, &mut best_theirs);
    }
    let ns = |d: Duration| d.as_secs_f64() * 1e9 / f64::from(PER_BATCH);
    (ns(best_ours), ns(best_theirs))
}

/// One row: both times and the ratio (reference / bedrock; above 1.0x
/// bedrock is faster).
pub fn report(case: &str, reference: &str, (ours, theirs): (f64, f64)) {
    println!(
        "  {case:<16} bedrock {ours:7.1} ns  {reference} {theirs:7.1} ns  ratio {:.2}x",
        theirs / ours
    );
}
