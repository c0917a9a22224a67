//! The network interface: one Ethernet port with one IPv4 address.
//!
//! # Driving it
//!
//! ```text
//! let mut iface = Interface::new(Config::new(EthernetAddress(dev.mac())));
//! loop {
//!     iface.poll(now(), &mut dev);          // or poll_with(.., &mut tcp)
//!     let next = iface.poll_at(now());      // min with the TCP sockets' own
//!     sleep_until_irq_or(next);
//! }
//! ```
//!
//! [`Interface::poll`] receives every waiting frame (ARP answered and
//! learned, IPv4 checked, ICMP echo answered), then sends what is due:
//! packets whose next hop got resolved, ARP retries, give-ups.
//! [`Interface::poll_at`] says when it next has timed work.
//!
//! # The TCP hook
//!
//! IPv4 datagrams for any protocol but ICMP go to an [`IpHandler`] passed
//! to [`Interface::poll_with`]; the TCP socket set will implement it for
//! protocol 6. The handler gets the parsed header, the payload, and a
//! [`Sender`] to answer through (same routing, ARP and counters as
//! [`Interface::send_ipv4`]); at the end of each poll its
//! [`IpHandler::dispatch`] runs with a `Sender` too, for retransmissions.
//! [`Interface::poll`] uses [`NoHandler`], which takes nothing, so such
//! datagrams are counted as `drop_unknown_protocol`.

mod arp_cache;
mod counters;
#[cfg(test)]
mod tests;

pub use counters::Counters;

use arp_cache::{ArpCache, Pending, PendingTable};
use counters::{add, bump};

use crate::device::{Device, TxOffload};
use crate::limits::{
    ARP_MAX_REQUESTS, ARP_PENDING_ADDRS, ARP_RETRY_INTERVAL, DEFAULT_TTL, MAX_IP_PACKET_LEN,
    MAX_LENT_FRAME_LEN, MAX_TSO_IP_PACKET_LEN, RX_FRAMES_PER_POLL,
};
use crate::time::Instant;
use crate::wire::{self, checksum, ethernet, ipv4};
use crate::wire::{ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress};
use crate::wire::{EthernetFrame, EthernetRepr, Icmpv4Packet, Icmpv4Repr, Ipv4Address};
use crate::wire::{Ipv4Packet, Ipv4Repr, Protocol};

/// QEMU user networking's guest address.
pub const DEFAULT_IP: Ipv4Address = Ipv4Address::new(10, 0, 2, 15);
/// QEMU user networking's prefix length (10.0.2.0/24).
pub const DEFAULT_PREFIX_LEN: u8 = 24;
/// QEMU user networking's gateway.
pub const DEFAULT_GATEWAY: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);

/// The interface's addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Our MAC (normally the device's [`Device::mac`]).
    pub mac: EthernetAddress,
    /// Our IPv4 address.
    pub ip: Ipv4Address,
    /// Subnet prefix length (0..=32).
    pub prefix_len: u8,
    /// Where off-link packets go; `None` for an isolated subnet.
    pub gateway: Option<Ipv4Address>,
    /// TTL of every packet sent.
    pub ttl: u8,
}

impl Config {
    /// QEMU user networking: [`DEFAULT_IP`]/[`DEFAULT_PREFIX_LEN`] via
    /// [`DEFAULT_GATEWAY`], TTL [`DEFAULT_TTL`]. Change fields to override.
    pub const fn new(mac: EthernetAddress) -> Config {
        Config {
            mac,
            ip: DEFAULT_IP,
            prefix_len: DEFAULT_PREFIX_LEN,
            gateway: Some(DEFAULT_GATEWAY),
            ttl: DEFAULT_TTL,
        }
    }

    /// Whether `addr` is on our subnet.
    pub fn in_subnet(&self, addr: Ipv4Address) -> bool {
        let mask = ipv4::prefix_mask(self.prefix_len);
        addr.to_u32() & mask == self.ip.to_u32() & mask
    }

    /// The subnet's directed broadcast address (10.0.2.255 by default).
    pub fn subnet_broadcast(&self) -> Ipv4Address {
        Ipv4Address::from_u32(self.ip.to_u32() | !ipv4::prefix_mask(self.prefix_len))
    }

    /// Whether an IPv4 packet to `dst` is ours to take: our address, the
    /// limited broadcast, or the subnet broadcast.
    pub fn accepts(&self, dst: Ipv4Address) -> bool {
        dst == self.ip || dst.is_broadcast() || self.is_broadcast(dst)
    }

    fn is_broadcast(&self, dst: Ipv4Address) -> bool {
        dst.is_broadcast() || (self.prefix_len < 31 && dst == self.subnet_broadcast())
    }
}

/// Why an outbound packet was not sent or queued. Each is also counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// Larger than the MTU (`tx_too_large`).
    TooLarge,
    /// Off-link with no gateway, or a multicast/unspecified destination
    /// (`tx_no_route`).
    NoRoute,
    /// The device had no transmit buffer (`tx_device_busy`); try again.
    DeviceBusy,
    /// The next hop is unresolved and its queue is full (`drop_unresolved`).
    QueueFull,
    /// The next hop is unresolved and [`ARP_PENDING_ADDRS`] others already
    /// are (`drop_unresolved`).
    PendingTableFull,
}

/// What happened to a packet that was accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// Handed to the device.
    Transmitted,
    /// Queued until ARP resolves the next hop.
    AwaitingArp,
}

/// Upper layers (TCP, later UDP) plugged into [`Interface::poll_with`].
pub trait IpHandler {
    /// An accepted, unfragmented IPv4 datagram with a protocol other than
    /// ICMP; `payload` is exactly the IPv4 payload (no options, no
    /// padding). Returns whether it was taken; `false` counts it as
    /// `drop_unknown_protocol`.
    fn receive<D: Device>(&mut self, ip: &Ipv4Repr, payload: &[u8], tx: &mut Sender<'_, D>)
        -> bool;

    /// Runs once at the end of every poll to send whatever is due.
    /// Returns whether it sent anything.
    fn dispatch<D: Device>(&mut self, tx: &mut Sender<'_, D>) -> bool {
        let _ = tx;
        false
    }
}

/// The handler of [`Interface::poll`]: takes nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoHandler;

impl IpHandler for NoHandler {
    fn receive<D: Device>(&mut self, _: &Ipv4Repr, _: &[u8], _: &mut Sender<'_, D>) -> bool {
        false
    }
}

/// Lets an [`IpHandler`] send while the interface is polling.
pub struct Sender<'a, D: Device> {
    iface: &'a mut Interface,
    device: &'a mut D,
    now: Instant,
    checksum_ok: bool,
}

impl<D: Device> Sender<'_, D> {
    /// The time of this poll.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The interface's addresses.
    pub fn config(&self) -> &Config {
        &self.iface.config
    }

    /// Whether the device vouched for the transport checksum of the
    /// datagram being handled ([`crate::device::RxInfo::checksum_ok`]):
    /// [`IpHandler::receive`] need not verify it. `false` at dispatch.
    pub fn checksum_ok(&self) -> bool {
        self.checksum_ok
    }

    /// As [`Interface::send_ipv4`].
    pub fn send_ipv4(
        &mut self,
        dst: Ipv4Address,
        protocol: Protocol,
        payload_len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<Sent, SendError> {
        self.iface
            .send_ipv4(self.now, self.device, dst, protocol, payload_len, fill)
    }

    /// [`Sender::send_ipv4`] of a payload that leaves `offload` to the
    /// device: its Internet checksum, which `fill` leaves partial (the
    /// sum of the pseudo-header alone,
    /// `wire::tcp::Packet::fill_partial_checksum`), completed by the
    /// device or in software ([`Device::transmit_offloaded`]), and for a
    /// TCP segment past the MTU its cutting into segments (no larger than
    /// [`Sender::tcp_segmentation`] allows).
    pub fn send_ipv4_offloaded(
        &mut self,
        dst: Ipv4Address,
        protocol: Protocol,
        payload_len: usize,
        offload: Offload,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<Sent, SendError> {
        let (now, device) = (self.now, &mut *self.device);
        self.iface
            .send_ipv4_with(now, device, dst, protocol, payload_len, Some(offload), fill)
    }

    /// The largest IPv4 payload (TCP header included) the device cuts
    /// into segments for a datagram to `dst` now; `None` when it cuts
    /// nothing, or when `dst`'s next hop is not resolved (a segment held
    /// for ARP must fit the MTU).
    pub fn tcp_segmentation(&self, dst: Ipv4Address) -> Option<usize> {
        let frame = self.device.tcp_segmentation()?;
        let via = match self.iface.next_hop(dst)? {
            NextHop::Broadcast => return None,
            NextHop::Via(via) => via,
        };
        self.iface.cache.lookup(via, self.now)?;
        let ip = frame
            .checked_sub(ethernet::HEADER_LEN)?
            .min(MAX_TSO_IP_PACKET_LEN);
        ip.checked_sub(ipv4::HEADER_LEN)
    }
}

/// What an upper layer leaves to the device in a datagram sent with
/// [`Sender::send_ipv4_offloaded`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Offload {
    /// Where the payload's Internet checksum is, from the payload's start
    /// (16 for TCP): `fill` leaves it partial.
    pub checksum_at: usize,
    /// Cut the TCP segment into segments of this many payload bytes
    /// (VIRTIO_NET_F_HOST_TSO4); `None`: it fits the MTU as it is.
    pub segment_payload: Option<u16>,
}

/// Where a packet goes on the link.
enum NextHop {
    Broadcast,
    Via(Ipv4Address),
}

/// One Ethernet interface with its addresses, ARP state and counters.
/// All storage is inline (roughly `ARP_PENDING_ADDRS ×
/// ARP_PENDING_PER_ADDR × 1.5 KiB`); keep it in a `static` or on a large
/// stack.
pub struct Interface {
    config: Config,
    cache: ArpCache,
    pending: PendingTable,
    counters: Counters,
}

impl Interface {
    /// An interface with `config` and empty caches.
    pub fn new(config: Config) -> Interface {
        Interface {
            config,
            cache: ArpCache::new(),
            pending: [const { None }; ARP_PENDING_ADDRS],
            counters: Counters::default(),
        }
    }

    /// The addresses.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The MAC learned for `ip`, if still valid at `now`.
    pub fn arp_lookup(&self, ip: Ipv4Address, now: Instant) -> Option<EthernetAddress> {
        self.cache.lookup(ip, now)
    }

    /// ARP cache entries valid at `now`.
    pub fn arp_cache_len(&self, now: Instant) -> usize {
        self.cache.len(now)
    }

    /// Receives waiting frames (at most [`RX_FRAMES_PER_POLL`]) and sends
    /// what is due, with
    /// [`NoHandler`] for protocols other than ICMP. Returns whether any
    /// frame was received or sent.
    pub fn poll<D: Device>(&mut self, now: Instant, device: &mut D) -> bool {
        self.poll_with(now, device, &mut NoHandler)
    }

    /// [`Interface::poll`] with `handler` taking protocols other than ICMP
    /// (see the module doc). At most [`RX_FRAMES_PER_POLL`] frames are
    /// taken: poll again when it returns `true`, after serving.
    pub fn poll_with<D: Device, H: IpHandler>(
        &mut self,
        now: Instant,
        device: &mut D,
        handler: &mut H,
    ) -> bool {
        let mut activity = false;
        let tx_before = self.counters.tx_frames;
        let failures_before = self.counters.arp_failures;
        let mut budget = RX_FRAMES_PER_POLL;
        while budget > 0 {
            // The frame is lent in place, the device with it (for replies):
            // its payload is copied once, by TCP into a receive buffer.
            let taken = device.receive_lent(|device, frame, info| {
                bump(&mut self.counters.rx_frames);
                add(&mut self.counters.rx_bytes, info.len);
                if info.len > MAX_LENT_FRAME_LEN || frame.len() != info.len {
                    return bump(&mut self.counters.drop_oversized);
                }
                self.process_frame(now, device, handler, frame, info.checksum_ok);
            });
            if taken.is_none() {
                break;
            }
            budget -= 1;
            activity = true;
        }
        self.egress(now, device);
        let mut tx = Sender {
            iface: self,
            device,
            now,
            checksum_ok: false,
        };
        activity |= handler.dispatch(&mut tx);
        activity
            || self.counters.tx_frames != tx_before
            || self.counters.arp_failures != failures_before
    }

    /// When the interface next needs a poll for its own timers (ARP
    /// retries and give-ups, or queued packets the device refused): `now`
    /// if overdue, `None` if nothing is waiting. Upper layers' timers are
    /// theirs to add.
    pub fn poll_at(&self, now: Instant) -> Option<Instant> {
        self.pending
            .iter()
            .flatten()
            .map(|p| {
                if self.cache.lookup(p.addr, now).is_some() {
                    now
                } else {
                    p.next_request_at.max(now)
                }
            })
            .min()
    }

    /// Sends an IPv4 datagram of `payload_len` bytes to `dst`, with
    /// `fill` writing the payload into a buffer of exactly that length
    /// (`fill` is not called on error). Routes on-link inside the subnet
    /// and via the gateway outside it; queues it (up to
    /// `ARP_PENDING_PER_ADDR` per address) while ARP resolves the next hop.
    pub fn send_ipv4<D: Device>(
        &mut self,
        now: Instant,
        device: &mut D,
        dst: Ipv4Address,
        protocol: Protocol,
        payload_len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<Sent, SendError> {
        self.send_ipv4_with(now, device, dst, protocol, payload_len, None, fill)
    }

    /// [`Interface::send_ipv4`], leaving `offload` to the device (see
    /// [`Sender::send_ipv4_offloaded`]).
    #[allow(clippy::too_many_arguments)]
    fn send_ipv4_with<D: Device>(
        &mut self,
        now: Instant,
        device: &mut D,
        dst: Ipv4Address,
        protocol: Protocol,
        payload_len: usize,
        offload: Option<Offload>,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<Sent, SendError> {
        let ip_len = ipv4::HEADER_LEN + payload_len;
        let frame_len = EthernetFrame::<&[u8]>::buffer_len(ip_len);
        let segmented = offload.is_some_and(|o| o.segment_payload.is_some());
        let (max_ip, max_frame) = match segmented {
            false => (MAX_IP_PACKET_LEN, device.capabilities().max_frame_len),
            true => (
                MAX_TSO_IP_PACKET_LEN,
                device.tcp_segmentation().unwrap_or(0),
            ),
        };
        if ip_len > max_ip || frame_len > max_frame {
            bump(&mut self.counters.tx_too_large);
            return Err(SendError::TooLarge);
        }
        let hop = match self.next_hop(dst) {
            Some(hop) => hop,
            None => {
                bump(&mut self.counters.tx_no_route);
                return Err(SendError::NoRoute);
            }
        };
        let repr = Ipv4Repr {
            src_addr: self.config.ip,
            dst_addr: dst,
            protocol,
            payload_len,
            ttl: self.config.ttl,
        };
        let write = |buf: &mut [u8]| {
            let mut packet = Ipv4Packet::new_unchecked(&mut *buf);
            repr.emit(&mut packet);
            fill(packet.payload_mut());
        };
        let (via, mac) = match hop {
            NextHop::Broadcast => (None, Some(EthernetAddress::BROADCAST)),
            NextHop::Via(ip) => (Some(ip), self.cache.lookup(ip, now)),
        };
        // Where the checksum to complete sits, from the IP header on.
        let partial = offload.map(|o| (ipv4::HEADER_LEN, o.checksum_at));
        match (via, mac) {
            (_, Some(mac)) => {
                let frame = |(start, at)| (ethernet::HEADER_LEN + start, at);
                let offload = TxOffload {
                    checksum: partial.map(frame),
                    segment_payload: offload.and_then(|o| o.segment_payload),
                };
                let r = transmit(
                    &mut self.counters,
                    device,
                    (self.config.mac, mac, EtherType::Ipv4),
                    ip_len,
                    offload,
                    write,
                );
                r.map(|()| Sent::Transmitted)
            }
            (Some(_), None) if segmented => {
                // Only the MTU's worth is held for ARP (and
                // `Sender::tcp_segmentation` says so beforehand).
                bump(&mut self.counters.tx_too_large);
                Err(SendError::TooLarge)
            }
            (Some(via), None) => {
                // Held for ARP: the checksum is completed now, in software.
                let write = |buf: &mut [u8]| {
                    write(buf);
                    if let Some((start, at)) = partial {
                        checksum::complete_partial(buf, start, at);
                    }
                };
                self.enqueue(now, device, via, ip_len, write)
            }
            (None, None) => unreachable_route(&mut self.counters),
        }
    }

    fn next_hop(&self, dst: Ipv4Address) -> Option<NextHop> {
        if self.config.is_broadcast(dst) {
            Some(NextHop::Broadcast)
        } else if dst.is_multicast() || dst.is_unspecified() || dst == self.config.ip {
            None
        } else if self.config.in_subnet(dst) {
            Some(NextHop::Via(dst))
        } else {
            self.config.gateway.map(NextHop::Via)
        }
    }

    /// Queues a packet for `via`, starting resolution if it is new.
    fn enqueue<D: Device>(
        &mut self,
        now: Instant,
        device: &mut D,
        via: Ipv4Address,
        ip_len: usize,
        write: impl FnOnce(&mut [u8]),
    ) -> Result<Sent, SendError> {
        let index = match self
            .pending
            .iter()
            .position(|p| p.as_ref().is_some_and(|p| p.addr == via))
        {
            Some(i) => i,
            None => match self.pending.iter().position(Option::is_none) {
                Some(i) => {
                    self.pending[i] = Some(Pending::new(via, now));
                    i
                }
                None => {
                    bump(&mut self.counters.drop_unresolved);
                    return Err(SendError::PendingTableFull);
                }
            },
        };
        let Some(pending) = self.pending[index].as_mut() else {
            return unreachable_route(&mut self.counters);
        };
        if !pending.push(ip_len, write) {
            bump(&mut self.counters.drop_unresolved);
            return Err(SendError::QueueFull);
        }
        if pending.requests_sent == 0 {
            // New: ask right away rather than waiting for the next poll.
            request(&self.config, &mut self.counters, device, pending, now);
        }
        Ok(Sent::AwaitingArp)
    }

    /// Flushes queued packets whose next hop is now known, sends ARP
    /// retries that are due, and gives up on addresses that never
    /// answered.
    fn egress<D: Device>(&mut self, now: Instant, device: &mut D) {
        for slot in self.pending.iter_mut() {
            let Some(pending) = slot.as_mut() else {
                continue;
            };
            if let Some(mac) = self.cache.lookup(pending.addr, now) {
                while let Some(packet) = pending.front() {
                    let sent = transmit(
                        &mut self.counters,
                        device,
                        (self.config.mac, mac, EtherType::Ipv4),
                        packet.len(),
                        TxOffload::default(),
                        |buf| buf.copy_from_slice(packet),
                    );
                    if sent.is_err() {
                        break;
                    }
                    pending.pop_front();
                }
                if pending.queued() == 0 {
                    *slot = None;
                }
            } else if now >= pending.next_request_at {
                if pending.requests_sent >= ARP_MAX_REQUESTS {
                    bump(&mut self.counters.arp_failures);
                    add(&mut self.counters.drop_unresolved, pending.queued());
                    *slot = None;
                } else {
                    request(&self.config, &mut self.counters, device, pending, now);
                }
            }
        }
    }

    /// One received frame; `checksum_ok`: the device vouched for its
    /// transport checksum.
    fn process_frame<D: Device, H: IpHandler>(
        &mut self,
        now: Instant,
        device: &mut D,
        handler: &mut H,
        bytes: &[u8],
        checksum_ok: bool,
    ) {
        let frame = match EthernetFrame::new_checked(bytes) {
            Ok(frame) => frame,
            Err(e) => return self.count_error(e),
        };
        let dst = frame.dst_addr();
        if dst != self.config.mac && !dst.is_broadcast() {
            return bump(&mut self.counters.drop_not_for_us);
        }
        match frame.ethertype() {
            EtherType::Arp => self.process_arp(now, device, frame.payload()),
            EtherType::Ipv4 => {
                self.process_ipv4(now, device, handler, frame.payload(), checksum_ok)
            }
            EtherType::Unknown(_) => bump(&mut self.counters.drop_unknown_ethertype),
        }
    }

    fn process_arp<D: Device>(&mut self, now: Instant, device: &mut D, bytes: &[u8]) {
        let repr = match ArpPacket::new_checked(bytes).and_then(|p| ArpRepr::parse(&p)) {
            Ok(repr) => repr,
            Err(e) => return self.count_error(e),
        };
        let (sha, spa) = (repr.source_hardware_addr, repr.source_protocol_addr);
        if !sha.is_unicast() || sha == self.config.mac || spa.is_broadcast() || spa.is_multicast() {
            return bump(&mut self.counters.drop_malformed);
        }
        // RFC 826: refresh what we already know about the sender, whoever
        // the packet is for.
        let known = self.cache.refresh(spa, sha, now);
        if repr.target_protocol_addr != self.config.ip {
            // Gratuitous ARP and requests for other hosts end here.
            return bump(&mut self.counters.drop_not_for_us);
        }
        if !known && !spa.is_unspecified() && self.config.in_subnet(spa) {
            self.cache.insert(spa, sha, now);
        }
        if repr.operation == ArpOperation::Request {
            let reply = ArpRepr {
                operation: ArpOperation::Reply,
                source_hardware_addr: self.config.mac,
                source_protocol_addr: self.config.ip,
                target_hardware_addr: sha,
                target_protocol_addr: spa,
            };
            let sent = transmit(
                &mut self.counters,
                device,
                (self.config.mac, sha, EtherType::Arp),
                reply.buffer_len(),
                TxOffload::default(),
                |buf| reply.emit(&mut ArpPacket::new_unchecked(buf)),
            );
            if sent.is_ok() {
                bump(&mut self.counters.arp_replies_sent);
            }
        }
    }

    fn process_ipv4<D: Device, H: IpHandler>(
        &mut self,
        now: Instant,
        device: &mut D,
        handler: &mut H,
        bytes: &[u8],
        checksum_ok: bool,
    ) {
        let packet = match Ipv4Packet::new_checked(bytes) {
            Ok(p) => p,
            Err(e) => return self.count_error(e),
        };
        let repr = match Ipv4Repr::parse(&packet) {
            Ok(repr) => repr,
            Err(e) => return self.count_error(e),
        };
        // RFC 1122 §3.2.1.7: a host does not drop for a low TTL (it does not
        // forward), so TTL is not checked here.
        if repr.src_addr.is_broadcast()
            || repr.src_addr.is_multicast()
            || self.config.is_broadcast(repr.src_addr)
        {
            return bump(&mut self.counters.drop_malformed);
        }
        if !self.config.accepts(repr.dst_addr) {
            return bump(&mut self.counters.drop_not_for_us);
        }
        let payload = packet.payload();
        if repr.protocol == Protocol::Icmp {
            let broadcast = repr.dst_addr != self.config.ip;
            return self.process_icmp(now, device, &repr, payload, broadcast);
        }
        let mut tx = Sender {
            iface: self,
            device,
            now,
            checksum_ok,
        };
        if !handler.receive(&repr, payload, &mut tx) {
            bump(&mut self.counters.drop_unknown_protocol);
        }
    }

    fn process_icmp<D: Device>(
        &mut self,
        now: Instant,
        device: &mut D,
        ip: &Ipv4Repr,
        bytes: &[u8],
        broadcast: bool,
    ) {
        let packet = match Icmpv4Packet::new_checked(bytes) {
            Ok(p) => p,
            Err(e) => return self.count_error(e),
        };
        match Icmpv4Repr::parse(&packet) {
            // RFC 1122 §3.2.2.6: echo to a broadcast address may be
            // silently discarded; doing so keeps us out of smurf attacks.
            Ok(Icmpv4Repr::EchoRequest {
                ident,
                seq_no,
                data,
            }) if !broadcast => {
                let reply = Icmpv4Repr::EchoReply {
                    ident,
                    seq_no,
                    data,
                };
                let sent = self.send_ipv4(
                    now,
                    device,
                    ip.src_addr,
                    Protocol::Icmp,
                    reply.buffer_len(),
                    |buf| reply.emit(&mut Icmpv4Packet::new_unchecked(buf)),
                );
                if sent.is_ok() {
                    bump(&mut self.counters.icmp_echo_replies);
                }
            }
            Ok(_) | Err(wire::Error::Unsupported) => bump(&mut self.counters.icmp_ignored),
            Err(e) => self.count_error(e),
        }
    }

    fn count_error(&mut self, e: wire::Error) {
        let c = &mut self.counters;
        bump(match e {
            wire::Error::Truncated => &mut c.drop_truncated,
            wire::Error::BadChecksum => &mut c.drop_bad_checksum,
            wire::Error::Fragmented => &mut c.drop_fragment,
            wire::Error::BadLength | wire::Error::BadVersion | wire::Error::Unsupported => {
                &mut c.drop_malformed
            }
        });
    }
}

/// Sends an ARP request for `pending`'s address and schedules the next.
fn request<D: Device>(
    config: &Config,
    counters: &mut Counters,
    device: &mut D,
    pending: &mut Pending,
    now: Instant,
) {
    let repr = ArpRepr {
        operation: ArpOperation::Request,
        source_hardware_addr: config.mac,
        source_protocol_addr: config.ip,
        target_hardware_addr: EthernetAddress::UNSPECIFIED,
        target_protocol_addr: pending.addr,
    };
    let sent = transmit(
        counters,
        device,
        (config.mac, EthernetAddress::BROADCAST, EtherType::Arp),
        repr.buffer_len(),
        TxOffload::default(),
        |buf| repr.emit(&mut ArpPacket::new_unchecked(buf)),
    );
    if sent.is_ok() {
        bump(&mut counters.arp_requests_sent);
        pending.requests_sent += 1;
        pending.next_request_at = now + ARP_RETRY_INTERVAL;
    }
    // If the device was busy, `next_request_at` stays due and the next
    // poll tries again.
}

/// Shortest Ethernet frame without FCS (IEEE 802.3): shorter frames (an
/// ARP packet is 42 bytes) are padded with zeros, as real NICs require.
pub const MIN_FRAME_LEN: usize = 60;

/// Sends one frame: the Ethernet header (source, destination, type),
/// then `write` fills the `payload_len` bytes after it; padding up to
/// [`MIN_FRAME_LEN`] is zeroed. `offload` goes to the device.
fn transmit<D: Device>(
    counters: &mut Counters,
    device: &mut D,
    (src, dst, ethertype): (EthernetAddress, EthernetAddress, EtherType),
    payload_len: usize,
    offload: TxOffload,
    write: impl FnOnce(&mut [u8]),
) -> Result<(), SendError> {
    let len = EthernetFrame::<&[u8]>::buffer_len(payload_len).max(MIN_FRAME_LEN);
    let header = EthernetRepr {
        src_addr: src,
        dst_addr: dst,
        ethertype,
    };
    let sent = device.transmit_offloaded(len, offload, |buf| {
        let mut frame = EthernetFrame::new_unchecked(buf);
        header.emit(&mut frame);
        let (payload, padding) = frame.payload_mut().split_at_mut(payload_len);
        write(payload);
        padding.fill(0);
    });
    match sent {
        Some(()) => {
            bump(&mut counters.tx_frames);
            add(&mut counters.tx_bytes, len);
            Ok(())
        }
        None => {
            bump(&mut counters.tx_device_busy);
            Err(SendError::DeviceBusy)
        }
    }
}

/// A route that cannot happen (broadcast is always resolved); counted as
/// no route rather than panicking.
fn unreachable_route(counters: &mut Counters) -> Result<Sent, SendError> {
    bump(&mut counters.tx_no_route);
    Err(SendError::NoRoute)
}
