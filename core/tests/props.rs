//! Property tests: every kind round-trips, and every tampering fails with the right error.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tessera_core::encoding::{base64url_decode, base64url_encode};
use tessera_core::{
    AccessToken, Audience, AuthorizationCode, ClientId, ClientSecret, CodeChallenge, CodeVerifier,
    Error, ErrorKind, Grant, GrantId, KeyId, Keyring, MasterKey, Provisioning, RefreshToken, Scope,
    SecretVerifier, Subject,
};
use tessera_testkit::pkce::VERIFIER;
use tessera_testkit::vector::{self, NOW, keyring, master};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Code,
    Access,
    Refresh,
}

const KINDS: [Kind; 3] = [Kind::Code, Kind::Access, Kind::Refresh];
const URI: &str = "https://app.example/cb";

/// What a verified token says, reduced to what every kind shares.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    grant: Grant,
    issued_at: u64,
    expires_at: u64,
}

fn mint(kind: Kind, keys: &Keyring, grant: &Grant, lifetime: u32, seed: u64) -> String {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let gid = GrantId::generate(&mut rng);
    let challenge = CodeChallenge::s256(&CodeVerifier::parse(VERIFIER).unwrap());
    match kind {
        Kind::Code => AuthorizationCode::mint(
            keys.codes(),
            grant,
            URI,
            &challenge,
            lifetime.min(600),
            NOW,
            &mut rng,
        )
        .map(|t| t.expose().to_owned()),
        Kind::Access => {
            AccessToken::mint(keys.access_tokens(), grant, &gid, lifetime, NOW, &mut rng)
                .map(|t| t.expose().to_owned())
        }
        Kind::Refresh => RefreshToken::mint(
            keys.refresh_tokens(),
            grant,
            &gid,
            3,
            lifetime,
            NOW,
            &mut rng,
        )
        .map(|t| t.expose().to_owned()),
    }
    .unwrap()
}

fn verify(kind: Kind, keys: &Keyring, text: &str, now: u64) -> Result<Seen, Error> {
    match kind {
        Kind::Code => AuthorizationCode::verify(keys.codes(), text, now).map(|c| Seen {
            grant: c.grant().clone(),
            issued_at: c.issued_at(),
            expires_at: c.expires_at(),
        }),
        Kind::Access => AccessToken::verify(keys.access_tokens(), text, now).map(|c| Seen {
            grant: c.grant().clone(),
            issued_at: c.issued_at(),
            expires_at: c.expires_at(),
        }),
        Kind::Refresh => RefreshToken::verify(keys.refresh_tokens(), text, now).map(|c| Seen {
            grant: c.grant().clone(),
            issued_at: c.issued_at(),
            expires_at: c.expires_at(),
        }),
    }
}

fn arb_kind() -> impl Strategy<Value = Kind> {
    prop::sample::select(KINDS.to_vec())
}

fn arb_grant() -> impl Strategy<Value = Grant> {
    let subject = prop_oneof![
        "[a-zA-Z0-9@._:-]{1,64}",
        "[^\\p{Cc}]{1,16}", // any non-control Unicode
    ]
    .prop_filter_map("subject over 64 bytes", |s| Subject::parse(&s).ok());
    let scope = prop::collection::btree_set("[!#-\\[\\]-~]{1,12}", 0..6)
        .prop_filter_map("scope over bounds", |set| {
            Scope::parse(&set.into_iter().collect::<Vec<_>>().join(" ")).ok()
        });
    let audience = prop::collection::vec(any::<[u8; 16]>(), 0..=4).prop_map(|ids| {
        let ids: Vec<ClientId> = ids.into_iter().map(ClientId::from_bytes).collect();
        Audience::from_slice(&ids).unwrap()
    });
    (any::<[u8; 16]>(), subject, scope, audience).prop_map(|(client, subject, scope, audience)| {
        Grant {
            client_id: ClientId::from_bytes(client),
            subject,
            scope,
            audience,
        }
    })
}

fn body_bytes(text: &str) -> Vec<u8> {
    let mut buf = vec![0u8; text.len()];
    base64url_decode(&text.as_bytes()[7..], &mut buf)
        .unwrap()
        .to_vec()
}

fn reencode(prefix: &str, bytes: &[u8]) -> String {
    let mut buf = vec![0u8; bytes.len() * 2 + 4];
    format!("{prefix}{}", base64url_encode(bytes, &mut buf).unwrap())
}

fn assert_invalid(kind: Kind, keys: &Keyring, text: &str) {
    let err = verify(kind, keys, text, NOW + 1).unwrap_err();
    assert!(err.is_invalid_token(), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::InvalidGrant);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn mint_then_verify_round_trips(kind in arb_kind(), grant in arb_grant(), lifetime in 1u32..=100_000, seed: u64) {
        let keys = keyring(&[1], 1);
        let text = mint(kind, &keys, &grant, lifetime, seed);
        let life = if kind == Kind::Code { lifetime.min(600) } else { lifetime };
        let seen = verify(kind, &keys, &text, NOW).unwrap();
        prop_assert_eq!(seen, Seen { grant, issued_at: NOW, expires_at: NOW + u64::from(life) });
        // Valid until the last second, expired from exp on, not valid before iat.
        prop_assert!(verify(kind, &keys, &text, NOW + u64::from(life) - 1).is_ok());
        prop_assert_eq!(verify(kind, &keys, &text, NOW + u64::from(life)).err(), Some(Error::Expired));
        prop_assert_eq!(verify(kind, &keys, &text, NOW - 1).err(), Some(Error::NotYetValid));
        prop_assert!(text.len() >= 121 && text.is_ascii());
    }

    #[test]
    fn every_single_bit_flip_fails(kind in arb_kind(), grant in arb_grant(), seed: u64) {
        let keys = keyring(&[1], 1);
        let text = mint(kind, &keys, &grant, 600, seed);
        let bytes = body_bytes(&text);
        for bit in 0..bytes.len() * 8 {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert_invalid(kind, &keys, &reencode(&text[..7], &flipped));
        }
    }

    #[test]
    fn every_single_character_substitution_fails(
        kind in arb_kind(), grant in arb_grant(), seed: u64,
        subs in prop::collection::vec(prop::sample::select(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=.~ ".to_vec()), 600),
    ) {
        let keys = keyring(&[1], 1);
        let text = mint(kind, &keys, &grant, 600, seed);
        for (i, original) in text.bytes().enumerate() {
            let sub = if subs[i] == original { if original == b'A' { b'B' } else { b'A' } } else { subs[i] };
            let mut changed = text.clone().into_bytes();
            changed[i] = sub;
            assert_invalid(kind, &keys, core::str::from_utf8(&changed).unwrap());
        }
    }

    #[test]
    fn truncation_extension_and_re_encoding_fail(kind in arb_kind(), grant in arb_grant(), seed: u64, tail in "[A-Za-z0-9_=-]{1,8}") {
        let keys = keyring(&[1], 1);
        let text = mint(kind, &keys, &grant, 600, seed);
        for end in 0..text.len() {
            assert_invalid(kind, &keys, &text[..end]);
        }
        for bad in [format!("{text}{tail}"), format!("{text}="), format!("{text}=="), format!(" {text}"),
                    format!("{text}\n"), text.replace('-', "+").replace('_', "/") + "+",
                    text.to_uppercase(), format!("{}{}", &text[..7], &text[8..])] {
            assert_invalid(kind, &keys, &bad);
        }
        // The same bytes with standard-alphabet characters are another string, never the token.
        let std_alphabet = text.replace('-', "+").replace('_', "/");
        if std_alphabet != text {
            assert_invalid(kind, &keys, &std_alphabet);
        }
        // A body padded to the next group (re-padding with zero bytes) breaks the MAC or layout.
        let mut bytes = body_bytes(&text);
        let tag = bytes.split_off(bytes.len() - 16);
        bytes.extend_from_slice(&[0, 0, 0]);
        bytes.extend_from_slice(&tag);
        assert_invalid(kind, &keys, &reencode(&text[..7], &bytes));
    }

    #[test]
    fn wrong_prefix_and_wrong_kind_fail(grant in arb_grant(), seed: u64) {
        let keys = keyring(&[1], 1);
        for minted in KINDS {
            let text = mint(minted, &keys, &grant, 600, seed);
            for expected in KINDS.into_iter().filter(|k| *k != minted) {
                prop_assert_eq!(verify(expected, &keys, &text, NOW).err(), Some(Error::WrongTokenKind));
                // Another kind's prefix on this kind's body: the MAC covers the prefix.
                let relabelled = format!("{}{}", &mint(expected, &keys, &grant, 600, seed)[..7], &text[7..]);
                assert_invalid(expected, &keys, &relabelled);
            }
            prop_assert_eq!(verify(minted, &keys, &format!("tsr_xx_{}", &text[7..]), NOW).err(), Some(Error::MalformedToken));
        }
    }

    #[test]
    fn keys_other_unknown_and_rotated(kind in arb_kind(), grant in arb_grant(), seed: u64, other in any::<[u8; 32]>()) {
        let keys = keyring(&[1], 1);
        let text = mint(kind, &keys, &grant, 600, seed);
        // Same key id, other bytes.
        let impostor = Keyring::new(&[MasterKey::from_bytes(KeyId::new(1), other)], KeyId::new(1)).unwrap();
        prop_assume!(other != *master(1).expose_bytes());
        prop_assert_eq!(verify(kind, &impostor, &text, NOW).err(), Some(Error::BadSignature));
        // A key set without key 1.
        prop_assert_eq!(verify(kind, &keyring(&[2, 3], 2), &text, NOW).err(), Some(Error::UnknownKey));
        // Rotated: key 2 mints now, key 1 still listed, so the old token verifies.
        let rotated = keyring(&[1, 2], 2);
        prop_assert!(verify(kind, &rotated, &text, NOW).is_ok());
        let fresh = mint(kind, &rotated, &grant, 600, seed);
        prop_assert!(verify(kind, &rotated, &fresh, NOW).is_ok());
        prop_assert_eq!(verify(kind, &keys, &fresh, NOW).err(), Some(Error::UnknownKey));
    }

    #[test]
    fn arbitrary_strings_never_verify_or_panic(kind in arb_kind(), s in "\\PC{0,600}") {
        let keys = keyring(&[1], 1);
        prop_assert!(verify(kind, &keys, &s, NOW).is_err());
    }

    #[test]
    fn arbitrary_well_shaped_tokens_never_verify(kind in arb_kind(), body in prop::collection::vec(any::<u8>(), 80..400)) {
        let keys = keyring(&[1], 1);
        let mut bytes = body;
        bytes[..4].copy_from_slice(&[1, kind as u8 + 1, 0, 1]); // right version, kind and key id
        let prefix = ["tsr_ac_", "tsr_at_", "tsr_rt_"][kind as usize];
        prop_assert!(verify(kind, &keys, &reencode(prefix, &bytes), NOW).is_err());
    }

    #[test]
    fn base64url_decode_matches_base64ct(text in "[A-Za-z0-9_=+/ -]{0,600}", raw in prop::collection::vec(any::<u8>(), 0..450)) {
        use base64ct::{Base64UrlUnpadded, Encoding};
        let (mut ours, mut theirs) = ([0u8; 450], [0u8; 450]);
        prop_assert_eq!(
            base64url_decode(text.as_bytes(), &mut ours).map(<[u8]>::to_vec),
            Base64UrlUnpadded::decode(text.as_bytes(), &mut theirs).ok().map(<[u8]>::to_vec)
        );
        let mut buf = [0u8; 600];
        let encoded = base64url_encode(&raw, &mut buf).unwrap();
        prop_assert_eq!(base64url_decode(encoded.as_bytes(), &mut ours), Some(&raw[..]));
    }

    #[test]
    fn arbitrary_bytes_never_panic_any_parser(bytes in prop::collection::vec(any::<u8>(), 0..700)) {
        let s = String::from_utf8_lossy(&bytes);
        let _ = Scope::parse(&s);
        let _ = Subject::parse(&s);
        let _ = ClientId::parse(&s);
        let _ = CodeVerifier::parse(&s);
        let _ = CodeChallenge::parse(&s);
        prop_assert!(ClientSecret::parse(&s).is_err() || s.starts_with("tsr_cs_"));
        prop_assert!(SecretVerifier::from_bytes(&bytes).is_err() || bytes.len() == 34);
        let mut out = [0u8; 700];
        let _ = base64url_decode(&bytes, &mut out);
        prop_assert!(Provisioning::decode(&bytes).is_err());
    }

    #[test]
    fn secret_verifier_accepts_only_the_exact_secret(seed: u64) {
        let keys = keyring(&[1], 1);
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let (client, other_client) = (ClientId::generate(&mut rng), ClientId::generate(&mut rng));
        let secret = ClientSecret::generate(&mut rng);
        let other = ClientSecret::generate(&mut rng);
        let stored = SecretVerifier::new(keys.client_secrets(), &client, &secret).unwrap();
        let stored = SecretVerifier::from_bytes(&stored.to_bytes()).unwrap();
        let text = secret.encode();

        prop_assert!(stored.verify(keys.client_secrets(), &client, &ClientSecret::parse(text.expose()).unwrap()).is_ok());
        prop_assert_eq!(stored.verify(keys.client_secrets(), &client, &other), Err(Error::SecretMismatch));
        prop_assert_eq!(stored.verify(keys.client_secrets(), &other_client, &secret), Err(Error::SecretMismatch));
        prop_assert_eq!(stored.verify(keyring(&[2], 2).client_secrets(), &client, &secret), Err(Error::UnknownKey));
        prop_assert_eq!(Error::SecretMismatch.kind(), ErrorKind::InvalidClient);
        // Every single-character change is caught by the checksum or the verifier.
        for i in 0..text.expose().len() {
            let mut changed = text.expose().as_bytes().to_vec();
            changed[i] = if changed[i] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(changed).unwrap();
            let outcome = ClientSecret::parse(&changed)
                .and_then(|s| stored.verify(keys.client_secrets(), &client, &s));
            prop_assert!(matches!(outcome, Err(Error::MalformedSecret | Error::SecretMismatch)));
        }
        prop_assert_eq!(ClientSecret::parse(&text.expose()[..54]).err(), Some(Error::MalformedSecret));
    }
}

#[test]
fn debug_output_never_shows_credentials() {
    let keys = keyring(&[1], 1);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let grant = vector::grant("alice", "read", &[]);
    let token = AccessToken::mint(
        keys.access_tokens(),
        &grant,
        &GrantId::generate(&mut rng),
        60,
        NOW,
        &mut rng,
    )
    .unwrap();
    let secret = ClientSecret::generate(&mut rng);
    let text = secret.encode();
    let verifier = CodeVerifier::parse(VERIFIER).unwrap();
    let debug = format!(
        "{token:?} {secret:?} {text:?} {verifier:?} {keys:?} {:?}",
        master(1)
    );
    for leaked in [
        token.expose(),
        text.expose(),
        VERIFIER,
        &text.expose()[7..20],
        &token.expose()[7..30],
    ] {
        assert!(!debug.contains(leaked), "{debug}");
    }
    assert!(
        !debug.contains("00, 01, 02") && !debug.contains("[0, 1, 2"),
        "{debug}"
    );
}

#[test]
fn lifetimes_are_bounded_at_mint() {
    let keys = keyring(&[1], 1);
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let grant = vector::grant("alice", "read", &[]);
    let gid = GrantId::generate(&mut rng);
    let challenge = CodeChallenge::s256(&CodeVerifier::parse(VERIFIER).unwrap());
    assert_eq!(
        AuthorizationCode::mint(keys.codes(), &grant, URI, &challenge, 601, NOW, &mut rng).err(),
        Some(Error::InvalidLifetime)
    );
    assert_eq!(
        AuthorizationCode::mint(keys.codes(), &grant, URI, &challenge, 0, NOW, &mut rng).err(),
        Some(Error::InvalidLifetime)
    );
    assert_eq!(
        AccessToken::mint(keys.access_tokens(), &grant, &gid, 0, NOW, &mut rng).err(),
        Some(Error::InvalidLifetime)
    );
    assert_eq!(
        AccessToken::mint(
            keys.access_tokens(),
            &grant,
            &gid,
            10,
            u64::MAX - 5,
            &mut rng
        )
        .err(),
        Some(Error::InvalidLifetime)
    );
    // A key set of the wrong purpose cannot mint.
    assert_eq!(
        AccessToken::mint(keys.codes(), &grant, &gid, 10, NOW, &mut rng).err(),
        Some(Error::WrongKeyPurpose)
    );
}

#[test]
fn code_redemption_checks_client_uri_and_verifier() {
    let keys = keyring(&[1], 1);
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let grant = vector::grant("alice", "read", &[]);
    let verifier = CodeVerifier::parse(VERIFIER).unwrap();
    let code = AuthorizationCode::mint(
        keys.codes(),
        &grant,
        URI,
        &CodeChallenge::s256(&verifier),
        60,
        NOW,
        &mut rng,
    )
    .unwrap();
    let claims = AuthorizationCode::verify(keys.codes(), code.expose(), NOW).unwrap();
    assert_eq!(claims.redeem(&grant.client_id, URI, &verifier), Ok(()));
    let other = ClientId::generate(&mut rng);
    assert_eq!(
        claims.redeem(&other, URI, &verifier),
        Err(Error::ClientMismatch)
    );
    assert_eq!(
        claims.redeem(&grant.client_id, "https://app.example/cb/", &verifier),
        Err(Error::InvalidRedirectUri)
    );
    let x43 = "x".repeat(43);
    let wrong = CodeVerifier::parse(&x43).unwrap();
    assert_eq!(
        claims.redeem(&grant.client_id, URI, &wrong),
        Err(Error::PkceMismatch)
    );
}
