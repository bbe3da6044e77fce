//! What each fuzz target asserts, one `pub fn(&[u8])` per target (issue 4).
//!
//! One copy, in the test kit: the `tessera-fuzz` crate's `fuzz_targets/` call these functions,
//! and `core/tests/fuzz_corpus.rs` replays the committed corpora through them on stable Rust. A
//! check fails by panicking, which is what libFuzzer and the test harness both report; it never
//! returns an error.
//!
//! The fixed keys and inputs are FORMAT.md §6's: master key 1 is the bytes `00 01 … 1f`, and the
//! vectors of `core/tests/data/vectors.txt` are the only tokens that may ever verify, so they are
//! also the seeds that carry the fuzzer past the MAC.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::OnceLock;

use base64ct::{Base64, Base64UrlUnpadded, Encoding as _};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tessera_core::encoding::{
    base64_decode, base64_encode, base64url_decode, base64url_encode, base64url_len,
};
use tessera_core::{
    AccessToken, Audience, AuthorizationCode, ChallengeMethod, ClientId, ClientSecret,
    CodeChallenge, CodeVerifier, Error, ErrorKind, Grant, GrantId, KeyId, KeySet, Keyring,
    LoginChallenge, MAX_AUDIENCE, MAX_LOGIN_LIFETIME, MAX_SCOPE_LEN, MAX_SCOPE_TOKENS,
    MAX_SUBJECT_LEN, MAX_VERIFIER_LEN, MIN_VERIFIER_LEN, RefreshToken, Scope, SecretVerifier,
    State, Subject, VERIFIER_LEN, validate_redirect_uri,
};

use crate::pkce;
use crate::vector::{self, CLIENT};

/// A target's property: panics if `data` breaks it.
pub type Check = fn(&[u8]);

/// Every target: the name of its `fuzz_targets/` file and `corpus/` directory, and its check.
pub const TARGETS: [(&str, Check); 9] = [
    ("access_token", access_token),
    ("authorization_code", authorization_code),
    ("refresh_token", refresh_token),
    ("login_challenge", login_challenge),
    ("client_secret", client_secret),
    ("pkce", pkce),
    ("scope", scope),
    ("base64", base64),
    ("roundtrip", roundtrip),
];

/// Targets whose checks need more than the core, and the test that replays their corpus.
pub const REPLAYED_ELSEWHERE: [(&str, &str); 1] =
    [("service_request", "service/tests/fuzz_corpus.rs")];

/// The `now` of the FORMAT.md §6 vectors; tokens are checked a second later.
pub use crate::vector::NOW;

/// The FORMAT.md §6 vectors, `name = value` per line.
const VECTORS: &str = include_str!("../../../../core/tests/data/vectors.txt");

/// The vectors named `name` or `name.<variant>`.
fn vectors(name: &str) -> impl Iterator<Item = &'static str> {
    VECTORS.lines().filter_map(move |line| {
        let (key, value) = line.split_once(" = ")?;
        let variant = key.strip_prefix(name)?;
        (variant.is_empty() || variant.starts_with('.')).then_some(value)
    })
}

fn vector(name: &str) -> &'static str {
    VECTORS
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(" = "))
        .unwrap_or_else(|| panic!("vectors.txt has no {name}"))
}

/// The vectors' keyring: master key 1 = `00 01 … 1f`, active.
pub fn keyring() -> &'static Keyring {
    static KEYRING: OnceLock<Keyring> = OnceLock::new();
    KEYRING.get_or_init(|| vector::keyring(&[1], 1))
}

/// Fuzz input as text. Lossy, so that every input reaches the parser, not only valid UTF-8.
fn text(data: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// A verification failure must look like every other one: an invalid token, `invalid_grant`.
fn assert_invalid_token(e: Error) {
    assert!(e.is_invalid_token(), "{e:?} is not an invalid-token error");
    assert_eq!(e.kind(), ErrorKind::InvalidGrant, "{e:?}");
    assert!(!e.to_string().is_empty());
}

/// The three token kinds, behind one interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Code,
    Access,
    Refresh,
}

/// What a verified token says, reduced to what every kind carries.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    key_id: KeyId,
    grant: Grant,
    issued_at: u64,
    expires_at: u64,
}

impl Kind {
    const ALL: [Self; 3] = [Self::Code, Self::Access, Self::Refresh];

    fn keys(self, keyring: &Keyring) -> &KeySet {
        match self {
            Self::Code => keyring.codes(),
            Self::Access => keyring.access_tokens(),
            Self::Refresh => keyring.refresh_tokens(),
        }
    }

    /// The vectors of this kind: the only texts that may verify.
    fn vectors(self) -> impl Iterator<Item = &'static str> {
        vectors(match self {
            Self::Code => "authorization-code",
            Self::Access => "access-token",
            Self::Refresh => "refresh-token",
        })
    }

    fn verify(self, keys: &KeySet, text: &str, now: u64) -> Result<Seen, Error> {
        match self {
            Self::Code => AuthorizationCode::verify(keys, text, now).map(|c| Seen {
                key_id: c.key_id(),
                grant: c.grant().clone(),
                issued_at: c.issued_at(),
                expires_at: c.expires_at(),
            }),
            Self::Access => AccessToken::verify(keys, text, now).map(|c| Seen {
                key_id: c.key_id(),
                grant: c.grant().clone(),
                issued_at: c.issued_at(),
                expires_at: c.expires_at(),
            }),
            Self::Refresh => RefreshToken::verify(keys, text, now).map(|c| Seen {
                key_id: c.key_id(),
                grant: c.grant().clone(),
                issued_at: c.issued_at(),
                expires_at: c.expires_at(),
            }),
        }
    }
}

/// Arbitrary text never verifies as a token of `kind` unless it is one of the vectors, and
/// every failure is an invalid token; no other kind's key set accepts it either.
fn token(kind: Kind, data: &[u8]) {
    let text = text(data);
    let keyring = keyring();
    match kind.verify(kind.keys(keyring), &text, NOW + 1) {
        Ok(seen) => {
            assert!(
                kind.vectors().any(|v| v == text),
                "{kind:?}: a text that was never minted verifies: {text:?}"
            );
            assert_eq!(seen.key_id, KeyId::new(1));
            assert!(seen.issued_at <= NOW + 1 && NOW + 1 < seen.expires_at);
        }
        Err(e) => assert_invalid_token(e),
    }
    for other in Kind::ALL.into_iter().filter(|&k| k != kind) {
        let result = kind.verify(other.keys(keyring), &text, NOW + 1);
        assert!(result.is_err(), "{kind:?} verifies with the {other:?} keys");
    }
}

/// `access_token`: [`AccessToken::verify`] on arbitrary text.
pub fn access_token(data: &[u8]) {
    token(Kind::Access, data);
}

/// `authorization_code`: [`AuthorizationCode::verify`] on arbitrary text.
pub fn authorization_code(data: &[u8]) {
    token(Kind::Code, data);
}

/// `refresh_token`: [`RefreshToken::verify`] on arbitrary text.
pub fn refresh_token(data: &[u8]) {
    token(Kind::Refresh, data);
}

/// `login_challenge`: [`LoginChallenge::verify`] on arbitrary text accepts only the FORMAT.md §6
/// login challenge vectors, and what it returns is a request the core would mint; every failure
/// is an invalid token. A challenge passes no other kind's verifier, and no other kind's key set
/// verifies challenges.
pub fn login_challenge(data: &[u8]) {
    let text = text(data);
    let keyring = keyring();
    let verified = match LoginChallenge::verify(keyring.login_challenges(), &text, NOW + 1) {
        Ok(claims) => {
            assert!(
                vectors("login-challenge").any(|v| v == text),
                "a login challenge that was never minted verifies: {text:?}"
            );
            assert_eq!(claims.key_id(), KeyId::new(1));
            assert!(claims.issued_at() <= NOW + 1 && NOW + 1 < claims.expires_at());
            assert!(claims.expires_at() - claims.issued_at() <= u64::from(MAX_LOGIN_LIFETIME));
            assert_eq!(validate_redirect_uri(claims.redirect_uri()), Ok(()));
            assert_eq!(
                State::parse(claims.state()).unwrap().as_str(),
                claims.state()
            );
            assert_eq!(
                Scope::parse(claims.scope().as_str()).as_ref(),
                Ok(claims.scope())
            );
            // The request it carries mints again, to a challenge of the same request.
            let mut rng = ChaCha20Rng::seed_from_u64(0);
            let keys = keyring.login_challenges();
            let again = LoginChallenge::mint(keys, &claims.request(), 60, NOW, &mut rng).unwrap();
            let again = LoginChallenge::verify(keys, again.expose(), NOW).unwrap();
            assert_eq!(again.request(), claims.request());
            assert_ne!(again.request_id(), claims.request_id());
            true
        }
        Err(e) => {
            assert_invalid_token(e);
            false
        }
    };
    for kind in Kind::ALL {
        let keys = kind.keys(keyring);
        let e = LoginChallenge::verify(keys, &text, NOW + 1).unwrap_err();
        assert!(
            e.is_invalid_token() || e == Error::WrongKeyPurpose,
            "{kind:?} keys: {e:?}"
        );
        if verified {
            let e = kind.verify(keys, &text, NOW + 1).unwrap_err();
            assert_eq!(e, Error::WrongTokenKind, "a login challenge as {kind:?}");
        }
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// `client_secret`: a parsed secret is canonical and verifies only if it is the vector's secret;
/// a stored verifier read from arbitrary bytes accepts the real secret only if it is the real one.
pub fn client_secret(data: &[u8]) {
    let text = text(data);
    let keys = keyring().client_secrets();
    let client = ClientId::parse(CLIENT).unwrap();
    let real_text = vector("client-secret");
    let real_verifier = hex(vector("client-secret.verifier"));
    let stored = SecretVerifier::from_bytes(&real_verifier).unwrap();

    match ClientSecret::parse(&text) {
        Ok(secret) => {
            assert_eq!(
                secret.encode().expose(),
                text,
                "a non-canonical secret parses"
            );
            let verdict = stored.verify(keys, &client, &secret);
            if text == real_text {
                assert_eq!(verdict, Ok(()));
            } else {
                assert_eq!(
                    verdict,
                    Err(Error::SecretMismatch),
                    "a guessed secret verifies"
                );
            }
        }
        Err(e) => {
            assert_eq!(e, Error::MalformedSecret);
            assert_eq!(e.kind(), ErrorKind::InvalidClient);
            assert_ne!(text, real_text);
        }
    }

    match SecretVerifier::from_bytes(data) {
        Ok(verifier) => {
            assert_eq!(data.len(), VERIFIER_LEN);
            assert_eq!(verifier.to_bytes().as_slice(), data);
            let real = ClientSecret::parse(real_text).unwrap();
            match verifier.verify(keys, &client, &real) {
                Ok(()) => assert_eq!(data, real_verifier, "a forged verifier accepts the secret"),
                Err(e) => assert!(
                    matches!(e, Error::SecretMismatch | Error::UnknownKey),
                    "{e:?}"
                ),
            }
        }
        Err(e) => {
            assert_ne!(data.len(), VERIFIER_LEN);
            assert_eq!(e, Error::MalformedVerifier);
        }
    }
}

/// `pkce`: the verifier syntax is exactly RFC 7636 §4.1's; an arbitrary verifier never matches
/// the RFC's challenge; a parsed challenge is canonical; only `S256` is a method.
pub fn pkce(data: &[u8]) {
    let text = text(data);
    let fixed = CodeChallenge::parse(pkce::CHALLENGE).unwrap();

    let unreserved = |c: u8| c.is_ascii_alphanumeric() || b"-._~".contains(&c);
    let valid =
        (MIN_VERIFIER_LEN..=MAX_VERIFIER_LEN).contains(&text.len()) && text.bytes().all(unreserved);
    match CodeVerifier::parse(&text) {
        Ok(verifier) => {
            assert!(valid, "an invalid verifier parses: {text:?}");
            assert_eq!(verifier.expose(), text);
            let verdict = fixed.verify(&verifier);
            if text == pkce::VERIFIER {
                assert_eq!(verdict, Ok(()));
            } else {
                assert_eq!(
                    verdict,
                    Err(Error::PkceMismatch),
                    "a guessed verifier matches"
                );
            }
            assert_eq!(CodeChallenge::s256(&verifier).verify(&verifier), Ok(()));
        }
        Err(e) => {
            assert!(!valid, "a valid verifier is refused: {text:?}");
            assert_eq!(e, Error::InvalidCodeVerifier);
            assert_eq!(e.kind(), ErrorKind::InvalidRequest);
        }
    }

    let mut oracle = [0u8; 64];
    let oracle = Base64UrlUnpadded::decode(text.as_bytes(), &mut oracle).ok();
    match CodeChallenge::parse(&text) {
        Ok(challenge) => {
            assert_eq!(oracle, Some(challenge.as_bytes().as_slice()));
            let mut out = [0u8; 43];
            assert_eq!(
                challenge.encode(&mut out),
                text,
                "a non-canonical challenge parses"
            );
            let rfc = CodeVerifier::parse(pkce::VERIFIER).unwrap();
            assert_eq!(challenge.verify(&rfc).is_ok(), text == pkce::CHALLENGE);
        }
        Err(e) => {
            assert!(
                oracle.is_none_or(|b| b.len() != 32),
                "a challenge is refused: {text:?}"
            );
            assert_eq!(e, Error::InvalidCodeChallenge);
            assert_eq!(e.kind(), ErrorKind::InvalidRequest);
        }
    }

    match ChallengeMethod::parse(&text) {
        Ok(method) => assert_eq!((method, &*text), (ChallengeMethod::S256, "S256")),
        Err(e) => {
            assert_ne!(text, "S256");
            assert_eq!(e, Error::UnsupportedChallengeMethod);
        }
    }
}

/// RFC 6749 §3.3 `scope-token` characters.
fn is_scope_char(c: u8) -> bool {
    c == 0x21 || (0x23..=0x5b).contains(&c) || (0x5d..=0x7e).contains(&c)
}

/// An independent reading of the scope grammar and bounds, as the oracle for [`Scope::parse`].
fn scope_is_valid(text: &str) -> bool {
    if text.len() > MAX_SCOPE_LEN {
        return false;
    }
    if text.is_empty() {
        return true;
    }
    let tokens: Vec<&str> = text.split(' ').collect();
    let distinct: HashSet<&str> = tokens.iter().copied().collect();
    tokens.len() <= MAX_SCOPE_TOKENS
        && distinct.len() == tokens.len()
        && tokens
            .iter()
            .all(|t| !t.is_empty() && t.bytes().all(is_scope_char))
}

/// Checks one scope text against the oracle and, if it parses, every invariant of [`Scope`].
fn one_scope(text: &str) -> Option<Scope> {
    let valid = scope_is_valid(text);
    match Scope::parse(text) {
        Ok(scope) => {
            assert!(valid, "an invalid scope parses: {text:?}");
            assert_eq!(scope.as_str(), text);
            assert_eq!(scope.to_string(), text);
            let tokens: Vec<&str> = scope.iter().collect();
            assert_eq!(tokens.join(" "), text);
            assert!(tokens.len() <= MAX_SCOPE_TOKENS && text.len() <= MAX_SCOPE_LEN);
            assert_eq!(tokens.iter().collect::<HashSet<_>>().len(), tokens.len());
            assert!(tokens.iter().all(|t| scope.contains(t)));
            assert_eq!(scope.is_empty(), text.is_empty());
            assert!(scope.is_subset_of(&scope));
            assert_eq!(scope.check_within(&scope), Ok(()));
            assert!(Scope::empty().is_subset_of(&scope));
            assert_eq!(scope.is_subset_of(&Scope::empty()), scope.is_empty());
            Some(scope)
        }
        Err(e) => {
            assert!(!valid, "a valid scope is refused: {text:?}");
            assert_eq!(e, Error::InvalidScope);
            assert_eq!(e.kind(), ErrorKind::InvalidScope);
            None
        }
    }
}

/// `scope`: [`Scope::parse`] agrees with the grammar; a parsed scope round-trips, its tokens are
/// distinct and bounded, and `is_subset_of` is reflexive. Input with a newline is two scopes, and
/// `is_subset_of` between them agrees with set inclusion of their tokens.
pub fn scope(data: &[u8]) {
    let text = text(data);
    one_scope(&text);
    let Some((a, b)) = text.split_once('\n') else {
        return;
    };
    if let (Some(a), Some(b)) = (one_scope(a), one_scope(b)) {
        let of_b: HashSet<&str> = b.iter().collect();
        assert_eq!(a.is_subset_of(&b), a.iter().all(|t| of_b.contains(t)));
        assert_eq!(
            a.check_within(&b).is_ok(),
            a.is_subset_of(&b),
            "check_within disagrees with is_subset_of"
        );
    }
}

/// `base64`: arbitrary bytes decode (unpadded base64url and padded standard base64) exactly as
/// `base64ct` decodes them, only canonical text decodes, and a short buffer is an error.
pub fn base64(data: &[u8]) {
    let mut ours = vec![0u8; data.len()];
    let mut theirs = vec![0u8; data.len()];
    let decoded = base64url_decode(data, &mut ours);
    let oracle = Base64UrlUnpadded::decode(data, &mut theirs).ok();
    assert_eq!(decoded, oracle, "base64url disagrees with base64ct");
    if let Some(bytes) = decoded {
        assert_eq!(base64url_len(bytes.len()), data.len());
        let mut text = vec![0u8; data.len()];
        let encoded = base64url_encode(bytes, &mut text).map(str::as_bytes);
        assert_eq!(
            encoded,
            Some(data),
            "a non-canonical base64url text decodes"
        );
        if let Some(short) = bytes.len().checked_sub(1) {
            let mut out = vec![0u8; short];
            assert_eq!(base64url_decode(data, &mut out), None);
        }
    }

    let decoded = base64_decode(data, &mut ours);
    let oracle = Base64::decode(data, &mut theirs).ok();
    assert_eq!(decoded, oracle, "base64 disagrees with base64ct");
    if let Some(bytes) = decoded {
        let mut text = vec![0u8; data.len()];
        let encoded = base64_encode(bytes, &mut text).map(str::as_bytes);
        assert_eq!(encoded, Some(data), "a non-canonical base64 text decodes");
        if let Some(short) = bytes.len().checked_sub(1) {
            let mut out = vec![0u8; short];
            assert_eq!(base64_decode(data, &mut out), None);
        }
    }
}

/// Reads fuzz input as a stream of fields, like `arbitrary::Unstructured` but with no dependency,
/// so that the corpus replay on stable reads it identically. Past the end every byte is zero.
struct Fields<'a>(&'a [u8]);

impl Fields<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let (head, tail) = self.0.split_at(n.min(self.0.len()));
        self.0 = tail;
        head
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let head = self.take(N);
        out[..head.len()].copy_from_slice(head);
        out
    }

    fn byte(&mut self) -> u8 {
        self.array::<1>()[0]
    }

    fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.array())
    }

    fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.array())
    }

    /// `min..=max` characters of `alphabet`: the length from the next byte, then one byte each.
    fn text_over(&mut self, alphabet: &[u8], min: usize, max: usize) -> String {
        let len = min + usize::from(self.byte()) % (max - min + 1);
        (0..len)
            .map(|_| char::from(alphabet[usize::from(self.byte()) % alphabet.len()]))
            .collect()
    }
}

/// The claims of one `roundtrip` input, valid by construction.
#[derive(Debug)]
struct Claims {
    grant: Grant,
    grant_id: GrantId,
    generation: u32,
    issued_at: u64,
    lifetime: u32,
    offset: u32,
    redirect_uri: String,
    verifier: String,
    seed: u64,
    mutate_at: usize,
    mutate_to: u8,
}

impl Claims {
    /// Builds claims from fuzz input, or `None` if the subject comes out empty.
    fn read(data: &[u8]) -> Option<Self> {
        let mut f = Fields(data);
        let client_id = ClientId::from_bytes(f.array());

        // Any UTF-8 without control characters, cut to 64 bytes on a character boundary.
        let len = usize::from(f.byte()) % (MAX_SUBJECT_LEN + 1);
        let mut subject: String = text(f.take(len))
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        while subject.len() > MAX_SUBJECT_LEN {
            subject.pop();
        }
        let subject = Subject::parse(&subject).ok()?;

        // Distinct tokens over the RFC 6749 §3.3 characters, within the count and length bounds.
        let scope_chars: Vec<u8> = (0x21..=0x7e).filter(|&c| is_scope_char(c)).collect();
        let mut tokens: Vec<String> = Vec::new();
        for _ in 0..usize::from(f.byte()) % (MAX_SCOPE_TOKENS + 1) {
            let token = f.text_over(&scope_chars, 1, 16);
            let used: usize = tokens.iter().map(|t| t.len() + 1).sum();
            if !tokens.contains(&token) && used + token.len() <= MAX_SCOPE_LEN {
                tokens.push(token);
            }
        }
        let scope = tokens.join(" ");
        let scope = Scope::parse(&scope)
            .unwrap_or_else(|e| panic!("a valid scope is refused: {scope:?}: {e:?}"));

        let mut audience = Audience::new();
        for _ in 0..usize::from(f.byte()) % (MAX_AUDIENCE + 1) {
            audience.push(ClientId::from_bytes(f.array())).unwrap();
        }

        let unreserved: Vec<u8> = (0..=0x7f)
            .filter(|&c: &u8| c.is_ascii_alphanumeric() || b"-._~".contains(&c))
            .collect();
        Some(Self {
            grant: Grant {
                client_id,
                subject,
                scope,
                audience,
            },
            grant_id: GrantId::from_bytes(f.array()),
            generation: f.u32(),
            issued_at: f.u64(),
            lifetime: f.u32(),
            offset: f.u32(),
            redirect_uri: {
                let len = usize::from(f.byte());
                text(f.take(len)).into_owned()
            },
            verifier: f.text_over(&unreserved, MIN_VERIFIER_LEN, MAX_VERIFIER_LEN),
            seed: f.u64(),
            mutate_at: usize::from(u16::from_be_bytes(f.array())),
            mutate_to: f.byte(),
        })
    }
}

/// `roundtrip`: claims built from arbitrary input mint as every kind exactly when the lifetime
/// is allowed, verify to the same claims throughout their validity and not outside it, and a
/// one-byte change anywhere in the token never verifies.
pub fn roundtrip(data: &[u8]) {
    let Some(c) = Claims::read(data) else {
        return;
    };
    let keyring = keyring();
    let verifier = CodeVerifier::parse(&c.verifier).unwrap();
    let challenge = CodeChallenge::s256(&verifier);
    for kind in Kind::ALL {
        let mut rng = ChaCha20Rng::seed_from_u64(c.seed);
        let keys = kind.keys(keyring);
        // Codes live at most 600 s; fold the arbitrary lifetime so that both sides of it occur.
        let lifetime = match kind {
            Kind::Code => c.lifetime % 601,
            Kind::Access | Kind::Refresh => c.lifetime,
        };
        let (grant, grant_id, issued_at) = (&c.grant, &c.grant_id, c.issued_at);
        let minted = match kind {
            Kind::Code => AuthorizationCode::mint(
                keys,
                grant,
                &c.redirect_uri,
                &challenge,
                lifetime,
                issued_at,
                &mut rng,
            )
            .map(|t| {
                let lens = AuthorizationCode::MIN_LEN..=AuthorizationCode::MAX_LEN;
                (t.expose().to_owned(), lens)
            }),
            Kind::Access => AccessToken::mint(keys, grant, grant_id, lifetime, issued_at, &mut rng)
                .map(|t| {
                    let lens = AccessToken::MIN_LEN..=AccessToken::MAX_LEN;
                    (t.expose().to_owned(), lens)
                }),
            Kind::Refresh => {
                let generation = c.generation;
                RefreshToken::mint(
                    keys, grant, grant_id, generation, lifetime, issued_at, &mut rng,
                )
                .map(|t| {
                    let lens = RefreshToken::MIN_LEN..=RefreshToken::MAX_LEN;
                    (t.expose().to_owned(), lens)
                })
            }
        };
        let expires_at = issued_at.checked_add(u64::from(lifetime));
        let (token, lens) = match minted {
            Ok(minted) => minted,
            Err(e) => {
                assert_eq!(e, Error::InvalidLifetime, "{kind:?}: {c:?}");
                assert!(
                    lifetime == 0 || expires_at.is_none(),
                    "{kind:?} refused: {c:?}"
                );
                continue;
            }
        };
        let expires_at = expires_at.expect("minted, so the expiry fits");
        assert!(lifetime > 0);
        assert!(
            lens.contains(&token.len()),
            "{kind:?}: {} characters",
            token.len()
        );

        let now = issued_at + u64::from(c.offset % lifetime);
        let seen = kind
            .verify(keys, &token, now)
            .unwrap_or_else(|e| panic!("{kind:?}: a minted token does not verify: {e:?}: {c:?}"));
        let expected = Seen {
            key_id: KeyId::new(1),
            grant: c.grant.clone(),
            issued_at,
            expires_at,
        };
        assert_eq!(seen, expected, "{kind:?}");
        match kind {
            Kind::Code => {
                let claims = AuthorizationCode::verify(keys, &token, now).unwrap();
                assert_eq!(claims.code_challenge(), &challenge);
                let client = &c.grant.client_id;
                assert_eq!(claims.redeem(client, &c.redirect_uri, &verifier), Ok(()));
                let other_uri = format!("{}#", c.redirect_uri);
                assert_eq!(
                    claims.redeem(client, &other_uri, &verifier),
                    Err(Error::InvalidRedirectUri)
                );
                let mut other = *client.as_bytes();
                other[0] ^= 1;
                assert_eq!(
                    claims.redeem(&ClientId::from_bytes(other), &c.redirect_uri, &verifier),
                    Err(Error::ClientMismatch)
                );
            }
            Kind::Access => {
                let claims = AccessToken::verify(keys, &token, now).unwrap();
                assert_eq!(claims.grant_id(), &c.grant_id);
            }
            Kind::Refresh => {
                let claims = RefreshToken::verify(keys, &token, now).unwrap();
                assert_eq!(claims.grant_id(), &c.grant_id);
                assert_eq!(claims.generation(), c.generation);
            }
        }

        // Outside [issued_at, expires_at) it is refused.
        assert_eq!(kind.verify(keys, &token, expires_at), Err(Error::Expired));
        if let Some(before) = issued_at.checked_sub(1) {
            assert_eq!(kind.verify(keys, &token, before), Err(Error::NotYetValid));
        }
        // Under another kind it is refused.
        for other in Kind::ALL.into_iter().filter(|&k| k != kind) {
            let e = other.verify(other.keys(keyring), &token, now).unwrap_err();
            assert_eq!(e, Error::WrongTokenKind, "{kind:?} as {other:?}");
        }

        // One byte changed, anywhere, to anything: never verifies.
        let mut mutated = token.clone().into_bytes();
        let at = c.mutate_at % mutated.len();
        mutated[at] = if mutated[at] == c.mutate_to {
            c.mutate_to ^ 1
        } else {
            c.mutate_to
        };
        let mutated = text(&mutated);
        match kind.verify(keys, &mutated, now) {
            Ok(_) => panic!("{kind:?}: byte {at} changed and the token still verifies"),
            Err(e) => assert_invalid_token(e),
        }
    }
}
