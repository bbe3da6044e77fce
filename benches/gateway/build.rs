//! Runs on the host before the firmware is compiled:
//!
//! - puts memory.x where cortex-m-rt's link.x looks for it;
//! - writes the gateway's provisioning blob (core FORMAT.md §7, `gateway.keys`): the
//!   access-token sub-keys of master keys 1 and 2, made by the core's own encoder;
//! - writes the token table (`cases.rs`): FORMAT.md §6's vectors, read from
//!   core/tests/data/vectors.txt, plus tokens the core mints here for each way a token can be
//!   wrong, each with the verdict the gateway must reach.
//!
//! Everything is deterministic (fixed keys, a counter as the "RNG", a fixed `now`), so every build
//! bakes in the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use tessera_core::{
    AccessClaims, AccessToken, Audience, Error, Grant, GrantId, KeyId, Keyring, Provisioning,
    Purpose, Scope, Subject,
};
// FORMAT.md §6's fixtures: master key 1 = `00 01 … 1f` (2 and 3 follow), the counting "RNG",
// the vectors' client and `now`.
use tessera_testkit::vector::{CLIENT, NOW as VECTOR_NOW, StepRng, client, master};

/// The gateway verifies 100 s after FORMAT.md §6's `now` (`NOW` in the generated table).
const GATEWAY_NOW: u64 = VECTOR_NOW + 100;
/// The gateway's own client id: the first audience of FORMAT.md §6's audience vector.
const GATEWAY: &str = "ffeeddccbbaa99887766554433221100";
/// Another resource server.
const OTHER_SERVER: &str = "0123456789abcdef0123456789abcdef";

fn grant(client_id: &str, subject: &str, scope: &str, audience: &[&str]) -> Grant {
    Grant {
        client_id: client(client_id),
        subject: Subject::parse(subject).unwrap(),
        scope: Scope::parse(scope).unwrap(),
        audience: Audience::from_slice(&audience.iter().map(|a| client(a)).collect::<Vec<_>>())
            .unwrap(),
    }
}

/// Mints an access token under master key `key` (the server's keyring holds keys 1–3).
fn mint(key: u16, grant: &Grant, lifetime: u32, issued_at: u64, seed: u8) -> String {
    let keyring = Keyring::new(&[master(1), master(2), master(3)], KeyId::new(key)).unwrap();
    AccessToken::mint(
        keyring.access_tokens(),
        grant,
        &GrantId::from_bytes([seed; 16]),
        lifetime,
        issued_at,
        &mut StepRng(seed),
    )
    .unwrap()
    .expose()
    .to_owned()
}

/// Replaces the base64url character at `at` with another one.
fn tamper(token: &str, at: usize) -> String {
    let mut bytes = token.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

fn vectors(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (k, v) = l.split_once(" = ").unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// One row of the generated table. `want` is the verdict written here by hand: `Ok(key id)` or
/// the error. The host's own verification must agree (else the build fails), and the firmware
/// must reach the same verdict and, for an accepted token, read the same claims.
fn case(
    out: &mut String,
    name: &str,
    token: &str,
    want: Result<u16, Error>,
    host: Result<AccessClaims, Error>,
) {
    let expect = match (want, host) {
        (Ok(key_id), Ok(c)) if c.key_id().get() == key_id => format!(
            "Expect::Accept {{ key_id: {key_id}, subject: {:?}, scope: {:?}, issued_at: {}, expires_at: {}, audience: {} }}",
            c.grant().subject.as_str(),
            c.grant().scope.as_str(),
            c.issued_at(),
            c.expires_at(),
            c.grant().audience.len(),
        ),
        (Err(e), Err(h)) if e == h => format!("Expect::Reject(Error::{e:?})"),
        (want, host) => panic!("{name}: the table says {want:?}, the host's core says {host:?}"),
    };
    writeln!(
        out,
        "    Case {{ name: {name:?}, token: {token:?}, expect: {expect} }},"
    )
    .unwrap();
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    let vectors_path = manifest.join("../../core/tests/data/vectors.txt");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed={}", vectors_path.display());
    std::fs::write(out.join("memory.x"), include_bytes!("memory.x")).unwrap();

    // The gateway holds the access-token sub-keys of key 1 (rotated out of minting but still
    // listed) and key 2 (the server's active key). Key 3 exists only on the server.
    let blob = Provisioning::encode(&[
        master(1).derive(Purpose::AccessToken),
        master(2).derive(Purpose::AccessToken),
    ])
    .unwrap();
    std::fs::write(out.join("gateway.keys"), blob.expose()).unwrap();

    // The verdicts the host expects, from exactly the key set the gateway will hold.
    let keys = Provisioning::decode(blob.expose()).unwrap();
    let me = client(GATEWAY);
    let expect = |token: &str| AccessToken::verify_for(&keys, token, &me, GATEWAY_NOW);

    let v = vectors(&vectors_path);
    let for_me = grant(CLIENT, "bob", "read write", &[GATEWAY]);
    let valid = mint(2, &for_me, 3600, VECTOR_NOW, 0x60);
    let shortest = mint(2, &grant(GATEWAY, "a", "", &[]), 3600, VECTOR_NOW, 0x70);
    assert_eq!(shortest.len(), AccessToken::MIN_LEN);
    let tag_at = valid.len() - 10;
    let body_at = 7 + 40;

    let mut table = String::from(
        "// @generated by build.rs from core/tests/data/vectors.txt and the core's own minting.\n\
         /// Every token the gateway checks, with the verdict it must reach.\n\
         pub const CASES: &[Case] = &[\n",
    );
    let mut header = String::new();
    writeln!(
        header,
        "/// This gateway's client id ({GATEWAY}): a token is for it if it names it as its \
         client or in its audience.\n\
         pub const GATEWAY: tessera_core::ClientId = tessera_core::ClientId::from_bytes({:?});",
        client(GATEWAY).as_bytes()
    )
    .unwrap();
    writeln!(
        header,
        "/// The fixed \"now\" of every check: FORMAT.md §6's `now` + 100 s.\n\
         pub const NOW: u64 = {GATEWAY_NOW};"
    )
    .unwrap();
    table.insert_str(0, &header);
    let mut row = |name: &str, token: &str, want: Result<u16, Error>| {
        case(&mut table, name, token, want, expect(token));
    };
    row(
        "§6 access token, two audiences (one is this gateway)",
        &v["access-token.audience"],
        Ok(1),
    );
    row(
        "§6 access token, issued to another client, no audience",
        &v["access-token"],
        Err(Error::WrongAudience),
    );
    row(
        "§6 access token, 32-byte subject, no audience",
        &v["access-token.sized"],
        Err(Error::WrongAudience),
    );
    row(
        "§6 refresh token (wrong kind)",
        &v["refresh-token"],
        Err(Error::WrongTokenKind),
    );
    row(
        "§6 authorization code (wrong kind)",
        &v["authorization-code"],
        Err(Error::WrongTokenKind),
    );
    row("valid, key 2 (active)", &valid, Ok(2));
    row(
        "valid, key 1 (rotated out of minting, still listed)",
        &mint(1, &for_me, 3600, VECTOR_NOW, 0x61),
        Ok(1),
    );
    row(
        "shortest access token, issued to this gateway",
        &shortest,
        Ok(2),
    );
    row(
        "expired (exp = now - 100)",
        &mint(2, &for_me, 3600, VECTOR_NOW - 3600, 0x62),
        Err(Error::Expired),
    );
    row(
        "not yet valid (iat = now + 100)",
        &mint(2, &for_me, 3600, VECTOR_NOW + 200, 0x63),
        Err(Error::NotYetValid),
    );
    row(
        "tampered body (one character)",
        &tamper(&valid, body_at),
        Err(Error::BadSignature),
    );
    row(
        "tampered tag (one character)",
        &tamper(&valid, tag_at),
        Err(Error::BadSignature),
    );
    row(
        "truncated (last character cut)",
        &valid[..valid.len() - 1],
        Err(Error::MalformedToken),
    );
    row(
        "unknown key id 3",
        &mint(3, &for_me, 3600, VECTOR_NOW, 0x64),
        Err(Error::UnknownKey),
    );
    row(
        "wrong audience (another resource server)",
        &mint(
            2,
            &grant(CLIENT, "bob", "read", &[OTHER_SERVER]),
            3600,
            VECTOR_NOW,
            0x65,
        ),
        Err(Error::WrongAudience),
    );
    table.push_str("];\n");
    // The token the firmware counts instructions on, and the forgery it compares it with.
    writeln!(table, "/// FORMAT.md §6's access token (153 characters).").unwrap();
    writeln!(table, "pub const MEASURED: &str = {:?};", v["access-token"]).unwrap();
    writeln!(
        table,
        "/// The shortest access token ({} characters).",
        shortest.len()
    )
    .unwrap();
    writeln!(table, "pub const SHORTEST: &str = {shortest:?};").unwrap();
    std::fs::write(out.join("cases.rs"), table).unwrap();
}
