//! The review's policy findings, against the real server: refresh tokens are not bearer tokens
//! for resource servers, one credential per request, strict and RFC 8252-aware redirect URIs,
//! and an absolute lifetime for a refresh family.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns: a failure must fail the test"
)]

use tessera_proto::v1::{IntrospectRequest, IssueCodeRequest, RegisterRequest};
use tessera_service::credentials::basic_header;
use tessera_service::{Config, ManualClock};
use tessera_testkit::server::*;
use tonic::Code;

#[tokio::test]
async fn a_refresh_token_is_active_only_to_its_own_client() {
    let server = TestServer::temporary().await;
    let app = server.register("app", "read").await;
    let api_server = server.register("photo api", "read").await;
    let code = server
        .code(&app.client_id, "read", &[&api_server.client_id])
        .await;
    let mut api = server.client().await;
    let tokens = exchange(&mut api, &app, code_exchange(&code))
        .await
        .unwrap();
    for hint in ["", "refresh_token", "access_token"] {
        let ask = |caller| {
            let request = IntrospectRequest {
                token: tokens.refresh_token.clone(),
                token_type_hint: hint.to_owned(),
            };
            basic(request, caller)
        };
        // The resource server named in `aud` sees the refresh token inactive.
        let answer = api.introspect(ask(&api_server)).await.unwrap().into_inner();
        assert!(!answer.active, "hint {hint:?}: {answer:?}");
        assert_eq!(
            answer,
            Default::default(),
            "an inactive answer says nothing more"
        );
        // Its own client sees it active.
        let answer = api.introspect(ask(&app)).await.unwrap().into_inner();
        assert!(answer.active, "hint {hint:?}");
        assert_eq!(answer.token_type, "refresh_token");
    }
    // The access token is active to both.
    assert!(active(&mut api, &api_server, &tokens.access_token).await);
    assert!(active(&mut api, &app, &tokens.access_token).await);
}

#[tokio::test]
async fn two_authorization_entries_are_invalid_request() {
    let server = TestServer::temporary().await;
    let app = server.register("app", "read").await;
    let other = server.register("other", "read").await;
    let mut api = server.client().await;
    let token = server.tokens(&app, "read").await.access_token;
    for second in [&app, &other] {
        let mut request = basic(
            IntrospectRequest {
                token: token.clone(),
                token_type_hint: String::new(),
            },
            &app,
        );
        let value = basic_header(&second.client_id, &second.client_secret);
        request
            .metadata_mut()
            .append("authorization", value.parse().unwrap());
        assert_refused(
            api.introspect(request).await,
            Code::InvalidArgument,
            "invalid_request",
        );
    }
    // An operator call with the operator token twice is refused the same way.
    let mut register = server.operator(RegisterRequest {
        client_name: "x".into(),
        redirect_uris: vec![REDIRECT_URI.into()],
        scope: "read".into(),
        public_client: false,
    });
    let bearer = format!("Bearer {}", server.operator);
    register
        .metadata_mut()
        .append("authorization", bearer.parse().unwrap());
    assert_refused(
        api.register(register).await,
        Code::InvalidArgument,
        "invalid_request",
    );
}

fn registration(uri: &str) -> RegisterRequest {
    RegisterRequest {
        client_name: "native app".into(),
        redirect_uris: vec![uri.into()],
        scope: "read".into(),
        public_client: true,
    }
}

#[tokio::test]
async fn redirect_uris_are_strict_and_loopback_ones_match_any_port() {
    let server = TestServer::temporary().await;
    for bad in [
        "https://evil.example\\.app.example/cb",
        "https://app.example\\cb",
        "https://app<.example/cb",
        "https://[app.example]/cb",
        "https://app.example:99999/cb",
        "http://localhost:3000/cb",
        "javascript:alert(1)",
    ] {
        assert_refused(
            server.try_register(registration(bad)).await,
            Code::InvalidArgument,
            "invalid_request",
        );
    }
    // RFC 8252 §7.1: a private-use scheme registers and matches exactly.
    let native = server
        .try_register(registration("com.example.app:/oauth2redirect"))
        .await
        .unwrap();
    let request = |client_id: &str, redirect_uri: &str| IssueCodeRequest {
        redirect_uri: redirect_uri.to_owned(),
        ..code_request(client_id, "read", &[])
    };
    server
        .try_code(request(
            &native.client_id,
            "com.example.app:/oauth2redirect",
        ))
        .await
        .unwrap();
    assert_refused(
        server
            .try_code(request(&native.client_id, "com.example.app:/other"))
            .await,
        Code::InvalidArgument,
        "invalid_request",
    );
    // RFC 8252 §7.3: a loopback redirect matches with any port, and the code is bound to the
    // port asked for.
    let loopback = server
        .try_register(registration("http://127.0.0.1/cb"))
        .await
        .unwrap();
    let code = server
        .try_code(request(&loopback.client_id, "http://127.0.0.1:51004/cb"))
        .await
        .unwrap();
    for other in ["http://127.0.0.1:51004/other", "http://[::1]:51004/cb"] {
        assert_refused(
            server.try_code(request(&loopback.client_id, other)).await,
            Code::InvalidArgument,
            "invalid_request",
        );
    }
    let mut api = server.client().await;
    let mut wrong_port = code_exchange(&code);
    wrong_port.client_id.clone_from(&loopback.client_id);
    wrong_port.redirect_uri = "http://127.0.0.1:51005/cb".into();
    assert_refused(
        api.exchange(wrong_port).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    let mut right = code_exchange(&code);
    right.client_id.clone_from(&loopback.client_id);
    right.redirect_uri = "http://127.0.0.1:51004/cb".into();
    api.exchange(right).await.unwrap();
}

#[tokio::test]
async fn a_refresh_family_must_reauthorize_after_its_max_lifetime() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path());
    config.refresh_max_lifetime = 2;
    let clock = ManualClock::starting_now();
    let server = TestServer::start_with_clock(config, clock.shared()).await;
    let app = server.register("app", "read").await;
    let mut api = server.client().await;
    let first = server.tokens(&app, "read").await;
    let answer = server
        .client()
        .await
        .introspect(basic(
            IntrospectRequest {
                token: first.refresh_token.clone(),
                token_type_hint: String::new(),
            },
            &app,
        ))
        .await
        .unwrap()
        .into_inner();
    // The refresh token's own expiry is cut to the family's deadline.
    assert!(answer.exp - answer.iat <= 2, "{answer:?}");
    let second = exchange(&mut api, &app, refresh_exchange(&first.refresh_token, ""))
        .await
        .unwrap();
    clock.advance(2);
    assert_refused(
        exchange(&mut api, &app, refresh_exchange(&second.refresh_token, "")).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
}
