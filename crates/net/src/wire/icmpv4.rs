//! ICMPv4 (RFC 792). The view reads any message's type, code and
//! checksum; the `Repr` covers echo request and echo reply, the two this
//! stack acts on. An ICMP message has no length field: the buffer given to
//! the view must be exactly the IPv4 payload.

use super::checksum;
use super::{buffer_view, number_enum, read_u16, write_u16, Error};

/// Byte ranges of the ICMP header (the echo fields are the 4 bytes every
/// message type uses for its own purpose).
pub mod field {
    use crate::wire::Field;

    /// Message type.
    pub const TYPE: usize = 0;
    /// Message code.
    pub const CODE: usize = 1;
    /// Checksum over the whole message.
    pub const CHECKSUM: Field = 2..4;
    /// Echo identifier.
    pub const ECHO_IDENT: Field = 4..6;
    /// Echo sequence number.
    pub const ECHO_SEQNO: Field = 6..8;
    /// Start of the data.
    pub const DATA: usize = ECHO_SEQNO.end;
}

/// Length of the ICMP header.
pub const HEADER_LEN: usize = field::DATA;

number_enum! {
    /// ICMP message types this stack can name.
    pub enum Message(u8) {
        /// Echo reply (0).
        EchoReply = 0,
        /// Destination unreachable (3).
        DstUnreachable = 3,
        /// Redirect (5).
        Redirect = 5,
        /// Echo request (8).
        EchoRequest = 8,
        /// Time exceeded (11).
        TimeExceeded = 11,
        /// Parameter problem (12).
        ParamProblem = 12,
    }
}

buffer_view! {
    /// A view of an ICMP message in a buffer.
    Packet, min_len = HEADER_LEN, "the 8-byte header"
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Message type.
    pub fn msg_type(&self) -> Message {
        Message::from(self.buffer.as_ref()[field::TYPE])
    }

    /// Message code.
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Echo identifier.
    pub fn echo_ident(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::ECHO_IDENT)
    }

    /// Echo sequence number.
    pub fn echo_seq_no(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::ECHO_SEQNO)
    }

    /// Whether the checksum over the whole buffer verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::verify(self.buffer.as_ref())
    }

    /// Everything after the 8-byte header.
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[field::DATA..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the message type.
    pub fn set_msg_type(&mut self, v: Message) {
        self.buffer.as_mut()[field::TYPE] = v.into();
    }

    /// Sets the message code.
    pub fn set_msg_code(&mut self, v: u8) {
        self.buffer.as_mut()[field::CODE] = v;
    }

    /// Sets the checksum field as is.
    pub fn set_checksum(&mut self, v: u16) {
        write_u16(self.buffer.as_mut(), field::CHECKSUM, v);
    }

    /// Sets the echo identifier.
    pub fn set_echo_ident(&mut self, v: u16) {
        write_u16(self.buffer.as_mut(), field::ECHO_IDENT, v);
    }

    /// Sets the echo sequence number.
    pub fn set_echo_seq_no(&mut self, v: u16) {
        write_u16(self.buffer.as_mut(), field::ECHO_SEQNO, v);
    }

    /// Computes and stores the checksum over the whole buffer.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.buffer.as_ref());
        self.set_checksum(c);
    }

    /// The data, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::DATA..]
    }
}

/// An echo request or reply (RFC 792), borrowing its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repr<'a> {
    /// Echo request (ping).
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Data to echo.
        data: &'a [u8],
    },
    /// Echo reply.
    EchoReply {
        /// Identifier, as in the request.
        ident: u16,
        /// Sequence number, as in the request.
        seq_no: u16,
        /// Data, as in the request.
        data: &'a [u8],
    },
}

impl<'a> Repr<'a> {
    /// Reads a message: `BadChecksum` if the checksum fails, `Unsupported`
    /// for anything but an echo request or reply with code 0.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Repr<'a>, Error> {
        packet.check_len()?;
        if !packet.verify_checksum() {
            return Err(Error::BadChecksum);
        }
        let data = &packet.buffer.as_ref()[field::DATA..];
        let (ident, seq_no) = (packet.echo_ident(), packet.echo_seq_no());
        match (packet.msg_type(), packet.msg_code()) {
            (Message::EchoRequest, 0) => Ok(Repr::EchoRequest {
                ident,
                seq_no,
                data,
            }),
            (Message::EchoReply, 0) => Ok(Repr::EchoReply {
                ident,
                seq_no,
                data,
            }),
            _ => Err(Error::Unsupported),
        }
    }

    /// Header plus data length.
    pub fn buffer_len(&self) -> usize {
        match self {
            Repr::EchoRequest { data, .. } | Repr::EchoReply { data, .. } => {
                HEADER_LEN + data.len()
            }
        }
    }

    /// Writes the message, checksum included, into a buffer of exactly
    /// [`Repr::buffer_len`] bytes (the checksum covers the whole buffer).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        let (msg, ident, seq_no, data) = match *self {
            Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } => (Message::EchoRequest, ident, seq_no, data),
            Repr::EchoReply {
                ident,
                seq_no,
                data,
            } => (Message::EchoReply, ident, seq_no, data),
        };
        packet.set_msg_type(msg);
        packet.set_msg_code(0);
        packet.set_echo_ident(ident);
        packet.set_echo_seq_no(seq_no);
        packet.data_mut()[..data.len()].copy_from_slice(data);
        packet.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ICMP part of a Linux `ping` echo request: id 0x0c2a, seq 1, 56
    /// bytes of data (a 16-byte timeval, then 0x10..=0x37).
    static PING: [u8; 64] = [
        0x08, 0x00, 0xa1, 0x25, 0x0c, 0x2a, 0x00, 0x01, // header
        0xb2, 0xa1, 0xf3, 0x67, 0x00, 0x00, 0x00, 0x00, // tv_sec
        0xe1, 0xd2, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, // tv_usec
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, //
        0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, //
        0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, //
        0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, //
        0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, //
    ];

    /// What [`PING`] says: echo request id 0x0c2a, sequence 1, 56 bytes.
    const PING_REPR: Repr<'static> = Repr::EchoRequest {
        ident: 0x0c2a,
        seq_no: 1,
        data: PING.split_at(8).1,
    };

    #[test]
    fn deconstruct() {
        let p = Packet::new_checked(&PING[..]).unwrap();
        assert_eq!(p.msg_type(), Message::EchoRequest);
        assert_eq!(p.msg_code(), 0);
        assert_eq!(p.checksum(), 0xa125);
        assert_eq!((p.echo_ident(), p.echo_seq_no()), (0x0c2a, 1));
        assert_eq!(p.data().len(), 56);
        assert!(p.verify_checksum());
        assert_eq!(Repr::parse(&p), Ok(PING_REPR));
    }

    #[test]
    fn construct() {
        let repr = PING_REPR;
        assert_eq!(repr.buffer_len(), 64);
        let mut bytes = [0xa5u8; 64];
        repr.emit(&mut Packet::new_unchecked(&mut bytes[..]));
        assert_eq!(bytes, PING);
    }

    #[test]
    fn reply_checksum() {
        // The reply differs only in the type byte: checksum up by 0x0800.
        let repr = Repr::EchoReply {
            ident: 0x0c2a,
            seq_no: 1,
            data: &PING[8..],
        };
        let mut bytes = [0u8; 64];
        repr.emit(&mut Packet::new_unchecked(&mut bytes[..]));
        assert_eq!(bytes[0], 0);
        assert_eq!(u16::from_be_bytes([bytes[2], bytes[3]]), 0xa125 + 0x0800);
        assert_eq!(bytes[4..], PING[4..]);
    }

    #[test]
    fn truncated() {
        assert_eq!(Packet::new_checked(&PING[..7]), Err(Error::Truncated));
        assert!(Packet::new_checked(&PING[..8]).is_ok());
    }

    #[test]
    fn bad_checksum() {
        let mut bytes = PING;
        bytes[63] ^= 0x40;
        let p = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(Repr::parse(&p), Err(Error::BadChecksum));
        // A truncated echo fails its checksum too.
        let p = Packet::new_checked(&PING[..40]).unwrap();
        assert_eq!(Repr::parse(&p), Err(Error::BadChecksum));
    }

    #[test]
    fn other_messages_unsupported() {
        let mut bytes = [0u8; 36];
        bytes[0] = 3; // destination unreachable
        bytes[1] = 3; // port unreachable
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.fill_checksum();
        let p = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.msg_type(), Message::DstUnreachable);
        assert_eq!(Repr::parse(&p), Err(Error::Unsupported));
        // An echo request with a non-zero code too.
        let mut bytes = PING;
        bytes[1] = 1;
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.fill_checksum();
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&bytes[..])),
            Err(Error::Unsupported)
        );
    }
}
