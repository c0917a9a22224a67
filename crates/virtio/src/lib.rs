//! What a virtio-blk driver decides, without touching memory or devices:
//! which descriptors a request's chain uses (VIRTIO 1.2 §5.2.6: a
//! device-readable header, data buffers, a device-writable status byte),
//! which requests are in flight, and what a used-ring entry completes
//! (§2.7.8), checked so that a device writing an impossible id or length
//! is an error, never a panic or a wrong completion. The kernel's driver
//! writes the descriptors this crate hands out into the real ring and
//! feeds back what the device put in the used ring. It owns no memory
//! addresses beyond the numbers it is given and does no I/O.
//!
//! For virtio-net, [`net`] reads and writes the header every frame
//! carries (VIRTIO 1.2 §5.1.6) and makes the offload decisions from it.
#![no_std]
#![forbid(unsafe_code)]

mod blk;
mod chains;
pub mod net;

pub use blk::{BlkRequest, BlkStatus, Op, HEADER_LEN, SECTOR};
pub use chains::{Chain, Chains, Completion, Desc, UsedError, MAX_CHAIN, MAX_QUEUE};
