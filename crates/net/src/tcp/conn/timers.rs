//! Every deadline of one connection, and its round-trip timing: the
//! retransmission timer (RFC 6298, doubling as the persist timer), the
//! delayed ACK, TIME-WAIT, and the bounds that free a slot a peer holds
//! (SYN-RECEIVED, idle, FIN-WAIT-2, send stall), with the moments they
//! are measured from.

use super::super::config::TcpConfig;
use super::super::counters::TcpCounters;
use super::super::rtt::RttEstimator;
use super::super::seq::SeqNumber;
use super::State;
use crate::limits::TCP_TIMESTAMP_TICK;
use crate::time::{Duration, Instant};

/// Why a connection is aborted with RST by a timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Abort {
    /// Half-open for `syn_received_timeout`.
    SynReceived,
    /// Nothing received for `idle_timeout`.
    Idle,
    /// In FIN-WAIT-2 for `fin_wait_2_timeout`.
    FinWait2,
    /// SND.UNA still for `send_stall_timeout` with data waiting.
    SendStall,
}

impl Abort {
    /// The counter this abort is counted in.
    pub fn counter(self, c: &mut TcpCounters) -> &mut u64 {
        match self {
            Abort::SynReceived => &mut c.syn_received_timeouts,
            Abort::Idle => &mut c.reaped_idle,
            Abort::FinWait2 => &mut c.fin_wait_2_timeouts,
            Abort::SendStall => &mut c.send_stall_aborts,
        }
    }
}

/// The timers and the moments they count from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timers {
    pub rtt: RttEstimator,
    /// Segment being timed: (ACK that ends it, when it was sent).
    pub rtt_timing: Option<(SeqNumber, Instant)>,
    pub retx_at: Option<Instant>,
    /// Expiries of the retransmission timer in a row.
    pub retries: u8,
    pub ack_due: Option<Instant>,
    pub time_wait_until: Instant,
    pub last_rx: Instant,
    pub opened: Instant,
    /// When the application closed (the lingering close starts).
    pub closed_at: Instant,
    /// When FIN-WAIT-2 began.
    pub fin_wait_2_since: Instant,
    /// When the peer's data last arrived.
    pub last_data_rx: Instant,
    /// When SND.UNA last moved, or nothing waited for an ACK (the
    /// send-stall clock).
    pub progress_at: Instant,
}

impl Timers {
    /// All zero bytes (a free slot).
    pub const fn closed() -> Timers {
        Timers {
            rtt: RttEstimator::blank(),
            rtt_timing: None,
            retx_at: None,
            retries: 0,
            ack_due: None,
            time_wait_until: Instant(0),
            last_rx: Instant(0),
            opened: Instant(0),
            closed_at: Instant(0),
            fin_wait_2_since: Instant(0),
            last_data_rx: Instant(0),
            progress_at: Instant(0),
        }
    }

    /// A connection opened at `now`.
    pub fn open(now: Instant) -> Timers {
        Timers {
            rtt: RttEstimator::new(),
            last_rx: now,
            opened: now,
            progress_at: now,
            ..Timers::closed()
        }
    }

    /// Starts the retransmission timer unless it runs (RFC 6298 §5.1).
    pub fn arm_retx(&mut self, now: Instant) {
        if self.retx_at.is_none() {
            self.retx_at = Some(now + self.rtt.rto());
        }
    }

    /// Times a segment that ends at `end`, sent at `now`, unless one is
    /// being timed (one sample per round trip, RFC 6298 §3).
    pub fn time_segment(&mut self, end: SeqNumber, now: Instant) {
        if self.rtt_timing.is_none() {
            self.rtt_timing = Some((end, now));
        }
    }

    /// An ACK up to `ack` came at `now`: ends the timed segment's round
    /// trip if it covers it. `echo` is the round trip the ACK's timestamp
    /// echo tells (RFC 7323 §4.2), when timestamps are in use: that is
    /// the sample, unless the echoed transmission is far older than the
    /// timed one (more than the timed one's own age again: the ACK
    /// answers an earlier copy of a segment we resent, and the resend
    /// was needless; a delayed ACK echoing the segment sent just before
    /// the timed one still counts). Without timestamps the sample is the
    /// time since the segment was sent, and Karn's rule (RFC 6298 §3) is
    /// kept by [`Timers::forget_timing`] whenever something is resent.
    pub fn sample_rtt(&mut self, ack: SeqNumber, now: Instant, echo: Option<Duration>) {
        let Some((end, sent)) = self.rtt_timing else {
            return;
        };
        if ack < end {
            return;
        }
        self.rtt_timing = None;
        let age = now - sent;
        match echo {
            Some(rtt) if rtt.0 > 2 * age.0 + TCP_TIMESTAMP_TICK.0 => {}
            Some(rtt) => self.rtt.sample(rtt),
            None => self.rtt.sample(age),
        }
    }

    /// Something is about to be resent: without timestamps (`echoes`
    /// false) the segment timed may be answered by the resend's ACK, so
    /// it is not timed (Karn). With them the resend is timed instead
    /// ([`Timers::on_resend`]).
    pub fn forget_timing(&mut self, echoes: bool) {
        if !echoes {
            self.rtt_timing = None;
        }
    }

    /// A segment ending at `end` was resent at `now`: with timestamps
    /// (`echoes`) its round trip is timed, the echo telling whether an
    /// ACK answers it or the copy before.
    pub fn on_resend(&mut self, end: SeqNumber, now: Instant, echoes: bool) {
        if echoes {
            self.rtt_timing = Some((end, now));
        }
    }

    /// New data was acknowledged at `now`: the path works, and the timer
    /// restarts while data is still outstanding (RFC 6298 §5.3).
    pub fn on_progress(&mut self, now: Instant, outstanding: bool) {
        self.progress_at = now;
        self.rtt.reset_backoff();
        self.retries = 0;
        self.retx_at = outstanding.then(|| now + self.rtt.rto());
    }

    /// The handshake's SYN is acknowledged: no timer, no retries.
    pub fn on_established(&mut self, ack: SeqNumber, now: Instant, echo: Option<Duration>) {
        self.retx_at = None;
        self.retries = 0;
        self.sample_rtt(ack, now, echo);
    }

    /// Whether the retransmission timer has expired.
    pub fn retx_expired(&self, now: Instant) -> bool {
        self.retx_at.is_some_and(|at| now >= at)
    }

    /// The timer expired: back off (RFC 6298 §5.5), stop it (the resend
    /// restarts it), and count the expiry (`echoes`: timestamps in use,
    /// see [`Timers::forget_timing`]).
    pub fn on_retx_expired(&mut self, echoes: bool) {
        self.retries += 1;
        self.rtt.back_off();
        self.forget_timing(echoes);
        self.retx_at = None;
    }

    /// The abort a bound calls for at `now`, if any, for a connection in
    /// `state` (`pending`: data or our FIN waits for an ACK). Restarts
    /// the send-stall clock when nothing waits.
    pub fn overdue(
        &mut self,
        state: State,
        pending: bool,
        now: Instant,
        cfg: &TcpConfig,
    ) -> Option<Abort> {
        if state == State::SynReceived && now >= self.opened + cfg.syn_received_timeout {
            return Some(Abort::SynReceived);
        }
        if !state.is_synchronized() {
            return None;
        }
        if now >= self.last_rx + cfg.idle_timeout {
            return Some(Abort::Idle);
        }
        if state == State::FinWait2 && now >= self.fin_wait_2_since + cfg.fin_wait_2_timeout {
            return Some(Abort::FinWait2);
        }
        if !pending {
            self.progress_at = now;
        } else if now >= self.progress_at + cfg.send_stall_timeout {
            return Some(Abort::SendStall);
        }
        None
    }

    /// The earliest deadline of a connection in `state` that has nothing
    /// to send now.
    pub fn next_deadline(&self, state: State, pending: bool, cfg: &TcpConfig) -> Option<Instant> {
        let deadline = if state == State::SynReceived {
            self.opened + cfg.syn_received_timeout
        } else {
            self.last_rx + cfg.idle_timeout
        };
        let fin_wait_2 =
            (state == State::FinWait2).then(|| self.fin_wait_2_since + cfg.fin_wait_2_timeout);
        let stall =
            (state.is_synchronized() && pending).then(|| self.progress_at + cfg.send_stall_timeout);
        [
            self.retx_at,
            self.ack_due,
            Some(deadline),
            fin_wait_2,
            stall,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}
