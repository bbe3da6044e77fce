//! Reading credentials from gRPC metadata: the operator's `Bearer` token and a client's HTTP
//! `Basic` credentials (RFC 6749 §2.3.1, RFC 7617).

use tessera_core::encoding::{base64_decode, base64_encode};
use tessera_core::{ClientId, ClientSecret};
use tonic::metadata::MetadataMap;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::keys::OperatorToken;

/// The metadata key credentials travel in.
pub const AUTHORIZATION: &str = "authorization";

/// The one `authorization` value; two are two credentials (RFC 6749 §2.3: one method per
/// request), never "the first wins".
fn authorization(metadata: &MetadataMap) -> Result<Option<&str>, Error> {
    let mut values = metadata.get_all(AUTHORIZATION).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(Error::DuplicateCredentials);
    }
    first
        .map(|v| v.to_str().map_err(|_| Error::BadCredentials))
        .transpose()
}

/// Strips an auth scheme, case-insensitively (RFC 7235 §2.1).
fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

/// Checks `authorization: Bearer <operator token>`.
///
/// # Errors
/// [`Error::DuplicateCredentials`] for two `authorization` entries; [`Error::BadOperatorToken`]
/// if it is missing or wrong.
pub fn check_operator(metadata: &MetadataMap, token: &OperatorToken) -> Result<(), Error> {
    let presented = authorization(metadata)
        .map_err(|e| match e {
            Error::DuplicateCredentials => e,
            _ => Error::BadOperatorToken,
        })?
        .and_then(|v| strip_scheme(v, "Bearer"))
        .ok_or(Error::BadOperatorToken)?;
    if token.verify(presented) {
        Ok(())
    } else {
        Err(Error::BadOperatorToken)
    }
}

/// A client's presented id and secret, not yet checked against its verifier.
#[derive(Debug)]
pub struct BasicCredentials {
    /// The id it claims.
    pub client_id: ClientId,
    /// The secret it presented.
    pub secret: ClientSecret,
}

/// Reads `authorization: Basic base64(client_id ":" client_secret)`, if present.
///
/// Tessera ids and secrets use only unreserved characters, so the form-urlencoding of
/// RFC 6749 §2.3.1 leaves them unchanged.
///
/// # Errors
/// [`Error::DuplicateCredentials`] for two `authorization` entries; [`Error::BadCredentials`]
/// for another scheme or malformed credentials.
pub fn basic_credentials(metadata: &MetadataMap) -> Result<Option<BasicCredentials>, Error> {
    let Some(value) = authorization(metadata)? else {
        return Ok(None);
    };
    let encoded = strip_scheme(value, "Basic").ok_or(Error::BadCredentials)?;
    // Longer than any Tessera id and secret: anything that does not fit is not ours.
    let mut buf = Zeroizing::new([0u8; 256]);
    let decoded =
        base64_decode(encoded.as_bytes(), buf.as_mut_slice()).ok_or(Error::BadCredentials)?;
    let text = core::str::from_utf8(decoded).map_err(|_| Error::BadCredentials)?;
    let (id, secret) = text.split_once(':').ok_or(Error::BadCredentials)?;
    Ok(Some(BasicCredentials {
        client_id: ClientId::parse(id).map_err(|_| Error::BadCredentials)?,
        secret: ClientSecret::parse(secret).map_err(|_| Error::BadCredentials)?,
    }))
}

/// The `authorization` value for Basic client credentials (for clients of this service).
pub fn basic_header(client_id: &str, client_secret: &str) -> Zeroizing<String> {
    let joined = Zeroizing::new(format!("{client_id}:{client_secret}"));
    let mut buf = Zeroizing::new(vec![0u8; joined.len().div_ceil(3).saturating_mul(4)]);
    // The buffer is sized for the padded encoding, so this always succeeds.
    let encoded = base64_encode(joined.as_bytes(), buf.as_mut_slice()).unwrap_or_default();
    Zeroizing::new(format!("Basic {encoded}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_round_trip_and_refusals() {
        let id = "00112233445566778899aabbccddeeff";
        let secret =
            ClientSecret::generate(&mut rand_chacha::ChaCha20Rng::from_seed([1; 32])).encode();
        let mut metadata = MetadataMap::new();
        assert!(basic_credentials(&metadata).unwrap().is_none());
        metadata.insert(
            AUTHORIZATION,
            basic_header(id, secret.expose()).parse().unwrap(),
        );
        let creds = basic_credentials(&metadata).unwrap().unwrap();
        assert_eq!(creds.client_id.to_string(), id);
        let mut twice = metadata.clone();
        twice.append(
            AUTHORIZATION,
            basic_header(id, secret.expose()).parse().unwrap(),
        );
        assert!(matches!(
            basic_credentials(&twice),
            Err(Error::DuplicateCredentials)
        ));
        for bad in ["Basic !!!", "Bearer x", "Basic", "Basic YTpi"] {
            metadata.insert(AUTHORIZATION, bad.parse().unwrap());
            assert!(
                matches!(basic_credentials(&metadata), Err(Error::BadCredentials)),
                "{bad}"
            );
        }
    }

    use rand_core::SeedableRng;
}
