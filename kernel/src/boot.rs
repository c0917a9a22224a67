//! The entry point and the exception vector table, in assembly: everything
//! that must happen before Rust can run (one core, a stack, a zeroed .bss,
//! FP/SIMD on, vectors installed), and the register save/restore around
//! exception handlers.

use core::arch::global_asm;

// Size of the saved frame: x0-x30, ELR_EL1, SPSR_EL1, padding (16-aligned).
// Must match `exceptions::Frame`.
global_asm!(
    r#"
.equ FRAME_SIZE, 272

.section .text.boot, "ax"
.global _start
_start:
    // Park every core but core 0 (Aff0 of MPIDR_EL1); QEMU starts the
    // others powered off with -smp 1, but an -smp N boot must not run
    // the kernel twice.
    mrs     x1, mpidr_el1
    and     x1, x1, #0xff
    cbnz    x1, 9f

    // Stack (the linker script reserves it after .bss).
    ldr     x1, =__stack_top
    mov     sp, x1

    // Zero .bss: the symbols are 16-byte aligned by the linker script.
    // About 5 ms of a boot under QEMU (17 MiB of TCP and HTTP buffers):
    // measured, the cost is the host faulting in fresh pages, not the
    // loop's instructions (a 128-byte SIMD loop was no faster).
    ldr     x1, =__bss_start
    ldr     x2, =__bss_end
1:  cmp     x1, x2
    b.hs    2f
    stp     xzr, xzr, [x1], #16
    b       1b
2:
    // FP/SIMD on at EL1 and EL0 (CPACR_EL1.FPEN = 0b11): release builds
    // use SIMD registers for copies, so this precedes any Rust code.
    mov     x1, #(3 << 20)
    msr     cpacr_el1, x1
    isb

    // Exception vectors.
    ldr     x1, =__exception_vectors
    msr     vbar_el1, x1
    isb

    // IRQs stay masked (they are opened only around WFI); debug, SError
    // and FIQ masked as well.
    msr     daifset, #0xf

    bl      kernel_start
9:  wfe
    b       9b

// The vector table: 16 entries of 0x80 bytes, 2 KiB aligned.
.macro VECTOR kind
.balign 0x80
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #0]
    mov     x0, #\kind
    b       __exception_common
.endm

.section .text.vectors, "ax"
.balign 0x800
.global __exception_vectors
__exception_vectors:
    // Current EL with SP_EL0: 0-3
    VECTOR 0
    VECTOR 1
    VECTOR 2
    VECTOR 3
    // Current EL with SP_ELx: 4 = sync, 5 = IRQ, 6 = FIQ, 7 = SError
    VECTOR 4
    VECTOR 5
    VECTOR 6
    VECTOR 7
    // Lower EL, AArch64: 8-11; lower EL, AArch32: 12-15
    VECTOR 8
    VECTOR 9
    VECTOR 10
    VECTOR 11
    VECTOR 12
    VECTOR 13
    VECTOR 14
    VECTOR 15

__exception_common:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    mrs     x2, elr_el1
    mrs     x3, spsr_el1
    stp     x30, x2, [sp, #240]
    str     x3, [sp, #256]

    mov     x1, sp
    bl      exception_dispatch

    ldr     x3, [sp, #256]
    ldp     x30, x2, [sp, #240]
    msr     elr_el1, x2
    msr     spsr_el1, x3
    ldp     x28, x29, [sp, #224]
    ldp     x26, x27, [sp, #208]
    ldp     x24, x25, [sp, #192]
    ldp     x22, x23, [sp, #176]
    ldp     x20, x21, [sp, #160]
    ldp     x18, x19, [sp, #144]
    ldp     x16, x17, [sp, #128]
    ldp     x14, x15, [sp, #112]
    ldp     x12, x13, [sp, #96]
    ldp     x10, x11, [sp, #80]
    ldp     x8, x9, [sp, #64]
    ldp     x6, x7, [sp, #48]
    ldp     x4, x5, [sp, #32]
    ldp     x2, x3, [sp, #16]
    ldp     x0, x1, [sp, #0]
    add     sp, sp, #FRAME_SIZE
    eret
"#
);
