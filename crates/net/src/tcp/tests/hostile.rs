//! What hostile peers cannot do: hold a slot for ever in FIN-WAIT-2, in a
//! lingering close or with a reply they never read; keep a newcomer out of
//! a full table (eviction order); or fill the table with spoofed SYNs
//! (cookies: valid, expired, forged). Each bound at and just past it.

use std::vec;
use std::vec::Vec;

use super::*;
use crate::limits::{
    INITIAL_RTO, TCP_EVICT_FAIR_SHARE_DIVISOR, TCP_EVICT_STALLED_AFTER, TCP_FIN_WAIT_2_TIMEOUT,
    TCP_LINGER_SILENCE, TCP_LINGER_TOTAL, TCP_SEND_STALL_TIMEOUT, TCP_SYN_COOKIE_PERIOD,
};
use crate::tcp::AppPhase;

/// One peer connection of a test: its port, our ISN, and the handle.
#[derive(Clone, Copy, Debug)]
struct Peer {
    port: u16,
    iss: u32,
    handle: Handle,
}

impl Peer {
    /// What this peer sends: `payload` at `off` bytes into its stream,
    /// acknowledging our bytes up to `ack_off` (SYN counted).
    fn seg(&self, off: u32, ack_off: u32, payload: &[u8]) -> Seg {
        Seg {
            src_port: self.port,
            seq: PEER_ISN + 1 + off,
            ack: Some(self.iss.wrapping_add(ack_off)),
            payload: payload.to_vec(),
            ..send_templ()
        }
    }
}

fn syn_from(port: u16) -> Seg {
    Seg {
        src_port: port,
        ..syn()
    }
}

/// A handshake from `port`, accepted; the table must have room.
fn open<const N: usize>(h: &mut H<N>, port: u16) -> Peer {
    let out = h.send(&syn_from(port));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].control, TcpControl::Syn);
    let iss = out[0].seq;
    h.send(&Seg {
        src_port: port,
        ack: Some(iss.wrapping_add(1)),
        ..send_templ()
    });
    let handle = h.stack.accept().expect("accepted");
    Peer { port, iss, handle }
}

/// Closes `p` from our side and has the peer acknowledge our FIN (it
/// sends nothing else): FIN-WAIT-2.
fn close_to_fin_wait_2<const N: usize>(h: &mut H<N>, p: &Peer) {
    h.stack.close(p.handle);
    let fin = h.poll();
    assert_eq!(fin.len(), 1);
    assert_eq!(fin[0].control, TcpControl::Fin);
    assert_eq!(h.send(&p.seg(0, 2, b"")), vec![]);
    assert_eq!(h.stack.state(p.handle), State::FinWait2);
}

fn ms(d: Duration) -> u64 {
    d.0 / 1000
}

fn rst_to(out: &[Seg], port: u16) -> bool {
    out.iter()
        .any(|s| s.dst_port == port && s.control == TcpControl::Rst)
}

#[test]
fn fin_wait_2_is_bounded() {
    let mut h = H::<4>::new();
    let p = open(&mut h, 5000);
    close_to_fin_wait_2(&mut h, &p);
    let since = ms(h.now - T0);
    let limit = ms(TCP_FIN_WAIT_2_TIMEOUT);
    assert_eq!(
        h.stack.poll_at(h.now),
        Some(h.now + TCP_FIN_WAIT_2_TIMEOUT),
        "the FIN-WAIT-2 deadline is the next timer"
    );
    assert_eq!(h.at_ms(since + limit - 1), vec![]);
    assert_eq!(h.stack.state(p.handle), State::FinWait2);
    let out = h.at_ms(since + limit);
    assert_eq!(
        out,
        vec![Seg {
            src_port: PORT,
            dst_port: p.port,
            control: TcpControl::Rst,
            seq: p.iss.wrapping_add(2),
            ack: Some(PEER_ISN + 1),
            window: 0,
            ..send_templ()
        }]
    );
    assert_eq!(h.stack.state(p.handle), State::Closed);
    assert_eq!(h.stack.active(), 0);
    assert_eq!(h.stack.counters().fin_wait_2_timeouts, 1);
}

#[test]
fn a_peer_that_closes_in_time_ends_normally() {
    let mut h = H::<4>::new();
    let p = open(&mut h, 5000);
    close_to_fin_wait_2(&mut h, &p);
    h.at_ms(ms(TCP_FIN_WAIT_2_TIMEOUT) - 1);
    let fin = Seg {
        control: TcpControl::Fin,
        ..p.seg(0, 2, b"")
    };
    assert_eq!(h.send(&fin).len(), 1, "the FIN is acknowledged");
    assert_eq!(h.stack.state(p.handle), State::TimeWait);
    assert_eq!(h.stack.counters().fin_wait_2_timeouts, 0);
}

#[test]
fn lingering_close_drains_then_resets_after_the_silence() {
    let mut h = H::<4>::new();
    // The total bound is tested apart; here it must not interfere.
    let mut cfg = h.stack.config();
    cfg.linger_total = Duration::from_secs(60);
    cfg.fin_wait_2_timeout = Duration::from_secs(60);
    h.stack.set_config(cfg);
    let p = open(&mut h, 5000);
    // The app closes with the reply acknowledged; the peer is silent for
    // just under the silence, then sends: still drained (ACKed).
    close_to_fin_wait_2(&mut h, &p);
    let closed = ms(h.now - T0);
    let silence = ms(TCP_LINGER_SILENCE);
    h.at_ms(closed + silence - 1);
    let out = h.send(&p.seg(0, 2, b"more"));
    assert!(!rst_to(&out, p.port), "{out:?}");
    assert_eq!(h.stack.recv_queue(p.handle), 4);
    h.stack.consume(p.handle, 4);
    // The silence counts from the last data, not from the close...
    h.at_ms(closed + 2 * silence - 2);
    let out = h.send(&p.seg(4, 2, b"x"));
    assert!(!rst_to(&out, p.port), "{out:?}");
    h.stack.consume(p.handle, 1);
    // ...and a full silence after it, data gets RST.
    h.at_ms(closed + 3 * silence - 2);
    let out = h.send(&p.seg(5, 2, b"y"));
    assert_eq!(
        out,
        vec![Seg {
            src_port: PORT,
            dst_port: p.port,
            control: TcpControl::Rst,
            seq: p.iss.wrapping_add(2),
            ack: Some(PEER_ISN + 1 + 5),
            window: 0,
            ..send_templ()
        }]
    );
    assert_eq!(h.stack.state(p.handle), State::Closed);
    assert_eq!(h.stack.counters().linger_resets, 1);
}

#[test]
fn lingering_close_has_a_total_bound_for_tricklers() {
    let mut h = H::<4>::new();
    let p = open(&mut h, 5000);
    close_to_fin_wait_2(&mut h, &p);
    let closed = ms(h.now - T0);
    let step = ms(TCP_LINGER_SILENCE) / 2;
    let total = ms(TCP_LINGER_TOTAL);
    // A byte every half silence: drained up to the total...
    let mut off = 0;
    let mut t = closed + step;
    while t < closed + total {
        h.at_ms(t);
        let out = h.send(&p.seg(off, 2, b"z"));
        assert!(!rst_to(&out, p.port), "at {t} ms: {out:?}");
        h.stack.consume(p.handle, 1);
        off += 1;
        t += step;
    }
    // ...and the first byte at the total gets RST.
    h.at_ms(closed + total);
    assert!(rst_to(&h.send(&p.seg(off, 2, b"z")), p.port));
    assert_eq!(h.stack.counters().linger_resets, 1);
}

#[test]
fn data_before_our_fin_is_acknowledged_is_drained_whatever_the_time() {
    // The reply is still in flight: a RST now would destroy it.
    let mut h = H::<4>::new();
    let p = open(&mut h, 5000);
    h.stack.send(p.handle, b"reply");
    h.stack.close(p.handle);
    assert_eq!(h.poll().len(), 1, "reply and FIN in one segment");
    h.at_ms(ms(TCP_LINGER_TOTAL) + 1);
    let out = h.send(&p.seg(0, 1, b"late"));
    assert!(!rst_to(&out, p.port), "{out:?}");
    assert_eq!(h.stack.recv_queue(p.handle), 4);
    assert_eq!(h.stack.counters().linger_resets, 0);
}

#[test]
fn a_reader_that_takes_nothing_is_cut_off_at_the_send_stall_limit() {
    let mut h = H::<4>::new();
    let p = open(&mut h, 5000);
    let start = ms(h.now - T0);
    // The peer's window is shut; it answers every probe, so the retry
    // limit never fires: only the stall limit does.
    let shut = Seg {
        window: 0,
        ..p.seg(0, 1, b"")
    };
    h.send(&shut);
    h.stack.send(p.handle, b"a reply nobody reads");
    h.poll();
    let limit = start + ms(TCP_SEND_STALL_TIMEOUT);
    // Answer every probe until just before the limit.
    while let Some(at) = h.stack.poll_at(h.now) {
        let at = ms(at - T0).max(ms(h.now - T0) + 1);
        if at >= limit {
            break;
        }
        h.at_ms(at);
        h.send(&shut);
    }
    assert!(h.stack.counters().zero_window_probes >= 5);
    h.at_ms(limit - 1);
    assert_eq!(h.stack.state(p.handle), State::Established);
    let out = h.at_ms(limit);
    assert!(rst_to(&out, p.port), "{out:?}");
    assert_eq!(h.stack.state(p.handle), State::Closed);
    assert_eq!(h.stack.counters().send_stall_aborts, 1);
}

#[test]
fn progress_restarts_the_send_stall_clock() {
    let mut h = H::<4>::new();
    let p = open(&mut h, 5000);
    let stall = ms(TCP_SEND_STALL_TIMEOUT);
    h.stack.send(p.handle, b"ab");
    h.poll();
    // Half the limit later the peer acknowledges one byte...
    h.at_ms(stall / 2);
    h.send(&p.seg(0, 2, b""));
    // ...so at the limit the connection lives, and dies a limit after
    // that byte's ACK (the other one resent all along, never ACKed).
    h.at_ms(stall);
    assert_eq!(h.stack.state(p.handle), State::Established);
    h.at_ms(stall / 2 + stall - 1);
    assert_eq!(h.stack.state(p.handle), State::Established);
    h.at_ms(stall / 2 + stall);
    assert_eq!(h.stack.state(p.handle), State::Closed);
    assert_eq!(h.stack.counters().send_stall_aborts, 1);
}

/// The cookie SYN-ACK for a SYN from `port` (the table or backlog full).
fn cookie_for<const N: usize>(h: &mut H<N>, syn: &Seg) -> Seg {
    let out = h.send(syn);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].control, TcpControl::Syn);
    out[0].clone()
}

/// The peer's ACK of a cookie SYN-ACK, with `payload`.
fn cookie_ack(port: u16, synack: &Seg, payload: &[u8]) -> Seg {
    Seg {
        src_port: port,
        ack: Some(synack.seq.wrapping_add(1)),
        payload: payload.to_vec(),
        ..send_templ()
    }
}

/// An address of its own for the client on `port`, routed (beyond the
/// peer): newcomers do not share the table's holders' address.
fn far(port: u16) -> Ipv4Address {
    Ipv4Address::new(198, 18, (port >> 8) as u8, port as u8)
}

/// A newcomer at a full table, from an address of its own: SYN, cookie
/// SYN-ACK, its ACK; returns what answered the ACK.
fn newcomer<const N: usize>(h: &mut H<N>, port: u16) -> Vec<Seg> {
    let src = far(port);
    let out = h.send_from(src, &syn_from(port));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].1.control, TcpControl::Syn, "a cookie SYN-ACK");
    let ack = cookie_ack(port, &out[0].1, b"");
    h.send_from(src, &ack).into_iter().map(|(_, s)| s).collect()
}

#[test]
fn cookie_round_trip_makes_a_normal_connection() {
    let mut h = H::<4>::new();
    h.stack.unlisten(PORT);
    h.stack.listen(PORT, 1).unwrap();
    // One half-open connection fills the backlog of 1.
    h.send(&syn_from(6000));
    let before = h.stack.active();
    let synack = cookie_for(
        &mut h,
        &Seg {
            sack_permitted: true,
            ..syn_from(6001)
        },
    );
    assert_eq!(
        synack,
        Seg {
            src_port: PORT,
            dst_port: 6001,
            control: TcpControl::Syn,
            seq: synack.seq,
            ack: Some(PEER_ISN + 1),
            window: BUF as u16,
            mss: Some(1460),
            sack_permitted: true,
            ..send_templ()
        }
    );
    assert_eq!(h.stack.active(), before, "a cookie stores nothing");
    assert_eq!(h.stack.counters().syn_cookies_sent, 1);
    // The ACK comes with the request on it: taken, and acknowledged later.
    let out = h.send(&cookie_ack(6001, &synack, b"GET / HTTP/1.1\r\n\r\n"));
    assert_eq!(out, vec![], "the ACK waits (delayed)");
    let c = h.stack.accept().expect("the cookie's connection");
    assert_eq!(h.stack.state(c), State::Established);
    assert_eq!(h.stack.recv_queue(c), 18);
    assert_eq!(h.stack.counters().syn_cookies_accepted, 1);
    let tcb = h.stack.tcb(c).unwrap();
    assert_eq!((tcb.snd_mss, tcb.sack_ok), (1460, true));
    // It sends like any other.
    h.stack.send(c, b"hello");
    let reply = h.poll();
    assert_eq!(reply.len(), 1);
    assert_eq!(reply[0].seq, synack.seq.wrapping_add(1));
    assert_eq!(reply[0].ack, Some(PEER_ISN + 1 + 18));
    assert_eq!(reply[0].payload, b"hello");
}

#[test]
fn cookie_rounds_the_mss_down_and_keeps_no_sack_unless_offered() {
    let mut h = H::<4>::new();
    h.stack.unlisten(PORT);
    h.stack.listen(PORT, 1).unwrap();
    h.send(&syn_from(6000));
    let synack = cookie_for(
        &mut h,
        &Seg {
            mss: Some(1400),
            ..syn_from(6001)
        },
    );
    assert!(!synack.sack_permitted);
    h.send(&cookie_ack(6001, &synack, b""));
    let c = h.stack.accept().unwrap();
    let tcb = h.stack.tcb(c).unwrap();
    assert_eq!((tcb.snd_mss, tcb.sack_ok), (1220, false));
}

#[test]
fn expired_and_forged_cookies_get_rst() {
    let mut h = H::<4>::new();
    h.stack.unlisten(PORT);
    h.stack.listen(PORT, 1).unwrap();
    h.send(&syn_from(6000));
    let synack = cookie_for(&mut h, &syn_from(6001));
    // Forged: one bit off.
    let mut forged = cookie_ack(6001, &synack, b"");
    forged.ack = forged.ack.map(|a| a ^ 0x100);
    let out = h.send(&forged);
    assert!(rst_to(&out, 6001), "{out:?}");
    // Another peer's port with this cookie.
    let out = h.send(&cookie_ack(6002, &synack, b""));
    assert!(rst_to(&out, 6002), "{out:?}");
    assert_eq!(h.stack.counters().syn_cookies_rejected, 2);
    // Expired: two periods after the SYN (the SYN came at T0, which
    // starts a period); one tick before, it is still good.
    let expire = ms(Duration(
        2 * TCP_SYN_COOKIE_PERIOD.0 - T0.0 % TCP_SYN_COOKIE_PERIOD.0,
    ));
    h.at_ms(expire);
    let out = h.send(&cookie_ack(6001, &synack, b""));
    assert!(rst_to(&out, 6001), "{out:?}");
    assert_eq!(h.stack.counters().syn_cookies_rejected, 3);
    assert_eq!(h.stack.counters().syn_cookies_accepted, 0);
    // A cookie one tick short of expiry still opens.
    let mut h = H::<4>::new();
    h.stack.unlisten(PORT);
    h.stack.listen(PORT, 1).unwrap();
    h.send(&syn_from(6000));
    let synack = cookie_for(&mut h, &syn_from(6003));
    h.at_ms(expire - 1);
    assert!(!rst_to(&h.send(&cookie_ack(6003, &synack, b"")), 6003));
    assert_eq!(h.stack.counters().syn_cookies_accepted, 1);
}

#[test]
fn stray_acks_get_plain_rst_when_no_cookie_was_sent() {
    let mut h = H::<4>::new();
    let out = h.send(&Seg {
        ack: Some(12345),
        ..send_templ()
    });
    assert!(rst_to(&out, PEER_PORT));
    assert_eq!(h.stack.counters().syn_cookies_rejected, 0);
    assert_eq!(h.stack.counters().drop_no_socket, 1);
}

#[test]
fn a_syn_flood_holds_no_slot_and_a_real_client_still_connects() {
    let mut h = H::<16>::new();
    h.stack.unlisten(PORT);
    h.stack.listen(PORT, 8).unwrap();
    // 1,000 SYNs that are never completed: 8 fill the backlog, the rest
    // get cookies and leave nothing behind.
    let synacks: Vec<Seg> = (0..1000)
        .flat_map(|i| h.send(&syn_from(10_000 + i)))
        .collect();
    assert_eq!(synacks.len(), 1000);
    assert_eq!(h.stack.active(), 8);
    assert_eq!(h.stack.counters().syn_cookies_sent, 992);
    let real = cookie_for(&mut h, &syn_from(40_000));
    h.send(&cookie_ack(40_000, &real, b""));
    assert!(h.stack.accept().is_some());
    assert_eq!(h.stack.active(), 9);
}

/// A table of 6 where every slot holds one kind of connection, then five
/// newcomers by cookie: they evict in the documented order, and the sixth
/// finds only a busy connection and is refused.
#[test]
fn eviction_order_when_the_table_is_full() {
    let mut h = H::<6>::new();
    let busy = open(&mut h, 1000);
    let head = open(&mut h, 1001);
    h.stack.set_phase(head.handle, AppPhase::Head);
    let stalled = open(&mut h, 1002);
    h.stack.send(stalled.handle, b"never acknowledged");
    h.poll();
    let idle = open(&mut h, 1003);
    h.stack.set_phase(idle.handle, AppPhase::Idle);
    let lingering = open(&mut h, 1004);
    h.stack.close(lingering.handle);
    h.poll();
    h.send(&syn_from(1005)); // Half-open.
    assert_eq!(h.stack.active(), 6);
    h.at_ms(ms(TCP_EVICT_STALLED_AFTER));
    let order = [
        (lingering.handle, 1004),
        (idle.handle, 1003),
        (stalled.handle, 1002),
        (head.handle, 1001),
    ];
    // First the half-open one (it gets RST too).
    let out = newcomer(&mut h, 2000);
    assert!(rst_to(&out, 1005), "{out:?}");
    assert_eq!(h.stack.counters().evicted_syn_received, 1);
    assert!(h.stack.accept().is_some());
    for (k, &(victim, port)) in order.iter().enumerate() {
        let out = newcomer(&mut h, 2001 + k as u16);
        assert!(rst_to(&out, port), "newcomer {k}: {out:?}");
        assert_eq!(h.stack.state(victim), State::Closed, "newcomer {k}");
        let newcomer = h.stack.accept().expect("the newcomer");
        // Newcomers are busy until their app says otherwise.
        assert_eq!(h.stack.state(newcomer), State::Established);
    }
    let c = h.stack.counters();
    assert_eq!(
        [
            c.evicted_lingering,
            c.evicted_idle,
            c.evicted_stalled,
            c.evicted_slow_head
        ],
        [1, 1, 1, 1]
    );
    // Only busy connections are left: the next newcomer is refused.
    let out = newcomer(&mut h, 3000);
    assert!(rst_to(&out, 3000), "{out:?}");
    assert_eq!(h.stack.counters().refused_full, 1);
    assert_eq!(h.stack.state(busy.handle), State::Established);
    assert_eq!(h.stack.active(), 6);
}

#[test]
fn within_a_class_the_oldest_goes_first_and_stalls_need_time() {
    let mut h = H::<3>::new();
    let a = open(&mut h, 1000);
    let b = open(&mut h, 1001);
    let s = open(&mut h, 1002);
    h.at_ms(100);
    h.stack.set_phase(b.handle, AppPhase::Idle);
    h.at_ms(200);
    h.stack.set_phase(a.handle, AppPhase::Idle);
    // `s` has data out, not yet stalled long enough to count.
    h.stack.send(s.handle, b"x");
    h.poll();
    let stalled_at = ms(h.now - T0) + ms(TCP_EVICT_STALLED_AFTER);
    h.at_ms(stalled_at - 1);
    assert!(rst_to(&newcomer(&mut h, 2000), 1001), "b idle longer");
    assert!(h.stack.accept().is_some());
    assert!(rst_to(&newcomer(&mut h, 2001), 1000));
    assert!(h.stack.accept().is_some());
    // Only `s` (not stalled long enough) and busy newcomers are left.
    assert!(rst_to(&newcomer(&mut h, 2002), 2002));
    assert_eq!(h.stack.state(s.handle), State::Established);
    h.at_ms(stalled_at);
    assert!(rst_to(&newcomer(&mut h, 2003), 1002), "now stalled");
    assert_eq!(h.stack.counters().evicted_stalled, 1);
}

#[test]
fn a_half_open_connection_is_evicted_only_once_its_syn_ack_went_unanswered() {
    let mut h = H::<2>::new();
    open(&mut h, 1000);
    let synack = h.send(&syn_from(1001));
    // Young: its ACK may be on the way. The newcomer is refused.
    h.at_ms(ms(INITIAL_RTO) - 1);
    assert!(rst_to(&newcomer(&mut h, 2000), 2000));
    assert_eq!(h.stack.counters().evicted_syn_received, 0);
    // One RTO on, the SYN-ACK was resent unanswered: now it goes.
    assert_eq!(h.at_ms(ms(INITIAL_RTO)), synack);
    assert!(rst_to(&newcomer(&mut h, 2001), 1001));
    assert_eq!(h.stack.counters().evicted_syn_received, 1);
    assert!(h.stack.accept().is_some());
}

/// A handshake from `src:port` (beyond the peer, routed), accepted.
fn open_from<const N: usize>(h: &mut H<N>, src: Ipv4Address, port: u16) -> Handle {
    let out = h.send_from(src, &syn_from(port));
    assert_eq!(out.len(), 1, "{out:?}");
    let (dst, synack) = &out[0];
    assert_eq!((*dst, synack.control), (src, TcpControl::Syn));
    let ack = cookie_ack(port, synack, b"");
    assert!(h.send_from(src, &ack).is_empty());
    h.stack.accept().expect("accepted")
}

#[test]
fn an_address_holding_its_fair_share_is_refused_at_a_full_table() {
    const SLOTS: usize = 8;
    let share = SLOTS / TCP_EVICT_FAIR_SHARE_DIVISOR;
    let attacker = Ipv4Address::new(198, 18, 0, 1);
    let mut h = H::<SLOTS>::new();
    // A client of the peer's address, idle: the cheapest to evict...
    let client = open(&mut h, 1000);
    h.stack.set_phase(client.handle, AppPhase::Idle);
    // ...and an attacker filling the rest with slow heads.
    let mut held = Vec::new();
    for k in 0..SLOTS - 1 {
        let c = open_from(&mut h, attacker, 3000 + k as u16);
        h.stack.set_phase(c, AppPhase::Head);
        held.push(c);
    }
    assert!(held.len() >= share);
    // The attacker's next SYN gets RST at once: no cookie, no eviction.
    let out = h.send_from(attacker, &syn_from(4000));
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].0, out[0].1.control), (attacker, TcpControl::Rst));
    assert_eq!(h.stack.counters().refused_fair_share, 1);
    assert_eq!(h.stack.counters().syn_cookies_sent, 0);
    assert_eq!(h.stack.state(client.handle), State::Established);
    // A newcomer from an address below its share gets a cookie, and
    // evicts by class: the idle client first...
    let out = newcomer(&mut h, 5000);
    assert!(rst_to(&out, 1000), "{out:?}");
    assert_eq!(h.stack.counters().evicted_idle, 1);
    // ...then the attacker's oldest head.
    let out = newcomer(&mut h, 5001);
    assert!(rst_to(&out, 3000), "{out:?}");
    assert_eq!(h.stack.state(held[0]), State::Closed);
    // Still above its share: still refused at the SYN.
    let out = h.send_from(attacker, &syn_from(4001));
    assert_eq!(out[0].1.control, TcpControl::Rst);
    assert_eq!(h.stack.counters().refused_fair_share, 2);
}
