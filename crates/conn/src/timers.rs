//! The deadlines that stop slow or idle clients from holding a
//! connection: the whole head, the whole body, silence while either
//! arrives, a body's minimum average rate, idling between requests, and
//! a reply the client stopped reading. A server asks when the next one
//! falls ([`Conn::deadline`]) and calls [`Conn::on_timer`] then.

use bedrock_web::{Handler, Reject};

use crate::conn::{Conn, LogRecord, Phase, Turn};

/// Which deadline [`Conn::on_timer`] enforced (for a server's counters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// A request head did not arrive whole in time, or fell silent
    /// (`head_timeout_us`, `read_timeout_us`): 408.
    Head,
    /// A request body did not arrive whole in time, or fell silent
    /// (`body_timeout_us`, `read_timeout_us`): 408.
    Body,
    /// A request body arrived more slowly than `min_body_rate`: 408.
    BodyRate,
    /// No request came within `idle_timeout_us` (kept alive, or newly
    /// opened): closed.
    Idle,
    /// A reply made no progress for `send_timeout_us` (the client stopped
    /// reading): abandoned.
    Send,
}

impl<const IN: usize, const BODY: usize, const OUT: usize> Conn<IN, BODY, OUT> {
    /// When [`Conn::on_timer`] must run next, if ever.
    pub fn deadline(&self) -> Option<u64> {
        let c = &self.config;
        let silent = self.last_progress.saturating_add(c.read_timeout_us);
        match self.phase {
            Phase::Head if self.in_len > 0 => {
                Some(silent.min(self.request_start.saturating_add(c.head_timeout_us)))
            }
            Phase::Head => Some(self.last_progress.saturating_add(c.idle_timeout_us)),
            Phase::Body { since, .. } | Phase::Sink { since, .. } => {
                let whole = since.saturating_add(c.body_timeout_us);
                Some(whole.min(silent).min(self.too_slow_at(since)))
            }
            Phase::Write => Some(self.last_progress.saturating_add(c.send_timeout_us)),
            Phase::Deferred { .. } | Phase::Closed => None,
        }
    }

    /// When a body that began at `since` falls below the minimum average
    /// rate if nothing more arrives: `received / elapsed < rate` once
    /// `elapsed > received / rate`, never before `read_timeout_us`.
    fn too_slow_at(&self, since: u64) -> u64 {
        let c = &self.config;
        if c.min_body_rate == 0 {
            return u64::MAX;
        }
        let allowed = self.body_received.saturating_mul(1_000_000) / c.min_body_rate;
        since.saturating_add(allowed.max(c.read_timeout_us).saturating_add(1))
    }

    /// Enforces the deadlines: a head or body that is too slow gets 408
    /// and a close; an idle keep-alive connection or a reply the client
    /// stopped reading is closed. Returns which deadline it enforced, if
    /// any (none for a partial head the parser refuses: that gets its
    /// error).
    pub fn on_timer<H: Handler>(
        &mut self,
        now: u64,
        date: Option<&[u8]>,
        app: &mut H,
        log: &mut impl FnMut(&LogRecord<'_>),
    ) -> Option<Timeout> {
        if self.deadline().is_none_or(|at| now < at) {
            return None;
        }
        let t = &mut Turn {
            now,
            date,
            app,
            log,
        };
        match self.phase {
            Phase::Head if self.in_len > 0 => {
                // A head the parser refuses gets its error, as it would
                // have had it been parsed at every read (head.rs).
                let (reject, timeout) = match self.head_error() {
                    Some(e) => (Reject::from(e), None),
                    None => (
                        Reject::new(408, "request head too slow"),
                        Some(Timeout::Head),
                    ),
                };
                self.respond_error(t, reject);
                timeout
            }
            Phase::Body { since, .. } | Phase::Sink { since, .. } => {
                let c = &self.config;
                let whole = since.saturating_add(c.body_timeout_us);
                let silent = self.last_progress.saturating_add(c.read_timeout_us);
                let timeout = match self.too_slow_at(since) < whole.min(silent) {
                    true => Timeout::BodyRate,
                    false => Timeout::Body,
                };
                if let Phase::Sink { sink, .. } = self.phase {
                    t.app.sink_abort(sink);
                }
                let reject = Reject::new(408, "request body too slow");
                self.respond_error(t, reject);
                Some(timeout)
            }
            Phase::Head | Phase::Write => {
                let timeout = match self.phase {
                    Phase::Write => Timeout::Send,
                    _ => Timeout::Idle,
                };
                self.output.clear();
                self.phase = Phase::Closed;
                Some(timeout)
            }
            Phase::Deferred { .. } | Phase::Closed => None,
        }
    }
}
