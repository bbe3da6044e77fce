//! The key files of a fleet: instances sharing a PostgreSQL store keep in their data directory
//! only `keys` and `operator_token`, the same two files on every instance, and the database
//! records the keys' fingerprints (the `master_keys` table) as the embedded database does.
//!
//! The first instance started against an empty database creates both files; a later one must
//! be given copies (a new key would not verify what the fleet issued). Every start checks the
//! keys file against the records, under the database's advisory lock so instances starting
//! together take turns. This is the one place that reads a fleet's key files: `--keys-file`
//! and `--operator-token-file` point here when they come.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use tessera_core::{KeyId, Keyring, MasterKey};

use super::{DataDirError, Parts, Records, exists, file_error, longest_lifetime, prepare_dir};
use crate::config::Config;
use crate::keys::{self, OperatorToken};
use crate::rng::SharedRng;
use crate::store::PostgresStore;

/// What an instance of a fleet needs from its data directory.
#[derive(Debug)]
pub struct SharedKeys {
    /// The master keys; the last one mints.
    pub keyring: Keyring,
    /// The operator's bearer token.
    pub operator: OperatorToken,
}

/// Opens the key files in `dir` for a server over `store`: creates them if neither exists and
/// the database records no key and holds no client, else checks them against the records and
/// records that the last key now mints. Nothing is changed if a check fails.
///
/// # Errors
/// A missing (while the database has keys), unreadable, non-private or damaged file, a keys file
/// that does not match the records, or the database failing; each names the file and the fix.
pub fn open_shared(
    dir: &Path,
    config: &Config,
    rng: &SharedRng,
    now: u64,
    store: &PostgresStore,
) -> Result<SharedKeys, DataDirError> {
    let database = PathBuf::from(store.url().redacted());
    let parts = Parts {
        dir: dir.to_owned(),
        keys: dir.join(keys::KEYS_FILE),
        operator_token: keys::operator_token_path(dir),
        database: database.clone(),
    };
    prepare_dir(&parts.dir)?;
    let lifetime = longest_lifetime(config);
    let cannot_record = |source| DataDirError::CannotRecord {
        database: database.clone(),
        what: "the keys",
        source,
    };
    match (exists(&parts.keys)?, exists(&parts.operator_token)?) {
        (false, false) => {
            let first = rng.with(|rng| MasterKey::generate(KeyId::new(1), rng));
            let created = store
                .record_keys(|(recorded, has_clients)| {
                    if !recorded.is_empty() || has_clients {
                        return Err(DataDirError::SharedKeysMissing {
                            keys: parts.keys.clone(),
                            database: database.clone(),
                        });
                    }
                    let operator = create_files(&parts, &first, rng)?;
                    let records = Records {
                        keys: BTreeMap::new(),
                        adopted: false,
                    }
                    .started(core::slice::from_ref(&first), now, lifetime);
                    Ok((Some(records), operator))
                })
                .map_err(cannot_record)
                .and_then(|decided| decided);
            let operator = match created {
                Ok(operator) => operator,
                Err(e) => {
                    // Only this start could have created them: the lock was held.
                    if !matches!(e, DataDirError::SharedKeysMissing { .. }) {
                        let _ = fs::remove_file(&parts.keys);
                        let _ = fs::remove_file(&parts.operator_token);
                    }
                    return Err(e);
                }
            };
            tracing::info!(path = %parts.keys.display(), "generated the fleet's first master key");
            let keyring =
                keys::keyring_of(core::slice::from_ref(&first)).map_err(DataDirError::Keys)?;
            Ok(SharedKeys { keyring, operator })
        }
        (true, true) => {
            for path in [&parts.keys, &parts.operator_token] {
                keys::check_private(path).map_err(|e| file_error(path, e))?;
            }
            let master_keys =
                keys::read_keys(&parts.keys).map_err(|e| file_error(&parts.keys, e))?;
            let operator = keys::read_operator_token(&parts.operator_token)
                .map_err(|e| file_error(&parts.operator_token, e))?;
            store
                .record_keys(|(recorded, has_clients)| {
                    let records = if recorded.is_empty() {
                        if has_clients {
                            return Err(DataDirError::UnrecordedDatabase {
                                keys: parts.keys.clone(),
                                database: database.clone(),
                            });
                        }
                        Records {
                            keys: recorded,
                            adopted: false,
                        }
                    } else {
                        parts.reconcile(&master_keys, recorded)?
                    };
                    let before = records.keys.clone();
                    let started = records.started(&master_keys, now, lifetime);
                    // A restart with the same keys and lifetimes writes nothing.
                    Ok(((started != before).then_some(started), ()))
                })
                .map_err(cannot_record)??;
            let keyring = keys::keyring_of(&master_keys).map_err(|e| file_error(&parts.keys, e))?;
            Ok(SharedKeys { keyring, operator })
        }
        (true, false) => Err(DataDirError::OperatorTokenMissing {
            path: parts.operator_token.clone(),
        }),
        (false, true) => Err(DataDirError::KeysMissing {
            keys: parts.keys.clone(),
        }),
    }
}

/// Writes the first key and a new operator token (mode 0600).
fn create_files(
    parts: &Parts,
    first: &MasterKey,
    rng: &SharedRng,
) -> Result<OperatorToken, DataDirError> {
    keys::write_keys(&parts.keys, core::slice::from_ref(first)).map_err(|source| {
        DataDirError::CannotWrite {
            path: parts.keys.clone(),
            source,
        }
    })?;
    keys::generate_operator_token(&parts.dir, rng).map_err(|source| DataDirError::CannotWrite {
        path: parts.operator_token.clone(),
        source,
    })
}
