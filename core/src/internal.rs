//! Hooks for Tessera's own tests, fuzz targets and benches: not part of the API, exempt from
//! semver, hidden from the docs. Use [`crate::encoding`] and the token types instead.

/// HMAC-SHA256 (RFC 2104) of a message under a key of any length, keyed the way the core keys
/// every sub-key, token and secret verifier: checked against RFC 4231's vectors.
pub use crate::keyring::hmac_sha256;
/// CRC-32 (ISO-HDLC), the checksum in a client secret's text (FORMAT.md §5).
pub use crate::secret::crc32;
