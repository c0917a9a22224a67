//! RFC 7323 at the packet level: which options a handshake agrees on
//! (both sides or nothing), scaled windows both ways, PAWS dropping an
//! old duplicate, timestamps that wrap, which TSval our ACKs echo, the
//! option space beside SACK, and RTT samples from the echo.

use std::vec;

use super::*;
use crate::limits::{TCP_MAX_WINDOW_SHIFT, TCP_TIMESTAMP_TICK};

/// A receive buffer past 64 KiB: our shift is 3 (256 KiB >> 2 is one
/// more than 65535).
const BIG: usize = 256 * 1024;
const OUR_SHIFT: u8 = 3;
type Hb = H<2, BIG, BUF>;

/// The stack with window scaling and timestamps on or off.
fn with<const RX: usize>(h: &mut H<2, RX, BUF>, scaling: bool, timestamps: bool) {
    let mut cfg = h.stack.config();
    cfg.window_scaling = scaling;
    cfg.timestamps = timestamps;
    h.stack.set_config(cfg);
}

/// SYN (SACK-permitted) with `wscale` and TSval `ts` in, SYN-ACK out (returned), ACK
/// in (with TSval `ts + 1` when our SYN-ACK carried timestamps, echoing
/// ours), accepted.
fn open<const RX: usize>(
    h: &mut H<2, RX, BUF>,
    wscale: Option<u8>,
    ts: Option<u32>,
) -> (Handle, Seg) {
    let out = h.send(&Seg {
        wscale,
        ts: ts.map(|v| (v, 0)),
        sack_permitted: true,
        ..syn()
    });
    assert_eq!(out.len(), 1, "{out:?}");
    let synack = out[0].clone();
    assert_eq!(synack.control, TcpControl::Syn);
    h.iss = synack.seq;
    let ack = Seg {
        ack: Some(h.ours(1)),
        ts: synack.ts.map(|(ours, _)| (ts.unwrap() + 1, ours)),
        ..send_templ()
    };
    assert_eq!(h.send(&ack), vec![]);
    let c = h.stack.accept().expect("established");
    (c, synack)
}

/// The peer's data segment at offset `off` of its stream.
fn data(h: &H<2, BIG, BUF>, off: u32, len: usize, ts: Option<u32>, tsecr: u32) -> Seg {
    Seg {
        seq: PEER_ISN + 1 + off,
        ack: Some(h.ours(1)),
        ts: ts.map(|v| (v, tsecr)),
        payload: pattern(len, off as u8),
        ..send_templ()
    }
}

#[test]
fn options_are_used_only_when_both_sides_carry_them() {
    for ours in [(true, true), (true, false), (false, true), (false, false)] {
        for theirs in [(true, true), (true, false), (false, true), (false, false)] {
            let mut h = Hb::new();
            with(&mut h, ours.0, ours.1);
            let wscale = theirs.0.then_some(3);
            let ts = theirs.1.then_some(7000);
            let (c, synack) = open(&mut h, wscale, ts);
            let scaled = ours.0 && theirs.0;
            let stamped = ours.1 && theirs.1;
            let what = std::format!("ours {ours:?} theirs {theirs:?}");
            assert_eq!(synack.wscale, scaled.then_some(OUR_SHIFT), "{what}");
            assert_eq!(synack.ts.is_some(), stamped, "{what}");
            if stamped {
                assert_eq!(synack.ts.unwrap().1, 7000, "the SYN's TSval echoed");
            }
            // A SYN's window is never scaled (RFC 7323 §2.2).
            assert_eq!(synack.window, u16::MAX, "{what}");
            // The peer's ACK offered 64240: scaled by 3 only if agreed.
            let snd_wnd = h.stack.tcb(c).unwrap().snd_wnd;
            assert_eq!(snd_wnd, 64240 << if scaled { 3 } else { 0 }, "{what}");
            // Our next segment: window scaled down by our shift, and the
            // option only if agreed.
            let tsval = 7001 + 1;
            h.send(&data(
                &h,
                0,
                100,
                ts.map(|_| tsval),
                synack.ts.map_or(0, |t| t.0),
            ));
            h.now = h.now + Duration::from_millis(50);
            let out = h.poll();
            assert_eq!(out.len(), 1, "the delayed ACK: {what}");
            let free = BIG - 100;
            let window = if scaled {
                (free >> OUR_SHIFT) as u16
            } else {
                u16::MAX
            };
            assert_eq!(out[0].window, window, "{what}");
            assert_eq!(out[0].ts.map(|t| t.1), stamped.then_some(tsval), "{what}");
            let c = *h.stack.counters();
            assert_eq!(c.window_scaling_negotiated, u64::from(scaled), "{what}");
            assert_eq!(c.timestamps_negotiated, u64::from(stamped), "{what}");
        }
    }
}

#[test]
fn active_open_offers_both_and_uses_what_the_syn_ack_agrees() {
    for (scale, stamp) in [(true, true), (true, false), (false, true), (false, false)] {
        let mut h = Hb::new();
        let c = h
            .stack
            .connect(h.now, (OUR_IP, 40000), (PEER_IP, PEER_PORT))
            .unwrap();
        let out = h.poll();
        assert_eq!(out[0].wscale, Some(OUR_SHIFT));
        let (tsval, tsecr) = out[0].ts.expect("offered");
        assert_eq!(tsecr, 0, "no ACK: TSecr is 0 (RFC 7323 §3.2)");
        let synack = Seg {
            src_port: PEER_PORT,
            dst_port: 40000,
            control: TcpControl::Syn,
            seq: PEER_ISN,
            ack: Some(out[0].seq.wrapping_add(1)),
            mss: Some(1460),
            window: 1000,
            wscale: scale.then_some(4),
            ts: stamp.then_some((500, tsval)),
            ..send_templ()
        };
        let out = h.send(&synack);
        assert_eq!(out.len(), 1);
        assert_eq!(h.stack.state(c), State::Established);
        assert_eq!(out[0].wscale, None, "only in SYNs");
        assert_eq!(out[0].ts.map(|t| t.1), stamp.then_some(500));
        let t = h.stack.tcb(c).unwrap();
        assert_eq!(t.snd_wnd, 1000, "the SYN-ACK's window is not scaled");
        assert_eq!((t.ext.scaling, t.ext.timestamps), (scale, stamp));
        let field = if scale { BIG >> OUR_SHIFT } else { 65535 };
        assert_eq!(usize::from(out[0].window), field);
    }
}

#[test]
fn a_peer_shift_past_fourteen_counts_as_fourteen() {
    for (offered, used) in [(TCP_MAX_WINDOW_SHIFT, 14), (TCP_MAX_WINDOW_SHIFT + 1, 14)] {
        let mut h = Hb::new();
        let (c, _) = open(&mut h, Some(offered), None);
        // The handshake's ACK offered 64240.
        assert_eq!(h.stack.tcb(c).unwrap().snd_wnd, 64240 << used);
    }
}

#[test]
fn a_large_buffer_is_offered_whole_and_filled_past_64_kib() {
    let mut h = Hb::new();
    let (c, _) = open(&mut h, Some(0), None);
    // 100 KiB arrive in order without the application reading: all of
    // it is taken, past what an unscaled window could offer.
    let (mut off, mut out) = (0, vec![]);
    while off < 100 * 1024 {
        out = h.send(&data(&h, off as u32, 1024, None, 0));
        off += 1024;
    }
    assert_eq!(h.stack.recv_queue(c), 100 * 1024);
    let last = out.last().expect("every second segment is acknowledged");
    assert_eq!(last.ack, Some(PEER_ISN + 1 + off as u32));
    assert_eq!(usize::from(last.window) << OUR_SHIFT, BIG - off);
}

#[test]
fn paws_drops_an_old_duplicate_and_spares_rsts() {
    let mut h = Hb::new();
    let (c, synack) = open(&mut h, None, Some(1000));
    let ours = synack.ts.unwrap().0;
    h.send(&data(&h, 0, 100, Some(1010), ours));
    assert_eq!(h.stack.recv_queue(c), 100);
    // New sequence space, old TSval: a duplicate from before the
    // sequence numbers wrapped. Dropped, answered with an ACK.
    let out = h.send(&data(&h, 100, 100, Some(1009), ours));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].ack, Some(PEER_ISN + 101));
    assert_eq!(out[0].ts.unwrap().1, 1010, "TS.Recent unchanged");
    assert_eq!(h.stack.recv_queue(c), 100);
    assert_eq!(h.stack.counters().drop_paws, 1);
    // The same TSval is not older: taken.
    h.send(&data(&h, 100, 100, Some(1010), ours));
    assert_eq!(h.stack.recv_queue(c), 200);
    // A segment without timestamps on this connection: dropped silently.
    assert_eq!(h.send(&data(&h, 200, 100, None, 0)), vec![]);
    assert_eq!(h.stack.recv_queue(c), 200);
    assert_eq!(h.stack.counters().drop_no_timestamp, 1);
    // A RST is not subject to PAWS (RFC 7323 §5.3 R1).
    let rst = Seg {
        control: TcpControl::Rst,
        ts: Some((1, 0)),
        ..data(&h, 200, 0, None, 0)
    };
    assert_eq!(h.send(&rst), vec![]);
    assert_eq!(h.stack.state(c), State::Closed);
}

#[test]
fn timestamps_that_wrap_are_newer() {
    let mut h = Hb::new();
    let (c, synack) = open(&mut h, None, Some(u32::MAX - 2));
    let ours = synack.ts.unwrap().0;
    h.send(&data(&h, 0, 10, Some(u32::MAX), ours));
    // 3 follows u32::MAX modulo 2^32 (RFC 7323 §5.2): taken.
    let out = h.send(&data(&h, 10, 10, Some(3), ours));
    assert_eq!(h.stack.recv_queue(c), 20);
    assert_eq!(out.len(), 1, "the second segment is acknowledged at once");
    assert_eq!(
        out[0].ts.unwrap().1,
        u32::MAX,
        "the earliest unacknowledged"
    );
    // At Last.ACK.sent, a wrapped TSval becomes TS.Recent.
    assert_eq!(h.send(&data(&h, 20, 10, Some(4), ours)), vec![]);
    let out = h.at_ms(100);
    assert_eq!(out[0].ts.unwrap().1, 4, "the delayed ACK echoes it");
    assert_eq!(h.stack.recv_queue(c), 30);
    // From then on u32::MAX - 1 is old.
    let out = h.send(&data(&h, 30, 10, Some(u32::MAX - 1), ours));
    assert_eq!(h.stack.recv_queue(c), 30);
    assert_eq!(out[0].ts.unwrap().1, 4);
    assert_eq!(h.stack.counters().drop_paws, 1);
}

#[test]
fn acks_echo_the_segment_that_last_advanced_the_window() {
    let mut h = Hb::new();
    let (_, synack) = open(&mut h, None, Some(100));
    let ours = synack.ts.unwrap().0;
    // Delayed: the first segment's TSval is echoed when the second
    // makes the ACK go (RFC 7323 §4.3 (A)); the second started past
    // Last.ACK.sent, so it is not recorded.
    assert_eq!(h.send(&data(&h, 0, 100, Some(110), ours)), vec![]);
    let out = h.send(&data(&h, 100, 100, Some(120), ours));
    assert_eq!(out[0].ts.unwrap().1, 110);
    // Out of order (a hole at 200): the duplicate ACKs, with their SACK
    // block, echo TS.Recent, not the later segment (§4.3 (B)), so the
    // sender's RTT errs long.
    let out = h.send(&data(&h, 300, 100, Some(130), ours));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].ts.unwrap().1, 110);
    assert_eq!(out[0].sack, vec![(PEER_ISN + 301, PEER_ISN + 401)]);
    // The hole filled: its TSval is echoed (§4.3 (C)).
    let out = h.send(&data(&h, 200, 100, Some(140), ours));
    assert_eq!(out[0].ack, Some(PEER_ISN + 401));
    assert_eq!(out[0].ts.unwrap().1, 140);
}

#[test]
fn sack_blocks_share_the_option_space_with_timestamps() {
    let mut h = Hb::new();
    let (_, synack) = open(&mut h, None, Some(100));
    let ours = synack.ts.unwrap().0;
    let mut out = vec![];
    for i in 0..4 {
        out = h.send(&data(&h, 200 * i + 100, 100, Some(101), ours));
    }
    // Four ranges held; with 12 bytes of timestamps three blocks fit,
    // the latest first, then the most recently reported (RFC 2018 §4).
    let last = out.last().unwrap();
    assert!(last.ts.is_some());
    assert_eq!(
        last.sack,
        vec![
            (PEER_ISN + 701, PEER_ISN + 801),
            (PEER_ISN + 501, PEER_ISN + 601),
            (PEER_ISN + 301, PEER_ISN + 401),
        ]
    );
}

#[test]
fn rtt_is_measured_from_the_echo_and_not_from_a_needless_resend() {
    let mut h = Hb::new();
    let (c, synack) = open(&mut h, None, Some(100));
    let first = h.stack.tcb(c).unwrap().timers.rtt.srtt();
    assert_eq!(first, Some(Duration(0)), "the handshake's ACK came at once");
    h.stack.send(c, b"hello");
    let out = h.poll();
    let (tsval, _) = out[0].ts.unwrap();
    assert_eq!(tsval, synack.ts.unwrap().0, "same millisecond");
    // The ACK comes 30 ms later, echoing the segment: a 30 ms sample.
    h.now = h.now + Duration(30 * TCP_TIMESTAMP_TICK.0);
    h.send(&Seg {
        ack: Some(h.ours(6)),
        ts: Some((200, tsval)),
        ..send_templ()
    });
    let srtt = h.stack.tcb(c).unwrap().timers.rtt.srtt().unwrap();
    assert_eq!(srtt, Duration(30_000 / 8), "7/8 of 0 plus 1/8 of 30 ms");
    // Data times out and is resent; the ACK that comes echoes the
    // original (the resend was needless): no sample.
    h.stack.send(c, b"world");
    let out = h.poll();
    let (original, _) = out[0].ts.unwrap();
    let rto = h.stack.tcb(c).unwrap().timers.rtt.rto();
    h.now = h.now + rto;
    let resent = h.poll();
    assert_eq!(resent[0].payload, b"world");
    assert!(resent[0].ts.unwrap().0 > original);
    h.now = h.now + Duration::from_millis(5);
    h.send(&Seg {
        ack: Some(h.ours(11)),
        ts: Some((201, original)),
        ..send_templ()
    });
    let t = h.stack.tcb(c).unwrap();
    assert_eq!(t.snd_una.0, h.ours(11));
    assert_eq!(t.timers.rtt.srtt(), Some(srtt), "no sample from the echo");
}
