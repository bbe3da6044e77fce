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

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use subtle::ConstantTimeEq;
use tessera_core::{KeyId, Keyring, MAX_KEYS, MasterKey};

use crate::clock::{Clock as _, SystemClock};
use crate::config::Config;
use crate::keys::{self, KEYS_FILE, OperatorToken};
use crate::rng::SharedRng;
use crate::store::{CheckedFile, DATABASE_FILE, KeyRecord, RedbStore};

mod error;
mod shared;

pub use self::error::DataDirError;
pub use self::shared::{SharedKeys, open_shared};

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
    /// The master keys; the last one mints.
    pub keyring: Keyring,
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
    fn of(dir: &Path) -> Self {
        Self {
            dir: dir.to_owned(),
            keys: dir.join(KEYS_FILE),
            operator_token: keys::operator_token_path(dir),
            database: dir.join(DATABASE_FILE),
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
    fn read(&self) -> Result<(Vec<MasterKey>, OperatorToken, CheckedFile, Records), DataDirError> {
        for path in [&self.keys, &self.operator_token] {
            keys::check_private(path).map_err(|e| file_error(path, e))?;
        }
        let master_keys = keys::read_keys(&self.keys).map_err(|e| file_error(&self.keys, e))?;
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
        master_keys: &[MasterKey],
        recorded: BTreeMap<u16, KeyRecord>,
    ) -> Result<Records, DataDirError> {
        if recorded.is_empty() {
            // A database from before the records: adopt the keys file as it is.
            return Ok(Records {
                keys: recorded,
                adopted: true,
            });
        }
        for (line, key) in (1..).zip(master_keys) {
            let id = key.id().get();
            match recorded.get(&id) {
                Some(record) => {
                    if !bool::from(record.fingerprint.ct_eq(&key.fingerprint())) {
                        return Err(DataDirError::KeyMismatch {
                            keys: self.keys.clone(),
                            id,
                            line,
                            database: self.database.clone(),
                        });
                    }
                }
                None => {
                    return Err(DataDirError::UnrecordedKey {
                        keys: self.keys.clone(),
                        id,
                        line,
                        database: self.database.clone(),
                    });
                }
            }
        }
        let (first, last) = match (master_keys.first(), master_keys.last()) {
            (Some(first), Some(last)) => (first.id().get(), last.id().get()),
            _ => {
                return Err(DataDirError::NoKey {
                    keys: self.keys.clone(),
                });
            }
        };
        for (&id, record) in recorded.range(first..) {
            let listed = master_keys.iter().any(|key| key.id().get() == id);
            // A key added by a rotation that stopped before writing the keys file never minted.
            let unfinished_rotation = id > last && record.active_since.is_none();
            if !listed && !unfinished_rotation {
                return Err(DataDirError::KeyMissing {
                    keys: self.keys.clone(),
                    id,
                    database: self.database.clone(),
                });
            }
        }
        Ok(Records {
            keys: recorded,
            adopted: false,
        })
    }
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
    /// The records once a server starts minting with the last of `master_keys` at `now`, its
    /// tokens living at most `lifetime` seconds.
    fn started(
        mut self,
        master_keys: &[MasterKey],
        now: u64,
        lifetime: u64,
    ) -> BTreeMap<u16, KeyRecord> {
        let active = master_keys.last().map(|key| key.id().get());
        for key in master_keys {
            let id = key.id().get();
            self.keys.entry(id).or_insert_with(|| KeyRecord {
                fingerprint: key.fingerprint(),
                // Adopted: an older key may have minted tokens that still live.
                active_since: (Some(id) != active).then_some(now),
                superseded_at: (Some(id) != active).then_some(now),
                lifetime,
            });
        }
        for (&id, record) in &mut self.keys {
            if Some(id) == active {
                record.active_since.get_or_insert(now);
                record.lifetime = record.lifetime.max(lifetime);
            } else if record.active_since.is_some() && record.superseded_at.is_none() {
                record.superseded_at = Some(now);
            }
        }
        self.keys
    }
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

/// The longest anything a server with `config` mints can live, seconds.
fn longest_lifetime(config: &Config) -> u64 {
    config
        .grant_revocation_window()
        .max(u64::from(config.code_lifetime))
}

/// Opens the data directory `dir` for a server running with `config`: creates all of it on first start (an
/// absent or empty directory), else checks every part (nothing is changed if a check fails) and
/// records that the last key of the keys file now mints.
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
    let parts = Parts::of(dir);
    prepare_dir(&parts.dir)?;
    match parts.present()? {
        (false, false, false) => create(&parts, config, rng, now),
        (true, true, true) => {
            let (master_keys, operator, checked, records) = parts.read()?;
            let adopted = records.adopted;
            let before = records.keys.clone();
            let started = records.started(&master_keys, now, longest_lifetime(config));
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
                    keys = master_keys.len(),
                    "recorded the fingerprints of the keys file's keys (first start with key records)"
                );
            }
            let keyring = keys::keyring_of(&master_keys).map_err(|e| file_error(&parts.keys, e))?;
            Ok(Opened {
                keyring,
                operator,
                store,
            })
        }
        present => Err(parts.incomplete(present)),
    }
}

/// First start: the first key, the operator token, then the database that records the key. If a
/// step fails, what this start created is removed again.
fn create(
    parts: &Parts,
    config: &Config,
    rng: &SharedRng,
    now: u64,
) -> Result<Opened, DataDirError> {
    let first = rng.with(|rng| MasterKey::generate(KeyId::new(1), rng));
    let created = (|| {
        keys::write_keys(&parts.keys, core::slice::from_ref(&first)).map_err(|source| {
            DataDirError::CannotWrite {
                path: parts.keys.clone(),
                source,
            }
        })?;
        tracing::info!(path = %parts.keys.display(), "generated the first master key");
        let operator = keys::generate_operator_token(&parts.dir, rng).map_err(|source| {
            DataDirError::CannotWrite {
                path: parts.operator_token.clone(),
                source,
            }
        })?;
        let store = RedbStore::open_file(&parts.database, true)?;
        let records = Records {
            keys: BTreeMap::new(),
            adopted: false,
        }
        .started(core::slice::from_ref(&first), now, longest_lifetime(config));
        store
            .write_key_records(&records)
            .map_err(|source| DataDirError::CannotRecord {
                database: parts.database.clone(),
                what: "the keys",
                source,
            })?;
        let keyring =
            keys::keyring_of(core::slice::from_ref(&first)).map_err(DataDirError::Keys)?;
        Ok(Opened {
            keyring,
            operator,
            store,
        })
    })();
    if created.is_err() {
        for path in [&parts.keys, &parts.operator_token, &parts.database] {
            let _ = fs::remove_file(path);
        }
    }
    created
}

/// What `tessera check` found in a sound data directory.
#[derive(Debug)]
pub struct Checked {
    /// The key ids of the keys file, oldest first; the last one mints.
    pub keys: Vec<KeyId>,
    /// How many stored client secrets each key verifies.
    pub verifiers_by_key: BTreeMap<u16, u64>,
}

/// Checks a data directory without changing a byte of it: every part present and private, the
/// keys and operator token well-formed, the database intact (redb's integrity check on a
/// copy-on-write view) and recording these keys.
///
/// # Errors
/// The first problem, naming the file and the fix.
pub fn check(dir: &Path) -> Result<Checked, DataDirError> {
    let parts = Parts::of(dir);
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
        keys: master_keys.iter().map(MasterKey::id).collect(),
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
    let parts = Parts::of(dir);
    parts.require_all(": start the server once to create it")?;
    let (mut master_keys, _, checked, records) = parts.read()?;
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
    keys::keyring_of(&master_keys).map_err(DataDirError::Keys)?;
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
    keys::write_keys(&parts.keys, &master_keys).map_err(|source| DataDirError::CannotWrite {
        path: parts.keys.clone(),
        source,
    })?;
    Ok(Rotated {
        added,
        kept: master_keys.iter().map(MasterKey::id).collect(),
        retired,
    })
}
