//! `POST /introspect` (RFC 7662 §2): [`Authority::introspect`] for an authenticated client; an
//! inactive token is exactly `{"active": false}` (§2.2).

use axum::extract::Request;
use axum::response::Response;
use http::StatusCode;
use serde_json::json;

use super::client_auth::presented;
use super::form::FormPost;
use super::response::{self, Refusal};
use super::{Endpoints, Shared};
use crate::authority::TokenTypeHint;
use crate::store::Store;
use axum::extract::State;

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
        return Ok(response::json(StatusCode::OK, &json!({ "active": false })));
    };
    let (iat, exp) = found.times();
    let grant = found.grant();
    let mut body = json!({
        "active": true,
        "scope": grant.scope.as_str(),
        "client_id": grant.client_id.to_string(),
        "sub": grant.subject.as_str(),
        "token_type": found.token_type().as_str(),
        "exp": exp,
        "iat": iat,
        "iss": authority.config().issuer,
        "jti": found.token_id().to_string(),
    });
    if !grant.audience.is_empty() {
        body["aud"] = grant
            .audience
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .into();
    }
    Ok(response::json(StatusCode::OK, &body))
}
