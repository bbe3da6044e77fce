//! `/metrics` after a flow on the PostgreSQL store (`metered`: the flow and its checks), then
//! with its database unreachable: each failed store operation counted once.

#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    reason = "test helpers outside #[test] fns: a failure must fail the test"
)]

mod metered;

use std::collections::BTreeMap;

use tessera_service::store::PostgresUrl;
use tessera_service::{Config, StoreConfig};
use tessera_testkit::http::{Auth, Http};
use tessera_testkit::postgres::TestPostgres;
use tessera_testkit::server::{On, TestServer};

#[tokio::test]
async fn the_counters_move_by_exactly_what_a_flow_did_and_store_errors_are_counted() {
    let postgres = TestPostgres::shared();
    let database = postgres.create_database();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path());
    config.store = StoreConfig::Postgres {
        url: PostgresUrl::parse(&postgres.url_of(&database)).unwrap(),
    };
    let server = TestServer::start_with(config).await;
    metered::the_counters_move_by_exactly_what_a_flow_did(&server, On::Postgres).await;

    // The database refuses connections and its sessions end: an introspection cannot read its
    // caller's client, and answers 503 (temporarily_unavailable); the store counted one error.
    let http = Http::new(&server);
    let client = server.register("broken", "read").await;
    let before = metered::scrape(&http).await;
    postgres.execute(&format!(
        "ALTER DATABASE {database} ALLOW_CONNECTIONS false; \
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"
    ));
    let refused = http
        .form(
            "/introspect",
            Auth::Basic(&client),
            &[("token", "tsr_at_x")],
        )
        .await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    let after = metered::scrape(&http).await;
    let errors = metered::moved(&before, &after, &["tessera_store_errors_total"]);
    let expected: BTreeMap<String, f64> = [(
        r#"tessera_store_errors_total{operation="client"}"#.to_owned(),
        1.0,
    )]
    .into_iter()
    .collect();
    assert_eq!(errors, expected);
    server.stop().await;
}
