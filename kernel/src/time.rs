//! Time: a monotonic microsecond clock from the generic timer's virtual
//! counter (CNTVCT_EL0 / CNTFRQ_EL0), and one-shot wake-ups with the
//! virtual timer (CNTV, PPI INTID 27).

use crate::arch::{isb, read_sysreg, write_sysreg};
pub use bedrock_net::time::{Duration, Instant};
use core::sync::atomic::{AtomicU64, Ordering};

/// The virtual timer's interrupt number (a PPI).
pub const TIMER_INTID: u32 = 27;

static FREQ: AtomicU64 = AtomicU64::new(0);
static BOOT_TICKS: AtomicU64 = AtomicU64::new(0);
/// Counter ticks spent asleep in `sleep`, for the CPU-use counters.
static IDLE_TICKS: AtomicU64 = AtomicU64::new(0);

/// Records the counter frequency and the boot instant (time zero).
pub fn init() {
    let f = read_sysreg!("CNTFRQ_EL0");
    FREQ.store(if f == 0 { 62_500_000 } else { f }, Ordering::Relaxed);
    BOOT_TICKS.store(ticks(), Ordering::Relaxed);
    disarm();
}

/// The counter frequency in Hz.
pub fn frequency() -> u64 {
    FREQ.load(Ordering::Relaxed)
}

/// The raw virtual counter.
#[inline]
pub fn ticks() -> u64 {
    // The ISB keeps the read from being hoisted above earlier instructions.
    isb();
    read_sysreg!("CNTVCT_EL0")
}

fn ticks_to_micros(t: u64) -> u64 {
    let f = frequency().max(1);
    ((t as u128 * 1_000_000) / f as u128) as u64
}

fn micros_to_ticks(us: u64) -> u64 {
    ((us as u128 * frequency() as u128) / 1_000_000) as u64
}

/// Time since the machine started (the counter's zero), for boot timing.
pub fn since_reset() -> Duration {
    Duration(ticks_to_micros(ticks()))
}

/// Microseconds since boot; never goes backwards.
pub fn now() -> Instant {
    let boot = BOOT_TICKS.load(Ordering::Relaxed);
    Instant(ticks_to_micros(ticks().saturating_sub(boot)))
}

/// Arms the virtual timer to fire at `at` (at once if `at` is past).
pub fn arm(at: Instant) {
    let target = BOOT_TICKS.load(Ordering::Relaxed) + micros_to_ticks(at.micros());
    write_sysreg!("CNTV_CVAL_EL0", target);
    write_sysreg!("CNTV_CTL_EL0", 1); // enabled, not masked
    isb();
}

/// Stops the virtual timer (called from the IRQ handler, since the timer
/// interrupt is level-triggered and would otherwise fire again at once).
pub fn disarm() {
    write_sysreg!("CNTV_CTL_EL0", 0);
    isb();
}

/// Sleeps in WFI until an interrupt, and counts the time as idle.
pub fn sleep() {
    let start = ticks();
    crate::arch::wait_for_interrupt();
    IDLE_TICKS.fetch_add(ticks().saturating_sub(start), Ordering::Relaxed);
}

/// Time spent asleep in `sleep` since boot. Uptime minus this is the
/// CPU time the kernel used (under `-icount shift=0` one nanosecond of
/// guest time is one guest instruction).
pub fn idle() -> Duration {
    Duration(ticks_to_micros(IDLE_TICKS.load(Ordering::Relaxed)))
}

/// Busy-waits for `d` (tests and calibration only).
pub fn spin(d: Duration) {
    let end = now() + d;
    while now() < end {
        core::hint::spin_loop();
    }
}
