//! Client management by the operator (RFC 7592 style): read, list, update and delete a client,
//! and rotate its secret. Tessera issues no per-client registration access token: the operator
//! token authorizes all of these (the edges check it).
//!
//! A change applies from the next request on, on every instance that shares the store: each
//! grant, introspection and revocation looks its client up (a deleted client's tokens are
//! inactive, its codes and refresh tokens refused), and a code or refresh token is redeemed only
//! while the client's redirect URIs and scope still allow it.

use core::net::IpAddr;
use std::sync::Arc;

use tessera_core::{ClientId, ClientSecret, SECRET_TEXT_LEN, SecretText, SecretVerifier};

use super::register::check_metadata;
use super::{Authority, Error};
use crate::store::{ClientRecord, PreviousSecret, Store, StoreError};

/// Clients in a page when the request names no page size.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// Most clients in one page; a larger page size is cut to this.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// Longest grace period of a rotated-away secret, seconds (7 days).
pub const MAX_SECRET_GRACE: u64 = 7 * 24 * 3600;

/// How often an update re-reads a client that changed between its read and its write.
const UPDATE_ATTEMPTS: usize = 4;

/// One page of [`Authority::clients`].
#[derive(Debug)]
pub struct ClientPage {
    /// The clients, in the order of their ids.
    pub clients: Vec<ClientRecord>,
    /// The id to continue after, if more clients follow.
    pub next: Option<ClientId>,
}

/// A new secret from [`Authority::rotate_client_secret`].
#[derive(Debug)]
pub struct RotatedSecret {
    /// The new secret, shown once.
    pub secret: SecretText<SECRET_TEXT_LEN>,
    /// When the old secret stops being accepted, unix seconds (now, without a grace period).
    pub previous_expires_at: u64,
}

impl<S: Store> Authority<S> {
    /// The client `id` names (operator only; the caller checked).
    ///
    /// # Errors
    /// `invalid_request` for a malformed id, [`Error::NoSuchClient`] for an unknown one.
    pub async fn client(&self, id: &str) -> Result<Arc<ClientRecord>, Error> {
        let id = ClientId::parse(id)?;
        self.store.client(id).await?.ok_or(Error::NoSuchClient)
    }

    /// A page of at most `page_size` clients ([`DEFAULT_PAGE_SIZE`] for 0, at most
    /// [`MAX_PAGE_SIZE`]) after the client id `page_token` (from the first if empty), in id
    /// order (operator only).
    ///
    /// # Errors
    /// `invalid_request` for a malformed page token.
    pub async fn clients(&self, page_size: u32, page_token: &str) -> Result<ClientPage, Error> {
        let after = (!page_token.is_empty())
            .then(|| ClientId::parse(page_token).map_err(|_| Error::InvalidField("page_token")))
            .transpose()?;
        let size = match page_size {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        };
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        // One more than the page: whether another page follows, without an empty last one.
        let mut clients = self
            .store
            .clients_page(after, size.saturating_add(1))
            .await?;
        let next = if clients.len() > size {
            clients.truncate(size);
            clients.last().map(|c| c.id)
        } else {
            None
        };
        Ok(ClientPage { clients, next })
    }

    /// Replaces a client's name, redirect URIs and allowed scope, checked as
    /// [`register`](Self::register) checks them (operator only). Its codes and refresh tokens
    /// are redeemed from now on only within the new redirect URIs and scope.
    ///
    /// # Errors
    /// As `register` for the metadata; [`Error::NoSuchClient`] for an unknown client.
    pub async fn update_client(
        &self,
        id: &str,
        name: &str,
        redirect_uris: Vec<String>,
        scope: &str,
    ) -> Result<ClientRecord, Error> {
        let scope = check_metadata(name, &redirect_uris, scope)?;
        let updated = self
            .change_client(id, |current| {
                Ok(ClientRecord {
                    name: name.to_owned(),
                    redirect_uris: redirect_uris.clone(),
                    scope: scope.clone(),
                    ..current.clone()
                })
            })
            .await?;
        tracing::info!(client_id = %updated.id, "updated a client");
        Ok(updated)
    }

    /// Deletes a client (operator only; `peer` asked): from now on its tokens are inactive, and
    /// its codes and refresh tokens are refused.
    ///
    /// # Errors
    /// `invalid_request` for a malformed id, [`Error::NoSuchClient`] for an unknown one.
    pub async fn delete_client(&self, id: &str, peer: Option<IpAddr>) -> Result<(), Error> {
        let id = ClientId::parse(id)?;
        if !self.store.delete_client(id).await? {
            return Err(Error::NoSuchClient);
        }
        crate::audit::client_deleted(&id, peer);
        Ok(())
    }

    /// Gives a confidential client a new secret, shown once (operator only; `peer` asked). The
    /// old one stops
    /// working now, or after `grace_seconds` (at most [`MAX_SECRET_GRACE`]) so the client can
    /// switch over; a secret rotated away earlier and still in its grace period stops now.
    ///
    /// # Errors
    /// [`Error::GraceTooLong`]; [`Error::PublicClientSecret`] for a public client;
    /// [`Error::NoSuchClient`] for an unknown one.
    pub async fn rotate_client_secret(
        &self,
        id: &str,
        grace_seconds: u64,
        peer: Option<IpAddr>,
    ) -> Result<RotatedSecret, Error> {
        if grace_seconds > MAX_SECRET_GRACE {
            return Err(Error::GraceTooLong);
        }
        let client_id = ClientId::parse(id)?;
        let secret = self.rng.with(ClientSecret::generate);
        let keyring = self.keyring();
        let verifier = SecretVerifier::new(keyring.client_secrets(), &client_id, &secret)?;
        let until = self.now().saturating_add(grace_seconds);
        self.change_client(id, |current| {
            let old = current.verifier.clone().ok_or(Error::PublicClientSecret)?;
            Ok(ClientRecord {
                verifier: Some(verifier.clone()),
                previous: (grace_seconds > 0).then_some(PreviousSecret {
                    verifier: old,
                    until,
                }),
                ..current.clone()
            })
        })
        .await?;
        crate::audit::client_secret_rotated(&client_id, grace_seconds, peer);
        Ok(RotatedSecret {
            secret: secret.encode(),
            previous_expires_at: until,
        })
    }

    /// Writes `change` of the client `id` over the record it was computed from, reading it
    /// again if another write came between (a re-hash after a key rotation).
    async fn change_client(
        &self,
        id: &str,
        change: impl Fn(&ClientRecord) -> Result<ClientRecord, Error>,
    ) -> Result<ClientRecord, Error> {
        for _ in 0..UPDATE_ATTEMPTS {
            let current = self.client(id).await?;
            let updated = change(&current)?;
            if self.store.replace_client(current, updated.clone()).await? {
                return Ok(updated);
            }
        }
        Err(Error::Storage(StoreError::new(
            "the client kept changing during the update",
        )))
    }
}
