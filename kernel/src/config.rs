//! Build-time configuration, from environment variables read by build.rs
//! (a malformed value fails the build):
//!
//! - `BEDROCK_IP=10.0.3.15/24`: the interface address and prefix length
//!   (default: bedrock-net's, 10.0.2.15/24 for QEMU user networking);
//! - `BEDROCK_GATEWAY=10.0.3.1`: the default gateway (default 10.0.2.2);
//! - `BEDROCK_ECHO_PORT=7`: a TCP echo service on that port for bulk
//!   transfer tests (default: none, so `make run` images have no echo port);
//! - `BEDROCK_LOG=error|warn|info|debug|trace`: console log level (info);
//! - `BEDROCK_LOG_FORMAT=logfmt|json`: how the access log's lines look on
//!   the console (logfmt, the default; bedrock_conn::AccessLine);
//! - `BEDROCK_COMMIT=group|each`: with a disk, one append and flush for
//!   every change of a loop turn (group, the default) or one per request
//!   (each: only for the benchmark that compares them);
//! - `BEDROCK_WINDOW_SCALING=0`: with an echo service, the TCP stack
//!   neither offers nor accepts RFC 7323 window scaling (for the bulk
//!   benchmark's comparison, scripts/bench-bulk.py; default: on).
#![allow(missing_docs)] // generated constants, documented above

include!(concat!(env!("OUT_DIR"), "/build_config.rs"));

/// `BEDROCK_WINDOW_SCALING` (read here: rustc tracks the variable, so a
/// change rebuilds this crate).
pub const WINDOW_SCALING: bool = match option_env!("BEDROCK_WINDOW_SCALING") {
    Some(v) => !matches!(v.as_bytes(), b"0"),
    None => true,
};
