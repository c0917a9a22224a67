//! The network interface: arbitrary bytes as one received Ethernet frame,
//! polled through a device that holds just that frame. Nothing may panic,
//! the frame must be counted, and everything sent must be a well-formed
//! ARP or IPv4 frame from our MAC.
#![no_main]

use bedrock_net::wire::{ArpPacket, ArpRepr, EtherType, EthernetFrame, Ipv4Packet, Ipv4Repr};
use bedrock_net::{Capabilities, Config, Device, EthernetAddress, Instant, Interface};
use libfuzzer_sys::fuzz_target;

const OUR_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

/// Yields `rx` once; checks every transmitted frame.
struct OneFrame<'a> {
    rx: Option<&'a [u8]>,
    sent: usize,
}

impl Device for OneFrame<'_> {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_frame_len: 1514,
        }
    }

    fn mac(&self) -> [u8; 6] {
        OUR_MAC
    }

    fn receive<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        self.rx.take().map(f)
    }

    fn transmit<R>(&mut self, len: usize, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        assert!(len <= 1514);
        let mut buf = vec![0u8; len];
        let r = f(&mut buf);
        let eth = EthernetFrame::new_checked(&buf[..]).expect("sent frame has a header");
        assert_eq!(eth.src_addr(), EthernetAddress(OUR_MAC));
        match eth.ethertype() {
            EtherType::Arp => {
                let p = ArpPacket::new_checked(eth.payload()).expect("sent ARP fits");
                ArpRepr::parse(&p).expect("sent ARP parses");
            }
            EtherType::Ipv4 => {
                let p = Ipv4Packet::new_checked(eth.payload()).expect("sent IPv4 fits");
                Ipv4Repr::parse(&p).expect("sent IPv4 parses");
            }
            other => panic!("sent ethertype {other:?}"),
        }
        self.sent += 1;
        Some(r)
    }
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks whether the gateway is already in the ARP
    // cache, so echo replies get sent rather than queued.
    let Some((&mode, frame)) = data.split_first() else {
        return;
    };
    let mut iface = Interface::new(Config::new(EthernetAddress(OUR_MAC)));
    let now = Instant(1_000_000);
    if mode & 1 == 1 {
        // QEMU's gateway asks for us; we answer and learn it.
        let mut req = [0u8; 42];
        req[..6].copy_from_slice(&[0xff; 6]);
        req[6..12].copy_from_slice(&[0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]);
        req[12..14].copy_from_slice(&[0x08, 0x06]);
        req[14..22].copy_from_slice(&[0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01]);
        req[22..28].copy_from_slice(&[0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]);
        req[28..32].copy_from_slice(&[10, 0, 2, 2]);
        req[38..42].copy_from_slice(&[10, 0, 2, 15]);
        let mut dev = OneFrame {
            rx: Some(&req),
            sent: 0,
        };
        iface.poll(now, &mut dev);
        assert_eq!(dev.sent, 1);
    }
    let before = *iface.counters();
    let mut dev = OneFrame {
        rx: Some(frame),
        sent: 0,
    };
    iface.poll(now, &mut dev);
    assert_eq!(iface.counters().rx_frames, before.rx_frames + 1);
    // Drive the ARP timers to the end too.
    let mut t = now;
    while let Some(at) = iface.poll_at(t) {
        t = at;
        iface.poll(t, &mut dev);
        assert!(t.micros() < 100_000_000, "ARP never gives up");
    }
});
