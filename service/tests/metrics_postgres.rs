//! `/metrics` after a flow on the PostgreSQL store (a database of the test kit's server) (`metered`: the flow and its checks).

#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    reason = "test helpers outside #[test] fns: a failure must fail the test"
)]

mod metered;

#[tokio::test]
async fn the_counters_move_by_exactly_what_a_flow_did() {
    metered::the_counters_move_by_exactly_what_a_flow_did(tessera_testkit::server::On::Postgres)
        .await;
}
