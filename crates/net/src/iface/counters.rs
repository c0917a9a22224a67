//! What the interface saw and did, as plain counters the kernel can print.

use crate::counters::counter_set;
pub(crate) use crate::counters::{add, bump};

counter_set! {
    /// Traffic and drop counters, by reason. Every received frame is
    /// counted in `rx_frames` and, if dropped, in exactly one `drop_*`
    /// counter. `Display` prints one `name value` line per counter.
    pub struct Counters, prefix "" {
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
