//! The token endpoint (RFC 6749 §3.2): client authentication, then one of the grants:
//! `authorization_code` (§4.1.3, RFC 7636 §4.6), `refresh_token` (§6) or `client_credentials`
//! (§4.4).

use core::net::IpAddr;

use tessera_core::{
    AccessToken, AuthorizationCode, CodeVerifier, Grant, GrantId, Keyring, RefreshToken, Scope,
    Subject,
};

use super::{Authority, ClientAuth, Error, GrantType};
use crate::store::{ClientRecord, Rotation, Spend, Store};

/// A token request's grant and its fields (RFC 6749 §4.1.3, §6), as the transport read them.
#[derive(Debug)]
pub enum TokenRequest<'a> {
    /// `grant_type=authorization_code`.
    AuthorizationCode {
        /// `code`.
        code: &'a str,
        /// `redirect_uri`, the one the code was issued for.
        redirect_uri: &'a str,
        /// `code_verifier` (RFC 7636 §4.5).
        code_verifier: &'a str,
    },
    /// `grant_type=refresh_token`.
    RefreshToken {
        /// `refresh_token`.
        refresh_token: &'a str,
        /// `scope`, empty for the whole granted scope.
        scope: &'a str,
    },
    /// `grant_type=client_credentials`.
    ClientCredentials {
        /// `scope`, empty for the client's whole registered scope.
        scope: &'a str,
        /// `resource` (RFC 8707): client ids of the resource servers that may introspect.
        resource: Vec<&'a str>,
    },
}

impl TokenRequest<'_> {
    /// Its `grant_type`.
    pub const fn grant_type(&self) -> GrantType {
        match self {
            Self::AuthorizationCode { .. } => GrantType::AuthorizationCode,
            Self::RefreshToken { .. } => GrantType::RefreshToken,
            Self::ClientCredentials { .. } => GrantType::ClientCredentials,
        }
    }
}

/// Tokens issued by a grant (RFC 6749 §5.1); the token type is always
/// [`TokenType::Bearer`](super::TokenType::Bearer).
#[derive(Debug)]
pub struct Issued {
    /// The access token.
    pub access_token: AccessToken,
    /// Its lifetime, seconds.
    pub expires_in: u32,
    /// The access token's scope.
    pub scope: Scope,
    /// The next refresh token; none for `client_credentials` (RFC 6749 §4.4.3).
    pub refresh_token: Option<RefreshToken>,
}

impl<S: Store> Authority<S> {
    /// The token endpoint: authenticates the client, runs the grant, and on success settles
    /// the client (re-hashes its secret after a key rotation).
    ///
    /// # Errors
    /// `invalid_client` (or [`Error::Throttled`]) from authentication; the grant's errors
    /// (`exchange_code`, `refresh`).
    pub async fn token(
        &self,
        credentials: ClientAuth,
        peer: Option<IpAddr>,
        request: TokenRequest<'_>,
    ) -> Result<Issued, Error> {
        let keyring = self.keyring();
        let client = self.authenticate(&keyring, credentials, peer).await?;
        let grant_type = request.grant_type().as_str();
        let issued = match request {
            TokenRequest::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => {
                self.exchange_code(&keyring, &client, peer, code, redirect_uri, code_verifier)
                    .await?
            }
            TokenRequest::RefreshToken {
                refresh_token,
                scope,
            } => {
                self.refresh(&keyring, &client, peer, refresh_token, scope)
                    .await?
            }
            TokenRequest::ClientCredentials { scope, resource } => {
                self.client_credentials(&keyring, &client, scope, &resource)
                    .await?
            }
        };
        crate::meter::token_issued("access", grant_type);
        if issued.refresh_token.is_some() {
            crate::meter::token_issued("refresh", grant_type);
        }
        self.settle(client).await;
        Ok(issued)
    }

    /// Mints an access token and the refresh token of `generation`, which lives until
    /// `refresh_until` at the latest (its family's expiry, cut to its deadline).
    #[allow(
        clippy::too_many_arguments,
        reason = "one call per grant, every argument named"
    )]
    fn mint(
        &self,
        keyring: &Keyring,
        grant: &Grant,
        access_scope: Scope,
        grant_id: &GrantId,
        generation: u32,
        refresh_until: u64,
        now: u64,
    ) -> Result<Issued, Error> {
        let refresh_lifetime = u32::try_from(refresh_until.saturating_sub(now))
            .unwrap_or(u32::MAX)
            .min(self.config.refresh_lifetime);
        let access_grant = Grant {
            scope: access_scope.clone(),
            ..grant.clone()
        };
        let (access_token, refresh_token) = self.rng.with(|rng| {
            let access = AccessToken::mint(
                keyring.access_tokens(),
                &access_grant,
                grant_id,
                self.config.access_lifetime,
                now,
                rng,
            )?;
            let refresh = RefreshToken::mint(
                keyring.refresh_tokens(),
                grant,
                grant_id,
                generation,
                refresh_lifetime,
                now,
                rng,
            )?;
            Ok::<_, tessera_core::Error>((access, refresh))
        })?;
        Ok(Issued {
            access_token,
            expires_in: self.config.access_lifetime,
            scope: access_scope,
            refresh_token: Some(refresh_token),
        })
    }

    /// The `client_credentials` grant (RFC 6749 §4.4) for an authenticated client: a
    /// confidential client gets an access token for itself (`sub` is its id), within its
    /// registered scope, for the audience it names; no refresh token (§4.4.3). Nothing is
    /// stored: the token is revoked by its id like any access token.
    ///
    /// # Errors
    /// `unauthorized_client` for a public client; `invalid_scope` beyond the client's scope;
    /// `invalid_request` for an audience that is not a registered client.
    async fn client_credentials(
        &self,
        keyring: &Keyring,
        client: &ClientRecord,
        scope: &str,
        resource: &[&str],
    ) -> Result<Issued, Error> {
        if client.is_public() {
            return Err(Error::PublicClientGrant);
        }
        let scope = if scope.is_empty() {
            client.scope.clone()
        } else {
            let asked = Scope::parse(scope)?;
            asked.check_within(&client.scope)?;
            asked
        };
        let grant = Grant {
            client_id: client.id,
            subject: Subject::parse(&client.id.to_string())?,
            scope: scope.clone(),
            audience: self.audience(resource.iter().copied()).await?,
        };
        let now = self.now();
        let access_token = self.rng.with(|rng| {
            let grant_id = GrantId::generate(rng);
            AccessToken::mint(
                keyring.access_tokens(),
                &grant,
                &grant_id,
                self.config.access_lifetime,
                now,
                rng,
            )
        })?;
        Ok(Issued {
            access_token,
            expires_in: self.config.access_lifetime,
            scope,
            refresh_token: None,
        })
    }

    /// The `authorization_code` grant (RFC 6749 §4.1.3, RFC 7636 §4.6) for an authenticated
    /// client: the code is checked, then spent atomically; a replay revokes every token of its
    /// grant.
    ///
    /// # Errors
    /// `invalid_request` for a missing or malformed field; `invalid_grant` for a bad, expired,
    /// foreign or replayed code, another redirect URI or a wrong verifier.
    async fn exchange_code(
        &self,
        keyring: &Keyring,
        client: &ClientRecord,
        peer: Option<IpAddr>,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<Issued, Error> {
        if code.is_empty() {
            return Err(Error::MissingField("code"));
        }
        if code_verifier.is_empty() {
            return Err(Error::MissingField("code_verifier"));
        }
        let now = self.now();
        let claims = AuthorizationCode::verify(keyring.codes(), code, now)?;
        let verifier = CodeVerifier::parse(code_verifier)?;
        // Registered when the code was issued, but the operator may have narrowed the client
        // since: a code is redeemed only within its current registration.
        if !client.has_redirect_uri(redirect_uri)
            || claims.grant().scope.check_within(&client.scope).is_err()
        {
            claims.grant().check_client(&client.id)?;
            return Err(Error::GrantNoLongerAllowed);
        }
        claims
            .redeem(&client.id, redirect_uri, &verifier)
            .map_err(|e| match e {
                // The core's error serves registration too (`invalid_request`); at the token
                // endpoint a mismatch is `invalid_grant` (RFC 6749 §5.2).
                tessera_core::Error::InvalidRedirectUri => Error::RedirectUriMismatch,
                other => Error::Core(other),
            })?;
        let grant_id = *claims.grant_id();
        let family_until = self.family_expiry(now).min(self.family_deadline(now));
        match self
            .store
            .spend_code(
                grant_id,
                claims.expires_at(),
                family_until,
                self.family_deadline(now),
            )
            .await?
        {
            Spend::First => {
                let grant = claims.grant();
                self.mint(
                    keyring,
                    grant,
                    grant.scope.clone(),
                    &grant_id,
                    0,
                    family_until,
                    now,
                )
            }
            // It expired between its check and the commit: it verifies no more either.
            Spend::Expired => Err(Error::Core(tessera_core::Error::Expired)),
            Spend::Replayed => {
                self.store
                    .revoke_grant(grant_id, self.revocation_expiry(now))
                    .await?;
                crate::audit::code_replayed(&client.id, &grant_id, peer);
                Err(Error::CodeReplayed)
            }
        }
    }

    /// The `refresh_token` grant (RFC 6749 §6) for an authenticated client: rotation, reuse
    /// detection and optional narrowing of the access token's scope. A family ends
    /// `refresh_max_lifetime` after its code was redeemed, however often it rotates: then the
    /// user must authorize again.
    ///
    /// # Errors
    /// `invalid_grant` for a bad, foreign, superseded or revoked refresh token;
    /// `invalid_scope` for a wider scope.
    async fn refresh(
        &self,
        keyring: &Keyring,
        client: &ClientRecord,
        peer: Option<IpAddr>,
        refresh_token: &str,
        scope: &str,
    ) -> Result<Issued, Error> {
        if refresh_token.is_empty() {
            return Err(Error::MissingField("refresh_token"));
        }
        let now = self.now();
        let claims = RefreshToken::verify(keyring.refresh_tokens(), refresh_token, now)?;
        claims.grant().check_client(&client.id)?;
        // The client's allowed scope may have been narrowed since the grant.
        if claims.grant().scope.check_within(&client.scope).is_err() {
            return Err(Error::GrantNoLongerAllowed);
        }
        let access_scope = if scope.is_empty() {
            claims.grant().scope.clone()
        } else {
            let narrowed = Scope::parse(scope)?;
            narrowed.check_within(&claims.grant().scope)?;
            narrowed
        };
        let grant_id = *claims.grant_id();
        let rotation = self
            .store
            .rotate_refresh(
                grant_id,
                claims.generation(),
                self.family_expiry(now),
                self.family_deadline(now),
                self.revocation_expiry(now),
                now,
            )
            .await?;
        match rotation {
            Rotation::Rotated { until } => {
                let next = claims
                    .generation()
                    .checked_add(1)
                    .ok_or(Error::GrantRevoked)?;
                self.mint(
                    keyring,
                    claims.grant(),
                    access_scope,
                    &grant_id,
                    next,
                    until,
                    now,
                )
            }
            Rotation::Reused => {
                crate::audit::refresh_reused(&client.id, &grant_id, peer);
                Err(Error::RefreshReused)
            }
            Rotation::Unknown => Err(Error::GrantRevoked),
        }
    }
}
