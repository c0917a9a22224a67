//! Behaviour of the interface, driven through the simulated link: the test
//! plays the other station (QEMU's slirp gateway, 52:55:0a:00:02:02 at
//! 10.0.2.2) on the far end.

use std::collections::VecDeque;
use std::vec::Vec;

use super::*;
use crate::device::{Capabilities, RxInfo, Scripted, TxOffload};
use crate::limits::{ARP_ENTRY_TTL, ARP_PENDING_PER_ADDR, MAX_FRAME_LEN, MAX_LENT_FRAME_LEN};
use crate::phy::{frames, Frame, Link, XorShift, QUEUE_LEN};
use crate::time::Duration;
use crate::wire::{ethernet, Icmpv4Message};

/// QEMU's default guest MAC.
const OUR_MAC: EthernetAddress = EthernetAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
const GW_MAC: EthernetAddress = EthernetAddress([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]);
const GW_IP: Ipv4Address = DEFAULT_GATEWAY;
const DNS_MAC: EthernetAddress = EthernetAddress([0x52, 0x55, 0x0a, 0x00, 0x02, 0x03]);
const DNS_IP: Ipv4Address = Ipv4Address::new(10, 0, 2, 3);
const OUR_IP: Ipv4Address = DEFAULT_IP;
const T0: Instant = Instant(5_000_000);

/// QEMU slirp's ARP request for 10.0.2.15, padded to Ethernet's 60-byte
/// minimum as it arrives on the wire.
const QEMU_ARP_REQUEST: [u8; 60] = {
    let mut f = [0u8; 60];
    let head: [u8; 42] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 0x08, 0x06, //
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, //
        0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 0x0a, 0x00, 0x02, 0x02, //
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x02, 0x0f,
    ];
    let mut i = 0;
    while i < head.len() {
        f[i] = head[i];
        i += 1;
    }
    f
};

/// A Linux `ping -c1 10.0.2.15` from 10.0.2.2: Ethernet, IPv4 (ident
/// 0x4e3b, DF, TTL 64), ICMP echo id 0x0c2a seq 1 with 56 data bytes.
fn linux_ping() -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&OUR_MAC.0);
    f.extend_from_slice(&GW_MAC.0);
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(&[
        0x45, 0x00, 0x00, 0x54, 0x4e, 0x3b, 0x40, 0x00, 0x40, 0x01, 0xd4, 0x5d, 0x0a, 0x00, 0x02,
        0x02, 0x0a, 0x00, 0x02, 0x0f,
    ]);
    f.extend_from_slice(&[0x08, 0x00, 0xa1, 0x25, 0x0c, 0x2a, 0x00, 0x01]);
    f.extend_from_slice(&PING_DATA);
    f
}

const PING_DATA: [u8; 56] = {
    let mut d = [0u8; 56];
    let tv = [
        0xb2, 0xa1, 0xf3, 0x67, 0, 0, 0, 0, 0xe1, 0xd2, 0x04, 0, 0, 0, 0, 0,
    ];
    let mut i = 0;
    while i < 56 {
        d[i] = if i < 16 { tv[i] } else { i as u8 };
        i += 1;
    }
    d
};

fn iface() -> Interface {
    Interface::new(Config::new(OUR_MAC))
}

fn arp_frame(
    eth_dst: EthernetAddress,
    op: ArpOperation,
    sha: EthernetAddress,
    spa: Ipv4Address,
    tha: EthernetAddress,
    tpa: Ipv4Address,
) -> Vec<u8> {
    let repr = ArpRepr {
        operation: op,
        source_hardware_addr: sha,
        source_protocol_addr: spa,
        target_hardware_addr: tha,
        target_protocol_addr: tpa,
    };
    frames::arp(eth_dst, &repr).unwrap().as_slice().to_vec()
}

fn arp_request_from(sha: EthernetAddress, spa: Ipv4Address, tpa: Ipv4Address) -> Vec<u8> {
    let unknown = EthernetAddress::UNSPECIFIED;
    let bcast = EthernetAddress::BROADCAST;
    arp_frame(bcast, ArpOperation::Request, sha, spa, unknown, tpa)
}

fn arp_reply_from(sha: EthernetAddress, spa: Ipv4Address) -> Vec<u8> {
    arp_frame(OUR_MAC, ArpOperation::Reply, sha, spa, OUR_MAC, OUR_IP)
}

/// An IPv4 packet from the gateway (its MAC and address) to `eth_dst` and
/// `dst`.
fn from_gw(eth_dst: EthernetAddress, dst: Ipv4Address, protocol: Protocol, data: &[u8]) -> Vec<u8> {
    let f = frames::ipv4(GW_MAC, eth_dst, GW_IP, dst, protocol, data).unwrap();
    f.as_slice().to_vec()
}

fn echo_request(ident: u16, seq_no: u16, data: &[u8]) -> Vec<u8> {
    let repr = Icmpv4Repr::EchoRequest {
        ident,
        seq_no,
        data,
    };
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut b[..]));
    b
}

fn ping_from_gw(dst: Ipv4Address, data: &[u8]) -> Vec<u8> {
    let icmp = echo_request(7, 1, data);
    from_gw(OUR_MAC, dst, Protocol::Icmp, &icmp)
}

/// Splits a sent frame into its Ethernet header and the IPv4 header and
/// payload, checking the IPv4 header (checksum included).
#[track_caller]
fn parse_ipv4(frame: &Frame) -> (EthernetRepr, Ipv4Repr, Vec<u8>) {
    let eth = EthernetFrame::new_checked(frame.as_slice()).unwrap();
    let eth_repr = EthernetRepr::parse(&eth).unwrap();
    assert_eq!(eth_repr.ethertype, EtherType::Ipv4);
    let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
    let ip_repr = Ipv4Repr::parse(&ip).expect("valid IPv4 header");
    (eth_repr, ip_repr, ip.payload().to_vec())
}

#[track_caller]
fn parse_arp(frame: &Frame) -> (EthernetRepr, ArpRepr) {
    let eth = EthernetFrame::new_checked(frame.as_slice()).unwrap();
    let eth_repr = EthernetRepr::parse(&eth).unwrap();
    assert_eq!(eth_repr.ethertype, EtherType::Arp);
    let arp = ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).unwrap()).unwrap();
    (eth_repr, arp)
}

/// Teaches the interface the gateway's MAC through an ARP request from
/// it, and swallows the reply.
fn learn_gateway(iface: &mut Interface, dev: &mut crate::phy::End<'_>, peer: &crate::phy::End<'_>) {
    assert!(peer.send(&QEMU_ARP_REQUEST));
    assert!(iface.poll(T0, dev));
    assert!(peer.recv().is_some());
    assert_eq!(iface.arp_lookup(GW_IP, T0), Some(GW_MAC));
}

// ---------------------------------------------------------------- ARP

#[test]
fn arp_request_for_us_is_answered_and_requester_learned() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    assert!(peer.send(&QEMU_ARP_REQUEST));
    assert!(iface.poll(T0, &mut dev));

    let reply = peer.recv().expect("an ARP reply");
    assert!(peer.recv().is_none());
    // 42 bytes of ARP frame, zero-padded to the Ethernet minimum.
    assert_eq!(reply.len(), MIN_FRAME_LEN);
    assert!(reply.as_slice()[42..].iter().all(|&b| b == 0));
    let (eth, arp) = parse_arp(&reply);
    assert_eq!((eth.src_addr, eth.dst_addr), (OUR_MAC, GW_MAC));
    assert_eq!(
        arp,
        ArpRepr {
            operation: ArpOperation::Reply,
            source_hardware_addr: OUR_MAC,
            source_protocol_addr: OUR_IP,
            target_hardware_addr: GW_MAC,
            target_protocol_addr: GW_IP,
        }
    );
    assert_eq!(iface.arp_lookup(GW_IP, T0), Some(GW_MAC));
    let c = iface.counters();
    assert_eq!((c.rx_frames, c.rx_bytes), (1, 60));
    assert_eq!((c.tx_frames, c.tx_bytes), (1, 60));
    assert_eq!(c.arp_replies_sent, 1);
    assert_eq!(c.drops(), 0);
}

#[test]
fn gratuitous_and_other_target_arp_get_no_answer() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    // Gratuitous: sender and target are the sender's own address.
    assert!(peer.send(&arp_request_from(DNS_MAC, DNS_IP, DNS_IP)));
    // A request for another host.
    assert!(peer.send(&arp_request_from(
        GW_MAC,
        GW_IP,
        Ipv4Address::new(10, 0, 2, 99)
    )));
    // A reply addressed to another host's IP.
    let other = Ipv4Address::new(10, 0, 2, 77);
    let f = arp_frame(
        OUR_MAC,
        ArpOperation::Reply,
        DNS_MAC,
        DNS_IP,
        OUR_MAC,
        other,
    );
    assert!(peer.send(&f));
    assert!(iface.poll(T0, &mut dev));
    assert!(peer.recv().is_none(), "nothing answered");
    assert_eq!(iface.arp_cache_len(T0), 0, "nothing learned");
    assert_eq!(iface.counters().drop_not_for_us, 3);
}

#[test]
fn gratuitous_arp_refreshes_a_known_entry() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    learn_gateway(&mut iface, &mut dev, &peer);
    let moved = EthernetAddress([0x52, 0x55, 0x0a, 0, 0, 0x99]);
    assert!(peer.send(&arp_request_from(moved, GW_IP, GW_IP)));
    let later = T0 + Duration::from_secs(30);
    iface.poll(later, &mut dev);
    assert!(peer.recv().is_none());
    assert_eq!(iface.arp_lookup(GW_IP, later), Some(moved));
    // Refreshed, so valid a full TTL after the gratuitous one.
    let nearly = later + Duration(ARP_ENTRY_TTL.0 - 1);
    assert_eq!(iface.arp_lookup(GW_IP, nearly), Some(moved));
}

#[test]
fn bogus_arp_senders_are_dropped() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    let bcast = EthernetAddress::BROADCAST;
    assert!(peer.send(&arp_request_from(bcast, GW_IP, OUR_IP)));
    assert!(peer.send(&arp_request_from(OUR_MAC, GW_IP, OUR_IP)));
    let mut f = arp_request_from(GW_MAC, GW_IP, OUR_IP);
    f[ethernet::HEADER_LEN + 1] = 6; // hardware type 6 (IEEE 802)
    assert!(peer.send(&f));
    assert!(peer.send(&arp_request_from(GW_MAC, GW_IP, OUR_IP)[..41]));
    iface.poll(T0, &mut dev);
    assert!(peer.recv().is_none());
    assert_eq!(iface.counters().drop_malformed, 3);
    assert_eq!(iface.counters().drop_truncated, 1);
}

#[test]
fn arp_probe_is_answered_but_not_learned() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    assert!(peer.send(&arp_request_from(DNS_MAC, Ipv4Address::UNSPECIFIED, OUR_IP)));
    iface.poll(T0, &mut dev);
    let (_, arp) = parse_arp(&peer.recv().unwrap());
    assert_eq!(arp.target_protocol_addr, Ipv4Address::UNSPECIFIED);
    assert_eq!(iface.arp_cache_len(T0), 0);
}

#[test]
fn unresolved_packet_waits_for_arp_then_goes() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    let sent = iface.send_ipv4(T0, &mut dev, DNS_IP, Protocol::Udp, 4, |b| {
        b.copy_from_slice(b"ping")
    });
    assert_eq!(sent, Ok(Sent::AwaitingArp));

    let (eth, arp) = parse_arp(&peer.recv().expect("an ARP request"));
    assert_eq!(
        (eth.src_addr, eth.dst_addr),
        (OUR_MAC, EthernetAddress::BROADCAST)
    );
    assert_eq!(
        arp,
        ArpRepr {
            operation: ArpOperation::Request,
            source_hardware_addr: OUR_MAC,
            source_protocol_addr: OUR_IP,
            target_hardware_addr: EthernetAddress::UNSPECIFIED,
            target_protocol_addr: DNS_IP,
        }
    );
    assert!(peer.recv().is_none());
    assert_eq!(iface.poll_at(T0), Some(T0 + ARP_RETRY_INTERVAL));

    assert!(peer.send(&arp_reply_from(DNS_MAC, DNS_IP)));
    let t1 = T0 + Duration::from_millis(3);
    assert!(iface.poll(t1, &mut dev));
    let (eth, ip, payload) = parse_ipv4(&peer.recv().expect("the queued packet"));
    assert_eq!((eth.src_addr, eth.dst_addr), (OUR_MAC, DNS_MAC));
    assert_eq!(
        (ip.src_addr, ip.dst_addr, ip.protocol),
        (OUR_IP, DNS_IP, Protocol::Udp)
    );
    assert_eq!(ip.ttl, DEFAULT_TTL);
    assert_eq!(payload, b"ping");
    assert_eq!(iface.poll_at(t1), None);
    assert_eq!(iface.arp_lookup(DNS_IP, t1), Some(DNS_MAC));

    // Resolved: the next packet goes straight out.
    let sent = iface.send_ipv4(t1, &mut dev, DNS_IP, Protocol::Udp, 2, |b| b.fill(1));
    assert_eq!(sent, Ok(Sent::Transmitted));
    assert!(peer.recv().is_some());
}

#[test]
fn arp_entry_expires_after_ttl() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    learn_gateway(&mut iface, &mut dev, &peer);
    // Just before the limit: still known, sent directly.
    let last = T0 + Duration(ARP_ENTRY_TTL.0 - 1);
    let r = iface.send_ipv4(last, &mut dev, GW_IP, Protocol::Udp, 1, |_| ());
    assert_eq!(r, Ok(Sent::Transmitted));
    assert!(peer.recv().is_some());
    // At the limit: forgotten, so asked again.
    let expired = T0 + ARP_ENTRY_TTL;
    assert_eq!(iface.arp_lookup(GW_IP, expired), None);
    let r = iface.send_ipv4(expired, &mut dev, GW_IP, Protocol::Udp, 1, |_| ());
    assert_eq!(r, Ok(Sent::AwaitingArp));
    let (_, arp) = parse_arp(&peer.recv().unwrap());
    assert_eq!(arp.operation, ArpOperation::Request);
    assert_eq!(arp.target_protocol_addr, GW_IP);
}

#[test]
fn resolution_gives_up_after_max_requests() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    for _ in 0..ARP_PENDING_PER_ADDR {
        let r = iface.send_ipv4(T0, &mut dev, DNS_IP, Protocol::Udp, 1, |_| ());
        assert_eq!(r, Ok(Sent::AwaitingArp));
    }
    let mut now = T0;
    let mut requests = 0;
    while let Some(at) = iface.poll_at(now) {
        now = at;
        iface.poll(now, &mut dev);
        while let Some(f) = peer.recv() {
            let (_, arp) = parse_arp(&f);
            assert_eq!(arp.target_protocol_addr, DNS_IP);
            requests += 1;
        }
        assert!(now < T0 + Duration::from_secs(60), "never gave up");
    }
    assert_eq!(requests, usize::from(ARP_MAX_REQUESTS));
    assert_eq!(
        now,
        T0 + Duration(ARP_RETRY_INTERVAL.0 * u64::from(ARP_MAX_REQUESTS))
    );
    let c = iface.counters();
    assert_eq!(c.arp_requests_sent, u64::from(ARP_MAX_REQUESTS));
    assert_eq!(c.arp_failures, 1);
    assert_eq!(c.drop_unresolved, ARP_PENDING_PER_ADDR as u64);
    // A late reply is still learned, and nothing stale is sent.
    assert!(peer.send(&arp_reply_from(DNS_MAC, DNS_IP)));
    iface.poll(now, &mut dev);
    assert!(peer.recv().is_none());
    assert_eq!(iface.arp_lookup(DNS_IP, now), Some(DNS_MAC));
}

#[test]
fn pending_queue_limit_per_address() {
    let link = Link::new();
    let (mut dev, _peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    for _ in 0..ARP_PENDING_PER_ADDR {
        let r = iface.send_ipv4(T0, &mut dev, DNS_IP, Protocol::Udp, 1, |_| ());
        assert_eq!(r, Ok(Sent::AwaitingArp));
    }
    let r = iface.send_ipv4(T0, &mut dev, DNS_IP, Protocol::Udp, 1, |_| ());
    assert_eq!(r, Err(SendError::QueueFull));
    assert_eq!(iface.counters().drop_unresolved, 1);
    assert_eq!(
        iface.counters().arp_requests_sent,
        1,
        "one request per address"
    );
}

#[test]
fn pending_table_limit() {
    let link = Link::new();
    let (mut dev, _peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    for n in 0..ARP_PENDING_ADDRS as u8 {
        let dst = Ipv4Address::new(10, 0, 2, 100 + n);
        let r = iface.send_ipv4(T0, &mut dev, dst, Protocol::Udp, 1, |_| ());
        assert_eq!(r, Ok(Sent::AwaitingArp));
    }
    let dst = Ipv4Address::new(10, 0, 2, 200);
    let r = iface.send_ipv4(T0, &mut dev, dst, Protocol::Udp, 1, |_| ());
    assert_eq!(r, Err(SendError::PendingTableFull));
    assert_eq!(iface.counters().drop_unresolved, 1);
}

// ------------------------------------------------------------ routing

#[test]
fn off_link_goes_via_gateway_and_broadcast_needs_no_arp() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    let far = Ipv4Address::new(93, 184, 216, 34);
    assert_eq!(
        iface.send_ipv4(T0, &mut dev, far, Protocol::Tcp, 0, |_| ()),
        Ok(Sent::AwaitingArp)
    );
    let (_, arp) = parse_arp(&peer.recv().unwrap());
    assert_eq!(arp.target_protocol_addr, GW_IP, "asks for the gateway");
    assert!(peer.send(&arp_reply_from(GW_MAC, GW_IP)));
    iface.poll(T0, &mut dev);
    let (eth, ip, _) = parse_ipv4(&peer.recv().unwrap());
    assert_eq!((eth.dst_addr, ip.dst_addr), (GW_MAC, far));

    for dst in [Ipv4Address::BROADCAST, Ipv4Address::new(10, 0, 2, 255)] {
        let r = iface.send_ipv4(T0, &mut dev, dst, Protocol::Udp, 3, |_| ());
        assert_eq!(r, Ok(Sent::Transmitted));
        let (eth, ip, _) = parse_ipv4(&peer.recv().unwrap());
        assert_eq!(
            (eth.dst_addr, ip.dst_addr),
            (EthernetAddress::BROADCAST, dst)
        );
    }
}

#[test]
fn no_route_and_too_large() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = Interface::new(Config {
        gateway: None,
        ..Config::new(OUR_MAC)
    });
    let far = Ipv4Address::new(8, 8, 8, 8);
    let mcast = Ipv4Address::new(224, 0, 0, 1);
    for dst in [far, mcast, Ipv4Address::UNSPECIFIED, OUR_IP] {
        let r = iface.send_ipv4(T0, &mut dev, dst, Protocol::Udp, 1, |_| unreachable!());
        assert_eq!(r, Err(SendError::NoRoute));
    }
    assert_eq!(iface.counters().tx_no_route, 4);
    // The MTU: 1480 payload bytes fit, 1481 do not.
    let bcast = Ipv4Address::BROADCAST;
    let max = MAX_IP_PACKET_LEN - ipv4::HEADER_LEN;
    let r = iface.send_ipv4(T0, &mut dev, bcast, Protocol::Udp, max, |b| b.fill(7));
    assert_eq!(r, Ok(Sent::Transmitted));
    assert_eq!(peer.recv().unwrap().len(), MAX_FRAME_LEN);
    let r = iface.send_ipv4(
        T0,
        &mut dev,
        bcast,
        Protocol::Udp,
        max + 1,
        |_| unreachable!(),
    );
    assert_eq!(r, Err(SendError::TooLarge));
    assert_eq!(iface.counters().tx_too_large, 1);
}

#[test]
fn device_busy_is_counted() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    // Fill the queue towards the peer.
    while dev.transmit(1, |_| ()).is_some() {}
    assert_eq!(peer.waiting(), QUEUE_LEN);
    assert!(peer.send(&QEMU_ARP_REQUEST));
    iface.poll(T0, &mut dev);
    let r = iface.send_ipv4(
        T0,
        &mut dev,
        Ipv4Address::BROADCAST,
        Protocol::Udp,
        1,
        |_| (),
    );
    assert_eq!(r, Err(SendError::DeviceBusy));
    assert_eq!(iface.counters().tx_device_busy, 2);
    assert_eq!(iface.counters().arp_replies_sent, 0);
}

#[test]
fn arp_request_retried_when_device_was_busy() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    while dev.transmit(1, |_| ()).is_some() {}
    let r = iface.send_ipv4(T0, &mut dev, DNS_IP, Protocol::Udp, 1, |_| ());
    assert_eq!(r, Ok(Sent::AwaitingArp));
    assert_eq!(iface.poll_at(T0), Some(T0), "request still due");
    while peer.recv().is_some() {}
    iface.poll(T0, &mut dev);
    let (_, arp) = parse_arp(&peer.recv().unwrap());
    assert_eq!(arp.target_protocol_addr, DNS_IP);
    assert_eq!(iface.poll_at(T0), Some(T0 + ARP_RETRY_INTERVAL));
}

// --------------------------------------------------------------- ICMP

#[test]
fn linux_ping_is_answered_with_identical_payload() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    learn_gateway(&mut iface, &mut dev, &peer);
    assert!(peer.send(&linux_ping()));
    assert!(iface.poll(T0, &mut dev));

    let reply = peer.recv().expect("an echo reply");
    assert_eq!(reply.len(), linux_ping().len());
    let (eth, ip, payload) = parse_ipv4(&reply);
    assert_eq!((eth.src_addr, eth.dst_addr), (OUR_MAC, GW_MAC));
    assert_eq!(
        ip,
        Ipv4Repr {
            src_addr: OUR_IP,
            dst_addr: GW_IP,
            protocol: Protocol::Icmp,
            payload_len: 64,
            ttl: DEFAULT_TTL,
        }
    );
    let icmp = Icmpv4Packet::new_checked(&payload[..]).unwrap();
    assert!(icmp.verify_checksum());
    assert_eq!(icmp.checksum(), 0xa125 + 0x0800);
    assert_eq!(
        Icmpv4Repr::parse(&icmp),
        Ok(Icmpv4Repr::EchoReply {
            ident: 0x0c2a,
            seq_no: 1,
            data: &PING_DATA,
        })
    );
    assert_eq!(iface.counters().icmp_echo_replies, 1);
    assert_eq!(iface.counters().drops(), 0);
}

#[test]
fn ping_from_unknown_host_is_answered_after_arp() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    assert!(peer.send(&linux_ping()));
    iface.poll(T0, &mut dev);
    let (_, arp) = parse_arp(&peer.recv().expect("who has 10.0.2.2?"));
    assert_eq!(arp.target_protocol_addr, GW_IP);
    assert!(peer.send(&arp_reply_from(GW_MAC, GW_IP)));
    iface.poll(T0, &mut dev);
    let (_, ip, payload) = parse_ipv4(&peer.recv().expect("the echo reply"));
    assert_eq!(ip.dst_addr, GW_IP);
    assert_eq!(payload[0], u8::from(Icmpv4Message::EchoReply));
    assert_eq!(payload[8..], PING_DATA);
}

#[test]
fn echo_for_another_ip_is_not_answered() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    learn_gateway(&mut iface, &mut dev, &peer);
    assert!(peer.send(&ping_from_gw(Ipv4Address::new(10, 0, 2, 16), b"x")));
    iface.poll(T0, &mut dev);
    assert!(peer.recv().is_none());
    assert_eq!(iface.counters().drop_not_for_us, 1);
}

#[test]
fn broadcast_echo_is_accepted_but_ignored() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    learn_gateway(&mut iface, &mut dev, &peer);
    let mut f = ping_from_gw(Ipv4Address::BROADCAST, b"x");
    f[..6].copy_from_slice(&EthernetAddress::BROADCAST.0);
    assert!(peer.send(&f));
    iface.poll(T0, &mut dev);
    assert!(peer.recv().is_none());
    assert_eq!(iface.counters().icmp_ignored, 1);
    assert_eq!(iface.counters().drops(), 0);
}

#[test]
fn other_icmp_is_counted_and_ignored() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    let mut unreachable = [0u8; 36];
    unreachable[0] = u8::from(Icmpv4Message::DstUnreachable);
    unreachable[1] = 3;
    Icmpv4Packet::new_unchecked(&mut unreachable[..]).fill_checksum();
    let reply = {
        let repr = Icmpv4Repr::EchoReply {
            ident: 1,
            seq_no: 2,
            data: b"hi",
        };
        let mut b = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Icmpv4Packet::new_unchecked(&mut b[..]));
        b
    };
    for icmp in [&unreachable[..], &reply[..]] {
        assert!(peer.send(&from_gw(OUR_MAC, OUR_IP, Protocol::Icmp, icmp)));
    }
    iface.poll(T0, &mut dev);
    assert!(peer.recv().is_none());
    assert_eq!(iface.counters().icmp_ignored, 2);
}

// --------------------------------------------------------------- IPv4

#[test]
fn bad_checksums_are_dropped_and_counted() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    learn_gateway(&mut iface, &mut dev, &peer);
    let mut bad_ip = linux_ping();
    bad_ip[14 + 10] ^= 0x01; // header checksum
    let mut bad_icmp = linux_ping();
    bad_icmp[14 + 20 + 8] ^= 0x80; // first data byte
    assert!(peer.send(&bad_ip));
    assert!(peer.send(&bad_icmp));
    iface.poll(T0, &mut dev);
    assert!(peer.recv().is_none());
    assert_eq!(iface.counters().drop_bad_checksum, 2);
}

#[test]
fn fragments_are_dropped_and_counted() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    learn_gateway(&mut iface, &mut dev, &peer);
    for (more, offset) in [(true, 0), (false, 1480), (true, 8)] {
        let mut f = linux_ping();
        let mut ip = Ipv4Packet::new_unchecked(&mut f[14..]);
        ip.set_flags_and_offset(false, more, offset);
        ip.fill_checksum();
        assert!(peer.send(&f));
    }
    iface.poll(T0, &mut dev);
    assert!(peer.recv().is_none());
    assert_eq!(iface.counters().drop_fragment, 3);
}

#[test]
fn malformed_ipv4_is_counted_by_reason() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    let ping = linux_ping();
    // Truncated: cut inside the header, and shorter than the total length.
    assert!(peer.send(&ping[..14 + 19]));
    assert!(peer.send(&ping[..ping.len() - 1]));
    // IHL 4, version 6, broadcast source.
    let mut ihl = ping.clone();
    ihl[14] = 0x44;
    let mut v6 = ping.clone();
    let mut p = Ipv4Packet::new_unchecked(&mut v6[14..]);
    p.set_version(6);
    p.fill_checksum();
    let mut bsrc = ping.clone();
    let mut p = Ipv4Packet::new_unchecked(&mut bsrc[14..]);
    p.set_src_addr(Ipv4Address::BROADCAST);
    p.fill_checksum();
    for f in [ihl, v6, bsrc] {
        assert!(peer.send(&f));
    }
    iface.poll(T0, &mut dev);
    assert!(peer.recv().is_none());
    assert_eq!(iface.counters().drop_truncated, 2);
    assert_eq!(iface.counters().drop_malformed, 3);
}

#[test]
fn ipv4_options_are_skipped() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    learn_gateway(&mut iface, &mut dev, &peer);
    // Rebuild the ping with 4 bytes of options (NOP NOP NOP EOL).
    let ping = linux_ping();
    let mut f = ping[..34].to_vec();
    f.extend_from_slice(&[1, 1, 1, 0]);
    f.extend_from_slice(&ping[34..]);
    let mut ip = Ipv4Packet::new_unchecked(&mut f[14..]);
    ip.set_header_len(24);
    ip.set_total_len(88);
    ip.fill_checksum();
    assert!(peer.send(&f));
    iface.poll(T0, &mut dev);
    let (_, ip, payload) = parse_ipv4(&peer.recv().expect("an echo reply"));
    assert_eq!(ip.payload_len, 64);
    assert_eq!(payload[8..], PING_DATA);
}

/// Records what it is given and answers each datagram with its reverse.
#[derive(Default)]
struct Recorder {
    got: Vec<(Ipv4Repr, Vec<u8>)>,
    dispatches: usize,
}

impl IpHandler for Recorder {
    fn receive<D: Device>(
        &mut self,
        ip: &Ipv4Repr,
        payload: &[u8],
        tx: &mut Sender<'_, D>,
    ) -> bool {
        self.got.push((*ip, payload.to_vec()));
        if ip.protocol == Protocol::Tcp {
            let back: Vec<u8> = payload.iter().rev().copied().collect();
            let r = tx.send_ipv4(ip.src_addr, Protocol::Tcp, back.len(), |b| {
                b.copy_from_slice(&back)
            });
            assert!(r.is_ok());
        }
        ip.protocol != Protocol::Unknown(253)
    }

    fn dispatch<D: Device>(&mut self, tx: &mut Sender<'_, D>) -> bool {
        assert_eq!(tx.config().ip, OUR_IP);
        self.dispatches += 1;
        false
    }
}

#[test]
fn tcp_goes_to_the_handler_which_can_answer() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    learn_gateway(&mut iface, &mut dev, &peer);
    let segment = from_gw(OUR_MAC, OUR_IP, Protocol::Tcp, b"abc");
    assert!(peer.send(&segment));
    // Without a handler: counted as unknown protocol.
    iface.poll(T0, &mut dev);
    assert_eq!(iface.counters().drop_unknown_protocol, 1);
    assert!(peer.recv().is_none());

    let mut rec = Recorder::default();
    assert!(peer.send(&segment));
    assert!(iface.poll_with(T0, &mut dev, &mut rec));
    assert_eq!(rec.got.len(), 1);
    assert_eq!(rec.got[0].0.protocol, Protocol::Tcp);
    assert_eq!(rec.got[0].1, b"abc");
    assert_eq!(rec.dispatches, 1);
    let (_, ip, payload) = parse_ipv4(&peer.recv().expect("the handler's answer"));
    assert_eq!((ip.dst_addr, ip.protocol), (GW_IP, Protocol::Tcp));
    assert_eq!(payload, b"cba");

    // A handler may decline.
    let other = from_gw(OUR_MAC, OUR_IP, Protocol::Unknown(253), b"z");
    assert!(peer.send(&other));
    iface.poll_with(T0, &mut dev, &mut rec);
    assert_eq!(iface.counters().drop_unknown_protocol, 2);
}

#[test]
fn broadcast_datagrams_are_accepted() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    let mut rec = Recorder::default();
    let bcast_mac = EthernetAddress::BROADCAST;
    for dst in [Ipv4Address::BROADCAST, Ipv4Address::new(10, 0, 2, 255)] {
        assert!(peer.send(&from_gw(bcast_mac, dst, Protocol::Udp, b"d")));
    }
    // Not ours: another host, another subnet's broadcast.
    for dst in [
        Ipv4Address::new(10, 0, 2, 99),
        Ipv4Address::new(10, 0, 3, 255),
    ] {
        assert!(peer.send(&from_gw(bcast_mac, dst, Protocol::Udp, b"d")));
    }
    iface.poll_with(T0, &mut dev, &mut rec);
    let dsts: Vec<Ipv4Address> = rec.got.iter().map(|(ip, _)| ip.dst_addr).collect();
    assert_eq!(
        dsts,
        [Ipv4Address::BROADCAST, Ipv4Address::new(10, 0, 2, 255)]
    );
    assert_eq!(iface.counters().drop_not_for_us, 2);
}

#[test]
fn ethernet_padding_is_not_payload() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    let mut rec = Recorder::default();
    let mut f = from_gw(OUR_MAC, OUR_IP, Protocol::Udp, b"ab");
    assert_eq!(f.len(), 36);
    f.resize(60, 0xee); // padded to the minimum frame, with junk
    assert!(peer.send(&f));
    iface.poll_with(T0, &mut dev, &mut rec);
    assert_eq!(rec.got[0].1, b"ab");
    assert_eq!(rec.got[0].0.payload_len, 2);
}

// ----------------------------------------------------------- Ethernet

#[test]
fn frames_for_other_macs_are_ignored() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    learn_gateway(&mut iface, &mut dev, &peer);
    let mut f = linux_ping();
    f[..6].copy_from_slice(&DNS_MAC.0);
    assert!(peer.send(&f));
    let mut m = linux_ping();
    m[..6].copy_from_slice(&[0x01, 0x00, 0x5e, 0, 0, 1]); // multicast
    assert!(peer.send(&m));
    let mut q = QEMU_ARP_REQUEST;
    q[..6].copy_from_slice(&DNS_MAC.0);
    assert!(peer.send(&q));
    iface.poll(T0, &mut dev);
    assert!(peer.recv().is_none());
    assert_eq!(iface.counters().drop_not_for_us, 3);
}

#[test]
fn unknown_ethertype_and_runt_frames() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    let mut v6 = linux_ping();
    v6[12..14].copy_from_slice(&[0x86, 0xdd]);
    assert!(peer.send(&v6));
    assert!(peer.send(&linux_ping()[..13]));
    assert!(peer.send(&[]));
    iface.poll(T0, &mut dev);
    assert_eq!(iface.counters().drop_unknown_ethertype, 1);
    assert_eq!(iface.counters().drop_truncated, 2);
    assert_eq!(iface.counters().rx_frames, 3);
}

#[test]
fn oversized_frames_limit() {
    let mut at_limit = linux_ping();
    at_limit.resize(MAX_FRAME_LEN, 0);
    let mut past = linux_ping();
    past.resize(MAX_FRAME_LEN + 1, 0);
    let mut dev = Scripted::new([past, at_limit]);
    let mut iface = iface();
    iface.poll(T0, &mut dev);
    assert_eq!(iface.counters().drop_oversized, 1);
    assert_eq!(iface.counters().rx_frames, 2);
    // The padded ping at the limit was handled (its reply awaits ARP).
    assert_eq!(dev.tx.len(), 1, "an ARP request for the sender");
}

/// A device that lends frames in place, as the kernel's virtio driver
/// does, vouching for their transport checksums when told to, and that
/// cuts TCP frames of up to `tso` bytes (keeping what it was asked).
struct Lending {
    rx: VecDeque<Vec<u8>>,
    checksum_ok: bool,
    tso: Option<usize>,
    tx: Vec<(Vec<u8>, TxOffload)>,
}

impl Lending {
    fn new(checksum_ok: bool, tso: Option<usize>) -> Lending {
        Lending {
            rx: VecDeque::new(),
            checksum_ok,
            tso,
            tx: Vec::new(),
        }
    }
}

impl Device for Lending {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_frame_len: MAX_FRAME_LEN,
        }
    }

    fn mac(&self) -> [u8; 6] {
        OUR_MAC.0
    }

    fn receive<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        self.rx.pop_front().map(|frame| f(&frame))
    }

    fn receive_lent<R>(&mut self, f: impl FnOnce(&mut Self, &[u8], RxInfo) -> R) -> Option<R> {
        let frame = self.rx.pop_front()?;
        let info = RxInfo {
            len: frame.len(),
            checksum_ok: self.checksum_ok,
        };
        Some(f(self, &frame, info))
    }

    fn transmit<R>(&mut self, len: usize, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        self.transmit_offloaded(len, TxOffload::default(), f)
    }

    fn tcp_segmentation(&self) -> Option<usize> {
        self.tso
    }

    fn transmit_offloaded<R>(
        &mut self,
        len: usize,
        offload: TxOffload,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        let most = match offload.segment_payload {
            Some(_) => self.tso?,
            None => MAX_FRAME_LEN,
        };
        if len > most {
            return None;
        }
        let mut buf = vec![0u8; len];
        let r = f(&mut buf);
        self.tx.push((buf, offload));
        Some(r)
    }
}

#[test]
fn lent_frames_limit() {
    // An echo request in one IPv4 packet of the most its length allows,
    // as a device with receive segmentation offload lends it; and one
    // byte of padding more.
    let data = vec![0x5a; ipv4::MAX_PACKET_LEN - ipv4::HEADER_LEN - 8];
    // (Past what `frames::ipv4` holds: spelled out.)
    let icmp = echo_request(1, 1, &data);
    let ip = Ipv4Repr {
        src_addr: GW_IP,
        dst_addr: OUR_IP,
        protocol: Protocol::Icmp,
        payload_len: icmp.len(),
        ttl: 64,
    };
    let mut at_limit = vec![0u8; ethernet::HEADER_LEN + ip.buffer_len()];
    let mut frame = EthernetFrame::new_unchecked(&mut at_limit[..]);
    EthernetRepr {
        src_addr: GW_MAC,
        dst_addr: OUR_MAC,
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut frame);
    let mut packet = Ipv4Packet::new_unchecked(frame.payload_mut());
    ip.emit(&mut packet);
    packet.payload_mut().copy_from_slice(&icmp);
    assert_eq!(at_limit.len(), MAX_LENT_FRAME_LEN);
    let mut past = at_limit.clone();
    past.push(0);
    let mut dev = Lending::new(false, None);
    dev.rx.extend([past, at_limit]);
    let mut iface = iface();
    iface.poll(T0, &mut dev);
    let c = iface.counters();
    assert_eq!((c.rx_frames, c.drop_oversized), (2, 1));
    // The one at the limit was taken: its reply is past the MTU.
    assert_eq!((c.drop_bad_checksum, c.tx_too_large), (0, 1));
}

/// An IpHandler that sends one TCP-sized datagram at dispatch, leaving
/// `offload` to the device, and keeps the answer.
struct SendOffloaded {
    dst: Ipv4Address,
    payload_len: usize,
    offload: Offload,
    result: Option<Result<Sent, SendError>>,
    segmentation: Option<usize>,
}

impl IpHandler for SendOffloaded {
    fn receive<D: Device>(&mut self, _: &Ipv4Repr, _: &[u8], _: &mut Sender<'_, D>) -> bool {
        false
    }

    fn dispatch<D: Device>(&mut self, tx: &mut Sender<'_, D>) -> bool {
        self.segmentation = tx.tcp_segmentation(self.dst);
        let (dst, len, offload) = (self.dst, self.payload_len, self.offload);
        let src = tx.config().ip;
        self.result = Some(
            tx.send_ipv4_offloaded(dst, Protocol::Tcp, len, offload, |b| {
                b.fill(1);
                crate::wire::TcpPacket::new_unchecked(b).fill_partial_checksum(src, dst);
            }),
        );
        true
    }
}

fn send_offloaded(
    dev: &mut Lending,
    resolved: bool,
    payload_len: usize,
    segment_payload: Option<u16>,
) -> SendOffloaded {
    let mut iface = iface();
    if resolved {
        dev.rx.push_back(QEMU_ARP_REQUEST.to_vec());
    }
    let mut h = SendOffloaded {
        dst: GW_IP,
        payload_len,
        offload: Offload {
            checksum_at: 16,
            segment_payload,
        },
        result: None,
        segmentation: None,
    };
    iface.poll_with(T0, dev, &mut h);
    h
}

#[test]
fn segmented_sends_limits() {
    let most = ipv4::MAX_PACKET_LEN - ipv4::HEADER_LEN;
    // A device that cuts anything an IPv4 packet can hold.
    let mut dev = Lending::new(false, Some(MAX_LENT_FRAME_LEN));
    let h = send_offloaded(&mut dev, true, most, Some(1448));
    assert_eq!(h.result, Some(Ok(Sent::Transmitted)));
    assert_eq!(h.segmentation, Some(most));
    let (frame, offload) = dev.tx.pop().unwrap();
    assert_eq!(frame.len(), MAX_LENT_FRAME_LEN);
    let checksum = Some((ethernet::HEADER_LEN + ipv4::HEADER_LEN, 16));
    assert_eq!(
        offload,
        TxOffload {
            checksum,
            segment_payload: Some(1448)
        }
    );
    let h = send_offloaded(&mut dev, true, most + 1, Some(1448));
    assert_eq!(
        h.result,
        Some(Err(SendError::TooLarge)),
        "past IPv4's length"
    );
    // The device's own limit, at and past it.
    let mut dev = Lending::new(false, Some(10_000));
    let fits = 10_000 - ethernet::HEADER_LEN - ipv4::HEADER_LEN;
    let h = send_offloaded(&mut dev, true, fits, Some(1448));
    assert_eq!(
        (h.result, h.segmentation),
        (Some(Ok(Sent::Transmitted)), Some(fits))
    );
    let h = send_offloaded(&mut dev, true, fits + 1, Some(1448));
    assert_eq!(h.result, Some(Err(SendError::TooLarge)));
    // Not resolved: only what fits the MTU may wait for ARP.
    let h = send_offloaded(&mut dev, false, fits, Some(1448));
    assert_eq!(
        (h.result, h.segmentation),
        (Some(Err(SendError::TooLarge)), None)
    );
    // A device that cuts nothing: the MTU, offload or not.
    let mut dev = Lending::new(false, None);
    let h = send_offloaded(&mut dev, true, 2000, Some(1448));
    assert_eq!(
        (h.result, h.segmentation),
        (Some(Err(SendError::TooLarge)), None)
    );
    let mtu = MAX_IP_PACKET_LEN - ipv4::HEADER_LEN;
    let h = send_offloaded(&mut dev, true, mtu, None);
    assert_eq!(h.result, Some(Ok(Sent::Transmitted)));
    assert_eq!(dev.tx.last().unwrap().1.segment_payload, None);
}

#[test]
fn a_checksum_left_partial_is_completed_in_software_when_held_for_arp() {
    let mut dev = Lending::new(false, None);
    let mut iface = iface();
    let mut h = send_offloaded(&mut dev, false, 100, None);
    h.result = None;
    iface.poll_with(T0, &mut dev, &mut h);
    assert_eq!(h.result, Some(Ok(Sent::AwaitingArp)));
    dev.rx.push_back(arp_reply_from(GW_MAC, GW_IP));
    dev.tx.clear();
    iface.poll_with(T0, &mut dev, &mut NoHandler);
    let (frame, offload) = dev.tx.pop().expect("the held datagram");
    assert_eq!(offload, TxOffload::default(), "nothing left to the device");
    let ip = Ipv4Packet::new_checked(&frame[ethernet::HEADER_LEN..]).unwrap();
    let tcp = crate::wire::TcpPacket::new_unchecked(ip.payload());
    assert!(tcp.verify_checksum(OUR_IP, GW_IP), "completed in software");
}

#[test]
fn a_device_vouching_for_checksums_spares_tcp_the_check() {
    use crate::tcp::TcpStack;
    use crate::wire::{TcpControl, TcpPacket, TcpRepr};
    let mut syn = vec![0u8; 20];
    let repr = TcpRepr {
        src_port: 40000,
        dst_port: 80,
        control: TcpControl::Syn,
        push: false,
        seq_number: crate::tcp::SeqNumber(7),
        ack_number: None,
        window_len: 1024,
        max_seg_size: None,
        window_scale: None,
        sack_permitted: false,
        timestamps: None,
        sack_blocks: [None; crate::wire::tcp::MAX_SACK_BLOCKS],
        payload: &[],
    };
    repr.emit(&mut TcpPacket::new_unchecked(&mut syn[..]), GW_IP, OUR_IP);
    syn[16] ^= 0xff; // a wrong checksum
    for vouched in [false, true] {
        let mut stack: std::boxed::Box<TcpStack<2, 1024, 1024>> =
            std::boxed::Box::new(TcpStack::new([3; 16]));
        stack.listen(80, 2).unwrap();
        let mut dev = Lending::new(vouched, None);
        dev.rx.push_back(QEMU_ARP_REQUEST.to_vec());
        dev.rx
            .push_back(from_gw(OUR_MAC, OUR_IP, Protocol::Tcp, &syn));
        let mut iface = iface();
        iface.poll_with(T0, &mut dev, &mut *stack);
        let bad = stack.counters().drop_bad_checksum;
        let synacks = dev
            .tx
            .iter()
            .filter(|(f, _)| f[12..14] == [0x08, 0x00])
            .count();
        if vouched {
            assert_eq!((bad, synacks), (0, 1), "taken as it is");
        } else {
            assert_eq!((bad, synacks), (1, 0), "checked and dropped");
        }
    }
}

#[test]
fn garbage_flood_never_panics_and_is_counted() {
    let mut rng = XorShift::new(0x5eed);
    let templates = [
        linux_ping(),
        QEMU_ARP_REQUEST.to_vec(),
        from_gw(OUR_MAC, OUR_IP, Protocol::Tcp, b"seg"),
    ];
    let mut frames = VecDeque::new();
    for i in 0..20_000u32 {
        let frame = if i % 2 == 0 {
            // Pure noise, sometimes addressed to us so it gets past Ethernet.
            let len = rng.below(1600) as usize;
            let mut f: Vec<u8> = (0..len).map(|_| rng.next_u32() as u8).collect();
            if len >= 14 && rng.chance(50) {
                f[..6].copy_from_slice(&OUR_MAC.0);
                f[12..14].copy_from_slice(if rng.chance(50) { &[8, 0] } else { &[8, 6] });
            }
            f
        } else {
            // A valid frame with a few bytes mangled and maybe cut short.
            let mut f = templates[rng.below(3) as usize].clone();
            for _ in 0..=rng.below(4) {
                let at = 14 + rng.below(f.len() as u32 - 14) as usize;
                f[at] = rng.next_u32() as u8;
            }
            let keep = f.len() - rng.below(8) as usize;
            f.truncate(keep);
            f
        };
        frames.push_back(frame);
    }
    let mut dev = Scripted::new(frames);
    let mut iface = iface();
    let mut rec = Recorder::default();
    let mut now = T0;
    while !dev.rx.is_empty() {
        now = now + Duration::from_millis(1);
        let chunk = dev.rx.len().min(crate::limits::RX_FRAMES_PER_POLL);
        let rest = dev.rx.split_off(chunk);
        iface.poll_with(now, &mut dev, &mut rec);
        dev.rx = rest;
    }
    let c = *iface.counters();
    assert_eq!(c.rx_frames, 20_000);
    assert!(c.drops() > 10_000, "{c}");
    assert!(
        c.drop_truncated > 0 && c.drop_bad_checksum > 0 && c.drop_not_for_us > 0,
        "{c}"
    );
    // Every frame sent is well formed.
    for f in &dev.tx {
        let eth = EthernetFrame::new_checked(&f[..]).unwrap();
        match eth.ethertype() {
            EtherType::Arp => {
                assert!(ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).unwrap()).is_ok())
            }
            EtherType::Ipv4 => {
                assert!(Ipv4Repr::parse(&Ipv4Packet::new_checked(eth.payload()).unwrap()).is_ok())
            }
            other => panic!("sent {other:?}"),
        }
    }
}

// ------------------------------------------------------------ counters

#[test]
fn counters_display_one_line_each() {
    let link = Link::new();
    let (mut dev, peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    assert!(peer.send(&QEMU_ARP_REQUEST));
    iface.poll(T0, &mut dev);
    let text = format!("{}", iface.counters());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), iface.counters().iter().count());
    assert!(lines.contains(&"rx_frames 1"));
    assert!(lines.contains(&"arp_replies_sent 1"));
    assert!(lines.contains(&"drop_bad_checksum 0"));
}

#[test]
fn idle_poll_reports_nothing() {
    let link = Link::new();
    let (mut dev, _peer) = link.ends(OUR_MAC.0, GW_MAC.0);
    let mut iface = iface();
    assert!(!iface.poll(T0, &mut dev));
    assert_eq!(iface.poll_at(T0), None);
}

#[test]
fn config_defaults_and_subnet() {
    let c = Config::new(OUR_MAC);
    assert_eq!((c.ip, c.prefix_len, c.gateway), (OUR_IP, 24, Some(GW_IP)));
    assert_eq!(c.subnet_broadcast(), Ipv4Address::new(10, 0, 2, 255));
    assert!(c.in_subnet(Ipv4Address::new(10, 0, 2, 200)));
    assert!(!c.in_subnet(Ipv4Address::new(10, 0, 3, 1)));
    assert!(c.accepts(OUR_IP) && c.accepts(Ipv4Address::BROADCAST));
    assert!(!c.accepts(GW_IP));
}

#[test]
fn one_poll_takes_at_most_rx_frames_per_poll() {
    use crate::limits::RX_FRAMES_PER_POLL;
    let frame = {
        let mut f = std::vec![0u8; 60];
        f[12] = 0x88; // An unknown ethertype: counted, dropped.
        f[13] = 0xb5;
        f
    };
    let mut dev = Scripted::new((0..RX_FRAMES_PER_POLL + 1).map(|_| frame.clone()));
    let mut iface = iface();
    assert!(iface.poll(T0, &mut dev));
    assert_eq!(iface.counters().rx_frames, RX_FRAMES_PER_POLL as u64);
    assert_eq!(dev.rx.len(), 1, "the rest waits for the next poll");
    assert!(iface.poll(T0, &mut dev));
    assert_eq!(iface.counters().rx_frames, RX_FRAMES_PER_POLL as u64 + 1);
    assert!(!iface.poll(T0, &mut dev), "nothing left");
}
