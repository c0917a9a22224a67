//! `Global<T>`: a mutable `static` handed out once, as `&'static mut T`,
//! without a lock. The kernel runs on one core and its interrupt handlers
//! touch only atomics (counters) and device registers, never a `Global`,
//! so the single `&mut` that [`Global::take`] returns is the only access
//! there will ever be.

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, Ordering};

/// A value in a `static` that can be borrowed mutably exactly once.
pub struct Global<T> {
    taken: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the contents are reached only through `take`, which hands out
// at most one `&mut T` for the program's lifetime (the flag is swapped
// atomically); the kernel is single-core and no interrupt handler touches
// a `Global`. `T: Send` because the reference may be used from whatever
// context calls `take`.
unsafe impl<T: Send> Sync for Global<T> {}

impl<T> Global<T> {
    /// A global holding `value`, not yet taken.
    pub const fn new(value: T) -> Self {
        Global {
            taken: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// The one mutable reference to the contents; `None` on every later
    /// call.
    // A `&mut` from a `&`: sound here because the flag makes it the only
    // one ever handed out, which is what `mut_from_ref` cannot see.
    #[allow(clippy::mut_from_ref)]
    pub fn take(&'static self) -> Option<&'static mut T> {
        if self.taken.swap(true, Ordering::AcqRel) {
            return None;
        }
        // SAFETY: the flag was false, so this is the first and only
        // borrow ever made (see the `Sync` impl), and the static lives
        // for the whole program.
        Some(unsafe { &mut *self.value.get() })
    }
}

/// Storage for a `static` that boot leaves as it finds it: declare the
/// static with `#[link_section = ".noinit"]`, which linker.ld keeps out
/// of the zeroed `.bss`. For contents built on first use (the HTTP
/// connections): zeroing memory costs boot about 0.6 ms per MiB under
/// QEMU, the host faulting in each page on first touch.
pub struct NoInit<T> {
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the contents are reached only through `take`, whose contract
// is a single call for the program's lifetime (single core, never from
// an interrupt handler), as for `Global`.
unsafe impl<T: Send> Sync for NoInit<T> {}

impl<T> NoInit<T> {
    /// Uninitialised storage.
    pub const fn new() -> Self {
        NoInit {
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// The storage, uninitialised.
    ///
    /// # Safety
    /// Call at most once for the program's lifetime: the reference it
    /// returns must be the only one. (No flag can guard it: a flag here
    /// would not be initialised either.)
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn take(&'static self) -> &'static mut MaybeUninit<T> {
        // SAFETY: the caller promises this is the only borrow ever made;
        // the static lives for the whole program.
        unsafe { &mut *self.value.get() }
    }
}

impl<T> Default for NoInit<T> {
    fn default() -> Self {
        Self::new()
    }
}
