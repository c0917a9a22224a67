//! A TCP echo service for bulk-transfer tests (tests/kernel/faulty_link.sh),
//! on the port `BEDROCK_ECHO_PORT` names at build time ([`config::ECHO_PORT`];
//! none by default, so `make run` images listen on port 80 only).
//!
//! Every byte received goes back unchanged. Flow control is end to end:
//! bytes are read only while the send buffer has room for them, so a peer
//! that sends faster than it reads fills our send buffer, then our receive
//! buffer, and our window closes (the peer then probes the zero window).
//! After the peer's FIN the rest is echoed and our FIN follows it; a RST
//! or a connection that times out simply ends it.
//!
//! An image built with `BEDROCK_WINDOW_SCALING=0` ([`config::WINDOW_SCALING`])
//! turns RFC 7323 window scaling off in the stack when the service
//! starts, for the bulk benchmark's comparison (scripts/bench-bulk.py).
//!
//! [`config::ECHO_PORT`]: crate::config::ECHO_PORT
//! [`config::WINDOW_SCALING`]: crate::config::WINDOW_SCALING

use bedrock_net::tcp::{Handle, State, TcpStack};

use crate::{config, info};

/// Connections to the echo port waiting for [`TcpStack::accept`].
const ECHO_BACKLOG: usize = 8;

/// The echo connections among a stack's `N` slots.
pub struct Echo<const N: usize> {
    port: Option<u16>,
    /// Indexed by slot: the echo connection there, if any.
    conns: [Option<Handle>; N],
}

impl<const N: usize> Echo<N> {
    /// Listens on `port` (`None`: no echo service, every call is a no-op).
    /// Panics if the port is taken, like the kernel's other listeners: a
    /// build-time setting that cannot work should stop the boot.
    pub fn start<const RX: usize, const TX: usize>(
        tcp: &mut TcpStack<N, RX, TX>,
        port: Option<u16>,
    ) -> Self {
        if let Some(p) = port {
            if let Err(e) = tcp.listen(p, ECHO_BACKLOG) {
                panic!("echo: listen on port {p}: {e:?}");
            }
            let mut cfg = tcp.config();
            cfg.window_scaling = config::WINDOW_SCALING;
            tcp.set_config(cfg);
            info!(
                "echo service on TCP port {p} (window scaling {})",
                if cfg.window_scaling { "on" } else { "off" }
            );
        }
        Echo {
            port,
            conns: [None; N],
        }
    }

    /// Takes an accepted connection if it is to the echo port; returns
    /// whether it did (otherwise it belongs to another service).
    pub fn adopt<const RX: usize, const TX: usize>(
        &mut self,
        tcp: &TcpStack<N, RX, TX>,
        h: Handle,
    ) -> bool {
        let to_echo = self.port.is_some() && tcp.local(h).map(|(_, port)| port) == self.port;
        if to_echo {
            self.conns[h.index()] = Some(h);
        }
        to_echo
    }

    /// Echoes what every connection received, as far as send space allows;
    /// returns whether any byte moved or a connection ended.
    pub fn serve<const RX: usize, const TX: usize>(
        &mut self,
        tcp: &mut TcpStack<N, RX, TX>,
    ) -> bool {
        let mut any = false;
        for slot in self.conns.iter_mut() {
            let Some(h) = *slot else {
                continue;
            };
            if tcp.state(h) == State::Closed {
                // Reset, timed out, or aborted by the stack.
                *slot = None;
                continue;
            }
            // One copy, ring to ring, as far as the send buffer has room.
            any |= tcp.echo(h) > 0;
            if !tcp.may_recv(h) {
                // The peer's FIN, and all before it echoed (queued): our
                // FIN goes after it; the stack finishes the close alone.
                tcp.close(h);
                *slot = None;
                any = true;
            }
        }
        any
    }
}
