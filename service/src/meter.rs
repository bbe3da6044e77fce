//! What the server measures, in the Prometheus text format (served at `/metrics`;
//! service/README.md, "Metrics"): every metric's name is a constant here, recorded through the
//! `metrics` facade into one recorder per process, installed by the first [`Server`] opened.
//!
//! Request metrics are taken at the edges ([`MeasureLayer`]), store metrics by
//! [`Metered`](crate::store::Metered), connection gauges by the listener; the domain counts the
//! tokens it issues and its introspection answers, and [`audit`](crate::audit) its security
//! events. A label is never a token, secret or anything a caller chose: routes are the fixed
//! paths the server serves (anything else is `unknown`), outcomes the RFC 6749 error codes.
//!
//! [`Server`]: crate::Server

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Instant;

use metrics::{SharedString, counter, describe_counter, describe_gauge, describe_histogram, gauge};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tessera_core::KeyId;
use tower::Layer;
use tower_service::Service;

/// Requests answered, by `transport` (`grpc`, `http`), `route` and `outcome`.
pub const REQUESTS: &str = "tessera_requests_total";
/// How long requests took to their answer's headers, by `transport` and `route`.
pub const REQUEST_DURATION: &str = "tessera_request_duration_seconds";
/// Tokens issued, by `kind` (`access`, `refresh`, `code`, `login_challenge`) and `grant_type`.
pub const TOKENS_ISSUED: &str = "tessera_tokens_issued_total";
/// Introspection answers, by `result` (`active`, `inactive`).
pub const INTROSPECTIONS: &str = "tessera_introspections_total";
/// Security events ([`audit`](crate::audit)), by `event`.
pub const SECURITY_EVENTS: &str = "tessera_security_events_total";
/// How long store operations took, by `operation` (a [`Store`](crate::Store) method).
pub const STORE_DURATION: &str = "tessera_store_operation_duration_seconds";
/// Store operations that failed, by `operation`.
pub const STORE_ERRORS: &str = "tessera_store_errors_total";
/// Writes per group commit of the embedded (redb) store.
pub const STORE_BATCH_WRITES: &str = "tessera_store_batch_writes";
/// Connections of the PostgreSQL store's pool now, by `state` (`in_use`, `idle`).
pub const STORE_POOL_CONNECTIONS: &str = "tessera_store_pool_connections";
/// The most connections the PostgreSQL store's pool opens.
pub const STORE_POOL_MAX: &str = "tessera_store_pool_max_connections";
/// Store operations waiting now for one of the PostgreSQL pool's connections.
pub const STORE_POOL_WAITING: &str = "tessera_store_pool_waiting";
/// Connections open now, by `listener` (`grpc`, `http`, `metrics`).
pub const OPEN_CONNECTIONS: &str = "tessera_open_connections";
/// Requests (HTTP/2 streams, HTTP/1.1 requests) in flight now, by `listener`.
pub const IN_FLIGHT_REQUESTS: &str = "tessera_in_flight_requests";
/// The master keys: 1 for each `key_id` held, `active` `true` for the one that mints; 0 for a
/// combination held before the last reload.
pub const KEYS: &str = "tessera_keys";

/// The `route` label of a request to no path the server serves.
pub const UNKNOWN_ROUTE: &str = "unknown";
/// The `outcome` label of a request whose caller went away or that ran out of time.
pub const CANCELLED: &str = "cancelled";

/// Histogram buckets of the `_seconds` metrics: 100 µs to 10 s.
const SECONDS_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];
/// Histogram buckets of [`STORE_BATCH_WRITES`]: 1 to the redb store's largest batch (256).
const BATCH_BUCKETS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's Prometheus recorder, once: every later call (another server in the
/// same process) shares it. `None` if the embedder installed another recorder first: then
/// `/metrics` answers `404` and the server's metrics go to that recorder.
pub fn install() -> Option<&'static PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &SECONDS_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(STORE_BATCH_WRITES.to_owned()),
                        &BATCH_BUCKETS,
                    )
                });
            let handle = builder.and_then(PrometheusBuilder::install_recorder);
            match handle {
                Ok(handle) => {
                    describe();
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "another metrics recorder is installed: no /metrics");
                    None
                }
            }
        })
        .as_ref()
}

/// The metrics in the Prometheus text format, if this process's recorder is ours.
pub fn render() -> Option<String> {
    RECORDER.get().and_then(Option::as_ref).map(|handle| {
        // Folds the histograms' recent samples in, so memory stays bounded between scrapes.
        handle.run_upkeep();
        handle.render()
    })
}

/// Drains the histograms' recent samples (call it now and then if nobody scrapes).
pub fn upkeep() {
    if let Some(handle) = RECORDER.get().and_then(Option::as_ref) {
        handle.run_upkeep();
    }
}

fn describe() {
    describe_counter!(
        REQUESTS,
        "Requests answered, by transport, route and outcome"
    );
    describe_histogram!(
        REQUEST_DURATION,
        metrics::Unit::Seconds,
        "Time to the answer's headers, by transport and route"
    );
    describe_counter!(TOKENS_ISSUED, "Tokens issued, by kind and grant type");
    describe_counter!(INTROSPECTIONS, "Introspection answers, by result");
    describe_counter!(
        SECURITY_EVENTS,
        "Security events (target tessera::audit), by event"
    );
    describe_histogram!(
        STORE_DURATION,
        metrics::Unit::Seconds,
        "Store operation latency, by operation"
    );
    describe_counter!(STORE_ERRORS, "Store operations that failed, by operation");
    describe_histogram!(STORE_BATCH_WRITES, "Writes per group commit (redb)");
    describe_gauge!(
        STORE_POOL_CONNECTIONS,
        "PostgreSQL pool connections now, by state (in_use, idle)"
    );
    describe_gauge!(STORE_POOL_MAX, "PostgreSQL pool size limit");
    describe_gauge!(
        STORE_POOL_WAITING,
        "Store operations waiting for a PostgreSQL pool connection"
    );
    describe_gauge!(OPEN_CONNECTIONS, "Connections open now, by listener");
    describe_gauge!(IN_FLIGHT_REQUESTS, "Requests in flight now, by listener");
    describe_gauge!(KEYS, "Master keys held (1), by key id and whether it mints");
}

/// Counts one token of `kind` issued for `grant_type`.
pub(crate) fn token_issued(kind: &'static str, grant_type: &'static str) {
    counter!(TOKENS_ISSUED, "kind" => kind, "grant_type" => grant_type).increment(1);
}

/// Counts one introspection answer.
pub(crate) fn introspected(active: bool) {
    let result = if active { "active" } else { "inactive" };
    counter!(INTROSPECTIONS, "result" => result).increment(1);
}

/// Sets [`KEYS`] to the key set `ids` with `active` minting, zeroing the combinations of the
/// previous set (`held`) that are gone.
pub(crate) fn keys_loaded(held: &Mutex<Vec<(KeyId, bool)>>, ids: &[KeyId], active: KeyId) {
    let now: Vec<(KeyId, bool)> = ids.iter().map(|id| (*id, *id == active)).collect();
    let mut held = held.lock().unwrap_or_else(PoisonError::into_inner);
    let label = |id: &KeyId, active: &bool| [id.to_string(), active.to_string()];
    for (id, active) in held.iter().filter(|old| !now.contains(old)) {
        let [id, active] = label(id, active);
        gauge!(KEYS, "key_id" => id, "active" => active).set(0.0);
    }
    for (id, active) in &now {
        let [id, active] = label(id, active);
        gauge!(KEYS, "key_id" => id, "active" => active).set(1.0);
    }
    *held = now;
}

/// Records `writes` in one group commit.
pub(crate) fn batch_committed(writes: usize) {
    metrics::histogram!(STORE_BATCH_WRITES).record(count(writes));
}

/// Sets the PostgreSQL pool's gauges: `size` connections open, `available` of them idle, at
/// most `max`, with `waiting` operations queued for one.
pub(crate) fn pool_status(max: usize, size: usize, available: usize, waiting: usize) {
    gauge!(STORE_POOL_CONNECTIONS, "state" => "in_use").set(count(size.saturating_sub(available)));
    gauge!(STORE_POOL_CONNECTIONS, "state" => "idle").set(count(available));
    gauge!(STORE_POOL_MAX).set(count(max));
    gauge!(STORE_POOL_WAITING).set(count(waiting));
}

/// `n` as a metric value (saturating at `u32::MAX`, far above any count here).
fn count(n: usize) -> f64 {
    u32::try_from(n).map_or(f64::from(u32::MAX), f64::from)
}

/// One listener's gauges: [`OPEN_CONNECTIONS`] and [`IN_FLIGHT_REQUESTS`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct ListenerGauges(pub(crate) &'static str);

impl ListenerGauges {
    /// Counts a connection open until the guard drops.
    pub(crate) fn connection(self) -> GaugeGuard {
        GaugeGuard::up(gauge!(OPEN_CONNECTIONS, "listener" => self.0))
    }

    /// Counts a request in flight until the guard drops.
    pub(crate) fn request(self) -> GaugeGuard {
        GaugeGuard::up(gauge!(IN_FLIGHT_REQUESTS, "listener" => self.0))
    }
}

/// A gauge raised by one while it lives.
#[derive(Debug)]
pub(crate) struct GaugeGuard(metrics::Gauge);

impl GaugeGuard {
    fn up(gauge: metrics::Gauge) -> Self {
        gauge.increment(1.0);
        Self(gauge)
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

/// The `outcome` of an HTTP answer, which the edge puts in its extensions: `ok`, or the
/// `error` code of its body (RFC 6749 §5.2, RFC 7591 §3.2.2, `not_found`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome(pub &'static str);

/// Which edge a [`MeasureLayer`] measures, and so how it reads routes and outcomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    /// gRPC: the route is the RPC path if it is one of `routes`, the outcome the RFC 6749 code
    /// that starts the status message (or the gRPC code's name).
    Grpc {
        /// The RPC paths served (`/tessera.v1.TokenService/Exchange`, …).
        routes: &'static [&'static str],
    },
    /// HTTP (an axum router, the layer inside it): the route is the matched path, the outcome
    /// the [`Outcome`] the edge set (else `ok` below 400).
    Http,
}

impl Edge {
    const fn transport(self) -> &'static str {
        match self {
            Self::Grpc { .. } => "grpc",
            Self::Http => "http",
        }
    }

    fn route<B>(self, request: &http::Request<B>) -> SharedString {
        match self {
            Self::Grpc { routes } => {
                let path = request.uri().path();
                let known = routes.iter().find(|route| **route == path);
                SharedString::const_str(known.copied().unwrap_or(UNKNOWN_ROUTE))
            }
            Self::Http => request
                .extensions()
                .get::<axum::extract::MatchedPath>()
                .map_or(SharedString::const_str(UNKNOWN_ROUTE), |path| {
                    SharedString::from(path.as_str().to_owned())
                }),
        }
    }

    fn outcome<B>(self, response: &http::Response<B>) -> &'static str {
        if let Some(Outcome(outcome)) = response.extensions().get::<Outcome>() {
            return outcome;
        }
        match self {
            Self::Grpc { .. } => grpc_outcome(response),
            Self::Http if response.status().as_u16() < 400 => "ok",
            Self::Http => "error",
        }
    }
}

/// The RFC 6749 error codes a status message may start with.
const OAUTH_ERRORS: [&str; 8] = [
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "unsupported_response_type",
    "invalid_scope",
    "server_error",
];

/// A unary gRPC answer's outcome: a success carries its status in the trailers, a refusal in
/// the headers (trailers-only), with the message `<oauth error>: …`.
fn grpc_outcome<B>(response: &http::Response<B>) -> &'static str {
    let headers = response.headers();
    let Some(status) = headers.get("grpc-status") else {
        return "ok";
    };
    let code = tonic::Code::from_bytes(status.as_bytes());
    if code == tonic::Code::Ok {
        return "ok";
    }
    let message = headers
        .get("grpc-message")
        .and_then(|m| m.to_str().ok())
        .unwrap_or_default();
    let prefix = message.split_once(':').map_or("", |(prefix, _)| prefix);
    if let Some(oauth) = OAUTH_ERRORS.iter().find(|e| **e == prefix) {
        return oauth;
    }
    grpc_code_name(code)
}

/// The gRPC code's name in snake case (statuses not from the domain: unknown methods, size
/// limits, timeouts).
const fn grpc_code_name(code: tonic::Code) -> &'static str {
    match code {
        tonic::Code::Ok => "ok",
        tonic::Code::Cancelled => "cancelled",
        tonic::Code::Unknown => "unknown",
        tonic::Code::InvalidArgument => "invalid_argument",
        tonic::Code::DeadlineExceeded => "deadline_exceeded",
        tonic::Code::NotFound => "not_found",
        tonic::Code::AlreadyExists => "already_exists",
        tonic::Code::PermissionDenied => "permission_denied",
        tonic::Code::ResourceExhausted => "resource_exhausted",
        tonic::Code::FailedPrecondition => "failed_precondition",
        tonic::Code::Aborted => "aborted",
        tonic::Code::OutOfRange => "out_of_range",
        tonic::Code::Unimplemented => "unimplemented",
        tonic::Code::Internal => "internal",
        tonic::Code::Unavailable => "unavailable",
        tonic::Code::DataLoss => "data_loss",
        tonic::Code::Unauthenticated => "unauthenticated",
    }
}

/// A tower layer counting each request ([`REQUESTS`]) and timing it ([`REQUEST_DURATION`]).
#[derive(Clone, Copy, Debug)]
pub struct MeasureLayer(pub Edge);

impl<S> Layer<S> for MeasureLayer {
    type Service = Measured<S>;

    fn layer(&self, inner: S) -> Measured<S> {
        Measured {
            inner,
            edge: self.0,
        }
    }
}

/// See [`MeasureLayer`].
#[derive(Clone, Debug)]
pub struct Measured<S> {
    inner: S,
    edge: Edge,
}

impl<S, B, R> Service<http::Request<B>> for Measured<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<R>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<http::Response<R>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let mut pending = Pending {
            transport: self.edge.transport(),
            route: Some(self.edge.route(&request)),
            started: Instant::now(),
        };
        let edge = self.edge;
        let answer = self.inner.call(request);
        Box::pin(async move {
            let answer = answer.await;
            let outcome = answer.as_ref().map_or("error", |r| edge.outcome(r));
            pending.finish(outcome);
            answer
        })
    }
}

/// A request being measured: recorded once, with [`CANCELLED`] if dropped unanswered.
struct Pending {
    transport: &'static str,
    route: Option<SharedString>,
    started: Instant,
}

impl Pending {
    fn finish(&mut self, outcome: &'static str) {
        let Some(route) = self.route.take() else {
            return;
        };
        let transport = self.transport;
        metrics::histogram!(REQUEST_DURATION, "transport" => transport, "route" => route.clone())
            .record(self.started.elapsed());
        counter!(REQUESTS, "transport" => transport, "route" => route, "outcome" => outcome)
            .increment(1);
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.finish(CANCELLED);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grpc(status: Option<&str>, message: &str) -> http::Response<()> {
        let mut response = http::Response::new(());
        if let Some(status) = status {
            let headers = response.headers_mut();
            headers.insert("grpc-status", status.parse().unwrap());
            headers.insert("grpc-message", message.parse().unwrap());
        }
        response
    }

    #[test]
    fn grpc_outcomes_are_the_oauth_code_or_the_status_name_never_the_message() {
        assert_eq!(grpc_outcome(&grpc(None, "")), "ok");
        assert_eq!(grpc_outcome(&grpc(Some("0"), "")), "ok");
        assert_eq!(
            grpc_outcome(&grpc(Some("7"), "invalid_grant: code was already used")),
            "invalid_grant"
        );
        assert_eq!(
            grpc_outcome(&grpc(Some("12"), "tsr_at_secret: not a kind")),
            "unimplemented"
        );
        assert_eq!(grpc_outcome(&grpc(Some("8"), "")), "resource_exhausted");
    }

    #[test]
    fn only_served_grpc_paths_are_routes() {
        let edge = Edge::Grpc {
            routes: &["/tessera.v1.TokenService/Exchange"],
        };
        let request = |path: &str| http::Request::builder().uri(path).body(()).unwrap();
        assert_eq!(
            edge.route(&request("/tessera.v1.TokenService/Exchange")),
            SharedString::const_str("/tessera.v1.TokenService/Exchange")
        );
        assert_eq!(
            edge.route(&request("/tessera.v1.TokenService/tsr_at_x")),
            SharedString::const_str(UNKNOWN_ROUTE)
        );
    }
}
