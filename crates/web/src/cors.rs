//! CORS for an API that any web page may call: the Fetch standard's CORS
//! protocol (<https://fetch.spec.whatwg.org/#http-cors-protocol>), for
//! requests without credentials. Call [`allow_any_origin`] from
//! `Service::finish`, which sees every reply, the framework's own
//! included.

use bedrock_http::{Method, Request};

use crate::reply::Reply;

/// Request headers a page may send beyond the CORS-safelisted ones.
const ALLOW_HEADERS: &[u8] = b"Content-Type, Accept";

/// Seconds a browser may keep a preflight's answer.
const MAX_AGE: &[u8] = b"600";

/// Room for an `Allow` value: every method, with separators.
const ALLOW_BYTES: usize = 96;

/// `reply`, readable by a page from any origin
/// (`Access-Control-Allow-Origin: *`). To a preflight (an `OPTIONS` with
/// `Access-Control-Request-Method`) it also says which methods the path
/// takes (those of the framework's `Allow`, none on a path that is not
/// there), the headers a page may send (`Content-Type`, `Accept`) and how
/// long the answer may be kept.
pub fn allow_any_origin(request: &Request<'_, '_>, reply: Reply) -> Reply {
    let reply = reply.header("Access-Control-Allow-Origin", b"*");
    let preflight = request.method == Method::Options
        && request.header("access-control-request-method").is_some();
    let mut methods = [0u8; ALLOW_BYTES];
    let allow = reply.extra_headers().find(|(name, _)| *name == "Allow");
    let len = match allow {
        Some((_, allow)) if preflight && allow.len() <= ALLOW_BYTES => {
            methods[..allow.len()].copy_from_slice(allow);
            allow.len()
        }
        _ => return reply,
    };
    reply
        .header("Access-Control-Allow-Methods", &methods[..len])
        .header("Access-Control-Allow-Headers", ALLOW_HEADERS)
        .header("Access-Control-Max-Age", MAX_AGE)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::{dispatch, route, Ctx, Outcome, Route, Service};

    struct Api;

    route! {
        GET "/items/{id}" as SHOW;
        fn show(_app: &mut Api, _cx: &mut Ctx<'_>) -> Outcome {
            Ok(Reply::no_content())
        }
    }

    route! {
        DELETE "/items/{id}" as DELETE;
        fn delete(_app: &mut Api, _cx: &mut Ctx<'_>) -> Outcome {
            Ok(Reply::no_content())
        }
    }

    impl Service for Api {
        const ROUTES: &'static [Route<Self>] = &[SHOW, DELETE];

        fn finish(&mut self, request: &Request<'_, '_>, reply: Reply) -> Reply {
            allow_any_origin(request, reply)
        }
    }

    /// The status and the CORS headers of the answer to `head`.
    fn cors(head: &str) -> (u16, [Option<std::string::String>; 4]) {
        let mut out = [0u8; 256];
        let reply = crate::with_request(head, |r| dispatch(&mut Api, r, b"", &mut out).reply);
        let value = |name: &str| {
            reply
                .extra_headers()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| std::string::String::from_utf8(v.to_vec()).unwrap())
        };
        let names = [
            "Access-Control-Allow-Origin",
            "Access-Control-Allow-Methods",
            "Access-Control-Allow-Headers",
            "Access-Control-Max-Age",
        ];
        (reply.status, names.map(value))
    }

    const PREFLIGHT: &str = "Access-Control-Request-Method: DELETE\r\n\r\n";

    #[test]
    fn every_reply_allows_any_origin() {
        for head in [
            "GET /items/1",
            "GET /nowhere",
            "PUT /items/1",
            "OPTIONS /items/1",
        ] {
            let (_, [origin, methods, ..]) =
                cors(&std::format!("{head} HTTP/1.1\r\nHost: x\r\n\r\n"));
            assert_eq!(origin.as_deref(), Some("*"), "{head}");
            assert_eq!(methods, None, "{head}: not a preflight");
        }
    }

    #[test]
    fn a_preflight_learns_the_paths_methods() {
        let (status, [origin, methods, headers, age]) = cors(&std::format!(
            "OPTIONS /items/1 HTTP/1.1\r\nHost: x\r\n{PREFLIGHT}"
        ));
        assert_eq!((status, origin.as_deref()), (204, Some("*")));
        assert_eq!(methods.as_deref(), Some("GET, HEAD, DELETE, OPTIONS"));
        assert_eq!(headers.as_deref(), Some("Content-Type, Accept"));
        assert_eq!(age.as_deref(), Some("600"));
        // A path that is not there has no methods to offer.
        let (status, [origin, methods, ..]) = cors(&std::format!(
            "OPTIONS /nowhere HTTP/1.1\r\nHost: x\r\n{PREFLIGHT}"
        ));
        assert_eq!((status, origin.as_deref(), methods), (404, Some("*"), None));
    }
}
