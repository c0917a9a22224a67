use super::*;
use crate::device::Device;

const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 0xa];
const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 0xb];

fn receive_all<D: Device>(dev: &mut D) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(f) = dev.receive(|b| b.to_vec()) {
        out.push(f);
    }
    out
}

#[test]
fn link_carries_frames_both_ways_in_order() {
    let link = Link::new();
    let (mut a, mut b) = link.ends(MAC_A, MAC_B);
    assert_eq!((a.mac(), b.mac()), (MAC_A, MAC_B));
    assert_eq!(
        a.transmit(3, |buf| buf.copy_from_slice(&[1, 2, 3])),
        Some(())
    );
    assert!(a.send(&[4, 5]));
    assert_eq!(b.waiting(), 2);
    assert_eq!(receive_all(&mut b), vec![vec![1, 2, 3], vec![4, 5]]);
    assert!(b.send(&[9]));
    assert_eq!(a.recv().unwrap().as_slice(), &[9]);
    assert_eq!(a.receive(|_| ()), None);
}

#[test]
fn link_queue_limit_and_frame_limit() {
    let link = Link::new();
    let (mut a, b) = link.ends(MAC_A, MAC_B);
    for i in 0..QUEUE_LEN {
        assert!(a.send(&[i as u8]), "frame {i}");
    }
    assert!(!a.send(&[0xff]), "one past the queue limit");
    assert_eq!(a.transmit(1, |_| ()), None);
    assert_eq!(b.waiting(), QUEUE_LEN);
    while b.recv().is_some() {}
    assert!(a.send(&[0; MAX_FRAME_LEN]));
    assert!(!a.send(&[0; MAX_FRAME_LEN + 1]));
    assert_eq!(a.transmit(MAX_FRAME_LEN + 1, |_| ()), None);
}

fn fault_run(config: FaultConfig, seed: u32, frames: u8) -> (Vec<Vec<u8>>, FaultStats) {
    let link = Link::new();
    let (a, b) = link.ends(MAC_A, MAC_B);
    for i in 0..frames {
        assert!(a.send(&[i, i, i, i]));
    }
    let mut dev = FaultInjector::new(b, config, seed);
    (receive_all(&mut dev), dev.stats())
}

/// A configuration with one fault at 100% (`field` picks it), the others
/// off.
fn always(field: fn(&mut FaultConfig) -> &mut u8) -> FaultConfig {
    let mut config = FaultConfig::default();
    *field(&mut config) = 100;
    config
}

#[test]
fn no_faults_is_transparent() {
    let (got, stats) = fault_run(FaultConfig::default(), 1, 5);
    assert_eq!(got, (0..5).map(|i| vec![i; 4]).collect::<Vec<_>>());
    assert_eq!(stats, FaultStats::default());
}

#[test]
fn drop_everything() {
    let (got, stats) = fault_run(always(|c| &mut c.drop_pct), 7, 5);
    assert!(got.is_empty());
    assert_eq!(stats.dropped, 5);
}

#[test]
fn duplicate_everything() {
    let (got, stats) = fault_run(always(|c| &mut c.duplicate_pct), 7, 3);
    let want: Vec<Vec<u8>> = (0..3).flat_map(|i| [vec![i; 4], vec![i; 4]]).collect();
    assert_eq!(got, want);
    assert_eq!(stats.duplicated, 3);
}

#[test]
fn reorder_swaps_pairs() {
    let (got, _) = fault_run(always(|c| &mut c.reorder_pct), 7, 5);
    let order: Vec<u8> = got.iter().map(|f| f[0]).collect();
    assert_eq!(order, vec![1, 0, 3, 2, 4]);
}

#[test]
fn corrupt_flips_exactly_one_bit() {
    let (got, stats) = fault_run(always(|c| &mut c.corrupt_pct), 99, 20);
    assert_eq!(stats.corrupted, 20);
    for (i, f) in got.iter().enumerate() {
        let flipped: u32 = f.iter().map(|b| (b ^ i as u8).count_ones()).sum();
        assert_eq!(flipped, 1, "frame {i}");
    }
}

#[test]
fn same_seed_same_faults() {
    let config = FaultConfig {
        drop_pct: 20,
        duplicate_pct: 20,
        reorder_pct: 20,
        corrupt_pct: 20,
    };
    assert_eq!(fault_run(config, 1234, 30), fault_run(config, 1234, 30));
    assert_ne!(fault_run(config, 1234, 30).0, fault_run(config, 4321, 30).0);
}

#[test]
fn transmit_faults() {
    let link = Link::new();
    let (a, b) = link.ends(MAC_A, MAC_B);
    let mut dev = FaultInjector::new(
        a,
        FaultConfig {
            drop_pct: 100,
            ..Default::default()
        },
        5,
    );
    assert_eq!(dev.transmit(4, |buf| buf.fill(1)), Some(()));
    assert_eq!(b.waiting(), 0);
    dev.set_config(FaultConfig {
        corrupt_pct: 100,
        ..Default::default()
    });
    assert_eq!(dev.transmit(4, |buf| buf.fill(1)), Some(()));
    let f = b.recv().unwrap();
    let flipped: u32 = f.as_slice().iter().map(|x| (x ^ 1).count_ones()).sum();
    assert_eq!(flipped, 1);
    assert_eq!(dev.stats().dropped, 1);
    assert_eq!(dev.stats().corrupted, 1);
}

#[test]
fn xorshift_is_deterministic_and_never_stuck() {
    let mut r = XorShift::new(0);
    let first = r.next_u32();
    assert_ne!(first, 0);
    assert_eq!(XorShift::new(0).next_u32(), first);
    assert!((0..1000).all(|_| r.below(10) < 10));
    assert!(!r.chance(0));
    assert!(r.chance(100));
}

#[test]
fn built_frames_parse_back_and_stop_at_the_frame_limit() {
    use crate::limits::MAX_FRAME_LEN;
    use crate::wire::Protocol;
    use crate::wire::{ethernet, ipv4, EtherType, EthernetAddress, EthernetFrame, EthernetRepr};
    use crate::wire::{ArpOperation, ArpPacket, ArpRepr, Ipv4Address, Ipv4Packet, Ipv4Repr};

    let (a, b) = (EthernetAddress(MAC_A), EthernetAddress(MAC_B));
    let (ip_a, ip_b) = (Ipv4Address::new(10, 0, 0, 1), Ipv4Address::new(10, 0, 0, 2));
    let f = frames::ipv4(a, b, ip_a, ip_b, Protocol::Udp, b"hello").unwrap();
    assert_eq!(f.len(), ethernet::HEADER_LEN + ipv4::HEADER_LEN + 5);
    let eth = EthernetFrame::new_checked(f.as_slice()).unwrap();
    let eth_repr = EthernetRepr::parse(&eth).unwrap();
    assert_eq!((eth_repr.src_addr, eth_repr.dst_addr), (a, b));
    assert_eq!(eth_repr.ethertype, EtherType::Ipv4);
    let packet = Ipv4Packet::new_checked(eth.payload()).unwrap();
    let ip = Ipv4Repr::parse(&packet).expect("checksum filled in");
    assert_eq!(
        (ip.src_addr, ip.dst_addr, ip.protocol, ip.ttl),
        (ip_a, ip_b, Protocol::Udp, 64)
    );
    assert_eq!(packet.payload(), b"hello");

    let request = ArpRepr {
        operation: ArpOperation::Request,
        source_hardware_addr: a,
        source_protocol_addr: ip_a,
        target_hardware_addr: EthernetAddress::UNSPECIFIED,
        target_protocol_addr: ip_b,
    };
    let f = frames::arp(EthernetAddress::BROADCAST, &request).unwrap();
    let eth = EthernetFrame::new_checked(f.as_slice()).unwrap();
    let eth_repr = EthernetRepr::parse(&eth).unwrap();
    assert_eq!((eth_repr.src_addr, eth_repr.ethertype), (a, EtherType::Arp));
    assert_eq!(eth_repr.dst_addr, EthernetAddress::BROADCAST);
    let arp = ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).unwrap());
    assert_eq!(arp, Ok(request));

    // The largest payload that fits, and one byte more.
    let most = MAX_FRAME_LEN - ethernet::HEADER_LEN - ipv4::HEADER_LEN;
    let fits = frames::ipv4(a, b, ip_a, ip_b, Protocol::Tcp, &vec![7; most]).unwrap();
    assert_eq!(fits.len(), MAX_FRAME_LEN);
    assert!(frames::ipv4(a, b, ip_a, ip_b, Protocol::Tcp, &vec![7; most + 1]).is_none());
    let room = MAX_FRAME_LEN - ethernet::HEADER_LEN;
    let filled = frames::ethernet(a, b, EtherType::Arp, room, |p| p.fill(9)).unwrap();
    assert!(filled.as_slice()[ethernet::HEADER_LEN..]
        .iter()
        .all(|&x| x == 9));
    assert!(frames::ethernet(a, b, EtherType::Arp, room + 1, |_| {}).is_none());
    assert!(frames::ethernet(a, b, EtherType::Arp, usize::MAX, |_| {}).is_none());
}
