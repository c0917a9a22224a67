//! The bedrock unikernel image that `make run` boots: brings up the
//! virtio-net NIC and the bedrock-net interface (ARP, IPv4, ICMP echo),
//! resolves the gateway, then sleeps in WFI between interrupts.
//!
//! Console keys: `c` prints the interface and driver counters, Ctrl-C
//! stops QEMU (status 0).
#![no_std]
#![no_main]

use bedrock_kernel::device::Device;
use bedrock_kernel::time::{Duration, Instant};
use bedrock_kernel::virtio::VirtioNet;
use bedrock_kernel::{arch, config, info, irq, println, time, uart, warn};
use bedrock_net::iface::{Config, Interface};
use bedrock_net::wire::{EthernetAddress, Icmpv4Packet, Icmpv4Repr, Ipv4Address, Protocol};
use core::sync::atomic::Ordering;

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

fn print_counters(iface: &Interface, nic: &VirtioNet) {
    println!("--- bedrock-net counters");
    println!("{}", iface.counters());
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
    let mut iface = Interface::new(interface_config(nic.mac()));
    let cfg = *iface.config();
    let start = time::now();
    ping_gateway(&mut iface, &mut nic, start);
    let mut up = false;
    loop {
        nic.suppress_interrupts();
        while iface.poll(time::now(), &mut nic) {}
        let now = time::now();
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
                info!("HTTP is not served yet (issue 5): the stack answers ARP and ping only");
                info!("console: 'c' prints counters, Ctrl-C stops QEMU");
            }
        }
        while let Some(b) = uart::get_byte() {
            match b {
                3 => {
                    info!("Ctrl-C: stopping");
                    arch::semihosting_exit(0);
                }
                b'c' => print_counters(&iface, &nic),
                _ => {}
            }
        }
        uart::rearm();
        // Sleep until the stack's next timer (or the "network up" check),
        // unless something arrived while interrupts were suppressed.
        if !nic.enable_interrupts_and_check_idle() {
            continue;
        }
        let mut wake = iface.poll_at(now);
        if !up {
            let check = now + Duration::from_millis(100);
            wake = Some(wake.map_or(check, |w| w.min(check)));
        }
        match wake {
            Some(at) => time::arm(at),
            None => time::disarm(),
        }
        arch::wait_for_interrupt();
    }
}
