//! The virtio-net header (VIRTIO 1.2 §5.1.6) and the offload decisions
//! made from it: what a received frame's header vouches for, and the
//! header a frame to send carries. No memory beyond the bytes given.
//!
//! Every buffer on both queues starts with the header: 12 bytes with
//! `VIRTIO_F_VERSION_1` (or `VIRTIO_NET_F_MRG_RXBUF`), 10 for a legacy
//! device without them (§5.1.6.1), all fields little-endian (a legacy
//! device uses the guest's order, little-endian on AArch64).

/// VIRTIO_NET_F_CSUM: the device completes partial checksums of frames
/// we send (§5.1.3).
pub const F_CSUM: u64 = 1 << 0;
/// VIRTIO_NET_F_GUEST_CSUM: we take frames with partial checksums, and
/// the device may tell us a checksum is valid (§5.1.3).
pub const F_GUEST_CSUM: u64 = 1 << 1;
/// VIRTIO_NET_F_MAC: the MAC address is in config space.
pub const F_MAC: u64 = 1 << 5;
/// VIRTIO_NET_F_MRG_RXBUF: received frames may span buffers (and the
/// header has `num_buffers`).
pub const F_MRG_RXBUF: u64 = 1 << 15;

/// `flags`: the checksum from `csum_start` on is partial (§5.1.6.2).
pub const HDR_F_NEEDS_CSUM: u8 = 1;
/// `flags`: the device checked the frame's checksum (§5.1.6.4).
pub const HDR_F_DATA_VALID: u8 = 2;
/// `gso_type`: not a segmentation offload.
pub const HDR_GSO_NONE: u8 = 0;

/// The header with `VIRTIO_F_VERSION_1` or `VIRTIO_NET_F_MRG_RXBUF`.
pub const HEADER_LEN: usize = 12;
/// The legacy header without either (no `num_buffers`).
pub const LEGACY_HEADER_LEN: usize = 10;

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
}

#[cfg(test)]
mod tests {
    use super::*;

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
