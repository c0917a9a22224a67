//! What the interface saw and did, as plain counters the kernel can print.

use core::fmt;

macro_rules! counters {
    ($( $(#[doc = $doc:literal])+ $name:ident, )+) => {
        /// Traffic and drop counters, by reason. Every received frame is
        /// counted in `rx_frames` and, if dropped, in exactly one `drop_*`
        /// counter. `Display` prints one `name value` line per counter.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct Counters {
            $( $(#[doc = $doc])+ pub $name: u64, )+
        }

        impl Counters {
            /// Every counter as `(name, value)`, in declaration order.
            pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> {
                [$( (stringify!($name), self.$name), )+].into_iter()
            }

            /// Every counter as `(name, doc, value)`, in declaration
            /// order: its doc comment's lines joined, for a metrics page.
            pub fn described(&self) -> impl Iterator<Item = (&'static str, &'static str, u64)> + Clone {
                [$( (stringify!($name), concat!($($doc),+).trim_ascii(), self.$name), )+].into_iter()
            }
        }
    };
}

counters! {
    /// Frames received from the device.
    rx_frames,
    /// Bytes in received frames.
    rx_bytes,
    /// Frames handed to the device.
    tx_frames,
    /// Bytes in sent frames.
    tx_bytes,
    /// Received frames longer than `limits::MAX_FRAME_LEN`.
    drop_oversized,
    /// Received packets shorter than a header or a length field says.
    drop_truncated,
    /// Received packets with an impossible length, a wrong version, an
    /// unsupported ARP format or an impossible source address.
    drop_malformed,
    /// Received packets whose IPv4 header or ICMP checksum failed.
    drop_bad_checksum,
    /// Frames for another MAC, IPv4 packets for another address, ARP
    /// packets for another target.
    drop_not_for_us,
    /// IPv4 fragments (no reassembly).
    drop_fragment,
    /// Frames with an EtherType other than IPv4 and ARP.
    drop_unknown_ethertype,
    /// IPv4 packets for a protocol nothing handled.
    drop_unknown_protocol,
    /// ICMP messages other than echo requests to our own address, ignored.
    icmp_ignored,
    /// Echo requests answered.
    icmp_echo_replies,
    /// ARP requests for our address answered.
    arp_replies_sent,
    /// ARP requests sent.
    arp_requests_sent,
    /// Addresses whose resolution gave up after `limits::ARP_MAX_REQUESTS`.
    arp_failures,
    /// Outbound packets dropped for want of a MAC (resolution gave up, or
    /// the pending table or queue was full).
    drop_unresolved,
    /// Transmits refused because the device had no free buffer.
    tx_device_busy,
    /// Outbound packets with no route (off-link and no gateway, multicast,
    /// unspecified).
    tx_no_route,
    /// Outbound packets larger than the MTU.
    tx_too_large,
}

impl Counters {
    /// Sum of every `drop_*` counter.
    pub fn drops(&self) -> u64 {
        self.iter()
            .filter(|(name, _)| name.starts_with("drop_"))
            .map(|(_, v)| v)
            .sum()
    }
}

impl fmt::Display for Counters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in self.iter() {
            writeln!(f, "{name} {value}")?;
        }
        Ok(())
    }
}

/// Adds one without ever overflowing.
pub(crate) fn bump(c: &mut u64) {
    *c = c.wrapping_add(1);
}

/// Adds `n` without ever overflowing.
pub(crate) fn add(c: &mut u64, n: usize) {
    *c = c.wrapping_add(n as u64);
}

#[cfg(test)]
mod tests {
    use super::Counters;
    use crate::tcp::TcpCounters;

    #[test]
    fn described_gives_each_counter_its_doc() {
        let c = Counters {
            rx_frames: 3,
            ..Counters::default()
        };
        let (name, doc, value) = c.described().next().unwrap();
        assert_eq!(
            (name, doc, value),
            ("rx_frames", "Frames received from the device.", 3)
        );
        assert!(c
            .described()
            .map(|(n, _, _)| n)
            .eq(c.iter().map(|(n, _)| n)));
        let tcp = TcpCounters::ZERO;
        let paws = tcp.described().find(|(n, _, _)| *n == "drop_paws").unwrap();
        // Doc lines joined by their leading space, the first one trimmed.
        assert_eq!(
            paws.1,
            "Segments dropped by PAWS (RFC 7323 §5.3: an old TSval), answered with an ACK."
        );
        assert!(tcp
            .described()
            .all(|(_, doc, _)| !doc.is_empty() && !doc.starts_with(' ')));
    }
}
