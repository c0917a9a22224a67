//! Byte sinks the writer emits into.

use crate::JsonError;

/// Where the writer's bytes go.
///
/// A `write` either stores all of `bytes` or, failing, none of them.
pub trait Sink {
    /// Appends all of `bytes`, or returns an error (normally
    /// [`JsonError::Full`]) and appends nothing.
    fn write(&mut self, bytes: &[u8]) -> Result<(), JsonError>;

    /// Number of bytes written so far.
    fn len(&self) -> usize;

    /// True when nothing has been written.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends one byte; same contract as [`Sink::write`].
    #[inline]
    fn write_byte(&mut self, byte: u8) -> Result<(), JsonError> {
        self.write(&[byte])
    }

    /// Appends `a`, `b` and `c`. The provided version makes three writes, so
    /// on error a prefix may be stored; sinks that can check room once (like
    /// [`SliceSink`]) store all three or nothing.
    #[inline]
    fn write3(&mut self, a: &[u8], b: &[u8], c: &[u8]) -> Result<(), JsonError> {
        self.write(a)?;
        self.write(b)?;
        self.write(c)
    }
}

/// A sink that can forget bytes written after a given length, which is what
/// [`JsonWriter::rollback`](crate::JsonWriter::rollback) needs.
pub trait Truncate: Sink {
    /// Shortens the written bytes to `len`; does nothing when `len` is not
    /// shorter than what is written.
    fn truncate(&mut self, len: usize);
}

impl<S: Sink + ?Sized> Sink for &mut S {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> Result<(), JsonError> {
        (**self).write(bytes)
    }
    #[inline]
    fn len(&self) -> usize {
        (**self).len()
    }
    #[inline]
    fn write_byte(&mut self, byte: u8) -> Result<(), JsonError> {
        (**self).write_byte(byte)
    }
    #[inline]
    fn write3(&mut self, a: &[u8], b: &[u8], c: &[u8]) -> Result<(), JsonError> {
        (**self).write3(a, b, c)
    }
}

impl<S: Truncate + ?Sized> Truncate for &mut S {
    #[inline]
    fn truncate(&mut self, len: usize) {
        (**self).truncate(len)
    }
}

/// A sink over a caller-provided byte slice.
///
/// A write that does not fit entirely fails with [`JsonError::Full`] and
/// stores nothing: output is never silently truncated.
#[derive(Debug)]
pub struct SliceSink<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> SliceSink<'a> {
    /// A sink that writes into `buf` from its start.
    pub fn new(buf: &'a mut [u8]) -> Self {
        SliceSink { buf, len: 0 }
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Forgets bytes written after `len`; no effect when `len` is not shorter
    /// than what is written.
    pub fn truncate(&mut self, len: usize) {
        if len < self.len {
            self.len = len;
        }
    }

    /// Total size of the underlying buffer.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Bytes still free.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.len
    }

    /// Consumes the sink, returning the written part of the buffer with the
    /// buffer's full lifetime.
    pub fn into_written(self) -> &'a [u8] {
        let SliceSink { buf, len } = self;
        &buf[..len]
    }
}

impl Sink for SliceSink<'_> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> Result<(), JsonError> {
        let end = self.len + bytes.len();
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                copy_short(dst, bytes);
                self.len = end;
                Ok(())
            }
            None => Err(JsonError::Full),
        }
    }

    #[inline]
    fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn write3(&mut self, a: &[u8], b: &[u8], c: &[u8]) -> Result<(), JsonError> {
        let total = a.len() + b.len() + c.len();
        let Some(dst) = self.buf.get_mut(self.len..self.len + total) else {
            return Err(JsonError::Full);
        };
        let (da, rest) = dst.split_at_mut(a.len());
        let (db, dc) = rest.split_at_mut(b.len());
        copy_short(da, a);
        copy_short(db, b);
        copy_short(dc, c);
        self.len += total;
        Ok(())
    }

    #[inline]
    fn write_byte(&mut self, byte: u8) -> Result<(), JsonError> {
        match self.buf.get_mut(self.len) {
            Some(dst) => {
                *dst = byte;
                self.len += 1;
                Ok(())
            }
            None => Err(JsonError::Full),
        }
    }
}

/// `dst.copy_from_slice(src)` for equal lengths, with short copies done by
/// fixed-size (overlapping) moves instead of a `memcpy` call: JSON output is
/// mostly pieces of a few bytes.
#[inline(always)]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if n != dst.len() {
        return; // the caller sliced dst to src's length
    }
    if n > 32 {
        dst.copy_from_slice(src);
    } else if n >= 16 {
        dst[..16].copy_from_slice(&src[..16]);
        dst[n - 16..].copy_from_slice(&src[n - 16..]);
    } else if n >= 8 {
        dst[..8].copy_from_slice(&src[..8]);
        dst[n - 8..].copy_from_slice(&src[n - 8..]);
    } else if n >= 4 {
        dst[..4].copy_from_slice(&src[..4]);
        dst[n - 4..].copy_from_slice(&src[n - 4..]);
    } else if n > 0 {
        // 1..=3 bytes by three (overlapping) single moves: a loop here would
        // be turned back into a memcpy call.
        dst[0] = src[0];
        dst[n / 2] = src[n / 2];
        dst[n - 1] = src[n - 1];
    }
}

impl Truncate for SliceSink<'_> {
    fn truncate(&mut self, len: usize) {
        SliceSink::truncate(self, len)
    }
}

/// A sink that stores nothing and counts bytes, to learn the length of a
/// document (for a `Content-Length`) before writing it for real. Its writes
/// never fail; the count saturates at `usize::MAX`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CountingSink {
    count: usize,
}

impl CountingSink {
    /// A sink with a count of zero.
    pub const fn new() -> Self {
        CountingSink { count: 0 }
    }

    /// Bytes counted so far (same as [`Sink::len`]).
    pub fn count(&self) -> usize {
        self.count
    }
}

impl Sink for CountingSink {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> Result<(), JsonError> {
        self.count = self.count.saturating_add(bytes.len());
        Ok(())
    }

    #[inline]
    fn len(&self) -> usize {
        self.count
    }
}

impl Truncate for CountingSink {
    fn truncate(&mut self, len: usize) {
        if len < self.count {
            self.count = len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_sink_all_or_nothing() {
        let mut buf = [0u8; 4];
        let mut s = SliceSink::new(&mut buf);
        assert!(s.is_empty());
        assert_eq!(s.write(b"ab"), Ok(()));
        assert_eq!(s.write(b"cde"), Err(JsonError::Full));
        assert_eq!(s.as_bytes(), b"ab");
        assert_eq!(s.remaining(), 2);
        assert_eq!(s.write(b"cd"), Ok(()));
        assert_eq!(s.write_byte(b'x'), Err(JsonError::Full));
        assert_eq!(s.write(b""), Ok(()));
        s.truncate(1);
        assert_eq!(s.write3(b"b", b"cd", b"e"), Err(JsonError::Full));
        assert_eq!(s.as_bytes(), b"a");
        assert_eq!(s.write3(b"b", b"", b"cd"), Ok(()));
        s.truncate(1);
        assert_eq!(s.write3(b"b", b"c", b"d"), Ok(()));
        assert_eq!(s.as_bytes(), b"abcd");
        s.truncate(10);
        assert_eq!(s.len(), 4);
        s.truncate(1);
        assert_eq!(s.as_bytes(), b"a");
        assert_eq!(s.capacity(), 4);
        assert_eq!(s.into_written(), b"a");
    }

    #[test]
    fn short_copies_every_length() {
        for n in 0..70usize {
            let src: Vec<u8> = (0..n as u8).map(|b| b.wrapping_mul(7) + 1).collect();
            let mut buf = [0u8; 80];
            let mut s = SliceSink::new(&mut buf);
            s.write(b"x").unwrap();
            s.write(&src).unwrap();
            assert_eq!(&s.as_bytes()[1..], &src[..]);
            assert_eq!(s.len(), n + 1);
        }
    }

    #[test]
    fn zero_sized_slice() {
        let mut buf = [0u8; 0];
        let mut s = SliceSink::new(&mut buf);
        assert_eq!(s.write_byte(b'a'), Err(JsonError::Full));
        assert_eq!(s.write(b"a"), Err(JsonError::Full));
        assert_eq!(s.write(b""), Ok(()));
    }

    #[test]
    fn counting_sink() {
        let mut c = CountingSink::new();
        c.write(b"hello").unwrap();
        c.write_byte(b'!').unwrap();
        assert_eq!(c.count(), 6);
        c.write3(b"a", b"bc", b"").unwrap();
        assert_eq!(c.count(), 9);
        Truncate::truncate(&mut c, 6);
        Truncate::truncate(&mut c, 2);
        assert_eq!(c.len(), 2);
        Truncate::truncate(&mut c, 9);
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn mut_ref_is_a_sink() {
        let mut buf = [0u8; 8];
        let mut s = SliceSink::new(&mut buf);
        {
            let mut r = &mut s;
            r.write(b"abc").unwrap();
            r.write_byte(b'd').unwrap();
            r.write3(b"e", b"f", b"g").unwrap();
            assert_eq!(Sink::len(&r), 7);
            Truncate::truncate(&mut r, 3);
            assert_eq!(Sink::len(&r), 3);
        }
        assert_eq!(s.as_bytes(), b"abc");
    }
}
