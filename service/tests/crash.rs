//! Crash durability: the real `tessera` binary, killed with SIGKILL, keeps what it acknowledged.

#![allow(
    clippy::unwrap_used,
    reason = "test support outside #[test] fns: a failure must fail the test"
)]

use std::path::Path;
use std::process::{Child, Command, Stdio};

use tessera_proto::v1::token_service_client::TokenServiceClient;
use tessera_proto::v1::{RegisterRequest, RevokeRequest};
use tessera_testkit::server::*;
use tonic::Code;
use tonic::transport::Channel;

struct Process {
    child: Child,
    addr: String,
    operator: String,
}

async fn spawn(dir: &Path) -> Process {
    // Find a free port; the tiny window before the server binds it is acceptable in a test.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut process = Process {
        child: Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args([
                "serve",
                "--http-listen",
                "off",
                "--listen",
                &addr,
                "--data-dir",
            ])
            .arg(dir)
            .env("TESSERA_LOG_LEVEL", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
        addr,
        operator: String::new(),
    };
    // The server binds before it opens the data directory: wait for an answer, not a connection.
    for _ in 0..200 {
        let answered = match TokenServiceClient::connect(format!("http://{}", process.addr)).await {
            Ok(mut api) => api
                .introspect(tessera_proto::v1::IntrospectRequest::default())
                .await
                .is_err_and(|status| status.code() == tonic::Code::Unauthenticated),
            Err(_) => false,
        };
        if answered {
            let operator = std::fs::read_to_string(dir.join("operator_token")).unwrap();
            process.operator = operator.trim().to_owned();
            return process;
        }
        tokio::time::sleep(core::time::Duration::from_millis(50)).await;
    }
    panic!("the server did not start");
}

impl Drop for Process {
    fn drop(&mut self) {
        // Never leave a server behind, even when an assertion fails.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    async fn client(&self) -> TokenServiceClient<Channel> {
        TokenServiceClient::connect(format!("http://{}", self.addr))
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = spawn(dir.path()).await;
    let mut api = server.client().await;
    let operator = format!("Bearer {}", server.operator);
    let app = api
        .register(with_auth(
            RegisterRequest {
                client_name: "app".to_owned(),
                redirect_uris: vec![REDIRECT_URI.to_owned()],
                scope: "read".to_owned(),
                public_client: false,
            },
            &operator,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut codes = Vec::new();
    for _ in 0..2 {
        codes.push(
            api.issue_code(with_auth(
                code_request(&app.client_id, "read", &[]),
                &operator,
            ))
            .await
            .unwrap()
            .into_inner()
            .code,
        );
    }
    let spent = exchange(&mut api, &app, code_exchange(&codes[0]))
        .await
        .unwrap();
    let revoked = exchange(&mut api, &app, code_exchange(&codes[1]))
        .await
        .unwrap();
    api.revoke(basic(
        RevokeRequest {
            token: revoked.access_token.clone(),
            ..RevokeRequest::default()
        },
        &app,
    ))
    .await
    .unwrap();

    server.child.kill().unwrap(); // SIGKILL: no shutdown path runs.
    server.child.wait().unwrap();
    drop(server);

    let server = spawn(dir.path()).await;
    let mut api = server.client().await;
    assert!(active(&mut api, &app, &spent.access_token).await);
    assert!(!active(&mut api, &app, &revoked.access_token).await);
    assert_refused(
        exchange(&mut api, &app, code_exchange(&codes[0])).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    drop(server);
}
