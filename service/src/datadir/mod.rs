//! The data directory as one unit: `keys`, `operator_token` and `tessera.redb` are created
//! together on first start, and every later start (and `tessera check`, and `tessera keys
//! rotate`) checks that all three are there, private, intact and belong together. Nothing is
//! ever regenerated over existing state: a missing or damaged part is an error naming the file
//! and the fix.
//!
//! The database records each master key's id and fingerprint (never the key), when a server
//! started and stopped minting with it, and the longest lifetime of what it minted: so a keys
//! file that does not match, a damaged key line, and a key retired while tokens or stored client
//! secrets still need it are all caught.
//!
//! The records are the keys file as a server last loaded it (at start or on `SIGHUP`,
//! [`admit`]). A file is admitted if it changes no key that minted, shares at least one key with
//! the records, and lacks no key that minted and is newer than all of its keys (then it is an
//! older copy). Keys it adds are recorded as verify-only, keys it dropped are forgotten: so
//! `tessera keys add | activate | retire` on a running server's file never make its next start
//! refuse it.
//!
//! The keys and operator token files may live outside the data directory
//! ([`KeyFiles`](crate::config::KeyFiles)): then a data directory without a database is a new
//! server joining a fleet, which loads the files that exist and creates those that do not.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use subtle::ConstantTimeEq;
use tessera_core::{KeyId, Keyring, MAX_KEYS, MasterKey};

use crate::clock::{Clock as _, SystemClock};
use crate::config::{Config, KeyFiles};
use crate::keys::{self, KeysFile, OperatorToken};
use crate::rng::SharedRng;
use crate::store::{CheckedFile, DATABASE_FILE, KeyRecord, RedbStore};

mod error;
mod shared;

pub use self::error::DataDirError;
pub use self::shared::{SharedKeys, open_shared, reload_shared};

/// The three parts of a data directory.
#[derive(Debug)]
struct Parts {
    dir: PathBuf,
    keys: PathBuf,
    operator_token: PathBuf,
    database: PathBuf,
}

/// An opened data directory: what a server needs to start.
#[derive(Debug)]
pub struct Opened {
    /// The master keys' keyring.
    pub keyring: Keyring,
    /// Which keys it holds, and the one that mints.
    pub ids: (Vec<KeyId>, KeyId),
    /// The operator's bearer token.
    pub operator: OperatorToken,
    /// The database, open for writing.
    pub store: RedbStore,
}

fn exists(path: &Path) -> Result<bool, DataDirError> {
    path.try_exists().map_err(|source| DataDirError::LookFor {
        path: path.to_owned(),
        source,
    })
}

impl Parts {
    fn of(dir: &Path, files: &KeyFiles) -> Self {
        Self {
            dir: dir.to_owned(),
            keys: files.keys.clone(),
            operator_token: files.operator_token.clone(),
            database: dir.join(DATABASE_FILE),
        }
    }

    /// True if the secret files are not both the data directory's own.
    fn shared(&self) -> bool {
        KeyFiles::in_dir(&self.dir)
            != KeyFiles {
                keys: self.keys.clone(),
                operator_token: self.operator_token.clone(),
            }
    }

    /// Which parts exist: (keys, operator token, database).
    fn present(&self) -> Result<(bool, bool, bool), DataDirError> {
        Ok((
            exists(&self.keys)?,
            exists(&self.operator_token)?,
            exists(&self.database)?,
        ))
    }

    /// The error for a directory that holds some parts but not all.
    /// Ok if every part is there; else no directory at all (with `advice`) or the missing part.
    fn require_all(&self, advice: &'static str) -> Result<(), DataDirError> {
        match self.present()? {
            (true, true, true) => Ok(()),
            (false, false, false) => Err(DataDirError::NoDataDirectory {
                dir: self.dir.clone(),
                advice,
            }),
            present => Err(self.incomplete(present)),
        }
    }

    fn incomplete(&self, present: (bool, bool, bool)) -> DataDirError {
        let (keys, operator_token, database) = present;
        if !database {
            DataDirError::DatabaseMissing {
                database: self.database.clone(),
                keys: self.keys.clone(),
            }
        } else if !keys {
            DataDirError::KeysMissing {
                keys: self.keys.clone(),
            }
        } else if !operator_token {
            DataDirError::OperatorTokenMissing {
                path: self.operator_token.clone(),
            }
        } else {
            DataDirError::Incomplete {
                dir: self.dir.clone(),
            }
        }
    }

    /// Reads and checks every part without changing any: the keys and operator token (private,
    /// well-formed), the database (redb's integrity check, on a copy-on-write view), and that the
    /// keys are the ones the database recorded.
    fn read(&self) -> Result<(KeysFile, OperatorToken, CheckedFile, Records), DataDirError> {
        for path in [&self.keys, &self.operator_token] {
            keys::check_private(path).map_err(|e| file_error(path, e))?;
        }
        let master_keys = read_keys_file(&self.keys)?;
        let operator = keys::read_operator_token(&self.operator_token)
            .map_err(|e| file_error(&self.operator_token, e))?;
        let checked = CheckedFile::open(&self.database)?;
        let recorded = checked
            .key_records()
            .map_err(|source| DataDirError::DamagedRecord {
                database: self.database.clone(),
                what: "its key records",
                source,
            })?;
        let records = self.reconcile(&master_keys, recorded)?;
        Ok((master_keys, operator, checked, records))
    }

    /// Checks the keys file against the database's records of it.
    fn reconcile(
        &self,
        file: &KeysFile,
        recorded: BTreeMap<u16, KeyRecord>,
    ) -> Result<Records, DataDirError> {
        reconcile(&self.keys, &self.database, file, recorded)
    }
}

/// Reads and parses a keys file, private or refused.
fn read_keys_file(path: &Path) -> Result<KeysFile, DataDirError> {
    keys::check_private(path).map_err(|e| file_error(path, e))?;
    keys::read_keys(path).map_err(|e| file_error(path, e))
}

/// Checks the keys file `file` (read from `keys`) against `recorded`, the records of the keys
/// file as last loaded (in `database`): see the [module docs](self).
fn reconcile(
    keys: &Path,
    database: &Path,
    file: &KeysFile,
    recorded: BTreeMap<u16, KeyRecord>,
) -> Result<Records, DataDirError> {
    if recorded.is_empty() {
        // A database from before the records, or a new one: adopt the keys file as it is.
        return Ok(Records {
            keys: recorded,
            adopted: true,
        });
    }
    let mut shared = false;
    for (line, key) in (1..).zip(&file.keys) {
        let id = key.id().get();
        let Some(record) = recorded.get(&id) else {
            // Added since (`tessera keys add`): verify-only until activated.
            continue;
        };
        if bool::from(record.fingerprint.ct_eq(&key.fingerprint())) {
            shared = true;
        } else if record.active_since.is_some() {
            return Err(DataDirError::KeyMismatch {
                keys: keys.to_owned(),
                id,
                line,
                database: database.to_owned(),
            });
        }
        // Else a key that never minted was retired and its id reused: nothing was signed with
        // the old one.
    }
    if !shared {
        return Err(DataDirError::UnrecordedKey {
            keys: keys.to_owned(),
            database: database.to_owned(),
        });
    }
    let newest = file
        .keys
        .iter()
        .map(|key| key.id().get())
        .max()
        .unwrap_or(0);
    let newer = newest.saturating_add(1);
    if let Some((&id, _)) = recorded
        .range(newer..)
        .find(|(_, record)| record.active_since.is_some())
    {
        return Err(DataDirError::KeyMissing {
            keys: keys.to_owned(),
            id,
            database: database.to_owned(),
        });
    }
    Ok(Records {
        keys: recorded,
        adopted: false,
    })
}

/// An error about one secret file, naming it once.
fn file_error(path: &Path, source: io::Error) -> DataDirError {
    DataDirError::SecretFile {
        path: path.to_owned(),
        source,
    }
}

/// The database's key records, as read, before this start's changes.
#[derive(Debug)]
struct Records {
    keys: BTreeMap<u16, KeyRecord>,
    /// True if the database had none (created before they were kept).
    adopted: bool,
}

impl Records {
    /// The records once a server loads `file` at `now`, its tokens living at most `lifetime`
    /// seconds: its keys recorded (a new one verify-only, or, adopted, as if it had minted),
    /// the keys it no longer lists forgotten, its active key minting.
    fn started(self, file: &KeysFile, now: u64, lifetime: u64) -> BTreeMap<u16, KeyRecord> {
        let active = file.active.get();
        let adopted = self.adopted;
        let mut records = self.keys;
        records.retain(|id, _| file.keys.iter().any(|key| key.id().get() == *id));
        for key in &file.keys {
            let id = key.id().get();
            let fingerprint = key.fingerprint();
            let fresh = KeyRecord {
                fingerprint,
                // Adopted: an older key may have minted tokens that still live.
                active_since: (adopted && id != active).then_some(now),
                superseded_at: (adopted && id != active).then_some(now),
                lifetime: if adopted { lifetime } else { 0 },
            };
            let record = records.entry(id).or_insert(fresh);
            if !bool::from(record.fingerprint.ct_eq(&fingerprint)) {
                // `reconcile` let this through only for a key that never minted.
                *record = fresh;
            }
        }
        for (&id, record) in &mut records {
            if id == active {
                record.active_since.get_or_insert(now);
                record.superseded_at = None;
                record.lifetime = record.lifetime.max(lifetime);
            } else if record.active_since.is_some() && record.superseded_at.is_none() {
                record.superseded_at = Some(now);
            }
        }
        records
    }
}

/// What [`admit`] decided about a keys file.
#[derive(Debug)]
pub struct Admitted {
    /// The keyring of the file.
    pub keyring: Keyring,
    /// The records to keep for it.
    pub records: BTreeMap<u16, KeyRecord>,
    /// True if `records` differ from the ones given (they need writing).
    pub changed: bool,
    /// True if the records were empty: the file's keys were adopted.
    pub adopted: bool,
}

/// Decides whether the keys file `file`, read from `keys`, may be loaded over `recorded` (the
/// records of the file a server last loaded, kept in `database`) at `now`, tokens living at most
/// `lifetime` seconds, and what to record for it. The rules are the [module docs](self)'; every
/// store keeps these records the same way, so the embedded store and a shared database admit
/// the same files.
///
/// # Errors
/// A key changed, no key in common, an older copy, or keys that make no keyring; each naming
/// the file and the fix.
pub fn admit(
    keys: &Path,
    database: &Path,
    file: &KeysFile,
    recorded: BTreeMap<u16, KeyRecord>,
    now: u64,
    lifetime: u64,
) -> Result<Admitted, DataDirError> {
    let keyring = file.keyring().map_err(|e| file_error(keys, e))?;
    let before = recorded.clone();
    let records = reconcile(keys, database, file, recorded)?;
    let adopted = records.adopted;
    let records = records.started(file, now, lifetime);
    Ok(Admitted {
        keyring,
        changed: records != before,
        records,
        adopted,
    })
}

/// What a server holds after loading a keys file: the ids, and the one that mints.
pub fn key_ids(file: &KeysFile) -> (Vec<KeyId>, KeyId) {
    (file.ids(), file.active)
}

/// Re-reads the keys file at `keys` for a running server over `store` (the database file
/// `database`), at `now`: checks it against the store's records as [`admit`] does, records it,
/// and returns its keyring. Nothing is recorded if a check fails.
///
/// # Errors
/// A missing, unreadable, group- or world-readable or damaged file; a mismatch with the
/// records; or a failure to record.
pub fn reload(
    keys: &Path,
    store: &RedbStore,
    database: &Path,
    config: &Config,
    now: u64,
) -> Result<(Keyring, (Vec<KeyId>, KeyId)), DataDirError> {
    let file = read_keys_file(keys)?;
    let recorded = store
        .key_records()
        .map_err(|source| DataDirError::DamagedRecord {
            database: database.to_owned(),
            what: "its key records",
            source,
        })?;
    let admitted = admit(
        keys,
        database,
        &file,
        recorded,
        now,
        longest_lifetime(config),
    )?;
    if admitted.changed {
        store
            .write_key_records(&admitted.records)
            .map_err(|source| DataDirError::CannotRecord {
                database: database.to_owned(),
                what: "the keys",
                source,
            })?;
    }
    Ok((admitted.keyring, key_ids(&file)))
}

/// Prepares the directory itself: creates it (mode 0700) if it does not exist; warns if group or
/// others may list it (the secret files inside are refused unless mode 0600 anyway).
fn prepare_dir(dir: &Path) -> Result<(), DataDirError> {
    match fs::metadata(dir) {
        Ok(metadata) if !metadata.is_dir() => Err(DataDirError::NotADirectory {
            dir: dir.to_owned(),
            advice: ": choose another --data-dir",
        }),
        Ok(metadata) => {
            let mode = metadata.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %dir.display(),
                    mode = format_args!("{mode:04o}"),
                    "the data directory is accessible to group or others; `chmod 700` it"
                );
            }
            Ok(())
        }
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|source| DataDirError::CannotCreate {
                    dir: dir.to_owned(),
                    source,
                })
        }
        Err(source) => Err(DataDirError::CannotOpen {
            dir: dir.to_owned(),
            source,
            advice: "; give the server's user access to it",
        }),
    }
}

/// The longest anything a server with `config` mints can live, seconds: the `lifetime` of
/// [`admit`].
pub fn longest_lifetime(config: &Config) -> u64 {
    config
        .grant_revocation_window()
        .max(u64::from(config.code_lifetime))
}

/// Opens the data directory `dir` for a server running with `config`: creates all of it on
/// first start (an absent or empty directory), else checks every part (nothing is changed if a
/// check fails) and records the keys file's keys and its active key. With shared key files
/// (`config.key_files` outside `dir`), a directory without a database is a new server of a
/// fleet: the files that exist are loaded, the missing ones created.
///
/// # Errors
/// A missing, unreadable, group- or world-readable, damaged or mismatched part, each naming the
/// file and the fix; an I/O or entropy failure.
pub fn open(
    dir: &Path,
    config: &Config,
    rng: &SharedRng,
    now: u64,
) -> Result<Opened, DataDirError> {
    let parts = Parts::of(dir, &config.key_files);
    prepare_dir(&parts.dir)?;
    match parts.present()? {
        (false, false, false) => create(&parts, config, rng, now),
        (_, _, false) if parts.shared() => create(&parts, config, rng, now),
        (true, true, true) => {
            let (file, operator, checked, records) = parts.read()?;
            let adopted = records.adopted;
            let before = records.keys.clone();
            let started = records.started(&file, now, longest_lifetime(config));
            let store = RedbStore::open_checked(checked)?;
            // A restart with the same keys and lifetimes writes nothing.
            if started != before {
                store
                    .write_key_records(&started)
                    .map_err(|source| DataDirError::CannotRecord {
                        database: parts.database.clone(),
                        what: "the keys",
                        source,
                    })?;
            }
            if adopted {
                tracing::info!(
                    path = %parts.database.display(),
                    keys = file.keys.len(),
                    "recorded the fingerprints of the keys file's keys (first start with key records)"
                );
            }
            let keyring = file.keyring().map_err(|e| file_error(&parts.keys, e))?;
            Ok(Opened {
                keyring,
                ids: key_ids(&file),
                operator,
                store,
            })
        }
        present => Err(parts.incomplete(present)),
    }
}

/// Creates `path` with `generate` unless it exists; true if this start created it. A file
/// another server created meanwhile is loaded, never replaced.
fn create_missing<T>(
    path: &Path,
    generate: impl FnOnce() -> io::Result<T>,
) -> Result<bool, DataDirError> {
    if exists(path)? {
        return Ok(false);
    }
    match generate() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(source) => Err(DataDirError::CannotWrite {
            path: path.to_owned(),
            source,
        }),
    }
}

/// First start, or a new server of a fleet: the keys and the operator token (created if
/// missing), then the database that records the keys. If a step fails, what this start created
/// is removed again (a shared file is kept: another server may already use it).
fn create(
    parts: &Parts,
    config: &Config,
    rng: &SharedRng,
    now: u64,
) -> Result<Opened, DataDirError> {
    let mut created: Vec<&Path> = Vec::new();
    let opened = (|| {
        if create_missing(&parts.keys, || keys::generate_keys(&parts.keys, rng))? {
            created.push(&parts.keys);
        }
        let file = read_keys_file(&parts.keys)?;
        if create_missing(&parts.operator_token, || {
            keys::generate_operator_token_at(&parts.operator_token, rng)
        })? {
            created.push(&parts.operator_token);
        }
        keys::check_private(&parts.operator_token)
            .map_err(|e| file_error(&parts.operator_token, e))?;
        let operator = keys::read_operator_token(&parts.operator_token)
            .map_err(|e| file_error(&parts.operator_token, e))?;
        let store = RedbStore::open_file(&parts.database, true)?;
        created.push(&parts.database);
        // Keys this start did not create may have minted on another server: adopt them.
        let records = Records {
            keys: BTreeMap::new(),
            adopted: true,
        }
        .started(&file, now, longest_lifetime(config));
        store
            .write_key_records(&records)
            .map_err(|source| DataDirError::CannotRecord {
                database: parts.database.clone(),
                what: "the keys",
                source,
            })?;
        let keyring = file.keyring().map_err(DataDirError::Keys)?;
        Ok(Opened {
            keyring,
            ids: key_ids(&file),
            operator,
            store,
        })
    })();
    if opened.is_err() {
        let shared = parts.shared();
        for path in created {
            if !shared || path == parts.database {
                let _ = fs::remove_file(path);
            }
        }
    }
    opened
}

/// What `tessera check` found in a sound data directory.
#[derive(Debug)]
pub struct Checked {
    /// The key ids of the keys file, oldest first.
    pub keys: Vec<KeyId>,
    /// The key that mints.
    pub active: KeyId,
    /// How many stored client secrets each key verifies.
    pub verifiers_by_key: BTreeMap<u16, u64>,
}

/// Checks a data directory without changing a byte of it: every part present and private, the
/// keys and operator token well-formed, the database intact (redb's integrity check on a
/// copy-on-write view) and recording these keys.
///
/// # Errors
/// The first problem, naming the file and the fix.
pub fn check(dir: &Path, files: &KeyFiles) -> Result<Checked, DataDirError> {
    let parts = Parts::of(dir, files);
    match fs::metadata(dir) {
        Ok(metadata) if metadata.is_dir() => {}
        Ok(_) => {
            return Err(DataDirError::NotADirectory {
                dir: dir.to_owned(),
                advice: "",
            });
        }
        Err(source) => {
            return Err(DataDirError::CannotOpen {
                dir: dir.to_owned(),
                source,
                advice: "",
            });
        }
    }
    parts.require_all(" (no keys, operator_token or tessera.redb)")?;
    let (master_keys, _, checked, _) = parts.read()?;
    let verifiers_by_key =
        checked
            .verifiers_by_key()
            .map_err(|source| DataDirError::DamagedRecord {
                database: parts.database.clone(),
                what: "a client record",
                source,
            })?;
    Ok(Checked {
        keys: master_keys.ids(),
        active: master_keys.active,
        verifiers_by_key,
    })
}

/// A key rotation's outcome.
#[derive(Debug)]
pub struct Rotated {
    /// The new active key.
    pub added: KeyId,
    /// The keys now in the file, oldest first.
    pub kept: Vec<KeyId>,
    /// The keys dropped, each with what still needed it (empty if nothing did).
    pub retired: Vec<(KeyId, Vec<String>)>,
}

/// `seconds` in the largest whole unit: "29 days", "5 hours", "1 minute", "12 seconds".
pub fn duration_text(seconds: u64) -> String {
    let (count, unit) = match seconds {
        86_400.. => (seconds / 86_400, "day"),
        3_600.. => (seconds / 3_600, "hour"),
        60.. => (seconds / 60, "minute"),
        _ => (seconds, "second"),
    };
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {unit}{plural}")
}

/// What still needs a key, in words: stored client secrets, live tokens.
fn still_needed(record: Option<&KeyRecord>, verifiers: u64, now: u64) -> Vec<String> {
    let mut needs = Vec::new();
    if verifiers > 0 {
        needs.push(format!("it verifies {verifiers} stored client secret(s)"));
    }
    if let Some(record) = record.filter(|r| r.may_have_live_tokens(now)) {
        needs.push(match record.superseded_at {
            None => format!(
                "a server last minted with it: tokens it signed may verify for up to {} after \
                 that server stopped",
                duration_text(record.lifetime)
            ),
            Some(superseded) => {
                let left = superseded
                    .saturating_add(record.lifetime)
                    .saturating_sub(now);
                format!(
                    "tokens it signed may verify for {} more",
                    duration_text(left)
                )
            }
        });
    }
    needs
}

/// Adds a new active master key to a stopped server's data directory; the oldest beyond
/// [`MAX_KEYS`] is retired. A key that still verifies stored client secrets or live tokens is
/// retired only with `force`; otherwise nothing changes. The database records the new key
/// before the keys file lists it. The server mints with the new key from its next start.
///
/// # Errors
/// Any problem [`check`] reports, the database in use (stop the server first), a key still
/// needed without `force`, exhausted key ids, or an I/O failure.
pub fn rotate(dir: &Path, rng: &SharedRng, force: bool) -> Result<Rotated, DataDirError> {
    let parts = Parts::of(dir, &KeyFiles::in_dir(dir));
    parts.require_all(": start the server once to create it")?;
    let (file, _, checked, records) = parts.read()?;
    let mut master_keys = file.keys;
    if records.adopted {
        return Err(DataDirError::NotRecorded {
            database: parts.database.clone(),
        });
    }
    let verifiers = checked
        .verifiers_by_key()
        .map_err(|source| DataDirError::DamagedRecord {
            database: parts.database.clone(),
            what: "a client record",
            source,
        })?;
    let now = SystemClock.now();
    let newest = master_keys
        .iter()
        .map(|key| key.id().get())
        .chain(records.keys.keys().copied())
        .max()
        .unwrap_or(0);
    let Some(next) = newest.checked_add(1) else {
        return Err(DataDirError::KeyIdsExhausted {
            keys: parts.keys.clone(),
        });
    };
    let added = KeyId::new(next);
    master_keys.push(rng.with(|rng| MasterKey::generate(added, rng)));
    let excess = master_keys.len().saturating_sub(MAX_KEYS);
    let retired: Vec<(KeyId, Vec<String>)> = master_keys
        .drain(..excess)
        .map(|key| {
            let id = key.id().get();
            let needs = still_needed(
                records.keys.get(&id),
                verifiers.get(&id).copied().unwrap_or(0),
                now,
            );
            (key.id(), needs)
        })
        .collect();
    if !force && let Some((id, needs)) = retired.iter().find(|(_, needs)| !needs.is_empty()) {
        return Err(DataDirError::KeyStillNeeded {
            id: *id,
            needs: needs.clone(),
        });
    }
    let file = KeysFile {
        keys: master_keys,
        active: added,
    };
    file.keyring().map_err(DataDirError::Keys)?;
    let master_keys = file.keys.clone();
    let mut recorded = records.keys;
    if let Some(key) = master_keys.last() {
        recorded.insert(
            next,
            KeyRecord {
                fingerprint: key.fingerprint(),
                active_since: None,
                superseded_at: None,
                lifetime: 0,
            },
        );
    }
    let store = RedbStore::open_checked(checked)?;
    store
        .write_key_records(&recorded)
        .map_err(|source| DataDirError::CannotRecord {
            database: parts.database.clone(),
            what: "the new key",
            source,
        })?;
    drop(store);
    keys::write_keys_file(&parts.keys, &file).map_err(|source| DataDirError::CannotWrite {
        path: parts.keys.clone(),
        source,
    })?;
    Ok(Rotated {
        added,
        kept: master_keys.iter().map(MasterKey::id).collect(),
        retired,
    })
}
