//! Two [`End`]s joined by one bounded frame queue per direction.

use core::cell::RefCell;

use super::Frame;
use crate::device::{Capabilities, Device};
use crate::limits::MAX_FRAME_LEN;

/// Frames each direction of a [`Link`] holds; a transmit into a full
/// queue fails (the device is "busy").
pub const QUEUE_LEN: usize = 32;

/// A bounded FIFO of frames.
struct Queue {
    frames: [Frame; QUEUE_LEN],
    head: usize,
    len: usize,
}

impl Queue {
    const fn new() -> Queue {
        Queue {
            frames: [const { Frame::empty() }; QUEUE_LEN],
            head: 0,
            len: 0,
        }
    }

    /// Appends a frame filled by `fill`; `None` when full.
    fn push_with<R>(&mut self, len: usize, fill: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        if self.len == QUEUE_LEN || len > MAX_FRAME_LEN {
            return None;
        }
        let slot = &mut self.frames[(self.head + self.len) % QUEUE_LEN];
        slot.len = len;
        slot.data[..len].fill(0);
        let r = fill(&mut slot.data[..len]);
        self.len += 1;
        Some(r)
    }

    fn pop(&mut self) -> Option<Frame> {
        if self.len == 0 {
            return None;
        }
        let f = self.frames[self.head].clone();
        self.head = (self.head + 1) % QUEUE_LEN;
        self.len -= 1;
        Some(f)
    }
}

/// A simulated Ethernet segment between two stations. Create it, then
/// take its two [`End`]s with [`Link::ends`]; each implements [`Device`].
pub struct Link {
    /// Frames sent by end A, waiting at end B.
    a_to_b: RefCell<Queue>,
    /// Frames sent by end B, waiting at end A.
    b_to_a: RefCell<Queue>,
    max_frame_len: usize,
}

impl Default for Link {
    fn default() -> Self {
        Self::new()
    }
}

impl Link {
    /// An empty link carrying frames up to [`MAX_FRAME_LEN`].
    pub const fn new() -> Link {
        Link {
            a_to_b: RefCell::new(Queue::new()),
            b_to_a: RefCell::new(Queue::new()),
            max_frame_len: MAX_FRAME_LEN,
        }
    }

    /// The two ends, with these MAC addresses (what [`Device::mac`]
    /// reports; the link itself delivers every frame, like a hub).
    pub fn ends(&self, mac_a: [u8; 6], mac_b: [u8; 6]) -> (End<'_>, End<'_>) {
        (
            End {
                link: self,
                is_a: true,
                mac: mac_a,
            },
            End {
                link: self,
                is_a: false,
                mac: mac_b,
            },
        )
    }
}

/// One end of a [`Link`].
pub struct End<'a> {
    link: &'a Link,
    is_a: bool,
    mac: [u8; 6],
}

impl End<'_> {
    fn outgoing(&self) -> &RefCell<Queue> {
        if self.is_a {
            &self.link.a_to_b
        } else {
            &self.link.b_to_a
        }
    }

    fn incoming(&self) -> &RefCell<Queue> {
        if self.is_a {
            &self.link.b_to_a
        } else {
            &self.link.a_to_b
        }
    }

    /// Sends a copy of `frame` to the other end; `false` if it is too
    /// long or the queue is full.
    pub fn send(&self, frame: &[u8]) -> bool {
        self.outgoing()
            .borrow_mut()
            .push_with(frame.len(), |b| b.copy_from_slice(frame))
            .is_some()
    }

    /// Takes the oldest frame that arrived at this end.
    pub fn recv(&self) -> Option<Frame> {
        self.incoming().borrow_mut().pop()
    }

    /// Frames waiting at this end.
    pub fn waiting(&self) -> usize {
        self.incoming().borrow().len
    }
}

impl Device for End<'_> {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_frame_len: self.link.max_frame_len,
        }
    }

    fn mac(&self) -> [u8; 6] {
        self.mac
    }

    fn receive<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        // Copy out first so `f` runs with the queue released.
        let frame = self.recv()?;
        Some(f(frame.as_slice()))
    }

    fn transmit<R>(&mut self, len: usize, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        if len > self.link.max_frame_len {
            return None;
        }
        self.outgoing().borrow_mut().push_with(len, f)
    }
}
