//! `POST /register` (RFC 7591 §3): [`Authority::register`] from JSON client metadata, authorized
//! by the operator token as the initial access token (§3, RFC 6750 §2.1); and the client
//! configuration endpoint `GET | PUT | DELETE /register/{client_id}` (RFC 7592 §2), authorized
//! by the same operator token: Tessera issues no per-client registration access token, so
//! there is no `registration_access_token` or `registration_client_uri` in its answers.

use axum::extract::{Path, Request};
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
use crate::store::{ClientRecord, Store};
use axum::extract::State;

/// The client metadata Tessera reads (RFC 7591 §2); other fields are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Metadata {
    /// Only in an update (RFC 7592 §2.2), where it must be the client's.
    client_id: Option<String>,
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
    answer(&endpoints, request).await.unwrap_or_else(refused)
}

async fn answer<S: Store>(endpoints: &Endpoints<S>, request: Request) -> Result<Response, Refusal> {
    let (parts, body) = request.into_parts();
    check_operator(endpoints, &parts, super::REGISTER_PATH)?;
    let metadata = read_metadata(&parts.headers, body).await?;
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
    let mut body = json!({
        "client_id": registration.client_id.to_string(),
        "client_id_issued_at": registration.issued_at,
        "client_name": metadata.client_name,
        "redirect_uris": metadata.redirect_uris,
        "scope": metadata.scope,
        "token_endpoint_auth_method": method,
        "grant_types": grant_types(public),
        "response_types": ["code"],
    });
    if let Some(secret) = &registration.secret {
        body["client_secret"] = secret.expose().into();
        body["client_secret_expires_at"] = 0.into();
    }
    Ok(response::json(StatusCode::CREATED, &body))
}

/// The grant types a client may use: `client_credentials` only with a secret.
fn grant_types(public: bool) -> &'static [&'static str] {
    if public {
        &["authorization_code", "refresh_token"]
    } else {
        &["authorization_code", "refresh_token", "client_credentials"]
    }
}

/// The operator token as the bearer token of `headers`.
fn check_operator<S>(
    endpoints: &Endpoints<S>,
    parts: &http::request::Parts,
    call: &'static str,
) -> Result<(), Error> {
    let checked = authorization(&parts.headers)
        .map_err(|_| Error::BadOperatorToken)
        .and_then(|presented| credentials::check_operator(presented, &endpoints.operator));
    if checked.is_err() {
        crate::audit::operator_auth_failed("http", call, super::peer_of(parts));
    }
    checked
}

/// A JSON body of client metadata.
async fn read_metadata(
    headers: &http::HeaderMap,
    body: axum::body::Body,
) -> Result<Metadata, Refusal> {
    form::expect_media(headers, "application/json")?;
    let body = form::body(body).await?;
    Ok(serde_json::from_slice(&body)
        .map_err(|_| Error::InvalidField("client metadata (a JSON object)"))?)
}

/// A registered client's metadata (RFC 7592 §3: the registration response without secrets).
fn client_json(client: &ClientRecord) -> serde_json::Value {
    json!({
        "client_id": client.id.to_string(),
        "client_id_issued_at": client.issued_at,
        "client_name": client.name,
        "redirect_uris": client.redirect_uris,
        "scope": client.scope.as_str(),
        "token_endpoint_auth_method": client.auth_method(),
        "grant_types": grant_types(client.is_public()),
        "response_types": ["code"],
    })
}

/// `GET /register/{client_id}` (RFC 7592 §2.1): the client's metadata.
pub(super) async fn read<S: Store>(
    State(endpoints): State<Shared<S>>,
    Path(client_id): Path<String>,
    request: Request,
) -> Response {
    let answer = async {
        check_operator(&endpoints, &request.into_parts().0, super::CLIENT_PATH)?;
        let client = endpoints.authority.client(&client_id).await?;
        Ok::<_, Refusal>(response::json(StatusCode::OK, &client_json(&client)))
    };
    answer.await.unwrap_or_else(refused)
}

/// `PUT /register/{client_id}` (RFC 7592 §2.2): replaces the client's name, redirect URIs and
/// scope, checked as a registration. The body may repeat `client_id` and
/// `token_endpoint_auth_method`, but not change them.
pub(super) async fn update<S: Store>(
    State(endpoints): State<Shared<S>>,
    Path(client_id): Path<String>,
    request: Request,
) -> Response {
    let answer = async {
        let (parts, body) = request.into_parts();
        check_operator(&endpoints, &parts, super::CLIENT_PATH)?;
        let metadata = read_metadata(&parts.headers, body).await?;
        if metadata
            .client_id
            .as_ref()
            .is_some_and(|id| *id != client_id)
        {
            return Err(Error::InvalidField("client_id").into());
        }
        let current = endpoints.authority.client(&client_id).await?;
        // A client cannot become public or confidential: its secret is what it is.
        let same_method = |m: &str| {
            m == current.auth_method() || (m == "client_secret_post" && !current.is_public())
        };
        if !metadata
            .token_endpoint_auth_method
            .as_deref()
            .is_none_or(same_method)
        {
            return Err(Error::InvalidField("token_endpoint_auth_method").into());
        }
        let client = endpoints
            .authority
            .update_client(
                &client_id,
                &metadata.client_name,
                metadata.redirect_uris,
                &metadata.scope,
            )
            .await?;
        Ok(response::json(StatusCode::OK, &client_json(&client)))
    };
    answer.await.unwrap_or_else(refused)
}

/// `DELETE /register/{client_id}` (RFC 7592 §2.3): `204`; the client's tokens are inactive
/// from now on.
pub(super) async fn delete<S: Store>(
    State(endpoints): State<Shared<S>>,
    Path(client_id): Path<String>,
    request: Request,
) -> Response {
    let answer = async {
        let parts = request.into_parts().0;
        check_operator(&endpoints, &parts, super::CLIENT_PATH)?;
        endpoints
            .authority
            .delete_client(&client_id, super::peer_of(&parts))
            .await?;
        Ok::<_, Refusal>(axum::response::IntoResponse::into_response((
            StatusCode::NO_CONTENT,
            [(http::header::CACHE_CONTROL, "no-store")],
        )))
    };
    answer.await.unwrap_or_else(refused)
}

fn refused(refusal: Refusal) -> Response {
    match refusal {
        Refusal::Domain(e) => registration_error(&e),
        other => other.into_response(None),
    }
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
        // RFC 7592 §2 answers an unknown client 401, revoking the registration access token;
        // the operator token is not the client's to revoke, so Tessera says what happened.
        Error::NoSuchClient => return response::error(e, None),
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
