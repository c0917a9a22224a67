//! A small levelled logger on the console (`console::Line`: semihosting
//! when QEMU offers it, else the UART). The level is fixed at build time
//! (`BEDROCK_LOG=error|warn|info|debug|trace`, default info); a disabled
//! level costs one comparison of constants, so nothing is formatted on the
//! per-packet path at the default level. Lines carry the time since boot.

/// Log levels, most severe first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    /// Something failed.
    Error = 1,
    /// Something is off but the kernel carries on.
    Warn = 2,
    /// Milestones (boot, device found, network up).
    Info = 3,
    /// Details useful when debugging a subsystem.
    Debug = 4,
    /// Per-packet detail.
    Trace = 5,
}

/// The build-time maximum level.
pub const MAX_LEVEL: u8 = crate::config::LOG_LEVEL;

/// Whether `level` is logged in this build.
#[inline(always)]
pub const fn enabled(level: Level) -> bool {
    level as u8 <= MAX_LEVEL
}

#[doc(hidden)]
pub fn write_record(level: Level, args: core::fmt::Arguments) {
    use core::fmt::Write;
    let us = crate::time::now().micros();
    let tag = match level {
        Level::Error => "ERROR",
        Level::Warn => "WARN ",
        Level::Info => "INFO ",
        Level::Debug => "DEBUG",
        Level::Trace => "TRACE",
    };
    let mut w = crate::console::Line::new();
    let _ = writeln!(
        w,
        "[{:4}.{:06}] {tag} {args}",
        us / 1_000_000,
        us % 1_000_000
    );
}

/// Logs at an explicit level.
#[macro_export]
macro_rules! log {
    ($level:expr, $($arg:tt)*) => {
        if $crate::log::enabled($level) {
            $crate::log::write_record($level, format_args!($($arg)*));
        }
    };
}
/// Logs an error.
#[macro_export]
macro_rules! error { ($($arg:tt)*) => { $crate::log!($crate::log::Level::Error, $($arg)*) }; }
/// Logs a warning.
#[macro_export]
macro_rules! warn { ($($arg:tt)*) => { $crate::log!($crate::log::Level::Warn, $($arg)*) }; }
/// Logs a milestone.
#[macro_export]
macro_rules! info { ($($arg:tt)*) => { $crate::log!($crate::log::Level::Info, $($arg)*) }; }
/// Logs a debugging detail.
#[macro_export]
macro_rules! debug { ($($arg:tt)*) => { $crate::log!($crate::log::Level::Debug, $($arg)*) }; }
/// Logs per-packet detail.
#[macro_export]
macro_rules! trace { ($($arg:tt)*) => { $crate::log!($crate::log::Level::Trace, $($arg)*) }; }

/// Prints without a log header (the test runner's report lines).
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = writeln!($crate::console::Line::new(), $($arg)*);
    }};
}
/// Prints without a newline.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = write!($crate::console::Line::new(), $($arg)*);
    }};
}
