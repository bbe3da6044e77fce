//! The data directory's secrets and their file formats: the master keys (`keys`) and the
//! operator token (`operator_token`), both mode 0600. [`datadir`](crate::datadir) decides when
//! they are created (first start only) and checks them against the database.
//!
//! `keys` holds one key a line, `<key id> <base64url of 32 bytes>`, oldest first, and every listed
//! key verifies; an optional line `active <key id>` names the minting key (a key added by
//! `tessera keys add` verifies before it mints), and without it the last key mints, as in files
//! from before the marker. At most [`MAX_KEYS`] are kept. Either file may live outside the data
//! directory ([`KeyFiles`](crate::config::KeyFiles)), shared by a fleet of servers.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use subtle::ConstantTimeEq;
use tessera_core::encoding::{base64url_decode, base64url_encode};
use tessera_core::{KEY_LEN, KeyId, Keyring, MAX_KEYS, MasterKey};
use zeroize::Zeroizing;

use crate::rng::SharedRng;

mod source;

pub use self::source::KeySource;

/// The master keys' file name in the data directory.
pub const KEYS_FILE: &str = "keys";
/// The operator token's file name in the data directory.
pub const OPERATOR_TOKEN_FILE: &str = "operator_token";
const OPERATOR_TOKEN_PREFIX: &str = "tsr_op_";
/// The operator token's entropy: 256 bits.
const OPERATOR_TOKEN_BYTES: usize = 32;

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Writes `contents` to `path` with mode 0600 through a synced temporary file beside it
/// (`.<name>.tmp`) and a rename, then syncs the directory: a crash leaves the old file or the
/// new one, never half of one, and an existing file is replaced whole, never keeping a wider mode.
///
/// # Errors
/// `InvalidInput` for a path without a file name, or the I/O error.
pub fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} names no file", path.display()),
        )
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let _ = fs::remove_file(&tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    fs::rename(&tmp, path)?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    fs::File::open(dir)?.sync_all()
}

/// Refuses a secret file that group or others may read or write: its contents would no longer
/// be the server's alone.
///
/// # Errors
/// `PermissionDenied` naming the file, its mode and the `chmod` that fixes it, or the I/O error.
pub fn check_private(path: &Path) -> io::Result<()> {
    let mode = fs::metadata(path)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} is accessible to group or others (mode {mode:04o}): run `chmod 600 {}`",
                path.display(),
                path.display()
            ),
        ));
    }
    Ok(())
}

/// A keys file as read: its master keys, oldest first, and the one that mints.
#[derive(Clone, Debug)]
pub struct KeysFile {
    /// Every key that verifies, oldest (lowest id) first. `MasterKey`'s `Debug` shows ids only.
    pub keys: Vec<MasterKey>,
    /// The key that mints: the `active <id>` line, or else the last key.
    pub active: KeyId,
}

/// Why a change to a keys file (`tessera keys add | activate | retire`) was refused. Its text
/// names the file and the fix; nothing was written.
#[derive(Debug)]
#[non_exhaustive]
pub enum KeyChangeError {
    /// The file lists no key with this id.
    UnknownKey {
        /// The keys file.
        path: PathBuf,
        /// The id asked for.
        id: KeyId,
        /// The ids it lists.
        listed: Vec<KeyId>,
    },
    /// The active key cannot be retired.
    RetireActive {
        /// The keys file.
        path: PathBuf,
        /// The active key.
        id: KeyId,
    },
    /// The file already holds [`MAX_KEYS`] keys.
    Full {
        /// The keys file.
        path: PathBuf,
    },
    /// Every key id was used.
    IdsExhausted {
        /// The keys file.
        path: PathBuf,
    },
}

impl core::fmt::Display for KeyChangeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::UnknownKey { path, id, listed } => {
                let listed: Vec<String> = listed.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "{} holds no key {id} (it holds {}); nothing was changed",
                    path.display(),
                    listed.join(", ")
                )
            }
            Self::RetireActive { path, id } => write!(
                f,
                "key {id} is the active key of {}: it cannot be retired; activate another key \
                 first (`tessera keys activate ID`, then SIGHUP every server); nothing was changed",
                path.display()
            ),
            Self::Full { path } => write!(
                f,
                "{} already holds {MAX_KEYS} keys, the most a server verifies with: retire one \
                 first (`tessera keys retire ID`); nothing was changed",
                path.display()
            ),
            Self::IdsExhausted { path } => {
                write!(f, "{}: key ids are exhausted (65535 used)", path.display())
            }
        }
    }
}

impl core::error::Error for KeyChangeError {}

impl KeysFile {
    /// A file of one new key, active.
    pub fn first(rng: &SharedRng) -> Self {
        let key = rng.with(|rng| MasterKey::generate(KeyId::new(1), rng));
        Self {
            active: key.id(),
            keys: vec![key],
        }
    }

    /// The ids it lists, oldest first.
    pub fn ids(&self) -> Vec<KeyId> {
        self.keys.iter().map(MasterKey::id).collect()
    }

    /// The keyring: every key verifies, [`active`](Self::active) mints.
    ///
    /// # Errors
    /// `InvalidData` if the keys do not form a keyring (none, too many, active not listed).
    pub fn keyring(&self) -> io::Result<Keyring> {
        Keyring::new(&self.keys, self.active).map_err(|e| invalid(format!("the master keys: {e}")))
    }

    fn position(&self, path: &Path, id: KeyId) -> Result<usize, KeyChangeError> {
        self.keys
            .iter()
            .position(|key| key.id() == id)
            .ok_or_else(|| KeyChangeError::UnknownKey {
                path: path.to_owned(),
                id,
                listed: self.ids(),
            })
    }

    /// Adds a new key (the next id), verify-only: the active key stays.
    ///
    /// # Errors
    /// [`KeyChangeError::Full`] at [`MAX_KEYS`] keys, or exhausted ids.
    pub fn add(&mut self, path: &Path, rng: &SharedRng) -> Result<KeyId, KeyChangeError> {
        if self.keys.len() >= MAX_KEYS {
            return Err(KeyChangeError::Full {
                path: path.to_owned(),
            });
        }
        let newest = self
            .keys
            .iter()
            .map(|key| key.id().get())
            .max()
            .unwrap_or(0);
        let id =
            newest
                .checked_add(1)
                .map(KeyId::new)
                .ok_or_else(|| KeyChangeError::IdsExhausted {
                    path: path.to_owned(),
                })?;
        self.keys.push(rng.with(|rng| MasterKey::generate(id, rng)));
        Ok(id)
    }

    /// Makes `id` the minting key.
    ///
    /// # Errors
    /// [`KeyChangeError::UnknownKey`] if the file does not list it.
    pub fn activate(&mut self, path: &Path, id: KeyId) -> Result<(), KeyChangeError> {
        self.position(path, id)?;
        self.active = id;
        Ok(())
    }

    /// Removes `id`.
    ///
    /// # Errors
    /// [`KeyChangeError::UnknownKey`], or [`KeyChangeError::RetireActive`] for the active key.
    pub fn retire(&mut self, path: &Path, id: KeyId) -> Result<(), KeyChangeError> {
        let at = self.position(path, id)?;
        if id == self.active {
            return Err(KeyChangeError::RetireActive {
                path: path.to_owned(),
                id,
            });
        }
        self.keys.remove(at);
        Ok(())
    }
}

/// Reads a keys file: `<id> <key>` lines, oldest first, and at most one `active <id>` line
/// naming a listed key (without it, the last key is active).
///
/// # Errors
/// The I/O error, or `InvalidData` naming the file and the line that is not `<id> <key>` or
/// `active <id>`, holds a bad id or encoding, repeats an id or is out of order, a second or
/// dangling `active` line, or a file with no key.
pub fn read_keys(path: &Path) -> io::Result<KeysFile> {
    let text = Zeroizing::new(fs::read_to_string(path)?);
    let mut keys: Vec<MasterKey> = Vec::new();
    let mut active: Option<(usize, u16)> = None;
    let damaged = |line: usize, what: &str| {
        invalid(format!(
            "{} line {line}: {what}; the file is damaged: restore it from a backup of the data \
             directory",
            path.display()
        ))
    };
    for (index, line) in text.lines().enumerate() {
        let number = index.saturating_add(1);
        if line.trim().is_empty() {
            continue;
        }
        let (id, encoded) = line
            .split_once(' ')
            .ok_or_else(|| damaged(number, "not `<key id> <key>`"))?;
        if id == "active" {
            if active.is_some() {
                return Err(damaged(number, "a second `active` line"));
            }
            let id: u16 = encoded.trim().parse().map_err(|_| {
                damaged(
                    number,
                    "`active` is not followed by a key id from 0 to 65535",
                )
            })?;
            active = Some((number, id));
            continue;
        }
        let id: u16 = id
            .parse()
            .map_err(|_| damaged(number, "the key id is not a number from 0 to 65535"))?;
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        let decoded = base64url_decode(encoded.trim().as_bytes(), bytes.as_mut_slice())
            .map(<[u8]>::len)
            .ok_or_else(|| damaged(number, "the key is not base64url"))?;
        if decoded != KEY_LEN {
            return Err(damaged(number, "the key is not 32 bytes"));
        }
        if keys.last().is_some_and(|last| last.id().get() >= id) {
            return Err(damaged(
                number,
                "key ids must increase from line to line (oldest first, no id twice)",
            ));
        }
        keys.push(MasterKey::from_bytes(KeyId::new(id), *bytes));
    }
    let Some(last) = keys.last().map(MasterKey::id) else {
        return Err(invalid(format!(
            "{} holds no key: restore it from a backup of the data directory",
            path.display()
        )));
    };
    if keys.len() > MAX_KEYS {
        return Err(invalid(format!(
            "{} holds {} keys, more than {MAX_KEYS}: restore it from a backup of the data \
             directory",
            path.display(),
            keys.len()
        )));
    }
    let active = match active {
        None => last,
        Some((number, id)) => {
            if !keys.iter().any(|key| key.id().get() == id) {
                return Err(damaged(
                    number,
                    "`active` names a key the file does not hold",
                ));
            }
            KeyId::new(id)
        }
    };
    Ok(KeysFile { keys, active })
}

/// The text of a keys file: one `<id> <key>` line per key, then `active <id>` if the active key
/// is not the last (a file whose last key mints reads as it did before the marker existed).
fn keys_text(file: &KeysFile) -> io::Result<Zeroizing<String>> {
    let mut text = Zeroizing::new(String::new());
    for key in &file.keys {
        let mut buf = Zeroizing::new([0u8; 64]);
        let encoded = base64url_encode(key.expose_bytes(), buf.as_mut_slice())
            .ok_or_else(|| invalid("a key does not fit its encoding buffer".to_owned()))?;
        let line = Zeroizing::new(format!("{} {encoded}\n", key.id().get()));
        text.push_str(&line);
    }
    if file.keys.last().map(MasterKey::id) != Some(file.active) {
        text.push_str(&format!("active {}\n", file.active));
    }
    Ok(text)
}

/// Writes a keys file (mode 0600, atomically: [`write_private`]).
///
/// # Errors
/// `InvalidData` if the active key is not listed, or the I/O error.
pub fn write_keys_file(path: &Path, file: &KeysFile) -> io::Result<()> {
    file.keyring()?;
    write_private(path, keys_text(file)?.as_bytes())
}

/// Writes a keys file of `keys` whose last one is active (mode 0600, atomically).
///
/// # Errors
/// The I/O error.
pub fn write_keys(path: &Path, keys: &[MasterKey]) -> io::Result<()> {
    let active = keys
        .last()
        .ok_or_else(|| invalid("no master key".to_owned()))?
        .id();
    write_keys_file(
        path,
        &KeysFile {
            keys: keys.to_vec(),
            active,
        },
    )
}

/// Creates `path` (mode 0600) holding `contents`, unless it exists: the file is written and
/// synced beside it, then hard-linked into place, which fails if another process (a second
/// server of a fleet starting at the same moment) created it first. An existing file is never
/// replaced.
///
/// # Errors
/// `AlreadyExists` if `path` exists, or the I/O error.
pub fn create_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} names no file", path.display()),
        )
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.new", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let _ = fs::remove_file(&tmp);
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::hard_link(&tmp, path)
    })();
    let _ = fs::remove_file(&tmp);
    written?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    fs::File::open(dir)?.sync_all()
}

/// Creates a keys file of one new active key at `path`, unless one exists.
///
/// # Errors
/// `AlreadyExists` if `path` exists (a keys file is never replaced), or the I/O error.
pub fn generate_keys(path: &Path, rng: &SharedRng) -> io::Result<()> {
    create_private(path, keys_text(&KeysFile::first(rng))?.as_bytes())?;
    tracing::info!(path = %path.display(), "generated the first master key");
    Ok(())
}

/// The keyring of `keys` (oldest first): the last one mints, all verify.
///
/// # Errors
/// `InvalidData` if the keys do not form a keyring (none, or too many).
pub fn keyring_of(keys: &[MasterKey]) -> io::Result<Keyring> {
    let active = keys
        .last()
        .ok_or_else(|| invalid("no master key".to_owned()))?
        .id();
    Keyring::new(keys, active).map_err(|e| invalid(format!("the master keys: {e}")))
}

/// The operator's bearer token: compared in constant time, never printed.
pub struct OperatorToken(Zeroizing<String>);

impl core::fmt::Debug for OperatorToken {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("OperatorToken(<redacted>)")
    }
}

impl OperatorToken {
    /// True if `presented` is the token (constant time in the token's contents).
    pub fn verify(&self, presented: &str) -> bool {
        bool::from(self.0.as_bytes().ct_eq(presented.as_bytes()))
    }

    /// The token text, to send in `authorization: Bearer`. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The path of the operator token file in `dir`.
pub fn operator_token_path(dir: &Path) -> PathBuf {
    dir.join(OPERATOR_TOKEN_FILE)
}

/// Reads the operator token from a file (for the server, the CLI and scripts).
///
/// # Errors
/// The I/O error, or `InvalidData` naming the file if it does not hold a whole token:
/// `tsr_op_` and the base64url of 32 random bytes.
pub fn read_operator_token(path: &Path) -> io::Result<OperatorToken> {
    let text = Zeroizing::new(fs::read_to_string(path)?);
    let token = text.trim();
    let mut raw = Zeroizing::new([0u8; OPERATOR_TOKEN_BYTES + 1]);
    let whole = token
        .strip_prefix(OPERATOR_TOKEN_PREFIX)
        .and_then(|encoded| base64url_decode(encoded.as_bytes(), raw.as_mut_slice()))
        .is_some_and(|decoded| decoded.len() == OPERATOR_TOKEN_BYTES);
    if !whole {
        return Err(invalid(format!(
            "{} does not hold a whole operator token (`{OPERATOR_TOKEN_PREFIX}` and 43 \
             characters, 256 bits): restore it from a backup of the data directory",
            path.display()
        )));
    }
    Ok(OperatorToken(Zeroizing::new(token.to_owned())))
}

/// Writes a new operator token (256 random bits) to `<dir>/operator_token`, mode 0600.
///
/// # Errors
/// `AlreadyExists` if the file exists (a token is never replaced), or the I/O error.
pub fn generate_operator_token(dir: &Path, rng: &SharedRng) -> io::Result<OperatorToken> {
    generate_operator_token_at(&operator_token_path(dir), rng)
}

/// Writes a new operator token (256 random bits) to `path`, mode 0600, unless it exists.
///
/// # Errors
/// `AlreadyExists` if the file exists (a token is never replaced, even by a server starting at
/// the same moment), or the I/O error.
pub fn generate_operator_token_at(path: &Path, rng: &SharedRng) -> io::Result<OperatorToken> {
    let mut raw = Zeroizing::new([0u8; OPERATOR_TOKEN_BYTES]);
    rng.with(|rng| rand_core::Rng::fill_bytes(rng, raw.as_mut_slice()));
    let mut buf = Zeroizing::new([0u8; 64]);
    let encoded = base64url_encode(raw.as_slice(), buf.as_mut_slice())
        .ok_or_else(|| invalid("the operator token does not fit its buffer".to_owned()))?;
    let line = Zeroizing::new(format!("{OPERATOR_TOKEN_PREFIX}{encoded}\n"));
    create_private(path, line.as_bytes()).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} exists: an operator token is never replaced",
                    path.display()
                ),
            )
        } else {
            e
        }
    })?;
    tracing::info!(path = %path.display(), "generated the operator token");
    read_operator_token(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_privately_and_a_damaged_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEYS_FILE);
        let rng = SharedRng::from_os().unwrap();
        let keys: Vec<MasterKey> = (1..=3)
            .map(|id| rng.with(|rng| MasterKey::generate(KeyId::new(id), rng)))
            .collect();
        write_keys(&path, &keys).unwrap();
        check_private(&path).unwrap();
        let read = read_keys(&path).unwrap();
        let fingerprints =
            |keys: &[MasterKey]| keys.iter().map(MasterKey::fingerprint).collect::<Vec<_>>();
        assert_eq!(fingerprints(&read.keys), fingerprints(&keys));
        assert_eq!(read.active, KeyId::new(3));
        assert_eq!(
            read.keyring().unwrap().codes().active_id(),
            Some(KeyId::new(3))
        );

        let text = fs::read_to_string(&path).unwrap();
        for (damaged, what) in [
            (text.replacen("2 ", "2", 1), "line 2: not `<key id> <key>`"),
            (text.replacen("3 ", "x ", 1), "line 3: the key id"),
            (
                text.replacen("2 ", "1 ", 1),
                "line 2: key ids must increase",
            ),
            (format!("{text}4 AAAA\n"), "line 4: the key is not 32 bytes"),
            (String::new(), "holds no key"),
            (format!("{text}active 9\n"), "line 4: `active` names a key"),
            (
                format!("{text}active x\n"),
                "line 4: `active` is not followed",
            ),
            (
                format!("{text}active 1\nactive 2\n"),
                "line 5: a second `active` line",
            ),
        ] {
            fs::write(&path, damaged).unwrap();
            let error = read_keys(&path).unwrap_err().to_string();
            assert!(error.contains(what), "{error}");
            assert!(error.contains(&path.display().to_string()), "{error}");
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let error = check_private(&path).unwrap_err().to_string();
        assert!(error.contains("chmod 600"), "{error}");
    }

    #[test]
    fn add_activate_retire_keep_the_marker_and_refuse_what_would_break() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEYS_FILE);
        let rng = SharedRng::from_os().unwrap();
        generate_keys(&path, &rng).unwrap();
        assert_eq!(
            generate_keys(&path, &rng).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        let mut file = read_keys(&path).unwrap();
        let added = file.add(&path, &rng).unwrap();
        assert_eq!(added, KeyId::new(2));
        write_keys_file(&path, &file).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("active 1\n"), "{text}");
        let mut file = read_keys(&path).unwrap();
        assert_eq!((file.active, file.ids().len()), (KeyId::new(1), 2));
        let error = file.retire(&path, KeyId::new(1)).unwrap_err().to_string();
        assert!(error.contains("key 1 is the active key"), "{error}");
        let error = file.activate(&path, KeyId::new(7)).unwrap_err().to_string();
        assert!(error.contains("holds no key 7 (it holds 1, 2)"), "{error}");
        file.activate(&path, added).unwrap();
        file.retire(&path, KeyId::new(1)).unwrap();
        write_keys_file(&path, &file).unwrap();
        // The last key mints: the file reads as one from before the marker.
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("2 ") && text.lines().count() == 1,
            "{text}"
        );
        for _ in 0..3 {
            file.add(&path, &rng).unwrap();
        }
        let error = file.add(&path, &rng).unwrap_err().to_string();
        assert!(error.contains("already holds 4 keys"), "{error}");
    }

    #[test]
    fn operator_token_is_private_whole_and_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let rng = SharedRng::from_os().unwrap();
        let token = generate_operator_token(dir.path(), &rng).unwrap();
        let path = operator_token_path(dir.path());
        check_private(&path).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(token.verify(text.trim()));
        assert!(!token.verify("tsr_op_wrong"));
        assert!(generate_operator_token(dir.path(), &rng).is_err());
        assert!(read_operator_token(&path).unwrap().verify(token.expose()));
        assert!(!format!("{token:?}").contains(token.expose()));
        for short in ["tsr_op_a", &text[..30], "", &text[7..]] {
            fs::write(&path, short).unwrap();
            let error = read_operator_token(&path).unwrap_err().to_string();
            assert!(error.contains("whole operator token"), "{error}");
        }
    }
}
