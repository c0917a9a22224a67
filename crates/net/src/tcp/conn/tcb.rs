//! The transmission control block (RFC 9293 §3.3.1): sequence variables,
//! what was negotiated, the application's requests, and the recovery and
//! timer state as types of their own. The handshake's bookkeeping is
//! here: what the peer's SYN tells, and the move to ESTABLISHED.

use super::super::assembler::Assembler;
use super::super::config::TcpConfig;
use super::super::counters::{bump, TcpCounters};
use super::super::evict::AppPhase;
use super::super::seq::SeqNumber;
use super::recovery::{Flight, Recovery};
use super::rfc7323::{Offer, Rfc7323};
use super::timers::Timers;
use super::{Endpoint, State};
use crate::limits::{TCP_DEFAULT_PEER_MSS, TCP_MIN_PEER_MSS, TCP_MSS};
use crate::time::{Duration, Instant};
use crate::wire::{Ipv4Address, TcpRepr};

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
    pub ack_now: bool,
    pub segs_unacked: u8,
    /// Out-of-order segments not answered yet: one pure duplicate ACK
    /// each goes before any data, even when several came in one poll,
    /// so the peer can count them (RFC 5681 §4.2) and retransmit fast.
    pub dup_acks_owed: u16,
    /// The application aborted: send RST, then free.
    pub rst_pending: bool,
    /// SACK: in SYN-SENT, that we offer it; once the peer's SYN is in,
    /// that both sides agreed.
    pub sack_ok: bool,
    /// Window scaling and timestamps.
    pub ext: Rfc7323,
    pub assembler: Assembler,
    /// Congestion window and loss recovery.
    pub cc: Recovery,
    pub timers: Timers,
    /// What the application said it is doing, and since when.
    pub phase: AppPhase,
    pub phase_since: Instant,
}

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
            ack_now: false,
            segs_unacked: 0,
            dup_acks_owed: 0,
            rst_pending: false,
            sack_ok: false,
            ext: Rfc7323::off(),
            assembler: Assembler::new(),
            cc: Recovery::closed(),
            timers: Timers::closed(),
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
        let mss = usize::from(TCP_DEFAULT_PEER_MSS);
        Tcb {
            state,
            local,
            remote,
            iss,
            snd_mss: mss,
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            cc: Recovery::open(mss),
            timers: Timers::open(now),
            phase_since: now,
            ..Tcb::closed()
        }
    }

    /// Takes the peer's SYN: its ISN, MSS, window, and which options
    /// are used (those both it and our `offer` carry).
    pub fn take_syn(&mut self, syn: &TcpRepr, offer: &Offer) {
        let mss = syn.max_seg_size.unwrap_or(TCP_DEFAULT_PEER_MSS);
        self.take_peer(
            syn.seq_number,
            mss,
            syn.window_len,
            offer.sack && syn.sack_permitted,
        );
        self.ext.negotiate(syn, offer);
    }

    /// Active open: what our SYN offers.
    pub fn offer_in_syn(&mut self, offer: &Offer) {
        self.sack_ok = offer.sack;
        self.ext = Rfc7323::offered(offer);
    }

    /// What we offer (SYN-SENT) or agreed to.
    pub fn offer(&self) -> Offer {
        self.ext.as_offer(self.sack_ok)
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
        self.cc.set_initial_window(self.snd_mss);
    }

    /// Our SYN is acknowledged by `ack` in a segment at `seq` offering
    /// `window`: ESTABLISHED (RFC 9293 §3.10.7.3 and §3.10.7.4), from
    /// SYN-SENT or SYN-RECEIVED alike.
    /// `echo` is the round trip its timestamp tells, if any.
    pub fn establish(
        &mut self,
        now: Instant,
        seq: SeqNumber,
        ack: SeqNumber,
        window: u32,
        echo: Option<Duration>,
        c: &mut TcpCounters,
    ) {
        self.timers.on_established(ack, now, echo);
        self.state = State::Established;
        self.snd_una = ack;
        self.snd_nxt = self.snd_nxt.max(ack);
        self.snd_wnd = window;
        self.max_snd_wnd = self.max_snd_wnd.max(window);
        self.snd_wl1 = seq;
        self.snd_wl2 = ack;
        if self.sack_ok {
            bump(&mut c.sack_negotiated);
        }
        if self.ext.scaling {
            bump(&mut c.window_scaling_negotiated);
        }
        if self.ext.timestamps {
            bump(&mut c.timestamps_negotiated);
        }
    }

    /// What recovery reads of the sender's state.
    pub fn flight(&self) -> Flight {
        Flight {
            una: self.snd_una,
            nxt: self.snd_nxt,
            max: self.snd_max,
            mss: self.snd_mss,
            sack: self.sack_ok,
        }
    }

    /// Sent and not acknowledged (sequence space, SACKed or not).
    pub fn outstanding(&self) -> usize {
        self.snd_nxt.since(self.snd_una) as usize
    }

    /// Bytes that may go out now (congestion and peer windows).
    pub fn usable(&self) -> usize {
        self.cc.usable(&self.flight(), self.snd_wnd)
    }

    /// Whether our SYN is still unacknowledged (it occupies `snd_una`).
    pub fn syn_outstanding(&self) -> bool {
        matches!(self.state, State::SynSent | State::SynReceived)
    }

    /// Whether our FIN has been acknowledged.
    pub fn fin_acked(&self) -> bool {
        self.fin_sent && self.snd_una == self.snd_max
    }

    /// Whether the lingering close is over (see
    /// [`crate::limits::TCP_LINGER_SILENCE`]): the application closed, our
    /// reply and FIN are acknowledged, and the peer has been silent for
    /// the linger silence, or the linger total has passed.
    pub fn linger_over(&self, now: Instant, cfg: &TcpConfig) -> bool {
        let t = &self.timers;
        self.fin_queued
            && self.fin_acked()
            && (now >= t.closed_at.max(t.last_data_rx) + cfg.linger_silence
                || now >= t.closed_at + cfg.linger_total)
    }

    /// Where our FIN goes, until it is acknowledged: after every queued
    /// byte.
    pub fn fin_seq(&self, tx_len: usize) -> SeqNumber {
        self.snd_una + usize::from(self.syn_outstanding()) + tx_len
    }

    /// Whether our FIN is due once the queued data (`tx_len` bytes) is out.
    pub fn fin_due(&self, tx_len: usize) -> bool {
        self.fin_queued
            && matches!(
                self.state,
                State::FinWait1 | State::Closing | State::LastAck
            )
            && self.snd_nxt <= self.fin_seq(tx_len)
    }
}
