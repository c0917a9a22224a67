//! Every TCP limit at and just past it: backlog, connection slots (also
//! at the kernel's 256), TIME-WAIT recycling when full. With SYN cookies
//! off the refusals are RSTs to the SYN; with them on (the default), the
//! SYN gets a cookie and the refusal comes when its ACK finds no slot
//! (eviction and cookies themselves are tested in `hostile.rs`).

use std::vec;

use super::*;
use crate::limits::{TCP_MAX_CONNECTIONS, TCP_SLOT_LIMIT};

fn syn_from(port: u16) -> Seg {
    Seg {
        src_port: port,
        ..syn()
    }
}

/// Turns SYN cookies off: SYNs past a limit get RST.
pub(super) fn no_cookies<const N: usize, const RX: usize, const TX: usize>(h: &mut H<N, RX, TX>) {
    let mut cfg = h.stack.config();
    cfg.syn_cookies = false;
    h.stack.set_config(cfg);
}

/// A SYN from `port` (from an address of its own) at a full table: a
/// cookie SYN-ACK, then its ACK is refused with RST when nothing may be
/// evicted.
fn cookie_refused<const N: usize, const RX: usize, const TX: usize>(
    h: &mut H<N, RX, TX>,
    port: u16,
) {
    let src = Ipv4Address::new(198, 18, 0, 1);
    let out = h.send_from(src, &syn_from(port));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].1.control, TcpControl::Syn, "a cookie SYN-ACK");
    let ack = out[0].1.seq.wrapping_add(1);
    let refused = h.send_from(
        src,
        &Seg {
            src_port: port,
            ack: Some(ack),
            ..send_templ()
        },
    );
    assert_eq!(refused.len(), 1);
    assert_eq!(
        (refused[0].1.control, refused[0].1.seq),
        (TcpControl::Rst, ack)
    );
    assert_eq!(h.stack.counters().syn_cookies_sent, 1);
    assert_eq!(h.stack.counters().refused_full, 1);
    // The table's own address holds its share: its SYN gets RST at once.
    let out = h.send(&syn_from(port + 1));
    assert_eq!(out[0].control, TcpControl::Rst);
    assert_eq!(h.stack.counters().refused_fair_share, 1);
}

#[test]
fn backlog_at_and_past() {
    let mut h = H::<8>::new();
    no_cookies(&mut h);
    h.stack.unlisten(PORT);
    h.stack.listen(PORT, 2).unwrap();
    assert_eq!(h.send(&syn_from(1000))[0].control, TcpControl::Syn);
    assert_eq!(h.send(&syn_from(1001))[0].control, TcpControl::Syn);
    let out = h.send(&syn_from(1002));
    assert_eq!(
        out,
        vec![Seg {
            src_port: PORT,
            dst_port: 1002,
            control: TcpControl::Rst,
            seq: 0,
            ack: Some(PEER_ISN + 1),
            window: 0,
            psh: false,
            mss: None,
            sack_permitted: false,
            wscale: None,
            ts: None,
            sack: vec![],
            payload: vec![],
        }]
    );
    assert_eq!(h.stack.counters().refused_backlog, 1);
    // Accepting one makes room for one more.
    let iss = h.stack.tcb_by_port(1000).unwrap();
    h.send(&Seg {
        src_port: 1000,
        ack: Some(iss + 1),
        ..send_templ()
    });
    assert!(h.stack.accept().is_some());
    assert_eq!(h.send(&syn_from(1003))[0].control, TcpControl::Syn);
    assert_eq!(h.send(&syn_from(1004))[0].control, TcpControl::Rst);
}

/// Opens `n` connections from ports 2000.. and accepts them.
fn fill<const N: usize, const RX: usize, const TX: usize>(h: &mut H<N, RX, TX>, n: usize) {
    for i in 0..n {
        let port = 2000 + i as u16;
        let out = h.send(&syn_from(port));
        assert_eq!(out.len(), 1, "connection {i}");
        assert_eq!(out[0].control, TcpControl::Syn, "connection {i}");
        h.send(&Seg {
            src_port: port,
            ack: Some(out[0].seq.wrapping_add(1)),
            ..send_templ()
        });
        assert!(h.stack.accept().is_some(), "connection {i}");
    }
}

#[test]
fn connection_slots_at_and_past() {
    let mut h = H::<4>::new();
    no_cookies(&mut h);
    fill(&mut h, 4);
    assert_eq!(h.stack.active(), 4);
    let out = h.send(&syn_from(3000));
    assert_eq!(out[0].control, TcpControl::Rst);
    assert_eq!(h.stack.counters().refused_full, 1);
    // Existing connections are untouched, and a freed slot is reused.
    let first = h.stack.handles().next().unwrap();
    assert_eq!(h.stack.state(first), State::Established);
    h.stack.abort(first);
    h.poll();
    assert_eq!(h.send(&syn_from(3001))[0].control, TcpControl::Syn);
}

#[test]
fn kernel_sized_table_at_and_past() {
    // The kernel's slot count, with tiny buffers to keep the test small.
    let mut h = H::<TCP_MAX_CONNECTIONS, 64, 64>::new();
    fill(&mut h, TCP_MAX_CONNECTIONS);
    assert_eq!(h.stack.active(), TCP_MAX_CONNECTIONS);
    assert_eq!(h.stack.handles().count(), TCP_MAX_CONNECTIONS);
    cookie_refused(&mut h, 9000);
}

#[test]
fn time_wait_slots_are_recycled_when_full() {
    let mut h = H::<2>::new();
    fill(&mut h, 2);
    let handles: Vec<Handle> = h.stack.handles().collect();
    // Close the first from our side through to TIME-WAIT.
    h.stack.close(handles[0]);
    let fin = h.poll();
    let ours = fin[0].seq;
    h.send(&Seg {
        src_port: 2000,
        control: TcpControl::Fin,
        ack: Some(ours + 1),
        ..send_templ()
    });
    assert_eq!(h.stack.state(handles[0]), State::TimeWait);
    assert_eq!(h.send(&syn_from(4000))[0].control, TcpControl::Syn);
    assert_eq!(h.stack.counters().time_wait_recycled, 1);
    assert_eq!(h.stack.state(handles[0]), State::Closed);
    assert_eq!(h.stack.state(handles[1]), State::Established);
}

/// Closes `conn` (peer port `port`) from our side and has the peer's FIN
/// ACK ours: the connection is in TIME-WAIT.
fn into_time_wait<const N: usize, const RX: usize, const TX: usize>(
    h: &mut H<N, RX, TX>,
    conn: Handle,
    port: u16,
) {
    h.stack.close(conn);
    let fin = h.poll();
    let ours = fin.iter().find(|s| s.dst_port == port).unwrap().seq;
    h.send(&Seg {
        src_port: port,
        control: TcpControl::Fin,
        ack: Some(ours + 1),
        ..send_templ()
    });
    assert_eq!(h.stack.state(conn), State::TimeWait);
}

#[test]
fn the_time_wait_slot_closest_to_expiry_is_recycled_and_the_rest_expire_in_turn() {
    // TIME-WAIT deadlines live apart from the connections (`tcp::live`):
    // recycling and expiry must read the right one for each slot.
    let mut h = H::<3>::new();
    fill(&mut h, 3);
    let conns: Vec<Handle> = h.stack.handles().collect();
    let ports: Vec<u16> = conns
        .iter()
        .map(|&c| h.stack.remote(c).unwrap().1)
        .collect();
    into_time_wait(&mut h, conns[1], ports[1]);
    h.at_ms(100);
    into_time_wait(&mut h, conns[0], ports[0]);
    // The table is full: the SYN takes the older TIME-WAIT slot.
    assert_eq!(h.send(&syn_from(4000))[0].control, TcpControl::Syn);
    assert_eq!(h.stack.counters().time_wait_recycled, 1);
    assert_eq!(h.stack.state(conns[1]), State::Closed);
    assert_eq!(h.stack.state(conns[0]), State::TimeWait);
    // The younger one still ends on time, and not before.
    let ends_ms = 100 + h.stack.config().time_wait.0 / 1000;
    h.at_ms(ends_ms - 1);
    assert_eq!(h.stack.state(conns[0]), State::TimeWait);
    h.at_ms(ends_ms);
    assert_eq!(h.stack.state(conns[0]), State::Closed);
    assert_eq!(h.stack.state(conns[2]), State::Established);
    assert_eq!(h.stack.counters().time_wait_recycled, 1);
}

#[test]
fn a_table_of_time_wait_slots_expires_and_refills() {
    // Every slot closed from our side into TIME-WAIT (what `Connection:
    // close` does to a server), then left to expire: the slots leave the
    // scans' sets and come back free, and a full new round is accepted.
    const SLOTS: usize = 64;
    let mut h = H::<SLOTS, 64, 64>::new();
    fill(&mut h, SLOTS);
    let handles: Vec<Handle> = h.stack.handles().collect();
    for (i, &conn) in handles.iter().enumerate() {
        h.stack.close(conn);
        let fin = h.poll();
        let port = 2000 + i as u16;
        let ours = fin.iter().find(|s| s.dst_port == port).unwrap().seq;
        let ack = h.send(&Seg {
            src_port: port,
            control: TcpControl::Fin,
            ack: Some(ours + 1),
            ..send_templ()
        });
        assert_eq!(ack.len(), 1, "the peer's FIN is ACKed at once ({i})");
        assert_eq!(h.stack.state(conn), State::TimeWait);
    }
    // TIME-WAIT slots are not held: the next SYN may take one.
    assert_eq!((h.stack.active(), h.stack.time_wait_slots()), (0, SLOTS));
    assert_eq!(h.stack.counters().time_wait_peak, SLOTS as u64);
    assert_eq!(h.stack.accept(), None);
    let expiry = h.now + h.stack.config().time_wait;
    assert_eq!(h.stack.poll_at(h.now), Some(expiry));
    let after_ms = (expiry - T0).0 / 1000 + 1;
    assert!(h.at_ms(after_ms).is_empty(), "TIME-WAIT ends silently");
    assert_eq!((h.stack.active(), h.stack.time_wait_slots()), (0, 0));
    assert_eq!(h.stack.poll_at(h.now), None);
    assert_eq!(h.stack.counters().time_wait_recycled, 0);
    fill(&mut h, SLOTS);
    assert_eq!(h.stack.active(), SLOTS);
}

#[test]
fn slot_limit_sized_table_fills_to_its_last_slot() {
    // The largest table the live-slot set can track (one slot more does
    // not build); tiny buffers keep it small.
    let mut h = H::<TCP_SLOT_LIMIT, 16, 16>::new();
    fill(&mut h, TCP_SLOT_LIMIT);
    assert_eq!(h.stack.active(), TCP_SLOT_LIMIT);
    let last = h.stack.handles().last().unwrap();
    assert_eq!(last.index(), TCP_SLOT_LIMIT - 1);
    cookie_refused(&mut h, 1);
}
