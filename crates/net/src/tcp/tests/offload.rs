//! TCP segmentation offload (`device::TxOffload::segment_payload`): a
//! device that cuts what the stack hands it as a host would
//! (VIRTIO_NET_F_HOST_TSO4), in software. The two-stack runs through it
//! are in `sim.rs`.

use super::*;
use crate::device::{Device, RxInfo, TxOffload};
use crate::wire::checksum;

/// The largest frame [`SoftTso`] takes to cut.
pub(crate) const SOFT_TSO_FRAME: usize = 64 * 1024;

/// Wraps a device and, when `on`, says it cuts TCP frames into segments
/// and does so before they reach the device: IPv4 total length, id and
/// checksum, TCP sequence number and checksum made right for each piece,
/// FIN and PSH kept for the last. `on = false`: the device as it is.
pub(crate) struct SoftTso<D: Device> {
    inner: D,
    on: bool,
    /// Frames handed over to cut, and the segments cut from them.
    pub cut_frames: u64,
    pub cut_segments: u64,
    /// The longest frame handed over.
    pub longest: usize,
    /// Frames whose payload was not a whole number of segments.
    pub uneven: u64,
}

impl<D: Device> SoftTso<D> {
    pub fn new(inner: D, on: bool) -> Self {
        SoftTso {
            inner,
            on,
            cut_frames: 0,
            cut_segments: 0,
            longest: 0,
            uneven: 0,
        }
    }

    pub fn inner(&self) -> &D {
        &self.inner
    }
}

/// Cuts `frame` (Ethernet, IPv4, TCP with a partial checksum) into
/// frames of `mss` payload bytes each (the last may be shorter).
fn cut(frame: &[u8], mss: usize) -> Vec<Vec<u8>> {
    let ihl = usize::from(frame[14] & 0x0f) * 4;
    let tcp = 14 + ihl;
    let headers = tcp + usize::from(frame[tcp + 12] >> 4) * 4;
    let ip = Ipv4Packet::new_checked(&frame[14..]).unwrap();
    let (src, dst, id) = (ip.src_addr(), ip.dst_addr(), ip.ident());
    let seq = TcpPacket::new_checked(&frame[tcp..]).unwrap().seq_number();
    let pieces: Vec<&[u8]> = frame[headers..].chunks(mss).collect();
    let last = pieces.len() - 1;
    let mut out = Vec::new();
    for (k, piece) in pieces.into_iter().enumerate() {
        let mut f = frame[..headers].to_vec();
        f.extend_from_slice(piece);
        let mut ip = Ipv4Packet::new_unchecked(&mut f[14..]);
        ip.set_total_len((headers - 14 + piece.len()) as u16);
        ip.set_ident(id.wrapping_add(k as u16));
        ip.fill_checksum();
        let mut p = TcpPacket::new_unchecked(&mut f[tcp..]);
        p.set_seq_number(seq + k * mss);
        if k != last {
            let flags = p.flags() & !0x09; // FIN and PSH on the last only
            p.set_header_len_and_flags(headers - tcp, flags);
        }
        p.fill_partial_checksum(src, dst);
        assert!(checksum::complete_partial(&mut f, tcp, 16));
        out.push(f);
    }
    out
}

impl<D: Device> Device for SoftTso<D> {
    fn capabilities(&self) -> crate::device::Capabilities {
        self.inner.capabilities()
    }

    fn mac(&self) -> [u8; 6] {
        self.inner.mac()
    }

    fn receive<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        self.inner.receive(f)
    }

    fn receive_lent<R>(&mut self, f: impl FnOnce(&mut Self, &[u8], RxInfo) -> R) -> Option<R> {
        let mut frame = Vec::new();
        self.inner.receive(|b| frame.extend_from_slice(b))?;
        let info = RxInfo {
            len: frame.len(),
            checksum_ok: false,
        };
        Some(f(self, &frame, info))
    }

    fn transmit<R>(&mut self, len: usize, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        self.inner.transmit(len, f)
    }

    fn tcp_segmentation(&self) -> Option<usize> {
        self.on.then_some(SOFT_TSO_FRAME)
    }

    fn transmit_offloaded<R>(
        &mut self,
        len: usize,
        offload: TxOffload,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        let Some(mss) = offload.segment_payload.filter(|_| self.on) else {
            return self.inner.transmit_offloaded(len, offload, f);
        };
        assert!(len <= SOFT_TSO_FRAME, "asked to cut {len} bytes");
        assert!(offload.checksum.is_some(), "segmentation without checksum");
        let mut frame = std::vec![0u8; len];
        let r = f(&mut frame);
        self.cut_frames += 1;
        self.longest = self.longest.max(len);
        let pieces = cut(&frame, usize::from(mss));
        if pieces.last().is_some_and(|p| p.len() != pieces[0].len()) {
            self.uneven += 1;
        }
        for piece in pieces {
            self.cut_segments += 1;
            // A piece the link refuses is lost, as on a wire.
            self.inner
                .transmit(piece.len(), |b| b.copy_from_slice(&piece));
        }
        Some(r)
    }
}
