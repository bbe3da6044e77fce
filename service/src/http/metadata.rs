//! `GET /.well-known/oauth-authorization-server` (RFC 8414 §3.2): everything a client needs to
//! find and use the endpoints, from the issuer URL alone. The document depends only on the
//! configuration, so it is written once, when the router is built, and served as those bytes.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use http::StatusCode;
use serde_json::json;

use super::{
    AUTHORIZE_PATH, INTROSPECT_PATH, REGISTER_PATH, REVOKE_PATH, Shared, TOKEN_PATH, response,
};
use crate::authority::GrantType;
use crate::store::Store;

pub(super) async fn serve<S: Store>(State(endpoints): State<Shared<S>>) -> Response {
    response::json_bytes(StatusCode::OK, endpoints.metadata.clone())
}

/// The document of the server whose issuer identifier is `issuer`.
pub(super) fn document(issuer: &str) -> Bytes {
    let url = |path: &str| format!("{issuer}{path}");
    let grants: Vec<_> = GrantType::ALL.iter().map(|g| g.as_str()).collect();
    Bytes::from(
        json!({
            "issuer": issuer,
            "authorization_endpoint": url(AUTHORIZE_PATH),
            "token_endpoint": url(TOKEN_PATH),
            "introspection_endpoint": url(INTROSPECT_PATH),
            "revocation_endpoint": url(REVOKE_PATH),
            "registration_endpoint": url(REGISTER_PATH),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": grants,
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported":
                ["client_secret_basic", "client_secret_post", "none"],
            // Public clients cannot introspect (RFC 7662 §2.1: the caller is authenticated).
            "introspection_endpoint_auth_methods_supported":
                ["client_secret_basic", "client_secret_post"],
            "revocation_endpoint_auth_methods_supported":
                ["client_secret_basic", "client_secret_post", "none"],
            "authorization_response_iss_parameter_supported": true,
        })
        .to_string(),
    )
}
