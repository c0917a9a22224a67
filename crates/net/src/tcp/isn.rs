//! Initial sequence numbers per RFC 6528: `ISN = M + F(4-tuple, key)`,
//! where `M` is a clock ticking every 4 microseconds and `F` is
//! SipHash-2-4 of the connection's addresses and ports under a secret key.
//! Numbers differ per connection (an off-path attacker cannot guess them
//! without the key) and grow with time for one 4-tuple (an old duplicate
//! segment of a previous incarnation lands outside the new window).

use super::seq::SeqNumber;
use super::siphash::siphash24;
use crate::time::Instant;
use crate::wire::Ipv4Address;

/// The clock `M` of RFC 6528 ticks once per this many microseconds.
pub const ISN_TICK_MICROS: u64 = 4;

/// Makes ISNs from a secret key.
#[derive(Clone, Debug)]
pub struct IsnGenerator {
    key: [u8; 16],
}

impl IsnGenerator {
    /// A generator keyed by `key`: take it from an unpredictable source at
    /// boot (a cycle counter read after device set-up, virtio-rng, ...).
    pub const fn new(key: [u8; 16]) -> IsnGenerator {
        IsnGenerator { key }
    }

    /// SipHash-2-4 of `data` under the key (for SYN cookies).
    pub fn hash(&self, data: &[u8]) -> u64 {
        siphash24(&self.key, data)
    }

    /// The ISN for a connection from `local` to `remote` opened at `now`.
    pub fn isn(
        &self,
        now: Instant,
        local: (Ipv4Address, u16),
        remote: (Ipv4Address, u16),
    ) -> SeqNumber {
        let mut tuple = [0u8; 12];
        tuple[..4].copy_from_slice(&local.0 .0);
        tuple[4..6].copy_from_slice(&local.1.to_be_bytes());
        tuple[6..10].copy_from_slice(&remote.0 .0);
        tuple[10..].copy_from_slice(&remote.1.to_be_bytes());
        let f = siphash24(&self.key, &tuple) as u32;
        // M wraps every 2^32 ticks (about 4.8 hours), as RFC 6528 allows.
        let m = (now.micros() / ISN_TICK_MICROS) as u32;
        SeqNumber(m.wrapping_add(f))
    }

    /// The offset of our timestamp clock towards `remote` from `local`
    /// (RFC 7323 §7): keyed like the ISN, so it cannot be guessed, and
    /// of the addresses only, so the timestamps one host pair sees grow
    /// across connections (what RFC 6191 asks to reuse a TIME-WAIT).
    pub fn ts_offset(&self, local: Ipv4Address, remote: Ipv4Address) -> u32 {
        let mut pair = [0u8; 9];
        pair[0] = b'T'; // apart from every 12-byte ISN input
        pair[1..5].copy_from_slice(&local.0);
        pair[5..].copy_from_slice(&remote.0);
        siphash24(&self.key, &pair) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Ipv4Address = Ipv4Address::new(10, 0, 2, 15);
    const B: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);

    #[test]
    fn differs_per_tuple_and_key() {
        let g = IsnGenerator::new([7; 16]);
        let t = Instant(1_000_000);
        let x = g.isn(t, (A, 80), (B, 40000));
        assert_ne!(x, g.isn(t, (A, 80), (B, 40001)));
        assert_ne!(x, g.isn(t, (A, 81), (B, 40000)));
        assert_ne!(x, g.isn(t, (B, 80), (A, 40000)));
        assert_ne!(x, IsnGenerator::new([8; 16]).isn(t, (A, 80), (B, 40000)));
        assert_eq!(x, g.isn(t, (A, 80), (B, 40000)), "deterministic");
    }

    #[test]
    fn timestamp_offset_per_address_pair_and_key() {
        let g = IsnGenerator::new([7; 16]);
        let x = g.ts_offset(A, B);
        assert_eq!(x, g.ts_offset(A, B));
        assert_ne!(x, g.ts_offset(B, A));
        assert_ne!(x, IsnGenerator::new([8; 16]).ts_offset(A, B));
    }

    #[test]
    fn grows_with_the_clock() {
        let g = IsnGenerator::new([1; 16]);
        let t = Instant(5_000_000);
        let x = g.isn(t, (A, 80), (B, 5555));
        let later = g.isn(
            t + crate::time::Duration::from_millis(1),
            (A, 80),
            (B, 5555),
        );
        assert_eq!(later.diff(x), 250, "one tick per 4 us");
        assert!(later > x);
    }
}
