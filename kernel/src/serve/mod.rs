//! The unikernel as a server of any app: [`run`] brings up the virtio-net
//! NIC and the bedrock-net interface (ARP, IPv4, ICMP echo, TCP), resolves
//! the gateway, then serves the app (a `bedrock_web::Service`) over
//! HTTP/1.1 on TCP port 80 (and echoes on `BEDROCK_ECHO_PORT` if built
//! with one), sleeping in WFI between interrupts. An image is a binary of
//! a few lines naming its app with [`crate::app!`] (see `src/bin/hotel.rs`).
//!
//! Every app gets `GET /metrics` (the HTTP, network stack, virtio, and
//! CPU counters in the Prometheus text format: `metrics`). Console keys:
//! `c` prints the interface, TCP and driver counters, Ctrl-C stops QEMU
//! (status 0).

mod disk;
mod http;
mod metrics;
mod net;

use bedrock_conn::Conn;
use bedrock_net::iface::Interface;
use bedrock_net::limits::TCP_DEFAULT_BACKLOG;
use bedrock_net::tcp::TcpStack;
use bedrock_net::wire::Ipv4Address;
use bedrock_web::{Persist, Service};
use core::cell::RefCell;
use core::mem::MaybeUninit;

use crate::device::Device;
use crate::echo::Echo;
use crate::global::{Global, NoInit};
use crate::time::{Duration, Instant};
use crate::virtio::blk::VirtioBlk;
use crate::virtio::VirtioNet;
use crate::{arch, config, console, info, mmu, time, uart, warn};
use disk::{Disk, Group};
use http::{Held, Server};
use metrics::Net;
use net::{interface_config, isn_key, ping_gateway, print_counters, GATEWAY_WAIT};

/// TCP connection slots, and as many HTTP connections (one per slot).
/// 256 slots: about 8.1 MiB of TCP buffers plus 6.3 MiB of HTTP buffers,
/// all in .bss; the image fits `-m 128M` with room to spare.
pub const SLOTS: usize = bedrock_net::limits::TCP_MAX_CONNECTIONS;
/// The port the app is served on.
pub const HTTP_PORT: u16 = 80;
/// Request heads and pipelined requests.
pub const HTTP_IN: usize = 16 * 1024;
/// The body buffer of each connection: an app's `Service::MAX_BODY` must
/// fit (checked when the image is built).
pub const HTTP_BODY: usize = 4096;
/// One reply body or one streamed piece of it.
pub const HTTP_OUT: usize = 4096;
const _: () = assert!(
    bedrock_metrics::MIN_STREAM_BUFFER + bedrock_web::STREAM_FRAMING <= HTTP_OUT,
    "a piece of /metrics must fit the reply buffer"
);

type HttpConn = Conn<HTTP_IN, HTTP_BODY, HTTP_OUT>;

/// How often the loop flushes the TLB (see `mmu::flush_tlb`): QEMU sizes
/// its emulated TLB at each flush, and the 256-entry default thrashes over
/// 256 connections' pages (keep-alive c=16 over tap: 54-59k req/s without,
/// 61-63k with; a flush costs a few hundred refills every 100 ms).
const TLB_REFRESH: Duration = Duration::from_millis(100);

// Both are zero bytes (the TCP key is set by `reseed`), so they land in
// .bss; the HTTP connections are built on first use, so boot does not
// zero their 6.3 MiB at all.
static TCP: Global<TcpStack<SLOTS>> = Global::new(TcpStack::new([0; 16]));
#[link_section = ".noinit"]
static CONNS: NoInit<[MaybeUninit<HttpConn>; SLOTS]> = NoInit::new();
static CONNS_TAKEN: Global<()> = Global::new(());
static GROUP: Global<Group> = Global::new(Group::new());
/// The access-log records of replies waiting for a commit (zero: .bss).
static HELD: Global<[Held; SLOTS]> = Global::new([Held::EMPTY; SLOTS]);

/// Boots the network and serves `app` forever. Called by [`crate::app!`].
pub fn run<S: Service + Persist + Send>(app: &'static Global<S>) -> ! {
    const { bedrock_web::assert_fits::<S>(HTTP_BODY, HTTP_OUT, disk::MAX_RECORD) };
    crate::init(false);
    info!("MMU and caches on, GIC and timer ready");
    let mut nic = start_nic();
    let boot_ticks = time::ticks();
    let mut iface = Interface::new(interface_config(nic.mac()));
    let (Some(tcp), Some(app), Some(()), Some(group), Some(held)) = (
        TCP.take(),
        app.take(),
        CONNS_TAKEN.take(),
        GROUP.take(),
        HELD.take(),
    ) else {
        panic!("statics taken twice");
    };
    let disk = open_disk(app);
    // SAFETY: CONNS_TAKEN makes this the only call of CONNS.take.
    let conns = unsafe { CONNS.take() };
    // SAFETY: an array of `MaybeUninit` is valid uninitialised.
    let conns = unsafe { conns.assume_init_mut() };
    tcp.reseed(isn_key(nic.mac(), boot_ticks));
    if let Err(e) = tcp.listen(HTTP_PORT, TCP_DEFAULT_BACKLOG) {
        panic!("listen on port {HTTP_PORT}: {e:?}");
    }
    let mut server = Server::new(conns, app, disk, group, held);
    let mut echo = Echo::start(tcp, config::ECHO_PORT);
    let start = time::now();
    ping_gateway(&mut iface, &mut nic, start);
    let mut up = false;
    let mut tlb_at = start;
    loop {
        if time::now() >= tlb_at + TLB_REFRESH {
            tlb_at = time::now();
            mmu::flush_tlb();
        }
        nic.suppress_interrupts();
        // One bounded poll (RX_FRAMES_PER_POLL frames) per turn: under a
        // flood, accepting and serving must still come round.
        let polled = iface.poll_with(time::now(), &mut nic, tcp);
        let now = time::now();
        let us = now.micros();
        while let Some(h) = tcp.accept() {
            if !echo.adopt(tcp, h) {
                server.accept(h, tcp.remote(h), us);
            }
        }
        let mut busy = echo.serve(tcp);
        busy |= server.serve_all(
            &Net {
                tcp: RefCell::new(&mut *tcp),
                iface: iface.counters(),
                nic: &nic,
            },
            us,
        );
        let deadline = server.timers(us);
        if busy {
            // Flush what the app queued; the loop polls again at once.
            iface.poll_with(now, &mut nic, tcp);
        }
        if !up && network_up(&iface, now, start, tcp.capacity()) {
            up = true;
        }
        console_keys(&iface, tcp, &nic);
        if busy || polled {
            continue;
        }
        // Sleep until the next timer of the stack, the TCP connections,
        // the HTTP deadlines (or the "network up" check), unless
        // something arrived while interrupts were suppressed.
        if !nic.enable_interrupts_and_check_idle() {
            continue;
        }
        let mut wake = iface.poll_at(now);
        let mut earliest = |at: Instant| wake = Some(wake.map_or(at, |w: Instant| w.min(at)));
        if let Some(at) = tcp.poll_at(now) {
            earliest(at);
        }
        if let Some(at) = deadline {
            earliest(Instant(at));
        }
        if !up {
            earliest(now + Duration::from_millis(100));
        }
        match wake {
            Some(at) => time::arm(at),
            None => time::disarm(),
        }
        time::sleep();
    }
}

/// The app's journal on the first virtio-blk disk, replayed into `app`;
/// `None` (and the log says why) without one.
fn open_disk<S: Persist>(app: &mut S) -> Option<Disk> {
    match VirtioBlk::init() {
        Ok(Some(blk)) => Disk::open(blk, app),
        Ok(None) => {
            info!("disk: none; running without persistence");
            None
        }
        Err(e) => {
            warn!("virtio-blk: {e:?}; running without persistence");
            None
        }
    }
}

/// The NIC, found and started, and said so on the console.
fn start_nic() -> VirtioNet {
    let nic = match VirtioNet::init() {
        Ok(nic) => nic,
        Err(e) => panic!("virtio-net: {e:?}"),
    };
    let m = nic.mac();
    info!(
        "virtio-net: slot {} ({}), MAC {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, queues {:?}",
        nic.slot(),
        if nic.version() == 2 {
            "modern"
        } else {
            "legacy"
        },
        m[0],
        m[1],
        m[2],
        m[3],
        m[4],
        m[5],
        nic.queue_sizes()
    );
    nic
}

/// Whether the network counts as up (the gateway's MAC is known, there
/// is no gateway, or `GATEWAY_WAIT` passed); says so once it is.
fn network_up(iface: &Interface, now: Instant, start: Instant, slots: usize) -> bool {
    let cfg = iface.config();
    let gw_mac = cfg.gateway.and_then(|gw| iface.arp_lookup(gw, now));
    if gw_mac.is_none() && cfg.gateway.is_some() && now < start + GATEWAY_WAIT {
        return false;
    }
    let (ip, len): (Ipv4Address, u8) = (cfg.ip, cfg.prefix_len);
    match (cfg.gateway, gw_mac) {
        (Some(gw), Some(mac)) => info!(
            "network up: {ip}/{len} via {gw} ({mac}) in {} us",
            (now - start).0
        ),
        (Some(gw), None) => {
            warn!("gateway {gw} did not answer ARP");
            info!("network up: {ip}/{len} via {gw} (unresolved)")
        }
        (None, _) => info!("network up: {ip}/{len}, no gateway"),
    }
    info!("serving HTTP on port {HTTP_PORT} ({slots} connection slots)");
    info!("console: 'c' prints counters, Ctrl-C stops QEMU");
    // From here on, log lines go out once per loop turn.
    console::set_batching(true);
    true
}

/// Acts on the console's keys: `c` prints the counters, Ctrl-C stops.
fn console_keys<const N: usize>(iface: &Interface, tcp: &TcpStack<N>, nic: &VirtioNet) {
    while let Some(b) = uart::get_byte() {
        match b {
            3 => {
                info!("Ctrl-C: stopping");
                arch::semihosting_exit(0);
            }
            b'c' => print_counters(iface, tcp, nic),
            _ => {}
        }
    }
    uart::rearm();
    console::flush();
}

/// Declares the image's app: `bedrock_kernel::app!(Hotels = Hotels::new());`
/// is the whole `main` of a unikernel image (see `src/bin/hotel.rs`). The
/// app lives in a `static`, so its constructor must be `const`.
#[macro_export]
macro_rules! app {
    ($app:ty = $init:expr) => {
        static APP: $crate::global::Global<$app> = $crate::global::Global::new($init);

        /// Where the boot code jumps once the stack is set up.
        #[no_mangle]
        extern "C" fn kernel_start() -> ! {
            $crate::serve::run(&APP)
        }
    };
}
