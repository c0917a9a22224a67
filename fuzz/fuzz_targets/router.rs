//! The web framework and the Hotel app behind it: arbitrary bytes as a
//! request (head and body), dispatched, the head written and any stream
//! drained. Nothing may panic, every head must fit and end in CRLFCRLF, and
//! a streamed body must end.
#![no_main]

use bedrock_hotel::{Hotels, MIN_STREAM_BUFFER};
use bedrock_http::{framing, parse_request, BodyKind, Header, Limits, Status};
use bedrock_web::{dispatch, testing, Body, Service};
use libfuzzer_sys::fuzz_target;
use std::sync::Mutex;

static APP: Mutex<Hotels> = Mutex::new(Hotels::new());

fuzz_target!(|data: &[u8]| {
    let mut headers = [Header::EMPTY; 64];
    let Ok(Status::Complete((request, head_len))) =
        parse_request(data, &mut headers, &Limits::default())
    else {
        return;
    };
    let Ok(framed) = framing(&request) else {
        return;
    };
    let rest = &data[head_len..];
    let body = match framed.body {
        BodyKind::Length(n) => &rest[..rest.len().min(n as usize)],
        _ => rest,
    };
    let mut app = APP.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = vec![0u8; MIN_STREAM_BUFFER];
    let response = dispatch(&mut *app, &request, body, &mut out);
    let (head, _) = testing::head(request.version, framed.keep_alive, &response);
    assert!(head.ends_with(b"\r\n\r\n"));
    if let Body::Stream(mut stream) = response.reply.body {
        let mut pieces = 0usize;
        while app.stream(&mut stream, &mut out) > 0 {
            pieces += 1;
            assert!(pieces <= 1 + 10_000, "stream never ends");
        }
    }
});
