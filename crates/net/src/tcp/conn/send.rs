//! The send path: [`Conn::dispatch`] runs the timers and sends what is
//! due (RSTs, SYNs, the fast retransmit, holes in SACK recovery, new
//! data and the FIN within the windows, ACKs), and [`Conn::poll_at`]
//! says when that is next needed. Every segment is built by
//! [`Conn::emit`](super::segment).

use super::super::config::TcpConfig;
use super::super::counters::{bump, TcpCounters};
use super::super::seq::SeqNumber;
use super::segment::Outgoing;
use super::{Conn, State};
use crate::device::Device;
use crate::iface::Sender;
use crate::time::Instant;
use crate::wire::tcp::{HEADER_LEN, MAX_SACK_BLOCKS, TIMESTAMPS_OPTION_LEN};
use crate::wire::{TcpControl, TcpRepr};

impl<const RX: usize, const TX: usize> Conn<RX, TX> {
    /// When this connection next needs a dispatch.
    pub fn poll_at(&self, now: Instant, cfg: &TcpConfig) -> Option<Instant> {
        let t = &self.tcb;
        match t.state {
            State::Closed => return None,
            State::TimeWait => return Some(t.timers.time_wait_until),
            _ => {}
        }
        if t.rst_pending || t.ack_now || t.cc.fast_rexmit || self.can_send_now() {
            return Some(now);
        }
        t.timers.next_deadline(t.state, self.pending(), cfg)
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
        if t.cc.hole_to_resend(&t.flight(), false).is_some() {
            return true;
        }
        let off = t.snd_nxt.since(t.snd_una) as usize;
        let unsent = self.tx.len().saturating_sub(off);
        let usable = t.usable();
        (unsent > 0 && usable > 0 && (usable >= unsent.min(t.snd_mss) || off == 0))
            || (t.fin_due(self.tx.len()) && unsent == 0)
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
                if now >= t.timers.time_wait_until {
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
        let pending = self.pending();
        let t = &mut self.tcb;
        if let Some(abort) = t.timers.overdue(t.state, pending, now, cfg) {
            bump(abort.counter(c));
            self.send_reset(tx, c);
            return true;
        }
        let t = &mut self.tcb;
        let mut probe = false;
        if t.timers.retx_expired(now) {
            let limit = if t.state.is_synchronized() {
                cfg.max_retries
            } else {
                cfg.synack_retries
            };
            if t.timers.retries >= limit {
                bump(&mut c.aborted_retries);
                self.send_reset(tx, c);
                return true;
            }
            bump(&mut c.timeouts);
            t.timers.on_retx_expired(t.ext.timestamps);
            probe = t.snd_wnd == 0 && t.state.is_synchronized();
            let collapse = !probe && t.state.is_synchronized();
            t.cc.on_timeout(&t.flight(), t.timers.retries, collapse, c);
            // Go back N: resend from the oldest unacknowledged byte
            // (skipping what the peer SACKed).
            t.snd_nxt = t.snd_una;
        }
        if matches!(t.state, State::SynSent | State::SynReceived) {
            if t.ack_now || t.snd_nxt == t.iss {
                self.send_syn(tx, c);
            }
            return false;
        }
        while self.tcb.dup_acks_owed > 0 {
            self.tcb.dup_acks_owed -= 1;
            self.send_ack(tx, c);
        }
        let mut sent = self.fast_retransmit(tx, c);
        sent |= self.resend_holes(tx, c, true);
        let new_data = self.send_window(tx, c, probe);
        sent |= new_data;
        if !new_data {
            sent |= self.resend_holes(tx, c, false);
        }
        let t = &self.tcb;
        if !sent && (t.ack_now || t.timers.ack_due.is_some_and(|at| now >= at)) {
            self.send_ack(tx, c);
        }
        let t = &mut self.tcb;
        // Zero window with data waiting and nothing in flight: the
        // retransmission timer doubles as the persist timer.
        if t.snd_max == t.snd_una && t.snd_wnd == 0 && !self.tx.is_empty() {
            t.timers.arm_retx(now);
        }
        false
    }

    /// Resends the segment at SND.UNA (with SACK: up to the first SACKed
    /// byte), whatever the window says, when recovery asked for it.
    /// Returns whether it went out.
    fn fast_retransmit<D: Device>(&mut self, tx: &mut Sender<'_, D>, c: &mut TcpCounters) -> bool {
        if !self.tcb.cc.fast_rexmit {
            return false;
        }
        self.tcb.cc.fast_rexmit = false;
        let cap = self.payload_cap();
        let t = &self.tcb;
        let room = match t.cc.scoreboard.next_sacked(t.snd_una) {
            Some(next) => next.since(t.snd_una) as usize,
            None => self.tx.len(),
        };
        let len = self.tx.len().min(cap).min(room);
        let fin = t.fin_sent && len == self.tx.len();
        if len == 0 && !fin {
            return false;
        }
        let seq = t.snd_una;
        if !self.send_data(tx, c, seq, len, fin) {
            return false;
        }
        bump(&mut c.retransmits);
        let t = &mut self.tcb;
        t.cc.high_rxt = t.cc.high_rxt.max(seq + len);
        t.cc.rexmit_una_mark = t.snd_max;
        true
    }

    /// Most payload in one segment: the peer's MSS less the room our
    /// SACK and Timestamps options take (RFC 6691: the MSS counts no
    /// options).
    fn payload_cap(&self) -> usize {
        self.tcb.snd_mss.saturating_sub(self.options_len()).max(1)
    }

    /// The options our segments carry now: timestamps, SACK blocks.
    fn options_len(&self) -> usize {
        let blocks = self.sack_blocks_to_send();
        let ts = if self.tcb.ext.timestamps {
            TIMESTAMPS_OPTION_LEN
        } else {
            0
        };
        TcpRepr::sack_option_len(blocks) + ts
    }

    /// Most new data one send may carry: whole segments of `cap` bytes
    /// as far as the device cuts them into segments for us (TCP
    /// segmentation offload, `device::TxOffload::segment_payload`), else
    /// one segment.
    fn send_cap<D: Device>(&self, tx: &Sender<'_, D>, cap: usize) -> usize {
        let header = HEADER_LEN + self.options_len();
        match tx.tcp_segmentation(self.tcb.remote.0) {
            Some(most) => (most.saturating_sub(header) / cap * cap).max(cap),
            None => cap,
        }
    }

    /// How many SACK blocks our ACKs carry now.
    pub(super) fn sack_blocks_to_send(&self) -> usize {
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
        while let Some((seq, room)) = self.tcb.cc.hole_to_resend(&self.tcb.flight(), lost_only) {
            let len = room.min(self.payload_cap());
            if len == 0 || !self.send_data(tx, c, seq, len, false) {
                break;
            }
            sent = true;
            bump(&mut c.retransmits);
            bump(&mut c.sack_retransmits);
            self.tcb.cc.high_rxt = seq + len;
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
        let most = self.send_cap(tx, cap);
        loop {
            let t = &mut self.tcb;
            if let Some(end) = t.cc.scoreboard.sacked_end(t.snd_nxt) {
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
            let avail = match t.cc.scoreboard.next_sacked(t.snd_nxt) {
                Some(next) => unsent.min(next.since(t.snd_nxt) as usize),
                None => unsent,
            };
            let outstanding = t.outstanding();
            let mut usable = t.usable();
            if probe && usable == 0 && unsent > 0 && outstanding == 0 {
                usable = 1;
            }
            let mut len = avail.min(usable).min(most);
            if len > cap {
                // Whole segments only, when the device cuts them: the
                // rest goes in the next send (and new data keeps starting
                // where segments of `cap` bytes do).
                len -= len % cap;
            }
            let fin = t.fin_due(self.tx.len()) && len == unsent;
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
                t.cc.high_rxt = t.cc.high_rxt.max(end.min(t.snd_max));
            }
            if end <= t.snd_max {
                bump(&mut c.retransmits);
            } else {
                if seq >= t.snd_max {
                    t.timers.time_segment(end, tx.now());
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
        let data_off = seq.since(t.snd_una) as usize;
        let control = if fin {
            TcpControl::Fin
        } else {
            TcpControl::None
        };
        let cap = self.payload_cap();
        let out = Outgoing {
            control,
            seq,
            ack: Some(t.rcv_nxt),
            data_off,
            len,
            push: len > 0 && data_off + len == self.tx.len(),
            segment_payload: (len > cap).then(|| cap.min(usize::from(u16::MAX)) as u16),
        };
        let ok = self.emit(tx, c, out);
        if ok {
            let t = &mut self.tcb;
            t.timers.arm_retx(tx.now());
            if seq < t.snd_max {
                let end = seq + (len + usize::from(fin));
                t.timers.on_resend(end, tx.now(), t.ext.timestamps);
            }
        }
        ok
    }

    fn send_syn<D: Device>(&mut self, tx: &mut Sender<'_, D>, c: &mut TcpCounters) {
        let t = &self.tcb;
        let ack = (t.state == State::SynReceived).then_some(t.rcv_nxt);
        let (first, iss) = (t.snd_max == t.iss, t.iss);
        if self.emit(tx, c, Outgoing::bare(TcpControl::Syn, iss, ack)) {
            let now = tx.now();
            let t = &mut self.tcb;
            t.snd_nxt = iss + 1u32;
            t.snd_max = t.snd_nxt;
            if first {
                t.timers.time_segment(t.snd_nxt, now);
            } else {
                bump(&mut c.retransmits);
                t.timers.on_resend(t.snd_nxt, now, t.ext.timestamps);
            }
            t.timers.arm_retx(now);
        }
    }

    fn send_ack<D: Device>(&mut self, tx: &mut Sender<'_, D>, c: &mut TcpCounters) {
        let t = &self.tcb;
        let (seq, ack) = (t.snd_nxt, t.rcv_nxt);
        self.emit(tx, c, Outgoing::bare(TcpControl::None, seq, Some(ack)));
    }

    /// Aborts: `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>`.
    pub(crate) fn send_reset<D: Device>(&mut self, tx: &mut Sender<'_, D>, c: &mut TcpCounters) {
        let t = &self.tcb;
        let (seq, ack) = (t.snd_nxt, t.rcv_nxt);
        if self.emit(tx, c, Outgoing::bare(TcpControl::Rst, seq, Some(ack))) {
            bump(&mut c.resets_sent);
        }
    }
}
