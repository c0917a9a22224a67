//! Loss recovery and congestion state of one connection: the congestion
//! window and slow-start threshold (RFC 5681), the recovery points of
//! NewReno (RFC 6582) and of a timeout, and the SACK scoreboard with RFC
//! 6675's pipe and `NextSeg`.
//!
//! With SACK, RFC 6675 (conservative, simplified): the peer's SACK blocks
//! go into a [`Scoreboard`]; an ACK that SACKs new data counts as a
//! duplicate even if it carries data (a peer that talks back acknowledges
//! on its data segments); recovery starts on the third such ACK or as
//! soon as the scoreboard says the first hole is lost; in recovery the
//! holes judged lost are resent, then new data, then other holes, all
//! while `pipe` stays under `cwnd`. After a timeout, go-back-N skips
//! SACKed data (a second timeout in a row forgets the scoreboard, in case
//! the peer discarded what it SACKed). Without SACK: NewReno on three
//! pure duplicate ACKs.
//!
//! The sender's sequence numbers live in the control block; every method
//! reads them through a [`Flight`].

use super::super::counters::{bump, TcpCounters};
use super::super::scoreboard::Scoreboard;
use super::super::seq::SeqNumber;
use crate::limits::TCP_DUP_ACK_THRESHOLD;
use crate::wire::TcpRepr;

/// Largest congestion window kept (far above any window we can use).
const MAX_CWND: usize = 1 << 30;

/// What of the sender's state recovery reads: SND.UNA, SND.NXT, SND.MAX
/// (the highest SND.NXT so far), the peer's MSS and whether SACK is on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Flight {
    pub una: SeqNumber,
    pub nxt: SeqNumber,
    pub max: SeqNumber,
    pub mss: usize,
    pub sack: bool,
}

impl Flight {
    /// Sent and not acknowledged (sequence space, SACKed or not).
    pub fn outstanding(&self) -> usize {
        self.nxt.since(self.una) as usize
    }
}

/// Congestion window, threshold, recovery points and scoreboard.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Recovery {
    pub cwnd: usize,
    pub ssthresh: usize,
    /// In fast recovery until this is acknowledged (RFC 6582's `recover`).
    pub recover: Option<SeqNumber>,
    /// After a timeout (with SACK): no fast recovery until this is
    /// acknowledged (RFC 6582 §3.2), so the ACKs of go-back-N do not
    /// start one.
    pub rto_recover: Option<SeqNumber>,
    /// RFC 6675's HighRxt, as an end: in SACK recovery, the holes below
    /// it have been resent.
    pub high_rxt: SeqNumber,
    /// SND.MAX when the segment at SND.UNA was last resent in SACK
    /// recovery: SACKs for data above it show that resend was lost.
    pub rexmit_una_mark: SeqNumber,
    pub dup_acks: u8,
    /// Resend the segment at SND.UNA at the next dispatch.
    pub fast_rexmit: bool,
    /// What the peer SACKed above SND.UNA.
    pub scoreboard: Scoreboard,
}

impl Recovery {
    /// All zero bytes (a free slot).
    pub const fn closed() -> Recovery {
        Recovery {
            cwnd: 0,
            ssthresh: 0,
            recover: None,
            rto_recover: None,
            high_rxt: SeqNumber(0),
            rexmit_una_mark: SeqNumber(0),
            dup_acks: 0,
            fast_rexmit: false,
            scoreboard: Scoreboard::new(),
        }
    }

    /// A new connection whose peer's MSS is `mss`: the RFC 5681 §3.1
    /// initial window, no threshold yet.
    pub fn open(mss: usize) -> Recovery {
        let mut r = Recovery::closed();
        r.ssthresh = MAX_CWND;
        r.set_initial_window(mss);
        r
    }

    /// The RFC 5681 §3.1 initial window for an MSS of `mss`.
    pub fn set_initial_window(&mut self, mss: usize) {
        self.cwnd = match mss {
            m if m > 2190 => 2 * m,
            m if m > 1095 => 3 * m,
            m => 4 * m,
        };
    }

    /// What the congestion window counts as in the network: the
    /// outstanding bytes less those SACKed, or in SACK recovery RFC
    /// 6675's pipe (lost holes left out, resent bytes in).
    pub fn in_flight(&self, f: &Flight) -> usize {
        if self.scoreboard.is_empty() {
            return f.outstanding();
        }
        if self.recover.is_some() {
            self.scoreboard.pipe(f.una, f.nxt, self.high_rxt, f.mss)
        } else {
            f.outstanding() - self.scoreboard.sacked_in(f.una, f.nxt) as usize
        }
    }

    /// Bytes that may go out now: the congestion window less what is in
    /// flight, within the peer's window `snd_wnd`. RFC 3042 limited
    /// transmit adds a segment for each of the first two duplicate ACKs,
    /// so a small window still produces the third duplicate that fast
    /// retransmit needs.
    pub fn usable(&self, f: &Flight, snd_wnd: u32) -> usize {
        let extra = if self.recover.is_none() {
            usize::from(self.dup_acks.min(2)) * f.mss
        } else {
            0
        };
        let congestion = (self.cwnd + extra).saturating_sub(self.in_flight(f));
        let peer = (snd_wnd as usize).saturating_sub(f.outstanding());
        congestion.min(peer)
    }

    /// In SACK recovery, the next hole to resend (RFC 6675 `NextSeg`
    /// rule 1: lost ones; rule 3 with `lost_only` false), as its start
    /// and length, if `cwnd` leaves room for a segment.
    pub fn hole_to_resend(&self, f: &Flight, lost_only: bool) -> Option<(SeqNumber, usize)> {
        if self.recover.is_none() || !f.sack {
            return None;
        }
        if self.cwnd < self.in_flight(f) + f.mss {
            return None;
        }
        let from = self.high_rxt.max(f.una);
        let (start, end) = self.scoreboard.next_hole(from, lost_only, f.mss)?;
        Some((start, end.min(f.nxt).since(start) as usize))
    }

    /// Starts fast recovery (RFC 5681 §3.2, RFC 6582; RFC 6675 with SACK).
    fn enter(&mut self, f: &Flight, c: &mut TcpCounters) {
        let flight = f.max.since(f.una) as usize;
        self.ssthresh = (flight / 2).max(2 * f.mss);
        self.cwnd = if f.sack {
            bump(&mut c.sack_recoveries);
            self.ssthresh
        } else {
            self.ssthresh + 3 * f.mss
        };
        self.recover = Some(f.max);
        self.high_rxt = f.una;
        self.fast_rexmit = true;
        bump(&mut c.fast_retransmits);
    }

    /// Records the SACK blocks of an ACK (of `ack`); returns how many
    /// bytes they SACKed that were not before. Blocks outside `ack ..
    /// SND.MAX` (old, D-SACK, bogus) are clipped or ignored.
    pub fn take_sack(
        &mut self,
        f: &Flight,
        seg: &TcpRepr,
        ack: SeqNumber,
        c: &mut TcpCounters,
    ) -> u32 {
        let floor = ack.max(f.una);
        let mut new_bytes = 0;
        for &(left, right) in seg.sack_blocks.iter().flatten() {
            // A block must lie within what is outstanding.
            if !(left < right && right <= f.max && right > floor) {
                continue;
            }
            let span = right.since(left);
            if span > f.max.since(floor) {
                continue;
            }
            bump(&mut c.sack_blocks_in);
            let done = self.scoreboard.insert(left.max(floor), right);
            new_bytes += done.new_bytes;
            if done.forgot {
                bump(&mut c.sack_scoreboard_full);
            }
        }
        new_bytes
    }

    /// An ACK of `acked` new bytes up to `ack` (`f` is the flight after
    /// it): the recovery points and the congestion window move.
    pub fn on_new_ack(&mut self, f: &Flight, acked: usize, ack: SeqNumber) {
        self.high_rxt = self.high_rxt.max(ack);
        self.scoreboard.trim(ack);
        if self.rto_recover.is_some_and(|r| ack >= r) {
            self.rto_recover = None;
        }
        let mss = f.mss;
        match self.recover {
            Some(recover) if ack >= recover => {
                self.cwnd = self.ssthresh;
                self.recover = None;
            }
            // RFC 6675: the scoreboard and pipe drive what is resent; a
            // resend of the new first hole is judged lost only on
            // evidence from data sent after now.
            Some(_) if f.sack => self.rexmit_una_mark = f.max,
            Some(_) => {
                // Partial ACK (RFC 6582): the next hole is lost too.
                self.fast_rexmit = true;
                self.cwnd = self.cwnd.saturating_sub(acked) + mss;
            }
            None if self.cwnd < self.ssthresh => self.cwnd += acked.min(mss),
            None => self.cwnd += (mss * mss / self.cwnd.max(1)).max(1),
        }
        self.cwnd = self.cwnd.min(MAX_CWND);
        self.dup_acks = 0;
    }

    /// A duplicate ACK (RFC 5681 §3.2): the third starts fast retransmit.
    /// Without SACK, each one in recovery inflates the window (with SACK,
    /// the pipe shrinks instead). Returns whether recovery started.
    pub fn on_dup_ack(&mut self, f: &Flight, c: &mut TcpCounters) -> bool {
        self.dup_acks = self.dup_acks.saturating_add(1);
        if self.recover.is_some() {
            if !f.sack {
                self.cwnd = (self.cwnd + f.mss).min(MAX_CWND);
            }
        } else if self.dup_acks >= TCP_DUP_ACK_THRESHOLD && self.rto_recover.is_none() {
            self.enter(f, c);
            return true;
        }
        false
    }

    /// After an ACK, with SACK information: starts recovery when the hole
    /// at SND.UNA is lost by RFC 6675's rules (before three duplicates,
    /// or without them when the ACKs ride on data), or by RFC 5827 early
    /// retransmit (fewer than four segments out and nothing more can be
    /// sent: one fewer SACKed than outstanding; `unsent` bytes wait and
    /// the peer's window is `snd_wnd`). In recovery, resends the segment
    /// at SND.UNA again when data sent after its last retransmission is
    /// SACKed past the loss threshold: that retransmission was lost too,
    /// and only a timeout would notice. Returns whether recovery started.
    pub fn loss_check(
        &mut self,
        f: &Flight,
        unsent: usize,
        snd_wnd: u32,
        c: &mut TcpCounters,
    ) -> bool {
        let mss = f.mss;
        if self.recover.is_some() {
            if self.high_rxt > f.una
                && !self.fast_rexmit
                && self.scoreboard.is_lost(self.rexmit_una_mark - 1u32, mss)
            {
                self.fast_rexmit = true;
                bump(&mut c.sack_lost_retransmits);
            }
            return false;
        }
        if self.rto_recover.is_some() {
            return false;
        }
        let segs = |bytes: usize| bytes.div_ceil(mss);
        let outstanding = segs(f.outstanding());
        let sacked = segs(self.scoreboard.sacked_in(f.una, f.nxt) as usize);
        let stalled = unsent == 0 || self.usable(f, snd_wnd) < mss.min(unsent);
        let early = outstanding < 4 && stalled && sacked + 1 >= outstanding;
        if early || self.scoreboard.is_lost(f.una, mss) {
            self.enter(f, c);
            return true;
        }
        false
    }

    /// The retransmission timer expired (RFC 5681 §3.1 eq. 4, RFC 6298
    /// §5.5); `retries` counts the expiries in a row, this one included,
    /// and `collapse` says whether the window collapses (not for a
    /// zero-window probe, nor before the handshake is done). Go-back-N
    /// follows: the caller moves SND.NXT back to SND.UNA.
    pub fn on_timeout(&mut self, f: &Flight, retries: u8, collapse: bool, c: &mut TcpCounters) {
        self.fast_rexmit = false;
        self.dup_acks = 0;
        if collapse {
            let flight = f.max.since(f.una) as usize;
            self.ssthresh = (flight / 2).max(2 * f.mss);
            self.cwnd = f.mss;
            self.recover = None;
            if f.sack {
                self.rto_recover = Some(f.max);
            }
        }
        if retries > 1 && !self.scoreboard.is_empty() {
            // Twice in a row: the peer may have dropped what it SACKed
            // (RFC 2018 §8); resend everything.
            self.scoreboard.clear();
            bump(&mut c.sack_scoreboard_cleared);
        }
        self.high_rxt = f.una;
    }
}
