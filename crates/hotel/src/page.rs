//! What people see: the Hotel web page (`/hotels`, and `/` for browsers)
//! and the welcome text (`/` for terminals), and how `Accept` picks one.

use bedrock_web::Reply;

use crate::csp::{policy, POLICY_LEN};

/// What `GET /` answers clients that do not ask for HTML: where to go
/// next, readable in a terminal.
pub const WELCOME: &[u8] = b"Welcome to bedrock: the Hotel API.\n\
\n\
  GET    /api/hotels          list every hotel (JSON)\n\
  POST   /api/hotels          create one: body \"name,city\", a form, or JSON\n\
  GET    /api/hotels/{id}     one hotel\n\
  PUT    /api/hotels/{id}     replace its name and city\n\
  DELETE /api/hotels/{id}     delete it\n\
  GET    /hotels              the web page (open it in a browser)\n\
\n\
Try: curl -X POST -d \"Hilton,Toronto\" localhost:8888/api/hotels\n";

/// The Hotel web page: one self-contained HTML document with its CSS and
/// JavaScript inline, talking to `/api/hotels`.
pub const PAGE: &[u8] = include_bytes!("page.html");

/// The page's Content-Security-Policy, hashed from the page at compile time.
const PAGE_CSP: [u8; POLICY_LEN] = policy(PAGE);

/// The page is small and has no validators: revalidating (fetching again)
/// on every visit costs little and never shows a stale page.
const PAGE_CACHE_CONTROL: &[u8] = b"no-cache";

const HTML: &str = "text/html; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// The page with its security headers.
pub fn page_reply() -> Reply {
    Reply::fixed(200, HTML, PAGE)
        .header("Content-Security-Policy", &PAGE_CSP)
        .header("Cache-Control", PAGE_CACHE_CONTROL)
        .header("X-Content-Type-Options", b"nosniff")
}

/// `GET /`: the page when the client prefers HTML, the welcome text
/// otherwise; either way caches must key on `Accept`.
pub fn index_reply(accept: Option<&[u8]>) -> Reply {
    let reply = if wants_html(accept) {
        page_reply()
    } else {
        Reply::fixed(200, TEXT, WELCOME).header("X-Content-Type-Options", b"nosniff")
    };
    reply.header("Vary", b"Accept")
}

/// Whether an `Accept` value ranks `text/html` strictly above
/// `text/plain` (RFC 9110, 12.5.1: each gets the weight of the most
/// specific range that matches it). Browsers list `text/html` first, so
/// they get the page; `*/*` (curl), no header at all (scripts) and
/// `text/html;q=0` tie or lose, and get text.
pub fn wants_html(accept: Option<&[u8]>) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    weight(accept, b"text", b"html") > weight(accept, b"text", b"plain")
}

/// How much `accept` wants `kind/subtype`, in thousandths (0 when no range
/// matches). Ranges with a malformed weight are skipped.
fn weight(accept: &[u8], kind: &[u8], subtype: &[u8]) -> u16 {
    // (specificity, weight): 1 for */*, 2 for kind/*, 3 for kind/subtype.
    let mut best = (0u8, 0u16);
    for range in accept.split(|&b| b == b',') {
        let mut parts = range.split(|&b| b == b';');
        let media = parts.next().unwrap_or_default().trim_ascii();
        let Some(slash) = media.iter().position(|&b| b == b'/') else {
            continue;
        };
        let (range_kind, range_subtype) = (&media[..slash], &media[slash + 1..]);
        let specificity = if range_kind == b"*" && range_subtype == b"*" {
            1
        } else if !range_kind.eq_ignore_ascii_case(kind) {
            continue;
        } else if range_subtype == b"*" {
            2
        } else if range_subtype.eq_ignore_ascii_case(subtype) {
            3
        } else {
            continue;
        };
        let mut q = Some(1000);
        for param in parts {
            let param = param.trim_ascii();
            if param.len() >= 2 && param[..2].eq_ignore_ascii_case(b"q=") {
                q = qvalue(&param[2..]);
            }
        }
        if let Some(q) = q {
            if specificity > best.0 {
                best = (specificity, q);
            }
        }
    }
    best.1
}

/// A weight (RFC 9110, 12.4.2: `0`, `0.5`, `1.000` ...) in thousandths.
fn qvalue(text: &[u8]) -> Option<u16> {
    let (&first, rest) = text.split_first()?;
    let fraction = match rest {
        [] => &[][..],
        [b'.', digits @ ..] if digits.len() <= 3 => digits,
        _ => return None,
    };
    let mut thousandths = 0u16;
    let mut scale = 100;
    for &d in fraction {
        if !d.is_ascii_digit() {
            return None;
        }
        thousandths += u16::from(d - b'0') * scale;
        scale /= 10;
    }
    match first {
        b'0' => Some(thousandths),
        b'1' if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::csp::{inline_block, sha256};
    use crate::limits::PAGE_BUDGET_BYTES;

    const CHROME: &[u8] = b"text/html,application/xhtml+xml,application/xml;q=0.9,\
image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
    const FIREFOX: &[u8] = b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    #[test]
    fn browsers_get_html_and_terminals_get_text() {
        assert!(wants_html(Some(CHROME)));
        assert!(wants_html(Some(FIREFOX)));
        assert!(wants_html(Some(b"text/html")));
        assert!(wants_html(Some(b"TEXT/HTML ; Q=0.9, text/plain;q=0.5")));
        assert!(wants_html(Some(b"text/plain;q=0.001, text/html;q=0.002")));
        // curl, wget, scripts without the header, and refusals.
        assert!(!wants_html(None));
        assert!(!wants_html(Some(b"*/*")));
        assert!(!wants_html(Some(b"")));
        assert!(!wants_html(Some(b"text/html;q=0")));
        assert!(!wants_html(Some(b"text/html;q=0, */*")));
        assert!(!wants_html(Some(b"text/*")));
        assert!(!wants_html(Some(b"text/plain, text/html")));
        assert!(!wants_html(Some(b"application/json")));
        assert!(!wants_html(Some(b"text/plain;q=0.9, text/html;q=0.9")));
        // A malformed weight drops its range rather than guessing.
        assert!(!wants_html(Some(b"text/html;q=2")));
        assert!(!wants_html(Some(b"text/html;q=0.5x")));
        assert!(!wants_html(Some(b"garbage,,;;/")));
    }

    #[test]
    fn qvalues_at_and_past_their_grammar() {
        assert_eq!(qvalue(b"1"), Some(1000));
        assert_eq!(qvalue(b"1.000"), Some(1000));
        assert_eq!(qvalue(b"0.999"), Some(999));
        assert_eq!(qvalue(b"0."), Some(0));
        assert_eq!(qvalue(b"0.5"), Some(500));
        assert_eq!(qvalue(b"0.9999"), None); // four decimals: one past
        assert_eq!(qvalue(b"1.001"), None);
        assert_eq!(qvalue(b"2"), None);
        assert_eq!(qvalue(b""), None);
        assert_eq!(qvalue(b".5"), None);
    }

    #[test]
    fn the_policy_hashes_the_pages_inline_script_and_style() {
        use sha2::Digest;
        let csp = core::str::from_utf8(&PAGE_CSP).unwrap();
        for (open, close, directive) in [
            (&b"<script>"[..], &b"</script>"[..], "script-src"),
            (b"<style>", b"</style>", "style-src"),
        ] {
            let block = inline_block(PAGE, open, close);
            assert!(block.len() > 100, "{directive} block looks wrong");
            // Found independently: the text after the tag in the page.
            let text = core::str::from_utf8(PAGE).unwrap();
            let tag = core::str::from_utf8(open).unwrap();
            let start = text.find(tag).unwrap() + tag.len();
            let independent = &text[start..start + block.len()];
            assert_eq!(independent.as_bytes(), block);
            let digest = sha2::Sha256::digest(independent.as_bytes());
            let b64: [u8; 44] = crate::csp::base64(&digest.into());
            let source = std::format!(
                "{directive} 'sha256-{}'",
                core::str::from_utf8(&b64).unwrap()
            );
            assert!(csp.contains(&source), "{source} not in {csp}");
            assert_eq!(sha256(block)[..], digest[..]);
        }
        assert!(csp.starts_with("default-src 'none'; "));
        // No inline event handlers or style attributes: the hashes do not
        // cover them, so the browser would block them.
        let text = core::str::from_utf8(PAGE).unwrap();
        for attribute in [" onclick=", " onload=", " onsubmit=", " style="] {
            assert!(!text.contains(attribute), "{attribute}");
        }
    }

    #[test]
    fn page_fits_its_budget() {
        assert!(
            PAGE.len() <= PAGE_BUDGET_BYTES,
            "the page is {} bytes, over {PAGE_BUDGET_BYTES}",
            PAGE.len()
        );
        assert!(core::str::from_utf8(PAGE).is_ok());
    }
}
