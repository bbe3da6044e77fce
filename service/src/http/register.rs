//! `POST /register` (RFC 7591 §3): [`Authority::register`] from JSON client metadata, authorized
//! by the operator token as the initial access token (§3, RFC 6750 §2.1).

use axum::extract::Request;
use axum::response::Response;
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::client_auth::authorization;
use super::form;
use super::response::{self, BEARER_CHALLENGE, Refusal};
use super::{Endpoints, Shared};
use crate::authority::{Error, ErrorKind};
use crate::credentials;
use crate::listener::PeerAddr;
use crate::store::Store;
use axum::extract::State;

/// The client metadata Tessera reads (RFC 7591 §2); other fields are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Metadata {
    client_name: String,
    redirect_uris: Vec<String>,
    scope: String,
    token_endpoint_auth_method: Option<String>,
}

/// The token endpoint authentication methods a client may register.
const AUTH_METHODS: [&str; 3] = ["client_secret_basic", "client_secret_post", "none"];

pub(super) async fn register<S: Store>(
    State(endpoints): State<Shared<S>>,
    request: Request,
) -> Response {
    answer(&endpoints, request)
        .await
        .unwrap_or_else(|refusal| match refusal {
            Refusal::Domain(e) => registration_error(&e),
            other => other.into_response(None),
        })
}

async fn answer<S: Store>(endpoints: &Endpoints<S>, request: Request) -> Result<Response, Refusal> {
    let (parts, body) = request.into_parts();
    let presented = authorization(&parts.headers).map_err(|_| Error::BadOperatorToken);
    if let Err(e) = presented.and_then(|p| credentials::check_operator(p, &endpoints.operator)) {
        let peer = parts.extensions.get::<PeerAddr>().map(|p| p.0.ip());
        crate::audit::operator_auth_failed("http", super::REGISTER_PATH, peer);
        return Err(e.into());
    }
    form::expect_media(&parts.headers, "application/json")?;
    let body = form::body(body).await?;
    let metadata: Metadata = serde_json::from_slice(&body)
        .map_err(|_| Error::InvalidField("client metadata (a JSON object)"))?;
    let method = metadata
        .token_endpoint_auth_method
        .as_deref()
        .unwrap_or("client_secret_basic");
    if !AUTH_METHODS.contains(&method) {
        return Err(Error::InvalidField("token_endpoint_auth_method").into());
    }
    let public = method == "none";
    let registration = endpoints
        .authority
        .register(
            &metadata.client_name,
            metadata.redirect_uris.clone(),
            &metadata.scope,
            public,
        )
        .await?;
    let grant_types: &[&str] = if public {
        &["authorization_code", "refresh_token"]
    } else {
        &["authorization_code", "refresh_token", "client_credentials"]
    };
    let mut body = json!({
        "client_id": registration.client_id.to_string(),
        "client_id_issued_at": registration.issued_at,
        "client_name": metadata.client_name,
        "redirect_uris": metadata.redirect_uris,
        "scope": metadata.scope,
        "token_endpoint_auth_method": method,
        "grant_types": grant_types,
        "response_types": ["code"],
    });
    if let Some(secret) = &registration.secret {
        body["client_secret"] = secret.expose().into();
        body["client_secret_expires_at"] = 0.into();
    }
    Ok(response::json(StatusCode::CREATED, &body))
}

/// A refused registration, in RFC 7591 §3.2.2's terms: `invalid_redirect_uri` for the redirect
/// URIs, `invalid_client_metadata` for any other field, and a missing or wrong operator token
/// as RFC 6750 §3 answers a bearer token (`401`, `invalid_token`).
fn registration_error(e: &Error) -> Response {
    let code = match e {
        Error::BadOperatorToken | Error::DuplicateCredentials => {
            let mut answer = response::oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the initial access token (the operator token) is missing or wrong",
            );
            answer.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static(BEARER_CHALLENGE),
            );
            return answer;
        }
        Error::InvalidRedirectUri
        | Error::TooManyRedirectUris
        | Error::MissingField("redirect_uris") => "invalid_redirect_uri",
        _ if matches!(
            e.kind(),
            ErrorKind::InvalidRequest | ErrorKind::InvalidScope
        ) =>
        {
            "invalid_client_metadata"
        }
        _ => return response::error(e, None),
    };
    response::oauth_error(StatusCode::BAD_REQUEST, code, &e.detail())
}
