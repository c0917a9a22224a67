//! The Hotel API end to end in memory: raw HTTP requests in, the exact
//! bytes a server would send out, JSON checked with serde_json.

use bedrock_hotel::{Hotels, CAPACITY, MAX_BODY_BYTES, MAX_CITY_BYTES, MAX_NAME_BYTES};
use bedrock_web::testing::{serve, Exchange};
use serde_json::{json, Value};

fn app() -> Box<Hotels> {
    Box::new(Hotels::new())
}

fn request(
    app: &mut Hotels,
    method: &str,
    target: &str,
    ctype: Option<&str>,
    body: &[u8],
) -> Exchange {
    let mut raw = format!("{method} {target} HTTP/1.1\r\nHost: localhost:8888\r\n");
    if let Some(ct) = ctype {
        raw += &format!("Content-Type: {ct}\r\n");
    }
    if !body.is_empty() || method == "POST" || method == "PUT" {
        raw += &format!("Content-Length: {}\r\n", body.len());
    }
    raw += "\r\n";
    let mut raw = raw.into_bytes();
    raw.extend_from_slice(body);
    serve(app, &raw).expect("request parses")
}

/// `POST /api/hotels` with this content type and body.
fn create(app: &mut Hotels, ctype: Option<&str>, body: &[u8]) -> Exchange {
    request(app, "POST", "/api/hotels", ctype, body)
}

/// Asserts that `exchange` answered with hotel `id`, named so.
fn assert_hotel(exchange: &Exchange, id: u64, name: &str, city: &str) {
    let expected = json!({"id": id, "name": name, "city": city});
    assert_eq!(json_of(exchange), expected);
}

fn get(app: &mut Hotels, target: &str) -> Exchange {
    request(app, "GET", target, None, b"")
}

fn json_of(exchange: &Exchange) -> Value {
    assert_eq!(
        exchange.header("content-type"),
        Some("application/json"),
        "{}",
        exchange.head
    );
    serde_json::from_slice(&exchange.body).unwrap_or_else(|e| panic!("{e}: {}", exchange.text()))
}

fn post_json(app: &mut Hotels, value: &Value) -> Exchange {
    let body = serde_json::to_vec(value).unwrap();
    create(app, Some("application/json"), &body)
}

fn assert_error(exchange: &Exchange, status: u16) {
    assert_eq!(
        exchange.status,
        status,
        "{}{}",
        exchange.head,
        exchange.text()
    );
    let body = json_of(exchange);
    assert_eq!(body["status"], status);
    assert!(body["error"].as_str().is_some_and(|m| !m.is_empty()));
}

#[test]
fn the_seed_lines_work_as_written() {
    let mut app = app();
    // curl localhost:8888/
    let home = get(&mut app, "/");
    assert_eq!(home.status, 200);
    assert!(home.text().contains("Hotel API"));
    // curl localhost:8888/api/hotels
    let list = get(&mut app, "/api/hotels");
    assert_eq!(list.status, 200);
    assert_eq!(json_of(&list), json!([]));
    // curl -X POST -d "Hilton,Toronto" localhost:8888/api/hotels
    let created = create(
        &mut app,
        Some("application/x-www-form-urlencoded"),
        b"Hilton,Toronto",
    );
    assert_eq!(created.status, 201);
    assert_hotel(&created, 1, "Hilton", "Toronto");
    assert_eq!(created.header("location"), Some("/api/hotels/1"));
    // curl localhost:8888/api/hotels/1
    let one = get(&mut app, "/api/hotels/1");
    assert_eq!(one.status, 200);
    assert_hotel(&one, 1, "Hilton", "Toronto");
    // curl -X DELETE localhost:8888/api/hotels/1
    let deleted = request(&mut app, "DELETE", "/api/hotels/1", None, b"");
    assert_eq!(deleted.status, 204);
    assert!(deleted.body.is_empty());
    assert_error(&get(&mut app, "/api/hotels/1"), 404);
    assert_error(
        &request(&mut app, "DELETE", "/api/hotels/1", None, b""),
        404,
    );
}

#[test]
fn text_plain_and_no_content_type_are_the_seed_format() {
    let mut app = app();
    let a = create(
        &mut app,
        Some("text/plain; charset=utf-8"),
        b"Ritz, Paris\n",
    );
    assert_hotel(&a, 1, "Ritz", "Paris");
    let b = create(&mut app, None, "Hôtel Müller,Zürich".as_bytes());
    assert_hotel(&b, 2, "Hôtel Müller", "Zürich");
}

#[test]
fn html_forms_are_decoded() {
    let mut app = app();
    let body = b"name=Caf%C3%A9+Royal&city=London&extra=1";
    let made = create(&mut app, Some("application/x-www-form-urlencoded"), body);
    assert_eq!(made.status, 201);
    assert_hotel(&made, 1, "Café Royal", "London");
    for bad in [&b"name=A"[..], b"name=A&city=B&city=C", b"name=%ZZ&city=B"] {
        let refused = create(&mut app, Some("application/x-www-form-urlencoded"), bad);
        assert_error(&refused, 400);
    }
}

#[test]
fn hard_names_round_trip_exactly_through_json() {
    let mut app = app();
    let names = [
        "Quote \" and backslash \\",
        "Comma, inc.",
        "asd ",
        "  spaces at both ends are kept  ",
        " ",
        "\u{a0}no-break spaces\u{a0}",
        "C1 \u{85} and DEL's neighbour \u{80} are not C0 controls",
        "日本旅館 — ✓ 🏨",
        "</script><img src=x onerror=alert(1)>",
        "slash / and unicode escapes \u{2028}",
    ];
    for (i, name) in names.iter().enumerate() {
        let made = post_json(&mut app, &json!({"name": name, "city": "Zürich, CH"}));
        assert_eq!(made.status, 201, "{}", made.text());
        let id = i as u64 + 1;
        let expected = json!({"id": id, "name": name, "city": "Zürich, CH"});
        assert_eq!(json_of(&made), expected);
        assert_eq!(
            json_of(&get(&mut app, &format!("/api/hotels/{id}"))),
            expected
        );
    }
    let list = json_of(&get(&mut app, "/api/hotels"));
    let listed: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed, names);
}

#[test]
fn json_escapes_in_the_request_are_decoded() {
    let mut app = app();
    let body = br#"{"name":"A\u00e9\"\\\/\ud83c\udfe8","city":"B","stars":5,"open":true}"#;
    let made = create(&mut app, Some("application/json"), body);
    assert_eq!(
        json_of(&made),
        json!({"id": 1, "name": "Aé\"\\/🏨", "city": "B"})
    );
}

#[test]
fn json_strings_are_stored_exactly_as_decoded() {
    let mut app = app();
    // No trimming in JSON, escaped or not; the same text comes back from
    // the create, the read, the list and an update.
    let body = br#"{"name":"asd ","city":"\u0020Paris\u00a0"}"#;
    let made = create(&mut app, Some("application/json"), body);
    let expected = json!({"id": 1, "name": "asd ", "city": " Paris\u{a0}"});
    assert_eq!(json_of(&made), expected);
    assert_eq!(json_of(&get(&mut app, "/api/hotels/1")), expected);
    assert_eq!(json_of(&get(&mut app, "/api/hotels")), json!([expected]));
    let body = br#"{"name":" B ","city":"  "}"#;
    let put = request(
        &mut app,
        "PUT",
        "/api/hotels/1",
        Some("application/json"),
        body,
    );
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(
        json_of(&get(&mut app, "/api/hotels/1")),
        json!({"id": 1, "name": " B ", "city": "  "})
    );
}

#[test]
fn text_and_form_fields_are_trimmed() {
    let mut app = app();
    let text = create(&mut app, None, b" \t Ritz \r\n, Paris \x0c\n");
    assert_hotel(&text, 1, "Ritz", "Paris");
    let form = create(
        &mut app,
        Some("application/x-www-form-urlencoded"),
        b"name=+Caf%C3%A9+Royal%20&city=%09London%0D%0A",
    );
    assert_hotel(&form, 2, "Café Royal", "London");
    // Inner spaces stay, in both.
    let inner = create(&mut app, None, b"A  B,C D");
    assert_hotel(&inner, 3, "A  B", "C D");
}

/// C0 controls and DEL, the characters no body form may store.
fn controls() -> impl Iterator<Item = u8> {
    (0u8..0x20).chain([0x7f])
}

#[test]
fn control_characters_are_refused_in_every_form() {
    let mut app = app();
    let kept = json!({"id": 1, "name": "Kept", "city": "As is"});
    assert_eq!(json_of(&post_json(&mut app, &kept)), kept);
    let form = Some("application/x-www-form-urlencoded");
    let json = Some("application/json");
    for c in controls() {
        let escaped = format!("\\u{c:04x}");
        let cases: Vec<(Option<&str>, Vec<u8>, &str)> = vec![
            (
                json,
                format!(r#"{{"name":"a{escaped}b","city":"C"}}"#).into(),
                "name",
            ),
            (
                json,
                format!(r#"{{"name":"A","city":"{escaped}"}}"#).into(),
                "city",
            ),
            (form, format!("name=a%{c:02X}b&city=C").into(), "name"),
            (form, format!("name=A&city=c%{c:02x}d").into(), "city"),
            (None, [&b"a"[..], &[c], b"b,C"].concat(), "name"),
            (
                Some("text/plain"),
                [&b"A,c"[..], &[c], b"d"].concat(),
                "city",
            ),
        ];
        for (ctype, body, field) in cases {
            for method_target in [("POST", "/api/hotels"), ("PUT", "/api/hotels/1")] {
                let (method, target) = method_target;
                let refused = request(&mut app, method, target, ctype, &body);
                let what = format!("{c:#04x} in {field} of {ctype:?} {method}");
                assert_eq!(refused.status, 422, "{what}: {}", refused.text());
                assert_eq!(
                    json_of(&refused)["error"],
                    format!("{field} must not contain control characters"),
                    "{what}"
                );
            }
        }
    }
    // The escapes JSON names: \b \f \n \r \t.
    for esc in ["\\b", "\\f", "\\n", "\\r", "\\t"] {
        let body = format!(r#"{{"name":"asd{esc}","city":"C"}}"#);
        let refused = create(&mut app, json, body.as_bytes());
        assert_error(&refused, 422);
    }
    // Raw in a JSON string, C0 controls are not JSON at all (RFC 8259 7):
    // 400; a raw DEL is JSON, and refused like an escaped one.
    for c in 0u8..0x20 {
        let body = [&br#"{"name":"a"#[..], &[c], br#"","city":"C"}"#].concat();
        let refused = create(&mut app, json, &body);
        assert_error(&refused, 400);
    }
    let refused = create(&mut app, json, b"{\"name\":\"a\x7f\",\"city\":\"C\"}");
    assert_error(&refused, 422);
    assert_eq!(app.store().len(), 1, "nothing was stored");
    assert_eq!(
        json_of(&get(&mut app, "/api/hotels/1")),
        kept,
        "nor changed"
    );
}

#[test]
fn invalid_bodies_get_json_errors() {
    let mut app = app();
    let cases: &[(Option<&str>, &[u8], u16)] = &[
        (None, b"", 400),
        (None, b"NoComma", 400),
        (None, b"A,B,C", 400),
        (None, b",Toronto", 422),
        (None, b"Hilton,", 422),
        (None, b"  ,  ", 422),
        (None, b"Hil\xfflton,Toronto", 400),
        (Some("application/json"), b"{\"name\":\"A\"}", 422),
        (Some("application/json"), b"{\"city\":\"A\"}", 422),
        (
            Some("application/json"),
            b"{\"name\":1,\"city\":\"A\"}",
            422,
        ),
        (
            Some("application/json"),
            b"{\"name\":\"\",\"city\":\"A\"}",
            422,
        ),
        (
            Some("application/json"),
            b"{\"name\":\"A\",\"city\":\"B\"",
            400,
        ),
        (
            Some("application/json"),
            b"{\"name\":\"A\",\"city\":{}}",
            400,
        ),
        (Some("application/json"), b"[\"A\",\"B\"]", 400),
        (
            Some("application/json"),
            b"{\"name\":\"A\",\"name\":\"B\",\"city\":\"C\"}",
            400,
        ),
        (
            Some("application/json"),
            b"{\"name\":\"\\ud800\",\"city\":\"C\"}",
            400,
        ),
        (Some("application/xml"), b"<hotel/>", 415),
    ];
    for (ctype, body, status) in cases {
        let refused = create(&mut app, *ctype, body);
        assert_error(&refused, *status);
    }
    assert_eq!(app.store().len(), 0, "nothing invalid was stored");
}

#[test]
fn field_limits_at_and_past() {
    let mut app = app();
    let name_at = "n".repeat(MAX_NAME_BYTES);
    let city_at = "é".repeat(MAX_CITY_BYTES / 2);
    let made = post_json(&mut app, &json!({"name": name_at, "city": city_at}));
    assert_eq!(made.status, 201);
    assert_eq!(json_of(&made)["city"], city_at.as_str());
    let name_past = "n".repeat(MAX_NAME_BYTES + 1);
    assert_error(
        &post_json(&mut app, &json!({"name": name_past, "city": "c"})),
        422,
    );
    let city_past = format!("{city_at}x");
    assert_error(
        &post_json(&mut app, &json!({"name": "n", "city": city_past})),
        422,
    );
    // Text bodies follow the same limits.
    let text = format!("{name_past},c");
    assert_error(&create(&mut app, None, text.as_bytes()), 422);
}

#[test]
fn body_limit_at_and_past() {
    let mut app = app();
    let pad = |len: usize| {
        let core = br#"{"name":"A","city":"B","pad":""}"#;
        let mut body = core[..core.len() - 2].to_vec();
        body.resize(len - 2, b'x');
        body.extend_from_slice(b"\"}");
        body
    };
    let at = pad(MAX_BODY_BYTES);
    assert_eq!(at.len(), MAX_BODY_BYTES);
    assert_eq!(create(&mut app, Some("application/json"), &at).status, 201);
    let past = pad(MAX_BODY_BYTES + 1);
    assert_error(&create(&mut app, Some("application/json"), &past), 413);
}

#[test]
fn put_updates_and_404s() {
    let mut app = app();
    post_json(&mut app, &json!({"name": "Old", "city": "Town"}));
    let updated = request(
        &mut app,
        "PUT",
        "/api/hotels/1",
        Some("application/json"),
        br#"{"name":"New","city":"City"}"#,
    );
    assert_eq!(updated.status, 200);
    assert_hotel(&updated, 1, "New", "City");
    assert_eq!(json_of(&get(&mut app, "/api/hotels/1"))["name"], "New");
    assert_error(
        &request(&mut app, "PUT", "/api/hotels/2", None, b"A,B"),
        404,
    );
    assert_error(
        &request(&mut app, "PUT", "/api/hotels/1", None, b"bad"),
        400,
    );
    assert_eq!(
        json_of(&get(&mut app, "/api/hotels/1"))["name"],
        "New",
        "a refused PUT changes nothing"
    );
}

#[test]
fn bad_ids_and_unknown_routes() {
    let mut app = app();
    assert_error(&get(&mut app, "/api/hotels/abc"), 400);
    assert_error(&get(&mut app, "/api/hotels/-1"), 400);
    assert_error(&get(&mut app, "/api/hotels/0"), 404);
    assert_error(&get(&mut app, "/api/nothing"), 404);
    let wrong = request(&mut app, "PATCH", "/api/hotels/1", None, b"");
    assert_error(&wrong, 405);
    assert_eq!(
        wrong.header("allow"),
        Some("GET, HEAD, PUT, DELETE, OPTIONS")
    );
    let options = request(&mut app, "OPTIONS", "/api/hotels", None, b"");
    assert_eq!(options.status, 204);
    assert_eq!(options.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
}

#[test]
fn thousands_of_hotels_list_in_full() {
    let mut app = app();
    let count = 3000;
    for i in 0..count {
        let made = create(&mut app, None, format!("Hotel \"{i}\",City {i}").as_bytes());
        assert_eq!(made.status, 201);
    }
    // Delete a few so the list has gaps.
    for id in [1, 500, 2999] {
        assert_eq!(
            request(&mut app, "DELETE", &format!("/api/hotels/{id}"), None, b"").status,
            204
        );
    }
    let list = get(&mut app, "/api/hotels");
    assert_eq!(list.header("transfer-encoding"), Some("chunked"));
    assert!(
        list.body.len() > 20 * bedrock_web::testing::OUT_BUFFER,
        "spans many pieces"
    );
    let hotels = json_of(&list);
    let hotels = hotels.as_array().unwrap();
    assert_eq!(hotels.len(), count - 3);
    let mut ids = Vec::new();
    for h in hotels {
        let id = h["id"].as_u64().unwrap();
        let i = id - 1;
        assert_eq!(h["name"], format!("Hotel \"{i}\""));
        assert_eq!(h["city"], format!("City {i}"));
        ids.push(id);
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in id order");
    assert!(!ids.contains(&500));
    // HEAD describes the same body without sending it.
    let head = request(&mut app, "HEAD", "/api/hotels", None, b"");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("transfer-encoding"), Some("chunked"));
}

#[test]
fn http_1_0_list_is_close_delimited() {
    let mut app = app();
    post_json(&mut app, &json!({"name": "A", "city": "B"}));
    let list = serve(&mut *app, b"GET /api/hotels HTTP/1.0\r\n\r\n").unwrap();
    assert_eq!(list.header("connection"), Some("close"));
    assert!(!list.keep_alive);
    assert_eq!(json_of(&list), json!([{"id": 1, "name": "A", "city": "B"}]));
}

#[test]
fn full_store_is_507_and_ids_are_never_reused() {
    let mut app = app();
    for i in 0..CAPACITY {
        assert_eq!(create(&mut app, None, b"H,C").status, 201, "hotel {i}");
    }
    assert_eq!(app.store().len(), CAPACITY);
    assert_error(&create(&mut app, None, b"H,C"), 507);
    assert_eq!(
        request(&mut app, "DELETE", "/api/hotels/1", None, b"").status,
        204
    );
    let made = create(&mut app, None, b"H,C");
    assert_eq!(made.status, 201);
    assert_eq!(json_of(&made)["id"], CAPACITY as u64 + 1);
}

#[test]
fn every_list_piece_makes_progress_at_the_minimum_buffer() {
    use bedrock_hotel::{
        put_record, Hotel, Text, LIST_STREAM, MAX_CHANGE_BYTES, MIN_STREAM_BUFFER,
    };
    use bedrock_web::{Persist, Service, Stream};
    let mut app = app();
    // Worst case records: every byte becomes a six-byte \u00XX escape.
    // The API refuses control characters, but a journal written before it
    // did may still hold them, and replays as it was written.
    let name = "\u{1}".repeat(MAX_NAME_BYTES);
    let city = "\u{2}".repeat(MAX_CITY_BYTES);
    let hotel = Hotel {
        name: Text::new(&name).unwrap(),
        city: Text::new(&city).unwrap(),
    };
    let mut record = [0u8; MAX_CHANGE_BYTES];
    for id in 1..=5 {
        let len = put_record(id, &hotel, &mut record);
        assert!(app.replay(&record[..len]));
    }
    let mut stream = Stream::new(LIST_STREAM, 0);
    let mut out = vec![0u8; MIN_STREAM_BUFFER];
    let mut body = Vec::new();
    let mut pieces = 0;
    loop {
        let n = app.stream(&mut stream, &mut out);
        if n == 0 {
            break;
        }
        body.extend_from_slice(&out[..n]);
        pieces += 1;
        assert!(pieces < 100, "no progress");
    }
    assert!(pieces >= 5, "one record per piece at most");
    let list: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 5);
    assert_eq!(list[4]["name"], name.as_str());
}

fn get_accepting(app: &mut Hotels, method: &str, target: &str, accept: Option<&str>) -> Exchange {
    let mut raw = format!("{method} {target} HTTP/1.1\r\nHost: localhost:8888\r\n");
    if let Some(accept) = accept {
        raw += &format!("Accept: {accept}\r\n");
    }
    raw += "\r\n";
    serve(app, raw.as_bytes()).expect("request parses")
}

fn assert_page(exchange: &Exchange) {
    assert_eq!(exchange.status, 200, "{}", exchange.head);
    assert_eq!(
        exchange.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(exchange.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(exchange.header("cache-control"), Some("no-cache"));
    let csp = exchange.header("content-security-policy").unwrap_or("");
    for directive in [
        "default-src 'none'",
        "script-src 'sha256-",
        "style-src 'sha256-",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} missing in {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
}

#[test]
fn the_page_is_served_at_hotels_with_its_headers() {
    let mut app = app();
    for accept in [None, Some("*/*"), Some("application/json")] {
        let page = get_accepting(&mut app, "GET", "/hotels", accept);
        assert_page(&page);
        assert_eq!(page.body, bedrock_hotel::PAGE);
        assert!(page.text().starts_with("<!doctype html>"));
        assert_eq!(
            page.header("content-length"),
            Some(bedrock_hotel::PAGE.len().to_string().as_str())
        );
    }
    let head = get_accepting(&mut app, "HEAD", "/hotels", None);
    assert_page(&head);
    assert!(head.body.is_empty());
}

#[test]
fn index_chooses_by_accept() {
    let mut app = app();
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let html = get_accepting(&mut app, "GET", "/", Some(browser));
    assert_page(&html);
    assert_eq!(html.body, bedrock_hotel::PAGE);
    assert_eq!(html.header("vary"), Some("Accept"));
    for accept in [None, Some("*/*"), Some("text/html;q=0"), Some("text/plain")] {
        let text = get_accepting(&mut app, "GET", "/", accept);
        assert_eq!(text.status, 200);
        assert_eq!(
            text.header("content-type"),
            Some("text/plain; charset=utf-8"),
            "{accept:?}"
        );
        assert_eq!(text.body, bedrock_hotel::WELCOME);
        assert_eq!(text.header("vary"), Some("Accept"));
        assert!(text.header("content-security-policy").is_none());
    }
    let head = get_accepting(&mut app, "HEAD", "/", Some(browser));
    assert_page(&head);
    assert!(head.body.is_empty());
}
