//! The journal on a simulated disk: appends, replays, and a crash at
//! every point of an append (any subset of its sectors written), checked
//! against what was acknowledged.

use bedrock_journal::disk::{
    find_header, region, Found, Header, Replay, Tail, Write, MAX_APPEND, SECTOR,
};
use bedrock_journal::{encode, HEADER};
use proptest::prelude::*;

const CAPACITY: u64 = 2 + 2 * 255;
const MAX_PAYLOAD: usize = 600;
type Scan = Replay<{ MAX_PAYLOAD + HEADER + SECTOR }>;

struct Disk {
    sectors: Vec<[u8; SECTOR]>,
}

impl Disk {
    fn new() -> Disk {
        Disk {
            sectors: vec![[0; SECTOR]; CAPACITY as usize],
        }
    }

    fn write(&mut self, w: Write, bytes: &[u8], keep: impl Fn(usize) -> bool) {
        for (k, chunk) in bytes[..w.len].chunks(SECTOR).enumerate() {
            if keep(k) {
                self.sectors[w.sector as usize + k].copy_from_slice(chunk);
            }
        }
    }

    /// The header a boot finds (writing the first on an empty disk).
    fn header(&mut self) -> Header {
        match find_header(&self.sectors[0], &self.sectors[1]) {
            Found::Journal(h) => h,
            Found::Empty => {
                let h = Header::FIRST;
                self.sectors[h.slot() as usize] = h.encode();
                h
            }
            Found::Foreign => panic!("not a journal"),
        }
    }

    /// What a boot does: replay the header's region (4 sectors a read),
    /// rebuild the tail, zero ahead. Returns the payloads, the tail and
    /// the header.
    fn boot(&mut self) -> (Vec<Vec<u8>>, Tail) {
        let h = self.header();
        let (first, limit) = region(CAPACITY, h.region);
        let mut scan = Scan::new(MAX_PAYLOAD);
        let mut got = Vec::new();
        let mut sector = first;
        while !scan.is_done() && sector < limit {
            let n = 4.min(limit - sector) as usize;
            let piece: Vec<u8> = self.sectors[sector as usize..][..n].concat();
            scan.feed(&piece, &mut |p| {
                got.push(p.to_vec());
                true
            });
            sector += n as u64;
        }
        let end = scan.end();
        let at = Tail::end_sector(first, end).min(limit - 1) as usize;
        let tail = Tail::at(first, limit, end, &self.sectors[at]);
        let z = tail.zero_ahead();
        self.write(z, &vec![0; z.len], |_| true);
        (got, tail)
    }
}

fn records(payloads: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in payloads {
        let mut r = vec![0; HEADER + p.len()];
        encode(p, &mut r).unwrap();
        out.extend(r);
    }
    out
}

/// Appends one group; `crash` = Some(mask) writes only the sectors the
/// mask keeps and does not acknowledge. Returns whether it was planned.
fn append(disk: &mut Disk, tail: &mut Tail, group: &[Vec<u8>], crash: Option<u64>) -> bool {
    let bytes = records(group);
    let mut out = vec![0; MAX_APPEND];
    let Some(w) = tail.plan(&bytes, &mut out) else {
        return false;
    };
    match crash {
        None => {
            disk.write(w, &out, |_| true);
            tail.advance(bytes.len(), &out[..w.len]);
        }
        Some(mask) => disk.write(w, &out, |k| mask >> (k % 64) & 1 == 1),
    }
    true
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 1..MAX_PAYLOAD)
}

proptest! {
    #[test]
    fn acknowledged_records_survive_any_crash_and_nothing_else_appears(
        rounds in proptest::collection::vec(
            (proptest::collection::vec(payload(), 1..5), proptest::option::of(any::<u64>())), 1..12)
    ) {
        let mut disk = Disk::new();
        let (_, mut tail) = disk.boot();
        let mut acked: Vec<Vec<u8>> = Vec::new();
        for (group, crash) in rounds {
            if !append(&mut disk, &mut tail, &group, crash) {
                continue; // full: refused, nothing written
            }
            if crash.is_none() {
                acked.extend(group.iter().cloned());
                continue;
            }
            // Crash and reboot: the acknowledged records, then at most a
            // prefix of the crashed group, nothing else.
            let (got, t) = disk.boot();
            prop_assert!(got.len() >= acked.len());
            prop_assert_eq!(&got[..acked.len()], &acked[..]);
            let extra = &got[acked.len()..];
            prop_assert!(extra.len() <= group.len());
            prop_assert_eq!(extra, &group[..extra.len()]);
            acked = got;
            tail = t;
        }
        let (got, _) = disk.boot();
        prop_assert_eq!(got, acked);
    }
}

#[test]
fn an_empty_disk_has_no_records_and_appends_start_at_sector_one() {
    let mut disk = Disk::new();
    let (got, mut tail) = disk.boot();
    assert!(got.is_empty());
    assert_eq!(tail.end(), 0);
    let mut out = vec![0; MAX_APPEND];
    let w = tail.plan(&records(&[b"abc".to_vec()]), &mut out).unwrap();
    assert_eq!(
        w,
        Write {
            sector: 2,
            len: SECTOR
        }
    );
    tail.advance(HEADER + 3, &out[..w.len]);
    assert_eq!(tail.end(), 11);
}

#[test]
fn a_full_disk_refuses_at_and_past_its_last_sector() {
    let mut disk = Disk::new();
    let (_, mut tail) = disk.boot();
    // A region of 255 sectors: fill it with 512-byte records exactly.
    let one = vec![7u8; SECTOR - HEADER];
    for _ in 0..255 {
        assert!(append(
            &mut disk,
            &mut tail,
            std::slice::from_ref(&one),
            None
        ));
    }
    assert_eq!(tail.end(), 255 * SECTOR as u64);
    assert!(!append(&mut disk, &mut tail, &[vec![1]], None));
    let (got, _) = disk.boot();
    assert_eq!(got.len(), 255);
}

#[test]
fn an_append_longer_than_max_append_is_refused() {
    let tail = Tail::empty(2, 100_000);
    let mut out = vec![0; 2 * MAX_APPEND];
    assert!(tail.plan(&vec![1; MAX_APPEND], &mut out).is_some());
    assert!(tail.plan(&vec![1; MAX_APPEND + 1], &mut out).is_none());
}

#[test]
fn a_corrupt_middle_record_ends_the_journal_there() {
    let mut disk = Disk::new();
    let (_, mut tail) = disk.boot();
    for p in [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()] {
        append(&mut disk, &mut tail, &[p], None);
    }
    // Flip a payload byte of "two" (it starts at byte 11 of the records).
    disk.sectors[2][HEADER + 3 + HEADER] ^= 1;
    let (got, tail) = disk.boot();
    assert_eq!(got, [b"one".to_vec()]);
    assert_eq!(tail.end(), (HEADER + 3) as u64);
    // The replay says it stopped at damage, not at the end.
    let mut scan = Scan::new(MAX_PAYLOAD);
    scan.feed(&disk.sectors[2], &mut |_| true);
    assert!(scan.is_done() && scan.dropped_damage());
    let mut clean = Scan::new(MAX_PAYLOAD);
    clean.feed(&[0u8; SECTOR], &mut |_| true);
    assert!(clean.is_done() && !clean.dropped_damage());
}

#[test]
fn a_record_a_crash_left_past_the_end_never_comes_back() {
    // A group of three records filling sectors 1-3 exactly and B at the
    // start of sector 4; the crash writes only sector 4, so the first
    // record is torn and B is a whole record beyond the end. A later group
    // ending exactly where B starts would bring B back at the next boot,
    // were the boot not to zero ahead.
    let mut disk = Disk::new();
    let (_, mut tail) = disk.boot();
    let sizes = [592, 592, 3 * SECTOR - 1200 - HEADER];
    let fill: Vec<Vec<u8>> = sizes.iter().map(|&n| vec![1u8; n]).collect();
    let mut crashed = fill.clone();
    crashed.push(vec![2u8; 50]);
    assert!(append(&mut disk, &mut tail, &crashed, Some(0b1000)));
    let (got, mut tail) = disk.boot();
    assert!(got.is_empty());
    let again: Vec<Vec<u8>> = sizes.iter().map(|&n| vec![3u8; n]).collect();
    assert!(append(&mut disk, &mut tail, &again, None));
    assert_eq!(tail.end(), 3 * SECTOR as u64);
    let (got, _) = disk.boot();
    assert_eq!(got, again);
}

/// Compacts: `snapshot` as the first records of the other region, the
/// rest of it zeroed, a flush, then the next header, a flush. `crash`:
/// Some((mask, header)) stops before the first flush with only the
/// masked sectors of the region written, or (mask = u64::MAX) after it,
/// with the header written whole (`header`) or not at all.
fn compact(disk: &mut Disk, snapshot: &[Vec<u8>], crash: Option<(u64, bool)>) -> Option<Tail> {
    let h = disk.header();
    let next = h.next();
    let (first, limit) = region(CAPACITY, next.region);
    let mut tail = Tail::empty(first, limit);
    let bytes = records(snapshot);
    let mut out = vec![0; MAX_APPEND];
    let w = tail.plan(&bytes, &mut out)?;
    let mut region_bytes = out[..w.len].to_vec();
    region_bytes.resize(((limit - first) as usize) * SECTOR, 0);
    let whole = Write {
        sector: first,
        len: region_bytes.len(),
    };
    match crash {
        Some((mask, _)) if mask != u64::MAX => {
            disk.write(whole, &region_bytes, |k| mask >> (k % 64) & 1 == 1);
            return None;
        }
        _ => disk.write(whole, &region_bytes, |_| true),
    }
    tail.advance(bytes.len(), &out[..w.len]);
    if crash.is_some_and(|(_, header)| !header) {
        return None;
    }
    disk.sectors[next.slot() as usize] = next.encode();
    Some(tail)
}

proptest! {
    #[test]
    fn a_compaction_crashed_anywhere_leaves_the_old_journal_or_the_new_whole(
        before in proptest::collection::vec(payload(), 1..6),
        crash in proptest::option::of((any::<u64>(), any::<bool>())),
        after in proptest::collection::vec(payload(), 0..4),
    ) {
        let mut disk = Disk::new();
        let (_, mut tail) = disk.boot();
        for p in &before {
            append(&mut disk, &mut tail, std::slice::from_ref(p), None);
        }
        // The live state is the last two records (the rest "deleted").
        let live: Vec<Vec<u8>> = before.iter().rev().take(2).rev().cloned().collect();
        let done = compact(&mut disk, &live, crash);
        let (got, mut tail) = disk.boot();
        match done {
            Some(_) => prop_assert_eq!(&got, &live),
            None => prop_assert!(got == before || got == live, "a mix: {} records", got.len()),
        }
        // And the journal goes on from whichever it is.
        let expected: Vec<Vec<u8>> = got.iter().chain(&after).cloned().collect();
        for p in &after {
            append(&mut disk, &mut tail, std::slice::from_ref(p), None);
        }
        let (got, _) = disk.boot();
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn compacting_twice_reuses_the_first_region_with_nothing_stale() {
    let mut disk = Disk::new();
    let (_, mut tail) = disk.boot();
    let many: Vec<Vec<u8>> = (0..20u8).map(|i| vec![i + 1; 100]).collect();
    for p in &many {
        append(&mut disk, &mut tail, std::slice::from_ref(p), None);
    }
    compact(&mut disk, &many[19..], None).unwrap();
    compact(&mut disk, &many[18..19], None).unwrap();
    // Region 0 again: only the snapshot, none of the twenty old records.
    let (got, _) = disk.boot();
    assert_eq!(got, &many[18..19]);
    assert_eq!(disk.header().generation, 3);
}

#[test]
fn torn_headers_and_foreign_disks() {
    let zero = [0u8; SECTOR];
    assert_eq!(find_header(&zero, &zero), Found::Empty);
    let h1 = Header::FIRST;
    let h2 = h1.next();
    let (s1, s2) = (h1.encode(), h2.encode());
    assert_eq!(find_header(&s2, &s1), Found::Journal(h2));
    let mut torn = s2;
    torn[20] ^= 1;
    assert_eq!(find_header(&torn, &s1), Found::Journal(h1));
    let mut other = [0u8; SECTOR];
    other[..4].copy_from_slice(b"\x7fELF");
    assert_eq!(find_header(&other, &zero), Found::Foreign);
    assert_eq!(region(2 + 2 * 10, 1), (12, 22));
}
