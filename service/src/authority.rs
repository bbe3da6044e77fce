//! The authorization server's decisions (RFC 6749 §4.1, §6; RFC 7662; RFC 7009), built on
//! `tessera-core` for every token, secret and PKCE check and on a [`Store`] for state.

use core::net::IpAddr;
use core::time::Duration;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tessera_core::{
    AccessClaims, AccessToken, Audience, AuthorizationCode, ChallengeMethod, ClientId,
    ClientSecret, CodeChallenge, CodeVerifier, Grant, GrantId, Keyring, RefreshClaims,
    RefreshToken, Scope, SecretText, SecretVerifier, Subject, TokenId, validate_redirect_uri,
};

use crate::auth::BasicCredentials;
use crate::config::Config;
use crate::error::Error;
use crate::rng::SharedRng;
use crate::store::{ClientRecord, Rotation, Spend, Store};
use crate::throttle::{Throttle, source_key};

/// Longest client name accepted, in bytes.
pub const MAX_CLIENT_NAME_LEN: usize = 128;
/// Most redirect URIs one client may register.
pub const MAX_REDIRECT_URIS: usize = 16;
/// How long a failed authentication waits for its answer once its client or its source is
/// throttled: a guesser's stream is held, a right secret is never delayed.
pub const THROTTLED_DELAY: Duration = Duration::from_secs(1);

/// The current time in unix seconds.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A new client's registration (RFC 7591 §3.2.1).
#[derive(Debug)]
pub struct Registration {
    /// Its id.
    pub client_id: ClientId,
    /// Its secret, shown once; `None` for a public client.
    pub secret: Option<SecretText<{ tessera_core::SECRET_TEXT_LEN }>>,
    /// Registration time, unix seconds.
    pub issued_at: u64,
}

/// What the login front end asks a code for.
#[derive(Debug)]
pub struct CodeRequest<'a> {
    /// `client_id`.
    pub client_id: &'a str,
    /// `redirect_uri`, one the client registered.
    pub redirect_uri: &'a str,
    /// `scope`, within the client's.
    pub scope: &'a str,
    /// The signed-in user.
    pub subject: &'a str,
    /// `code_challenge`.
    pub code_challenge: &'a str,
    /// `code_challenge_method`, `S256`.
    pub code_challenge_method: &'a str,
    /// Client ids of the resource servers that may introspect.
    pub audience: &'a [String],
}

/// Tokens issued by a grant (RFC 6749 §5.1).
#[derive(Debug)]
pub struct Issued {
    /// The access token.
    pub access_token: AccessToken,
    /// Its lifetime, seconds.
    pub expires_in: u32,
    /// The access token's scope.
    pub scope: Scope,
    /// The next refresh token.
    pub refresh_token: RefreshToken,
}

/// An authenticated client, for the rest of its request. After a key rotation it also holds
/// the presented secret, so [`Authority::settle`] can re-hash it once the request succeeded.
#[derive(Debug)]
#[must_use = "pass it to `Authority::settle` when the request succeeds"]
pub struct Caller {
    client: Arc<ClientRecord>,
    stale_secret: Option<ClientSecret>,
}

impl core::ops::Deref for Caller {
    type Target = ClientRecord;

    fn deref(&self) -> &ClientRecord {
        &self.client
    }
}

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

    const fn ids(&self) -> (&GrantId, &TokenId) {
        match self {
            Self::Access(c) => (c.grant_id(), c.token_id()),
            Self::Refresh(c) => (c.grant_id(), c.token_id()),
        }
    }
}

/// The token server: keys, storage, randomness, lifetimes and the failed-auth throttles.
#[derive(Debug)]
pub struct Authority<S> {
    store: S,
    keyring: Keyring,
    rng: SharedRng,
    config: Config,
    clients: Throttle<ClientId>,
    sources: Throttle<IpAddr>,
}

impl<S: Store> Authority<S> {
    /// An authority over `store`, minting with `keyring`.
    pub fn new(store: S, keyring: Keyring, rng: SharedRng, config: Config) -> Self {
        let clients = Throttle::new(config.failed_auth_limit, config.failed_auth_window);
        let sources = Throttle::new(config.failed_auth_source_limit, config.failed_auth_window);
        Self {
            store,
            keyring,
            rng,
            config,
            clients,
            sources,
        }
    }

    /// Its configuration.
    pub const fn config(&self) -> &Config {
        &self.config
    }

    /// Its storage.
    pub const fn store(&self) -> &S {
        &self.store
    }

    /// Forgets the failed-auth windows closed at `now`.
    pub fn purge_throttles(&self, now: u64) {
        self.clients.purge(now);
        self.sources.purge(now);
    }

    /// Registers a client (operator only; the caller checked).
    ///
    /// # Errors
    /// `invalid_request` for a bad name or redirect URI, `invalid_scope` for a bad scope.
    pub async fn register(
        &self,
        name: &str,
        redirect_uris: Vec<String>,
        scope: &str,
        public: bool,
    ) -> Result<Registration, Error> {
        if name.is_empty() {
            return Err(Error::MissingField("client_name"));
        }
        if name.len() > MAX_CLIENT_NAME_LEN {
            return Err(Error::ClientNameTooLong);
        }
        if name.chars().any(char::is_control) {
            return Err(Error::ClientNameControl);
        }
        if redirect_uris.is_empty() {
            return Err(Error::MissingField("redirect_uris"));
        }
        if redirect_uris.len() > MAX_REDIRECT_URIS {
            return Err(Error::TooManyRedirectUris);
        }
        for uri in &redirect_uris {
            validate_redirect_uri(uri).map_err(|_| Error::InvalidRedirectUri)?;
        }
        let scope = Scope::parse(scope)?;
        let (client_id, secret) = self.rng.with(|rng| {
            let id = ClientId::generate(rng);
            let secret = (!public).then(|| ClientSecret::generate(rng));
            (id, secret)
        });
        let verifier = secret
            .as_ref()
            .map(|s| SecretVerifier::new(self.keyring.client_secrets(), &client_id, s))
            .transpose()?;
        let issued_at = now();
        self.store
            .insert_client(ClientRecord {
                id: client_id,
                name: name.to_owned(),
                redirect_uris,
                scope,
                verifier,
                issued_at,
            })
            .await?;
        tracing::info!(client_id = %client_id, public, "registered a client");
        Ok(Registration {
            client_id,
            secret: secret.map(|s| s.encode()),
            issued_at,
        })
    }

    /// Issues an authorization code (operator only; the caller checked).
    ///
    /// # Errors
    /// `invalid_request` for an unknown client, an unregistered redirect URI, a bad subject,
    /// challenge or method, or an audience that is not a registered client; `invalid_scope`
    /// beyond the client's scope.
    pub async fn issue_code(
        &self,
        request: CodeRequest<'_>,
    ) -> Result<(AuthorizationCode, u32), Error> {
        let client_id = ClientId::parse(request.client_id)?;
        let client = self
            .store
            .client(client_id)
            .await?
            .ok_or(Error::UnknownClient)?;
        if !client.has_redirect_uri(request.redirect_uri) {
            return Err(Error::UnregisteredRedirectUri);
        }
        let scope = Scope::parse(request.scope)?;
        scope.check_within(&client.scope)?;
        ChallengeMethod::parse(request.code_challenge_method)?;
        let challenge = CodeChallenge::parse(request.code_challenge)?;
        let mut audience = Audience::new();
        for id in request.audience {
            audience
                .push(ClientId::parse(id)?)
                .map_err(|_| tessera_core::Error::TooManyAudiences)?;
        }
        // Only a registered client can introspect, so an unknown audience is a typo, not a grant.
        for id in &audience {
            if self.store.client(*id).await?.is_none() {
                return Err(Error::UnknownAudience);
            }
        }
        let grant = Grant {
            client_id,
            subject: Subject::parse(request.subject)?,
            scope,
            audience,
        };
        let lifetime = self.config.code_lifetime;
        let code = self.rng.with(|rng| {
            AuthorizationCode::mint(
                self.keyring.codes(),
                &grant,
                request.redirect_uri,
                &challenge,
                lifetime,
                now(),
                rng,
            )
        })?;
        Ok((code, lifetime))
    }

    /// Authenticates the client of a token request: Basic credentials for a confidential
    /// client, or a `client_id` alone for a public one (RFC 6749 §2.3, §3.2.1). `peer` is the
    /// source address, where the transport knows it.
    ///
    /// A presented secret is always checked, and a right one always accepted: the throttles
    /// ([`Throttle`]) only answer wrong ones. A wrong secret for a registered client counts
    /// against the client and against the source; once either has used up its failures in the
    /// window, further wrong secrets are answered [`Error::Throttled`] after
    /// [`THROTTLED_DELAY`]. So nobody can lock a client out, and guessing stays what it is
    /// anyway: a 256-bit secret guessed with probability 2^-128 after 2^128 tries.
    ///
    /// # Errors
    /// `invalid_client` if the credentials are missing or wrong; [`Error::Throttled`] for a
    /// wrong secret past a throttle.
    pub async fn authenticate(
        &self,
        credentials: Option<BasicCredentials>,
        public_client_id: &str,
        peer: Option<IpAddr>,
    ) -> Result<Caller, Error> {
        match credentials {
            Some(credentials) => {
                if !public_client_id.is_empty()
                    && ClientId::parse(public_client_id).ok() != Some(credentials.client_id)
                {
                    return Err(Error::BadCredentials);
                }
                let client = self
                    .store
                    .client(credentials.client_id)
                    .await?
                    .ok_or(Error::BadCredentials)?;
                let verifier = client.verifier.as_ref().ok_or(Error::BadCredentials)?;
                let verified = verifier.verify(
                    self.keyring.client_secrets(),
                    &client.id,
                    &credentials.secret,
                );
                if verified.is_err() {
                    return Err(self.failed(client.id, peer).await);
                }
                let stale = Some(verifier.key_id()) != self.keyring.client_secrets().active_id();
                Ok(Caller {
                    client,
                    stale_secret: stale.then_some(credentials.secret),
                })
            }
            None if public_client_id.is_empty() => Err(Error::MissingCredentials),
            None => {
                let id = ClientId::parse(public_client_id).map_err(|_| Error::BadCredentials)?;
                match self.store.client(id).await? {
                    Some(client) if client.is_public() => Ok(Caller {
                        client,
                        stale_secret: None,
                    }),
                    // A confidential client must authenticate (RFC 6749 §3.2.1).
                    Some(_) => Err(Error::MissingCredentials),
                    None => Err(Error::BadCredentials),
                }
            }
        }
    }

    /// Counts a wrong secret for `client` from `peer`, and answers it.
    async fn failed(&self, client: ClientId, peer: Option<IpAddr>) -> Error {
        let now = now();
        let peer_text = peer.map_or_else(|| "unknown".to_owned(), |p| p.to_string());
        let client_was = self.clients.allows(&client, now);
        if self.clients.record_failure(client, now) {
            tracing::warn!(client_id = %client, peer = %peer_text,
                "too many failed authentications: client throttled");
        }
        let source = peer.map(source_key);
        let source_was = source.is_none_or(|s| self.sources.allows(&s, now));
        if let Some(source) = source
            && self.sources.record_failure(source, now)
        {
            tracing::warn!(client_id = %client, peer = %peer_text,
                "too many failed authentications: source throttled");
        }
        tracing::debug!(client_id = %client, peer = %peer_text, "client authentication failed");
        if client_was && source_was {
            Error::BadCredentials
        } else {
            tokio::time::sleep(THROTTLED_DELAY).await;
            Error::Throttled
        }
    }

    /// Ends a successful request of `caller`: after a key rotation, re-hashes its secret's
    /// verifier under the active key, so it keeps working once its old key is retired
    /// ([`tessera_core::MAX_KEYS`]). Called only on success, so a failed request changes
    /// nothing; a failure here only delays the re-hash.
    pub async fn settle(&self, caller: Caller) {
        let Caller {
            client,
            stale_secret: Some(secret),
        } = caller
        else {
            return;
        };
        let keys = self.keyring.client_secrets();
        let updated = match SecretVerifier::new(keys, &client.id, &secret) {
            Ok(verifier) => ClientRecord {
                verifier: Some(verifier),
                ..ClientRecord::clone(&client)
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot re-hash a client secret");
                return;
            }
        };
        match self.store.insert_client(updated).await {
            Ok(()) => {
                tracing::info!(client_id = %client.id, "re-hashed a client secret under the active key")
            }
            Err(e) => tracing::warn!(error = %e, "cannot store a re-hashed client secret"),
        }
    }

    /// Authenticates a confidential client (introspection callers).
    ///
    /// # Errors
    /// `invalid_client` without valid Basic credentials.
    pub async fn authenticate_confidential(
        &self,
        credentials: Option<BasicCredentials>,
        peer: Option<IpAddr>,
    ) -> Result<Caller, Error> {
        let credentials = credentials.ok_or(Error::IntrospectionNeedsCredentials)?;
        self.authenticate(Some(credentials), "", peer).await
    }

    /// Mints an access token and the refresh token of `generation`, which lives until
    /// `refresh_until` at the latest (its family's expiry, cut to its deadline).
    fn mint(
        &self,
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
                self.keyring.access_tokens(),
                &access_grant,
                grant_id,
                self.config.access_lifetime,
                now,
                rng,
            )?;
            let refresh = RefreshToken::mint(
                self.keyring.refresh_tokens(),
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
            refresh_token,
        })
    }

    fn family_expiry(&self, now: u64) -> u64 {
        now.saturating_add(u64::from(self.config.refresh_lifetime))
    }

    /// The latest a refresh family opened at `now` may live, however often it rotates.
    fn family_deadline(&self, now: u64) -> u64 {
        now.saturating_add(u64::from(self.config.refresh_max_lifetime))
    }

    fn revocation_expiry(&self, now: u64) -> u64 {
        now.saturating_add(self.config.grant_revocation_window())
    }

    /// The `authorization_code` grant (RFC 6749 §4.1.3, RFC 7636 §4.6): the code is checked,
    /// then spent atomically; a replay revokes every token of its grant.
    ///
    /// # Errors
    /// `invalid_request` for a missing or malformed field; `invalid_grant` for a bad, expired,
    /// foreign or replayed code, another redirect URI or a wrong verifier.
    pub async fn exchange_code(
        &self,
        client: &ClientRecord,
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
        let now = now();
        let claims = AuthorizationCode::verify(self.keyring.codes(), code, now)?;
        let verifier = CodeVerifier::parse(code_verifier)?;
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
                self.mint(grant, grant.scope.clone(), &grant_id, 0, family_until, now)
            }
            // It expired between its check and the commit: it verifies no more either.
            Spend::Expired => Err(Error::Core(tessera_core::Error::Expired)),
            Spend::Replayed => {
                self.store
                    .revoke_grant(grant_id, self.revocation_expiry(now))
                    .await?;
                tracing::warn!(client_id = %client.id, grant_id = %grant_id,
                    "authorization code replayed: grant revoked");
                Err(Error::CodeReplayed)
            }
        }
    }

    /// The `refresh_token` grant (RFC 6749 §6): rotation, reuse detection and optional
    /// narrowing of the access token's scope. A family ends `refresh_max_lifetime` after its
    /// code was redeemed, however often it rotates: then the user must authorize again.
    ///
    /// # Errors
    /// `invalid_grant` for a bad, foreign, superseded or revoked refresh token;
    /// `invalid_scope` for a wider scope.
    pub async fn refresh(
        &self,
        client: &ClientRecord,
        refresh_token: &str,
        scope: &str,
    ) -> Result<Issued, Error> {
        if refresh_token.is_empty() {
            return Err(Error::MissingField("refresh_token"));
        }
        let now = now();
        let claims = RefreshToken::verify(self.keyring.refresh_tokens(), refresh_token, now)?;
        claims.grant().check_client(&client.id)?;
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
                self.mint(claims.grant(), access_scope, &grant_id, next, until, now)
            }
            Rotation::Reused => {
                tracing::warn!(client_id = %client.id, grant_id = %grant_id,
                    "refresh token reused: family revoked");
                Err(Error::RefreshReused)
            }
            Rotation::Unknown => Err(Error::GrantRevoked),
        }
    }

    fn verify_any(&self, token: &str, hint: &str, now: u64) -> Option<Introspected> {
        let access = || {
            AccessToken::verify(self.keyring.access_tokens(), token, now).map(Introspected::Access)
        };
        let refresh = || {
            RefreshToken::verify(self.keyring.refresh_tokens(), token, now)
                .map(Introspected::Refresh)
        };
        let result = if hint == "refresh_token" {
            refresh().or_else(|_| access())
        } else {
            access().or_else(|_| refresh())
        };
        result
            .inspect_err(|e| tracing::debug!(error = ?e, "token does not verify"))
            .ok()
    }

    /// Introspection (RFC 7662 §2.2): the claims of an active token meant for `caller`, or
    /// `None` (inactive) for any token that does not verify, is revoked or is not for it. A
    /// refresh token is active only to its own client.
    ///
    /// # Errors
    /// `server_error` if storage fails.
    pub async fn introspect(
        &self,
        caller: &ClientRecord,
        token: &str,
        hint: &str,
    ) -> Result<Option<Introspected>, Error> {
        let now = now();
        let Some(found) = self.verify_any(token, hint, now) else {
            return Ok(None);
        };
        if !found.grant().is_for(&caller.id) {
            return Ok(None);
        }
        // A refresh token is for the token endpoint only (RFC 6749 §1.5): to a resource server
        // it is never an active bearer token, or an API could accept it outside rotation.
        if matches!(found, Introspected::Refresh(_)) && found.grant().client_id != caller.id {
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

    /// Revocation (RFC 7009 §2.1): an access token alone, or a refresh token with its whole
    /// grant. An unknown or invalid token is not an error (§2.2).
    ///
    /// # Errors
    /// `unauthorized_client` for a valid token of another client; `server_error` if storage
    /// fails.
    pub async fn revoke(
        &self,
        caller: &ClientRecord,
        token: &str,
        hint: &str,
    ) -> Result<(), Error> {
        let now = now();
        let Some(found) = self.verify_any(token, hint, now) else {
            return Ok(());
        };
        if found.grant().client_id != caller.id {
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
