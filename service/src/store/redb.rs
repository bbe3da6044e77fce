//! The embedded default [`Store`]: one `redb` file in the data directory.
//!
//! Writes go to one writer thread that runs every write waiting in its queue inside one redb
//! write transaction and commits them together (a group commit) with the default
//! `Durability::Immediate`: one fsync per batch, and no caller is answered before the commit of
//! its batch returned, so an acknowledged write survives `kill -9`. Writes run one after another
//! in the transaction, so a check-and-insert is atomic even against writes of the same batch.
//! Reads run in place on a read snapshot: they never wait for the writer.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock, mpsc};
use std::thread;

use redb::backends::InMemoryBackend;
use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    TableDefinition, WriteTransaction,
};
use tessera_core::{ClientId, GrantId, ID_LEN, TokenId};
use tokio::sync::oneshot;

use super::throttle::LocalFailures;
use super::{
    ClientRecord, FailedAuthKey, FileError, Inspect, PURGE_MARGIN, RefreshFamily, Rotation, Spend,
    Store, StoreError, StoreSnapshot,
};
use crate::clock::{SharedClock, SystemClock};

/// client id → encoded [`ClientRecord`].
pub(super) const CLIENTS: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("clients");
/// grant id of a redeemed code → the code's expiry.
const SPENT_CODES: TableDefinition<'_, &[u8], u64> = TableDefinition::new("spent_codes");
/// revoked grant id → until when.
const REVOKED_GRANTS: TableDefinition<'_, &[u8], u64> = TableDefinition::new("revoked_grants");
/// revoked token id → until when (the token's expiry).
const REVOKED_TOKENS: TableDefinition<'_, &[u8], u64> = TableDefinition::new("revoked_tokens");
/// grant id → (newest refresh generation, its expiry).
const FAMILIES: TableDefinition<'_, &[u8], (u32, u64)> = TableDefinition::new("refresh_families");
/// grant id → the refresh family's absolute deadline (`--refresh-max-lifetime` after the code
/// was spent). Its own table, so databases from before it open unchanged.
const FAMILY_DEADLINES: TableDefinition<'_, &[u8], u64> = TableDefinition::new("family_deadlines");

/// The file name of the database inside the data directory.
pub const DATABASE_FILE: &str = "tessera.redb";

/// Most writes committed together.
const MAX_BATCH: usize = 256;

/// Most client records kept decoded in memory; the cache starts over when it is full.
const MAX_CACHED_CLIENTS: usize = 65_536;

/// One queued write: run inside the batch's transaction, then answered once the commit is known.
trait Job: Send {
    /// Runs the write; `false` if it failed (the batch is then abandoned).
    fn run(&mut self, tx: &WriteTransaction) -> bool;
    /// Answers the caller: its result if the batch committed, an error otherwise.
    fn answer(self: Box<Self>, committed: Result<(), &str>);
}

struct Write<T, F> {
    write: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Write<T, F>
where
    T: Send,
    F: FnOnce(&WriteTransaction) -> Result<T, redb::Error> + Send,
{
    fn run(&mut self, tx: &WriteTransaction) -> bool {
        let Some(write) = self.write.take() else {
            return false;
        };
        let result = write(tx).map_err(StoreError::new);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn answer(self: Box<Self>, committed: Result<(), &str>) {
        let reply = match (self.result, committed) {
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (Some(Ok(_)) | None, Err(why)) => Err(StoreError::new(why.to_owned())),
            (None, Ok(())) => Err(StoreError::new("write was not run")),
        };
        // The caller may have gone away (request cancelled); the write stands either way.
        let _ = self.reply.send(reply);
    }
}

/// The group-commit loop: one transaction and one commit per batch of queued writes.
fn write_batches(db: &Database, jobs: &mpsc::Receiver<Box<dyn Job>>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let committed = (|| {
            let tx = db.begin_write().map_err(|e| e.to_string())?;
            for job in &mut batch {
                if !job.run(&tx) {
                    // Dropping `tx` aborts the batch: nothing of it is acknowledged.
                    return Err("a write of the batch failed".to_owned());
                }
            }
            tx.commit().map_err(|e| e.to_string())
        })();
        match &committed {
            // Recorded before anyone is answered: a caller that scrapes next sees its batch.
            Ok(()) => crate::meter::batch_committed(batch.len()),
            Err(why) => tracing::error!(error = %why, writes = batch.len(), "batch not committed"),
        }
        for job in batch {
            job.answer(committed.as_ref().map(|_| ()).map_err(String::as_str));
        }
    }
}

/// The writer thread; dropping the last handle stops it and waits for it.
struct Writer {
    jobs: Option<mpsc::Sender<Box<dyn Job>>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A [`Store`] in one redb database file.
#[derive(Clone)]
pub struct RedbStore {
    db: Arc<Database>,
    writer: Arc<Writer>,
    /// Every authenticated call looks its client up: keep them decoded rather than open a read
    /// transaction (a global lock in redb) and decode the record each time.
    clients: Arc<ClientCache>,
    /// What "now" is when a spend commits ([`Store::spend_code`]).
    clock: SharedClock,
    /// Failed-auth counts: in memory, as only this process opens the file.
    failures: Arc<LocalFailures>,
}

/// Decoded client records by id. Written through after each commit, so it never holds a record
/// older than the database's: a read only fills an empty slot, and only if no delete (or
/// clear) happened since the read began, or a read from before a delete could bring the
/// deleted client back.
#[derive(Default)]
struct ClientCache(RwLock<CachedClients>);

#[derive(Default)]
struct CachedClients {
    records: HashMap<ClientId, Arc<ClientRecord>>,
    /// Counts the deletes and clears: a read fills the cache only if it is unchanged.
    epoch: u64,
}

impl ClientCache {
    fn get(&self, id: &ClientId) -> Option<Arc<ClientRecord>> {
        let cache = self.0.read().unwrap_or_else(PoisonError::into_inner);
        cache.records.get(id).cloned()
    }

    /// What a read about to start passes to [`fill`](Self::fill).
    fn epoch(&self) -> u64 {
        self.0.read().unwrap_or_else(PoisonError::into_inner).epoch
    }

    /// Stores a record a commit wrote.
    fn put(&self, record: Arc<ClientRecord>) {
        let mut cache = self.0.write().unwrap_or_else(PoisonError::into_inner);
        cache.make_room(&record.id);
        cache.records.insert(record.id, record);
    }

    /// Keeps a record read from the database, begun at `epoch`, unless a commit wrote through
    /// one meanwhile (that one is returned) or a delete happened since.
    fn fill(&self, record: Arc<ClientRecord>, epoch: u64) -> Arc<ClientRecord> {
        let mut cache = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if cache.epoch != epoch {
            return record;
        }
        cache.make_room(&record.id);
        Arc::clone(cache.records.entry(record.id).or_insert(record))
    }

    /// Forgets a deleted client.
    fn remove(&self, id: &ClientId) {
        let mut cache = self.0.write().unwrap_or_else(PoisonError::into_inner);
        cache.records.remove(id);
        cache.epoch = cache.epoch.wrapping_add(1);
    }
}

impl CachedClients {
    fn make_room(&mut self, id: &ClientId) {
        if self.records.len() >= MAX_CACHED_CLIENTS && !self.records.contains_key(id) {
            self.records.clear();
            self.epoch = self.epoch.wrapping_add(1);
        }
    }
}

impl core::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RedbStore").finish_non_exhaustive()
    }
}

impl RedbStore {
    /// Opens `<data_dir>/tessera.redb`, creating it if it does not exist: see
    /// [`open_file`](Self::open_file).
    ///
    /// # Errors
    /// [`StoreError`] wrapping the [`FileError`].
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let path = data_dir.join(DATABASE_FILE);
        let create = !path.exists();
        Self::open_file(&path, create).map_err(StoreError::new)
    }

    /// Creates a new database file at `path` (mode 0600) if `create`, else opens the existing one
    /// once [`CheckedFile`](super::CheckedFile) passed: an empty or damaged file is refused and
    /// left as it was.
    ///
    /// # Errors
    /// [`FileError`] naming the file and the fix: damaged, empty, locked by another process or
    /// unreadable.
    pub fn open_file(path: &Path, create: bool) -> Result<Self, FileError> {
        let db = super::file::open(path, create)?;
        // It holds secret verifiers: readable by the server's user only.
        std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .map_err(|e| FileError::io(path, e))?;
        Self::with_database(db).map_err(|e| FileError::io(path, io::Error::other(e)))
    }

    /// Opens the file `checked` viewed (see [`open_file`](Self::open_file)).
    ///
    /// # Errors
    /// [`FileError`] naming the file.
    pub fn open_checked(checked: super::CheckedFile) -> Result<Self, FileError> {
        let path = checked.path().to_owned();
        let db = super::file::open_checked(checked)?;
        Self::with_database(db).map_err(|e| FileError::io(&path, io::Error::other(e)))
    }

    /// The database, for the master-key records ([`super::file`]).
    pub(super) fn database(&self) -> &Database {
        &self.db
    }

    /// A store in memory, gone with the process: the same tables, transactions and writer as
    /// [`open`](Self::open), without the file. For fuzzing, which needs a fresh store per input.
    ///
    /// # Errors
    /// [`StoreError`] if redb cannot create the database.
    #[doc(hidden)]
    pub fn in_memory() -> Result<Self, StoreError> {
        let db = Database::builder()
            .create_with_backend(InMemoryBackend::new())
            .map_err(StoreError::new)?;
        Self::with_database(db)
    }

    /// Creates the tables and starts the writer thread.
    fn with_database(db: Database) -> Result<Self, StoreError> {
        let tx = db.begin_write().map_err(StoreError::new)?;
        {
            tx.open_table(CLIENTS).map_err(StoreError::new)?;
            tx.open_table(SPENT_CODES).map_err(StoreError::new)?;
            tx.open_table(REVOKED_GRANTS).map_err(StoreError::new)?;
            tx.open_table(REVOKED_TOKENS).map_err(StoreError::new)?;
            tx.open_table(FAMILIES).map_err(StoreError::new)?;
            tx.open_table(FAMILY_DEADLINES).map_err(StoreError::new)?;
        }
        tx.commit().map_err(StoreError::new)?;
        let db = Arc::new(db);
        let (jobs, queue) = mpsc::channel();
        let thread = {
            let db = Arc::clone(&db);
            thread::Builder::new()
                .name("tessera-redb-writer".to_owned())
                .spawn(move || write_batches(&db, &queue))
                .map_err(StoreError::new)?
        };
        Ok(Self {
            db,
            writer: Arc::new(Writer {
                jobs: Some(jobs),
                thread: Some(thread),
            }),
            clients: Arc::default(),
            clock: SystemClock::shared(),
            failures: Arc::default(),
        })
    }

    /// This store reading the time of a spend's commit from `clock` (the system clock by
    /// default): the same clock as the authority that checked the code.
    #[must_use]
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Queues a write for the next group commit and waits until it is durable.
    async fn write<T, F>(&self, write: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T, redb::Error> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(Write {
            write: Some(write),
            result: None,
            reply,
        });
        self.writer
            .jobs
            .as_ref()
            .ok_or_else(|| StoreError::new("writer stopped"))?
            .send(job)
            .map_err(|_| StoreError::new("writer stopped"))?;
        answer
            .await
            .map_err(|_| StoreError::new("writer stopped"))?
    }

    /// Runs a read in place. redb reads never wait for the writer (MVCC snapshots) and hot pages
    /// are in memory, so a read costs a few microseconds: less than a hop to the blocking pool.
    #[allow(
        clippy::unused_async,
        reason = "the Store interface is async for remote backends"
    )]
    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Database) -> Result<T, redb::Error>,
    {
        f(&self.db).map_err(StoreError::new)
    }
}

fn is_live(until: Option<redb::AccessGuard<'_, u64>>, now: u64) -> bool {
    until.is_some_and(|until| until.value() > now)
}

impl Store for RedbStore {
    async fn insert_client(&self, record: ClientRecord) -> Result<(), StoreError> {
        let record = Arc::new(record);
        let encoded = record.encode();
        let id = record.id;
        self.write(move |tx| {
            tx.open_table(CLIENTS)?
                .insert(id.as_bytes().as_slice(), encoded.as_slice())?;
            Ok(())
        })
        .await?;
        self.clients.put(record);
        Ok(())
    }

    async fn replace_client(
        &self,
        current: Arc<ClientRecord>,
        new: ClientRecord,
    ) -> Result<bool, StoreError> {
        let new = Arc::new(new);
        let encoded = new.encode();
        let id = new.id;
        let replaced = self
            .write(move |tx| {
                let mut table = tx.open_table(CLIENTS)?;
                let key = id.as_bytes().as_slice();
                let unchanged = match table.get(key)? {
                    // Compared decoded: a record written by another version may encode its
                    // fields differently.
                    Some(stored) => {
                        ClientRecord::decode(stored.value()).is_ok_and(|stored| stored == *current)
                    }
                    None => false,
                };
                if unchanged {
                    table.insert(key, encoded.as_slice())?;
                }
                Ok(unchanged)
            })
            .await?;
        if replaced {
            self.clients.put(new);
        }
        Ok(replaced)
    }

    async fn delete_client(&self, id: ClientId) -> Result<bool, StoreError> {
        let deleted = self
            .write(move |tx| {
                let deleted = tx
                    .open_table(CLIENTS)?
                    .remove(id.as_bytes().as_slice())?
                    .is_some();
                Ok(deleted)
            })
            .await?;
        self.clients.remove(&id);
        Ok(deleted)
    }

    async fn clients_page(
        &self,
        after: Option<ClientId>,
        limit: usize,
    ) -> Result<Vec<ClientRecord>, StoreError> {
        let rows = self
            .run(move |db| {
                let tx = db.begin_read()?;
                let table = tx.open_table(CLIENTS)?;
                let start = after.map(|id| *id.as_bytes());
                let range = match &start {
                    Some(after) => table.range::<&[u8]>((
                        core::ops::Bound::Excluded(after.as_slice()),
                        core::ops::Bound::Unbounded,
                    ))?,
                    None => table.iter()?,
                };
                let mut rows = Vec::new();
                for entry in range.take(limit) {
                    rows.push(entry?.1.value().to_vec());
                }
                Ok(rows)
            })
            .await?;
        rows.iter()
            .map(|bytes| ClientRecord::decode(bytes))
            .collect()
    }

    async fn client(&self, id: ClientId) -> Result<Option<Arc<ClientRecord>>, StoreError> {
        if let Some(record) = self.clients.get(&id) {
            return Ok(Some(record));
        }
        let epoch = self.clients.epoch();
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
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        let record = Arc::new(ClientRecord::decode(&bytes)?);
        Ok(Some(self.clients.fill(record, epoch)))
    }

    async fn spend_code(
        &self,
        grant: GrantId,
        code_expires_at: u64,
        family_expires_at: u64,
        family_deadline: u64,
    ) -> Result<Spend, StoreError> {
        let clock = Arc::clone(&self.clock);
        self.write(move |tx| {
            let key = grant.as_bytes().as_slice();
            let spend = {
                let mut spent = tx.open_table(SPENT_CODES)?;
                if spent.get(key)?.is_some() {
                    Spend::Replayed
                } else if clock.now() >= code_expires_at {
                    // Read here, in the batch that commits: a purge may already have dropped
                    // the mark of a code at its expiry, so an expired code is never spent.
                    Spend::Expired
                } else {
                    spent.insert(key, code_expires_at)?;
                    tx.open_table(FAMILIES)?
                        .insert(key, (0, family_expires_at.min(family_deadline)))?;
                    tx.open_table(FAMILY_DEADLINES)?
                        .insert(key, family_deadline)?;
                    Spend::First
                }
            };
            Ok(spend)
        })
        .await
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
        self.write(move |tx| {
            let key = grant.as_bytes().as_slice();
            let rotation = {
                let mut revoked = tx.open_table(REVOKED_GRANTS)?;
                let mut families = tx.open_table(FAMILIES)?;
                let mut deadlines = tx.open_table(FAMILY_DEADLINES)?;
                let newest = families
                    .get(key)?
                    .map(|v| v.value())
                    .filter(|&(_, expires_at)| expires_at > now);
                let deadline = deadlines.get(key)?.map(|v| v.value());
                if is_live(revoked.get(key)?, now) {
                    Rotation::Unknown
                } else {
                    match newest {
                        Some((newest, _)) if generation == newest => {
                            let deadline = deadline.unwrap_or(deadline_if_none);
                            match newest.checked_add(1) {
                                Some(next) if now < deadline => {
                                    let until = family_expires_at.min(deadline);
                                    families.insert(key, (next, until))?;
                                    deadlines.insert(key, deadline)?;
                                    Rotation::Rotated { until }
                                }
                                _ => Rotation::Unknown,
                            }
                        }
                        Some((newest, _)) if generation < newest => {
                            families.remove(key)?;
                            revoked.insert(key, revoke_until)?;
                            Rotation::Reused
                        }
                        _ => Rotation::Unknown,
                    }
                }
            };
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
        self.write(move |tx| {
            let key = grant.as_bytes().as_slice();
            {
                let mut revoked = tx.open_table(REVOKED_GRANTS)?;
                let longest = revoked.get(key)?.map_or(until, |v| v.value().max(until));
                revoked.insert(key, longest)?;
                tx.open_table(FAMILIES)?.remove(key)?;
            }
            Ok(())
        })
        .await
    }

    async fn revoke_token(&self, token: TokenId, until: u64) -> Result<(), StoreError> {
        self.write(move |tx| {
            let key = token.as_bytes().as_slice();
            let mut revoked = tx.open_table(REVOKED_TOKENS)?;
            let longest = revoked.get(key)?.map_or(until, |v| v.value().max(until));
            revoked.insert(key, longest)?;
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

    async fn record_failed_auth(
        &self,
        key: FailedAuthKey,
        now: u64,
        window: u32,
    ) -> Result<u32, StoreError> {
        Ok(self.failures.record(key, now, window))
    }

    async fn purge_expired(&self, now: u64) -> Result<u64, StoreError> {
        let windows = self.failures.purge(now);
        let kept = move |until: u64| until.saturating_add(PURGE_MARGIN) > now;
        self.write(move |tx| {
            let mut purged = 0u64;
            for definition in [
                SPENT_CODES,
                REVOKED_GRANTS,
                REVOKED_TOKENS,
                FAMILY_DEADLINES,
            ] {
                let mut table = tx.open_table(definition)?;
                let before = table.len()?;
                table.retain(|_, until| kept(until))?;
                purged = purged.saturating_add(before.saturating_sub(table.len()?));
            }
            let mut families = tx.open_table(FAMILIES)?;
            let before = families.len()?;
            families.retain(|_, (_, expires_at)| kept(expires_at))?;
            purged = purged.saturating_add(before.saturating_sub(families.len()?));
            drop(families);
            Ok(purged.saturating_add(windows))
        })
        .await
    }
}

/// Reads one table whole, its keys as ids and its values through `value`.
fn rows<K: Ord, T, V: redb::Value + 'static>(
    tx: &ReadTransaction,
    definition: TableDefinition<'_, &[u8], V>,
    key: impl Fn([u8; ID_LEN]) -> K,
    value: impl Fn(V::SelfType<'_>) -> T,
) -> Result<BTreeMap<K, T>, redb::Error> {
    let table = tx.open_table(definition)?;
    let mut rows = BTreeMap::new();
    for entry in table.iter()? {
        let (k, v) = entry?;
        let id: [u8; ID_LEN] = k
            .value()
            .try_into()
            .map_err(|_| redb::Error::Corrupted("a key is not an id".to_owned()))?;
        rows.insert(key(id), value(v.value()));
    }
    Ok(rows)
}

impl Inspect for RedbStore {
    /// Reads every table from one read transaction: the committed state, not the client cache.
    async fn snapshot(&self) -> Result<StoreSnapshot, StoreError> {
        let (clients, rest) = self
            .run(|db| {
                let tx = db.begin_read()?;
                let until = |until: u64| until;
                let snapshot = StoreSnapshot {
                    clients: BTreeMap::new(),
                    spent_codes: rows(&tx, SPENT_CODES, GrantId::from_bytes, until)?,
                    revoked_grants: rows(&tx, REVOKED_GRANTS, GrantId::from_bytes, until)?,
                    revoked_tokens: rows(&tx, REVOKED_TOKENS, TokenId::from_bytes, until)?,
                    families: rows(
                        &tx,
                        FAMILIES,
                        GrantId::from_bytes,
                        |(newest, expires_at)| RefreshFamily { newest, expires_at },
                    )?,
                    family_deadlines: rows(&tx, FAMILY_DEADLINES, GrantId::from_bytes, until)?,
                };
                let clients = rows(&tx, CLIENTS, ClientId::from_bytes, <[u8]>::to_vec)?;
                Ok((clients, snapshot))
            })
            .await?;
        let clients = (clients.into_iter())
            .map(|(id, bytes)| Ok((id, ClientRecord::decode(&bytes)?)))
            .collect::<Result<_, StoreError>>()?;
        Ok(StoreSnapshot { clients, ..rest })
    }
}

// What every backend must do is tested by the conformance suite (`tessera-testkit`'s `store`,
// run on redb by `service/tests/store.rs`); these tests are of redb's own parts.
#[cfg(test)]
mod tests {
    use super::*;

    fn grant(n: u8) -> GrantId {
        GrantId::from_bytes([n; 16])
    }

    /// A time base: spends read the real clock, so codes must expire after it.
    fn t() -> u64 {
        crate::clock::Clock::now(&crate::clock::SystemClock)
    }

    #[tokio::test]
    async fn a_family_from_before_deadlines_gets_one_at_its_next_rotation() {
        let store = RedbStore::in_memory().unwrap();
        let t = t();
        store
            .spend_code(grant(2), t + 60, t + 1000, t + 1000)
            .await
            .unwrap();
        store
            .write(move |tx| {
                tx.open_table(FAMILY_DEADLINES)?
                    .remove(grant(2).as_bytes().as_slice())?;
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(
            store
                .rotate_refresh(grant(2), 0, t + 900, t + 20, t + 3000, t + 10)
                .await
                .unwrap(),
            Rotation::Rotated { until: t + 20 }
        );
        assert_eq!(
            store
                .rotate_refresh(grant(2), 1, t + 900, t + 5000, t + 3000, t + 20)
                .await
                .unwrap(),
            Rotation::Unknown,
            "past the deadline it was given"
        );
    }

    fn client(name: &str) -> ClientRecord {
        ClientRecord {
            id: ClientId::from_bytes([7; 16]),
            name: name.to_owned(),
            redirect_uris: vec!["https://app.example/cb".to_owned()],
            scope: tessera_core::Scope::parse("read").unwrap(),
            verifier: None,
            issued_at: 1,
            previous: None,
        }
    }

    #[test]
    fn a_read_never_overwrites_a_written_through_record() {
        let cache = ClientCache::default();
        let epoch = cache.epoch();
        cache.put(Arc::new(client("written")));
        let got = cache.fill(Arc::new(client("read before the write")), epoch);
        assert_eq!(got.name, "written");
        assert_eq!(cache.get(&got.id).unwrap().name, "written");
    }

    #[test]
    fn a_read_from_before_a_delete_never_brings_the_client_back() {
        let cache = ClientCache::default();
        cache.put(Arc::new(client("deleted")));
        let epoch = cache.epoch();
        cache.remove(&client("x").id);
        cache.fill(Arc::new(client("read before the delete")), epoch);
        assert!(cache.get(&client("x").id).is_none());
    }

    #[tokio::test]
    async fn a_snapshot_reads_the_file_not_the_client_cache() {
        let store = RedbStore::in_memory().unwrap();
        store.insert_client(client("cached")).await.unwrap();
        // Only the cache holds this one.
        store.clients.put(Arc::new(client("not committed")));
        let snapshot = store.snapshot().await.unwrap();
        assert_eq!(snapshot.clients.len(), 1);
        assert_eq!(snapshot.clients[&client("x").id].name, "cached");
    }
}
