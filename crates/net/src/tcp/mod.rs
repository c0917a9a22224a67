//! TCP (RFC 9293) for a server: passive open on listening ports, many
//! connections in fixed slots, no heap, no clock, no callbacks.
//!
//! One file per concern: [`seq`] (modular sequence numbers), [`isn`] and
//! [`siphash`] (RFC 6528 initial sequence numbers), [`cookie`] (SYN
//! cookies, RFC 4987), [`ring`] (send and receive buffers), [`assembler`]
//! (out-of-order ranges), [`scoreboard`] (what the peer SACKed, RFC
//! 6675's questions), [`rtt`] (the RFC 6298 timer), `conn` (the
//! per-connection state machine: receive and send paths, the segment
//! builder, loss recovery, timers and RFC 7323 each in a file of its
//! own), `time_wait` (RFC 6191: when a SYN may reopen a TIME-WAIT
//! 4-tuple), `evict` (which connection makes room
//! when the table is full), `stack` (the socket set: slots, listeners,
//! demultiplexing, the [`IpHandler`](crate::IpHandler) implementation),
//! [`counters`] and [`config`].
//!
//! # What it does
//!
//! * Passive open with a backlog per listener. A SYN past the backlog or
//!   finding every slot busy (after recycling the oldest TIME-WAIT) gets
//!   a SYN cookie (RFC 4987) and nothing is stored; when its ACK comes
//!   back valid, the connection is made, by evicting the least valuable
//!   one if the table is full (half-open, lingering, idle, stalled, slow
//!   head: the application ranks its connections with
//!   [`TcpStack::set_phase`]), or refused with RST when every connection
//!   is being served. So neither spoofed SYNs nor any number of held
//!   connections keep a real client out. Active open
//!   ([`TcpStack::connect`]) exists, minimal, for tests.
//! * ISNs per RFC 6528; MSS option both ways (we advertise 1460, honour
//!   the peer's, 536 without one); window = free receive space; RFC 9293
//!   acceptability checks; RST accepted only at exactly RCV.NXT, challenge
//!   ACK for other in-window RSTs and for SYNs on synchronized connections
//!   (RFC 5961); bad checksums dropped and counted.
//! * RTO per RFC 6298 (Karn's rule, doubling, 200 ms floor), go-back-N on
//!   timeout, abort with RST after `max_retries`; fast retransmit on three
//!   duplicate ACKs with NewReno partial-ACK handling; slow start and
//!   congestion avoidance (RFC 5681); zero-window probes (the retransmit
//!   timer doubles as the persist timer, and probes answered keep the
//!   connection alive); delayed ACKs (every second segment at once, else
//!   after 40 ms; out-of-order data and gap fills at once).
//! * Out-of-order segments are kept in the receive buffer (up to
//!   [`crate::limits::ASSEMBLER_RANGES`] ranges).
//! * SACK (RFC 2018), on unless [`TcpConfig::sack`] is off: offered in
//!   our SYN, answered in our SYN-ACK only when the peer's SYN offers it.
//!   While out-of-order data is held every ACK carries up to 4 blocks,
//!   the range of the latest segment first (our payload shrinks by the
//!   option's size). As sender, RFC 6675 loss recovery (simplified): a
//!   scoreboard of [`crate::limits::TCP_SACK_SCOREBOARD_RANGES`] ranges;
//!   an ACK that SACKs new data is a duplicate even when it carries data;
//!   recovery starts on the third or when the first hole counts as lost,
//!   or by RFC 5827 early retransmit when fewer than four segments are
//!   out; only the holes are resent, within `cwnd - pipe`; a resend found
//!   lost (data sent after it SACKed) goes again without a timeout; after
//!   a timeout go-back-N skips SACKed data (a second timeout in a row
//!   forgets the scoreboard). No D-SACK use, no RACK, no tail loss probe.
//! * RFC 7323, on unless [`TcpConfig::window_scaling`] or
//!   [`TcpConfig::timestamps`] is off, each used only when both SYNs
//!   carry it: window scaling (our shift from the receive buffer's size,
//!   so a stack with large buffers, e.g.
//!   [`crate::limits::TCP_BULK_BUFFER_LEN`], offers windows of megabytes)
//!   and timestamps (RTT samples from the echo, PAWS, the echo rules of
//!   §4.3, three SACK blocks beside them). SYN cookies carry neither.
//! * FIN in every order, TIME-WAIT of `time_wait` (2 MSL, 60 s, by
//!   default; a SYN reopens a TIME-WAIT 4-tuple per RFC 6191, and a full
//!   table recycles the TIME-WAIT slot closest to expiry), idle
//!   connections reaped after `idle_timeout`, SYN-RECEIVED dropped after
//!   `syn_received_timeout`. Bounds against peers that hold a slot: FIN-WAIT-2
//!   at most `fin_wait_2_timeout`; a lingering close (data after the
//!   application closed is still taken, so the peer reads our reply in
//!   peace) that ends once our FIN is acknowledged and the peer was silent
//!   for `linger_silence` or `linger_total` passed, after which its data
//!   gets RST (RFC 1122 §4.2.2.13); and a send-stall limit: nothing
//!   acknowledged for `send_stall_timeout` while data waits, RST. Each is
//!   counted (`counters`) and named in [`crate::limits`].
//! * Not done: urgent data (read as
//!   ordinary data), ICMP errors to TCP, IP options, active-open polish
//!   (simultaneous open works but is barely tested).
//!
//! # Driving it from the kernel
//!
//! ```text
//! // All-zero key: the 8 MiB static is all zero bytes and goes to .bss.
//! static TCP: Lock<TcpStack<TCP_MAX_CONNECTIONS>> = Lock::new(TcpStack::new([0; 16]));
//! tcp.reseed(unpredictable_16_bytes());      // at boot, before the first SYN
//! tcp.listen(80, TCP_DEFAULT_BACKLOG)?;
//! loop {
//!     let now = clock();
//!     iface.poll_with(now, &mut dev, &mut tcp); // segments in, dispatch out
//!     while let Some(h) = tcp.accept() {        // new connections
//!         http.open(h.index(), h);              // per-connection HTTP state
//!     }
//!     for h in tcp.handles() {                  // every accepted connection
//!         let data = tcp.peek(h);               // zero-copy read, or recv()
//!         let used = http.feed(h, data);
//!         tcp.consume(h, used);                 // opens the window
//!         let n = tcp.send(h, &response[sent..]);  // what fit; rest later
//!         if done { tcp.close(h) }              // FIN after queued data
//!         if !tcp.may_recv(h) { /* peer sent FIN and all is read */ }
//!     }
//!     // handles the server remembers whose tcp.state(h) is Closed are
//!     // gone (reset, timed out, closed): drop their HTTP state.
//!     iface.poll_with(now, &mut dev, &mut tcp);  // flush what the app queued
//!     let next = min(iface.poll_at(now), tcp.poll_at(now));
//!     sleep_until_irq_or(next);
//! }
//! ```
//!
//! [`Interface::poll_with`](crate::Interface::poll_with) hands every TCP
//! datagram to the stack (processing happens at once: state, buffers,
//! flags), then calls the stack's dispatch, which runs each connection's
//! timers and sends what is due: SYN-ACKs, data as the windows allow,
//! FINs, ACKs, RSTs. Data the application queues between polls goes out
//! at the next poll, so poll again after serving (or when
//! [`TcpStack::poll_at`] says `now`). A segment the device refuses is
//! simply sent at a later dispatch (nothing advances until it is sent).
//!
//! Memory: a connection slot is `RX + TX` bytes of buffers plus about 480
//! bytes of state; 256 slots of 16 KiB + 16 KiB are 8.1 MiB.

pub mod assembler;
pub mod config;
mod conn;
pub mod cookie;
pub mod counters;
mod evict;
pub mod isn;
mod live;
mod ranges;
pub mod ring;
pub mod rtt;
pub mod scoreboard;
pub mod seq;
pub mod siphash;
mod stack;
mod time_wait;

#[cfg(test)]
mod tests;

pub use config::TcpConfig;
pub use conn::{Endpoint, State};
pub use counters::TcpCounters;
pub use evict::AppPhase;
pub use seq::SeqNumber;
pub use stack::{Handle, TcpError, TcpStack};
