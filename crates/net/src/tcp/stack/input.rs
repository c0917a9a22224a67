//! One segment in: find its connection (or reopen a TIME-WAIT 4-tuple,
//! RFC 6191), else hand it to a listener: a passive open, a SYN cookie
//! when the backlog or the table is full, a connection made from a
//! cookie's ACK (evicting if need be), or RST (RFC 9293 §3.10.7.1).

use super::*;

impl<const N: usize, const RX: usize, const TX: usize> TcpStack<N, RX, TX> {
    pub(super) fn receive_segment<D: Device>(
        &mut self,
        ip: &Ipv4Repr,
        payload: &[u8],
        tx: &mut Sender<'_, D>,
    ) {
        let now = tx.now();
        self.clock = now;
        bump(&mut self.counters.segs_in);
        if ip.dst_addr != tx.config().ip {
            // Broadcast: TCP is unicast only.
            return bump(&mut self.counters.drop_not_for_us);
        }
        let parsed = TcpPacket::new_checked(payload).and_then(|p| match tx.checksum_ok() {
            true => TcpRepr::parse_checked(&p),
            false => TcpRepr::parse(&p, ip.src_addr, ip.dst_addr),
        });
        let seg = match parsed {
            Ok(seg) => seg,
            Err(wire::Error::BadChecksum) => return bump(&mut self.counters.drop_bad_checksum),
            Err(_) => return bump(&mut self.counters.drop_malformed),
        };
        let local = (ip.dst_addr, seg.dst_port);
        let remote = (ip.src_addr, seg.src_port);
        if let Some(i) = self.find(local, remote) {
            let config = self.config();
            let tcb = &self.conns[i].tcb;
            let new_syn = seg.control == TcpControl::Syn && seg.ack_number.is_none();
            if !(tcb.state == State::TimeWait && new_syn) {
                return self.verdict(i, &seg, &config, tx);
            }
            if !time_wait::may_reopen(tcb, &seg, config.timestamps) {
                // RFC 6191 §2: leave the TIME-WAIT be.
                return bump(&mut self.counters.time_wait_syn_dropped);
            }
            self.release(i);
            bump(&mut self.counters.time_wait_reopened);
        }
        let Some(listener) = self.listener(seg.dst_port) else {
            bump(&mut self.counters.drop_no_socket);
            return self.reset_stray(tx, local, remote, &seg);
        };
        match (seg.control, seg.ack_number) {
            (TcpControl::Rst, _) => bump(&mut self.counters.drop_no_socket),
            (TcpControl::None | TcpControl::Fin, Some(_)) if now < self.cookies_until => {
                self.open_from_cookie(now, listener, local, remote, &seg, tx)
            }
            (_, Some(_)) => {
                // LISTEN: any ACK is answered with RST.
                bump(&mut self.counters.drop_no_socket);
                self.reset_stray(tx, local, remote, &seg);
            }
            (TcpControl::Syn, None) => self.open_passive(now, listener, local, remote, &seg, tx),
            _ => bump(&mut self.counters.drop_no_socket),
        }
    }

    /// A SYN for a listener: a new connection in SYN-RECEIVED (the
    /// SYN-ACK goes at dispatch), or, when the backlog or the table is
    /// full, a SYN cookie (RST with cookies off).
    fn open_passive<D: Device>(
        &mut self,
        now: Instant,
        listener: Listener,
        local: Endpoint,
        remote: Endpoint,
        seg: &TcpRepr,
        tx: &mut Sender<'_, D>,
    ) {
        let waiting = self
            .live_conns()
            .filter(|(_, c)| {
                c.tcb.state != State::Closed && !c.tcb.accepted && c.tcb.local.1 == listener.port
            })
            .count();
        let cookies = self.config().syn_cookies;
        if waiting >= listener.backlog {
            if cookies {
                return self.send_cookie(now, local, remote, seg, tx);
            }
            bump(&mut self.counters.refused_backlog);
            return self.reset_stray(tx, local, remote, seg);
        }
        let Some(i) = self.free_slot() else {
            if cookies && !self.holds_fair_share(remote.0) {
                return self.send_cookie(now, local, remote, seg, tx);
            }
            if cookies {
                // The table is full and this address holds its share of
                // it: refused at once, the cheapest answer (a cookie would
                // cost a handshake, an eviction among its own and a
                // request's work, over and over for a host reconnecting
                // as fast as it can).
                bump(&mut self.counters.refused_fair_share);
                return self.reset_stray(tx, local, remote, seg);
            }
            bump(&mut self.counters.refused_full);
            return self.reset_stray(tx, local, remote, seg);
        };
        let iss = self.isn.isn(now, local, remote);
        let offer = self.offer(local, remote);
        let conn = self.occupy(i, Tcb::open(now, State::SynReceived, local, remote, iss));
        conn.tcb.take_syn(seg, &offer);
    }

    /// The options a connection from `local` to `remote` offers (active
    /// open) or accepts (passive): as configured, our window shift from
    /// the receive buffer's size (RFC 7323 §2.3), our timestamp clock's
    /// offset for this host pair.
    pub(super) fn offer(&self, local: Endpoint, remote: Endpoint) -> Offer {
        let config = self.config();
        Offer {
            sack: config.sack,
            window_shift: config.window_scaling.then_some(window_shift(RX)),
            timestamps: config
                .timestamps
                .then(|| self.isn.ts_offset(local.0, remote.0)),
        }
    }

    /// Acts on what [`Conn::process`] said of a segment for slot `i`.
    fn verdict<D: Device>(
        &mut self,
        i: usize,
        seg: &TcpRepr,
        config: &TcpConfig,
        tx: &mut Sender<'_, D>,
    ) {
        let conn = &mut self.conns[i];
        match conn.process(tx.now(), seg, config, &mut self.counters) {
            Verdict::Keep => self.track_time_wait(i, tx),
            Verdict::Reset(seq) => {
                let (local, remote) = (conn.tcb.local, conn.tcb.remote);
                let repr = bare_repr(local, remote, TcpControl::Rst, seq, None);
                send_bare(tx, &mut self.counters, remote.0, &repr);
            }
            Verdict::Close => self.release(i),
            Verdict::LingerReset => {
                bump(&mut self.counters.linger_resets);
                conn.send_reset(tx, &mut self.counters);
                self.release(i);
            }
        }
    }

    /// Answers a SYN that found the backlog or the table full with a SYN
    /// cookie (`tcp::cookie`): a SYN-ACK, and nothing stored.
    fn send_cookie<D: Device>(
        &mut self,
        now: Instant,
        local: Endpoint,
        remote: Endpoint,
        seg: &TcpRepr,
        tx: &mut Sender<'_, D>,
    ) {
        let syn = CookieSyn {
            mss: seg.max_seg_size.unwrap_or(TCP_DEFAULT_PEER_MSS),
            sack: seg.sack_permitted && self.config().sack,
        };
        let iss = cookie::make(&self.isn, now, local, remote, seg.seq_number, syn);
        let ack = seg.seq_number + 1u32;
        let mut repr = bare_repr(local, remote, TcpControl::Syn, iss, Some(ack));
        repr.max_seg_size = Some(crate::limits::TCP_MSS);
        repr.sack_permitted = syn.sack;
        repr.window_len = RX.min(usize::from(u16::MAX)) as u16;
        if send_bare(tx, &mut self.counters, remote.0, &repr) {
            bump(&mut self.counters.syn_cookies_sent);
            self.cookies_until = now + crate::time::Duration(2 * TCP_SYN_COOKIE_PERIOD.0);
        }
    }

    /// An ACK for a listener with no connection while cookies are in use:
    /// if it brings a valid cookie back, the connection it completes is
    /// made (taking a slot by eviction if need be) and the segment is
    /// processed on it; otherwise RST.
    fn open_from_cookie<D: Device>(
        &mut self,
        now: Instant,
        listener: Listener,
        local: Endpoint,
        remote: Endpoint,
        seg: &TcpRepr,
        tx: &mut Sender<'_, D>,
    ) {
        let Some(ack) = seg.ack_number else { return };
        let peer_isn = seg.seq_number - 1u32;
        let Some(syn) = cookie::check(&self.isn, now, local, remote, peer_isn, ack - 1u32) else {
            bump(&mut self.counters.syn_cookies_rejected);
            return self.reset_stray(tx, local, remote, seg);
        };
        // The accept queue (established, not taken) still has its bound.
        let queued = self
            .live_conns()
            .filter(|(_, c)| {
                c.tcb.state.is_synchronized() && !c.tcb.accepted && c.tcb.local.1 == listener.port
            })
            .count();
        if queued >= listener.backlog {
            bump(&mut self.counters.refused_backlog);
            return self.reset_stray(tx, local, remote, seg);
        }
        let Some(i) = self.free_slot().or_else(|| self.evict(remote.0, tx)) else {
            bump(&mut self.counters.refused_full);
            return self.reset_stray(tx, local, remote, seg);
        };
        bump(&mut self.counters.syn_cookies_accepted);
        let tcb = Tcb::open(now, State::SynReceived, local, remote, ack - 1u32);
        let conn = self.occupy(i, tcb);
        conn.tcb.take_cookie(peer_isn, syn.mss, syn.sack);
        let config = self.config();
        self.verdict(i, seg, &config, tx);
    }

    /// Frees the slot of the least valuable connection (see `tcp::evict`)
    /// for a newcomer from `from`, with RST, counted by reason, and hands
    /// it out; `None` when every connection is worth keeping.
    fn evict<D: Device>(&mut self, from: Ipv4Address, tx: &mut Sender<'_, D>) -> Option<usize> {
        let (now, config) = (tx.now(), self.config());
        let own_only = self.holds_fair_share(from);
        let (i, victim) = self
            .live_conns()
            .filter(|(_, c)| !own_only || c.tcb.remote.0 == from)
            .filter_map(|(i, c)| evict::rank(&c.tcb, c.pending(), now, &config).map(|r| (i, r)))
            .min_by_key(|&(_, r)| r)
            .map(|(i, (victim, _))| (i, victim))?;
        let c = &mut self.counters;
        bump(match victim {
            Victim::SynReceived => &mut c.evicted_syn_received,
            Victim::Lingering => &mut c.evicted_lingering,
            Victim::Idle => &mut c.evicted_idle,
            Victim::Stalled => &mut c.evicted_stalled,
            Victim::SlowHead => &mut c.evicted_slow_head,
        });
        self.conns[i].send_reset(tx, c);
        self.release(i);
        self.free_slot()
    }

    /// Whether `addr` holds at least its fair share of the slots
    /// ([`TCP_EVICT_FAIR_SHARE_DIVISOR`]).
    fn holds_fair_share(&self, addr: Ipv4Address) -> bool {
        let share = (N / TCP_EVICT_FAIR_SHARE_DIVISOR).max(1);
        self.live_conns()
            .filter(|(_, c)| c.tcb.state != State::Closed && c.tcb.remote.0 == addr)
            .take(share)
            .count()
            >= share
    }

    /// RST for a segment that has no connection (RFC 9293 §3.10.7.1).
    fn reset_stray<D: Device>(
        &mut self,
        tx: &mut Sender<'_, D>,
        local: Endpoint,
        remote: Endpoint,
        seg: &TcpRepr,
    ) {
        let repr = match (seg.control, seg.ack_number) {
            (TcpControl::Rst, _) => return,
            (_, Some(ack)) => bare_repr(local, remote, TcpControl::Rst, ack, None),
            (_, None) => {
                let ack = seg.seq_number + seg.segment_len();
                let zero = crate::tcp::SeqNumber(0);
                bare_repr(local, remote, TcpControl::Rst, zero, Some(ack))
            }
        };
        send_bare(tx, &mut self.counters, remote.0, &repr);
    }
}
