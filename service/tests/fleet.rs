//! A fleet: two real `tessera serve` processes on one PostgreSQL database (the test kit's), with
//! copies of one data directory's key files. What one instance does, the other sees at its next
//! request: spent codes, revocations, refresh rotations, failed-auth counts, client updates,
//! deletions and secret rotations. PostgreSQL stopping
//! mid-run makes calls fail (UNAVAILABLE, in bounded time, nothing granted) until it is back; a
//! `kill -9` of an instance loses nothing it acknowledged.

#![allow(
    clippy::unwrap_used,
    reason = "test support outside #[test] fns: a failure must fail the test"
)]

use core::time::Duration;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use tessera_proto::v1::token_service_client::TokenServiceClient;
use tessera_proto::v1::{
    DeleteClientRequest, ExchangeRequest, RegisterRequest, RegisterResponse, RevokeRequest,
    RotateClientSecretRequest, UpdateClientRequest,
};
use tessera_service::store::PostgresUrl;
use tessera_testkit::postgres::TestPostgres;
use tessera_testkit::server::*;
use tonic::Code;
use tonic::transport::Channel;

/// The most a call may take while PostgreSQL is down: the store's operation timeout (5 s) and
/// some slack for a loaded machine.
const UNAVAILABLE_WITHIN: Duration = Duration::from_secs(8);

/// One `tessera serve` process.
struct Instance {
    child: Child,
    addr: String,
    operator: String,
    /// Its standard error, for a failure's message.
    log: PathBuf,
}

impl Drop for Instance {
    fn drop(&mut self) {
        // Never leave a server behind, even when an assertion fails.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `tessera serve --store URL --data-dir DIR` with `extra` flags.
fn serve_command(url: &PostgresUrl, dir: &Path, addr: &str, extra: &[&str]) -> Command {
    // The test kit's URLs hold no password, so the redacted form is the URL.
    serve_command_with(url.redacted(), dir, addr, extra)
}

fn serve_command_with(url: &str, dir: &Path, addr: &str, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
    command
        .args([
            "serve",
            "--listen",
            addr,
            "--http-listen",
            "off",
            "--data-dir",
        ])
        .arg(dir)
        .args(extra)
        // The URL through the environment, as the README advises for one with a password.
        .env("TESSERA_STORE", url)
        .env("TESSERA_LOG_LEVEL", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    command
}

async fn start(url: &PostgresUrl, dir: &Path, extra: &[&str]) -> Instance {
    let addr = format!("127.0.0.1:{}", free_port());
    let log = dir.with_extension("log");
    let child = serve_command(url, dir, &addr, extra)
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut instance = Instance {
        child,
        addr,
        operator: String::new(),
        log,
    };
    // The server binds before it opens its store: wait for an answer, not a connection.
    for _ in 0..400 {
        let answered = match TokenServiceClient::connect(format!("http://{}", instance.addr)).await
        {
            Ok(mut api) => api
                .introspect(tessera_proto::v1::IntrospectRequest::default())
                .await
                .is_err_and(|status| status.code() == Code::Unauthenticated),
            Err(_) => false,
        };
        if answered {
            let operator = std::fs::read_to_string(dir.join("operator_token")).unwrap();
            instance.operator = operator.trim().to_owned();
            return instance;
        }
        if let Some(status) = instance.child.try_wait().unwrap() {
            panic!(
                "the server exited ({status}): {}",
                std::fs::read_to_string(&instance.log).unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not start");
}

impl Instance {
    async fn client(&self) -> TokenServiceClient<Channel> {
        TokenServiceClient::connect(format!("http://{}", self.addr))
            .await
            .unwrap()
    }

    fn operator<T>(&self, message: T) -> tonic::Request<T> {
        with_auth(message, &format!("Bearer {}", self.operator))
    }

    async fn register(&self, name: &str) -> RegisterResponse {
        self.client()
            .await
            .register(self.operator(RegisterRequest {
                client_name: name.to_owned(),
                redirect_uris: vec![REDIRECT_URI.to_owned()],
                scope: "read".to_owned(),
                public_client: false,
            }))
            .await
            .unwrap()
            .into_inner()
    }

    async fn code(&self, client: &RegisterResponse) -> String {
        self.client()
            .await
            .issue_code(self.operator(code_request(&client.client_id, "read", &[])))
            .await
            .unwrap()
            .into_inner()
            .code
    }
}

/// A data directory for a second instance: a copy of `dir`'s key files (their modes kept).
fn copy_keys(from: &Path, to: &Path) {
    std::fs::create_dir(to).unwrap();
    for file in ["keys", "operator_token"] {
        std::fs::copy(from.join(file), to.join(file)).unwrap();
    }
}

/// Two instances on a new database of `postgres`, in `root`/a and `root`/b.
async fn fleet(postgres: &TestPostgres, root: &Path, extra: &[&str]) -> (Instance, Instance) {
    let url = postgres.database();
    let (dir_a, dir_b) = (root.join("a"), root.join("b"));
    let a = start(&url, &dir_a, extra).await;
    copy_keys(&dir_a, &dir_b);
    let b = start(&url, &dir_b, extra).await;
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_from_a_is_exchanged_on_b_and_its_replay_on_a_revokes_the_tokens_on_b() {
    let root = tempfile::tempdir().unwrap();
    let (a, b) = fleet(TestPostgres::shared(), root.path(), &[]).await;
    let app = a.register("app").await;
    let code = a.code(&app).await;
    let (mut on_a, mut on_b) = (a.client().await, b.client().await);
    let tokens = exchange(&mut on_b, &app, code_exchange(&code))
        .await
        .unwrap();
    assert!(active(&mut on_a, &app, &tokens.access_token).await);
    assert_refused(
        exchange(&mut on_a, &app, code_exchange(&code)).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    assert!(!active(&mut on_b, &app, &tokens.access_token).await);
    assert!(!active(&mut on_b, &app, &tokens.refresh_token).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_on_b_is_seen_on_a_at_once() {
    let root = tempfile::tempdir().unwrap();
    let (a, b) = fleet(TestPostgres::shared(), root.path(), &[]).await;
    let app = b.register("app").await;
    let (mut on_a, mut on_b) = (a.client().await, b.client().await);
    let tokens = exchange(&mut on_a, &app, code_exchange(&a.code(&app).await))
        .await
        .unwrap();
    assert!(active(&mut on_a, &app, &tokens.access_token).await);
    on_b.revoke(basic(
        RevokeRequest {
            token: tokens.access_token.clone(),
            ..RevokeRequest::default()
        },
        &app,
    ))
    .await
    .unwrap();
    assert!(!active(&mut on_a, &app, &tokens.access_token).await);
    // A whole grant, through its refresh token, likewise.
    let other = exchange(&mut on_b, &app, code_exchange(&b.code(&app).await))
        .await
        .unwrap();
    on_a.revoke(basic(
        RevokeRequest {
            token: other.refresh_token.clone(),
            ..RevokeRequest::default()
        },
        &app,
    ))
    .await
    .unwrap();
    assert!(!active(&mut on_b, &app, &other.access_token).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_rotated_narrowed_or_deleted_on_a_is_seen_on_b_at_its_next_request() {
    let root = tempfile::tempdir().unwrap();
    let (a, b) = fleet(TestPostgres::shared(), root.path(), &[]).await;
    let app = a.register("app").await;
    let api_server = a.register("photo api").await;
    let (mut on_a, mut on_b) = (a.client().await, b.client().await);
    let code = on_a
        .issue_code(a.operator(code_request(
            &app.client_id,
            "read",
            &[&api_server.client_id],
        )))
        .await
        .unwrap()
        .into_inner()
        .code;
    let tokens = exchange(&mut on_b, &app, code_exchange(&code))
        .await
        .unwrap();
    // A secret rotated on a: b refuses the old one and takes the new one.
    let rotated = on_a
        .rotate_client_secret(a.operator(RotateClientSecretRequest {
            client_id: app.client_id.clone(),
            grace_seconds: 0,
        }))
        .await
        .unwrap()
        .into_inner();
    let credentials = ExchangeRequest {
        grant_type: "client_credentials".to_owned(),
        ..ExchangeRequest::default()
    };
    assert_refused(
        exchange(&mut on_b, &app, credentials.clone()).await,
        Code::Unauthenticated,
        "invalid_client",
    );
    let app = RegisterResponse {
        client_secret: rotated.client_secret,
        ..app
    };
    exchange(&mut on_b, &app, credentials).await.unwrap();
    // Its scope narrowed on a: b refuses the wider grant's refresh.
    on_a.update_client(a.operator(UpdateClientRequest {
        client_id: app.client_id.clone(),
        client_name: "app".to_owned(),
        redirect_uris: vec![REDIRECT_URI.to_owned()],
        scope: String::new(),
    }))
    .await
    .unwrap();
    assert_refused(
        exchange(&mut on_b, &app, refresh_exchange(&tokens.refresh_token, "")).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    // Deleted on a: its token is inactive to the resource server on b.
    assert!(active(&mut on_b, &api_server, &tokens.access_token).await);
    on_a.delete_client(a.operator(DeleteClientRequest {
        client_id: app.client_id.clone(),
    }))
    .await
    .unwrap();
    assert!(!active(&mut on_b, &api_server, &tokens.access_token).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_64_concurrent_exchanges_of_one_code_over_both_instances_one_wins() {
    let root = tempfile::tempdir().unwrap();
    let (a, b) = fleet(TestPostgres::shared(), root.path(), &[]).await;
    let app = a.register("app").await;
    let code = b.code(&app).await;
    let (on_a, on_b) = (a.client().await, b.client().await);
    let exchanges: Vec<_> = (0..64)
        .map(|i| {
            let mut api = if i % 2 == 0 {
                on_a.clone()
            } else {
                on_b.clone()
            };
            let (app, code) = (app.clone(), code.clone());
            tokio::spawn(async move { exchange(&mut api, &app, code_exchange(&code)).await })
        })
        .collect();
    let mut winners = 0;
    for outcome in exchanges {
        match outcome.await.unwrap() {
            Ok(_) => winners += 1,
            Err(status) => assert_eq!(status.code(), Code::PermissionDenied, "{status:?}"),
        }
    }
    assert_eq!(winners, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_reused_on_the_other_instance_revokes_the_family() {
    let root = tempfile::tempdir().unwrap();
    let (a, b) = fleet(TestPostgres::shared(), root.path(), &[]).await;
    let app = a.register("app").await;
    let (mut on_a, mut on_b) = (a.client().await, b.client().await);
    let first = exchange(&mut on_a, &app, code_exchange(&a.code(&app).await))
        .await
        .unwrap();
    let second = exchange(&mut on_b, &app, refresh_exchange(&first.refresh_token, ""))
        .await
        .unwrap();
    // The old one again, on A: a reuse.
    assert_refused(
        exchange(&mut on_a, &app, refresh_exchange(&first.refresh_token, "")).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    assert_refused(
        exchange(&mut on_b, &app, refresh_exchange(&second.refresh_token, "")).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    assert!(!active(&mut on_a, &app, &second.access_token).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_authentications_on_both_instances_count_against_one_limit() {
    let root = tempfile::tempdir().unwrap();
    let (a, b) = fleet(
        TestPostgres::shared(),
        root.path(),
        &["--failed-auth-limit", "4"],
    )
    .await;
    let victim = a.register("victim").await;
    let other = a.register("other").await;
    let guess = RegisterResponse {
        client_secret: other.client_secret.clone(),
        ..victim.clone()
    };
    let (mut on_a, mut on_b) = (a.client().await, b.client().await);
    // Two wrong secrets on each: four, the limit, each a plain failure.
    for i in 0..4 {
        let api = if i % 2 == 0 { &mut on_a } else { &mut on_b };
        assert_refused(
            try_introspect(api, &guess, "x").await,
            Code::Unauthenticated,
            "invalid_client",
        );
    }
    // The fifth, on either instance, is past the fleet's limit (alone, each saw two).
    for api in [&mut on_a, &mut on_b] {
        let status = try_introspect(api, &guess, "x").await.unwrap_err();
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    }
    // The right secret works on both all the while.
    for api in [&mut on_a, &mut on_b] {
        let tokens = exchange(api, &victim, code_exchange(&a.code(&victim).await))
            .await
            .unwrap();
        assert!(active(api, &victim, &tokens.access_token).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_without_the_fleets_key_files_or_with_other_keys_is_refused() {
    let postgres = TestPostgres::shared();
    let root = tempfile::tempdir().unwrap();
    let url = postgres.database();
    let a = start(&url, &root.path().join("a"), &[]).await;
    a.register("app").await;
    let refused = |dir: &Path| {
        let out = serve_command(&url, dir, &format!("127.0.0.1:{}", free_port()), &[])
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert!(!out.status.success());
        String::from_utf8(out.stderr).unwrap()
    };
    // An empty data directory: it must get the fleet's files, not make new ones.
    let empty = root.path().join("empty");
    let error = refused(&empty);
    assert!(
        error.contains("give this instance the fleet's keys file"),
        "{error}"
    );
    assert!(!empty.join("keys").exists());
    // Another fleet's keys: they do not match the database's records.
    let stranger = start(&postgres.database(), &root.path().join("stranger"), &[]).await;
    drop(stranger);
    let error = refused(&root.path().join("stranger"));
    assert!(error.contains("is not the key"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_mid_run_fails_calls_in_bounded_time_then_both_instances_recover() {
    let mut postgres = TestPostgres::start();
    let root = tempfile::tempdir().unwrap();
    let (a, b) = fleet(&postgres, root.path(), &[]).await;
    let app = a.register("app").await;
    let (mut on_a, mut on_b) = (a.client().await, b.client().await);
    let code = a.code(&app).await;
    let tokens = exchange(&mut on_a, &app, code_exchange(&a.code(&app).await))
        .await
        .unwrap();

    postgres.stop();
    let unavailable = |result: Result<(), tonic::Status>, started: Instant, what: &str| {
        let status = result.unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "{what}: {status:?}");
        assert!(status.message().starts_with("server_error"), "{what}");
        let took = started.elapsed();
        eprintln!("{what} with PostgreSQL stopped: UNAVAILABLE after {took:?}");
        assert!(took < UNAVAILABLE_WITHIN, "{what} took {took:?}");
    };
    for _ in 0..3 {
        let started = Instant::now();
        let result = exchange(&mut on_b, &app, code_exchange(&code)).await;
        unavailable(result.map(drop), started, "exchange");
        // Introspection fails closed: it cannot read the revocations.
        let started = Instant::now();
        let result = try_introspect(&mut on_a, &app, &tokens.access_token).await;
        unavailable(result.map(drop), started, "introspect");
        let started = Instant::now();
        let result = on_a
            .revoke(basic(
                RevokeRequest {
                    token: tokens.access_token.clone(),
                    ..RevokeRequest::default()
                },
                &app,
            ))
            .await;
        unavailable(result.map(drop), started, "revoke");
    }

    postgres.restart();
    let restarted = Instant::now();
    // The same processes recover by themselves; the code was never marked spent while
    // PostgreSQL was down, so it is still good, once.
    let mut recovered = None;
    for _ in 0..100 {
        match exchange(&mut on_b, &app, code_exchange(&code)).await {
            Ok(tokens) => {
                recovered = Some(tokens);
                break;
            }
            Err(status) => assert_eq!(status.code(), Code::Unavailable, "{status:?}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let fresh = recovered.expect("instance B recovers once PostgreSQL is back");
    eprintln!("recovered {:?} after the restart", restarted.elapsed());
    assert!(active(&mut on_a, &app, &fresh.access_token).await);
    assert!(active(&mut on_a, &app, &tokens.access_token).await);
    assert_refused(
        exchange(&mut on_a, &app, code_exchange(&code)).await,
        Code::PermissionDenied,
        "invalid_grant",
    );
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_an_instance_during_a_burst_of_exchanges_loses_no_acknowledged_write() {
    let root = tempfile::tempdir().unwrap();
    let (mut a, b) = fleet(TestPostgres::shared(), root.path(), &[]).await;
    let app = b.register("app").await;
    let mut codes = Vec::new();
    for _ in 0..300 {
        codes.push(b.code(&app).await);
    }
    let on_a = a.client().await;
    let (done, mut answers) = tokio::sync::mpsc::unbounded_channel();
    for code in &codes {
        let (mut api, app, code, done) = (on_a.clone(), app.clone(), code.clone(), done.clone());
        tokio::spawn(async move {
            let answer = exchange(&mut api, &app, code_exchange(&code)).await;
            let _ = done.send((code, answer));
        });
    }
    drop(done);
    let mut acknowledged = Vec::new();
    let mut killed = false;
    while let Some((code, answer)) = answers.recv().await {
        if let Ok(tokens) = answer {
            acknowledged.push((code, tokens));
        }
        if !killed && acknowledged.len() >= 30 {
            a.child.kill().unwrap(); // SIGKILL: no shutdown path runs.
            a.child.wait().unwrap();
            killed = true;
        }
    }
    assert!(
        killed,
        "the burst ended before 30 exchanges were acknowledged"
    );
    assert!(
        acknowledged.len() < codes.len(),
        "the kill came too late to test anything"
    );
    eprintln!(
        "{} of {} exchanges acknowledged before the kill",
        acknowledged.len(),
        codes.len()
    );
    let mut on_b = b.client().await;
    for (code, tokens) in &acknowledged {
        assert!(active(&mut on_b, &app, &tokens.access_token).await);
        assert_refused(
            exchange(&mut on_b, &app, code_exchange(code)).await,
            Code::PermissionDenied,
            "invalid_grant",
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_frozen_mid_run_fails_calls_within_the_timeout_then_both_instances_recover() {
    let postgres = TestPostgres::start();
    let root = tempfile::tempdir().unwrap();
    let (a, b) = fleet(&postgres, root.path(), &[]).await;
    let app = a.register("app").await;
    let (mut on_a, mut on_b) = (a.client().await, b.client().await);
    let code = a.code(&app).await;
    let tokens = exchange(&mut on_a, &app, code_exchange(&a.code(&app).await))
        .await
        .unwrap();

    // Nothing answers, nothing closes: only the store's own timeouts end the calls.
    postgres.freeze();
    let started = Instant::now();
    let (exchanged, introspected) = tokio::join!(
        exchange(&mut on_b, &app, code_exchange(&code)),
        try_introspect(&mut on_a, &app, &tokens.access_token),
    );
    let took = started.elapsed();
    eprintln!("exchange and introspect with PostgreSQL frozen: UNAVAILABLE after {took:?}");
    for status in [exchanged.unwrap_err(), introspected.unwrap_err()] {
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    }
    assert!(took < UNAVAILABLE_WITHIN, "took {took:?}");

    postgres.thaw();
    let thawed = Instant::now();
    let mut answered = false;
    for _ in 0..100 {
        match try_introspect(&mut on_b, &app, &tokens.access_token).await {
            Ok(answer) => {
                assert!(answer.active);
                answered = true;
                break;
            }
            Err(status) => assert_eq!(status.code(), Code::Unavailable, "{status:?}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(answered, "instance B recovers once PostgreSQL runs again");
    eprintln!("recovered {:?} after the thaw", thawed.elapsed());
    // The exchange that timed out may have reached PostgreSQL after all: the code is then
    // spent (and a retry is a replay), but no token was issued for it.
    match exchange(&mut on_a, &app, code_exchange(&code)).await {
        Ok(fresh) => assert!(active(&mut on_b, &app, &fresh.access_token).await),
        Err(status) => assert_eq!(status.code(), Code::PermissionDenied, "{status:?}"),
    }
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_in_the_url_is_in_no_log_line_and_no_error() {
    const PASSWORD: &str = "hunter2-secret";
    let postgres = TestPostgres::shared();
    let root = tempfile::tempdir().unwrap();
    // The test server trusts loopback: the password is accepted and never checked.
    let url = postgres.url_of(&postgres.create_database()).replacen(
        "postgres://tessera@",
        &format!("postgres://tessera:{PASSWORD}@"),
        1,
    );
    assert!(url.contains(PASSWORD));
    let dir = root.path().join("a");
    let log = root.path().join("trace.log");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = serve_command_with(&url, &dir, &addr, &["--log-level", "trace"])
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut served = false;
    for _ in 0..200 {
        if let Ok(mut api) = TokenServiceClient::connect(format!("http://{addr}")).await {
            let status = api
                .introspect(tessera_proto::v1::IntrospectRequest::default())
                .await
                .unwrap_err();
            if status.code() == Code::Unauthenticated {
                served = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(served, "{}", std::fs::read_to_string(&log).unwrap());
    let traced = std::fs::read_to_string(&log).unwrap();
    assert!(traced.contains("PostgreSQL store ready"), "{traced}");
    assert!(
        !traced.contains(PASSWORD),
        "the password is in the trace log"
    );

    // Nothing listens on this port: start-up fails, naming the URL without its password.
    let closed = format!("postgres://tessera:{PASSWORD}@127.0.0.1:{}/x", free_port());
    let out = serve_command_with(
        &closed,
        &root.path().join("b"),
        &addr,
        &["--log-level", "trace"],
    )
    .stderr(Stdio::piped())
    .output()
    .unwrap();
    assert!(!out.status.success());
    let error = String::from_utf8(out.stderr).unwrap();
    assert!(
        error.contains("cannot open the store at postgres://tessera@127.0.0.1:"),
        "{error}"
    );
    assert!(!error.contains(PASSWORD), "{error}");
    // A malformed URL is refused without being repeated.
    let out = serve_command_with(
        &format!("postgres://tessera:{PASSWORD}@127.0.0.1:notaport/x"),
        &root.path().join("c"),
        &addr,
        &[],
    )
    .stderr(Stdio::piped())
    .output()
    .unwrap();
    assert!(!out.status.success());
    let error = String::from_utf8(out.stderr).unwrap();
    assert!(error.contains("--store"), "{error}");
    assert!(!error.contains(PASSWORD), "{error}");
}
