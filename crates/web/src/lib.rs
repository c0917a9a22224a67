//! The web framework: routes declared next to their handlers with
//! [`route!`], a route table that is a plain `static` slice assembled at
//! compile time (no registration at start-up, no heap), path patterns with
//! literal segments and `{name}` / `{*rest}` parameters, typed extraction,
//! and the protocol answers every app should get for free: 404, 405 with
//! `Allow`, HEAD from GET without a body, OPTIONS with `Allow`, 501 for
//! unknown methods. It owns the step from a parsed request to a [`Reply`]
//! and the reply's head on the wire, and the contract by which an app
//! that keeps data hands its changes to its host ([`Persist`],
//! [`ChangeLog`]). Beside that, what most apps would otherwise write by
//! hand: records kept in a store with every change recorded
//! ([`Records`], [`persist_records!`]), JSON bodies read member by member and JSON replies
//! ([`JsonBody`], [`Reply::json`]), CORS ([`allow_any_origin`]) and
//! absolute URLs from the request's `Host` ([`Url`]). It does not read
//! sockets, keep connections, write anything down or know any app (that
//! is the servers' and the apps' job).
#![no_std]
#![forbid(unsafe_code)]

mod cors;
mod ctx;
mod dispatch;
mod handler;
mod json;
mod limits;
mod lookup;
mod methods;
mod persist;
mod records;
mod reply;
mod route;
#[cfg(feature = "test-support")]
pub mod testing;
mod url;

pub use bedrock_http::{Method, Request};
pub use cors::allow_any_origin;
pub use ctx::{Ctx, FromParam, Params};
pub use dispatch::{dispatch, routing_path, Response, Service};
pub use handler::Handler;
pub use json::{FromJson, JsonBody, JSON};
pub use limits::{
    MAX_JSON_FIELDS, MAX_PARAMS, MAX_RECORD_BYTES, MAX_REPLY_HEADERS, MAX_URL_PATH,
    REPLY_HEADER_BYTES, STREAM_NOTE_BYTES,
};
pub use lookup::{lookup, Lookup, Routes, INDEXED_ROUTES};
pub use methods::MethodSet;
pub use persist::{assert_fits, ChangeLog, LogFull, Persist, STREAM_FRAMING};
pub use records::{log_bytes, put_record, Record, Records, CHANGE_HEAD};
pub use reply::{
    Body, FileBody, Framing, HeadInfo, HeadOptions, Reject, Reply, Stream, StreamNote,
};
pub use route::{Outcome, Route};
pub use url::Url;

/// A request parsed from `head`, for unit tests that need one.
#[cfg(test)]
fn with_request<R>(head: &str, f: impl FnOnce(&Request<'_, '_>) -> R) -> R {
    use bedrock_http::{parse_request, Header, Limits, Status};
    let mut headers = [Header::EMPTY; 8];
    match parse_request(head.as_bytes(), &mut headers, &Limits::default()) {
        Ok(Status::Complete((request, _))) => f(&request),
        other => panic!("{head:?} does not parse: {other:?}"),
    }
}
