//! One operation, repeated: what `benches/instructions/run` counts under valgrind's callgrind.
//! `instructions OP N` runs the fixture and then OP N times; the script runs it for two values
//! of N and divides the difference, so the set-up and the process's start cancel out and what
//! is left is the instructions of one OP, the same on every run of the same binary.
//!
//! Tessera's operations and their baselines over the same claims (micro.rs has the wall-clock
//! side): `hmac_floor` is a pre-keyed HMAC-SHA256 over exactly the bytes the access token signs,
//! `jwt_*` are jsonwebtoken HS256.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark harness"
)]

mod fixture;

use core::hint::black_box;

use fixture::*;
use rand_chacha::ChaCha12Rng;
use rand_core::SeedableRng;
use tessera_core::{AccessToken, AuthorizationCode, CodeChallenge, CodeVerifier, Purpose};
use tessera_testkit::pkce::VERIFIER;

/// Every operation the script counts, in its table's order.
const OPERATIONS: [&str; 9] = [
    "access_verify",
    "access_mint",
    "code_verify",
    "code_mint",
    "pkce_verify",
    "hmac_floor",
    "jwt_decode",
    "jwt_encode",
    "noop",
];

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(op), Some(n)) = (args.next(), args.next()) else {
        eprintln!("usage: instructions OP N   (OP: {})", OPERATIONS.join(", "));
        std::process::exit(2);
    };
    let n: u64 = n.parse().expect("N is a count");
    if op == "--list" {
        println!("{}", OPERATIONS.join("\n"));
        return;
    }
    let f = fixture();
    let access = f.keyring.access_tokens();
    let codes = f.keyring.codes();
    let mut rng = ChaCha12Rng::seed_from_u64(1);
    let token = AccessToken::mint(access, &f.grant, &f.grant_id, 3600, NOW, &mut rng).unwrap();
    let challenge = CodeChallenge::s256(&CodeVerifier::parse(VERIFIER).unwrap());
    let code =
        AuthorizationCode::mint(codes, &f.grant, URI, &challenge, 600, NOW, &mut rng).unwrap();
    let mac = floor_mac(&f, Purpose::AccessToken);
    let jwt = Jwt::new(&f, Purpose::AccessToken, jwt_claims(&f));
    let text = token.expose();
    let mut run: Box<dyn FnMut()> = match op.as_str() {
        "access_verify" => Box::new(|| {
            drop(black_box(
                AccessToken::verify(access, black_box(text), NOW + 1).unwrap(),
            ))
        }),
        "access_mint" => Box::new(|| {
            drop(black_box(
                AccessToken::mint(access, &f.grant, &f.grant_id, 3600, NOW, &mut rng).unwrap(),
            ))
        }),
        "code_verify" => Box::new(|| {
            drop(black_box(
                AuthorizationCode::verify(codes, black_box(code.expose()), NOW + 1).unwrap(),
            ))
        }),
        "code_mint" => Box::new(|| {
            drop(black_box(
                AuthorizationCode::mint(codes, &f.grant, URI, &challenge, 600, NOW, &mut rng)
                    .unwrap(),
            ))
        }),
        "pkce_verify" => Box::new(|| {
            let v = CodeVerifier::parse(black_box(VERIFIER)).unwrap();
            challenge.verify(&v).unwrap();
        }),
        "hmac_floor" => Box::new(|| {
            black_box(hmac_floor(&mac, black_box(signed_part(text))));
        }),
        "jwt_decode" => Box::new(|| {
            black_box(jwt.decode());
        }),
        "jwt_encode" => Box::new(|| drop(black_box(jwt.encode()))),
        "noop" => Box::new(|| black_box(())),
        other => {
            eprintln!(
                "unknown operation {other}: one of {}",
                OPERATIONS.join(", ")
            );
            std::process::exit(2);
        }
    };
    for _ in 0..n {
        run();
    }
}
