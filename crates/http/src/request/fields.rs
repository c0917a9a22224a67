//! Header field lines (RFC 9112 5): `field-name ":" OWS field-value OWS
//! CRLF`, up to the empty line that ends the head. Obsolete line folding
//! is refused (RFC 9112 5.2).

use super::Header;
use crate::chars::is_token;
use crate::error::Error;
use crate::scan::{find, ValueEnd};

/// Parses the field lines of `buf` from offset `i` into `headers` (at
/// most `max_headers` of them) through the empty line that ends the head;
/// returns how many there were and the head's length, or `None` when
/// `buf` ends first.
#[inline(always)]
pub(super) fn parse_fields<'b>(
    buf: &'b [u8],
    mut i: usize,
    headers: &mut [Header<'b>],
    max_headers: usize,
) -> Result<Option<(usize, usize)>, Error> {
    let mut count = 0;
    loop {
        match buf.get(i) {
            None => return Ok(None),
            Some(b'\r') => {
                return match buf.get(i + 1) {
                    None => Ok(None),
                    Some(b'\n') => Ok(Some((count, i + 2))),
                    Some(_) => Err(Error::BadHeaderValue),
                };
            }
            Some(b'\n') => return Err(Error::BadHeaderValue),
            Some(b' ' | b'\t') if count > 0 => return Err(Error::ObsoleteLineFolding),
            Some(_) => {}
        }
        if count >= max_headers {
            return Err(Error::TooManyHeaders);
        }
        // field-name ":"
        // Names are short: a byte loop, whose exit the CPU predicts, beats
        // a word search whose result every later step waits on.
        let n_start = i;
        let mut n_end = n_start;
        while let Some(&b) = buf.get(n_end) {
            if !is_token(b) {
                break;
            }
            n_end += 1;
        }
        match buf.get(n_end) {
            Some(b':') if n_end > n_start => {}
            None => return Ok(None),
            _ => return Err(Error::BadHeaderName),
        }
        let name = &buf[n_start..n_end];
        // OWS field-value OWS CRLF
        // A loop, not a conditional add: its exit is predicted, while an
        // add would make every later step wait for this byte's load.
        let mut v_start = n_end + 1;
        while let Some(b' ' | b'\t') = buf.get(v_start) {
            v_start += 1;
        }
        let v_end = find::<ValueEnd>(buf, v_start);
        match buf.get(v_end) {
            None => return Ok(None),
            Some(b'\r') => {}
            Some(_) => return Err(Error::BadHeaderValue),
        }
        match buf.get(v_end + 1) {
            None => return Ok(None),
            Some(b'\n') => {}
            Some(_) => return Err(Error::BadHeaderValue),
        }
        let mut value = &buf[v_start..v_end];
        while let [rest @ .., b' ' | b'\t'] = value {
            value = rest;
        }
        if let Some(slot) = headers.get_mut(count) {
            *slot = Header { name, value };
        }
        count += 1;
        i = v_end + 2;
    }
}
