//! The HTTP edge: the standard OAuth 2.0 endpoints, for ordinary client libraries and browsers,
//! beside the gRPC edge and over the same [`Authority`]. Each handler reads its wire form
//! (`form.rs`), calls one domain method and writes JSON ([`response`]); nothing about tokens,
//! PKCE, scopes or errors is decided here.
//!
//! | path | method | RFC |
//! |---|---|---|
//! | [`METADATA_PATH`] | GET | RFC 8414 §3 |
//! | [`AUTHORIZE_PATH`] | GET, POST | RFC 6749 §4.1.1, RFC 7636 §4.3, RFC 9207 |
//! | [`TOKEN_PATH`] | POST | RFC 6749 §3.2, §4.1.3, §4.4, §6 |
//! | [`INTROSPECT_PATH`] | POST | RFC 7662 §2 |
//! | [`REVOKE_PATH`] | POST | RFC 7009 §2 |
//! | [`REGISTER_PATH`] | POST | RFC 7591 §3 |
//! | [`CLIENT_PATH`] | GET, PUT, DELETE | RFC 7592 §2 (operator token) |
//! | [`METRICS_PATH`] | GET | Prometheus text format ([`meter`](crate::meter)) |
//! | [`HEALTH_PATH`] | GET | liveness: `200 ok`, touching neither domain nor store |
//!
//! Every request is counted and timed by route (the matched path) and outcome
//! ([`MeasureLayer`]).

mod authorize;
mod client_auth;
mod form;
mod health;
mod introspect;
mod metadata;
mod register;
pub mod response;
mod revoke;
mod scrape;
mod token;

use std::sync::Arc;

use axum::Router;
use axum::routing::{MethodRouter, get, post};

use crate::authority::Authority;
use crate::keys::OperatorToken;
use crate::meter::{Edge, MeasureLayer};
use crate::store::Store;

/// The authorization server metadata document (RFC 8414 §3).
pub const METADATA_PATH: &str = "/.well-known/oauth-authorization-server";
/// The authorization endpoint (RFC 6749 §3.1).
pub const AUTHORIZE_PATH: &str = "/authorize";
/// The token endpoint (RFC 6749 §3.2).
pub const TOKEN_PATH: &str = "/token";
/// The introspection endpoint (RFC 7662 §2).
pub const INTROSPECT_PATH: &str = "/introspect";
/// The revocation endpoint (RFC 7009 §2).
pub const REVOKE_PATH: &str = "/revoke";
/// The dynamic client registration endpoint (RFC 7591 §3).
pub const REGISTER_PATH: &str = "/register";
/// The metrics, in the Prometheus text format.
pub const METRICS_PATH: &str = "/metrics";
/// Liveness for load balancers: `200 ok` while the listener serves.
pub const HEALTH_PATH: &str = "/health";
/// The client configuration endpoint (RFC 7592 §2), one per registered client.
pub const CLIENT_PATH: &str = "/register/{client_id}";
/// Largest request body any endpoint reads; past it the answer is `413`.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// What every handler shares: the domain, the operator token (registration's initial access
/// token, RFC 7591 §3) and the metadata document, written once.
#[derive(Debug)]
struct Endpoints<S> {
    authority: Arc<Authority<S>>,
    operator: Arc<OperatorToken>,
    metadata: axum::body::Bytes,
}

/// The state every handler extracts.
type Shared<S> = Arc<Endpoints<S>>;

/// The HTTP routes over `authority`, with `operator` guarding registration. Unknown paths are
/// `404` and other methods `405`, both with a JSON error body.
pub fn router<S: Store>(authority: Arc<Authority<S>>, operator: Arc<OperatorToken>) -> Router {
    let only = |route: MethodRouter<Arc<Endpoints<S>>>, allow: &'static str| {
        route.fallback(move || async move { response::method_not_allowed(allow) })
    };
    Router::new()
        .route(METADATA_PATH, only(get(metadata::serve::<S>), "GET"))
        .route(
            AUTHORIZE_PATH,
            only(
                get(authorize::authorize::<S>).post(authorize::authorize::<S>),
                "GET, POST",
            ),
        )
        .route(TOKEN_PATH, only(post(token::token::<S>), "POST"))
        .route(
            INTROSPECT_PATH,
            only(post(introspect::introspect::<S>), "POST"),
        )
        .route(REVOKE_PATH, only(post(revoke::revoke::<S>), "POST"))
        .route(REGISTER_PATH, only(post(register::register::<S>), "POST"))
        .route(
            CLIENT_PATH,
            only(
                get(register::read::<S>)
                    .put(register::update::<S>)
                    .delete(register::delete::<S>),
                "GET, PUT, DELETE",
            ),
        )
        .route(METRICS_PATH, only(get(scrape::metrics), "GET"))
        .route(HEALTH_PATH, only(get(health::live), "GET"))
        .fallback(|| async { response::not_found() })
        .layer(MeasureLayer(Edge::Http))
        .with_state(Arc::new(Endpoints {
            metadata: metadata::document(&authority.config().issuer),
            authority,
            operator,
        }))
}

/// The routes of a listener of the metrics' own (`--metrics-listen`): [`METRICS_PATH`] alone.
pub fn metrics_router() -> Router {
    let only = |route: MethodRouter, allow: &'static str| {
        route.fallback(move || async move { response::method_not_allowed(allow) })
    };
    Router::new()
        .route(METRICS_PATH, only(get(scrape::metrics), "GET"))
        .fallback(|| async { response::not_found() })
}

/// The address a request came from (the listener's [`PeerAddr`]), for throttles and security
/// events.
///
/// [`PeerAddr`]: crate::listener::PeerAddr
fn peer_of(parts: &http::request::Parts) -> Option<core::net::IpAddr> {
    parts
        .extensions
        .get::<crate::listener::PeerAddr>()
        .map(|p| p.0.ip())
}
