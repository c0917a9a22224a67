//! Ethernet II frames (IEEE 802.3 with an EtherType): destination, source,
//! type, payload. The FCS is the device's business and never appears here.

use core::fmt;

use super::{buffer_view, number_enum, read_u16, write_u16, Error};

/// Byte ranges of the Ethernet II header.
pub mod field {
    use crate::wire::Field;

    /// Destination MAC address.
    pub const DESTINATION: Field = 0..6;
    /// Source MAC address.
    pub const SOURCE: Field = 6..12;
    /// EtherType of the payload.
    pub const ETHERTYPE: Field = 12..14;
    /// Start of the payload.
    pub const PAYLOAD: usize = ETHERTYPE.end;
}

/// Length of the Ethernet II header.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// A 48-bit MAC address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(pub [u8; 6]);

impl Address {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: Address = Address([0xff; 6]);
    /// 00:00:00:00:00:00, the "unknown" target of an ARP request.
    pub const UNSPECIFIED: Address = Address([0; 6]);

    /// The broadcast address.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// Group bit set (broadcast included).
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// A single station's address: group bit clear and not all zeros.
    pub fn is_unicast(&self) -> bool {
        !self.is_multicast() && *self != Self::UNSPECIFIED
    }

    /// Reads an address from a 6-byte slice.
    pub(crate) fn from_slice(b: &[u8]) -> Address {
        let mut a = [0u8; 6];
        a.copy_from_slice(b);
        Address(a)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

number_enum! {
    /// The EtherTypes this stack knows.
    pub enum EtherType(u16) {
        /// IPv4 (0x0800).
        Ipv4 = 0x0800,
        /// ARP (0x0806).
        Arp = 0x0806,
    }
}

buffer_view! {
    /// A view of an Ethernet II frame in a buffer.
    Frame, min_len = HEADER_LEN, "the header"
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Header length plus `payload_len`.
    pub const fn buffer_len(payload_len: usize) -> usize {
        HEADER_LEN + payload_len
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Address {
        Address::from_slice(&self.buffer.as_ref()[field::DESTINATION])
    }

    /// Source address.
    pub fn src_addr(&self) -> Address {
        Address::from_slice(&self.buffer.as_ref()[field::SOURCE])
    }

    /// EtherType.
    pub fn ethertype(&self) -> EtherType {
        EtherType::from(read_u16(self.buffer.as_ref(), field::ETHERTYPE))
    }

    /// Everything after the header, Ethernet padding included (the
    /// payload's own length field says where it really ends).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, a: Address) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&a.0);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, a: Address) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&a.0);
    }

    /// Sets the EtherType.
    pub fn set_ethertype(&mut self, t: EtherType) {
        write_u16(self.buffer.as_mut(), field::ETHERTYPE, t.into());
    }

    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD..]
    }
}

/// The header of an Ethernet II frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr {
    /// Source address.
    pub src_addr: Address,
    /// Destination address.
    pub dst_addr: Address,
    /// EtherType of the payload.
    pub ethertype: EtherType,
}

impl Repr {
    /// Reads the header of a checked frame.
    pub fn parse<T: AsRef<[u8]>>(frame: &Frame<T>) -> Result<Repr, Error> {
        frame.check_len()?;
        Ok(Repr {
            src_addr: frame.src_addr(),
            dst_addr: frame.dst_addr(),
            ethertype: frame.ethertype(),
        })
    }

    /// Bytes the header needs.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header into `frame`, which must hold at least
    /// [`Repr::buffer_len`] bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut Frame<T>) {
        frame.set_src_addr(self.src_addr);
        frame.set_dst_addr(self.dst_addr);
        frame.set_ethertype(self.ethertype);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A broadcast ARP frame from QEMU's slirp gateway 52:55:0a:00:02:02
    // (header and the first payload bytes).
    static FRAME_BYTES: [u8; 18] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination
        0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, // source
        0x08, 0x06, // ARP
        0x00, 0x01, 0x08, 0x00, // payload
    ];

    #[test]
    fn deconstruct() {
        let frame = Frame::new_checked(&FRAME_BYTES[..]).unwrap();
        assert_eq!(frame.dst_addr(), Address::BROADCAST);
        assert_eq!(
            frame.src_addr(),
            Address([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02])
        );
        assert_eq!(frame.ethertype(), EtherType::Arp);
        assert_eq!(frame.payload(), &[0x00, 0x01, 0x08, 0x00]);
    }

    #[test]
    fn construct() {
        let mut bytes = [0xa5u8; 18];
        let mut frame = Frame::new_unchecked(&mut bytes[..]);
        Repr {
            src_addr: Address([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]),
            dst_addr: Address::BROADCAST,
            ethertype: EtherType::Arp,
        }
        .emit(&mut frame);
        frame
            .payload_mut()
            .copy_from_slice(&[0x00, 0x01, 0x08, 0x00]);
        assert_eq!(bytes, FRAME_BYTES);
    }

    #[test]
    fn truncated() {
        assert_eq!(
            Frame::new_checked(&FRAME_BYTES[..13]),
            Err(Error::Truncated)
        );
        assert!(Frame::new_checked(&FRAME_BYTES[..14]).is_ok());
        assert_eq!(Frame::new_checked(&[][..]), Err(Error::Truncated));
    }

    #[test]
    fn unknown_ethertype_round_trips() {
        assert_eq!(EtherType::from(0x86dd), EtherType::Unknown(0x86dd));
        assert_eq!(u16::from(EtherType::Unknown(0x86dd)), 0x86dd);
        assert_eq!(u16::from(EtherType::Ipv4), 0x0800);
    }

    #[test]
    fn address_classes_and_display() {
        let qemu = Address([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]);
        assert!(qemu.is_unicast() && !qemu.is_multicast());
        assert!(Address::BROADCAST.is_broadcast() && Address::BROADCAST.is_multicast());
        assert!(!Address::UNSPECIFIED.is_unicast());
        assert!(Address([0x01, 0x00, 0x5e, 0, 0, 1]).is_multicast());
        assert_eq!(format!("{qemu}"), "52:55:0a:00:02:02");
    }
}
