//! Client authentication (RFC 6749 §2.3, §3.2.1) with its failed-auth throttle (§10.10), from
//! transport-neutral credentials, and the re-hash of a secret after a key rotation.

use core::net::IpAddr;
use core::time::Duration;
use std::sync::Arc;

use tessera_core::{ClientId, ClientSecret, Keyring, SecretVerifier};

use super::throttle::source_key;
use super::{Authority, Error};
use crate::audit::{self, Throttled};
use crate::credentials::BasicCredentials;
use crate::store::{ClientRecord, FailedAuthKey, Store};

/// How long a failed authentication waits for its answer once its client or its source is
/// throttled: a guesser's stream is held, a right secret is never delayed.
pub const THROTTLED_DELAY: Duration = Duration::from_secs(1);

/// How a request's client authenticates, whatever carried it (a gRPC `authorization` entry
/// now; HTTP headers or form fields at an HTTP edge).
#[derive(Debug)]
pub enum ClientAuth {
    /// A confidential client's id and secret (`client_secret_basic`).
    Basic {
        /// The id it claims.
        client_id: ClientId,
        /// The secret it presented.
        secret: ClientSecret,
    },
    /// No secret: a public client naming itself (`none`), or no client at all.
    None {
        /// The `client_id` the request names, if any.
        client_id: Option<ClientId>,
    },
}

impl ClientAuth {
    /// The credentials of a request that carried `basic` credentials, if any, and named
    /// `client_id` in its body (empty: none). A body `client_id` beside Basic credentials must
    /// name the same client.
    ///
    /// # Errors
    /// `invalid_client` for a malformed `client_id`, or one that differs from the Basic one.
    pub fn new(basic: Option<BasicCredentials>, client_id: &str) -> Result<Self, Error> {
        let named = (!client_id.is_empty())
            .then(|| ClientId::parse(client_id).map_err(|_| Error::BadCredentials))
            .transpose()?;
        match basic {
            Some(BasicCredentials { client_id, secret }) => {
                if named.is_some_and(|named| named != client_id) {
                    return Err(Error::BadCredentials);
                }
                Ok(Self::Basic { client_id, secret })
            }
            None => Ok(Self::None { client_id: named }),
        }
    }
}

/// An authenticated client, for the rest of its request. After a key rotation it also holds
/// the presented secret, so [`Authority::settle`] can re-hash it once the request succeeded.
#[derive(Debug)]
#[must_use = "pass it to `Authority::settle` when the request succeeds"]
pub(super) struct Caller {
    client: Arc<ClientRecord>,
    stale_secret: Option<(ClientSecret, Arc<Keyring>)>,
}

impl core::ops::Deref for Caller {
    type Target = ClientRecord;

    fn deref(&self) -> &ClientRecord {
        &self.client
    }
}

impl<S: Store> Authority<S> {
    /// Authenticates the client of a request: Basic credentials for a confidential client, or
    /// a `client_id` alone for a public one (RFC 6749 §2.3, §3.2.1). `peer` is the source
    /// address, where the transport knows it.
    ///
    /// A presented secret is always checked, and a right one always accepted: the throttles
    /// ([`throttle`](super::throttle)) only answer wrong ones. A wrong secret for a
    /// registered client counts against the client and against the source; once either has
    /// used up its failures in the window, further wrong secrets are answered
    /// [`Error::Throttled`] after [`THROTTLED_DELAY`]. So nobody can lock a client out, and
    /// guessing stays what it is anyway: a 256-bit secret guessed with probability 2^-128
    /// after 2^128 tries.
    ///
    /// # Errors
    /// `invalid_client` if the credentials are missing or wrong; [`Error::Throttled`] for a
    /// wrong secret past a throttle.
    pub(super) async fn authenticate(
        &self,
        keyring: &Arc<Keyring>,
        credentials: ClientAuth,
        peer: Option<IpAddr>,
    ) -> Result<Caller, Error> {
        match credentials {
            ClientAuth::Basic { client_id, secret } => {
                let client = self
                    .store
                    .client(client_id)
                    .await?
                    .ok_or(Error::BadCredentials)?;
                let verifier = client.verifier.as_ref().ok_or(Error::BadCredentials)?;
                let keys = keyring.client_secrets();
                if verifier.verify(keys, &client.id, &secret).is_ok() {
                    let stale = Some(verifier.key_id()) != keys.active_id();
                    return Ok(Caller {
                        client,
                        stale_secret: stale.then(|| (secret, Arc::clone(keyring))),
                    });
                }
                // A rotated-away secret in its grace period: accepted, never re-hashed (it
                // ends within days).
                let previous = client.previous.as_ref().and_then(|p| p.live(self.now()));
                if previous.is_some_and(|v| v.verify(keys, &client.id, &secret).is_ok()) {
                    return Ok(Caller {
                        client,
                        stale_secret: None,
                    });
                }
                Err(self.failed(client.id, peer).await)
            }
            ClientAuth::None { client_id: None } => Err(Error::MissingCredentials),
            ClientAuth::None {
                client_id: Some(id),
            } => match self.store.client(id).await? {
                Some(client) if client.is_public() => Ok(Caller {
                    client,
                    stale_secret: None,
                }),
                // A confidential client must authenticate (RFC 6749 §3.2.1).
                Some(_) => Err(Error::MissingCredentials),
                None => Err(Error::BadCredentials),
            },
        }
    }

    /// Authenticates a confidential client (introspection callers: public clients cannot).
    ///
    /// # Errors
    /// `invalid_client` without valid Basic credentials.
    pub(super) async fn authenticate_confidential(
        &self,
        keyring: &Arc<Keyring>,
        credentials: ClientAuth,
        peer: Option<IpAddr>,
    ) -> Result<Caller, Error> {
        match credentials {
            ClientAuth::Basic { .. } => self.authenticate(keyring, credentials, peer).await,
            ClientAuth::None { .. } => Err(Error::IntrospectionNeedsCredentials),
        }
    }

    /// Counts a wrong secret for `client` from `peer` in the store (so every instance sharing
    /// it counts together), and answers it.
    async fn failed(&self, client: ClientId, peer: Option<IpAddr>) -> Error {
        let now = self.now();
        let window = self.config.failed_auth_window;
        let peer_text = peer.map_or_else(|| "unknown".to_owned(), |p| p.to_string());
        // The failures in the window, this one included; the key was not throttled before it
        // while they are at most the limit.
        let client_failures = match self
            .store
            .record_failed_auth(FailedAuthKey::Client(client), now, window)
            .await
        {
            Ok(failures) => failures,
            Err(e) => return e.into(),
        };
        let limit = self.config.failed_auth_limit;
        if client_failures == limit {
            audit::throttle_engaged(Throttled::Client(client), &client, peer);
        }
        let mut source_was = true;
        if let Some(source) = peer.map(source_key) {
            let failures = match self
                .store
                .record_failed_auth(FailedAuthKey::Source(source), now, window)
                .await
            {
                Ok(failures) => failures,
                Err(e) => return e.into(),
            };
            let limit = self.config.failed_auth_source_limit;
            if failures == limit {
                audit::throttle_engaged(Throttled::Source(source), &client, peer);
            }
            source_was = failures <= limit;
        }
        tracing::debug!(client_id = %client, peer = %peer_text, "client authentication failed");
        if client_failures <= limit && source_was {
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
    pub(super) async fn settle(&self, caller: Caller) {
        let Caller {
            client,
            stale_secret: Some((secret, keyring)),
        } = caller
        else {
            return;
        };
        let updated = match SecretVerifier::new(keyring.client_secrets(), &client.id, &secret) {
            Ok(verifier) => ClientRecord {
                verifier: Some(verifier),
                ..ClientRecord::clone(&client)
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot re-hash a client secret");
                return;
            }
        };
        // Only over the record this request authenticated with: a rotation or a delete since
        // then wins, and the next request re-hashes.
        match self
            .store
            .replace_client(Arc::clone(&client), updated)
            .await
        {
            Ok(true) => {
                tracing::info!(client_id = %client.id, "re-hashed a client secret under the active key")
            }
            Ok(false) => {
                tracing::debug!(client_id = %client.id, "client changed meanwhile: re-hash skipped")
            }
            Err(e) => tracing::warn!(error = %e, "cannot store a re-hashed client secret"),
        }
    }
}
