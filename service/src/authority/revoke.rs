//! Revocation (RFC 7009 §2.1): an access token alone, or a refresh token with its whole grant.

use core::net::IpAddr;

use tessera_core::{ClientId, Keyring};

use super::{Authority, ClientAuth, Error, Introspected, TokenTypeHint};
use crate::store::Store;

impl<S: Store> Authority<S> {
    /// Revocation by an authenticated client (a public one names itself). An unknown or
    /// invalid token is not an error (§2.2).
    ///
    /// # Errors
    /// `invalid_client` for missing or wrong credentials; `unauthorized_client` for a valid
    /// token of another client; `server_error` if storage fails.
    pub async fn revoke(
        &self,
        credentials: ClientAuth,
        peer: Option<IpAddr>,
        token: &str,
        hint: Option<TokenTypeHint>,
    ) -> Result<(), Error> {
        let keyring = self.keyring();
        let caller = self.authenticate(&keyring, credentials, peer).await?;
        self.revoke_for(&keyring, caller.id, token, hint).await?;
        self.settle(caller).await;
        Ok(())
    }

    async fn revoke_for(
        &self,
        keyring: &Keyring,
        caller: ClientId,
        token: &str,
        hint: Option<TokenTypeHint>,
    ) -> Result<(), Error> {
        let now = self.now();
        let Some(found) = Self::verify_any(keyring, token, hint, now) else {
            return Ok(());
        };
        if found.grant().client_id != caller {
            return Err(Error::NotTokenOwner);
        }
        match found {
            Introspected::Access(claims) => {
                self.store
                    .revoke_token(*claims.token_id(), claims.expires_at())
                    .await?;
            }
            Introspected::Refresh(claims) => {
                self.store
                    .revoke_grant(*claims.grant_id(), self.revocation_expiry(now))
                    .await?;
            }
        }
        Ok(())
    }
}
