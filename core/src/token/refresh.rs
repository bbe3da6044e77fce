//! Refresh tokens (RFC 6749 §1.5, FORMAT.md §3.3): one family per grant, rotated on every use.

use rand_core::CryptoRng;

use super::wire::Writer;
use super::{BODY_CAP, Kind, Times, Validity, open, seal, token_text};
use crate::Error;
use crate::claims::Grant;
use crate::id::{GrantId, ID_LEN, TokenId};
use crate::keyring::{KeyId, KeySet};

/// token id (16) ‖ grant id (16) ‖ generation (4).
pub(super) const FIXED_LEN: usize = 2 * ID_LEN + 4;

token_text! {
    /// A minted refresh token, `tsr_rt_…`.
    ///
    /// Its family is its grant id; its generation counts rotations from 0. A server records
    /// the newest generation per grant: a token of an older generation is a replay, and the
    /// whole family is revoked (RFC 9700 §4.14.2).
    RefreshToken, Kind::RefreshToken
}

impl RefreshToken {
    /// Mints generation `generation` of grant `grant_id`'s refresh family.
    ///
    /// # Errors
    /// [`Error::InvalidLifetime`] for a zero lifetime or one that overflows the clock;
    /// [`Error::WrongKeyPurpose`] if `keys` is not a refresh-token key set,
    /// [`Error::NoActiveKey`] if it has no active key.
    pub fn mint<R: CryptoRng + ?Sized>(
        keys: &KeySet,
        grant: &Grant,
        grant_id: &GrantId,
        generation: u32,
        lifetime: u32,
        now: u64,
        rng: &mut R,
    ) -> Result<Self, Error> {
        let validity = Validity::new(now, lifetime, u32::MAX)?;
        let token_id = TokenId::generate(rng);
        seal(Kind::RefreshToken, keys, |w: &mut Writer<BODY_CAP>| {
            validity.write(w)?;
            w.bytes(token_id.as_bytes())?;
            w.bytes(grant_id.as_bytes())?;
            w.bytes(&generation.to_be_bytes())?;
            w.grant(grant)
        })
        .map(Self)
    }

    /// Verifies a refresh token presented at `now` and returns its claims.
    ///
    /// # Errors
    /// Any verification failure ([`Error::is_invalid_token`]).
    #[inline]
    pub fn verify(keys: &KeySet, text: &str, now: u64) -> Result<RefreshClaims, Error> {
        let mut body = [0u8; BODY_CAP];
        let (key_id, mut r) = open(Kind::RefreshToken, keys, text, &mut body)?;
        let times = Validity::read(&mut r, u32::MAX, now)?;
        let token_id = TokenId::from_bytes(r.array()?);
        let grant_id = GrantId::from_bytes(r.array()?);
        let generation = r.u32()?;
        let grant = r.grant()?;
        r.finish()?;
        Ok(RefreshClaims {
            key_id,
            times,
            token_id,
            grant_id,
            generation,
            grant,
        })
    }
}

/// The verified claims of a refresh token. Only [`RefreshToken::verify`] makes one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshClaims {
    key_id: KeyId,
    times: Times,
    token_id: TokenId,
    grant_id: GrantId,
    generation: u32,
    grant: Grant,
}

impl RefreshClaims {
    /// Client, subject, scope and audience.
    pub const fn grant(&self) -> &Grant {
        &self.grant
    }

    /// The grant, which is also the refresh family.
    pub const fn grant_id(&self) -> &GrantId {
        &self.grant_id
    }

    /// How many rotations preceded this token (0 for the one issued with the code).
    pub const fn generation(&self) -> u32 {
        self.generation
    }

    /// This token's unique id.
    pub const fn token_id(&self) -> &TokenId {
        &self.token_id
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
