//! The backend a [`StoreConfig`](crate::config::StoreConfig) selected, as one [`Store`]: the
//! server and its handlers run over it and never name a backend. A new backend is a variant
//! here and one arm per method.

use std::sync::Arc;

use tessera_core::{ClientId, GrantId, TokenId};

use super::{
    ClientRecord, FailedAuthKey, PostgresStore, RedbStore, Rotation, Spend, Store, StoreError,
};

/// One of the storage backends.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Backend {
    /// The embedded redb database.
    Embedded(RedbStore),
    /// A PostgreSQL database, shared by a fleet.
    Postgres(PostgresStore),
}

impl From<PostgresStore> for Backend {
    fn from(store: PostgresStore) -> Self {
        Self::Postgres(store)
    }
}

impl From<RedbStore> for Backend {
    fn from(store: RedbStore) -> Self {
        Self::Embedded(store)
    }
}

impl Store for Backend {
    async fn insert_client(&self, record: ClientRecord) -> Result<(), StoreError> {
        match self {
            Self::Embedded(s) => s.insert_client(record).await,
            Self::Postgres(s) => s.insert_client(record).await,
        }
    }

    async fn client(&self, id: ClientId) -> Result<Option<Arc<ClientRecord>>, StoreError> {
        match self {
            Self::Embedded(s) => s.client(id).await,
            Self::Postgres(s) => s.client(id).await,
        }
    }

    async fn replace_client(
        &self,
        current: Arc<ClientRecord>,
        new: ClientRecord,
    ) -> Result<bool, StoreError> {
        match self {
            Self::Embedded(s) => s.replace_client(current, new).await,
            Self::Postgres(s) => s.replace_client(current, new).await,
        }
    }

    async fn delete_client(&self, id: ClientId) -> Result<bool, StoreError> {
        match self {
            Self::Embedded(s) => s.delete_client(id).await,
            Self::Postgres(s) => s.delete_client(id).await,
        }
    }

    async fn clients_page(
        &self,
        after: Option<ClientId>,
        limit: usize,
    ) -> Result<Vec<ClientRecord>, StoreError> {
        match self {
            Self::Embedded(s) => s.clients_page(after, limit).await,
            Self::Postgres(s) => s.clients_page(after, limit).await,
        }
    }

    async fn spend_code(
        &self,
        grant: GrantId,
        code_expires_at: u64,
        family_expires_at: u64,
        family_deadline: u64,
    ) -> Result<Spend, StoreError> {
        match self {
            Self::Embedded(s) => {
                s.spend_code(grant, code_expires_at, family_expires_at, family_deadline)
                    .await
            }
            Self::Postgres(s) => {
                s.spend_code(grant, code_expires_at, family_expires_at, family_deadline)
                    .await
            }
        }
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
        match self {
            Self::Embedded(s) => {
                s.rotate_refresh(
                    grant,
                    generation,
                    family_expires_at,
                    deadline_if_none,
                    revoke_until,
                    now,
                )
                .await
            }
            Self::Postgres(s) => {
                s.rotate_refresh(
                    grant,
                    generation,
                    family_expires_at,
                    deadline_if_none,
                    revoke_until,
                    now,
                )
                .await
            }
        }
    }

    async fn refresh_generation(
        &self,
        grant: GrantId,
        now: u64,
    ) -> Result<Option<u32>, StoreError> {
        match self {
            Self::Embedded(s) => s.refresh_generation(grant, now).await,
            Self::Postgres(s) => s.refresh_generation(grant, now).await,
        }
    }

    async fn revoke_grant(&self, grant: GrantId, until: u64) -> Result<(), StoreError> {
        match self {
            Self::Embedded(s) => s.revoke_grant(grant, until).await,
            Self::Postgres(s) => s.revoke_grant(grant, until).await,
        }
    }

    async fn revoke_token(&self, token: TokenId, until: u64) -> Result<(), StoreError> {
        match self {
            Self::Embedded(s) => s.revoke_token(token, until).await,
            Self::Postgres(s) => s.revoke_token(token, until).await,
        }
    }

    async fn is_revoked(
        &self,
        grant: GrantId,
        token: TokenId,
        now: u64,
    ) -> Result<bool, StoreError> {
        match self {
            Self::Embedded(s) => s.is_revoked(grant, token, now).await,
            Self::Postgres(s) => s.is_revoked(grant, token, now).await,
        }
    }

    async fn record_failed_auth(
        &self,
        key: FailedAuthKey,
        now: u64,
        window: u32,
    ) -> Result<u32, StoreError> {
        match self {
            Self::Embedded(s) => s.record_failed_auth(key, now, window).await,
            Self::Postgres(s) => s.record_failed_auth(key, now, window).await,
        }
    }

    async fn purge_expired(&self, now: u64) -> Result<u64, StoreError> {
        match self {
            Self::Embedded(s) => s.purge_expired(now).await,
            Self::Postgres(s) => s.purge_expired(now).await,
        }
    }
}
