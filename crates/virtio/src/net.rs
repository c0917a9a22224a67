//! The virtio-net header (VIRTIO 1.2 §5.1.6) and the offload decisions
//! made from it: what a received frame's header vouches for, and the
//! header a frame to send carries. No memory beyond the bytes given.
//!
//! Every buffer on both queues starts with the header: 12 bytes with
//! `VIRTIO_F_VERSION_1` (or `VIRTIO_NET_F_MRG_RXBUF`), 10 for a legacy
//! device without them (§5.1.6.1), all fields little-endian (a legacy
//! device uses the guest's order, little-endian on AArch64).

use crate::MAX_QUEUE;

/// VIRTIO_NET_F_CSUM: the device completes partial checksums of frames
/// we send (§5.1.3).
pub const F_CSUM: u64 = 1 << 0;
/// VIRTIO_NET_F_GUEST_CSUM: we take frames with partial checksums, and
/// the device may tell us a checksum is valid (§5.1.3).
pub const F_GUEST_CSUM: u64 = 1 << 1;
/// VIRTIO_NET_F_MAC: the MAC address is in config space.
pub const F_MAC: u64 = 1 << 5;
/// VIRTIO_NET_F_GUEST_TSO4: the device may hand us IPv4 TCP frames of
/// many segments, as the host made them (needs GUEST_CSUM, §5.1.3.1).
pub const F_GUEST_TSO4: u64 = 1 << 7;
/// VIRTIO_NET_F_HOST_TSO4: the device cuts IPv4 TCP frames we send into
/// segments (needs VIRTIO_NET_F_CSUM, §5.1.3.1).
pub const F_HOST_TSO4: u64 = 1 << 11;
/// VIRTIO_NET_F_MRG_RXBUF: received frames may span buffers (and the
/// header has `num_buffers`).
pub const F_MRG_RXBUF: u64 = 1 << 15;

/// `flags`: the checksum from `csum_start` on is partial (§5.1.6.2).
pub const HDR_F_NEEDS_CSUM: u8 = 1;
/// `flags`: the device checked the frame's checksum (§5.1.6.4).
pub const HDR_F_DATA_VALID: u8 = 2;
/// `gso_type`: not a segmentation offload.
pub const HDR_GSO_NONE: u8 = 0;
/// `gso_type`: an IPv4 TCP frame to cut into segments of `gso_size`.
pub const HDR_GSO_TCPV4: u8 = 1;

/// The header with `VIRTIO_F_VERSION_1` or `VIRTIO_NET_F_MRG_RXBUF`.
pub const HEADER_LEN: usize = 12;
/// The legacy header without either (no `num_buffers`).
pub const LEGACY_HEADER_LEN: usize = 10;

/// `features` (offered and wanted) less those whose prerequisites are
/// missing: HOST_TSO4 needs CSUM, GUEST_TSO4 needs GUEST_CSUM (§5.1.3.1)
/// and, here, MRG_RXBUF: receive buffers are a few KiB, so a frame of
/// many segments must be able to span them (without merging, §5.1.6.3.1
/// wants 64 KiB buffers). MRG_RXBUF goes only with GUEST_TSO4: frames of
/// the MTU fit one buffer, and without it a legacy header stays 10 bytes.
pub fn consistent(features: u64) -> u64 {
    let mut f = features;
    if f & F_CSUM == 0 {
        f &= !F_HOST_TSO4;
    }
    if f & F_GUEST_CSUM == 0 || f & F_MRG_RXBUF == 0 {
        f &= !F_GUEST_TSO4;
    }
    if f & F_GUEST_TSO4 == 0 {
        f &= !F_MRG_RXBUF;
    }
    f
}

/// The header length for the negotiated `features` (`version_1`: the
/// device is modern and VIRTIO_F_VERSION_1 was agreed).
pub fn header_len(features: u64, version_1: bool) -> usize {
    if version_1 || features & F_MRG_RXBUF != 0 {
        HEADER_LEN
    } else {
        LEGACY_HEADER_LEN
    }
}

/// Where a TCP segment's payload starts in an Ethernet frame when it
/// carries the timestamp option and nothing else (RFC 7323 §3): after 14
/// bytes of Ethernet, 20 of IPv4 and 32 of TCP. Every segment of a bulk
/// transfer with timestamps looks like this.
pub const TCP_TS_PAYLOAD_AT: usize = 14 + 20 + 32;

/// The alignment [`buffer_skew`] gives such a payload.
pub const PAYLOAD_ALIGN: usize = 8;

/// Bytes to leave at the start of a buffer, before the header of
/// `hdr_len` bytes, so that the payload of a segment laid out as
/// [`TCP_TS_PAYLOAD_AT`] says is [`PAYLOAD_ALIGN`]-aligned in a buffer
/// that is. Full segments of a 1500-byte MTU with timestamps carry 1448
/// bytes, a multiple of 8, so they start at 8-aligned places in a TCP
/// ring too, and the copy between frame and ring has both ends equally
/// aligned: memcpy then moves words, where it moves bytes otherwise
/// (AArch64 code built with +strict-align has no unaligned word loads).
/// The IPv4 header ends up 4-aligned, as with Linux's NET_IP_ALIGN.
pub const fn buffer_skew(hdr_len: usize) -> usize {
    (PAYLOAD_ALIGN - (hdr_len + TCP_TS_PAYLOAD_AT) % PAYLOAD_ALIGN) % PAYLOAD_ALIGN
}

/// `struct virtio_net_hdr` (§5.1.6), as numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetHeader {
    /// `HDR_F_*` bits.
    pub flags: u8,
    /// `HDR_GSO_*` kind.
    pub gso_type: u8,
    /// Bytes of headers, for segmentation offload.
    pub hdr_len: u16,
    /// Payload bytes per segment, for segmentation offload.
    pub gso_size: u16,
    /// Where the partial checksum's range starts in the frame.
    pub csum_start: u16,
    /// Where the checksum field is, from `csum_start`.
    pub csum_offset: u16,
    /// Buffers a merged received frame spans (12-byte header only).
    pub num_buffers: u16,
}

impl NetHeader {
    /// The header at the start of `buf`, which holds `len` bytes of it
    /// ([`header_len`]); `None` if `buf` is shorter.
    pub fn read(buf: &[u8], len: usize) -> Option<NetHeader> {
        let b = buf.get(..len.max(LEGACY_HEADER_LEN))?;
        let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        Some(NetHeader {
            flags: b[0],
            gso_type: b[1],
            hdr_len: u16_at(2),
            gso_size: u16_at(4),
            csum_start: u16_at(6),
            csum_offset: u16_at(8),
            num_buffers: if len >= HEADER_LEN { u16_at(10) } else { 0 },
        })
    }

    /// Writes the header's first `len` bytes ([`header_len`]) at the
    /// start of `buf`; `false` (nothing written) if `buf` is shorter.
    pub fn write(&self, buf: &mut [u8], len: usize) -> bool {
        let Some(b) = buf.get_mut(..len) else {
            return false;
        };
        let mut all = [0u8; HEADER_LEN];
        all[0] = self.flags;
        all[1] = self.gso_type;
        all[2..4].copy_from_slice(&self.hdr_len.to_le_bytes());
        all[4..6].copy_from_slice(&self.gso_size.to_le_bytes());
        all[6..8].copy_from_slice(&self.csum_start.to_le_bytes());
        all[8..10].copy_from_slice(&self.csum_offset.to_le_bytes());
        all[10..12].copy_from_slice(&self.num_buffers.to_le_bytes());
        let n = len.min(HEADER_LEN);
        b[..n].copy_from_slice(&all[..n]);
        b[n..].fill(0);
        true
    }

    /// Whether a received frame's transport checksum needs no check by
    /// us: with `VIRTIO_NET_F_GUEST_CSUM`, the device checked it
    /// (`DATA_VALID`) or the frame is from a host that leaves it partial
    /// (`NEEDS_CSUM`, §5.1.6.4.1: we could not check it anyway). Without
    /// that feature the device sets neither, and a header that does is
    /// not believed.
    pub fn checksum_ok(&self, features: u64) -> bool {
        features & F_GUEST_CSUM != 0 && self.flags & (HDR_F_DATA_VALID | HDR_F_NEEDS_CSUM) != 0
    }

    /// The header of a frame to send whose checksum at `offset` bytes
    /// from `start` is partial (`None`: a frame complete as it is), when
    /// `features` were agreed. `None` when the device cannot complete it
    /// (no `VIRTIO_NET_F_CSUM`, or numbers past the 16-bit fields): the
    /// driver must then complete it in software and send a zero header.
    pub fn for_checksum(features: u64, checksum: Option<(usize, usize)>) -> Option<NetHeader> {
        let (start, offset) = checksum?;
        if features & F_CSUM == 0 {
            return None;
        }
        Some(NetHeader {
            flags: HDR_F_NEEDS_CSUM,
            gso_type: HDR_GSO_NONE,
            csum_start: u16::try_from(start).ok()?,
            csum_offset: u16::try_from(offset).ok()?,
            ..NetHeader::default()
        })
    }

    /// The header of `frame`, an IPv4 TCP frame whose checksum at
    /// `offset` from `start` is partial, for the device to cut into
    /// segments of `gso_size` payload bytes (§5.1.6.2: `hdr_len` the
    /// bytes of all its headers, [`tcp_headers_len`]). `None` when the
    /// device cannot (no `VIRTIO_NET_F_HOST_TSO4` or no
    /// `VIRTIO_NET_F_CSUM`, a frame that is not IPv4 TCP, or numbers past
    /// the fields).
    pub fn for_segmentation(
        features: u64,
        frame: &[u8],
        (start, offset): (usize, usize),
        gso_size: u16,
    ) -> Option<NetHeader> {
        if features & F_HOST_TSO4 == 0 || gso_size == 0 {
            return None;
        }
        let csum = NetHeader::for_checksum(features, Some((start, offset)))?;
        Some(NetHeader {
            gso_type: HDR_GSO_TCPV4,
            hdr_len: u16::try_from(tcp_headers_len(frame)?).ok()?,
            gso_size,
            ..csum
        })
    }
}

/// The transmit descriptors of a virtio-net queue and their buffers:
/// the first `small` ids have buffers for a frame of the MTU, the `large`
/// ones after them buffers for a frame the device cuts into segments.
/// Hands out free ids of either kind and takes back what the device
/// used, once each: an id it reports that is not in flight (out of range,
/// or twice) is refused rather than handed out twice.
pub struct TxSlots {
    small: u16,
    large: u16,
    free: [u16; MAX_QUEUE],
    free_small: usize,
    free_large: usize,
    in_flight: [bool; MAX_QUEUE],
}

impl TxSlots {
    /// `small` then `large` ids, all free; `None` past [`MAX_QUEUE`].
    pub fn new(small: u16, large: u16) -> Option<TxSlots> {
        let total = usize::from(small) + usize::from(large);
        if total > MAX_QUEUE {
            return None;
        }
        let mut free = [0u16; MAX_QUEUE];
        // Small ids from the front, large ones from the back of `free`.
        for (i, slot) in free.iter_mut().enumerate().take(total) {
            *slot = i as u16;
        }
        Some(TxSlots {
            small,
            large,
            free,
            free_small: usize::from(small),
            free_large: usize::from(large),
            in_flight: [false; MAX_QUEUE],
        })
    }

    /// The first large id (the number of small ones).
    pub fn first_large(&self) -> u16 {
        self.small
    }

    /// Whether `id` has a large buffer.
    pub fn is_large(&self, id: u16) -> bool {
        id >= self.small && id < self.small + self.large
    }

    /// A free id with a buffer of the kind asked, now in flight.
    pub fn take(&mut self, large: bool) -> Option<u16> {
        let id = if large {
            if self.free_large == 0 {
                return None;
            }
            self.free_large -= 1;
            self.free[usize::from(self.small) + self.free_large]
        } else {
            if self.free_small == 0 {
                return None;
            }
            self.free_small -= 1;
            self.free[self.free_small]
        };
        self.in_flight[usize::from(id)] = true;
        Some(id)
    }

    /// Takes back `id`, which the device used; `false` (and nothing
    /// changes) for an id that is not in flight.
    pub fn give_back(&mut self, id: u32) -> bool {
        let Ok(id) = u16::try_from(id) else {
            return false;
        };
        if usize::from(id) >= MAX_QUEUE || !self.in_flight[usize::from(id)] {
            return false;
        }
        self.in_flight[usize::from(id)] = false;
        if self.is_large(id) {
            self.free[usize::from(self.small) + self.free_large] = id;
            self.free_large += 1;
        } else {
            self.free[self.free_small] = id;
            self.free_small += 1;
        }
        true
    }

    /// Free ids of each kind: (small, large).
    pub fn free(&self) -> (usize, usize) {
        (self.free_small, self.free_large)
    }
}

/// Whether a received frame that spans the used entries `pieces` (id,
/// bytes written, in the order used; VIRTIO_NET_F_MRG_RXBUF) lies in one
/// run of memory, in a receive queue of `size` buffers of `buf_len`
/// bytes each laid end to end by id: consecutive ids that do not wrap
/// past the last buffer, every piece but the last one full.
pub fn contiguous(pieces: &[(u16, u32)], size: u16, buf_len: u32) -> bool {
    let Some(&(first, _)) = pieces.first() else {
        return false;
    };
    let last = pieces.len() - 1;
    pieces.iter().enumerate().all(|(i, &(id, len))| {
        usize::from(id) == usize::from(first) + i
            && id < size
            && len <= buf_len
            && (i == last || len == buf_len)
    })
}

/// The bytes of an Ethernet frame's headers up to a TCP payload: 14 of
/// Ethernet, the IPv4 header's IHL and the TCP data offset; `None` for a
/// frame that is not IPv4 TCP or is shorter than its headers say.
pub fn tcp_headers_len(frame: &[u8]) -> Option<usize> {
    const ETH: usize = 14;
    if frame.get(12..14)? != [0x08, 0x00] {
        return None;
    }
    let ip = *frame.get(ETH)?;
    let ihl = usize::from(ip & 0x0f) * 4;
    if ip >> 4 != 4 || ihl < 20 || *frame.get(ETH + 9)? != 6 {
        return None;
    }
    let doff = usize::from(*frame.get(ETH + ihl + 12)? >> 4) * 4;
    let len = ETH + ihl + doff;
    (doff >= 20 && len <= frame.len()).then_some(len)
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;

    #[test]
    fn features_without_their_prerequisites_are_dropped() {
        let all = F_CSUM | F_GUEST_CSUM | F_MRG_RXBUF | F_HOST_TSO4 | F_GUEST_TSO4 | F_MAC;
        assert_eq!(consistent(all), all);
        assert_eq!(consistent(all & !F_CSUM), all & !(F_CSUM | F_HOST_TSO4));
        let no_guest_csum = all & !F_GUEST_CSUM;
        let without = !(F_GUEST_TSO4 | F_MRG_RXBUF);
        assert_eq!(consistent(no_guest_csum), no_guest_csum & without);
        let no_mrg = all & !F_MRG_RXBUF;
        assert_eq!(consistent(no_mrg), no_mrg & !F_GUEST_TSO4);
        let no_tso = all & !F_GUEST_TSO4;
        assert_eq!(
            consistent(no_tso),
            no_tso & !F_MRG_RXBUF,
            "merging only for big frames"
        );
        assert_eq!(consistent(F_MAC | F_MRG_RXBUF), F_MAC);
    }

    #[test]
    fn header_length_follows_the_features() {
        assert_eq!(header_len(0, true), HEADER_LEN);
        assert_eq!(header_len(0, false), LEGACY_HEADER_LEN);
        assert_eq!(header_len(F_MRG_RXBUF, false), HEADER_LEN);
    }

    #[test]
    fn the_skew_aligns_a_timestamped_payload_and_the_ip_header() {
        for hdr in [HEADER_LEN, LEGACY_HEADER_LEN] {
            let skew = buffer_skew(hdr);
            assert!(skew < PAYLOAD_ALIGN);
            assert_eq!((skew + hdr + TCP_TS_PAYLOAD_AT) % PAYLOAD_ALIGN, 0);
            assert_eq!((skew + hdr + 14) % 4, 0, "IPv4 header 4-aligned");
        }
        assert_eq!(buffer_skew(HEADER_LEN), 2);
        assert_eq!(buffer_skew(LEGACY_HEADER_LEN), 4);
        assert_eq!(buffer_skew(6), 0, "already aligned: no skew");
    }

    #[test]
    fn read_and_write_are_little_endian_and_length_aware() {
        let h = NetHeader {
            flags: HDR_F_NEEDS_CSUM,
            gso_type: 1,
            hdr_len: 0x0102,
            gso_size: 0x0304,
            csum_start: 0x0506,
            csum_offset: 0x0708,
            num_buffers: 0x090a,
        };
        let mut b = [0xffu8; 14];
        assert!(h.write(&mut b, HEADER_LEN));
        assert_eq!(b[..12], [1, 1, 2, 1, 4, 3, 6, 5, 8, 7, 0x0a, 9]);
        assert_eq!(b[12..], [0xff, 0xff], "nothing past the header");
        assert_eq!(NetHeader::read(&b, HEADER_LEN), Some(h));
        let mut legacy = [0xffu8; 11];
        assert!(h.write(&mut legacy, LEGACY_HEADER_LEN));
        assert_eq!(legacy[10], 0xff);
        let back = NetHeader::read(&legacy, LEGACY_HEADER_LEN).unwrap();
        assert_eq!(
            back,
            NetHeader {
                num_buffers: 0,
                ..h
            }
        );
        // Too short to hold it: refused, untouched.
        assert!(!h.write(&mut legacy[..9], LEGACY_HEADER_LEN));
        assert_eq!(NetHeader::read(&b[..11], HEADER_LEN), None);
        assert_eq!(NetHeader::read(&b[..9], LEGACY_HEADER_LEN), None);
    }

    #[test]
    fn a_received_checksum_is_believed_only_with_guest_csum() {
        let valid = NetHeader {
            flags: HDR_F_DATA_VALID,
            ..NetHeader::default()
        };
        let partial = NetHeader {
            flags: HDR_F_NEEDS_CSUM,
            ..NetHeader::default()
        };
        assert!(valid.checksum_ok(F_GUEST_CSUM));
        assert!(partial.checksum_ok(F_GUEST_CSUM | F_CSUM));
        assert!(!NetHeader::default().checksum_ok(F_GUEST_CSUM), "not said");
        assert!(!valid.checksum_ok(F_CSUM), "not agreed");
        assert!(!partial.checksum_ok(0));
    }

    /// An IPv4 TCP frame: 14 + 20 + `tcp_header` bytes of headers and
    /// `payload` bytes.
    fn tcp_frame(tcp_header: usize, payload: usize) -> std::vec::Vec<u8> {
        let mut f = std::vec![0u8; 14 + 20 + tcp_header + payload];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        f[14] = 0x45;
        f[14 + 9] = 6;
        f[14 + 20 + 12] = ((tcp_header / 4) as u8) << 4;
        f
    }

    #[test]
    fn tx_slots_hand_out_each_kind_and_take_back_only_what_is_in_flight() {
        let mut slots = TxSlots::new(3, 2).unwrap();
        assert_eq!(slots.free(), (3, 2));
        let small: std::vec::Vec<u16> = (0..3).map(|_| slots.take(false).unwrap()).collect();
        assert_eq!(slots.take(false), None, "every small one in flight");
        assert!(small.iter().all(|&id| id < 3 && !slots.is_large(id)));
        let (a, b) = (slots.take(true).unwrap(), slots.take(true).unwrap());
        assert!(slots.is_large(a) && slots.is_large(b) && a != b);
        assert_eq!(slots.take(true), None);
        assert!(slots.give_back(u32::from(a)));
        assert!(!slots.give_back(u32::from(a)), "twice");
        assert!(!slots.give_back(5), "never ours");
        assert!(!slots.give_back(u32::MAX));
        assert_eq!(slots.take(true), Some(a));
        assert!(slots.give_back(u32::from(small[1])));
        assert_eq!(slots.free(), (1, 0));
        assert_eq!(slots.take(false), Some(small[1]));
        // At the queue's limit, and one past it.
        let max = MAX_QUEUE as u16;
        let mut full = TxSlots::new(max - 32, 32).unwrap();
        assert_eq!(full.free(), (MAX_QUEUE - 32, 32));
        assert!(full.take(true).is_some_and(|id| id >= max - 32));
        assert!(TxSlots::new(max - 31, 32).is_none());
    }

    #[test]
    fn a_merged_frame_is_contiguous_only_in_consecutive_full_buffers() {
        assert!(contiguous(&[(5, 100)], 8, 2048));
        assert!(contiguous(&[(5, 2048), (6, 2048), (7, 1)], 8, 2048));
        assert!(
            !contiguous(&[(6, 2048), (7, 2048), (0, 1)], 8, 2048),
            "wraps"
        );
        assert!(!contiguous(&[(5, 2048), (7, 2048)], 8, 2048), "a gap");
        assert!(!contiguous(&[(5, 2000), (6, 10)], 8, 2048), "not full");
        assert!(!contiguous(&[(5, 2049)], 8, 2048), "longer than a buffer");
        assert!(!contiguous(&[(8, 1)], 8, 2048), "past the queue");
        assert!(!contiguous(&[], 8, 2048));
    }

    #[test]
    fn tcp_headers_are_measured_from_the_frame() {
        assert_eq!(tcp_headers_len(&tcp_frame(32, 100)), Some(66));
        assert_eq!(tcp_headers_len(&tcp_frame(20, 0)), Some(54));
        let mut udp = tcp_frame(20, 8);
        udp[14 + 9] = 17;
        assert_eq!(tcp_headers_len(&udp), None);
        let mut arp = tcp_frame(20, 8);
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(tcp_headers_len(&arp), None);
        let mut v6 = tcp_frame(20, 8);
        v6[14] = 0x65;
        assert_eq!(tcp_headers_len(&v6), None);
        let f = tcp_frame(32, 0);
        assert_eq!(tcp_headers_len(&f[..65]), None, "shorter than its headers");
        assert_eq!(tcp_headers_len(&f[..14 + 20 + 12]), None);
    }

    #[test]
    fn a_frame_is_cut_into_segments_only_with_host_tso4_and_csum() {
        let frame = tcp_frame(32, 3 * 1448);
        let both = F_CSUM | F_HOST_TSO4;
        let h = NetHeader::for_segmentation(both, &frame, (34, 16), 1448).unwrap();
        assert_eq!(
            (h.gso_type, h.gso_size, h.hdr_len),
            (HDR_GSO_TCPV4, 1448, 66)
        );
        assert_eq!(
            (h.flags, h.csum_start, h.csum_offset),
            (HDR_F_NEEDS_CSUM, 34, 16)
        );
        assert_eq!(
            NetHeader::for_segmentation(F_HOST_TSO4, &frame, (34, 16), 1448),
            None
        );
        assert_eq!(
            NetHeader::for_segmentation(F_CSUM, &frame, (34, 16), 1448),
            None
        );
        assert_eq!(NetHeader::for_segmentation(both, &frame, (34, 16), 0), None);
        assert_eq!(
            NetHeader::for_segmentation(both, &frame[..60], (34, 16), 1448),
            None
        );
    }

    #[test]
    fn a_partial_checksum_goes_to_the_device_only_with_csum() {
        let h = NetHeader::for_checksum(F_CSUM, Some((34, 16))).unwrap();
        assert_eq!(
            (h.flags, h.csum_start, h.csum_offset),
            (HDR_F_NEEDS_CSUM, 34, 16)
        );
        assert_eq!(h.gso_type, HDR_GSO_NONE);
        assert_eq!(NetHeader::for_checksum(F_GUEST_CSUM, Some((34, 16))), None);
        assert_eq!(NetHeader::for_checksum(F_CSUM, None), None);
        let max = usize::from(u16::MAX);
        assert!(NetHeader::for_checksum(F_CSUM, Some((max, max))).is_some());
        assert_eq!(NetHeader::for_checksum(F_CSUM, Some((max + 1, 16))), None);
        assert_eq!(NetHeader::for_checksum(F_CSUM, Some((34, max + 1))), None);
    }
}
