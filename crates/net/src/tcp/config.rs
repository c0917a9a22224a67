//! The run-time knobs of the stack, defaulting to the named limits.

use crate::limits::{
    TCP_DELAYED_ACK, TCP_EVICT_STALLED_AFTER, TCP_FIN_WAIT_2_TIMEOUT, TCP_IDLE_TIMEOUT,
    TCP_LINGER_SILENCE, TCP_LINGER_TOTAL, TCP_MAX_RETRIES, TCP_SEND_STALL_TIMEOUT,
    TCP_SYNACK_RETRIES, TCP_SYN_RECEIVED_TIMEOUT, TCP_TIME_WAIT,
};
use crate::time::Duration;

/// Timeouts and retry counts. [`TcpConfig::new`] takes them from
/// [`crate::limits`]; change fields to tune (tests shorten them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpConfig {
    /// TIME-WAIT length, 2 MSL ([`TCP_TIME_WAIT`]).
    pub time_wait: Duration,
    /// Abort a connection that received nothing this long ([`TCP_IDLE_TIMEOUT`]).
    pub idle_timeout: Duration,
    /// Drop a connection still half-open after this long
    /// ([`TCP_SYN_RECEIVED_TIMEOUT`]).
    pub syn_received_timeout: Duration,
    /// Retransmission timer expiries in a row before aborting ([`TCP_MAX_RETRIES`]).
    pub max_retries: u8,
    /// SYN-ACK (and SYN) retransmissions before giving up ([`TCP_SYNACK_RETRIES`]).
    pub synack_retries: u8,
    /// Longest ACK delay ([`TCP_DELAYED_ACK`]).
    pub delayed_ack: Duration,
    /// Longest stay in FIN-WAIT-2 ([`TCP_FIN_WAIT_2_TIMEOUT`]).
    pub fin_wait_2_timeout: Duration,
    /// Lingering close: silence after which the peer's data gets RST
    /// ([`TCP_LINGER_SILENCE`]).
    pub linger_silence: Duration,
    /// Lingering close: longest drain after the application closed
    /// ([`TCP_LINGER_TOTAL`]).
    pub linger_total: Duration,
    /// Abort when nothing we sent is acknowledged for this long
    /// ([`TCP_SEND_STALL_TIMEOUT`]).
    pub send_stall_timeout: Duration,
    /// A sender stalled this long may be evicted ([`TCP_EVICT_STALLED_AFTER`]).
    pub evict_stalled_after: Duration,
    /// Answer SYNs with SYN cookies (RFC 4987) when the backlog or the
    /// slot table is full, and make room for the connections they
    /// complete by eviction. On by default; off, such SYNs get RST.
    pub syn_cookies: bool,
    /// Offer and accept selective acknowledgements (RFC 2018) and use
    /// them for loss recovery (RFC 6675). On by default; off, the stack
    /// neither offers nor answers SACK-permitted and recovers with
    /// NewReno.
    pub sack: bool,
    /// Offer and accept window scaling (RFC 7323 §2): windows past 64 KiB
    /// for stacks whose receive buffers are larger. On by default.
    pub window_scaling: bool,
    /// Offer and accept timestamps (RFC 7323 §3): RTT measurement from
    /// them and PAWS. On by default.
    pub timestamps: bool,
}

impl TcpConfig {
    /// All zero bytes: the placeholder a fresh `TcpStack` holds until
    /// `set_config` (it then uses [`TcpConfig::new`]).
    pub(crate) const ZEROED: TcpConfig = TcpConfig {
        time_wait: Duration(0),
        idle_timeout: Duration(0),
        syn_received_timeout: Duration(0),
        max_retries: 0,
        synack_retries: 0,
        delayed_ack: Duration(0),
        fin_wait_2_timeout: Duration(0),
        linger_silence: Duration(0),
        linger_total: Duration(0),
        send_stall_timeout: Duration(0),
        evict_stalled_after: Duration(0),
        syn_cookies: false,
        sack: false,
        window_scaling: false,
        timestamps: false,
    };

    /// The defaults from [`crate::limits`].
    pub const fn new() -> TcpConfig {
        TcpConfig {
            time_wait: TCP_TIME_WAIT,
            idle_timeout: TCP_IDLE_TIMEOUT,
            syn_received_timeout: TCP_SYN_RECEIVED_TIMEOUT,
            max_retries: TCP_MAX_RETRIES,
            synack_retries: TCP_SYNACK_RETRIES,
            delayed_ack: TCP_DELAYED_ACK,
            fin_wait_2_timeout: TCP_FIN_WAIT_2_TIMEOUT,
            linger_silence: TCP_LINGER_SILENCE,
            linger_total: TCP_LINGER_TOTAL,
            send_stall_timeout: TCP_SEND_STALL_TIMEOUT,
            evict_stalled_after: TCP_EVICT_STALLED_AFTER,
            syn_cookies: true,
            sack: true,
            window_scaling: true,
            timestamps: true,
        }
    }
}

impl Default for TcpConfig {
    fn default() -> Self {
        Self::new()
    }
}
