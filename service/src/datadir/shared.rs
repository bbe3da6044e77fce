//! The key files of a fleet on PostgreSQL: every instance loads the same `keys` and
//! `operator_token` files ([`KeyFiles`](crate::config::KeyFiles): `--keys-file`,
//! `--operator-token-file`, or the data directory's), and the database records the keys'
//! fingerprints in its `master_keys` table, admitted by the same rules as the embedded store's
//! ([`admit`]).
//!
//! The first instance started against an empty database (no key record, no client) creates the
//! files that are missing; later ones must be given the fleet's keys file (a new key would not
//! verify what the fleet issued). Each start and each reload (`SIGHUP`) reads and writes the
//! records under the database's advisory lock, so instances starting together take turns.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use tessera_core::{KeyId, Keyring};

use super::{
    DataDirError, admit, create_missing, exists, file_error, key_ids, longest_lifetime,
    prepare_dir, read_keys_file,
};
use crate::config::Config;
use crate::keys::{self, OperatorToken};
use crate::rng::SharedRng;
use crate::store::PostgresStore;

/// What an instance of a fleet loaded from its key files.
#[derive(Debug)]
pub struct SharedKeys {
    /// The master keys' keyring.
    pub keyring: Keyring,
    /// Which keys it holds, and the one that mints.
    pub ids: (Vec<KeyId>, KeyId),
    /// The operator's bearer token.
    pub operator: OperatorToken,
}

/// The database as error messages name it: its URL without the password.
fn database_of(store: &PostgresStore) -> PathBuf {
    PathBuf::from(store.url().redacted())
}

/// Opens the key files of `config` for a server over `store`: creates the missing ones if the
/// database records no key and holds no client, else checks the keys file against the records
/// ([`admit`]) and records it. Nothing is recorded if a check fails.
///
/// # Errors
/// A keys file missing while the database has keys, an unreadable, non-private or damaged file,
/// a keys file the records refuse, or the database failing; each names the file and the fix.
pub fn open_shared(
    config: &Config,
    rng: &SharedRng,
    now: u64,
    store: &PostgresStore,
) -> Result<SharedKeys, DataDirError> {
    let files = &config.key_files;
    let parents: BTreeSet<&Path> = [&files.keys, &files.operator_token]
        .into_iter()
        .filter_map(|path| path.parent())
        .filter(|dir| !dir.as_os_str().is_empty())
        .collect();
    for dir in parents {
        prepare_dir(dir)?;
    }
    let database = database_of(store);
    let lifetime = longest_lifetime(config);
    store
        .record_keys(|(recorded, has_clients)| {
            let mut created: Vec<&Path> = Vec::new();
            let opened = (|| {
                if !exists(&files.keys)? {
                    if !recorded.is_empty() || has_clients {
                        return Err(DataDirError::SharedKeysMissing {
                            keys: files.keys.clone(),
                            database: database.clone(),
                        });
                    }
                    if create_missing(&files.keys, || keys::generate_keys(&files.keys, rng))? {
                        created.push(&files.keys);
                    }
                }
                if create_missing(&files.operator_token, || {
                    keys::generate_operator_token_at(&files.operator_token, rng)
                })? {
                    created.push(&files.operator_token);
                }
                keys::check_private(&files.operator_token)
                    .map_err(|e| file_error(&files.operator_token, e))?;
                let operator = keys::read_operator_token(&files.operator_token)
                    .map_err(|e| file_error(&files.operator_token, e))?;
                let file = read_keys_file(&files.keys)?;
                if recorded.is_empty() && has_clients {
                    return Err(DataDirError::UnrecordedDatabase {
                        keys: files.keys.clone(),
                        database: database.clone(),
                    });
                }
                let admitted = admit(&files.keys, &database, &file, recorded, now, lifetime)?;
                if admitted.adopted {
                    tracing::info!(database = %database.display(), keys = file.keys.len(),
                        "recorded the fingerprints of the keys file's keys");
                }
                let write = admitted.changed.then_some(admitted.records);
                let shared = SharedKeys {
                    keyring: admitted.keyring,
                    ids: key_ids(&file),
                    operator,
                };
                Ok((write, shared))
            })();
            if opened.is_err() {
                // Only this start could have created them: the lock was held.
                for path in created {
                    let _ = fs::remove_file(path);
                }
            }
            opened
        })
        .map_err(|source| DataDirError::CannotRecord {
            database: database.clone(),
            what: "the keys",
            source,
        })?
}

/// Re-reads the keys file at `keys` for a running server over `store` (`SIGHUP`), at `now`:
/// checks it against the records as [`admit`] does, records it, and returns its keyring.
/// Nothing is recorded if a check fails.
///
/// # Errors
/// A missing, unreadable, non-private or damaged file, a mismatch with the records, or the
/// database failing.
pub fn reload_shared(
    keys: &Path,
    store: &PostgresStore,
    config: &Config,
    now: u64,
) -> Result<(Keyring, (Vec<KeyId>, KeyId)), DataDirError> {
    let file = read_keys_file(keys)?;
    let database = database_of(store);
    let lifetime = longest_lifetime(config);
    store
        .record_keys(|(recorded, _)| {
            let admitted = admit(keys, &database, &file, recorded, now, lifetime)?;
            let write = admitted.changed.then_some(admitted.records);
            Ok((write, (admitted.keyring, key_ids(&file))))
        })
        .map_err(|source| DataDirError::CannotRecord {
            database: database.clone(),
            what: "the keys",
            source,
        })?
}
