//! SACK (RFC 2018) and SACK-based loss recovery (RFC 6675): negotiation
//! both ways, the blocks we send while holding out-of-order data, and
//! what our sender resends given the peer's blocks.

use std::collections::BTreeSet;
use std::vec;

use super::*;
use crate::limits::{ASSEMBLER_RANGES, TCP_SACK_SCOREBOARD_RANGES};

/// Peer MSS of the sender tests: segments of 100 bytes, and an initial
/// window of four of them.
const MSS: u16 = 100;

/// SYN in (offering SACK if `offer`), SYN-ACK out answering it when
/// `expect`, ACK in.
#[track_caller]
fn handshake_sack<const N: usize, const RX: usize, const TX: usize>(
    h: &mut H<N, RX, TX>,
    mss: u16,
    offer: bool,
    expect: bool,
) -> Handle {
    let syn_ack = h.syn_ack_to(&Seg {
        mss: Some(mss),
        sack_permitted: offer,
        ..syn()
    });
    assert_eq!(
        syn_ack,
        Seg {
            sack_permitted: expect,
            ..h.our_syn_ack()
        }
    );
    assert_eq!(h.send(&h.ack_seg(PEER_ISN + 1, 1)), vec![]);
    let c = h.stack.accept().unwrap();
    assert_eq!(h.stack.counters().sack_negotiated, u64::from(expect));
    c
}

fn sack_off() -> TcpConfig {
    let mut cfg = TcpConfig::new();
    cfg.sack = false;
    cfg
}

#[test]
fn sack_permitted_answered_only_when_offered_and_enabled() {
    let mut h = H::<4>::new();
    handshake_sack(&mut h, 1460, true, true);
    let mut h = H::<4>::new();
    handshake_sack(&mut h, 1460, false, false);
    let mut h = H::<4>::new();
    h.stack.set_config(sack_off());
    handshake_sack(&mut h, 1460, true, false);
}

/// Active open: our SYN offers SACK (unless disabled); out-of-order data
/// is then reported in SACK blocks only if the SYN-ACK agreed.
#[test]
fn active_open_offers_sack_and_uses_it_only_if_agreed() {
    for (enabled, peer_agrees) in [(true, true), (true, false), (false, true)] {
        let mut h = H::<4>::new();
        if !enabled {
            h.stack.set_config(sack_off());
        }
        let c = h
            .stack
            .connect(h.now, (OUR_IP, 40000), (PEER_IP, PEER_PORT))
            .unwrap();
        let out = h.poll();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].control, TcpControl::Syn);
        assert_eq!(out[0].sack_permitted, enabled);
        let iss = out[0].seq;
        let synack = Seg {
            src_port: PEER_PORT,
            dst_port: 40000,
            control: TcpControl::Syn,
            seq: PEER_ISN,
            ack: Some(iss.wrapping_add(1)),
            mss: Some(1460),
            sack_permitted: peer_agrees,
            ..send_templ()
        };
        let out = h.send(&synack);
        assert_eq!(out.len(), 1, "the ACK of the handshake");
        assert!(!out[0].sack_permitted);
        assert_eq!(h.stack.state(c), State::Established);
        // Data past a gap.
        let ooo = Seg {
            src_port: PEER_PORT,
            dst_port: 40000,
            seq: PEER_ISN + 101,
            ack: Some(iss.wrapping_add(1)),
            payload: pattern(50, 1),
            ..send_templ()
        };
        let out = h.send(&ooo);
        let expect = if enabled && peer_agrees {
            vec![(PEER_ISN + 101, PEER_ISN + 151)]
        } else {
            vec![]
        };
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].ack, &out[0].sack), (Some(PEER_ISN + 1), &expect));
    }
}

/// RFC 2018 §4: every ACK while out-of-order data is held carries the
/// ranges, the one holding the latest segment first, then the others
/// from the most recently touched; at most four; merged as gaps fill;
/// none once all is in order.
#[test]
fn sack_blocks_follow_out_of_order_arrivals() {
    let mut h = H::<4>::new();
    handshake_sack(&mut h, 1460, true, true);
    let all = pattern(2000, 3);
    let our_ack = h.ours(1);
    let seg = |off: u32, len: u32| {
        data_seg(
            off as usize,
            &all[off as usize..(off + len) as usize],
            our_ack,
        )
    };
    let abs = |a: u32, b: u32| (PEER_ISN + 1 + a, PEER_ISN + 1 + b);
    let expect_sack = |h: &mut H, s: Seg, ack: u32, blocks: Vec<(u32, u32)>| {
        let out = h.send(&s);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].ack, Some(PEER_ISN + 1 + ack));
        assert_eq!(
            out[0].sack,
            blocks.iter().map(|&(a, b)| abs(a, b)).collect::<Vec<_>>()
        );
        assert!(out[0].payload.is_empty());
    };
    expect_sack(&mut h, seg(200, 100), 0, vec![(200, 300)]);
    expect_sack(&mut h, seg(400, 100), 0, vec![(400, 500), (200, 300)]);
    expect_sack(
        &mut h,
        seg(600, 100),
        0,
        vec![(600, 700), (400, 500), (200, 300)],
    );
    expect_sack(
        &mut h,
        seg(800, 100),
        0,
        vec![(800, 900), (600, 700), (400, 500), (200, 300)],
    );
    assert_eq!(ASSEMBLER_RANGES, 4);
    // A fifth range does not fit the assembler: dropped, still 4 blocks.
    expect_sack(
        &mut h,
        seg(1000, 100),
        0,
        vec![(800, 900), (600, 700), (400, 500), (200, 300)],
    );
    assert_eq!(h.stack.counters().drop_reassembly_full, 1);
    // A duplicate of held data: its range goes first.
    expect_sack(
        &mut h,
        seg(400, 100),
        0,
        vec![(400, 500), (800, 900), (600, 700), (200, 300)],
    );
    // 300..400 joins two ranges into one, reported first.
    expect_sack(
        &mut h,
        seg(300, 100),
        0,
        vec![(200, 500), (800, 900), (600, 700)],
    );
    // The front gap fills: RCV.NXT moves to 500; two ranges are left.
    expect_sack(&mut h, seg(0, 200), 500, vec![(800, 900), (600, 700)]);
    expect_sack(&mut h, seg(500, 100), 700, vec![(800, 900)]);
    expect_sack(&mut h, seg(700, 100), 900, vec![]);
    assert!(h.stack.counters().sack_blocks_out >= 18);
}

/// Our SACK option takes room from the payload: a full segment plus four
/// blocks still fits the peer's MSS (RFC 6691).
#[test]
fn sack_option_shortens_our_segments() {
    let mut h = H::<4, 8192, 8192>::new();
    let c = handshake_sack(&mut h, 1460, true, true);
    let our_ack = h.ours(1);
    for i in 0..4u32 {
        let s = Seg {
            seq: PEER_ISN + 1 + 100 + 200 * i,
            ack: Some(our_ack),
            payload: vec![1; 100],
            ..send_templ()
        };
        assert_eq!(h.send(&s)[0].sack.len(), i as usize + 1);
    }
    assert_eq!(h.stack.send(c, &pattern(3000, 1)), 3000);
    let out = h.poll();
    assert!(out.len() >= 2, "{out:?}");
    for s in &out {
        assert_eq!(s.sack.len(), 4);
        assert!(s.payload.len() + 36 <= 1460, "{} bytes", s.payload.len());
    }
    assert_eq!(out[0].payload.len(), 1460 - 36);
}

/// What the sender tests start from: SACK agreed, MSS 100, 4000 bytes
/// queued, the first 400 acknowledged one segment at a time (so the
/// congestion window grew to 8 segments), and [400, 1200) in flight.
fn eight_in_flight(h: &mut H) -> Handle {
    let c = handshake_sack(h, MSS, true, true);
    assert_eq!(h.stack.send(c, &pattern(4000, 9)), 4000);
    let mut out = h.poll();
    for i in 1..=4 {
        out.extend(h.send(&h.ack_seg(PEER_ISN + 1, 1 + 100 * i)));
    }
    let offsets: Vec<u32> = out.iter().map(|s| s.seq.wrapping_sub(h.ours(1))).collect();
    assert_eq!(offsets, (0..12).map(|i| 100 * i).collect::<Vec<_>>());
    c
}

/// The peer's ACK of our bytes up to `ack` (offsets from our first data
/// byte) with SACK blocks, optionally carrying `data` bytes of its own
/// from offset `peer_off`.
fn sack_ack(h: &H, ack: u32, blocks: &[(u32, u32)], data: Option<u32>) -> Seg {
    Seg {
        seq: PEER_ISN + 1 + data.unwrap_or(0),
        ack: Some(h.ours(1 + ack)),
        sack: blocks
            .iter()
            .map(|&(a, b)| (h.ours(1 + a), h.ours(1 + b)))
            .collect(),
        payload: if data.is_some() {
            vec![0x5a; 10]
        } else {
            vec![]
        },
        ..send_templ()
    }
}

/// Offsets of the data segments in `out` that resend bytes below `max`.
fn resent(h: &H, out: &[Seg], max: u32) -> Vec<u32> {
    out.iter()
        .filter(|s| !s.payload.is_empty())
        .map(|s| s.seq.wrapping_sub(h.ours(1)))
        .filter(|&off| off < max)
        .collect()
}

/// Two holes, [400, 500) and [700, 800): the sender enters recovery on
/// the third ACK that SACKs new data and resends exactly the holes, each
/// once, as each is judged lost; nothing SACKed is resent, no timeout.
/// With `peer_data`, every ACK also carries data (an echoing peer): with
/// SACK that changes nothing.
fn resends_only_the_holes(peer_data: bool) {
    type Step = (&'static [(u32, u32)], &'static [u32]);
    let mut h = H::<4>::new();
    let c = eight_in_flight(&mut h);
    let d = |i: u32| peer_data.then_some(10 * i);
    // Per ACK: its SACK blocks, and the offsets it must make us resend.
    let steps: [Step; 6] = [
        (&[(500, 600)], &[]),
        (&[(500, 700)], &[]),
        (&[(800, 900), (500, 700)], &[400]),
        (&[(800, 1000), (500, 700)], &[]),
        (&[(800, 1100), (500, 700)], &[]),
        (&[(800, 1200), (500, 700)], &[700]),
    ];
    for (i, (blocks, expect)) in steps.into_iter().enumerate() {
        let out = h.send(&sack_ack(&h, 400, blocks, d(i as u32)));
        assert_eq!(resent(&h, &out, 1200), expect, "step {i}: {out:?}");
    }
    let n = h.stack.counters();
    assert_eq!((n.sack_recoveries, n.retransmits, n.timeouts), (1, 2, 0));
    // Both resends arrive: all of it is acknowledged, recovery ends.
    let max = h.stack.tcb(c).unwrap().snd_max.since(SeqNumber(h.ours(1)));
    let out = h.send(&sack_ack(&h, 700, &[(800, 1200)], d(6)));
    assert_eq!(resent(&h, &out, 1200), vec![]);
    let out = h.send(&sack_ack(&h, max, &[], d(7)));
    assert_eq!(resent(&h, &out, 1200), vec![]);
    assert_eq!(h.stack.tcb(c).unwrap().cc.recover, None);
    assert!(h.stack.tcb(c).unwrap().cc.scoreboard.is_empty());
}

#[test]
fn sack_recovery_resends_only_the_holes() {
    resends_only_the_holes(false);
}

#[test]
fn sack_recovery_counts_data_carrying_acks() {
    resends_only_the_holes(true);
}

/// Without SACK the same data-carrying ACKs are not duplicates (RFC
/// 5681): nothing is resent before the timeout.
#[test]
fn without_sack_data_carrying_acks_do_not_trigger_recovery() {
    let mut h = H::<4>::new();
    h.stack.set_config(sack_off());
    let c = handshake_sack(&mut h, MSS, true, false);
    assert_eq!(h.stack.send(c, &pattern(4000, 9)), 4000);
    h.poll();
    for i in 0..6 {
        let out = h.send(&sack_ack(&h, 0, &[(100, 200 + 100 * i)], Some(10 * i)));
        assert_eq!(resent(&h, &out, 400), vec![], "{out:?}");
    }
    assert_eq!(h.stack.counters().fast_retransmits, 0);
    assert_eq!(h.stack.counters().sack_blocks_in, 0);
}

/// Fewer than four segments out and nothing else to send: one segment
/// SACKed fewer than outstanding is enough (RFC 5827 early retransmit).
#[test]
fn early_retransmit_with_a_small_flight() {
    let mut h = H::<4>::new();
    let c = handshake_sack(&mut h, MSS, true, true);
    assert_eq!(h.stack.send(c, &pattern(300, 9)), 300);
    assert_eq!(h.poll().len(), 3);
    let out = h.send(&sack_ack(&h, 0, &[(100, 200)], None));
    assert_eq!(
        resent(&h, &out, 300),
        vec![],
        "one of three SACKed is not enough"
    );
    let out = h.send(&sack_ack(&h, 0, &[(100, 300)], None));
    assert_eq!(resent(&h, &out, 300), vec![0]);
    assert_eq!(h.stack.counters().sack_recoveries, 1);
}

/// A resend that is lost itself: once data sent after it is SACKed past
/// the threshold, it goes again, before any timeout.
#[test]
fn lost_retransmission_is_sent_again() {
    let mut h = H::<4>::new();
    let c = eight_in_flight(&mut h);
    let out = h.send(&sack_ack(&h, 400, &[(500, 800)], None));
    assert_eq!(resent(&h, &out, 1200), vec![400]);
    let out = h.send(&sack_ack(&h, 400, &[(500, 1200)], None));
    assert_eq!(resent(&h, &out, 1200), vec![]);
    // Data sent after the resend ([1200, ..)) is SACKed: it was lost.
    let max = h.stack.tcb(c).unwrap().snd_max.since(SeqNumber(h.ours(1)));
    assert!(max >= 1500, "new data went out in recovery: {max}");
    let out = h.send(&sack_ack(&h, 400, &[(500, 1500)], None));
    assert_eq!(resent(&h, &out, 1200), vec![400]);
    let n = h.stack.counters();
    assert_eq!((n.sack_lost_retransmits, n.timeouts), (1, 0));
}

/// After a timeout, go-back-N skips what the peer SACKed.
#[test]
fn timeout_resend_skips_sacked_data() {
    let mut h = H::<4>::new();
    let c = eight_in_flight(&mut h);
    // Two single segments SACKed: not enough for recovery.
    let out = h.send(&sack_ack(&h, 400, &[(800, 900), (500, 600)], None));
    assert_eq!(resent(&h, &out, 1200), vec![]);
    assert_eq!(h.stack.tcb(c).unwrap().cc.recover, None);
    let max = h.stack.tcb(c).unwrap().snd_max.since(SeqNumber(h.ours(1)));
    // The peer holds [0, 400) and the SACKed segments; it gets whatever
    // we send from now on and acknowledges each segment.
    let mut held: BTreeSet<u32> = [5, 8].into_iter().collect();
    let rto = h.stack.tcb(c).unwrap().timers.rtt.rto();
    h.now = h.now + rto;
    let mut out = h.poll();
    assert_eq!(h.stack.counters().timeouts, 1);
    let mut all_resent: Vec<u32> = Vec::new();
    for _ in 0..40 {
        let offs = resent(&h, &out, max);
        all_resent.extend(&offs);
        for s in out.iter().filter(|s| !s.payload.is_empty()) {
            held.insert(s.seq.wrapping_sub(h.ours(1)) / 100);
        }
        let ack = (4..).find(|i| !held.contains(i)).unwrap() * 100;
        if ack >= max {
            break;
        }
        out = h.send(&sack_ack(&h, ack, &[], None));
    }
    let expect: Vec<u32> = (4..max / 100)
        .filter(|i| *i != 5 && *i != 8)
        .map(|i| 100 * i)
        .collect();
    assert_eq!(all_resent, expect);
    assert_eq!(h.stack.counters().sack_skipped_bytes, 200);
}

/// The scoreboard keeps TCP_SACK_SCOREBOARD_RANGES ranges; one more
/// forgets the highest (counted), and nothing breaks.
#[test]
fn scoreboard_limit_at_and_past() {
    let mut h = H::<4>::new();
    let c = eight_in_flight(&mut h);
    // Ten-byte ranges 20 bytes apart from 410: up to the limit first.
    let block = |i: u32| (410 + 20 * i, 420 + 20 * i);
    let limit = TCP_SACK_SCOREBOARD_RANGES as u32;
    for chunk in (0..limit).collect::<Vec<_>>().chunks(4) {
        let blocks: Vec<_> = chunk.iter().map(|&i| block(i)).collect();
        h.send(&sack_ack(&h, 400, &blocks, None));
    }
    let tcb = h.stack.tcb(c).unwrap();
    assert_eq!(tcb.cc.scoreboard.ranges().len(), TCP_SACK_SCOREBOARD_RANGES);
    assert_eq!(h.stack.counters().sack_scoreboard_full, 0);
    // One past, above everything: forgotten.
    h.send(&sack_ack(&h, 400, &[block(limit)], None));
    assert_eq!(h.stack.counters().sack_scoreboard_full, 1);
    let tcb = h.stack.tcb(c).unwrap();
    assert_eq!(tcb.cc.scoreboard.ranges().len(), TCP_SACK_SCOREBOARD_RANGES);
    let top = block(limit - 1).1;
    assert_eq!(
        tcb.cc.scoreboard.ranges().last().unwrap().1,
        SeqNumber(h.ours(1 + top))
    );
    // The connection still completes: everything acknowledged.
    let max = tcb.snd_max.since(SeqNumber(h.ours(1)));
    h.send(&sack_ack(&h, max, &[], None));
    assert!(h.stack.tcb(c).unwrap().cc.scoreboard.is_empty());
}

/// SACK blocks outside what is outstanding (below SND.UNA, past
/// SND.MAX, inverted) are ignored.
#[test]
fn bogus_sack_blocks_are_ignored() {
    let mut h = H::<4>::new();
    let c = eight_in_flight(&mut h);
    let max = h.stack.tcb(c).unwrap().snd_max.since(SeqNumber(h.ours(1)));
    h.send(&sack_ack(
        &h,
        400,
        &[(100, 300), (max, max + 100), (700, 600), (500, max + 1)],
        None,
    ));
    assert!(h.stack.tcb(c).unwrap().cc.scoreboard.is_empty());
    assert_eq!(h.stack.counters().sack_blocks_in, 0);
    assert_eq!(h.stack.counters().retransmits, 0);
}
