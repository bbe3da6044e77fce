//! Hundreds of concurrent connections, each mixing valid and invalid calls: every valid call
//! succeeds, every invalid one fails with its own code, health stays SERVING and the memory of
//! the process (server included) stays bounded. Alone in its binary, so RSS is this test's.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns: a failure must fail the test"
)]

use std::sync::Arc;

use tessera_proto::v1::token_service_client::TokenServiceClient;
use tessera_proto::v1::{IntrospectRequest, RegisterResponse, RevokeRequest};
use tessera_service::limit::TOO_LARGE;
use tessera_testkit::server::*;
use tokio::sync::Barrier;
use tonic::transport::Channel;
use tonic::{Code, Status};

const CONNECTIONS: usize = 200;
const MEASURED_ROUNDS: usize = 2;
const MAX_RSS_GROWTH: u64 = 64 * 1024 * 1024;

/// The resident set size of this process, server included.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    kib * 1024
}

struct Fixture {
    url: String,
    app: RegisterResponse,
    /// A registered client the invalid calls guess secrets for (never `app`: it gets throttled).
    decoy: RegisterResponse,
    unknown: RegisterResponse,
    access_token: String,
    forged: String,
}

/// What one round saw of the calls whose answer may vary.
#[derive(Default)]
struct Tally {
    guesses_refused: usize,
    guesses_throttled: usize,
}

fn request(token: &str) -> IntrospectRequest {
    IntrospectRequest {
        token: token.to_owned(),
        token_type_hint: String::new(),
    }
}

async fn valid_call(api: &mut TokenServiceClient<Channel>, f: &Fixture) {
    let answer = introspect(api, &f.app, &f.access_token).await;
    assert!(answer.active, "a valid introspection failed");
}

fn assert_code<T: core::fmt::Debug>(result: Result<T, Status>, code: Code) {
    let status = result.unwrap_err();
    assert_eq!(status.code(), code, "{status:?}");
}

/// One connection: valid introspections between invalid calls of every kind.
async fn connection(f: Arc<Fixture>, all_connected: Arc<Barrier>) -> Tally {
    let channel = Channel::from_shared(f.url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut api = TokenServiceClient::new(channel);
    all_connected.wait().await;
    let mut tally = Tally::default();

    valid_call(&mut api, &f).await;
    assert!(!active(&mut api, &f.app, &f.forged).await);
    valid_call(&mut api, &f).await;
    assert!(
        !introspect(&mut api, &f.app, &"a".repeat(15 * 1024))
            .await
            .active
    );
    let status = api
        .introspect(basic(request(&"a".repeat(100 * 1024)), &f.app))
        .await
        .unwrap_err();
    assert_eq!(
        (status.code(), status.message()),
        (Code::ResourceExhausted, TOO_LARGE)
    );
    valid_call(&mut api, &f).await;
    assert_code(
        api.introspect(basic(request(&f.access_token), &f.unknown))
            .await,
        Code::Unauthenticated,
    );
    match api
        .introspect(basic(request(&f.access_token), &f.decoy))
        .await
    {
        Err(s) if s.code() == Code::Unauthenticated => tally.guesses_refused += 1,
        Err(s) if s.code() == Code::ResourceExhausted => tally.guesses_throttled += 1,
        other => panic!("a guessed secret got {other:?}"),
    }
    valid_call(&mut api, &f).await;
    assert_code(
        api.introspect(with_auth(request(&f.access_token), "Basic %%%"))
            .await,
        Code::Unauthenticated,
    );
    assert_code(
        exchange(&mut api, &f.app, code_exchange(&f.forged)).await,
        Code::PermissionDenied,
    );
    // Revoking a forged token succeeds and revokes nothing (RFC 7009 §2.2).
    api.revoke(basic(
        RevokeRequest {
            token: f.forged.clone(),
            ..RevokeRequest::default()
        },
        &f.app,
    ))
    .await
    .unwrap();
    valid_call(&mut api, &f).await;
    tally
}

async fn round(f: &Arc<Fixture>) -> Tally {
    let all_connected = Arc::new(Barrier::new(CONNECTIONS));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONNECTIONS {
        tasks.spawn(connection(Arc::clone(f), Arc::clone(&all_connected)));
    }
    let mut total = Tally::default();
    while let Some(tally) = tasks.join_next().await {
        let tally = tally.unwrap();
        total.guesses_refused += tally.guesses_refused;
        total.guesses_throttled += tally.guesses_throttled;
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_connections_mixing_valid_and_invalid_calls() {
    let server = TestServer::temporary().await;
    let app = server.register("app", "read").await;
    let decoy = server.register("decoy", "read").await;
    let tokens = server.tokens(&app, "read").await;
    let mut forged = tokens.access_token.clone().into_bytes();
    forged[30] ^= 1;
    let f = Arc::new(Fixture {
        url: format!("http://{}", server.addr),
        unknown: RegisterResponse {
            client_id: "00112233445566778899aabbccddeeff".to_owned(),
            ..app.clone()
        },
        decoy: RegisterResponse {
            client_secret: app.client_secret.clone(),
            ..decoy
        },
        app,
        access_token: tokens.access_token,
        forged: String::from_utf8(forged).unwrap(),
    });

    // The first round warms up allocator arenas, thread pools and caches.
    let mut guesses = round(&f).await;
    let warm = rss_bytes();
    for _ in 0..MEASURED_ROUNDS {
        let tally = round(&f).await;
        guesses.guesses_refused += tally.guesses_refused;
        guesses.guesses_throttled += tally.guesses_throttled;
    }
    let after = rss_bytes();
    assert!(
        after.saturating_sub(warm) < MAX_RSS_GROWTH,
        "RSS grew from {warm} to {after} bytes over {MEASURED_ROUNDS} rounds"
    );

    // The decoy's guesses were throttled after the default limit of 10 in a minute, give or
    // take one in flight per worker thread; the app, called all along, never was.
    assert!(
        guesses.guesses_refused <= 10 + 2,
        "{} guesses were checked",
        guesses.guesses_refused
    );
    assert_eq!(
        guesses.guesses_refused + guesses.guesses_throttled,
        CONNECTIONS * (1 + MEASURED_ROUNDS)
    );

    server.assert_serving().await;
    server.stop().await;
}
