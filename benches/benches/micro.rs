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

use core::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand_chacha::ChaCha12Rng;
use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tessera_core::encoding::base64url_decode;
use tessera_core::{
    AccessToken, AuthorizationCode, ClientId, ClientSecret, CodeChallenge, CodeVerifier, Grant,
    GrantId, KeyId, Keyring, MasterKey, Purpose, RefreshToken, Scope, SecretVerifier, Subject,
};
use tessera_testkit::pkce::VERIFIER;

const NOW: u64 = 1_767_225_600;
const URI: &str = "https://app.example/callback";
/// The 32-byte subject and three scopes of the size yardstick in FORMAT.md §6.
const SUBJECT: &str = "user-7f3a9c2e-41d6-4b8f-a0e5-19c";
const SCOPE: &str = "read write admin";

struct Fixture {
    master: MasterKey,
    keyring: Keyring,
    grant: Grant,
    grant_id: GrantId,
}

fn fixture() -> Fixture {
    let mut rng = ChaCha12Rng::seed_from_u64(7);
    let master = MasterKey::generate(KeyId::new(1), &mut rng);
    let keyring = Keyring::new(core::slice::from_ref(&master), KeyId::new(1)).unwrap();
    let grant = Grant {
        client_id: ClientId::generate(&mut rng),
        subject: Subject::parse(SUBJECT).unwrap(),
        scope: Scope::parse(SCOPE).unwrap(),
        audience: Default::default(),
    };
    Fixture {
        master,
        keyring,
        grant,
        grant_id: GrantId::generate(&mut rng),
    }
}

/// The pre-keyed HMAC a token of `purpose` is signed with.
fn floor_mac(f: &Fixture, purpose: Purpose) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(f.master.derive(purpose).expose_bytes()).unwrap()
}

/// The bytes a token's tag covers: everything but the last 22 characters (FORMAT.md §2).
fn signed_part(token: &str) -> &[u8] {
    &token.as_bytes()[..token.len() - 22]
}

fn hmac_floor(mac: &Hmac<Sha256>, signed: &[u8]) -> [u8; 32] {
    mac.clone()
        .chain_update(signed)
        .finalize()
        .into_bytes()
        .into()
}

/// Claims equivalent to a Tessera access token's, as a JWT would carry them.
#[derive(Clone, Serialize, Deserialize)]
struct JwtClaims {
    sub: String,
    client_id: String,
    scope: String,
    iat: u64,
    exp: u64,
    jti: String,
    gid: String,
    /// A code's bound redirect URI and PKCE challenge.
    #[serde(skip_serializing_if = "Option::is_none")]
    redirect_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code_challenge: Option<String>,
    /// A refresh token's generation.
    #[serde(skip_serializing_if = "Option::is_none")]
    generation: Option<u32>,
}

/// jsonwebtoken checks `exp` against the system clock, so its claims are dated from today.
fn jwt_claims(f: &Fixture) -> JwtClaims {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    JwtClaims {
        sub: SUBJECT.into(),
        client_id: f.grant.client_id.to_string(),
        scope: SCOPE.into(),
        iat: now,
        exp: now + 3600,
        jti: "00112233445566778899aabbccddeeff".into(),
        gid: f.grant_id.to_string(),
        redirect_uri: None,
        code_challenge: None,
        generation: None,
    }
}

/// The `jsonwebtoken` HS256 baseline for one kind: its claims, keys and an encoded token.
struct Jwt {
    claims: JwtClaims,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    text: String,
}

impl Jwt {
    fn new(f: &Fixture, purpose: Purpose, claims: JwtClaims) -> Self {
        let key = f.master.derive(purpose);
        let encoding = EncodingKey::from_secret(key.expose_bytes());
        let decoding = DecodingKey::from_secret(key.expose_bytes());
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let text =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &encoding).unwrap();
        Self {
            claims,
            encoding,
            decoding,
            validation,
            text,
        }
    }

    fn encode(&self) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            black_box(&self.claims),
            &self.encoding,
        )
        .unwrap()
    }

    /// Decode, signature check and `exp` validation.
    fn decode(&self) -> u64 {
        jsonwebtoken::decode::<JwtClaims>(black_box(&self.text), &self.decoding, &self.validation)
            .unwrap()
            .claims
            .exp
    }
}

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
