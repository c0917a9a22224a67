//! Descriptor chains of one split virtqueue (VIRTIO 1.2 §2.7): a free
//! list, the chains in flight keyed by their head, and the checks a
//! used-ring entry must pass before it completes anything.

/// Largest queue handled (entries; the device may offer fewer).
pub const MAX_QUEUE: usize = 256;
/// Most descriptors one chain takes (a block request: header, data,
/// status).
pub const MAX_CHAIN: usize = 3;

/// VIRTQ_DESC_F_NEXT: the chain goes on at `next`.
const F_NEXT: u16 = 1;
/// VIRTQ_DESC_F_WRITE: the device writes this buffer.
const F_WRITE: u16 = 2;

/// One descriptor to write into the table at `index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Desc {
    /// Its entry in the descriptor table.
    pub index: u16,
    /// The buffer's guest-physical address.
    pub addr: u64,
    /// The buffer's length.
    pub len: u32,
    /// VIRTQ_DESC_F_NEXT and VIRTQ_DESC_F_WRITE.
    pub flags: u16,
    /// The next descriptor, with F_NEXT.
    pub next: u16,
}

impl Desc {
    /// Whether the device writes this buffer.
    pub fn device_writes(&self) -> bool {
        self.flags & F_WRITE != 0
    }

    /// Whether the chain goes on after it.
    pub fn has_next(&self) -> bool {
        self.flags & F_NEXT != 0
    }
}

/// The descriptors of a new chain, head first: write them all, then put
/// `head` in the avail ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chain {
    /// The first descriptor: what goes in the avail ring.
    pub head: u16,
    /// The descriptors, `descs[..len]` in use.
    pub descs: [Desc; MAX_CHAIN],
    /// How many.
    pub len: usize,
}

impl Chain {
    /// The descriptors in use.
    pub fn descs(&self) -> &[Desc] {
        &self.descs[..self.len]
    }
}

/// A request the device finished: the tag it was started with and the
/// bytes the device says it wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// What [`Chains::start`] was given.
    pub tag: u32,
    /// Bytes the device wrote.
    pub written: u32,
}

/// A used-ring entry that completes nothing (a broken or confused
/// device): reported, and the chains are left as they were.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsedError {
    /// The id is no descriptor of this queue.
    BadId(u32),
    /// The id is no chain's head in flight (a duplicate, or a middle).
    NotInFlight(u16),
    /// More bytes written than the chain's writable buffers hold.
    TooLong {
        /// The chain.
        head: u16,
        /// What the device claimed.
        written: u32,
    },
}

#[derive(Clone, Copy, Debug)]
struct InFlight {
    tag: u32,
    descs: [u16; MAX_CHAIN],
    len: u8,
    writable: u32,
}

/// The chains of one queue of `size` entries.
pub struct Chains {
    size: u16,
    free: [u16; MAX_QUEUE],
    free_len: usize,
    in_flight: [Option<InFlight>; MAX_QUEUE],
    busy: usize,
}

impl Chains {
    /// A queue of `size` descriptors (at most [`MAX_QUEUE`]), all free.
    pub fn new(size: u16) -> Chains {
        let size = size.min(MAX_QUEUE as u16);
        let mut free = [0u16; MAX_QUEUE];
        for (i, slot) in free.iter_mut().enumerate().take(usize::from(size)) {
            *slot = size - 1 - i as u16; // popped from the end: 0 first
        }
        Chains {
            size,
            free,
            free_len: usize::from(size),
            in_flight: [None; MAX_QUEUE],
            busy: 0,
        }
    }

    /// Descriptors free now.
    pub fn free(&self) -> usize {
        self.free_len
    }

    /// Chains in flight.
    pub fn in_flight(&self) -> usize {
        self.busy
    }

    /// Starts a chain over `parts` (address, length, whether the device
    /// writes it), in order, tagged `tag`; `None` when there are not
    /// enough free descriptors (or no parts, or more than [`MAX_CHAIN`]).
    pub fn start(&mut self, tag: u32, parts: &[(u64, u32, bool)]) -> Option<Chain> {
        if parts.is_empty() || parts.len() > MAX_CHAIN || parts.len() > self.free_len {
            return None;
        }
        let mut ids = [0u16; MAX_CHAIN];
        for id in ids.iter_mut().take(parts.len()) {
            self.free_len -= 1;
            *id = self.free[self.free_len];
        }
        let mut chain = Chain {
            head: ids[0],
            descs: [Desc::default(); MAX_CHAIN],
            len: parts.len(),
        };
        let mut writable = 0u32;
        for (k, &(addr, len, writes)) in parts.iter().enumerate() {
            let last = k + 1 == parts.len();
            chain.descs[k] = Desc {
                index: ids[k],
                addr,
                len,
                flags: if writes { F_WRITE } else { 0 } | if last { 0 } else { F_NEXT },
                next: if last { 0 } else { ids[k + 1] },
            };
            if writes {
                writable = writable.saturating_add(len);
            }
        }
        self.in_flight[usize::from(ids[0])] = Some(InFlight {
            tag,
            descs: ids,
            len: parts.len() as u8,
            writable,
        });
        self.busy += 1;
        Some(chain)
    }

    /// Takes a used-ring entry (§2.7.8: `id` the chain's head, `written`
    /// the bytes the device wrote into it): frees the chain and says
    /// which request it was.
    pub fn complete(&mut self, id: u32, written: u32) -> Result<Completion, UsedError> {
        let head = u16::try_from(id)
            .ok()
            .filter(|&h| h < self.size)
            .ok_or(UsedError::BadId(id))?;
        let f = self.in_flight[usize::from(head)].ok_or(UsedError::NotInFlight(head))?;
        if written > f.writable {
            return Err(UsedError::TooLong { head, written });
        }
        self.in_flight[usize::from(head)] = None;
        self.busy -= 1;
        for &d in &f.descs[..usize::from(f.len)] {
            self.free[self.free_len] = d;
            self.free_len += 1;
        }
        Ok(Completion {
            tag: f.tag,
            written,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_links_its_descriptors_and_marks_what_the_device_writes() {
        let mut c = Chains::new(8);
        let chain = c
            .start(
                7,
                &[(0x1000, 16, false), (0x2000, 512, true), (0x3000, 1, true)],
            )
            .unwrap();
        let d = chain.descs();
        assert_eq!(d.len(), 3);
        assert_eq!(chain.head, d[0].index);
        assert!(d[0].has_next() && d[1].has_next() && !d[2].has_next());
        assert_eq!((d[0].next, d[1].next), (d[1].index, d[2].index));
        assert!(!d[0].device_writes() && d[1].device_writes() && d[2].device_writes());
        assert_eq!(c.free(), 5);
        assert_eq!(
            c.complete(u32::from(chain.head), 513),
            Ok(Completion {
                tag: 7,
                written: 513
            })
        );
        assert_eq!(c.free(), 8);
        assert_eq!(c.in_flight(), 0);
    }

    #[test]
    fn the_queue_fills_exactly_and_refuses_past_it() {
        let mut c = Chains::new(7);
        let a = c
            .start(1, &[(0, 1, false), (0, 1, true), (0, 1, true)])
            .unwrap();
        c.start(2, &[(0, 1, false), (0, 1, true), (0, 1, true)])
            .unwrap();
        assert_eq!(c.free(), 1);
        assert!(c.start(3, &[(0, 1, false), (0, 1, true)]).is_none());
        assert!(c.start(3, &[(0, 1, true)]).is_some());
        assert_eq!(c.free(), 0);
        assert!(c.start(4, &[(0, 1, true)]).is_none());
        c.complete(u32::from(a.head), 0).unwrap();
        assert_eq!(c.free(), 3);
        assert!(c.start(5, &[]).is_none());
        assert!(c.start(5, &[(0, 1, true); 4]).is_none());
    }

    #[test]
    fn impossible_used_entries_are_errors_and_change_nothing() {
        let mut c = Chains::new(4);
        let chain = c.start(9, &[(0, 16, false), (0, 1, true)]).unwrap();
        let middle = chain.descs()[1].index;
        assert_eq!(c.complete(4, 0), Err(UsedError::BadId(4)));
        assert_eq!(c.complete(u32::MAX, 0), Err(UsedError::BadId(u32::MAX)));
        assert_eq!(
            c.complete(u32::from(middle), 0),
            Err(UsedError::NotInFlight(middle))
        );
        assert_eq!(
            c.complete(u32::from(chain.head), 2),
            Err(UsedError::TooLong {
                head: chain.head,
                written: 2
            })
        );
        assert_eq!((c.free(), c.in_flight()), (2, 1));
        assert_eq!(c.complete(u32::from(chain.head), 1).unwrap().tag, 9);
        // Twice is once too many.
        assert_eq!(
            c.complete(u32::from(chain.head), 1),
            Err(UsedError::NotInFlight(chain.head))
        );
        assert_eq!(c.free(), 4);
    }
}
