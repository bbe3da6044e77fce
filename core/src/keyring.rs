//! Master keys, per-purpose sub-keys derived with HMAC, and the key sets that mint and verify.
//!
//! ```text
//! master key (32 B, id k) ──HMAC-SHA256(master, "tessera/v1 <purpose>")──▶ sub-key (32 B, id k)
//! ```
//! A token of one kind can never verify as another: each kind is MACed under its own sub-key
//! (and carries its kind in the signed prefix and body). A gateway that only verifies access
//! tokens is provisioned with access-token sub-keys alone and never holds a master key.

use core::fmt;

use hmac::digest::Key;
use hmac::{Hmac, KeyInit, Mac};
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::Error;

/// Length of master keys and sub-keys in bytes.
pub const KEY_LEN: usize = 32;
/// Most keys one [`KeySet`] holds: the active key plus older keys that still verify.
pub const MAX_KEYS: usize = 4;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// SHA-256's block: what HMAC-SHA256 takes as its key (RFC 2104 §2, `K0`).
const BLOCK_LEN: usize = 64;

/// HMAC-SHA256 (RFC 2104) of `message` under `key`, for the RFC 4231 tests: the MAC behind
/// every sub-key, token and secret verifier, keyed exactly as they are (one RFC 2104 block).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; KEY_LEN] {
    keyed(key)
        .chain_update(message)
        .finalize()
        .into_bytes()
        .into()
}

/// The one way the core keys HMAC-SHA256: a pre-keyed state (the inner and outer pads hashed
/// once, cloned per message).
///
/// `Hmac::new` takes the key as exactly one block, `K0` of RFC 2104 §2: `key` zero-padded, or
/// its SHA-256 zero-padded if longer than a block. Built that way, no length can be wrong, so
/// there is no `Result` to fall back from. Every key of the core is [`KEY_LEN`] bytes and fits
/// a block as it is (checked at compile time); only the RFC 4231 tests hash a key first.
fn keyed(key: &[u8]) -> HmacSha256 {
    const { assert!(BLOCK_LEN == size_of::<Key<HmacSha256>>()) };
    const {
        assert!(
            KEY_LEN <= BLOCK_LEN,
            "a key must fit one SHA-256 block unhashed"
        )
    };
    let mut k0 = Key::<HmacSha256>::default();
    if key.len() > BLOCK_LEN {
        k0.iter_mut()
            .zip(Sha256::digest(key))
            .for_each(|(b, k)| *b = k);
    } else {
        k0.iter_mut().zip(key).for_each(|(b, k)| *b = *k);
    }
    let mac = HmacSha256::new(&k0);
    k0.as_mut_slice().zeroize();
    mac
}

/// Identifies a master key and every sub-key derived from it; signed into every token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(u16);

impl KeyId {
    /// Wraps a key number.
    pub const fn new(id: u16) -> Self {
        Self(id)
    }

    /// The key number.
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a sub-key is for. Each purpose has its own derivation label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Purpose {
    /// Minting and verifying authorization codes.
    AuthorizationCode,
    /// Minting and verifying access tokens.
    AccessToken,
    /// Minting and verifying refresh tokens.
    RefreshToken,
    /// Hashing client secrets into stored verifiers.
    ClientSecret,
    /// Minting and verifying login challenges (the authorization request handed to the login app).
    LoginChallenge,
}

impl Purpose {
    /// Every purpose, in a fixed order.
    pub const ALL: [Purpose; 5] = [
        Self::AuthorizationCode,
        Self::AccessToken,
        Self::RefreshToken,
        Self::ClientSecret,
        Self::LoginChallenge,
    ];

    /// The HMAC message that derives this purpose's sub-key from a master key.
    pub const fn label(self) -> &'static [u8] {
        match self {
            Self::AuthorizationCode => b"tessera/v1 authorization-code",
            Self::AccessToken => b"tessera/v1 access-token",
            Self::RefreshToken => b"tessera/v1 refresh-token",
            Self::ClientSecret => b"tessera/v1 client-secret",
            Self::LoginChallenge => b"tessera/v1 login-challenge",
        }
    }
}

/// A 256-bit master key. Zeroized on drop; `Debug` shows only its id.
#[derive(Clone)]
pub struct MasterKey {
    id: KeyId,
    bytes: [u8; KEY_LEN],
}

/// The message a master key's fingerprint is the MAC of: no purpose label is a prefix of it.
const FINGERPRINT_LABEL: &[u8] = b"tessera master key fingerprint v1";

impl MasterKey {
    /// Draws a new key from the caller's CSPRNG.
    pub fn generate<R: CryptoRng + ?Sized>(id: KeyId, rng: &mut R) -> Self {
        let mut bytes = [0u8; KEY_LEN];
        rng.fill_bytes(&mut bytes);
        Self { id, bytes }
    }

    /// Wraps stored key bytes.
    pub const fn from_bytes(id: KeyId, bytes: [u8; KEY_LEN]) -> Self {
        Self { id, bytes }
    }

    /// The key's id.
    pub const fn id(&self) -> KeyId {
        self.id
    }

    /// The raw key, for writing it to protected storage. Never log it.
    pub const fn expose_bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }

    /// A public name for the key: `HMAC-SHA256(master, "tessera master key fingerprint v1")`.
    /// A server records it beside the key's id to tell a damaged or foreign keys file from its
    /// own; it reveals nothing of the key. Compare fingerprints in constant time.
    pub fn fingerprint(&self) -> [u8; KEY_LEN] {
        hmac_sha256(&self.bytes, FINGERPRINT_LABEL)
    }

    /// Derives the sub-key for one purpose: `HMAC-SHA256(master, purpose.label())`.
    pub fn derive(&self, purpose: Purpose) -> SubKey {
        SubKey {
            id: self.id,
            purpose,
            bytes: hmac_sha256(&self.bytes, purpose.label()),
        }
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl ZeroizeOnDrop for MasterKey {}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A key for one purpose, derived from a master key. Zeroized on drop; `Debug` shows no bytes.
#[derive(Clone)]
pub struct SubKey {
    id: KeyId,
    purpose: Purpose,
    bytes: [u8; KEY_LEN],
}

impl SubKey {
    /// Wraps sub-key bytes exported by a server (how a gateway is provisioned).
    pub const fn from_bytes(id: KeyId, purpose: Purpose, bytes: [u8; KEY_LEN]) -> Self {
        Self { id, purpose, bytes }
    }

    /// The id of the master key this was derived from.
    pub const fn id(&self) -> KeyId {
        self.id
    }

    /// What this key is for.
    pub const fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// The raw key, for provisioning a gateway. Never log it.
    pub const fn expose_bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }
}

impl Drop for SubKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl ZeroizeOnDrop for SubKey {}

impl fmt::Debug for SubKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubKey")
            .field("id", &self.id)
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

/// The keys of one purpose: one active key that mints, and up to [`MAX_KEYS`] that verify.
///
/// Each key is held as a pre-keyed HMAC state (the inner and outer pads already hashed), so a
/// token costs only the compressions of its own bytes. The states are zeroized on drop.
#[derive(Clone)]
pub struct KeySet {
    purpose: Purpose,
    active: Option<KeyId>,
    keys: heapless::Vec<(KeyId, HmacSha256), MAX_KEYS>,
}

impl KeySet {
    /// An empty key set for `purpose`.
    pub const fn new(purpose: Purpose) -> Self {
        Self {
            purpose,
            active: None,
            keys: heapless::Vec::new(),
        }
    }

    /// Adds a key that verifies. The first key added becomes the active key.
    ///
    /// # Errors
    /// [`Error::WrongKeyPurpose`] if the sub-key is for another purpose,
    /// [`Error::DuplicateKey`] if its id is present, [`Error::TooManyKeys`] if the set is full.
    pub fn insert(&mut self, key: &SubKey) -> Result<(), Error> {
        if key.purpose != self.purpose {
            return Err(Error::WrongKeyPurpose);
        }
        if self.find(key.id).is_some() {
            return Err(Error::DuplicateKey);
        }
        self.keys
            .push((key.id, keyed(&key.bytes)))
            .map_err(|_| Error::TooManyKeys)?;
        self.active.get_or_insert(key.id);
        Ok(())
    }

    /// Makes `id` the key that mints.
    ///
    /// # Errors
    /// [`Error::UnknownKey`] if the set does not hold `id`.
    pub fn set_active(&mut self, id: KeyId) -> Result<(), Error> {
        self.find(id).ok_or(Error::UnknownKey)?;
        self.active = Some(id);
        Ok(())
    }

    /// What these keys are for.
    pub const fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// The id of the key that mints, if any.
    pub const fn active_id(&self) -> Option<KeyId> {
        self.active
    }

    /// The ids this set verifies, oldest first.
    pub fn key_ids(&self) -> impl Iterator<Item = KeyId> + '_ {
        self.keys.iter().map(|(id, _)| *id)
    }

    fn find(&self, id: KeyId) -> Option<&HmacSha256> {
        self.keys.iter().find(|(k, _)| *k == id).map(|(_, mac)| mac)
    }

    /// The pre-keyed MAC for `id`, if this set is for `purpose`.
    pub(crate) fn verifying(&self, purpose: Purpose, id: KeyId) -> Result<&HmacSha256, Error> {
        if purpose != self.purpose {
            return Err(Error::WrongKeyPurpose);
        }
        self.find(id).ok_or(Error::UnknownKey)
    }

    /// The active key and its pre-keyed MAC, if this set is for `purpose`.
    ///
    /// # Errors
    /// [`Error::NoActiveKey`] for an empty set, [`Error::WrongKeyPurpose`] for another purpose.
    pub(crate) fn minting(&self, purpose: Purpose) -> Result<(KeyId, &HmacSha256), Error> {
        if purpose != self.purpose {
            return Err(Error::WrongKeyPurpose);
        }
        let id = self.active.ok_or(Error::NoActiveKey)?;
        Ok((id, self.verifying(purpose, id)?))
    }
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySet")
            .field("purpose", &self.purpose)
            .field("active", &self.active)
            .field(
                "keys",
                &heapless::Vec::<KeyId, MAX_KEYS>::from_iter(self.key_ids()),
            )
            .finish()
    }
}

/// A server's keys: one [`KeySet`] per purpose, all derived from the same master keys.
///
/// The master keys are not kept: only derived, pre-keyed states.
///
/// ```
/// use tessera_core::{KeyId, Keyring, MasterKey};
/// let old = MasterKey::from_bytes(KeyId::new(1), [1; 32]);
/// let new = MasterKey::from_bytes(KeyId::new(2), [2; 32]);
/// let keyring = Keyring::new(&[old, new], KeyId::new(2))?; // 2 mints, 1 and 2 verify
/// assert_eq!(keyring.access_tokens().active_id(), Some(KeyId::new(2)));
/// # Ok::<(), tessera_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Keyring {
    codes: KeySet,
    access: KeySet,
    refresh: KeySet,
    secrets: KeySet,
    login: KeySet,
}

impl Keyring {
    /// Derives every purpose's keys from `masters`, with `active` minting.
    ///
    /// # Errors
    /// [`Error::TooManyKeys`] for more than [`MAX_KEYS`] masters, [`Error::DuplicateKey`] for a
    /// repeated id, [`Error::UnknownKey`] if `active` is not among them.
    pub fn new(masters: &[MasterKey], active: KeyId) -> Result<Self, Error> {
        let mut sets = Purpose::ALL.map(KeySet::new);
        for set in &mut sets {
            for master in masters {
                set.insert(&master.derive(set.purpose))?;
            }
            set.set_active(active)?;
        }
        let [codes, access, refresh, secrets, login] = sets;
        Ok(Self {
            codes,
            access,
            refresh,
            secrets,
            login,
        })
    }

    /// Keys for authorization codes.
    pub const fn codes(&self) -> &KeySet {
        &self.codes
    }

    /// Keys for access tokens. Clone this set to hand a verifier only what it needs.
    pub const fn access_tokens(&self) -> &KeySet {
        &self.access
    }

    /// Keys for refresh tokens.
    pub const fn refresh_tokens(&self) -> &KeySet {
        &self.refresh
    }

    /// Keys for client-secret verifiers.
    pub const fn client_secrets(&self) -> &KeySet {
        &self.secrets
    }

    /// Keys for login challenges.
    pub const fn login_challenges(&self) -> &KeySet {
        &self.login
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_names_a_key_and_is_none_of_its_sub_keys() {
        let key = MasterKey::from_bytes(KeyId::new(1), [7; KEY_LEN]);
        let other = MasterKey::from_bytes(KeyId::new(1), [8; KEY_LEN]);
        assert_eq!(
            key.fingerprint(),
            hmac_sha256(&[7; KEY_LEN], b"tessera master key fingerprint v1")
        );
        assert_eq!(key.fingerprint(), key.clone().fingerprint());
        assert_ne!(key.fingerprint(), other.fingerprint());
        for purpose in Purpose::ALL {
            assert_ne!(&key.fingerprint(), key.derive(purpose).expose_bytes());
        }
    }

    #[test]
    fn pre_keyed_state_matches_one_shot_hmac() {
        let sub = SubKey::from_bytes(KeyId::new(3), Purpose::AccessToken, [0x5a; KEY_LEN]);
        let mut set = KeySet::new(Purpose::AccessToken);
        set.insert(&sub).unwrap();
        let (id, mac) = set.minting(Purpose::AccessToken).unwrap();
        assert_eq!(id, KeyId::new(3));
        let tag: [u8; 32] = mac
            .clone()
            .chain_update(b"message")
            .finalize()
            .into_bytes()
            .into();
        assert_eq!(tag, hmac_sha256(&[0x5a; KEY_LEN], b"message"));
    }

    #[test]
    fn one_keying_path_agrees_with_the_hmac_crate_for_every_key_length() {
        // Shorter than, exactly and longer than a block: padded or hashed as RFC 2104 §2 says.
        let long = [0x3c_u8; 3 * BLOCK_LEN];
        for len in 0..=long.len() {
            let key = &long[..len];
            let theirs: [u8; 32] = <HmacSha256 as KeyInit>::new_from_slice(key)
                .unwrap()
                .chain_update(b"message")
                .finalize()
                .into_bytes()
                .into();
            assert_eq!(hmac_sha256(key, b"message"), theirs, "key of {len} bytes");
        }
        // A sub-key is the MAC of its label under the master key, keyed the same way.
        let master = MasterKey::from_bytes(KeyId::new(1), [0x42; KEY_LEN]);
        let label = Purpose::RefreshToken.label();
        let theirs: [u8; 32] = <HmacSha256 as KeyInit>::new_from_slice(&[0x42; KEY_LEN])
            .unwrap()
            .chain_update(label)
            .finalize()
            .into_bytes()
            .into();
        assert_eq!(master.derive(Purpose::RefreshToken).expose_bytes(), &theirs);
    }

    #[test]
    fn key_set_rules() {
        let key = |id, purpose| {
            SubKey::from_bytes(KeyId::new(id), purpose, [id.to_be_bytes()[1]; KEY_LEN])
        };
        let mut set = KeySet::new(Purpose::RefreshToken);
        assert_eq!(
            set.minting(Purpose::RefreshToken).err(),
            Some(Error::NoActiveKey)
        );
        assert_eq!(
            set.insert(&key(1, Purpose::AccessToken)),
            Err(Error::WrongKeyPurpose)
        );
        for id in 1..=u16::try_from(MAX_KEYS).unwrap() {
            set.insert(&key(id, Purpose::RefreshToken)).unwrap();
        }
        assert_eq!(
            set.insert(&key(1, Purpose::RefreshToken)),
            Err(Error::DuplicateKey)
        );
        assert_eq!(
            set.insert(&key(99, Purpose::RefreshToken)),
            Err(Error::TooManyKeys)
        );
        assert_eq!(set.active_id(), Some(KeyId::new(1)));
        assert_eq!(set.set_active(KeyId::new(42)), Err(Error::UnknownKey));
        set.set_active(KeyId::new(4)).unwrap();
        assert_eq!(set.minting(Purpose::RefreshToken).unwrap().0, KeyId::new(4));
        assert_eq!(
            set.verifying(Purpose::AccessToken, KeyId::new(1)).err(),
            Some(Error::WrongKeyPurpose)
        );
    }

    #[test]
    fn purposes_derive_distinct_keys_and_debug_hides_them() {
        let master = MasterKey::from_bytes(KeyId::new(1), [0xab; KEY_LEN]);
        let subs = Purpose::ALL.map(|p| *master.derive(p).expose_bytes());
        for (i, a) in subs.iter().enumerate() {
            for b in subs.iter().skip(i + 1) {
                assert_ne!(a, b);
            }
        }
        let mut out = heapless::String::<256>::new();
        core::fmt::write(
            &mut out,
            format_args!("{master:?} {:?}", master.derive(Purpose::AccessToken)),
        )
        .unwrap();
        assert!(!out.contains("171") && !out.contains("ab"), "{out}");
    }
}
