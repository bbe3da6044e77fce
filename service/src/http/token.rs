//! `POST /token` (RFC 6749 §3.2): the grants of [`Authority::token`] from a form, tokens as JSON
//! (§5.1), errors as JSON (§5.2).

use axum::extract::Request;
use axum::response::Response;
use http::StatusCode;
use serde::Serialize;

use super::client_auth::presented;
use super::form::FormPost;
use super::response::{self, Refusal};
use super::{Endpoints, Shared};
use crate::authority::{GrantType, TokenRequest, TokenType};
use crate::store::Store;
use axum::extract::State;

pub(super) async fn token<S: Store>(
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
    let grant = match GrantType::parse(params.one("grant_type")?)? {
        GrantType::AuthorizationCode => TokenRequest::AuthorizationCode {
            code: params.one("code")?,
            redirect_uri: params.one("redirect_uri")?,
            code_verifier: params.one("code_verifier")?,
        },
        GrantType::RefreshToken => TokenRequest::RefreshToken {
            refresh_token: params.one("refresh_token")?,
            scope: params.one("scope")?,
        },
        GrantType::ClientCredentials => TokenRequest::ClientCredentials {
            scope: params.one("scope")?,
            resource: params.all("resource").collect(),
        },
    };
    let credentials = presented(&post.parts.headers, &params)?;
    let issued = endpoints.authority.token(credentials, peer, grant).await?;
    let body = Answer {
        access_token: issued.access_token.expose(),
        token_type: TokenType::Bearer.as_str(),
        expires_in: issued.expires_in,
        scope: issued.scope.as_str(),
        refresh_token: issued.refresh_token.as_ref().map(|r| r.expose()),
    };
    Ok(response::json(StatusCode::OK, &body))
}

/// The successful answer (RFC 6749 §5.1).
#[derive(Serialize)]
struct Answer<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: u32,
    scope: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
}
