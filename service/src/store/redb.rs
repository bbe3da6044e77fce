//! The embedded default [`Store`]: one `redb` file in the data directory.
//!
//! Every write is a redb write transaction committed with the default `Durability::Immediate`
//! (fsync before `commit` returns), so an acknowledged write survives `kill -9`. redb runs one
//! write transaction at a time, which makes check-and-insert atomic. Calls block, so they run on
//! tokio's blocking pool.

use std::path::Path;
use std::sync::Arc;

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use tessera_core::{ClientId, GrantId, TokenId};

use super::{ClientRecord, Rotation, Spend, Store, StoreError};

/// client id → encoded [`ClientRecord`].
const CLIENTS: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("clients");
/// grant id of a redeemed code → the code's expiry.
const SPENT_CODES: TableDefinition<'_, &[u8], u64> = TableDefinition::new("spent_codes");
/// revoked grant id → until when.
const REVOKED_GRANTS: TableDefinition<'_, &[u8], u64> = TableDefinition::new("revoked_grants");
/// revoked token id → until when (the token's expiry).
const REVOKED_TOKENS: TableDefinition<'_, &[u8], u64> = TableDefinition::new("revoked_tokens");
/// grant id → (newest refresh generation, its expiry).
const FAMILIES: TableDefinition<'_, &[u8], (u32, u64)> = TableDefinition::new("refresh_families");

/// The file name of the database inside the data directory.
pub const DATABASE_FILE: &str = "tessera.redb";

/// A [`Store`] in one redb database file.
#[derive(Clone)]
pub struct RedbStore {
    db: Arc<Database>,
}

impl core::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RedbStore").finish_non_exhaustive()
    }
}

impl RedbStore {
    /// Opens (or creates) `<data_dir>/tessera.redb` and its tables.
    ///
    /// # Errors
    /// [`StoreError`] if the file cannot be opened or is locked by another process.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let db = Database::create(data_dir.join(DATABASE_FILE)).map_err(StoreError::new)?;
        let tx = db.begin_write().map_err(StoreError::new)?;
        {
            tx.open_table(CLIENTS).map_err(StoreError::new)?;
            tx.open_table(SPENT_CODES).map_err(StoreError::new)?;
            tx.open_table(REVOKED_GRANTS).map_err(StoreError::new)?;
            tx.open_table(REVOKED_TOKENS).map_err(StoreError::new)?;
            tx.open_table(FAMILIES).map_err(StoreError::new)?;
        }
        tx.commit().map_err(StoreError::new)?;
        Ok(Self { db: Arc::new(db) })
    }

    /// Runs a blocking database call on the blocking pool.
    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, redb::Error> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .map_err(StoreError::new)?
            .map_err(StoreError::new)
    }
}

fn is_live(until: Option<redb::AccessGuard<'_, u64>>, now: u64) -> bool {
    until.is_some_and(|until| until.value() > now)
}

impl Store for RedbStore {
    async fn insert_client(&self, record: ClientRecord) -> Result<(), StoreError> {
        self.run(move |db| {
            let tx = db.begin_write()?;
            tx.open_table(CLIENTS)?
                .insert(record.id.as_bytes().as_slice(), record.encode().as_slice())?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn client(&self, id: ClientId) -> Result<Option<ClientRecord>, StoreError> {
        let bytes = self
            .run(move |db| {
                let tx = db.begin_read()?;
                let table = tx.open_table(CLIENTS)?;
                let bytes = table
                    .get(id.as_bytes().as_slice())?
                    .map(|v| v.value().to_vec());
                Ok(bytes)
            })
            .await?;
        bytes.map(|b| ClientRecord::decode(&b)).transpose()
    }

    async fn spend_code(
        &self,
        grant: GrantId,
        code_expires_at: u64,
        family_expires_at: u64,
    ) -> Result<Spend, StoreError> {
        self.run(move |db| {
            let key = grant.as_bytes().as_slice();
            let tx = db.begin_write()?;
            let spend = {
                let mut spent = tx.open_table(SPENT_CODES)?;
                if spent.get(key)?.is_some() {
                    Spend::Replayed
                } else {
                    spent.insert(key, code_expires_at)?;
                    tx.open_table(FAMILIES)?
                        .insert(key, (0, family_expires_at))?;
                    Spend::First
                }
            };
            tx.commit()?;
            Ok(spend)
        })
        .await
    }

    async fn rotate_refresh(
        &self,
        grant: GrantId,
        generation: u32,
        family_expires_at: u64,
        revoke_until: u64,
        now: u64,
    ) -> Result<Rotation, StoreError> {
        self.run(move |db| {
            let key = grant.as_bytes().as_slice();
            let tx = db.begin_write()?;
            let rotation = {
                let mut revoked = tx.open_table(REVOKED_GRANTS)?;
                let mut families = tx.open_table(FAMILIES)?;
                let newest = families
                    .get(key)?
                    .map(|v| v.value())
                    .filter(|&(_, expires_at)| expires_at > now);
                if is_live(revoked.get(key)?, now) {
                    Rotation::Unknown
                } else {
                    match newest {
                        Some((newest, _)) if generation == newest => match newest.checked_add(1) {
                            Some(next) => {
                                families.insert(key, (next, family_expires_at))?;
                                Rotation::Rotated
                            }
                            None => Rotation::Unknown,
                        },
                        Some((newest, _)) if generation < newest => {
                            families.remove(key)?;
                            revoked.insert(key, revoke_until)?;
                            Rotation::Reused
                        }
                        _ => Rotation::Unknown,
                    }
                }
            };
            tx.commit()?;
            Ok(rotation)
        })
        .await
    }

    async fn refresh_generation(
        &self,
        grant: GrantId,
        now: u64,
    ) -> Result<Option<u32>, StoreError> {
        self.run(move |db| {
            let tx = db.begin_read()?;
            let newest = tx
                .open_table(FAMILIES)?
                .get(grant.as_bytes().as_slice())?
                .map(|v| v.value())
                .filter(|&(_, expires_at)| expires_at > now)
                .map(|(generation, _)| generation);
            Ok(newest)
        })
        .await
    }

    async fn revoke_grant(&self, grant: GrantId, until: u64) -> Result<(), StoreError> {
        self.run(move |db| {
            let key = grant.as_bytes().as_slice();
            let tx = db.begin_write()?;
            {
                let mut revoked = tx.open_table(REVOKED_GRANTS)?;
                let longest = revoked.get(key)?.map_or(until, |v| v.value().max(until));
                revoked.insert(key, longest)?;
                tx.open_table(FAMILIES)?.remove(key)?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn revoke_token(&self, token: TokenId, until: u64) -> Result<(), StoreError> {
        self.run(move |db| {
            let tx = db.begin_write()?;
            tx.open_table(REVOKED_TOKENS)?
                .insert(token.as_bytes().as_slice(), until)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn is_revoked(
        &self,
        grant: GrantId,
        token: TokenId,
        now: u64,
    ) -> Result<bool, StoreError> {
        self.run(move |db| {
            let tx = db.begin_read()?;
            Ok(is_live(
                tx.open_table(REVOKED_GRANTS)?
                    .get(grant.as_bytes().as_slice())?,
                now,
            ) || is_live(
                tx.open_table(REVOKED_TOKENS)?
                    .get(token.as_bytes().as_slice())?,
                now,
            ))
        })
        .await
    }

    async fn purge_expired(&self, now: u64) -> Result<u64, StoreError> {
        self.run(move |db| {
            let tx = db.begin_write()?;
            let mut purged = 0u64;
            for definition in [SPENT_CODES, REVOKED_GRANTS, REVOKED_TOKENS] {
                let mut table = tx.open_table(definition)?;
                let before = table.len()?;
                table.retain(|_, until| until > now)?;
                purged = purged.saturating_add(before.saturating_sub(table.len()?));
            }
            let mut families = tx.open_table(FAMILIES)?;
            let before = families.len()?;
            families.retain(|_, (_, expires_at)| expires_at > now)?;
            purged = purged.saturating_add(before.saturating_sub(families.len()?));
            drop(families);
            tx.commit()?;
            Ok(purged)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(n: u8) -> GrantId {
        GrantId::from_bytes([n; 16])
    }

    #[tokio::test]
    async fn spend_rotate_revoke_and_purge() {
        let dir = tempfile::tempdir().unwrap();
        let store = RedbStore::open(dir.path()).unwrap();
        let token = TokenId::from_bytes([9; 16]);

        assert_eq!(
            store.spend_code(grant(1), 100, 1000).await.unwrap(),
            Spend::First
        );
        assert_eq!(
            store.spend_code(grant(1), 100, 1000).await.unwrap(),
            Spend::Replayed
        );
        assert_eq!(
            store.refresh_generation(grant(1), 10).await.unwrap(),
            Some(0)
        );

        let rotate = |generation| store.rotate_refresh(grant(1), generation, 2000, 3000, 10);
        assert_eq!(
            rotate(1).await.unwrap(),
            Rotation::Unknown,
            "a future generation"
        );
        assert_eq!(rotate(0).await.unwrap(), Rotation::Rotated);
        assert_eq!(rotate(1).await.unwrap(), Rotation::Rotated);
        assert_eq!(
            store.refresh_generation(grant(1), 10).await.unwrap(),
            Some(2)
        );
        assert_eq!(rotate(0).await.unwrap(), Rotation::Reused);
        assert!(store.is_revoked(grant(1), token, 10).await.unwrap());
        assert_eq!(
            rotate(2).await.unwrap(),
            Rotation::Unknown,
            "the family is gone"
        );
        assert_eq!(
            store
                .rotate_refresh(grant(2), 0, 2000, 3000, 10)
                .await
                .unwrap(),
            Rotation::Unknown
        );

        store.revoke_token(token, 50).await.unwrap();
        assert!(store.is_revoked(grant(3), token, 49).await.unwrap());
        assert!(!store.is_revoked(grant(3), token, 50).await.unwrap());

        // At 200: the spent code (100) and the token revocation (50) are gone; the grant
        // revocation (3000) stays.
        assert_eq!(store.purge_expired(200).await.unwrap(), 2);
        assert!(store.is_revoked(grant(1), token, 200).await.unwrap());
        assert_eq!(store.purge_expired(200).await.unwrap(), 0);
        assert_eq!(store.purge_expired(5000).await.unwrap(), 1);
        assert!(!store.is_revoked(grant(1), token, 200).await.unwrap());
    }

    #[tokio::test]
    async fn a_family_expires() {
        let dir = tempfile::tempdir().unwrap();
        let store = RedbStore::open(dir.path()).unwrap();
        store.spend_code(grant(1), 100, 1000).await.unwrap();
        assert_eq!(
            store.refresh_generation(grant(1), 1000).await.unwrap(),
            None
        );
        assert_eq!(
            store
                .rotate_refresh(grant(1), 0, 2000, 3000, 1000)
                .await
                .unwrap(),
            Rotation::Unknown
        );
        assert_eq!(store.purge_expired(1000).await.unwrap(), 2);
    }
}
