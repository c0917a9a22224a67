//! The process entry point: reads argc and argv from the initial stack
//! (System V / Linux layout) and hands them to `crate::main` as slices.

/// Most command-line arguments looked at; more are reported as an error.
pub const MAX_ARGS: usize = 64;

/// Called by `_start` with the initial stack pointer.
///
/// # Safety
/// `sp` must be the stack pointer the kernel gave the process: `argc`,
/// then `argc` pointers to NUL-terminated strings, then NULL.
pub unsafe extern "C" fn entry(sp: *const usize) -> ! {
    // SAFETY: the kernel's initial stack starts with argc (see above).
    let argc = unsafe { *sp };
    let mut args: [&'static [u8]; MAX_ARGS] = [b""; MAX_ARGS];
    let n = argc.min(MAX_ARGS);
    for (i, slot) in args.iter_mut().enumerate().take(n) {
        // SAFETY: argv[i] for i < argc is a valid pointer to a
        // NUL-terminated string that lives as long as the process (the
        // kernel copied it onto the stack, which this program never frees).
        *slot = unsafe {
            let p = *sp.add(1 + i) as *const u8;
            core::slice::from_raw_parts(p, super::mem::strlen(p))
        };
    }
    crate::main(&args[..n], argc > MAX_ARGS)
}
