use super::*;

const SRC: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);
const DST: Ipv4Address = Ipv4Address::new(10, 0, 2, 15);

/// A SYN as Linux sends it (options MSS 1460, SACK-permitted,
/// timestamps, NOP, window scale 7), 10.0.2.2:47678 -> 10.0.2.15:80.
static LINUX_SYN: [u8; 40] = [
    0xba, 0x3e, 0x00, 0x50, // ports
    0x5b, 0x1e, 0x7d, 0x9c, // seq
    0x00, 0x00, 0x00, 0x00, // ack
    0xa0, 0x02, 0xfa, 0xf0, // 40-byte header, SYN, window 64240
    0x00, 0x00, 0x00, 0x00, // checksum (filled below), urgent
    0x02, 0x04, 0x05, 0xb4, // MSS 1460
    0x04, 0x02, 0x08, 0x0a, // SACK-permitted, timestamps...
    0x9d, 0x2e, 0x51, 0x9f, //
    0x00, 0x00, 0x00, 0x00, //
    0x01, 0x03, 0x03, 0x07, // NOP, window scale 7
];

fn linux_syn() -> [u8; 40] {
    let mut b = LINUX_SYN;
    Packet::new_unchecked(&mut b[..]).fill_checksum(SRC, DST);
    b
}

#[test]
fn deconstruct() {
    let b = linux_syn();
    let p = Packet::new_checked(&b[..]).unwrap();
    assert_eq!((p.src_port(), p.dst_port()), (47678, 80));
    assert_eq!(p.seq_number(), SeqNumber(0x5b1e_7d9c));
    assert_eq!(p.header_len(), 40);
    assert!(p.syn() && !p.ack() && !p.fin() && !p.rst() && !p.psh() && !p.urg());
    assert_eq!(p.window_len(), 64240);
    assert_eq!(p.segment_len(), 1);
    assert!(p.verify_checksum(SRC, DST));
    assert!(!p.verify_checksum(DST, DST));
    let r = Repr::parse(&p, SRC, DST).unwrap();
    assert_eq!(r.control, Control::Syn);
    assert_eq!(r.ack_number, None);
    assert_eq!(r.max_seg_size, Some(1460));
    assert_eq!(r.window_scale, Some(7));
    assert!(r.sack_permitted);
    assert_eq!(
        r.timestamps,
        Some(Timestamps {
            tsval: 0x9d2e_519f,
            tsecr: 0
        })
    );
    assert!(r.payload.is_empty());
}

#[test]
fn construct_then_parse() {
    let repr = Repr {
        src_port: 80,
        dst_port: 47678,
        control: Control::Syn,
        push: false,
        seq_number: SeqNumber(1000),
        ack_number: Some(SeqNumber(0x5b1e_7d9d)),
        window_len: 16384,
        max_seg_size: Some(1460),
        window_scale: None,
        sack_permitted: false,
        timestamps: None,
        sack_blocks: [None; MAX_SACK_BLOCKS],
        payload: &[],
    };
    let mut b = vec![0xa5; repr.buffer_len()];
    assert_eq!(b.len(), 24);
    repr.emit(&mut Packet::new_unchecked(&mut b[..]), DST, SRC);
    assert_eq!(&b[12..14], &[0x60, 0x12], "24-byte header, SYN+ACK");
    assert_eq!(&b[20..24], &[2, 4, 0x05, 0xb4]);
    let p = Packet::new_checked(&b[..]).unwrap();
    assert_eq!(Repr::parse(&p, DST, SRC), Ok(repr));
    let data = Repr {
        control: Control::Fin,
        push: true,
        max_seg_size: None,
        window_scale: Some(2),
        sack_permitted: true,
        payload: b"hello",
        ..repr
    };
    let mut b = vec![0; data.buffer_len()];
    data.emit(&mut Packet::new_unchecked(&mut b[..]), DST, SRC);
    let p = Packet::new_checked(&b[..]).unwrap();
    assert_eq!(p.segment_len(), 6);
    assert_eq!(Repr::parse(&p, DST, SRC), Ok(data));
}

#[test]
fn a_partial_checksum_completed_is_the_full_one() {
    let full = linux_syn();
    let mut b = LINUX_SYN;
    Packet::new_unchecked(&mut b[..]).fill_partial_checksum(SRC, DST);
    let p = Packet::new_checked(&b[..]).unwrap();
    assert!(
        !p.verify_checksum(SRC, DST),
        "partial: only the pseudo-header"
    );
    assert_eq!(Repr::parse(&p, SRC, DST), Err(Error::BadChecksum));
    // What a device with checksum offload makes of it (field at 16).
    assert!(checksum::complete_partial(&mut b, 0, 16));
    assert_eq!(b, full);
}

#[test]
fn parse_checked_leaves_the_checksum_to_the_device() {
    let mut b = linux_syn();
    b[16] ^= 0xff;
    let p = Packet::new_checked(&b[..]).unwrap();
    assert_eq!(Repr::parse(&p, SRC, DST), Err(Error::BadChecksum));
    let good = linux_syn();
    let good = Packet::new_checked(&good[..]).unwrap();
    assert_eq!(Repr::parse_checked(&p), Repr::parse(&good, SRC, DST));
    // Everything else is still checked.
    b[13] = 0x03; // SYN+FIN
    let p = Packet::new_checked(&b[..]).unwrap();
    assert_eq!(Repr::parse_checked(&p), Err(Error::Unsupported));
    assert_eq!(
        Repr::parse_checked(&Packet::new_unchecked(&b[..19])),
        Err(Error::Truncated)
    );
}

#[test]
fn truncated_and_impossible_lengths() {
    let b = linux_syn();
    assert_eq!(Packet::new_checked(&b[..19]), Err(Error::Truncated));
    assert_eq!(Packet::new_checked(&b[..39]), Err(Error::Truncated));
    let mut short = linux_syn();
    short[12] = 0x40; // 16-byte header
    assert_eq!(Packet::new_checked(&short[..]), Err(Error::BadLength));
}

#[test]
fn bad_checksum_flags_ports_and_options() {
    let mut b = linux_syn();
    b[30] ^= 1;
    let p = Packet::new_checked(&b[..]).unwrap();
    assert_eq!(Repr::parse(&p, SRC, DST), Err(Error::BadChecksum));

    let refill = |b: &mut [u8]| Packet::new_unchecked(&mut *b).fill_checksum(SRC, DST);
    let mut b = linux_syn();
    b[13] = 0x03; // SYN+FIN
    refill(&mut b);
    let p = Packet::new_checked(&b[..]).unwrap();
    assert_eq!(Repr::parse(&p, SRC, DST), Err(Error::Unsupported));

    let mut b = linux_syn();
    b[13] = 0x15; // RST+ACK+FIN counts as RST
    refill(&mut b);
    let p = Packet::new_checked(&b[..]).unwrap();
    assert_eq!(Repr::parse(&p, SRC, DST).unwrap().control, Control::Rst);

    let mut b = linux_syn();
    b[2..4].copy_from_slice(&[0, 0]);
    refill(&mut b);
    let p = Packet::new_checked(&b[..]).unwrap();
    assert_eq!(Repr::parse(&p, SRC, DST), Err(Error::Unsupported));

    for (at, v) in [(21, 3), (21, 0), (21, 30), (25, 3)] {
        let mut b = linux_syn();
        b[at] = v;
        refill(&mut b);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Repr::parse(&p, SRC, DST), Err(Error::BadLength), "{at}={v}");
    }
    // End-of-options stops the walk: garbage after it is ignored.
    let mut b = linux_syn();
    b[24] = 0;
    b[25] = 0xff;
    refill(&mut b);
    let p = Packet::new_checked(&b[..]).unwrap();
    let r = Repr::parse(&p, SRC, DST).unwrap();
    assert_eq!((r.max_seg_size, r.window_scale), (Some(1460), None));
}

/// An ACK carrying `blocks` SACK blocks and nothing else.
fn sack_ack(blocks: &[(u32, u32)]) -> Repr<'static> {
    let mut sack_blocks = [None; MAX_SACK_BLOCKS];
    for (slot, &(l, r)) in sack_blocks.iter_mut().zip(blocks) {
        *slot = Some((SeqNumber(l), SeqNumber(r)));
    }
    Repr {
        src_port: 80,
        dst_port: 47678,
        control: Control::None,
        push: false,
        seq_number: SeqNumber(1000),
        ack_number: Some(SeqNumber(2000)),
        window_len: 1000,
        max_seg_size: None,
        window_scale: None,
        sack_permitted: false,
        timestamps: None,
        sack_blocks,
        payload: &[],
    }
}

#[test]
fn sack_blocks_round_trip_up_to_the_limit() {
    for n in 1..=MAX_SACK_BLOCKS {
        let blocks: Vec<(u32, u32)> = (0..n as u32)
            .map(|i| (3000 + 100 * i, 3050 + 100 * i))
            .collect();
        let repr = sack_ack(&blocks);
        assert_eq!(repr.sack_blocks_emitted(), n);
        let mut b = vec![0; repr.buffer_len()];
        assert_eq!(b.len(), HEADER_LEN + 4 + 8 * n);
        repr.emit(&mut Packet::new_unchecked(&mut b[..]), SRC, DST);
        assert_eq!(&b[20..24], &[1, 1, 5, 2 + 8 * n as u8]);
        assert_eq!(&b[24..32], &[0, 0, 0x0b, 0xb8, 0, 0, 0x0b, 0xea]);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Repr::parse(&p, SRC, DST), Ok(repr));
    }
}

#[test]
fn sack_blocks_yield_to_other_options() {
    let four = [(1, 2), (3, 4), (5, 6), (7, 8)];
    // MSS (4) + 4 blocks (36) fill the 40 bytes exactly.
    let repr = Repr {
        max_seg_size: Some(1460),
        ..sack_ack(&four)
    };
    assert_eq!(
        (repr.sack_blocks_emitted(), repr.header_len()),
        (4, MAX_HEADER_LEN)
    );
    // With SACK-permitted too only 3 fit; the first three are sent.
    let repr = Repr {
        max_seg_size: Some(1460),
        sack_permitted: true,
        ..sack_ack(&four)
    };
    assert_eq!((repr.sack_blocks_emitted(), repr.header_len()), (3, 56));
    let mut b = vec![0; repr.buffer_len()];
    repr.emit(&mut Packet::new_unchecked(&mut b[..]), SRC, DST);
    let p = Packet::new_checked(&b[..]).unwrap();
    let parsed = Repr::parse(&p, SRC, DST).unwrap();
    assert_eq!(parsed.sack_blocks[..3], repr.sack_blocks[..3]);
    assert_eq!(parsed.sack_blocks[3], None);
    // Every option at once: still 3 blocks, filling the header.
    let repr = Repr {
        window_scale: Some(7),
        ..repr
    };
    assert_eq!((repr.sack_blocks_emitted(), repr.header_len()), (3, 60));
}

#[test]
fn timestamps_round_trip_and_leave_room_for_three_sack_blocks() {
    let ts = Some(Timestamps {
        tsval: 0xffff_fff0,
        tsecr: 7,
    });
    let four = [(3000, 3050), (3100, 3150), (3200, 3250), (3300, 3350)];
    let repr = Repr {
        timestamps: ts,
        ..sack_ack(&four)
    };
    // 12 bytes of timestamps: 28 left, 3 blocks of 8 after the 4 of
    // the SACK option's head (RFC 7323 §3.2 with RFC 2018 §3).
    assert_eq!((repr.sack_blocks_emitted(), repr.header_len()), (3, 60));
    let mut b = vec![0; repr.buffer_len()];
    repr.emit(&mut Packet::new_unchecked(&mut b[..]), SRC, DST);
    assert_eq!(&b[20..24], &[kind::NOP, kind::NOP, kind::TIMESTAMPS, 10]);
    let p = Packet::new_checked(&b[..]).unwrap();
    let parsed = Repr::parse(&p, SRC, DST).unwrap();
    assert_eq!(parsed.timestamps, ts);
    assert_eq!(parsed.sack_blocks[..3], repr.sack_blocks[..3]);
    // A Timestamps option of any other length is malformed.
    let mut bad = b.clone();
    bad[23] = 9;
    Packet::new_unchecked(&mut bad[..]).fill_checksum(SRC, DST);
    let p = Packet::new_checked(&bad[..]).unwrap();
    assert_eq!(Repr::parse(&p, SRC, DST), Err(Error::BadLength));
}

#[test]
fn malformed_sack_options_are_refused_without_panic() {
    let base = sack_ack(&[(3000, 3050)]);
    let mut good = vec![0; base.buffer_len()];
    base.emit(&mut Packet::new_unchecked(&mut good[..]), SRC, DST);
    // Byte 23 is the SACK option's length (10 here). Zero blocks, a
    // partial block, one block too many (past the limit), longer
    // than the header, below 2.
    for len in [
        2u8,
        9,
        11,
        18,
        2 + 8 * (MAX_SACK_BLOCKS as u8 + 1),
        30,
        1,
        0,
    ] {
        let mut b = good.clone();
        b[23] = len;
        Packet::new_unchecked(&mut b[..]).fill_checksum(SRC, DST);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(
            Repr::parse(&p, SRC, DST),
            Err(Error::BadLength),
            "length {len}"
        );
    }
    // A 5-block option cannot fit even the longest header.
    const { assert!(2 + 8 * (MAX_SACK_BLOCKS + 1) > MAX_OPTIONS_LEN) };
    // The length byte cut off by the end of the header.
    let mut b = [0u8; 24];
    b[..20].copy_from_slice(&good[..20]);
    b[12] = 0x60;
    b[20..24].copy_from_slice(&[1, 1, 1, 5]);
    Packet::new_unchecked(&mut b[..]).fill_checksum(SRC, DST);
    let p = Packet::new_checked(&b[..]).unwrap();
    assert_eq!(Repr::parse(&p, SRC, DST), Err(Error::BadLength));
}
