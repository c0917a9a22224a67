//! A fixed-capacity byte ring: the send and receive buffers of a
//! connection. Besides FIFO use it can read at an offset into the queued
//! bytes (to retransmit) and write at an offset past them (to keep
//! out-of-order data until the gap fills).

/// `N` bytes of storage; `len` bytes queued from `head`.
pub struct RingBuffer<const N: usize> {
    data: [u8; N],
    head: usize,
    len: usize,
}

impl<const N: usize> Default for RingBuffer<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> RingBuffer<N> {
    /// An empty ring.
    pub const fn new() -> Self {
        RingBuffer {
            data: [0; N],
            head: 0,
            len: 0,
        }
    }

    /// Capacity in bytes.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Bytes queued.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is queued.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Room left.
    pub const fn free(&self) -> usize {
        N - self.len
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    /// Index of logical position `pos` (from `head`) in `data`.
    fn index(&self, pos: usize) -> usize {
        let i = self.head + pos;
        if i >= N {
            i - N
        } else {
            i
        }
    }

    /// Appends as much of `src` as fits; returns how much.
    pub fn enqueue(&mut self, src: &[u8]) -> usize {
        let n = self.write_at(0, src);
        self.len += n;
        n
    }

    /// Writes `src` at `offset` past the queued bytes without queueing it
    /// (see [`RingBuffer::commit`]); as much as fits, returned.
    pub fn write_at(&mut self, offset: usize, src: &[u8]) -> usize {
        if N == 0 || offset >= self.free() {
            return 0;
        }
        let n = src.len().min(self.free() - offset);
        let start = self.index(self.len + offset);
        let first = n.min(N - start);
        self.data[start..start + first].copy_from_slice(&src[..first]);
        self.data[..n - first].copy_from_slice(&src[first..n]);
        n
    }

    /// Queues `n` bytes already written after the queued ones (capped at
    /// the free space).
    pub fn commit(&mut self, n: usize) {
        self.len += n.min(self.free());
    }

    /// Copies queued bytes from `offset` into `dst` without removing them;
    /// returns how many.
    pub fn read_at(&self, offset: usize, dst: &mut [u8]) -> usize {
        if offset >= self.len {
            return 0;
        }
        let n = dst.len().min(self.len - offset);
        let start = self.index(offset);
        let first = n.min(N - start);
        dst[..first].copy_from_slice(&self.data[start..start + first]);
        dst[first..n].copy_from_slice(&self.data[..n - first]);
        n
    }

    /// The queued bytes from the front up to the end of storage (the
    /// first of at most two contiguous pieces).
    pub fn peek(&self) -> &[u8] {
        let end = (self.head + self.len).min(N);
        &self.data[self.head..end]
    }

    /// Removes up to `n` bytes from the front; returns how many.
    pub fn discard(&mut self, n: usize) -> usize {
        let n = n.min(self.len);
        // `head` moves even when the ring empties: bytes written past the
        // queued ones (out-of-order data) stay where they were put.
        self.head = self.index(n);
        self.len -= n;
        n
    }

    /// Moves up to `dst.len()` bytes from the front into `dst`.
    pub fn dequeue(&mut self, dst: &mut [u8]) -> usize {
        let n = self.read_at(0, dst);
        self.discard(n)
    }

    /// Moves as many bytes from the front as `dst` has room for to the
    /// back of `dst`, in one copy (at most two pieces from each side of
    /// the wrap); returns how many.
    pub fn move_to<const M: usize>(&mut self, dst: &mut RingBuffer<M>) -> usize {
        let n = self.len.min(dst.free());
        let first = n.min(N - self.head);
        dst.enqueue(&self.data[self.head..self.head + first]);
        dst.enqueue(&self.data[..n - first]);
        self.discard(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_wraps() {
        let mut r = RingBuffer::<8>::new();
        assert_eq!(r.enqueue(b"abcdef"), 6);
        let mut out = [0u8; 4];
        assert_eq!(r.dequeue(&mut out), 4);
        assert_eq!(&out, b"abcd");
        assert_eq!(r.enqueue(b"ghijklmn"), 6, "only the free space");
        assert_eq!(r.len(), 8);
        assert_eq!(r.free(), 0);
        assert_eq!(r.enqueue(b"x"), 0);
        assert_eq!(r.peek(), b"efgh");
        let mut all = [0u8; 8];
        assert_eq!(r.read_at(0, &mut all), 8);
        assert_eq!(&all, b"efghijkl");
        assert_eq!(r.read_at(6, &mut all), 2);
        assert_eq!(&all[..2], b"kl");
        assert_eq!(r.read_at(8, &mut all), 0);
        assert_eq!(r.discard(100), 8);
        assert!(r.is_empty());
    }

    #[test]
    fn emptying_keeps_data_written_ahead() {
        let mut r = RingBuffer::<8>::new();
        r.enqueue(b"abc");
        assert_eq!(r.write_at(2, b"XY"), 2);
        let mut out = [0u8; 3];
        r.dequeue(&mut out);
        assert!(r.is_empty());
        r.write_at(0, b"12");
        r.commit(4);
        let mut all = [0u8; 4];
        assert_eq!(r.read_at(0, &mut all), 4);
        assert_eq!(&all, b"12XY");
    }

    #[test]
    fn move_to_takes_what_fits_across_both_wraps() {
        let mut from = RingBuffer::<8>::new();
        let mut to = RingBuffer::<6>::new();
        from.enqueue(b"abcdef");
        from.discard(5);
        from.enqueue(b"ghijkl"); // "fghijkl", wrapped after "fgh"
        to.enqueue(b"0123");
        to.discard(4); // head at 4: writes wrap after two bytes
        assert_eq!(from.move_to(&mut to), 6, "the room in `to`");
        assert_eq!((from.len(), to.len()), (1, 6));
        let mut all = [0u8; 6];
        assert_eq!(to.read_at(0, &mut all), 6);
        assert_eq!(&all, b"fghijk");
        assert_eq!(from.peek(), b"l");
        assert_eq!(from.move_to(&mut to), 0, "`to` is full");
        to.discard(6);
        assert_eq!(from.move_to(&mut to), 1);
        assert!(from.is_empty());
        assert_eq!(from.move_to(&mut to), 0, "nothing left");
    }

    #[test]
    fn write_at_offset_then_commit() {
        let mut r = RingBuffer::<8>::new();
        r.enqueue(b"abcde");
        r.discard(5);
        assert_eq!(r.write_at(3, b"XYZW"), 4);
        assert_eq!(r.write_at(0, b"012"), 3);
        r.commit(7);
        let mut all = [0u8; 8];
        assert_eq!(r.read_at(0, &mut all), 7);
        assert_eq!(&all[..7], b"012XYZW");
        assert_eq!(r.write_at(1, b"zz"), 0, "past the free space");
        let mut two = [0u8; 2];
        assert_eq!(r.dequeue(&mut two), 2);
        assert_eq!(&two, b"01");
        assert_eq!(r.write_at(0, b"zz"), 2);
        r.commit(5);
        assert_eq!(r.len(), 8);
    }
}
