//! What an app that keeps data gives its host: the changes its requests
//! made, as explicit records, and a way back from them at start. The host
//! (the hosted server's journal today, the unikernel's disk later) owns
//! how they are stored; the app owns what they mean. Nothing is inferred
//! from status codes or URLs.

/// An app whose state outlives the server process.
///
/// After every call into the app the host takes the changes it recorded
/// ([`Persist::drain_changes`]), writes them down and makes them durable
/// *before* any byte of the replies to those requests leaves, so an
/// acknowledged change is never lost. At start, the host hands the
/// records back in order ([`Persist::replay`]). When a change cannot be
/// written down, the host [`Persist::clear`]s the app and replays what it
/// did write, which undoes the change, and answers the request with an
/// error instead of the app's reply.
///
/// Every method has a default that persists nothing, so an app without
/// data writes `impl Persist for MyApp {}`.
pub trait Persist {
    /// Hands each change recorded since the last call to `sink`, oldest
    /// first, and forgets them. Each record is at most
    /// [`Persist::MAX_CHANGE`] bytes and means something to
    /// [`Persist::replay`] only.
    fn drain_changes(&mut self, sink: &mut dyn FnMut(&[u8])) {
        let _ = sink;
    }

    /// Applies one change recorded by an earlier run. `false`: not a
    /// change this app makes; the host treats the journal as damaged from
    /// there on (and cuts it off, as after a crash mid-write).
    fn replay(&mut self, change: &[u8]) -> bool {
        let _ = change;
        false
    }

    /// Back to the empty state, before a replay.
    fn clear(&mut self) {}

    /// Hands `sink` records that rebuild the current state from empty
    /// (ids still to be handed out included): what a host writes when it
    /// compacts its journal. Changes waiting in the log are not part of it.
    fn snapshot(&self, sink: &mut dyn FnMut(&[u8])) {
        let _ = sink;
    }

    /// The longest change record the app makes (a host uses it to tell a
    /// damaged journal from a real record).
    const MAX_CHANGE: usize = 0;
}

/// Bytes of chunked framing a host puts around a streamed piece (size
/// line and CRLFs), beside the app's `Service::MIN_STREAM_BUFFER`.
pub const STREAM_FRAMING: usize = 32;

/// Fails the build (call it in a `const` block) unless app `S` fits a
/// host's buffers: request bodies of `S::MAX_BODY` in `body` bytes, a
/// streamed piece (`S::MIN_STREAM_BUFFER` plus [`STREAM_FRAMING`]) in
/// `out`, change records of `Persist::MAX_CHANGE` in `change`.
pub const fn assert_fits<S: crate::Service + Persist>(body: usize, out: usize, change: usize) {
    assert!(
        S::MAX_BODY <= body,
        "the app's MAX_BODY is larger than the host's body buffer"
    );
    assert!(
        S::MIN_STREAM_BUFFER + STREAM_FRAMING <= out,
        "the app's MIN_STREAM_BUFFER does not fit the host's reply buffer"
    );
    assert!(
        S::MAX_CHANGE <= change,
        "the app's MAX_CHANGE is longer than the host's journal record"
    );
}

/// A change could not be recorded: the log holds as much as it can. The
/// request that would have made it must be refused without changing
/// anything (check [`ChangeLog::has_room`] first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogFull;

/// Bytes of length prefix in front of each record in a [`ChangeLog`].
pub(crate) const LEN_BYTES: usize = 2;

/// Change records waiting for the host, `N` bytes of them: what an app
/// keeps to implement [`Persist::drain_changes`]. Records are kept whole
/// or not at all; the host empties the log after every call into the app.
pub struct ChangeLog<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> ChangeLog<N> {
    /// An empty log (a constant, so an app holding one can live in a
    /// `static`).
    pub const EMPTY: Self = ChangeLog {
        buf: [0; N],
        len: 0,
    };

    /// Whether a record of `bytes` bytes fits now.
    pub fn has_room(&self, bytes: usize) -> bool {
        bytes <= usize::from(u16::MAX) && self.len + LEN_BYTES + bytes <= N
    }

    /// Records one change: the concatenation of `parts` (a handler writes
    /// its fields without assembling them first).
    pub fn record(&mut self, parts: &[&[u8]]) -> Result<(), LogFull> {
        let bytes: usize = parts.iter().map(|p| p.len()).sum();
        self.record_with(bytes, |out| {
            let mut at = 0;
            for part in parts {
                out[at..at + part.len()].copy_from_slice(part);
                at += part.len();
            }
            at
        })
    }

    /// Records one change that `write` puts in place: it is handed `max`
    /// bytes and returns how many of them it wrote (more than `max` counts
    /// as `max`). `LogFull`, and `write` is not called, when `max` bytes
    /// do not fit now.
    pub fn record_with(
        &mut self,
        max: usize,
        write: impl FnOnce(&mut [u8]) -> usize,
    ) -> Result<(), LogFull> {
        if !self.has_room(max) {
            return Err(LogFull);
        }
        let start = self.len + LEN_BYTES;
        let n = write(&mut self.buf[start..start + max]).min(max);
        // n <= max, and has_room checked max <= u16::MAX.
        self.buf[self.len..start].copy_from_slice(&(n as u16).to_le_bytes());
        self.len = start + n;
        Ok(())
    }

    /// Whether no change is waiting.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Hands each record to `sink`, oldest first, and empties the log.
    pub fn drain(&mut self, sink: &mut dyn FnMut(&[u8])) {
        let mut at = 0;
        while at < self.len {
            let n = usize::from(u16::from_le_bytes([self.buf[at], self.buf[at + 1]]));
            at += LEN_BYTES;
            sink(&self.buf[at..at + n]);
            at += n;
        }
        self.len = 0;
    }

    /// Forgets every waiting record.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn drained<const N: usize>(log: &mut ChangeLog<N>) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        log.drain(&mut |r| out.push(r.to_vec()));
        out
    }

    #[test]
    fn records_come_back_whole_in_order_once() {
        let mut log = ChangeLog::<64>::EMPTY;
        log.record(&[b"ab", b"", b"c"]).unwrap();
        log.record(&[]).unwrap();
        log.record(&[b"xyz"]).unwrap();
        assert!(!log.is_empty());
        assert_eq!(drained(&mut log), [&b"abc"[..], b"", b"xyz"]);
        assert!(log.is_empty());
        assert!(drained(&mut log).is_empty());
    }

    #[test]
    fn a_record_fits_exactly_or_is_refused_whole() {
        // 2 bytes of length each: 10 bytes hold one 8-byte record.
        let mut log = ChangeLog::<10>::EMPTY;
        assert!(log.has_room(8));
        assert!(!log.has_room(9));
        assert_eq!(log.record(&[b"12345", b"6789"]), Err(LogFull));
        assert!(log.is_empty());
        log.record(&[b"1234", b"5678"]).unwrap();
        assert!(!log.has_room(0));
        assert_eq!(log.record(&[]), Err(LogFull));
        assert_eq!(drained(&mut log), [b"12345678"]);
        assert!(log.has_room(8));
    }

    #[test]
    fn a_record_written_in_place_keeps_what_was_written() {
        let mut log = ChangeLog::<10>::EMPTY;
        assert_eq!(log.record_with(9, |_| unreachable!()), Err(LogFull));
        log.record_with(8, |out| {
            assert_eq!(out.len(), 8);
            out[..3].copy_from_slice(b"abc");
            3
        })
        .unwrap();
        // Claiming more than it was given keeps the `max` bytes.
        log.record_with(3, |out| {
            out.copy_from_slice(b"xyz");
            99
        })
        .unwrap();
        assert_eq!(drained(&mut log), [&b"abc"[..], b"xyz"]);
    }

    #[test]
    fn clear_forgets_and_longest_record_is_u16_max() {
        let mut log = ChangeLog::<{ 2 + 65_535 + 2 }>::EMPTY;
        assert!(log.has_room(65_535));
        assert!(!log.has_room(65_536));
        log.record(&[&[7u8; 65_535]]).unwrap();
        log.clear();
        assert!(log.is_empty());
        assert!(drained(&mut log).is_empty());
    }

    struct Nothing;
    impl Persist for Nothing {}
    impl crate::Service for Nothing {
        const ROUTES: &'static [crate::Route<Self>] = &[];
        const MAX_BODY: usize = 100;
        const MIN_STREAM_BUFFER: usize = 68;
    }

    #[test]
    fn an_app_fits_its_host_at_its_limits_and_not_past_them() {
        assert_fits::<Nothing>(100, 100, 0);
        for (body, out, change) in [(99, 100, 0), (100, 99, 0)] {
            let r = std::panic::catch_unwind(|| assert_fits::<Nothing>(body, out, change));
            assert!(r.is_err(), "{body} {out} {change}");
        }
    }

    #[test]
    fn an_app_without_data_persists_nothing() {
        let mut app = Nothing;
        let mut calls = 0;
        app.drain_changes(&mut |_| calls += 1);
        assert_eq!(calls, 0);
        assert!(!app.replay(b"anything"));
        assert_eq!(Nothing::MAX_CHANGE, 0);
    }
}
