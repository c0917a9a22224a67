//! TCP segments (RFC 9293 §3.1). The view reads every header field and
//! walks the options; the `Repr` keeps what this stack acts on: ports,
//! numbers, one control flag (SYN, FIN or RST; URG is ignored, so urgent
//! data is ordinary data), PSH, the window, and the MSS, window-scale,
//! SACK-permitted and SACK (RFC 2018) options. The checksum covers the
//! IPv4 pseudo-header, so `parse` and `emit` take the two addresses.

use super::checksum;
use super::{buffer_view, read_u16, write_u16, Error, Ipv4Address, Protocol};
use crate::tcp::SeqNumber;

/// Byte ranges of the fixed TCP header.
pub mod field {
    use crate::wire::Field;

    /// Source port.
    pub const SRC_PORT: Field = 0..2;
    /// Destination port.
    pub const DST_PORT: Field = 2..4;
    /// Sequence number.
    pub const SEQ_NUM: Field = 4..8;
    /// Acknowledgement number.
    pub const ACK_NUM: Field = 8..12;
    /// Data offset (high nibble of the first byte) and the flags.
    pub const FLAGS: Field = 12..14;
    /// Receive window.
    pub const WIN_SIZE: Field = 14..16;
    /// Checksum over pseudo-header, header and payload.
    pub const CHECKSUM: Field = 16..18;
    /// Urgent pointer.
    pub const URGENT: Field = 18..20;

    /// The options of a header `header_len` bytes long.
    pub const fn options(header_len: usize) -> Field {
        URGENT.end..header_len
    }
}

/// Length of the header without options.
pub const HEADER_LEN: usize = field::URGENT.end;

/// Longest header the 4-bit data offset can state.
pub const MAX_HEADER_LEN: usize = 60;

/// Room for options: what the longest header has past the fixed part.
pub const MAX_OPTIONS_LEN: usize = MAX_HEADER_LEN - HEADER_LEN;

/// Most blocks a SACK option carries: `2 + 8 * n` bytes must fit in the
/// 40 bytes of options (RFC 2018 §3). Fewer are emitted when other
/// options take room.
pub const MAX_SACK_BLOCKS: usize = 4;

/// One SACK block: the peer holds `[left, right)`.
pub type SackBlock = (SeqNumber, SeqNumber);

/// Flag bits in the low 9 bits of [`field::FLAGS`].
pub mod flags {
    /// No more data from the sender.
    pub const FIN: u16 = 0x001;
    /// Synchronize sequence numbers.
    pub const SYN: u16 = 0x002;
    /// Reset the connection.
    pub const RST: u16 = 0x004;
    /// Push.
    pub const PSH: u16 = 0x008;
    /// The acknowledgement field is significant.
    pub const ACK: u16 = 0x010;
    /// The urgent pointer is significant.
    pub const URG: u16 = 0x020;
    /// ECN echo.
    pub const ECE: u16 = 0x040;
    /// Congestion window reduced.
    pub const CWR: u16 = 0x080;
    /// ECN nonce (historic).
    pub const NS: u16 = 0x100;
}

/// Option kinds.
mod kind {
    pub const END: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WINDOW_SCALE: u8 = 3;
    pub const SACK_PERMITTED: u8 = 4;
    pub const SACK: u8 = 5;
    /// Timestamps (RFC 7323 §3.2).
    pub const TIMESTAMPS: u8 = 8;
}

buffer_view! {
    /// A view of a TCP segment in a buffer (exactly the IPv4 payload).
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// `Truncated` if the buffer is shorter than the fixed header or than
    /// the stated header; `BadLength` if the data offset is below 5 words.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let header_len = self.header_len();
        if header_len < HEADER_LEN {
            Err(Error::BadLength)
        } else if header_len > len {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::SRC_PORT)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::DST_PORT)
    }

    fn read_u32(&self, f: super::Field) -> u32 {
        let b = &self.buffer.as_ref()[f];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// Sequence number.
    pub fn seq_number(&self) -> SeqNumber {
        SeqNumber(self.read_u32(field::SEQ_NUM))
    }

    /// Acknowledgement number (meaningful only with ACK set).
    pub fn ack_number(&self) -> SeqNumber {
        SeqNumber(self.read_u32(field::ACK_NUM))
    }

    /// Header length in bytes, options included.
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::FLAGS.start] >> 4) * 4
    }

    /// The nine flag bits (see [`flags`]).
    pub fn flags(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::FLAGS) & 0x01ff
    }

    /// FIN flag.
    pub fn fin(&self) -> bool {
        self.flags() & flags::FIN != 0
    }

    /// SYN flag.
    pub fn syn(&self) -> bool {
        self.flags() & flags::SYN != 0
    }

    /// RST flag.
    pub fn rst(&self) -> bool {
        self.flags() & flags::RST != 0
    }

    /// PSH flag.
    pub fn psh(&self) -> bool {
        self.flags() & flags::PSH != 0
    }

    /// ACK flag.
    pub fn ack(&self) -> bool {
        self.flags() & flags::ACK != 0
    }

    /// URG flag.
    pub fn urg(&self) -> bool {
        self.flags() & flags::URG != 0
    }

    /// Receive window.
    pub fn window_len(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::WIN_SIZE)
    }

    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Urgent pointer.
    pub fn urgent_at(&self) -> u16 {
        read_u16(self.buffer.as_ref(), field::URGENT)
    }

    /// The option bytes.
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[field::options(self.header_len())]
    }

    /// The payload (after the options, to the end of the buffer).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }

    /// Sequence space the segment occupies: payload, plus one each for
    /// SYN and FIN.
    pub fn segment_len(&self) -> usize {
        self.payload().len() + usize::from(self.syn()) + usize::from(self.fin())
    }

    /// Whether the checksum verifies for a segment from `src` to `dst`.
    pub fn verify_checksum(&self, src: Ipv4Address, dst: Ipv4Address) -> bool {
        let data = self.buffer.as_ref();
        let Ok(len) = u16::try_from(data.len()) else {
            return false;
        };
        let pseudo = checksum::pseudo_header(src, dst, Protocol::Tcp, len);
        checksum::combine(&[pseudo, checksum::sum(data)]) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the source port.
    pub fn set_src_port(&mut self, v: u16) {
        write_u16(self.buffer.as_mut(), field::SRC_PORT, v);
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, v: u16) {
        write_u16(self.buffer.as_mut(), field::DST_PORT, v);
    }

    /// Sets the sequence number.
    pub fn set_seq_number(&mut self, v: SeqNumber) {
        self.buffer.as_mut()[field::SEQ_NUM].copy_from_slice(&v.0.to_be_bytes());
    }

    /// Sets the acknowledgement number.
    pub fn set_ack_number(&mut self, v: SeqNumber) {
        self.buffer.as_mut()[field::ACK_NUM].copy_from_slice(&v.0.to_be_bytes());
    }

    /// Sets the header length (a multiple of 4, 20..=60) and the flags.
    /// Can break the `check_len` guarantee.
    pub fn set_header_len_and_flags(&mut self, header_len: usize, flag_bits: u16) {
        let v = ((header_len as u16 / 4) << 12) | (flag_bits & 0x01ff);
        write_u16(self.buffer.as_mut(), field::FLAGS, v);
    }

    /// Sets the window.
    pub fn set_window_len(&mut self, v: u16) {
        write_u16(self.buffer.as_mut(), field::WIN_SIZE, v);
    }

    /// Sets the checksum field as is.
    pub fn set_checksum(&mut self, v: u16) {
        write_u16(self.buffer.as_mut(), field::CHECKSUM, v);
    }

    /// Sets the urgent pointer.
    pub fn set_urgent_at(&mut self, v: u16) {
        write_u16(self.buffer.as_mut(), field::URGENT, v);
    }

    /// The option bytes, writable.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let range = field::options(self.header_len());
        &mut self.buffer.as_mut()[range]
    }

    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.buffer.as_mut()[start..]
    }

    /// Stores the partial checksum of a segment from `src` to `dst` that
    /// a device completes (checksum offload, VIRTIO 1.2 §5.1.6.2): the sum
    /// of the pseudo-header alone, not complemented. The device (or
    /// [`checksum::complete_partial`]) adds the segment's own bytes and
    /// complements the result, which is then what
    /// [`Packet::fill_checksum`] would have written.
    pub fn fill_partial_checksum(&mut self, src: Ipv4Address, dst: Ipv4Address) {
        let len = self.buffer.as_ref().len() as u16;
        self.set_checksum(checksum::pseudo_header(src, dst, Protocol::Tcp, len));
    }

    /// Computes and stores the checksum for a segment from `src` to `dst`
    /// (the whole buffer is the segment).
    pub fn fill_checksum(&mut self, src: Ipv4Address, dst: Ipv4Address) {
        self.set_checksum(0);
        let data = self.buffer.as_ref();
        let pseudo = checksum::pseudo_header(src, dst, Protocol::Tcp, data.len() as u16);
        let c = !checksum::combine(&[pseudo, checksum::sum(data)]);
        self.set_checksum(c);
    }
}

/// The one control flag a segment may carry besides ACK and PSH.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Control {
    /// None.
    #[default]
    None,
    /// SYN.
    Syn,
    /// FIN.
    Fin,
    /// RST (a received RST+FIN counts as RST).
    Rst,
}

/// A segment's meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr<'a> {
    /// Source port (never 0).
    pub src_port: u16,
    /// Destination port (never 0).
    pub dst_port: u16,
    /// SYN, FIN, RST or none.
    pub control: Control,
    /// PSH flag.
    pub push: bool,
    /// Sequence number.
    pub seq_number: SeqNumber,
    /// Acknowledgement number, when ACK is set.
    pub ack_number: Option<SeqNumber>,
    /// Receive window (unscaled).
    pub window_len: u16,
    /// MSS option.
    pub max_seg_size: Option<u16>,
    /// Window-scale option (RFC 7323 §2.2): the shift count, as sent
    /// (a receiver caps it at 14, §2.3).
    pub window_scale: Option<u8>,
    /// SACK-permitted option (SYN and SYN-ACK only).
    pub sack_permitted: bool,
    /// Timestamps option (RFC 7323 §3.2).
    pub timestamps: Option<Timestamps>,
    /// SACK option: blocks from the first, `None` after the last. On
    /// emit, blocks that do not fit beside the other options are left
    /// out (see [`Repr::sack_blocks_emitted`]).
    pub sack_blocks: [Option<SackBlock>; MAX_SACK_BLOCKS],
    /// The data.
    pub payload: &'a [u8],
}

/// The Timestamps option (RFC 7323 §3.2): the sender's timestamp clock
/// when it sent the segment, and the timestamp it echoes (meaningful
/// only when ACK is set).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Timestamps {
    /// TSval.
    pub tsval: u32,
    /// TSecr.
    pub tsecr: u32,
}

/// Bytes the Timestamps option takes, with the two NOPs that align it.
pub const TIMESTAMPS_OPTION_LEN: usize = 12;

/// Options found in a header.
#[derive(Default)]
struct Options {
    mss: Option<u16>,
    window_scale: Option<u8>,
    sack_permitted: bool,
    timestamps: Option<Timestamps>,
    sack_blocks: [Option<SackBlock>; MAX_SACK_BLOCKS],
}

/// Walks the options: `BadLength` for an option whose length byte is
/// missing, below 2, past the header, or wrong for its kind (a SACK
/// option must hold 1 to [`MAX_SACK_BLOCKS`] blocks of 8 bytes).
fn parse_options(mut bytes: &[u8]) -> Result<Options, Error> {
    let mut o = Options::default();
    while let [k, rest @ ..] = bytes {
        match *k {
            kind::END => break,
            kind::NOP => {
                bytes = rest;
                continue;
            }
            _ => {}
        }
        let len = usize::from(*rest.first().ok_or(Error::BadLength)?);
        if len < 2 || len > bytes.len() {
            return Err(Error::BadLength);
        }
        let data = &bytes[2..len];
        match (*k, data) {
            (kind::MSS, [a, b]) => o.mss = Some(u16::from_be_bytes([*a, *b])),
            (kind::WINDOW_SCALE, [s]) => o.window_scale = Some(*s),
            (kind::SACK_PERMITTED, []) => o.sack_permitted = true,
            (kind::TIMESTAMPS, [v0, v1, v2, v3, e0, e1, e2, e3]) => {
                o.timestamps = Some(Timestamps {
                    tsval: u32::from_be_bytes([*v0, *v1, *v2, *v3]),
                    tsecr: u32::from_be_bytes([*e0, *e1, *e2, *e3]),
                })
            }
            (kind::SACK, blocks)
                if !blocks.is_empty()
                    && blocks.len() % 8 == 0
                    && blocks.len() / 8 <= MAX_SACK_BLOCKS =>
            {
                o.sack_blocks = [None; MAX_SACK_BLOCKS];
                for (slot, b) in o.sack_blocks.iter_mut().zip(blocks.chunks_exact(8)) {
                    let left = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                    let right = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
                    *slot = Some((SeqNumber(left), SeqNumber(right)));
                }
            }
            (
                kind::MSS
                | kind::WINDOW_SCALE
                | kind::SACK_PERMITTED
                | kind::SACK
                | kind::TIMESTAMPS,
                _,
            ) => return Err(Error::BadLength),
            _ => {} // anything else: skipped
        }
        bytes = &bytes[len..];
    }
    Ok(o)
}

impl<'a> Repr<'a> {
    /// Reads a received segment from `src` to `dst`: `BadChecksum` if the
    /// checksum fails, `BadLength` for broken options, `Unsupported` for a
    /// zero port or SYN together with FIN or RST.
    pub fn parse(
        packet: &Packet<&'a [u8]>,
        src: Ipv4Address,
        dst: Ipv4Address,
    ) -> Result<Repr<'a>, Error> {
        packet.check_len()?;
        if !packet.verify_checksum(src, dst) {
            return Err(Error::BadChecksum);
        }
        Repr::parse_checked(packet)
    }

    /// [`Repr::parse`] of a segment whose checksum the device vouched for
    /// (`device::RxInfo::checksum_ok`): the checksum is not looked at.
    pub fn parse_checked(packet: &Packet<&'a [u8]>) -> Result<Repr<'a>, Error> {
        packet.check_len()?;
        if packet.src_port() == 0 || packet.dst_port() == 0 {
            return Err(Error::Unsupported);
        }
        let control = match (packet.syn(), packet.fin(), packet.rst()) {
            (true, false, false) => Control::Syn,
            (true, _, _) => return Err(Error::Unsupported),
            (false, _, true) => Control::Rst,
            (false, true, false) => Control::Fin,
            (false, false, false) => Control::None,
        };
        let options = parse_options(packet.options())?;
        let buffer: &'a [u8] = packet.buffer;
        Ok(Repr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            control,
            push: packet.psh(),
            seq_number: packet.seq_number(),
            ack_number: packet.ack().then(|| packet.ack_number()),
            window_len: packet.window_len(),
            max_seg_size: options.mss,
            window_scale: options.window_scale,
            sack_permitted: options.sack_permitted,
            timestamps: options.timestamps,
            sack_blocks: options.sack_blocks,
            payload: &buffer[packet.header_len()..],
        })
    }

    /// Sequence space occupied: payload plus SYN or FIN.
    pub fn segment_len(&self) -> usize {
        self.payload.len() + usize::from(matches!(self.control, Control::Syn | Control::Fin))
    }

    /// Bytes of the options other than SACK.
    fn fixed_options_len(&self) -> usize {
        (if self.max_seg_size.is_some() { 4 } else { 0 })
            + if self.window_scale.is_some() { 4 } else { 0 }
            + if self.sack_permitted { 4 } else { 0 }
            + if self.timestamps.is_some() {
                TIMESTAMPS_OPTION_LEN
            } else {
                0
            }
    }

    /// How many of [`Repr::sack_blocks`] [`Repr::emit_header`] writes:
    /// those given, as far as they fit beside the other options (each
    /// takes 8 bytes, the option itself 4 with its two NOPs).
    pub fn sack_blocks_emitted(&self) -> usize {
        let given = self.sack_blocks.iter().take_while(|b| b.is_some()).count();
        let room = (MAX_OPTIONS_LEN - self.fixed_options_len()).saturating_sub(4) / 8;
        given.min(room)
    }

    /// Bytes a SACK option of `blocks` blocks takes, padding included.
    pub const fn sack_option_len(blocks: usize) -> usize {
        if blocks == 0 {
            0
        } else {
            4 + 8 * blocks
        }
    }

    /// Header length with the options this repr carries.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.fixed_options_len() + Self::sack_option_len(self.sack_blocks_emitted())
    }

    /// Header, options and payload length.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload.len()
    }

    /// Writes the header and options (checksum zero) into a buffer of at
    /// least [`Repr::header_len`] bytes; the payload is left alone. Follow
    /// with the payload and [`Packet::fill_checksum`].
    pub fn emit_header<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_seq_number(self.seq_number);
        packet.set_ack_number(self.ack_number.unwrap_or_default());
        let mut bits = match self.control {
            Control::None => 0,
            Control::Syn => flags::SYN,
            Control::Fin => flags::FIN,
            Control::Rst => flags::RST,
        };
        if self.push {
            bits |= flags::PSH;
        }
        if self.ack_number.is_some() {
            bits |= flags::ACK;
        }
        let header_len = self.header_len();
        packet.set_header_len_and_flags(header_len, bits);
        packet.set_window_len(self.window_len);
        packet.set_checksum(0);
        packet.set_urgent_at(0);
        let mut at = 0;
        let opts = packet.options_mut();
        if let Some(mss) = self.max_seg_size {
            let [a, b] = mss.to_be_bytes();
            opts[at..at + 4].copy_from_slice(&[kind::MSS, 4, a, b]);
            at += 4;
        }
        if let Some(shift) = self.window_scale {
            opts[at..at + 4].copy_from_slice(&[kind::NOP, kind::WINDOW_SCALE, 3, shift]);
            at += 4;
        }
        if self.sack_permitted {
            opts[at..at + 4].copy_from_slice(&[kind::NOP, kind::NOP, kind::SACK_PERMITTED, 2]);
            at += 4;
        }
        if let Some(ts) = self.timestamps {
            opts[at..at + 4].copy_from_slice(&[kind::NOP, kind::NOP, kind::TIMESTAMPS, 10]);
            opts[at + 4..at + 8].copy_from_slice(&ts.tsval.to_be_bytes());
            opts[at + 8..at + 12].copy_from_slice(&ts.tsecr.to_be_bytes());
            at += TIMESTAMPS_OPTION_LEN;
        }
        let blocks = self.sack_blocks_emitted();
        if blocks > 0 {
            let len = Self::sack_option_len(blocks);
            opts[at..at + 4].copy_from_slice(&[kind::NOP, kind::NOP, kind::SACK, len as u8 - 2]);
            at += 4;
            for (left, right) in self.sack_blocks.iter().take(blocks).flatten() {
                opts[at..at + 4].copy_from_slice(&left.0.to_be_bytes());
                opts[at + 4..at + 8].copy_from_slice(&right.0.to_be_bytes());
                at += 8;
            }
        }
    }

    /// Writes the whole segment, checksum included, into a buffer of
    /// exactly [`Repr::buffer_len`] bytes, for a segment from `src` to `dst`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        src: Ipv4Address,
        dst: Ipv4Address,
    ) {
        self.emit_header(packet);
        packet.payload_mut()[..self.payload.len()].copy_from_slice(self.payload);
        packet.fill_checksum(src, dst);
    }
}

#[cfg(test)]
mod tests;
