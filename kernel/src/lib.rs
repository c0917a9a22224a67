//! The bedrock unikernel for `qemu-system-aarch64 -M virt -cpu cortex-a72`:
//! boot and exception vectors (boot.rs), exception reports (exceptions.rs),
//! the identity-mapped MMU with caches (mmu.rs), GICv2 and the virtual
//! timer (gic.rs, time.rs, irq.rs), the PL011 console and logger (uart.rs,
//! log.rs), the virtio-net driver (virtio.rs), and the server loop that
//! runs any app (serve/). The images link it: one per app, each a few
//! lines naming its app with [`app!`] (bin/hotel.rs, bin/todo.rs), and the
//! in-QEMU test runner (bin/ktest.rs); each defines `kernel_start`, which
//! the boot code jumps to.
//!
//! `unsafe` is confined to the boot and exception assembly, MMIO register
//! access (mmio.rs), DMA rings and buffers (virtio.rs), page tables
//! (mmu.rs) and the instruction wrappers (arch.rs); each block says why it
//! is sound. The network stack itself (`bedrock-net`) forbids unsafe code.
#![no_std]

pub mod arch;
mod boot;
pub mod config;
pub mod console;
pub mod echo;
pub mod exceptions;
pub mod gic;
pub mod global;
pub mod irq;
pub mod log;
pub mod mem;
pub mod mmio;
pub mod mmu;
pub mod serve;
pub mod time;
pub mod uart;
pub mod virtio;

pub use bedrock_net::device;

use core::sync::atomic::{AtomicU64, Ordering};

/// What [`init`] measured, if asked to.
#[derive(Clone, Copy, Debug)]
pub struct MmuEffect {
    /// Counter ticks of a fixed memory loop with the MMU and caches off
    /// (best of three).
    pub loop_ticks_mmu_off: u64,
    /// The same loop with the MMU and caches on (best of three).
    pub loop_ticks_mmu_on: u64,
}

fn best_of_three() -> u64 {
    (0..3).map(|_| memory_loop()).min().unwrap_or(0)
}

/// A fixed workload for measuring what the MMU and caches change: sums and
/// rewrites a 64 KiB buffer 8 times.
fn memory_loop() -> u64 {
    const WORDS: usize = 8192;
    // Relaxed atomics compile to plain loads and stores, which the
    // compiler may not remove: a safe stand-in for volatile accesses.
    static BUF: [AtomicU64; WORDS] = [const { AtomicU64::new(0) }; WORDS];
    let start = time::ticks();
    let mut acc = 0u64;
    for round in 0..8u64 {
        for (i, w) in BUF.iter().enumerate() {
            let v = w.load(Ordering::Relaxed);
            acc = acc.wrapping_add(v ^ round);
            w.store(v.wrapping_add(i as u64), Ordering::Relaxed);
        }
    }
    core::hint::black_box(acc);
    time::ticks() - start
}

/// Everything between the boot assembly and `main`: clock, UART, MMU and
/// caches, GIC and timer. With `measure_mmu`, a fixed memory loop is timed
/// before and after the MMU goes on (the test runner reports it; the
/// kernel skips it to boot faster). IRQs stay masked; they are taken only
/// inside `arch::wait_for_interrupt`.
pub fn init(measure_mmu: bool) -> Option<MmuEffect> {
    time::init();
    uart::init();
    console::init();
    // The counter starts with the machine, so its value here is the time
    // spent before Rust ran (firmware-less load, .bss zeroing).
    info!(
        "bedrock kernel booting (EL{}, counter {} Hz, {} us after reset)",
        (arch::read_sysreg!("CurrentEL") >> 2) & 3,
        time::frequency(),
        time::since_reset().0
    );
    let loop_ticks_mmu_off = if measure_mmu { best_of_three() } else { 0 };
    mmu::init();
    let effect = measure_mmu.then(|| MmuEffect {
        loop_ticks_mmu_off,
        loop_ticks_mmu_on: best_of_three(),
    });
    gic::init();
    gic::enable(time::TIMER_INTID);
    gic::enable(uart::INTID);
    effect
}

/// Microseconds a tick count stands for.
pub fn ticks_to_micros(t: u64) -> u64 {
    ((t as u128 * 1_000_000) / time::frequency().max(1) as u128) as u64
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    exceptions::panic_report(info)
}
