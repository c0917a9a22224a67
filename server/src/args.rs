//! The command line: every flag, its default (named constants) and the
//! help text.

use bedrock_conn::LogFormat;

use crate::sys::SockAddr;

/// Connections one worker keeps open; past it a newcomer takes the place
/// of a lingering, idle or slow-head one (`evict`), else gets 503 with
/// Retry-After.
pub const MAX_CONNS: usize = 1024;
/// A request head must arrive whole within this long (slowloris): 408.
pub const HEAD_TIMEOUT_MS: u64 = 10_000;
/// Longest silence while a request (head or body) is being received: 408.
pub const READ_TIMEOUT_MS: u64 = 10_000;
/// A kept-alive connection idle this long is closed: the unikernel's
/// (`bedrock_conn`'s) idle timeout, so both servers behave alike.
pub const KEEPALIVE_TIMEOUT_MS: u64 = bedrock_conn::IDLE_TIMEOUT_US / 1000;
const _: () = assert!(KEEPALIVE_TIMEOUT_MS * 1000 == bedrock_conn::IDLE_TIMEOUT_US);
/// A reply the client stops reading for this long is abandoned.
pub const SEND_TIMEOUT_MS: u64 = 30_000;
/// Uploads slower than this on average (after the first read timeout) get 408.
pub const MIN_BODY_RATE: u64 = 1024;
/// Largest PUT body: 413 past it.
pub const MAX_PUT_BYTES: u64 = 1 << 30;
/// Most workers accepted on the command line.
pub const MAX_WORKERS: usize = 64;

pub const HELP: &str = "\
bedrock-serve: serve a directory and the Hotel API over HTTP/1.1.

Usage: bedrock-serve --root DIR [options]

  --root DIR             directory to serve (required)
  --listen IP:PORT       address to listen on (default 127.0.0.1:8080)
  --workers N            worker processes (default: number of CPUs)
  --allow-write          accept PUT and DELETE of files (otherwise 405)
  --write-token TOKEN    writes also need 'Authorization: Bearer TOKEN' (401)
  --data DIR             keep the hotels in DIR/hotels.journal (default: memory only)
  --quiet                no access log on stdout
  --log-format FORMAT    access log lines as logfmt (default) or json
  --no-listing           403 for directories without index.html
  --max-conns N          open connections per worker (default 1024); past it a
                         newcomer replaces a lingering, idle or slow-head one,
                         else gets 503
  --head-timeout SECS    whole request head must arrive within SECS (default 10)
  --read-timeout SECS    longest silence inside a request (default 10)
  --keepalive-timeout SECS  idle keep-alive connections close after SECS (default 5)
  --min-body-rate BYTES  slowest average upload accepted, bytes/s (default 1024)
  --max-body BYTES       largest PUT body (default 1073741824)
  --help                 this text

The Hotel API is at /api/hotels and its page at /hotels; everything else
is a file under --root. SIGTERM or SIGINT: stop accepting, finish the
requests in flight, exit 0.
";

/// Everything the command line decides.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub root: &'static [u8],
    pub listen: SockAddr,
    pub workers: usize,
    pub allow_write: bool,
    pub write_token: Option<&'static [u8]>,
    pub data: Option<&'static [u8]>,
    pub quiet: bool,
    pub log_format: LogFormat,
    pub listing: bool,
    pub max_conns: usize,
    pub head_timeout_ms: u64,
    pub read_timeout_ms: u64,
    pub keepalive_timeout_ms: u64,
    pub send_timeout_ms: u64,
    pub min_body_rate: u64,
    pub max_put: u64,
}

/// What to do.
pub enum Parsed {
    Run(Options),
    Help,
}

/// A message in two parts (text, then the offending argument).
pub struct ArgError(pub &'static [u8], pub &'static [u8]);

fn number(flag: &'static [u8], v: &'static [u8], min: u64, max: u64) -> Result<u64, ArgError> {
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return Err(ArgError(b"expected a number after ", flag));
    }
    let n = v.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    if n < min || n > max {
        return Err(ArgError(b"value out of range for ", flag));
    }
    Ok(n)
}

/// `a.b.c.d:port`.
pub fn parse_addr(v: &[u8]) -> Option<SockAddr> {
    let colon = v.iter().rposition(|&b| b == b':')?;
    let (host, port) = (&v[..colon], &v[colon + 1..]);
    let host: &[u8] = if host == b"localhost" {
        b"127.0.0.1"
    } else {
        host
    };
    let mut ip = [0u8; 4];
    let mut parts = host.split(|&b| b == b'.');
    for octet in ip.iter_mut() {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n = p.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
        *octet = u8::try_from(n).ok()?;
    }
    if parts.next().is_some() || port.is_empty() || port.len() > 5 {
        return None;
    }
    if !port.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let port = port.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    Some(SockAddr {
        ip,
        port: u16::try_from(port).ok()?,
    })
}

pub fn parse(argv: &[&'static [u8]], too_many: bool) -> Result<Parsed, ArgError> {
    if too_many {
        return Err(ArgError(b"too many arguments", b""));
    }
    let mut o = Options {
        root: b"",
        listen: SockAddr {
            ip: [127, 0, 0, 1],
            port: 8080,
        },
        workers: 0,
        allow_write: false,
        write_token: None,
        data: None,
        quiet: false,
        log_format: LogFormat::Logfmt,
        listing: true,
        max_conns: MAX_CONNS,
        head_timeout_ms: HEAD_TIMEOUT_MS,
        read_timeout_ms: READ_TIMEOUT_MS,
        keepalive_timeout_ms: KEEPALIVE_TIMEOUT_MS,
        send_timeout_ms: SEND_TIMEOUT_MS,
        min_body_rate: MIN_BODY_RATE,
        max_put: MAX_PUT_BYTES,
    };
    let mut root_given = false;
    let mut i = 1;
    while i < argv.len() {
        let arg = argv[i];
        i += 1;
        // --flag=value or --flag value
        let (flag, inline) = match arg.iter().position(|&b| b == b'=') {
            Some(eq) if arg.starts_with(b"--") => (&arg[..eq], Some(&arg[eq + 1..])),
            _ => (arg, None),
        };
        let takes_value = matches!(
            flag,
            b"--root"
                | b"--listen"
                | b"--workers"
                | b"--write-token"
                | b"--data"
                | b"--max-conns"
                | b"--head-timeout"
                | b"--read-timeout"
                | b"--keepalive-timeout"
                | b"--min-body-rate"
                | b"--max-body"
                | b"--log-format"
        );
        let value: &'static [u8] = if takes_value {
            match inline {
                Some(v) => v,
                None if i < argv.len() => {
                    i += 1;
                    argv[i - 1]
                }
                None => return Err(ArgError(b"missing value after ", flag)),
            }
        } else {
            if inline.is_some() {
                return Err(ArgError(b"this flag takes no value: ", flag));
            }
            b""
        };
        let secs = |v| number(flag, v, 1, 86_400).map(|s| s * 1000);
        match flag {
            b"--help" | b"-h" => return Ok(Parsed::Help),
            b"--root" => {
                o.root = value;
                root_given = true;
            }
            b"--listen" => {
                o.listen = parse_addr(value).ok_or(ArgError(b"expected IP:PORT, got ", value))?
            }
            b"--workers" => o.workers = number(flag, value, 1, MAX_WORKERS as u64)? as usize,
            b"--allow-write" => o.allow_write = true,
            b"--write-token" => {
                if value.is_empty() || !value.iter().all(|b| b.is_ascii_graphic()) {
                    return Err(ArgError(b"the token must be printable ASCII", b""));
                }
                o.write_token = Some(value)
            }
            b"--data" => o.data = Some(value),
            b"--quiet" | b"-q" => o.quiet = true,
            b"--log-format" => {
                o.log_format = LogFormat::from_name(value)
                    .ok_or(ArgError(b"--log-format takes logfmt or json, not ", value))?
            }
            b"--no-listing" => o.listing = false,
            b"--max-conns" => o.max_conns = number(flag, value, 1, 65_536)? as usize,
            b"--head-timeout" => o.head_timeout_ms = secs(value)?,
            b"--read-timeout" => o.read_timeout_ms = secs(value)?,
            b"--keepalive-timeout" => o.keepalive_timeout_ms = secs(value)?,
            b"--min-body-rate" => o.min_body_rate = number(flag, value, 0, u64::MAX >> 8)?,
            b"--max-body" => o.max_put = number(flag, value, 0, u64::MAX >> 8)?,
            _ => return Err(ArgError(b"unknown argument ", arg)),
        }
    }
    if !root_given || o.root.is_empty() {
        return Err(ArgError(b"--root DIR is required", b""));
    }
    if o.workers == 0 {
        o.workers = crate::sys::cpu_count().min(MAX_WORKERS);
    }
    Ok(Parsed::Run(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&'static str]) -> Result<Options, String> {
        let argv: Vec<&'static [u8]> = core::iter::once("bedrock-serve")
            .chain(args.iter().copied())
            .map(str::as_bytes)
            .collect();
        match parse(&argv, false) {
            Ok(Parsed::Run(o)) => Ok(o),
            Ok(Parsed::Help) => Err("help".into()),
            Err(ArgError(text, arg)) => Err(format!(
                "{}{}",
                String::from_utf8_lossy(text),
                String::from_utf8_lossy(arg)
            )),
        }
    }

    #[test]
    fn defaults_are_the_named_constants() {
        let o = run(&["--root", "/srv"]).unwrap();
        assert_eq!(o.root, b"/srv");
        assert_eq!((o.listen.ip, o.listen.port), ([127, 0, 0, 1], 8080));
        assert!(o.workers >= 1 && o.workers <= MAX_WORKERS);
        assert!(!o.allow_write && o.write_token.is_none() && o.data.is_none() && !o.quiet);
        assert_eq!(o.log_format, LogFormat::Logfmt);
        assert!(o.listing);
        assert_eq!(o.max_conns, MAX_CONNS);
        assert_eq!(o.head_timeout_ms, HEAD_TIMEOUT_MS);
        assert_eq!(o.read_timeout_ms, READ_TIMEOUT_MS);
        assert_eq!(o.keepalive_timeout_ms, KEEPALIVE_TIMEOUT_MS);
        assert_eq!(o.min_body_rate, MIN_BODY_RATE);
        assert_eq!(o.send_timeout_ms, SEND_TIMEOUT_MS);
        assert_eq!(o.max_put, MAX_PUT_BYTES);
    }

    #[test]
    fn keepalive_default_is_the_unikernels() {
        let o = run(&["--root", "/srv"]).unwrap();
        assert_eq!(o.keepalive_timeout_ms * 1000, bedrock_conn::IDLE_TIMEOUT_US);
        // --help states the same default.
        let secs = format!("(default {})", KEEPALIVE_TIMEOUT_MS / 1000);
        let line = HELP
            .lines()
            .find(|l| l.contains("--keepalive-timeout"))
            .unwrap();
        assert!(line.contains(&secs), "{line}");
    }

    #[test]
    fn every_flag_in_both_spellings() {
        let o = run(&[
            "--root=/r",
            "--listen",
            "0.0.0.0:9000",
            "--workers=3",
            "--allow-write",
            "--write-token",
            "t0k3n",
            "--data=/d",
            "-q",
            "--no-listing",
            "--max-conns",
            "7",
            "--head-timeout=2",
            "--read-timeout",
            "3",
            "--keepalive-timeout=4",
            "--min-body-rate",
            "0",
            "--max-body=5",
            "--log-format",
            "json",
        ])
        .unwrap();
        assert_eq!(o.root, b"/r");
        assert_eq!((o.listen.ip, o.listen.port), ([0, 0, 0, 0], 9000));
        assert_eq!(o.workers, 3);
        assert!(o.allow_write && o.quiet && !o.listing);
        assert_eq!(o.write_token, Some(&b"t0k3n"[..]));
        assert_eq!(o.data, Some(&b"/d"[..]));
        assert_eq!(o.max_conns, 7);
        assert_eq!(
            (o.head_timeout_ms, o.read_timeout_ms, o.keepalive_timeout_ms),
            (2000, 3000, 4000)
        );
        assert_eq!((o.min_body_rate, o.max_put), (0, 5));
        assert_eq!(o.log_format, LogFormat::Json);
        let o = run(&["--root=/r", "--log-format=logfmt", "--quiet"]).unwrap();
        assert!(o.quiet && o.log_format == LogFormat::Logfmt);
    }

    #[test]
    fn help_wins_and_documents_every_flag() {
        assert_eq!(run(&["--help"]).unwrap_err(), "help");
        assert_eq!(run(&["--root", "/r", "-h"]).unwrap_err(), "help");
        for flag in [
            "--root",
            "--listen",
            "--workers",
            "--allow-write",
            "--write-token",
            "--data",
            "--quiet",
            "--no-listing",
            "--max-conns",
            "--head-timeout",
            "--read-timeout",
            "--keepalive-timeout",
            "--min-body-rate",
            "--max-body",
            "--log-format",
            "--help",
        ] {
            assert!(HELP.contains(flag), "{flag} missing from --help");
        }
    }

    #[test]
    fn bad_command_lines_name_the_problem() {
        let cases: &[(&[&'static str], &str)] = &[
            (&["--root", "/r", "--bogus"], "unknown argument --bogus"),
            (&["--root", "/r", "stray"], "unknown argument stray"),
            (&[], "--root DIR is required"),
            (&["--root="], "--root DIR is required"),
            (&["--root"], "missing value after --root"),
            (
                &["--root", "/r", "--listen", "nope"],
                "expected IP:PORT, got nope",
            ),
            (
                &["--root", "/r", "--workers", "x"],
                "expected a number after --workers",
            ),
            (
                &["--root", "/r", "--workers", "0"],
                "value out of range for --workers",
            ),
            (
                &["--root", "/r", "--workers=-1"],
                "expected a number after --workers",
            ),
            (
                &["--root", "/r", "--quiet=yes"],
                "this flag takes no value: --quiet",
            ),
            (
                &["--root", "/r", "--write-token", "a b"],
                "the token must be printable ASCII",
            ),
            (
                &["--root", "/r", "--head-timeout", "0"],
                "value out of range for --head-timeout",
            ),
            (
                &["--root", "/r", "--max-body", "99999999999999999999"],
                "expected a number after --max-body",
            ),
            (
                &["--root", "/r", "--log-format=bogus"],
                "--log-format takes logfmt or json, not bogus",
            ),
            (
                &["--root", "/r", "--log-format", "JSON"],
                "--log-format takes logfmt or json, not JSON",
            ),
            (
                &["--root", "/r", "--log-format"],
                "missing value after --log-format",
            ),
        ];
        for (args, want) in cases {
            assert_eq!(run(args).unwrap_err(), *want, "{args:?}");
        }
        let argv: [&'static [u8]; 1] = [b"bedrock-serve"];
        assert!(matches!(
            parse(&argv, true),
            Err(ArgError(b"too many arguments", _))
        ));
    }

    #[test]
    fn limits_at_and_past() {
        let at = |flag: &'static str, v: &'static str| run(&["--root", "/r", flag, v]);
        assert_eq!(at("--workers", "64").unwrap().workers, MAX_WORKERS);
        assert!(at("--workers", "65").is_err());
        assert_eq!(at("--max-conns", "65536").unwrap().max_conns, 65_536);
        assert!(at("--max-conns", "65537").is_err());
        assert_eq!(
            at("--head-timeout", "86400").unwrap().head_timeout_ms,
            86_400_000
        );
        assert!(at("--head-timeout", "86401").is_err());
    }

    #[test]
    fn listen_addresses() {
        let ok = |v: &[u8]| parse_addr(v).map(|a| (a.ip, a.port));
        assert_eq!(ok(b"127.0.0.1:80"), Some(([127, 0, 0, 1], 80)));
        assert_eq!(ok(b"localhost:8080"), Some(([127, 0, 0, 1], 8080)));
        assert_eq!(ok(b"255.255.255.255:65535"), Some(([255; 4], 65535)));
        for bad in [
            &b"1.2.3.4:65536"[..],
            b"256.0.0.1:80",
            b"1.2.3:80",
            b"1.2.3.4.5:80",
            b"1.2.3.4",
            b"1.2.3.4:",
            b"1..3.4:80",
            b"a.b.c.d:80",
            b"1.2.3.4:8x",
            b"1234.2.3.4:80",
        ] {
            assert_eq!(ok(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }
}
