//! Frames a test peer puts on a [`Link`](super::Link): an Ethernet II
//! header (IEEE 802.3 clause 3.2.6 type field) around an ARP packet (RFC
//! 826) or an IPv4 packet (RFC 791, TTL 64, checksum filled in) with a
//! payload. Unpadded: a test sends exactly the bytes it built. `None` when
//! the frame would not fit [`MAX_FRAME_LEN`].

use super::Frame;
use crate::limits::MAX_FRAME_LEN;
use crate::wire::{ethernet, ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetFrame};
use crate::wire::{EthernetRepr, Ipv4Address, Ipv4Packet, Ipv4Repr, Protocol};

/// An Ethernet frame from `src` to `dst` whose `payload_len` bytes after
/// the header `fill` writes.
pub fn ethernet(
    src: EthernetAddress,
    dst: EthernetAddress,
    ethertype: EtherType,
    payload_len: usize,
    fill: impl FnOnce(&mut [u8]),
) -> Option<Frame> {
    let len = ethernet::HEADER_LEN.checked_add(payload_len)?;
    if len > MAX_FRAME_LEN {
        return None;
    }
    let mut f = Frame::empty();
    f.len = len;
    let mut frame = EthernetFrame::new_unchecked(f.as_mut_slice());
    EthernetRepr {
        src_addr: src,
        dst_addr: dst,
        ethertype,
    }
    .emit(&mut frame);
    fill(frame.payload_mut());
    Some(f)
}

/// `arp` in a frame to `dst`, from its sender's hardware address.
pub fn arp(dst: EthernetAddress, arp: &ArpRepr) -> Option<Frame> {
    let src = arp.source_hardware_addr;
    let fill = |b: &mut [u8]| arp.emit(&mut ArpPacket::new_unchecked(b));
    ethernet(src, dst, EtherType::Arp, arp.buffer_len(), fill)
}

/// An IPv4 packet from `src` to `dst` carrying `payload`, in a frame from
/// `eth_src` to `eth_dst`.
pub fn ipv4(
    eth_src: EthernetAddress,
    eth_dst: EthernetAddress,
    src: Ipv4Address,
    dst: Ipv4Address,
    protocol: Protocol,
    payload: &[u8],
) -> Option<Frame> {
    let ip = Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        protocol,
        payload_len: payload.len(),
        ttl: 64,
    };
    ethernet(eth_src, eth_dst, EtherType::Ipv4, ip.buffer_len(), |b| {
        let mut packet = Ipv4Packet::new_unchecked(b);
        ip.emit(&mut packet);
        packet.payload_mut().copy_from_slice(payload);
    })
}
