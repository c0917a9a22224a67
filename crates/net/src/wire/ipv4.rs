//! IPv4 (RFC 791) headers. Options are skipped, never interpreted;
//! fragments are recognised and refused (no reassembly).

use core::fmt;

use super::checksum;
use super::{buffer_view, number_enum, read_u16, write_u16, Error};

/// Byte ranges of the fixed IPv4 header.
pub mod field {
    use crate::wire::Field;

    /// Version (high nibble) and header length in 32-bit words (low nibble).
    pub const VER_IHL: usize = 0;
    /// DSCP (high six bits) and ECN (low two bits).
    pub const DSCP_ECN: usize = 1;
    /// Total length, header included.
    pub const LENGTH: Field = 2..4;
    /// Identification.
    pub const IDENT: Field = 4..6;
    /// Flags (top three bits) and fragment offset in 8-byte units.
    pub const FLG_OFF: Field = 6..8;
    /// Time to live.
    pub const TTL: usize = 8;
    /// Upper-layer protocol.
    pub const PROTOCOL: usize = 9;
    /// Header checksum.
    pub const CHECKSUM: Field = 10..12;
    /// Source address.
    pub const SRC_ADDR: Field = 12..16;
    /// Destination address.
    pub const DST_ADDR: Field = 16..20;
}

/// Length of the header without options.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

/// Largest total length the 16-bit field can state.
pub const MAX_PACKET_LEN: usize = u16::MAX as usize;

const FLAG_DONT_FRAG: u16 = 0x4000;
const FLAG_MORE_FRAGS: u16 = 0x2000;
const OFFSET_MASK: u16 = 0x1fff;

/// An IPv4 address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(pub [u8; 4]);

impl Address {
    /// 255.255.255.255, the limited broadcast.
    pub const BROADCAST: Address = Address([255; 4]);
    /// 0.0.0.0.
    pub const UNSPECIFIED: Address = Address([0; 4]);

    /// `a.b.c.d`.
    pub const fn new(a: u8, b: u8, c: u8, d: u8) -> Address {
        Address([a, b, c, d])
    }

    /// The address as a host-order integer.
    pub const fn to_u32(self) -> u32 {
        u32::from_be_bytes(self.0)
    }

    /// The address for a host-order integer.
    pub const fn from_u32(v: u32) -> Address {
        Address(v.to_be_bytes())
    }

    /// 255.255.255.255.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// 224.0.0.0/4.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0xf0 == 0xe0
    }

    /// 0.0.0.0.
    pub fn is_unspecified(&self) -> bool {
        *self == Self::UNSPECIFIED
    }

    /// Reads an address from a 4-byte slice.
    pub(crate) fn from_slice(b: &[u8]) -> Address {
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Address(a)
    }
}

/// The netmask of a prefix length as an integer (`prefix_len` above 32
/// counts as 32).
pub const fn prefix_mask(prefix_len: u8) -> u32 {
    if prefix_len == 0 {
        0
    } else if prefix_len >= 32 {
        u32::MAX
    } else {
        u32::MAX << (32 - prefix_len)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

number_enum! {
    /// Upper-layer protocol numbers this stack knows.
    pub enum Protocol(u8) {
        /// ICMP (1).
        Icmp = 1,
        /// TCP (6).
        Tcp = 6,
        /// UDP (17).
        Udp = 17,
    }
}

buffer_view! {
    /// A view of an IPv4 packet in a buffer.
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks every length: `Truncated` if the buffer is shorter than the
    /// fixed header, the stated header, or the stated total length;
    /// `BadLength` if the header length is below 20 or the total length
    /// below the header length. A buffer longer than the total length is
    /// fine (Ethernet pads short frames); [`Packet::payload`] stops at the
    /// total length.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let header_len = usize::from(self.header_len());
        let total_len = usize::from(self.total_len());
        if header_len < HEADER_LEN || total_len < header_len {
            Err(Error::BadLength)
        } else if len < total_len {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// Version (4 for IPv4).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Header length in bytes, options included.
    pub fn header_len(&self) -> u8 {
        (self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    /// Differentiated services code point.
    pub fn dscp(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN] >> 2
    }

    /// Explicit congestion notification bits.
    pub fn ecn(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN] & 0x03
    }

    /// Total length in bytes.
    pub fn total_len(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::LENGTH)
    }

    /// Identification.
    pub fn ident(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::IDENT)
    }

    /// Don't-fragment flag.
    pub fn dont_frag(&self) -> bool {
        read_u16(self.buffer.as_ref(), field::FLG_OFF) & FLAG_DONT_FRAG != 0
    }

    /// More-fragments flag.
    pub fn more_frags(&self) -> bool {
        read_u16(self.buffer.as_ref(), field::FLG_OFF) & FLAG_MORE_FRAGS != 0
    }

    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        (read_u16(self.buffer.as_ref(), field::FLG_OFF) & OFFSET_MASK) << 3
    }

    /// Whether this is a fragment of a larger datagram.
    pub fn is_fragment(&self) -> bool {
        self.more_frags() || self.frag_offset() != 0
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// Upper-layer protocol.
    pub fn protocol(&self) -> Protocol {
        Protocol::from(self.buffer.as_ref()[field::PROTOCOL])
    }

    /// Header checksum field.
    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Source address.
    pub fn src_addr(&self) -> Address {
        Address::from_slice(&self.buffer.as_ref()[field::SRC_ADDR])
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Address {
        Address::from_slice(&self.buffer.as_ref()[field::DST_ADDR])
    }

    /// Whether the header checksum verifies (options included).
    pub fn verify_checksum(&self) -> bool {
        checksum::verify(&self.buffer.as_ref()[..usize::from(self.header_len())])
    }

    /// The payload: after the header and options, up to the total length
    /// (trailing Ethernet padding excluded).
    pub fn payload(&self) -> &[u8] {
        let range = usize::from(self.header_len())..usize::from(self.total_len());
        &self.buffer.as_ref()[range]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets version 4... or any other version.
    pub fn set_version(&mut self, v: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0x0f) | (v << 4);
    }

    /// Sets the header length in bytes (a multiple of 4). Can break the
    /// `check_len` guarantee.
    pub fn set_header_len(&mut self, len: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0xf0) | ((len / 4) & 0x0f);
    }

    /// Sets DSCP and ECN.
    pub fn set_dscp_ecn(&mut self, dscp: u8, ecn: u8) {
        self.buffer.as_mut()[field::DSCP_ECN] = (dscp << 2) | (ecn & 0x03);
    }

    /// Sets the total length. Can break the `check_len` guarantee.
    pub fn set_total_len(&mut self, len: u16) {
        write_u16(self.buffer.as_mut(), field::LENGTH, len);
    }

    /// Sets the identification.
    pub fn set_ident(&mut self, v: u16) {
        write_u16(self.buffer.as_mut(), field::IDENT, v);
    }

    /// Sets the flags and the fragment offset (in bytes, a multiple of 8).
    pub fn set_flags_and_offset(&mut self, dont_frag: bool, more_frags: bool, offset: u16) {
        let mut v = (offset >> 3) & OFFSET_MASK;
        if dont_frag {
            v |= FLAG_DONT_FRAG;
        }
        if more_frags {
            v |= FLAG_MORE_FRAGS;
        }
        write_u16(self.buffer.as_mut(), field::FLG_OFF, v);
    }

    /// Sets the time to live.
    pub fn set_ttl(&mut self, v: u8) {
        self.buffer.as_mut()[field::TTL] = v;
    }

    /// Sets the protocol.
    pub fn set_protocol(&mut self, v: Protocol) {
        self.buffer.as_mut()[field::PROTOCOL] = v.into();
    }

    /// Sets the checksum field as is.
    pub fn set_checksum(&mut self, v: u16) {
        write_u16(self.buffer.as_mut(), field::CHECKSUM, v);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, a: Address) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&a.0);
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, a: Address) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&a.0);
    }

    /// Computes and stores the header checksum over the stated header.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let header_len = usize::from(self.header_len());
        let c = checksum::checksum(&self.buffer.as_ref()[..header_len]);
        self.set_checksum(c);
    }

    /// The payload, writable (header length to total length).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = usize::from(self.header_len())..usize::from(self.total_len());
        &mut self.buffer.as_mut()[range]
    }
}

/// A whole, unfragmented IPv4 datagram's header as this stack sends it:
/// no options, DSCP/ECN zero, DF set, identification zero (RFC 6864 allows
/// that for atomic datagrams).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr {
    /// Source address.
    pub src_addr: Address,
    /// Destination address.
    pub dst_addr: Address,
    /// Upper-layer protocol.
    pub protocol: Protocol,
    /// Payload length in bytes (at most 65515).
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
}

impl Repr {
    /// Reads a received header: `BadVersion` unless version 4,
    /// `BadChecksum` if the header checksum fails, `Fragmented` for any
    /// fragment. Options are skipped.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr, Error> {
        packet.check_len()?;
        if packet.version() != 4 {
            return Err(Error::BadVersion);
        }
        if !packet.verify_checksum() {
            return Err(Error::BadChecksum);
        }
        if packet.is_fragment() {
            return Err(Error::Fragmented);
        }
        Ok(Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len: usize::from(packet.total_len()) - usize::from(packet.header_len()),
            ttl: packet.ttl(),
        })
    }

    /// Header plus payload length.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Writes the header (checksum included) into a buffer of at least
    /// [`Repr::buffer_len`] bytes; the payload is the caller's to fill.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_version(4);
        packet.set_header_len(HEADER_LEN as u8);
        packet.set_dscp_ecn(0, 0);
        packet.set_total_len(self.buffer_len() as u16);
        packet.set_ident(0);
        packet.set_flags_and_offset(true, false, 0);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        packet.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The IPv4 header of a Linux `ping 10.0.2.15` from 10.0.2.2 (56-byte
    /// payload, so 84 bytes in all), followed by the ICMP bytes.
    static PING_HEADER: [u8; 20] = [
        0x45, 0x00, 0x00, 0x54, // v4, IHL 5, total 84
        0x4e, 0x3b, 0x40, 0x00, // ident, DF
        0x40, 0x01, 0xd4, 0x5d, // TTL 64, ICMP, checksum
        0x0a, 0x00, 0x02, 0x02, // 10.0.2.2
        0x0a, 0x00, 0x02, 0x0f, // 10.0.2.15
    ];

    fn ping_packet() -> [u8; 84] {
        let mut p = [0u8; 84];
        p[..20].copy_from_slice(&PING_HEADER);
        for (i, b) in p[20..].iter_mut().enumerate() {
            *b = i as u8;
        }
        p
    }

    fn ping_repr() -> Repr {
        Repr {
            src_addr: Address::new(10, 0, 2, 2),
            dst_addr: Address::new(10, 0, 2, 15),
            protocol: Protocol::Icmp,
            payload_len: 64,
            ttl: 64,
        }
    }

    #[test]
    fn deconstruct() {
        let bytes = ping_packet();
        let p = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!((p.version(), p.header_len(), p.total_len()), (4, 20, 84));
        assert_eq!((p.dscp(), p.ecn()), (0, 0));
        assert_eq!(p.ident(), 0x4e3b);
        assert!(p.dont_frag() && !p.more_frags() && !p.is_fragment());
        assert_eq!(p.frag_offset(), 0);
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), Protocol::Icmp);
        assert_eq!(p.checksum(), 0xd45d);
        assert!(p.verify_checksum());
        assert_eq!(p.payload().len(), 64);
        assert_eq!(Repr::parse(&p), Ok(ping_repr()));
    }

    #[test]
    fn construct() {
        // Emit what Linux sent, then set Linux's ident: same bytes.
        let mut whole = [0xa5u8; 84];
        let mut q = Packet::new_unchecked(&mut whole[..]);
        ping_repr().emit(&mut q);
        assert_eq!(q.ident(), 0, "we send ident 0 with DF");
        assert!(q.verify_checksum());
        q.set_ident(0x4e3b);
        q.fill_checksum();
        assert_eq!(whole[..20], PING_HEADER);
    }

    #[test]
    fn padding_and_options() {
        // Trailing Ethernet padding is not payload.
        let mut padded = [0u8; 100];
        padded[..84].copy_from_slice(&ping_packet());
        let p = Packet::new_checked(&padded[..]).unwrap();
        assert_eq!(p.payload().len(), 64);
        // A header with 4 bytes of options (NOP NOP NOP EOL).
        let mut opt = [0u8; 28];
        opt[..20].copy_from_slice(&PING_HEADER);
        let mut q = Packet::new_unchecked(&mut opt[..]);
        q.set_header_len(24);
        q.set_total_len(28);
        q.fill_checksum();
        opt[20..24].copy_from_slice(&[1, 1, 1, 0]);
        let mut q = Packet::new_unchecked(&mut opt[..]);
        q.fill_checksum();
        q.payload_mut().copy_from_slice(&[9, 8, 7, 6]);
        let p = Packet::new_checked(&opt[..]).unwrap();
        let repr = Repr::parse(&p).unwrap();
        assert_eq!(repr.payload_len, 4);
        assert_eq!(p.payload(), &[9, 8, 7, 6]);
    }

    #[test]
    fn truncated() {
        let bytes = ping_packet();
        assert_eq!(Packet::new_checked(&bytes[..19]), Err(Error::Truncated));
        assert_eq!(Packet::new_checked(&bytes[..83]), Err(Error::Truncated));
        assert!(Packet::new_checked(&bytes[..84]).is_ok());
    }

    #[test]
    fn impossible_lengths() {
        let mut bytes = ping_packet();
        bytes[0] = 0x44; // IHL 4 = 16 bytes
        assert_eq!(Packet::new_checked(&bytes[..]), Err(Error::BadLength));
        let mut bytes = ping_packet();
        bytes[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert_eq!(Packet::new_checked(&bytes[..]), Err(Error::BadLength));
        let mut bytes = ping_packet();
        bytes[0] = 0x4f; // 60-byte header...
        bytes[2..4].copy_from_slice(&40u16.to_be_bytes()); // ...in 40 bytes
        assert_eq!(Packet::new_checked(&bytes[..]), Err(Error::BadLength));
    }

    #[test]
    fn bad_checksum_version_and_fragments() {
        let mut bytes = ping_packet();
        bytes[8] = 63; // TTL changed, checksum not
        let p = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(Repr::parse(&p), Err(Error::BadChecksum));

        let mut bytes = ping_packet();
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_version(6);
        p.fill_checksum();
        assert_eq!(Repr::parse(&p), Err(Error::BadVersion));

        for (mf, off) in [(true, 0), (false, 8), (true, 1480)] {
            let mut bytes = ping_packet();
            let mut p = Packet::new_unchecked(&mut bytes[..]);
            p.set_flags_and_offset(false, mf, off);
            p.fill_checksum();
            assert!(p.is_fragment());
            assert_eq!(p.frag_offset(), off);
            assert_eq!(Repr::parse(&p), Err(Error::Fragmented));
        }
    }

    #[test]
    fn address_helpers() {
        assert_eq!(format!("{}", Address::new(10, 0, 2, 15)), "10.0.2.15");
        assert_eq!(prefix_mask(24), 0xffff_ff00);
        assert_eq!(prefix_mask(0), 0);
        assert_eq!(prefix_mask(32), u32::MAX);
        assert_eq!(prefix_mask(40), u32::MAX);
        assert!(Address::new(224, 0, 0, 1).is_multicast());
        assert_eq!(
            Address::from_u32(Address::new(1, 2, 3, 4).to_u32()),
            Address::new(1, 2, 3, 4)
        );
    }
}
