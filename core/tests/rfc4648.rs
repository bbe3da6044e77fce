//! RFC 4648 §10 test vectors through Tessera's base64url wrapper (unpadded, §5 alphabet).

use tessera_core::encoding::{
    base64_decode, base64_encode, base64url_decode, base64url_encode, base64url_len,
};

/// RFC 4648 §10, with the padding removed (Tessera never pads).
const VECTORS: &[(&str, &str)] = &[
    ("", ""),
    ("f", "Zg"),
    ("fo", "Zm8"),
    ("foo", "Zm9v"),
    ("foob", "Zm9vYg"),
    ("fooba", "Zm9vYmE"),
    ("foobar", "Zm9vYmFy"),
];

#[test]
fn section_10_vectors() {
    for (plain, encoded) in VECTORS {
        let mut out = [0u8; 16];
        assert_eq!(base64url_encode(plain.as_bytes(), &mut out), Some(*encoded));
        assert_eq!(base64url_len(plain.len()), encoded.len());
        let mut back = [0u8; 16];
        assert_eq!(
            base64url_decode(encoded.as_bytes(), &mut back),
            Some(plain.as_bytes())
        );
    }
}

#[test]
fn padded_and_standard_alphabet_forms_are_refused() {
    let mut out = [0u8; 16];
    for text in ["Zg==", "Zm8=", "Zm9vYg==", "+/8", "Zm9v\n", " Zm9v"] {
        assert_eq!(
            base64url_decode(text.as_bytes(), &mut out),
            None,
            "{text:?}"
        );
    }
    // The URL-safe alphabet (§5) decodes; its standard counterparts (§4) do not.
    assert_eq!(base64url_decode(b"-_8", &mut out), Some(&[0xfb, 0xff][..]));
}

#[test]
fn a_small_buffer_is_an_error_not_a_panic() {
    let mut out = [0u8; 2];
    assert_eq!(base64url_encode(b"foobar", &mut out), None);
    assert_eq!(base64url_decode(b"Zm9vYmFy", &mut out), None);
}

/// RFC 4648 §10 as written (padded, §4 alphabet), through the Basic-credentials wrapper.
#[test]
fn section_10_vectors_padded() {
    let padded = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];
    for (plain, encoded) in padded {
        let mut out = [0u8; 16];
        assert_eq!(base64_encode(plain.as_bytes(), &mut out), Some(encoded));
        let mut back = [0u8; 16];
        assert_eq!(
            base64_decode(encoded.as_bytes(), &mut back),
            Some(plain.as_bytes())
        );
    }
    let mut out = [0u8; 16];
    for bad in ["Zg", "Zg=", "Zh==", "-_8=", "Zm9v\n"] {
        assert_eq!(base64_decode(bad.as_bytes(), &mut out), None, "{bad:?}");
    }
    assert_eq!(base64_decode(b"+/8=", &mut out), Some(&[0xfb, 0xff][..]));
}
