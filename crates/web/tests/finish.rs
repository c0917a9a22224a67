//! `Service::finish` sees every reply, the framework's own included, and
//! a stream's note reaches its pieces.

use bedrock_web::testing::serve;
use bedrock_web::{
    route, Ctx, Outcome, Persist, Reply, Request, Route, Service, Stream, STREAM_NOTE_BYTES,
};

struct Tagged;

route! {
    GET "/echo-host" as ECHO_HOST;
    fn echo_host(_app: &mut Tagged, cx: &mut Ctx<'_>) -> Outcome {
        let host = cx.header("host").unwrap_or(b"");
        let stream = Stream::new(1, 0).with_note(host).ok_or(bedrock_web::Reject::new(400, "long"))?;
        Ok(Reply::stream(200, "text/plain", stream))
    }
}

impl Persist for Tagged {}

impl Service for Tagged {
    const ROUTES: &'static [Route<Self>] = &[ECHO_HOST];

    fn finish(&mut self, request: &Request<'_, '_>, reply: Reply) -> Reply {
        reply.header("X-Method", request.method_str.as_bytes())
    }

    fn stream(&mut self, stream: &mut Stream, out: &mut [u8]) -> usize {
        if stream.cursor == 1 {
            return 0;
        }
        stream.cursor = 1;
        let note = stream.note.as_bytes();
        out[..note.len()].copy_from_slice(note);
        note.len()
    }
}

fn get(target: &str, host: &str) -> bedrock_web::testing::Exchange {
    let raw = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n");
    serve(&mut Tagged, raw.as_bytes()).unwrap()
}

#[test]
fn finish_sees_handler_replies_and_the_frameworks_own() {
    assert_eq!(get("/echo-host", "a").header("x-method"), Some("GET"));
    let missing = get("/nowhere", "a");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("x-method"), Some("GET"));
    let raw = b"OPTIONS /echo-host HTTP/1.1\r\nHost: a\r\n\r\n";
    let options = serve(&mut Tagged, raw).unwrap();
    assert_eq!(options.status, 204);
    assert_eq!(options.header("x-method"), Some("OPTIONS"));
    let raw = b"DELETE /echo-host HTTP/1.1\r\nHost: a\r\n\r\n";
    assert_eq!(
        serve(&mut Tagged, raw).unwrap().header("x-method"),
        Some("DELETE")
    );
}

#[test]
fn a_note_reaches_the_pieces_at_and_past_its_limit() {
    assert_eq!(
        get("/echo-host", "example.org:8080").text(),
        "example.org:8080"
    );
    let longest = "h".repeat(STREAM_NOTE_BYTES);
    assert_eq!(get("/echo-host", &longest).text(), longest);
    let past = "h".repeat(STREAM_NOTE_BYTES + 1);
    assert_eq!(get("/echo-host", &past).status, 400);
}
