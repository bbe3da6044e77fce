//! The database file: checked before it is opened, so a damaged file is refused with an error
//! and left byte for byte as it was, and the master-key records that tie it to its `keys` file.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use redb::backends::FileBackend;
use redb::{Database, DatabaseError, ReadableDatabase, ReadableTable, TableDefinition};

use super::overlay::Overlay;
use super::redb::CLIENTS;
use super::{ClientRecord, StoreError};

/// key id → (fingerprint, active since, superseded at, longest token lifetime while active); a
/// time of 0 means "not yet". See [`KeyRecord`].
const MASTER_KEYS: TableDefinition<'_, u16, ([u8; 32], u64, u64, u64)> =
    TableDefinition::new("master_keys");

/// What the database remembers of one master key, never the key itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyRecord {
    /// HMAC-SHA256 of a fixed label under the key: identifies the key, reveals nothing of it.
    pub fingerprint: [u8; 32],
    /// When a server first started minting with it (unix seconds), if one did.
    pub active_since: Option<u64>,
    /// When a server first started minting with a later key, if one did.
    pub superseded_at: Option<u64>,
    /// The longest a token minted under it lives (seconds): the servers' largest lifetime.
    pub lifetime: u64,
}

impl KeyRecord {
    /// True if a token minted under this key may still verify at `now`.
    pub fn may_have_live_tokens(&self, now: u64) -> bool {
        match (self.active_since, self.superseded_at) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(_), Some(superseded)) => superseded.saturating_add(self.lifetime) > now,
        }
    }
}

/// Why the database file cannot be used. Its `Display` names the file and the fix.
#[derive(Debug)]
pub struct FileError {
    path: PathBuf,
    problem: Problem,
}

#[derive(Debug)]
enum Problem {
    Empty,
    InUse,
    Damaged(String),
    Io(io::Error),
}

impl FileError {
    /// An I/O error on `path`.
    pub(super) fn io(path: &Path, e: io::Error) -> Self {
        Self {
            path: path.to_owned(),
            problem: Problem::Io(e),
        }
    }

    /// True if another process (a running server) holds the file.
    pub const fn is_in_use(&self) -> bool {
        matches!(self.problem, Problem::InUse)
    }
}

impl core::fmt::Display for FileError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let path = self.path.display();
        match &self.problem {
            Problem::Empty => write!(
                f,
                "{path} is empty (0 bytes): the database was lost; restore the data directory \
                 from a backup"
            ),
            Problem::InUse => write!(
                f,
                "{path} is in use by another process (a running server?): stop it first"
            ),
            Problem::Damaged(why) => write!(
                f,
                "{path} is damaged ({why}): restore the data directory from a backup"
            ),
            Problem::Io(e) => write!(f, "cannot open {path}: {e}"),
        }
    }
}

impl core::error::Error for FileError {}

fn problem_of(e: DatabaseError) -> Problem {
    match e {
        DatabaseError::DatabaseAlreadyOpen => Problem::InUse,
        DatabaseError::Storage(redb::StorageError::Io(e)) => Problem::Io(e),
        other => Problem::Damaged(other.to_string()),
    }
}

/// A checked, read-only view of a database file: redb's integrity check (every page checksum
/// of the committed trees, the allocator state rebuilt) ran on a copy-on-write [`Overlay`], so
/// whatever it repaired stayed in memory. Holding it excludes every writer of the file.
#[derive(Debug)]
pub struct CheckedFile {
    db: Database,
    path: PathBuf,
}

impl CheckedFile {
    /// Checks `path` without changing a byte of it.
    ///
    /// # Errors
    /// [`FileError`]: the file is missing, empty, in use, damaged or unreadable.
    pub fn open(path: &Path) -> Result<Self, FileError> {
        let error = |problem| FileError {
            path: path.to_owned(),
            problem,
        };
        // Read and write so redb can take its writer lock; the overlay never writes the file.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| error(Problem::Io(e)))?;
        if file.metadata().map_err(|e| error(Problem::Io(e)))?.len() == 0 {
            return Err(error(Problem::Empty));
        }
        let overlay = Overlay::new(file).map_err(|e| error(Problem::Io(e)))?;
        // The check reports a corrupted file as an error; a panic would be a redb bug, and
        // unwinding out of it drops nothing but the in-memory overlay.
        let checked = std::panic::catch_unwind(|| {
            Database::builder()
                .set_check_integrity_on_open(true)
                .create_with_backend(overlay)
        });
        match checked {
            Ok(Ok(db)) => Ok(Self {
                db,
                path: path.to_owned(),
            }),
            Ok(Err(e)) => Err(error(problem_of(e))),
            Err(_) => Err(error(Problem::Damaged("redb could not read it".to_owned()))),
        }
    }

    /// The file it viewed.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The master-key records.
    ///
    /// # Errors
    /// [`StoreError`] if the records cannot be read.
    pub fn key_records(&self) -> Result<BTreeMap<u16, KeyRecord>, StoreError> {
        key_records(&self.db)
    }

    /// How many stored client secrets each key id verifies.
    ///
    /// # Errors
    /// [`StoreError`] if a client cannot be read.
    pub fn verifiers_by_key(&self) -> Result<BTreeMap<u16, u64>, StoreError> {
        verifiers_by_key(&self.db)
    }
}

/// Opens the database file at `path` for the server: a new file (mode 0600) if `create`, else an
/// existing one, and then only once [`CheckedFile`] passed. A failed check leaves the file as it
/// was.
///
/// # Errors
/// [`FileError`] naming the file and the fix.
pub(super) fn open(path: &Path, create: bool) -> Result<Database, FileError> {
    let error = |problem| FileError {
        path: path.to_owned(),
        problem,
    };
    if create {
        let file: File = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| error(Problem::Io(e)))?;
        let backend = FileBackend::new(file).map_err(|e| error(problem_of(e)))?;
        return Database::builder()
            .create_with_backend(backend)
            .map_err(|e| error(problem_of(e)));
    }
    open_checked(CheckedFile::open(path)?)
}

/// Opens the file `checked` viewed, once that view is closed. redb then opens it for writing,
/// replaying a crash recovery if the last run was killed.
///
/// # Errors
/// [`FileError`] naming the file.
pub(super) fn open_checked(checked: CheckedFile) -> Result<Database, FileError> {
    let CheckedFile { db, path } = checked;
    drop(db);
    Database::builder().open(&path).map_err(|e| FileError {
        path: path.clone(),
        problem: problem_of(e),
    })
}

fn key_records(db: &Database) -> Result<BTreeMap<u16, KeyRecord>, StoreError> {
    let tx = db.begin_read().map_err(StoreError::new)?;
    let table = match tx.open_table(MASTER_KEYS) {
        Ok(table) => table,
        // A database from before the records: the caller adopts the keys file's keys.
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(BTreeMap::new()),
        Err(e) => return Err(StoreError::new(e)),
    };
    let mut records = BTreeMap::new();
    for entry in table.iter().map_err(StoreError::new)? {
        let (id, value) = entry.map_err(StoreError::new)?;
        let (fingerprint, active_since, superseded_at, lifetime) = value.value();
        records.insert(
            id.value(),
            KeyRecord {
                fingerprint,
                active_since: (active_since != 0).then_some(active_since),
                superseded_at: (superseded_at != 0).then_some(superseded_at),
                lifetime,
            },
        );
    }
    Ok(records)
}

fn verifiers_by_key(db: &Database) -> Result<BTreeMap<u16, u64>, StoreError> {
    let tx = db.begin_read().map_err(StoreError::new)?;
    let table = match tx.open_table(CLIENTS) {
        Ok(table) => table,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(BTreeMap::new()),
        Err(e) => return Err(StoreError::new(e)),
    };
    let mut counts = BTreeMap::new();
    for entry in table.iter().map_err(StoreError::new)? {
        let (_, value) = entry.map_err(StoreError::new)?;
        let record = ClientRecord::decode(value.value())?;
        // A rotated-away secret in its grace period still needs its key.
        let previous = record.previous.map(|p| p.verifier);
        for verifier in record.verifier.into_iter().chain(previous) {
            let count: &mut u64 = counts.entry(verifier.key_id().get()).or_default();
            *count = count.saturating_add(1);
        }
    }
    Ok(counts)
}

/// Replaces the master-key records with `records`, in one durable transaction.
fn write_key_records(db: &Database, records: &BTreeMap<u16, KeyRecord>) -> Result<(), StoreError> {
    let tx = db.begin_write().map_err(StoreError::new)?;
    {
        let mut table = tx.open_table(MASTER_KEYS).map_err(StoreError::new)?;
        table.retain(|_, _| false).map_err(StoreError::new)?;
        for (&id, record) in records {
            let value = (
                record.fingerprint,
                record.active_since.unwrap_or(0),
                record.superseded_at.unwrap_or(0),
                record.lifetime,
            );
            table.insert(id, value).map_err(StoreError::new)?;
        }
    }
    tx.commit().map_err(StoreError::new)
}

impl super::RedbStore {
    /// The master-key records (empty for a database created before they were kept).
    ///
    /// # Errors
    /// [`StoreError`] if the records cannot be read.
    pub fn key_records(&self) -> Result<BTreeMap<u16, KeyRecord>, StoreError> {
        key_records(self.database())
    }

    /// Replaces the master-key records, durably, before returning.
    ///
    /// # Errors
    /// [`StoreError`] if the write fails; the records are then unchanged.
    pub fn write_key_records(&self, records: &BTreeMap<u16, KeyRecord>) -> Result<(), StoreError> {
        write_key_records(self.database(), records)
    }

    /// How many stored client secrets each key id verifies.
    ///
    /// # Errors
    /// [`StoreError`] if a client cannot be read.
    pub fn verifiers_by_key(&self) -> Result<BTreeMap<u16, u64>, StoreError> {
        verifiers_by_key(self.database())
    }
}
