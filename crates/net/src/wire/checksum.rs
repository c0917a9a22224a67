//! The Internet checksum (RFC 1071): the ones' complement of the ones'
//! complement sum of 16-bit big-endian words, an odd last byte padded with
//! zero. Used by the IPv4 header and ICMP here, and by TCP and UDP (with
//! [`pseudo_header`]) later.

use super::{Ipv4Address, Protocol};

/// Adds `data` as big-endian 16-bit words to `acc` without folding.
/// Wide enough that no input below 2^47 bytes can overflow.
fn accumulate(mut acc: u64, data: &[u8]) -> u64 {
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Folds a wide sum into 16 bits with end-around carry.
fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The folded (not complemented) ones' complement sum of `data`.
pub fn sum(data: &[u8]) -> u16 {
    fold(accumulate(0, data))
}

/// Combines folded partial sums (from [`sum`] and [`pseudo_header`]) into
/// one folded sum, still not complemented.
pub fn combine(parts: &[u16]) -> u16 {
    fold(parts.iter().map(|&p| u64::from(p)).sum())
}

/// The checksum to put in a header: the complement of the sum of `data`
/// (with the checksum field zeroed by the caller).
pub fn checksum(data: &[u8]) -> u16 {
    !sum(data)
}

/// Whether `data`, checksum field included, sums to all ones (RFC 1071's
/// receive check).
pub fn verify(data: &[u8]) -> bool {
    sum(data) == 0xffff
}

/// Completes a checksum left partial (VIRTIO 1.2 §5.1.6.2's
/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`): the 16-bit field at `start + offset` of
/// `data` holds the folded sum of what else the checksum covers (the
/// pseudo-header, see [`pseudo_header`]); the complement of the sum of
/// `data[start..]`, that field included, replaces it. What a device with
/// checksum offload does, in software. `false` (nothing written) when the
/// field lies past the end of `data`.
pub fn complete_partial(data: &mut [u8], start: usize, offset: usize) -> bool {
    let at = start.saturating_add(offset);
    if at.saturating_add(2) > data.len() {
        return false;
    }
    let c = checksum(&data[start..]);
    data[at..at + 2].copy_from_slice(&c.to_be_bytes());
    true
}

/// The folded sum of the TCP/UDP pseudo-header (RFC 793 §3.1, RFC 768):
/// source, destination, zero, protocol, and the upper-layer length.
///
/// A TCP segment's checksum is `!combine(&[pseudo_header(..), sum(segment)])`
/// computed with the checksum field zeroed, and a received segment is valid
/// when `combine(&[pseudo_header(..), sum(segment)]) == 0xffff`.
pub fn pseudo_header(src: Ipv4Address, dst: Ipv4Address, protocol: Protocol, length: u16) -> u16 {
    let mut acc = accumulate(0, &src.0);
    acc = accumulate(acc, &dst.0);
    acc += u64::from(u8::from(protocol));
    acc += u64::from(length);
    fold(acc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(sum(&data), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(sum(&[0xab]), 0xab00);
        assert_eq!(sum(&[0x12, 0x34, 0xab]), 0x1234 + 0xab00);
    }

    #[test]
    fn carries_wrap_around() {
        assert_eq!(sum(&[0xff, 0xff, 0x00, 0x01]), 0x0001);
        assert_eq!(combine(&[0xffff, 0x0002]), 0x0002);
    }

    #[test]
    fn verify_accepts_what_checksum_wrote() {
        let mut data = [0x45, 0x00, 0x00, 0x54, 0x12, 0x34, 0, 0, 0xde, 0xad];
        let c = checksum(&data);
        data[6..8].copy_from_slice(&c.to_be_bytes());
        assert!(verify(&data));
        data[0] ^= 1;
        assert!(!verify(&data));
    }

    #[test]
    fn a_completed_partial_checksum_is_the_full_one() {
        let src = Ipv4Address([10, 0, 2, 15]);
        let dst = Ipv4Address([10, 0, 2, 2]);
        // Two bytes of something else, then a segment of 21 bytes with
        // its checksum field at offset 16.
        let mut data = [0u8; 23];
        for (i, b) in data.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37) ^ 0x5a;
        }
        data[18..20].fill(0);
        let pseudo = pseudo_header(src, dst, Protocol::Tcp, 21);
        let full = !combine(&[pseudo, sum(&data[2..])]);
        data[18..20].copy_from_slice(&pseudo.to_be_bytes());
        assert!(complete_partial(&mut data, 2, 16));
        assert_eq!(data[18..20], full.to_be_bytes());
        assert_eq!(combine(&[pseudo, sum(&data[2..])]), 0xffff, "verifies");
        // The field must fit: at the end, and one byte past it.
        assert!(complete_partial(&mut data, 2, 19));
        let before = data;
        assert!(!complete_partial(&mut data, 2, 20));
        assert!(!complete_partial(&mut data, usize::MAX, 16));
        assert_eq!(data, before, "nothing written");
    }

    #[test]
    fn pseudo_header_matches_the_spelled_out_bytes() {
        let src = Ipv4Address([10, 0, 2, 15]);
        let dst = Ipv4Address([10, 0, 2, 2]);
        let spelled = [10, 0, 2, 15, 10, 0, 2, 2, 0, 6, 0, 20];
        assert_eq!(pseudo_header(src, dst, Protocol::Tcp, 20), sum(&spelled));
    }
}
