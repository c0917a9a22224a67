//! The chains against a simulated virtio-blk device: requests go into a
//! descriptor table over a guest memory, the device executes them in any
//! order it likes and reports them used; every acknowledged write reads
//! back, and no descriptor is lost or reused while in flight.

use bedrock_virtio::{BlkRequest, BlkStatus, Chain, Chains, Desc, Op, HEADER_LEN, SECTOR};
use proptest::prelude::*;

const SECTORS: u64 = 16;

/// Guest memory, a descriptor table, and a disk behind a device.
struct Sim {
    memory: Vec<u8>,
    table: Vec<Option<Desc>>,
    disk: Vec<u8>,
    /// Heads the driver made available, in order.
    avail: Vec<u16>,
}

impl Sim {
    fn new(size: u16) -> Sim {
        Sim {
            memory: vec![0; 64 * 1024],
            table: vec![None; usize::from(size)],
            disk: vec![0; (SECTORS * SECTOR) as usize],
            avail: Vec::new(),
        }
    }

    fn publish(&mut self, chain: &Chain) {
        for d in chain.descs() {
            self.table[usize::from(d.index)] = Some(*d);
        }
        self.avail.push(chain.head);
    }

    /// Executes the `k`th available chain: (head, bytes written).
    fn execute(&mut self, k: usize) -> (u32, u32) {
        let head = self.avail.remove(k);
        let mut descs = Vec::new();
        let mut at = Some(head);
        while let Some(i) = at {
            let d = self.table[usize::from(i)]
                .take()
                .expect("a descriptor in flight was reused");
            at = d.has_next().then_some(d.next);
            descs.push(d);
        }
        let hdr = &self.memory[descs[0].addr as usize..][..HEADER_LEN];
        let kind = u32::from_le_bytes(hdr[..4].try_into().unwrap());
        let sector = u64::from_le_bytes(hdr[8..].try_into().unwrap());
        let status = descs.last().unwrap();
        assert!(status.device_writes() && status.len == 1);
        let mut written = 1;
        if let [_, data, _] = descs[..] {
            let (m, len) = (data.addr as usize, data.len as usize);
            let d = (sector * SECTOR) as usize;
            match kind {
                0 => {
                    assert!(data.device_writes());
                    self.memory[m..m + len].copy_from_slice(&self.disk[d..d + len]);
                    written += data.len;
                }
                1 => {
                    assert!(!data.device_writes());
                    self.disk[d..d + len].copy_from_slice(&self.memory[m..m + len]);
                }
                _ => panic!("unexpected type {kind}"),
            }
        }
        self.memory[status.addr as usize] = 0;
        (u32::from(head), written)
    }
}

/// Where request `tag`'s header, data and status live in guest memory.
fn buffers(tag: u32) -> (u64, u64, u64) {
    let base = 1024 * u64::from(tag % 60);
    (base, base + 32, base + 32 + SECTOR)
}

fn start(chains: &mut Chains, sim: &mut Sim, tag: u32, req: BlkRequest) -> Option<Chain> {
    let (h, d, s) = buffers(tag);
    let mut parts = vec![(h, HEADER_LEN as u32, false)];
    if req.op != Op::Flush {
        parts.push((d, req.len, req.op == Op::Read));
    }
    parts.push((s, 1, true));
    let chain = chains.start(tag, &parts)?;
    sim.memory[h as usize..][..HEADER_LEN].copy_from_slice(&req.header());
    sim.publish(&chain);
    Some(chain)
}

proptest! {
    #[test]
    fn any_completion_order_keeps_the_disk_and_the_descriptors_right(
        ops in proptest::collection::vec((0u64..SECTORS, any::<u8>(), any::<bool>(), any::<usize>()), 1..200)
    ) {
        let size = 8u16;
        let mut chains = Chains::new(size);
        let mut sim = Sim::new(size);
        let mut model = vec![0u8; SECTORS as usize];
        let mut pending: Vec<(u32, BlkRequest, u8)> = Vec::new();
        for (tag, &(sector, fill, write, pick)) in ops.iter().enumerate() {
            let tag = tag as u32;
            let req = BlkRequest { op: if write { Op::Write } else { Op::Read }, sector, len: SECTOR as u32 };
            // Only one request per sector in flight at a time, as a
            // journal does: a write's order against others is its own.
            if pending.iter().any(|p| p.1.sector == sector) || start(&mut chains, &mut sim, tag, req).is_none() {
                let k = pick % sim.avail.len();
                let (head, written) = sim.execute(k);
                let done = chains.complete(head, written).unwrap();
                let i = pending.iter().position(|p| p.0 == done.tag).unwrap();
                let (t, r, f) = pending.remove(i);
                let (_, data, status) = buffers(t);
                prop_assert_eq!(BlkStatus::from_byte(sim.memory[status as usize]), BlkStatus::Ok);
                match r.op {
                    Op::Write => model[r.sector as usize] = f,
                    Op::Read => prop_assert!(sim.memory[data as usize..][..SECTOR as usize]
                        .iter().all(|&b| b == model[r.sector as usize])),
                    Op::Flush => {}
                }
                continue;
            }
            if write {
                let (_, data, _) = buffers(tag);
                sim.memory[data as usize..][..SECTOR as usize].fill(fill);
            }
            pending.push((tag, req, fill));
            // Every descriptor is free or in exactly one chain (3 each).
            prop_assert_eq!(chains.free() + 3 * chains.in_flight(), usize::from(size));
            prop_assert_eq!(chains.in_flight(), pending.len());
        }
        // Drain: everything completes, every descriptor comes back.
        while !sim.avail.is_empty() {
            let (head, written) = sim.execute(0);
            chains.complete(head, written).unwrap();
        }
        prop_assert_eq!(chains.free(), usize::from(size));
        prop_assert_eq!(chains.in_flight(), 0);
    }
}

#[test]
fn a_flush_is_a_chain_of_two() {
    let mut chains = Chains::new(4);
    let mut sim = Sim::new(4);
    let chain = start(
        &mut chains,
        &mut sim,
        1,
        BlkRequest {
            op: Op::Flush,
            sector: 0,
            len: 0,
        },
    );
    assert_eq!(chain.unwrap().len, 2);
    assert_eq!(chains.free(), 2);
}
