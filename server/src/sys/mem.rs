//! Memory without libc: the `mem*` functions the compiler calls, lazily
//! committed arrays in anonymous mappings (pages cost memory only once
//! touched), and a value shared by all worker processes behind a lock.

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use super::{getpid, kill, mmap_anon, release_pages, sched_yield, Errno};

// ---- the functions the compiler emits calls to ----
//
// Each is written so it cannot be turned back into a call to itself: on
// x86_64 with `rep movsb` / `rep stosb`, elsewhere with explicit loops in
// assembly (copies) or over raw bytes (compares, which LLVM does not
// rewrite into library calls).

/// # Safety
/// `dest` and `src` valid for `n` bytes and not overlapping.
// Not in host test builds, where libc provides them.
#[cfg(not(test))]
#[no_mangle]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees both ranges are valid for n bytes.
    unsafe { copy_forward(dest, src, n) };
    dest
}

/// # Safety
/// `dest` and `src` valid for `n` bytes; they may overlap.
// Not in host test builds, where libc provides them.
#[cfg(not(test))]
#[no_mangle]
pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dest as usize).wrapping_sub(src as usize) >= n {
        // dest is before src, or the ranges do not overlap: copy forward.
        // SAFETY: the caller guarantees both ranges are valid for n bytes.
        unsafe { copy_forward(dest, src, n) };
    } else {
        // SAFETY: as above; copying from the end handles dest > src.
        unsafe { copy_backward(dest, src, n) };
    }
    dest
}

/// # Safety
/// `dest` valid for `n` bytes.
// Not in host test builds, where libc provides them.
#[cfg(not(test))]
#[no_mangle]
pub unsafe extern "C" fn memset(dest: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees dest is valid for n bytes.
    unsafe { fill(dest, c as u8, n) };
    dest
}

/// # Safety
/// `a` and `b` valid for `n` bytes.
// Not in host test builds, where libc provides them.
#[cfg(not(test))]
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        // SAFETY: i < n and the caller guarantees n readable bytes.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

/// # Safety
/// `a` and `b` valid for `n` bytes.
// Not in host test builds, where libc provides them.
#[cfg(not(test))]
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract as memcmp.
    unsafe { memcmp(a, b, n) }
}

/// compiler-builtins' aarch64 outline atomics probe the CPU with libc's
/// `getauxval` from a constructor; no constructor runs here, so they keep
/// their portable (LL/SC) path. This only satisfies the linker.
#[cfg(target_arch = "aarch64")]
// Not in host test builds, where libc provides them.
#[cfg(not(test))]
#[no_mangle]
pub extern "C" fn getauxval(_kind: u64) -> u64 {
    0
}

/// # Safety
/// `s` points to a NUL-terminated string.
// Not in host test builds, where libc provides them.
#[cfg(not(test))]
#[no_mangle]
pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: the string is NUL-terminated, so every byte up to the NUL is
    // readable; the volatile read keeps this loop from being turned into
    // a call to strlen itself.
    while unsafe { core::ptr::read_volatile(s.add(n)) } != 0 {
        n += 1;
    }
    n
}

#[cfg(target_arch = "x86_64")]
unsafe fn copy_forward(dest: *mut u8, src: *const u8, n: usize) {
    // SAFETY: rep movsb copies rcx bytes from rsi to rdi, valid per caller;
    // the direction flag is clear per the ABI.
    unsafe {
        core::arch::asm!("rep movsb", inout("rcx") n => _, inout("rdi") dest => _,
            inout("rsi") src => _, options(nostack, preserves_flags));
    }
}

#[cfg(target_arch = "x86_64")]
unsafe fn copy_backward(dest: *mut u8, src: *const u8, n: usize) {
    if n == 0 {
        return;
    }
    // SAFETY: std makes rep movsb run downwards from the last byte; cld
    // restores the ABI's direction flag. Ranges valid per caller.
    unsafe {
        core::arch::asm!("std", "rep movsb", "cld", inout("rcx") n => _,
            inout("rdi") dest.add(n - 1) => _, inout("rsi") src.add(n - 1) => _,
            options(nostack));
    }
}

#[cfg(target_arch = "x86_64")]
unsafe fn fill(dest: *mut u8, c: u8, n: usize) {
    // SAFETY: rep stosb stores al into rcx bytes at rdi, valid per caller.
    unsafe {
        core::arch::asm!("rep stosb", inout("rcx") n => _, inout("rdi") dest => _,
            in("al") c, options(nostack, preserves_flags));
    }
}

#[cfg(target_arch = "aarch64")]
unsafe fn copy_forward(dest: *mut u8, src: *const u8, n: usize) {
    // SAFETY: copies 8 bytes at a time while at least 8 remain, then bytes;
    // all within the n bytes the caller guarantees.
    unsafe {
        core::arch::asm!(
            "2: cmp {n}, #8", "b.lo 3f",
            "ldr {t}, [{s}], #8", "str {t}, [{d}], #8", "sub {n}, {n}, #8", "b 2b",
            "3: cbz {n}, 4f",
            "ldrb {t:w}, [{s}], #1", "strb {t:w}, [{d}], #1", "sub {n}, {n}, #1", "b 3b",
            "4:",
            n = inout(reg) n => _, s = inout(reg) src => _, d = inout(reg) dest => _,
            t = out(reg) _, options(nostack),
        );
    }
}

#[cfg(target_arch = "aarch64")]
unsafe fn copy_backward(dest: *mut u8, src: *const u8, n: usize) {
    // SAFETY: copies byte by byte from the end, within the caller's ranges.
    unsafe {
        core::arch::asm!(
            "2: cbz {n}, 3f",
            "sub {n}, {n}, #1",
            "ldrb {t:w}, [{s}, {n}]", "strb {t:w}, [{d}, {n}]", "b 2b",
            "3:",
            n = inout(reg) n => _, s = in(reg) src, d = in(reg) dest,
            t = out(reg) _, options(nostack),
        );
    }
}

#[cfg(target_arch = "aarch64")]
unsafe fn fill(dest: *mut u8, c: u8, n: usize) {
    // SAFETY: stores n bytes at dest, valid per caller.
    unsafe {
        core::arch::asm!(
            "2: cbz {n}, 3f",
            "strb {c:w}, [{d}], #1", "sub {n}, {n}, #1", "b 2b",
            "3:",
            n = inout(reg) n => _, d = inout(reg) dest => _, c = in(reg) c as u32,
            options(nostack),
        );
    }
}

// ---- lazily committed arrays ----

/// `cap` values of `T` in a private anonymous mapping; a slot is built by
/// its first `get` (slots are built in index order, so memory grows with
/// the highest index ever used, not with `cap`).
pub struct Pool<T> {
    base: *mut T,
    cap: usize,
    built: usize,
    _owns: PhantomData<T>,
}

impl<T> Pool<T> {
    /// Reserves address space for `cap` values (no memory is used yet).
    pub fn new(cap: usize) -> Result<Self, Errno> {
        let bytes = cap
            .checked_mul(core::mem::size_of::<T>())
            .ok_or(Errno::EINVAL)?;
        let base = mmap_anon(bytes.max(1), false)? as *mut T;
        Ok(Pool {
            base,
            cap,
            built: 0,
            _owns: PhantomData,
        })
    }

    /// How many slots there are.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Slot `i` (< capacity), building it and every slot before it with
    /// `init` first if needed.
    pub fn get(&mut self, i: usize, init: impl Fn() -> T) -> &mut T {
        assert!(i < self.cap);
        while self.built <= i {
            // SAFETY: built < cap, so the slot lies inside the mapping,
            // which is aligned for T (page-aligned) and owned by the pool.
            unsafe { self.base.add(self.built).write(init()) };
            self.built += 1;
        }
        // SAFETY: slot i < built was initialised above and the pool hands
        // out references only through &mut self.
        unsafe { &mut *self.base.add(i) }
    }
}

/// Zero-filled bytes in a private anonymous mapping, cut into `count`
/// slices of `size` bytes; untouched pages cost nothing.
pub struct Bytes {
    base: *mut u8,
    size: usize,
    count: usize,
}

impl Bytes {
    pub fn new(count: usize, size: usize) -> Result<Self, Errno> {
        let bytes = count.checked_mul(size).ok_or(Errno::EINVAL)?;
        let base = mmap_anon(bytes.max(1), false)? as *mut u8;
        Ok(Bytes { base, size, count })
    }

    /// Slice `i` (< count).
    pub fn slice(&mut self, i: usize) -> &mut [u8] {
        assert!(i < self.count);
        // SAFETY: slice i lies inside the mapping (zero-filled by the
        // kernel, so initialised) and is only reachable through &mut self.
        unsafe { core::slice::from_raw_parts_mut(self.base.add(i * self.size), self.size) }
    }
}

/// Integer types for which every bit pattern, all zeros included, is a
/// value: a fresh or released page holds valid ones.
pub trait Plain: Copy + sealed::Sealed {}
mod sealed {
    pub trait Sealed {}
}
macro_rules! plain {
    ($($t:ty),*) => {$(impl sealed::Sealed for $t {} impl Plain for $t {})*};
}
plain!(u8, u16, u32, u64, u128);

/// `cap` zero-initialised values of a plain integer type in a private
/// anonymous mapping, as one slice; pages cost memory once touched and
/// can be given back (`release`).
pub struct Zeroed<T: Plain> {
    base: *mut T,
    cap: usize,
}

impl<T: Plain> Zeroed<T> {
    /// Reserves address space for `cap` values (no memory is used yet).
    pub fn new(cap: usize) -> Result<Self, Errno> {
        let bytes = cap
            .checked_mul(core::mem::size_of::<T>())
            .ok_or(Errno::EINVAL)?;
        let base = mmap_anon(bytes.max(1), false)? as *mut T;
        Ok(Zeroed { base, cap })
    }

    /// All `cap` values.
    pub fn slice(&mut self) -> &mut [T] {
        // SAFETY: the mapping holds cap values, is page-aligned (so
        // aligned for T), zero-filled by the kernel and every bit pattern
        // is a T (`Plain`); it is only reachable through &mut self.
        unsafe { core::slice::from_raw_parts_mut(self.base, self.cap) }
    }

    /// Gives back the pages under the first `n` values (they read as
    /// zero afterwards).
    pub fn release(&mut self, n: usize) {
        let n = n.min(self.cap);
        release_pages(self.base as usize, n * core::mem::size_of::<T>());
    }
}

/// Gives back the whole pages inside `bufs` (private anonymous memory),
/// taking buffers that lie end to end as one range, so that the pages
/// they share are given back too: the pages read as zero afterwards,
/// which is a value of every byte, so this is as if zeros had been
/// written through `bufs`; they cost nothing until touched again. Bytes
/// sharing a page with anything outside `bufs` are left alone.
pub fn give_back(bufs: &mut [&mut [u8]]) {
    const PAGE: usize = 4096;
    bufs.sort_unstable_by_key(|b| b.as_ptr() as usize);
    let mut at = 0;
    while at < bufs.len() {
        let start = bufs[at].as_ptr() as usize;
        let mut end = start + bufs[at].len();
        at += 1;
        while at < bufs.len() && bufs[at].as_ptr() as usize == end {
            end += bufs[at].len();
            at += 1;
        }
        let (first, last) = (start.next_multiple_of(PAGE), end & !(PAGE - 1));
        if last > first {
            release_pages(first, last - first);
        }
    }
}

// ---- a value shared between processes ----

/// A value in a shared anonymous mapping made before `fork`, so every
/// worker sees the same one, guarded by a spin lock whose word records the
/// owner's pid (a dead owner can be detected and the value repaired).
pub struct Shared<T> {
    lock: AtomicU32,
    owner: AtomicI32,
    value: UnsafeCell<T>,
}

// SAFETY: the value is reached only through `Guard`, which exists only
// while the lock is held.
unsafe impl<T: Send> Sync for Shared<T> {}

/// Exclusive access to a [`Shared`] value; unlocks when dropped.
pub struct Guard<'a, T> {
    shared: &'a Shared<T>,
}

impl<T> Shared<T> {
    /// Maps shared memory and moves `init()` into it. Never unmapped.
    pub fn create(init: impl FnOnce() -> T) -> Result<&'static Shared<T>, Errno> {
        let p = mmap_anon(core::mem::size_of::<Shared<T>>(), true)? as *mut Shared<T>;
        // SAFETY: the fresh mapping is large enough, page-aligned and not
        // yet shared with anyone (workers are forked later).
        // Fields are written one by one so a large value is not copied
        // through a second temporary.
        unsafe {
            core::ptr::addr_of_mut!((*p).lock).write(AtomicU32::new(0));
            core::ptr::addr_of_mut!((*p).owner).write(AtomicI32::new(0));
            core::ptr::addr_of_mut!((*p).value).write(UnsafeCell::new(init()));
            Ok(&*p)
        }
    }

    /// Takes the lock, spinning then yielding while another process has it.
    pub fn lock(&self) -> Guard<'_, T> {
        let me = getpid();
        let mut spins = 0u32;
        loop {
            if self
                .lock
                .compare_exchange_weak(0, 1, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                self.owner.store(me, Ordering::Relaxed);
                return Guard { shared: self };
            }
            spins += 1;
            if spins < 64 {
                core::hint::spin_loop();
            } else {
                sched_yield();
                // A holder that died without unlocking: the supervisor
                // repairs the value; meanwhile keep waiting.
                let owner = self.owner.load(Ordering::Relaxed);
                if spins.is_multiple_of(4096) && owner > 0 && kill(owner, 0) == Err(Errno::ESRCH) {
                    spins = 0;
                }
            }
        }
    }

    /// The pid holding the lock, if it is held.
    pub fn holder(&self) -> Option<i32> {
        (self.lock.load(Ordering::Acquire) == 1).then(|| self.owner.load(Ordering::Relaxed))
    }

    /// Takes over the lock from `dead`, a holder that has exited; None if
    /// `dead` does not hold it.
    pub fn take_over(&self, dead: i32) -> Option<Guard<'_, T>> {
        if self.holder() != Some(dead) {
            return None;
        }
        self.owner
            .compare_exchange(dead, getpid(), Ordering::AcqRel, Ordering::Relaxed)
            .ok()?;
        Some(Guard { shared: self })
    }
}

impl<T> core::ops::Deref for Guard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while this process holds the lock.
        unsafe { &*self.shared.value.get() }
    }
}

impl<T> core::ops::DerefMut for Guard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as above, and &mut self makes the access unique here.
        unsafe { &mut *self.shared.value.get() }
    }
}

impl<T> Drop for Guard<'_, T> {
    fn drop(&mut self) {
        self.shared.owner.store(0, Ordering::Relaxed);
        self.shared.lock.store(0, Ordering::Release);
    }
}

/// A value in a shared anonymous mapping made before `fork`, reached by
/// every worker without a lock: for values made only of atomics, which
/// each process reads and writes as its own (the per-worker metrics).
/// Never unmapped.
pub fn shared_atomics<T: Sync>(init: impl FnOnce() -> T) -> Result<&'static T, Errno> {
    const PAGE: usize = 4096;
    const { assert!(core::mem::align_of::<T>() <= PAGE) };
    let p = mmap_anon(core::mem::size_of::<T>().max(1), true)? as *mut T;
    // SAFETY: the fresh mapping is large enough and page-aligned (so
    // aligned for T, checked above); nothing else refers to it yet
    // (workers are forked later), and `T: Sync` makes the shared
    // references handed out sound across processes as across threads.
    unsafe {
        p.write(init());
        Ok(&*p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: usize = 4096;

    #[test]
    fn give_back_zeroes_the_whole_pages_of_buffers_end_to_end() {
        let mut map = Zeroed::<u8>::new(4 * PAGE).unwrap();
        let all = map.slice();
        all.fill(7);
        // Three buffers end to end from byte 100 to 3 pages + 50: the
        // whole pages 1 and 2 go back, across the buffers' borders.
        let (head, rest) = all.split_at_mut(100);
        let (a, rest) = rest.split_at_mut(PAGE + 10);
        let (b, rest) = rest.split_at_mut(PAGE);
        let (c, tail) = rest.split_at_mut(PAGE - 60);
        give_back(&mut [c, a, b]);
        assert!(head.iter().all(|&x| x == 7));
        assert!(tail.iter().all(|&x| x == 7));
        let all = map.slice();
        assert!(all[100..PAGE].iter().all(|&x| x == 7), "page 0 is shared");
        assert!(all[PAGE..3 * PAGE].iter().all(|&x| x == 0));
        assert!(all[3 * PAGE..].iter().all(|&x| x == 7), "page 3 is shared");
    }

    #[test]
    fn shared_atomics_are_seen_by_a_forked_child() {
        use core::sync::atomic::AtomicU64;
        let counter = shared_atomics(|| AtomicU64::new(5)).unwrap();
        if crate::sys::fork().unwrap() == 0 {
            counter.fetch_add(2, Ordering::Relaxed);
            crate::sys::exit(0)
        }
        // The child is left for the test process's exit to reap.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while counter.load(Ordering::Relaxed) != 7 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(counter.load(Ordering::Relaxed), 7);
    }

    #[test]
    fn give_back_leaves_a_buffer_within_one_page_alone() {
        let mut map = Zeroed::<u8>::new(2 * PAGE).unwrap();
        map.slice().fill(7);
        let (_, rest) = map.slice().split_at_mut(1);
        give_back(&mut [&mut rest[..PAGE]]);
        assert!(map.slice().iter().all(|&x| x == 7));
    }
}
