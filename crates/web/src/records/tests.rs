extern crate std;

use super::*;
use std::vec::Vec;

/// A record of `B` bytes at most: a number, written as its low `len`
/// bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Num<const B: usize>(u32);

impl<const B: usize> Record for Num<B> {
    const MAX_BYTES: usize = B;
    const NOT_FOUND: Reject = Reject::new(404, "no such number");
    const FULL: Reject = Reject::new(507, "numbers full");

    fn encode(&self, out: &mut [u8]) -> usize {
        let len = B.min(4);
        out[..len].copy_from_slice(&self.0.to_le_bytes()[..len]);
        len
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let mut le = [0u8; 4];
        le.get_mut(..bytes.len())?.copy_from_slice(bytes);
        (bytes.len() == B.min(4)).then_some(Num(u32::from_le_bytes(le)))
    }
}

type N4 = Num<4>;
/// Three numbers, change log for two changes.
type Three = Records<N4, 3, { log_bytes::<N4>(2) }>;

fn drained<P: Persist>(app: &mut P) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    app.drain_changes(&mut |r| out.push(r.to_vec()));
    out
}

fn put(id: u64, n: u32) -> Vec<u8> {
    let mut r = std::vec![PUT];
    r.extend(id.to_le_bytes());
    r.extend(n.to_le_bytes());
    r
}

fn head(op: u8, id: u64) -> Vec<u8> {
    let mut r = std::vec![op];
    r.extend(id.to_le_bytes());
    r
}

fn listed<const L: usize>(r: &Records<N4, 3, L>) -> Vec<(u64, u32)> {
    r.store().iter().map(|(id, n)| (id, n.0)).collect()
}

/// Full: 1, 2 and 3 under ids 1 to 3, their change records taken.
fn full() -> Three {
    let mut r = Three::new();
    for n in 1..=3 {
        assert_eq!(r.create(Num(n)), Ok(u64::from(n)));
        drained(&mut r);
    }
    r
}

/// A fresh set with `records` replayed, each accepted.
fn replayed(records: &[Vec<u8>]) -> Three {
    let mut again = Three::new();
    for r in records {
        assert!(again.replay(r), "{r:?}");
    }
    again
}

#[test]
fn each_change_is_one_record_and_reads_are_none() {
    let mut r = Three::new();
    assert_eq!(r.create(Num(10)), Ok(1));
    assert_eq!(drained(&mut r), [put(1, 10)]);
    assert_eq!(r.update(1, Num(11)), Ok(()));
    assert_eq!(r.get(1), Ok(Num(11)));
    assert_eq!(drained(&mut r), [put(1, 11)]);
    assert_eq!(r.delete(1), Ok(Num(11)));
    assert_eq!(drained(&mut r), [head(DELETE, 1)]);
    assert_eq!(r.delete_all(), Ok(()));
    assert_eq!(drained(&mut r), [std::vec![DELETE_ALL]]);
    // Refusals change nothing and record nothing.
    assert_eq!(r.get(1), Err(N4::NOT_FOUND));
    assert_eq!(r.update(1, Num(1)), Err(N4::NOT_FOUND));
    assert_eq!(r.delete(1), Err(N4::NOT_FOUND));
    assert!(drained(&mut r).is_empty());
}

#[test]
fn the_store_is_full_at_n_and_ids_survive_delete_all() {
    let mut r = full();
    assert_eq!(r.create(Num(9)), Err(N4::FULL));
    assert!(drained(&mut r).is_empty());
    r.delete_all().unwrap();
    assert!(r.store().is_empty());
    assert_eq!(r.create(Num(9)), Ok(4));
}

#[test]
fn a_change_past_the_log_is_refused_before_it_is_made() {
    let mut r = Three::new();
    r.create(Num(1)).unwrap();
    r.create(Num(2)).unwrap();
    for refused in [
        r.create(Num(3)).err(),
        r.update(1, Num(0)).err(),
        r.delete(1).err(),
    ]
    .into_iter()
    .chain([r.delete_all().err()])
    {
        assert_eq!(refused.map(|e| e.status), Some(503));
    }
    assert_eq!(listed(&r), [(1, 1), (2, 2)]);
    assert_eq!(drained(&mut r).len(), 2);
    assert_eq!(r.create(Num(3)), Ok(3));
}

#[test]
fn records_replay_into_the_same_store_and_damage_is_refused() {
    let mut r = Three::new();
    let mut journal = Vec::new();
    for n in 1..=3 {
        r.create(Num(n)).unwrap();
        journal.extend(drained(&mut r));
    }
    r.update(2, Num(20)).unwrap();
    r.delete(3).unwrap();
    journal.extend(drained(&mut r));
    let mut again = replayed(&journal);
    assert_eq!(listed(&again), [(1, 1), (2, 20)]);
    assert_eq!(again.create(Num(4)), Ok(4));
    // A delete of an id already gone changes nothing; a delete-all keeps
    // the ids.
    assert!(again.replay(&head(DELETE, 9)));
    assert!(again.replay(&[DELETE_ALL]));
    assert!(again.store().is_empty());
    assert_eq!(again.store().next_id(), 5);
    let mut short_put = put(6, 1);
    short_put.pop();
    for junk in [
        Vec::new(),
        std::vec![9],
        std::vec![DELETE_ALL, 0],
        head(DELETE, 1)[..8].to_vec(),
        [head(NEXT_ID, 1), std::vec![0]].concat(),
        short_put,
        // A create of an id handed out already: out of order.
        put(2, 1),
    ] {
        assert!(!again.replay(&junk), "{junk:?}");
    }
    assert!(again.store().is_empty());
}

#[test]
fn a_snapshot_rebuilds_the_records_and_the_next_id() {
    let mut r = full();
    r.delete(3).unwrap();
    let mut records = Vec::new();
    r.snapshot(&mut |c| records.push(c.to_vec()));
    assert_eq!(records, [put(1, 1), put(2, 2), head(NEXT_ID, 4)]);
    let mut again = replayed(&records);
    assert_eq!(again.create(Num(4)), Ok(4));
    again.clear();
    assert!(again.store().is_empty() && drained(&mut again).is_empty());
    assert_eq!(again.store().next_id(), 1);
}

#[test]
fn a_record_type_fits_max_record_bytes_and_not_one_byte_more() {
    const AT: usize = MAX_RECORD_BYTES - CHANGE_HEAD;
    let mut at = Records::<Num<AT>, 1, { log_bytes::<Num<AT>>(1) }>::new();
    assert_eq!(at.create(Num(7)), Ok(1));
    assert_eq!(
        <Records<Num<AT>, 1, 0> as Persist>::MAX_CHANGE,
        MAX_RECORD_BYTES
    );
    let mut snapshot = 0;
    at.snapshot(&mut |_| snapshot += 1);
    assert_eq!(snapshot, 2);
    let past = std::panic::catch_unwind(|| {
        Records::<Num<{ AT + 1 }>, 1, 64>::new();
    });
    assert!(past.is_err());
}

#[test]
fn put_record_needs_room_for_the_longest() {
    let mut out = [0u8; CHANGE_HEAD + 4];
    assert_eq!(put_record(5, &Num::<4>(9), &mut out), Some(CHANGE_HEAD + 4));
    assert_eq!(out.to_vec(), put(5, 9));
    assert_eq!(
        put_record(5, &Num::<4>(9), &mut out[..CHANGE_HEAD + 3]),
        None
    );
}

#[test]
fn the_records_stream_as_one_json_array_in_pieces() {
    let r = full();
    let mut stream = Stream::new(1, 0);
    let mut body = Vec::new();
    // Room for one item (and a comma and a bracket) a piece.
    let mut out = [0u8; 4];
    loop {
        let n = r.json_piece(&mut stream, &mut out, |w, _, num| w.u64(u64::from(num.0)));
        if n == 0 {
            break;
        }
        body.extend_from_slice(&out[..n]);
    }
    assert_eq!(body, b"[1,2,3]");
}

/// An app whose data is its records.
struct App {
    numbers: Three,
}

crate::persist_records!(App, numbers: Three);

#[test]
fn an_app_persists_through_its_records() {
    let mut app = App { numbers: full() };
    assert_eq!(App::MAX_CHANGE, CHANGE_HEAD + 4);
    app.numbers.delete(1).unwrap();
    assert_eq!(drained(&mut app), [head(DELETE, 1)]);
    let mut records = Vec::new();
    app.snapshot(&mut |r| records.push(r.to_vec()));
    app.clear();
    assert!(app.numbers.store().is_empty());
    for r in &records {
        assert!(app.replay(r));
    }
    assert_eq!(listed(&app.numbers), [(2, 2), (3, 3)]);
}
