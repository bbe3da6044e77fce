//! The security events of a real `tessera serve --log-format json` and of `tessera keys`: every
//! line on standard error is one JSON object, each attack or key change is one event with target
//! `tessera::audit` and its fixed name, no line holds a secret, and `--metrics-listen` counts
//! each event once; on both stores.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns: a failure must fail the test"
)]

use core::time::Duration;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tessera_proto::v1::token_service_client::TokenServiceClient;
use tessera_proto::v1::{DeleteClientRequest, RegisterRequest, RotateClientSecretRequest};
use tessera_service::audit;
use tessera_testkit::server::*;

/// A `tessera serve --log-format json` and every line it logged; killed if the test fails.
struct Serve {
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Serve {
    /// Starts on `on` (PostgreSQL: its URL in the environment, off the command line).
    fn start(data_dir: &Path, on: On) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
        command.env_clear().env("TESSERA_LOG_FORMAT", "json");
        if on == On::Postgres {
            let url = tessera_testkit::postgres::TestPostgres::shared().database();
            command.env("TESSERA_STORE", url.redacted());
        }
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args([
                "--http-listen",
                "127.0.0.1:0",
                "--metrics-listen",
                "127.0.0.1:0",
            ])
            .args(["--failed-auth-limit", "1", "--log-level", "info"])
            .arg("--data-dir")
            .arg(data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let lines = Arc::clone(&logs);
        std::thread::spawn(move || {
            for line in stderr.lines() {
                let Ok(line) = line else { break };
                lines.lock().unwrap().push(line);
            }
        });
        Self { child, logs }
    }

    /// Every line so far, each parsed as JSON (a line that is not JSON fails the test).
    fn events(&self) -> Vec<Value> {
        let lines = self.logs.lock().unwrap().clone();
        lines.iter().map(|line| json_line(line)).collect()
    }

    /// Waits for the line whose message is `message`; returns its fields.
    async fn wait_for(&self, message: &str) -> Value {
        for _ in 0..300 {
            if let Some(found) = self
                .events()
                .into_iter()
                .find(|e| e["fields"]["message"] == message)
            {
                return found["fields"].clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no {message:?} in {:?}", self.logs.lock().unwrap());
    }

    fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        // Stopped already when the test passed; a failing one must not leave it running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn json_line(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
}

/// The security events among `lines`, by name.
fn audit_events(lines: &[Value]) -> Vec<(String, Value)> {
    lines
        .iter()
        .filter(|e| e["target"] == audit::TARGET)
        .map(|e| {
            let name = e["fields"]["event"].as_str().unwrap().to_owned();
            (name, e["fields"].clone())
        })
        .collect()
}

/// Runs `tessera keys ARGS --log-format json`; returns its stdout and its stderr's JSON lines.
fn keys(args: &[&str], data_dir: &Path) -> (String, Vec<Value>) {
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .env_clear()
        .arg("keys")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--log-format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    let lines = stderr
        .lines()
        // `keys add` also says what to do next, in plain text, after its event.
        .filter(|line| line.starts_with('{'))
        .map(json_line)
        .collect();
    (String::from_utf8(out.stdout).unwrap(), lines)
}

#[tokio::test]
async fn every_attack_and_key_change_is_one_audit_event_with_no_secret_on_redb() {
    every_attack_and_key_change_is_one_audit_event_with_no_secret(On::Redb).await;
}

#[tokio::test]
async fn every_attack_and_key_change_is_one_audit_event_with_no_secret_on_postgres() {
    every_attack_and_key_change_is_one_audit_event_with_no_secret(On::Postgres).await;
}

async fn every_attack_and_key_change_is_one_audit_event_with_no_secret(on: On) {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path(), on);
    let grpc = serve.wait_for("serving tessera.v1.TokenService").await;
    let metrics = serve.wait_for("serving /metrics").await;
    let url = format!("http://{}", grpc["addr"].as_str().unwrap());
    let metrics_url = format!("http://{}/metrics", metrics["addr"].as_str().unwrap());
    let operator = std::fs::read_to_string(dir.path().join("operator_token")).unwrap();
    let operator = operator.trim();
    let mut api = TokenServiceClient::connect(url).await.unwrap();

    let registered = api
        .register(with_auth(
            RegisterRequest {
                client_name: "audited".to_owned(),
                redirect_uris: vec![REDIRECT_URI.to_owned()],
                scope: "read".to_owned(),
                public_client: false,
            },
            &format!("Bearer {operator}"),
        ))
        .await
        .unwrap()
        .into_inner();
    let code = api
        .issue_code(with_auth(
            code_request(&registered.client_id, "read", &[]),
            &format!("Bearer {operator}"),
        ))
        .await
        .unwrap()
        .into_inner()
        .code;
    let tokens = exchange(&mut api, &registered, code_exchange(&code))
        .await
        .unwrap();
    // A replayed code.
    assert!(
        exchange(&mut api, &registered, code_exchange(&code))
            .await
            .is_err()
    );
    // A reused refresh token: a fresh grant, rotated once, then its first token again.
    let code2 = api
        .issue_code(with_auth(
            code_request(&registered.client_id, "read", &[]),
            &format!("Bearer {operator}"),
        ))
        .await
        .unwrap()
        .into_inner()
        .code;
    let first = exchange(&mut api, &registered, code_exchange(&code2))
        .await
        .unwrap();
    let rotated = exchange(
        &mut api,
        &registered,
        refresh_exchange(&first.refresh_token, ""),
    )
    .await
    .unwrap();
    assert!(
        exchange(
            &mut api,
            &registered,
            refresh_exchange(&first.refresh_token, "")
        )
        .await
        .is_err()
    );
    // A wrong secret, with a limit of one: the client's throttle engages.
    // (Another client's secret: well-formed, and wrong for this one.)
    let other = api
        .register(with_auth(
            RegisterRequest {
                client_name: "other".to_owned(),
                redirect_uris: vec![REDIRECT_URI.to_owned()],
                scope: "read".to_owned(),
                public_client: false,
            },
            &format!("Bearer {operator}"),
        ))
        .await
        .unwrap()
        .into_inner();
    let guess = tessera_proto::v1::RegisterResponse {
        client_secret: other.client_secret.clone(),
        ..registered.clone()
    };
    assert!(try_introspect(&mut api, &guess, "x").await.is_err());
    // A wrong operator token.
    let wrong_operator = "tsr_op_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert!(
        api.register(with_auth(
            RegisterRequest::default(),
            &format!("Bearer {wrong_operator}")
        ))
        .await
        .is_err()
    );
    // The other client's secret rotated with a minute's grace, then the client deleted.
    let bearer = format!("Bearer {operator}");
    let rotated_secret = api
        .rotate_client_secret(with_auth(
            RotateClientSecretRequest {
                client_id: other.client_id.clone(),
                grace_seconds: 60,
            },
            &bearer,
        ))
        .await
        .unwrap()
        .into_inner()
        .client_secret;
    api.delete_client(with_auth(
        DeleteClientRequest {
            client_id: other.client_id.clone(),
        },
        &bearer,
    ))
    .await
    .unwrap();
    // A key added, and the server told.
    let (added, added_logs) = keys(&["add"], dir.path());
    let added = added.trim().to_owned();
    serve.signal("-HUP");
    serve.wait_for("reloaded the keys file").await;
    let (_, activated_logs) = keys(&["activate", &added], dir.path());
    let (_, back_logs) = keys(&["activate", "1"], dir.path());
    let (_, retired_logs) = keys(&["retire", &added], dir.path());

    let scraped = reqwest::get(&metrics_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Closed, so the server stops at once rather than waiting for the connection to finish.
    drop(api);
    serve.signal("-TERM");
    let mut serve = serve;
    assert!(serve.child.wait().unwrap().success());
    let served = serve.events();
    let events = audit_events(&served);
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            audit::CODE_REPLAYED,
            audit::REFRESH_REUSED,
            audit::THROTTLE_ENGAGED,
            audit::OPERATOR_AUTH_FAILED,
            audit::CLIENT_SECRET_ROTATED,
            audit::CLIENT_DELETED,
            audit::KEYS_RELOADED,
        ]
    );
    let fields = |name: &str| &events.iter().find(|(n, _)| n == name).unwrap().1;
    assert_eq!(
        fields(audit::CODE_REPLAYED)["client_id"],
        registered.client_id
    );
    assert_eq!(
        fields(audit::CODE_REPLAYED)["grant_id"]
            .as_str()
            .unwrap()
            .len(),
        32
    );
    assert_eq!(
        fields(audit::REFRESH_REUSED)["client_id"],
        registered.client_id
    );
    assert_eq!(fields(audit::THROTTLE_ENGAGED)["scope"], "client");
    assert_eq!(fields(audit::OPERATOR_AUTH_FAILED)["peer"], "127.0.0.1");
    assert_eq!(fields(audit::OPERATOR_AUTH_FAILED)["call"], "Register");
    let rotated_fields = fields(audit::CLIENT_SECRET_ROTATED);
    assert_eq!(rotated_fields["client_id"], other.client_id);
    assert_eq!(rotated_fields["grace_seconds"], 60);
    assert_eq!(rotated_fields["peer"], "127.0.0.1");
    assert_eq!(fields(audit::CLIENT_DELETED)["client_id"], other.client_id);
    assert_eq!(fields(audit::CLIENT_DELETED)["peer"], "127.0.0.1");
    assert_eq!(
        fields(audit::KEYS_RELOADED)["keys"],
        format!("1, {added}").as_str()
    );
    let cli: Vec<(String, Value)> = [added_logs, activated_logs, back_logs, retired_logs]
        .iter()
        .flat_map(|lines| audit_events(lines))
        .collect();
    let cli_names: Vec<&str> = cli.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        cli_names,
        [
            audit::KEY_ADDED,
            audit::KEY_ACTIVATED,
            audit::KEY_ACTIVATED,
            audit::KEY_RETIRED
        ]
    );
    assert_eq!(cli[0].1["key_id"], added.as_str());

    // Each event counted once on the metrics listener.
    for event in &names {
        let series = format!(r#"tessera_security_events_total{{event="{event}"}} 1"#);
        assert!(scraped.lines().any(|l| l == series), "{series}:\n{scraped}");
    }

    // No line names a secret, token or code.
    let text = serve.logs.lock().unwrap().join("\n");
    let secrets = [
        registered.client_secret.as_str(),
        guess.client_secret.as_str(),
        rotated_secret.as_str(),
        operator,
        wrong_operator,
        &code,
        &code2,
        &tokens.access_token,
        &tokens.refresh_token,
        &first.refresh_token,
        &rotated.refresh_token,
        VERIFIER,
    ];
    for secret in secrets {
        assert!(!text.contains(secret), "a log line holds {secret}");
    }
}
