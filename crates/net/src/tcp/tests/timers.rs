//! Retransmission (RFC 6298), fast retransmit, zero-window probes,
//! delayed ACKs, SYN-RECEIVED and idle timeouts, ISNs over time.

use std::vec;

use super::*;
use crate::limits::{INITIAL_RTO, MIN_RTO, TCP_SYNACK_RETRIES};

type Hd = H;

/// Lifts the send-stall limit (for tests of what comes before it).
fn no_stall_limit(h: &mut Hd) {
    let mut cfg = h.stack.config();
    cfg.send_stall_timeout = Duration::from_secs(100_000);
    h.stack.set_config(cfg);
}

fn retx_at(h: &Hd, handle: Handle) -> Instant {
    h.stack
        .tcb(handle)
        .unwrap()
        .timers
        .retx_at
        .expect("timer running")
}

#[test]
fn rto_doubles_and_karn_skips_retransmitted_samples() {
    let (mut h, handle) = Hd::established();
    // The handshake took no time: the RTO sits at its floor.
    assert_eq!(h.stack.tcb(handle).unwrap().timers.rtt.rto(), MIN_RTO);
    h.stack.send(handle, b"data");
    let first = h.poll();
    assert_eq!(first.len(), 1);
    assert_eq!(h.at_ms(199), vec![]);
    assert_eq!(h.at_ms(200), first, "after one RTO");
    assert_eq!(h.at_ms(599), vec![]);
    assert_eq!(h.at_ms(600), first, "after two RTOs: doubled");
    assert_eq!(h.at_ms(1399), vec![]);
    assert_eq!(h.at_ms(1400), first, "doubled again");
    assert_eq!(h.stack.counters().timeouts, 3);
    assert_eq!(h.stack.counters().retransmits, 3);
    let srtt = h.stack.tcb(handle).unwrap().timers.rtt.srtt();
    // The ACK of a retransmitted segment is no RTT sample (Karn).
    h.at_ms(1450);
    h.send(&h.ack_seg(PEER_ISN + 1, 5));
    assert_eq!(h.stack.tcb(handle).unwrap().timers.rtt.srtt(), srtt);
    assert_eq!(h.stack.tcb(handle).unwrap().timers.retx_at, None);
    // Fresh data is timed: 50 ms.
    h.stack.send(handle, b"more");
    h.poll();
    h.at_ms(1500);
    h.send(&h.ack_seg(PEER_ISN + 1, 9));
    assert_eq!(
        h.stack.tcb(handle).unwrap().timers.rtt.srtt(),
        Some(Duration(6250)),
        "7/8 * 0 + 1/8 * 50 ms"
    );
}

#[test]
fn gives_up_after_max_retries_with_rst() {
    let mut h = Hd::new();
    // The retries take ~100 s: past the send-stall limit, tested apart.
    no_stall_limit(&mut h);
    let handle = h.handshake();
    h.stack.send(handle, b"data");
    let first = h.poll();
    let mut last = h.now;
    let mut interval = MIN_RTO;
    for _ in 0..h.stack.config().max_retries {
        let at = retx_at(&h, handle);
        assert_eq!(at - last, interval);
        h.now = at;
        assert_eq!(h.poll(), first);
        last = at;
        interval = Duration(interval.0 * 2);
    }
    h.now = retx_at(&h, handle);
    assert_eq!(
        h.poll(),
        vec![Seg {
            control: TcpControl::Rst,
            seq: h.ours(5),
            window: 0,
            ..h.recv_templ()
        }]
    );
    assert_eq!(h.stack.state(handle), State::Closed);
    assert_eq!(h.stack.counters().aborted_retries, 1);
}

#[test]
fn fast_retransmit_on_three_duplicate_acks() {
    let mut h = Hd::new();
    let handle = h.handshake_mss(Some(536));
    h.stack.send(handle, &pattern(4 * 536, 5));
    let out = h.poll();
    assert_eq!(out.len(), 4, "initial window of 4 segments");
    let dup = h.ack_seg(PEER_ISN + 1, 1);
    assert_eq!(h.send(&dup), vec![]);
    assert_eq!(h.send(&dup), vec![]);
    assert_eq!(h.send(&dup), vec![out[0].clone()], "third duplicate");
    assert_eq!(h.stack.counters().fast_retransmits, 1);
    assert_eq!(h.send(&dup), vec![], "no more resends while recovering");
    // A partial ACK resends the next hole at once (NewReno).
    assert_eq!(h.send(&h.ack_seg(PEER_ISN + 1, 537)), vec![out[1].clone()]);
    h.send(&h.ack_seg(PEER_ISN + 1, 1 + 4 * 536));
    assert_eq!(h.stack.send_queue(handle), 0);
    assert_eq!(h.stack.tcb(handle).unwrap().cc.recover, None);
}

#[test]
fn zero_window_is_probed_with_backoff() {
    let mut h = Hd::new();
    no_stall_limit(&mut h);
    let handle = h.handshake();
    let shut = Seg {
        window: 0,
        ..h.ack_seg(PEER_ISN + 1, 1)
    };
    h.send(&shut);
    h.stack.send(handle, b"hello");
    assert_eq!(h.poll(), vec![], "window closed");
    let probe = Seg {
        payload: b"h".to_vec(),
        ..h.recv_templ()
    };
    assert_eq!(h.at_ms(199), vec![]);
    assert_eq!(h.at_ms(200), vec![probe.clone()]);
    assert_eq!(h.send(&shut), vec![]);
    assert_eq!(h.at_ms(599), vec![]);
    assert_eq!(h.at_ms(600), vec![probe], "persist interval doubled");
    assert_eq!(h.stack.counters().zero_window_probes, 2);
    // Probes answered keep the connection alive past max_retries.
    for _ in 0..12 {
        h.send(&shut);
        h.now = retx_at(&h, handle);
        assert_eq!(h.poll().len(), 1);
    }
    assert_eq!(h.stack.state(handle), State::Established);
    // The window opens: everything goes, from the first byte.
    let open = Seg {
        window: 1000,
        ..shut
    };
    assert_eq!(
        h.send(&open),
        vec![Seg {
            psh: true,
            payload: b"hello".to_vec(),
            ..h.recv_templ()
        }]
    );
}

#[test]
fn syn_ack_retransmitted_then_half_open_times_out() {
    let mut h = Hd::new();
    let synack = h.send(&syn());
    assert_eq!(h.at_ms(999), vec![]);
    assert_eq!(h.at_ms(1000), synack, "initial RTO 1 s");
    assert_eq!(h.at_ms(3000), synack);
    assert_eq!(h.at_ms(7000), synack);
    let out = h.at_ms(8000);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].control, TcpControl::Rst);
    assert_eq!(h.stack.active(), 0);
    assert_eq!(h.stack.counters().syn_received_timeouts, 1);
}

#[test]
fn syn_ack_retries_are_bounded() {
    let mut h = Hd::new();
    let mut cfg = h.stack.config();
    cfg.syn_received_timeout = Duration::from_secs(600);
    h.stack.set_config(cfg);
    let synack = h.send(&syn());
    let mut at = 0;
    for k in 0..TCP_SYNACK_RETRIES {
        at += (INITIAL_RTO.0 / 1000) << k;
        assert_eq!(h.at_ms(at), synack, "retry {k}");
    }
    at += (INITIAL_RTO.0 / 1000) << TCP_SYNACK_RETRIES;
    assert_eq!(h.at_ms(at - 1), vec![]);
    assert_eq!(h.at_ms(at)[0].control, TcpControl::Rst);
    assert_eq!(h.stack.counters().aborted_retries, 1);
}

#[test]
fn idle_connection_is_reaped() {
    let (mut h, handle) = Hd::established();
    let idle = h.stack.config().idle_timeout.0 / 1000;
    assert_eq!(h.at_ms(idle - 1), vec![]);
    let out = h.at_ms(idle);
    assert_eq!(out[0].control, TcpControl::Rst);
    assert_eq!(h.stack.state(handle), State::Closed);
    assert_eq!(h.stack.counters().reaped_idle, 1);
}

#[test]
fn poll_at_names_the_next_timer() {
    let mut h = Hd::new();
    assert_eq!(h.stack.poll_at(h.now), None);
    let handle = h.handshake();
    let idle = h.now + h.stack.config().idle_timeout;
    assert_eq!(h.stack.poll_at(h.now), Some(idle));
    h.stack.send(handle, b"x");
    assert_eq!(h.stack.poll_at(h.now), Some(h.now), "data to send");
    h.poll();
    assert_eq!(h.stack.poll_at(h.now), Some(h.now + MIN_RTO));
    let data = Seg {
        payload: b"y".to_vec(),
        ..h.ack_seg(PEER_ISN + 1, 2)
    };
    h.send(&data);
    assert_eq!(
        h.stack.poll_at(h.now),
        Some(h.now + crate::limits::TCP_DELAYED_ACK)
    );
}

#[test]
fn isn_differs_per_tuple_and_grows_over_time() {
    let mut h = Hd::new();
    let a = h.send(&syn())[0].seq;
    let b = h.send(&Seg {
        src_port: PEER_PORT + 1,
        ..syn()
    })[0]
        .seq;
    assert_ne!(a, b);
    // The same tuple 1 s later (the first attempt reset) gets an ISN
    // 250,000 ticks on.
    h.send(&Seg {
        control: TcpControl::Rst,
        ..send_templ()
    });
    h.at_ms(1000);
    let later = h.send(&syn());
    let c = later.iter().find(|s| s.dst_port == PEER_PORT).unwrap().seq;
    assert_eq!(c.wrapping_sub(a), 250_000);
}

#[test]
fn lost_fin_is_retransmitted_in_last_ack() {
    let (mut h, handle) = Hd::established();
    h.send(&h.fin_seg(PEER_ISN + 1, 1));
    h.stack.close(handle);
    let fin = h.poll();
    assert_eq!(fin[0].control, TcpControl::Fin);
    assert_eq!(h.at_ms(200), fin, "resent after one RTO");
    assert_eq!(h.send(&h.ack_seg(PEER_ISN + 2, 2)), vec![]);
    assert_eq!(h.stack.state(handle), State::Closed);
}

#[test]
fn counters_display_one_line_each() {
    let mut h = Hd::new();
    h.handshake();
    let text = std::format!("{}", h.stack.counters());
    assert!(text.contains("tcp_segs_in 2\n"), "{text}");
    assert!(text.contains("tcp_accepted 1\n"));
    assert_eq!(text.lines().count(), h.stack.counters().iter().count());
}
