//! The ARP cache and the table of addresses being resolved, each with the
//! packets waiting for them.

use crate::limits::{
    ARP_CACHE_ENTRIES, ARP_ENTRY_TTL, ARP_PENDING_ADDRS, ARP_PENDING_PER_ADDR, MAX_IP_PACKET_LEN,
};
use crate::time::Instant;
use crate::wire::{EthernetAddress, Ipv4Address};

#[derive(Clone, Copy, Debug)]
struct Entry {
    ip: Ipv4Address,
    mac: EthernetAddress,
    expires_at: Instant,
}

/// IPv4 → MAC mappings, [`ARP_CACHE_ENTRIES`] at most, each valid for
/// [`ARP_ENTRY_TTL`] after it was last learned.
#[derive(Debug)]
pub(crate) struct ArpCache {
    entries: [Option<Entry>; ARP_CACHE_ENTRIES],
}

impl ArpCache {
    pub(crate) const fn new() -> ArpCache {
        ArpCache {
            entries: [None; ARP_CACHE_ENTRIES],
        }
    }

    /// The MAC for `ip`, if learned and not expired at `now`.
    pub(crate) fn lookup(&self, ip: Ipv4Address, now: Instant) -> Option<EthernetAddress> {
        self.entries
            .iter()
            .flatten()
            .find(|e| e.ip == ip && now < e.expires_at)
            .map(|e| e.mac)
    }

    /// Updates the entry for `ip` if there is one (RFC 826's merge step,
    /// done for every ARP packet); whether there was.
    pub(crate) fn refresh(&mut self, ip: Ipv4Address, mac: EthernetAddress, now: Instant) -> bool {
        match self.entries.iter_mut().flatten().find(|e| e.ip == ip) {
            Some(e) => {
                e.mac = mac;
                e.expires_at = now + ARP_ENTRY_TTL;
                true
            }
            None => false,
        }
    }

    /// Learns `ip` → `mac`; when full, replaces the entry closest to
    /// expiry (an expired one if any).
    pub(crate) fn insert(&mut self, ip: Ipv4Address, mac: EthernetAddress, now: Instant) {
        if self.refresh(ip, mac, now) {
            return;
        }
        let entry = Entry {
            ip,
            mac,
            expires_at: now + ARP_ENTRY_TTL,
        };
        let slot = match self.entries.iter().position(Option::is_none) {
            Some(i) => i,
            None => self
                .entries
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.map(|e| e.expires_at))
                .map_or(0, |(i, _)| i),
        };
        self.entries[slot] = Some(entry);
    }

    /// Entries valid at `now`.
    pub(crate) fn len(&self, now: Instant) -> usize {
        self.entries
            .iter()
            .flatten()
            .filter(|e| now < e.expires_at)
            .count()
    }
}

/// One IPv4 packet (header included) waiting for its next hop's MAC.
#[derive(Clone)]
pub(crate) struct Queued {
    pub(crate) len: usize,
    pub(crate) data: [u8; MAX_IP_PACKET_LEN],
}

/// An address being resolved.
pub(crate) struct Pending {
    pub(crate) addr: Ipv4Address,
    /// ARP requests sent so far.
    pub(crate) requests_sent: u8,
    /// When to send the next request, or give up.
    pub(crate) next_request_at: Instant,
    queue: [Queued; ARP_PENDING_PER_ADDR],
    queued: usize,
}

impl Pending {
    pub(crate) fn new(addr: Ipv4Address, now: Instant) -> Pending {
        Pending {
            addr,
            requests_sent: 0,
            next_request_at: now,
            queue: [const {
                Queued {
                    len: 0,
                    data: [0; MAX_IP_PACKET_LEN],
                }
            }; ARP_PENDING_PER_ADDR],
            queued: 0,
        }
    }

    /// Packets waiting.
    pub(crate) fn queued(&self) -> usize {
        self.queued
    }

    /// Appends a packet of `len` bytes written by `fill`; `false` (and
    /// `fill` not called) when the queue is full or `len` too long.
    pub(crate) fn push(&mut self, len: usize, fill: impl FnOnce(&mut [u8])) -> bool {
        if self.queued == ARP_PENDING_PER_ADDR || len > MAX_IP_PACKET_LEN {
            return false;
        }
        let slot = &mut self.queue[self.queued];
        slot.len = len;
        slot.data[..len].fill(0);
        fill(&mut slot.data[..len]);
        self.queued += 1;
        true
    }

    /// The oldest packet.
    pub(crate) fn front(&self) -> Option<&[u8]> {
        (self.queued > 0).then(|| &self.queue[0].data[..self.queue[0].len])
    }

    /// Removes the oldest packet.
    pub(crate) fn pop_front(&mut self) {
        if self.queued > 0 {
            self.queue.rotate_left(1);
            self.queued -= 1;
        }
    }
}

/// Addresses being resolved, [`ARP_PENDING_ADDRS`] at most.
pub(crate) type PendingTable = [Option<Pending>; ARP_PENDING_ADDRS];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Duration;

    fn ip(n: u8) -> Ipv4Address {
        Ipv4Address::new(10, 0, 2, n)
    }

    fn mac(n: u8) -> EthernetAddress {
        EthernetAddress([2, 0, 0, 0, 0, n])
    }

    #[test]
    fn entry_valid_until_ttl() {
        let mut c = ArpCache::new();
        let t0 = Instant(1_000);
        c.insert(ip(2), mac(2), t0);
        assert_eq!(c.lookup(ip(2), t0), Some(mac(2)));
        let last = t0 + Duration(ARP_ENTRY_TTL.0 - 1);
        assert_eq!(c.lookup(ip(2), last), Some(mac(2)));
        assert_eq!(c.lookup(ip(2), t0 + ARP_ENTRY_TTL), None);
    }

    #[test]
    fn refresh_only_updates_existing() {
        let mut c = ArpCache::new();
        assert!(!c.refresh(ip(2), mac(2), Instant(0)));
        assert_eq!(c.lookup(ip(2), Instant(0)), None);
        c.insert(ip(2), mac(2), Instant(0));
        assert!(c.refresh(ip(2), mac(3), Instant(5)));
        assert_eq!(c.lookup(ip(2), Instant(5)), Some(mac(3)));
    }

    #[test]
    fn full_cache_evicts_oldest() {
        let mut c = ArpCache::new();
        for n in 0..ARP_CACHE_ENTRIES as u8 {
            c.insert(ip(n), mac(n), Instant(u64::from(n)));
        }
        assert_eq!(c.len(Instant(100)), ARP_CACHE_ENTRIES);
        // One past the limit: the oldest (ip 0) goes.
        c.insert(ip(200), mac(200), Instant(100));
        assert_eq!(c.len(Instant(100)), ARP_CACHE_ENTRIES);
        assert_eq!(c.lookup(ip(0), Instant(100)), None);
        assert_eq!(c.lookup(ip(1), Instant(100)), Some(mac(1)));
        assert_eq!(c.lookup(ip(200), Instant(100)), Some(mac(200)));
    }

    #[test]
    fn pending_queue_limit() {
        let mut p = Pending::new(ip(9), Instant(0));
        for n in 0..ARP_PENDING_PER_ADDR {
            assert!(p.push(3, |b| b.fill(n as u8)));
        }
        assert!(!p.push(3, |_| unreachable!()));
        assert!(!Pending::new(ip(9), Instant(0)).push(MAX_IP_PACKET_LEN + 1, |_| ()));
        for n in 0..ARP_PENDING_PER_ADDR {
            assert_eq!(p.front(), Some(&[n as u8; 3][..]));
            p.pop_front();
        }
        assert_eq!(p.front(), None);
        assert_eq!(p.queued(), 0);
    }
}
