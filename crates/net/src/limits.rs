//! Every size and time limit of the stack, as named constants. Storage is
//! fixed at compile time from these; the tests exercise each at the limit
//! and just past it.

use crate::time::Duration;

/// Largest Ethernet frame handled, header included, FCS excluded (a
/// 1500-byte MTU). Received frames longer than this are dropped and
/// counted as `drop_oversized`, unless the device lends them in place
/// (up to [`MAX_LENT_FRAME_LEN`]).
pub const MAX_FRAME_LEN: usize = 1514;

/// Frames one [`crate::Interface::poll_with`] takes from the device at
/// most. Under a flood the device never runs dry; without a bound the
/// caller's loop would never get back to accepting and serving (the
/// flood then starves every connection). The rest waits for the next
/// poll, which the caller makes at once (`poll_with` says it was busy).
pub const RX_FRAMES_PER_POLL: usize = 64;

/// Largest IPv4 packet sent or queued (the Ethernet MTU).
pub const MAX_IP_PACKET_LEN: usize = MAX_FRAME_LEN - crate::wire::ethernet::HEADER_LEN;

/// Largest IPv4 packet sent as one TCP segment for the device to cut
/// (TCP segmentation offload, `device::TxOffload::segment_payload`): the
/// IPv4 total length field's limit (RFC 791), the TCP header included.
pub const MAX_TSO_IP_PACKET_LEN: usize = crate::wire::ipv4::MAX_PACKET_LEN;

/// Largest frame taken when the device lends it in place
/// (`Device::receive_lent`): one IPv4 packet as long as its total length
/// field allows. A device with receive segmentation offload
/// (VIRTIO_NET_F_GUEST_TSO4) hands over TCP segments of many MSS that
/// the host did not cut; the copying default lends nothing past
/// [`MAX_FRAME_LEN`]. Longer frames are dropped (`drop_oversized`).
pub const MAX_LENT_FRAME_LEN: usize = crate::wire::ethernet::HEADER_LEN + MAX_TSO_IP_PACKET_LEN;

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

// ---- TCP ----------------------------------------------------------------
//
// Memory: a `TcpStack<N, RX, TX>` holds N connection slots of about
// `RX + TX + 480` bytes each, inline. The defaults below (256 slots of
// 16 KiB + 16 KiB) take 8.1 MiB: keep the stack in a `static`.

/// Whether this is a bulk-transfer build (the crate's `bulk` feature): the
/// default stack then has [`TCP_BULK_SLOTS`] slots of
/// [`TCP_BULK_BUFFER_LEN`]-byte buffers, so the receive window RFC 7323
/// scaling offers is megabytes; the memory of 256 such slots would not
/// fit the unikernel's 128 MiB.
const BULK: bool = cfg!(feature = "bulk");

/// Connection slots of the kernel's server (`TcpStack<TCP_MAX_CONNECTIONS>`):
/// 256, or [`TCP_BULK_SLOTS`] in a bulk-transfer build.
/// A SYN that finds every slot busy is answered with a SYN cookie; when
/// its ACK comes back, a slot is made by eviction (`tcp::evict`: TIME-WAIT,
/// half-open, lingering, idle, stalled, slow-head connections, in that
/// order), or, when every connection is being served, refused with RST
/// (`refused_full`).
pub const TCP_MAX_CONNECTIONS: usize = if BULK { TCP_BULK_SLOTS } else { 256 };

/// Connection slots of a bulk-transfer build: 4 x 8 MiB of buffers.
pub const TCP_BULK_SLOTS: usize = 4;

/// Most connection slots a `TcpStack` can have: the set of live slots is
/// a fixed bit array of this many bits (a larger `N` fails to build).
pub const TCP_SLOT_LIMIT: usize = 4096;

/// Receive buffer per connection (16 KiB; [`TCP_BULK_BUFFER_LEN`] in a
/// bulk-transfer build); the advertised window is its free space (scaled
/// past 65535 bytes when the peer agrees, RFC 7323 §2).
pub const TCP_RX_BUFFER_LEN: usize = if BULK { TCP_BULK_BUFFER_LEN } else { 16 * 1024 };

/// Send buffer per connection (as [`TCP_RX_BUFFER_LEN`]);
/// [`crate::tcp::TcpStack::send`] takes what fits.
pub const TCP_TX_BUFFER_LEN: usize = if BULK { TCP_BULK_BUFFER_LEN } else { 16 * 1024 };

/// Receive and send buffers of a bulk-transfer stack
/// (`TcpStack<N, TCP_BULK_BUFFER_LEN, TCP_BULK_BUFFER_LEN>` for a few
/// slots, 8 MiB each, or the default stack of a `bulk` build): a window of
/// 4 MiB, scale 7, keeps a 1 Gbit/s path with a 30 ms round trip full.
/// The server's many small slots stay 16 KiB.
pub const TCP_BULK_BUFFER_LEN: usize = 4 * 1024 * 1024;

/// Largest window shift (RFC 7323 §2.3): a peer's larger shift counts as
/// this, and ours never exceeds it (windows up to 65535 << 14, 1 GiB).
pub const TCP_MAX_WINDOW_SHIFT: u8 = 14;

/// One tick of the clock in our TSvals (RFC 7323 §5.4 wants 1 ms to 1 s
/// per tick; 1 ms makes RTT samples as fine as it allows).
pub const TCP_TIMESTAMP_TICK: Duration = Duration::from_millis(1);

/// Ports listened on at once. One more is `TcpError::TooManyListeners`.
pub const TCP_MAX_LISTENERS: usize = 4;

/// Backlog of `listen` when the caller has no better number: connections
/// not yet accepted (SYN-RECEIVED or established) per listener. A SYN past
/// it is answered with a SYN cookie (`syn_cookies_sent`), or with RST when
/// cookies are off (`refused_backlog`).
pub const TCP_DEFAULT_BACKLOG: usize = 128;

/// Our MSS, advertised in every SYN-ACK: the MTU less the IPv4 and TCP
/// headers (1460 on Ethernet).
pub const TCP_MSS: u16 = (MAX_IP_PACKET_LEN - crate::wire::ipv4::HEADER_LEN - 20) as u16;

/// The peer's MSS when its SYN carries none (RFC 9293 §3.7.1).
pub const TCP_DEFAULT_PEER_MSS: u16 = 536;

/// Smallest peer MSS honoured; smaller values are raised to it, so a peer
/// cannot make us send a segment per byte.
pub const TCP_MIN_PEER_MSS: u16 = 64;

/// Retransmission timeout before the first RTT sample (RFC 6298 §2.1).
pub const INITIAL_RTO: Duration = Duration::from_secs(1);

/// Floor of the retransmission timeout. RFC 6298 says 1 s; 200 ms (Linux's
/// floor) suits a LAN or QEMU's user network, where RTTs are sub-ms.
pub const MIN_RTO: Duration = Duration::from_millis(200);

/// Ceiling of the retransmission timeout and of the persist interval.
pub const MAX_RTO: Duration = Duration::from_secs(60);

/// Expiries of the retransmission timer in a row (no ACK of new data in
/// between) before the connection is aborted with RST (`aborted_retries`).
/// With a 200 ms RTO and doubling that is about 100 s.
pub const TCP_MAX_RETRIES: u8 = 8;

/// SYN-ACK retransmissions before a half-open connection is dropped.
pub const TCP_SYNACK_RETRIES: u8 = 4;

/// Longest a connection may stay in SYN-RECEIVED, retries or not
/// (`syn_received_timeouts`); bounds what a SYN flood can hold.
pub const TCP_SYN_RECEIVED_TIMEOUT: Duration = Duration::from_secs(8);

/// How long TIME-WAIT lasts: 2 MSL (RFC 9293 §3.4.2), with Linux's MSL of
/// 30 s. It never costs a newcomer its slot: a SYN that finds no free slot
/// takes the TIME-WAIT slot closest to expiry (`time_wait_recycled`), and
/// a SYN for the 4-tuple of a TIME-WAIT connection reopens it when RFC
/// 6191 says it is safe (a higher timestamp, or without timestamps a
/// higher sequence number: `time_wait_reopened`). So the table never runs
/// out under a new connection per request; TIME-WAIT simply fills the
/// slots nothing else uses (`time_wait_peak`).
pub const TCP_TIME_WAIT: Duration = Duration::from_secs(60);

/// A synchronized connection that receives nothing for this long is
/// aborted with RST (`reaped_idle`). The HTTP layer has shorter timeouts
/// of its own; this is the stack's backstop against vanished peers.
pub const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Longest a connection may stay in FIN-WAIT-2 (`fin_wait_2_timeouts`):
/// our FIN is acknowledged, so the reply reached the peer's TCP, and only
/// the peer's FIN is missing. A peer that never closes would otherwise
/// hold the slot for ever (RFC 9293 sets no bound; Linux's
/// `tcp_fin_timeout` is 60 s). Past it the slot is freed with RST.
pub const TCP_FIN_WAIT_2_TIMEOUT: Duration = Duration::from_secs(10);

/// Lingering close, silence: after the application closed, data the peer
/// still sends is taken (and drained by the application) so the window
/// stays open and the peer reads our reply in peace. Once our FIN is
/// acknowledged, a peer silent for this long has had the reply; data it
/// sends after that is answered with RST and the slot freed
/// (`linger_resets`), as RFC 1122 §4.2.2.13 allows for data arriving after
/// a close. Not sooner: a RST can make the peer's stack drop the reply
/// before its application read it, so we reset only once the reply and
/// FIN are acknowledged and the peer had this long to read them.
pub const TCP_LINGER_SILENCE: Duration = Duration::from_secs(2);

/// Lingering close, total: how long after the application closed a peer
/// that keeps sending (a byte every second, say) is still drained. Past
/// it, once our FIN is acknowledged, its next data gets RST
/// (`linger_resets`). Must not exceed [`TCP_FIN_WAIT_2_TIMEOUT`].
pub const TCP_LINGER_TOTAL: Duration = Duration::from_secs(5);
const _: () = assert!(TCP_LINGER_SILENCE.0 <= TCP_LINGER_TOTAL.0);
const _: () = assert!(TCP_LINGER_TOTAL.0 <= TCP_FIN_WAIT_2_TIMEOUT.0);

/// Send-stall limit: a connection with data (or a FIN) waiting to be
/// acknowledged whose SND.UNA has not moved for this long is aborted with
/// RST (`send_stall_aborts`). A reader that takes nothing (a zero window
/// it keeps answering probes for, or no ACK at all) is cut off. The same
/// 30 s as the HTTP layer's send timeout and the hosted server's.
pub const TCP_SEND_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection with data waiting whose SND.UNA has not moved for this
/// long counts as stalled for eviction (`evicted_stalled`, see
/// `tcp::evict`): a slow reader, ranked below idle and lingering ones.
pub const TCP_EVICT_STALLED_AFTER: Duration = Duration::from_secs(1);

/// Fairness at a full table: an address that holds at least `N /` this
/// many of the `N` slots gets RST for a new SYN (`refused_fair_share`),
/// and may only evict its own connections should its cookie come back
/// (see `tcp::evict`). One host holding a thousand connections that
/// reconnect the moment they are dropped can then neither churn other
/// clients' connections away nor load the server with more than a
/// SYN and a RST per attempt. Clients behind one NAT address share that
/// address's fate (through QEMU's user network every client is one
/// address: the 257th is refused, as before eviction).
pub const TCP_EVICT_FAIR_SHARE_DIVISOR: usize = 4;

/// SYN cookies (RFC 4987 §3.6): when a listener's backlog or the slot
/// table is full, a SYN is answered with a SYN-ACK whose ISN encodes the
/// connection (see `tcp::cookie`) and nothing is stored. A cookie is
/// valid for between one and two of these periods.
pub const TCP_SYN_COOKIE_PERIOD: Duration = Duration::from_secs(16);

/// Longest an ACK is delayed (RFC 1122 says at most 500 ms; Linux uses
/// 40 ms). A second full-sized segment is always acknowledged at once.
pub const TCP_DELAYED_ACK: Duration = Duration::from_millis(40);

/// Duplicate ACKs that trigger a fast retransmit (RFC 5681 §3.2).
pub const TCP_DUP_ACK_THRESHOLD: u8 = 3;

/// Out-of-order ranges a connection keeps (see `tcp::assembler`).
pub const ASSEMBLER_RANGES: usize = 4;

/// SACKed ranges a connection remembers of what the peer holds above
/// SND.UNA (see `tcp::scoreboard`). A block needing one more range makes
/// the highest range be forgotten (counted in `sack_scoreboard_full`):
/// that data is only resent needlessly, never lost. The peer reports at
/// most 4 blocks per ACK; 8 cover a window with as many holes.
pub const TCP_SACK_SCOREBOARD_RANGES: usize = 8;
