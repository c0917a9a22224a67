//! The parent process: opens the root, replays the app's journal into
//! its shared store, makes one SO_REUSEPORT listener per worker, forks the
//! workers, restarts any that die (repairing the store if one died holding
//! its lock), and on SIGTERM/SIGINT tells them to finish and waits.

use bedrock_web::{Persist, Service};

use crate::app::{self, ApiHost, AppSpec};
use crate::args::Options;
use crate::metrics::Board;
use crate::out::{addr, errno_text, say, Cursor, Line};
use crate::sys::{self, ChildExit};
use crate::worker;

/// How long workers get to finish in-flight requests after SIGTERM.
pub const SHUTDOWN_GRACE_MS: u64 = 10_000;
/// Listen backlog per worker.
const BACKLOG: u32 = 1024;

/// What every worker shares.
pub struct Common<'a> {
    pub opts: Options,
    pub root: i32,
    pub app: &'a dyn ApiHost,
    /// Every worker's counters, for `/metrics`.
    pub metrics: &'static Board,
}

fn fail(parts: &[&[u8]]) -> ! {
    say(parts);
    sys::exit(1)
}

/// Opens the `--root` directory.
fn open_root(root: &[u8]) -> i32 {
    let mut path = [0u8; 4096];
    if root.len() >= path.len() {
        fail(&[b"--root path too long"]);
    }
    path[..root.len()].copy_from_slice(root);
    let flags = sys::O_RDONLY | sys::O_DIRECTORY;
    match sys::openat(sys::AT_FDCWD, &path[..root.len() + 1], flags, 0) {
        Ok(fd) => fd,
        Err(e) => fail(&[b"cannot open --root ", root, b": ", errno_text(e)]),
    }
}

/// Says what is served where, on stderr.
fn announce(opts: &Options) {
    let mut a = [0u8; 32];
    let mut c = Cursor::new(&mut a);
    addr(&mut c, opts.listen);
    let n = c.len();
    let mut line = Line::new();
    line.s("bedrock-serve: serving ")
        .b(opts.root)
        .s(" on http://")
        .b(&a[..n]);
    line.s(" with ").n(opts.workers as u64).s(" workers");
    line.s(if opts.allow_write {
        ", writes allowed"
    } else {
        ", read-only"
    });
    line.s("\n");
    let _ = sys::write_all(2, line.as_bytes());
}

/// Serves `spec`'s app and the files under `--root` as `opts` say.
pub fn run<S: Service + Persist + Send>(opts: Options, spec: &AppSpec<S>) -> ! {
    let root = open_root(opts.root);
    if opts.allow_write {
        sweep_orphans(root);
    }
    // Built in a function of its own so the store's large temporaries
    // live in a frame that is gone before the stack is trimmed.
    let hosted = app::open(spec, opts.data);
    sys::trim_stack();
    let mut listeners = [-1i32; crate::args::MAX_WORKERS];
    for l in listeners.iter_mut().take(opts.workers) {
        *l = match sys::tcp_listener(opts.listen, BACKLOG) {
            Ok(fd) => fd,
            Err(e) => {
                let mut a = [0u8; 32];
                let mut c = Cursor::new(&mut a);
                addr(&mut c, opts.listen);
                let n = c.len();
                fail(&[b"cannot listen on ", &a[..n], b": ", errno_text(e)])
            }
        };
    }
    let _ = sys::ignore_signal(sys::SIGPIPE);
    let signals = [sys::SIGTERM, sys::SIGINT, sys::SIGCHLD, sys::SIGHUP];
    let _ = sys::block_signals(&signals);
    let metrics = match Board::create(opts.workers) {
        Ok(board) => board,
        Err(e) => fail(&[b"cannot map the metrics' shared memory: ", errno_text(e)]),
    };
    let shared = Common {
        opts,
        root,
        app: &hosted,
        metrics,
    };
    announce(&opts);
    let mut pids = [0i32; crate::args::MAX_WORKERS];
    for (i, pid) in pids.iter_mut().enumerate().take(opts.workers) {
        *pid = spawn(&shared, &listeners, i);
    }
    let mut stopping = false;
    let mut stop_deadline = 0;
    loop {
        let timeout = if stopping { 100 } else { 1000 };
        match sys::sigtimedwait(&signals, timeout) {
            Ok(Some(sig)) if (sig == sys::SIGTERM || sig == sys::SIGINT) && !stopping => {
                stopping = true;
                stop_deadline =
                    sys::clock_us(sys::CLOCK_MONOTONIC) + (SHUTDOWN_GRACE_MS + 2000) * 1000;
                for &pid in pids.iter().take(opts.workers).filter(|&&p| p > 0) {
                    let _ = sys::kill(pid, sys::SIGTERM);
                }
            }
            _ => {}
        }
        // Workers whose fork failed are retried.
        if !stopping {
            for (i, pid) in pids.iter_mut().enumerate().take(opts.workers) {
                if *pid < 0 {
                    *pid = spawn(&shared, &listeners, i);
                }
            }
        }
        // Reap every child that ended.
        while let Ok(Some((pid, how))) = sys::wait_any_nohang() {
            let Some(i) = pids.iter().take(opts.workers).position(|&p| p == pid) else {
                continue;
            };
            pids[i] = 0;
            shared.app.repair(pid);
            sys::trim_stack();
            if stopping {
                continue;
            }
            let mut line = Line::new();
            line.s("bedrock-serve: worker ").n(pid as u64);
            match how {
                ChildExit::Code(c) => line.s(" exited with code ").n(c as u64),
                ChildExit::Signal(s) => line.s(" killed by signal ").n(u64::from(s)),
            };
            line.s("; restarting it\n");
            let _ = sys::write_all(2, line.as_bytes());
            shared.metrics.restarted();
            sys::sleep_ms(50);
            pids[i] = spawn(&shared, &listeners, i);
        }
        if stopping {
            if pids.iter().all(|&p| p <= 0) {
                say(&[b"stopped"]);
                sys::exit(0);
            }
            if sys::clock_us(sys::CLOCK_MONOTONIC) > stop_deadline {
                for &pid in pids.iter().filter(|&&p| p > 0) {
                    let _ = sys::kill(pid, sys::SIGKILL);
                }
            }
        }
    }
}

/// Removes the temp files of uploads a crash cut off, in a child process
/// so a large tree does not hold up start-up (temp files are never served
/// meanwhile). The child dies with the parent.
fn sweep_orphans(root: i32) {
    match sys::fork() {
        Ok(0) => {
            sys::set_parent_death_signal(sys::SIGKILL);
            // A descriptor of its own: reading entries moves the offset,
            // which a forked copy of `root` would share with the workers.
            let flags = sys::O_RDONLY | sys::O_DIRECTORY | sys::O_CLOEXEC;
            let removed = match sys::openat(root, b".\0", flags, 0) {
                Ok(fd) => crate::dir::reap_orphans(fd, 0),
                Err(_) => 0,
            };
            if removed > 0 {
                let mut line = Line::new();
                line.s("bedrock-serve: removed ")
                    .n(removed)
                    .s(" temp files of interrupted uploads\n");
                let _ = sys::write_all(2, line.as_bytes());
            }
            sys::exit(0)
        }
        Ok(_) => {}
        Err(_) => say(&[b"fork failed; temp files of interrupted uploads stay (never served)"]),
    }
}

fn spawn(shared: &Common, listeners: &[i32], i: usize) -> i32 {
    match sys::fork() {
        Ok(0) => {
            sys::set_parent_death_signal(sys::SIGTERM);
            for (j, &fd) in listeners.iter().enumerate() {
                if j != i && fd >= 0 {
                    sys::close(fd);
                }
            }
            worker::run(shared, listeners[i], i)
        }
        Ok(pid) => pid,
        Err(_) => {
            say(&[b"fork failed; retrying later"]);
            -1
        }
    }
}
