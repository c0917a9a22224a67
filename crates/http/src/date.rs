//! HTTP dates (RFC 9110 5.6.7): writing IMF-fixdate, reading all three forms.
//!
//! Times are whole seconds since the Unix epoch, UTC. Years run from 1970 to
//! 9999; later times are written as the last second of 9999. Two-digit RFC
//! 850 years are read as 2000-2069 for `00`-`69` and 1970-1999 otherwise
//! (a fixed pivot: this crate has no clock).

use crate::chars::trim_ows;

const DAYS: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
const LONG_DAYS: [&[u8]; 7] = [
    b"Sunday",
    b"Monday",
    b"Tuesday",
    b"Wednesday",
    b"Thursday",
    b"Friday",
    b"Saturday",
];
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];
/// 9999-12-31 23:59:59 UTC.
const MAX_SECS: u64 = 253_402_300_799;

/// Days since 1970-01-01 of a proleptic Gregorian date (year >= 1970).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    // Count years from March so the leap day falls at the end of the year.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y % 400;
    let mp = (month + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

fn is_leap(y: u64) -> bool {
    y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400))
}

fn days_in_month(y: u64, m: u64) -> u64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Write `unix_secs` as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`)
/// into `out` and return it as text. Times after 9999 are clamped.
pub fn format_imf_fixdate(unix_secs: u64, out: &mut [u8; 29]) -> &str {
    let t = unix_secs.min(MAX_SECS);
    let days = t / 86_400;
    let secs = t % 86_400;
    let (y, m, d) = civil_from_days(days);
    let wd = ((days + 4) % 7) as usize; // 1970-01-01 was a Thursday
    out[..3].copy_from_slice(DAYS[wd]);
    out[3..5].copy_from_slice(b", ");
    two(&mut out[5..7], d);
    out[7] = b' ';
    out[8..11].copy_from_slice(MONTHS[(m - 1) as usize % 12]);
    out[11] = b' ';
    two(&mut out[12..14], y / 100);
    two(&mut out[14..16], y % 100);
    out[16] = b' ';
    clock(&mut out[17..25], secs);
    out[25..29].copy_from_slice(b" GMT");
    core::str::from_utf8(&out[..]).unwrap_or("")
}

/// Write `unix_ms` (milliseconds since the Unix epoch) as an RFC 3339
/// UTC timestamp with milliseconds (`2026-11-06T08:49:37.042Z`: RFC 3339
/// section 5.6, `time-secfrac` of three digits, offset `Z`) into `out` and
/// return it as text. Times after 9999 are clamped as in
/// [`format_imf_fixdate`].
pub fn format_rfc3339_millis(unix_ms: u64, out: &mut [u8; 24]) -> &str {
    let t = (unix_ms / 1000).min(MAX_SECS);
    let ms = if unix_ms / 1000 > MAX_SECS {
        999
    } else {
        unix_ms % 1000
    };
    let (y, m, d) = civil_from_days(t / 86_400);
    let secs = t % 86_400;
    two(&mut out[0..2], y / 100);
    two(&mut out[2..4], y % 100);
    out[4] = b'-';
    two(&mut out[5..7], m);
    out[7] = b'-';
    two(&mut out[8..10], d);
    out[10] = b'T';
    clock(&mut out[11..19], secs);
    out[19] = b'.';
    out[20] = b'0' + (ms / 100) as u8;
    two(&mut out[21..23], ms % 100);
    out[23] = b'Z';
    core::str::from_utf8(&out[..]).unwrap_or("")
}

/// `HH:MM:SS` of `secs` into the day, into `out` (8 bytes).
fn clock(out: &mut [u8], secs: u64) {
    two(&mut out[0..2], secs / 3600);
    out[2] = b':';
    two(&mut out[3..5], secs / 60 % 60);
    out[5] = b':';
    two(&mut out[6..8], secs % 60);
}

fn two(out: &mut [u8], v: u64) {
    if let [a, b] = out {
        *a = b'0' + (v / 10 % 10) as u8;
        *b = b'0' + (v % 10) as u8;
    }
}

/// Parse an HTTP date in any of the three forms of RFC 9110 5.6.7 into
/// seconds since the Unix epoch:
///
/// * IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`
/// * obsolete RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT`
/// * obsolete asctime `Sun Nov  6 08:49:37 1994`
///
/// Names are case-sensitive, the weekday must be a valid name (its
/// consistency with the date is not checked), fields are range-checked
/// (second 60 is accepted). Returns `None` if malformed or before 1970.
pub fn parse_http_date(value: &[u8]) -> Option<u64> {
    let v = trim_ows(value);
    let (y, mo, d, time) = if v.get(3) == Some(&b',') {
        // IMF-fixdate
        let [d0, d1, d2, b',', b' ', rest @ ..] = v else {
            return None;
        };
        if !DAYS.contains(&&[*d0, *d1, *d2]) {
            return None;
        }
        let [da, db, b' ', m0, m1, m2, b' ', y0, y1, y2, y3, b' ', time @ .., b' ', b'G', b'M', b'T'] =
            rest
        else {
            return None;
        };
        let year = num(&[*y0, *y1, *y2, *y3])?;
        (year, month(&[*m0, *m1, *m2])?, num(&[*da, *db])?, time)
    } else if let Some(comma) = v.iter().position(|&b| b == b',') {
        // RFC 850
        if !LONG_DAYS.contains(&&v[..comma]) {
            return None;
        }
        let [b' ', da, db, b'-', m0, m1, m2, b'-', y0, y1, b' ', time @ .., b' ', b'G', b'M', b'T'] =
            &v[comma + 1..]
        else {
            return None;
        };
        let yy = num(&[*y0, *y1])?;
        let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
        (year, month(&[*m0, *m1, *m2])?, num(&[*da, *db])?, time)
    } else {
        // asctime
        let [d0, d1, d2, b' ', m0, m1, m2, b' ', da, db, b' ', time @ .., b' ', y0, y1, y2, y3] = v
        else {
            return None;
        };
        if !DAYS.contains(&&[*d0, *d1, *d2]) {
            return None;
        }
        let day = if *da == b' ' {
            num(&[*db])?
        } else {
            num(&[*da, *db])?
        };
        (
            num(&[*y0, *y1, *y2, *y3])?,
            month(&[*m0, *m1, *m2])?,
            day,
            time,
        )
    };
    let [h0, h1, b':', n0, n1, b':', s0, s1] = time else {
        return None;
    };
    let (h, n, s) = (num(&[*h0, *h1])?, num(&[*n0, *n1])?, num(&[*s0, *s1])?);
    if y < 1970 || d == 0 || d > days_in_month(y, mo) || h > 23 || n > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + n * 60 + s)
}

fn month(m: &[u8; 3]) -> Option<u64> {
    MONTHS.iter().position(|x| *x == m).map(|i| i as u64 + 1)
}

fn num(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(t: u64) -> String {
        let mut out = [0u8; 29];
        format_imf_fixdate(t, &mut out).to_string()
    }

    #[test]
    fn known_values() {
        assert_eq!(fmt(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(fmt(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(fmt(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(fmt(1_709_164_800), "Thu, 29 Feb 2024 00:00:00 GMT");
        assert_eq!(fmt(4_107_542_400), "Mon, 01 Mar 2100 00:00:00 GMT");
        assert_eq!(fmt(2_147_483_647), "Tue, 19 Jan 2038 03:14:07 GMT");
        assert_eq!(fmt(MAX_SECS), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(fmt(u64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    #[test]
    fn three_forms() {
        let t = Some(784_111_777);
        assert_eq!(parse_http_date(b"Sun, 06 Nov 1994 08:49:37 GMT"), t);
        assert_eq!(parse_http_date(b"Sunday, 06-Nov-94 08:49:37 GMT"), t);
        assert_eq!(parse_http_date(b"Sun Nov  6 08:49:37 1994"), t);
        assert_eq!(parse_http_date(b"Sun Nov 06 08:49:37 1994"), t);
        assert_eq!(parse_http_date(b" Sun, 06 Nov 1994 08:49:37 GMT\t"), t);
        assert_eq!(
            parse_http_date(b"Thursday, 01-Jan-70 00:00:00 GMT"),
            Some(0)
        );
        assert_eq!(
            parse_http_date(b"Saturday, 01-Jan-00 00:00:00 GMT"),
            Some(946_684_800)
        );
        assert_eq!(
            parse_http_date(b"Wednesday, 31-Dec-69 00:00:00 GMT"),
            Some(3_155_673_600)
        );
    }

    #[test]
    fn rfc3339_with_milliseconds() {
        let f = |ms: u64| {
            let mut out = [0u8; 24];
            format_rfc3339_millis(ms, &mut out).to_string()
        };
        assert_eq!(f(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(f(784_111_777_001), "1994-11-06T08:49:37.001Z");
        assert_eq!(f(951_782_400_999), "2000-02-29T00:00:00.999Z");
        assert_eq!(f(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        // The last millisecond of 9999, and past it: clamped.
        let last = (MAX_SECS + 1) * 1000 - 1;
        assert_eq!(f(last), "9999-12-31T23:59:59.999Z");
        assert_eq!(f(last + 1), "9999-12-31T23:59:59.999Z");
        assert_eq!(f(u64::MAX), "9999-12-31T23:59:59.999Z");
        // The same second as the IMF-fixdate writer.
        let mut imf = [0u8; 29];
        assert_eq!(
            format_imf_fixdate(784_111_777, &mut imf),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
    }

    #[test]
    fn leap_years() {
        assert_eq!(
            parse_http_date(b"Tue, 29 Feb 2000 00:00:00 GMT"),
            Some(951_782_400)
        );
        assert_eq!(
            parse_http_date(b"Thu, 29 Feb 2024 00:00:00 GMT"),
            Some(1_709_164_800)
        );
        assert_eq!(parse_http_date(b"Mon, 29 Feb 2100 00:00:00 GMT"), None);
        assert_eq!(parse_http_date(b"Wed, 29 Feb 2023 00:00:00 GMT"), None);
        assert_eq!(
            parse_http_date(b"Sat, 29 Feb 2400 12:00:00 GMT"),
            Some(13_574_563_200 + 43_200)
        );
    }

    #[test]
    fn round_trip() {
        let mut t = 0u64;
        while t < MAX_SECS {
            let mut out = [0u8; 29];
            let s = format_imf_fixdate(t, &mut out);
            assert_eq!(parse_http_date(s.as_bytes()), Some(t), "{s}");
            t += 86_400 * 17 + 3_607;
        }
        // every day of four years, including a leap day
        for day in (365 * 29)..(365 * 33) {
            let t = day * 86_400 + 86_399;
            let mut out = [0u8; 29];
            let s = format_imf_fixdate(t, &mut out);
            assert_eq!(parse_http_date(s.as_bytes()), Some(t), "{s}");
        }
    }

    #[test]
    fn malformed() {
        for v in [
            &b""[..],
            b"Sun, 06 Nov 1994 08:49:37 UTC",
            b"sun, 06 Nov 1994 08:49:37 GMT",
            b"Sun, 06 nov 1994 08:49:37 GMT",
            b"Xyz, 06 Nov 1994 08:49:37 GMT",
            b"Sun, 6 Nov 1994 08:49:37 GMT",
            b"Sun, 06 Nov 94 08:49:37 GMT",
            b"Sun, 32 Jan 1994 08:49:37 GMT",
            b"Sun, 00 Jan 1994 08:49:37 GMT",
            b"Sun, 31 Apr 1994 08:49:37 GMT",
            b"Sun, 06 Nov 1994 24:00:00 GMT",
            b"Sun, 06 Nov 1994 23:60:00 GMT",
            b"Sun, 06 Nov 1994 23:59:61 GMT",
            b"Sun, 06 Nov 1994 8:49:37 GMT",
            b"Sun, 06 Nov 1969 08:49:37 GMT",
            b"Sun, 06 Nov 1994 08:49:37 GMT x",
            b"Sun, 06 Nov 1994 08-49-37 GMT",
            b"Sun, 0a Nov 1994 08:49:37 GMT",
            b"Sun,06 Nov 1994 08:49:37 GMT",
            b"Sundae, 06-Nov-94 08:49:37 GMT",
            b"Sunday, 06-Nov-1994 08:49:37 GMT",
            b"Sun Nov 6 08:49:37 1994",
            b"Sun Nov  6 08:49:37 94",
            b"Sun Nov  6 08:49:37 1994 GMT",
            b"\xff\xff\xff, \xff",
        ] {
            assert_eq!(parse_http_date(v), None, "{:?}", String::from_utf8_lossy(v));
        }
        // second 60 (leap second) is accepted
        assert_eq!(
            parse_http_date(b"Sun, 06 Nov 1994 08:49:60 GMT"),
            Some(784_111_800)
        );
    }
}
