//! RFC 4231 §4 HMAC-SHA256 test vectors, through `tessera_core::internal::hmac_sha256`, the MAC behind every
//! sub-key, token and secret verifier.

use tessera_core::TAG_LEN;
use tessera_core::internal::hmac_sha256;

#[allow(clippy::unwrap_used, reason = "test helper")]
fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// 131 bytes of 0xaa: longer than the SHA-256 block, so HMAC hashes it first.
const LONG_KEY: &str = "LONG";

/// (test case, key, data, HMAC-SHA-256), from RFC 4231 §4.2–§4.8.
const VECTORS: &[(u8, &str, &str, &str)] = &[
    (
        1,
        "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
        "4869205468657265",
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    ),
    (
        2,
        "4a656665",
        "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ),
    (
        3,
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    ),
    (
        4,
        "0102030405060708090a0b0c0d0e0f10111213141516171819",
        "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
    ),
    (
        6,
        LONG_KEY,
        "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579204669727374",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ),
    (
        7,
        LONG_KEY,
        "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565647320746f20626520686173686564206265666f7265206265696e6720757365642062792074686520484d414320616c676f726974686d2e",
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    ),
];

#[test]
fn rfc4231_full_output() {
    for (case, key, data, mac) in VECTORS {
        let key = if *key == LONG_KEY {
            vec![0xaa; 131]
        } else {
            hex(key)
        };
        assert_eq!(
            hmac_sha256(&key, &hex(data)).to_vec(),
            hex(mac),
            "test case {case}"
        );
    }
}

/// §4.6, test case 5: output truncated to 128 bits, the tag length Tessera tokens carry.
#[test]
fn rfc4231_truncated_to_token_tag_length() {
    let mac = hmac_sha256(&[0x0c; 20], b"Test With Truncation");
    assert_eq!(TAG_LEN, 16);
    assert_eq!(
        mac[..TAG_LEN].to_vec(),
        hex("a3b6167473100ee06e0c796c2955552b")
    );
}

#[test]
fn a_changed_key_or_message_changes_the_mac() {
    let base = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
    assert_ne!(base, hmac_sha256(b"Jeff", b"what do ya want for nothing?"));
    assert_ne!(base, hmac_sha256(b"Jefe", b"what do ya want for nothing!"));
}
