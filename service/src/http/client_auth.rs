//! Client authentication at the HTTP endpoints (RFC 6749 §2.3.1): `client_secret_basic` (the
//! `Authorization` header), `client_secret_post` (`client_id` and `client_secret` in the form)
//! or `none` (a public client's `client_id` alone). One method per request.

use http::HeaderMap;
use http::header::AUTHORIZATION;

use super::form::Params;
use crate::authority::{ClientAuth, Error};
use crate::credentials;

/// The one `Authorization` value, if any; two are two credentials.
///
/// # Errors
/// [`Error::DuplicateCredentials`] for two; [`Error::BadCredentials`] for one that is not text.
pub(super) fn authorization(headers: &HeaderMap) -> Result<Option<&str>, Error> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(Error::DuplicateCredentials);
    }
    first
        .map(|v| v.to_str().map_err(|_| Error::BadCredentials))
        .transpose()
}

/// Reads the client credentials of a token, introspection or revocation request. Every
/// `invalid_client` answer carries `WWW-Authenticate` ([`response::error`](super::response::error)),
/// which RFC 6749 §5.2 requires when the header was used and allows otherwise.
///
/// # Errors
/// `invalid_request` for two methods at once (RFC 6749 §2.3); `invalid_client` for malformed
/// credentials.
pub(super) fn presented(headers: &HeaderMap, params: &Params<'_>) -> Result<ClientAuth, Error> {
    let header = authorization(headers)?;
    let client_id = params.one("client_id")?;
    let post_secret = params.one("client_secret")?;
    let basic = match (header, post_secret.is_empty()) {
        (Some(_), false) => return Err(Error::DuplicateCredentials),
        (Some(value), true) => Some(credentials::basic(value)?),
        (None, false) => Some(credentials::post(client_id, post_secret)?),
        (None, true) => None,
    };
    ClientAuth::new(basic, client_id)
}
