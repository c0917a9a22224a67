//! The app's limits, in one place.

/// Hotels the app can hold; past it, POST answers 507.
pub const CAPACITY: usize = 10_000;

/// Longest hotel name, in bytes of UTF-8; longer is a 422.
pub const MAX_NAME_BYTES: usize = 100;

/// Longest city name, in bytes of UTF-8; longer is a 422.
pub const MAX_CITY_BYTES: usize = 100;

/// Largest request body a create or update accepts; larger is a 413.
/// Room for the longest fields fully `\u`-escaped in JSON, and more.
pub const MAX_BODY_BYTES: usize = 4096;

/// The smallest `out` buffer a server may hand to the app: one record with
/// every byte escaped as `\u00XX` fits, so every streamed piece makes
/// progress.
pub const MIN_STREAM_BUFFER: usize = 64 + 6 * (MAX_NAME_BYTES + MAX_CITY_BYTES);

/// Most bytes the web page may take (it is sent whole on every visit, and
/// the unikernel keeps it in its image); a test fails past it.
pub const PAGE_BUDGET_BYTES: usize = 12 * 1024;

/// Bytes of change records one call into the app may leave for the host
/// (see `bedrock_web::Persist`): a request makes at most one change, and
/// the host takes them after every call; room for a few pipelined ones.
pub const CHANGE_LOG_BYTES: usize = bedrock_web::log_bytes::<crate::Hotel>(4);
