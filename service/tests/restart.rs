//! Durability: what a server acknowledged survives a restart on the same data directory.

use tessera_testkit::server::*;
use tonic::Code;

#[tokio::test]
async fn clients_spent_codes_revocations_and_keys_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let operator = server.operator.clone();
    let app = server.register("app", "read").await;
    let mut api = server.client().await;
    let spent = server.code(&app.client_id, "read", &[]).await;
    let unspent = server.code(&app.client_id, "read", &[]).await;
    let tokens = exchange(&mut api, &app, code_exchange(&spent))
        .await
        .unwrap();
    let revoked = server.tokens(&app, "read").await;
    api.revoke(basic(
        tessera_proto::v1::RevokeRequest {
            token: revoked.refresh_token.clone(),
            ..Default::default()
        },
        &app,
    ))
    .await
    .unwrap();
    drop(api);
    server.stop().await;

    let server = TestServer::start(dir.path()).await;
    assert_eq!(server.operator, operator, "the operator token is kept");
    let mut api = server.client().await;
    // The client is still registered and its secret still verifies; the keys are the same, so
    // tokens minted before the restart still verify.
    assert!(active(&mut api, &app, &tokens.access_token).await);
    // The spent code stays spent (and its replay now revokes its grant).
    assert_refused(
        exchange(&mut api, &app, code_exchange(&spent)).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    assert!(!active(&mut api, &app, &tokens.access_token).await);
    // The revocation holds.
    assert!(!active(&mut api, &app, &revoked.access_token).await);
    // A code issued before the restart and never used still works.
    exchange(&mut api, &app, code_exchange(&unspent))
        .await
        .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_rotated_key_keeps_old_tokens_verifying() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let app = server.register("app", "read").await;
    let before = server.tokens(&app, "read").await;
    server.stop().await;

    let rng = tessera_service::rng::SharedRng::from_os().unwrap();
    tessera_service::datadir::rotate(dir.path(), &rng, false).unwrap();

    let server = TestServer::start(dir.path()).await;
    let mut api = server.client().await;
    assert!(active(&mut api, &app, &before.access_token).await);
    let after = exchange(&mut api, &app, refresh_exchange(&before.refresh_token, ""))
        .await
        .unwrap();
    assert!(active(&mut api, &app, &after.access_token).await);
    server.stop().await;
}

#[tokio::test]
async fn a_client_secret_outlives_the_key_it_was_hashed_under() {
    let dir = tempfile::tempdir().unwrap();
    let rng = tessera_service::rng::SharedRng::from_os().unwrap();
    let server = TestServer::start(dir.path()).await;
    let app = server.register("app", "read").await; // hashed under key 1
    server.stop().await;

    // Keys 1, 2, 3; 3 active. Authenticating re-hashes the secret under key 3.
    for _ in 0..2 {
        tessera_service::datadir::rotate(dir.path(), &rng, false).unwrap();
    }
    let server = TestServer::start(dir.path()).await;
    let mut api = server.client().await;
    assert!(!active(&mut api, &app, "unknown").await);
    drop(api);
    server.stop().await;

    // Keys 3, 4, 5, 6: key 1 is gone, yet the client still authenticates. Key 1 minted while
    // the first server ran, so its tokens may live: its retirement must be forced.
    for _ in 0..3 {
        tessera_service::datadir::rotate(dir.path(), &rng, true).unwrap();
    }
    let server = TestServer::start(dir.path()).await;
    let mut api = server.client().await;
    assert!(!active(&mut api, &app, "unknown").await);
    server.tokens(&app, "read").await;
    server.stop().await;
}

#[tokio::test]
async fn after_a_rotation_only_a_successful_request_re_hashes_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let rng = tessera_service::rng::SharedRng::from_os().unwrap();
    let server = TestServer::start(dir.path()).await;
    let app = server.register("app", "read").await; // hashed under key 1
    server.stop().await;
    tessera_service::datadir::rotate(dir.path(), &rng, false).unwrap();

    let server = TestServer::start(dir.path()).await;
    let mut api = server.client().await;
    let before = data_files(dir.path());
    // Authenticated, but the code is forged: refused, and nothing is written.
    let refused = exchange(&mut api, &app, code_exchange("tsr_ac_forged")).await;
    assert_eq!(refused.unwrap_err().code(), Code::PermissionDenied);
    assert_eq!(data_files(dir.path()), before, "a failed request re-hashed");
    // A successful call re-hashes the secret under key 2: the client record is rewritten.
    assert!(!active(&mut api, &app, "unknown").await);
    assert_ne!(data_files(dir.path()), before, "a success did not re-hash");
    server.stop().await;
}
