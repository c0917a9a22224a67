//! Route lookup: bedrock's compile-time table and index against matchit's
//! radix tree, same routes, same paths, in one run. matchit maps a path to the methods
//! served there; bedrock's `lookup` answers path and method at once, so the
//! matchit side also checks the method to do the same work.

#![allow(missing_docs)] // criterion_group! generates an undocumented function

use std::hint::black_box;
use std::time::Duration;

use bedrock_web::{Ctx, Lookup, Method, Outcome, Params, Reply, Route, Routes};
use criterion::{criterion_group, BenchmarkId, Criterion};

#[path = "../../../benches/alternate.rs"]
mod alternate;

fn handler(_: &mut (), _: &mut Ctx<'_>) -> Outcome {
    Ok(Reply::no_content())
}

/// A REST API of the size a small service has.
const TABLE: &[(Method, &str)] = &[
    (Method::Get, "/"),
    (Method::Get, "/hotels"),
    (Method::Get, "/api/hotels"),
    (Method::Post, "/api/hotels"),
    (Method::Get, "/api/hotels/{id}"),
    (Method::Put, "/api/hotels/{id}"),
    (Method::Delete, "/api/hotels/{id}"),
    (Method::Get, "/api/hotels/{id}/rooms"),
    (Method::Post, "/api/hotels/{id}/rooms"),
    (Method::Get, "/api/hotels/{id}/rooms/{room}"),
    (Method::Delete, "/api/hotels/{id}/rooms/{room}"),
    (Method::Get, "/api/guests"),
    (Method::Post, "/api/guests"),
    (Method::Get, "/api/guests/{id}"),
    (Method::Get, "/api/guests/{id}/bookings"),
    (Method::Get, "/api/bookings/{id}"),
    (Method::Post, "/api/bookings"),
    (Method::Get, "/health"),
    (Method::Get, "/metrics"),
    (Method::Get, "/static/{*path}"),
];

macro_rules! table {
    ($($i:literal),*) => { [$(Route::new(TABLE[$i].0, TABLE[$i].1, handler)),*] };
}
static ROUTES: [Route<()>; 20] =
    table!(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19);
/// Indexed by the compiler, as `dispatch` does for an app's table.
static INDEXED: Routes<'static, ()> = Routes::new(&ROUTES);

const CASES: &[(&str, Method, &str)] = &[
    ("root", Method::Get, "/"),
    ("list", Method::Get, "/api/hotels"),
    ("one_param", Method::Delete, "/api/hotels/12345"),
    ("two_params", Method::Get, "/api/hotels/12345/rooms/42"),
    ("late_route", Method::Get, "/metrics"),
    ("wildcard", Method::Get, "/static/css/site.css"),
    ("not_found", Method::Get, "/api/nothing/here"),
];

type Tree = matchit::Router<Vec<(Method, usize)>>;

// Neither side is inlined into its caller, so both are timed as the same
// kind of call, whatever the loop around them. Each returns the index in
// TABLE of the route found, which is also how the two are checked to agree.
#[inline(never)]
fn ours(method: Method, path: &str) -> Option<usize> {
    let mut params = Params::new();
    let found = INDEXED.lookup(method, black_box(path), &mut params);
    black_box(params.get("id"));
    match found {
        Lookup::Found(at) => Some(at),
        _ => None,
    }
}

#[inline(never)]
fn theirs(tree: &Tree, method: Method, path: &str) -> Option<usize> {
    let m = tree.at(black_box(path)).ok()?;
    black_box(m.params.get("id"));
    m.value
        .iter()
        .find(|(me, _)| *me == method)
        .map(|(_, at)| *at)
}

fn matchit_tree() -> Tree {
    let mut tree = matchit::Router::new();
    let mut by_path: Vec<(&str, Vec<(Method, usize)>)> = Vec::new();
    for (at, (method, pattern)) in TABLE.iter().enumerate() {
        match by_path.iter_mut().find(|(p, _)| p == pattern) {
            Some((_, methods)) => methods.push((*method, at)),
            None => by_path.push((pattern, vec![(*method, at)])),
        }
    }
    for (pattern, methods) in &by_path {
        tree.insert(*pattern, methods.clone()).unwrap();
    }
    tree
}

fn bench(c: &mut Criterion) {
    let tree = matchit_tree();

    let mut group = c.benchmark_group("route");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(2));
    for (name, method, path) in CASES {
        // Both must agree before either is timed.
        assert_eq!(ours(*method, path), theirs(&tree, *method, path), "{name}");

        group.bench_with_input(BenchmarkId::new("bedrock", name), path, |b, path| {
            b.iter(|| ours(*method, path))
        });
        group.bench_with_input(BenchmarkId::new("matchit", name), path, |b, path| {
            b.iter(|| theirs(&tree, *method, path))
        });
    }
    group.finish();
}

/// The same cases in alternating batches (see `benches/alternate.rs`).
fn alternating() {
    let tree = matchit_tree();
    alternate::heading("route");
    for (name, method, path) in CASES {
        let times = alternate::fastest(
            || {
                black_box(ours(*method, path));
            },
            || {
                black_box(theirs(&tree, *method, path));
            },
        );
        alternate::report(name, "matchit", times);
    }
}

criterion_group!(benches, bench);

fn main() {
    alternate::main(benches, alternating);
}
