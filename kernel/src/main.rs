//! The bedrock unikernel image that `make run` boots: brings up the
//! virtio-net NIC and the bedrock-net interface (ARP, IPv4, ICMP echo,
//! TCP), resolves the gateway, then serves the Hotel app over HTTP/1.1 on
//! TCP port 80 (and echoes on `BEDROCK_ECHO_PORT` if built with one),
//! sleeping in WFI between interrupts.
//!
//! Console keys: `c` prints the interface, TCP and driver counters,
//! Ctrl-C stops QEMU (status 0).
#![no_std]
#![no_main]

use bedrock_conn::{Activity, Config as HttpConfig, Conn, LogRecord};
use bedrock_hotel::{Hotels, MAX_BODY_BYTES, MIN_STREAM_BUFFER};
use bedrock_kernel::device::Device;
use bedrock_kernel::echo::Echo;
use bedrock_kernel::global::{Global, NoInit};
use bedrock_kernel::time::{Duration, Instant};
use bedrock_kernel::virtio::VirtioNet;
use bedrock_kernel::{arch, config, console, info, irq, println, time, uart, warn};
use bedrock_net::iface::{Config, Interface};
use bedrock_net::limits::TCP_DEFAULT_BACKLOG;
use bedrock_net::tcp::siphash::siphash24;
use bedrock_net::tcp::{AppPhase, Handle, State, TcpStack};
use bedrock_net::wire::{EthernetAddress, Icmpv4Packet, Icmpv4Repr, Ipv4Address, Protocol};
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU64, Ordering};

/// TCP connection slots, and as many HTTP connections (one per slot).
/// 256 slots: about 8.1 MiB of TCP buffers plus 6.3 MiB of HTTP buffers,
/// all in .bss; the image fits `-m 128M` with room to spare.
const SLOTS: usize = bedrock_net::limits::TCP_MAX_CONNECTIONS;
/// The port the Hotel app is served on.
const HTTP_PORT: u16 = 80;
/// Request heads and pipelined requests.
const HTTP_IN: usize = 16 * 1024;
/// A request body (the app's own limit).
const HTTP_BODY: usize = MAX_BODY_BYTES;
/// One reply body or one streamed piece of it.
const HTTP_OUT: usize = 4096;
const _: () = assert!(HTTP_OUT >= MIN_STREAM_BUFFER + 32);

type HttpConn = Conn<HTTP_IN, HTTP_BODY, HTTP_OUT>;

// Both are zero bytes (the TCP key is set by `reseed`), so they land in
// .bss; the HTTP connections are built on first use, so boot does not
// zero their 6.3 MiB at all.
static TCP: Global<TcpStack<SLOTS>> = Global::new(TcpStack::new([0; 16]));
#[link_section = ".noinit"]
static CONNS: NoInit<[MaybeUninit<HttpConn>; SLOTS]> = NoInit::new();
static HOTELS: Global<Hotels> = Global::new(Hotels::new());

/// The HTTP side of the server: one connection per TCP slot, built the
/// first time the slot is used.
struct Server {
    conns: &'static mut [MaybeUninit<HttpConn>; SLOTS],
    built: [bool; SLOTS],
    /// The TCP connection each slot's HTTP connection serves.
    bound: [Option<Handle>; SLOTS],
    /// The slots with a bound connection, `active[..active_len]`, so the
    /// loop visits the connections there are rather than every slot.
    active: [u16; SLOTS],
    active_len: usize,
    hotels: &'static mut Hotels,
}

/// Requests answered since boot (for the counters' CPU-per-request line).
static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// One access-log line per answered request.
fn log_request(r: &LogRecord<'_>) {
    REQUESTS.fetch_add(1, Ordering::Relaxed);
    info!("{} {} {} {}us", r.method, r.target, r.status, r.micros);
}

impl Server {
    fn conn(&mut self, i: usize) -> &mut HttpConn {
        if !self.built[i] {
            self.conns[i].write(Conn::new(HttpConfig::new(HTTP_BODY)));
            self.built[i] = true;
        }
        // SAFETY: built[i] is set only after conns[i] was written.
        unsafe { self.conns[i].assume_init_mut() }
    }

    fn accept(&mut self, h: Handle, now: u64) {
        let i = h.index();
        self.conn(i).open(now);
        if self.bound[i].replace(h).is_none() {
            self.active[self.active_len] = i as u16;
            self.active_len += 1;
        }
    }

    /// Serves every bound slot (see `serve`); returns whether any moved
    /// bytes. Slots whose connection ended leave the active list.
    fn serve_all<const N: usize>(&mut self, tcp: &mut TcpStack<N>, now: u64) -> bool {
        let mut any = false;
        let mut k = 0;
        while k < self.active_len {
            let i = usize::from(self.active[k]);
            any |= self.serve(tcp, i, now);
            if self.bound[i].is_none() {
                self.active_len -= 1;
                self.active[k] = self.active[self.active_len];
            } else {
                k += 1;
            }
        }
        any
    }

    /// Moves bytes both ways on slot `i` (see [`pump`]), then tells the
    /// stack what the connection is doing, which ranks it for eviction
    /// when the table is full.
    fn serve<const N: usize>(&mut self, tcp: &mut TcpStack<N>, i: usize, now: u64) -> bool {
        let Some(h) = self.bound[i] else {
            return false;
        };
        // Nothing more can arrive in TIME-WAIT: the slot's HTTP side is
        // done, and the TCP side expires on its own.
        if matches!(tcp.state(h), State::Closed | State::TimeWait) {
            self.bound[i] = None;
            return false;
        }
        // Split the borrows: the connection and the app.
        if !self.built[i] {
            return false;
        }
        // SAFETY: built[i] is set only after conns[i] was written.
        let conn = unsafe { self.conns[i].assume_init_mut() };
        let any = pump(tcp, h, conn, &mut *self.hotels, now);
        tcp.set_phase(h, app_phase(conn.activity()));
        any
    }

    /// Runs the deadlines due by `now`; returns the earliest one left.
    fn timers(&mut self, now: u64) -> Option<u64> {
        let mut next: Option<u64> = None;
        for &i in &self.active[..self.active_len] {
            let i = usize::from(i);
            if !self.built[i] {
                continue;
            }
            // SAFETY: built[i] is set only after conns[i] was written.
            let conn = unsafe { self.conns[i].assume_init_mut() };
            if conn.deadline().is_some_and(|at| at <= now) {
                conn.on_timer(now, None, self.hotels, &mut log_request);
            }
            if let Some(at) = conn.deadline() {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
        next
    }
}

/// How much dropping a connection would lose, for the stack's eviction:
/// idle and finished ones nothing, one whose request is still arriving
/// little (the oldest is the slowest), one being answered a reply.
fn app_phase(activity: Activity) -> AppPhase {
    match activity {
        Activity::Idle | Activity::Closed => AppPhase::Idle,
        Activity::Arriving => AppPhase::Head,
        Activity::Answering => AppPhase::Busy,
    }
}

/// Moves bytes both ways on `h` until neither moves; returns whether any
/// did. `now` (taken after the poll that brought the bytes) stamps their
/// arrival; `process` reads the clock afresh, so the logged microseconds
/// cover parsing and the app.
fn pump<const N: usize>(
    tcp: &mut TcpStack<N>,
    h: Handle,
    conn: &mut HttpConn,
    hotels: &mut Hotels,
    now: u64,
) -> bool {
    let mut any = false;
    loop {
        let mut progress = false;
        if conn.wants_close() {
            // Closed on our side: drain what still arrives so the
            // window stays open until the FIN exchange ends (the stack
            // bounds this lingering close: TCP_LINGER_SILENCE/_TOTAL,
            // TCP_FIN_WAIT_2_TIMEOUT).
            loop {
                let n = tcp.peek(h).len();
                if n == 0 || tcp.consume(h, n) == 0 {
                    break;
                }
            }
            tcp.close(h);
            return any;
        }
        loop {
            let data = tcp.peek(h);
            if data.is_empty() {
                break;
            }
            let n = conn.receive(now, data);
            if n == 0 {
                break;
            }
            tcp.consume(h, n);
            progress = true;
        }
        let waiting = matches!(conn.activity(), Activity::Idle | Activity::Arriving)
            && conn.output().is_empty();
        if !tcp.may_recv(h) {
            conn.peer_closed();
        } else if waiting && !progress {
            // Nothing new for a connection waiting for input: parsing its
            // partial head again would find the same (with 256 slow
            // clients, that was most of each loop turn).
            return any;
        }
        conn.process(time::now().micros(), None, hotels, &mut log_request);
        loop {
            let out = conn.output();
            if out.is_empty() {
                break;
            }
            let n = tcp.send(h, out);
            if n == 0 {
                break;
            }
            conn.sent(now, n);
            progress = true;
            conn.process(time::now().micros(), None, hotels, &mut log_request);
        }
        if conn.wants_close() {
            progress = true;
        }
        if !progress {
            return any;
        }
        any = true;
    }
}
/// An ISN key for RFC 6528: there is no entropy source, so the counter
/// at a few boot events (their jitter under QEMU) and the MAC, hashed.
fn isn_key(mac: [u8; 6], t: u64) -> [u8; 16] {
    let mut seed = [0u8; 16];
    seed[..8].copy_from_slice(&time::ticks().to_le_bytes());
    seed[8..].copy_from_slice(&t.to_le_bytes());
    let mut key = [0u8; 16];
    let mut data = [0u8; 14];
    data[..6].copy_from_slice(&mac);
    data[6..].copy_from_slice(&time::ticks().to_le_bytes());
    key[..8].copy_from_slice(&siphash24(&seed, &data).to_le_bytes());
    data[0] ^= 0x5a;
    key[8..].copy_from_slice(&siphash24(&seed, &data).to_le_bytes());
    key
}

/// How often the loop flushes the TLB (see `mmu::flush_tlb`): QEMU sizes
/// its emulated TLB at each flush, and the 256-entry default thrashes over
/// 256 connections' pages (keep-alive c=16 over tap: 54-59k req/s without,
/// 61-63k with; a flush costs a few hundred refills every 100 ms).
const TLB_REFRESH: Duration = Duration::from_millis(100);

/// How long the boot waits for the gateway's ARP reply before declaring
/// the network up without it.
const GATEWAY_WAIT: Duration = Duration::from_secs(3);

fn interface_config(mac: [u8; 6]) -> Config {
    let mut c = Config::new(EthernetAddress(mac));
    if let Some(([a, b, cc, d], len)) = config::IP {
        c.ip = Ipv4Address::new(a, b, cc, d);
        c.prefix_len = len;
    }
    if let Some([a, b, cc, d]) = config::GATEWAY {
        c.gateway = Some(Ipv4Address::new(a, b, cc, d));
    }
    c
}

/// One echo request to the gateway: it makes the stack resolve the
/// gateway's MAC, which is what "network up" waits for.
fn ping_gateway(iface: &mut Interface, nic: &mut VirtioNet, now: Instant) {
    let Some(gw) = iface.config().gateway else {
        return;
    };
    let ping = Icmpv4Repr::EchoRequest {
        ident: 0xbed0,
        seq_no: 1,
        data: b"bedrock boot",
    };
    let _ = iface.send_ipv4(now, nic, gw, Protocol::Icmp, ping.buffer_len(), |b| {
        ping.emit(&mut Icmpv4Packet::new_unchecked(b))
    });
}

fn print_counters<const N: usize>(iface: &Interface, tcp: &TcpStack<N>, nic: &VirtioNet) {
    println!("--- bedrock-net counters");
    println!("{}", iface.counters());
    println!(
        "--- tcp: {} of {} slots in use",
        tcp.active(),
        tcp.capacity()
    );
    for (name, v) in tcp.counters().iter().filter(|(_, v)| *v != 0) {
        println!("    {name} {v}");
    }
    let s = nic.stats();
    println!(
        "--- virtio-net: rx {} tx {} rx_bad {} tx_full {} doorbells {}",
        s.rx_frames, s.tx_frames, s.rx_bad, s.tx_full, s.notifies
    );
    println!(
        "--- interrupts: timer {} virtio {} uart {} other {}",
        irq::TIMER_IRQS.load(Ordering::Relaxed),
        irq::VIRTIO_IRQS.load(Ordering::Relaxed),
        irq::UART_IRQS.load(Ordering::Relaxed),
        irq::OTHER_IRQS.load(Ordering::Relaxed)
    );
    let up = time::now().micros();
    let busy = up.saturating_sub(time::idle().0);
    let requests = REQUESTS.load(Ordering::Relaxed);
    println!(
        "--- cpu: up {up} us, busy {busy} us, requests {requests}, busy per request {} us",
        busy.checked_div(requests).unwrap_or(0)
    );
}

#[no_mangle]
extern "C" fn kernel_start() -> ! {
    bedrock_kernel::init(false);
    info!("MMU and caches on, GIC and timer ready");
    let mut nic = match VirtioNet::init() {
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
    let boot_ticks = time::ticks();
    let mut iface = Interface::new(interface_config(nic.mac()));
    let cfg = *iface.config();
    // SAFETY: the only call of CONNS.take.
    let conns = unsafe { CONNS.take() };
    // SAFETY: an array of `MaybeUninit` is valid uninitialised.
    let conns = unsafe { conns.assume_init_mut() };
    let (Some(tcp), Some(hotels)) = (TCP.take(), HOTELS.take()) else {
        panic!("statics taken twice");
    };
    tcp.reseed(isn_key(nic.mac(), boot_ticks));
    if let Err(e) = tcp.listen(HTTP_PORT, TCP_DEFAULT_BACKLOG) {
        panic!("listen on port {HTTP_PORT}: {e:?}");
    }
    let mut server = Server {
        conns,
        built: [false; SLOTS],
        bound: [None; SLOTS],
        active: [0; SLOTS],
        active_len: 0,
        hotels,
    };
    let mut echo = Echo::start(tcp, config::ECHO_PORT);
    let start = time::now();
    ping_gateway(&mut iface, &mut nic, start);
    let mut up = false;
    let mut tlb_at = start;
    loop {
        if time::now() >= tlb_at + TLB_REFRESH {
            tlb_at = time::now();
            bedrock_kernel::mmu::flush_tlb();
        }
        nic.suppress_interrupts();
        // One bounded poll (RX_FRAMES_PER_POLL frames) per turn: under a
        // flood, accepting and serving must still come round.
        let polled = iface.poll_with(time::now(), &mut nic, tcp);
        let now = time::now();
        let us = now.micros();
        while let Some(h) = tcp.accept() {
            if !echo.adopt(tcp, h) {
                server.accept(h, us);
            }
        }
        let mut busy = echo.serve(tcp);
        busy |= server.serve_all(tcp, us);
        let deadline = server.timers(us);
        if busy {
            // Flush what the app queued; the loop polls again at once.
            iface.poll_with(now, &mut nic, tcp);
        }
        if !up {
            let gw_mac = cfg.gateway.and_then(|gw| iface.arp_lookup(gw, now));
            if gw_mac.is_some() || cfg.gateway.is_none() || now >= start + GATEWAY_WAIT {
                up = true;
                match (cfg.gateway, gw_mac) {
                    (Some(gw), Some(mac)) => info!(
                        "network up: {}/{} via {} ({}) in {} us",
                        cfg.ip,
                        cfg.prefix_len,
                        gw,
                        mac,
                        (now - start).0
                    ),
                    (Some(gw), None) => {
                        warn!("gateway {gw} did not answer ARP");
                        info!(
                            "network up: {}/{} via {gw} (unresolved)",
                            cfg.ip, cfg.prefix_len
                        )
                    }
                    (None, _) => info!("network up: {}/{}, no gateway", cfg.ip, cfg.prefix_len),
                }
                info!(
                    "serving HTTP on port {HTTP_PORT} ({} connection slots)",
                    tcp.capacity()
                );
                info!("console: 'c' prints counters, Ctrl-C stops QEMU");
                // From here on, log lines go out once per loop turn.
                console::set_batching(true);
            }
        }
        while let Some(b) = uart::get_byte() {
            match b {
                3 => {
                    info!("Ctrl-C: stopping");
                    arch::semihosting_exit(0);
                }
                b'c' => print_counters(&iface, tcp, &nic),
                _ => {}
            }
        }
        uart::rearm();
        console::flush();
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
