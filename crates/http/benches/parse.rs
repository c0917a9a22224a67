//! parse_request against httparse on the same inputs.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;
use std::time::Duration;

use bedrock_http::{parse_request, Header, Limits, Status};
use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};

#[path = "../../../benches/alternate.rs"]
mod alternate;

const SMALL_GET: &[u8] = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n";

const BROWSER_GET: &[u8] = b"GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n\
Host: www.kittyhell.com\r\n\
User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.9\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Connection: keep-alive\r\n\
Cache-Control: max-age=0\r\n\
Sec-Ch-Ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n\
Sec-Ch-Ua-Mobile: ?0\r\n\
Sec-Fetch-Site: none\r\n\
Sec-Fetch-Mode: navigate\r\n\
Upgrade-Insecure-Requests: 1\r\n\
Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; __utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x\r\n\r\n";

const POST_JSON: &[u8] = b"POST /api/v1/orders?expand=items HTTP/1.1\r\n\
Host: api.example.com\r\n\
Content-Type: application/json\r\n\
Content-Length: 27\r\n\
Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U\r\n\
Accept: application/json\r\n\
User-Agent: bedrock-client/0.1\r\n\r\n\
{\"item\":42,\"quantity\":3}\r\n";

const CASES: [(&str, &[u8]); 3] = [
    ("small_get", SMALL_GET),
    ("browser_get", BROWSER_GET),
    ("post_json", POST_JSON),
];

// Neither wrapper is inlined into its caller, so both parsers are timed as
// the same kind of call, whatever the loop around them.
#[inline(never)]
fn ours(input: &'static [u8], headers: &mut [Header<'static>], limits: &Limits) -> usize {
    match parse_request(black_box(input), headers, limits) {
        Ok(Status::Complete((req, n))) => {
            black_box(&req);
            n
        }
        _ => panic!("bedrock failed on {:?}", String::from_utf8_lossy(input)),
    }
}

#[inline(never)]
fn theirs(input: &'static [u8], headers: &mut [httparse::Header<'static>]) -> usize {
    let mut req = httparse::Request::new(headers);
    match req.parse(black_box(input)) {
        Ok(httparse::Status::Complete(n)) => {
            black_box(&req);
            n
        }
        _ => panic!("httparse failed on {:?}", String::from_utf8_lossy(input)),
    }
}

// The header arrays are filled once, outside the timed loop, for both
// parsers: zeroing 64 slots (2 KiB) each time would be the caller's cost,
// not the parser's, and would hide the difference between them.
fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse_request");
    g.measurement_time(Duration::from_secs(3));
    g.warm_up_time(Duration::from_secs(1));
    let limits = Limits::default();
    let mut ours_headers = [Header::EMPTY; 64];
    let mut their_headers = [httparse::EMPTY_HEADER; 64];
    for (case, input) in CASES {
        g.throughput(Throughput::Bytes(input.len() as u64));
        g.bench_function(BenchmarkId::new("bedrock", case), |b| {
            b.iter(|| ours(input, &mut ours_headers, &limits))
        });
        g.bench_function(BenchmarkId::new("httparse", case), |b| {
            b.iter(|| theirs(input, &mut their_headers))
        });
    }
    g.finish();
}

/// The same cases in alternating batches (see `benches/alternate.rs`).
fn alternating() {
    let limits = Limits::default();
    let mut ours_headers = [Header::EMPTY; 64];
    let mut their_headers = [httparse::EMPTY_HEADER; 64];
    alternate::heading("parse_request");
    for (case, input) in CASES {
        let times = alternate::fastest(
            || {
                ours(input, &mut ours_headers, &limits);
            },
            || {
                theirs(input, &mut their_headers);
            },
        );
        alternate::report(case, "httparse", times);
    }
}

criterion_group!(benches, bench);

fn main() {
    alternate::main(benches, alternating);
}
