//! `/metrics` after a flow over both transports: every request, token, introspection, security
//! event and store write the flow made moved its counter by exactly one, and nothing else moved.
//! The recorder is per process, so each store's run is a test binary of its own
//! (`tests/metrics.rs`, `tests/metrics_postgres.rs`) with one server; the flow compares a scrape
//! before it with one after it.

use std::collections::BTreeMap;

use tessera_proto::v1::RegisterRequest;
use tessera_testkit::http::{Auth, Http, code_fields};
use tessera_testkit::server::*;

/// Every sample of a Prometheus text scrape: `name{labels}` → value.
pub(crate) async fn scrape(http: &Http) -> BTreeMap<String, f64> {
    let response = http
        .client
        .get(format!("{}/metrics", http.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap();
            (series.to_owned(), value.parse().unwrap())
        })
        .collect()
}

/// The series of `names` that moved from `before` to `after`, and by how much.
pub(crate) fn moved(
    before: &BTreeMap<String, f64>,
    after: &BTreeMap<String, f64>,
    names: &[&str],
) -> BTreeMap<String, f64> {
    after
        .iter()
        .filter(|(series, _)| {
            names
                .iter()
                .any(|name| series.split('{').next() == Some(*name))
        })
        .map(|(series, value)| (series.clone(), value - before.get(series).unwrap_or(&0.0)))
        .filter(|(_, delta)| *delta != 0.0)
        .collect()
}

pub(crate) fn request(transport: &str, route: &str, outcome: &str) -> String {
    format!(
        r#"tessera_requests_total{{transport="{transport}",route="{route}",outcome="{outcome}"}}"#
    )
}

const RPC: &str = "/tessera.v1.TokenService";

/// Runs the flow on `server`, a server on `on`, and checks every metric it moved.
pub(crate) async fn the_counters_move_by_exactly_what_a_flow_did(server: &TestServer, on: On) {
    let http = Http::new(server);
    let before = scrape(&http).await;

    // gRPC: register, a code; HTTP: exchange it and introspect the access token.
    let client = server.register("metered", "read").await;
    let code = server.code(&client.client_id, "read", &[]).await;
    let tokens = http
        .form("/token", Auth::Basic(&client), &code_fields(&code))
        .await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let access = tokens.body["access_token"].as_str().unwrap();
    let refresh = tokens.body["refresh_token"].as_str().unwrap();
    let found = http
        .form("/introspect", Auth::Basic(&client), &[("token", access)])
        .await;
    assert_eq!(found.body["active"], true);
    // gRPC: a replay of the code is refused and revokes the grant; the token is inactive now.
    let mut api = server.client().await;
    assert_refused(
        exchange(&mut api, &client, code_exchange(&code)).await,
        tonic::Code::PermissionDenied,
        "invalid_grant",
    );
    assert!(!active(&mut api, &client, access).await);
    // HTTP: revoke the refresh token; an unknown path.
    let revoked = http
        .form("/revoke", Auth::Basic(&client), &[("token", refresh)])
        .await;
    assert_eq!(revoked.status, 200);
    assert_eq!(http.get("/tsr_at_not_a_route").await.status, 404);
    // gRPC: a wrong operator token.
    let wrong = with_auth(
        RegisterRequest::default(),
        "Bearer tsr_op_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );
    assert_refused(
        api.register(wrong).await,
        tonic::Code::Unauthenticated,
        "invalid_client",
    );

    let after = scrape(&http).await;
    let counters = [
        "tessera_requests_total",
        "tessera_tokens_issued_total",
        "tessera_introspections_total",
        "tessera_security_events_total",
        "tessera_store_errors_total",
    ];
    let expected: BTreeMap<String, f64> = [
        request("grpc", &format!("{RPC}/Register"), "ok"),
        request("grpc", &format!("{RPC}/IssueCode"), "ok"),
        request("http", "/token", "ok"),
        request("http", "/introspect", "ok"),
        request("grpc", &format!("{RPC}/Exchange"), "invalid_grant"),
        request("grpc", &format!("{RPC}/Introspect"), "ok"),
        request("http", "/revoke", "ok"),
        request("http", "unknown", "not_found"),
        request("grpc", &format!("{RPC}/Register"), "invalid_client"),
        // The first scrape (the second one is counted once it is answered).
        request("http", "/metrics", "ok"),
        r#"tessera_tokens_issued_total{kind="code",grant_type="authorization_code"}"#.to_owned(),
        r#"tessera_tokens_issued_total{kind="access",grant_type="authorization_code"}"#.to_owned(),
        r#"tessera_tokens_issued_total{kind="refresh",grant_type="authorization_code"}"#.to_owned(),
        r#"tessera_introspections_total{result="active"}"#.to_owned(),
        r#"tessera_introspections_total{result="inactive"}"#.to_owned(),
        r#"tessera_security_events_total{event="code_replayed"}"#.to_owned(),
        r#"tessera_security_events_total{event="operator_auth_failed"}"#.to_owned(),
    ]
    .into_iter()
    .map(|series| (series, 1.0))
    .collect();
    assert_eq!(moved(&before, &after, &counters), expected);

    // Each request was timed once, under its route.
    let timed = moved(&before, &after, &["tessera_request_duration_seconds_count"]);
    let count = |transport: &str, route: &str| {
        let series = format!(
            r#"tessera_request_duration_seconds_count{{transport="{transport}",route="{route}"}}"#
        );
        timed.get(&series).copied().unwrap_or(0.0)
    };
    assert_eq!(count("grpc", &format!("{RPC}/Register")), 2.0, "{timed:?}");
    assert_eq!(count("http", "/token"), 1.0, "{timed:?}");
    assert_eq!(timed.values().sum::<f64>(), 10.0, "{timed:?}");

    // The store: one registration, two spends (the exchange and the replay), two grant
    // revocations (the replay's and the refresh token's), each a group commit of one write.
    let store = moved(
        &before,
        &after,
        &["tessera_store_operation_duration_seconds_count"],
    );
    let operation = |name: &str| {
        let series =
            format!(r#"tessera_store_operation_duration_seconds_count{{operation="{name}"}}"#);
        store.get(&series).copied().unwrap_or(0.0)
    };
    assert_eq!(operation("insert_client"), 1.0, "{store:?}");
    assert_eq!(operation("spend_code"), 2.0, "{store:?}");
    assert_eq!(operation("revoke_grant"), 2.0, "{store:?}");
    let batches = moved(&before, &after, &["tessera_store_batch_writes_sum"]);
    let pool = |state: &str| {
        after
            .get(&format!(
                r#"tessera_store_pool_connections{{state="{state}"}}"#
            ))
            .copied()
    };
    match on {
        On::Redb => {
            assert_eq!(
                batches.get("tessera_store_batch_writes_sum"),
                Some(&5.0),
                "{batches:?}"
            );
            assert_eq!(pool("idle"), None, "no pool without PostgreSQL");
        }
        On::Postgres => {
            // No group commit; the pool's gauges instead: at rest, every connection the flow
            // opened is idle again (the purge, running now and then, may hold one).
            assert!(batches.is_empty(), "{batches:?}");
            let max = tessera_service::store::postgres::POOL_SIZE;
            assert_eq!(
                after.get("tessera_store_pool_max_connections"),
                Some(&(max as f64))
            );
            let (in_use, idle) = (pool("in_use").unwrap(), pool("idle").unwrap());
            assert!(in_use <= 1.0 && idle >= 1.0, "in use {in_use}, idle {idle}");
            assert!(in_use + idle <= max as f64, "in use {in_use}, idle {idle}");
            assert_eq!(after.get("tessera_store_pool_waiting"), Some(&0.0));
        }
    }

    // Gauges: the scrape in flight on its connection; the one key, active.
    assert_eq!(
        after.get(r#"tessera_in_flight_requests{listener="http"}"#),
        Some(&1.0)
    );
    assert_eq!(
        after.get(r#"tessera_in_flight_requests{listener="grpc"}"#),
        Some(&0.0)
    );
    assert!(after[r#"tessera_open_connections{listener="http"}"#] >= 1.0);
    let keys: Vec<_> = after
        .iter()
        .filter(|(series, _)| series.starts_with("tessera_keys{"))
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].0.contains(r#"active="true""#), "{keys:?}");
    assert_eq!(*keys[0].1, 1.0);

    // No label holds a credential.
    for series in after.keys() {
        let secrets = [
            &client.client_secret,
            &code,
            access,
            refresh,
            &server.operator,
        ];
        for secret in secrets.map(|s| -> &str { s }) {
            assert!(!series.contains(secret), "{series}");
        }
        assert!(!series.contains("tsr_"), "{series}");
    }
}
