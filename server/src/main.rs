//! bedrock-serve: a static, libc-free Linux server for a directory of
//! files and the Hotel API. `#![no_std]`, its own `_start` and syscall
//! layer (`sys`, the only module with `unsafe`), a supervisor process
//! that forks N workers (each an epoll loop on its own SO_REUSEPORT
//! listener) and restarts them, and the workspace's HTTP crates for every
//! byte of protocol.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
// Host unit tests (`make server-test`) build with std and libtest's main;
// what only the real program reaches is unused there.
#![cfg_attr(test, allow(dead_code))]

mod args;
mod dir;
mod evict;
mod files;
mod journal;
mod listing;
mod log;
mod out;
mod supervisor;
mod sys;
mod worker;

#[cfg(not(test))]
use core::panic::PanicInfo;

/// The program, called by `sys::start::entry` with the command line.
#[cfg(not(test))]
pub fn main(argv: &[&'static [u8]], too_many: bool) -> ! {
    let opts = match args::parse(argv, too_many) {
        Ok(args::Parsed::Run(opts)) => opts,
        Ok(args::Parsed::Help) => {
            let _ = sys::write_all(1, args::HELP.as_bytes());
            sys::exit(0)
        }
        Err(message) => {
            let mut line = out::Line::new();
            line.s("bedrock-serve: ").b(message.0).b(message.1);
            line.s("\nTry 'bedrock-serve --help'.\n");
            let _ = sys::write_all(2, line.as_bytes());
            sys::exit(2)
        }
    };
    supervisor::run(opts)
}

#[cfg(not(test))]
#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    let mut line = out::Line::new();
    line.s("bedrock-serve: internal error");
    if let Some(at) = info.location() {
        line.s(" at ").s(at.file()).s(":").n(u64::from(at.line()));
    }
    line.s("\n");
    let _ = sys::write_all(2, line.as_bytes());
    sys::exit(70)
}

#[cfg(test)]
mod test_util {
    use std::os::fd::AsRawFd;
    use std::path::PathBuf;

    /// A fresh, empty directory for one test.
    pub fn temp_dir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("bedrock-serve-unit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// A directory descriptor (kept open for the test's life).
    pub fn dir_fd(path: &std::path::Path) -> i32 {
        let f = std::fs::File::open(path).unwrap();
        let fd = f.as_raw_fd();
        std::mem::forget(f);
        fd
    }
}
