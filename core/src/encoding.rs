//! Text encodings: base64url without padding (RFC 4648 §5) and lowercase hex (RFC 4648 §8).
//!
//! The only base64 and hex code in Tessera; everything else calls these.

use base64ct::{Base64UrlUnpadded, Encoding as _};

/// Encodes `bytes` as base64url without padding into `out`, returning the text.
///
/// # Errors
/// `None` if `out` is too small.
pub fn base64url_encode<'a>(bytes: &[u8], out: &'a mut [u8]) -> Option<&'a str> {
    Base64UrlUnpadded::encode(bytes, out).ok()
}

/// Decodes canonical, unpadded base64url `text` into `out`, returning the bytes.
///
/// Rejects padding, characters outside the URL-safe alphabet, impossible lengths and non-zero
/// trailing bits, so every byte string has exactly one accepted encoding. Runs in constant time
/// with respect to the characters (`base64ct`): tokens are bearer secrets.
///
/// # Errors
/// `None` if `text` is not canonical base64url or `out` is too small.
pub fn base64url_decode<'a>(text: &[u8], out: &'a mut [u8]) -> Option<&'a [u8]> {
    Base64UrlUnpadded::decode(text, out).ok()
}

/// Number of base64url characters (no padding) for `n` bytes.
pub const fn base64url_len(n: usize) -> usize {
    // n <= usize::MAX / 4 for every caller: these are small compile-time sizes.
    #[allow(
        clippy::arithmetic_side_effects,
        reason = "const sizes, checked at compile time"
    )]
    {
        (n * 4).div_ceil(3)
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes the lowercase hex of `bytes` into `out`, which must be exactly twice as long.
///
/// Hex is used only for public values (client ids), so it need not be constant-time.
pub(crate) fn hex_encode<'a, const N: usize>(
    bytes: &[u8; N],
    out: &'a mut [u8],
) -> Option<&'a str> {
    if out.len() != N.checked_mul(2)? {
        return None;
    }
    for (byte, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        if let [hi, lo] = pair {
            *hi = *HEX.get(usize::from(byte >> 4))?;
            *lo = *HEX.get(usize::from(byte & 0x0f))?;
        }
    }
    core::str::from_utf8(out).ok()
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
        assert_eq!(hex_encode(&bytes, &mut buf), Some("009fa0ff"));
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
    }
}
