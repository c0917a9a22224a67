//! Property tests: every `Repr` survives emit-then-parse, and no byte
//! string makes a checked view, a parser or the interface panic.

use bedrock_net::phy::Link;
use bedrock_net::wire::{ethernet, ArpOperation, ArpPacket, ArpRepr, EtherType};
use bedrock_net::wire::{EthernetFrame, EthernetRepr, Icmpv4Packet, Icmpv4Repr};
use bedrock_net::wire::{Ipv4Packet, Ipv4Repr, Protocol};
use bedrock_net::{Config, EthernetAddress, Instant, Interface, Ipv4Address};
use proptest::prelude::*;

fn mac() -> impl Strategy<Value = EthernetAddress> {
    any::<[u8; 6]>().prop_map(EthernetAddress)
}

fn ip() -> impl Strategy<Value = Ipv4Address> {
    any::<[u8; 4]>().prop_map(Ipv4Address)
}

fn ethertype() -> impl Strategy<Value = EtherType> {
    any::<u16>().prop_map(EtherType::from)
}

fn protocol() -> impl Strategy<Value = Protocol> {
    any::<u8>().prop_map(Protocol::from)
}

proptest! {
    #[test]
    fn ethernet_round_trip(src in mac(), dst in mac(), ethertype in ethertype(), extra in 0usize..64) {
        let repr = EthernetRepr { src_addr: src, dst_addr: dst, ethertype };
        let mut buf = vec![0u8; repr.buffer_len() + extra];
        repr.emit(&mut EthernetFrame::new_unchecked(&mut buf[..]));
        let frame = EthernetFrame::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(EthernetRepr::parse(&frame), Ok(repr));
        prop_assert_eq!(frame.payload().len(), extra);
    }

    #[test]
    fn arp_round_trip(request in any::<bool>(), sha in mac(), spa in ip(), tha in mac(), tpa in ip()) {
        let operation = if request { ArpOperation::Request } else { ArpOperation::Reply };
        let repr = ArpRepr {
            operation,
            source_hardware_addr: sha,
            source_protocol_addr: spa,
            target_hardware_addr: tha,
            target_protocol_addr: tpa,
        };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut ArpPacket::new_unchecked(&mut buf[..]));
        prop_assert_eq!(ArpRepr::parse(&ArpPacket::new_checked(&buf[..]).unwrap()), Ok(repr));
    }

    #[test]
    fn ipv4_round_trip(
        src in ip(), dst in ip(), protocol in protocol(),
        payload_len in 0usize..=(65_535 - 20), ttl in any::<u8>(), padding in 0usize..8,
    ) {
        let repr = Ipv4Repr { src_addr: src, dst_addr: dst, protocol, payload_len, ttl };
        let mut buf = vec![0u8; repr.buffer_len() + padding];
        repr.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]));
        let packet = Ipv4Packet::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(Ipv4Repr::parse(&packet), Ok(repr));
        prop_assert_eq!(packet.payload().len(), payload_len);
    }

    #[test]
    fn icmp_echo_round_trip(request in any::<bool>(), ident in any::<u16>(), seq_no in any::<u16>(),
                            data in proptest::collection::vec(any::<u8>(), 0..1500)) {
        let repr = if request {
            Icmpv4Repr::EchoRequest { ident, seq_no, data: &data }
        } else {
            Icmpv4Repr::EchoReply { ident, seq_no, data: &data }
        };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
        let packet = Icmpv4Packet::new_checked(&buf[..]).unwrap();
        prop_assert!(packet.verify_checksum());
        prop_assert_eq!(Icmpv4Repr::parse(&packet), Ok(repr));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(f) = EthernetFrame::new_checked(&bytes[..]) {
            let _ = EthernetRepr::parse(&f);
            let _ = (f.src_addr(), f.dst_addr(), f.ethertype(), f.payload());
        }
        if let Ok(p) = ArpPacket::new_checked(&bytes[..]) {
            let _ = ArpRepr::parse(&p);
            let _ = (p.operation(), p.source_hardware_addr(), p.target_protocol_addr());
        }
        if let Ok(p) = Ipv4Packet::new_checked(&bytes[..]) {
            let _ = Ipv4Repr::parse(&p);
            let _ = (p.payload(), p.verify_checksum(), p.frag_offset(), p.protocol());
            prop_assert!(p.payload().len() <= bytes.len());
        }
        if let Ok(p) = Icmpv4Packet::new_checked(&bytes[..]) {
            let _ = Icmpv4Repr::parse(&p);
            let _ = (p.msg_type(), p.echo_ident(), p.data());
        }
    }

    #[test]
    fn arbitrary_ipv4_headers_never_panic(mut bytes in proptest::collection::vec(any::<u8>(), 20..120),
                                          ihl in 0u8..16, total in 0u16..140) {
        // Push the length fields into interesting ranges, then fix the
        // checksum so parsing goes past it.
        bytes[0] = 0x40 | ihl;
        bytes[2..4].copy_from_slice(&total.to_be_bytes());
        if let Ok(mut p) = Ipv4Packet::new_checked(&mut bytes[..]) {
            p.fill_checksum();
            let p = Ipv4Packet::new_checked(&bytes[..]).unwrap();
            if let Ok(repr) = Ipv4Repr::parse(&p) {
                prop_assert_eq!(repr.payload_len, p.payload().len());
            }
        } else {
            prop_assert!(usize::from(ihl) * 4 < 20 || usize::from(total) > bytes.len()
                         || usize::from(total) < usize::from(ihl) * 4);
        }
    }

    #[test]
    fn interface_survives_any_frames(frames in proptest::collection::vec(
        proptest::collection::vec(any::<u8>(), 0..120), 0..20), aimed in any::<bool>()) {
        let us = EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        let link = Link::new();
        let (mut dev, peer) = link.ends(us.0, [2, 0, 0, 0, 0, 1]);
        let mut iface = Interface::new(Config::new(us));
        for mut f in frames.iter().cloned() {
            if aimed && f.len() >= ethernet::HEADER_LEN {
                f[..6].copy_from_slice(&us.0);
            }
            prop_assert!(peer.send(&f));
        }
        iface.poll(Instant(0), &mut dev);
        prop_assert_eq!(iface.counters().rx_frames, frames.len() as u64);
    }
}
