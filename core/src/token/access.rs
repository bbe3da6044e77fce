//! Access tokens (RFC 6749 §1.4, FORMAT.md §3.2): what a resource server checks on every call.

use rand_core::CryptoRng;

use super::wire::Writer;
use super::{BODY_CAP, Kind, Times, Validity, open, seal, token_text};
use crate::Error;
use crate::claims::Grant;
use crate::id::{ClientId, GrantId, ID_LEN, TokenId};
use crate::keyring::{KeyId, KeySet};

/// token id (16) ‖ grant id (16).
pub(super) const FIXED_LEN: usize = 2 * ID_LEN;

token_text! {
    /// A minted access token, `tsr_at_…`.
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
    /// use tessera_core::{AccessToken, ClientId, Grant, GrantId, KeyId, Keyring, MasterKey, Scope, Subject};
    /// let keyring = Keyring::new(&[MasterKey::generate(KeyId::new(1), &mut rng)], KeyId::new(1))?;
    /// let grant = Grant {
    ///     client_id: ClientId::generate(&mut rng),
    ///     subject: Subject::parse("alice")?,
    ///     scope: Scope::parse("read write")?,
    ///     audience: Default::default(),
    /// };
    /// let now = 1_700_000_000;
    /// let token = AccessToken::mint(keyring.access_tokens(), &grant, &GrantId::generate(&mut rng), 3600, now, &mut rng)?;
    ///
    /// let claims = AccessToken::verify(keyring.access_tokens(), token.expose(), now + 10)?;
    /// assert_eq!(claims.grant(), &grant);
    /// assert!(AccessToken::verify(keyring.access_tokens(), token.expose(), now + 3600).is_err());
    /// # Ok::<(), tessera_core::Error>(())
    /// ```
    AccessToken, Kind::AccessToken
}

impl AccessToken {
    /// Mints an access token for `grant`, valid from `now` for `lifetime` seconds.
    ///
    /// # Errors
    /// [`Error::InvalidLifetime`] for a zero lifetime or one that overflows the clock;
    /// [`Error::WrongKeyPurpose`] if `keys` is not an access-token key set,
    /// [`Error::NoActiveKey`] if it has no active key.
    pub fn mint<R: CryptoRng + ?Sized>(
        keys: &KeySet,
        grant: &Grant,
        grant_id: &GrantId,
        lifetime: u32,
        now: u64,
        rng: &mut R,
    ) -> Result<Self, Error> {
        let validity = Validity::new(now, lifetime, u32::MAX)?;
        let token_id = TokenId::generate(rng);
        seal(Kind::AccessToken, keys, |w: &mut Writer<BODY_CAP>| {
            validity.write(w)?;
            w.bytes(token_id.as_bytes())?;
            w.bytes(grant_id.as_bytes())?;
            w.grant(grant)
        })
        .map(Self)
    }

    /// Verifies an access token presented at `now` and returns its claims.
    ///
    /// # Errors
    /// Any verification failure ([`Error::is_invalid_token`]): malformed, wrong kind, unknown
    /// key, bad signature, unsupported version, not yet valid, expired.
    // Inlined, like the other verifiers, so the claims (~360 bytes) are built in the caller's
    // frame instead of being copied out through each `Result` (BENCHMARKS.md).
    #[inline]
    pub fn verify(keys: &KeySet, text: &str, now: u64) -> Result<AccessClaims, Error> {
        let mut body = [0u8; BODY_CAP];
        let (key_id, mut r) = open(Kind::AccessToken, keys, text, &mut body)?;
        let times = Validity::read(&mut r, u32::MAX, now)?;
        let token_id = TokenId::from_bytes(r.array()?);
        let grant_id = GrantId::from_bytes(r.array()?);
        let grant = r.grant()?;
        r.finish()?;
        Ok(AccessClaims {
            key_id,
            times,
            token_id,
            grant_id,
            grant,
        })
    }

    /// Verifies an access token presented to the resource server `me` at `now`: [`verify`],
    /// then the offline audience check a gateway makes (FORMAT.md §4, step 7). The token is for
    /// `me` if `me` is its grant's client or in its audience ([`Grant::is_for`]).
    ///
    /// [`verify`]: AccessToken::verify
    ///
    /// ```
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
    /// use tessera_core::{AccessToken, Audience, ClientId, Error, Grant, GrantId, KeyId, Keyring, MasterKey, Scope, Subject};
    /// let keyring = Keyring::new(&[MasterKey::generate(KeyId::new(1), &mut rng)], KeyId::new(1))?;
    /// let gateway = ClientId::generate(&mut rng);
    /// let grant = Grant {
    ///     client_id: ClientId::generate(&mut rng),
    ///     subject: Subject::parse("alice")?,
    ///     scope: Scope::parse("read")?,
    ///     audience: Audience::from_slice(&[gateway])?,
    /// };
    /// let now = 1_700_000_000;
    /// let token = AccessToken::mint(keyring.access_tokens(), &grant, &GrantId::generate(&mut rng), 60, now, &mut rng)?;
    /// assert!(AccessToken::verify_for(keyring.access_tokens(), token.expose(), &gateway, now).is_ok());
    /// let other = ClientId::generate(&mut rng);
    /// assert_eq!(
    ///     AccessToken::verify_for(keyring.access_tokens(), token.expose(), &other, now),
    ///     Err(Error::WrongAudience)
    /// );
    /// # Ok::<(), tessera_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// Every error of [`verify`](AccessToken::verify), and [`Error::WrongAudience`] for a valid
    /// token that is not for `me`.
    #[inline]
    pub fn verify_for(
        keys: &KeySet,
        text: &str,
        me: &ClientId,
        now: u64,
    ) -> Result<AccessClaims, Error> {
        let claims = Self::verify(keys, text, now)?;
        if claims.grant.is_for(me) {
            Ok(claims)
        } else {
            Err(Error::WrongAudience)
        }
    }
}

/// The verified claims of an access token. Only [`AccessToken::verify`] makes one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessClaims {
    key_id: KeyId,
    times: Times,
    token_id: TokenId,
    grant_id: GrantId,
    grant: Grant,
}

impl AccessClaims {
    /// Client, subject, scope and audience.
    pub const fn grant(&self) -> &Grant {
        &self.grant
    }

    /// The grant this token was issued from (revoke it to revoke the token).
    pub const fn grant_id(&self) -> &GrantId {
        &self.grant_id
    }

    /// This token's unique id (`jti`).
    pub const fn token_id(&self) -> &TokenId {
        &self.token_id
    }

    /// Issue time (`iat`), unix seconds.
    pub const fn issued_at(&self) -> u64 {
        self.times.issued_at
    }

    /// Expiry (`exp`), unix seconds: the token is invalid from this second on.
    pub const fn expires_at(&self) -> u64 {
        self.times.expires_at
    }

    /// The key that signed it.
    pub const fn key_id(&self) -> KeyId {
        self.key_id
    }
}
