//! The chunked transfer coding decoder (RFC 9112 7.1).
//!
//! [`ChunkedDecoder`] is a byte-at-a-time state machine with bulk copies for
//! chunk data: it does no I/O, keeps no buffer of its own and can be paused
//! and resumed at any byte boundary of the input or the output. Chunk sizes
//! are capped at [`MAX_CHUNK_SIZE_DIGITS`] hex digits so they never overflow;
//! chunk extensions are validated loosely and skipped, bounded by
//! `max_chunk_ext_len`; trailer fields are validated and discarded, bounded
//! by `max_trailer_len`.

use crate::chars::{hex_digit, is_token, VALUE};
use crate::error::Error;
use crate::limits::{Limits, MAX_CHUNK_SIZE_DIGITS};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    SizeStart,
    Size,
    SizeWs,
    Ext,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    TrailerStart,
    TrailerName,
    TrailerValue,
    TrailerLf,
    FinalLf,
    Done,
    Failed(Error),
}

/// Incremental decoder for a chunked request body.
#[derive(Clone, Copy, Debug)]
pub struct ChunkedDecoder {
    state: State,
    /// Size being read, then bytes left in the current chunk.
    size: u64,
    digits: usize,
    ext_len: usize,
    trailer_len: usize,
    max_ext: usize,
    max_trailer: usize,
}

/// What one [`ChunkedDecoder::decode`] call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkProgress {
    /// Bytes of input used; the caller drops them before the next call.
    pub consumed: usize,
    /// Bytes of body data written to the start of the output.
    pub written: usize,
    /// The body, trailers included, has ended; input after `consumed`
    /// belongs to the next request.
    pub done: bool,
}

impl ChunkedDecoder {
    /// A decoder at the start of a chunked body, bounded by `limits`.
    pub fn new(limits: &Limits) -> Self {
        ChunkedDecoder {
            state: State::SizeStart,
            size: 0,
            digits: 0,
            ext_len: 0,
            trailer_len: 0,
            max_ext: limits.max_chunk_ext_len,
            max_trailer: limits.max_trailer_len,
        }
    }

    /// Has the whole body (through the final CRLF) been decoded?
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decode as much of `input` as possible, writing body bytes to `out`.
    ///
    /// Stops when the input is used up, when `out` is full and chunk data
    /// remains, or when the body ends. Call again with the unconsumed rest
    /// plus any new bytes. Errors are [`Error::BadChunk`],
    /// [`Error::ChunkExtensionTooLong`] and [`Error::TrailerTooLarge`]; once
    /// an error is returned every later call returns it again.
    pub fn decode(&mut self, input: &[u8], out: &mut [u8]) -> Result<ChunkProgress, Error> {
        let mut i = 0;
        let mut written = 0;
        while let Some(&b) = input.get(i) {
            match self.state {
                State::Done => break,
                State::Failed(e) => return Err(e),
                State::Data => {
                    let room = out.len() - written;
                    let left = input.len() - i;
                    let n = (room.min(left) as u64).min(self.size) as usize;
                    if n == 0 {
                        break;
                    }
                    out[written..written + n].copy_from_slice(&input[i..i + n]);
                    written += n;
                    i += n;
                    self.size -= n as u64;
                    if self.size == 0 {
                        self.state = State::DataCr;
                    }
                    continue;
                }
                _ => {}
            }
            if let Err(e) = self.step(b) {
                self.state = State::Failed(e);
                return Err(e);
            }
            i += 1;
        }
        if let State::Failed(e) = self.state {
            return Err(e);
        }
        Ok(ChunkProgress {
            consumed: i,
            written,
            done: self.is_done(),
        })
    }

    /// Advance over one framing byte (anything but chunk data).
    fn step(&mut self, b: u8) -> Result<(), Error> {
        self.state = match self.state {
            State::SizeStart | State::Size => match hex_digit(b) {
                Some(d) => {
                    self.digits += 1;
                    if self.digits > MAX_CHUNK_SIZE_DIGITS {
                        return Err(Error::BadChunk);
                    }
                    self.size = (self.size << 4) | u64::from(d);
                    State::Size
                }
                None if self.state == State::SizeStart => return Err(Error::BadChunk),
                None => match b {
                    b'\r' => State::SizeLf,
                    b';' => self.ext_byte(State::Ext)?,
                    b' ' | b'\t' => self.ext_byte(State::SizeWs)?,
                    _ => return Err(Error::BadChunk),
                },
            },
            State::SizeWs => match b {
                b' ' | b'\t' => self.ext_byte(State::SizeWs)?,
                b';' => self.ext_byte(State::Ext)?,
                _ => return Err(Error::BadChunk),
            },
            State::Ext => match b {
                b'\r' => State::SizeLf,
                _ if VALUE[b as usize] => self.ext_byte(State::Ext)?,
                _ => return Err(Error::BadChunk),
            },
            State::SizeLf => match b {
                b'\n' if self.size == 0 => State::TrailerStart,
                b'\n' => State::Data,
                _ => return Err(Error::BadChunk),
            },
            State::DataCr => match b {
                b'\r' => State::DataLf,
                _ => return Err(Error::BadChunk),
            },
            State::DataLf => match b {
                b'\n' => {
                    self.digits = 0;
                    self.ext_len = 0;
                    State::SizeStart
                }
                _ => return Err(Error::BadChunk),
            },
            State::TrailerStart
            | State::TrailerName
            | State::TrailerValue
            | State::TrailerLf
            | State::FinalLf => {
                self.trailer_len += 1;
                if self.trailer_len > self.max_trailer {
                    return Err(Error::TrailerTooLarge);
                }
                match (self.state, b) {
                    (State::TrailerStart, b'\r') => State::FinalLf,
                    (State::TrailerStart | State::TrailerName, _) if is_token(b) => {
                        State::TrailerName
                    }
                    (State::TrailerName, b':') => State::TrailerValue,
                    (State::TrailerValue, b'\r') => State::TrailerLf,
                    (State::TrailerValue, _) if VALUE[b as usize] => State::TrailerValue,
                    (State::TrailerLf, b'\n') => State::TrailerStart,
                    (State::FinalLf, b'\n') => State::Done,
                    _ => return Err(Error::BadChunk),
                }
            }
            // Handled by `decode` before calling `step`.
            State::Data | State::Done | State::Failed(_) => self.state,
        };
        Ok(())
    }

    /// Count one byte of chunk extension (or the whitespace before it).
    fn ext_byte(&mut self, next: State) -> Result<State, Error> {
        self.ext_len += 1;
        if self.ext_len > self.max_ext {
            return Err(Error::ChunkExtensionTooLong);
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{MAX_CHUNK_EXT_LEN, MAX_TRAILER_LEN};

    /// Feed `parts` in order through a decoder with an output window of
    /// `out_cap` bytes; return the body and the bytes left after the end.
    fn run(parts: &[&[u8]], out_cap: usize, limits: &Limits) -> Result<(Vec<u8>, Vec<u8>), Error> {
        let mut d = ChunkedDecoder::new(limits);
        let mut body = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        let mut out = vec![0u8; out_cap];
        for (k, part) in parts.iter().enumerate() {
            pending.extend_from_slice(part);
            loop {
                let p = d.decode(&pending, &mut out)?;
                body.extend_from_slice(&out[..p.written]);
                pending.drain(..p.consumed);
                assert_eq!(p.done, d.is_done());
                if p.done {
                    for later in &parts[k + 1..] {
                        pending.extend_from_slice(later);
                    }
                    return Ok((body, pending));
                }
                if p.consumed == 0 && p.written == 0 {
                    break;
                }
            }
        }
        assert!(!d.is_done());
        Err(Error::BadRequestLine) // stands for "incomplete" in these tests
    }

    const MSG: &[u8] = b"5;name=\"v\"\r\nhello\r\n1A \t;x\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Sum: 1\r\nOther:\t b c \r\n\r\nNEXT";
    const BODY: &[u8] = b"helloabcdefghijklmnopqrstuvwxyz";

    #[test]
    fn whole_input() {
        let (body, rest) = run(&[MSG], 64, &Limits::default()).unwrap();
        assert_eq!(body, BODY);
        assert_eq!(rest, b"NEXT");
    }

    #[test]
    fn every_split_point_and_output_size() {
        for split in 0..=MSG.len() {
            for cap in [1, 2, 3, 7, 64] {
                let (a, b) = MSG.split_at(split);
                let (body, rest) = run(&[a, b], cap, &Limits::default()).unwrap();
                assert_eq!(body, BODY, "split {split} cap {cap}");
                assert_eq!(rest, b"NEXT");
            }
        }
        // byte by byte
        let parts: Vec<&[u8]> = MSG.chunks(1).collect();
        let (body, rest) = run(&parts, 1, &Limits::default()).unwrap();
        assert_eq!(body, BODY);
        assert_eq!(rest, b"NEXT");
    }

    #[test]
    fn empty_body_and_done_state() {
        let mut d = ChunkedDecoder::new(&Limits::default());
        let p = d.decode(b"0\r\n\r\nGET", &mut []).unwrap();
        assert_eq!(
            p,
            ChunkProgress {
                consumed: 5,
                written: 0,
                done: true
            }
        );
        let p = d.decode(b"GET", &mut []).unwrap();
        assert_eq!(
            p,
            ChunkProgress {
                consumed: 0,
                written: 0,
                done: true
            }
        );
        // upper-case hex and leading zeros
        assert_eq!(
            run(
                &[b"00A\r\n0123456789\r\n000\r\n\r\n"],
                4,
                &Limits::default()
            )
            .unwrap()
            .0,
            b"0123456789"
        );
    }

    #[test]
    fn output_full_makes_no_progress_inside_data() {
        let mut d = ChunkedDecoder::new(&Limits::default());
        let p = d.decode(b"3\r\nabc", &mut []).unwrap();
        assert_eq!(
            p,
            ChunkProgress {
                consumed: 3,
                written: 0,
                done: false
            }
        );
    }

    fn err(input: &[u8]) -> Error {
        for split in 0..=input.len() {
            let (a, b) = input.split_at(split);
            let e = run(&[a, b], 5, &Limits::default()).unwrap_err();
            assert_ne!(
                e,
                Error::BadRequestLine,
                "incomplete instead of error: {input:?}"
            );
            let whole = run(&[input], 5, &Limits::default()).unwrap_err();
            assert_eq!(e, whole);
        }
        run(&[input], 5, &Limits::default()).unwrap_err()
    }

    #[test]
    fn malformed() {
        for bad in [
            &b"\r\n"[..],
            b"x\r\n",
            b"-1\r\n",
            b"0x5\r\nhello\r\n0\r\n\r\n",
            b"5\nhello\r\n0\r\n\r\n",
            b"5\r\nhello\n0\r\n\r\n",
            b"5\r\nhelloX\r\n0\r\n\r\n",
            b"5\r\nhello\rX",
            b"5 x\r\n",
            b"5;\x00\r\n",
            b"5;a\rb\r\n",
            b"0\r\n\n",
            b"0\r\n\rX",
            b"0\r\n X: y\r\n\r\n",
            b"0\r\n: y\r\n\r\n",
            b"0\r\nX y: z\r\n\r\n",
            b"0\r\nX: y\x01\r\n\r\n",
            b"0\r\nX: y\n\r\n",
            b"0\r\nX\r\n\r\n",
        ] {
            assert_eq!(err(bad), Error::BadChunk, "{:?}", core::str::from_utf8(bad));
        }
    }

    #[test]
    fn errors_are_sticky() {
        let mut d = ChunkedDecoder::new(&Limits::default());
        assert_eq!(d.decode(b"z", &mut [0; 4]), Err(Error::BadChunk));
        assert_eq!(d.decode(b"0\r\n\r\n", &mut [0; 4]), Err(Error::BadChunk));
        assert!(!d.is_done());
    }

    #[test]
    fn size_digits_limit() {
        // 16 digits is the limit: at it, fine (the data is simply not there yet)
        let mut d = ChunkedDecoder::new(&Limits::default());
        let p = d.decode(b"000000000000000F\r\nabc", &mut [0; 8]).unwrap();
        assert_eq!((p.consumed, p.written), (21, 3));
        let mut d = ChunkedDecoder::new(&Limits::default());
        assert!(d.decode(b"FFFFFFFFFFFFFFFF\r\n", &mut [0; 8]).is_ok());
        // 17 digits, even leading zeros: past the limit
        let mut d = ChunkedDecoder::new(&Limits::default());
        assert_eq!(
            d.decode(b"0000000000000000F\r\n", &mut [0; 8]),
            Err(Error::BadChunk)
        );
    }

    #[test]
    fn extension_limit() {
        let limits = Limits {
            max_chunk_ext_len: 8,
            ..Limits::default()
        };
        // ";abc=def" is 8 bytes: at the limit
        assert_eq!(
            run(&[b"1;abc=def\r\nx\r\n0\r\n\r\n"], 4, &limits)
                .unwrap()
                .0,
            b"x"
        );
        // whitespace counts too; the limit is per chunk
        assert_eq!(
            run(
                &[b"1 ;ab=def\r\nx\r\n1;abc=def\r\ny\r\n0;abc=def\r\n\r\n"],
                4,
                &limits
            )
            .unwrap()
            .0,
            b"xy"
        );
        assert_eq!(
            run(&[b"1;abc=defg\r\nx\r\n0\r\n\r\n"], 4, &limits),
            Err(Error::ChunkExtensionTooLong)
        );
        assert_eq!(
            run(&[b"1  ;ab=def\r\nx\r\n0\r\n\r\n"], 4, &limits),
            Err(Error::ChunkExtensionTooLong)
        );
        // the default limit
        let mut at = b"1;".to_vec();
        at.resize(1 + MAX_CHUNK_EXT_LEN, b'a');
        at.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
        assert_eq!(run(&[&at], 4, &Limits::default()).unwrap().0, b"x");
        let mut past = b"1;".to_vec();
        past.resize(2 + MAX_CHUNK_EXT_LEN, b'a');
        past.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
        assert_eq!(
            run(&[&past], 4, &Limits::default()),
            Err(Error::ChunkExtensionTooLong)
        );
    }

    #[test]
    fn trailer_limit() {
        // trailer section "X: 12\r\n\r\n" is 9 bytes
        let at = Limits {
            max_trailer_len: 9,
            ..Limits::default()
        };
        let past = Limits {
            max_trailer_len: 8,
            ..Limits::default()
        };
        let msg: &[u8] = b"1\r\nx\r\n0\r\nX: 12\r\n\r\n";
        assert_eq!(run(&[msg], 4, &at).unwrap().0, b"x");
        assert_eq!(run(&[msg], 4, &past), Err(Error::TrailerTooLarge));
        // no trailers: the final CRLF alone counts 2
        let two = Limits {
            max_trailer_len: 2,
            ..Limits::default()
        };
        let one = Limits {
            max_trailer_len: 1,
            ..Limits::default()
        };
        assert!(run(&[b"0\r\n\r\n"], 4, &two).is_ok());
        assert_eq!(run(&[b"0\r\n\r\n"], 4, &one), Err(Error::TrailerTooLarge));
        assert_eq!(Error::TrailerTooLarge.status(), 431);
        // the default limit, at and past
        let mut ok = b"0\r\nX:".to_vec();
        ok.resize(3 + MAX_TRAILER_LEN - 4, b'v');
        ok.extend_from_slice(b"\r\n\r\n");
        assert!(run(&[&ok], 4, &Limits::default()).is_ok());
        let mut bad = b"0\r\nX:".to_vec();
        bad.resize(3 + MAX_TRAILER_LEN - 3, b'v');
        bad.extend_from_slice(b"\r\n\r\n");
        assert_eq!(
            run(&[&bad], 4, &Limits::default()),
            Err(Error::TrailerTooLarge)
        );
    }
}
