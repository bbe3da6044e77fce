//! The bytes that provision a gateway: its access-token sub-keys, checksummed (FORMAT.md §7).
//!
//! ```text
//! blob  = magic "tsrg" (4) ‖ version 0x01 (1) ‖ count (1) ‖ entry × count ‖ SHA-256(all before) (32)
//! entry = purpose 0x02 (1) ‖ key id (2) ‖ sub-key (32)
//! ```
//! A server exports it (`tessera keys export-gateway`); a gateway turns it into a [`KeySet`] that
//! verifies access tokens and can do nothing else. The checksum refuses a damaged or truncated
//! blob. It is not a MAC: whoever can alter the blob can replace the keys anyway, so the blob
//! travels and rests as the secret it is.

use core::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::Error;
use crate::keyring::{KEY_LEN, KeyId, KeySet, MAX_KEYS, Purpose, SubKey};

/// The first four bytes of every blob.
const MAGIC: [u8; 4] = *b"tsrg";
/// The provisioning format version this build writes and reads.
pub const PROVISIONING_VERSION: u8 = 1;
/// magic (4) ‖ version (1) ‖ count (1).
const HEADER_LEN: usize = 6;
/// purpose (1) ‖ key id (2) ‖ sub-key (32).
const ENTRY_LEN: usize = 3 + KEY_LEN;
/// The SHA-256 checksum that ends the blob.
const CHECK_LEN: usize = 32;
/// Length of a blob with one key.
pub const PROVISIONING_MIN_LEN: usize = HEADER_LEN + ENTRY_LEN + CHECK_LEN;
/// Length of a blob with [`MAX_KEYS`] keys, the most a blob holds.
pub const PROVISIONING_MAX_LEN: usize = HEADER_LEN + MAX_KEYS * ENTRY_LEN + CHECK_LEN;

/// The purpose byte of an entry (FORMAT.md §7). Only access-token keys are ever provisioned;
/// the other values exist so that a wrong key is named as such instead of as noise.
const fn purpose_byte(purpose: Purpose) -> u8 {
    match purpose {
        Purpose::AuthorizationCode => 0x01,
        Purpose::AccessToken => 0x02,
        Purpose::RefreshToken => 0x03,
        Purpose::ClientSecret => 0x04,
        Purpose::LoginChallenge => 0x05,
    }
}

fn purpose_of(byte: u8) -> Option<Purpose> {
    Purpose::ALL.into_iter().find(|p| purpose_byte(*p) == byte)
}

/// An encoded provisioning blob: what a server hands a gateway. Zeroized on drop; `Debug` shows
/// only its length.
///
/// ```
/// use tessera_core::{KeyId, MasterKey, Provisioning, Purpose};
/// // On the server: the access-token sub-keys of the old and the new master key.
/// let old = MasterKey::from_bytes(KeyId::new(1), [1; 32]).derive(Purpose::AccessToken);
/// let new = MasterKey::from_bytes(KeyId::new(2), [2; 32]).derive(Purpose::AccessToken);
/// let blob = Provisioning::encode(&[old, new])?;
/// // On the gateway: a key set that verifies tokens of both keys.
/// let keys = Provisioning::decode(blob.expose())?;
/// assert!(keys.key_ids().map(KeyId::get).eq([1, 2]));
/// # Ok::<(), tessera_core::Error>(())
/// ```
pub struct Provisioning {
    len: usize,
    bytes: [u8; PROVISIONING_MAX_LEN],
}

impl Provisioning {
    /// Encodes 1 to [`MAX_KEYS`] access-token sub-keys, oldest first (the last is the key the
    /// server mints with), into a blob (FORMAT.md §7).
    ///
    /// # Errors
    /// [`Error::NoActiveKey`] for no keys, [`Error::WrongKeyPurpose`] for a key of another
    /// purpose, [`Error::DuplicateKey`] for a repeated id, [`Error::TooManyKeys`] for more than
    /// [`MAX_KEYS`].
    pub fn encode(keys: &[SubKey]) -> Result<Self, Error> {
        // The gateway's own rules, applied before anything is written.
        let mut set = KeySet::new(Purpose::AccessToken);
        for key in keys {
            set.insert(key)?;
        }
        let count = u8::try_from(keys.len()).map_err(|_| Error::TooManyKeys)?;
        if count == 0 {
            return Err(Error::NoActiveKey);
        }
        let mut out = Self {
            len: 0,
            bytes: [0; PROVISIONING_MAX_LEN],
        };
        out.put(&MAGIC)?;
        out.put(&[PROVISIONING_VERSION, count])?;
        for key in keys {
            out.put(&[purpose_byte(key.purpose())])?;
            out.put(&key.id().get().to_be_bytes())?;
            out.put(key.expose_bytes())?;
        }
        let check = Sha256::digest(out.expose());
        out.put(&check)?;
        Ok(out)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        // `encode` has checked the key count, so the blob always fits its buffer.
        let end = self
            .len
            .checked_add(bytes.len())
            .ok_or(Error::BufferTooSmall)?;
        self.bytes
            .get_mut(self.len..end)
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    /// The blob's bytes, to write to a 0600 file or a gateway's flash. Never log them.
    pub fn expose(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    /// Parses a blob into the key set of a gateway: access-token keys only, the last one active.
    ///
    /// The checksum is checked first (in constant time, as it covers key bytes), so any
    /// truncation, extension or flipped bit is refused before a field is read.
    ///
    /// # Errors
    /// [`Error::MalformedProvisioning`] for a wrong length, magic, version, count, purpose byte
    /// or checksum; [`Error::WrongKeyPurpose`] for a key of another purpose;
    /// [`Error::DuplicateKey`] for a repeated key id.
    pub fn decode(blob: &[u8]) -> Result<KeySet, Error> {
        let body_len = blob
            .len()
            .checked_sub(CHECK_LEN)
            .ok_or(Error::MalformedProvisioning)?;
        let (body, check) = blob
            .split_at_checked(body_len)
            .ok_or(Error::MalformedProvisioning)?;
        if !bool::from(Sha256::digest(body).as_slice().ct_eq(check)) {
            return Err(Error::MalformedProvisioning);
        }
        let (&[m0, m1, m2, m3, version, count], entries) = body
            .split_first_chunk::<HEADER_LEN>()
            .ok_or(Error::MalformedProvisioning)?;
        let count = usize::from(count);
        if [m0, m1, m2, m3] != MAGIC
            || version != PROVISIONING_VERSION
            || !(1..=MAX_KEYS).contains(&count)
            || Some(entries.len()) != count.checked_mul(ENTRY_LEN)
        {
            return Err(Error::MalformedProvisioning);
        }
        let mut keys = KeySet::new(Purpose::AccessToken);
        let mut active = None;
        for entry in entries.chunks_exact(ENTRY_LEN) {
            let (&[purpose, id_hi, id_lo], key) = entry
                .split_first_chunk::<3>()
                .ok_or(Error::MalformedProvisioning)?;
            let key = key
                .first_chunk::<KEY_LEN>()
                .ok_or(Error::MalformedProvisioning)?;
            let purpose = purpose_of(purpose).ok_or(Error::MalformedProvisioning)?;
            let id = KeyId::new(u16::from_be_bytes([id_hi, id_lo]));
            keys.insert(&SubKey::from_bytes(id, purpose, *key))?;
            active = Some(id);
        }
        keys.set_active(active.ok_or(Error::MalformedProvisioning)?)?;
        Ok(keys)
    }
}

impl Drop for Provisioning {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl ZeroizeOnDrop for Provisioning {}

impl fmt::Debug for Provisioning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provisioning")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}
