//! Reading credentials from an `Authorization` value, whatever transport carried it: a client's
//! HTTP `Basic` credentials (RFC 6749 §2.3.1, RFC 7617) and a `Bearer` token (RFC 6750 §2.1).
//! Each edge finds the one value (gRPC metadata: [`grpc`](crate::grpc); HTTP headers later) and
//! passes it here.

use tessera_core::encoding::{base64_decode, base64_encode};
use tessera_core::{ClientId, ClientSecret};
use zeroize::Zeroizing;

use crate::authority::Error;
use crate::keys::OperatorToken;

/// The header (and gRPC metadata key) credentials travel in.
pub const AUTHORIZATION: &str = "authorization";

/// Strips an auth scheme, case-insensitively (RFC 7235 §2.1).
fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

/// The token of `Bearer <token>`, if `value` has that form.
pub fn bearer(value: &str) -> Option<&str> {
    strip_scheme(value, "Bearer")
}

/// A client's presented id and secret, not yet checked against its verifier.
#[derive(Debug)]
pub struct BasicCredentials {
    /// The id it claims.
    pub client_id: ClientId,
    /// The secret it presented.
    pub secret: ClientSecret,
}

/// Reads `Basic base64(client_id ":" client_secret)`.
///
/// Tessera ids and secrets use only unreserved characters, so the form-urlencoding of
/// RFC 6749 §2.3.1 leaves them unchanged.
///
/// # Errors
/// [`Error::BadCredentials`] for another scheme or malformed credentials.
pub fn basic(value: &str) -> Result<BasicCredentials, Error> {
    let encoded = strip_scheme(value, "Basic").ok_or(Error::BadCredentials)?;
    // RFC 6749 §2.3.1 form-encodes the id and secret before Base64; Tessera's use only
    // unreserved characters, which that leaves as they are, so a client that encodes and one
    // that does not send the same bytes.
    // Longer than any Tessera id and secret: anything that does not fit is not ours.
    let mut buf = Zeroizing::new([0u8; 256]);
    let decoded =
        base64_decode(encoded.as_bytes(), buf.as_mut_slice()).ok_or(Error::BadCredentials)?;
    let text = core::str::from_utf8(decoded).map_err(|_| Error::BadCredentials)?;
    let (id, secret) = text.split_once(':').ok_or(Error::BadCredentials)?;
    Ok(BasicCredentials {
        client_id: ClientId::parse(id).map_err(|_| Error::BadCredentials)?,
        secret: ClientSecret::parse(secret).map_err(|_| Error::BadCredentials)?,
    })
}

/// Reads `client_secret_post` credentials: `client_id` and `client_secret` form fields
/// (RFC 6749 §2.3.1).
///
/// # Errors
/// [`Error::BadCredentials`] if either is malformed (or the id is missing).
pub fn post(client_id: &str, client_secret: &str) -> Result<BasicCredentials, Error> {
    Ok(BasicCredentials {
        client_id: ClientId::parse(client_id).map_err(|_| Error::BadCredentials)?,
        secret: ClientSecret::parse(client_secret).map_err(|_| Error::BadCredentials)?,
    })
}

/// Checks a presented `Bearer <operator token>` value (`None`: no credential at all).
///
/// # Errors
/// [`Error::BadOperatorToken`] if it is missing, of another scheme, or wrong.
pub fn check_operator(value: Option<&str>, token: &OperatorToken) -> Result<(), Error> {
    let presented = value.and_then(bearer).ok_or(Error::BadOperatorToken)?;
    if token.verify(presented) {
        Ok(())
    } else {
        Err(Error::BadOperatorToken)
    }
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
    use rand_core::SeedableRng;

    use super::*;

    #[test]
    fn basic_round_trip_and_refusals() {
        let id = "00112233445566778899aabbccddeeff";
        let secret =
            ClientSecret::generate(&mut rand_chacha::ChaCha20Rng::from_seed([1; 32])).encode();
        let creds = basic(&basic_header(id, secret.expose())).unwrap();
        assert_eq!(creds.client_id.to_string(), id);
        for bad in ["Basic !!!", "Bearer x", "Basic", "Basic YTpi"] {
            assert!(matches!(basic(bad), Err(Error::BadCredentials)), "{bad}");
        }
    }

    #[test]
    fn bearer_takes_any_case_of_the_scheme() {
        assert_eq!(bearer("Bearer tsr_op_x"), Some("tsr_op_x"));
        assert_eq!(bearer("bearer  tsr_op_x "), Some("tsr_op_x"));
        assert_eq!(bearer("Basic x"), None);
        assert_eq!(bearer("Bearer"), None);
    }
}
