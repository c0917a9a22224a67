//! Whether writes are allowed: `--allow-write` (else 405 with Allow) and,
//! with `--write-token`, a matching bearer token (RFC 6750 2.1; else 401
//! with `WWW-Authenticate: Bearer`).

use bedrock_http::Request;

use super::reply::error;
use super::{Answer, FileCfg};

/// Methods allowed on files.
pub fn allow(cfg: &FileCfg<'_>) -> &'static [u8] {
    if cfg.allow_write {
        b"GET, HEAD, PUT, DELETE, OPTIONS"
    } else {
        b"GET, HEAD, OPTIONS"
    }
}

/// Checks that writes are on and authorised: Err(reply) otherwise.
// No heap to box the refusal in: it is returned by value, once a request.
#[allow(clippy::result_large_err)]
pub(super) fn write_allowed(
    cfg: &FileCfg<'_>,
    req: &Request<'_, '_>,
    out: &mut [u8],
) -> Result<(), Answer> {
    if !cfg.allow_write {
        return Err(error(cfg, out, 405, &[("Allow", allow(cfg))]));
    }
    if let Some(token) = cfg.token {
        let given = req.header("authorization").and_then(bearer);
        if !given.is_some_and(|g| constant_time_eq(g, token)) {
            return Err(error(cfg, out, 401, &[("WWW-Authenticate", b"Bearer")]));
        }
    }
    Ok(())
}

/// The token of an `Authorization: Bearer <token>` value (the scheme is
/// case-insensitive, RFC 9110 11.1).
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let v = value.trim_ascii();
    (v.len() > 7 && v[..7].eq_ignore_ascii_case(b"bearer ")).then(|| v[7..].trim_ascii())
}

/// Compares without an early exit, so the time taken does not tell how
/// much of a guessed token was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens() {
        let cases = [
            ("Bearer abc", Some("abc")),
            ("bearer abc", Some("abc")),
            ("BEARER   abc  ", Some("abc")),
            ("Bearer  ", None),
            ("Bearer ", None),
            ("Bearer", None),
            ("Basic abc", None),
            ("Bearerabc", None),
        ];
        for (value, token) in cases {
            assert_eq!(
                bearer(value.as_bytes()),
                token.map(str::as_bytes),
                "{value}"
            );
        }
    }

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secre"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }
}
