//! The data directory's secrets and their file formats: the master keys (`keys`) and the
//! operator token (`operator_token`), both mode 0600. [`datadir`](crate::datadir) decides when
//! they are created (first start only) and checks them against the database.
//!
//! `keys` holds one key a line, `<key id> <base64url of 32 bytes>`, oldest first; the last line is
//! the active (minting) key, and every listed key verifies. At most [`MAX_KEYS`] are kept.

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

/// Reads the master keys of a keys file, oldest first.
///
/// # Errors
/// The I/O error, or `InvalidData` naming the file and the line that is not `<id> <key>`, holds
/// a bad id or encoding, repeats an id or is out of order, or a file with no key.
pub fn read_keys(path: &Path) -> io::Result<Vec<MasterKey>> {
    let text = Zeroizing::new(fs::read_to_string(path)?);
    let mut keys: Vec<MasterKey> = Vec::new();
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
    if keys.is_empty() {
        return Err(invalid(format!(
            "{} holds no key: restore it from a backup of the data directory",
            path.display()
        )));
    }
    if keys.len() > MAX_KEYS {
        return Err(invalid(format!(
            "{} holds {} keys, more than {MAX_KEYS}: restore it from a backup of the data \
             directory",
            path.display(),
            keys.len()
        )));
    }
    Ok(keys)
}

/// Writes a keys file (mode 0600, atomically).
///
/// # Errors
/// The I/O error.
pub fn write_keys(path: &Path, keys: &[MasterKey]) -> io::Result<()> {
    let mut text = Zeroizing::new(String::new());
    for key in keys {
        let mut buf = Zeroizing::new([0u8; 64]);
        let encoded = base64url_encode(key.expose_bytes(), buf.as_mut_slice())
            .ok_or_else(|| invalid("a key does not fit its encoding buffer".to_owned()))?;
        let line = Zeroizing::new(format!("{} {encoded}\n", key.id().get()));
        text.push_str(&line);
    }
    write_private(path, text.as_bytes())
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
    let path = operator_token_path(dir);
    if path.exists() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "{} exists: an operator token is never replaced",
                path.display()
            ),
        ));
    }
    let mut raw = Zeroizing::new([0u8; OPERATOR_TOKEN_BYTES]);
    rng.with(|rng| rand_core::Rng::fill_bytes(rng, raw.as_mut_slice()));
    let mut buf = Zeroizing::new([0u8; 64]);
    let encoded = base64url_encode(raw.as_slice(), buf.as_mut_slice())
        .ok_or_else(|| invalid("the operator token does not fit its buffer".to_owned()))?;
    let line = Zeroizing::new(format!("{OPERATOR_TOKEN_PREFIX}{encoded}\n"));
    write_private(&path, line.as_bytes())?;
    tracing::info!(path = %path.display(), "generated the operator token");
    read_operator_token(&path)
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
        assert_eq!(fingerprints(&read), fingerprints(&keys));
        assert_eq!(
            keyring_of(&read).unwrap().codes().active_id(),
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
