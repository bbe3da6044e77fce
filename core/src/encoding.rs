//! Text encodings: base64url without padding (RFC 4648 §5) for tokens and secrets, padded
//! standard base64 (RFC 4648 §4) for HTTP Basic credentials, and lowercase hex (RFC 4648 §8).
//!
//! The only base64 and hex code in Tessera; everything else calls these.
//!
//! ```
//! use tessera_core::encoding::{base64url_decode, base64url_encode, base64url_len};
//! let mut text = [0u8; base64url_len(6)];
//! assert_eq!(base64url_encode(b"foobar", &mut text), Some("Zm9vYmFy"));
//! let mut bytes = [0u8; 6];
//! assert_eq!(base64url_decode(b"Zm9vYmFy", &mut bytes), Some(&b"foobar"[..]));
//! assert_eq!(base64url_decode(b"Zm9vYmFy=", &mut bytes), None); // padded: not canonical
//! ```

use base64ct::{Base64, Base64UrlUnpadded, Encoding as _};

/// Encodes `bytes` as base64url without padding into `out`, returning the text (`base64ct`).
///
/// # Errors
/// `None` if `out` is too small.
pub fn base64url_encode<'a>(bytes: &[u8], out: &'a mut [u8]) -> Option<&'a str> {
    Base64UrlUnpadded::encode(bytes, out).ok()
}

/// Decodes canonical, unpadded base64url `text` into `out`, returning the bytes.
///
/// Rejects padding, characters outside the URL-safe alphabet, impossible lengths and non-zero
/// trailing bits, so every byte string has exactly one accepted encoding (the one
/// [`base64url_encode`] produces).
///
/// Constant-time in the characters: no branch or table lookup depends on them, since tokens are
/// bearer secrets. On 64-bit targets characters are mapped 16 at a time with lane-wise masks that
/// compile to SIMD, about 4x faster than `base64ct`'s per-character loop, which had dominated
/// token verification (see BENCHMARKS.md). On 32-bit targets (a Cortex-M gateway), which have no
/// such SIMD, four characters are mapped at once in one `u32` (SWAR), 4x fewer instructions than
/// the lanes there. The tests check both against `base64ct` on arbitrary input.
///
/// # Errors
/// `None` if `text` is not canonical base64url or `out` is too small.
pub fn base64url_decode<'a>(text: &[u8], out: &'a mut [u8]) -> Option<&'a [u8]> {
    #[cfg(target_pointer_width = "32")]
    return decode_words(text, out);
    #[cfg(not(target_pointer_width = "32"))]
    return decode_lanes(text, out);
}

/// [`base64url_decode`], 16 characters per step in lane-wise masks (SIMD on 64-bit targets).
#[cfg_attr(
    target_pointer_width = "32",
    allow(
        dead_code,
        reason = "32-bit targets decode word-wise; tests still check this one"
    )
)]
fn decode_lanes<'a>(text: &[u8], out: &'a mut [u8]) -> Option<&'a [u8]> {
    let out = out.get_mut(..decoded_len(text.len())?)?;
    let mut bad = 0u8;
    let mut chunks = text.chunks_exact(LANES);
    let mut outs = out.chunks_exact_mut(LANES / 4 * 3);
    for (chars, bytes) in (&mut chunks).zip(&mut outs) {
        let (sextets, invalid) = sextets(chars.try_into().ok()?);
        bad |= invalid | pack(&sextets, bytes);
    }
    // The last 0..16 characters, padded with 'A' (value 0) to a full lane.
    let rest = chunks.remainder();
    let mut lane = [b'A'; LANES];
    lane.get_mut(..rest.len())?.copy_from_slice(rest);
    let (sextets, invalid) = sextets(&lane);
    let done = decoded_len(text.len().checked_sub(rest.len())?)?;
    bad |= invalid | pack(sextets.get(..rest.len())?, out.get_mut(done..)?);
    (bad == 0).then_some(out)
}

const LANES: usize = 16;

/// [`base64url_decode`], 4 characters per step in the bytes of one `u32` (SWAR): for 32-bit
/// targets, where the lane-wise code stays scalar.
#[cfg_attr(
    not(target_pointer_width = "32"),
    allow(
        dead_code,
        reason = "64-bit targets decode lane-wise; tests still check this one"
    )
)]
fn decode_words<'a>(text: &[u8], out: &'a mut [u8]) -> Option<&'a [u8]> {
    let out = out.get_mut(..decoded_len(text.len())?)?;
    let mut bad = 0u32;
    let mut chunks = text.chunks_exact(4);
    let mut outs = out.chunks_exact_mut(3);
    for (chars, bytes) in (&mut chunks).zip(&mut outs) {
        let (values, invalid) = word_sextets(u32::from_le_bytes(chars.try_into().ok()?));
        bad |= invalid;
        let [a, b, c, d] = values.to_le_bytes().map(u32::from);
        let [_, x, y, z] = ((a << 18) | (b << 12) | (c << 6) | d).to_be_bytes();
        if let [o0, o1, o2] = bytes {
            (*o0, *o1, *o2) = (x, y, z);
        }
    }
    // The last 0, 2 or 3 characters, padded with 'A' (value 0) to a word.
    let rest = chunks.remainder();
    let mut word = [b'A'; 4];
    word.get_mut(..rest.len())?.copy_from_slice(rest);
    let (values, invalid) = word_sextets(u32::from_le_bytes(word));
    let values = values.to_le_bytes();
    bad |= invalid | u32::from(pack(values.get(..rest.len())?, outs.into_remainder()));
    (bad == 0).then_some(out)
}

/// `b` in every byte of a word.
const fn splat(b: u8) -> u32 {
    u32::from_ne_bytes([b; 4])
}

const HIGH: u32 = splat(0x80);
const LOW7: u32 = splat(0x7f);

/// 0x80 in each byte of `x` whose low 7 bits are at least `lo` (≤ 0x80), else 0. Setting each
/// byte's top bit first means no byte's subtraction borrows from the next.
#[inline(always)]
const fn at_least(x: u32, lo: u8) -> u32 {
    (x | HIGH).wrapping_sub(splat(lo)) & HIGH
}

/// 0x80 in each byte of `x` in `lo..end`, else 0.
#[inline(always)]
const fn within(x: u32, lo: u8, end: u8) -> u32 {
    at_least(x, lo) & !at_least(x, end)
}

/// 0xff in each byte where `flags` (0x80 or 0 per byte) has 0x80, else 0.
#[inline(always)]
const fn byte_mask(flags: u32) -> u32 {
    (flags >> 7).wrapping_mul(0xff)
}

/// Maps the four characters in the bytes of `x` to their 6-bit values, and returns a non-zero
/// second result if any is outside `A-Z a-z 0-9 - _` (a byte ≥ 0x80 included).
#[inline(always)]
const fn word_sextets(x: u32) -> (u32, u32) {
    let upper = within(x, b'A', b'Z' + 1);
    let lower = within(x, b'a', b'z' + 1);
    let digit = within(x, b'0', b'9' + 1);
    let dash = within(x, b'-', b'-' + 1);
    let underscore = within(x, b'_', b'_' + 1);
    // Each difference is taken with the top bits set (no borrow) and kept to 7 bits: exact in
    // the bytes its mask selects.
    let values = (byte_mask(upper) & (x | HIGH).wrapping_sub(splat(b'A')) & LOW7)
        | (byte_mask(lower) & (x | HIGH).wrapping_sub(splat(b'a' - 26)) & LOW7)
        | (byte_mask(digit) & (x & LOW7).wrapping_add(splat(52 - b'0')))
        | (byte_mask(dash) & splat(62))
        | (byte_mask(underscore) & splat(63));
    let valid = upper | lower | digit | dash | underscore;
    (values, (!valid & HIGH) | (x & HIGH))
}

/// Bytes decoded from `n` characters, or `None` for an impossible length (`n % 4 == 1`).
const fn decoded_len(n: usize) -> Option<usize> {
    let tail = match n % 4 {
        0 => 0,
        2 => 1,
        3 => 2,
        _ => return None,
    };
    match (n / 4).checked_mul(3) {
        Some(full) => full.checked_add(tail),
        None => None,
    }
}

/// All-ones if `b`, else zero.
#[inline(always)]
const fn mask(b: bool) -> u8 {
    (b as u8).wrapping_neg()
}

/// Maps 16 characters to their 6-bit values, and ORs a non-zero into the second result for any
/// character outside `A-Z a-z 0-9 - _`.
#[inline(always)]
fn sextets(chars: &[u8; LANES]) -> ([u8; LANES], u8) {
    let mut values = [0u8; LANES];
    let mut invalid = [0u8; LANES];
    for ((&c, v), bad) in chars.iter().zip(&mut values).zip(&mut invalid) {
        let upper = mask(c.wrapping_sub(b'A') < 26);
        let lower = mask(c.wrapping_sub(b'a') < 26);
        let digit = mask(c.wrapping_sub(b'0') < 10);
        let dash = mask(c == b'-');
        let underscore = mask(c == b'_');
        *v = (upper & c.wrapping_sub(b'A'))
            | (lower & c.wrapping_sub(b'a' - 26))
            | (digit & c.wrapping_add(52 - b'0'))
            | (dash & 62)
            | (underscore & 63);
        *bad = !(upper | lower | digit | dash | underscore);
    }
    (values, invalid.iter().fold(0, |acc, b| acc | b))
}

/// Packs 6-bit values, four to three bytes, into `out` (which must fit exactly). A final group
/// of 2 or 3 values must leave its unused low bits zero (canonical form); otherwise, and on any
/// length mismatch, returns non-zero.
#[inline(always)]
fn pack(sextets: &[u8], out: &mut [u8]) -> u8 {
    let mut groups = sextets.chunks_exact(4);
    let mut bytes = out.chunks_exact_mut(3);
    for (g, o) in (&mut groups).zip(&mut bytes) {
        if let ([a, b, c, d], [x, y, z]) = (g, o) {
            *x = a.wrapping_shl(2) | b.wrapping_shr(4);
            *y = b.wrapping_shl(4) | c.wrapping_shr(2);
            *z = c.wrapping_shl(6) | d;
        }
    }
    match (groups.remainder(), bytes.into_remainder()) {
        ([], []) => 0,
        ([a, b], [x]) => {
            *x = a.wrapping_shl(2) | b.wrapping_shr(4);
            b & 0x0f
        }
        ([a, b, c], [x, y]) => {
            *x = a.wrapping_shl(2) | b.wrapping_shr(4);
            *y = b.wrapping_shl(4) | c.wrapping_shr(2);
            c & 0x03
        }
        _ => 0xff,
    }
}

/// Encodes `bytes` as padded standard base64 (RFC 4648 §4), the form of HTTP Basic
/// credentials (RFC 7617 §2, RFC 6749 §2.3.1).
///
/// # Errors
/// `None` if `out` is too small.
pub fn base64_encode<'a>(bytes: &[u8], out: &'a mut [u8]) -> Option<&'a str> {
    Base64::encode(bytes, out).ok()
}

/// Decodes canonical, padded standard base64 (RFC 4648 §4) into `out`, in constant time
/// (`base64ct`): Basic credentials carry a client secret.
///
/// # Errors
/// `None` if `text` is not canonical padded base64 or `out` is too small.
pub fn base64_decode<'a>(text: &[u8], out: &'a mut [u8]) -> Option<&'a [u8]> {
    Base64::decode(text, out).ok()
}

/// Number of base64url characters (no padding) for `n` bytes.
///
/// Saturates at `usize::MAX` for lengths no buffer can have, so it never overflows.
pub const fn base64url_len(n: usize) -> usize {
    let tail = match n % 3 {
        0 => 0,
        1 => 2,
        _ => 3,
    };
    (n / 3).saturating_mul(4).saturating_add(tail)
}

/// Encodes exactly `N` bytes into exactly [`base64url_len`]`(N)` characters.
///
/// The sizes are checked at compile time, so the encoding cannot fail: the fallback to `""` is
/// never taken.
pub(crate) fn base64url_encode_array<'a, const N: usize, const M: usize>(
    bytes: &[u8; N],
    out: &'a mut [u8; M],
) -> &'a str {
    const {
        assert!(
            M == base64url_len(N),
            "the output must fit the text exactly"
        )
    };
    base64url_encode(bytes, out).unwrap_or_default()
}

/// The lowercase hex digit of a nibble (`n < 16`).
const fn hex_digit(n: u8) -> u8 {
    if n < 10 {
        n.wrapping_add(b'0')
    } else {
        n.wrapping_add(b'a' - 10)
    }
}

/// Writes the lowercase hex of `bytes` into `out`, which is exactly twice as long (checked at
/// compile time).
///
/// Hex is used only for public values (client ids), so it need not be constant-time.
pub(crate) fn hex_encode<'a, const N: usize, const M: usize>(
    bytes: &[u8; N],
    out: &'a mut [u8; M],
) -> &'a str {
    const {
        assert!(
            matches!(N.checked_mul(2), Some(m) if m == M),
            "hex is two digits a byte"
        )
    };
    for (byte, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        if let [hi, lo] = pair {
            *hi = hex_digit(byte >> 4);
            *lo = hex_digit(byte & 0x0f);
        }
    }
    // Only ASCII digits were written, so this never falls back.
    core::str::from_utf8(out).unwrap_or_default()
}

/// Parses exactly `2 * N` lowercase hex characters.
pub(crate) fn hex_decode<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c.wrapping_sub(b'0')),
            b'a'..=b'f' => Some(c.wrapping_sub(b'a').wrapping_add(10)),
            _ => None,
        }
    }
    if text.len() != N.checked_mul(2)? {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        if let [hi, lo] = pair {
            *byte = (nibble(*hi)? << 4) | nibble(*lo)?;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_rejects_uppercase() {
        let bytes = [0x00, 0x9f, 0xa0, 0xff];
        let mut buf = [0u8; 8];
        assert_eq!(hex_encode(&bytes, &mut buf), "009fa0ff");
        assert_eq!(hex_decode::<4>(b"009fa0ff"), Some(bytes));
        assert_eq!(hex_decode::<4>(b"009FA0FF"), None);
        assert_eq!(hex_decode::<4>(b"009fa0f"), None);
        assert_eq!(hex_decode::<4>(b"009fa0fg"), None);
    }

    #[test]
    fn base64url_rejects_non_canonical() {
        let mut out = [0u8; 8];
        // "Zg" is "f"; "Zh" has non-zero trailing bits and must not decode to the same byte.
        assert_eq!(base64url_decode(b"Zg", &mut out), Some(&b"f"[..]));
        assert_eq!(base64url_decode(b"Zh", &mut out), None);
        assert_eq!(base64url_decode(b"Zg==", &mut out), None);
        assert_eq!(base64url_decode(b"Z", &mut out), None);
        assert_eq!(base64url_decode(b"+/8", &mut out), None);
        assert_eq!(base64url_decode(b"Zm8", &mut out), Some(&b"fo"[..]));
        assert_eq!(base64url_decode(b"Zm9", &mut out), None);
    }

    type Decoder = for<'a> fn(&[u8], &'a mut [u8]) -> Option<&'a [u8]>;
    /// Both implementations, whichever this target uses.
    const DECODERS: [Decoder; 3] = [base64url_decode, decode_lanes, decode_words];

    #[test]
    fn decoder_agrees_with_base64ct_on_every_length_and_character() {
        // Every length up to three lanes, and every byte value at every position of a 19-char text.
        let mut text = [0u8; 64];
        let mut ours = [0u8; 64];
        let mut theirs = [0u8; 64];
        for len in 0..=48 {
            for (i, c) in text.iter_mut().enumerate() {
                *c = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                    [(i * 7 + len) % 64];
            }
            let b = Base64UrlUnpadded::decode(&text[..len], &mut theirs)
                .ok()
                .map(<[u8]>::to_vec);
            for decode in DECODERS {
                let a = decode(&text[..len], &mut ours).map(<[u8]>::to_vec);
                assert_eq!(a, b, "len {len}");
            }
        }
        for pos in 0..19 {
            for byte in 0..=255u8 {
                let mut t = *b"Zm9vYmFyYmF6cXV4eHk";
                t[pos] = byte;
                let b = Base64UrlUnpadded::decode(t, &mut theirs)
                    .ok()
                    .map(<[u8]>::to_vec);
                for decode in DECODERS {
                    let a = decode(&t, &mut ours).map(<[u8]>::to_vec);
                    assert_eq!(a, b, "pos {pos} byte {byte}");
                }
            }
        }
    }

    #[test]
    fn decoders_agree_with_base64ct_on_pseudo_random_text() {
        // An xorshift stream: mostly alphabet characters, some bytes of every value, every
        // length up to 400 (token bodies are up to 439 characters).
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut text = [0u8; 400];
        let (mut ours, mut theirs) = ([0u8; 300], [0u8; 300]);
        for round in 0..4000 {
            let len = usize::try_from(next() % 401).unwrap();
            for c in &mut text[..len] {
                let r = next();
                *c = if round % 2 == 0 || r % 97 != 0 {
                    ALPHABET[usize::from(r.to_le_bytes()[1] % 64)]
                } else {
                    r.to_le_bytes()[1]
                };
            }
            let b = Base64UrlUnpadded::decode(&text[..len], &mut theirs)
                .ok()
                .map(<[u8]>::to_vec);
            for decode in DECODERS {
                assert_eq!(
                    decode(&text[..len], &mut ours).map(<[u8]>::to_vec),
                    b,
                    "round {round}"
                );
            }
        }
    }
}
