//! Interrupt dispatch. The handler runs only inside the IRQ window of
//! `arch::wait_for_interrupt`; it silences the source (timer disarmed,
//! virtio InterruptStatus acknowledged, UART interrupt masked) and counts
//! it. The main loop then does the real work: interrupts only wake it.

use crate::{gic, time, uart, virtio};
use core::sync::atomic::{AtomicU32, Ordering};

/// Timer interrupts taken since boot.
pub static TIMER_IRQS: AtomicU32 = AtomicU32::new(0);
/// virtio interrupts taken since boot.
pub static VIRTIO_IRQS: AtomicU32 = AtomicU32::new(0);
/// UART interrupts taken since boot.
pub static UART_IRQS: AtomicU32 = AtomicU32::new(0);
/// Spurious or unknown interrupts since boot.
pub static OTHER_IRQS: AtomicU32 = AtomicU32::new(0);

/// Handles every pending interrupt (called from the IRQ vector).
pub fn handle() {
    loop {
        let intid = gic::acknowledge();
        if intid >= gic::SPURIOUS {
            return;
        }
        match intid {
            time::TIMER_INTID => {
                time::disarm();
                TIMER_IRQS.fetch_add(1, Ordering::Relaxed);
            }
            uart::INTID => {
                uart::ack_interrupt();
                UART_IRQS.fetch_add(1, Ordering::Relaxed);
            }
            _ if virtio::ack_interrupt(intid) => {
                VIRTIO_IRQS.fetch_add(1, Ordering::Relaxed);
            }
            _ => {
                OTHER_IRQS.fetch_add(1, Ordering::Relaxed);
            }
        }
        gic::end_of_interrupt(intid);
    }
}
