//! Every size and time limit of the stack, as named constants. Storage is
//! fixed at compile time from these; the tests exercise each at the limit
//! and just past it.

use crate::time::Duration;

/// Largest Ethernet frame handled, header included, FCS excluded (a
/// 1500-byte MTU). Received frames longer than this are dropped and
/// counted as `rx_oversized`.
pub const MAX_FRAME_LEN: usize = 1514;

/// Largest IPv4 packet sent or queued (the Ethernet MTU).
pub const MAX_IP_PACKET_LEN: usize = MAX_FRAME_LEN - crate::wire::ethernet::HEADER_LEN;

/// ARP cache entries. When full, learning a new address evicts the entry
/// closest to expiry.
pub const ARP_CACHE_ENTRIES: usize = 8;

/// How long a learned address stays valid (Linux's base reachable time is
/// 30 s; QEMU's gateway never moves, so a minute is fine).
pub const ARP_ENTRY_TTL: Duration = Duration::from_secs(60);

/// Time between ARP requests for an unresolved address.
pub const ARP_RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// Requests sent for one address before giving up; its pending packets
/// are then dropped and counted (`arp_failures`, `drop_unresolved`).
pub const ARP_MAX_REQUESTS: u8 = 3;

/// Unresolved addresses tracked at once. A packet for one more is
/// dropped and counted (`drop_unresolved`, `SendError::ArpTableFull`).
pub const ARP_PENDING_ADDRS: usize = 4;

/// Packets queued per unresolved address. One more is dropped and counted
/// (`drop_unresolved`, `SendError::QueueFull`).
pub const ARP_PENDING_PER_ADDR: usize = 2;

/// TTL of every IPv4 packet sent (the Linux default).
pub const DEFAULT_TTL: u8 = 64;
