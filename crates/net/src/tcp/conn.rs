//! One connection: the RFC 9293 state machine, its send and receive
//! buffers and its timers. [`Conn::process`] takes one segment in (RFC
//! 9293 §3.10.7.4, with the RFC 5961 hardening); [`Conn::dispatch`] runs
//! the timers and sends what is due. Neither does I/O beyond the
//! [`Sender`] it is lent, and both take the time from their caller.
//!
//! Out-of-order data is kept: it is written into the receive ring at its
//! offset and recorded in an [`Assembler`] of a few ranges; a segment
//! needing one range too many is dropped (the peer resends it). When
//! both sides agreed on SACK (RFC 2018), every ACK we send while holding
//! such data reports those ranges, most recently touched first.
//!
//! Loss recovery: with SACK, RFC 6675 (conservative, simplified). The
//! peer's SACK blocks go into a [`Scoreboard`]; an ACK that SACKs new
//! data counts as a duplicate even if it carries data (a peer that talks
//! back acknowledges on its data segments); recovery starts on the third
//! such ACK or as soon as the scoreboard says the first hole is lost;
//! in recovery the holes judged lost are resent, then new data, then
//! other holes, all while `pipe` stays under `cwnd`. After a timeout,
//! go-back-N skips SACKed data (a second timeout in a row forgets the
//! scoreboard, in case the peer discarded what it SACKed). Without SACK:
//! NewReno (RFC 6582) on three pure duplicate ACKs.

use core::fmt;

use super::assembler::Assembler;
use super::config::TcpConfig;
use super::counters::{bump, TcpCounters};
use super::evict::AppPhase;
use super::ring::RingBuffer;
use super::rtt::RttEstimator;
use super::scoreboard::Scoreboard;
use super::seq::SeqNumber;
use crate::device::Device;
use crate::iface::Sender;
use crate::limits::{TCP_DEFAULT_PEER_MSS, TCP_DUP_ACK_THRESHOLD, TCP_MIN_PEER_MSS, TCP_MSS};
use crate::time::Instant;
use crate::wire::tcp::MAX_SACK_BLOCKS;
use crate::wire::{Ipv4Address, Protocol, TcpControl, TcpPacket, TcpRepr};

/// A connection's state (RFC 9293 §3.3.2). LISTEN belongs to listeners,
/// not connections; a handle whose connection is gone reads `Closed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// No connection (or a stale handle).
    Closed,
    /// Active open: SYN sent, waiting for SYN-ACK.
    SynSent,
    /// Passive open: SYN received, SYN-ACK sent.
    SynReceived,
    /// Open both ways.
    Established,
    /// We closed; our FIN is not acknowledged yet.
    FinWait1,
    /// We closed and our FIN is acknowledged; the peer may still send.
    FinWait2,
    /// The peer closed; we may still send.
    CloseWait,
    /// Both closed at once; our FIN is not acknowledged yet.
    Closing,
    /// The peer closed, then we did; waiting for the ACK of our FIN.
    LastAck,
    /// Both closed; lingering to absorb stray segments.
    TimeWait,
}

impl State {
    /// The RFC's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Closed => "CLOSED",
            State::SynSent => "SYN-SENT",
            State::SynReceived => "SYN-RECEIVED",
            State::Established => "ESTABLISHED",
            State::FinWait1 => "FIN-WAIT-1",
            State::FinWait2 => "FIN-WAIT-2",
            State::CloseWait => "CLOSE-WAIT",
            State::Closing => "CLOSING",
            State::LastAck => "LAST-ACK",
            State::TimeWait => "TIME-WAIT",
        }
    }

    /// Whether the handshake is done (RFC 9293's synchronized states).
    pub const fn is_synchronized(self) -> bool {
        !matches!(self, State::Closed | State::SynSent | State::SynReceived)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An address and port.
pub type Endpoint = (Ipv4Address, u16);

/// What the stack must do after [`Conn::process`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing more (replies, if any, go out at dispatch).
    Keep,
    /// Answer with `<SEQ=seq><CTL=RST>` and keep the connection.
    Reset(SeqNumber),
    /// The connection is over: free its slot.
    Close,
    /// Data came after the lingering close ended (RFC 1122 §4.2.2.13):
    /// reset the connection and free its slot (`linger_resets`).
    LingerReset,
}

/// The transmission control block: everything but the buffers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tcb {
    pub state: State,
    pub local: Endpoint,
    pub remote: Endpoint,
    /// Taken by the application (`accept`, or opened by `connect`).
    pub accepted: bool,
    pub iss: SeqNumber,
    pub snd_una: SeqNumber,
    pub snd_nxt: SeqNumber,
    /// Highest `snd_nxt` so far (after a timeout `snd_nxt` goes back).
    pub snd_max: SeqNumber,
    pub snd_wnd: u32,
    pub max_snd_wnd: u32,
    pub snd_wl1: SeqNumber,
    pub snd_wl2: SeqNumber,
    pub snd_mss: usize,
    pub rcv_nxt: SeqNumber,
    /// A FIN seen ahead of a gap: where it sits.
    pub rcv_fin: Option<SeqNumber>,
    /// Window in the last segment sent.
    pub adv_wnd: u32,
    /// The application closed: a FIN follows the queued data.
    pub fin_queued: bool,
    /// Our FIN has been sent (it is then the last thing ever sent).
    pub fin_sent: bool,
    pub rtt: RttEstimator,
    /// Segment being timed: (ACK that ends it, when it was sent).
    pub rtt_timing: Option<(SeqNumber, Instant)>,
    pub retx_at: Option<Instant>,
    pub retries: u8,
    pub ack_now: bool,
    pub ack_due: Option<Instant>,
    pub segs_unacked: u8,
    pub dup_acks: u8,
    pub cwnd: usize,
    pub ssthresh: usize,
    /// In fast recovery until this is acknowledged (RFC 6582's `recover`).
    pub recover: Option<SeqNumber>,
    /// Resend the segment at `snd_una` at the next dispatch.
    pub fast_rexmit: bool,
    /// Out-of-order segments not answered yet: one pure duplicate ACK
    /// each goes before any data, even when several came in one poll,
    /// so the peer can count them (RFC 5681 §4.2) and retransmit fast.
    pub dup_acks_owed: u16,
    pub time_wait_until: Instant,
    pub last_rx: Instant,
    pub opened: Instant,
    /// The application aborted: send RST, then free.
    pub rst_pending: bool,
    pub assembler: Assembler,
    /// SACK: in SYN-SENT, that we offer it; once the peer's SYN is in,
    /// that both sides agreed.
    pub sack_ok: bool,
    /// What the peer SACKed above `snd_una`.
    pub scoreboard: Scoreboard,
    /// RFC 6675's HighRxt, as an end: in SACK recovery, the holes below
    /// it have been resent.
    pub high_rxt: SeqNumber,
    /// After a timeout (with SACK): no fast recovery until this is
    /// acknowledged (RFC 6582 §3.2), so the ACKs of go-back-N do not
    /// start one.
    pub rto_recover: Option<SeqNumber>,
    /// SND.MAX when the segment at SND.UNA was last resent in SACK
    /// recovery: SACKs for data above it show that resend was lost.
    pub rexmit_una_mark: SeqNumber,
    /// When the application closed (the lingering close starts).
    pub closed_at: Instant,
    /// When FIN-WAIT-2 began.
    pub fin_wait_2_since: Instant,
    /// When the peer's data last arrived.
    pub last_data_rx: Instant,
    /// When SND.UNA last moved, or nothing waited for an ACK (the
    /// send-stall clock).
    pub progress_at: Instant,
    /// What the application said it is doing, and since when.
    pub phase: AppPhase,
    pub phase_since: Instant,
}

/// Largest congestion window kept (far above any window we can use).
const MAX_CWND: usize = 1 << 30;

impl Tcb {
    /// A free slot: all zero bytes (a `static` stack stays in `.bss`).
    pub const fn closed() -> Tcb {
        Tcb {
            state: State::Closed,
            local: (Ipv4Address::UNSPECIFIED, 0),
            remote: (Ipv4Address::UNSPECIFIED, 0),
            accepted: false,
            iss: SeqNumber(0),
            snd_una: SeqNumber(0),
            snd_nxt: SeqNumber(0),
            snd_max: SeqNumber(0),
            snd_wnd: 0,
            max_snd_wnd: 0,
            snd_wl1: SeqNumber(0),
            snd_wl2: SeqNumber(0),
            snd_mss: 0,
            rcv_nxt: SeqNumber(0),
            rcv_fin: None,
            adv_wnd: 0,
            fin_queued: false,
            fin_sent: false,
            rtt: RttEstimator::blank(),
            rtt_timing: None,
            retx_at: None,
            retries: 0,
            ack_now: false,
            ack_due: None,
            segs_unacked: 0,
            dup_acks: 0,
            cwnd: 0,
            ssthresh: 0,
            recover: None,
            fast_rexmit: false,
            dup_acks_owed: 0,
            time_wait_until: Instant(0),
            last_rx: Instant(0),
            opened: Instant(0),
            rst_pending: false,
            assembler: Assembler::new(),
            sack_ok: false,
            scoreboard: Scoreboard::new(),
            high_rxt: SeqNumber(0),
            rto_recover: None,
            rexmit_una_mark: SeqNumber(0),
            closed_at: Instant(0),
            fin_wait_2_since: Instant(0),
            last_data_rx: Instant(0),
            progress_at: Instant(0),
            phase: AppPhase::Busy,
            phase_since: Instant(0),
        }
    }

    /// A connection opened at `now` in `state` (SYN-SENT or SYN-RECEIVED).
    pub fn open(
        now: Instant,
        state: State,
        local: Endpoint,
        remote: Endpoint,
        iss: SeqNumber,
    ) -> Tcb {
        let mut t = Tcb::closed();
        t.state = state;
        t.local = local;
        t.remote = remote;
        t.iss = iss;
        t.snd_mss = usize::from(TCP_DEFAULT_PEER_MSS);
        t.cwnd = 4 * t.snd_mss;
        t.ssthresh = MAX_CWND;
        t.rtt = RttEstimator::new();
        t.snd_una = iss;
        t.snd_nxt = iss;
        t.snd_max = iss;
        t.last_rx = now;
        t.opened = now;
        t.progress_at = now;
        t.phase_since = now;
        t
    }

    /// Takes the peer's SYN: its ISN, MSS, window, and whether SACK is
    /// used (`offer`: we offer it).
    pub fn take_syn(&mut self, syn: &TcpRepr, offer: bool) {
        let mss = syn.max_seg_size.unwrap_or(TCP_DEFAULT_PEER_MSS);
        self.take_peer(
            syn.seq_number,
            mss,
            syn.window_len,
            offer && syn.sack_permitted,
        );
    }

    /// Takes what a SYN cookie remembered of the peer's SYN (its ISN is
    /// `seq - 1` of the ACK that brought the cookie back; the window
    /// comes with that ACK). Our SYN-ACK counts as sent.
    pub fn take_cookie(&mut self, peer_isn: SeqNumber, mss: u16, sack: bool) {
        self.take_peer(peer_isn, mss, 0, sack);
        self.snd_nxt = self.iss + 1u32;
        self.snd_max = self.snd_nxt;
    }

    fn take_peer(&mut self, isn: SeqNumber, mss: u16, window: u16, sack: bool) {
        self.sack_ok = sack;
        self.rcv_nxt = isn + 1u32;
        self.snd_mss = usize::from(mss.clamp(TCP_MIN_PEER_MSS, TCP_MSS));
        self.snd_wnd = u32::from(window);
        self.max_snd_wnd = self.snd_wnd;
        self.snd_wl1 = isn;
        // RFC 5681 §3.1 initial window.
        self.cwnd = match self.snd_mss {
            m if m > 2190 => 2 * m,
            m if m > 1095 => 3 * m,
            m => 4 * m,
        };
    }

    /// Whether our SYN is still unacknowledged (it occupies `snd_una`).
    fn syn_outstanding(&self) -> bool {
        matches!(self.state, State::SynSent | State::SynReceived)
    }

    /// Whether our FIN has been acknowledged.
    fn fin_acked(&self) -> bool {
        self.fin_sent && self.snd_una == self.snd_max
    }

    /// Whether the lingering close is over (see
    /// [`crate::limits::TCP_LINGER_SILENCE`]): the application closed, our
    /// reply and FIN are acknowledged, and the peer has been silent for
    /// the linger silence, or the linger total has passed.
    fn linger_over(&self, now: Instant, cfg: &TcpConfig) -> bool {
        self.fin_queued
            && self.fin_acked()
            && (now >= self.closed_at.max(self.last_data_rx) + cfg.linger_silence
                || now >= self.closed_at + cfg.linger_total)
    }

    /// Where our FIN goes, until it is acknowledged: after every queued
    /// byte.
    fn fin_seq(&self, tx_len: usize) -> SeqNumber {
        self.snd_una + usize::from(self.syn_outstanding()) + tx_len
    }

    /// Sent and not acknowledged (sequence space, SACKed or not).
    fn outstanding(&self) -> usize {
        self.snd_nxt.since(self.snd_una) as usize
    }

    /// What the congestion window counts as in the network: the
    /// outstanding bytes less those SACKed, or in SACK recovery RFC
    /// 6675's pipe (lost holes left out, resent bytes in).
    fn in_flight(&self) -> usize {
        if self.scoreboard.is_empty() {
            return self.outstanding();
        }
        let (una, nxt) = (self.snd_una, self.snd_nxt);
        if self.recover.is_some() {
            self.scoreboard.pipe(una, nxt, self.high_rxt, self.snd_mss)
        } else {
            self.outstanding() - self.scoreboard.sacked_in(una, nxt) as usize
        }
    }

    /// Bytes that may go out now: the congestion window less what is in
    /// flight, within the peer's window. RFC 3042 limited transmit adds
    /// a segment for each of the first two duplicate ACKs, so a small
    /// window still produces the third duplicate that fast retransmit
    /// needs.
    fn usable(&self) -> usize {
        let extra = if self.recover.is_none() {
            usize::from(self.dup_acks.min(2)) * self.snd_mss
        } else {
            0
        };
        let congestion = (self.cwnd + extra).saturating_sub(self.in_flight());
        let peer = (self.snd_wnd as usize).saturating_sub(self.outstanding());
        congestion.min(peer)
    }

    /// In SACK recovery, the next hole to resend (RFC 6675 `NextSeg`
    /// rule 1: lost ones; rule 3 with `lost_only` false), as its start
    /// and length, if `cwnd` leaves room for a segment.
    fn hole_to_resend(&self, lost_only: bool) -> Option<(SeqNumber, usize)> {
        if self.recover.is_none() || !self.sack_ok {
            return None;
        }
        if self.cwnd < self.in_flight() + self.snd_mss {
            return None;
        }
        let from = self.high_rxt.max(self.snd_una);
        let (start, end) = self.scoreboard.next_hole(from, lost_only, self.snd_mss)?;
        Some((start, end.min(self.snd_nxt).since(start) as usize))
    }

    /// Starts fast recovery (RFC 5681 §3.2, RFC 6582; RFC 6675 with SACK).
    fn enter_recovery(&mut self, c: &mut TcpCounters) {
        let flight = self.snd_max.since(self.snd_una) as usize;
        self.ssthresh = (flight / 2).max(2 * self.snd_mss);
        self.cwnd = if self.sack_ok {
            bump(&mut c.sack_recoveries);
            self.ssthresh
        } else {
            self.ssthresh + 3 * self.snd_mss
        };
        self.recover = Some(self.snd_max);
        self.high_rxt = self.snd_una;
        self.fast_rexmit = true;
        self.rtt_timing = None;
        bump(&mut c.fast_retransmits);
    }

    /// Records the SACK blocks of an ACK (of `ack`); returns how many
    /// bytes they SACKed that were not before. Blocks outside `ack ..
    /// snd_max` (old, D-SACK, bogus) are clipped or ignored.
    fn take_sack(&mut self, seg: &TcpRepr, ack: SeqNumber, c: &mut TcpCounters) -> u32 {
        let floor = ack.max(self.snd_una);
        let mut new_bytes = 0;
        for &(left, right) in seg.sack_blocks.iter().flatten() {
            // A block must lie within what is outstanding.
            if !(left < right && right <= self.snd_max && right > floor) {
                continue;
            }
            let span = right.since(left);
            if span > self.snd_max.since(floor) {
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
}

/// One connection slot: control block, buffers, and a generation that
/// makes old handles to the slot stale.
pub(crate) struct Conn<const RX: usize, const TX: usize> {
    pub tcb: Tcb,
    pub rx: RingBuffer<RX>,
    pub tx: RingBuffer<TX>,
    pub gen: u16,
}

impl<const RX: usize, const TX: usize> Conn<RX, TX> {
    pub const fn new() -> Self {
        Conn {
            tcb: Tcb::closed(),
            rx: RingBuffer::new(),
            tx: RingBuffer::new(),
            gen: 0,
        }
    }

    /// Frees the slot (its handles go stale).
    pub fn free(&mut self) {
        self.tcb = Tcb::closed();
        self.rx.clear();
        self.tx.clear();
        self.gen = self.gen.wrapping_add(1);
    }

    /// The window to advertise: free receive space (no scaling).
    pub fn rcv_window(&self) -> u32 {
        self.rx.free().min(usize::from(u16::MAX)) as u32
    }

    /// After the application read: announce a window that opened a lot.
    pub fn window_opened(&mut self) {
        let step = (2 * usize::from(TCP_MSS)).min(RX / 2).max(1) as u32;
        if self.tcb.state.is_synchronized() && self.rcv_window() >= self.tcb.adv_wnd + step {
            self.tcb.ack_now = true;
        }
    }

    /// Whether the application may still queue data.
    pub fn may_send(&self) -> bool {
        matches!(self.tcb.state, State::Established | State::CloseWait) && !self.tcb.fin_queued
    }

    /// Whether the peer may still send, or unread data remains.
    pub fn may_recv(&self) -> bool {
        !self.rx.is_empty()
            || matches!(
                self.tcb.state,
                State::SynReceived | State::Established | State::FinWait1 | State::FinWait2
            )
    }

    /// Whether data or our FIN waits to be sent or acknowledged.
    pub fn pending(&self) -> bool {
        !self.tx.is_empty() || (self.tcb.fin_queued && !self.tcb.fin_acked())
    }

    /// Starts an orderly close at `now`: FIN after the queued data.
    pub fn close(&mut self, now: Instant) -> bool {
        let t = &mut self.tcb;
        t.closed_at = now;
        match t.state {
            State::Established | State::SynReceived => t.state = State::FinWait1,
            State::CloseWait => t.state = State::LastAck,
            State::SynSent => return true,
            _ => return false,
        }
        t.fin_queued = true;
        false
    }

    /// Processes one segment that belongs to this connection.
    pub fn process(
        &mut self,
        now: Instant,
        seg: &TcpRepr,
        cfg: &TcpConfig,
        c: &mut TcpCounters,
    ) -> Verdict {
        match self.tcb.state {
            State::Closed => Verdict::Keep,
            State::SynSent => self.process_syn_sent(now, seg, c),
            _ => self.process_open(now, seg, cfg, c),
        }
    }

    /// RFC 9293 §3.10.7.3, for the minimal active open.
    fn process_syn_sent(&mut self, now: Instant, seg: &TcpRepr, c: &mut TcpCounters) -> Verdict {
        let t = &mut self.tcb;
        let ack_ok = match seg.ack_number {
            Some(ack) if ack <= t.iss || ack > t.snd_max => {
                bump(&mut c.drop_bad_ack);
                return if seg.control == TcpControl::Rst {
                    Verdict::Keep
                } else {
                    Verdict::Reset(ack)
                };
            }
            Some(_) => true,
            None => false,
        };
        if seg.control == TcpControl::Rst {
            if ack_ok {
                bump(&mut c.resets_received);
                return Verdict::Close;
            }
            return Verdict::Keep;
        }
        if seg.control != TcpControl::Syn {
            return Verdict::Keep;
        }
        t.take_syn(seg, t.sack_ok);
        t.last_rx = now;
        t.ack_now = true;
        match seg.ack_number {
            Some(ack) if ack_ok => {
                if t.sack_ok {
                    bump(&mut c.sack_negotiated);
                }
                t.snd_una = ack;
                t.snd_nxt = t.snd_nxt.max(ack);
                t.snd_wl2 = ack;
                t.state = State::Established;
                t.retx_at = None;
                t.retries = 0;
                if let Some((end, sent)) = t.rtt_timing.take() {
                    if ack >= end {
                        t.rtt.sample(now - sent);
                    }
                }
            }
            // Simultaneous open: answer with SYN-ACK.
            _ => t.state = State::SynReceived,
        }
        Verdict::Keep
    }

    /// RFC 9293 §3.10.7.4: SYN-RECEIVED and every synchronized state.
    fn process_open(
        &mut self,
        now: Instant,
        seg: &TcpRepr,
        cfg: &TcpConfig,
        c: &mut TcpCounters,
    ) -> Verdict {
        let wnd = self.rcv_window();
        let t = &mut self.tcb;
        let seq = seg.seq_number;
        let seg_len = seg.segment_len() as u32;

        // First: is the segment in the window? An ACK without text may
        // sit at the right edge itself, as BSD and Linux allow: a peer
        // that filled our window sends its ACKs from there, and the strict
        // test would drop every one of them. RSTs keep the strict test
        // (RFC 5961 §3.2).
        let edge = u32::from(seg.control != TcpControl::Rst);
        let acceptable = match (seg_len, wnd) {
            (0, 0) => seq == t.rcv_nxt,
            (0, _) => seq.in_window(t.rcv_nxt, wnd + edge),
            (_, 0) => false,
            (_, _) => {
                seq.in_window(t.rcv_nxt, wnd) || (seq + (seg_len - 1)).in_window(t.rcv_nxt, wnd)
            }
        };
        // A zero window still takes ACKs (and RSTs) at RCV.NXT: only the
        // text is refused.
        let text_refused = !acceptable && wnd == 0 && seq == t.rcv_nxt;
        if !acceptable && !text_refused {
            bump(&mut c.drop_out_of_window);
            if seg.control != TcpControl::Rst {
                t.ack_now = true;
                if t.state == State::TimeWait && seg.control == TcpControl::Fin {
                    // A retransmitted FIN: our ACK was lost. Linger anew.
                    t.time_wait_until = now + cfg.time_wait;
                }
            }
            return Verdict::Keep;
        }

        // Second: RST. Exactly at RCV.NXT resets; elsewhere in the window
        // earns a challenge ACK (RFC 5961 §3.2).
        if seg.control == TcpControl::Rst {
            if seq == t.rcv_nxt {
                bump(&mut c.resets_received);
                return Verdict::Close;
            }
            bump(&mut c.challenge_acks);
            t.ack_now = true;
            return Verdict::Keep;
        }

        // Fourth: SYN in a synchronized state (or a new SYN in
        // SYN-RECEIVED): challenge ACK (RFC 5961 §4.2).
        if seg.control == TcpControl::Syn {
            bump(&mut c.challenge_acks);
            t.ack_now = true;
            return Verdict::Keep;
        }

        // Fifth: ACK.
        let Some(ack) = seg.ack_number else {
            return Verdict::Keep;
        };
        if t.state == State::SynReceived {
            if ack > t.snd_una && ack <= t.snd_max {
                // Our SYN is acknowledged (it is all we sent).
                t.state = State::Established;
                t.snd_una = ack;
                t.snd_nxt = t.snd_nxt.max(ack);
                t.snd_wnd = u32::from(seg.window_len);
                t.max_snd_wnd = t.max_snd_wnd.max(t.snd_wnd);
                t.snd_wl1 = seq;
                t.snd_wl2 = ack;
                t.retx_at = None;
                t.retries = 0;
                if let Some((end, sent)) = t.rtt_timing.take() {
                    if ack >= end {
                        t.rtt.sample(now - sent);
                    }
                }
                bump(&mut c.accepted);
                if t.sack_ok {
                    bump(&mut c.sack_negotiated);
                }
            } else {
                bump(&mut c.drop_bad_ack);
                return Verdict::Reset(ack);
            }
        }
        if ack > t.snd_max {
            // Acknowledges something never sent.
            bump(&mut c.drop_bad_ack);
            t.ack_now = true;
            return Verdict::Keep;
        }
        let horizon = t.max_snd_wnd.max(u32::from(u16::MAX));
        if t.snd_una.diff(ack) > horizon as i32 {
            // Too old to be a real ACK (RFC 5961 §5.2).
            bump(&mut c.drop_bad_ack);
            t.ack_now = true;
            return Verdict::Keep;
        }
        t.last_rx = now;
        let newly_sacked = if t.sack_ok {
            t.take_sack(seg, ack, c)
        } else {
            0
        };
        if ack > t.snd_una {
            Self::new_ack(t, &mut self.tx, now, ack);
        } else if t.sack_ok {
            // RFC 6675 §2: with SACK, a duplicate is an ACK that SACKs
            // new data; data riding on it does not matter (a peer that
            // talks back acknowledges on its own segments), and a mere
            // repeat (a window update, a D-SACK) is not one.
            if newly_sacked > 0 && ack == t.snd_una {
                Self::dup_ack(t, c);
            }
        } else if ack == t.snd_una
            && seg.payload.is_empty()
            && seg.control == TcpControl::None
            && seg.window_len != 0
            && t.snd_max > t.snd_una
        {
            // RFC 5681 also wants the window unchanged; a receiver whose
            // application reads while the gap stays open changes it, so
            // only the data-free, in-place ACK is required here.
            Self::dup_ack(t, c);
        }
        // Window update (RFC 9293 §3.10.7.4, fifth, ESTABLISHED).
        if t.snd_wl1 < seq || (t.snd_wl1 == seq && t.snd_wl2 <= ack) {
            let was_closed = t.snd_wnd == 0;
            t.snd_wnd = u32::from(seg.window_len);
            t.max_snd_wnd = t.max_snd_wnd.max(t.snd_wnd);
            t.snd_wl1 = seq;
            t.snd_wl2 = ack;
            if was_closed && t.snd_wnd > 0 && ack == t.snd_una {
                // The window opened without taking our probe byte: send
                // from the oldest byte again, now, not after a timeout.
                t.snd_nxt = t.snd_una;
            }
        }
        if t.snd_wnd == 0 {
            // The peer answers our probes: it is alive.
            t.retries = 0;
        }
        if t.sack_ok && !t.scoreboard.is_empty() {
            self.sack_loss_check(c);
        }
        let t = &mut self.tcb;
        let fin_acked = t.fin_acked();
        match t.state {
            State::FinWait1 if fin_acked => {
                t.state = State::FinWait2;
                t.fin_wait_2_since = now;
            }
            State::Closing if fin_acked => {
                t.state = State::TimeWait;
                t.time_wait_until = now + cfg.time_wait;
            }
            State::LastAck if fin_acked => {
                bump(&mut c.closed);
                return Verdict::Close;
            }
            _ => {}
        }

        // Seventh: the text.
        if !seg.payload.is_empty() {
            if self.tcb.linger_over(now, cfg) {
                return Verdict::LingerReset;
            }
            self.tcb.last_data_rx = now;
            if text_refused {
                self.tcb.ack_now = true;
            } else if matches!(
                self.tcb.state,
                State::Established | State::FinWait1 | State::FinWait2
            ) {
                self.take_text(now, seq, seg.payload, cfg, c);
            }
        }

        // Eighth: FIN.
        if seg.control == TcpControl::Fin && !text_refused {
            let fin_at = seq + seg.payload.len();
            let t = &mut self.tcb;
            match t.state {
                State::Established | State::FinWait1 | State::FinWait2 => {
                    if fin_at == t.rcv_nxt {
                        self.take_fin(now, cfg);
                    } else if fin_at > t.rcv_nxt {
                        t.rcv_fin = Some(fin_at);
                    }
                }
                State::TimeWait => {
                    t.ack_now = true;
                    t.time_wait_until = now + cfg.time_wait;
                }
                _ => t.ack_now = true,
            }
        }
        Verdict::Keep
    }

    /// After an ACK, with SACK information: starts recovery when the hole
    /// at SND.UNA is lost by RFC 6675's rules (before three duplicates,
    /// or without them when the ACKs ride on data), or by RFC 5827 early
    /// retransmit (fewer than four segments out and nothing more can be
    /// sent: one fewer SACKed than outstanding). In recovery, resends
    /// the segment at SND.UNA again when data sent after its last
    /// retransmission is SACKed past the loss threshold: that
    /// retransmission was lost too, and only a timeout would notice.
    fn sack_loss_check(&mut self, c: &mut TcpCounters) {
        let unsent = self.tx.len().saturating_sub(self.tcb.outstanding());
        let t = &mut self.tcb;
        let mss = t.snd_mss;
        if t.recover.is_some() {
            if t.high_rxt > t.snd_una
                && !t.fast_rexmit
                && t.scoreboard.is_lost(t.rexmit_una_mark - 1u32, mss)
            {
                t.fast_rexmit = true;
                bump(&mut c.sack_lost_retransmits);
            }
            return;
        }
        if t.rto_recover.is_some() {
            return;
        }
        let segs = |bytes: usize| bytes.div_ceil(mss);
        let outstanding = segs(t.outstanding());
        let sacked = segs(t.scoreboard.sacked_in(t.snd_una, t.snd_nxt) as usize);
        let stalled = unsent == 0 || t.usable() < mss.min(unsent);
        let early = outstanding < 4 && stalled && sacked + 1 >= outstanding;
        if early || t.scoreboard.is_lost(t.snd_una, mss) {
            t.enter_recovery(c);
        }
    }

    /// An ACK of new data: free acknowledged bytes, time the RTT, grow
    /// the congestion window, restart or stop the timer.
    fn new_ack(t: &mut Tcb, tx: &mut RingBuffer<TX>, now: Instant, ack: SeqNumber) {
        let mut acked = ack.since(t.snd_una) as usize;
        if t.syn_outstanding() {
            acked -= 1;
        }
        tx.discard(acked);
        t.progress_at = now;
        t.rtt.reset_backoff();
        t.snd_una = ack;
        t.snd_nxt = t.snd_nxt.max(ack);
        t.high_rxt = t.high_rxt.max(ack);
        t.scoreboard.trim(ack);
        if t.rto_recover.is_some_and(|r| ack >= r) {
            t.rto_recover = None;
        }
        t.retries = 0;
        if let Some((end, sent)) = t.rtt_timing {
            if ack >= end {
                t.rtt.sample(now - sent);
                t.rtt_timing = None;
            }
        }
        t.retx_at = if t.snd_una == t.snd_max {
            None
        } else {
            Some(now + t.rtt.rto())
        };
        let mss = t.snd_mss;
        match t.recover {
            Some(recover) if ack >= recover => {
                t.cwnd = t.ssthresh;
                t.recover = None;
            }
            // RFC 6675: the scoreboard and pipe drive what is resent; a
            // resend of the new first hole is judged lost only on
            // evidence from data sent after now.
            Some(_) if t.sack_ok => t.rexmit_una_mark = t.snd_max,
            Some(_) => {
                // Partial ACK (RFC 6582): the next hole is lost too.
                t.fast_rexmit = true;
                t.cwnd = t.cwnd.saturating_sub(acked) + mss;
            }
            None if t.cwnd < t.ssthresh => t.cwnd += acked.min(mss),
            None => t.cwnd += (mss * mss / t.cwnd.max(1)).max(1),
        }
        t.cwnd = t.cwnd.min(MAX_CWND);
        t.dup_acks = 0;
    }

    /// A duplicate ACK (RFC 5681 §3.2): the third starts fast retransmit.
    /// Without SACK, each one in recovery inflates the window (with SACK,
    /// the pipe shrinks instead).
    fn dup_ack(t: &mut Tcb, c: &mut TcpCounters) {
        t.dup_acks = t.dup_acks.saturating_add(1);
        if t.recover.is_some() {
            if !t.sack_ok {
                t.cwnd = (t.cwnd + t.snd_mss).min(MAX_CWND);
            }
        } else if t.dup_acks >= TCP_DUP_ACK_THRESHOLD && t.rto_recover.is_none() {
            t.enter_recovery(c);
        }
    }

    /// Stores payload that starts at `seq`, in order or not.
    fn take_text(
        &mut self,
        now: Instant,
        seq: SeqNumber,
        payload: &[u8],
        cfg: &TcpConfig,
        c: &mut TcpCounters,
    ) {
        let t = &mut self.tcb;
        let (offset, data) = if seq < t.rcv_nxt {
            let skip = t.rcv_nxt.since(seq) as usize;
            (0, payload.get(skip..).unwrap_or(&[]))
        } else {
            (seq.since(t.rcv_nxt) as usize, payload)
        };
        if data.is_empty() {
            // All old: the peer missed our ACK.
            t.ack_now = true;
            return;
        }
        let written = self.rx.write_at(offset, data);
        if offset > 0 {
            // Out of order: keep it, and tell the peer at once (a
            // duplicate ACK that drives its fast retransmit).
            t.ack_now = true;
            t.dup_acks_owed = t.dup_acks_owed.saturating_add(1);
            if written > 0 {
                if t.assembler.insert(offset as u32, (offset + written) as u32) {
                    bump(&mut c.out_of_order);
                } else {
                    bump(&mut c.drop_reassembly_full);
                }
            }
            return;
        }
        let had_gap = !t.assembler.is_empty();
        let extra = t.assembler.advance(written as u32) as usize;
        let total = written + extra;
        self.rx.commit(total);
        t.rcv_nxt = t.rcv_nxt + total;
        c.bytes_in = c.bytes_in.wrapping_add(total as u64);
        if had_gap {
            // Filled (part of) a gap: ACK at once (RFC 5681 §4.2).
            t.ack_now = true;
        } else {
            t.segs_unacked = t.segs_unacked.saturating_add(1);
            if t.segs_unacked >= 2 {
                t.ack_now = true;
            } else if t.ack_due.is_none() {
                t.ack_due = Some(now + cfg.delayed_ack);
            }
        }
        if t.rcv_fin == Some(t.rcv_nxt) {
            self.take_fin(now, cfg);
        }
    }

    /// The peer's FIN, in order.
    fn take_fin(&mut self, now: Instant, cfg: &TcpConfig) {
        let t = &mut self.tcb;
        t.rcv_nxt = t.rcv_nxt + 1u32;
        t.rcv_fin = None;
        t.ack_now = true;
        t.state = match t.state {
            State::Established => State::CloseWait,
            State::FinWait1 if !t.fin_acked() => State::Closing,
            State::FinWait1 | State::FinWait2 => {
                t.time_wait_until = now + cfg.time_wait;
                State::TimeWait
            }
            other => other,
        };
    }

    /// When this connection next needs a dispatch.
    pub fn poll_at(&self, now: Instant, cfg: &TcpConfig) -> Option<Instant> {
        let t = &self.tcb;
        match t.state {
            State::Closed => return None,
            State::TimeWait => return Some(t.time_wait_until),
            _ => {}
        }
        if t.rst_pending || t.ack_now || t.fast_rexmit || self.can_send_now() {
            return Some(now);
        }
        let deadline = if t.state == State::SynReceived {
            t.opened + cfg.syn_received_timeout
        } else {
            t.last_rx + cfg.idle_timeout
        };
        let fin_wait_2 =
            (t.state == State::FinWait2).then(|| t.fin_wait_2_since + cfg.fin_wait_2_timeout);
        let stall = (t.state.is_synchronized() && self.pending())
            .then(|| t.progress_at + cfg.send_stall_timeout);
        [t.retx_at, t.ack_due, Some(deadline), fin_wait_2, stall]
            .into_iter()
            .flatten()
            .min()
    }

    /// Whether new data or a FIN could go out right now.
    fn can_send_now(&self) -> bool {
        let t = &self.tcb;
        if matches!(t.state, State::SynSent | State::SynReceived) {
            return t.snd_max == t.iss;
        }
        if !t.state.is_synchronized() {
            return false;
        }
        if t.hole_to_resend(false).is_some() {
            return true;
        }
        let off = t.snd_nxt.since(t.snd_una) as usize;
        let unsent = self.tx.len().saturating_sub(off);
        let usable = t.usable();
        let fin_due = t.fin_queued
            && matches!(t.state, State::FinWait1 | State::Closing | State::LastAck)
            && t.snd_nxt <= t.fin_seq(self.tx.len());
        (unsent > 0 && usable > 0 && (usable >= unsent.min(t.snd_mss) || off == 0))
            || (fin_due && unsent == 0)
    }

    /// Runs the timers and sends what is due. Returns `true` when the
    /// connection is over and its slot must be freed.
    pub fn dispatch<D: Device>(
        &mut self,
        tx: &mut Sender<'_, D>,
        cfg: &TcpConfig,
        c: &mut TcpCounters,
    ) -> bool {
        let now = tx.now();
        let t = &mut self.tcb;
        match t.state {
            State::Closed => return false,
            State::TimeWait => {
                if now >= t.time_wait_until {
                    bump(&mut c.closed);
                    return true;
                }
                if t.ack_now {
                    self.send_ack(tx, c);
                }
                return false;
            }
            _ => {}
        }
        if t.rst_pending {
            bump(&mut c.aborted_by_app);
            self.send_reset(tx, c);
            return true;
        }
        if t.state == State::SynReceived && now >= t.opened + cfg.syn_received_timeout {
            bump(&mut c.syn_received_timeouts);
            self.send_reset(tx, c);
            return true;
        }
        if t.state.is_synchronized() && now >= t.last_rx + cfg.idle_timeout {
            bump(&mut c.reaped_idle);
            self.send_reset(tx, c);
            return true;
        }
        if t.state == State::FinWait2 && now >= t.fin_wait_2_since + cfg.fin_wait_2_timeout {
            bump(&mut c.fin_wait_2_timeouts);
            self.send_reset(tx, c);
            return true;
        }
        if t.state.is_synchronized() {
            if !self.pending() {
                self.tcb.progress_at = now;
            } else if now >= self.tcb.progress_at + cfg.send_stall_timeout {
                bump(&mut c.send_stall_aborts);
                self.send_reset(tx, c);
                return true;
            }
        }
        let t = &mut self.tcb;
        let mut probe = false;
        if t.retx_at.is_some_and(|at| now >= at) {
            let limit = if t.state.is_synchronized() {
                cfg.max_retries
            } else {
                cfg.synack_retries
            };
            if t.retries >= limit {
                bump(&mut c.aborted_retries);
                self.send_reset(tx, c);
                return true;
            }
            bump(&mut c.timeouts);
            t.retries += 1;
            t.rtt.back_off();
            t.rtt_timing = None; // Karn: nothing resent is timed.
            t.retx_at = None;
            t.fast_rexmit = false;
            t.dup_acks = 0;
            if t.snd_wnd == 0 && t.state.is_synchronized() {
                probe = true;
            } else if t.state.is_synchronized() {
                let flight = t.snd_max.since(t.snd_una) as usize;
                t.ssthresh = (flight / 2).max(2 * t.snd_mss);
                t.cwnd = t.snd_mss;
                t.recover = None;
                if t.sack_ok {
                    t.rto_recover = Some(t.snd_max);
                }
            }
            if t.retries > 1 && !t.scoreboard.is_empty() {
                // Twice in a row: the peer may have dropped what it
                // SACKed (RFC 2018 §8); resend everything.
                t.scoreboard.clear();
                bump(&mut c.sack_scoreboard_cleared);
            }
            // Go back N: resend from the oldest unacknowledged byte
            // (skipping what the peer SACKed).
            t.snd_nxt = t.snd_una;
            t.high_rxt = t.snd_una;
        }
        match t.state {
            State::SynSent | State::SynReceived => {
                if t.ack_now || t.snd_nxt == t.iss {
                    self.send_syn(tx, c);
                }
                return false;
            }
            _ => {}
        }
        while self.tcb.dup_acks_owed > 0 {
            self.tcb.dup_acks_owed -= 1;
            self.send_ack(tx, c);
        }
        let t = &mut self.tcb;
        let mut sent = false;
        if t.fast_rexmit {
            t.fast_rexmit = false;
            // The segment at SND.UNA (with SACK: up to the first SACKed
            // byte), whatever the window says.
            let cap = self.payload_cap();
            let t = &self.tcb;
            let room = match t.scoreboard.next_sacked(t.snd_una) {
                Some(next) => next.since(t.snd_una) as usize,
                None => self.tx.len(),
            };
            let len = self.tx.len().min(cap).min(room);
            let fin = t.fin_sent && len == self.tx.len();
            if len > 0 || fin {
                let seq = t.snd_una;
                if self.send_data(tx, c, seq, len, fin) {
                    sent = true;
                    bump(&mut c.retransmits);
                    let t = &mut self.tcb;
                    t.high_rxt = t.high_rxt.max(seq + len);
                    t.rexmit_una_mark = t.snd_max;
                }
            }
        }
        sent |= self.resend_holes(tx, c, true);
        let new_data = self.send_window(tx, c, probe);
        sent |= new_data;
        if !new_data {
            sent |= self.resend_holes(tx, c, false);
        }
        let t = &mut self.tcb;
        if !sent && (t.ack_now || t.ack_due.is_some_and(|at| now >= at)) {
            self.send_ack(tx, c);
        }
        let t = &mut self.tcb;
        // Zero window with data waiting and nothing in flight: the
        // retransmission timer doubles as the persist timer.
        if t.retx_at.is_none() && t.snd_max == t.snd_una && t.snd_wnd == 0 && !self.tx.is_empty() {
            t.retx_at = Some(now + t.rtt.rto());
        }
        false
    }

    /// Most payload in one segment: the peer's MSS less the room our
    /// SACK option takes (RFC 6691: the MSS counts no options).
    fn payload_cap(&self) -> usize {
        let blocks = self.sack_blocks_to_send();
        self.tcb
            .snd_mss
            .saturating_sub(TcpRepr::sack_option_len(blocks))
            .max(1)
    }

    /// How many SACK blocks our ACKs carry now.
    fn sack_blocks_to_send(&self) -> usize {
        let t = &self.tcb;
        if t.sack_ok && t.state.is_synchronized() {
            t.assembler.ranges().len().min(MAX_SACK_BLOCKS)
        } else {
            0
        }
    }

    /// In SACK recovery, resends holes while `cwnd` allows: lost ones
    /// (`lost_only`), or one other hole below SACKed data (RFC 6675
    /// `NextSeg` rule 3, when no new data could go). Returns whether
    /// anything went out.
    fn resend_holes<D: Device>(
        &mut self,
        tx: &mut Sender<'_, D>,
        c: &mut TcpCounters,
        lost_only: bool,
    ) -> bool {
        let mut sent = false;
        while let Some((seq, room)) = self.tcb.hole_to_resend(lost_only) {
            let len = room.min(self.payload_cap());
            if len == 0 || !self.send_data(tx, c, seq, len, false) {
                break;
            }
            sent = true;
            bump(&mut c.retransmits);
            bump(&mut c.sack_retransmits);
            self.tcb.high_rxt = seq + len;
            if !lost_only {
                break;
            }
        }
        sent
    }

    /// Sends new (or, after a timeout, old) data and the FIN as the
    /// windows allow. Returns whether anything went out.
    fn send_window<D: Device>(
        &mut self,
        tx: &mut Sender<'_, D>,
        c: &mut TcpCounters,
        mut probe: bool,
    ) -> bool {
        let mut sent = false;
        let cap = self.payload_cap();
        loop {
            let t = &mut self.tcb;
            if let Some(end) = t.scoreboard.sacked_end(t.snd_nxt) {
                // Resending after a timeout: the peer holds this part.
                let end = end.min(t.snd_max);
                c.sack_skipped_bytes = c
                    .sack_skipped_bytes
                    .wrapping_add(u64::from(end.since(t.snd_nxt)));
                t.snd_nxt = end;
                continue;
            }
            let t = &self.tcb;
            let off = t.snd_nxt.since(t.snd_una) as usize;
            let unsent = self.tx.len().saturating_sub(off);
            // Up to the next SACKed byte, if any (resending holes).
            let avail = match t.scoreboard.next_sacked(t.snd_nxt) {
                Some(next) => unsent.min(next.since(t.snd_nxt) as usize),
                None => unsent,
            };
            let outstanding = t.outstanding();
            let mut usable = t.usable();
            if probe && usable == 0 && unsent > 0 && outstanding == 0 {
                usable = 1;
            }
            let len = avail.min(usable).min(cap);
            let fin_pending = t.fin_queued
                && matches!(t.state, State::FinWait1 | State::Closing | State::LastAck)
                && t.snd_nxt <= t.fin_seq(self.tx.len());
            let fin = fin_pending && len == unsent;
            if len == 0 && !fin {
                break;
            }
            // Sender-side silly window avoidance (RFC 9293 §3.8.6.2.1):
            // no runt segments while data is in flight to clock us.
            if len < cap && len < avail && outstanding > 0 {
                break;
            }
            let seq = t.snd_nxt;
            if !self.send_data(tx, c, seq, len, fin) {
                break;
            }
            sent = true;
            if probe {
                bump(&mut c.zero_window_probes);
                probe = false;
            }
            let t = &mut self.tcb;
            let end = seq + (len + usize::from(fin));
            if seq < t.snd_max {
                t.high_rxt = t.high_rxt.max(end.min(t.snd_max));
            }
            if end <= t.snd_max {
                bump(&mut c.retransmits);
            } else {
                if t.rtt_timing.is_none() && seq >= t.snd_max {
                    t.rtt_timing = Some((end, tx.now()));
                }
                t.snd_max = end;
            }
            t.snd_nxt = end;
            if fin {
                t.fin_sent = true;
                break;
            }
        }
        sent
    }

    /// One segment with `len` bytes from `seq` (and FIN if `fin`).
    fn send_data<D: Device>(
        &mut self,
        tx: &mut Sender<'_, D>,
        c: &mut TcpCounters,
        seq: SeqNumber,
        len: usize,
        fin: bool,
    ) -> bool {
        let t = &self.tcb;
        let off = seq.since(t.snd_una) as usize;
        let control = if fin {
            TcpControl::Fin
        } else {
            TcpControl::None
        };
        let push = len > 0 && off + len == self.tx.len();
        let ok = self.emit(tx, c, control, seq, Some(t.rcv_nxt), None, off, len, push);
        if ok {
            let now = tx.now();
            let t = &mut self.tcb;
            if t.retx_at.is_none() {
                t.retx_at = Some(now + t.rtt.rto());
            }
        }
        ok
    }

    fn send_syn<D: Device>(&mut self, tx: &mut Sender<'_, D>, c: &mut TcpCounters) {
        let t = &self.tcb;
        let ack = (t.state == State::SynReceived).then_some(t.rcv_nxt);
        let (first, iss) = (t.snd_max == t.iss, t.iss);
        if self.emit(tx, c, TcpControl::Syn, iss, ack, Some(TCP_MSS), 0, 0, false) {
            let now = tx.now();
            let t = &mut self.tcb;
            if !first {
                bump(&mut c.retransmits);
            }
            t.snd_nxt = iss + 1u32;
            t.snd_max = t.snd_nxt;
            if first {
                t.rtt_timing = Some((t.snd_nxt, now));
            }
            if t.retx_at.is_none() {
                t.retx_at = Some(now + t.rtt.rto());
            }
        }
    }

    fn send_ack<D: Device>(&mut self, tx: &mut Sender<'_, D>, c: &mut TcpCounters) {
        let t = &self.tcb;
        let (seq, ack) = (t.snd_nxt, t.rcv_nxt);
        self.emit(tx, c, TcpControl::None, seq, Some(ack), None, 0, 0, false);
    }

    /// Aborts: `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>`.
    pub(crate) fn send_reset<D: Device>(&mut self, tx: &mut Sender<'_, D>, c: &mut TcpCounters) {
        let t = &self.tcb;
        let (seq, ack) = (t.snd_nxt, t.rcv_nxt);
        if self.emit(tx, c, TcpControl::Rst, seq, Some(ack), None, 0, 0, false) {
            bump(&mut c.resets_sent);
        }
    }

    /// Builds and sends one segment; on success the pending ACK is done.
    #[allow(clippy::too_many_arguments)]
    fn emit<D: Device>(
        &mut self,
        tx: &mut Sender<'_, D>,
        c: &mut TcpCounters,
        control: TcpControl,
        seq: SeqNumber,
        ack: Option<SeqNumber>,
        mss: Option<u16>,
        data_off: usize,
        len: usize,
        push: bool,
    ) -> bool {
        let window = if control == TcpControl::Rst {
            0
        } else {
            self.rcv_window()
        };
        let mut sack_blocks = [None; MAX_SACK_BLOCKS];
        if ack.is_some() && matches!(control, TcpControl::None | TcpControl::Fin) {
            let base = self.tcb.rcv_nxt;
            let ranges = self.tcb.assembler.most_recent_first();
            let blocks = ranges.take(self.sack_blocks_to_send());
            for (slot, (start, end)) in sack_blocks.iter_mut().zip(blocks) {
                *slot = Some((base + start, base + end));
            }
        }
        let t = &self.tcb;
        let repr = TcpRepr {
            src_port: t.local.1,
            dst_port: t.remote.1,
            control,
            push,
            seq_number: seq,
            ack_number: ack,
            window_len: window as u16,
            max_seg_size: mss,
            window_scale: None,
            sack_permitted: control == TcpControl::Syn && t.sack_ok,
            sack_blocks,
            payload: &[],
        };
        let (src, dst) = (t.local.0, t.remote.0);
        let ring = &self.tx;
        let sent = tx.send_ipv4(dst, Protocol::Tcp, repr.header_len() + len, |buf| {
            let mut p = TcpPacket::new_unchecked(buf);
            repr.emit_header(&mut p);
            ring.read_at(data_off, &mut p.payload_mut()[..len]);
            p.fill_checksum(src, dst);
        });
        if sent.is_err() {
            bump(&mut c.tx_failed);
            return false;
        }
        bump(&mut c.segs_out);
        c.bytes_out = c.bytes_out.wrapping_add(len as u64);
        c.sack_blocks_out = c
            .sack_blocks_out
            .wrapping_add(repr.sack_blocks_emitted() as u64);
        let t = &mut self.tcb;
        if ack.is_some() {
            t.ack_now = false;
            t.ack_due = None;
            t.segs_unacked = 0;
            t.adv_wnd = window;
        }
        true
    }
}

/// A bare segment with no connection behind it (RSTs to strays and
/// refusals, SYN-ACKs with a cookie): no options, window 0.
pub(crate) fn bare_repr(
    local: Endpoint,
    remote: Endpoint,
    control: TcpControl,
    seq: SeqNumber,
    ack: Option<SeqNumber>,
) -> TcpRepr<'static> {
    TcpRepr {
        src_port: local.1,
        dst_port: remote.1,
        control,
        push: false,
        seq_number: seq,
        ack_number: ack,
        window_len: 0,
        max_seg_size: None,
        window_scale: None,
        sack_permitted: false,
        sack_blocks: [None; MAX_SACK_BLOCKS],
        payload: &[],
    }
}

/// Sends a segment made by [`bare_repr`] to `dst`; returns whether the
/// interface took it.
pub(crate) fn send_bare<D: Device>(
    tx: &mut Sender<'_, D>,
    c: &mut TcpCounters,
    dst: Ipv4Address,
    repr: &TcpRepr<'_>,
) -> bool {
    let src = tx.config().ip;
    let sent = tx.send_ipv4(dst, Protocol::Tcp, repr.buffer_len(), |buf| {
        repr.emit(&mut TcpPacket::new_unchecked(buf), src, dst);
    });
    if sent.is_ok() {
        bump(&mut c.segs_out);
        if repr.control == TcpControl::Rst {
            bump(&mut c.resets_sent);
        }
    } else {
        bump(&mut c.tx_failed);
    }
    sent.is_ok()
}
