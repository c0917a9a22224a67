//! Packet formats: one file per protocol, each with the same three parts.
//!
//! * `mod field`: the byte ranges of the header, as named constants. No
//!   offset appears as a bare number outside it.
//! * `Packet<T: AsRef<[u8]>>`: a view over a buffer with a getter per field,
//!   setters when `T: AsMut<[u8]>`, and `payload()`/`payload_mut()`.
//! * `Repr`: the meaning of a well-formed packet, with `parse(&Packet)`,
//!   `buffer_len()` and `emit(&mut Packet)`. A `Repr` holds only values
//!   this stack can send; `parse` rejects the rest with an [`Error`] that
//!   says why.
//!
//! # The panic contract
//!
//! `Packet::new_unchecked` checks nothing. `Packet::check_len` validates
//! the buffer against every length the packet claims (buffer shorter than
//! the fixed header, header length below its minimum, header longer than
//! the total length, total length beyond the buffer). `Packet::new_checked`
//! runs both. After `check_len` has passed no getter and no `payload()` can
//! panic, whatever the bytes are; only the setters that change a length
//! (`set_header_len`, `set_total_len` in IPv4) can undo that.
//!
//! Received bytes therefore always go through `new_checked`. Buffers the
//! stack emits into are sized by `Repr::buffer_len()` and wrapped with
//! `new_unchecked`, because their length fields are not written yet.
//! Every checksum is verified by `Repr::parse` and computed by
//! `Repr::emit`.

pub mod arp;
pub mod checksum;
pub mod ethernet;
pub mod icmpv4;
pub mod ipv4;
pub mod tcp;

pub use arp::{Operation as ArpOperation, Packet as ArpPacket, Repr as ArpRepr};
pub use ethernet::{
    Address as EthernetAddress, EtherType, Frame as EthernetFrame, Repr as EthernetRepr,
};
pub use icmpv4::{Message as Icmpv4Message, Packet as Icmpv4Packet, Repr as Icmpv4Repr};
pub use ipv4::{Address as Ipv4Address, Packet as Ipv4Packet, Protocol, Repr as Ipv4Repr};
pub use tcp::{
    Control as TcpControl, Packet as TcpPacket, Repr as TcpRepr, Timestamps as TcpTimestamps,
};

use core::fmt;

/// Why a packet was rejected. One enum for the wire layer, with a variant
/// per failure class so drops can be counted by reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// The buffer is shorter than the fixed header or than a length field
    /// claims.
    Truncated,
    /// A length field is impossible by itself (IPv4 header length below 20,
    /// total length below the header length).
    BadLength,
    /// A checksum did not verify.
    BadChecksum,
    /// A version field is not the one this parser handles (IPv4 `version`).
    BadVersion,
    /// Part of a fragmented IPv4 datagram (MF set or offset non-zero); this
    /// stack does not reassemble.
    Fragmented,
    /// Well formed, but a kind this stack does not handle (ARP for another
    /// hardware or protocol type, an ICMP type other than echo).
    Unsupported,
}

impl Error {
    /// A short fixed description.
    pub const fn as_str(self) -> &'static str {
        match self {
            Error::Truncated => "truncated",
            Error::BadLength => "impossible length field",
            Error::BadChecksum => "bad checksum",
            Error::BadVersion => "bad version",
            Error::Fragmented => "fragment",
            Error::Unsupported => "unsupported",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A half-open byte range of a header.
pub(crate) type Field = core::ops::Range<usize>;

/// Reads a big-endian `u16` at `field` (two bytes).
pub(crate) fn read_u16(buf: &[u8], field: Field) -> u16 {
    let b = &buf[field];
    u16::from_be_bytes([b[0], b[1]])
}

/// Writes a big-endian `u16` at `field` (two bytes).
pub(crate) fn write_u16(buf: &mut [u8], field: Field, value: u16) {
    buf[field].copy_from_slice(&value.to_be_bytes());
}

/// Declares a protocol-number enum with an `Unknown(raw)` catch-all and
/// `From` conversions both ways.
macro_rules! number_enum {
    (
        $(#[$attr:meta])*
        pub enum $name:ident($ty:ty) {
            $( $(#[$vattr:meta])* $variant:ident = $value:expr, )+
        }
    ) => {
        $(#[$attr])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vattr])* $variant, )+
            /// Any other value, kept as received.
            Unknown($ty),
        }

        impl From<$ty> for $name {
            fn from(raw: $ty) -> Self {
                match raw {
                    $( $value => $name::$variant, )+
                    other => $name::Unknown(other),
                }
            }
        }

        impl From<$name> for $ty {
            fn from(value: $name) -> Self {
                match value {
                    $( $name::$variant => $value, )+
                    $name::Unknown(raw) => raw,
                }
            }
        }
    };
}
pub(crate) use number_enum;

/// Declares a view of a packet in a buffer, smoltcp's shape: the struct,
/// `new_unchecked`, `new_checked` (after the type's own `check_len`, which
/// its file writes when what a getter may read depends on the header; with
/// `min_len = N` it is "`Truncated` below N bytes") and `into_inner`.
macro_rules! buffer_view {
    ($(#[$attr:meta])* $name:ident, min_len = $min:expr, $why:literal) => {
        $crate::wire::buffer_view!($(#[$attr])* $name);

        impl<T: AsRef<[u8]>> $name<T> {
            #[doc = concat!("`Truncated` if the buffer cannot hold ", $why, ".")]
            pub fn check_len(&self) -> Result<(), Error> {
                if self.buffer.as_ref().len() < $min {
                    Err(Error::Truncated)
                } else {
                    Ok(())
                }
            }
        }
    };
    ($(#[$attr:meta])* $name:ident) => {
        $(#[$attr])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name<T: AsRef<[u8]>> {
            buffer: T,
        }

        impl<T: AsRef<[u8]>> $name<T> {
            /// Wraps `buffer` without checking anything.
            pub const fn new_unchecked(buffer: T) -> $name<T> {
                $name { buffer }
            }

            /// Wraps `buffer` after its `check_len`.
            pub fn new_checked(buffer: T) -> Result<$name<T>, Error> {
                let view = Self::new_unchecked(buffer);
                view.check_len()?;
                Ok(view)
            }

            /// Gives the buffer back.
            pub fn into_inner(self) -> T {
                self.buffer
            }
        }
    };
}
pub(crate) use buffer_view;
