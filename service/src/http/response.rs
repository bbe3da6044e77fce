//! Writing answers: JSON bodies with `Cache-Control: no-store` (RFC 6749 §5.1), and the one
//! mapping from a domain [`ErrorKind`] to an HTTP status (RFC 6749 §5.2), an exhaustive `match`
//! like the gRPC edge's.

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE, PRAGMA, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use serde::Serialize;

use crate::authority::{Error, ErrorKind};
use crate::meter::Outcome;

/// The `WWW-Authenticate` challenge of a failed client authentication (RFC 6749 §5.2).
pub const BASIC_CHALLENGE: &str = "Basic realm=\"tessera\"";
/// The `WWW-Authenticate` challenge of a missing or wrong operator token (RFC 6750 §3).
pub const BEARER_CHALLENGE: &str = "Bearer realm=\"tessera\", error=\"invalid_token\"";

/// The HTTP status of a domain error.
pub const fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidRequest
        | ErrorKind::InvalidGrant
        | ErrorKind::UnauthorizedClient
        | ErrorKind::UnsupportedGrantType
        | ErrorKind::UnsupportedResponseType
        | ErrorKind::InvalidScope => StatusCode::BAD_REQUEST,
        ErrorKind::InvalidClient => StatusCode::UNAUTHORIZED,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Throttled => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// A JSON answer that no cache may keep (tokens and their errors, RFC 6749 §5.1), written
/// straight from `value` (a `#[derive(Serialize)]` struct of borrowed fields on the hot paths,
/// with no `serde_json::Value` tree built first).
pub fn json(status: StatusCode, value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => json_bytes(status, Bytes::from(body)),
        // Only a map with non-text keys or a failing `Serialize` impl gets here; none of the
        // answers has either.
        Err(e) => {
            tracing::error!(error = %e, "could not write a JSON answer");
            json_bytes(
                StatusCode::INTERNAL_SERVER_ERROR,
                Bytes::from_static(br#"{"error":"server_error"}"#),
            )
        }
    }
}

/// [`json`] for a body already written (the metadata document, written once at start).
pub fn json_bytes(status: StatusCode, body: Bytes) -> Response {
    let mut response = (status, Body::from(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// An error answer's body (RFC 6749 §5.2).
#[derive(Serialize)]
struct OAuthError<'a> {
    error: &'static str,
    error_description: &'a str,
}

/// `{"error", "error_description"}` with `status`; `error` is also the answer's
/// [`Outcome`] in the request metrics.
pub fn oauth_error(status: StatusCode, error: &'static str, description: &str) -> Response {
    let mut response = json(
        status,
        &OAuthError {
            error,
            error_description: description,
        },
    );
    response.extensions_mut().insert(Outcome(error));
    response
}

/// The answer to a domain error. `challenge`: the `WWW-Authenticate` value for an
/// `invalid_client` answer (the request authenticated with the `Authorization` header).
pub fn error(e: &Error, challenge: Option<&'static str>) -> Response {
    let kind = e.kind();
    let mut response = oauth_error(status(kind), kind.as_str(), &e.detail());
    let headers = response.headers_mut();
    match kind {
        ErrorKind::InvalidClient => {
            headers.insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge.unwrap_or(BASIC_CHALLENGE)),
            );
        }
        ErrorKind::Throttled | ErrorKind::Unavailable => {
            headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        _ => {}
    }
    response
}

/// A request refused before the domain saw it: its framing, not its OAuth content.
#[derive(Debug)]
pub enum Refusal {
    /// A body over [`MAX_BODY_BYTES`](super::MAX_BODY_BYTES): `413`.
    TooLarge,
    /// A body that could not be read (the peer reset it): `400`.
    Unreadable,
    /// A body of another media type than the endpoint reads: `400` (`415` for registration's
    /// JSON would hide the OAuth error code clients look for).
    MediaType(&'static str),
    /// A domain error, answered by [`error`].
    Domain(Error),
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        Self::Domain(e)
    }
}

impl Refusal {
    /// Its answer; `challenge` as for [`error`].
    pub fn into_response(self, challenge: Option<&'static str>) -> Response {
        match self {
            Self::TooLarge => oauth_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                "request body is larger than 16 KiB",
            ),
            Self::Unreadable => oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "request body could not be read",
            ),
            Self::MediaType(media) => oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("Content-Type must be {media}"),
            ),
            Self::Domain(e) => error(&e, challenge),
        }
    }
}

/// `404` for a path no endpoint serves.
pub fn not_found() -> Response {
    oauth_error(
        StatusCode::NOT_FOUND,
        "not_found",
        "no endpoint at this path",
    )
}

/// `405` for a method the endpoint does not serve, with `Allow`.
pub fn method_not_allowed(allow: &'static str) -> Response {
    let mut response = oauth_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request",
        &format!("method not allowed here; use {allow}"),
    );
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}

/// The answer to a request that ran out of time (the listener's request timeout).
pub fn timed_out() -> http::Response<Body> {
    oauth_error(
        StatusCode::REQUEST_TIMEOUT,
        "invalid_request",
        "the request did not complete in time",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_value_json_cannot_write_is_a_500_not_a_panic() {
        // JSON object keys are text: serde_json refuses a map keyed by pairs.
        let unwritable = std::collections::BTreeMap::from([((1u8, 2u8), 3u8)]);
        let answer = json(StatusCode::OK, &unwritable);
        assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(answer.headers()[CACHE_CONTROL], "no-store");
        let body = axum::body::to_bytes(answer.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(&body[..], br#"{"error":"server_error"}"#);
    }

    #[tokio::test]
    async fn an_answer_is_its_value_serialized() {
        let answer = oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "a \"quote\"");
        assert_eq!(answer.headers()[CONTENT_TYPE], "application/json");
        let body = axum::body::to_bytes(answer.into_body(), 1024)
            .await
            .unwrap();
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            value,
            serde_json::json!({ "error": "invalid_request", "error_description": "a \"quote\"" })
        );
    }

    #[test]
    fn invalid_client_is_401_with_a_challenge_and_the_rest_400() {
        let answer = error(&Error::BadCredentials, None);
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(answer.headers()[WWW_AUTHENTICATE], BASIC_CHALLENGE);
        assert_eq!(answer.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(answer.headers()[PRAGMA], "no-cache");
        let answer = error(&Error::CodeReplayed, None);
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        assert!(answer.headers().get(WWW_AUTHENTICATE).is_none());
        assert_eq!(
            error(&Error::Throttled, None).status(),
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(
            error(&Error::NoSuchClient, None).status(),
            StatusCode::NOT_FOUND
        );
    }
}
