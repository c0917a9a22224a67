//! The page's Content-Security-Policy, computed at compile time from the
//! page itself: the SHA-256 of its one inline `<script>` and its one
//! `<style>`, in base64, so editing the page can never leave a stale hash
//! behind. SHA-256 (FIPS 180-4) and base64 (RFC 4648) are `const fn`s here
//! because nothing else in bedrock needs them at run time.

/// Round constants: the first 32 bits of the fractional parts of the cube
/// roots of the first 64 primes (FIPS 180-4, 4.2.2).
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// Initial hash value (FIPS 180-4, 5.3.3).
const H0: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Byte `i` of the padded message: the data, 0x80, zeros, then the bit
/// length big-endian in the last 8 bytes of `padded_len`.
const fn padded_byte(data: &[u8], padded_len: usize, i: usize) -> u8 {
    if i < data.len() {
        data[i]
    } else if i == data.len() {
        0x80
    } else if i >= padded_len - 8 {
        let bits = (data.len() as u64).wrapping_mul(8);
        (bits >> (8 * (padded_len - 1 - i))) as u8
    } else {
        0
    }
}

/// The SHA-256 digest of `data`.
pub const fn sha256(data: &[u8]) -> [u8; 32] {
    // Data, the 0x80 byte and the 8-byte length, rounded up to 64-byte blocks.
    let padded_len = (data.len() + 9).div_ceil(64) * 64;
    let mut h = H0;
    let mut block = 0;
    while block < padded_len {
        let mut w = [0u32; 64];
        let mut t = 0;
        while t < 16 {
            let at = block + 4 * t;
            w[t] = u32::from_be_bytes([
                padded_byte(data, padded_len, at),
                padded_byte(data, padded_len, at + 1),
                padded_byte(data, padded_len, at + 2),
                padded_byte(data, padded_len, at + 3),
            ]);
            t += 1;
        }
        while t < 64 {
            let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
            let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16]
                .wrapping_add(s0)
                .wrapping_add(w[t - 7])
                .wrapping_add(s1);
            t += 1;
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        t = 0;
        while t < 64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let choose = (e & f) ^ (!e & g);
            let temp1 = hh
                .wrapping_add(s1)
                .wrapping_add(choose)
                .wrapping_add(K[t])
                .wrapping_add(w[t]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let majority = (a & b) ^ (a & c) ^ (b & c);
            let temp2 = s0.wrapping_add(majority);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(temp1);
            d = c;
            c = b;
            b = a;
            a = temp1.wrapping_add(temp2);
            t += 1;
        }
        let add = [a, b, c, d, e, f, g, hh];
        let mut i = 0;
        while i < 8 {
            h[i] = h[i].wrapping_add(add[i]);
            i += 1;
        }
        block += 64;
    }
    let mut digest = [0u8; 32];
    let mut i = 0;
    while i < 8 {
        let word = h[i].to_be_bytes();
        digest[4 * i] = word[0];
        digest[4 * i + 1] = word[1];
        digest[4 * i + 2] = word[2];
        digest[4 * i + 3] = word[3];
        i += 1;
    }
    digest
}

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Length of the padded base64 text of `n` bytes.
pub const fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// `input` in padded standard base64 (RFC 4648, section 4). `OUT` must be
/// `base64_len(IN)`; anything else stops the build.
pub const fn base64<const IN: usize, const OUT: usize>(input: &[u8; IN]) -> [u8; OUT] {
    assert!(OUT == base64_len(IN), "base64 output length mismatch");
    let mut out = [b'='; OUT];
    let mut i = 0;
    let mut o = 0;
    while i < IN {
        let b0 = input[i] as u32;
        let b1 = if i + 1 < IN { input[i + 1] as u32 } else { 0 };
        let b2 = if i + 2 < IN { input[i + 2] as u32 } else { 0 };
        let group = b0 << 16 | b1 << 8 | b2;
        out[o] = BASE64_ALPHABET[(group >> 18) as usize & 63];
        out[o + 1] = BASE64_ALPHABET[(group >> 12) as usize & 63];
        if i + 1 < IN {
            out[o + 2] = BASE64_ALPHABET[(group >> 6) as usize & 63];
        }
        if i + 2 < IN {
            out[o + 3] = BASE64_ALPHABET[group as usize & 63];
        }
        i += 3;
        o += 4;
    }
    out
}

/// Where `needle` first occurs in `hay` at or after `from`.
const fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while at + needle.len() <= hay.len() {
        let mut k = 0;
        while k < needle.len() && hay[at + k] == needle[k] {
            k += 1;
        }
        if k == needle.len() {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// The text between the page's only `open` tag and the `close` after it.
/// A page with none, or more than one, stops the build: a second block
/// would run (or be blocked) without a hash of its own.
pub const fn inline_block<'p>(page: &'p [u8], open: &[u8], close: &[u8]) -> &'p [u8] {
    let Some(start) = find(page, open, 0) else {
        panic!("the page has no inline block with this tag");
    };
    let start = start + open.len();
    let Some(end) = find(page, close, start) else {
        panic!("the page's inline block is not closed");
    };
    assert!(
        find(page, open, end).is_none(),
        "the page must have exactly one inline block per tag"
    );
    page.split_at(end).0.split_at(start).1
}

/// Length of a `'sha256-...'` hash source's base64 part.
const HASH_TEXT: usize = base64_len(32);

const BEFORE_SCRIPT: &[u8] = b"default-src 'none'; script-src 'sha256-";
const BEFORE_STYLE: &[u8] = b"'; style-src 'sha256-";
/// Fetches only to the API on the same origin; images only for the
/// browser's own favicon request; the form posts only here (its no-script
/// fallback); no `<base>`, no framing.
const AFTER_STYLE: &[u8] = b"'; connect-src 'self'; img-src 'self'; form-action 'self'; \
base-uri 'none'; frame-ancestors 'none'";

/// Length of the policy built by [`policy`].
pub const POLICY_LEN: usize =
    BEFORE_SCRIPT.len() + HASH_TEXT + BEFORE_STYLE.len() + HASH_TEXT + AFTER_STYLE.len();

/// The policy for `page`: nothing but its own inline script and style.
pub const fn policy(page: &[u8]) -> [u8; POLICY_LEN] {
    let script: [u8; HASH_TEXT] = base64(&sha256(inline_block(page, b"<script>", b"</script>")));
    let style: [u8; HASH_TEXT] = base64(&sha256(inline_block(page, b"<style>", b"</style>")));
    let parts: [&[u8]; 5] = [BEFORE_SCRIPT, &script, BEFORE_STYLE, &style, AFTER_STYLE];
    let mut out = [0u8; POLICY_LEN];
    let mut o = 0;
    let mut p = 0;
    while p < parts.len() {
        let mut i = 0;
        while i < parts[p].len() {
            out[o] = parts[p][i];
            o += 1;
            i += 1;
        }
        p += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn hex(bytes: &[u8]) -> std::string::String {
        bytes.iter().map(|b| std::format!("{b:02x}")).collect()
    }

    #[test]
    fn sha256_known_vectors() {
        // FIPS 180-4 examples and NIST's one-million-'a' vector.
        assert_eq!(
            hex(&sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&sha256(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        let million: Vec<u8> = std::vec![b'a'; 1_000_000];
        assert_eq!(
            hex(&sha256(&million)),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }

    #[test]
    fn sha256_agrees_with_the_sha2_crate_across_block_boundaries() {
        use sha2::Digest;
        // Every length around the one- and two-block padding edges (55, 56,
        // 63, 64, 119, 120 ...) and then some.
        for len in 0..300usize {
            let data: Vec<u8> = (0..len).map(|i| (i * 131 + len) as u8).collect();
            let expected = sha2::Sha256::digest(&data);
            assert_eq!(sha256(&data)[..], expected[..], "length {len}");
        }
    }

    #[test]
    fn base64_rfc4648_vectors() {
        assert_eq!(&base64::<0, 0>(b""), b"");
        assert_eq!(&base64::<1, 4>(b"f"), b"Zg==");
        assert_eq!(&base64::<2, 4>(b"fo"), b"Zm8=");
        assert_eq!(&base64::<3, 4>(b"foo"), b"Zm9v");
        assert_eq!(&base64::<4, 8>(b"foob"), b"Zm9vYg==");
        assert_eq!(&base64::<5, 8>(b"fooba"), b"Zm9vYmE=");
        assert_eq!(&base64::<6, 8>(b"foobar"), b"Zm9vYmFy");
        // Every 6-bit value, including the two non-alphanumeric ones.
        assert_eq!(&base64::<3, 4>(&[0xfb, 0xef, 0xff]), b"++//");
    }

    #[test]
    fn inline_block_takes_exactly_the_bytes_between_the_tags() {
        let page = b"<p><script>let a = 1;\n</script><style>p{}</style>";
        assert_eq!(
            inline_block(page, b"<script>", b"</script>"),
            b"let a = 1;\n"
        );
        assert_eq!(inline_block(page, b"<style>", b"</style>"), b"p{}");
    }

    #[test]
    #[should_panic(expected = "exactly one")]
    fn a_second_script_is_refused() {
        inline_block(
            b"<script>a</script><script>b</script>",
            b"<script>",
            b"</script>",
        );
    }

    #[test]
    #[should_panic(expected = "no inline block")]
    fn a_missing_script_is_refused() {
        inline_block(b"<p>", b"<script>", b"</script>");
    }
}
