//! Whether a new SYN may reopen the 4-tuple of a connection in TIME-WAIT
//! (RFC 6191 §2, which refines RFC 9293 §3.6.1 and RFC 1122 §4.2.2.13):
//! TIME-WAIT keeps old duplicates of the previous incarnation from being
//! taken for the new one, and a SYN whose numbers are above everything
//! the previous incarnation used cannot be confused with them.
//!
//! * The previous incarnation used timestamps and the new one would (the
//!   SYN carries them and we accept them): reopen when the SYN's TSval is
//!   above the last one seen (PAWS then guards the new incarnation
//!   against the old one's duplicates), or equal to it with a higher
//!   sequence number.
//! * Otherwise: reopen when the SYN's sequence number is above the last
//!   one seen (RCV.NXT), so the new incarnation's window starts beyond
//!   the old one's.
//! * Else the SYN is dropped silently and the TIME-WAIT stays.

use super::conn::{ts_before, Tcb};
use crate::wire::TcpRepr;

/// Whether `syn` may reopen `old`, a connection in TIME-WAIT; `timestamps`:
/// whether we accept timestamps (the new incarnation would use them if
/// the SYN carries them).
pub(crate) fn may_reopen(old: &Tcb, syn: &TcpRepr, timestamps: bool) -> bool {
    let seq_higher = syn.seq_number > old.rcv_nxt;
    match syn.timestamps.filter(|_| timestamps && old.ext.timestamps) {
        Some(ts) => {
            let recent = old.ext.ts_recent;
            ts_before(recent, ts.tsval) || (ts.tsval == recent && seq_higher)
        }
        None => seq_higher,
    }
}
