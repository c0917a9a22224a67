//! Packet-level tests, smoltcp style: the test plays the peer, sends one
//! segment in through a real [`Interface`] and simulated link, and
//! asserts the exact segments that come out. Grouped by state in
//! `states.rs`, timers in `timers.rs`, limits in `limits.rs`, SACK in
//! `sack.rs`, window scaling and timestamps in `rfc7323.rs`, bounds
//! against hostile peers (timeouts, eviction, SYN cookies) in
//! `hostile.rs`; the two-stack simulated link with faults in `sim.rs`,
//! through a device with TCP segmentation offload (`offload.rs`) too.

use std::boxed::Box;
use std::vec::Vec;

use super::*;
use crate::iface::{Config, Interface};
use crate::phy::{frames, End, Link};
use crate::time::{Duration, Instant};
use crate::wire::tcp::MAX_SACK_BLOCKS;
use crate::wire::{ArpOperation, ArpRepr, EtherType, EthernetAddress};
use crate::wire::{EthernetFrame, Ipv4Address, Ipv4Packet, Ipv4Repr, Protocol};
use crate::wire::{TcpControl, TcpPacket, TcpRepr};

mod hostile;
mod limits;
mod offload;
mod rfc7323;
mod sack;
mod sim;
mod states;
mod time_wait;
mod timers;

pub(crate) const OUR_MAC: EthernetAddress = EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
pub(crate) const PEER_MAC: EthernetAddress = EthernetAddress([0x52, 0x55, 0x0a, 0, 2, 2]);
pub(crate) const OUR_IP: Ipv4Address = Ipv4Address::new(10, 0, 2, 15);
pub(crate) const PEER_IP: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);
pub(crate) const PORT: u16 = 80;
pub(crate) const PEER_PORT: u16 = 49152;
/// The peer's ISN: its first data byte is 1001.
pub(crate) const PEER_ISN: u32 = 1000;
pub(crate) const T0: Instant = Instant(10_000_000);
/// Buffers of the test stack: the window we advertise when empty.
pub(crate) const BUF: usize = 4096;

/// One segment, owned, with plain numbers: what tests write and compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Seg {
    pub src_port: u16,
    pub dst_port: u16,
    pub control: TcpControl,
    pub psh: bool,
    pub seq: u32,
    pub ack: Option<u32>,
    pub window: u16,
    pub mss: Option<u16>,
    pub sack_permitted: bool,
    /// Window-scale option (RFC 7323 §2.2).
    pub wscale: Option<u8>,
    /// Timestamps option: (TSval, TSecr).
    pub ts: Option<(u32, u32)>,
    /// SACK blocks, in the order carried.
    pub sack: Vec<(u32, u32)>,
    pub payload: Vec<u8>,
}

impl Seg {
    /// A segment without flags, options or payload.
    pub fn plain(src_port: u16, dst_port: u16, seq: u32, ack: Option<u32>, window: u16) -> Seg {
        Seg {
            src_port,
            dst_port,
            control: TcpControl::None,
            psh: false,
            seq,
            ack,
            window,
            mss: None,
            sack_permitted: false,
            wscale: None,
            ts: None,
            sack: Vec::new(),
            payload: Vec::new(),
        }
    }
}

/// Template of what the peer sends: the first data segment after its SYN.
pub(crate) fn send_templ() -> Seg {
    Seg::plain(PEER_PORT, PORT, PEER_ISN + 1, None, 64240)
}

/// The peer's `payload` at offset `off` of its stream (the first data
/// byte is offset 0), acknowledging `ack`.
pub(crate) fn data_seg(off: usize, payload: &[u8], ack: u32) -> Seg {
    Seg {
        seq: PEER_ISN + 1 + off as u32,
        ack: Some(ack),
        payload: payload.to_vec(),
        ..send_templ()
    }
}

/// The peer's SYN (Linux-like: MSS 1460).
pub(crate) fn syn() -> Seg {
    Seg {
        control: TcpControl::Syn,
        seq: PEER_ISN,
        mss: Some(1460),
        ..send_templ()
    }
}

/// A test stack behind an interface on one end of a link; the test holds
/// the other end.
pub(crate) struct H<const N: usize = 4, const RX: usize = BUF, const TX: usize = BUF> {
    pub stack: Box<TcpStack<N, RX, TX>>,
    pub iface: Interface,
    pub dev: End<'static>,
    pub peer: End<'static>,
    pub now: Instant,
    /// Our ISN, learnt from the SYN-ACK of [`H::handshake`].
    pub iss: u32,
}

impl<const N: usize, const RX: usize, const TX: usize> H<N, RX, TX> {
    /// Listening on [`PORT`] with a backlog of `N`, the peer's MAC known.
    pub fn new() -> Self {
        let link: &'static Link = Box::leak(Box::new(Link::new()));
        let (dev, peer) = link.ends(OUR_MAC.0, PEER_MAC.0);
        let mut h = H {
            stack: Box::new(TcpStack::new([0x42; 16])),
            iface: Interface::new(Config::new(OUR_MAC)),
            dev,
            peer,
            now: T0,
            iss: 0,
        };
        h.stack.listen(PORT, N).unwrap();
        // An ARP request from the peer teaches the interface its MAC.
        let arp = ArpRepr {
            operation: ArpOperation::Request,
            source_hardware_addr: PEER_MAC,
            source_protocol_addr: PEER_IP,
            target_hardware_addr: EthernetAddress::UNSPECIFIED,
            target_protocol_addr: OUR_IP,
        };
        let f = frames::arp(EthernetAddress::BROADCAST, &arp).unwrap();
        assert!(h.peer.send(f.as_slice()));
        h.iface.poll(h.now, &mut h.dev);
        while h.peer.recv().is_some() {}
        h
    }

    /// Our sequence number `off` bytes after our ISN.
    pub fn ours(&self, off: u32) -> u32 {
        self.iss.wrapping_add(off)
    }

    /// Template of what we send once established, nothing sent yet.
    pub fn recv_templ(&self) -> Seg {
        Seg::plain(PORT, PEER_PORT, self.ours(1), Some(PEER_ISN + 1), RX as u16)
    }

    /// Sends the peer's `syn` and returns our one answer; its sequence
    /// number is our ISN from then on ([`H::iss`]).
    #[track_caller]
    pub fn syn_ack_to(&mut self, syn: &Seg) -> Seg {
        let out = self.send(syn);
        assert_eq!(out.len(), 1, "{out:?}");
        self.iss = out[0].seq;
        out[0].clone()
    }

    /// The SYN-ACK we answer [`syn`] with: our ISN, our MSS of 1460.
    pub fn our_syn_ack(&self) -> Seg {
        Seg {
            control: TcpControl::Syn,
            seq: self.ours(0),
            mss: Some(1460),
            ..self.recv_templ()
        }
    }

    /// Sends raw TCP bytes from the peer.
    pub fn send_bytes(&mut self, tcp: &[u8]) -> Vec<Seg> {
        self.queue_bytes(tcp);
        self.poll()
    }

    /// Sends every one of `segs` from the peer before polling once (a
    /// burst the device hands over together); returns what we sent.
    #[track_caller]
    pub fn send_burst(&mut self, segs: &[Seg]) -> Vec<Seg> {
        for seg in segs {
            self.queue_bytes(&emit(seg, PEER_IP, OUR_IP));
        }
        self.poll()
    }

    /// Puts raw TCP bytes from the peer on the link, without polling.
    fn queue_bytes(&mut self, tcp: &[u8]) {
        self.queue_bytes_from(PEER_IP, tcp)
    }

    /// Sends `seg` from `src`, an address beyond the peer (its frames come
    /// from the peer's MAC, a router), and returns every segment we sent
    /// back, with its destination.
    #[track_caller]
    pub fn send_from(&mut self, src: Ipv4Address, seg: &Seg) -> Vec<(Ipv4Address, Seg)> {
        self.queue_bytes_from(src, &emit(seg, src, OUR_IP));
        self.poll_all()
    }

    fn queue_bytes_from(&mut self, src: Ipv4Address, tcp: &[u8]) {
        let f = frames::ipv4(PEER_MAC, OUR_MAC, src, OUR_IP, Protocol::Tcp, tcp).unwrap();
        assert!(self.peer.send(f.as_slice()));
    }

    /// Sends `seg` from the peer and returns every segment we sent back.
    #[track_caller]
    pub fn send(&mut self, seg: &Seg) -> Vec<Seg> {
        let bytes = emit(seg, PEER_IP, OUR_IP);
        self.send_bytes(&bytes)
    }

    /// Polls at the current time; returns what we sent (all of it to
    /// the peer).
    #[track_caller]
    pub fn poll(&mut self) -> Vec<Seg> {
        let out = self.poll_all();
        out.into_iter()
            .map(|(dst, seg)| {
                assert_eq!(dst, PEER_IP);
                seg
            })
            .collect()
    }

    /// Polls at the current time; returns what we sent, with where to.
    #[track_caller]
    pub fn poll_all(&mut self) -> Vec<(Ipv4Address, Seg)> {
        self.iface
            .poll_with(self.now, &mut self.dev, &mut *self.stack);
        let mut out = Vec::new();
        while let Some(f) = self.peer.recv() {
            let eth = EthernetFrame::new_checked(f.as_slice()).unwrap();
            if eth.ethertype() == EtherType::Arp {
                // The ARP entry expired (long tests): answer, then let
                // the queued segments out.
                self.answer_arp();
                self.iface
                    .poll_with(self.now, &mut self.dev, &mut *self.stack);
                continue;
            }
            assert_eq!(eth.ethertype(), EtherType::Ipv4);
            let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
            let ip_repr = Ipv4Repr::parse(&ip).unwrap();
            assert_eq!(ip_repr.src_addr, OUR_IP);
            assert_eq!(ip_repr.protocol, Protocol::Tcp);
            let tcp = TcpPacket::new_checked(ip.payload()).unwrap();
            let dst = ip_repr.dst_addr;
            let repr = TcpRepr::parse(&tcp, OUR_IP, dst).expect("valid segment");
            out.push((dst, Seg::from_repr(&repr)));
        }
        out
    }

    fn answer_arp(&mut self) {
        let arp = ArpRepr {
            operation: ArpOperation::Reply,
            source_hardware_addr: PEER_MAC,
            source_protocol_addr: PEER_IP,
            target_hardware_addr: OUR_MAC,
            target_protocol_addr: OUR_IP,
        };
        let f = frames::arp(OUR_MAC, &arp).unwrap();
        assert!(self.peer.send(f.as_slice()));
    }

    /// Moves the clock to `ms` milliseconds after [`T0`] and polls.
    #[track_caller]
    pub fn at_ms(&mut self, ms: u64) -> Vec<Seg> {
        self.now = T0 + Duration::from_millis(ms);
        self.poll()
    }

    /// SYN in, SYN-ACK out (checked), ACK in, accepted. `peer_mss` goes
    /// in the SYN.
    #[track_caller]
    pub fn handshake_mss(&mut self, peer_mss: Option<u16>) -> Handle {
        let syn_ack = self.syn_ack_to(&Seg {
            mss: peer_mss,
            ..syn()
        });
        assert_eq!(syn_ack, self.our_syn_ack());
        let ack = Seg {
            ack: Some(self.ours(1)),
            ..send_templ()
        };
        assert_eq!(self.send(&ack), std::vec![]);
        let h = self.stack.accept().expect("an established connection");
        assert_eq!(self.stack.state(h), State::Established);
        h
    }

    /// [`H::handshake_mss`] with MSS 1460.
    #[track_caller]
    pub fn handshake(&mut self) -> Handle {
        self.handshake_mss(Some(1460))
    }

    /// A peer segment acknowledging our bytes up to `ours(off)`.
    pub fn ack_seg(&self, seq: u32, off: u32) -> Seg {
        Seg {
            seq,
            ack: Some(self.ours(off)),
            ..send_templ()
        }
    }

    /// Our segment without data at `ours(off)`, acknowledging `ack`.
    pub fn our_ack(&self, off: u32, ack: u32) -> Seg {
        Seg {
            seq: self.ours(off),
            ack: Some(ack),
            ..self.recv_templ()
        }
    }

    /// The peer's FIN at `seq`, acknowledging our bytes up to `ours(off)`.
    pub fn fin_seg(&self, seq: u32, off: u32) -> Seg {
        Seg {
            control: TcpControl::Fin,
            ..self.ack_seg(seq, off)
        }
    }

    /// A new test stack with one connection that [`H::handshake`]
    /// established.
    #[track_caller]
    pub fn established() -> (Self, Handle) {
        let mut h = Self::new();
        let handle = h.handshake();
        (h, handle)
    }

    /// [`H::established`], then our close and the poll that sends our FIN:
    /// FIN-WAIT-1, nothing from the peer yet.
    #[track_caller]
    pub fn fin_wait_1() -> (Self, Handle) {
        let (mut h, handle) = Self::established();
        h.stack.close(handle);
        h.poll();
        (h, handle)
    }
}

impl Seg {
    pub fn from_repr(r: &TcpRepr) -> Seg {
        Seg {
            src_port: r.src_port,
            dst_port: r.dst_port,
            control: r.control,
            psh: r.push,
            seq: r.seq_number.0,
            ack: r.ack_number.map(|a| a.0),
            window: r.window_len,
            mss: r.max_seg_size,
            sack_permitted: r.sack_permitted,
            wscale: r.window_scale,
            ts: r.timestamps.map(|t| (t.tsval, t.tsecr)),
            sack: r
                .sack_blocks
                .iter()
                .flatten()
                .map(|(l, r)| (l.0, r.0))
                .collect(),
            payload: r.payload.to_vec(),
        }
    }
}

/// The bytes of `seg` from `src` to `dst`, checksum included.
pub(crate) fn emit(seg: &Seg, src: Ipv4Address, dst: Ipv4Address) -> Vec<u8> {
    assert!(seg.sack.len() <= MAX_SACK_BLOCKS);
    let mut sack_blocks = [None; MAX_SACK_BLOCKS];
    for (slot, &(l, r)) in sack_blocks.iter_mut().zip(&seg.sack) {
        *slot = Some((SeqNumber(l), SeqNumber(r)));
    }
    let repr = TcpRepr {
        src_port: seg.src_port,
        dst_port: seg.dst_port,
        control: seg.control,
        push: seg.psh,
        seq_number: SeqNumber(seg.seq),
        ack_number: seg.ack.map(SeqNumber),
        window_len: seg.window,
        max_seg_size: seg.mss,
        window_scale: seg.wscale,
        sack_permitted: seg.sack_permitted,
        timestamps: seg
            .ts
            .map(|(tsval, tsecr)| crate::wire::TcpTimestamps { tsval, tsecr }),
        sack_blocks,
        payload: &seg.payload,
    };
    let mut b = std::vec![0u8; repr.buffer_len()];
    repr.emit(&mut TcpPacket::new_unchecked(&mut b[..]), src, dst);
    b
}

/// `n` bytes of a recognisable pattern.
pub(crate) fn pattern(n: usize, salt: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(salt))
        .collect()
}
