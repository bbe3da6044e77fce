//! The data directory's secrets: the master keys (`keys`) and the operator token
//! (`operator_token`), both created on first start with mode 0600.
//!
//! `keys` holds one key a line, `<key id> <base64url of 32 bytes>`, oldest first; the last line is
//! the active (minting) key, and every listed key verifies. At most [`MAX_KEYS`] are kept.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use subtle::ConstantTimeEq;
use tessera_core::encoding::{base64url_decode, base64url_encode};
use tessera_core::{KEY_LEN, KeyId, Keyring, MAX_KEYS, MasterKey};
use zeroize::Zeroizing;

use crate::rng::SharedRng;

/// The master keys' file name in the data directory.
pub const KEYS_FILE: &str = "keys";
/// The operator token's file name in the data directory.
pub const OPERATOR_TOKEN_FILE: &str = "operator_token";
const OPERATOR_TOKEN_PREFIX: &str = "tsr_op_";

fn invalid(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// Writes `contents` to `path` with mode 0600 through a synced temporary file and a rename,
/// so a crash leaves the old file or the new one, never half of one.
fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Creates the data directory (mode 0700 for a new one).
///
/// # Errors
/// The I/O error.
pub fn ensure_data_dir(dir: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

pub(crate) fn read_keys(path: &Path) -> io::Result<Vec<MasterKey>> {
    let text = Zeroizing::new(fs::read_to_string(path)?);
    let mut keys = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (id, encoded) = line
            .split_once(' ')
            .ok_or_else(|| invalid("keys file: a line is not `<id> <key>`"))?;
        let id: u16 = id.parse().map_err(|_| invalid("keys file: bad key id"))?;
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        let decoded = base64url_decode(encoded.trim().as_bytes(), bytes.as_mut_slice())
            .map(<[u8]>::len)
            .ok_or_else(|| invalid("keys file: bad key encoding"))?;
        if decoded != KEY_LEN {
            return Err(invalid("keys file: a key is not 32 bytes"));
        }
        keys.push(MasterKey::from_bytes(KeyId::new(id), *bytes));
    }
    if keys.is_empty() {
        return Err(invalid("keys file: no key"));
    }
    Ok(keys)
}

fn write_keys(path: &Path, keys: &[MasterKey]) -> io::Result<()> {
    let mut text = Zeroizing::new(String::new());
    for key in keys {
        let mut buf = Zeroizing::new([0u8; 64]);
        let encoded = base64url_encode(key.expose_bytes(), buf.as_mut_slice())
            .ok_or_else(|| invalid("keys file: encoding failed"))?;
        text.push_str(&format!("{} {encoded}\n", key.id().get()));
    }
    write_private(path, text.as_bytes())
}

fn keyring_of(keys: &[MasterKey]) -> io::Result<Keyring> {
    let active = keys
        .last()
        .ok_or_else(|| invalid("keys file: no key"))?
        .id();
    Keyring::new(keys, active).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Loads the keyring from `<dir>/keys`, generating a first key if the file does not exist.
///
/// # Errors
/// The I/O error, or `InvalidData` for a damaged keys file.
pub fn load_or_generate_keyring(dir: &Path, rng: &SharedRng) -> io::Result<Keyring> {
    let path = dir.join(KEYS_FILE);
    if !path.exists() {
        let first = rng.with(|rng| MasterKey::generate(KeyId::new(1), rng));
        write_keys(&path, &[first])?;
        tracing::info!(path = %path.display(), "generated the first master key");
    }
    keyring_of(&read_keys(&path)?)
}

/// Adds a new active master key; the previous ones keep verifying, and the oldest beyond
/// [`MAX_KEYS`] is dropped. A running server picks it up on its next start.
///
/// # Errors
/// The I/O error, or `InvalidData` for a damaged keys file or an exhausted key id space.
pub fn rotate(dir: &Path, rng: &SharedRng) -> io::Result<KeyId> {
    let path = dir.join(KEYS_FILE);
    let mut keys = read_keys(&path)?;
    let next = keys
        .iter()
        .map(|k| k.id().get())
        .max()
        .and_then(|id| id.checked_add(1))
        .ok_or_else(|| invalid("keys file: key ids exhausted"))?;
    let id = KeyId::new(next);
    keys.push(rng.with(|rng| MasterKey::generate(id, rng)));
    let excess = keys.len().saturating_sub(MAX_KEYS);
    keys.drain(..excess);
    keyring_of(&keys)?;
    write_keys(&path, &keys)?;
    Ok(id)
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

/// Reads the operator token from a file (for the CLI and scripts).
///
/// # Errors
/// The I/O error, or `InvalidData` if the file does not hold a token.
pub fn read_operator_token(path: &Path) -> io::Result<OperatorToken> {
    let text = Zeroizing::new(fs::read_to_string(path)?);
    let token = text.trim();
    if !token.starts_with(OPERATOR_TOKEN_PREFIX) {
        return Err(invalid("operator token file does not hold a token"));
    }
    Ok(OperatorToken(Zeroizing::new(token.to_owned())))
}

/// Loads `<dir>/operator_token`, generating it (256 random bits) if it does not exist.
///
/// # Errors
/// The I/O error.
pub fn load_or_generate_operator_token(dir: &Path, rng: &SharedRng) -> io::Result<OperatorToken> {
    let path = operator_token_path(dir);
    if !path.exists() {
        let mut raw = Zeroizing::new([0u8; 32]);
        rng.with(|rng| rand_core::Rng::fill_bytes(rng, raw.as_mut_slice()));
        let mut buf = Zeroizing::new([0u8; 64]);
        let encoded = base64url_encode(raw.as_slice(), buf.as_mut_slice())
            .ok_or_else(|| invalid("operator token: encoding failed"))?;
        let line = Zeroizing::new(format!("{OPERATOR_TOKEN_PREFIX}{encoded}\n"));
        write_private(&path, line.as_bytes())?;
        tracing::info!(path = %path.display(), "generated the operator token");
    }
    read_operator_token(&path)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn keys_are_private_persist_and_rotate_within_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let rng = SharedRng::from_os().unwrap();
        let first = load_or_generate_keyring(dir.path(), &rng).unwrap();
        let mode = fs::metadata(dir.path().join(KEYS_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = load_or_generate_keyring(dir.path(), &rng).unwrap();
        assert_eq!(first.codes().active_id(), again.codes().active_id());
        for expected in 2..=6u16 {
            assert_eq!(rotate(dir.path(), &rng).unwrap(), KeyId::new(expected));
        }
        let keyring = load_or_generate_keyring(dir.path(), &rng).unwrap();
        assert_eq!(keyring.access_tokens().active_id(), Some(KeyId::new(6)));
        let ids: Vec<u16> = keyring.access_tokens().key_ids().map(KeyId::get).collect();
        assert_eq!(ids.len(), MAX_KEYS);
        assert!(!ids.contains(&1) && ids.contains(&3));
    }

    #[test]
    fn operator_token_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let rng = SharedRng::from_os().unwrap();
        let token = load_or_generate_operator_token(dir.path(), &rng).unwrap();
        let path = operator_token_path(dir.path());
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(token.verify(text.trim()));
        assert!(!token.verify("tsr_op_wrong"));
        let again = load_or_generate_operator_token(dir.path(), &rng).unwrap();
        assert!(again.verify(token.expose()));
        assert!(!format!("{token:?}").contains(token.expose()));
    }
}
