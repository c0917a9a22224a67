//! The PL011 UART of QEMU virt (0x0900_0000, SPI 1 = INTID 33): polled
//! output, and input read by the main loop (Ctrl-C stops the kernel).

use crate::mmio::Regs;

// SAFETY: 0x0900_0000 is the PL011 on QEMU virt; its registers are 32-bit.
const UART: Regs = unsafe { Regs::new(0x0900_0000) };

/// The UART's interrupt number at the GIC.
pub const INTID: u32 = 33;

const DR: usize = 0x00;
const FR: usize = 0x18;
const IBRD: usize = 0x24;
const FBRD: usize = 0x28;
const LCR_H: usize = 0x2c;
const CR: usize = 0x30;
const IMSC: usize = 0x38;
const ICR: usize = 0x44;

const FR_RXFE: u32 = 1 << 4;
const FR_TXFF: u32 = 1 << 5;

/// Programs 115200 8N1 with FIFOs and enables the receive interrupt.
/// (QEMU ignores the baud rate; real PL011s with a 24 MHz clock do not.)
pub fn init() {
    UART.write(CR, 0);
    UART.write(IBRD, 13);
    UART.write(FBRD, 1);
    UART.write(LCR_H, (0b11 << 5) | (1 << 4)); // 8 bits, FIFO on
    UART.write(ICR, 0x7ff);
    UART.write(IMSC, (1 << 4) | (1 << 6)); // RX and RX timeout
    UART.write(CR, (1 << 0) | (1 << 8) | (1 << 9)); // UART, TX, RX on
}

/// Writes one byte, waiting while the transmit FIFO is full.
pub fn put_byte(b: u8) {
    while UART.read(FR) & FR_TXFF != 0 {
        core::hint::spin_loop();
    }
    UART.write(DR, b as u32);
}

/// Reads a received byte if one is waiting.
pub fn get_byte() -> Option<u8> {
    if UART.read(FR) & FR_RXFE != 0 {
        None
    } else {
        Some(UART.read(DR) as u8)
    }
}

/// Clears the UART's interrupt (called from the IRQ handler; the byte
/// itself stays in the FIFO for the main loop, which is woken).
pub fn ack_interrupt() {
    // Mask RX until the main loop drained the FIFO, or the level-triggered
    // interrupt would fire again at once.
    UART.write(IMSC, 0);
    UART.write(ICR, 0x7ff);
}

/// Re-enables the receive interrupt after the FIFO was drained.
pub fn rearm() {
    UART.write(IMSC, (1 << 4) | (1 << 6));
}

/// A `core::fmt::Write` sink for the UART; `\n` becomes `\r\n`.
pub struct Writer;

impl core::fmt::Write for Writer {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                put_byte(b'\r');
            }
            put_byte(b);
        }
        Ok(())
    }
}
