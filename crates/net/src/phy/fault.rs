//! A [`Device`] wrapper that loses, duplicates, reorders and corrupts
//! frames with set probabilities, driven by its own seeded PRNG so a
//! failing run can be replayed from its seed.

use super::Frame;
use crate::device::{Capabilities, Device};
use crate::limits::MAX_FRAME_LEN;

/// Marsaglia's xorshift32: tiny, deterministic, good enough for faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XorShift(u32);

impl XorShift {
    /// A generator from `seed` (zero, a fixed point, is replaced).
    pub const fn new(seed: u32) -> XorShift {
        XorShift(if seed == 0 { 0x9e37_79b9 } else { seed })
    }

    /// The next value.
    pub fn next_u32(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }

    /// A value in `0..bound` (`bound` > 0; slightly biased, fine here).
    pub fn below(&mut self, bound: u32) -> u32 {
        self.next_u32() % bound.max(1)
    }

    /// True with probability `pct` percent.
    pub fn chance(&mut self, pct: u8) -> bool {
        pct > 0 && self.below(100) < u32::from(pct)
    }
}

/// Fault probabilities, each in percent (0 = never, 100 = always).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultConfig {
    /// Lose a received or transmitted frame.
    pub drop_pct: u8,
    /// Deliver a received frame twice.
    pub duplicate_pct: u8,
    /// Hold a received frame back until after the next one.
    pub reorder_pct: u8,
    /// Flip one random bit of a received or transmitted frame.
    pub corrupt_pct: u8,
}

/// What the injector did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultStats {
    /// Frames lost.
    pub dropped: u64,
    /// Extra copies delivered.
    pub duplicated: u64,
    /// Frames held back.
    pub reordered: u64,
    /// Frames with a bit flipped.
    pub corrupted: u64,
}

/// Frames ready for delivery at most: one received, its duplicate, and a
/// held-back one released behind them.
const READY_LEN: usize = 3;

/// Wraps a device and applies [`FaultConfig`] to its traffic: all four
/// faults on receive, drop and corrupt on transmit (a dropped transmit
/// still runs the caller's closure, into a scratch buffer, and reports
/// success, as a lossy wire would).
pub struct FaultInjector<D: Device> {
    inner: D,
    config: FaultConfig,
    rng: XorShift,
    stats: FaultStats,
    held: Option<Frame>,
    ready: [Frame; READY_LEN],
    ready_len: usize,
    scratch: Frame,
}

impl<D: Device> FaultInjector<D> {
    /// Wraps `inner`; the same `seed` gives the same faults.
    pub fn new(inner: D, config: FaultConfig, seed: u32) -> Self {
        FaultInjector {
            inner,
            config,
            rng: XorShift::new(seed),
            stats: FaultStats::default(),
            held: None,
            ready: [const { Frame::empty() }; READY_LEN],
            ready_len: 0,
            scratch: Frame::empty(),
        }
    }

    /// Counts of faults injected so far.
    pub fn stats(&self) -> FaultStats {
        self.stats
    }

    /// Changes the probabilities.
    pub fn set_config(&mut self, config: FaultConfig) {
        self.config = config;
    }

    /// The wrapped device.
    pub fn inner(&self) -> &D {
        &self.inner
    }

    /// The wrapped device, mutably.
    pub fn inner_mut(&mut self) -> &mut D {
        &mut self.inner
    }

    fn push_ready(&mut self, frame: &Frame) {
        if self.ready_len < READY_LEN {
            self.ready[self.ready_len] = frame.clone();
            self.ready_len += 1;
        }
    }

    fn pop_ready(&mut self) -> Option<Frame> {
        if self.ready_len == 0 {
            return None;
        }
        let f = self.ready[0].clone();
        self.ready.rotate_left(1);
        self.ready_len -= 1;
        Some(f)
    }

    fn flip_bit(&mut self, bytes: &mut [u8]) {
        if !bytes.is_empty() {
            let bit = self.rng.below(bytes.len() as u32 * 8) as usize;
            bytes[bit / 8] ^= 1 << (bit % 8);
            self.stats.corrupted += 1;
        }
    }
}

impl<D: Device> Device for FaultInjector<D> {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn mac(&self) -> [u8; 6] {
        self.inner.mac()
    }

    fn receive<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        loop {
            if let Some(frame) = self.pop_ready() {
                return Some(f(frame.as_slice()));
            }
            let mut frame = Frame::empty();
            if self.inner.receive(|b| frame.set(b)).is_none() {
                // Nothing new: a held-back frame can wait no longer.
                let held = self.held.take()?;
                return Some(f(held.as_slice()));
            }
            if self.rng.chance(self.config.drop_pct) {
                self.stats.dropped += 1;
                continue;
            }
            if self.rng.chance(self.config.corrupt_pct) {
                self.flip_bit(frame.as_mut_slice());
            }
            if self.held.is_none() && self.rng.chance(self.config.reorder_pct) {
                self.stats.reordered += 1;
                self.held = Some(frame);
                continue;
            }
            self.push_ready(&frame);
            if self.rng.chance(self.config.duplicate_pct) {
                self.stats.duplicated += 1;
                self.push_ready(&frame);
            }
            if let Some(held) = self.held.take() {
                self.push_ready(&held);
            }
        }
    }

    fn transmit<R>(&mut self, len: usize, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        if len > MAX_FRAME_LEN.min(self.inner.capabilities().max_frame_len) {
            return None;
        }
        if self.rng.chance(self.config.drop_pct) {
            self.stats.dropped += 1;
            self.scratch.len = len;
            return Some(f(&mut self.scratch.data[..len]));
        }
        let flip = if self.rng.chance(self.config.corrupt_pct) && len > 0 {
            self.stats.corrupted += 1;
            Some(self.rng.below(len as u32 * 8) as usize)
        } else {
            None
        };
        self.inner.transmit(len, |buf| {
            let r = f(buf);
            if let Some(bit) = flip {
                buf[bit / 8] ^= 1 << (bit % 8);
            }
            r
        })
    }
}
