//! In-memory devices for host tests and fuzzing: a two-ended simulated
//! [`Link`], a [`FaultInjector`] that wraps any [`Device`](crate::Device),
//! and the [`frames`] a test peer sends. Both are
//! plain `no_std` code without heap or `unsafe`, so they compile
//! everywhere, but nothing in the kernel uses them.

mod fault;
pub mod frames;
mod link;

pub use fault::{FaultConfig, FaultInjector, FaultStats, XorShift};
pub use link::{End, Link, QUEUE_LEN};

use crate::limits::MAX_FRAME_LEN;

/// An owned copy of one frame, at most [`MAX_FRAME_LEN`] bytes.
#[derive(Clone)]
pub struct Frame {
    len: usize,
    data: [u8; MAX_FRAME_LEN],
}

impl Frame {
    /// A zero-length frame.
    pub const fn empty() -> Frame {
        Frame {
            len: 0,
            data: [0; MAX_FRAME_LEN],
        }
    }

    /// A copy of `bytes`, or `None` if longer than [`MAX_FRAME_LEN`].
    pub fn from_slice(bytes: &[u8]) -> Option<Frame> {
        let mut f = Frame::empty();
        f.set(bytes).then_some(f)
    }

    /// Replaces the contents with `bytes`; `false` (unchanged) if too long.
    pub fn set(&mut self, bytes: &[u8]) -> bool {
        if bytes.len() > MAX_FRAME_LEN {
            return false;
        }
        self.data[..bytes.len()].copy_from_slice(bytes);
        self.len = bytes.len();
        true
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.data[..self.len]
    }

    /// The bytes, writable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.data[..self.len]
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the frame has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl core::fmt::Debug for Frame {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Frame")
            .field("bytes", &self.as_slice())
            .finish()
    }
}

impl PartialEq for Frame {
    fn eq(&self, other: &Frame) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Frame {}

#[cfg(test)]
mod tests;
