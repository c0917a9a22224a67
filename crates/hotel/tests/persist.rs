//! The Hotel app's change records (`bedrock_web::Persist`): one per
//! create, update and delete, none for anything else, in a format that
//! replays into the same store with the same ids; damage is refused.

use bedrock_hotel::{Hotels, MAX_CHANGE_BYTES, MAX_CITY_BYTES, MAX_NAME_BYTES};
use bedrock_web::testing::{serve, Exchange};
use bedrock_web::Persist;

fn send(app: &mut Hotels, method: &str, target: &str, body: &str) -> Exchange {
    let raw = format!(
        "{method} {target} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    serve(app, raw.as_bytes()).expect("request parses")
}

fn listed(app: &Hotels) -> Vec<(u64, String, String)> {
    app.store()
        .iter()
        .map(|(id, h)| (id, h.name.as_str().into(), h.city.as_str().into()))
        .collect()
}

fn put_record(id: u64, name: &str, city: &str) -> Vec<u8> {
    let mut r = vec![1];
    r.extend(id.to_le_bytes());
    r.push(name.len() as u8);
    r.extend(name.as_bytes());
    r.push(city.len() as u8);
    r.extend(city.as_bytes());
    r
}

/// A fresh app with `records` replayed, each of them accepted.
fn replayed(records: &[Vec<u8>]) -> Box<Hotels> {
    let mut again = Box::new(Hotels::new());
    for record in records {
        assert!(again.replay(record), "{record:?}");
    }
    again
}

/// `name,city`, both as long as they may be.
fn longest_body() -> String {
    let (name, city) = ("n".repeat(MAX_NAME_BYTES), "c".repeat(MAX_CITY_BYTES));
    format!("{name},{city}")
}

fn delete_record(id: u64) -> Vec<u8> {
    let mut r = vec![2];
    r.extend(id.to_le_bytes());
    r
}

#[test]
fn each_change_is_one_record_and_nothing_else_is() {
    let mut app = Box::new(Hotels::new());
    let made = send(&mut app, "POST", "/api/hotels", "Ritz,Paris");
    assert_eq!(made.status, 201);
    assert_eq!(made.changes, [put_record(1, "Ritz", "Paris")]);
    let updated = send(&mut app, "PUT", "/api/hotels/1", "Ritz,London");
    assert_eq!(updated.status, 200);
    assert_eq!(updated.changes, [put_record(1, "Ritz", "London")]);
    let deleted = send(&mut app, "DELETE", "/api/hotels/1", "");
    assert_eq!(deleted.status, 204);
    assert_eq!(deleted.changes, [delete_record(1)]);
    // Reads and refusals change nothing and record nothing.
    for (method, target, body, status) in [
        ("GET", "/api/hotels", "", 200),
        ("GET", "/api/hotels/1", "", 404),
        ("PUT", "/api/hotels/1", "Gone,Away", 404),
        ("DELETE", "/api/hotels/1", "", 404),
        ("POST", "/api/hotels", "no comma", 400),
        ("PATCH", "/api/hotels/1", "", 405),
    ] {
        let e = send(&mut app, method, target, body);
        assert_eq!(e.status, status, "{method} {target}");
        assert!(e.changes.is_empty(), "{method} {target}: {:?}", e.changes);
    }
}

#[test]
fn records_replay_into_the_same_store_with_the_same_ids() {
    let mut app = Box::new(Hotels::new());
    let mut journal = Vec::new();
    let longest = "n".repeat(MAX_NAME_BYTES);
    for (method, target, body) in [
        ("POST", "/api/hotels", "Ritz,Paris"),
        ("POST", "/api/hotels", &format!("{longest},Zürich")),
        ("POST", "/api/hotels", "Gone,Soon"),
        ("PUT", "/api/hotels/1", "Ritz,London"),
        ("DELETE", "/api/hotels/3", ""),
    ] {
        journal.extend(send(&mut app, method, target, body).changes);
    }
    assert_eq!(journal.len(), 5);
    let mut again = replayed(&journal);
    assert_eq!(listed(&again), listed(&app));
    assert_eq!(again.store().next_id(), 4);
    // The next create continues the ids, never reusing 3.
    let made = send(&mut again, "POST", "/api/hotels", "New,One");
    assert_eq!(made.header("location"), Some("/api/hotels/4"));
}

#[test]
fn lost_creations_leave_their_ids_unused() {
    let mut app = Box::new(Hotels::new());
    assert!(app.replay(&put_record(1, "A", "a")));
    assert!(app.replay(&put_record(4, "D", "d")));
    assert_eq!(listed(&app).iter().map(|r| r.0).collect::<Vec<_>>(), [1, 4]);
    assert_eq!(app.store().next_id(), 5);
}

#[test]
fn records_that_make_no_sense_are_refused() {
    let mut app = Box::new(Hotels::new());
    assert!(app.replay(&put_record(1, "One", "1")));
    let mut trailing = put_record(2, "T", "t");
    trailing.push(0);
    let too_long = put_record(2, &"n".repeat(MAX_NAME_BYTES + 1), "c");
    for bad in [
        vec![],
        vec![9, 1, 0, 0, 0, 0, 0, 0, 0],
        vec![2, 1, 0, 0, 0, 0, 0, 0],
        vec![2, 1, 0, 0, 0, 0, 0, 0, 0, 0],
        vec![1, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 1, b'c'],
        vec![1, 2, 0, 0, 0, 0, 0, 0, 0, 5, b'a'],
        trailing,
        too_long,
        // A create below the next id that is not there: out of order.
        put_record(0, "Zero", "z"),
    ] {
        assert!(!app.replay(&bad), "{bad:?}");
    }
    assert_eq!(listed(&app), [(1, "One".into(), "1".into())]);
}

#[test]
fn the_longest_record_is_max_change_bytes() {
    let mut app = Box::new(Hotels::new());
    let body = longest_body();
    let made = send(&mut app, "POST", "/api/hotels", &body);
    assert_eq!(made.status, 201);
    assert_eq!(made.changes[0].len(), MAX_CHANGE_BYTES);
    assert_eq!(Hotels::MAX_CHANGE, MAX_CHANGE_BYTES);
}

#[test]
fn clear_empties_the_store_and_forgets_waiting_changes() {
    let mut app = Box::new(Hotels::new());
    let raw = "POST /api/hotels HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nA,b";
    let e = serve(&mut *app, raw.as_bytes()).unwrap();
    assert_eq!(e.status, 201);
    app.clear();
    assert!(listed(&app).is_empty());
    assert_eq!(app.store().next_id(), 1);
    let mut left = 0;
    app.drain_changes(&mut |_| left += 1);
    assert_eq!(left, 0);
}

#[test]
fn a_host_that_never_takes_the_changes_gets_503_past_the_log() {
    // CHANGE_LOG_BYTES holds four of the longest records: the fifth
    // change is refused before it is made (dispatch, unlike `serve`, does
    // not drain).
    use bedrock_http::{parse_request, Header, Limits, Status};
    let mut app = Box::new(Hotels::new());
    let body = longest_body();
    let raw = b"POST /api/hotels HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut headers = [Header::EMPTY; 16];
    let Ok(Status::Complete((request, _))) = parse_request(raw, &mut headers, &Limits::default())
    else {
        panic!("head parses")
    };
    let mut out = [0u8; 4096];
    for n in 1..=4 {
        let r = bedrock_web::dispatch(&mut *app, &request, body.as_bytes(), &mut out);
        assert_eq!(r.reply.status, 201, "change {n}");
    }
    let r = bedrock_web::dispatch(&mut *app, &request, body.as_bytes(), &mut out);
    assert_eq!(r.reply.status, 503);
    assert_eq!(app.store().len(), 4);
    let mut taken = 0;
    app.drain_changes(&mut |_| taken += 1);
    assert_eq!(taken, 4);
    let r = bedrock_web::dispatch(&mut *app, &request, body.as_bytes(), &mut out);
    assert_eq!(r.reply.status, 201);
}

#[test]
fn a_snapshot_rebuilds_the_same_store_and_the_next_id() {
    let mut app = Box::new(Hotels::new());
    for i in 0..6 {
        send(&mut app, "POST", "/api/hotels", &format!("H{i},C"));
    }
    send(&mut app, "PUT", "/api/hotels/2", "Two,Changed");
    // The top ids deleted: the next id must still be 7.
    for id in [1, 5, 6] {
        assert_eq!(
            send(&mut app, "DELETE", &format!("/api/hotels/{id}"), "").status,
            204
        );
    }
    let mut records = Vec::new();
    app.snapshot(&mut |r| records.push(r.to_vec()));
    assert_eq!(records.len(), 4, "three hotels and the next id");
    let mut again = replayed(&records);
    assert_eq!(listed(&again), listed(&app));
    assert_eq!(again.store().next_id(), 7);
    assert_eq!(
        send(&mut again, "POST", "/api/hotels", "N,C").header("location"),
        Some("/api/hotels/7")
    );
}
