//! A registered client as stored: protobuf-encoded (prost), so fields can be added later.

use subtle::ConstantTimeEq as _;
use tessera_core::{ClientId, ID_LEN, Scope, SecretVerifier, redirect_uri_matches};

use super::StoreError;

/// A registered client (RFC 6749 §2). Holds the secret's verifier, never the secret.
#[derive(Clone, Debug)]
pub struct ClientRecord {
    /// Its id.
    pub id: ClientId,
    /// Its human-readable name.
    pub name: String,
    /// Its registered redirect URIs, matched exactly.
    pub redirect_uris: Vec<String>,
    /// The most a code for it may grant.
    pub scope: Scope,
    /// The secret's verifier; `None` for a public client.
    pub verifier: Option<SecretVerifier>,
    /// Registration time, unix seconds.
    pub issued_at: u64,
    /// The secret's verifier before the last rotation, while its grace period lasts.
    pub previous: Option<PreviousSecret>,
}

/// A rotated-away secret's verifier, accepted beside the new one until `until` (the grace period
/// of `RotateClientSecret`).
#[derive(Clone, Debug)]
pub struct PreviousSecret {
    /// The old secret's verifier.
    pub verifier: SecretVerifier,
    /// The first second it is no longer accepted, unix seconds.
    pub until: u64,
}

impl PreviousSecret {
    /// The verifier, if the grace period is still running at `now`.
    pub fn live(&self, now: u64) -> Option<&SecretVerifier> {
        (now < self.until).then_some(&self.verifier)
    }
}

fn same_verifier(a: &SecretVerifier, b: &SecretVerifier) -> bool {
    bool::from(a.to_bytes().ct_eq(&b.to_bytes()))
}

/// Two records are equal if every field is; verifiers compare in constant time.
impl PartialEq for ClientRecord {
    fn eq(&self, other: &Self) -> bool {
        let verifiers = match (&self.verifier, &other.verifier) {
            (None, None) => true,
            (Some(a), Some(b)) => same_verifier(a, b),
            _ => false,
        };
        let previous = match (&self.previous, &other.previous) {
            (None, None) => true,
            (Some(a), Some(b)) => same_verifier(&a.verifier, &b.verifier) && a.until == b.until,
            _ => false,
        };
        verifiers
            && previous
            && self.id == other.id
            && self.name == other.name
            && self.redirect_uris == other.redirect_uris
            && self.scope.as_str() == other.scope.as_str()
            && self.issued_at == other.issued_at
    }
}

impl Eq for ClientRecord {}

impl ClientRecord {
    /// True for a public client (no secret, RFC 6749 §2.1).
    pub const fn is_public(&self) -> bool {
        self.verifier.is_none()
    }

    /// Its `token_endpoint_auth_method` (RFC 7591 §2): `none` for a public client, else
    /// `client_secret_basic` (`client_secret_post` is accepted too).
    pub const fn auth_method(&self) -> &'static str {
        if self.is_public() {
            "none"
        } else {
            "client_secret_basic"
        }
    }

    /// True if `uri` matches one of the registered redirect URIs: byte for byte, or with any
    /// port for a loopback redirect ([`redirect_uri_matches`], RFC 8252 §7.3).
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris
            .iter()
            .any(|registered| redirect_uri_matches(registered, uri))
    }

    pub(super) fn encode(&self) -> Vec<u8> {
        prost::Message::encode_to_vec(&StoredClient {
            id: self.id.as_bytes().to_vec(),
            name: self.name.clone(),
            redirect_uris: self.redirect_uris.clone(),
            scope: self.scope.as_str().to_owned(),
            verifier: self
                .verifier
                .as_ref()
                .map(|v| v.to_bytes().to_vec())
                .unwrap_or_default(),
            issued_at: self.issued_at,
            previous_verifier: self
                .previous
                .as_ref()
                .map(|p| p.verifier.to_bytes().to_vec())
                .unwrap_or_default(),
            previous_until: self.previous.as_ref().map_or(0, |p| p.until),
        })
    }

    pub(super) fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        let stored: StoredClient = prost::Message::decode(bytes).map_err(StoreError::new)?;
        let id: [u8; ID_LEN] = stored
            .id
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::new("stored client id has the wrong length"))?;
        let verifier = if stored.verifier.is_empty() {
            None
        } else {
            Some(SecretVerifier::from_bytes(&stored.verifier).map_err(StoreError::new)?)
        };
        // Absent in records from before rotation existed: they decode with no previous secret.
        let previous = if stored.previous_verifier.is_empty() {
            None
        } else {
            Some(PreviousSecret {
                verifier: SecretVerifier::from_bytes(&stored.previous_verifier)
                    .map_err(StoreError::new)?,
                until: stored.previous_until,
            })
        };
        Ok(Self {
            id: ClientId::from_bytes(id),
            name: stored.name,
            redirect_uris: stored.redirect_uris,
            scope: Scope::parse(&stored.scope).map_err(StoreError::new)?,
            verifier,
            issued_at: stored.issued_at,
            previous,
        })
    }
}

#[derive(Clone, PartialEq, prost::Message)]
struct StoredClient {
    #[prost(bytes = "vec", tag = "1")]
    id: Vec<u8>,
    #[prost(string, tag = "2")]
    name: String,
    #[prost(string, repeated, tag = "3")]
    redirect_uris: Vec<String>,
    #[prost(string, tag = "4")]
    scope: String,
    /// Empty for a public client.
    #[prost(bytes = "vec", tag = "5")]
    verifier: Vec<u8>,
    #[prost(uint64, tag = "6")]
    issued_at: u64,
    /// Empty unless a rotated-away secret is in its grace period. Fields 7 and 8 are new:
    /// records written before them decode with both at their defaults.
    #[prost(bytes = "vec", tag = "7")]
    previous_verifier: Vec<u8>,
    #[prost(uint64, tag = "8")]
    previous_until: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The encoding of a record written before fields 7 and 8 existed (no previous secret).
    #[derive(Clone, PartialEq, prost::Message)]
    struct BeforeRotation {
        #[prost(bytes = "vec", tag = "1")]
        id: Vec<u8>,
        #[prost(string, tag = "2")]
        name: String,
        #[prost(string, repeated, tag = "3")]
        redirect_uris: Vec<String>,
        #[prost(string, tag = "4")]
        scope: String,
        #[prost(bytes = "vec", tag = "5")]
        verifier: Vec<u8>,
        #[prost(uint64, tag = "6")]
        issued_at: u64,
    }

    #[test]
    fn a_record_from_before_rotation_still_decodes_and_reencodes_the_same() {
        let old = prost::Message::encode_to_vec(&BeforeRotation {
            id: vec![7; ID_LEN],
            name: "old".to_owned(),
            redirect_uris: vec!["https://app.example/cb".to_owned()],
            scope: "read".to_owned(),
            verifier: Vec::new(),
            issued_at: 5,
        });
        let record = ClientRecord::decode(&old).unwrap();
        assert!(record.previous.is_none());
        assert_eq!(record.name, "old");
        // Default fields are not written, so an unchanged record keeps its bytes.
        assert_eq!(record.encode(), old);
    }
}
