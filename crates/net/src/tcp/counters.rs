//! What the TCP stack saw and did, as plain counters the kernel can print.

pub(crate) use crate::counters::bump;
use crate::counters::counter_set;

counter_set! {
    /// TCP traffic, events and drops by reason. Every received segment
    /// is counted in `segs_in` and, if dropped before reaching a
    /// connection, in one `drop_*` counter. `Display` prints one
    /// `tcp_name value` line per counter.
    pub struct TcpCounters, prefix "tcp_" {
        /// Segments received (protocol 6 datagrams handed to the stack).
        segs_in,
        /// Segments handed to the interface.
        segs_out,
        /// Payload bytes accepted in order.
        bytes_in,
        /// Payload bytes sent, retransmissions included.
        bytes_out,
        /// Segments sent again (timeouts, fast retransmits, probes).
        retransmits,
        /// Retransmission timer expiries.
        timeouts,
        /// Fast retransmits (three duplicate ACKs, or a partial ACK in recovery).
        fast_retransmits,
        /// Zero-window probes sent.
        zero_window_probes,
        /// Connections that agreed on SACK (RFC 2018) in their handshake.
        sack_negotiated,
        /// Connections that agreed on window scaling (RFC 7323 §2).
        window_scaling_negotiated,
        /// Connections that agreed on timestamps (RFC 7323 §3).
        timestamps_negotiated,
        /// Segments dropped by PAWS (RFC 7323 §5.3: an old TSval), answered
        /// with an ACK.
        drop_paws,
        /// Segments without timestamps on a connection that agreed on them,
        /// dropped (RFC 7323 §3.2).
        drop_no_timestamp,
        /// SACK blocks received that told something (inside SND.UNA..SND.MAX).
        sack_blocks_in,
        /// SACK blocks sent (every ACK while out-of-order data is held).
        sack_blocks_out,
        /// Loss recoveries started from SACK information (RFC 6675); also
        /// counted in `fast_retransmits`.
        sack_recoveries,
        /// Holes resent in SACK recovery (also counted in `retransmits`).
        sack_retransmits,
        /// Resends in SACK recovery found lost themselves (data sent after
        /// them was SACKed) and sent again, without waiting for a timeout.
        sack_lost_retransmits,
        /// Bytes not resent after a timeout because the peer had SACKed them.
        sack_skipped_bytes,
        /// SACKed ranges forgotten for want of room (`TCP_SACK_SCOREBOARD_RANGES`).
        sack_scoreboard_full,
        /// SACK scoreboards dropped at a second timeout in a row (the peer may
        /// have discarded what it SACKed, RFC 2018 §8).
        sack_scoreboard_cleared,
        /// RSTs sent (refusals, aborts, answers to stray segments).
        resets_sent,
        /// RSTs accepted (exactly at RCV.NXT).
        resets_received,
        /// Challenge ACKs sent (RFC 5961: in-window RST, SYN when synchronized).
        challenge_acks,
        /// Segments with a bad checksum.
        drop_bad_checksum,
        /// Segments too short, with broken options, a zero port or SYN+FIN.
        drop_malformed,
        /// Segments to a broadcast address.
        drop_not_for_us,
        /// Segments for no connection and no listener (answered with RST
        /// unless they were RSTs).
        drop_no_socket,
        /// Segments outside the receive window (answered with an ACK unless RST).
        drop_out_of_window,
        /// Segments whose ACK was unacceptable.
        drop_bad_ack,
        /// Out-of-order data that found no free assembler range.
        drop_reassembly_full,
        /// Out-of-order segments kept for reassembly.
        out_of_order,
        /// Passive connections that reached ESTABLISHED.
        accepted,
        /// Connections refused with RST because every slot was busy and none
        /// could be evicted (SYNs, when cookies are off; else cookie ACKs).
        refused_full,
        /// SYNs refused with RST at a full table because their address already
        /// holds its fair share of the slots (`TCP_EVICT_FAIR_SHARE_DIVISOR`).
        refused_fair_share,
        /// SYNs refused because the listener's backlog was full (cookies
        /// off), or cookie ACKs because its accept queue was.
        refused_backlog,
        /// Connections aborted after `TCP_MAX_RETRIES` (or the SYN-ACK retries).
        aborted_retries,
        /// Connections aborted by the application.
        aborted_by_app,
        /// Connections aborted after `TCP_IDLE_TIMEOUT` without a segment.
        reaped_idle,
        /// Half-open connections dropped after `TCP_SYN_RECEIVED_TIMEOUT`.
        syn_received_timeouts,
        /// TIME-WAIT slots taken early for a new connection (the table was
        /// full: the one closest to expiry).
        time_wait_recycled,
        /// TIME-WAIT connections reopened by a new SYN for their 4-tuple
        /// (RFC 6191: a higher timestamp, or a higher sequence number).
        time_wait_reopened,
        /// SYNs for a TIME-WAIT 4-tuple that RFC 6191 does not let reopen it
        /// (an old timestamp or sequence number), dropped silently.
        time_wait_syn_dropped,
        /// Most slots in TIME-WAIT at once (a high-water mark, not a count
        /// of events).
        time_wait_peak,
        /// Half-open (SYN-RECEIVED) connections evicted for a completed one.
        evicted_syn_received,
        /// Connections closed by the application and lingering, evicted.
        evicted_lingering,
        /// Idle connections (between requests, as the application said) evicted.
        evicted_idle,
        /// Connections whose peer stopped acknowledging our data, evicted.
        evicted_stalled,
        /// Connections whose request was arriving slowest, evicted.
        evicted_slow_head,
        /// SYN-ACKs sent with a SYN cookie (backlog or table full).
        syn_cookies_sent,
        /// ACKs that carried a valid SYN cookie and opened a connection.
        syn_cookies_accepted,
        /// ACKs for a listener with no connection and no valid cookie
        /// (expired, forged, or stray) while cookies were in use.
        syn_cookies_rejected,
        /// Lingering connections reset: data came after the linger ended.
        linger_resets,
        /// Connections reset after `TCP_FIN_WAIT_2_TIMEOUT` in FIN-WAIT-2.
        fin_wait_2_timeouts,
        /// Connections reset after `TCP_SEND_STALL_TIMEOUT` without progress.
        send_stall_aborts,
        /// Connections that ended normally (TIME-WAIT or LAST-ACK done).
        closed,
        /// Segments the interface refused (device busy, no route); resent later.
        tx_failed,
    }
}
