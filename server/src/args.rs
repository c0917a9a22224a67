//! The command line: every flag, its default (named constants) and the
//! help text.

use crate::sys::SockAddr;

/// Connections one worker keeps open; past it, 503 with Retry-After.
pub const MAX_CONNS: usize = 1024;
/// A request head must arrive whole within this long (slowloris): 408.
pub const HEAD_TIMEOUT_MS: u64 = 10_000;
/// Longest silence while a request (head or body) is being received: 408.
pub const READ_TIMEOUT_MS: u64 = 10_000;
/// A kept-alive connection idle this long is closed.
pub const KEEPALIVE_TIMEOUT_MS: u64 = 5_000;
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
  --no-listing           403 for directories without index.html
  --max-conns N          open connections per worker before 503 (default 1024)
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
