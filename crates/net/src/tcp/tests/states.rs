//! One conversation per transition, grouped by state.

use std::vec;

use super::*;

type Hd = H;

/// TIME-WAIT's length in milliseconds.
const TW_MS: u64 = crate::limits::TCP_TIME_WAIT.0 / 1000;

// ------------------------------------------------------------ LISTEN

#[test]
fn listen_syn_gets_syn_ack_with_our_mss() {
    let mut h = Hd::new();
    let syn_ack = h.syn_ack_to(&syn());
    assert_eq!(
        syn_ack,
        Seg {
            control: TcpControl::Syn,
            seq: h.ours(0),
            ack: Some(PEER_ISN + 1),
            mss: Some(1460),
            window: BUF as u16,
            ..h.recv_templ()
        }
    );
    assert_eq!(h.stack.accept(), None, "not established yet");
    assert_eq!(h.stack.active(), 1);
}

#[test]
fn listen_ignores_rst_and_resets_acks() {
    let mut h = Hd::new();
    let rst = Seg {
        control: TcpControl::Rst,
        ..send_templ()
    };
    assert_eq!(h.send(&rst), vec![]);
    let ack = Seg {
        ack: Some(12345),
        ..send_templ()
    };
    assert_eq!(
        h.send(&ack),
        vec![Seg {
            control: TcpControl::Rst,
            seq: 12345,
            ack: None,
            window: 0,
            ..h.recv_templ()
        }]
    );
    // Plain data without SYN or ACK: dropped.
    let data = Seg {
        payload: b"x".to_vec(),
        ..send_templ()
    };
    assert_eq!(h.send(&data), vec![]);
    assert_eq!(h.stack.active(), 0);
}

#[test]
fn closed_port_gets_rst() {
    let mut h = Hd::new();
    let out = h.send(&Seg {
        dst_port: 81,
        ..syn()
    });
    assert_eq!(
        out,
        vec![Seg {
            src_port: 81,
            control: TcpControl::Rst,
            seq: 0,
            ack: Some(PEER_ISN + 1),
            window: 0,
            ..h.recv_templ()
        }]
    );
    // A data segment with FIN counts both in the ACK.
    let fin = Seg {
        dst_port: 81,
        control: TcpControl::Fin,
        payload: b"abc".to_vec(),
        ..send_templ()
    };
    assert_eq!(h.send(&fin)[0].ack, Some(PEER_ISN + 1 + 4));
    let rst = Seg {
        dst_port: 81,
        control: TcpControl::Rst,
        ..send_templ()
    };
    assert_eq!(h.send(&rst), vec![], "never answer a RST");
    assert_eq!(h.stack.counters().drop_no_socket, 3);
    assert_eq!(h.stack.counters().resets_sent, 2);
}

#[test]
fn listen_arguments_and_listener_limit() {
    let mut s = TcpStack::<1, 16, 16>::new([0; 16]);
    assert_eq!(s.listen(0, 1), Err(TcpError::InvalidArgument));
    assert_eq!(s.listen(1, 0), Err(TcpError::InvalidArgument));
    for p in 0..crate::limits::TCP_MAX_LISTENERS as u16 {
        assert_eq!(s.listen(100 + p, 1), Ok(()));
    }
    assert_eq!(s.listen(100, 1), Err(TcpError::PortInUse));
    assert_eq!(s.listen(999, 1), Err(TcpError::TooManyListeners));
    assert!(s.unlisten(100));
    assert!(!s.unlisten(100));
    assert_eq!(s.listen(999, 1), Ok(()));
}

#[test]
fn broadcast_and_malformed_segments_are_dropped() {
    let mut h = Hd::new();
    // Too short for a TCP header.
    assert_eq!(h.send_bytes(&[0; 10]), vec![]);
    assert_eq!(h.stack.counters().drop_malformed, 1);
    assert_eq!(h.stack.counters().segs_in, 1);
}

// ------------------------------------------------------ SYN-RECEIVED

#[test]
fn syn_received_ack_establishes() {
    let (mut h, handle) = Hd::established();
    assert_eq!(h.stack.counters().accepted, 1);
    assert_eq!(h.stack.remote(handle), Some((PEER_IP, PEER_PORT)));
    assert_eq!(h.stack.local(handle), Some((OUR_IP, PORT)));
    assert!(h.stack.may_send(handle) && h.stack.may_recv(handle));
    assert_eq!(h.stack.handles().collect::<Vec<_>>(), vec![handle]);
    assert_eq!(h.stack.accept(), None, "taken once");
}

#[test]
fn syn_received_duplicate_syn_resends_syn_ack() {
    let mut h = Hd::new();
    let first = h.send(&syn());
    let again = h.send(&syn());
    assert_eq!(again, first, "same SYN-ACK, same ISN");
    assert_eq!(h.stack.active(), 1, "no second connection");
}

#[test]
fn syn_received_bad_ack_gets_rst() {
    let mut h = Hd::new();
    h.iss = h.send(&syn())[0].seq;
    let bad = h.ack_seg(PEER_ISN + 1, 5);
    assert_eq!(
        h.send(&bad),
        vec![Seg {
            control: TcpControl::Rst,
            seq: h.ours(5),
            ack: None,
            window: 0,
            ..h.recv_templ()
        }]
    );
    // The half-open connection survives and completes.
    let good = h.ack_seg(PEER_ISN + 1, 1);
    assert_eq!(h.send(&good), vec![]);
    assert!(h.stack.accept().is_some());
}

#[test]
fn syn_received_rst_frees_the_slot() {
    let mut h = Hd::new();
    h.send(&syn());
    let rst = Seg {
        control: TcpControl::Rst,
        ..send_templ()
    };
    assert_eq!(h.send(&rst), vec![]);
    assert_eq!(h.stack.active(), 0);
    assert_eq!(h.stack.counters().resets_received, 1);
}

#[test]
fn syn_received_ack_with_data_and_fin() {
    let mut h = Hd::new();
    h.iss = h.send(&syn())[0].seq;
    let seg = Seg {
        control: TcpControl::Fin,
        ack: Some(h.ours(1)),
        payload: b"GET / HTTP/1.0\r\n\r\n".to_vec(),
        ..send_templ()
    };
    let out = h.send(&seg);
    assert_eq!(
        out,
        vec![Seg {
            ack: Some(PEER_ISN + 1 + 18 + 1),
            window: (BUF - 18) as u16,
            ..h.recv_templ()
        }]
    );
    let handle = h.stack.accept().unwrap();
    assert_eq!(h.stack.state(handle), State::CloseWait);
    let mut buf = [0u8; 64];
    assert_eq!(h.stack.recv(handle, &mut buf), 18);
    assert!(!h.stack.may_recv(handle), "end of stream");
    assert!(h.stack.may_send(handle));
}

#[test]
fn mss_negotiation() {
    for (offered, used) in [
        (Some(536), 536),
        (None, 536),
        (Some(9000), 1460),
        (Some(1), 64),
    ] {
        let mut h = Hd::new();
        let handle = h.handshake_mss(offered);
        assert_eq!(h.stack.send(handle, &pattern(2000, 0)), 2000);
        let out = h.poll();
        assert_eq!(out[0].payload.len(), used, "peer MSS {offered:?}");
        assert!(out.iter().all(|s| s.payload.len() <= used));
    }
}

// ------------------------------------------------------- ESTABLISHED

#[test]
fn established_sends_data_and_frees_it_on_ack() {
    let (mut h, handle) = Hd::established();
    assert_eq!(h.stack.send(handle, b"hello"), 5);
    assert_eq!(h.stack.send_queue(handle), 5);
    assert_eq!(
        h.poll(),
        vec![Seg {
            psh: true,
            payload: b"hello".to_vec(),
            ..h.recv_templ()
        }]
    );
    assert_eq!(h.poll(), vec![], "nothing twice");
    assert_eq!(h.send(&h.ack_seg(PEER_ISN + 1, 6)), vec![]);
    assert_eq!(h.stack.send_queue(handle), 0);
    assert_eq!(h.stack.send_capacity(handle), BUF);
}

#[test]
fn echo_moves_received_bytes_to_the_send_buffer_as_far_as_it_has_room() {
    let mut h = Hd::new();
    let handle = h.handshake();
    assert_eq!(h.stack.send(handle, &pattern(BUF - 100, 7)), BUF - 100);
    h.poll();
    let data = Seg {
        ack: Some(h.ours(1)),
        payload: pattern(300, 1),
        ..send_templ()
    };
    h.send(&data);
    assert_eq!(
        h.stack.echo(handle),
        100,
        "the room left in the send buffer"
    );
    assert_eq!(h.stack.recv_queue(handle), 200);
    // The peer takes our first segments: the rest moves, in order.
    let mut out = h.send(&h.ack_seg(PEER_ISN + 301, 1 + BUF as u32 - 100));
    assert_eq!(h.stack.echo(handle), 200);
    assert_eq!(h.stack.recv_queue(handle), 0);
    out.extend(h.poll());
    let echoed: Vec<u8> = out.iter().flat_map(|s| s.payload.clone()).collect();
    assert_eq!(echoed, pattern(300, 1));
    assert_eq!(h.stack.echo(handle), 0, "nothing left");
    h.stack.close(handle);
    h.send(&Seg {
        ack: Some(h.ours(1)),
        seq: PEER_ISN + 301,
        payload: pattern(5, 2),
        ..send_templ()
    });
    assert_eq!(h.stack.echo(handle), 0, "closed for sending");
    assert_eq!(h.stack.recv_queue(handle), 5);
}

#[test]
fn established_delays_ack_of_one_segment_and_not_of_two() {
    let (mut h, handle) = Hd::established();
    let data = Seg {
        ack: Some(h.ours(1)),
        payload: pattern(100, 1),
        ..send_templ()
    };
    assert_eq!(h.send(&data), vec![], "delayed");
    assert_eq!(h.at_ms(39), vec![]);
    assert_eq!(
        h.at_ms(40),
        vec![Seg {
            ack: Some(PEER_ISN + 101),
            window: (BUF - 100) as u16,
            ..h.recv_templ()
        }]
    );
    let one = Seg {
        seq: PEER_ISN + 101,
        ..data.clone()
    };
    let two = Seg {
        seq: PEER_ISN + 201,
        ..data.clone()
    };
    assert_eq!(h.send(&one), vec![]);
    assert_eq!(
        h.send(&two),
        vec![Seg {
            ack: Some(PEER_ISN + 301),
            window: (BUF - 300) as u16,
            ..h.recv_templ()
        }],
        "every second segment at once"
    );
    let mut buf = [0u8; 400];
    assert_eq!(h.stack.recv(handle, &mut buf), 300);
    assert_eq!(&buf[..100], &pattern(100, 1)[..]);
}

/// Regression: out-of-order segments that arrive in one burst (one poll)
/// each get their own duplicate ACK (RFC 5681 §4.2). They were folded
/// into one, so a peer that lost one segment of a window saw a single
/// duplicate ACK instead of three and waited for its retransmission
/// timeout (3 s after a lost handshake segment, for Linux) instead of
/// retransmitting fast: found with Linux's TCP through the faulty link of
/// tests/kernel/faulty_link.sh.
#[test]
fn out_of_order_burst_gets_one_duplicate_ack_per_segment() {
    let (mut h, handle) = Hd::established();
    let all = pattern(500, 3);
    let our_ack = h.ours(1);
    let seg = |off: usize| data_seg(off, &all[off..off + 100], our_ack);
    // The first segment is lost; the other four come in one burst.
    let burst = [seg(100), seg(200), seg(300), seg(400)];
    let dup_ack = Seg {
        window: BUF as u16,
        ..h.recv_templ()
    };
    assert_eq!(h.send_burst(&burst), vec![dup_ack; 4]);
    assert_eq!(h.stack.counters().out_of_order, 4);
    // The retransmission fills the gap: one ACK for all 500 bytes.
    assert_eq!(
        h.send(&seg(0)),
        vec![Seg {
            ack: Some(PEER_ISN + 1 + 500),
            window: (BUF - 500) as u16,
            ..h.recv_templ()
        }]
    );
    assert_eq!(h.stack.recv_queue(handle), 500);
}

/// Regression: a pure ACK whose sequence number is exactly our window's
/// right edge is acceptable. A peer that has filled our window (a hole at
/// RCV.NXT, the rest out of order up to the edge) sends its ACKs with
/// SEQ = its SND.NXT = our right edge; the strict `SEQ < RCV.NXT+RCV.WND`
/// of RFC 9293's table dropped them all, so its acknowledgements of our
/// data were lost and we retransmitted on timeouts, backing off, until the
/// peer's own timeout filled the hole (seconds of stall with Linux's TCP
/// through tests/kernel/faulty_link.sh). BSD and Linux accept the edge.
#[test]
fn pure_ack_at_the_right_edge_of_the_window_is_taken() {
    let (mut h, handle) = Hd::established();
    assert_eq!(h.stack.send(handle, &pattern(100, 9)), 100);
    assert_eq!(h.poll().len(), 1, "our 100 bytes go out");
    let all = pattern(BUF, 4);
    let our_ack = h.ours(1);
    let seg = |off: usize, len: usize| data_seg(off, &all[off..off + len], our_ack);
    // 3000 bytes in order (the application does not read), then the
    // window's last 1000 bytes with the 96 before them lost.
    for off in [0, 1000, 2000] {
        h.send(&seg(off, 1000));
    }
    assert_eq!(h.stack.recv_queue(handle), 3000);
    h.send(&seg(3096, 1000));
    let dropped = h.stack.counters().drop_out_of_window;
    // The peer acknowledges our 100 bytes from its SND.NXT: the edge.
    let ack = Seg {
        seq: PEER_ISN + 1 + BUF as u32,
        ack: Some(h.ours(101)),
        ..send_templ()
    };
    assert_eq!(h.send(&ack), vec![]);
    assert_eq!(h.stack.counters().drop_out_of_window, dropped);
    assert_eq!(h.stack.send_queue(handle), 0, "our data was acknowledged");
    // One past the edge is still out of the window: dropped, answered.
    let beyond = Seg {
        seq: PEER_ISN + 2 + BUF as u32,
        ..ack
    };
    assert_eq!(
        h.send(&beyond),
        vec![Seg {
            window: (BUF - 3000) as u16,
            ..h.our_ack(101, PEER_ISN + 1 + 3000)
        }]
    );
    assert_eq!(h.stack.counters().drop_out_of_window, dropped + 1);
}

#[test]
fn established_out_of_order_is_kept_and_acked_at_once() {
    let (mut h, handle) = Hd::established();
    let all = pattern(300, 7);
    let our_ack = h.ours(1);
    let seg = |off: usize, len: usize| data_seg(off, &all[off..off + len], our_ack);
    let dup_ack = Seg {
        window: BUF as u16,
        ..h.recv_templ()
    };
    assert_eq!(h.send(&seg(200, 100)), vec![dup_ack.clone()]);
    assert_eq!(h.send(&seg(100, 50)), vec![dup_ack]);
    assert_eq!(h.stack.recv_queue(handle), 0);
    assert_eq!(h.stack.counters().out_of_order, 2);
    // The first 150 bytes close one gap; 150..200 is still missing.
    assert_eq!(
        h.send(&seg(0, 150)),
        vec![Seg {
            ack: Some(PEER_ISN + 151),
            window: (BUF - 150) as u16,
            ..h.recv_templ()
        }]
    );
    assert_eq!(
        h.send(&seg(140, 60)),
        vec![Seg {
            ack: Some(PEER_ISN + 301),
            window: (BUF - 300) as u16,
            ..h.recv_templ()
        }]
    );
    let mut buf = [0u8; 400];
    assert_eq!(h.stack.recv(handle, &mut buf), 300);
    assert_eq!(&buf[..300], &all[..]);
}

#[test]
fn established_out_of_window_data_gets_an_ack() {
    let (mut h, handle) = Hd::established();
    let far = Seg {
        seq: PEER_ISN + 1 + BUF as u32,
        ack: Some(h.ours(1)),
        payload: b"late".to_vec(),
        ..send_templ()
    };
    assert_eq!(h.send(&far), vec![h.recv_templ()]);
    let old = Seg {
        seq: PEER_ISN - 10,
        ..far
    };
    assert_eq!(h.send(&old), vec![h.recv_templ()]);
    assert_eq!(h.stack.recv_queue(handle), 0);
    assert_eq!(h.stack.counters().drop_out_of_window, 2);
}

#[test]
fn established_rst_exactly_at_rcv_nxt_is_accepted() {
    let (mut h, handle) = Hd::established();
    let rst = Seg {
        control: TcpControl::Rst,
        ..send_templ()
    };
    assert_eq!(h.send(&rst), vec![]);
    assert_eq!(h.stack.state(handle), State::Closed);
    assert_eq!(h.stack.active(), 0);
    assert_eq!(h.stack.send(handle, b"x"), 0, "stale handle");
    assert_eq!(h.stack.counters().resets_received, 1);
}

#[test]
fn established_rst_in_window_gets_challenge_ack() {
    let (mut h, handle) = Hd::established();
    let rst = Seg {
        control: TcpControl::Rst,
        seq: PEER_ISN + 100,
        ..send_templ()
    };
    assert_eq!(h.send(&rst), vec![h.recv_templ()]);
    assert_eq!(h.stack.state(handle), State::Established);
    assert_eq!(h.stack.counters().challenge_acks, 1);
}

#[test]
fn established_rst_out_of_window_is_ignored() {
    let (mut h, handle) = Hd::established();
    for seq in [PEER_ISN, PEER_ISN + 1 + BUF as u32, PEER_ISN + 0x8000_0000] {
        let rst = Seg {
            control: TcpControl::Rst,
            seq,
            ..send_templ()
        };
        assert_eq!(h.send(&rst), vec![], "seq {seq}");
    }
    assert_eq!(h.stack.state(handle), State::Established);
    assert_eq!(h.stack.counters().resets_received, 0);
}

#[test]
fn established_syn_gets_challenge_ack() {
    let (mut h, handle) = Hd::established();
    for seq in [PEER_ISN, PEER_ISN + 1, PEER_ISN + 500] {
        let out = h.send(&Seg { seq, ..syn() });
        assert_eq!(out, vec![h.recv_templ()], "seq {seq}");
    }
    assert_eq!(h.stack.state(handle), State::Established);
}

#[test]
fn established_bad_checksum_is_dropped_and_counted() {
    let (mut h, handle) = Hd::established();
    let data = Seg {
        ack: Some(h.ours(1)),
        payload: b"abc".to_vec(),
        ..send_templ()
    };
    let mut bytes = emit(&data, PEER_IP, OUR_IP);
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    assert_eq!(h.send_bytes(&bytes), vec![]);
    assert_eq!(h.stack.counters().drop_bad_checksum, 1);
    assert_eq!(h.stack.recv_queue(handle), 0);
}

#[test]
fn established_ack_of_unsent_data_is_answered_and_dropped() {
    let (mut h, handle) = Hd::established();
    let bad = Seg {
        payload: b"zz".to_vec(),
        ..h.ack_seg(PEER_ISN + 1, 1000)
    };
    assert_eq!(h.send(&bad), vec![h.recv_templ()]);
    assert_eq!(h.stack.recv_queue(handle), 0);
    assert_eq!(h.stack.counters().drop_bad_ack, 1);
}

#[test]
fn established_segments_at_mss_within_cwnd_and_peer_window() {
    let (mut h, handle) = Hd::established();
    assert_eq!(h.stack.send(handle, &pattern(BUF, 3)), BUF);
    let out = h.poll();
    // Initial window for MSS 1460: 3 segments (RFC 5681), 4096 bytes here.
    let lens: Vec<usize> = out.iter().map(|s| s.payload.len()).collect();
    assert_eq!(lens, vec![1460, 1460, 1176]);
    assert!(out[2].psh && !out[0].psh);

    // A peer window of 1000 limits the next send.
    let (mut h, handle) = Hd::established();
    let small = Seg {
        window: 1000,
        ..h.ack_seg(PEER_ISN + 1, 1)
    };
    h.send(&small);
    h.stack.send(handle, &pattern(3000, 3));
    let out = h.poll();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].payload.len(), 1000);
}

#[test]
fn established_receive_window_closes_and_reopens() {
    let (mut h, handle) = Hd::established();
    let mut seq = PEER_ISN + 1;
    for _ in 0..4 {
        let seg = Seg {
            seq,
            ack: Some(h.ours(1)),
            payload: pattern(1024, 0),
            ..send_templ()
        };
        h.send(&seg);
        seq += 1024;
    }
    h.at_ms(100);
    assert_eq!(h.stack.recv_queue(handle), BUF);
    // Window zero: data is refused, but its ACK is still processed.
    h.stack.send(handle, b"reply");
    let out = h.poll();
    assert_eq!(out[0].window, 0);
    let more = Seg {
        seq,
        ack: Some(h.ours(6)),
        payload: b"more".to_vec(),
        ..send_templ()
    };
    assert_eq!(
        h.send(&more),
        vec![Seg {
            window: 0,
            ..h.our_ack(6, seq)
        }]
    );
    assert_eq!(h.stack.send_queue(handle), 0, "our data was acknowledged");
    // Reading opens the window: a window update goes out at once.
    let mut buf = [0u8; 3000];
    assert_eq!(h.stack.recv(handle, &mut buf), 3000);
    assert_eq!(
        h.poll(),
        vec![Seg {
            window: 3000,
            ..h.our_ack(6, seq)
        }]
    );
    // peek + consume read the rest.
    let rest = h.stack.peek(handle).len();
    assert_eq!(rest, BUF - 3000);
    assert_eq!(h.stack.consume(handle, rest), rest);
    assert_eq!(h.stack.recv_queue(handle), 0);
}

// ------------------------------------- CLOSE-WAIT and LAST-ACK (peer closes)

#[test]
fn passive_close() {
    let (mut h, handle) = Hd::established();
    let fin = h.fin_seg(PEER_ISN + 1, 1);
    assert_eq!(
        h.send(&fin),
        vec![Seg {
            ack: Some(PEER_ISN + 2),
            ..h.recv_templ()
        }]
    );
    assert_eq!(h.stack.state(handle), State::CloseWait);
    assert!(!h.stack.may_recv(handle));
    assert!(h.stack.may_send(handle));
    h.stack.send(handle, b"bye");
    h.stack.close(handle);
    assert_eq!(h.stack.state(handle), State::LastAck);
    assert!(!h.stack.may_send(handle));
    assert_eq!(
        h.poll(),
        vec![Seg {
            control: TcpControl::Fin,
            psh: true,
            ack: Some(PEER_ISN + 2),
            payload: b"bye".to_vec(),
            ..h.recv_templ()
        }]
    );
    assert_eq!(h.send(&h.ack_seg(PEER_ISN + 2, 5)), vec![]);
    assert_eq!(h.stack.state(handle), State::Closed);
    assert_eq!(h.stack.active(), 0);
    assert_eq!(h.stack.counters().closed, 1);
}

#[test]
fn close_wait_retransmitted_fin_is_acked() {
    let (mut h, handle) = Hd::established();
    let fin = h.fin_seg(PEER_ISN + 1, 1);
    h.send(&fin);
    let ack = Seg {
        ack: Some(PEER_ISN + 2),
        ..h.recv_templ()
    };
    assert_eq!(h.send(&fin), vec![ack]);
    assert_eq!(h.stack.state(handle), State::CloseWait);
}

// --------------------- FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT (we close first)

#[test]
fn active_close_through_time_wait() {
    let (mut h, handle) = Hd::established();
    h.stack.close(handle);
    assert_eq!(h.stack.state(handle), State::FinWait1);
    assert_eq!(
        h.poll(),
        vec![Seg {
            control: TcpControl::Fin,
            ..h.recv_templ()
        }]
    );
    assert_eq!(h.send(&h.ack_seg(PEER_ISN + 1, 2)), vec![]);
    assert_eq!(h.stack.state(handle), State::FinWait2);
    assert!(h.stack.may_recv(handle), "the peer may still send");
    let data = Seg {
        payload: b"last words".to_vec(),
        ..h.ack_seg(PEER_ISN + 1, 2)
    };
    h.send(&data);
    let fin = h.fin_seg(PEER_ISN + 11, 2);
    assert_eq!(
        h.send(&fin),
        vec![Seg {
            window: (BUF - 10) as u16,
            ..h.our_ack(2, PEER_ISN + 12)
        }]
    );
    assert_eq!(h.stack.state(handle), State::TimeWait);
    let mut buf = [0u8; 16];
    assert_eq!(h.stack.recv(handle, &mut buf), 10);
    // TIME-WAIT lasts `time_wait` (TCP_TIME_WAIT), then the slot is free.
    assert_eq!(h.at_ms(TW_MS - 1), vec![]);
    assert_eq!(h.stack.state(handle), State::TimeWait);
    assert_eq!(h.at_ms(TW_MS), vec![]);
    assert_eq!(h.stack.state(handle), State::Closed);
    assert_eq!(h.stack.active(), 0);
}

#[test]
fn fin_wait_1_fin_with_ack_goes_straight_to_time_wait() {
    let (mut h, handle) = Hd::fin_wait_1();
    let fin_ack = h.fin_seg(PEER_ISN + 1, 2);
    assert_eq!(h.send(&fin_ack), vec![h.our_ack(2, PEER_ISN + 2)]);
    assert_eq!(h.stack.state(handle), State::TimeWait);
}

#[test]
fn simultaneous_close_through_closing() {
    let (mut h, handle) = Hd::fin_wait_1();
    // The peer's FIN crosses ours: it does not acknowledge our FIN.
    let fin = h.fin_seg(PEER_ISN + 1, 1);
    assert_eq!(h.send(&fin), vec![h.our_ack(2, PEER_ISN + 2)]);
    assert_eq!(h.stack.state(handle), State::Closing);
    assert_eq!(h.send(&h.ack_seg(PEER_ISN + 2, 2)), vec![]);
    assert_eq!(h.stack.state(handle), State::TimeWait);
    h.at_ms(TW_MS);
    assert_eq!(h.stack.state(handle), State::Closed);
}

#[test]
fn close_sends_fin_after_queued_data() {
    let mut h = Hd::new();
    let handle = h.handshake_mss(Some(536));
    h.stack.send(handle, &pattern(1000, 9));
    h.stack.close(handle);
    assert_eq!(h.stack.send(handle, b"more"), 0, "closed for sending");
    let out = h.poll();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].control, TcpControl::None);
    assert_eq!(out[1].control, TcpControl::Fin);
    assert_eq!(out[1].seq, h.ours(537));
    assert_eq!(out[1].payload.len(), 464);
}

#[test]
fn abort_sends_rst_and_frees() {
    let (mut h, handle) = Hd::established();
    h.stack.send(handle, b"never sent");
    h.stack.abort(handle);
    assert_eq!(
        h.poll(),
        vec![Seg {
            control: TcpControl::Rst,
            window: 0,
            ..h.recv_templ()
        }]
    );
    assert_eq!(h.stack.state(handle), State::Closed);
    assert_eq!(h.stack.counters().aborted_by_app, 1);
    assert_eq!(h.stack.counters().resets_sent, 1);
}

#[test]
fn stale_handles_read_closed_after_reuse() {
    let (mut h, old) = Hd::established();
    h.stack.abort(old);
    h.poll();
    let new = h.handshake();
    assert_eq!(old.index(), new.index(), "same slot");
    assert_ne!(old, new);
    assert_eq!(h.stack.state(old), State::Closed);
    assert_eq!(h.stack.state(new), State::Established);
    h.stack.close(old);
    h.stack.abort(old);
    assert_eq!(h.stack.state(new), State::Established);
    assert_eq!(h.stack.peek(old), b"");
}
