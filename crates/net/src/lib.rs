//! bedrock's network stack: Ethernet II, ARP, IPv4 and ICMP echo over any
//! [`Device`] that moves whole frames, and TCP plugged into the same
//! interface. It owns the wire formats ([`wire`]), the interface state
//! (addresses, ARP cache, pending packets, drop counters: [`iface`]), the
//! TCP connections ([`tcp`]) and in-memory test devices ([`phy`]). It must not touch hardware, clocks or
//! the heap: frames come and go through the caller's [`Device`], time is an
//! [`Instant`] passed to every call, and all storage is fixed-size inside
//! the [`Interface`] and the [`TcpStack`], sized by [`limits`]. No input, however malformed, may
//! make it panic.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod counters;
pub mod device;
pub mod iface;
pub mod limits;
pub mod phy;
pub mod tcp;
pub mod time;
pub mod wire;

pub use device::{Capabilities, Device};
pub use iface::{Config, Counters, Interface, IpHandler, NoHandler, SendError, Sender, Sent};

pub use tcp::{Handle, State as TcpState, TcpConfig, TcpCounters, TcpError, TcpStack};
pub use time::{Duration, Instant};
pub use wire::{EthernetAddress, Ipv4Address};
