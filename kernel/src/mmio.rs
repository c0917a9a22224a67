//! Volatile access to a block of device registers at a fixed physical
//! address (identity-mapped as device memory by mmu.rs).

/// A block of 32-bit device registers starting at `base`.
#[derive(Clone, Copy, Debug)]
pub struct Regs {
    base: usize,
}

impl Regs {
    /// The register block at `base`.
    ///
    /// # Safety
    /// `base` must be the address of a device register block of the QEMU
    /// virt machine, valid for 32-bit volatile reads and writes at every
    /// offset the caller then uses, and mapped (or the MMU off).
    pub const unsafe fn new(base: usize) -> Self {
        Regs { base }
    }

    /// The block's base address.
    pub const fn base(&self) -> usize {
        self.base
    }

    /// Reads the 32-bit register at `offset`.
    #[inline(always)]
    pub fn read(&self, offset: usize) -> u32 {
        // SAFETY: `new`'s contract: base + offset is a valid device register.
        unsafe { core::ptr::read_volatile((self.base + offset) as *const u32) }
    }

    /// Writes the 32-bit register at `offset`.
    #[inline(always)]
    pub fn write(&self, offset: usize, v: u32) {
        // SAFETY: `new`'s contract: base + offset is a valid device register.
        unsafe { core::ptr::write_volatile((self.base + offset) as *mut u32, v) }
    }

    /// Reads the byte register at `offset` (virtio config space).
    #[inline(always)]
    pub fn read8(&self, offset: usize) -> u8 {
        // SAFETY: `new`'s contract: base + offset is a valid device register.
        unsafe { core::ptr::read_volatile((self.base + offset) as *const u8) }
    }
}
