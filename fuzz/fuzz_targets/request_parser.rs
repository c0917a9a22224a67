//! Fuzz the request parser, framing, the chunked decoder, percent-decoding
//! and Range parsing: none may panic on any input.
#![no_main]

use bedrock_http::{
    framing, parse_range_header, parse_request, percent_decode, BodyKind, ByteRange,
    ChunkedDecoder, Header, Limits, Status,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let mut headers = [Header::EMPTY; 64];
    let Ok(Status::Complete((req, head_len))) = parse_request(data, &mut headers, &limits) else {
        return;
    };
    assert!(head_len <= data.len());
    assert_eq!(bedrock_http::find_head_end(data, 0), Some(head_len));

    let mut path = [0u8; 256];
    let _ = percent_decode(req.path().as_bytes(), &mut path);

    if let Some(range) = req.header("range") {
        let mut ranges = [ByteRange { start: 0, end: 0 }; 4];
        let _ = parse_range_header(range, 1000, &mut ranges);
    }

    if let Ok(f) = framing(&req) {
        if f.body == BodyKind::Chunked {
            let mut decoder = ChunkedDecoder::new(&limits);
            let mut rest = &data[head_len..];
            let mut out = [0u8; 7];
            while let Ok(p) = decoder.decode(rest, &mut out) {
                assert!(p.consumed <= rest.len() && p.written <= out.len());
                rest = &rest[p.consumed..];
                if p.done || (p.consumed == 0 && p.written == 0) {
                    break;
                }
            }
        }
    }
});
