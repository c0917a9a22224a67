//! The Hotel app: a CRUD API over hotels (name, city) at `/api/hotels`, its
//! web page at `/hotels`, and at `/` the page or a welcome text chosen by
//! `Accept`, written once and served by both the unikernel and the hosted
//! server. It owns the routes, request-body formats (the seed's
//! `name,city` text, HTML-form and JSON) and their one validation rule
//! (JSON strings stored exactly as decoded, text and form fields trimmed,
//! control characters refused in all three: see `body`), the JSON it answers
//! with and its error bodies; records live in a fixed-capacity
//! `bedrock-store`, and each change is an explicit record it hands its
//! host (`bedrock_web::Persist`, the format in `change`). It does no I/O
//! and keeps no clock: storing records and connections belong to the
//! servers.
#![no_std]
#![forbid(unsafe_code)]

mod api;
mod body;
mod change;
mod csp;
mod limits;
mod page;
mod record;

pub use api::{Hotels, LIST_STREAM};
pub use body::{parse_hotel, BodyError, FieldError};
pub use change::{put as put_record, MAX_CHANGE_BYTES};
pub use limits::{
    CAPACITY, MAX_BODY_BYTES, MAX_CITY_BYTES, MAX_NAME_BYTES, MIN_STREAM_BUFFER, PAGE_BUDGET_BYTES,
};
pub use page::{wants_html, PAGE, WELCOME};
pub use record::{Hotel, Text};
