//! SYN cookies (RFC 4987 §3.6): when a listener's backlog or the slot
//! table is full, a SYN is answered with a SYN-ACK whose initial sequence
//! number *is* the connection's state, and nothing is stored. The ACK that
//! completes the handshake acknowledges `cookie + 1`; if the cookie checks
//! out, the connection is built from it then. A flood of spoofed SYNs thus
//! holds no slot, and only a peer that received our SYN-ACK (so owns its
//! address) can make one.
//!
//! The cookie's 32 bits:
//!
//! ```text
//!  31      27 26  25  24  23                                   0
//! +----------+------+---+--------------------------------------+
//! | period   | MSS  | S | SipHash-2-4(key, tuple, peer ISN,    |
//! | mod 32   | index|   |   period, MSS index, S), low 24 bits |
//! +----------+------+---+--------------------------------------+
//! ```
//!
//! `period` counts [`TCP_SYN_COOKIE_PERIOD`]s since boot; a cookie from
//! this period or the one before is valid (so between one and two periods
//! old at most). The hash binds the cookie to the 4-tuple and the peer's
//! ISN under the stack's secret key: a forged ACK passes with odds of 1 in
//! 2^24, and replaying an old one fails once its period is gone.
//!
//! What a cookie loses (the trade-offs): the peer's MSS is rounded down to
//! one of [`MSS_TABLE`]'s four values; SACK-permitted survives in one bit;
//! options we do not implement (window scale, timestamps) would be lost
//! and must be carried by timestamps once they exist; the SYN-ACK is not
//! retransmitted (the peer's SYN retransmission brings a new one); data on
//! the SYN is dropped (it is anyway). A connection made from a cookie is
//! otherwise a normal one.

use super::isn::IsnGenerator;
use super::seq::SeqNumber;
use crate::limits::{TCP_DEFAULT_PEER_MSS, TCP_MSS, TCP_SYN_COOKIE_PERIOD};
use crate::tcp::Endpoint;
use crate::time::Instant;

/// The MSS values a cookie can say, smallest first (536: the default of
/// RFC 9293 §3.7.1; 1220: IPv6-minimum-sized paths and tunnels; 1440 and
/// 1460: Ethernet with and without a little encapsulation).
pub const MSS_TABLE: [u16; 4] = [TCP_DEFAULT_PEER_MSS, 1220, 1440, TCP_MSS];

const HASH_BITS: u32 = 24;
const HASH_MASK: u32 = (1 << HASH_BITS) - 1;
const SACK_BIT: u32 = 1 << 24;
const MSS_SHIFT: u32 = 25;
const PERIOD_SHIFT: u32 = 27;
/// Periods a cookie stays valid: this one and the one before.
const PERIODS_VALID: u64 = 2;

/// What a valid cookie carries back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookieSyn {
    /// The peer's MSS, rounded down to a [`MSS_TABLE`] value.
    pub mss: u16,
    /// Whether the peer's SYN offered SACK (and we answered it did).
    pub sack: bool,
}

fn period(now: Instant) -> u64 {
    now.micros() / TCP_SYN_COOKIE_PERIOD.0
}

/// The index of the largest table MSS not above `mss`.
fn mss_index(mss: u16) -> usize {
    MSS_TABLE.iter().rposition(|&m| m <= mss).unwrap_or(0)
}

fn mac(
    key: &IsnGenerator,
    local: Endpoint,
    remote: Endpoint,
    peer_isn: SeqNumber,
    period: u64,
    low: u8,
) -> u32 {
    let mut data = [0u8; 26];
    data[0] = b'C'; // Keeps these hashes apart from the ISN's.
    data[1..5].copy_from_slice(&local.0 .0);
    data[5..7].copy_from_slice(&local.1.to_be_bytes());
    data[7..11].copy_from_slice(&remote.0 .0);
    data[11..13].copy_from_slice(&remote.1.to_be_bytes());
    data[13..17].copy_from_slice(&peer_isn.0.to_be_bytes());
    data[17..25].copy_from_slice(&period.to_be_bytes());
    data[25] = low;
    key.hash(&data) as u32 & HASH_MASK
}

/// The cookie for a SYN from `remote` to `local` with ISN `peer_isn`,
/// offering `mss` (already defaulted when absent) and SACK if `sack`.
pub fn make(
    key: &IsnGenerator,
    now: Instant,
    local: Endpoint,
    remote: Endpoint,
    peer_isn: SeqNumber,
    syn: CookieSyn,
) -> SeqNumber {
    let p = period(now);
    let low = ((mss_index(syn.mss) as u32) << MSS_SHIFT) | (u32::from(syn.sack) * SACK_BIT);
    let h = mac(key, local, remote, peer_isn, p, (low >> 24) as u8);
    SeqNumber(((p as u32) << PERIOD_SHIFT) | low | h)
}

/// Checks the cookie an ACK brings back (`ack - 1`) for the connection
/// whose peer ISN is `peer_isn` (`seq - 1` of that ACK): what the SYN
/// said, or `None` for a forged, corrupted or expired cookie.
pub fn check(
    key: &IsnGenerator,
    now: Instant,
    local: Endpoint,
    remote: Endpoint,
    peer_isn: SeqNumber,
    cookie: SeqNumber,
) -> Option<CookieSyn> {
    let c = cookie.0;
    let now_p = period(now);
    let age = u64::from((now_p as u32).wrapping_sub(c >> PERIOD_SHIFT) & 0x1f);
    if age >= PERIODS_VALID || age > now_p {
        return None;
    }
    let low = ((c >> 24) & 0x7) as u8;
    if mac(key, local, remote, peer_isn, now_p - age, low) != c & HASH_MASK {
        return None;
    }
    Some(CookieSyn {
        mss: MSS_TABLE[((c >> MSS_SHIFT) & 0x3) as usize],
        sack: c & SACK_BIT != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Duration;
    use crate::wire::Ipv4Address;

    const US: Endpoint = (Ipv4Address::new(10, 0, 3, 15), 80);
    const PEER: Endpoint = (Ipv4Address::new(10, 0, 3, 1), 40000);
    const ISN: SeqNumber = SeqNumber(0x1234_5678);
    const T: Instant = Instant(100_000_000);

    fn key() -> IsnGenerator {
        IsnGenerator::new([9; 16])
    }

    fn syn(mss: u16, sack: bool) -> CookieSyn {
        CookieSyn { mss, sack }
    }

    #[test]
    fn valid_cookie_round_trips_mss_and_sack() {
        for (offered, kept) in [
            (1460, 1460),
            (1400, 1220),
            (9000, 1460),
            (536, 536),
            (100, 536),
        ] {
            for sack in [false, true] {
                let c = make(&key(), T, US, PEER, ISN, syn(offered, sack));
                assert_eq!(
                    check(&key(), T, US, PEER, ISN, c),
                    Some(syn(kept, sack)),
                    "mss {offered} sack {sack}"
                );
            }
        }
    }

    #[test]
    fn valid_for_this_period_and_the_next_only() {
        let c = make(&key(), T, US, PEER, ISN, syn(1460, true));
        let start = Instant(T.0 - T.0 % TCP_SYN_COOKIE_PERIOD.0);
        let last_valid = start + Duration(2 * TCP_SYN_COOKIE_PERIOD.0 - 1);
        assert!(check(&key(), last_valid, US, PEER, ISN, c).is_some());
        let expired = start + Duration(2 * TCP_SYN_COOKIE_PERIOD.0);
        assert_eq!(check(&key(), expired, US, PEER, ISN, c), None);
        // 32 periods on, the 5-bit counter comes round: still refused.
        let wrapped = T + Duration(32 * TCP_SYN_COOKIE_PERIOD.0);
        assert_eq!(check(&key(), wrapped, US, PEER, ISN, c), None);
        // And a cookie from the future (a forged period) too.
        let early = Instant(start.0 - 1);
        assert_eq!(check(&key(), early, US, PEER, ISN, c), None);
    }

    #[test]
    fn forged_or_misdirected_cookies_fail() {
        let c = make(&key(), T, US, PEER, ISN, syn(1460, false));
        let other_port = (PEER.0, PEER.1 + 1);
        assert_eq!(check(&key(), T, US, other_port, ISN, c), None);
        assert_eq!(check(&key(), T, US, PEER, ISN + 1u32, c), None);
        assert_eq!(
            check(&IsnGenerator::new([8; 16]), T, US, PEER, ISN, c),
            None
        );
        // Flipping any one bit breaks it (the MSS and SACK bits too:
        // they are inside the hash).
        for bit in 0..32 {
            let bad = SeqNumber(c.0 ^ (1 << bit));
            assert_eq!(check(&key(), T, US, PEER, ISN, bad), None, "bit {bit}");
        }
    }

    #[test]
    fn random_guesses_almost_never_pass() {
        let mut accepted = 0;
        let mut x = 0x9e37_79b9u32;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if check(&key(), T, US, PEER, ISN, SeqNumber(x)).is_some() {
                accepted += 1;
            }
        }
        // Odds 2 / 32 (period) x 2^-24 (hash) per guess: expect ~0.001.
        assert!(accepted <= 1, "{accepted} of 200,000 random cookies passed");
    }
}
