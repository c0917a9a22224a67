//! The indexed lookup (`Routes::lookup`, what `dispatch` uses) against
//! the linear scan (`lookup`) on random tables and paths: same answer,
//! same captured parameters.

use bedrock_web::{lookup, Ctx, Lookup, Method, Outcome, Params, Reply, Route, Routes};
use bedrock_web::{INDEXED_ROUTES, MAX_PARAMS};
use proptest::prelude::*;

fn handler(_: &mut (), _: &mut Ctx<'_>) -> Outcome {
    Ok(Reply::no_content())
}

const METHODS: [Method; 5] = [
    Method::Get,
    Method::Head,
    Method::Post,
    Method::Delete,
    Method::Options,
];

/// Few, overlapping texts so that random patterns and paths often meet.
const LITERALS: [&str; 6] = ["", "a", "b", "ab", "api", "hotels"];

/// Names a captured parameter can have in the generated patterns.
const NAMES: [&str; 9] = ["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "rest"];

#[derive(Clone, Debug)]
enum Segment {
    Literal(usize),
    Param,
}

fn pattern_text(segments: &[Segment], rest: bool) -> String {
    let mut text = String::new();
    let mut params = 0;
    for segment in segments {
        text.push('/');
        match segment {
            Segment::Literal(i) => text.push_str(LITERALS[*i]),
            Segment::Param if params < MAX_PARAMS => {
                text.push_str(&format!("{{p{params}}}"));
                params += 1;
            }
            Segment::Param => text.push('b'),
        }
    }
    if rest {
        text.push_str("/{*rest}");
    } else if text.is_empty() {
        text.push('/');
    }
    text
}

fn segment() -> impl Strategy<Value = Segment> {
    prop_oneof![
        3 => (0..LITERALS.len()).prop_map(Segment::Literal),
        1 => Just(Segment::Param),
    ]
}

/// A method and pattern (a `Route` has no `Debug` for proptest to show).
fn route() -> impl Strategy<Value = (Method, &'static str)> {
    (
        0..METHODS.len(),
        prop::collection::vec(segment(), 0..5),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(method, segments, rest)| {
            let pattern: &'static str = Box::leak(pattern_text(&segments, rest).into_boxed_str());
            (METHODS[method], pattern)
        })
}

fn table() -> impl Strategy<Value = Vec<(Method, &'static str)>> {
    prop_oneof![
        4 => prop::collection::vec(route(), 0..40),
        // Past the routes the index covers.
        1 => prop::collection::vec(route(), INDEXED_ROUTES - 2..INDEXED_ROUTES + 12),
    ]
}

fn path() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        4 => (0..LITERALS.len()).prop_map(|i| LITERALS[i].to_string()),
        1 => "[a-z0-9]{1,3}",
    ];
    prop_oneof![
        8 => prop::collection::vec(part, 0..6).prop_map(|parts| format!("/{}", parts.join("/"))),
        1 => "[a/*]{0,8}",
    ]
}

fn routes_of(table: &[(Method, &'static str)]) -> Vec<Route<()>> {
    table
        .iter()
        .map(|&(method, pattern)| Route::new(method, pattern, handler))
        .collect()
}

/// Everything a lookup leaves behind that a handler can see.
fn answer<'p>(found: Lookup, params: &Params<'p>) -> (Lookup, Vec<Option<&'p str>>) {
    let captured = match found {
        Lookup::Found(_) => NAMES.iter().map(|n| params.get(n)).collect(),
        _ => Vec::new(),
    };
    (found, captured)
}

fn both<'p>(
    routes: &'p [Route<()>],
    method: Method,
    path: &'p str,
) -> [(Lookup, Vec<Option<&'p str>>); 2] {
    let mut linear_params = Params::new();
    let linear = lookup(routes, method, path, &mut linear_params);
    let mut indexed_params = Params::new();
    let indexed = Routes::new(routes).lookup(method, path, &mut indexed_params);
    [
        answer(linear, &linear_params),
        answer(indexed, &indexed_params),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn indexed_lookup_agrees_with_linear(
        table in table(),
        paths in prop::collection::vec(path(), 1..12),
        method in 0..METHODS.len(),
    ) {
        let routes = routes_of(&table);
        for path in &paths {
            let [linear, indexed] = both(&routes, METHODS[method], path);
            prop_assert_eq!(linear, indexed, "path {:?}", path);
        }
    }

    #[test]
    fn indexed_lookup_finds_every_route_by_an_instance_of_its_pattern(
        table in prop::collection::vec(route(), 1..40),
    ) {
        let routes = routes_of(&table);
        for route in &routes {
            // Fill each parameter with a value and the rest with a/b.
            let path = route
                .pattern()
                .split('/')
                .map(|s| if s == "{*rest}" { "a/b" } else if s.starts_with('{') { "7" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            let [linear, indexed] = both(&routes, route.method(), &path);
            prop_assert!(matches!(indexed.0, Lookup::Found(_)), "{} {:?}", route.pattern(), path);
            prop_assert_eq!(linear, indexed);
        }
    }
}

/// A table of `len` routes whose last one is `GET /target`.
fn table_ending_in_target(len: usize) -> Vec<Route<()>> {
    let mut routes: Vec<Route<()>> = (0..len - 1)
        .map(|i| {
            let pattern: &'static str = Box::leak(format!("/r{i}/{{id}}").into_boxed_str());
            Route::new(Method::Get, pattern, handler)
        })
        .collect();
    routes.push(Route::new(Method::Get, "/target", handler));
    routes
}

#[test]
fn last_indexed_route_and_first_unindexed_route_are_found() {
    for len in [INDEXED_ROUTES, INDEXED_ROUTES + 1] {
        let routes = table_ending_in_target(len);
        let table = Routes::new(&routes);
        let mut params = Params::new();
        assert_eq!(
            table.lookup(Method::Get, "/target", &mut params),
            Lookup::Found(len - 1)
        );
        assert_eq!(
            table.lookup(Method::Post, "/target", &mut params),
            Lookup::NotAllowed(bedrock_web::MethodSet::EMPTY.with(Method::Get))
        );
        assert_eq!(
            table.lookup(Method::Get, "/r5/x", &mut params),
            Lookup::Found(5)
        );
        assert_eq!(params.get("id"), Some("x"));
    }
}

#[test]
fn paths_not_starting_with_a_slash_match_nothing() {
    static ROUTES: [Route<()>; 2] = [
        Route::new(Method::Get, "/{*rest}", handler),
        Route::new(Method::Get, "/", handler),
    ];
    let table = Routes::new(&ROUTES);
    for path in ["", "*", "a/b", "http://x/"] {
        assert_eq!(
            table.lookup(Method::Get, path, &mut Params::new()),
            Lookup::NotFound
        );
        assert_eq!(
            lookup(&ROUTES, Method::Get, path, &mut Params::new()),
            Lookup::NotFound
        );
    }
}

#[test]
fn one_match_serves_every_method_of_a_repeated_pattern() {
    static ROUTES: [Route<()>; 4] = [
        Route::new(Method::Get, "/a/{x}", handler),
        Route::new(Method::Put, "/a/{x}", handler),
        Route::new(Method::Delete, "/a/{x}", handler),
        Route::new(Method::Post, "/a/{y}", handler),
    ];
    static TABLE: Routes<'static, ()> = Routes::new(&ROUTES);
    let mut params = Params::new();
    assert_eq!(
        TABLE.lookup(Method::Delete, "/a/1", &mut params),
        Lookup::Found(2)
    );
    assert_eq!(params.get("x"), Some("1"));
    // A different pattern (other parameter name) is matched again.
    assert_eq!(
        TABLE.lookup(Method::Post, "/a/2", &mut params),
        Lookup::Found(3)
    );
    assert_eq!((params.get("x"), params.get("y")), (None, Some("2")));
    // HEAD falls back to GET with GET's captures.
    assert_eq!(
        TABLE.lookup(Method::Head, "/a/3", &mut params),
        Lookup::Found(0)
    );
    assert_eq!(params.get("x"), Some("3"));
}
