//! `/metrics` after a flow on the embedded store (`metered`: the flow and its checks).

#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    reason = "test helpers outside #[test] fns: a failure must fail the test"
)]

mod metered;

use tessera_testkit::server::{On, TestServer};

#[tokio::test]
async fn the_counters_move_by_exactly_what_a_flow_did() {
    let server = TestServer::temporary_on(On::Redb).await;
    metered::the_counters_move_by_exactly_what_a_flow_did(&server, On::Redb).await;
    server.stop().await;
}
