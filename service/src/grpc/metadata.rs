//! Credentials from gRPC metadata: thin adapters that find the one `authorization` entry and
//! hand it to [`credentials`](crate::credentials).

use tonic::metadata::MetadataMap;

use crate::authority::Error;
use crate::credentials::{self, AUTHORIZATION, BasicCredentials};
use crate::keys::OperatorToken;

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

/// Checks `authorization: Bearer <operator token>`.
///
/// # Errors
/// [`Error::DuplicateCredentials`] for two `authorization` entries; [`Error::BadOperatorToken`]
/// if it is missing or wrong.
pub(crate) fn check_operator(metadata: &MetadataMap, token: &OperatorToken) -> Result<(), Error> {
    let presented = authorization(metadata).map_err(|e| match e {
        Error::DuplicateCredentials => e,
        _ => Error::BadOperatorToken,
    })?;
    credentials::check_operator(presented, token)
}

/// Reads `authorization: Basic …`, if present.
///
/// # Errors
/// [`Error::DuplicateCredentials`] for two `authorization` entries; [`Error::BadCredentials`]
/// for another scheme or malformed credentials.
pub(crate) fn basic_credentials(metadata: &MetadataMap) -> Result<Option<BasicCredentials>, Error> {
    authorization(metadata)?.map(credentials::basic).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::basic_header;

    #[test]
    fn one_entry_is_read_and_two_are_refused() {
        let id = "00112233445566778899aabbccddeeff";
        let secret = "tsr_cs_x";
        let mut metadata = MetadataMap::new();
        assert!(basic_credentials(&metadata).unwrap().is_none());
        metadata.insert(AUTHORIZATION, "Bearer x".parse().unwrap());
        assert!(matches!(
            basic_credentials(&metadata),
            Err(Error::BadCredentials)
        ));
        let mut twice = MetadataMap::new();
        for _ in 0..2 {
            twice.append(AUTHORIZATION, basic_header(id, secret).parse().unwrap());
        }
        assert!(matches!(
            basic_credentials(&twice),
            Err(Error::DuplicateCredentials)
        ));
    }
}
