//! Client secrets (RFC 6749 §2.3.1), the keyed-hash verifiers a server stores in their place,
//! and [`SecretText`], the zeroizing string that holds every credential Tessera hands out.
//!
//! Secret text (FORMAT.md §5): `tsr_cs_` + base64url(32 random bytes ‖ CRC-32 of them, big-endian).
//! The checksum lets a secret scanner recognise a real secret without any key; it is no defence.

use core::fmt;

use hmac::Mac;
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::encoding::{base64url_decode, base64url_encode_array, base64url_len};
use crate::keyring::{KEY_LEN, KeyId, KeySet, Purpose};
use crate::{ClientId, Error};

/// Random bytes in a client secret (256 bits).
pub const SECRET_LEN: usize = 32;
/// The prefix every client secret starts with.
pub const SECRET_PREFIX: &str = "tsr_cs_";
const CHECKSUM_LEN: usize = 4;
/// Length of a client secret's text (55 characters).
pub const SECRET_TEXT_LEN: usize = SECRET_PREFIX.len() + base64url_len(SECRET_TEXT_BYTES);
/// Length of a [`SecretVerifier`] in bytes: key id (2) ‖ HMAC-SHA256 (32).
pub const VERIFIER_LEN: usize = 2 + KEY_LEN;

/// A credential as text: a client secret or a minted token. Zeroized on drop, redacted in
/// `Debug`, no `Display`: read it deliberately with [`expose`](Self::expose).
///
/// It has no `PartialEq`: `==` on secret bytes is not constant-time. Compare with
/// `subtle::ConstantTimeEq` on [`expose`](Self::expose)'s bytes.
///
/// ```compile_fail
/// # use rand_core::SeedableRng;
/// let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
/// let a = tessera_core::ClientSecret::generate(&mut rng).encode();
/// let _ = a == a.clone(); // does not compile: no `==` on a secret
/// ```
#[derive(Clone)]
pub struct SecretText<const N: usize>(heapless::Vec<u8, N>);

impl<const N: usize> SecretText<N> {
    /// `len` zero bytes to be filled in place (so the text is never copied out of a scratch buffer).
    pub(crate) fn zeroed(len: usize) -> Option<Self> {
        let mut v = heapless::Vec::new();
        v.resize(len, 0).ok()?;
        Some(Self(v))
    }

    /// A copy of `text`, which fits (checked at compile time). The caller zeroizes its own copy.
    pub(crate) fn from_array<const M: usize>(text: [u8; M]) -> Self {
        Self(heapless::Vec::from_array(text))
    }

    /// A copy of `text`, if it fits.
    pub(crate) fn from_slice(text: &[u8]) -> Option<Self> {
        heapless::Vec::from_slice(text).ok().map(Self)
    }

    pub(crate) fn as_mut_bytes(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// The credential text, to send to its holder. Never log it.
    pub fn expose(&self) -> &str {
        // Only ASCII is ever written (a prefix and base64url), so this never falls back.
        core::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl<const N: usize> Drop for SecretText<N> {
    fn drop(&mut self) {
        self.0.as_mut_slice().zeroize();
    }
}

impl<const N: usize> ZeroizeOnDrop for SecretText<N> {}

impl<const N: usize> fmt::Debug for SecretText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretText(<redacted>)")
    }
}

/// A client secret: 256 bits from the caller's CSPRNG. Zeroized on drop, redacted in `Debug`.
///
/// ```
/// use tessera_core::{ClientId, ClientSecret, KeyId, Keyring, MasterKey, SecretVerifier};
/// # let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
/// # use rand_core::SeedableRng;
/// let keyring = Keyring::new(&[MasterKey::generate(KeyId::new(1), &mut rng)], KeyId::new(1))?;
/// let client = ClientId::generate(&mut rng);
/// let secret = ClientSecret::generate(&mut rng);
/// let shown_once = secret.encode(); // give this to the client
/// let stored = SecretVerifier::new(keyring.client_secrets(), &client, &secret)?; // keep this
///
/// let presented = ClientSecret::parse(shown_once.expose())?;
/// stored.verify(keyring.client_secrets(), &client, &presented)?;
/// # Ok::<(), tessera_core::Error>(())
/// ```
#[derive(Clone)]
pub struct ClientSecret([u8; SECRET_LEN]);

impl ClientSecret {
    /// Draws a new secret from the caller's CSPRNG.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; SECRET_LEN];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The text form, `tsr_cs_…` (55 characters), shown to the client once.
    pub fn encode(&self) -> SecretText<SECRET_TEXT_LEN> {
        let mut raw = [0u8; SECRET_TEXT_BYTES];
        for (r, b) in raw
            .iter_mut()
            .zip(self.0.iter().chain(&crc32(&self.0).to_be_bytes()))
        {
            *r = *b;
        }
        let mut body = [0u8; base64url_len(SECRET_TEXT_BYTES)];
        base64url_encode_array(&raw, &mut body);
        let mut text = [0u8; SECRET_TEXT_LEN];
        for (t, c) in text
            .iter_mut()
            .zip(SECRET_PREFIX.as_bytes().iter().chain(&body))
        {
            *t = *c;
        }
        let secret = SecretText::from_array(text);
        raw.zeroize();
        body.zeroize();
        text.zeroize();
        secret
    }

    /// Parses a presented secret: prefix, length, base64url and checksum.
    ///
    /// # Errors
    /// [`Error::MalformedSecret`] for anything that is not a well-formed Tessera secret.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let body = text
            .strip_prefix(SECRET_PREFIX)
            .filter(|_| text.len() == SECRET_TEXT_LEN)
            .ok_or(Error::MalformedSecret)?;
        let mut raw = [0u8; SECRET_TEXT_BYTES];
        let decoded = base64url_decode(body.as_bytes(), &mut raw).map(<[u8]>::len);
        let result = match (decoded, raw.split_first_chunk::<SECRET_LEN>()) {
            (Some(SECRET_TEXT_BYTES), Some((secret, checksum)))
                if checksum == crc32(secret).to_be_bytes() =>
            {
                Ok(Self(*secret))
            }
            _ => Err(Error::MalformedSecret),
        };
        raw.zeroize();
        result
    }
}

/// Bytes behind a client secret's text: the secret and its checksum.
const SECRET_TEXT_BYTES: usize = SECRET_LEN + CHECKSUM_LEN;

impl Drop for ClientSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for ClientSecret {}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

/// What a server stores in place of a client secret:
/// `HMAC-SHA256(client-secret sub-key, client_id ‖ secret)` and the id of the key used.
///
/// The secret already has 256 bits of entropy, so one keyed hash suffices (no bcrypt): a check
/// costs about as much as minting one token. Binding the client id means a verifier copied onto
/// another client's record does not verify. Without the sub-key a stolen verifier is useless.
///
/// No `PartialEq` either: [`verify`](Self::verify) compares in constant time.
///
/// ```compile_fail
/// fn same(a: &tessera_core::SecretVerifier, b: &tessera_core::SecretVerifier) -> bool {
///     a == b // does not compile: no `==` on a verifier
/// }
/// ```
#[derive(Clone)]
pub struct SecretVerifier {
    key_id: KeyId,
    hash: [u8; KEY_LEN],
}

impl SecretVerifier {
    /// Hashes `secret` for `client` under the active client-secret key.
    ///
    /// # Errors
    /// [`Error::WrongKeyPurpose`] if `keys` is not a client-secret key set,
    /// [`Error::NoActiveKey`] if it has no active key.
    pub fn new(keys: &KeySet, client: &ClientId, secret: &ClientSecret) -> Result<Self, Error> {
        let (key_id, mac) = keys.minting(Purpose::ClientSecret)?;
        let hash = mac
            .clone()
            .chain_update(client.as_bytes())
            .chain_update(secret.0)
            .finalize()
            .into_bytes()
            .into();
        Ok(Self { key_id, hash })
    }

    /// Checks a presented secret in constant time (`Mac::verify_slice`).
    ///
    /// # Errors
    /// [`Error::SecretMismatch`] if it is not the secret this verifier was made from (or the
    /// client differs); [`Error::UnknownKey`] if its key has been retired;
    /// [`Error::WrongKeyPurpose`] if `keys` is not a client-secret key set.
    pub fn verify(
        &self,
        keys: &KeySet,
        client: &ClientId,
        secret: &ClientSecret,
    ) -> Result<(), Error> {
        keys.verifying(Purpose::ClientSecret, self.key_id)?
            .clone()
            .chain_update(client.as_bytes())
            .chain_update(secret.0)
            .verify_slice(&self.hash)
            .map_err(|_| Error::SecretMismatch)
    }

    /// The id of the key this verifier was made with (re-hash under the active key when it differs).
    pub const fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The stored form: key id (big-endian u16) ‖ hash.
    pub fn to_bytes(&self) -> [u8; VERIFIER_LEN] {
        let mut out = [0u8; VERIFIER_LEN];
        let (id, hash) = out.split_at_mut(2);
        id.copy_from_slice(&self.key_id.get().to_be_bytes());
        hash.copy_from_slice(&self.hash);
        out
    }

    /// Reads the stored form.
    ///
    /// # Errors
    /// [`Error::MalformedVerifier`] if `bytes` is not [`VERIFIER_LEN`] long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let (id, hash) = bytes
            .split_first_chunk::<2>()
            .ok_or(Error::MalformedVerifier)?;
        let hash: [u8; KEY_LEN] = hash.try_into().map_err(|_| Error::MalformedVerifier)?;
        Ok(Self {
            key_id: KeyId::new(u16::from_be_bytes(*id)),
            hash,
        })
    }
}

impl fmt::Debug for SecretVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretVerifier")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// CRC-32 (ISO-HDLC: reflected, polynomial 0xEDB88320), as used by zlib and GitHub's token checksums.
pub fn crc32(bytes: &[u8]) -> u32 {
    #[allow(
        clippy::indexing_slicing,
        reason = "const evaluation: an out-of-bounds index fails the build"
    )]
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            #[allow(clippy::cast_possible_truncation, reason = "i < 256")]
            let mut c = i as u32;
            let mut bit = 0;
            while bit < 8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                bit += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    !bytes.iter().fold(!0u32, |crc, &b| {
        let [low, ..] = crc.to_le_bytes();
        TABLE.get(usize::from(low ^ b)).copied().unwrap_or(0) ^ (crc >> 8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }
}
