//! The one builder of outgoing segments. [`bare_repr`] makes every
//! segment's header fields; a connection's segments ([`Conn::emit`]) add
//! its window (scaled, RFC 7323 §2), options (MSS, SACK-permitted and
//! window scale in SYNs; timestamps once agreed, RFC 7323 §3.2; SACK
//! blocks) and payload, and bare ones (RSTs to strays and
//! refusals, SYN-ACKs with a cookie) go out as they are through
//! [`send_bare`].

use super::super::counters::{bump, TcpCounters};
use super::super::seq::SeqNumber;
use super::{Conn, Endpoint};
use crate::device::Device;
use crate::iface::{Offload, Sender};
use crate::limits::TCP_MSS;
use crate::wire::tcp::{field, MAX_SACK_BLOCKS};
use crate::wire::{Ipv4Address, Protocol, TcpControl, TcpPacket, TcpRepr};

/// A segment's header fields from `local` to `remote`: no options,
/// window 0, no payload.
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
        timestamps: None,
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

/// One segment of a connection: its control flag and numbers, and the
/// payload as `len` bytes at `data_off` into the send buffer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Outgoing {
    pub control: TcpControl,
    pub seq: SeqNumber,
    pub ack: Option<SeqNumber>,
    pub data_off: usize,
    pub len: usize,
    pub push: bool,
    /// More than one segment's payload, for the device to cut into
    /// segments of this many bytes (TCP segmentation offload).
    pub segment_payload: Option<u16>,
}

impl Outgoing {
    /// A segment without payload.
    pub fn bare(control: TcpControl, seq: SeqNumber, ack: Option<SeqNumber>) -> Outgoing {
        Outgoing {
            control,
            seq,
            ack,
            data_off: 0,
            len: 0,
            push: false,
            segment_payload: None,
        }
    }
}

impl<const RX: usize, const TX: usize> Conn<RX, TX> {
    /// Builds and sends one segment; on success the pending ACK is done.
    pub(super) fn emit<D: Device>(
        &mut self,
        tx: &mut Sender<'_, D>,
        c: &mut TcpCounters,
        out: Outgoing,
    ) -> bool {
        let t = &self.tcb;
        let syn = out.control == TcpControl::Syn;
        // The window field: unscaled in a SYN (RFC 7323 §2.2), else our
        // window rounded down to the scale's granularity (§2.4).
        let (field, window) = match out.control {
            TcpControl::Rst => (0, 0),
            TcpControl::Syn => {
                let w = self.rcv_window().min(u32::from(u16::MAX));
                (w as u16, w)
            }
            _ => {
                let field = (self.rcv_window() >> t.ext.rcv_shift) as u16;
                (field, u32::from(field) << t.ext.rcv_shift)
            }
        };
        let mut repr = bare_repr(t.local, t.remote, out.control, out.seq, out.ack);
        repr.push = out.push;
        repr.window_len = field;
        if syn {
            repr.max_seg_size = Some(TCP_MSS);
            repr.sack_permitted = t.sack_ok;
            repr.window_scale = t.ext.scaling.then_some(t.ext.rcv_shift);
        }
        repr.timestamps = t.ext.option(tx.now(), out.ack.is_some());
        if out.ack.is_some() && matches!(out.control, TcpControl::None | TcpControl::Fin) {
            let base = t.rcv_nxt;
            let ranges = t.assembler.most_recent_first();
            let blocks = ranges.take(self.sack_blocks_to_send());
            for (slot, (start, end)) in repr.sack_blocks.iter_mut().zip(blocks) {
                *slot = Some((base + start, base + end));
            }
        }
        let (src, dst) = (t.local.0, t.remote.0);
        let ring = &self.tx;
        let (off, len) = (out.data_off, out.len);
        // The checksum is left to the device (or done in software by the
        // interface, VIRTIO 1.2 §5.1.6.2): the payload is touched once,
        // copied from the send buffer into the frame.
        let seg_len = repr.header_len() + len;
        let offload = Offload {
            checksum_at: field::CHECKSUM.start,
            segment_payload: out.segment_payload,
        };
        let sent = tx.send_ipv4_offloaded(dst, Protocol::Tcp, seg_len, offload, |buf| {
            let mut p = TcpPacket::new_unchecked(buf);
            repr.emit_header(&mut p);
            ring.read_at(off, &mut p.payload_mut()[..len]);
            p.fill_partial_checksum(src, dst);
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
        if out.ack.is_some() {
            t.ack_now = false;
            t.timers.ack_due = None;
            t.segs_unacked = 0;
            t.adv_wnd = window;
        }
        if let Some(ack) = out.ack {
            t.ext.last_ack_sent = ack;
        }
        true
    }
}
