//! The journal on a simulated disk: appends, replays, and a crash at
//! every point of an append (any subset of its sectors written), checked
//! against what was acknowledged.

use bedrock_journal::disk::{Replay, Tail, Write, FIRST_SECTOR, MAX_APPEND, SECTOR};
use bedrock_journal::{encode, HEADER};
use proptest::prelude::*;

const CAPACITY: u64 = 256;
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

    /// What a boot does: replay (4 sectors a read), rebuild the tail,
    /// zero ahead. Returns the payloads and the tail.
    fn boot(&mut self) -> (Vec<Vec<u8>>, Tail) {
        let mut scan = Scan::new(MAX_PAYLOAD);
        let mut got = Vec::new();
        let mut sector = FIRST_SECTOR;
        while !scan.is_done() && sector < CAPACITY {
            let n = 4.min(CAPACITY - sector) as usize;
            let piece: Vec<u8> = self.sectors[sector as usize..][..n].concat();
            scan.feed(&piece, &mut |p| {
                got.push(p.to_vec());
                true
            });
            sector += n as u64;
        }
        let end = scan.end();
        let at = Tail::end_sector(end).min(CAPACITY - 1) as usize;
        let tail = Tail::at(end, &self.sectors[at]);
        let z = tail.zero_ahead(CAPACITY);
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
    let Some(w) = tail.plan(&bytes, CAPACITY, &mut out) else {
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
    let w = tail
        .plan(&records(&[b"abc".to_vec()]), CAPACITY, &mut out)
        .unwrap();
    assert_eq!(
        w,
        Write {
            sector: FIRST_SECTOR,
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
    // 255 record sectors: fill them with 512-byte records exactly.
    let one = vec![7u8; SECTOR - HEADER];
    for _ in 0..(CAPACITY - FIRST_SECTOR) {
        assert!(append(
            &mut disk,
            &mut tail,
            std::slice::from_ref(&one),
            None
        ));
    }
    assert_eq!(tail.end(), (CAPACITY - FIRST_SECTOR) * SECTOR as u64);
    assert!(!append(&mut disk, &mut tail, &[vec![1]], None));
    let (got, _) = disk.boot();
    assert_eq!(got.len(), (CAPACITY - FIRST_SECTOR) as usize);
}

#[test]
fn an_append_longer_than_max_append_is_refused() {
    let tail = Tail::empty();
    let mut out = vec![0; 2 * MAX_APPEND];
    assert!(tail
        .plan(&vec![1; MAX_APPEND], CAPACITY * 1000, &mut out)
        .is_some());
    assert!(tail
        .plan(&vec![1; MAX_APPEND + 1], CAPACITY * 1000, &mut out)
        .is_none());
}

#[test]
fn a_corrupt_middle_record_ends_the_journal_there() {
    let mut disk = Disk::new();
    let (_, mut tail) = disk.boot();
    for p in [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()] {
        append(&mut disk, &mut tail, &[p], None);
    }
    // Flip a payload byte of "two" (it starts at byte 11 of the records).
    disk.sectors[1][HEADER + 3 + HEADER] ^= 1;
    let (got, tail) = disk.boot();
    assert_eq!(got, [b"one".to_vec()]);
    assert_eq!(tail.end(), (HEADER + 3) as u64);
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
