//! Two stacks across the simulated link, each end behind a seeded
//! [`FaultInjector`]: the client (the minimal active open) and the
//! server (a listener) move 1 MiB each way at once, then both close.
//! The data must arrive byte-exact within a bounded simulated time, with
//! SACK on both ends (the default) and with it off (NewReno), and with
//! RFC 7323 (window scaling, timestamps) on (the default) and off.

use super::offload::{SoftTso, SOFT_TSO_FRAME};
use super::*;
use crate::phy::{FaultConfig, FaultInjector, XorShift};

/// Simulated time allowed for one run.
const SIM_LIMIT: Duration = Duration::from_secs(300);
/// Clock step while frames are in flight or work is due.
const STEP: Duration = Duration(100);
/// Longest clock jump while idle.
const MAX_JUMP: Duration = Duration::from_millis(5);
const MIB: usize = 1 << 20;

type Stack<const RX: usize = BUF_LEN, const TX: usize = BUF_LEN> = TcpStack<2, RX, TX>;
/// Buffers of the simulated stacks: the server's 16 KiB, in a `bulk`
/// build too (which changes the default).
const BUF_LEN: usize = 16 * 1024;

fn data(n: usize, seed: u32) -> Vec<u8> {
    let mut rng = XorShift::new(seed);
    (0..n).map(|_| rng.next_u32() as u8).collect()
}

/// One side: what it sends and what it got.
struct App {
    handle: Option<Handle>,
    out: Vec<u8>,
    sent: usize,
    got: Vec<u8>,
    closed: bool,
}

impl App {
    fn new(out: Vec<u8>) -> App {
        App {
            handle: None,
            out,
            sent: 0,
            got: Vec::new(),
            closed: false,
        }
    }

    /// Reads everything waiting, writes what fits, closes when done.
    fn serve<const RX: usize, const TX: usize>(&mut self, stack: &mut Stack<RX, TX>) {
        let Some(h) = self.handle else { return };
        let mut buf = [0u8; 4096];
        loop {
            let n = stack.recv(h, &mut buf);
            if n == 0 {
                break;
            }
            self.got.extend_from_slice(&buf[..n]);
        }
        if self.sent < self.out.len() {
            self.sent += stack.send(h, &self.out[self.sent..]);
        } else if !self.closed && stack.send_queue(h) == 0 {
            stack.close(h);
            self.closed = true;
        }
    }

    fn done<const RX: usize, const TX: usize>(
        &self,
        stack: &Stack<RX, TX>,
        expected: usize,
    ) -> bool {
        let state = self.handle.map_or(State::Closed, |h| stack.state(h));
        self.closed
            && self.got.len() == expected
            && matches!(state, State::Closed | State::TimeWait)
    }
}

struct Outcome {
    elapsed: Duration,
    /// The largest send window either side was offered.
    peak_window: u32,
    server: TcpCounters,
    client: TcpCounters,
    /// Through [`SoftTso`]: frames handed over to cut, segments cut from
    /// them, the longest frame, those not cut into equal segments, both
    /// ends together.
    cut: (u64, u64, usize, u64),
}

/// The configuration of both ends: SACK and RFC 7323 on or off. The
/// bounds on a half-closed connection (FIN-WAIT-2, the lingering close)
/// are lifted: the server closes once its download is sent, and on a
/// lossy link the upload may still take longer than they allow (they are
/// tested in `hostile.rs`).
fn config(sack: bool, rfc7323: bool) -> TcpConfig {
    let mut cfg = TcpConfig::new();
    cfg.sack = sack;
    cfg.window_scaling = rfc7323;
    cfg.timestamps = rfc7323;
    cfg.fin_wait_2_timeout = SIM_LIMIT;
    cfg.linger_silence = SIM_LIMIT;
    cfg.linger_total = SIM_LIMIT;
    cfg
}

fn run(faults: FaultConfig, seed: u32, size: usize, cfg: TcpConfig) -> Outcome {
    run_with::<BUF_LEN, BUF_LEN>(faults, seed, size, cfg)
}

fn run_with<const RX: usize, const TX: usize>(
    faults: FaultConfig,
    seed: u32,
    size: usize,
    cfg: TcpConfig,
) -> Outcome {
    run_on::<RX, TX>(faults, seed, size, cfg, false)
}

/// [`run_with`], both ends behind [`SoftTso`] when `tso`.
fn run_on<const RX: usize, const TX: usize>(
    faults: FaultConfig,
    seed: u32,
    size: usize,
    cfg: TcpConfig,
    tso: bool,
) -> Outcome {
    let link: &'static Link = Box::leak(Box::new(Link::new()));
    let (ea, eb) = link.ends(OUR_MAC.0, PEER_MAC.0);
    let mut da = SoftTso::new(FaultInjector::new(ea, faults, seed), tso);
    let seed_b = seed.wrapping_mul(0x9e37_79b9) | 1;
    let mut db = SoftTso::new(FaultInjector::new(eb, faults, seed_b), tso);
    let mut ia = Interface::new(Config::new(OUR_MAC));
    let mut cb = Config::new(PEER_MAC);
    cb.ip = PEER_IP;
    let mut ib = Interface::new(cb);
    let mut sa: Box<Stack<RX, TX>> = Box::new(TcpStack::new([1; 16]));
    let mut sb: Box<Stack<RX, TX>> = Box::new(TcpStack::new([2; 16]));
    let mut peak_window = 0;
    sa.set_config(cfg);
    sb.set_config(cfg);
    sa.listen(PORT, 2).unwrap();
    let start = Instant(1_000_000);
    let mut now = start;
    let mut server = App::new(data(size, seed ^ 0x5555));
    let mut client = App::new(data(size, seed ^ 0xaaaa));
    client.handle = Some(sb.connect(now, (PEER_IP, 40000), (OUR_IP, PORT)).unwrap());
    loop {
        assert!(
            now - start < SIM_LIMIT,
            "seed {seed}: stuck at {} / {} bytes up, {} / {} down\nserver:\n{}client:\n{}",
            server.got.len(),
            size,
            client.got.len(),
            size,
            sa.counters(),
            sb.counters()
        );
        ia.poll_with(now, &mut da, &mut *sa);
        ib.poll_with(now, &mut db, &mut *sb);
        if server.handle.is_none() {
            server.handle = sa.accept();
        }
        server.serve(&mut sa);
        client.serve(&mut sb);
        for (stack, app) in [(&sa, &server), (&sb, &client)] {
            if let Some(t) = app.handle.and_then(|h| stack.tcb(h)) {
                peak_window = peak_window.max(t.snd_wnd);
            }
        }
        if server.done(&sa, size) && client.done(&sb, size) {
            break;
        }
        ia.poll_with(now, &mut da, &mut *sa);
        ib.poll_with(now, &mut db, &mut *sb);
        let busy = da.inner().inner().waiting() + db.inner().inner().waiting() > 0;
        let next = [
            ia.poll_at(now),
            ib.poll_at(now),
            sa.poll_at(now),
            sb.poll_at(now),
        ]
        .into_iter()
        .flatten()
        .min();
        // Jump over idle time to the next timer, but never far: the
        // applications act only between polls.
        now = match next {
            Some(at) if !busy && at > now => at.min(now + MAX_JUMP),
            _ => now + STEP,
        };
    }
    assert!(server.got == client.out, "seed {seed}: upload corrupted");
    assert!(client.got == server.out, "seed {seed}: download corrupted");
    Outcome {
        elapsed: now - start,
        peak_window,
        server: *sa.counters(),
        client: *sb.counters(),
        cut: (
            da.cut_frames + db.cut_frames,
            da.cut_segments + db.cut_segments,
            da.longest.max(db.longest),
            da.uneven + db.uneven,
        ),
    }
}

fn lossy() -> FaultConfig {
    FaultConfig {
        drop_pct: 5,
        duplicate_pct: 5,
        reorder_pct: 5,
        corrupt_pct: 1,
    }
}

#[test]
fn one_mib_each_way_without_faults() {
    for (sack, rfc7323) in [(true, true), (false, true), (true, false), (false, false)] {
        let o = run(FaultConfig::default(), 1, MIB, config(sack, rfc7323));
        assert_eq!(o.server.retransmits + o.client.retransmits, 0);
        assert_eq!(o.server.bytes_in, MIB as u64);
        assert_eq!(o.client.bytes_in, MIB as u64);
        let negotiated = o.server.sack_negotiated + o.client.sack_negotiated;
        assert_eq!(negotiated, if sack { 2 } else { 0 });
        let (s, c) = (&o.server, &o.client);
        let both = if rfc7323 { 2 } else { 0 };
        assert_eq!(s.timestamps_negotiated + c.timestamps_negotiated, both);
        assert_eq!(
            s.window_scaling_negotiated + c.window_scaling_negotiated,
            both
        );
        assert!(o.elapsed < Duration::from_secs(2), "{:?}", o.elapsed);
    }
}

/// Seeds of the lossy runs.
const SEEDS: [u32; 4] = [1, 2, 3, 0xdead_beef];

/// Every seed through the lossy link; prints and returns the totals:
/// (simulated time, retransmits, timeouts).
fn lossy_runs(sack: bool, rfc7323: bool) -> (Duration, u64, u64) {
    let mut total = (Duration(0), 0, 0);
    for seed in SEEDS {
        let o = run(lossy(), seed, MIB, config(sack, rfc7323));
        let (s, c) = (&o.server, &o.client);
        std::println!(
            "sack {sack} rfc7323 {rfc7323} seed {seed}: {:?} simulated; retransmits {}, fast {}, timeouts {}, \
             SACK recoveries {}, holes resent {}, skipped {} B, PAWS drops {}",
            o.elapsed,
            s.retransmits + c.retransmits,
            s.fast_retransmits + c.fast_retransmits,
            s.timeouts + c.timeouts,
            s.sack_recoveries + c.sack_recoveries,
            s.sack_retransmits + c.sack_retransmits,
            s.sack_skipped_bytes + c.sack_skipped_bytes,
            s.drop_paws + c.drop_paws,
        );
        assert!(s.retransmits + c.retransmits > 0);
        assert!(s.fast_retransmits + c.fast_retransmits > 0);
        assert!(s.drop_bad_checksum + c.drop_bad_checksum > 0);
        assert!(o.elapsed < SIM_LIMIT);
        if sack {
            assert_eq!(s.sack_negotiated + c.sack_negotiated, 2);
            assert!(s.sack_blocks_out > 0 && c.sack_blocks_out > 0);
            assert!(s.sack_recoveries + c.sack_recoveries > 0);
        } else {
            assert_eq!(s.sack_blocks_out + c.sack_blocks_out + s.sack_blocks_in, 0);
        }
        total.0 = Duration(total.0 .0 + o.elapsed.0);
        total.1 += s.retransmits + c.retransmits;
        total.2 += s.timeouts + c.timeouts;
    }
    std::println!(
        "sack {sack} rfc7323 {rfc7323}: total {:?} simulated, {} retransmits, {} timeouts",
        total.0,
        total.1,
        total.2
    );
    total
}

#[test]
fn one_mib_each_way_through_loss_reordering_duplication() {
    lossy_runs(false, true);
    lossy_runs(false, false);
}

#[test]
fn one_mib_each_way_through_loss_reordering_duplication_with_sack() {
    lossy_runs(true, true);
    lossy_runs(true, false);
}

/// Both ends behind a device that cuts TCP frames into segments (TCP
/// segmentation offload): sends carry whole segments up to the device's
/// limit, and the transfer is byte-exact, through loss too.
#[test]
fn one_mib_each_way_through_segmentation_offload() {
    for (faults, seed) in [(FaultConfig::default(), 1), (lossy(), 2), (lossy(), 3)] {
        for rfc7323 in [true, false] {
            let o = run_on::<BUF_LEN, BUF_LEN>(faults, seed, MIB, config(true, rfc7323), true);
            let (frames, segments, longest, uneven) = o.cut;
            std::println!(
                "tso, rfc7323 {rfc7323} seed {seed}: {:?} simulated, {frames} frames cut into \
                 {segments} segments, longest {longest}, retransmits {}",
                o.elapsed,
                o.server.retransmits + o.client.retransmits
            );
            assert!(frames > 0 && segments > 2 * frames, "{frames} {segments}");
            assert!(longest <= SOFT_TSO_FRAME);
            assert_eq!(uneven, 0, "whole segments only");
        }
    }
    let o = run_on::<BUF_LEN, BUF_LEN>(FaultConfig::default(), 1, MIB, config(true, true), false);
    assert_eq!(o.cut, (0, 0, 0, 0), "without the offload nothing is cut");
}

#[test]
fn heavy_loss_still_delivers() {
    let faults = FaultConfig {
        drop_pct: 15,
        duplicate_pct: 10,
        reorder_pct: 20,
        corrupt_pct: 2,
    };
    for rfc7323 in [true, false] {
        run(faults, 77, 64 * 1024, config(true, rfc7323));
        run(faults, 77, 64 * 1024, config(false, rfc7323));
    }
}

/// Bulk-sized buffers ([`TCP_BULK_BUFFER_LEN`]): with window scaling the
/// windows offered reach megabytes; without, 64 KiB at most.
///
/// [`TCP_BULK_BUFFER_LEN`]: crate::limits::TCP_BULK_BUFFER_LEN
#[test]
fn bulk_buffers_offer_windows_past_64_kib_only_when_scaled() {
    use crate::limits::TCP_BULK_BUFFER_LEN as BULK;
    // Two stacks of 16 MiB each, built on the stack before boxing.
    let big = std::thread::Builder::new().stack_size(160 << 20);
    big.spawn(|| {
        for scaled in [true, false] {
            let o =
                run_with::<BULK, BULK>(FaultConfig::default(), 5, 8 * MIB, config(true, scaled));
            std::println!(
                "bulk, scaling {scaled}: {:?} simulated, peak window {}",
                o.elapsed,
                o.peak_window
            );
            assert_eq!(o.server.bytes_in, 8 * MIB as u64);
            if scaled {
                assert!(o.peak_window > 1 << 20, "{}", o.peak_window);
            } else {
                assert!(o.peak_window <= u32::from(u16::MAX), "{}", o.peak_window);
            }
        }
    })
    .unwrap()
    .join()
    .unwrap();
}
