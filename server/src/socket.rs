//! A client's non-blocking Linux socket as the connection engine's
//! `bedrock_conn::Transport`: read(2), write(2) (writev for a head and
//! the body behind it, MSG_MORE for a head a file follows), sendfile(2)
//! for file bodies, shutdown(2) for the orderly close; and what the
//! worker learns on the way: whether the socket is readable or writable
//! (edge-triggered epoll), when bytes last moved each way, whether the
//! socket failed, and when it started lingering after our close.

use bedrock_conn::Transport;
use bedrock_web::FileBody;

use crate::sys::{self, Errno, SockAddr};

/// sendfile(2) moves at most this much a call.
const MAX_SENDFILE: u64 = 1 << 30;

/// One client connection's socket and what is known about it.
pub struct Client {
    pub fd: i32,
    pub peer: SockAddr,
    /// Set by epoll, cleared at EAGAIN.
    pub readable: bool,
    pub writable: bool,
    /// The peer will send nothing more.
    pub eof: bool,
    /// A read, write or sendfile failed: close now.
    pub failed: bool,
    /// When our side closed (FIN sent), while unread input is drained.
    pub linger_since: Option<u64>,
    /// Closed, and its connection's buffers given back (`worker`).
    pub retired: bool,
    /// When the connection was accepted (µs).
    pub started: u64,
    /// The last byte read.
    pub last_in: u64,
    /// The last byte the socket took.
    pub last_out: u64,
    /// The last time the client was seen to take reply bytes (the send
    /// queue shrank), and the queue's length then (`u32::MAX`: unknown,
    /// after a write).
    acked_at: u64,
    send_queue: u32,
    /// Bytes read and taken to send since the last `take_counts`.
    received: usize,
    sent: usize,
}

impl Client {
    pub const fn new() -> Client {
        Client {
            fd: -1,
            peer: SockAddr {
                ip: [0; 4],
                port: 0,
            },
            readable: false,
            writable: false,
            eof: false,
            failed: false,
            linger_since: None,
            retired: false,
            started: 0,
            last_in: 0,
            last_out: 0,
            acked_at: 0,
            send_queue: u32::MAX,
            received: 0,
            sent: 0,
        }
    }

    /// A client just accepted on `fd` at `now`.
    pub fn accepted(fd: i32, peer: SockAddr, now: u64) -> Client {
        Client {
            fd,
            peer,
            readable: true,
            writable: true,
            started: now,
            last_in: now,
            last_out: now,
            ..Client::new()
        }
    }

    /// The last sign of progress of the reply being sent: a byte taken by
    /// the socket, or one taken by the client (seen as a shorter send
    /// queue since the last look, which is now).
    pub fn send_progress(&mut self, now: u64) -> u64 {
        if let Ok(queued) = sys::send_queue(self.fd) {
            // The first look after a write only takes the measure (the
            // write itself is the progress until then).
            if self.send_queue != u32::MAX && queued < self.send_queue {
                self.acked_at = now;
            }
            self.send_queue = queued;
        }
        self.last_out.max(self.acked_at)
    }

    /// The reply's last progress as of the last look.
    pub fn seen_progress(&self) -> u64 {
        self.last_out.max(self.acked_at)
    }

    /// Bytes read and bytes the socket took since the last call.
    pub fn take_counts(&mut self) -> (usize, usize) {
        let counts = (self.received, self.sent);
        (self.received, self.sent) = (0, 0);
        counts
    }

    /// The client as a transport at `now`.
    pub fn at(&mut self, now: u64) -> Socket<'_> {
        Socket {
            c: self,
            now,
            drained: false,
        }
    }

    /// What a write-like call returned: bytes taken, or 0 (no room, or
    /// the socket failed).
    fn took(&mut self, now: u64, sent: sys::Res<usize>) -> Option<usize> {
        match sent {
            Ok(n) => {
                self.last_out = now;
                self.send_queue = u32::MAX;
                self.sent += n;
                Some(n)
            }
            Err(Errno::EAGAIN) => {
                self.writable = false;
                Some(0)
            }
            Err(Errno::EINTR) => None,
            Err(_) => {
                self.failed = true;
                Some(0)
            }
        }
    }
}

/// A client's socket during one drive of its connection.
pub struct Socket<'c> {
    c: &'c mut Client,
    now: u64,
    /// The last read took less than it could, so it took all there was,
    /// and nothing was sent since (which could have drawn the client's
    /// next request): reading again now would only say EAGAIN. Bytes
    /// that arrive later raise a new edge-triggered event.
    drained: bool,
}

impl Socket<'_> {
    /// Runs a write-like call until it is not interrupted.
    fn send_with(&mut self, mut call: impl FnMut(i32) -> sys::Res<usize>) -> usize {
        if !self.c.writable || self.c.failed {
            return 0;
        }
        loop {
            if let Some(n) = self.c.took(self.now, call(self.c.fd)) {
                self.drained &= n == 0;
                return n;
            }
        }
    }
}

impl Transport for Socket<'_> {
    fn recv(&mut self, into: &mut [u8]) -> usize {
        while self.c.readable && !self.c.eof && !self.drained {
            match sys::read(self.c.fd, into) {
                Ok(0) => self.c.eof = true,
                Ok(n) => {
                    self.c.last_in = self.now;
                    self.c.received += n;
                    self.drained = n < into.len();
                    return n;
                }
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => self.c.readable = false,
                Err(_) => {
                    self.c.failed = true;
                    self.c.eof = true;
                }
            }
        }
        0
    }

    fn send(&mut self, bytes: &[u8]) -> usize {
        self.send_with(|fd| sys::write(fd, bytes))
    }

    fn send_parts(&mut self, head: &[u8], body: &[u8], more: bool) -> usize {
        match (more, body.is_empty()) {
            // Held back to leave with the file's first bytes.
            (true, _) => self.send_with(|fd| sys::send_more(fd, head)),
            (false, true) => self.send(head),
            (false, false) => self.send_with(|fd| sys::write2(fd, head, body)),
        }
    }

    fn send_file(&mut self, file: FileBody) -> usize {
        let want = file.len.min(MAX_SENDFILE) as usize;
        let mut offset = file.offset;
        let n = self.send_with(|fd| sys::sendfile(fd, file.handle as i32, &mut offset, want));
        if n == 0 && self.c.writable && want > 0 {
            self.c.failed = true; // the file shrank under us
        }
        n
    }

    fn peer_closed(&self) -> bool {
        self.c.eof
    }

    fn close(&mut self) {
        if self.c.linger_since.is_none() {
            sys::shutdown_write(self.c.fd);
            self.c.linger_since = Some(self.now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::{AsRawFd, IntoRawFd};
    use std::os::unix::net::UnixStream;

    /// Our side of a socket pair as a client (non-blocking), and the peer.
    fn pair() -> (Client, UnixStream) {
        let (ours, peer) = UnixStream::pair().unwrap();
        ours.set_nonblocking(true).unwrap();
        peer.set_nonblocking(true).unwrap();
        let peer_addr = SockAddr::default();
        (Client::accepted(ours.into_raw_fd(), peer_addr, 5), peer)
    }

    fn read_all(peer: &mut UnixStream) -> Vec<u8> {
        let mut got = vec![0u8; 256];
        let n = peer.read(&mut got).unwrap_or(0);
        got.truncate(n);
        got
    }

    #[test]
    fn a_short_read_drains_until_something_is_sent() {
        let (mut c, mut peer) = pair();
        peer.write_all(b"abc").unwrap();
        let mut io = c.at(9);
        let mut buf = [0u8; 16];
        assert_eq!(io.recv(&mut buf), 3);
        peer.write_all(b"def").unwrap();
        assert_eq!(io.recv(&mut buf), 0, "drained: no read until a send");
        assert_eq!(io.send(b"reply"), 5);
        assert_eq!(io.recv(&mut buf), 3, "read again after the reply");
        assert_eq!(&buf[..3], b"def");
        // A read that fills the buffer did not drain the socket.
        peer.write_all(b"0123456789").unwrap();
        assert_eq!(io.send(b"!"), 1);
        assert_eq!(io.recv(&mut buf[..4]), 4);
        assert_eq!(io.recv(&mut buf[..16]), 6);
        assert_eq!(read_all(&mut peer), b"reply!");
        assert_eq!((c.last_in, c.last_out), (9, 9));
        assert_eq!(c.take_counts(), (16, 6), "bytes each way");
        assert_eq!(c.take_counts(), (0, 0));
        assert!(c.readable, "EAGAIN not seen yet");
    }

    #[test]
    fn eof_and_eagain_are_told_apart() {
        let (mut c, peer) = pair();
        let mut buf = [0u8; 16];
        assert_eq!(c.at(1).recv(&mut buf), 0);
        assert!(!c.readable && !c.eof, "EAGAIN: wait for epoll");
        c.readable = true;
        drop(peer);
        let mut io = c.at(2);
        assert_eq!(io.recv(&mut buf), 0);
        assert!(io.peer_closed());
    }

    #[test]
    fn heads_bodies_and_files_go_out_in_order() {
        let (mut c, mut peer) = pair();
        let path = crate::test_util::temp_dir("socket-file").join("f");
        std::fs::write(&path, b"0123456789").unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let mut io = c.at(3);
        assert_eq!(io.send_parts(b"head ", b"body ", false), 10);
        assert_eq!(io.send_parts(b"more ", b"", true), 5);
        let range = FileBody {
            handle: file.as_raw_fd() as u64,
            offset: 2,
            len: 3,
        };
        assert_eq!(io.send_file(range), 3);
        assert_eq!(read_all(&mut peer), b"head body more 234");
        assert!(!c.failed);
    }

    #[test]
    fn close_shuts_the_write_side_once() {
        let (mut c, mut peer) = pair();
        c.at(7).close();
        assert_eq!(c.linger_since, Some(7));
        c.at(8).close();
        assert_eq!(c.linger_since, Some(7), "the first close counts");
        assert_eq!(read_all(&mut peer), b"", "end of file");
        c.writable = false;
        assert_eq!(c.at(9).send(b"late"), 0, "not writable: nothing taken");
    }
}
