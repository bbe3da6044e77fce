//! [`Metered`]: any [`Store`] with each operation timed and its failures counted
//! ([`STORE_DURATION`], [`STORE_ERRORS`]), so every backend is measured the same way.

use core::future::Future;
use std::sync::Arc;
use std::time::Instant;

use tessera_core::{ClientId, GrantId, TokenId};

use super::{ClientRecord, FailedAuthKey, Rotation, Spend, Store, StoreError};
use crate::meter::{STORE_DURATION, STORE_ERRORS};

/// `S`, measured. The server wraps its store in it once ([`Server::open`](crate::Server::open)).
#[derive(Clone, Debug)]
pub struct Metered<S>(S);

impl<S> Metered<S> {
    /// Measures `store`.
    pub const fn new(store: S) -> Self {
        Self(store)
    }

    /// The store it measures.
    pub const fn inner(&self) -> &S {
        &self.0
    }
}

/// Runs `call`, recording its time and whether it failed under `operation`.
async fn measure<T>(
    operation: &'static str,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let started = Instant::now();
    let result = call.await;
    metrics::histogram!(STORE_DURATION, "operation" => operation).record(started.elapsed());
    if result.is_err() {
        metrics::counter!(STORE_ERRORS, "operation" => operation).increment(1);
    }
    result
}

impl<S: Store> Store for Metered<S> {
    async fn insert_client(&self, record: ClientRecord) -> Result<(), StoreError> {
        measure("insert_client", self.0.insert_client(record)).await
    }

    async fn client(&self, id: ClientId) -> Result<Option<Arc<ClientRecord>>, StoreError> {
        measure("client", self.0.client(id)).await
    }

    async fn replace_client(
        &self,
        current: Arc<ClientRecord>,
        new: ClientRecord,
    ) -> Result<bool, StoreError> {
        measure("replace_client", self.0.replace_client(current, new)).await
    }

    async fn delete_client(&self, id: ClientId) -> Result<bool, StoreError> {
        measure("delete_client", self.0.delete_client(id)).await
    }

    async fn clients_page(
        &self,
        after: Option<ClientId>,
        limit: usize,
    ) -> Result<Vec<ClientRecord>, StoreError> {
        measure("clients_page", self.0.clients_page(after, limit)).await
    }

    async fn record_failed_auth(
        &self,
        key: FailedAuthKey,
        now: u64,
        window: u32,
    ) -> Result<u32, StoreError> {
        measure(
            "record_failed_auth",
            self.0.record_failed_auth(key, now, window),
        )
        .await
    }

    async fn spend_code(
        &self,
        grant: GrantId,
        code_expires_at: u64,
        family_expires_at: u64,
        family_deadline: u64,
    ) -> Result<Spend, StoreError> {
        let call = self
            .0
            .spend_code(grant, code_expires_at, family_expires_at, family_deadline);
        measure("spend_code", call).await
    }

    async fn rotate_refresh(
        &self,
        grant: GrantId,
        generation: u32,
        family_expires_at: u64,
        deadline_if_none: u64,
        revoke_until: u64,
        now: u64,
    ) -> Result<Rotation, StoreError> {
        let call = self.0.rotate_refresh(
            grant,
            generation,
            family_expires_at,
            deadline_if_none,
            revoke_until,
            now,
        );
        measure("rotate_refresh", call).await
    }

    async fn refresh_generation(
        &self,
        grant: GrantId,
        now: u64,
    ) -> Result<Option<u32>, StoreError> {
        measure("refresh_generation", self.0.refresh_generation(grant, now)).await
    }

    async fn revoke_grant(&self, grant: GrantId, until: u64) -> Result<(), StoreError> {
        measure("revoke_grant", self.0.revoke_grant(grant, until)).await
    }

    async fn revoke_token(&self, token: TokenId, until: u64) -> Result<(), StoreError> {
        measure("revoke_token", self.0.revoke_token(token, until)).await
    }

    async fn is_revoked(
        &self,
        grant: GrantId,
        token: TokenId,
        now: u64,
    ) -> Result<bool, StoreError> {
        measure("is_revoked", self.0.is_revoked(grant, token, now)).await
    }

    async fn purge_expired(&self, now: u64) -> Result<u64, StoreError> {
        measure("purge_expired", self.0.purge_expired(now)).await
    }
}
