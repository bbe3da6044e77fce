//! Login challenges (FORMAT.md §3.4): they round-trip the whole authorization request, every
//! tampering fails as an invalid token, and they never pass for another kind, nor another kind
//! for them.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tessera_core::encoding::{base64url_decode, base64url_encode};
use tessera_core::{
    AccessToken, Audience, AuthorizationCode, ClientId, CodeChallenge, CodeVerifier, Error,
    ErrorKind, GrantId, KeyId, Keyring, LoginChallenge, LoginClaims, LoginRequest,
    MAX_LOGIN_LIFETIME, MAX_REDIRECT_URI_LEN, MAX_STATE_LEN, MasterKey, RefreshToken, Scope, State,
    validate_redirect_uri,
};
use tessera_testkit::pkce::VERIFIER;
use tessera_testkit::vector::{self, NOW, keyring, master};

const URI: &str = "https://app.example/cb";

fn request(state: &str) -> LoginRequest<'static> {
    LoginRequest {
        client_id: vector::client(vector::CLIENT),
        redirect_uri: URI,
        scope: Scope::parse("photos.read photos.write").unwrap(),
        audience: Audience::from_slice(&[vector::client("ffeeddccbbaa99887766554433221100")])
            .unwrap(),
        code_challenge: CodeChallenge::s256(&CodeVerifier::parse(VERIFIER).unwrap()),
        state: State::parse(state).unwrap(),
    }
}

fn mint(keys: &Keyring, request: &LoginRequest<'_>, lifetime: u32, seed: u64) -> String {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    LoginChallenge::mint(keys.login_challenges(), request, lifetime, NOW, &mut rng)
        .unwrap()
        .expose()
        .to_owned()
}

fn verify(keys: &Keyring, text: &str, now: u64) -> Result<LoginClaims, Error> {
    LoginChallenge::verify(keys.login_challenges(), text, now)
}

fn assert_invalid(keys: &Keyring, text: &str) {
    let err = verify(keys, text, NOW + 1).unwrap_err();
    assert!(err.is_invalid_token(), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::InvalidGrant);
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

fn arb_redirect_uri() -> impl Strategy<Value = String> {
    prop_oneof![
        "https://[a-z]{1,20}\\.example(:[1-9][0-9]{0,3})?(/[A-Za-z0-9._~%-]{0,40}){0,10}(\\?[a-z0-9=&]{0,40})?",
        "http://127\\.0\\.0\\.1(:[1-9][0-9]{0,4})?/[a-z]{0,20}",
        "com\\.example\\.[a-z]{1,10}:/[a-z/]{0,30}",
        // Long ones, near the cap.
        "https://app\\.example/[a-z]{440,490}",
    ]
    .prop_filter("registration rules", |uri| {
        uri.len() <= MAX_REDIRECT_URI_LEN && validate_redirect_uri(uri).is_ok()
    })
}

fn arb_state() -> impl Strategy<Value = State> {
    prop_oneof![
        4 => "[ -~]{0,64}",
        1 => "[ -~]{0,512}",
    ]
    .prop_map(|s| State::parse(&s).unwrap())
}

fn arb_scope() -> impl Strategy<Value = Scope> {
    prop::collection::btree_set("[!#-\\[\\]-~]{1,12}", 0..6)
        .prop_filter_map("scope over bounds", |set| {
            Scope::parse(&set.into_iter().collect::<Vec<_>>().join(" ")).ok()
        })
}

fn arb_audience() -> impl Strategy<Value = Audience> {
    prop::collection::vec(any::<[u8; 16]>(), 0..=4).prop_map(|ids| {
        let ids: Vec<ClientId> = ids.into_iter().map(ClientId::from_bytes).collect();
        Audience::from_slice(&ids).unwrap()
    })
}

/// A request with an owned redirect URI; borrow it with [`Owned::request`].
#[derive(Clone, Debug)]
struct Owned {
    client: [u8; 16],
    uri: String,
    scope: Scope,
    audience: Audience,
    challenge: [u8; 32],
    state: State,
}

impl Owned {
    fn request(&self) -> LoginRequest<'_> {
        LoginRequest {
            client_id: ClientId::from_bytes(self.client),
            redirect_uri: &self.uri,
            scope: self.scope.clone(),
            audience: self.audience.clone(),
            code_challenge: CodeChallenge::from_bytes(self.challenge),
            state: self.state.clone(),
        }
    }
}

fn arb_request() -> impl Strategy<Value = Owned> {
    (
        any::<[u8; 16]>(),
        arb_redirect_uri(),
        arb_scope(),
        arb_audience(),
        any::<[u8; 32]>(),
        arb_state(),
    )
        .prop_map(|(client, uri, scope, audience, challenge, state)| Owned {
            client,
            uri,
            scope,
            audience,
            challenge,
            state,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn mint_then_verify_round_trips(req in arb_request(), lifetime in 1..=MAX_LOGIN_LIFETIME, seed: u64) {
        let keys = keyring(&[1], 1);
        let text = mint(&keys, &req.request(), lifetime, seed);
        prop_assert!((LoginChallenge::MIN_LEN..=LoginChallenge::MAX_LEN).contains(&text.len()));
        prop_assert!(text.starts_with("tsr_lc_") && text.is_ascii());
        let claims = verify(&keys, &text, NOW).unwrap();
        prop_assert_eq!(claims.request(), req.request());
        prop_assert_eq!(claims.redirect_uri(), req.uri.as_str());
        prop_assert_eq!(claims.state(), req.state.as_str());
        prop_assert_eq!((claims.issued_at(), claims.expires_at()), (NOW, NOW + u64::from(lifetime)));
        prop_assert_eq!(claims.key_id(), KeyId::new(1));
        // Valid until the last second, expired from exp on, not valid before iat.
        prop_assert!(verify(&keys, &text, NOW + u64::from(lifetime) - 1).is_ok());
        prop_assert_eq!(verify(&keys, &text, NOW + u64::from(lifetime)).err(), Some(Error::Expired));
        prop_assert_eq!(verify(&keys, &text, NOW - 1).err(), Some(Error::NotYetValid));
        // Another seed, another request id: two challenges are never equal.
        let again = mint(&keys, &req.request(), lifetime, seed.wrapping_add(1));
        prop_assert_ne!(&again, &text);
        prop_assert_ne!(*verify(&keys, &again, NOW).unwrap().request_id(), *claims.request_id());
    }

    #[test]
    fn other_keys_unknown_keys_and_rotation(req in arb_request(), seed: u64, other in any::<[u8; 32]>()) {
        prop_assume!(other != *master(1).expose_bytes());
        let keys = keyring(&[1], 1);
        let text = mint(&keys, &req.request(), 600, seed);
        let impostor = Keyring::new(&[MasterKey::from_bytes(KeyId::new(1), other)], KeyId::new(1)).unwrap();
        prop_assert_eq!(verify(&impostor, &text, NOW).err(), Some(Error::BadSignature));
        prop_assert_eq!(verify(&keyring(&[2, 3], 2), &text, NOW).err(), Some(Error::UnknownKey));
        let rotated = keyring(&[1, 2], 2);
        prop_assert!(verify(&rotated, &text, NOW).is_ok());
        let fresh = mint(&rotated, &req.request(), 600, seed);
        prop_assert_eq!(verify(&keys, &fresh, NOW).err(), Some(Error::UnknownKey));
    }

    #[test]
    fn arbitrary_strings_never_verify(s in "\\PC{0,1800}") {
        let keys = keyring(&[1], 1);
        prop_assert!(verify(&keys, &s, NOW).is_err());
    }

    #[test]
    fn arbitrary_well_shaped_challenges_never_verify(body in prop::collection::vec(any::<u8>(), 90..1300)) {
        let keys = keyring(&[1], 1);
        let mut bytes = body;
        bytes[..4].copy_from_slice(&[1, 4, 0, 1]); // right version, kind and key id
        prop_assert!(verify(&keys, &reencode("tsr_lc_", &bytes), NOW).is_err());
    }

    #[test]
    fn state_parse_is_exactly_vschar_up_to_the_cap(s in prop_oneof!["[ -~]{0,600}", "\\PC{0,40}", ".{0,40}"]) {
        let valid = s.len() <= MAX_STATE_LEN && s.bytes().all(|b| (0x20..=0x7e).contains(&b));
        match State::parse(&s) {
            Ok(state) => {
                prop_assert!(valid, "{:?}", s);
                prop_assert_eq!(state.as_str(), s.as_str());
            }
            Err(e) => {
                prop_assert!(!valid, "{:?}", s);
                prop_assert_eq!((e, e.kind()), (Error::InvalidState, ErrorKind::InvalidRequest));
            }
        }
    }
}

proptest! {
    // Each case verifies up to ~10,000 mutated challenges: fewer cases, the same coverage per case.
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn every_single_bit_flip_fails(req in arb_request(), seed: u64) {
        let keys = keyring(&[1], 1);
        let text = mint(&keys, &req.request(), 600, seed);
        let bytes = body_bytes(&text);
        for bit in 0..bytes.len() * 8 {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert_invalid(&keys, &reencode("tsr_lc_", &flipped));
        }
    }

    #[test]
    fn truncation_and_extension_fail(req in arb_request(), seed: u64, tail in "[A-Za-z0-9_=-]{1,8}") {
        let keys = keyring(&[1], 1);
        let text = mint(&keys, &req.request(), 600, seed);
        for end in 0..text.len() {
            assert_invalid(&keys, &text[..end]);
        }
        for bad in [format!("{text}{tail}"), format!("{text}="), format!(" {text}"), format!("{text}\n"),
                    text.replace('-', "+").replace('_', "/") + "+", format!("{}{}", &text[..7], &text[8..])] {
            assert_invalid(&keys, &bad);
        }
        // Re-padding the body with zero bytes breaks the MAC or the layout.
        let mut bytes = body_bytes(&text);
        let tag = bytes.split_off(bytes.len() - 16);
        bytes.extend_from_slice(&[0, 0, 0]);
        bytes.extend_from_slice(&tag);
        assert_invalid(&keys, &reencode("tsr_lc_", &bytes));
    }
}

#[test]
fn a_challenge_is_no_other_kind_and_no_other_kind_is_a_challenge() {
    let keys = keyring(&[1], 1);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let text = mint(&keys, &request("xyz"), 600, 1);
    // Presented as a code, an access or a refresh token: refused by its prefix.
    assert_eq!(
        AuthorizationCode::verify(keys.codes(), &text, NOW).err(),
        Some(Error::WrongTokenKind)
    );
    assert_eq!(
        AccessToken::verify(keys.access_tokens(), &text, NOW).err(),
        Some(Error::WrongTokenKind)
    );
    assert_eq!(
        RefreshToken::verify(keys.refresh_tokens(), &text, NOW).err(),
        Some(Error::WrongTokenKind)
    );

    let grant = vector::grant("alice", "photos.read", &[]);
    let challenge = CodeChallenge::s256(&CodeVerifier::parse(VERIFIER).unwrap());
    let code =
        AuthorizationCode::mint(keys.codes(), &grant, URI, &challenge, 600, NOW, &mut rng).unwrap();
    let code = code.expose();
    assert_eq!(verify(&keys, code, NOW).err(), Some(Error::WrongTokenKind));
    let gid = GrantId::generate(&mut rng);
    let access = AccessToken::mint(keys.access_tokens(), &grant, &gid, 60, NOW, &mut rng).unwrap();
    assert_eq!(
        verify(&keys, access.expose(), NOW).err(),
        Some(Error::WrongTokenKind)
    );

    // Relabelled, the MAC (over the prefix) and the kind byte refuse it either way.
    assert_invalid(&keys, &format!("tsr_lc_{}", &code[7..]));
    let relabelled = format!("tsr_ac_{}", &text[7..]);
    let err = AuthorizationCode::verify(keys.codes(), &relabelled, NOW).unwrap_err();
    assert!(err.is_invalid_token(), "{err:?}");
    // A key set of another purpose neither verifies nor mints challenges.
    assert_eq!(
        LoginChallenge::verify(keys.codes(), &text, NOW).err(),
        Some(Error::WrongKeyPurpose)
    );
    assert_eq!(
        LoginChallenge::mint(keys.codes(), &request(""), 60, NOW, &mut rng).err(),
        Some(Error::WrongKeyPurpose)
    );
}

#[test]
fn lifetimes_are_bounded_at_mint() {
    let keys = keyring(&[1], 1);
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let set = keys.login_challenges();
    for lifetime in [0, MAX_LOGIN_LIFETIME + 1, u32::MAX] {
        assert_eq!(
            LoginChallenge::mint(set, &request(""), lifetime, NOW, &mut rng).err(),
            Some(Error::InvalidLifetime),
            "{lifetime}"
        );
    }
    assert_eq!(
        LoginChallenge::mint(set, &request(""), 10, u64::MAX - 5, &mut rng).err(),
        Some(Error::InvalidLifetime)
    );
    assert!(LoginChallenge::mint(set, &request(""), MAX_LOGIN_LIFETIME, NOW, &mut rng).is_ok());
    assert_eq!(MAX_LOGIN_LIFETIME, 600);
}

#[test]
fn bad_state_and_redirect_uri_are_refused() {
    for bad in [
        "a\nb",
        "tab\there",
        "nul\0",
        "del\x7f",
        "é",
        &"s".repeat(MAX_STATE_LEN + 1),
    ] {
        assert_eq!(State::parse(bad), Err(Error::InvalidState), "{bad:?}");
    }
    let longest = "~".repeat(MAX_STATE_LEN);
    assert_eq!(State::parse(&longest).unwrap().as_str(), longest);
    assert!(State::parse("").unwrap().is_empty());
    assert_eq!(Error::InvalidState.kind(), ErrorKind::InvalidRequest);
    assert!(!Error::InvalidState.to_string().is_empty());

    let keys = keyring(&[1], 1);
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let long = format!("https://app.example/{}", "a".repeat(MAX_REDIRECT_URI_LEN));
    for uri in [
        "",
        "http://app.example/cb",
        "https://app.example/cb#frag",
        long.as_str(),
    ] {
        let req = LoginRequest {
            redirect_uri: uri,
            ..request("")
        };
        assert_eq!(
            LoginChallenge::mint(keys.login_challenges(), &req, 60, NOW, &mut rng).err(),
            Some(Error::InvalidRedirectUri),
            "{uri:?}"
        );
    }
}

#[test]
fn the_largest_challenge_fits_its_bounds() {
    let keys = keyring(&[1], 1);
    let uri = format!(
        "https://app.example/{}",
        "a".repeat(MAX_REDIRECT_URI_LEN - 20)
    );
    let scope: Vec<String> = (0..16)
        .map(|i| format!("s{i:02}{}", "x".repeat(3)))
        .collect();
    let req = LoginRequest {
        redirect_uri: &uri,
        scope: Scope::parse(&scope.join(" ")[..]).unwrap(),
        audience: Audience::from_slice(&[ClientId::from_bytes([7; 16]); 4]).unwrap(),
        ..request(&"~".repeat(MAX_STATE_LEN))
    };
    assert_eq!(uri.len(), MAX_REDIRECT_URI_LEN);
    let text = mint(&keys, &req, 600, 4);
    assert!(text.len() <= LoginChallenge::MAX_LEN, "{}", text.len());
    assert_eq!(verify(&keys, &text, NOW).unwrap().request(), req);
}

#[test]
fn debug_shows_no_challenge_text() {
    let keys = keyring(&[1], 1);
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let challenge =
        LoginChallenge::mint(keys.login_challenges(), &request("xyz"), 60, NOW, &mut rng).unwrap();
    let debug = format!("{challenge:?}");
    assert!(!debug.contains(&challenge.expose()[7..30]), "{debug}");
}
