//! The in-QEMU test runner: boots the same kernel, runs each test below,
//! reports it on the UART, and exits QEMU through semihosting with status
//! 33 when all passed (1 for a panic or a fatal exception, 34 when a test
//! failed). A silent hang is caught by the host-side timeout.
//!
//! Run by tests/kernel/ktest.sh under both virtio transports.
#![no_std]
#![no_main]

use bedrock_kernel::device::Device;
use bedrock_kernel::time::{Duration, Instant};
use bedrock_kernel::virtio::VirtioNet;
use bedrock_kernel::{arch, console, exceptions, irq, mmu, println, time, virtio};
use core::sync::atomic::{AtomicU64, Ordering};

/// Exit status when every test passed.
const PASS_EXIT: u32 = 33;
/// Exit status when at least one test failed.
const FAIL_EXIT: u32 = 34;

type TestResult = Result<(), &'static str>;
type Test = fn(&mut Ctx) -> TestResult;

struct Ctx {
    nic: Option<VirtioNet>,
}

macro_rules! check {
    ($cond:expr, $msg:expr) => {
        if !$cond {
            return Err($msg);
        }
    };
}

fn clock_advances(_: &mut Ctx) -> TestResult {
    check!(
        time::frequency() >= 1_000_000,
        "counter frequency below 1 MHz"
    );
    let a = time::now();
    time::spin(Duration(2000));
    let b = time::now();
    check!(b >= a + Duration(2000), "2 ms spin shorter than 2 ms");
    let mut last = time::now();
    for _ in 0..10_000 {
        let t = time::now();
        check!(t >= last, "clock went backwards");
        last = t;
    }
    println!(
        "    CNTFRQ {} Hz, 2 ms spin measured {} us",
        time::frequency(),
        (b - a).0
    );
    Ok(())
}

fn timer_interrupt_wakes_wfi(_: &mut Ctx) -> TestResult {
    for delay_us in [1000u64, 5000] {
        let before = irq::TIMER_IRQS.load(Ordering::Relaxed);
        let deadline = time::now() + Duration(delay_us);
        time::arm(deadline);
        let mut wakes = 0;
        while irq::TIMER_IRQS.load(Ordering::Relaxed) == before {
            arch::wait_for_interrupt();
            wakes += 1;
            check!(wakes < 1000, "timer interrupt never arrived");
        }
        let woke = time::now();
        check!(woke >= deadline, "woke before the deadline");
        check!(
            woke < deadline + Duration(500_000),
            "woke more than 500 ms late"
        );
        println!(
            "    {} us timer: woke {} us after the deadline",
            delay_us,
            (woke - deadline).0
        );
    }
    Ok(())
}

fn mmu_identity_map_and_attributes(_: &mut Ctx) -> TestResult {
    check!(mmu::enabled(), "SCTLR_EL1.M is clear");
    check!(mmu::caches_enabled(), "caches are off");
    // RAM: identity, normal write-back.
    static PROBE: [AtomicU64; 64] = [const { AtomicU64::new(0) }; 64];
    let p = PROBE.as_ptr() as usize;
    let par = arch::translate_read(p);
    check!(par & 1 == 0, "RAM translation faulted");
    check!(
        par & 0x0000_ffff_ffff_f000 == (p as u64) & !0xfff,
        "RAM not identity-mapped"
    );
    check!(
        par >> 56 == mmu::ATTR_NORMAL,
        "RAM is not normal write-back memory"
    );
    for (i, w) in PROBE.iter().enumerate() {
        w.store(0x5a5a_0000 + i as u64, Ordering::Relaxed);
    }
    for (i, w) in PROBE.iter().enumerate() {
        check!(
            w.load(Ordering::Relaxed) == 0x5a5a_0000 + i as u64,
            "RAM read-back mismatch"
        );
    }
    // The top of mapped RAM is mapped; just past it is not.
    let top = mmu::RAM_BASE + mmu::RAM_SIZE;
    check!(
        arch::translate_read(top - 8) & 1 == 0,
        "last RAM page unmapped"
    );
    check!(
        arch::translate_read(top) & 1 == 1,
        "memory past RAM is mapped"
    );
    // MMIO: identity, Device-nGnRE.
    for dev in [0x0800_0000usize, 0x0801_0000, 0x0900_0000, 0x0a00_3e00] {
        let par = arch::translate_read(dev);
        check!(par & 1 == 0, "MMIO translation faulted");
        check!(
            par & 0x0000_ffff_ffff_f000 == (dev as u64) & !0xfff,
            "MMIO not identity"
        );
        check!(par >> 56 == mmu::ATTR_DEVICE, "MMIO is not Device-nGnRE");
    }
    check!(arch::translate_read(0) & 1 == 1, "address 0 is mapped");
    Ok(())
}

fn exception_vectors_report_brk(_: &mut Ctx) -> TestResult {
    exceptions::expect_brk();
    // SAFETY: the handler, told to expect it, records the BRK and resumes
    // at the next instruction; no register or memory is changed.
    unsafe { core::arch::asm!("brk #0x42") };
    let esr = exceptions::end_expected_trap().unwrap_or(0);
    check!(esr >> 26 == 0x3c, "BRK not reported with class 0x3c");
    check!(esr & 0xffff == 0x42, "BRK immediate not in ISS");
    println!(
        "    ESR 0x{esr:08x}: {}",
        exceptions::exception_class_name(esr >> 26)
    );
    Ok(())
}

fn console_lines_go_through_semihosting(_: &mut Ctx) -> TestResult {
    // The runner's QEMU routes semihosting to the serial chardev, so the
    // probe must find it (boot_metrics checks the UART path without it).
    check!(console::semihosting(), "semihosting console not detected");
    // The probe is repeatable and leaves no trap window open.
    check!(arch::semihosting_console().is_some(), "second probe failed");
    check!(
        exceptions::end_expected_trap().is_none(),
        "a trap was recorded"
    );
    Ok(())
}

fn virtio_probe_finds_nic(ctx: &mut Ctx) -> TestResult {
    let mut nets = 0;
    let mut slots = 0;
    virtio::probe(|s| {
        slots += 1;
        if s.device_id == 1 {
            nets += 1;
            println!(
                "    slot {} (0x{:08x}, INTID {}): virtio-net, transport version {}",
                s.slot,
                virtio::MMIO_BASE + s.slot * virtio::MMIO_STRIDE,
                virtio::FIRST_INTID + s.slot as u32,
                s.version
            );
        }
    });
    check!(nets == 1, "expected exactly one virtio-net device");
    let nic = VirtioNet::init().map_err(|_| "virtio-net init failed")?;
    let mac = nic.mac();
    let kind = if nic.version() == 2 {
        "modern"
    } else {
        "legacy"
    };
    println!(
        "    transport: {kind} (version {}), features 0x{:x}, header {} bytes, queues {:?}",
        nic.version(),
        nic.features(),
        nic.header_len(),
        nic.queue_sizes()
    );
    println!(
        "    MAC {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]
    );
    check!(nic.status() & 0x80 == 0, "device status FAILED");
    check!(nic.status() & 0x04 != 0, "DRIVER_OK not set");
    check!(
        nic.features() & virtio::net::F_MAC != 0,
        "MAC feature not negotiated"
    );
    if nic.version() == 2 {
        check!(
            nic.features() & virtio::F_VERSION_1 != 0,
            "VERSION_1 not negotiated"
        );
        check!(nic.header_len() == 12, "modern header must be 12 bytes");
    } else {
        check!(nic.header_len() == 10, "legacy header must be 10 bytes");
    }
    check!(
        mac == [0x52, 0x54, 0x00, 0x12, 0x34, 0x56],
        "not QEMU's default MAC"
    );
    check!(
        matches!(VirtioNet::init(), Err(virtio::Error::AlreadyTaken)),
        "a second driver instance was allowed"
    );
    ctx.nic = Some(nic);
    Ok(())
}

/// Builds an ARP request "who has `target`? tell `sender`".
fn arp_request(buf: &mut [u8], mac: [u8; 6], sender: [u8; 4], target: [u8; 4]) {
    buf[0..6].fill(0xff);
    buf[6..12].copy_from_slice(&mac);
    buf[12..14].copy_from_slice(&[0x08, 0x06]);
    buf[14..22].copy_from_slice(&[0, 1, 0x08, 0x00, 6, 4, 0, 1]);
    buf[22..28].copy_from_slice(&mac);
    buf[28..32].copy_from_slice(&sender);
    buf[32..38].fill(0);
    buf[38..42].copy_from_slice(&target);
    buf[42..].fill(0); // padding to the 60-byte minimum
}

fn arp_round_trip_via_slirp(ctx: &mut Ctx) -> TestResult {
    let nic = ctx.nic.as_mut().ok_or("no NIC (probe test failed)")?;
    let mac = nic.mac();
    let gw = [10, 0, 2, 2];
    let irqs_before = irq::VIRTIO_IRQS.load(Ordering::Relaxed);
    let sent_at = time::now();
    nic.transmit(60, |b| arp_request(b, mac, [10, 0, 2, 15], gw))
        .ok_or("no TX buffer")?;
    let deadline = sent_at + Duration::from_secs(2);
    loop {
        let reply = nic.receive(|f| {
            f.len() >= 42
                && f[12..14] == [0x08, 0x06]
                && f[20..22] == [0, 2]
                && f[28..32] == gw
                && f[0..6] == mac
                && f[32..38] == mac
        });
        match reply {
            Some(true) => break,
            Some(false) => continue,
            None => {}
        }
        check!(
            time::now() < deadline,
            "no ARP reply from 10.0.2.2 within 2 s"
        );
        if nic.enable_interrupts_and_check_idle() {
            time::arm(deadline);
            arch::wait_for_interrupt();
        }
    }
    let rtt = time::now() - sent_at;
    // The reply may have been there before the first sleep (slirp answers
    // at once): its interrupt is then pending, masked; take it now.
    arch::take_pending_interrupts();
    let irqs = irq::VIRTIO_IRQS.load(Ordering::Relaxed) - irqs_before;
    println!(
        "    ARP reply from 10.0.2.2 after {} us, {} virtio interrupt(s)",
        rtt.0, irqs
    );
    check!(irqs > 0, "the reply arrived without a virtio interrupt");
    // Many frames through the rings (wrap-around of a 256-entry queue).
    let stats_before = nic.stats();
    let mut replies = 0;
    for _ in 0..600 {
        while nic
            .transmit(60, |b| arp_request(b, mac, [10, 0, 2, 15], gw))
            .is_none()
        {
            arch::take_pending_interrupts();
        }
        let until = time::now() + Duration::from_secs(2);
        loop {
            if let Some(ok) = nic.receive(|f| f.len() >= 42 && f[28..32] == gw) {
                if ok {
                    replies += 1;
                    break;
                }
                continue;
            }
            check!(time::now() < until, "an ARP reply went missing");
            if nic.enable_interrupts_and_check_idle() {
                time::arm(until);
                arch::wait_for_interrupt();
            }
        }
    }
    let s = nic.stats();
    println!(
        "    600 more ARP round trips: {} replies, {} frames out, {} in, {} doorbells",
        replies,
        s.tx_frames - stats_before.tx_frames,
        s.rx_frames - stats_before.rx_frames,
        s.notifies - stats_before.notifies
    );
    check!(s.rx_bad == 0, "driver saw malformed used entries");
    Ok(())
}

fn oversized_transmit_refused(ctx: &mut Ctx) -> TestResult {
    let nic = ctx.nic.as_mut().ok_or("no NIC")?;
    check!(
        nic.capabilities().max_frame_len == 1514,
        "max frame not 1514"
    );
    check!(
        nic.transmit(1515, |_| ()).is_none(),
        "1515-byte frame accepted"
    );
    check!(
        nic.transmit(1514, |b| b.fill(0xff)).is_some(),
        "1514-byte frame refused"
    );
    Ok(())
}

fn stack_resolves_gateway_and_gets_echo_reply(ctx: &mut Ctx) -> TestResult {
    use bedrock_net::iface::{Config, Interface};
    use bedrock_net::wire::{EthernetAddress, Icmpv4Packet, Icmpv4Repr, Ipv4Address, Protocol};
    let nic = ctx.nic.as_mut().ok_or("no NIC")?;
    let mut iface = Interface::new(Config::new(EthernetAddress(nic.mac())));
    let gw = Ipv4Address::new(10, 0, 2, 2);
    let start = time::now();
    let ping = Icmpv4Repr::EchoRequest {
        ident: 0x7e57,
        seq_no: 1,
        data: b"ktest",
    };
    iface
        .send_ipv4(start, nic, gw, Protocol::Icmp, ping.buffer_len(), |b| {
            ping.emit(&mut Icmpv4Packet::new_unchecked(b))
        })
        .map_err(|_| "send_ipv4 to the gateway failed")?;
    let deadline = start + Duration::from_secs(3);
    // The echo reply is the only ICMP message slirp sends us: the stack
    // counts it as ignored (it answers requests, it does not ping).
    while iface.counters().icmp_ignored == 0 {
        nic.suppress_interrupts();
        while iface.poll(time::now(), nic) {}
        let now = time::now();
        check!(now < deadline, "no echo reply from 10.0.2.2 within 3 s");
        if iface.counters().icmp_ignored == 0 && nic.enable_interrupts_and_check_idle() {
            time::arm(iface.poll_at(now).unwrap_or(deadline).min(deadline));
            arch::wait_for_interrupt();
        }
    }
    let mac = iface
        .arp_lookup(gw, time::now())
        .ok_or("gateway MAC not learned")?;
    println!(
        "    gateway {gw} is at {mac}; echo reply after {} us",
        (time::now() - start).0
    );
    let c = iface.counters();
    check!(
        c.drop_bad_checksum == 0 && c.drop_malformed == 0,
        "stack dropped bad frames"
    );
    check!(c.arp_requests_sent >= 1, "no ARP request counted");
    Ok(())
}

/// After traffic stops, the driver must let the CPU sleep: no pending work
/// reported (a transmit completion left unreclaimed once made the idle
/// loop spin), and a 20 ms sleep ends by the timer, not by the NIC.
fn nic_settles_idle(ctx: &mut Ctx) -> TestResult {
    let nic = ctx.nic.as_mut().ok_or("no NIC")?;
    time::spin(Duration::from_millis(5));
    arch::take_pending_interrupts();
    while nic.receive(|_| ()).is_some() {}
    check!(
        nic.enable_interrupts_and_check_idle(),
        "driver reports work when the link is quiet"
    );
    let timer_before = irq::TIMER_IRQS.load(Ordering::Relaxed);
    let virtio_before = irq::VIRTIO_IRQS.load(Ordering::Relaxed);
    let start = time::now();
    time::arm(start + Duration::from_millis(20));
    let mut wakes = 0;
    while irq::TIMER_IRQS.load(Ordering::Relaxed) == timer_before {
        arch::wait_for_interrupt();
        wakes += 1;
        check!(wakes < 100, "WFI keeps waking without the timer");
    }
    println!(
        "    slept {} us with {} wake-up(s)",
        (time::now() - start).0,
        wakes
    );
    check!(wakes == 1, "woken before the timer");
    check!(
        irq::VIRTIO_IRQS.load(Ordering::Relaxed) == virtio_before,
        "NIC interrupt while idle"
    );
    Ok(())
}

/// The kernel's memcpy (mem.rs) against a byte-by-byte copy, every
/// alignment of both ends and lengths around each of its paths.
fn memcpy_copies_every_alignment(_: &mut Ctx) -> TestResult {
    match bedrock_kernel::mem::check_memcpy() {
        Ok(()) => Ok(()),
        Err((s, d, n)) => {
            println!("    memcpy of {n} bytes, source +{s}, destination +{d}: wrong");
            Err("memcpy copied wrong bytes or outside its range")
        }
    }
}

const TESTS: &[(&str, Test)] = &[
    (
        "memcpy_copies_every_alignment",
        memcpy_copies_every_alignment,
    ),
    ("clock_advances", clock_advances),
    ("timer_interrupt_wakes_wfi", timer_interrupt_wakes_wfi),
    (
        "mmu_identity_map_and_attributes",
        mmu_identity_map_and_attributes,
    ),
    ("exception_vectors_report_brk", exception_vectors_report_brk),
    (
        "console_lines_go_through_semihosting",
        console_lines_go_through_semihosting,
    ),
    ("virtio_probe_finds_nic", virtio_probe_finds_nic),
    ("arp_round_trip_via_slirp", arp_round_trip_via_slirp),
    ("oversized_transmit_refused", oversized_transmit_refused),
    (
        "stack_resolves_gateway_and_gets_echo_reply",
        stack_resolves_gateway_and_gets_echo_reply,
    ),
    ("nic_settles_idle", nic_settles_idle),
    (
        "virtio_blk_reads_what_it_wrote",
        virtio_blk_reads_what_it_wrote,
    ),
];

/// The test disk ktest.sh attaches: 1 MiB, zeros.
const TEST_DISK_SECTORS: u64 = 2048;

/// The virtio-blk driver on this transport: capacity, a write of two
/// sectors with several requests in flight, a flush, the bytes read back,
/// and requests at and past the end of the disk.
fn virtio_blk_reads_what_it_wrote(_: &mut Ctx) -> TestResult {
    use bedrock_kernel::virtio::blk::{BlkError, VirtioBlk};
    let mut blk = VirtioBlk::init()
        .map_err(|_| "virtio-blk init failed")?
        .ok_or("no virtio-blk device (ktest.sh attaches one)")?;
    println!(
        "    disk: {} sectors of 512, block size {}, flush {}",
        blk.capacity(),
        blk.block_size(),
        blk.can_flush()
    );
    check!(
        blk.capacity() == TEST_DISK_SECTORS,
        "capacity is not the test disk's 1 MiB"
    );
    check!(blk.can_flush(), "VIRTIO_BLK_F_FLUSH not negotiated");
    let mut a = [0u8; 512];
    let mut b = [0u8; 512];
    for (i, (x, y)) in a.iter_mut().zip(b.iter_mut()).enumerate() {
        *x = i as u8;
        *y = !(i as u8);
    }
    let last = TEST_DISK_SECTORS - 1;
    let ta = blk.write_start(7, &a).map_err(|_| "write start")?;
    let tb = blk
        .write_start(last, &b)
        .map_err(|_| "write start (last sector)")?;
    check!(
        blk.wait(ta).is_ok() && blk.wait(tb).is_ok(),
        "a write failed"
    );
    let tf = blk.flush_start().map_err(|_| "flush start")?;
    check!(blk.wait(tf).is_ok(), "flush failed");
    let mut got = [0u8; 512];
    blk.read(7, &mut got).map_err(|_| "read failed")?;
    check!(got == a, "sector 7 did not read back as written");
    blk.read(last, &mut got)
        .map_err(|_| "read of the last sector failed")?;
    check!(got == b, "the last sector did not read back as written");
    check!(
        blk.write_start(TEST_DISK_SECTORS, &a) == Err(BlkError::OutOfRange),
        "a write past the end was not refused"
    );
    check!(
        blk.write_start(0, &a[..100]) == Err(BlkError::OutOfRange),
        "a write of part of a sector was not refused"
    );
    let s = blk.stats();
    check!(
        s.errors == 0 && s.writes == 2 && s.flushes == 1,
        "unexpected driver counters"
    );
    Ok(())
}

/// `-append crash=...` makes the runner crash on purpose, so the host side
/// can check that a panic or a fault is reported and exits with failure.
fn crash_on_request() {
    let mut buf = [0u8; 128];
    let Some(cmdline) = arch::semihosting_cmdline(&mut buf) else {
        return;
    };
    for word in cmdline.split(' ') {
        match word {
            "crash=panic" => panic!("deliberate panic (crash=panic)"),
            "crash=null" => {
                println!("ktest: reading address 0 (crash=null)");
                // SAFETY: deliberately unsound: address 0 is unmapped and
                // the read must fault; the exception handler never returns.
                let v = unsafe { core::ptr::read_volatile(core::ptr::null::<u64>()) };
                println!("ktest: read {v} from address 0: no fault!");
            }
            "crash=udf" => {
                println!("ktest: executing an undefined instruction (crash=udf)");
                // SAFETY: deliberately faults; the handler never returns.
                unsafe { core::arch::asm!("udf #7") };
            }
            _ => {}
        }
    }
}

#[no_mangle]
extern "C" fn kernel_start() -> ! {
    let mmu = bedrock_kernel::init(true).unwrap_or(bedrock_kernel::MmuEffect {
        loop_ticks_mmu_off: 0,
        loop_ticks_mmu_on: 0,
    });
    crash_on_request();
    println!("ktest: bedrock kernel test runner, {} tests", TESTS.len());
    println!(
        "ktest: memory loop {} us with MMU/caches off, {} us on",
        bedrock_kernel::ticks_to_micros(mmu.loop_ticks_mmu_off),
        bedrock_kernel::ticks_to_micros(mmu.loop_ticks_mmu_on)
    );
    let mut ctx = Ctx { nic: None };
    let mut failed = 0;
    let start: Instant = time::now();
    for (name, test) in TESTS {
        println!("test {name} ...");
        match test(&mut ctx) {
            Ok(()) => println!("test {name} ... ok"),
            Err(why) => {
                failed += 1;
                println!("test {name} ... FAILED: {why}");
            }
        }
    }
    println!(
        "ktest: {} passed, {} failed in {} ms",
        TESTS.len() - failed,
        failed,
        (time::now() - start).0 / 1000
    );
    arch::semihosting_exit(if failed == 0 { PASS_EXIT } else { FAIL_EXIT })
}
