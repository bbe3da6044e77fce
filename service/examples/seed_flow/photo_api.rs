//! The photo API, a resource server (RFC 6750): `GET /photos` with `Authorization: Bearer …`.
//! It introspects every token over Tessera's gRPC (RFC 7662 semantics) with its own client
//! credentials, and serves the signed-in user's photos only for an active token that names this
//! API in `aud` (RFC 8707) and carries the scope [`SCOPE`].

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use serde_json::json;
use tessera_proto::v1::IntrospectRequest;
use tessera_proto::v1::token_service_client::TokenServiceClient;
use tonic::transport::Channel;
use zeroize::Zeroizing;

/// The scope a token needs to read photos.
pub(crate) const SCOPE: &str = "photos.read";

/// Whose photos the API holds: alice's. Anyone else has none.
const PHOTOS: [(&str, &str); 3] = [
    ("The White Rabbit, late again", "2026-05-04"),
    ("Tea party at the March Hare's", "2026-06-12"),
    ("The Cheshire Cat's grin", "2026-07-30"),
];

/// The API's introspection client: Tessera's gRPC and the API's own credentials.
pub(crate) struct PhotoApi {
    tessera: TokenServiceClient<Channel>,
    client_id: String,
    /// `Basic base64(client_id ":" client_secret)`.
    credentials: Zeroizing<String>,
}

impl core::fmt::Debug for PhotoApi {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PhotoApi")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl PhotoApi {
    /// The API registered as `client_id` with `client_secret`, introspecting over `tessera`.
    pub(crate) fn new(tessera: Channel, client_id: &str, client_secret: &str) -> Self {
        Self {
            tessera: TokenServiceClient::new(tessera),
            client_id: client_id.to_owned(),
            credentials: tessera_service::credentials::basic_header(client_id, client_secret),
        }
    }
}

/// The API's routes.
pub(crate) fn router(api: PhotoApi) -> Router {
    Router::new()
        .route("/photos", get(photos))
        .with_state(Arc::new(api))
}

async fn photos(State(api): State<Arc<PhotoApi>>, headers: HeaderMap) -> Response {
    // RFC 6750 §3.1: a request without credentials gets the bare challenge, no error code.
    let Some(token) = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(tessera_service::credentials::bearer)
    else {
        return refuse(StatusCode::UNAUTHORIZED, r#"Bearer realm="photos""#);
    };
    let mut request = tonic::Request::new(IntrospectRequest {
        token: token.to_owned(),
        token_type_hint: "access_token".to_owned(),
    });
    let Ok(credentials) = api.credentials.parse() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    request.metadata_mut().insert("authorization", credentials);
    let seen = match api.tessera.clone().introspect(request).await {
        Ok(answer) => answer.into_inner(),
        Err(status) => {
            tracing::warn!(code = ?status.code(), "introspection failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    // A token for another API is no token here (RFC 8707 §2): the same answer as an inactive one.
    if !seen.active || !seen.aud.iter().any(|aud| *aud == api.client_id) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            r#"Bearer realm="photos", error="invalid_token""#,
        );
    }
    if !seen.scope.split(' ').any(|scope| scope == SCOPE) {
        return refuse(
            StatusCode::FORBIDDEN,
            r#"Bearer realm="photos", error="insufficient_scope", scope="photos.read""#,
        );
    }
    let photos: Vec<_> = PHOTOS
        .iter()
        .filter(|_| seen.sub == "alice")
        .map(|(title, taken)| json!({ "title": title, "taken": taken }))
        .collect();
    tracing::info!(sub = %seen.sub, client_id = %seen.client_id, "served the photos");
    tessera_service::http::response::json(
        StatusCode::OK,
        &json!({ "sub": seen.sub, "photos": photos }),
    )
}

/// A refusal with its `WWW-Authenticate` challenge (RFC 6750 §3).
fn refuse(status: StatusCode, challenge: &'static str) -> Response {
    (status, [(WWW_AUTHENTICATE, challenge)]).into_response()
}
