//! The contract between the stack and a network device: the virtio-net
//! driver in the kernel implements it, and so does the simulated link in
//! host tests. Frames are lent, not copied: the device hands a received
//! frame to a closure, and lends a transmit buffer for a closure to fill.

/// What a device can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// Largest Ethernet frame, header included, FCS excluded (1514 for a
    /// 1500-byte MTU).
    pub max_frame_len: usize,
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
}
