//! Tessera's own fixed vectors (FORMAT.md §6, `tests/data/vectors.txt`): every minted value is
//! compared byte for byte, verified back, and checked to appear in FORMAT.md.
//!
//! `tests/data/check_vectors.py` recomputes the same vectors from FORMAT.md alone, with Python's
//! standard library, so the document and the code cannot drift apart unnoticed.

use std::collections::BTreeMap;

use tessera_core::{
    AccessToken, Audience, AuthorizationCode, ClientSecret, CodeChallenge, Error, GrantId,
    LoginChallenge, LoginRequest, Provisioning, Purpose, RefreshToken, Scope, SecretVerifier,
    State,
};
use tessera_testkit::pkce::CHALLENGE;
use tessera_testkit::vector::{NOW, StepRng, client, grant, keyring, master};

const GRANT_ID: [u8; 16] = [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0];
const REDIRECT_URI: &str = "https://app.example/callback";
const SUBJECT_32: &str = "user-7f3a9c2e-41d6-4b8f-a0e5-19c";
/// The login challenge vector's audience (FORMAT.md §6).
const LOGIN_AUDIENCE: &str = "ffeeddccbbaa99887766554433221100";

/// The login challenge vectors' request: FORMAT.md §6's client, redirect URI, scope and
/// challenge, and RFC 6749 §4.1.1's example state (or none, with no audience).
#[allow(clippy::unwrap_used, reason = "test helper")]
fn login_request(state: &str, audience: &[&str]) -> LoginRequest<'static> {
    let g = grant("alice", "openid profile email", audience);
    LoginRequest {
        client_id: g.client_id,
        redirect_uri: REDIRECT_URI,
        scope: g.scope,
        audience: g.audience,
        code_challenge: CodeChallenge::parse(CHALLENGE).unwrap(),
        state: State::parse(state).unwrap(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Everything the vectors define, computed by the core.
#[allow(clippy::unwrap_used, reason = "test helper")]
fn computed() -> BTreeMap<&'static str, String> {
    let keys = keyring(&[1], 1);
    let g = grant("alice", "openid profile email", &[]);
    let grant_id = GrantId::from_bytes(GRANT_ID);
    let challenge = CodeChallenge::parse(CHALLENGE).unwrap();
    let mut v = BTreeMap::new();

    v.insert(
        "subkey.authorization-code",
        hex(master(1).derive(Purpose::AuthorizationCode).expose_bytes()),
    );
    v.insert(
        "subkey.access-token",
        hex(master(1).derive(Purpose::AccessToken).expose_bytes()),
    );
    v.insert(
        "subkey.refresh-token",
        hex(master(1).derive(Purpose::RefreshToken).expose_bytes()),
    );
    v.insert(
        "subkey.client-secret",
        hex(master(1).derive(Purpose::ClientSecret).expose_bytes()),
    );
    v.insert(
        "subkey.login-challenge",
        hex(master(1).derive(Purpose::LoginChallenge).expose_bytes()),
    );

    let code = AuthorizationCode::mint(
        keys.codes(),
        &g,
        REDIRECT_URI,
        &challenge,
        600,
        NOW,
        &mut StepRng(0x20),
    )
    .unwrap();
    v.insert("authorization-code", code.expose().to_owned());

    let access = AccessToken::mint(
        keys.access_tokens(),
        &g,
        &grant_id,
        3600,
        NOW,
        &mut StepRng(0x10),
    )
    .unwrap();
    v.insert("access-token", access.expose().to_owned());

    let sized = grant(SUBJECT_32, "read write admin", &[]);
    let access = AccessToken::mint(
        keys.access_tokens(),
        &sized,
        &grant_id,
        300,
        NOW,
        &mut StepRng(0x50),
    )
    .unwrap();
    v.insert("access-token.sized", access.expose().to_owned());

    let big = grant(
        SUBJECT_32,
        "read write admin",
        &[
            "ffeeddccbbaa99887766554433221100",
            "0123456789abcdef0123456789abcdef",
        ],
    );
    let access = AccessToken::mint(
        keys.access_tokens(),
        &big,
        &grant_id,
        300,
        NOW,
        &mut StepRng(0x50),
    )
    .unwrap();
    v.insert("access-token.audience", access.expose().to_owned());

    let refresh = RefreshToken::mint(
        keys.refresh_tokens(),
        &g,
        &grant_id,
        7,
        86_400,
        NOW,
        &mut StepRng(0x30),
    )
    .unwrap();
    v.insert("refresh-token", refresh.expose().to_owned());

    let login = LoginChallenge::mint(
        keys.login_challenges(),
        &login_request("xyz", &[LOGIN_AUDIENCE]),
        600,
        NOW,
        &mut StepRng(0x60),
    )
    .unwrap();
    v.insert("login-challenge", login.expose().to_owned());
    let login = LoginChallenge::mint(
        keys.login_challenges(),
        &login_request("", &[]),
        300,
        NOW,
        &mut StepRng(0x70),
    )
    .unwrap();
    v.insert("login-challenge.no-state", login.expose().to_owned());

    let secret = ClientSecret::generate(&mut StepRng(0x40));
    v.insert("client-secret", secret.encode().expose().to_owned());
    let verifier = SecretVerifier::new(keys.client_secrets(), &g.client_id, &secret).unwrap();
    v.insert("client-secret.verifier", hex(&verifier.to_bytes()));

    let gateway = Provisioning::encode(&[
        master(1).derive(Purpose::AccessToken),
        master(2).derive(Purpose::AccessToken),
    ])
    .unwrap();
    v.insert("provisioning", hex(gateway.expose()));
    v
}

#[allow(clippy::expect_used, reason = "test helper")]
fn expected() -> BTreeMap<String, String> {
    include_str!("data/vectors.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (k, v) = l.split_once(" = ").expect("`name = value` lines");
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

#[test]
fn minted_values_match_the_vectors() {
    if std::env::var_os("TESSERA_BLESS").is_some() {
        let mut out = String::from(
            "# Generated by `TESSERA_BLESS=1 cargo test -p tessera-core --test vectors`;\n# checked independently by check_vectors.py. Inputs: FORMAT.md §6.\n",
        );
        for (k, v) in computed() {
            out += &format!("{k} = {v}\n");
        }
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/vectors.txt"),
            out,
        )
        .unwrap();
        return;
    }
    let expected = expected();
    let computed = computed();
    assert_eq!(expected.len(), computed.len());
    for (name, value) in computed {
        assert_eq!(expected.get(name), Some(&value), "vector {name}");
    }
}

#[test]
fn vectors_verify_back_to_their_inputs() {
    let keys = keyring(&[1], 1);
    let e = expected();
    let g = grant("alice", "openid profile email", &[]);

    let code =
        AuthorizationCode::verify(keys.codes(), &e["authorization-code"], NOW + 599).unwrap();
    assert_eq!(code.grant(), &g);
    assert_eq!(
        code.grant_id().as_bytes(),
        &core::array::from_fn::<u8, 16, _>(|i| 0x20 + u8::try_from(i).unwrap())
    );
    assert_eq!((code.issued_at(), code.expires_at()), (NOW, NOW + 600));
    let verifier = tessera_core::CodeVerifier::parse(tessera_testkit::pkce::VERIFIER).unwrap();
    code.redeem(&g.client_id, REDIRECT_URI, &verifier).unwrap();

    let access = AccessToken::verify(keys.access_tokens(), &e["access-token"], NOW).unwrap();
    assert_eq!(access.grant(), &g);
    assert_eq!(access.grant_id().as_bytes(), &GRANT_ID);
    assert_eq!(
        access.token_id().to_string(),
        "101112131415161718191a1b1c1d1e1f"
    );
    assert_eq!(access.expires_at(), NOW + 3600);

    let refresh = RefreshToken::verify(keys.refresh_tokens(), &e["refresh-token"], NOW).unwrap();
    assert_eq!((refresh.generation(), refresh.grant()), (7, &g));

    let login =
        LoginChallenge::verify(keys.login_challenges(), &e["login-challenge"], NOW + 599).unwrap();
    assert_eq!(login.request(), login_request("xyz", &[LOGIN_AUDIENCE]));
    assert_eq!(
        (login.client_id(), login.redirect_uri(), login.state()),
        (&g.client_id, REDIRECT_URI, "xyz")
    );
    assert_eq!(
        login.scope(),
        &Scope::parse("openid profile email").unwrap()
    );
    assert_eq!(
        login.audience(),
        &Audience::from_slice(&[client(LOGIN_AUDIENCE)]).unwrap()
    );
    assert_eq!(
        login.code_challenge(),
        &CodeChallenge::parse(CHALLENGE).unwrap()
    );
    assert_eq!(
        login.request_id().to_string(),
        "606162636465666768696a6b6c6d6e6f"
    );
    assert_eq!((login.issued_at(), login.expires_at()), (NOW, NOW + 600));
    let bare = LoginChallenge::verify(keys.login_challenges(), &e["login-challenge.no-state"], NOW)
        .unwrap();
    assert_eq!(bare.request(), login_request("", &[]));
    assert_eq!(bare.expires_at(), NOW + 300);

    let secret = ClientSecret::parse(&e["client-secret"]).unwrap();
    let stored = SecretVerifier::from_bytes(
        &(0..e["client-secret.verifier"].len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&e["client-secret.verifier"][i..i + 2], 16).unwrap())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    stored
        .verify(keys.client_secrets(), &g.client_id, &secret)
        .unwrap();
}

#[test]
fn format_md_mirrors_every_vector() {
    let format = include_str!("../FORMAT.md");
    for (name, value) in expected() {
        assert!(format.contains(&value), "FORMAT.md lacks vector {name}");
    }
}

#[test]
fn token_lengths_stay_short() {
    let e = expected();
    // An access token with a 32-byte subject and three scopes (the yardstick).
    assert_eq!(SUBJECT_32.len(), 32);
    assert_eq!(e["access-token.sized"].len(), 185);
    assert!(
        e["access-token.audience"].len() < 240,
        "{}",
        e["access-token.audience"].len()
    );
    assert!(e["access-token"].len() < 200);
    assert_eq!(e["login-challenge"].len(), 233);
}

#[test]
fn a_typical_login_challenge_is_under_300_characters() {
    // A 40-character https redirect URI, one scope, a 43-character state (32 random bytes in
    // base64url, what most client libraries send) and one audience.
    let uri = "https://photos.example.com/oauth/callback";
    let state = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    assert_eq!((uri.len(), state.len()), (41, 43));
    let request = LoginRequest {
        redirect_uri: &uri[..40],
        scope: Scope::parse("photos.read").unwrap(),
        state: State::parse(state).unwrap(),
        ..login_request("", &[LOGIN_AUDIENCE])
    };
    let keys = keyring(&[1], 1);
    let login =
        LoginChallenge::mint(keys.login_challenges(), &request, 600, NOW, &mut StepRng(0)).unwrap();
    assert_eq!(login.expose().len(), 293);
}

#[test]
fn documented_length_bounds() {
    // FORMAT.md §4 lists these; a layout change must update the document.
    assert_eq!(
        (AuthorizationCode::MIN_LEN, AuthorizationCode::MAX_LEN),
        (185, 525)
    );
    assert_eq!((AccessToken::MIN_LEN, AccessToken::MAX_LEN), (121, 461));
    assert_eq!((RefreshToken::MIN_LEN, RefreshToken::MAX_LEN), (125, 465));
    assert_eq!(
        (LoginChallenge::MIN_LEN, LoginChallenge::MAX_LEN),
        (145, 1765)
    );
}

#[test]
fn the_audience_vector_is_for_its_client_and_audiences_only() {
    let keys = keyring(&[1], 1);
    let token = &expected()["access-token.audience"];
    for me in [
        "00112233445566778899aabbccddeeff",
        "ffeeddccbbaa99887766554433221100",
        "0123456789abcdef0123456789abcdef",
    ] {
        let claims =
            AccessToken::verify_for(keys.access_tokens(), token, &client(me), NOW).unwrap();
        assert_eq!(claims.grant().subject.as_str(), SUBJECT_32);
    }
    let stranger = client("00000000000000000000000000000001");
    assert_eq!(
        AccessToken::verify_for(keys.access_tokens(), token, &stranger, NOW),
        Err(Error::WrongAudience)
    );
    // The audience check comes after verification: an expired token stays expired.
    assert_eq!(
        AccessToken::verify_for(keys.access_tokens(), token, &stranger, NOW + 300),
        Err(Error::Expired)
    );
}

#[test]
fn the_provisioning_vector_decodes_to_keys_1_and_2() {
    let hex = &expected()["provisioning"];
    let blob: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let keys = Provisioning::decode(&blob).unwrap();
    assert_eq!(keys.key_ids().map(|k| k.get()).collect::<Vec<_>>(), [1, 2]);
    let claims = AccessToken::verify(&keys, &expected()["access-token"], NOW).unwrap();
    assert_eq!(claims.grant().subject.as_str(), "alice");
}
