//! Why a data directory cannot be opened, checked or rotated: each variant names the file and
//! the fix, and its text includes its cause's, so the message alone says everything.

use std::io;
use std::path::PathBuf;

use tessera_core::KeyId;

use crate::store::{FileError, StoreError};

/// What restores a keys file that does not match its database.
const RESTORE_KEYS: &str = "restore the keys file that belongs with this database from a backup";

/// A data directory problem.
#[derive(Debug)]
#[non_exhaustive]
pub enum DataDirError {
    /// Whether a part exists could not be told.
    LookFor {
        /// The part.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The directory path is something else.
    NotADirectory {
        /// The path.
        dir: PathBuf,
        /// What to do, if anything (`": choose another --data-dir"`).
        advice: &'static str,
    },
    /// The directory could not be created.
    CannotCreate {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The directory could not be opened.
    CannotOpen {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        source: io::Error,
        /// What to do, if anything.
        advice: &'static str,
    },
    /// None of the three parts is there where they must be.
    NoDataDirectory {
        /// The directory.
        dir: PathBuf,
        /// What it lacks or what to do.
        advice: &'static str,
    },
    /// A fleet's database already records keys (or holds clients), and this instance's data
    /// directory has no keys file: it must get the fleet's files, never new ones.
    SharedKeysMissing {
        /// The keys file that is missing.
        keys: PathBuf,
        /// The database (its URL without the password).
        database: PathBuf,
    },
    /// A fleet's database holds clients but records no key: no keys file can be shown to be
    /// the one that hashed their secrets.
    UnrecordedDatabase {
        /// The keys file.
        keys: PathBuf,
        /// The database (its URL without the password).
        database: PathBuf,
    },
    /// The database is missing beside the keys.
    DatabaseMissing {
        /// The database file.
        database: PathBuf,
        /// The keys file.
        keys: PathBuf,
    },
    /// The keys file is missing beside the database.
    KeysMissing {
        /// The keys file.
        keys: PathBuf,
    },
    /// The operator token is missing beside the rest.
    OperatorTokenMissing {
        /// The operator token file.
        path: PathBuf,
    },
    /// Some other mix of parts.
    Incomplete {
        /// The directory.
        dir: PathBuf,
    },
    /// A secret file (keys, operator token) is unreadable, not private or malformed.
    SecretFile {
        /// The file.
        path: PathBuf,
        /// The I/O error; for a check of ours, its text already names the file.
        source: io::Error,
    },
    /// A secret file could not be written.
    CannotWrite {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The master keys do not make a keyring.
    Keys(io::Error),
    /// The database file cannot be used.
    Database(FileError),
    /// A record in the database is damaged.
    DamagedRecord {
        /// The database file.
        database: PathBuf,
        /// Which records (`"its key records"`, `"a client record"`).
        what: &'static str,
        /// The store's error.
        source: StoreError,
    },
    /// The key records could not be written.
    CannotRecord {
        /// The database file.
        database: PathBuf,
        /// What (`"the keys"`, `"the new key"`).
        what: &'static str,
        /// The store's error.
        source: StoreError,
    },
    /// A key of the keys file is not the key recorded under its id.
    KeyMismatch {
        /// The keys file.
        keys: PathBuf,
        /// The key id.
        id: u16,
        /// Its line.
        line: usize,
        /// The database file.
        database: PathBuf,
    },
    /// The keys file holds none of the keys the database recorded.
    UnrecordedKey {
        /// The keys file.
        keys: PathBuf,
        /// The database file.
        database: PathBuf,
    },
    /// The keys file lacks a key the database recorded.
    KeyMissing {
        /// The keys file.
        keys: PathBuf,
        /// The key id.
        id: u16,
        /// The database file.
        database: PathBuf,
    },
    /// The keys file holds no key.
    NoKey {
        /// The keys file.
        keys: PathBuf,
    },
    /// A rotation before the database recorded its keys.
    NotRecorded {
        /// The database file.
        database: PathBuf,
    },
    /// Every key id was used.
    KeyIdsExhausted {
        /// The keys file.
        keys: PathBuf,
    },
    /// A rotation would retire a key still needed, without `--force`.
    KeyStillNeeded {
        /// The key.
        id: KeyId,
        /// What needs it, in words (counts and durations, never a secret).
        needs: Vec<String>,
    },
}

impl core::fmt::Display for DataDirError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::LookFor { path, source } => write!(
                f,
                "cannot look for {}; give the server's user access to its directory: {source}",
                path.display()
            ),
            Self::NotADirectory { dir, advice } => {
                write!(f, "{} is not a directory{advice}", dir.display())
            }
            Self::CannotCreate { dir, source } => write!(
                f,
                "cannot create the data directory {}: {source}; create it (mode 0700, owned by \
                 the server's user) or choose another --data-dir",
                dir.display()
            ),
            Self::CannotOpen {
                dir,
                source,
                advice,
            } => write!(
                f,
                "cannot open the data directory {}: {source}{advice}",
                dir.display()
            ),
            Self::NoDataDirectory { dir, advice } => {
                write!(f, "{} holds no data directory{advice}", dir.display())
            }
            Self::DatabaseMissing { database, keys } => write!(
                f,
                "{} is missing while {} exists: restore the database from a backup of this data \
                 directory (if the directory never served, remove it to start afresh)",
                database.display(),
                keys.display()
            ),
            Self::KeysMissing { keys } => write!(
                f,
                "{} is missing: every stored client secret and every token depends on these \
                 keys; restore the file from a backup of this data directory",
                keys.display()
            ),
            Self::OperatorTokenMissing { path } => write!(
                f,
                "{} is missing: restore it from a backup of this data directory",
                path.display()
            ),
            Self::Incomplete { dir } => write!(f, "{} is incomplete", dir.display()),
            Self::SharedKeysMissing { keys, database } => write!(
                f,
                "{} records the keys of a fleet but {} does not exist: give this instance the \
                 fleet's keys file (--keys-file, or a copy with mode 0600), and its operator \
                 token file; a new key would not verify what the fleet issued",
                database.display(),
                keys.display()
            ),
            Self::UnrecordedDatabase { keys, database } => write!(
                f,
                "{} holds clients but records no master key, so {} cannot be shown to be the \
                 key that hashed their secrets; {RESTORE_KEYS}",
                database.display(),
                keys.display()
            ),
            Self::SecretFile { path, source } => match source.kind() {
                // Our own messages already name the file.
                io::ErrorKind::InvalidData | io::ErrorKind::PermissionDenied
                    if source.get_ref().is_some() && source.raw_os_error().is_none() =>
                {
                    write!(f, "{source}")
                }
                io::ErrorKind::PermissionDenied => write!(
                    f,
                    "cannot read {}: {source}; run the server as the user that owns the data \
                     directory",
                    path.display()
                ),
                _ => write!(f, "cannot read {}: {source}", path.display()),
            },
            Self::CannotWrite { path, source } => {
                write!(f, "cannot write {}: {source}", path.display())
            }
            Self::Keys(source) => write!(f, "{source}"),
            Self::Database(source) => write!(f, "{source}"),
            Self::DamagedRecord {
                database,
                what,
                source,
            } => write!(
                f,
                "{} is damaged ({what}: {source}): restore the data directory from a backup",
                database.display()
            ),
            Self::CannotRecord {
                database,
                what,
                source,
            } => write!(
                f,
                "cannot record {what} in {}: {source}",
                database.display()
            ),
            Self::KeyMismatch {
                keys,
                id,
                line,
                database,
            } => write!(
                f,
                "{} key {id} (line {line}) is not the key {} recorded under that id: the file is \
                 damaged or belongs to another data directory; {RESTORE_KEYS}",
                keys.display(),
                database.display()
            ),
            Self::UnrecordedKey { keys, database } => write!(
                f,
                "{} holds none of the keys {} recorded: the file belongs to another data \
                 directory, or every key this server knew was retired while it was stopped; \
                 {RESTORE_KEYS} (or one that still holds a key this server knew: start with it, \
                 then change the file and send SIGHUP)",
                keys.display(),
                database.display()
            ),
            Self::KeyMissing { keys, id, database } => write!(
                f,
                "{} lacks key {id}, which {} recorded minting with and is newer than every key \
                 of the file: it is an older copy or was edited; {RESTORE_KEYS}",
                keys.display(),
                database.display()
            ),
            Self::NoKey { keys } => write!(f, "{} holds no key; {RESTORE_KEYS}", keys.display()),
            Self::NotRecorded { database } => write!(
                f,
                "{} has no record of its keys yet (it was created by an older version): start \
                 the server once so it records them, stop it, then rotate",
                database.display()
            ),
            Self::KeyIdsExhausted { keys } => {
                write!(f, "{}: key ids are exhausted (65535 used)", keys.display())
            }
            Self::KeyStillNeeded { id, needs } => write!(
                f,
                "rotating would retire key {id}, but {}; nothing was changed. Retire it anyway \
                 with --force (those clients must be registered again and those tokens stop \
                 verifying), or wait: a client's secret moves to the active key the next time \
                 one of its requests succeeds",
                needs.join(" and ")
            ),
        }
    }
}

impl core::error::Error for DataDirError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::LookFor { source, .. }
            | Self::CannotCreate { source, .. }
            | Self::CannotOpen { source, .. }
            | Self::SecretFile { source, .. }
            | Self::CannotWrite { source, .. }
            | Self::Keys(source) => Some(source),
            Self::Database(source) => Some(source),
            Self::DamagedRecord { source, .. } | Self::CannotRecord { source, .. } => Some(source),
            Self::NotADirectory { .. }
            | Self::NoDataDirectory { .. }
            | Self::DatabaseMissing { .. }
            | Self::KeysMissing { .. }
            | Self::OperatorTokenMissing { .. }
            | Self::Incomplete { .. }
            | Self::SharedKeysMissing { .. }
            | Self::UnrecordedDatabase { .. }
            | Self::KeyMismatch { .. }
            | Self::UnrecordedKey { .. }
            | Self::KeyMissing { .. }
            | Self::NoKey { .. }
            | Self::NotRecorded { .. }
            | Self::KeyIdsExhausted { .. }
            | Self::KeyStillNeeded { .. } => None,
        }
    }
}

impl From<FileError> for DataDirError {
    fn from(e: FileError) -> Self {
        Self::Database(e)
    }
}
