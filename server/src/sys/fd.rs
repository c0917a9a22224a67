//! An owned file descriptor: closed when dropped, so no error path has to
//! remember to close it. A descriptor that must outlive its owner (a
//! reply body the worker sends later, a directory a listing takes over)
//! leaves it with `into_raw`, and whoever takes the raw number closes it.

use super::{close, memfd_create, openat2, Res};

/// A descriptor this value owns.
#[derive(Debug)]
pub struct Fd(i32);

impl Fd {
    /// `openat2` (see [`openat2`]), the result owned.
    pub fn openat2(dirfd: i32, path: &[u8], flags: u64, mode: u64, resolve: u64) -> Res<Fd> {
        openat2(dirfd, path, flags, mode, resolve).map(Fd)
    }

    /// A new memfd named `name` (NUL-terminated), owned.
    pub fn memfd(name: &[u8]) -> Res<Fd> {
        memfd_create(name).map(Fd)
    }

    /// Takes over a raw descriptor: it is closed when the value drops.
    pub fn from_raw(fd: i32) -> Fd {
        Fd(fd)
    }

    /// The descriptor's number, still owned here.
    pub fn raw(&self) -> i32 {
        self.0
    }

    /// Hands the descriptor on: no longer closed here.
    pub fn into_raw(self) -> i32 {
        let fd = self.0;
        core::mem::forget(self);
        fd
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        close(self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{ErrorKind, Read};
    use std::os::fd::IntoRawFd;
    use std::os::unix::net::UnixStream;

    /// Whether the peer of `other` was closed (it reads end of file).
    fn closed(other: &mut UnixStream) -> bool {
        match other.read(&mut [0u8; 1]) {
            Ok(0) => true,
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            r => panic!("unexpected {r:?}"),
        }
    }

    #[test]
    fn dropping_closes_and_into_raw_hands_over() {
        let (ours, mut other) = UnixStream::pair().unwrap();
        other.set_nonblocking(true).unwrap();
        let fd = Fd::from_raw(ours.into_raw_fd());
        assert!(!closed(&mut other));
        drop(fd);
        assert!(closed(&mut other), "closed on drop");

        let (ours, mut other) = UnixStream::pair().unwrap();
        other.set_nonblocking(true).unwrap();
        let raw = Fd::from_raw(ours.into_raw_fd()).into_raw();
        assert!(!closed(&mut other), "still open once handed on");
        drop(Fd::from_raw(raw));
        assert!(closed(&mut other), "closed by its new owner");
    }
}
