//! One HTTP/1.1 server connection as an I/O-free state machine: bytes in,
//! bytes out, time passed in. It owns keep-alive, pipelining, request
//! bodies (Content-Length and chunked, with `Expect: 100-continue`), the
//! whole-head, body, silence, minimum-rate, idle and send deadlines that
//! stop slow or idle clients from holding a connection, feeding a reply
//! (fixed, written, streamed, or a file range the transport sends) to the
//! transport in pieces, request bodies streamed to a handler's upload
//! sink, replies a handler defers, and the loop that moves bytes
//! between a connection and its transport ([`Conn::drive`]). Both servers
//! drive it: the unikernel over its own TCP sockets, the hosted server
//! over Linux sockets, each behind a [`Transport`]. It never opens a
//! socket or reads a clock but through what the server hands it, and
//! knows no app: requests go to any [`bedrock_web::Handler`] (every
//! [`bedrock_web::Service`] is one). It also writes the access log's
//! line for both servers ([`AccessLine`]: logfmt or JSON).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod access;
mod body;
mod config;
mod conn;
mod drive;
mod head;
mod output;
mod probes;
mod reply;
mod request;
mod sink;
mod timers;

pub use access::{
    AccessLine, LogFormat, Peer, Stamp, MAX_LINE, MAX_LOGGED_METHOD, MAX_LOGGED_PATH,
};
pub use config::{
    Config, BODY_TIMEOUT_US, HEAD_BUFFER, HEAD_TIMEOUT_US, IDLE_TIMEOUT_US, NO_READ_TIMEOUT,
    SEND_TIMEOUT_US,
};
pub use conn::{Activity, Conn, LogRecord};
pub use drive::Transport;
pub use probes::{HEALTH_PATH, READY_PATH};
pub use timers::Timeout;
