//! `GET /metrics`: the process's metrics in the Prometheus text format (version 0.0.4).

use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, StatusCode};

use super::response;

/// The Prometheus text exposition format's media type.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

pub(super) async fn metrics() -> Response {
    let Some(text) = crate::meter::render() else {
        // Another recorder is installed: the embedder exports the metrics its own way.
        return response::not_found();
    };
    let mut answer = (StatusCode::OK, text).into_response();
    let headers = answer.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(TEXT_FORMAT));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    answer
}
