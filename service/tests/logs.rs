//! The whole flow with every event and span of every crate (ours, tonic, tower, h2, hyper-util)
//! captured at `trace`: no secret, code, token, PKCE verifier or operator token appears in any
//! line. Alone in its binary, since the subscriber is the process's global one.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns: a failure must fail the test"
)]

use std::io;
use std::sync::{Arc, Mutex};

use tessera_proto::v1::{IntrospectRequest, RegisterResponse, RevokeRequest};
use tessera_service::credentials::basic_header;
use tessera_testkit::server::*;
use tonic::Code;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// Every line written by the subscriber, from any thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl MakeWriter<'_> for Captured {
    type Writer = Self;

    fn make_writer(&self) -> Self {
        self.clone()
    }
}

/// The pieces of `secret` to look for: all of it, the part after a `tsr_xx_` prefix, and a
/// slice from its middle (a log that truncated or re-framed it would still show that).
fn fragments(secret: &str) -> Vec<String> {
    let body = secret
        .strip_prefix("tsr_")
        .and_then(|rest| rest.get(3..))
        .unwrap_or(secret);
    let middle = secret.len() / 2;
    let slice = secret.get(middle - 8..middle + 8).unwrap();
    vec![secret.to_owned(), body.to_owned(), slice.to_owned()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credential_reaches_any_log_line_at_trace_level() {
    let captured = Captured::default();
    // Global, so the server's tasks on the runtime's threads are captured; `try_init` also
    // routes the `log` crate's records here.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::FULL)
        .with_ansi(false)
        .with_thread_names(true)
        .with_writer(captured.clone())
        .finish()
        .try_init()
        .unwrap();

    let server = TestServer::temporary().await;
    let app = server.register("app", "read write").await;
    let other = server.register("other", "read").await;
    let code = server.code(&app.client_id, "read write", &[]).await;
    let mut api = server.client().await;
    let tokens = exchange(&mut api, &app, code_exchange(&code))
        .await
        .unwrap();
    assert!(active(&mut api, &app, &tokens.access_token).await);
    let refreshed = exchange(
        &mut api,
        &app,
        refresh_exchange(&tokens.refresh_token, "read"),
    )
    .await
    .unwrap();
    api.revoke(basic(
        RevokeRequest {
            token: refreshed.access_token.clone(),
            ..RevokeRequest::default()
        },
        &app,
    ))
    .await
    .unwrap();
    assert!(!active(&mut api, &app, &refreshed.access_token).await);
    // Refusals log too: a replayed code, a reused refresh token, a wrong PKCE verifier.
    assert_refused(
        exchange(&mut api, &app, code_exchange(&code)).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    assert_refused(
        exchange(&mut api, &app, refresh_exchange(&tokens.refresh_token, "")).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    let second = server.code(&app.client_id, "read", &[]).await;
    let mut wrong_verifier = code_exchange(&second);
    wrong_verifier.code_verifier = "x".repeat(43);
    assert_refused(
        exchange(&mut api, &app, wrong_verifier).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    // Failed client authentications: a secret in the wrong scheme, then guesses up to the
    // throttle.
    assert_refused(
        api.introspect(with_auth(
            IntrospectRequest {
                token: tokens.access_token.clone(),
                token_type_hint: String::new(),
            },
            &format!("Bearer {}", app.client_secret),
        ))
        .await,
        Code::Unauthenticated,
        "invalid_client",
    );
    let guess = RegisterResponse {
        client_secret: other.client_secret.clone(),
        ..app.clone()
    };
    for _ in 0..10 {
        assert_refused(
            api.introspect(basic(
                IntrospectRequest {
                    token: refreshed.access_token.clone(),
                    token_type_hint: String::new(),
                },
                &guess,
            ))
            .await,
            Code::Unauthenticated,
            "invalid_client",
        );
    }
    // Past the limit a wrong secret is throttled (and logged so, without the secret).
    let status = api
        .revoke(basic(
            RevokeRequest {
                token: refreshed.refresh_token.clone(),
                ..RevokeRequest::default()
            },
            &guess,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    // Another client may not revoke it.
    let status = api
        .revoke(basic(
            RevokeRequest {
                token: refreshed.refresh_token.clone(),
                ..RevokeRequest::default()
            },
            &other,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let operator = server.operator.clone();
    server.stop().await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // The capture saw our crate and the transport at trace level, on the server's threads.
    for expected in [
        "tessera_service",
        "TRACE",
        "h2::",
        "tonic::",
        "client authentication failed",
        "client throttled",
        // The throttle names the caller's address (and never its secret).
        "peer=127.0.0.1",
    ] {
        assert!(
            logs.contains(expected),
            "no {expected:?} in the captured logs"
        );
    }
    let basic_of = |client: &RegisterResponse| {
        let header = basic_header(&client.client_id, &client.client_secret);
        header.strip_prefix("Basic ").unwrap().to_owned()
    };
    let secrets = [
        ("operator token", operator),
        ("client secret", app.client_secret.clone()),
        ("another client's secret", other.client_secret.clone()),
        ("Basic header of the client", basic_of(&app)),
        ("Basic header of a guess", basic_of(&guess)),
        ("authorization code", code.clone()),
        ("second authorization code", second.clone()),
        ("access token", tokens.access_token.clone()),
        ("refresh token", tokens.refresh_token.clone()),
        ("refreshed access token", refreshed.access_token.clone()),
        ("refreshed refresh token", refreshed.refresh_token.clone()),
        ("PKCE verifier", VERIFIER.to_owned()),
    ];
    for (what, secret) in &secrets {
        for fragment in fragments(secret) {
            if let Some(line) = logs.lines().find(|line| line.contains(&fragment)) {
                panic!("the {what} appears in a log line: {line}");
            }
        }
    }
}
