//! `POST /introspect` (RFC 7662 §2): [`Authority::introspect`] for an authenticated client; an
//! inactive token is exactly `{"active": false}` (§2.2).

use axum::extract::Request;
use axum::response::Response;
use http::StatusCode;
use serde::Serialize;

use super::client_auth::presented;
use super::form::FormPost;
use super::response::{self, Refusal};
use super::{Endpoints, Shared};
use crate::authority::TokenTypeHint;
use crate::store::Store;
use axum::extract::State;
use tessera_core::{ClientId, TokenId};

pub(super) async fn introspect<S: Store>(
    State(endpoints): State<Shared<S>>,
    request: Request,
) -> Response {
    answer(&endpoints, request)
        .await
        .unwrap_or_else(|refusal| refusal.into_response(None))
}

async fn answer<S: Store>(endpoints: &Endpoints<S>, request: Request) -> Result<Response, Refusal> {
    let post = FormPost::read(request).await?;
    let params = post.params();
    let peer = post.peer();
    let credentials = presented(&post.parts.headers, &params)?;
    let token = params.one("token")?;
    let hint = TokenTypeHint::parse(params.one("token_type_hint")?);
    let authority = &endpoints.authority;
    let Some(found) = authority.introspect(credentials, peer, token, hint).await? else {
        return Ok(response::json(StatusCode::OK, &Inactive { active: false }));
    };
    let (iat, exp) = found.times();
    let grant = found.grant();
    let body = Active {
        active: true,
        scope: grant.scope.as_str(),
        client_id: &grant.client_id,
        sub: grant.subject.as_str(),
        token_type: found.token_type().as_str(),
        exp,
        iat,
        iss: &authority.config().issuer,
        jti: found.token_id(),
        aud: (!grant.audience.is_empty())
            .then(|| grant.audience.iter().map(ToString::to_string).collect()),
    };
    Ok(response::json(StatusCode::OK, &body))
}

/// The answer for an inactive token: exactly `{"active": false}` (RFC 7662 §2.2).
#[derive(Serialize)]
struct Inactive {
    active: bool,
}

/// The answer for an active token (RFC 7662 §2.2); the ids written as text, without an
/// intermediate `String`.
#[derive(Serialize)]
struct Active<'a> {
    active: bool,
    scope: &'a str,
    #[serde(serialize_with = "as_text")]
    client_id: &'a ClientId,
    sub: &'a str,
    token_type: &'static str,
    exp: u64,
    iat: u64,
    iss: &'a str,
    #[serde(serialize_with = "as_text")]
    jti: &'a TokenId,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<Vec<String>>,
}

fn as_text<S: serde::Serializer>(
    value: &impl core::fmt::Display,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}
