//! JSON writing: bedrock's `JsonWriter` into a reused buffer through
//! `SliceSink`, against `serde_json::to_writer` (derived `Serialize`) into a
//! reused, cleared `Vec<u8>`. Same cases, same output.
// criterion_group! defines an undocumented public function.
#![allow(missing_docs)]

use bedrock_json::{JsonError, JsonWriter, SliceSink};
use criterion::{black_box, criterion_group, BenchmarkId, Criterion};
use serde::Serialize;
use std::time::Duration;

#[path = "../../../benches/alternate.rs"]
mod alternate;

#[derive(Serialize)]
struct Hotel<'a> {
    id: u64,
    name: &'a str,
    city: &'a str,
}

fn write_hotel(w: &mut JsonWriter<SliceSink<'_>>, h: &Hotel<'_>) -> Result<(), JsonError> {
    w.begin_object()?;
    w.field_u64("id", h.id)?;
    w.field_str("name", h.name)?;
    w.field_str("city", h.city)?;
    w.end_object()
}

fn write_list(w: &mut JsonWriter<SliceSink<'_>>, hs: &[Hotel<'_>]) -> Result<(), JsonError> {
    w.begin_array()?;
    for h in hs {
        write_hotel(w, h)?;
    }
    w.end_array()
}

fn write_strings(w: &mut JsonWriter<SliceSink<'_>>, ss: &[&str]) -> Result<(), JsonError> {
    w.begin_array()?;
    for s in ss {
        w.string(s)?;
    }
    w.end_array()
}

const CITIES: [&str; 5] = [
    "Berlin",
    "Paris",
    "Z\u{fc}rich",
    "New York",
    "S\u{e3}o Paulo",
];

fn bench(c: &mut Criterion) {
    let names: Vec<String> = (0..100).map(|i| format!("Grand Hotel Nr. {i}")).collect();
    let hotels: Vec<Hotel<'_>> = names
        .iter()
        .enumerate()
        .map(|(i, n)| Hotel {
            id: 1000 + i as u64 * 7919,
            name: n,
            city: CITIES[i % CITIES.len()],
        })
        .collect();
    let one = &hotels[42];
    let escapey: Vec<&str> = (0..20)
        .map(|i| match i % 4 {
            0 => "He said \"hello\" and left.\nThen: \"bye\"\t(\u{e4}\u{f6}\u{fc})",
            1 => "C:\\Program Files\\bedrock\\bin\\server.exe --flag=\"x\"",
            2 => "line one\nline two\r\nline three\u{1}\u{1f}end \u{2603} \u{1f600}",
            _ => "plain text with no escapes at all, but fairly long to scan",
        })
        .collect();

    let mut group = c.benchmark_group("json_write");
    group
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_secs(1));

    let mut buf = vec![0u8; 64 * 1024];
    let mut vec: Vec<u8> = Vec::with_capacity(64 * 1024);

    // The two writers must agree before we time them.
    let check = |ours: &[u8], theirs: &[u8]| assert_eq!(ours, theirs);
    {
        let mut w = JsonWriter::new(SliceSink::new(&mut buf));
        write_list(&mut w, &hotels).unwrap();
        check(w.sink().as_bytes(), &serde_json::to_vec(&hotels).unwrap());
        let mut w = JsonWriter::new(SliceSink::new(&mut buf));
        write_strings(&mut w, &escapey).unwrap();
        check(w.sink().as_bytes(), &serde_json::to_vec(&escapey).unwrap());
    }

    let mut rows = Vec::new();
    macro_rules! case {
        ($name:literal, $value:expr, $write:expr) => {
            group.bench_function(BenchmarkId::new("bedrock", $name), |b| {
                b.iter(|| ours(&mut buf, $value, $write))
            });
            group.bench_function(BenchmarkId::new("serde_json", $name), |b| {
                b.iter(|| theirs(&mut vec, $value))
            });
            if alternate::wanted() {
                let times = alternate::fastest(
                    || {
                        ours(&mut buf, $value, $write);
                    },
                    || {
                        theirs(&mut vec, $value);
                    },
                );
                rows.push(($name, times));
            }
        };
    }
    case!("hotel", one, write_hotel);
    case!("hotel_list_100", &hotels[..], write_list);
    case!("escape_heavy", &escapey[..], write_strings);
    group.finish();
    if alternate::wanted() {
        alternate::heading("json_write");
        for (name, times) in rows {
            alternate::report(name, "serde_json", times);
        }
    }
}

/// bedrock's side of a case: `write` into the reused `buf`. Generic over
/// the writer so that it is a direct call, as serde_json's side is.
#[inline(never)]
fn ours<T: ?Sized>(
    buf: &mut [u8],
    value: &T,
    write: impl Fn(&mut JsonWriter<SliceSink<'_>>, &T) -> Result<(), JsonError>,
) -> usize {
    let mut w = JsonWriter::new(SliceSink::new(buf));
    write(&mut w, black_box(value)).unwrap();
    black_box(w.sink().as_bytes().len())
}

/// serde_json's side: `to_writer` into the reused, cleared `vec`.
#[inline(never)]
fn theirs<T: Serialize + ?Sized>(vec: &mut Vec<u8>, value: &T) -> usize {
    vec.clear();
    serde_json::to_writer(&mut *vec, black_box(value)).unwrap();
    black_box(vec.len())
}

criterion_group!(benches, bench);

fn main() {
    // The alternating rows come out of `bench` itself, case by case.
    alternate::main(benches, || {});
}
