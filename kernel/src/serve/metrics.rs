//! The unikernel's `/metrics` page (bedrock-metrics answers the path for
//! every app): the HTTP counters every server keeps ([`HTTP`], fed by
//! the access logger, the sockets and the connection deadlines), then
//! the network stack's interface and TCP counters (frames, drops by
//! reason, segments, retransmissions, RTOs, resets, SACK, ARP), the TCP
//! table, the virtio queues and their drivers' counters, interrupts, and
//! the CPU's time asleep and busy.
//!
//! The page is written while the connections are being served, which
//! hold the TCP stack mutably to move their bytes: the stack is shared
//! through a `RefCell` ([`Net`]) that the sockets and the page each
//! borrow for a moment, never both at once.

use bedrock_metrics::{write_counters, Drops, Exposition, HttpMetrics, Kind, Value, Writer};
use bedrock_net::iface::Counters;
use bedrock_net::tcp::TcpStack;
use core::cell::RefCell;
use core::sync::atomic::{AtomicU32, Ordering};

use super::disk::Disk;
use crate::virtio::VirtioNet;
use crate::{irq, time};

/// The HTTP counters; the kernel's loop is their one writer.
pub static HTTP: HttpMetrics = HttpMetrics::new();

/// What the connections and the metrics page share during one serving
/// pass of the loop.
pub struct Net<'a, 'b, const N: usize> {
    /// The TCP stack, borrowed in turn by the sockets and the page.
    pub tcp: RefCell<&'b mut TcpStack<N>>,
    /// The interface's counters.
    pub iface: &'a Counters,
    /// The NIC.
    pub nic: &'a VirtioNet,
}

/// The page: the pass's [`Net`] and the app's disk, if any.
pub struct Page<'p, 'a, 'b, const N: usize> {
    pub net: &'p Net<'a, 'b, N>,
    pub disk: Option<&'p Disk>,
}

const NET_DROPS: Drops<'static> = Drops {
    name: "dropped_packets_total",
    help: "Received frames and packets dropped by the interface, and outbound packets dropped for want of a MAC (unresolved), by reason.",
};
const TCP_DROPS: Drops<'static> = Drops {
    name: "dropped_segments_total",
    help: "TCP segments dropped before reaching a connection (or, for paws and no_timestamp, answered with an ACK and dropped), by reason.",
};

impl<const N: usize> Exposition for Page<'_, '_, '_, N> {
    fn expose(&self, w: &mut Writer<'_>) {
        let tcp = self.net.tcp.borrow();
        let t = tcp.counters();
        // Connections refused and evicted at the table's cap are the TCP
        // stack's doing here.
        let mut http = HTTP.snapshot();
        http.rejected = t.refused_full + t.refused_fair_share + t.refused_backlog;
        http.evicted = t.evicted_syn_received
            + t.evicted_lingering
            + t.evicted_idle
            + t.evicted_stalled
            + t.evicted_slow_head;
        http.write(w);
        write_counters(w, "bedrock_net_", self.net.iface.described(), NET_DROPS);
        write_counters(w, "bedrock_tcp_", t.described(), TCP_DROPS);
        if w.family(
            &["bedrock_tcp_slots"],
            "TCP connection slots, by use (free includes none in TIME-WAIT).",
            Kind::Gauge,
        ) {
            let (active, waiting) = (tcp.active() as u64, tcp.time_wait_slots() as u64);
            let free = (tcp.capacity() as u64).saturating_sub(active + waiting);
            for (state, n) in [("active", active), ("time_wait", waiting), ("free", free)] {
                w.sample("", &[("state", state)], Value::Int(n));
            }
        }
        drop(tcp);
        self.virtio(w);
        if w.family(
            &["bedrock_interrupts_total"],
            "Interrupts taken, by source.",
            Kind::Counter,
        ) {
            let irqs: [(&str, &AtomicU32); 4] = [
                ("timer", &irq::TIMER_IRQS),
                ("virtio", &irq::VIRTIO_IRQS),
                ("uart", &irq::UART_IRQS),
                ("other", &irq::OTHER_IRQS),
            ];
            for (source, n) in irqs {
                let n = u64::from(n.load(Ordering::Relaxed));
                w.sample("", &[("source", source)], Value::Int(n));
            }
        }
        let up = time::now().micros();
        let idle = time::idle().0.min(up);
        if w.family(
            &["bedrock_cpu_seconds_total"],
            "CPU time since boot: idle (asleep in WFI, waiting for an interrupt) and busy (the rest).",
            Kind::Counter,
        ) {
            w.sample("", &[("mode", "busy")], Value::Micros(up - idle));
            w.sample("", &[("mode", "idle")], Value::Micros(idle));
        }
        w.gauge(
            "bedrock_uptime_seconds",
            "Time since boot.",
            Value::Micros(up),
        );
    }
}

impl<const N: usize> Page<'_, '_, '_, N> {
    /// The virtio queues and their drivers' counters.
    fn virtio(&self, w: &mut Writer<'_>) {
        let nic = self.net.nic;
        let s = nic.stats();
        if w.family(
            &["bedrock_virtio_queue_size"],
            "Descriptors in each virtqueue (VIRTIO 1.2 2.7), by device and queue.",
            Kind::Gauge,
        ) {
            let (rx, tx) = nic.queue_sizes();
            let net = [("rx", u64::from(rx)), ("tx", u64::from(tx))];
            for (queue, n) in net {
                w.sample("", &[("device", "net"), ("queue", queue)], Value::Int(n));
            }
            if let Some(size) = self.disk.map(|d| d.queue_size()) {
                let labels = [("device", "blk"), ("queue", "requests")];
                w.sample("", &labels, Value::Int(u64::from(size)));
            }
        }
        let net: [(&str, &str, u64); 4] = [
            (
                "rx_frames",
                "Frames the virtio-net driver handed to the stack.",
                s.rx_frames,
            ),
            (
                "tx_frames",
                "Frames the virtio-net driver sent.",
                s.tx_frames,
            ),
            (
                "rx_bad",
                "Used receive buffers with an impossible id or length, dropped.",
                s.rx_bad,
            ),
            (
                "tx_full",
                "Transmits refused because every transmit buffer was in flight.",
                s.tx_full,
            ),
        ];
        for (name, help, n) in net {
            w.single(
                &["bedrock_virtio_net_", name, "_total"],
                help,
                Kind::Counter,
                Value::Int(n),
            );
        }
        let blk = self.disk.map(|d| d.stats());
        if let Some(b) = blk {
            if w.family(
                &["bedrock_virtio_blk_requests_total"],
                "Requests the virtio-blk driver started, by operation.",
                Kind::Counter,
            ) {
                for (op, n) in [("read", b.reads), ("write", b.writes), ("flush", b.flushes)] {
                    w.sample("", &[("op", op)], Value::Int(n));
                }
            }
            w.counter(
                "bedrock_virtio_blk_errors_total",
                "virtio-blk requests that failed (device status, protocol, timeout).",
                Value::Int(b.errors),
            );
        }
        if w.family(
            &["bedrock_virtio_notifications_total"],
            "Doorbell writes (available buffer notifications, VIRTIO 1.2 2.7.13), by device.",
            Kind::Counter,
        ) {
            w.sample("", &[("device", "net")], Value::Int(s.notifies));
            if let Some(b) = blk {
                w.sample("", &[("device", "blk")], Value::Int(b.notifies));
            }
        }
    }
}
