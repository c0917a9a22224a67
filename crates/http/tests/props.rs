//! Property tests for the request parser and the chunked decoder.

use bedrock_http::{
    framing, parse_request, ChunkedDecoder, Header, Limits, Method, Request, Status, Version,
};
use proptest::prelude::*;

const TCHARS: &[u8] =
    b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const PCHARS: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?%";

fn from(set: &'static [u8], len: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(set), len)
        .prop_map(|v| String::from_utf8(v).unwrap())
}

fn token() -> impl Strategy<Value = String> {
    from(TCHARS, 1..12)
}

fn target() -> impl Strategy<Value = String> {
    from(PCHARS, 0..40).prop_map(|s| format!("/{s}"))
}

/// Visible ASCII and inner spaces/tabs; no leading or trailing whitespace.
fn value() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![8 => 0x21u8..0x7f, 1 => Just(b' '), 1 => Just(b'\t')],
        0..40,
    )
    .prop_map(|mut v| {
        while matches!(v.first(), Some(b' ' | b'\t')) {
            v.remove(0);
        }
        while matches!(v.last(), Some(b' ' | b'\t')) {
            v.pop();
        }
        v
    })
}

/// Like `value` but with any byte at all, to explore error paths.
fn any_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![3 => value(), 1 => proptest::collection::vec(any::<u8>(), 0..20)]
}

fn serialise(method: &str, target: &str, version: &str, headers: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut v = format!("{method} {target} {version}\r\n").into_bytes();
    for (n, val) in headers {
        v.extend_from_slice(n.as_bytes());
        v.extend_from_slice(b": ");
        v.extend_from_slice(val);
        v.extend_from_slice(b"\r\n");
    }
    v.extend_from_slice(b"\r\n");
    v
}

fn reserialise(r: &Request<'_, '_>) -> Vec<u8> {
    let headers: Vec<(String, Vec<u8>)> = r
        .headers
        .iter()
        .map(|h| (h.name_str().to_string(), h.value.to_vec()))
        .collect();
    serialise(r.method_str, r.target, r.version.as_str(), &headers)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_arbitrary_bytes(buf in proptest::collection::vec(any::<u8>(), 0..600), slots in 0usize..8) {
        let mut headers = vec![Header::EMPTY; slots];
        let limits = Limits { max_target_len: 64, max_head_len: 300, ..Limits::default() };
        if let Ok(Status::Complete((req, n))) = parse_request(&buf, &mut headers, &limits) {
            prop_assert!(n <= buf.len() && n <= 300);
            let _ = framing(&req);
        }
    }

    #[test]
    fn never_panics_after_a_valid_start(rest in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut buf = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
        buf.extend_from_slice(&rest);
        let mut headers = [Header::EMPTY; 16];
        if let Ok(Status::Complete((req, _))) = parse_request(&buf, &mut headers, &Limits::default()) {
            let _ = framing(&req);
        }
    }

    #[test]
    fn accepted_requests_round_trip(
        method in prop_oneof![Just("GET".to_string()), token()],
        target in target(),
        version in prop_oneof![Just("HTTP/1.1"), Just("HTTP/1.0"), Just("HTTP/2.0"), Just("HTTP/1.x")],
        headers in proptest::collection::vec((token(), any_value()), 0..8),
        junk in proptest::collection::vec(any::<u8>(), 0..3),
    ) {
        let mut buf = serialise(&method, &target, version, &headers);
        let at = junk.first().map_or(0, |&b| b as usize % buf.len());
        if junk.len() > 1 { buf.insert(at, junk[1]); }
        let mut slots = [Header::EMPTY; 16];
        if let Ok(Status::Complete((req, n))) = parse_request(&buf, &mut slots, &Limits::default()) {
            prop_assert!(n <= buf.len());
            let again = reserialise(&req);
            let mut slots2 = [Header::EMPTY; 16];
            match parse_request(&again, &mut slots2, &Limits::default()) {
                Ok(Status::Complete((req2, n2))) => {
                    prop_assert_eq!(req, req2);
                    prop_assert_eq!(n2, again.len());
                }
                other => prop_assert!(false, "re-serialised request failed: {:?}", other),
            }
        }
    }

    #[test]
    fn agrees_with_httparse(
        method in prop_oneof![Just("GET".to_string()), Just("POST".to_string()), token()],
        target in target(),
        minor in 0u8..2,
        headers in proptest::collection::vec((token(), value()), 0..10),
    ) {
        let version = if minor == 1 { "HTTP/1.1" } else { "HTTP/1.0" };
        let buf = serialise(&method, &target, version, &headers);
        let mut ours = [Header::EMPTY; 16];
        let Ok(Status::Complete((req, n))) = parse_request(&buf, &mut ours, &Limits::default()) else {
            return Err(TestCaseError::fail(format!("bedrock refused {:?}", String::from_utf8_lossy(&buf))));
        };
        let mut theirs = [httparse::EMPTY_HEADER; 16];
        let mut hreq = httparse::Request::new(&mut theirs);
        let Ok(httparse::Status::Complete(hn)) = hreq.parse(&buf) else {
            return Err(TestCaseError::fail("httparse refused"));
        };
        prop_assert_eq!(n, hn);
        prop_assert_eq!(Some(req.method_str), hreq.method);
        prop_assert_eq!(Some(req.target), hreq.path);
        prop_assert_eq!(Some(minor), hreq.version);
        prop_assert_eq!(req.version, if minor == 1 { Version::Http11 } else { Version::Http10 });
        prop_assert_eq!(req.method == Method::Other, Method::from_bytes(method.as_bytes()) == Method::Other);
        prop_assert_eq!(req.headers.len(), hreq.headers.len());
        for (a, b) in req.headers.iter().zip(hreq.headers.iter()) {
            prop_assert_eq!(a.name, b.name.as_bytes());
            prop_assert_eq!(a.value, b.value);
        }
    }

    #[test]
    fn chunked_round_trip(
        body in proptest::collection::vec(any::<u8>(), 0..2000),
        sizes in proptest::collection::vec(1usize..300, 1..20),
        splits in proptest::collection::vec(any::<usize>(), 0..6),
        out_cap in 1usize..64,
        upper in any::<bool>(),
        ext in any::<bool>(),
    ) {
        // encode with the given chunk sizes (cycled)
        let mut enc = Vec::new();
        let mut rest = &body[..];
        let mut k = 0;
        while !rest.is_empty() {
            let n = sizes[k % sizes.len()].min(rest.len());
            k += 1;
            let size = if upper { format!("{n:X}") } else { format!("{n:x}") };
            enc.extend_from_slice(size.as_bytes());
            if ext { enc.extend_from_slice(b";k=v"); }
            enc.extend_from_slice(b"\r\n");
            enc.extend_from_slice(&rest[..n]);
            enc.extend_from_slice(b"\r\n");
            rest = &rest[n..];
        }
        enc.extend_from_slice(b"0\r\nTrailer: x\r\n\r\nNEXT");
        // feed in pieces split at random points
        let mut cuts: Vec<usize> = splits.iter().map(|s| s % (enc.len() + 1)).collect();
        cuts.push(enc.len());
        cuts.sort_unstable();
        let mut d = ChunkedDecoder::new(&Limits::default());
        let mut out = vec![0u8; out_cap];
        let mut decoded = Vec::new();
        let mut pos = 0;
        let mut pending = Vec::new();
        for cut in cuts {
            pending.extend_from_slice(&enc[pos..cut]);
            pos = cut;
            loop {
                let p = d.decode(&pending, &mut out).unwrap();
                decoded.extend_from_slice(&out[..p.written]);
                pending.drain(..p.consumed);
                if p.done || (p.consumed == 0 && p.written == 0) { break; }
            }
        }
        prop_assert!(d.is_done());
        prop_assert_eq!(decoded, body);
        prop_assert_eq!(pending, b"NEXT".to_vec());
    }

    #[test]
    fn chunked_never_panics(input in proptest::collection::vec(any::<u8>(), 0..400), out_cap in 0usize..16) {
        let limits = Limits { max_trailer_len: 32, max_chunk_ext_len: 8, ..Limits::default() };
        let mut d = ChunkedDecoder::new(&limits);
        let mut out = vec![0u8; out_cap];
        let mut rest = &input[..];
        while let Ok(p) = d.decode(rest, &mut out) {
            prop_assert!(p.consumed <= rest.len() && p.written <= out.len());
            rest = &rest[p.consumed..];
            if p.done || (p.consumed == 0) { break; }
        }
    }
}
