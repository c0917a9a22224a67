//! Property tests for TCP: every `TcpRepr` survives emit-then-parse; no
//! byte string makes the segment view or parser panic; and no sequence of
//! segments, clock jumps and application calls makes the socket set
//! panic or lose track of its slots.

use bedrock_net::phy::{frames, Link};
use bedrock_net::tcp::SeqNumber;
use bedrock_net::wire::tcp::MAX_SACK_BLOCKS;
use bedrock_net::wire::{EtherType, EthernetFrame, Ipv4Packet};
use bedrock_net::wire::{Protocol, TcpControl, TcpPacket, TcpRepr, TcpTimestamps};
use bedrock_net::{Config, Duration, EthernetAddress, Instant, Interface, Ipv4Address, TcpStack};
use proptest::prelude::*;

const US: EthernetAddress = EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
const PEER: EthernetAddress = EthernetAddress([0x52, 0x55, 10, 0, 2, 2]);
const US_IP: Ipv4Address = Ipv4Address::new(10, 0, 2, 15);
const PEER_IP: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);

fn control() -> impl Strategy<Value = TcpControl> {
    prop_oneof![
        Just(TcpControl::None),
        Just(TcpControl::Syn),
        Just(TcpControl::Fin),
        Just(TcpControl::Rst),
    ]
}

/// An Ethernet frame from the peer carrying `tcp`.
fn frame(tcp: &[u8]) -> Vec<u8> {
    let f = frames::ipv4(PEER, US, PEER_IP, US_IP, Protocol::Tcp, tcp).unwrap();
    f.as_slice().to_vec()
}

/// One step of a conversation with the stack.
#[derive(Clone, Debug)]
struct Step {
    control: TcpControl,
    with_ack: bool,
    seq_delta: i16,
    ack_delta: i16,
    window: u16,
    payload: usize,
    port: u16,
    advance_ms: u16,
    app: u8,
    /// A SACK block: start and length from the stack's next byte.
    sack: Option<(i16, u16)>,
}

prop_compose! {
    fn step()(
        control in control(),
        with_ack in any::<bool>(),
        seq_delta in prop_oneof![3 => Just(0i16), 1 => -40i16..1500],
        ack_delta in prop_oneof![3 => Just(0i16), 1 => -40i16..1500],
        window in prop_oneof![Just(0u16), any::<u16>()],
        payload in 0usize..1400,
        port in prop_oneof![Just(80u16), 1u16..4],
        advance_ms in prop_oneof![Just(0u16), 0u16..3000],
        app in 0u8..8,
        sack in proptest::option::of((-3000i16..3000, any::<u16>())),
    ) -> Step {
        Step { control, with_ack, seq_delta, ack_delta, window, payload, port, advance_ms, app, sack }
    }
}

proptest! {
    #[test]
    fn tcp_round_trip(
        src_port in 1u16.., dst_port in 1u16.., control in control(), push in any::<bool>(),
        seq in any::<u32>(), ack in proptest::option::of(any::<u32>()), window in any::<u16>(),
        mss in proptest::option::of(any::<u16>()), ws in proptest::option::of(any::<u8>()),
        sack in any::<bool>(), ts in proptest::option::of(any::<(u32, u32)>()),
        payload in proptest::collection::vec(any::<u8>(), 0..1460),
        blocks in proptest::collection::vec((any::<u32>(), any::<u32>()), 0..=MAX_SACK_BLOCKS),
    ) {
        let mut sack_blocks = [None; MAX_SACK_BLOCKS];
        for (slot, &(l, r)) in sack_blocks.iter_mut().zip(&blocks) {
            *slot = Some((SeqNumber(l), SeqNumber(r)));
        }
        let repr = TcpRepr {
            src_port, dst_port, control, push,
            seq_number: SeqNumber(seq),
            ack_number: ack.map(SeqNumber),
            window_len: window,
            max_seg_size: mss,
            window_scale: ws,
            sack_permitted: sack,
            timestamps: ts.map(|(tsval, tsecr)| TcpTimestamps { tsval, tsecr }),
            sack_blocks,
            payload: &payload,
        };
        // Blocks that do not fit beside the other options are left out.
        let mut expected = repr;
        for b in &mut expected.sack_blocks[repr.sack_blocks_emitted()..] {
            *b = None;
        }
        prop_assert!(repr.header_len() <= 60);
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut TcpPacket::new_unchecked(&mut buf[..]), PEER_IP, US_IP);
        let packet = TcpPacket::new_checked(&buf[..]).unwrap();
        prop_assert!(packet.verify_checksum(PEER_IP, US_IP));
        prop_assert_eq!(TcpRepr::parse(&packet, PEER_IP, US_IP), Ok(expected));
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_tcp_parser(
        mut bytes in proptest::collection::vec(any::<u8>(), 0..120), fix in any::<bool>(),
    ) {
        if fix && bytes.len() >= 20 {
            // A valid checksum takes parsing past it, into the options.
            TcpPacket::new_unchecked(&mut bytes[..]).fill_checksum(PEER_IP, US_IP);
        }
        if let Ok(p) = TcpPacket::new_checked(&bytes[..]) {
            let _ = (p.options(), p.payload(), p.segment_len(), p.flags(), p.urgent_at());
            if let Ok(r) = TcpRepr::parse(&p, PEER_IP, US_IP) {
                prop_assert_eq!(r.payload.len(), p.payload().len());
                prop_assert!(r.src_port != 0 && r.dst_port != 0);
            }
        }
    }

    #[test]
    fn socket_set_survives_any_conversation(steps in proptest::collection::vec(step(), 1..60),
                                            garbage in proptest::collection::vec(any::<u8>(), 0..64)) {
        let link = Box::new(Link::new());
        let (mut dev, peer) = link.ends(US.0, PEER.0);
        let mut iface = Interface::new(Config::new(US));
        let mut tcp: Box<TcpStack<4, 512, 512>> = Box::new(TcpStack::new([9; 16]));
        tcp.listen(80, 3).unwrap();
        let mut now = Instant(1_000_000);
        // Learn the peer's MAC the way the stack would: from its traffic
        // (an ARP request for us).
        let mut arp = vec![0u8; 42];
        arp[..6].copy_from_slice(&[0xff; 6]);
        arp[6..12].copy_from_slice(&PEER.0);
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        arp[14..22].copy_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
        arp[22..28].copy_from_slice(&PEER.0);
        arp[28..32].copy_from_slice(&PEER_IP.0);
        arp[38..42].copy_from_slice(&US_IP.0);
        prop_assert!(peer.send(&arp));
        iface.poll_with(now, &mut dev, &mut *tcp);
        while peer.recv().is_some() {}
        prop_assert!(peer.send(&frame(&garbage)));

        let mut my_seq = SeqNumber(5000);
        let mut their_seq = SeqNumber(0);
        let mut handles = Vec::new();
        let data = vec![0x61u8; 1500];
        for s in steps {
            let mut sack_blocks = [None; MAX_SACK_BLOCKS];
            if let Some((start, len)) = s.sack {
                let left = their_seq + (start as i32 as u32);
                sack_blocks[0] = Some((left, left + u32::from(len)));
            }
            let repr = TcpRepr {
                src_port: 40000 + s.port,
                dst_port: if s.port == 80 { 80 } else { 80 + s.port },
                control: s.control,
                push: false,
                seq_number: my_seq + (s.seq_delta as i32 as u32),
                ack_number: s.with_ack.then(|| their_seq + (s.ack_delta as i32 as u32)),
                window_len: s.window,
                max_seg_size: (s.control == TcpControl::Syn).then_some(1460),
                window_scale: None,
                sack_permitted: s.control == TcpControl::Syn,
                timestamps: None,
                sack_blocks,
                payload: &data[..s.payload],
            };
            let mut b = vec![0u8; repr.buffer_len()];
            repr.emit(&mut TcpPacket::new_unchecked(&mut b[..]), PEER_IP, US_IP);
            prop_assert!(peer.send(&frame(&b)));
            if s.seq_delta >= 0 {
                my_seq = my_seq + repr.segment_len();
            }
            now = now + Duration::from_millis(u64::from(s.advance_ms));
            iface.poll_with(now, &mut dev, &mut *tcp);
            // Learn where the stack's numbers are from what it sent.
            while let Some(f) = peer.recv() {
                let eth = EthernetFrame::new_checked(f.as_slice()).unwrap();
                if eth.ethertype() != EtherType::Ipv4 { continue; }
                let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
                let seg = TcpPacket::new_checked(ip.payload()).unwrap();
                let r = TcpRepr::parse(&seg, US_IP, PEER_IP).unwrap();
                their_seq = r.seq_number + r.segment_len();
            }
            while let Some(h) = tcp.accept() {
                handles.push(h);
            }
            let mut buf = [0u8; 700];
            for &h in &handles {
                match s.app {
                    0 => { tcp.recv(h, &mut buf); }
                    1 => { tcp.send(h, &data[..s.payload]); }
                    2 => tcp.close(h),
                    3 => tcp.abort(h),
                    4 => { let n = tcp.peek(h).len(); tcp.consume(h, n / 2); }
                    _ => {}
                }
            }
            if let Some(at) = tcp.poll_at(now) {
                prop_assert!(at >= now);
            }
            prop_assert!(tcp.active() <= 4);
        }
        let c = tcp.counters();
        prop_assert!(c.segs_in >= 1);
        // Everything ends: after the longest timeout every slot is free.
        for _ in 0..200 {
            now = now + Duration::from_secs(1);
            iface.poll_with(now, &mut dev, &mut *tcp);
            while peer.recv().is_some() {}
        }
        prop_assert_eq!(tcp.active(), 0, "{}", tcp.counters());
    }
}
