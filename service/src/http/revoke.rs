//! `POST /revoke` (RFC 7009 §2): [`Authority::revoke`]; an unknown or invalid token is `200`
//! too (§2.2), so the answer says nothing about which tokens exist.

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use super::client_auth::presented;
use super::form::FormPost;
use super::response::Refusal;
use super::{Endpoints, Shared};
use crate::authority::TokenTypeHint;
use crate::store::Store;
use axum::extract::State;

pub(super) async fn revoke<S: Store>(
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
    endpoints
        .authority
        .revoke(credentials, peer, token, hint)
        .await?;
    Ok(StatusCode::OK.into_response())
}
