//! RFC 7636 Appendix B: the S256 example, and the verifier syntax of §4.1.

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use tessera_core::encoding::base64url_encode;
use tessera_core::{ChallengeMethod, CodeChallenge, CodeVerifier, Error, ErrorKind};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// The 32 random octets the example verifier encodes.
const VERIFIER_OCTETS: [u8; 32] = [
    116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77,
    105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
];
/// SHA256(ASCII(code_verifier)) as the RFC lists it.
const CHALLENGE_OCTETS: [u8; 32] = [
    19, 211, 30, 150, 26, 26, 216, 236, 47, 22, 177, 12, 76, 152, 46, 8, 118, 168, 120, 173, 109,
    241, 68, 86, 110, 225, 137, 74, 203, 112, 249, 195,
];

#[test]
fn appendix_b() {
    let mut buf = [0u8; 43];
    assert_eq!(base64url_encode(&VERIFIER_OCTETS, &mut buf), Some(VERIFIER));

    let verifier = CodeVerifier::parse(VERIFIER).unwrap();
    let challenge = CodeChallenge::s256(&verifier);
    assert_eq!(challenge.as_bytes(), &CHALLENGE_OCTETS);
    assert_eq!(challenge.encode(&mut [0u8; 43]), CHALLENGE);
    assert_eq!(CodeChallenge::parse(CHALLENGE), Ok(challenge));
    assert_eq!(challenge.verify(&verifier), Ok(()));
}

#[test]
fn the_test_kits_pair_is_appendix_b() {
    // Every other test, fuzz target and bench takes the pair from the test kit.
    assert_eq!(
        (
            tessera_testkit::pkce::VERIFIER,
            tessera_testkit::pkce::CHALLENGE
        ),
        (VERIFIER, CHALLENGE)
    );
}

#[test]
fn a_different_verifier_does_not_match() {
    let challenge = CodeChallenge::parse(CHALLENGE).unwrap();
    let mut other = VERIFIER.as_bytes().to_vec();
    for i in 0..other.len() {
        let saved = other[i];
        other[i] = if saved == b'A' { b'B' } else { b'A' };
        let v = CodeVerifier::parse(core::str::from_utf8(&other).unwrap()).unwrap();
        assert_eq!(challenge.verify(&v), Err(Error::PkceMismatch));
        assert_eq!(Error::PkceMismatch.kind(), ErrorKind::InvalidGrant);
        other[i] = saved;
    }
}

#[test]
fn verifier_syntax() {
    let ok = |s: &str| CodeVerifier::parse(s).is_ok();
    assert!(ok(&"a".repeat(43)) && ok(&"Z".repeat(128)) && ok(&"-._~09azAZ".repeat(5)));
    assert!(!ok(&"a".repeat(42)) && !ok(&"a".repeat(129)) && !ok(""));
    for bad in ['+', '/', '=', ' ', '%', 'é', '\0'] {
        let s = format!("{}{bad}", "a".repeat(43));
        assert_eq!(
            CodeVerifier::parse(&s).err(),
            Some(Error::InvalidCodeVerifier),
            "{bad:?}"
        );
    }
    assert_eq!(Error::InvalidCodeVerifier.kind(), ErrorKind::InvalidRequest);
}

#[test]
fn only_s256_is_accepted() {
    assert_eq!(ChallengeMethod::parse("S256"), Ok(ChallengeMethod::S256));
    for m in ["plain", "", "s256", "S512", "S256 "] {
        assert_eq!(
            ChallengeMethod::parse(m),
            Err(Error::UnsupportedChallengeMethod),
            "{m:?}"
        );
    }
}

#[test]
fn challenge_syntax() {
    for bad in [
        "",
        &CHALLENGE[..42],
        &format!("{CHALLENGE}A"),
        &format!("{CHALLENGE}="),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM",
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN",
    ] {
        assert_eq!(
            CodeChallenge::parse(bad),
            Err(Error::InvalidCodeChallenge),
            "{bad:?}"
        );
    }
}

#[test]
fn generated_verifier_is_32_random_octets_in_base64url() {
    // §4.1: "a 32-octet sequence ... base64url-encoded to produce a 43-octet URL safe string".
    let verifier = CodeVerifier::generate(&mut ChaCha20Rng::from_seed([3; 32]));
    let mut octets = [0u8; 32];
    ChaCha20Rng::from_seed([3; 32]).fill_bytes(&mut octets);
    let mut buf = [0u8; 43];
    assert_eq!(Some(verifier.expose()), base64url_encode(&octets, &mut buf));
    assert_eq!(verifier.expose().len(), 43);

    let parsed = CodeVerifier::parse(verifier.expose()).unwrap();
    assert_eq!(CodeChallenge::s256(&verifier).verify(&parsed), Ok(()));
    let other = CodeVerifier::generate(&mut ChaCha20Rng::from_seed([4; 32]));
    assert_eq!(
        CodeChallenge::s256(&verifier).verify(&other),
        Err(Error::PkceMismatch)
    );
    assert_eq!(format!("{verifier:?}"), "CodeVerifier(<redacted>)");
}
