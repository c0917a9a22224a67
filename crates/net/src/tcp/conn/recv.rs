//! The receive path: one segment in (RFC 9293 §3.10.7.3 and §3.10.7.4,
//! with the RFC 5961 hardening): the acceptability tests, RST and SYN,
//! the ACK (what it frees, the window update, what recovery makes of
//! it), the text (in order or not) and the FIN.

use super::super::config::TcpConfig;
use super::super::counters::{bump, TcpCounters};
use super::super::seq::SeqNumber;
use super::rfc7323::Reject;
use super::{Conn, State, Verdict};
use crate::limits::TCP_MSS;
use crate::time::{Duration, Instant};
use crate::wire::{TcpControl, TcpRepr};

impl<const RX: usize, const TX: usize> Conn<RX, TX> {
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
        let offer = t.offer();
        t.take_syn(seg, &offer);
        t.timers.last_rx = now;
        t.ack_now = true;
        match seg.ack_number {
            Some(ack) if ack_ok => {
                let (window, echo) = (t.snd_wnd, t.ext.echoed_rtt(seg, now));
                t.establish(now, seg.seq_number, ack, window, echo, c);
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

        // Before all else, with timestamps: the option must be there, and
        // PAWS (RFC 7323 §5.3 R1, Appendix D).
        match t.ext.check(seg, seg.control == TcpControl::Rst) {
            Ok(()) => {}
            Err(Reject::NoTimestamp) => {
                bump(&mut c.drop_no_timestamp);
                return Verdict::Keep;
            }
            Err(Reject::Paws) => {
                bump(&mut c.drop_paws);
                t.ack_now = true;
                return Verdict::Keep;
            }
        }

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
                    t.timers.time_wait_until = now + cfg.time_wait;
                }
            }
            return Verdict::Keep;
        }
        // RFC 7323 §4.3: the TSval to echo.
        t.ext.update_recent(seg);

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
                let (window, echo) = (
                    t.ext.peer_window(seg.window_len),
                    t.ext.echoed_rtt(seg, now),
                );
                t.establish(now, seq, ack, window, echo, c);
                bump(&mut c.accepted);
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
        t.timers.last_rx = now;
        self.take_ack(now, seg, ack, c);
        let t = &mut self.tcb;
        let fin_acked = t.fin_acked();
        match t.state {
            State::FinWait1 if fin_acked => {
                t.state = State::FinWait2;
                t.timers.fin_wait_2_since = now;
            }
            State::Closing if fin_acked => {
                t.state = State::TimeWait;
                t.timers.time_wait_until = now + cfg.time_wait;
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
            self.tcb.timers.last_data_rx = now;
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
                    t.timers.time_wait_until = now + cfg.time_wait;
                }
                _ => t.ack_now = true,
            }
        }
        Verdict::Keep
    }

    /// An acceptable ACK up to `ack`, at most SND.MAX (RFC 9293
    /// §3.10.7.4, fifth): SACK blocks, new data acknowledged or a
    /// duplicate, the window update, and the loss checks.
    fn take_ack(&mut self, now: Instant, seg: &TcpRepr, ack: SeqNumber, c: &mut TcpCounters) {
        let t = &mut self.tcb;
        let seq = seg.seq_number;
        let newly_sacked = if t.sack_ok {
            t.cc.take_sack(&t.flight(), seg, ack, c)
        } else {
            0
        };
        let dup = if ack > t.snd_una {
            let echo = t.ext.echoed_rtt(seg, now);
            self.new_ack(now, ack, echo);
            false
        } else if t.sack_ok {
            // RFC 6675 §2: with SACK, a duplicate is an ACK that SACKs
            // new data; data riding on it does not matter (a peer that
            // talks back acknowledges on its own segments), and a mere
            // repeat (a window update, a D-SACK) is not one.
            newly_sacked > 0 && ack == t.snd_una
        } else {
            // RFC 5681 also wants the window unchanged; a receiver whose
            // application reads while the gap stays open changes it, so
            // only the data-free, in-place ACK is required here.
            ack == t.snd_una
                && seg.payload.is_empty()
                && seg.control == TcpControl::None
                && seg.window_len != 0
                && t.snd_max > t.snd_una
        };
        let t = &mut self.tcb;
        if dup && t.cc.on_dup_ack(&t.flight(), c) {
            t.timers.forget_timing(t.ext.timestamps);
        }
        // Window update (RFC 9293 §3.10.7.4, fifth, ESTABLISHED).
        if t.snd_wl1 < seq || (t.snd_wl1 == seq && t.snd_wl2 <= ack) {
            let was_closed = t.snd_wnd == 0;
            t.snd_wnd = t.ext.peer_window(seg.window_len);
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
            t.timers.retries = 0;
        }
        if t.sack_ok && !t.cc.scoreboard.is_empty() {
            let unsent = self.tx.len().saturating_sub(t.outstanding());
            if t.cc.loss_check(&t.flight(), unsent, t.snd_wnd, c) {
                t.timers.forget_timing(t.ext.timestamps);
            }
        }
    }

    /// An ACK of new data: free acknowledged bytes, time the RTT (`echo`:
    /// what its timestamp tells), grow the congestion window, restart or
    /// stop the timer.
    fn new_ack(&mut self, now: Instant, ack: SeqNumber, echo: Option<Duration>) {
        let t = &mut self.tcb;
        let mut acked = ack.since(t.snd_una) as usize;
        if t.syn_outstanding() {
            acked -= 1;
        }
        self.tx.discard(acked);
        t.snd_una = ack;
        t.snd_nxt = t.snd_nxt.max(ack);
        t.timers.sample_rtt(ack, now, echo);
        t.timers.on_progress(now, t.snd_una != t.snd_max);
        t.cc.on_new_ack(&t.flight(), acked, ack);
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
            // At least every second full-sized segment is acknowledged at
            // once (RFC 9293 §3.8.6.3); one longer than our MSS was several
            // until the host's segmentation offload merged them.
            t.segs_unacked = t.segs_unacked.saturating_add(1);
            if t.segs_unacked >= 2 || written > usize::from(TCP_MSS) {
                t.ack_now = true;
            } else if t.timers.ack_due.is_none() {
                t.timers.ack_due = Some(now + cfg.delayed_ack);
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
                t.timers.time_wait_until = now + cfg.time_wait;
                State::TimeWait
            }
            other => other,
        };
    }
}
