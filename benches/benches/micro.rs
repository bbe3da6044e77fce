//! Core micro-benchmarks. Every group holds Tessera's operation and its baselines, so each
//! result reads as a ratio measured in the same run:
//! - `hmac_floor`: a pre-keyed HMAC-SHA256 over exactly the bytes the token signs;
//! - `jsonwebtoken`: HS256 encode, or decode + validate, of equivalent claims.
//!
//! Run: `cargo bench -p tessera-benches --bench micro`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark harness"
)]

mod fixture;

use core::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use fixture::*;
use hmac::Hmac;
use rand_chacha::ChaCha12Rng;
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};
use tessera_core::encoding::base64url_decode;
use tessera_core::{
    AccessToken, AuthorizationCode, ClientSecret, CodeChallenge, CodeVerifier, Purpose,
    RefreshToken, SecretVerifier,
};
use tessera_testkit::pkce::VERIFIER;

fn access_token(c: &mut Criterion) {
    let f = fixture();
    let keys = f.keyring.access_tokens();
    let mut rng = ChaCha12Rng::seed_from_u64(1);
    let token = AccessToken::mint(keys, &f.grant, &f.grant_id, 3600, NOW, &mut rng).unwrap();
    token_groups(
        c,
        "access_token",
        token.expose(),
        &floor_mac(&f, Purpose::AccessToken),
        &Jwt::new(&f, Purpose::AccessToken, jwt_claims(&f)),
        |text| drop(AccessToken::verify(keys, text, NOW + 1).unwrap()),
        || {
            drop(black_box(
                AccessToken::mint(keys, &f.grant, &f.grant_id, 3600, NOW, &mut rng).unwrap(),
            ))
        },
    );

    // Decoding alone, to show its share of a verify (BENCHMARKS.md).
    let text = token.expose();
    let mut g = c.benchmark_group("access_token/verify");
    g.bench_function("base64url_decode_body", |b| {
        let mut out = [0u8; 512];
        b.iter(|| {
            base64url_decode(black_box(&text.as_bytes()[7..]), &mut out)
                .unwrap()
                .len()
        })
    });
    g.finish();
}

/// The verify and mint groups of a token kind, each with its baselines: the HMAC floor over
/// the token's signed bytes, and `jsonwebtoken` HS256 with equivalent claims.
fn token_groups<V, M>(
    c: &mut Criterion,
    kind: &str,
    text: &str,
    mac: &Hmac<Sha256>,
    jwt: &Jwt,
    verify: V,
    mut mint: M,
) where
    V: Fn(&str),
    M: FnMut(),
{
    let mut g = c.benchmark_group(format!("{kind}/verify"));
    g.bench_function("tessera", |b| b.iter(|| verify(black_box(text))));
    g.bench_function("hmac_floor", |b| {
        b.iter(|| hmac_floor(mac, black_box(signed_part(text))))
    });
    g.bench_function("jsonwebtoken", |b| b.iter(|| jwt.decode()));
    g.finish();

    let mut g = c.benchmark_group(format!("{kind}/mint"));
    g.bench_function("tessera", |b| b.iter(&mut mint));
    g.bench_function("hmac_floor", |b| {
        b.iter(|| hmac_floor(mac, black_box(signed_part(text))))
    });
    g.bench_function("jsonwebtoken", |b| b.iter(|| jwt.encode()));
    g.finish();
}

fn authorization_code(c: &mut Criterion) {
    let f = fixture();
    let keys = f.keyring.codes();
    let mut rng = ChaCha12Rng::seed_from_u64(2);
    let challenge = CodeChallenge::s256(&CodeVerifier::parse(VERIFIER).unwrap());
    let code =
        AuthorizationCode::mint(keys, &f.grant, URI, &challenge, 600, NOW, &mut rng).unwrap();
    token_groups(
        c,
        "authorization_code",
        code.expose(),
        &floor_mac(&f, Purpose::AuthorizationCode),
        &Jwt::new(
            &f,
            Purpose::AuthorizationCode,
            JwtClaims {
                redirect_uri: Some(URI.into()),
                code_challenge: Some(challenge.encode(&mut [0; 43]).into()),
                ..jwt_claims(&f)
            },
        ),
        |text| drop(AuthorizationCode::verify(keys, text, NOW + 1).unwrap()),
        || {
            drop(black_box(
                AuthorizationCode::mint(keys, &f.grant, URI, &challenge, 600, NOW, &mut rng)
                    .unwrap(),
            ))
        },
    );
}

fn refresh_token(c: &mut Criterion) {
    let f = fixture();
    let keys = f.keyring.refresh_tokens();
    let mut rng = ChaCha12Rng::seed_from_u64(3);
    let token = RefreshToken::mint(keys, &f.grant, &f.grant_id, 0, 86_400, NOW, &mut rng).unwrap();
    token_groups(
        c,
        "refresh_token",
        token.expose(),
        &floor_mac(&f, Purpose::RefreshToken),
        &Jwt::new(
            &f,
            Purpose::RefreshToken,
            JwtClaims {
                generation: Some(0),
                ..jwt_claims(&f)
            },
        ),
        |text| drop(RefreshToken::verify(keys, text, NOW + 1).unwrap()),
        || {
            drop(black_box(
                RefreshToken::mint(keys, &f.grant, &f.grant_id, 1, 86_400, NOW, &mut rng).unwrap(),
            ))
        },
    );
}

fn client_secret_and_pkce(c: &mut Criterion) {
    let f = fixture();
    let keys = f.keyring.client_secrets();
    let mut rng = ChaCha12Rng::seed_from_u64(4);
    let secret = ClientSecret::generate(&mut rng);
    let text = secret.encode();
    let stored = SecretVerifier::new(keys, &f.grant.client_id, &secret).unwrap();
    let mac = floor_mac(&f, Purpose::ClientSecret);
    let mut signed = f.grant.client_id.as_bytes().to_vec();
    signed.extend_from_slice(&[0x5a; 32]);

    let mut g = c.benchmark_group("client_secret/generate");
    g.bench_function("tessera", |b| {
        b.iter(|| ClientSecret::generate(&mut rng).encode())
    });
    g.finish();

    let mut g = c.benchmark_group("client_secret/check");
    g.bench_function("tessera", |b| {
        b.iter(|| {
            let presented = ClientSecret::parse(black_box(text.expose())).unwrap();
            stored.verify(keys, &f.grant.client_id, &presented).unwrap()
        })
    });
    g.bench_function("hmac_floor", |b| {
        b.iter(|| hmac_floor(&mac, black_box(&signed)))
    });
    g.finish();

    let verifier = CodeVerifier::parse(VERIFIER).unwrap();
    let challenge = CodeChallenge::s256(&verifier);
    let mut g = c.benchmark_group("pkce_s256/verify");
    g.bench_function("tessera", |b| {
        b.iter(|| {
            let v = CodeVerifier::parse(black_box(VERIFIER)).unwrap();
            challenge.verify(&v).unwrap()
        })
    });
    g.bench_function("sha256_floor", |b| {
        b.iter(|| <[u8; 32]>::from(Sha256::digest(black_box(VERIFIER.as_bytes()))))
    });
    g.finish();
}

criterion_group!(
    benches,
    access_token,
    authorization_code,
    refresh_token,
    client_secret_and_pkce
);
criterion_main!(benches);
