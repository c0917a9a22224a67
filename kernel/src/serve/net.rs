//! Bringing the network up and reporting on it: the ISN key, the
//! interface's address from the build, the gateway ping that resolves its
//! MAC, and the counters the console's `c` key prints.

use bedrock_net::iface::{Config, Interface};
use bedrock_net::tcp::siphash::siphash24;
use bedrock_net::tcp::TcpStack;
use bedrock_net::wire::{EthernetAddress, Icmpv4Packet, Icmpv4Repr, Ipv4Address, Protocol};
use core::sync::atomic::Ordering;

use super::http::REQUESTS;
use crate::device::Device;
use crate::time::{Duration, Instant};
use crate::virtio::VirtioNet;
use crate::{config, irq, println, time};

/// An ISN key for RFC 6528: there is no entropy source, so the counter
/// at a few boot events (their jitter under QEMU) and the MAC, hashed.
pub fn isn_key(mac: [u8; 6], t: u64) -> [u8; 16] {
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

/// How long the boot waits for the gateway's ARP reply before declaring
/// the network up without it.
pub const GATEWAY_WAIT: Duration = Duration::from_secs(3);

pub fn interface_config(mac: [u8; 6]) -> Config {
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
pub fn ping_gateway(iface: &mut Interface, nic: &mut VirtioNet, now: Instant) {
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

pub fn print_counters<const N: usize>(iface: &Interface, tcp: &TcpStack<N>, nic: &VirtioNet) {
    println!("--- bedrock-net counters");
    println!("{}", iface.counters());
    println!(
        "--- tcp: {} of {} slots in use, {} in TIME-WAIT",
        tcp.active(),
        tcp.capacity(),
        tcp.time_wait_slots()
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
    // After the cpu line: tests/lib's counters block ends with that.
    let (csum_tx, csum_rx) = nic.checksum_offloads();
    let yes = |on: bool| if on { "on" } else { "off" };
    println!(
        "--- virtio-net offloads: tx checksum {}, rx checksum {}, tso {} ({} frames), \
         rx merged {} ({} frames, {} bounced), tx_bad {}",
        yes(csum_tx),
        yes(csum_rx),
        yes(nic.tcp_segmentation().is_some()),
        s.tx_tso_frames,
        yes(nic.merges_rx()),
        s.rx_merged,
        s.rx_bounced,
        s.tx_bad
    );
}
