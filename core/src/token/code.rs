//! Authorization codes (RFC 6749 §4.1.2, FORMAT.md §3.1): short-lived, bound to the client,
//! the exact redirect URI and a PKCE `S256` challenge.

use rand_core::CryptoRng;

use super::wire::Writer;
use super::{BODY_CAP, Kind, Times, Validity, open, seal, token_text};
use crate::Error;
use crate::claims::{Grant, RedirectUriDigest};
use crate::id::{ClientId, GrantId, ID_LEN};
use crate::keyring::{KeyId, KeySet};
use crate::pkce::{CHALLENGE_LEN, CodeChallenge, CodeVerifier};

/// Longest lifetime of an authorization code: 10 minutes (RFC 6749 §4.1.2).
pub const MAX_CODE_LIFETIME: u32 = 600;

/// grant id (16) ‖ redirect URI digest (32) ‖ code challenge (32).
pub(super) const FIXED_LEN: usize = ID_LEN + 32 + CHALLENGE_LEN;

token_text! {
    /// A minted authorization code, `tsr_ac_…`.
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
    /// use tessera_core::*;
    /// let keyring = Keyring::new(&[MasterKey::generate(KeyId::new(1), &mut rng)], KeyId::new(1))?;
    /// let client = ClientId::generate(&mut rng);
    /// let grant = Grant {
    ///     client_id: client,
    ///     subject: Subject::parse("alice")?,
    ///     scope: Scope::parse("read")?,
    ///     audience: Default::default(),
    /// };
    /// // RFC 7636 Appendix B
    /// let verifier = CodeVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")?;
    /// let challenge = CodeChallenge::s256(&verifier);
    /// let uri = "https://app.example/cb";
    /// let code = AuthorizationCode::mint(keyring.codes(), &grant, uri, &challenge, 60, 1000, &mut rng)?;
    ///
    /// let claims = AuthorizationCode::verify(keyring.codes(), code.expose(), 1030)?;
    /// claims.redeem(&client, uri, &verifier)?;
    /// assert!(claims.redeem(&client, "https://app.example/other", &verifier).is_err());
    /// # Ok::<(), tessera_core::Error>(())
    /// ```
    AuthorizationCode, Kind::AuthorizationCode
}

impl AuthorizationCode {
    /// Mints a code for `grant`, bound to `redirect_uri` and `challenge`, with a fresh grant id.
    ///
    /// # Errors
    /// [`Error::InvalidLifetime`] for a lifetime of 0 or over [`MAX_CODE_LIFETIME`];
    /// [`Error::WrongKeyPurpose`] if `keys` is not a code key set, [`Error::NoActiveKey`] if it
    /// has no active key.
    pub fn mint<R: CryptoRng + ?Sized>(
        keys: &KeySet,
        grant: &Grant,
        redirect_uri: &str,
        challenge: &CodeChallenge,
        lifetime: u32,
        now: u64,
        rng: &mut R,
    ) -> Result<Self, Error> {
        let validity = Validity::new(now, lifetime, MAX_CODE_LIFETIME)?;
        let grant_id = GrantId::generate(rng);
        seal(Kind::AuthorizationCode, keys, |w: &mut Writer<BODY_CAP>| {
            validity.write(w)?;
            w.bytes(grant_id.as_bytes())?;
            w.bytes(RedirectUriDigest::of(redirect_uri).as_bytes())?;
            w.bytes(challenge.as_bytes())?;
            w.grant(grant)
        })
        .map(Self)
    }

    /// Verifies a code presented at `now` and returns its claims. Call
    /// [`CodeClaims::redeem`] next, then mark the grant id spent.
    ///
    /// # Errors
    /// Any verification failure ([`Error::is_invalid_token`]).
    #[inline]
    pub fn verify(keys: &KeySet, text: &str, now: u64) -> Result<CodeClaims, Error> {
        let mut body = [0u8; BODY_CAP];
        let (key_id, mut r) = open(Kind::AuthorizationCode, keys, text, &mut body)?;
        let times = Validity::read(&mut r, MAX_CODE_LIFETIME, now)?;
        let grant_id = GrantId::from_bytes(r.array()?);
        let redirect_uri = RedirectUriDigest::from_bytes(r.array()?);
        let code_challenge = CodeChallenge::from_bytes(r.array()?);
        let grant = r.grant()?;
        r.finish()?;
        Ok(CodeClaims {
            key_id,
            times,
            grant_id,
            redirect_uri,
            code_challenge,
            grant,
        })
    }
}

/// The verified claims of an authorization code. Only [`AuthorizationCode::verify`] makes one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeClaims {
    key_id: KeyId,
    times: Times,
    grant_id: GrantId,
    redirect_uri: RedirectUriDigest,
    code_challenge: CodeChallenge,
    grant: Grant,
}

impl CodeClaims {
    /// Checks the token request against the code (RFC 6749 §4.1.3, RFC 7636 §4.6): the same
    /// client, the same redirect URI byte for byte, and a verifier that hashes to the challenge.
    ///
    /// # Errors
    /// [`Error::ClientMismatch`], [`Error::InvalidRedirectUri`] or [`Error::PkceMismatch`].
    pub fn redeem(
        &self,
        client: &ClientId,
        redirect_uri: &str,
        verifier: &CodeVerifier,
    ) -> Result<(), Error> {
        self.grant.check_client(client)?;
        self.redirect_uri.check(redirect_uri)?;
        self.code_challenge.verify(verifier)
    }

    /// Client, subject, scope and audience.
    pub const fn grant(&self) -> &Grant {
        &self.grant
    }

    /// The grant's unique id: mark it spent to make the code single-use.
    pub const fn grant_id(&self) -> &GrantId {
        &self.grant_id
    }

    /// The PKCE challenge the code is bound to.
    pub const fn code_challenge(&self) -> &CodeChallenge {
        &self.code_challenge
    }

    /// Issue time, unix seconds.
    pub const fn issued_at(&self) -> u64 {
        self.times.issued_at
    }

    /// Expiry, unix seconds.
    pub const fn expires_at(&self) -> u64 {
        self.times.expires_at
    }

    /// The key that signed it.
    pub const fn key_id(&self) -> KeyId {
        self.key_id
    }
}
