//! The fleet's [`Store`]: one PostgreSQL database that every instance shares (service/README.md,
//! "The PostgreSQL store").
//!
//! Every operation is one prepared statement on a pooled connection, so one round trip: a
//! single-use spend is an `INSERT … ON CONFLICT DO NOTHING RETURNING`, a rotation one statement
//! whose family row is locked `FOR UPDATE` (of concurrent rotations one advances, the others find
//! the next generation and revoke, or find the family gone). Nothing is cached: the next request
//! on any instance sees a committed change. `synchronous_commit` is on for every session, so an
//! `Ok` after a write means the write is in PostgreSQL's durable log.
//!
//! Time is bounded: a connection waits at most [`POOL_WAIT`] for the pool and [`CONNECT_TIMEOUT`]
//! to connect, PostgreSQL cancels a statement after [`STATEMENT_TIMEOUT`], and the whole
//! operation is abandoned after [`OPERATION_TIMEOUT`] whatever the network does. Any of these is a
//! [`StoreError`] (the caller answers `UNAVAILABLE`); a broken connection is dropped from the pool
//! and the next operation connects again, so the store recovers by itself when PostgreSQL is back.
//!
//! The schema is created and upgraded at start-up by [`MIGRATIONS`], in one transaction under an
//! advisory lock, so instances starting together apply each migration once.

use core::future::Future;
use core::time::Duration;
use std::collections::BTreeMap;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tessera_core::{ClientId, GrantId, ID_LEN, TokenId};
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, NoTls, Row};

use self::statements::{
    IS_REVOKED, PURGE, RECORD_FAILED_AUTH, REVOKE_GRANT, REVOKE_TOKEN, ROTATE, SPEND,
};
use super::{
    ClientRecord, FailedAuthKey, Inspect, KeyRecord, PURGE_MARGIN, RefreshFamily, Rotation, Spend,
    Store, StoreError, StoreSnapshot,
};
use crate::clock::{SharedClock, SystemClock};
use crate::meter;

mod statements;

/// The schema's versions, oldest first: `(version, SQL)`. A release only appends.
pub const MIGRATIONS: &[(i32, &str)] = &[(1, include_str!("migrations/0001_initial.sql"))];

/// Most connections one instance opens.
pub const POOL_SIZE: usize = 16;
/// How long an operation waits for a free pooled connection.
pub const POOL_WAIT: Duration = Duration::from_secs(2);
/// How long opening a connection may take (unless the URL sets `connect_timeout`).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// PostgreSQL's `statement_timeout` for the server's sessions: a statement stuck on a lock or a
/// slow disk is cancelled (unless the URL's `options` set one).
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(2);
/// The most one operation takes from asking for a connection to its answer, whatever the
/// network does (a peer that vanished without closing its connections included).
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);
/// Rows one purge statement deletes per table; purges repeat until a batch falls short.
const PURGE_BATCH: i64 = 10_000;

/// `pg_advisory_xact_lock` key of schema migrations ("tessera" + 1).
const MIGRATION_LOCK: i64 = 0x7465_7373_6572_6101;
/// `pg_advisory_xact_lock` key of the master-key records ("tessera" + 2).
const KEYS_LOCK: i64 = 0x7465_7373_6572_6102;

/// A PostgreSQL connection URL (`postgres://USER[:PASSWORD]@HOST:PORT/DB[?…]`). Its `Debug`
/// and [`redacted`](Self::redacted) form never show the password; prefer `TESSERA_STORE` (the
/// environment) to the command line for a URL that holds one.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl {
    url: String,
    redacted: String,
}

impl core::fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("PostgresUrl").field(&self.redacted).finish()
    }
}

/// A URL that is not a PostgreSQL URL. Its text never holds the URL.
#[derive(Debug)]
pub struct InvalidUrl(tokio_postgres::Error);

impl core::fmt::Display for InvalidUrl {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "not a PostgreSQL URL (postgres://USER@HOST:PORT/DB): {}",
            self.0
        )
    }
}

impl core::error::Error for InvalidUrl {}

impl PostgresUrl {
    /// Parses `url`: `postgres://` or `postgresql://`, with the parameters libpq's URLs take.
    ///
    /// # Errors
    /// [`InvalidUrl`] for anything else.
    pub fn parse(url: &str) -> Result<Self, InvalidUrl> {
        let config: tokio_postgres::Config = url.parse().map_err(InvalidUrl)?;
        Ok(Self {
            url: url.to_owned(),
            redacted: redact(&config),
        })
    }

    /// True if `text` names a PostgreSQL URL (its scheme), whether or not it parses.
    pub fn is_postgres(text: &str) -> bool {
        text.starts_with("postgres://") || text.starts_with("postgresql://")
    }

    /// `postgres://USER@HOST:PORT/DB`: what logs and errors show.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }

    /// The connection settings the server uses: the URL's, with the bounded timeouts and
    /// `synchronous_commit` added.
    fn config(&self) -> Result<tokio_postgres::Config, StoreError> {
        let mut config: tokio_postgres::Config = self
            .url
            .parse()
            .map_err(|e| StoreError::new(InvalidUrl(e)))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("tessera");
        }
        config.keepalives_idle(Duration::from_secs(10));
        // Later `-c` settings win: a statement_timeout in the URL's options is kept.
        let mut options = format!(
            "-c synchronous_commit=on -c statement_timeout={} \
             -c idle_in_transaction_session_timeout={}",
            STATEMENT_TIMEOUT.as_millis(),
            OPERATION_TIMEOUT.as_millis()
        );
        if let Some(own) = config.get_options() {
            options.push(' ');
            options.push_str(own);
        }
        config.options(options);
        Ok(config)
    }
}

/// `postgres://USER@HOST:PORT/DB` from what a URL parsed to, without its password.
fn redact(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = (config.get_hosts().iter())
        .zip(config.get_ports().iter().chain(core::iter::repeat(&5432)))
        .map(|(host, port)| match host {
            tokio_postgres::config::Host::Tcp(name) => format!("{name}:{port}"),
            tokio_postgres::config::Host::Unix(path) => format!("{}:{port}", path.display()),
        })
        .collect();
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let db = config.get_dbname().unwrap_or("");
    format!("postgres://{user}{}/{db}", hosts.join(","))
}

/// A [`Store`] in a PostgreSQL database.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    url: PostgresUrl,
    /// What "now" is when a spend runs ([`Store::spend_code`]).
    clock: SharedClock,
}

impl core::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// A PostgreSQL error as a [`StoreError`]. Neither kind of error holds the URL.
fn failed(e: impl Into<Box<dyn core::error::Error + Send + Sync>>) -> StoreError {
    StoreError::new(e)
}

/// Unix seconds as PostgreSQL's `bigint`: past `i64::MAX` (in 292 billion years) saturates.
fn db_time(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

/// A `bigint` time read back; a negative one (never written) reads as 0.
fn time_of(t: i64) -> u64 {
    u64::try_from(t).unwrap_or(0)
}

/// The bytes a failed-auth key is stored under: a kind byte and the id or address.
fn failed_auth_key(key: FailedAuthKey) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(17);
    match key {
        FailedAuthKey::Client(id) => {
            bytes.push(b'c');
            bytes.extend_from_slice(id.as_bytes());
        }
        FailedAuthKey::Source(core::net::IpAddr::V4(v4)) => {
            bytes.push(b'4');
            bytes.extend_from_slice(&v4.octets());
        }
        FailedAuthKey::Source(core::net::IpAddr::V6(v6)) => {
            bytes.push(b'6');
            bytes.extend_from_slice(&v6.octets());
        }
    }
    bytes
}

fn id_of(bytes: &[u8]) -> Result<[u8; ID_LEN], StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::new("a stored id has the wrong length"))
}

/// Runs `work` on a connection of its own, on a thread of its own with its own runtime: for the
/// start-up steps (migrations, key records), which run before the server's runtime serves and
/// may be called from inside it.
fn on_setup_connection<T, F, Fut>(config: &tokio_postgres::Config, work: F) -> Result<T, StoreError>
where
    T: Send,
    F: FnOnce(tokio_postgres::Client) -> Fut + Send,
    Fut: Future<Output = Result<T, StoreError>>,
{
    std::thread::scope(|scope| {
        let setup = scope.spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(failed)?;
            runtime.block_on(async {
                let (client, connection) =
                    tokio::time::timeout(OPERATION_TIMEOUT, config.connect(NoTls))
                        .await
                        .map_err(|_| {
                            StoreError::new("PostgreSQL did not accept a connection in time")
                        })?
                        .map_err(failed)?;
                let connection = tokio::spawn(connection);
                let done = tokio::time::timeout(Duration::from_secs(60), work(client))
                    .await
                    .map_err(|_| StoreError::new("PostgreSQL start-up steps took over 60 s"));
                connection.abort();
                done?
            })
        });
        setup
            .join()
            .map_err(|_| StoreError::new("the PostgreSQL set-up thread panicked"))?
    })
}

/// Applies the migrations the database lacks, in one transaction under an advisory lock.
async fn migrate(mut client: tokio_postgres::Client) -> Result<i32, StoreError> {
    let tx = client.transaction().await.map_err(failed)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(failed)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (\
            version integer PRIMARY KEY, \
            applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .await
    .map_err(failed)?;
    let current: i32 = tx
        .query_one(
            "SELECT COALESCE(max(version), 0) FROM schema_migrations",
            &[],
        )
        .await
        .map_err(failed)?
        .get(0);
    let latest = MIGRATIONS.last().map_or(0, |(version, _)| *version);
    if current > latest {
        return Err(StoreError::new(format!(
            "the database's schema is version {current}, newer than this server's {latest}: \
             run a server at least as new as the one that upgraded it"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.batch_execute(sql).await.map_err(failed)?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[version],
        )
        .await
        .map_err(failed)?;
        tracing::info!(version, "applied a schema migration");
    }
    tx.commit().await.map_err(failed)?;
    Ok(latest)
}

/// The master-key records and whether any client is registered: what [`PostgresStore::record_keys`]
/// hands its decision.
pub type KeyLedger = (BTreeMap<u16, KeyRecord>, bool);

impl PostgresStore {
    /// Connects to `url`, creates or upgrades the schema ([`MIGRATIONS`]), and returns the
    /// store over a pool that connects as requests need it.
    ///
    /// # Errors
    /// [`StoreError`] if PostgreSQL cannot be reached in time, refuses, or holds a newer schema.
    pub fn open(url: &PostgresUrl) -> Result<Self, StoreError> {
        let config = url.config()?;
        let version = on_setup_connection(&config, migrate)?;
        tracing::info!(
            url = url.redacted(),
            schema = version,
            "PostgreSQL store ready"
        );
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(failed)?;
        Ok(Self {
            pool,
            url: url.clone(),
            clock: SystemClock::shared(),
        })
    }

    /// This store reading the time of a spend from `clock` (the system clock by default): the
    /// same clock as the authority that checked the code.
    #[must_use]
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Where it is, without the password.
    pub fn url(&self) -> &PostgresUrl {
        &self.url
    }

    /// Reads the master-key records under an advisory lock (instances starting together take
    /// turns), hands them to `decide` with whether any client is registered, and writes the
    /// records `decide` returns, if any, in the same transaction. `decide` runs while the lock
    /// is held, so what it creates (a first key file) is decided by one instance.
    ///
    /// # Errors
    /// [`StoreError`] if PostgreSQL fails; `decide`'s own error as the inner `Err`.
    pub fn record_keys<T, E>(
        &self,
        decide: impl FnOnce(KeyLedger) -> Result<(Option<BTreeMap<u16, KeyRecord>>, T), E> + Send,
    ) -> Result<Result<T, E>, StoreError>
    where
        T: Send,
        E: Send,
    {
        let config = self.url.config()?;
        on_setup_connection(&config, |mut client| async move {
            let tx = client.transaction().await.map_err(failed)?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&KEYS_LOCK])
                .await
                .map_err(failed)?;
            let rows = tx
                .query(
                    "SELECT id, fingerprint, active_since, superseded_at, lifetime \
                     FROM master_keys ORDER BY id",
                    &[],
                )
                .await
                .map_err(failed)?;
            let mut records = BTreeMap::new();
            for row in rows {
                let id: i32 = row.get(0);
                let fingerprint: Vec<u8> = row.get(1);
                let id = u16::try_from(id)
                    .map_err(|_| StoreError::new("a recorded key id is out of range"))?;
                let fingerprint: [u8; 32] = fingerprint
                    .try_into()
                    .map_err(|_| StoreError::new("a recorded key fingerprint is damaged"))?;
                let active_since: Option<i64> = row.get(2);
                let superseded_at: Option<i64> = row.get(3);
                let lifetime: i64 = row.get(4);
                records.insert(
                    id,
                    KeyRecord {
                        fingerprint,
                        active_since: active_since.map(time_of),
                        superseded_at: superseded_at.map(time_of),
                        lifetime: time_of(lifetime),
                    },
                );
            }
            let has_clients: bool = tx
                .query_one("SELECT EXISTS (SELECT 1 FROM clients)", &[])
                .await
                .map_err(failed)?
                .get(0);
            let (write, value) = match decide((records, has_clients)) {
                Ok(decided) => decided,
                Err(e) => return Ok(Err(e)),
            };
            if let Some(write) = write {
                tx.execute("DELETE FROM master_keys", &[])
                    .await
                    .map_err(failed)?;
                for (id, record) in write {
                    tx.execute(
                        "INSERT INTO master_keys \
                         (id, fingerprint, active_since, superseded_at, lifetime) \
                         VALUES ($1, $2, $3, $4, $5)",
                        &[
                            &i32::from(id),
                            &record.fingerprint.as_slice(),
                            &record.active_since.map(db_time),
                            &record.superseded_at.map(db_time),
                            &db_time(record.lifetime),
                        ],
                    )
                    .await
                    .map_err(failed)?;
                }
            }
            tx.commit().await.map_err(failed)?;
            Ok(Ok(value))
        })
    }

    /// Runs one prepared statement on a pooled connection, within [`OPERATION_TIMEOUT`].
    async fn query(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let work = async {
            let client = self.connection().await?;
            let statement = client.prepare_cached(sql).await.map_err(failed)?;
            client.query(&statement, params).await.map_err(failed)
        };
        let answer = tokio::time::timeout(OPERATION_TIMEOUT, work).await;
        self.pool_gauges();
        answer.map_err(|_| StoreError::new("PostgreSQL did not answer in time"))?
    }

    /// A pooled connection, within [`POOL_WAIT`]; the pool's gauges then count it in use.
    async fn connection(&self) -> Result<Object, StoreError> {
        let client = self.pool.get().await.map_err(failed);
        self.pool_gauges();
        client
    }

    /// Sets the pool gauges ([`meter::pool_status`]): after taking a connection, and after
    /// giving it back.
    fn pool_gauges(&self) {
        let status = self.pool.status();
        meter::pool_status(
            status.max_size,
            status.size,
            status.available,
            status.waiting,
        );
    }

    /// [`query`](Self::query) for a statement that returns exactly one row.
    async fn query_one(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, StoreError> {
        self.query(sql, params)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::new("PostgreSQL returned no row"))
    }
}

impl Store for PostgresStore {
    async fn insert_client(&self, record: ClientRecord) -> Result<(), StoreError> {
        let encoded = record.encode();
        self.query(
            "INSERT INTO clients (id, record) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record",
            &[&record.id.as_bytes().as_slice(), &encoded],
        )
        .await?;
        Ok(())
    }

    async fn client(
        &self,
        id: ClientId,
    ) -> Result<Option<std::sync::Arc<ClientRecord>>, StoreError> {
        let rows = self
            .query(
                "SELECT record FROM clients WHERE id = $1",
                &[&id.as_bytes().as_slice()],
            )
            .await?;
        match rows.first() {
            None => Ok(None),
            Some(row) => {
                let bytes: &[u8] = row.try_get(0).map_err(failed)?;
                Ok(Some(std::sync::Arc::new(ClientRecord::decode(bytes)?)))
            }
        }
    }

    async fn replace_client(
        &self,
        current: std::sync::Arc<ClientRecord>,
        new: ClientRecord,
    ) -> Result<bool, StoreError> {
        // The stored bytes are what `encode` wrote, and records decode and re-encode to the
        // same bytes (record.rs), so comparing encodings is comparing records.
        let rows = self
            .query(
                "UPDATE clients SET record = $3 WHERE id = $1 AND record = $2 RETURNING 1",
                &[
                    &new.id.as_bytes().as_slice(),
                    &current.encode(),
                    &new.encode(),
                ],
            )
            .await?;
        Ok(!rows.is_empty())
    }

    async fn delete_client(&self, id: ClientId) -> Result<bool, StoreError> {
        let rows = self
            .query(
                "DELETE FROM clients WHERE id = $1 RETURNING 1",
                &[&id.as_bytes().as_slice()],
            )
            .await?;
        Ok(!rows.is_empty())
    }

    async fn clients_page(
        &self,
        after: Option<ClientId>,
        limit: usize,
    ) -> Result<Vec<ClientRecord>, StoreError> {
        let after: Option<&[u8]> = after.as_ref().map(|id| id.as_bytes().as_slice());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .query(
                "SELECT record FROM clients WHERE $1::bytea IS NULL OR id > $1 \
                 ORDER BY id LIMIT $2",
                &[&after, &limit],
            )
            .await?;
        rows.iter()
            .map(|row| ClientRecord::decode(row.try_get(0).map_err(failed)?))
            .collect()
    }

    async fn spend_code(
        &self,
        grant: GrantId,
        code_expires_at: u64,
        family_expires_at: u64,
        family_deadline: u64,
    ) -> Result<Spend, StoreError> {
        // Read just before the statement runs (it commits within STATEMENT_TIMEOUT, far inside
        // PURGE_MARGIN): a purge may already have dropped the mark of a code at its expiry, so
        // an expired code is never spent.
        let now = self.clock.now();
        let row = self
            .query_one(
                SPEND,
                &[
                    &grant.as_bytes().as_slice(),
                    &db_time(code_expires_at),
                    &db_time(family_expires_at.min(family_deadline)),
                    &db_time(family_deadline),
                    &db_time(now),
                ],
            )
            .await?;
        let won: bool = row.try_get(0).map_err(failed)?;
        let was_spent: bool = row.try_get(1).map_err(failed)?;
        Ok(if won {
            Spend::First
        } else if was_spent || now < code_expires_at {
            // Unexpired and not inserted: another spend holds the mark (committed meanwhile).
            Spend::Replayed
        } else {
            Spend::Expired
        })
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
        let row = self
            .query_one(
                ROTATE,
                &[
                    &grant.as_bytes().as_slice(),
                    &i64::from(generation),
                    &db_time(family_expires_at),
                    &db_time(deadline_if_none),
                    &db_time(revoke_until),
                    &db_time(now),
                ],
            )
            .await?;
        let until: Option<i64> = row.try_get(0).map_err(failed)?;
        let reused: bool = row.try_get(1).map_err(failed)?;
        Ok(match (until, reused) {
            (Some(until), _) => Rotation::Rotated {
                until: time_of(until),
            },
            (None, true) => Rotation::Reused,
            (None, false) => Rotation::Unknown,
        })
    }

    async fn refresh_generation(
        &self,
        grant: GrantId,
        now: u64,
    ) -> Result<Option<u32>, StoreError> {
        let rows = self
            .query(
                "SELECT newest FROM refresh_families WHERE grant_id = $1 AND expires_at > $2",
                &[&grant.as_bytes().as_slice(), &db_time(now)],
            )
            .await?;
        match rows.first() {
            None => Ok(None),
            Some(row) => {
                let newest: i64 = row.try_get(0).map_err(failed)?;
                u32::try_from(newest)
                    .map(Some)
                    .map_err(|_| StoreError::new("a stored generation is out of range"))
            }
        }
    }

    async fn revoke_grant(&self, grant: GrantId, until: u64) -> Result<(), StoreError> {
        self.query(
            REVOKE_GRANT,
            &[&grant.as_bytes().as_slice(), &db_time(until)],
        )
        .await?;
        Ok(())
    }

    async fn revoke_token(&self, token: TokenId, until: u64) -> Result<(), StoreError> {
        self.query(
            REVOKE_TOKEN,
            &[&token.as_bytes().as_slice(), &db_time(until)],
        )
        .await?;
        Ok(())
    }

    async fn is_revoked(
        &self,
        grant: GrantId,
        token: TokenId,
        now: u64,
    ) -> Result<bool, StoreError> {
        let row = self
            .query_one(
                IS_REVOKED,
                &[
                    &grant.as_bytes().as_slice(),
                    &token.as_bytes().as_slice(),
                    &db_time(now),
                ],
            )
            .await?;
        row.try_get(0).map_err(failed)
    }

    async fn record_failed_auth(
        &self,
        key: FailedAuthKey,
        now: u64,
        window: u32,
    ) -> Result<u32, StoreError> {
        let end = now.saturating_add(u64::from(window));
        let row = self
            .query_one(
                RECORD_FAILED_AUTH,
                &[&failed_auth_key(key), &db_time(now), &db_time(end)],
            )
            .await?;
        let failures: i32 = row.try_get(0).map_err(failed)?;
        Ok(u32::try_from(failures).unwrap_or(0))
    }

    async fn purge_expired(&self, now: u64) -> Result<u64, StoreError> {
        // Kept while `until + PURGE_MARGIN > now`.
        let cut = db_time(now).saturating_sub(db_time(PURGE_MARGIN));
        let mut purged = 0u64;
        loop {
            let row = self
                .query_one(PURGE, &[&cut, &db_time(now), &PURGE_BATCH])
                .await?;
            let counts: Vec<i64> = row.try_get(0).map_err(failed)?;
            for &count in &counts {
                purged = purged.saturating_add(time_of(count));
            }
            if counts.iter().all(|&count| count < PURGE_BATCH) {
                return Ok(purged);
            }
        }
    }
}

/// Reads one `(id, bigint)` table whole.
async fn times<K: Ord>(
    tx: &deadpool_postgres::Transaction<'_>,
    sql: &str,
    key: impl Fn([u8; ID_LEN]) -> K,
) -> Result<BTreeMap<K, u64>, StoreError> {
    let mut rows = BTreeMap::new();
    for row in tx.query(sql, &[]).await.map_err(failed)? {
        let id: &[u8] = row.try_get(0).map_err(failed)?;
        let until: i64 = row.try_get(1).map_err(failed)?;
        rows.insert(key(id_of(id)?), time_of(until));
    }
    Ok(rows)
}

impl Inspect for PostgresStore {
    /// Reads every table in one repeatable-read transaction: one consistent view.
    async fn snapshot(&self) -> Result<StoreSnapshot, StoreError> {
        let work = async {
            let mut client = self.connection().await?;
            let tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err(failed)?;
            let mut clients = BTreeMap::new();
            for row in (tx.query("SELECT id, record FROM clients", &[]).await).map_err(failed)? {
                let id: &[u8] = row.try_get(0).map_err(failed)?;
                let record: &[u8] = row.try_get(1).map_err(failed)?;
                clients.insert(
                    ClientId::from_bytes(id_of(id)?),
                    ClientRecord::decode(record)?,
                );
            }
            let mut families = BTreeMap::new();
            for row in (tx
                .query(
                    "SELECT grant_id, newest, expires_at FROM refresh_families",
                    &[],
                )
                .await)
                .map_err(failed)?
            {
                let id: &[u8] = row.try_get(0).map_err(failed)?;
                let newest: i64 = row.try_get(1).map_err(failed)?;
                let expires_at: i64 = row.try_get(2).map_err(failed)?;
                families.insert(
                    GrantId::from_bytes(id_of(id)?),
                    RefreshFamily {
                        newest: u32::try_from(newest)
                            .map_err(|_| StoreError::new("a stored generation is out of range"))?,
                        expires_at: time_of(expires_at),
                    },
                );
            }
            let snapshot = StoreSnapshot {
                clients,
                spent_codes: times(
                    &tx,
                    "SELECT grant_id, expires_at FROM spent_codes",
                    GrantId::from_bytes,
                )
                .await?,
                revoked_grants: times(
                    &tx,
                    "SELECT grant_id, until FROM revoked_grants",
                    GrantId::from_bytes,
                )
                .await?,
                revoked_tokens: times(
                    &tx,
                    "SELECT token_id, until FROM revoked_tokens",
                    TokenId::from_bytes,
                )
                .await?,
                families,
                family_deadlines: times(
                    &tx,
                    "SELECT grant_id, deadline FROM family_deadlines",
                    GrantId::from_bytes,
                )
                .await?,
            };
            tx.commit().await.map_err(failed)?;
            Ok(snapshot)
        };
        let answer = tokio::time::timeout(OPERATION_TIMEOUT, work).await;
        self.pool_gauges();
        answer.map_err(|_| StoreError::new("PostgreSQL did not answer in time"))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_never_shows_its_password() {
        let url = PostgresUrl::parse("postgres://tessera:hunter2@db.example:6543/auth").unwrap();
        assert_eq!(url.redacted(), "postgres://tessera@db.example:6543/auth");
        assert!(!format!("{url:?}").contains("hunter2"));
        let error = PostgresUrl::parse("postgres://tessera:hunter2@db.example:notaport/auth")
            .unwrap_err()
            .to_string();
        assert!(!error.contains("hunter2"), "{error}");
    }

    #[test]
    fn failed_auth_keys_of_each_kind_differ() {
        let client = failed_auth_key(FailedAuthKey::Client(ClientId::from_bytes([1; 16])));
        let v4 = failed_auth_key(FailedAuthKey::Source("192.0.2.1".parse().unwrap()));
        let v6 = failed_auth_key(FailedAuthKey::Source("2001:db8::".parse().unwrap()));
        assert_eq!((client.len(), v4.len(), v6.len()), (17, 5, 17));
        assert_ne!(client[0], v6[0]);
    }
}
