//! The crate's limits, in one place.

/// Longest metric name a family may have, suffixes such as `_bucket`
/// excluded: a family with a longer name is left out of the exposition.
pub const MAX_NAME: usize = 96;

/// Bytes of reply buffer a host must offer each streamed piece of
/// `/metrics` (beside `bedrock_web::STREAM_FRAMING`): the largest family
/// this crate writes, the request counters with every label at its
/// largest value, fits in it with room for a host's own (tested). A
/// family larger than the piece it is written into is left out, with a
/// comment line saying so.
pub const MIN_STREAM_BUFFER: usize = 4000;

/// Upper bounds of the request-duration histogram's buckets, in
/// microseconds (the exposition writes them in seconds, the base unit):
/// 50 µs (a request answered inside the unikernel) to 10 s (a body
/// arriving slowly); slower requests land in `+Inf` only.
pub const DURATION_BOUNDS_US: [u64; 17] = [
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000, 10_000_000,
];
