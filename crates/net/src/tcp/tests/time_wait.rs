//! TIME-WAIT (RFC 9293 §3.4.2, RFC 6191): it lasts 2 MSL, a new SYN for
//! its 4-tuple reopens it only when its timestamp (or, without them, its
//! sequence number) is above the old incarnation's, and a table full of
//! TIME-WAIT still takes a new connection per request.

use std::vec;

use super::*;
use crate::limits::{TCP_MAX_CONNECTIONS, TCP_TIME_WAIT};

/// TIME-WAIT's length in milliseconds.
const TW_MS: u64 = TCP_TIME_WAIT.0 / 1000;

/// One request on a connection of its own, as a client with `Connection:
/// close` makes them: SYN from `port` with ISN `isn` (and TSval `ts`, if
/// any), the request with the handshake's ACK, our reply and FIN, the
/// peer's FIN. Leaves the connection in TIME-WAIT on our side.
fn request<const N: usize, const RX: usize, const TX: usize>(
    h: &mut H<N, RX, TX>,
    port: u16,
    isn: u32,
    ts: Option<u32>,
) {
    let out = h.send(&Seg {
        src_port: port,
        seq: isn,
        ts: ts.map(|v| (v, 0)),
        ..syn()
    });
    assert_eq!(out.len(), 1, "port {port}: {out:?}");
    assert_eq!(
        (out[0].control, out[0].ack),
        (TcpControl::Syn, Some(isn + 1))
    );
    let iss = out[0].seq;
    let echo = |tsval: u32| ts.map(|v| (v + tsval, out[0].ts.unwrap().0));
    h.send(&Seg {
        src_port: port,
        seq: isn + 1,
        ack: Some(iss + 1),
        ts: echo(1),
        payload: b"GET".to_vec(),
        ..send_templ()
    });
    let c = h.stack.accept().expect("established");
    assert_eq!(h.stack.recv(c, &mut [0; 8]), 3);
    h.stack.send(c, b"OK");
    h.stack.close(c);
    let out = h.poll();
    let fin = out.iter().find(|s| s.control == TcpControl::Fin).unwrap();
    let fin_end = fin.seq + fin.payload.len() as u32 + 1;
    let out = h.send(&Seg {
        src_port: port,
        control: TcpControl::Fin,
        seq: isn + 4,
        ack: Some(fin_end),
        ts: echo(2),
        ..send_templ()
    });
    assert_eq!(out.len(), 1, "the ACK of the peer's FIN");
    assert_eq!(h.stack.state(c), State::TimeWait);
}

#[test]
fn time_wait_retransmitted_fin_is_acked_and_timer_restarts() {
    let (mut h, handle) = H::<4>::fin_wait_1();
    let fin_ack = h.fin_seg(PEER_ISN + 1, 2);
    h.send(&fin_ack);
    h.at_ms(800);
    let ack = Seg {
        seq: h.ours(2),
        ack: Some(PEER_ISN + 2),
        ..h.recv_templ()
    };
    assert_eq!(h.send(&fin_ack), vec![ack]);
    h.at_ms(TW_MS + 500);
    assert_eq!(
        h.stack.state(handle),
        State::TimeWait,
        "restarted at 800 ms"
    );
    h.at_ms(TW_MS + 800);
    assert_eq!(h.stack.state(handle), State::Closed);
}

#[test]
fn time_wait_new_syn_reopens_the_tuple() {
    let (mut h, handle) = H::<4>::fin_wait_1();
    h.send(&h.fin_seg(PEER_ISN + 1, 2));
    assert_eq!(h.stack.state(handle), State::TimeWait);
    let new_syn = Seg {
        seq: PEER_ISN + 100_000,
        ..syn()
    };
    let out = h.send(&new_syn);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].control, TcpControl::Syn);
    assert_eq!(out[0].ack, Some(PEER_ISN + 100_001));
    assert_eq!(h.stack.state(handle), State::Closed, "old incarnation gone");
    assert_eq!(h.stack.active(), 1);
}

#[test]
fn time_wait_lasts_two_msl() {
    let mut h = H::<4>::new();
    request(&mut h, 5000, PEER_ISN, None);
    assert_eq!(h.stack.time_wait_slots(), 1);
    assert_eq!(TW_MS, 60_000, "2 MSL of 30 s");
    h.at_ms(TW_MS - 1);
    assert_eq!(h.stack.time_wait_slots(), 1);
    h.at_ms(TW_MS);
    assert_eq!(h.stack.time_wait_slots(), 0);
}

/// A connection from port 5000 with timestamps (TSval 1000 in its SYN,
/// 1002 last) or without, left in TIME-WAIT; then `syn` from the same
/// port: whether it reopened the 4-tuple (a SYN-ACK) or was dropped in
/// silence (TIME-WAIT stays).
fn reopens(old_ts: bool, seq: u32, ts: Option<u32>) -> bool {
    let mut h = H::<4>::new();
    request(&mut h, 5000, PEER_ISN, old_ts.then_some(1000));
    // The last segment of the old incarnation: RCV.NXT is PEER_ISN + 5.
    let out = h.send(&Seg {
        src_port: 5000,
        seq,
        ts: ts.map(|v| (v, 0)),
        ..syn()
    });
    let c = *h.stack.counters();
    match out.as_slice() {
        [] => {
            assert_eq!(h.stack.time_wait_slots(), 1);
            assert_eq!(c.time_wait_syn_dropped, 1);
            false
        }
        [synack] => {
            assert_eq!(
                (synack.control, synack.ack),
                (TcpControl::Syn, Some(seq + 1))
            );
            assert_eq!(h.stack.time_wait_slots(), 0);
            assert_eq!(c.time_wait_reopened, 1);
            true
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rfc6191_a_higher_timestamp_reopens_time_wait() {
    let (higher, lower) = (PEER_ISN + 100_000, PEER_ISN);
    // The old incarnation used timestamps and the new one would.
    assert!(reopens(true, lower, Some(1003)), "a higher TSval suffices");
    assert!(
        reopens(true, higher, Some(1002)),
        "an equal TSval, a higher seq"
    );
    assert!(
        !reopens(true, lower, Some(1002)),
        "an equal TSval, a lower seq"
    );
    assert!(
        !reopens(true, higher, Some(1001)),
        "a lower TSval, even with a higher seq"
    );
    // The new one would not use timestamps: the sequence number decides.
    assert!(reopens(true, higher, None));
    assert!(!reopens(true, lower, None));
    // The old one did not use them: the sequence number decides.
    assert!(reopens(false, higher, Some(1)));
    assert!(!reopens(false, lower, Some(5000)));
    assert!(!reopens(false, PEER_ISN + 5, None), "equal is not higher");
}

#[test]
fn rfc6191_timestamps_compare_across_the_wrap() {
    let mut h = H::<4>::new();
    request(&mut h, 5000, PEER_ISN, Some(u32::MAX - 2));
    // TS.Recent is u32::MAX; 3 is above it modulo 2^32.
    let out = h.send(&Seg {
        src_port: 5000,
        ts: Some((3, 0)),
        ..syn()
    });
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].control, TcpControl::Syn);
    assert_eq!(h.stack.counters().time_wait_reopened, 1);
}

/// A new connection per request through a table of `N` slots, every one
/// of them left in TIME-WAIT by our close: no SYN is refused or answered
/// with a cookie. Every other request comes from one of N / 4 ports that
/// come round again while their TIME-WAIT lasts: its SYN reopens the
/// 4-tuple (RFC 6191: the client's timestamps, or ISNs, grow). The rest
/// come from new ports and take the TIME-WAIT slot closest to expiry.
/// TIME-WAIT holds every slot at the peak.
fn new_connection_per_request<const N: usize>(timestamps: bool, rounds: usize) -> TcpCounters {
    let mut h = H::<N, 64, 64>::new();
    for i in 0..rounds * N {
        let port = if i % 2 == 0 {
            5000 + (i / 2 % (N / 4).max(1)) as u16
        } else {
            6000 + i as u16
        };
        let isn = PEER_ISN + i as u32 * 100_000;
        let ts = timestamps.then_some(10_000 + 10 * i as u32);
        h.now = h.now + Duration::from_millis(1);
        request(&mut h, port, isn, ts);
        assert_eq!(h.stack.active(), 0);
    }
    let c = *h.stack.counters();
    assert_eq!(c.accepted, (rounds * N) as u64);
    assert_eq!(c.syn_cookies_sent + c.refused_full + c.refused_backlog, 0);
    assert_eq!(c.time_wait_peak, N as u64, "TIME-WAIT fills the table");
    assert_eq!(h.stack.time_wait_slots(), N);
    assert_eq!(c.time_wait_syn_dropped, 0);
    c
}

fn check_per_request<const N: usize>(rounds: usize) {
    for timestamps in [true, false] {
        let c = new_connection_per_request::<N>(timestamps, rounds);
        std::println!(
            "timestamps {timestamps}: TIME-WAIT peak {} of {N} slots, {} recycled, {} reopened",
            c.time_wait_peak,
            c.time_wait_recycled,
            c.time_wait_reopened
        );
        assert!(c.time_wait_recycled > 0 && c.time_wait_reopened > 0);
        // The first N took free slots; every later one a TIME-WAIT slot.
        let n = N as u64;
        assert_eq!(c.time_wait_recycled + c.time_wait_reopened + n, c.accepted);
    }
}

#[test]
fn a_table_full_of_time_wait_takes_a_new_connection_per_request() {
    check_per_request::<16>(20);
}

#[test]
fn the_kernels_table_full_of_time_wait_takes_a_new_connection_per_request() {
    check_per_request::<TCP_MAX_CONNECTIONS>(4);
}

#[test]
fn an_old_syn_for_a_time_wait_tuple_is_dropped_not_challenged() {
    let mut h = H::<4>::new();
    request(&mut h, 5000, PEER_ISN, Some(1000));
    let old = Seg {
        src_port: 5000,
        ts: Some((999, 0)),
        ..syn()
    };
    assert_eq!(h.send(&old), vec![]);
    assert_eq!(h.stack.time_wait_slots(), 1);
}
