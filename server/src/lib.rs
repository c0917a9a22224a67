//! bedrock-serve: a static, libc-free Linux server for a directory of
//! files and any `bedrock_web::Service` app beside them, as a library: an
//! image is a binary of a few lines naming its app ([`app!`], see
//! `src/bin/hotel.rs` and `src/bin/todo.rs`). `#![no_std]`, its own
//! `_start` and syscall layer (`sys`, the only module with `unsafe`), a
//! supervisor process that forks N workers (each an epoll loop on its own
//! SO_REUSEPORT listener) and restarts them, the app's changes journaled
//! (`app`, `journal`), and the workspace's HTTP crates for every byte of
//! protocol.
#![cfg_attr(not(test), no_std)]
// Host unit tests (`make server-test`) build with std and libtest's main;
// what only the real program reaches is unused there.
#![cfg_attr(test, allow(dead_code))]

mod app;
mod args;
mod dir;
mod evict;
mod files;
mod journal;
mod listing;
mod log;
mod metrics;
mod out;
mod site;
mod socket;
mod supervisor;
mod sys;
mod worker;

pub use app::AppSpec;
use bedrock_web::{Persist, Service};
#[cfg(not(test))]
use core::panic::PanicInfo;

/// Parses the command line and serves `spec`'s app beside the files
/// under `--root`; never returns. Called by the binary's [`app!`].
pub fn serve<S: Service + Persist + Send>(
    argv: &[&'static [u8]],
    too_many: bool,
    spec: &AppSpec<S>,
) -> ! {
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
    supervisor::run(opts, spec)
}

/// Declares the binary's app, the whole `main` of an image (see
/// `src/bin/todo.rs`):
/// `bedrock_serve::app!(Todos::new, mount: &["/todos", "/todo"], journal: "todos.journal");`
/// names the app's constructor, the path prefixes it answers (every
/// other path is a file under `--root`) and its journal's file name in
/// `--data` (the fields of an [`AppSpec`]).
#[macro_export]
macro_rules! app {
    ($new:expr, mount: $mount:expr, journal: $journal:expr $(,)?) => {
        /// The program, called by the library's entry point.
        #[no_mangle]
        fn bedrock_serve_app(argv: &[&'static [u8]], too_many: bool) -> ! {
            let spec = $crate::AppSpec {
                mount: $mount,
                journal: $journal,
                new: $new,
            };
            $crate::serve(argv, too_many, &spec)
        }
    };
}

/// The program, called by `sys::start::entry` with the command line: the
/// binary's app (see [`app!`]).
#[cfg(not(test))]
fn main(argv: &[&'static [u8]], too_many: bool) -> ! {
    extern "Rust" {
        fn bedrock_serve_app(argv: &[&'static [u8]], too_many: bool) -> !;
    }
    // SAFETY: every binary built on this library defines this function
    // with this signature, through `app!`.
    unsafe { bedrock_serve_app(argv, too_many) }
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
