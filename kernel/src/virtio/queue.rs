//! One split virtqueue (VIRTIO 1.2 §2.7) in DMA memory: the descriptor
//! table, the avail ring the driver writes and the used ring the device
//! writes, all through volatile accesses.

use super::{PAGE, RING_BYTES};
use crate::arch::dmb;
use core::ptr::{read_volatile, write_volatile};

const AVAIL_F_NO_INTERRUPT: u16 = 1;
const USED_F_NO_NOTIFY: u16 = 1;

/// One split virtqueue in DMA memory: raw pointers, because the device
/// writes the used ring behind the compiler's back (all accesses volatile).
pub(super) struct Queue {
    pub index: u32,
    pub size: u16,
    desc: *mut u8,
    avail: *mut u8,
    used: *mut u8,
    avail_idx: u16,
    last_used: u16,
}

impl Queue {
    /// Lays a queue of `size` entries out in `ring` (zeroed).
    ///
    /// # Safety
    /// `ring` must be [`RING_BYTES`] of zeroed, page-aligned memory that
    /// only this queue and its device use.
    pub(super) unsafe fn new(index: u32, size: u16, ring: *mut u8) -> Queue {
        let n = size as usize;
        let avail_off = 16 * n;
        let used_off = (avail_off + 6 + 2 * n).div_ceil(PAGE) * PAGE;
        debug_assert!(used_off + 6 + 8 * n <= RING_BYTES);
        Queue {
            index,
            size,
            desc: ring,
            // SAFETY: both offsets stay inside the RING_BYTES of `ring`.
            avail: unsafe { ring.add(avail_off) },
            // SAFETY: as above (checked by the debug assertion).
            used: unsafe { ring.add(used_off) },
            avail_idx: 0,
            last_used: 0,
        }
    }

    pub(super) fn set_desc(&mut self, i: u16, addr: u64, len: u32, flags: u16, next: u16) {
        // SAFETY: i < size, so the 16-byte descriptor lies in the table;
        // the device reads it only after it is published in the avail ring.
        unsafe {
            let d = self.desc.add(16 * i as usize);
            write_volatile(d as *mut u64, addr);
            write_volatile(d.add(8) as *mut u32, len);
            write_volatile(d.add(12) as *mut u16, flags);
            write_volatile(d.add(14) as *mut u16, next);
        }
    }

    /// Offers descriptor `id` to the device (not yet notified).
    pub(super) fn push_avail(&mut self, id: u16) {
        self.push_avail_all([id]);
    }

    /// Offers the descriptors `ids`, in order, with one update of the
    /// index the device reads (not yet notified).
    pub(super) fn push_avail_all(&mut self, ids: impl IntoIterator<Item = u16>) {
        for id in ids {
            let slot = (self.avail_idx % self.size) as usize;
            // SAFETY: slot < size: the entry lies in the avail ring.
            unsafe { write_volatile(self.avail.add(4 + 2 * slot) as *mut u16, id) };
            self.avail_idx = self.avail_idx.wrapping_add(1);
        }
        // The descriptors and ring entries must be visible before the index.
        dmb();
        // SAFETY: avail.idx at offset 2 of the avail ring.
        unsafe { write_volatile(self.avail.add(2) as *mut u16, self.avail_idx) };
    }

    pub(super) fn set_interrupts(&mut self, on: bool) {
        let flags = if on { 0 } else { AVAIL_F_NO_INTERRUPT };
        // SAFETY: avail.flags at offset 0 of the avail ring.
        unsafe { write_volatile(self.avail as *mut u16, flags) };
    }

    /// The guest-physical addresses of the descriptor table, the avail
    /// ring and the used ring (for a modern transport).
    pub(super) fn addresses(&self) -> (u64, u64, u64) {
        (self.desc as u64, self.avail as u64, self.used as u64)
    }

    pub(super) fn used_idx(&self) -> u16 {
        // SAFETY: used.idx at offset 2 of the used ring, written by the device.
        unsafe { read_volatile(self.used.add(2) as *const u16) }
    }

    pub(super) fn has_used(&self) -> bool {
        self.used_idx() != self.last_used
    }

    /// Takes the next used element: (descriptor id, bytes written), both
    /// as the device wrote them (callers check the id against the size).
    pub(super) fn pop_used(&mut self) -> Option<(u32, u32)> {
        if !self.has_used() {
            return None;
        }
        // Read the element only after seeing the index that covers it.
        dmb();
        let slot = (self.last_used % self.size) as usize;
        // SAFETY: slot < size: the 8-byte element lies in the used ring.
        let (id, len) = unsafe {
            let e = self.used.add(4 + 8 * slot);
            (
                read_volatile(e as *const u32),
                read_volatile(e.add(4) as *const u32),
            )
        };
        self.last_used = self.last_used.wrapping_add(1);
        Some((id, len))
    }

    pub(super) fn device_wants_notify(&self) -> bool {
        dmb();
        // SAFETY: used.flags at offset 0 of the used ring.
        unsafe { read_volatile(self.used as *const u16) & USED_F_NO_NOTIFY == 0 }
    }
}
