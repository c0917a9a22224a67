//! The contract between the stack and a network device: the virtio-net
//! driver in the kernel implements it, and so does the simulated link in
//! host tests. Frames are lent, not copied: the device hands a received
//! frame to a closure, and lends a transmit buffer for a closure to fill.
//!
//! Offloads (VIRTIO 1.2 §5.1.6: a device that checksums what it sends and
//! vouches for what it receives) go through [`Device::receive_lent`] and
//! [`Device::transmit_offloaded`]; their defaults do in software what such
//! a device does, so a device implements them only when it can do better.

use crate::limits::MAX_FRAME_LEN;
use crate::wire::checksum;

/// What a device can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// Largest Ethernet frame, header included, FCS excluded (1514 for a
    /// 1500-byte MTU).
    pub max_frame_len: usize,
}

/// What the device says of a frame it lends ([`Device::receive_lent`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RxInfo {
    /// The frame's length. The frame lent is shorter (empty) only when the
    /// device could not lend a frame this long: the caller drops it.
    pub len: usize,
    /// The device checked the frame's TCP or UDP checksum, or the frame
    /// comes from a host that leaves that checksum to the hardware
    /// (VIRTIO 1.2 §5.1.6.4.1: `DATA_VALID`, `NEEDS_CSUM`): the stack need
    /// not (and for the latter, cannot) verify it.
    pub checksum_ok: bool,
}

/// What a frame sent through [`Device::transmit_offloaded`] still needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxOffload {
    /// An Internet checksum to complete, as `(start, offset)` bytes into
    /// the frame: the field at `start + offset` holds the partial sum of
    /// what the checksum covers outside the frame (the pseudo-header), and
    /// the complement of the sum of the frame from `start` on replaces it
    /// ([`checksum::complete_partial`]; VIRTIO 1.2 §5.1.6.2).
    pub checksum: Option<(usize, usize)>,
    /// TCP segmentation (VIRTIO_NET_F_HOST_TSO4): the frame is one IPv4
    /// TCP segment larger than the MTU, to be cut into segments of this
    /// many payload bytes, each with the frame's headers (lengths,
    /// sequence numbers and checksums made right for each; FIN and PSH on
    /// the last only). Asked only of a device whose
    /// [`Device::tcp_segmentation`] allows the frame, and always with
    /// `checksum`.
    pub segment_payload: Option<u16>,
}

/// A network device that moves whole Ethernet frames.
pub trait Device {
    /// The device's limits.
    fn capabilities(&self) -> Capabilities;

    /// The device's MAC address.
    fn mac(&self) -> [u8; 6];

    /// If a frame has arrived, lends it to `f` and then recycles its
    /// buffer; `None` when nothing is waiting.
    fn receive<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Option<R>;

    /// Lends a transmit buffer of exactly `len` bytes to `f` and sends
    /// what `f` wrote; `None` (nothing sent, `f` not called) when no
    /// transmit buffer is free or `len` exceeds `max_frame_len`.
    fn transmit<R>(&mut self, len: usize, f: impl FnOnce(&mut [u8]) -> R) -> Option<R>;

    /// The largest frame this device cuts into TCP segments
    /// ([`TxOffload::segment_payload`]); `None` (the default): it cuts
    /// nothing, every frame must fit [`Capabilities::max_frame_len`].
    fn tcp_segmentation(&self) -> Option<usize> {
        None
    }

    /// [`Device::receive`] that also lends `f` the device itself, to send
    /// with while it reads the frame (a reply, or the segments the frame
    /// lets go), and says what the device vouches for. A device whose
    /// receive buffers are apart from its transmit state lends the frame
    /// in place; this default copies it out first (frames up to
    /// [`MAX_FRAME_LEN`]; a longer one is lent empty, its length in
    /// [`RxInfo::len`]) and vouches for nothing.
    fn receive_lent<R>(&mut self, f: impl FnOnce(&mut Self, &[u8], RxInfo) -> R) -> Option<R>
    where
        Self: Sized,
    {
        let mut buf = [0u8; MAX_FRAME_LEN];
        let len = self.receive(|frame| {
            if let Some(dst) = buf.get_mut(..frame.len()) {
                dst.copy_from_slice(frame);
            }
            frame.len()
        })?;
        let info = RxInfo {
            len,
            checksum_ok: false,
        };
        Some(f(self, buf.get(..len).unwrap_or(&[]), info))
    }

    /// [`Device::transmit`] of a frame that still needs what `offload`
    /// says. A device with checksum offload leaves that to the hardware;
    /// this default completes the checksum in software once `f` wrote the
    /// frame (and, cutting nothing, refuses a frame to be segmented).
    fn transmit_offloaded<R>(
        &mut self,
        len: usize,
        offload: TxOffload,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        if offload.segment_payload.is_some() {
            return None;
        }
        self.transmit(len, |buf| {
            let r = f(buf);
            if let Some((start, offset)) = offload.checksum {
                checksum::complete_partial(buf, start, offset);
            }
            r
        })
    }
}

/// A device fed from a list of frames that keeps every frame sent, with
/// the trait's defaults: for host tests of those defaults, and of the
/// interface with frames no link would carry.
#[cfg(test)]
pub(crate) struct Scripted {
    /// The frames still to receive, in order.
    pub(crate) rx: std::collections::VecDeque<std::vec::Vec<u8>>,
    /// The frames sent, in order.
    pub(crate) tx: std::vec::Vec<std::vec::Vec<u8>>,
}

#[cfg(test)]
impl Scripted {
    /// A device that will receive `frames`, one per call.
    pub(crate) fn new(frames: impl IntoIterator<Item = std::vec::Vec<u8>>) -> Self {
        Scripted {
            rx: frames.into_iter().collect(),
            tx: std::vec::Vec::new(),
        }
    }
}

#[cfg(test)]
impl Device for Scripted {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_frame_len: MAX_FRAME_LEN,
        }
    }

    fn mac(&self) -> [u8; 6] {
        [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]
    }

    fn receive<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        self.rx.pop_front().map(|frame| f(&frame))
    }

    fn transmit<R>(&mut self, len: usize, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        let mut buf = std::vec![0; len];
        let r = f(&mut buf);
        self.tx.push(buf);
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn lend(frame: Vec<u8>) -> Option<(Vec<u8>, RxInfo, usize)> {
        let mut dev = Scripted::new([frame]);
        dev.receive_lent(|dev, frame, info| {
            // The device is at hand while the frame is: answer with it.
            dev.transmit(4, |b| b.copy_from_slice(b"pong"));
            (frame.to_vec(), info)
        })
        .map(|(frame, info)| (frame, info, dev.tx.len()))
    }

    #[test]
    fn the_default_lends_a_copy_up_to_the_largest_frame_and_vouches_for_nothing() {
        let at_limit: Vec<u8> = (0..MAX_FRAME_LEN).map(|i| i as u8).collect();
        let (frame, info, sent) = lend(at_limit.clone()).unwrap();
        assert_eq!(frame, at_limit);
        assert_eq!(info.len, MAX_FRAME_LEN);
        assert!(!info.checksum_ok);
        assert_eq!(sent, 1, "sent through the device lent with the frame");
        let (frame, info, _) = lend(std::vec![7; MAX_FRAME_LEN + 1]).unwrap();
        assert!(frame.is_empty(), "one byte past: lent empty");
        assert_eq!(info.len, MAX_FRAME_LEN + 1);
        let mut idle = Scripted::new([]);
        assert_eq!(idle.receive_lent(|_, _, _| ()), None);
    }

    #[test]
    fn the_default_completes_a_partial_checksum_in_software() {
        let mut dev = Scripted::new([]);
        let data = [0x12, 0x34, 0x56, 0x78, 0, 0, 0x9a];
        let offload = TxOffload {
            checksum: Some((2, 2)),
            segment_payload: None,
        };
        dev.transmit_offloaded(7, offload, |b| {
            b.copy_from_slice(&data);
            b[4..6].copy_from_slice(&0x0102u16.to_be_bytes()); // partial sum
        });
        let sent = &dev.tx[0];
        let want = !checksum::combine(&[0x0102, checksum::sum(&[0x56, 0x78, 0, 0, 0x9a])]);
        assert_eq!(sent[4..6], want.to_be_bytes());
        assert_eq!(sent[..4], data[..4], "the rest as written");
        dev.transmit_offloaded(7, TxOffload::default(), |b| b.copy_from_slice(&data));
        assert_eq!(dev.tx[1], data, "nothing to complete");
        let cut = TxOffload {
            segment_payload: Some(1448),
            ..offload
        };
        assert_eq!(dev.tcp_segmentation(), None);
        assert_eq!(dev.transmit_offloaded(7, cut, |_| ()), None, "no TSO");
        assert_eq!(dev.tx.len(), 2);
    }
}
