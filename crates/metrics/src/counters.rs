//! A set of named counters as a server's lower layers keep them (the
//! unikernel's bedrock-net interface and TCP counters: `(name, doc,
//! value)`), written with Prometheus's conventions: each a counter
//! `PREFIX_NAME_total` with its doc as help; every `drop_REASON` one
//! sample of a single family with a `reason` label; a `NAME_peak`
//! (a high-water mark, not a count of events) a gauge.

use crate::text::{Kind, Value, Writer};

/// The family the `drop_*` counters of a set go into.
#[derive(Clone, Copy, Debug)]
pub struct Drops<'a> {
    /// Its name after the prefix (`dropped_packets_total`).
    pub name: &'a str,
    /// Its help.
    pub help: &'a str,
}

const DROP: &str = "drop_";
const PEAK: &str = "_peak";

/// Writes `items` (see the module doc) with names starting `prefix`; the
/// drops family goes where the first `drop_*` counter is.
pub fn write_counters<'i, I>(w: &mut Writer<'_>, prefix: &str, items: I, drops: Drops<'_>)
where
    I: Iterator<Item = (&'i str, &'i str, u64)> + Clone,
{
    let mut drops_written = false;
    for (name, help, value) in items.clone() {
        if let Some(_reason) = name.strip_prefix(DROP) {
            if drops_written {
                continue;
            }
            drops_written = true;
            if w.family(&[prefix, drops.name], drops.help, Kind::Counter) {
                for (name, _, value) in items.clone() {
                    if let Some(reason) = name.strip_prefix(DROP) {
                        w.sample("", &[("reason", reason)], Value::Int(value));
                    }
                }
            }
        } else if name.ends_with(PEAK) {
            w.single(&[prefix, name], help, Kind::Gauge, Value::Int(value));
        } else {
            w.single(
                &[prefix, name, "_total"],
                help,
                Kind::Counter,
                Value::Int(value),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MIN_STREAM_BUFFER;

    const DROPS: Drops<'static> = Drops {
        name: "dropped_total",
        help: "Dropped, by reason.",
    };

    fn written(items: &[(&str, &str, u64)], size: usize, from: u32) -> (String, u32) {
        let mut buf = vec![0u8; size];
        let mut w = Writer::new(&mut buf, from);
        write_counters(&mut w, "p_", items.iter().copied(), DROPS);
        let piece = w.finish();
        (
            String::from_utf8(buf[..piece.len].to_vec()).unwrap(),
            piece.next,
        )
    }

    #[test]
    fn counters_drops_and_peaks() {
        let items = [
            ("rx_frames", " Frames received.", 5),
            ("drop_bad_checksum", "Bad.", 1),
            ("slots_peak", "Most at once.", 9),
            ("drop_short", "Short.", 2),
        ];
        let (text, next) = written(&items, 4096, 0);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "# HELP p_rx_frames_total Frames received.",
                "# TYPE p_rx_frames_total counter",
                "p_rx_frames_total 5",
                "# HELP p_dropped_total Dropped, by reason.",
                "# TYPE p_dropped_total counter",
                "p_dropped_total{reason=\"bad_checksum\"} 1",
                "p_dropped_total{reason=\"short\"} 2",
                "# HELP p_slots_peak Most at once.",
                "# TYPE p_slots_peak gauge",
                "p_slots_peak 9",
            ]
        );
        assert_eq!(next, 3, "three families");
    }

    /// bedrock-net's real counters, every one at its largest: each family
    /// fits a piece of its own, and pieces of any size between give back
    /// the same text as one large piece.
    #[test]
    fn the_net_stacks_counters_in_pieces() {
        let mut tcp = bedrock_net::tcp::TcpCounters::ZERO;
        let names: Vec<&str> = tcp.iter().map(|(n, _)| n).collect();
        assert!(names.contains(&"drop_paws") && names.contains(&"time_wait_peak"));
        tcp = bedrock_net::tcp::TcpCounters {
            segs_in: u64::MAX,
            ..tcp
        };
        let items: Vec<(&str, &str, u64)> =
            tcp.described().map(|(n, h, _)| (n, h, u64::MAX)).collect();
        let iface: Vec<(&str, &str, u64)> = bedrock_net::iface::Counters::default()
            .described()
            .map(|(n, h, _)| (n, h, u64::MAX))
            .collect();
        for items in [&items, &iface] {
            let (whole, families) = written(items, 1 << 20, 0);
            assert!(!whole.contains("left out"));
            assert!(
                whole
                    .lines()
                    .all(|l| !l.starts_with("# HELP") || l.len() > 20),
                "every counter has help"
            );
            for size in [MIN_STREAM_BUFFER, 700, 1500] {
                let (mut joined, mut from) = (String::new(), 0);
                while from < families {
                    let (text, next) = written(items, size, from);
                    assert!(!text.contains("left out"), "{size}: {text}");
                    assert!(next > from);
                    joined.push_str(&text);
                    from = next;
                }
                assert_eq!(joined, whole, "{size}");
            }
        }
    }
}
