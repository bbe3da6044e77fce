//! Proof Key for Code Exchange (RFC 7636): `S256` only; `plain` is refused (RFC 9700 §2.1.1).

use core::fmt;

use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::Error;
use crate::encoding::{base64url_decode, base64url_encode_array, base64url_len};
use crate::secret::SecretText;

/// Shortest `code_verifier` (RFC 7636 §4.1).
pub const MIN_VERIFIER_LEN: usize = 43;
/// Longest `code_verifier` (RFC 7636 §4.1).
pub const MAX_VERIFIER_LEN: usize = 128;
/// Length of an `S256` challenge in bytes (a SHA-256 digest).
pub const CHALLENGE_LEN: usize = 32;
/// Length of an `S256` challenge's text (43 base64url characters).
pub const CHALLENGE_TEXT_LEN: usize = base64url_len(CHALLENGE_LEN);

/// Random bytes in a [generated](CodeVerifier::generate) verifier: 256 bits (RFC 7636 §4.1,
/// §7.1).
const GENERATED_BYTES: usize = 32;
/// A generated verifier's text: 43 base64url characters, the shortest verifier allowed.
const GENERATED_LEN: usize = base64url_len(GENERATED_BYTES);

/// A PKCE `code_verifier`: 43 to 128 unreserved characters (`[A-Za-z0-9-._~]`).
///
/// It is a secret until the code is redeemed: held in a [`SecretText`] (zeroized on drop), with
/// no `Display`, a redacted `Debug` and no `==`.
///
/// ```
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
/// use tessera_core::{CodeChallenge, CodeVerifier};
/// // A client: a fresh verifier, and the challenge it sends with the authorization request.
/// let verifier = CodeVerifier::generate(&mut rng);
/// assert_eq!(verifier.expose().len(), 43);
/// let challenge = CodeChallenge::s256(&verifier);
/// // The server, at the token request.
/// let presented = CodeVerifier::parse(verifier.expose())?;
/// challenge.verify(&presented)?;
/// # Ok::<(), tessera_core::Error>(())
/// ```
#[derive(Clone)]
pub struct CodeVerifier(SecretText<MAX_VERIFIER_LEN>);

impl CodeVerifier {
    /// Draws a new verifier from the caller's CSPRNG, as RFC 7636 §4.1 recommends: 32 random
    /// bytes, base64url-encoded without padding into 43 characters.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        const { assert!(GENERATED_LEN >= MIN_VERIFIER_LEN && GENERATED_LEN <= MAX_VERIFIER_LEN) };
        let mut raw = [0u8; GENERATED_BYTES];
        rng.fill_bytes(&mut raw);
        let mut text = [0u8; GENERATED_LEN];
        base64url_encode_array(&raw, &mut text);
        let verifier = Self(SecretText::from_array(text));
        raw.zeroize();
        text.zeroize();
        verifier
    }

    /// Validates the verifier syntax (RFC 7636 §4.1).
    ///
    /// # Errors
    /// [`Error::InvalidCodeVerifier`] for a wrong length or a reserved character.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let unreserved =
            |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~');
        if (MIN_VERIFIER_LEN..=MAX_VERIFIER_LEN).contains(&text.len())
            && text.bytes().all(unreserved)
        {
            SecretText::from_slice(text.as_bytes())
                .map(Self)
                .ok_or(Error::InvalidCodeVerifier)
        } else {
            Err(Error::InvalidCodeVerifier)
        }
    }

    /// The verifier text, to send with the token request. Never log it.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeVerifier(<redacted>)")
    }
}

/// The only accepted `code_challenge_method`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChallengeMethod {
    /// `BASE64URL(SHA256(ASCII(code_verifier)))`.
    S256,
}

impl ChallengeMethod {
    /// Parses a `code_challenge_method`.
    ///
    /// # Errors
    /// [`Error::UnsupportedChallengeMethod`] for `plain`, an empty method (which RFC 7636 would
    /// read as `plain`) or anything else.
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text {
            "S256" => Ok(Self::S256),
            _ => Err(Error::UnsupportedChallengeMethod),
        }
    }
}

/// An `S256` code challenge: the SHA-256 of the verifier.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CodeChallenge([u8; CHALLENGE_LEN]);

impl CodeChallenge {
    /// Parses the 43-character base64url challenge sent with the authorization request.
    ///
    /// # Errors
    /// [`Error::InvalidCodeChallenge`] if it is not exactly 32 bytes of canonical base64url.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut bytes = [0u8; CHALLENGE_LEN];
        match base64url_decode(text.as_bytes(), &mut bytes) {
            Some(decoded) if decoded.len() == CHALLENGE_LEN => Ok(Self(bytes)),
            _ => Err(Error::InvalidCodeChallenge),
        }
    }

    /// Computes the `S256` challenge of a verifier (what a client sends).
    pub fn s256(verifier: &CodeVerifier) -> Self {
        Self(Sha256::digest(verifier.expose().as_bytes()).into())
    }

    /// Wraps raw digest bytes.
    pub const fn from_bytes(bytes: [u8; CHALLENGE_LEN]) -> Self {
        Self(bytes)
    }

    /// The raw digest bytes.
    pub const fn as_bytes(&self) -> &[u8; CHALLENGE_LEN] {
        &self.0
    }

    /// Writes the base64url text into `out` and returns it.
    pub fn encode<'a>(&self, out: &'a mut [u8; CHALLENGE_TEXT_LEN]) -> &'a str {
        base64url_encode_array(&self.0, out)
    }

    /// Checks a verifier against this challenge in constant time (RFC 7636 §4.6).
    ///
    /// # Errors
    /// [`Error::PkceMismatch`] if `SHA256(verifier)` differs from the challenge.
    pub fn verify(&self, verifier: &CodeVerifier) -> Result<(), Error> {
        if bool::from(Self::s256(verifier).0.ct_eq(&self.0)) {
            Ok(())
        } else {
            Err(Error::PkceMismatch)
        }
    }
}

impl fmt::Debug for CodeChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CodeChallenge({})",
            self.encode(&mut [0u8; CHALLENGE_TEXT_LEN])
        )
    }
}
