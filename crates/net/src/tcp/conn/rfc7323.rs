//! RFC 7323 for one connection: window scaling (§2) and timestamps (§3),
//! with what timestamps are for: round-trip measurement (RTTM, §4) and
//! protection against wrapped sequence numbers (PAWS, §5).
//!
//! Both are negotiated in the handshake and used only when both SYNs
//! carry the option (§2.2, §3.2); a peer that offers neither gets a
//! connection exactly as without them. SYN cookies remember neither, so
//! a cookie's SYN-ACK offers neither.
//!
//! * Window scaling: our shift is the smallest that lets the receive
//!   buffer's size fit the 16-bit field ([`window_shift`]); the peer's is
//!   honoured up to [`TCP_MAX_WINDOW_SHIFT`] (§2.3). Windows in SYNs are
//!   never scaled. Our advertisement is rounded down to the scale's
//!   granularity, so it can retract by less than one unit (§2.4);
//!   acceptability is judged against the real free space, which never
//!   retracts.
//! * Timestamps: TSval is a millisecond clock ([`TCP_TIMESTAMP_TICK`])
//!   plus a per-host-pair offset (§7: the clock's value is not exposed,
//!   yet it stays monotonic across incarnations, which RFC 6191 reuse of
//!   TIME-WAIT needs of us as a client). Every segment but bare RSTs
//!   carries the option once agreed; a non-RST segment without it is
//!   dropped (§3.2). TS.Recent follows §4.3: taken from a segment that
//!   passes PAWS and starts at or before Last.ACK.sent, so delayed ACKs
//!   echo the earliest unacknowledged segment and ACKs of out-of-order
//!   data (the ones carrying SACK blocks) echo the segment that last
//!   advanced the window, never the later one: the sender's RTT
//!   estimate errs long, not short. PAWS (§5.3 R1): a non-RST segment
//!   whose TSval is below TS.Recent (modulo 2^32, §5.2) is dropped and
//!   answered with an ACK. TS.Recent never goes stale (§5.5's 24 days):
//!   the idle timeout ends a silent connection long before.
//! * RTTM with the RFC 6298 estimator: one sample per round trip as
//!   before (the estimator's gains assume that, RFC 7323 Appendix G),
//!   taken when an ACK that advances SND.UNA covers the timed segment,
//!   but measured from its TSecr (§4.2). The echo names the transmission
//!   that was acknowledged, so with timestamps Karn's rule is not needed:
//!   timing survives retransmissions and recovery.

use super::super::seq::SeqNumber;
use crate::limits::{TCP_MAX_WINDOW_SHIFT, TCP_TIMESTAMP_TICK};
use crate::time::{Duration, Instant};
use crate::wire::{TcpRepr, TcpTimestamps};

/// The smallest shift that fits a window of `buffer` bytes in 16 bits,
/// at most [`TCP_MAX_WINDOW_SHIFT`].
pub(crate) const fn window_shift(buffer: usize) -> u8 {
    let mut shift = 0;
    while shift < TCP_MAX_WINDOW_SHIFT && (buffer >> shift) > u16::MAX as usize {
        shift += 1;
    }
    shift
}

/// What we offer in a SYN, or accept in a peer's SYN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Offer {
    /// SACK-permitted (RFC 2018).
    pub sack: bool,
    /// Our window shift, if scaling is offered.
    pub window_shift: Option<u8>,
    /// Timestamps, and the offset our clock gets in them.
    pub timestamps: Option<u32>,
}

/// Why a segment fails the RFC 7323 checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reject {
    /// Timestamps are in use and the segment (not a RST) has none:
    /// dropped silently (§3.2).
    NoTimestamp,
    /// PAWS (§5.3 R1): an old duplicate; dropped and answered with an ACK.
    Paws,
}

/// The RFC 7323 state of a connection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rfc7323 {
    /// Window scaling: in SYN-SENT, that we offer it; once the peer's
    /// SYN is in, that both sides agreed.
    pub scaling: bool,
    /// Shift of the peer's windows (its SYN's, at most 14).
    pub snd_shift: u8,
    /// Shift of our windows.
    pub rcv_shift: u8,
    /// Timestamps: offered (SYN-SENT), then agreed.
    pub timestamps: bool,
    /// TS.Recent (§4.3).
    pub ts_recent: u32,
    /// Added to our clock in TSval.
    pub ts_offset: u32,
    /// Last.ACK.sent (§4.3): the ACK field of our latest segment.
    pub last_ack_sent: SeqNumber,
}

/// Whether timestamp `a` is before `b`, modulo 2^32 (§5.2).
pub(crate) fn ts_before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

impl Rfc7323 {
    /// Neither in use (all zero bytes).
    pub const fn off() -> Rfc7323 {
        Rfc7323 {
            scaling: false,
            snd_shift: 0,
            rcv_shift: 0,
            timestamps: false,
            ts_recent: 0,
            ts_offset: 0,
            last_ack_sent: SeqNumber(0),
        }
    }

    /// What we offer in our own SYN (active open).
    pub fn offered(offer: &Offer) -> Rfc7323 {
        Rfc7323 {
            scaling: offer.window_shift.is_some(),
            rcv_shift: offer.window_shift.unwrap_or(0),
            timestamps: offer.timestamps.is_some(),
            ts_offset: offer.timestamps.unwrap_or(0),
            ..Rfc7323::off()
        }
    }

    /// The peer's SYN (or SYN-ACK) is in, and we offer (or offered)
    /// `offer`: each option is on when both sides carry it.
    pub fn negotiate(&mut self, syn: &TcpRepr, offer: &Offer) {
        *self = Rfc7323::off();
        if let (Some(ours), Some(theirs)) = (offer.window_shift, syn.window_scale) {
            self.scaling = true;
            self.rcv_shift = ours;
            self.snd_shift = theirs.min(TCP_MAX_WINDOW_SHIFT);
        }
        if let (Some(offset), Some(ts)) = (offer.timestamps, syn.timestamps) {
            self.timestamps = true;
            self.ts_offset = offset;
            self.ts_recent = ts.tsval;
        }
    }

    /// What we offered, as an [`Offer`] (to take the SYN-ACK with).
    pub fn as_offer(&self, sack: bool) -> Offer {
        Offer {
            sack,
            window_shift: self.scaling.then_some(self.rcv_shift),
            timestamps: self.timestamps.then_some(self.ts_offset),
        }
    }

    /// Our TSval at `now`.
    pub fn tsval(&self, now: Instant) -> u32 {
        ((now.micros() / TCP_TIMESTAMP_TICK.0) as u32).wrapping_add(self.ts_offset)
    }

    /// The Timestamps option of a segment we send at `now` (`acking`: it
    /// carries an ACK, so TSecr is TS.Recent; otherwise 0, §3.2).
    pub fn option(&self, now: Instant, acking: bool) -> Option<TcpTimestamps> {
        self.timestamps.then(|| TcpTimestamps {
            tsval: self.tsval(now),
            tsecr: if acking { self.ts_recent } else { 0 },
        })
    }

    /// The checks a segment must pass before any other (RFC 7323
    /// Appendix D): the option present, and PAWS.
    pub fn check(&self, seg: &TcpRepr, rst: bool) -> Result<(), Reject> {
        if !self.timestamps || rst {
            return Ok(());
        }
        match seg.timestamps {
            None => Err(Reject::NoTimestamp),
            Some(ts) if ts_before(ts.tsval, self.ts_recent) => Err(Reject::Paws),
            Some(_) => Ok(()),
        }
    }

    /// An acceptable segment: TS.Recent takes its TSval if it starts at
    /// or before Last.ACK.sent (§4.3 rule 2; PAWS has already refused
    /// older TSvals).
    pub fn update_recent(&mut self, seg: &TcpRepr) {
        if let Some(ts) = seg.timestamps.filter(|_| self.timestamps) {
            if seg.seq_number <= self.last_ack_sent && !ts_before(ts.tsval, self.ts_recent) {
                self.ts_recent = ts.tsval;
            }
        }
    }

    /// The round trip `seg`'s TSecr tells at `now` (§4.2), if timestamps
    /// are in use; an echo from the future is no sample.
    pub fn echoed_rtt(&self, seg: &TcpRepr, now: Instant) -> Option<Duration> {
        let ts = seg.timestamps.filter(|_| self.timestamps)?;
        let ticks = self.tsval(now).wrapping_sub(ts.tsecr);
        (ticks as i32 >= 0).then(|| Duration(u64::from(ticks) * TCP_TIMESTAMP_TICK.0))
    }

    /// A window field from the peer in bytes (never scaled in a SYN).
    pub fn peer_window(&self, field: u16) -> u32 {
        u32::from(field) << self.snd_shift
    }

    /// The largest window we can advertise.
    pub fn max_rcv_window(&self) -> usize {
        usize::from(u16::MAX) << self.rcv_shift
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_fits_the_buffer_and_stops_at_fourteen() {
        assert_eq!(window_shift(0), 0);
        assert_eq!(window_shift(65535), 0);
        assert_eq!(window_shift(65536), 1);
        assert_eq!(window_shift(4 << 20), 7);
        assert_eq!(window_shift(65535 << 14), TCP_MAX_WINDOW_SHIFT);
        assert_eq!(window_shift((65535 << 14) + 1), TCP_MAX_WINDOW_SHIFT);
        assert_eq!(window_shift(usize::MAX), TCP_MAX_WINDOW_SHIFT);
    }

    #[test]
    fn timestamps_compare_modulo_two_to_the_32() {
        assert!(ts_before(1, 2));
        assert!(!ts_before(2, 2));
        assert!(ts_before(u32::MAX, 0), "0 follows u32::MAX");
        assert!(!ts_before(0, u32::MAX));
        assert!(ts_before(1 << 31 | 1, 0), "2^31 - 1 behind");
        assert!(!ts_before(5, 1 << 31 | 10));
    }

    #[test]
    fn tsval_ticks_once_per_tick() {
        let r = Rfc7323 {
            timestamps: true,
            ts_offset: u32::MAX,
            ..Rfc7323::off()
        };
        let t0 = Instant(5 * TCP_TIMESTAMP_TICK.0);
        assert_eq!(r.tsval(t0), 4, "the offset wraps");
        assert_eq!(r.tsval(t0 + Duration(TCP_TIMESTAMP_TICK.0 - 1)), 4);
        assert_eq!(r.tsval(t0 + TCP_TIMESTAMP_TICK), 5);
    }
}
