//! The Todo-Backend API in memory: raw requests in, the bytes a server
//! sends out, JSON checked with serde_json; CORS, limits, and the change
//! records replayed into a fresh app.

use bedrock_todo::{Todos, CAPACITY, MAX_TITLE};
use bedrock_web::testing::{serve, Exchange};
use bedrock_web::Persist;
use serde_json::{json, Value};

const HOST: &str = "todo.example:8080";

fn send(app: &mut Todos, method: &str, target: &str, body: &str) -> Exchange {
    let raw = format!(
        "{method} {target} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    serve(app, raw.as_bytes()).expect("request parses")
}

fn json_of(e: &Exchange) -> Value {
    serde_json::from_slice(&e.body).unwrap_or_else(|err| panic!("{err}: {}", e.text()))
}

fn post(app: &mut Todos, body: Value) -> Value {
    let e = send(app, "POST", "/todos", &body.to_string());
    assert_eq!(e.status, 201, "{}", e.text());
    json_of(&e)
}

/// The path of an item's absolute `url`.
fn path_of(todo: &Value) -> String {
    let url = todo["url"].as_str().unwrap();
    url.strip_prefix(&format!("http://{HOST}"))
        .unwrap()
        .to_string()
}

fn app() -> Box<Todos> {
    Box::new(Todos::new())
}

/// A fresh app with `records` replayed, each of them accepted.
fn replayed(records: &[Vec<u8>]) -> Box<Todos> {
    let mut again = app();
    for r in records {
        assert!(again.replay(r), "{r:?}");
    }
    again
}

fn list(app: &mut Todos) -> Value {
    json_of(&send(app, "GET", "/todos", ""))
}

#[test]
fn the_todo_backend_spec_walkthrough() {
    let mut app = app();
    assert_eq!(list(&mut app), json!([]));
    let walk = post(&mut app, json!({"title": "walk the dog"}));
    assert_eq!(walk["title"], "walk the dog");
    assert_eq!(walk["completed"], false);
    assert_eq!(walk["order"], Value::Null);
    assert_eq!(walk["url"], format!("http://{HOST}/todos/1"));
    let shop = post(&mut app, json!({"title": "shop", "order": 523}));
    assert_eq!(shop["order"], 523);
    let listed = list(&mut app);
    assert_eq!(listed, json!([walk, shop]));
    // Each item at its url.
    assert_eq!(json_of(&send(&mut app, "GET", &path_of(&shop), "")), shop);
    // PATCH each field, alone and together.
    let path = path_of(&walk);
    let e = send(&mut app, "PATCH", &path, r#"{"title":"walk the cat"}"#);
    assert_eq!(
        (e.status, json_of(&e)["title"].clone()),
        (200, json!("walk the cat"))
    );
    let e = send(&mut app, "PATCH", &path, r#"{"completed":true}"#);
    assert_eq!(json_of(&e)["completed"], true);
    let e = send(
        &mut app,
        "PATCH",
        &path,
        r#"{"order":95,"completed":false,"title":"x"}"#,
    );
    assert_eq!(
        json_of(&e),
        json!({"title":"x","completed":false,"order":95,"url":walk["url"]})
    );
    assert_eq!(json_of(&send(&mut app, "GET", &path, "")), json_of(&e));
    let e = send(&mut app, "PATCH", &path, r#"{"order":null}"#);
    assert_eq!(json_of(&e)["order"], Value::Null);
    // DELETE one, then the root.
    assert_eq!(send(&mut app, "DELETE", &path, "").status, 204);
    assert_eq!(send(&mut app, "GET", &path, "").status, 404);
    assert_eq!(send(&mut app, "DELETE", &path, "").status, 404);
    assert_eq!(
        send(&mut app, "PATCH", &path, r#"{"title":"y"}"#).status,
        404
    );
    assert_eq!(list(&mut app).as_array().unwrap().len(), 1);
    assert_eq!(send(&mut app, "DELETE", "/todos", "").status, 204);
    assert_eq!(list(&mut app), json!([]));
    // Ids are never reused.
    assert_eq!(
        post(&mut app, json!({"title": "again"}))["url"],
        format!("http://{HOST}/todos/3")
    );
}

#[test]
fn every_reply_allows_any_origin_and_a_preflight_gets_the_methods() {
    let mut app = app();
    for (method, target) in [
        ("GET", "/todos"),
        ("GET", "/todos/9"),
        ("PUT", "/todos"),
        ("GET", "/todo"),
    ] {
        let e = send(&mut app, method, target, "");
        assert_eq!(
            e.header("access-control-allow-origin"),
            Some("*"),
            "{method} {target}"
        );
    }
    let raw = format!(
        "OPTIONS /todos/1 HTTP/1.1\r\nHost: {HOST}\r\nOrigin: http://elsewhere\r\n\
         Access-Control-Request-Method: PATCH\r\nAccess-Control-Request-Headers: content-type\r\n\r\n"
    );
    let e = serve(&mut *app, raw.as_bytes()).unwrap();
    assert_eq!(e.status, 204);
    assert_eq!(e.header("access-control-allow-origin"), Some("*"));
    let methods = e.header("access-control-allow-methods").unwrap();
    assert!(
        methods.contains("PATCH") && methods.contains("DELETE"),
        "{methods}"
    );
    assert!(e
        .header("access-control-allow-headers")
        .unwrap()
        .contains("Content-Type"));
    // A plain OPTIONS is no preflight: Allow, no CORS method list.
    let plain = send(&mut app, "OPTIONS", "/todos", "");
    assert_eq!(plain.status, 204);
    assert!(plain.header("allow").unwrap().contains("POST"));
    assert_eq!(plain.header("access-control-allow-methods"), None);
}

#[test]
fn bad_bodies_are_refused_and_change_nothing() {
    let mut app = app();
    let at_limit = "t".repeat(MAX_TITLE);
    assert_eq!(
        post(&mut app, json!({"title": at_limit}))["title"],
        at_limit
    );
    let too_long = send(
        &mut app,
        "POST",
        "/todos",
        &json!({"title": "t".repeat(MAX_TITLE + 1)}).to_string(),
    );
    assert!(
        too_long.text().contains(&format!(" {MAX_TITLE} bytes")),
        "{}",
        too_long.text()
    );
    for (body, status) in [
        ("", 400),
        ("not json", 400),
        ("[1]", 400),
        (r#"{"completed":true}"#, 422),
        (r#"{"title":""}"#, 422),
        (r#"{"title":5}"#, 422),
        (r#"{"title":"a","completed":"yes"}"#, 422),
        (r#"{"title":"a","order":1.5}"#, 422),
        (r#"{"title":"tab\there"}"#, 422),
        (r#"{"title":"del\u007f"}"#, 422),
        (
            &json!({"title": "t".repeat(MAX_TITLE + 1)}).to_string(),
            422,
        ),
    ] {
        let e = send(&mut app, "POST", "/todos", body);
        assert_eq!(e.status, status, "{body}: {}", e.text());
        assert!(e.changes.is_empty());
    }
    assert_eq!(
        send(&mut app, "PATCH", "/todos/1", r#"{"title":"\u0000"}"#).status,
        422
    );
    assert_eq!(list(&mut app).as_array().unwrap().len(), 1);
    // Titles are kept exactly as decoded.
    let spaced = post(&mut app, json!({"title": "  spaced \"quoted\" é  "}));
    assert_eq!(spaced["title"], "  spaced \"quoted\" é  ");
}

#[test]
fn the_list_is_full_at_capacity() {
    let mut app = app();
    for i in 0..CAPACITY {
        send(
            &mut app,
            "POST",
            "/todos",
            &json!({"title": format!("todo {i}")}).to_string(),
        );
    }
    let e = send(&mut app, "POST", "/todos", r#"{"title":"one too many"}"#);
    assert_eq!(e.status, 507);
    let listed = list(&mut app);
    assert_eq!(listed.as_array().unwrap().len(), CAPACITY);
    assert_eq!(
        listed[CAPACITY - 1]["title"],
        format!("todo {}", CAPACITY - 1)
    );
}

#[test]
fn an_unusable_host_is_400() {
    let mut app = app();
    // Not a host at all: the framing refuses it (RFC 9112 3.2).
    let raw = "GET /todos HTTP/1.1\r\nHost: a\"b\r\n\r\n";
    assert_eq!(serve(&mut *app, raw.as_bytes()).err(), Some(400));
    // A host too long for the list stream's note: the app refuses it.
    let long = "h".repeat(bedrock_web::STREAM_NOTE_BYTES + 1);
    let raw = format!("GET /todos HTTP/1.1\r\nHost: {long}\r\n\r\n");
    assert_eq!(serve(&mut *app, raw.as_bytes()).unwrap().status, 400);
    let fits = "h".repeat(bedrock_web::STREAM_NOTE_BYTES);
    let raw = format!("GET /todos HTTP/1.1\r\nHost: {fits}\r\n\r\n");
    assert_eq!(serve(&mut *app, raw.as_bytes()).unwrap().status, 200);
}

#[test]
fn change_records_replay_into_the_same_list() {
    let mut app = app();
    let mut journal = Vec::new();
    for (method, target, body) in [
        ("POST", "/todos", r#"{"title":"a","order":1}"#),
        ("POST", "/todos", r#"{"title":"b"}"#),
        ("POST", "/todos", r#"{"title":"c \"q\""}"#),
        ("PATCH", "/todos/1", r#"{"completed":true}"#),
        ("DELETE", "/todos/2", ""),
        ("GET", "/todos", ""),
    ] {
        journal.extend(send(&mut app, method, target, body).changes);
    }
    assert_eq!(journal.len(), 5);
    let mut again = replayed(&journal);
    assert_eq!(list(&mut again), list(&mut app));
    assert_eq!(
        post(&mut again, json!({"title": "d"}))["url"],
        format!("http://{HOST}/todos/4")
    );
    // DELETE /todos is one record, and replays.
    let cleared = send(&mut app, "DELETE", "/todos", "").changes;
    assert_eq!(cleared.len(), 1);
    assert!(again.replay(&cleared[0]));
    assert_eq!(list(&mut again), json!([]));
    // Not records: empty, an unknown kind, a delete cut short, a todo
    // without a title, a next id cut short, a delete-all with a byte more.
    let junk: [&[u8]; 6] = [
        b"",
        b"\x09",
        b"\x02\x01",
        b"\x01\x01\0\0\0\0\0\0\0{}",
        b"\x03\x00",
        b"\x04\x00",
    ];
    for r in junk {
        assert!(!again.replay(r), "{r:?}");
    }
}

#[test]
fn a_snapshot_rebuilds_the_same_list_and_the_next_id() {
    let mut app = app();
    for i in 0..5 {
        post(&mut app, json!({"title": format!("t{i}"), "order": i}));
    }
    send(&mut app, "PATCH", "/todos/2", r#"{"completed":true}"#);
    send(&mut app, "DELETE", "/todos/5", "");
    let mut records = Vec::new();
    app.snapshot(&mut |r| records.push(r.to_vec()));
    assert_eq!(records.len(), 5, "four todos and the next id");
    let mut again = replayed(&records);
    assert_eq!(list(&mut again), list(&mut app));
    assert_eq!(
        post(&mut again, json!({"title": "n"}))["url"],
        format!("http://{HOST}/todos/6")
    );
}
