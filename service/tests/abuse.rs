//! Hostile callers against the real server: oversized requests, malformed client credentials
//! and secret guessing are refused, change nothing and echo nothing back.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns: a failure must fail the test"
)]

use tessera_proto::v1::token_service_client::TokenServiceClient;
use tessera_proto::v1::{IntrospectRequest, RegisterRequest, RegisterResponse, RevokeRequest};
use tessera_service::credentials::basic_header;
use tessera_service::limit::TOO_LARGE;
use tessera_service::{Config, ManualClock};
use tessera_testkit::server::*;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

fn assert_too_large<T: core::fmt::Debug>(result: Result<T, Status>) {
    let status = result.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(status.message(), TOO_LARGE);
}

fn registration(redirect_uris: Vec<String>, scope: String) -> RegisterRequest {
    RegisterRequest {
        client_name: "big".to_owned(),
        redirect_uris,
        scope,
        public_client: false,
    }
}

#[tokio::test]
async fn oversized_registrations_and_code_requests_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let app = server.register("app", "read").await;
    let code = server.code(&app.client_id, "read", &[]).await;
    let before = data_files(dir.path());

    // Over the 16 KiB message limit: refused by the transport before decoding.
    let uris: Vec<String> = (0..100_000)
        .map(|i| format!("https://app.example/cb/{i}"))
        .collect();
    assert_too_large(server.try_register(registration(uris, "read".into())).await);
    let megabyte_scope = "s".repeat(1024 * 1024);
    assert_too_large(
        server
            .try_register(registration(
                vec![REDIRECT_URI.into()],
                megabyte_scope.clone(),
            ))
            .await,
    );
    let mut request = code_request(&app.client_id, "read", &[]);
    request.scope = megabyte_scope;
    assert_too_large(server.try_code(request).await);

    // Under the message limit but over the service's own limits: refused by validation.
    let uris: Vec<String> = (0..300)
        .map(|i| format!("https://app.example/cb/{i}"))
        .collect();
    assert_refused(
        server.try_register(registration(uris, "read".into())).await,
        Code::InvalidArgument,
        "invalid_request",
    );
    let long_scope = "s".repeat(12 * 1024);
    assert_refused(
        server
            .try_register(registration(vec![REDIRECT_URI.into()], long_scope.clone()))
            .await,
        Code::InvalidArgument,
        "invalid_scope",
    );
    let mut request = code_request(&app.client_id, "read", &[]);
    request.scope = long_scope;
    assert_refused(
        server.try_code(request).await,
        Code::InvalidArgument,
        "invalid_scope",
    );

    // Not a byte of the durable state changed, and the code issued before still works.
    assert!(
        data_files(dir.path()) == before,
        "a refused request changed the data directory"
    );
    let mut api = server.client().await;
    let tokens = exchange(&mut api, &app, code_exchange(&code))
        .await
        .unwrap();
    assert!(active(&mut api, &app, &tokens.access_token).await);
    server.stop().await;
}

fn with_raw_auth<T>(message: T, authorization: &[u8]) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        MetadataValue::try_from(authorization).unwrap(),
    );
    request
}

fn base64(bytes: impl AsRef<[u8]>) -> String {
    let bytes = bytes.as_ref();
    let mut out = vec![0u8; bytes.len().div_ceil(3) * 4];
    tessera_core::encoding::base64_encode(bytes, &mut out)
        .unwrap()
        .to_owned()
}

/// Every RPC a client authenticates for, with a request that would succeed with `client`'s
/// credentials; returns the status of each under `authorization`.
async fn client_rpcs(
    api: &mut TokenServiceClient<Channel>,
    authorization: &[u8],
    code: &str,
    token: &str,
) -> Vec<(&'static str, Status)> {
    let exchange = api
        .exchange(with_raw_auth(code_exchange(code), authorization))
        .await;
    let introspect = api
        .introspect(with_raw_auth(
            IntrospectRequest {
                token: token.to_owned(),
                token_type_hint: String::new(),
            },
            authorization,
        ))
        .await;
    let revoke = api
        .revoke(with_raw_auth(
            RevokeRequest {
                token: token.to_owned(),
                ..RevokeRequest::default()
            },
            authorization,
        ))
        .await;
    vec![
        ("Exchange", exchange.unwrap_err()),
        ("Introspect", introspect.unwrap_err()),
        ("Revoke", revoke.unwrap_err()),
    ]
}

#[tokio::test]
async fn malformed_client_credentials_are_unauthenticated_change_nothing_and_echo_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let app = server.register("app", "read").await;
    let other = server.register("other", "read").await;
    let mut api = server.client().await;
    let tokens = server.tokens(&app, "read").await;
    let code = server.code(&app.client_id, "read", &[]).await;
    let token = tokens.access_token.clone();
    let id = &app.client_id;
    let secret = &app.client_secret;
    let unknown = "00112233445566778899aabbccddeeff";

    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("bad base64", b"Basic not*base64!".to_vec()),
        (
            "missing colon",
            format!("Basic {}", base64(format!("{id}{secret}"))).into(),
        ),
        (
            "unknown client",
            format!("Basic {}", base64(format!("{unknown}:{secret}"))).into(),
        ),
        (
            "malformed client id",
            format!("Basic {}", base64(format!("app:{secret}"))).into(),
        ),
        (
            "empty secret",
            format!("Basic {}", base64(format!("{id}:"))).into(),
        ),
        (
            "another client's secret",
            basic_header(id, &other.client_secret).as_bytes().to_vec(),
        ),
        (
            "an access token as the secret",
            basic_header(id, &token).as_bytes().to_vec(),
        ),
        (
            "a refresh token as the secret",
            basic_header(id, &tokens.refresh_token).as_bytes().to_vec(),
        ),
        ("Bearer with the secret", format!("Bearer {secret}").into()),
        ("Bearer with a token", format!("Bearer {token}").into()),
        (
            "Bearer with the Basic credentials",
            basic_header(id, secret)
                .replacen("Basic", "Bearer", 1)
                .into(),
        ),
        ("scheme only", b"Basic".to_vec()),
        ("empty credentials", b"Basic ".to_vec()),
        (
            "longer than any credentials",
            format!("Basic {}", base64(format!("{id}:{}", "a".repeat(4096)))).into(),
        ),
        (
            "not UTF-8 once decoded",
            format!("Basic {}", base64(b"\xff\xfe:\xff\xfe")).into(),
        ),
        ("non-ASCII", "Basic dépôt:sécret".as_bytes().to_vec()),
        ("binary garbage", b"\xff\xfe\x80\x81 \xc3\x28".to_vec()),
    ];
    let before = data_files(dir.path());
    for (name, authorization) in &cases {
        let echoes: Vec<String> = [
            String::from_utf8_lossy(authorization).into_owned(),
            secret.clone(),
            other.client_secret.clone(),
            token.clone(),
            tokens.refresh_token.clone(),
        ]
        .into_iter()
        .chain(
            String::from_utf8_lossy(authorization)
                .split(' ')
                .filter(|part| part.len() > 6)
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        )
        .collect();
        for (rpc, status) in client_rpcs(&mut api, authorization, &code, &token).await {
            assert_eq!(
                status.code(),
                Code::Unauthenticated,
                "{name} {rpc}: {status:?}"
            );
            assert!(
                status.message().starts_with("invalid_client: "),
                "{name} {rpc}: {}",
                status.message()
            );
            let answer = format!("{} {:?}", status.message(), status.metadata());
            for echo in &echoes {
                assert!(
                    !answer.contains(echo.as_str()),
                    "{name} {rpc} echoes {echo}"
                );
            }
        }
    }

    // A failed request never consumes a code nor revokes a token.
    assert!(
        data_files(dir.path()) == before,
        "a refused request changed the data directory"
    );
    assert!(active(&mut api, &app, &token).await);
    exchange(&mut api, &app, code_exchange(&code))
        .await
        .unwrap();
    server.stop().await;
}

fn wrong_secret(client: &RegisterResponse, secret_of: &RegisterResponse) -> RegisterResponse {
    RegisterResponse {
        client_secret: secret_of.client_secret.clone(),
        ..client.clone()
    }
}

async fn introspect_as(
    api: &mut TokenServiceClient<Channel>,
    caller: &RegisterResponse,
    token: &str,
) -> Result<bool, Status> {
    try_introspect(api, caller, token).await.map(|r| r.active)
}

fn assert_throttled<T: core::fmt::Debug>(result: Result<T, Status>) {
    let status = result.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status
            .message()
            .starts_with("invalid_client: too many failed authentications"),
        "{}",
        status.message()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_is_throttled_while_the_right_secret_keeps_working() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new(dir.path());
    let limit = config.failed_auth_limit;
    assert_eq!((limit, config.failed_auth_window), (10, 60));
    let server = TestServer::start_with(config).await;
    let victim = server.register("victim", "read").await;
    let bystander = server.register("bystander", "read").await;
    // The attacker calls from 127.0.0.2; the victim and the bystander from 127.0.0.1.
    let mut attacker = server.client_from("127.0.0.2".parse().unwrap()).await;
    let mut api = server.client().await;
    let code = server.code(&victim.client_id, "read", &[]).await;
    let theirs = server.tokens(&bystander, "read").await;

    // `limit` wrong secrets, over every client RPC: each is a plain failure.
    let guess = wrong_secret(&victim, &bystander);
    for i in 0..limit {
        let result = match i % 3 {
            0 => introspect_as(&mut attacker, &guess, "x").await.map(drop),
            1 => exchange(&mut attacker, &guess, code_exchange(&code))
                .await
                .map(drop),
            _ => attacker
                .revoke(basic(RevokeRequest::default(), &guess))
                .await
                .map(drop),
        };
        assert_refused(result, Code::Unauthenticated, "invalid_client");
    }
    // Further guesses are throttled, from the attacker's address and from the victim's own.
    assert_throttled(introspect_as(&mut attacker, &guess, "x").await);
    assert_throttled(introspect_as(&mut api, &guess, "x").await);
    // The victim, with its right secret, is served on every RPC all the while.
    let tokens = exchange(&mut api, &victim, code_exchange(&code))
        .await
        .unwrap();
    assert!(
        introspect_as(&mut api, &victim, &tokens.access_token)
            .await
            .unwrap()
    );
    api.revoke(basic(RevokeRequest::default(), &victim))
        .await
        .unwrap();
    // Even the attacker's own connection cannot turn the victim off.
    assert!(
        introspect_as(&mut attacker, &victim, &tokens.access_token)
            .await
            .unwrap()
    );
    assert_throttled(introspect_as(&mut attacker, &guess, "x").await);
    // The bystander is not slowed.
    for _ in 0..limit * 2 {
        assert!(
            introspect_as(&mut api, &bystander, &theirs.access_token)
                .await
                .unwrap()
        );
    }
    // Unknown ids are never throttled (nor counted): they stay plain failures.
    let stranger = RegisterResponse {
        client_id: "00112233445566778899aabbccddeeff".to_owned(),
        ..victim.clone()
    };
    for _ in 0..limit * 2 {
        assert_refused(
            introspect_as(&mut api, &stranger, "x").await,
            Code::Unauthenticated,
            "invalid_client",
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_source_guessing_across_clients_is_throttled_and_others_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new(dir.path());
    let source_limit = config.failed_auth_source_limit;
    assert_eq!(source_limit, 20);
    let server = TestServer::start_with(config).await;
    let mut clients = Vec::new();
    for i in 0..5 {
        clients.push(server.register(&format!("app {i}"), "read").await);
    }
    let mut attacker = server.client_from("127.0.0.3".parse().unwrap()).await;
    // Four wrong secrets per client stay under each client's limit (10), but 20 from one
    // source reach the source's.
    let mut failures = 0;
    for i in 0..usize::try_from(source_limit).unwrap() {
        let guess = wrong_secret(&clients[i % 5], &clients[(i + 1) % 5]);
        assert_refused(
            introspect_as(&mut attacker, &guess, "x").await,
            Code::Unauthenticated,
            "invalid_client",
        );
        failures += 1;
    }
    assert_eq!(failures, source_limit);
    let guess = wrong_secret(&clients[2], &clients[3]);
    assert_throttled(introspect_as(&mut attacker, &guess, "x").await);
    // The same wrong secret from another address is a plain failure: the client is not throttled.
    let mut other = server.client_from("127.0.0.4".parse().unwrap()).await;
    assert_refused(
        introspect_as(&mut other, &guess, "x").await,
        Code::Unauthenticated,
        "invalid_client",
    );
    server.stop().await;
}

#[tokio::test]
async fn a_throttled_client_is_served_again_when_the_window_ends() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path());
    config.failed_auth_limit = 3;
    config.failed_auth_window = 2;
    let clock = ManualClock::starting_now();
    let server = TestServer::start_with_clock(config, clock.shared()).await;
    let app = server.register("app", "read").await;
    let other = server.register("other", "read").await;
    let mut api = server.client().await;
    let code = server.code(&app.client_id, "read", &[]).await;
    let guess = wrong_secret(&app, &other);
    for _ in 0..3 {
        assert_refused(
            exchange(&mut api, &guess, code_exchange(&code)).await,
            Code::Unauthenticated,
            "invalid_client",
        );
    }
    // Past the limit a wrong secret is throttled, yet the right one is served.
    assert_throttled(exchange(&mut api, &guess, code_exchange(&code)).await);
    let mut other_code = code_exchange(&code);
    other_code.code_verifier = "x".repeat(43);
    assert_refused(
        exchange(&mut api, &app, other_code).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    clock.advance(2);
    // When the window ends, wrong secrets are plain failures again.
    assert_refused(
        exchange(&mut api, &guess, code_exchange(&code)).await,
        Code::Unauthenticated,
        "invalid_client",
    );
    // Neither the failures nor the throttled attempt spent the code.
    let tokens = exchange(&mut api, &app, code_exchange(&code))
        .await
        .unwrap();
    assert!(active(&mut api, &app, &tokens.access_token).await);
    server.stop().await;
}
