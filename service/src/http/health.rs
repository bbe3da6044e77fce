//! `GET /health`: liveness for load balancers and orchestrators (a Kubernetes `livenessProbe`).
//! It answers `200 ok` while the HTTP listener serves, without touching the domain or the store,
//! so it is also the empty handler the HTTP benchmarks measure against (BENCHMARKS.md).

use axum::body::Body;
use axum::response::Response;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, StatusCode};

/// The whole body of a live answer.
pub(super) const LIVE: &str = "ok\n";

pub(super) async fn live() -> Response {
    let mut response = Response::new(Body::from(LIVE));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
