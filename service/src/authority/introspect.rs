//! Introspection (RFC 7662 §2.2): the claims of an active token, for a confidential client
//! it is meant for.

use core::net::IpAddr;

use tessera_core::{
    AccessClaims, AccessToken, Grant, GrantId, Keyring, RefreshClaims, RefreshToken, TokenId,
};

use super::{Authority, ClientAuth, Error, TokenType, TokenTypeHint};
use crate::store::Store;

/// The verified claims of an introspected token.
#[derive(Debug)]
pub enum Introspected {
    /// An access token.
    Access(AccessClaims),
    /// A refresh token.
    Refresh(RefreshClaims),
}

impl Introspected {
    /// The claims shared by both kinds.
    pub const fn grant(&self) -> &Grant {
        match self {
            Self::Access(c) => c.grant(),
            Self::Refresh(c) => c.grant(),
        }
    }

    /// Its `token_type` in an introspection answer.
    pub const fn token_type(&self) -> TokenType {
        match self {
            Self::Access(_) => TokenType::Bearer,
            Self::Refresh(_) => TokenType::RefreshToken,
        }
    }

    /// Its `jti`.
    pub const fn token_id(&self) -> &TokenId {
        self.ids().1
    }

    /// Its `iat` and `exp`, unix seconds.
    pub const fn times(&self) -> (u64, u64) {
        match self {
            Self::Access(c) => (c.issued_at(), c.expires_at()),
            Self::Refresh(c) => (c.issued_at(), c.expires_at()),
        }
    }

    pub(super) const fn ids(&self) -> (&GrantId, &TokenId) {
        match self {
            Self::Access(c) => (c.grant_id(), c.token_id()),
            Self::Refresh(c) => (c.grant_id(), c.token_id()),
        }
    }
}

impl<S: Store> Authority<S> {
    /// Verifies `token` as either kind, the hinted one first.
    pub(super) fn verify_any(
        keyring: &Keyring,
        token: &str,
        hint: Option<TokenTypeHint>,
        now: u64,
    ) -> Option<Introspected> {
        let access =
            || AccessToken::verify(keyring.access_tokens(), token, now).map(Introspected::Access);
        let refresh = || {
            RefreshToken::verify(keyring.refresh_tokens(), token, now).map(Introspected::Refresh)
        };
        let result = if hint == Some(TokenTypeHint::RefreshToken) {
            refresh().or_else(|_| access())
        } else {
            access().or_else(|_| refresh())
        };
        result
            .inspect_err(|e| tracing::debug!(error = ?e, "token does not verify"))
            .ok()
    }

    /// Introspection (RFC 7662 §2.2) by a confidential client: the claims of an active token
    /// meant for it, or `None` (inactive) for any token that does not verify, is revoked, is
    /// not for it, or whose client was deleted. A refresh token is active only to its own
    /// client.
    ///
    /// # Errors
    /// `invalid_client` without valid Basic credentials (public clients cannot introspect);
    /// `server_error` if storage fails.
    pub async fn introspect(
        &self,
        credentials: ClientAuth,
        peer: Option<IpAddr>,
        token: &str,
        hint: Option<TokenTypeHint>,
    ) -> Result<Option<Introspected>, Error> {
        let keyring = self.keyring();
        let caller = self
            .authenticate_confidential(&keyring, credentials, peer)
            .await?;
        let found = self.inspect(&keyring, caller.id, token, hint).await?;
        crate::meter::introspected(found.is_some());
        self.settle(caller).await;
        Ok(found)
    }

    async fn inspect(
        &self,
        keyring: &Keyring,
        caller: tessera_core::ClientId,
        token: &str,
        hint: Option<TokenTypeHint>,
    ) -> Result<Option<Introspected>, Error> {
        let now = self.now();
        let Some(found) = Self::verify_any(keyring, token, hint, now) else {
            return Ok(None);
        };
        if !found.grant().is_for(&caller) {
            return Ok(None);
        }
        // A refresh token is for the token endpoint only (RFC 6749 §1.5): to a resource server
        // it is never an active bearer token, or an API could accept it outside rotation.
        if matches!(found, Introspected::Refresh(_)) && found.grant().client_id != caller {
            return Ok(None);
        }
        // A deleted client's tokens are inactive at once: the caller is authenticated, so a
        // token of its own has a client; one for it as an audience needs a lookup.
        let holder = found.grant().client_id;
        if holder != caller && self.store.client(holder).await?.is_none() {
            return Ok(None);
        }
        let (grant_id, token_id) = found.ids();
        if self.store.is_revoked(*grant_id, *token_id, now).await? {
            return Ok(None);
        }
        if let Introspected::Refresh(claims) = &found {
            // A rotated-away refresh token is dead: presenting it would revoke its family.
            let newest = self.store.refresh_generation(*grant_id, now).await?;
            if newest != Some(claims.generation()) {
                return Ok(None);
            }
        }
        Ok(Some(found))
    }
}
