//! One connection: the RFC 9293 state machine, its send and receive
//! buffers and its timers. [`Conn::process`] takes one segment in (RFC
//! 9293 §3.10.7.4, with the RFC 5961 hardening); [`Conn::dispatch`] runs
//! the timers and sends what is due. Neither does I/O beyond the
//! [`Sender`](crate::iface::Sender) it is lent, and both take the time
//! from their caller.
//!
//! One file per concern: `tcb` (the control block, the handshake's
//! bookkeeping, the move to ESTABLISHED), `recv` (a segment in: the
//! acceptability tests, ACK processing, text and FIN), `send` (dispatch:
//! what goes out when), `segment` (the one builder of outgoing
//! segments), `recovery` (loss recovery and congestion state, a type of
//! its own), `timers` (every deadline, and the RTT sampling) and
//! `rfc7323` (window scaling and timestamps: negotiation, PAWS, RTTM).
//!
//! Out-of-order data is kept: it is written into the receive ring at its
//! offset and recorded in an [`Assembler`](super::assembler::Assembler)
//! of a few ranges; a segment needing one range too many is dropped (the
//! peer resends it). When both sides agreed on SACK (RFC 2018), every
//! ACK we send while holding such data reports those ranges, most
//! recently touched first.

mod recovery;
mod recv;
mod rfc7323;
mod segment;
mod send;
mod tcb;
mod timers;

use core::fmt;

use super::ring::RingBuffer;
use crate::limits::TCP_MSS;
use crate::time::Instant;
use crate::wire::Ipv4Address;

pub(crate) use rfc7323::{ts_before, window_shift, Offer};
pub(crate) use segment::{bare_repr, send_bare};
pub(crate) use tcb::Tcb;

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
    Reset(super::seq::SeqNumber),
    /// The connection is over: free its slot.
    Close,
    /// Data came after the lingering close ended (RFC 1122 §4.2.2.13):
    /// reset the connection and free its slot (`linger_resets`).
    LingerReset,
}

/// Most bytes a control block may take: its size before the split into
/// recovery and timer types. The per-segment lookup confirms a match
/// against the slot's state, so every connection's control block is
/// touched under load; a larger one changed which pages and TLB entries
/// that touches, and 48 bytes more once halved the unikernel's
/// new-connection rate under QEMU (see `tcp::live`). Grow it only with a
/// benchmark in hand.
const TCB_BUDGET: usize = 440;
const _: () = assert!(core::mem::size_of::<Tcb>() <= TCB_BUDGET);

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

    /// The window to advertise: free receive space, as far as the
    /// window field and our scale reach.
    pub fn rcv_window(&self) -> u32 {
        self.rx.free().min(self.tcb.ext.max_rcv_window()) as u32
    }

    /// After the application read: announce a window that opened a lot.
    pub fn window_opened(&mut self) {
        let step = (2 * usize::from(TCP_MSS)).min(RX / 2).max(1) as u32;
        if self.tcb.state.is_synchronized() && self.rcv_window() >= self.tcb.adv_wnd + step {
            self.tcb.ack_now = true;
        }
    }

    /// Moves received bytes straight into the send buffer, as many as
    /// both allow (none once closed for sending); returns how many.
    pub fn echo(&mut self) -> usize {
        if !self.may_send() {
            return 0;
        }
        let n = self.rx.move_to(&mut self.tx);
        if n > 0 {
            self.window_opened();
        }
        n
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
        t.timers.closed_at = now;
        match t.state {
            State::Established | State::SynReceived => t.state = State::FinWait1,
            State::CloseWait => t.state = State::LastAck,
            State::SynSent => return true,
            _ => return false,
        }
        t.fin_queued = true;
        false
    }
}
