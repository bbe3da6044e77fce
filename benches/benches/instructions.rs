//! One operation, repeated: what `benches/instructions/run` counts under valgrind's callgrind.
//! `instructions OP N` runs the fixture and then OP N times; the script runs it for two values
//! of N and divides the difference, so the set-up and the process's start cancel out and what
//! is left is the instructions of one OP, the same on every run of the same binary.
//!
//! The operations are the fixture module's (`Setup::groups`, shared with `micro` and
//! `wallclock`): Tessera's, and the baselines over the same claims: `hmac_floor` (a pre-keyed
//! HMAC-SHA256 over exactly the bytes the access token signs), `jwt_*` (jsonwebtoken HS256),
//! `paseto_*` (pasetors v4.local), `oxide_*` (oxide-auth's HMAC `Assertion` signer).
//! `instructions --list 0` prints each operation and the Tessera operation it is compared with.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark harness"
)]

mod fixture;

use core::hint::black_box;

use fixture::Setup;

/// Every operation the script counts, in its table's order: its name, and the group and
/// operation of the fixture it runs (`None` for `noop`, the loop alone).
const OPERATIONS: [(&str, Option<(&str, &str)>); 13] = [
    ("access_verify", Some(("access_token/verify", "tessera"))),
    ("access_mint", Some(("access_token/mint", "tessera"))),
    (
        "code_verify",
        Some(("authorization_code/verify", "tessera")),
    ),
    ("code_mint", Some(("authorization_code/mint", "tessera"))),
    ("pkce_verify", Some(("pkce_s256/verify", "tessera"))),
    ("hmac_floor", Some(("access_token/verify", "hmac_floor"))),
    ("jwt_decode", Some(("access_token/verify", "jsonwebtoken"))),
    ("jwt_encode", Some(("access_token/mint", "jsonwebtoken"))),
    ("paseto_decrypt", Some(("access_token/verify", "pasetors"))),
    ("paseto_encrypt", Some(("access_token/mint", "pasetors"))),
    ("oxide_verify", Some(("access_token/verify", "oxide_auth"))),
    ("oxide_sign", Some(("access_token/mint", "oxide_auth"))),
    ("noop", None),
];

/// The operation counted as Tessera's in `group`.
fn tessera_op(group: &str) -> Option<&'static str> {
    OPERATIONS
        .iter()
        .find(|(_, of)| *of == Some((group, "tessera")))
        .map(|(name, _)| *name)
}

fn main() {
    let names = || OPERATIONS.iter().map(|(name, _)| *name);
    let mut args = std::env::args().skip(1);
    let (Some(op), Some(n)) = (args.next(), args.next()) else {
        let names: Vec<_> = names().collect();
        eprintln!("usage: instructions OP N   (OP: {})", names.join(", "));
        std::process::exit(2);
    };
    let n: u64 = n.parse().expect("N is a count");
    if op == "--list" {
        // One line per operation: its name, then the Tessera operation it is a baseline of.
        for (name, of) in OPERATIONS {
            match of.and_then(|(group, side)| (side != "tessera").then(|| tessera_op(group))) {
                Some(Some(vs)) => println!("{name} {vs}"),
                _ => println!("{name}"),
            }
        }
        return;
    }
    let Some((_, of)) = OPERATIONS.iter().find(|(name, _)| *name == op) else {
        let names: Vec<_> = names().collect();
        eprintln!("unknown operation {op}: one of {}", names.join(", "));
        std::process::exit(2);
    };
    let setup = Setup::new();
    let mut run = match of {
        None => fixture::Op::noop(),
        Some((group, side)) => {
            let group = setup
                .groups()
                .into_iter()
                .find(|g| g.name == *group)
                .expect("a group of the fixture");
            core::iter::once(group.tessera)
                .chain(group.baselines)
                .find(|o| o.name == *side)
                .expect("an operation of the group")
        }
    };
    for _ in 0..n {
        run.run();
    }
    black_box(());
}
