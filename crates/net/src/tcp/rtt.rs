//! The retransmission timeout of RFC 6298: a smoothed round-trip time and
//! its variation from samples (never from retransmitted segments: Karn's
//! rule is the caller's, by only timing fresh data), an initial RTO of
//! [`INITIAL_RTO`], a floor of [`MIN_RTO`], a ceiling of [`MAX_RTO`], and
//! doubling on every expiry. The doubling is kept apart from the estimate
//! and cleared when an ACK acknowledges new data (as Linux does), so one
//! unlucky loss streak does not leave a connection with a minute-long RTO
//! until its next clean sample.

use crate::limits::{INITIAL_RTO, MAX_RTO, MIN_RTO};
use crate::time::Duration;

/// Clock granularity `G` of RFC 6298 §2: our clock counts microseconds,
/// but the kernel's poll loop wakes with about this resolution.
const GRANULARITY: u64 = 1_000;

/// SRTT, RTTVAR and the current RTO, all in microseconds. Kept in 32
/// bits (an hour; RTOs stop at [`MAX_RTO`] and longer samples saturate):
/// the estimator sits in every connection's control block, which the
/// stack keeps small (see `tcp::live`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RttEstimator {
    srtt: Option<u32>,
    rttvar: u32,
    rto: u32,
    backoff: u8,
}

impl Default for RttEstimator {
    fn default() -> Self {
        Self::new()
    }
}

impl RttEstimator {
    /// No sample yet: RTO is [`INITIAL_RTO`] (RFC 6298 §2.1).
    pub const fn new() -> RttEstimator {
        RttEstimator {
            srtt: None,
            rttvar: 0,
            rto: INITIAL_RTO.0 as u32,
            backoff: 0,
        }
    }

    /// All zero: the value in a free connection slot, so that a `static`
    /// stack is all zero bytes and lands in `.bss`. [`RttEstimator::new`]
    /// replaces it when a connection opens.
    pub(crate) const fn blank() -> RttEstimator {
        RttEstimator {
            srtt: None,
            rttvar: 0,
            rto: 0,
            backoff: 0,
        }
    }

    /// The current retransmission timeout, backoff included.
    pub fn rto(&self) -> Duration {
        Duration(
            u64::from(self.rto)
                .saturating_mul(1 << self.backoff)
                .min(MAX_RTO.0),
        )
    }

    /// The smoothed round-trip time, once measured.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt.map(|us| Duration(u64::from(us)))
    }

    /// Takes one round-trip sample (RFC 6298 §2.2 and §2.3).
    pub fn sample(&mut self, r: Duration) {
        let r = u32::try_from(r.0).unwrap_or(u32::MAX);
        let srtt = match self.srtt {
            None => {
                self.rttvar = r / 2;
                r
            }
            Some(srtt) => {
                // RTTVAR <- 3/4 RTTVAR + 1/4 |SRTT - R'|; SRTT <- 7/8 SRTT + 1/8 R'.
                let var = (3 * u64::from(self.rttvar) + u64::from(srtt.abs_diff(r))) / 4;
                self.rttvar = var as u32;
                ((7 * u64::from(srtt) + u64::from(r)) / 8) as u32
            }
        };
        self.srtt = Some(srtt);
        let rto = u64::from(srtt) + GRANULARITY.max(4 * u64::from(self.rttvar));
        self.rto = rto.clamp(MIN_RTO.0, MAX_RTO.0) as u32;
    }

    /// The timer expired: back off (RFC 6298 §5.5).
    pub fn back_off(&mut self) {
        if self.rto() < MAX_RTO {
            self.backoff += 1;
        }
    }

    /// New data was acknowledged: the path works again.
    pub fn reset_backoff(&mut self) {
        self.backoff = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_sample_then_smoothing() {
        let mut e = RttEstimator::new();
        assert_eq!(e.rto(), INITIAL_RTO);
        e.sample(Duration::from_millis(100));
        // SRTT 100 ms, RTTVAR 50 ms, RTO = 100 + 4*50 = 300 ms.
        assert_eq!(e.srtt(), Some(Duration::from_millis(100)));
        assert_eq!(e.rto(), Duration::from_millis(300));
        e.sample(Duration::from_millis(100));
        // RTTVAR 37.5 ms, RTO = 100 + 150 = 250 ms.
        assert_eq!(e.rto(), Duration::from_millis(250));
    }

    #[test]
    fn floor_ceiling_and_backoff() {
        let mut e = RttEstimator::new();
        e.sample(Duration::from_millis(1));
        assert_eq!(e.rto(), MIN_RTO, "a LAN RTT is floored");
        e.back_off();
        assert_eq!(e.rto(), Duration(MIN_RTO.0 * 2));
        for _ in 0..40 {
            e.back_off();
        }
        assert_eq!(e.rto(), MAX_RTO);
        e.reset_backoff();
        assert_eq!(e.rto(), MIN_RTO);
    }

    #[test]
    fn samples_past_32_bits_saturate() {
        let mut e = RttEstimator::new();
        e.sample(Duration::from_secs(5_000));
        assert_eq!(e.srtt(), Some(Duration(u64::from(u32::MAX))));
        assert_eq!(e.rto(), MAX_RTO);
        e.sample(Duration::from_millis(1));
        assert!(e.srtt() < Some(Duration(u64::from(u32::MAX))));
    }
}
