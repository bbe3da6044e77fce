//! Live key rotation against the real `tessera serve`: shared `--keys-file` and
//! `--operator-token-file`, `tessera keys add | activate | retire`, and SIGHUP while a load of
//! exchanges and introspections runs, with zero failed verifications.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns: a failure must fail the test"
)]

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, RwLock};

use tessera_core::encoding::base64url_decode;
use tessera_core::{AccessToken, KeyId};
use tessera_proto::v1::token_service_client::TokenServiceClient;
use tessera_proto::v1::{RegisterRequest, RegisterResponse};
use tessera_testkit::server::*;
use tonic::transport::Channel;

/// A `tessera serve` process and every line it logged.
struct Serve {
    child: Child,
    addr: String,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Serve {
    /// Starts `tessera serve` on `data_dir` with the shared files, and waits until it answers.
    async fn start(data_dir: &Path, keys: &Path, operator_token: &Path) -> Self {
        Self::start_with(data_dir, keys, operator_token, &[]).await
    }

    /// [`start`](Self::start) with `extra` flags (`--store postgres://…`).
    async fn start_with(
        data_dir: &Path,
        keys: &Path,
        operator_token: &Path,
        extra: &[&str],
    ) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .env_clear()
            .args(["serve", "--listen", "127.0.0.1:0", "--http-listen", "off"])
            .args(extra)
            .args(["--log-level", "info"])
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--keys-file")
            .arg(keys)
            .arg("--operator-token-file")
            .arg(operator_token)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let lines = Arc::clone(&logs);
        std::thread::spawn(move || {
            for line in stderr.lines() {
                let Ok(line) = line else { break };
                if let Some((_, addr)) = line.split_once("serving tessera.v1.TokenService addr=") {
                    let _ = tx.send(addr.trim().to_owned());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let Ok(addr) = rx.recv_timeout(Duration::from_secs(30)) else {
            // Stop it before failing: a panicking test must not leave a server running.
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server did not start: {:?}", logs.lock().unwrap());
        };
        let serve = Self { child, addr, logs };
        // It binds before it opens its state: wait for an answer.
        for _ in 0..100 {
            if TokenServiceClient::connect(serve.url()).await.is_ok() {
                return serve;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server does not answer");
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn api(&self) -> TokenServiceClient<Channel> {
        TokenServiceClient::connect(self.url()).await.unwrap()
    }

    fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    /// Waits until the `n`th log line holding `text` appears; returns it.
    async fn wait_for(&self, text: &str, n: usize) -> String {
        for _ in 0..200 {
            let found: Vec<String> = self
                .logs
                .lock()
                .unwrap()
                .iter()
                .filter(|line| line.contains(text))
                .cloned()
                .collect();
            if let Some(line) = found.get(n.saturating_sub(1)) {
                return line.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no {n}th {text:?} in the logs:\n{}", self.logs());
    }

    /// Sends SIGHUP and waits for the `n`th reload outcome (`reloaded` or `cannot reload`).
    async fn hangup(&self, outcome: &str, n: usize) -> String {
        self.signal("-HUP");
        self.wait_for(outcome, n).await
    }

    /// Stops it with SIGTERM and waits.
    fn stop(mut self) {
        self.signal("-TERM");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status:?}: {}", self.logs());
    }
}

impl Drop for Serve {
    /// A test that fails midway still stops its server (after `stop`, this finds it exited).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Shared secret files in a private directory of `root`.
fn shared_files(root: &Path) -> (PathBuf, PathBuf) {
    let shared = root.join("shared");
    std::fs::DirBuilder::new()
        .mode(0o700)
        .recursive(true)
        .create(&shared)
        .unwrap();
    (shared.join("keys"), shared.join("operator_token"))
}

fn bearer(operator_token: &Path) -> String {
    format!(
        "Bearer {}",
        std::fs::read_to_string(operator_token).unwrap().trim()
    )
}

async fn register(serve: &Serve, operator: &str) -> RegisterResponse {
    serve
        .api()
        .await
        .register(with_auth(
            RegisterRequest {
                client_name: "app".to_owned(),
                redirect_uris: vec![REDIRECT_URI.to_owned()],
                scope: "read".to_owned(),
                public_client: false,
            },
            operator,
        ))
        .await
        .unwrap()
        .into_inner()
}

/// A code issued and exchanged: the access token.
async fn mint(
    api: &mut TokenServiceClient<Channel>,
    operator: &str,
    app: &RegisterResponse,
) -> Result<String, tonic::Status> {
    let code = api
        .issue_code(with_auth(
            code_request(&app.client_id, "read", &[]),
            operator,
        ))
        .await?
        .into_inner()
        .code;
    Ok(exchange(api, app, code_exchange(&code)).await?.access_token)
}

/// The key id a token names (core FORMAT.md §2: the first 8 body characters hold version,
/// kind and key id).
fn key_id(token: &str) -> u16 {
    let mut header = [0u8; 6];
    let header = base64url_decode(&token.as_bytes()[7..15], &mut header).unwrap();
    u16::from_be_bytes([header[2], header[3]])
}

/// `tessera keys ARGS --keys-file KEYS`.
fn keys(args: &[&str], keys: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .env_clear()
        .arg("keys")
        .args(args)
        .arg("--keys-file")
        .arg(keys)
        .output()
        .unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Exchanges and introspections in a loop on four connections until `stop`: every freshly
/// minted token and the long-lived `held` token must introspect active.
fn load(
    serve: &Serve,
    operator: &str,
    app: &RegisterResponse,
    held: &Arc<RwLock<String>>,
    stop: &Arc<AtomicBool>,
    failures: &Arc<AtomicU64>,
    calls: &Arc<AtomicU64>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..4)
        .map(|_| {
            let (url, operator, app) = (serve.url(), operator.to_owned(), app.clone());
            let (held, stop) = (Arc::clone(held), Arc::clone(stop));
            let (failures, calls) = (Arc::clone(failures), Arc::clone(calls));
            tokio::spawn(async move {
                let mut api = TokenServiceClient::connect(url).await.unwrap();
                while !stop.load(Ordering::Relaxed) {
                    let fresh = mint(&mut api, &operator, &app).await;
                    let held = held.read().unwrap().clone();
                    let verified = match fresh {
                        Ok(fresh) => {
                            active(&mut api, &app, &fresh).await
                                && active(&mut api, &app, &held).await
                        }
                        Err(_) => false,
                    };
                    if !verified {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                    calls.fetch_add(4, Ordering::Relaxed);
                }
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_activate_retire_with_sighup_under_load_fail_no_verification() {
    let root = tempfile::tempdir().unwrap();
    let (keys_file, token_file) = shared_files(root.path());
    let data_dir = root.path().join("a");
    let serve = Serve::start(&data_dir, &keys_file, &token_file).await;
    let operator = bearer(&token_file);
    let app = register(&serve, &operator).await;
    let mut api = serve.api().await;
    let first = mint(&mut api, &operator, &app).await.unwrap();
    assert_eq!(key_id(&first), 1);

    let held = Arc::new(RwLock::new(first.clone()));
    let stop = Arc::new(AtomicBool::new(false));
    let (failures, calls) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let workers = load(&serve, &operator, &app, &held, &stop, &failures, &calls);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Add: key 2 verifies, key 1 still mints.
    assert_eq!(ok(&keys(&["add"], &keys_file)).trim(), "2");
    let line = serve.hangup("reloaded the keys file", 1).await;
    assert!(
        line.contains("keys=1, 2") && line.contains("active=1"),
        "{line}"
    );
    assert_eq!(key_id(&mint(&mut api, &operator, &app).await.unwrap()), 1);
    assert!(active(&mut api, &app, &first).await);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A damaged file: an ERROR naming it, and the keys in force stay.
    let good = std::fs::read(&keys_file).unwrap();
    std::fs::write(&keys_file, b"1 not-a-key\n").unwrap();
    let line = serve.hangup("cannot reload the keys file", 1).await;
    assert!(
        line.contains("ERROR") && line.contains(&keys_file.display().to_string()),
        "{line}"
    );
    assert!(
        line.contains("line 1") && line.contains("not base64url"),
        "{line}"
    );
    assert!(active(&mut api, &app, &first).await);
    assert_eq!(key_id(&mint(&mut api, &operator, &app).await.unwrap()), 1);
    // A missing file too.
    std::fs::remove_file(&keys_file).unwrap();
    serve.hangup("cannot reload the keys file", 2).await;
    assert!(active(&mut api, &app, &first).await);
    tessera_service::keys::write_private(&keys_file, &good).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Activate: new tokens carry key 2, old ones still verify.
    ok(&keys(&["activate", "2"], &keys_file));
    let line = serve.hangup("reloaded the keys file", 2).await;
    assert!(
        line.contains("keys=1, 2") && line.contains("active=2"),
        "{line}"
    );
    let second = mint(&mut api, &operator, &app).await.unwrap();
    assert_eq!(key_id(&second), 2);
    assert!(active(&mut api, &app, &first).await);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Retire key 1 (the load now holds a key-2 token): key-1 tokens go inactive.
    *held.write().unwrap() = second.clone();
    tokio::time::sleep(Duration::from_millis(300)).await;
    ok(&keys(&["retire", "1"], &keys_file));
    let line = serve.hangup("reloaded the keys file", 3).await;
    assert!(
        line.contains("keys=2,") || line.contains("keys=2 "),
        "{line}"
    );
    assert!(!active(&mut api, &app, &first).await);
    assert!(active(&mut api, &app, &second).await);
    tokio::time::sleep(Duration::from_millis(300)).await;

    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    let calls = calls.load(Ordering::Relaxed);
    assert!(calls > 40, "the load made only {calls} calls");
    assert_eq!(failures.load(Ordering::Relaxed), 0, "of {calls} calls");

    // No key bytes in the logs, and the next start accepts what the reloads recorded.
    let logs = serve.logs();
    let text = std::fs::read_to_string(&keys_file).unwrap();
    for line in text.lines() {
        let encoded = line.split_once(' ').unwrap().1;
        assert!(!logs.contains(encoded), "a key in the logs");
    }
    serve.stop();
    let serve = Serve::start(&data_dir, &keys_file, &token_file).await;
    let mut api = serve.api().await;
    assert!(active(&mut api, &app, &second).await);
    assert_eq!(key_id(&mint(&mut api, &operator, &app).await.unwrap()), 2);
    serve.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_the_key_files_and_rotate_together() {
    let root = tempfile::tempdir().unwrap();
    let (keys_file, token_file) = shared_files(root.path());
    let a = Serve::start(&root.path().join("a"), &keys_file, &token_file).await;
    let token = std::fs::read_to_string(&token_file).unwrap();
    let b = Serve::start(&root.path().join("b"), &keys_file, &token_file).await;
    // B loaded A's files: it created neither, and it accepts the same operator token.
    assert_eq!(std::fs::read_to_string(&token_file).unwrap(), token);
    assert!(!b.logs().contains("generated"), "{}", b.logs());
    let operator = bearer(&token_file);
    let on_a = register(&a, &operator).await;
    let on_b = register(&b, &operator).await;

    // A token minted by either verifies with the shared file's keys alone (as a gateway would).
    let verify = |token: &str| {
        let file = tessera_service::keys::read_keys(&keys_file).unwrap();
        let keyring = file.keyring().unwrap();
        AccessToken::verify(keyring.access_tokens(), token, now())
            .map(|claims| claims.key_id())
            .unwrap()
    };
    let minted_a = mint(&mut a.api().await, &operator, &on_a).await.unwrap();
    let minted_b = mint(&mut b.api().await, &operator, &on_b).await.unwrap();
    assert_eq!(
        (verify(&minted_a), verify(&minted_b)),
        (KeyId::new(1), KeyId::new(1))
    );

    // Rotation across the fleet: add, SIGHUP both, activate, SIGHUP both.
    assert_eq!(ok(&keys(&["add"], &keys_file)).trim(), "2");
    for serve in [&a, &b] {
        let line = serve.hangup("reloaded the keys file", 1).await;
        assert!(
            line.contains("keys=1, 2") && line.contains("active=1"),
            "{line}"
        );
    }
    ok(&keys(&["activate", "2"], &keys_file));
    for serve in [&a, &b] {
        let line = serve.hangup("reloaded the keys file", 2).await;
        assert!(line.contains("active=2"), "{line}");
    }
    let after_a = mint(&mut a.api().await, &operator, &on_a).await.unwrap();
    let after_b = mint(&mut b.api().await, &operator, &on_b).await.unwrap();
    assert_eq!(
        (verify(&after_a), verify(&after_b)),
        (KeyId::new(2), KeyId::new(2))
    );
    assert!(active(&mut a.api().await, &on_a, &minted_a).await);
    assert!(active(&mut b.api().await, &on_b, &minted_b).await);
    a.stop();
    b.stop();
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn keys_commands_refuse_unknown_ids_the_active_key_and_missing_or_damaged_files() {
    let root = tempfile::tempdir().unwrap();
    let (keys_file, _) = shared_files(root.path());
    let missing = keys(&["add"], &keys_file);
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success());
    assert!(
        stderr.contains(&format!("{} does not exist", keys_file.display()))
            && stderr.contains("--keys-file"),
        "{stderr}"
    );

    let rng = tessera_service::rng::SharedRng::from_os().unwrap();
    tessera_service::keys::generate_keys(&keys_file, &rng).unwrap();
    let before = std::fs::read(&keys_file).unwrap();
    for (args, words) in [
        (&["activate", "9"][..], "holds no key 9 (it holds 1)"),
        (&["retire", "9"][..], "holds no key 9 (it holds 1)"),
        (&["retire", "1"][..], "key 1 is the active key"),
    ] {
        let refused = keys(args, &keys_file);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success(), "{args:?}");
        assert!(stderr.contains(words), "{args:?}: {stderr}");
        assert!(stderr.contains("nothing was changed"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert_eq!(std::fs::read(&keys_file).unwrap(), before);
    }
    std::fs::write(&keys_file, b"1 AAAA\n").unwrap();
    let damaged = keys(&["add"], &keys_file);
    let stderr = String::from_utf8_lossy(&damaged.stderr);
    assert!(!damaged.status.success());
    assert!(
        stderr.contains("line 1: the key is not 32 bytes"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&keys_file).unwrap(), b"1 AAAA\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_on_postgres_rotates_with_sighup_under_load_and_fails_no_verification() {
    let root = tempfile::tempdir().unwrap();
    let (keys_file, token_file) = shared_files(root.path());
    let url = tessera_testkit::postgres::TestPostgres::shared().database();
    let store = ["--store", url.redacted()];
    let a = Serve::start_with(&root.path().join("a"), &keys_file, &token_file, &store).await;
    let b = Serve::start_with(&root.path().join("b"), &keys_file, &token_file, &store).await;
    assert!(!root.path().join("a").join("tessera.redb").exists());
    let operator = bearer(&token_file);
    let app = register(&a, &operator).await;
    let first = mint(&mut b.api().await, &operator, &app).await.unwrap();
    let held = Arc::new(RwLock::new(first.clone()));
    let stop = Arc::new(AtomicBool::new(false));
    let (failures, calls) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut workers = load(&a, &operator, &app, &held, &stop, &failures, &calls);
    workers.extend(load(&b, &operator, &app, &held, &stop, &failures, &calls));
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Add, SIGHUP both; activate, SIGHUP both: each reload re-checks the file against the
    // database's records.
    assert_eq!(ok(&keys(&["add"], &keys_file)).trim(), "2");
    for serve in [&a, &b] {
        let line = serve.hangup("reloaded the keys file", 1).await;
        assert!(
            line.contains("keys=1, 2") && line.contains("active=1"),
            "{line}"
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    ok(&keys(&["activate", "2"], &keys_file));
    for serve in [&a, &b] {
        let line = serve.hangup("reloaded the keys file", 2).await;
        assert!(line.contains("active=2"), "{line}");
    }
    let second = mint(&mut a.api().await, &operator, &app).await.unwrap();
    assert_eq!(key_id(&second), 2);
    assert!(active(&mut b.api().await, &app, &first).await);
    assert!(active(&mut b.api().await, &app, &second).await);
    tokio::time::sleep(Duration::from_millis(300)).await;

    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    let calls = calls.load(Ordering::Relaxed);
    assert!(calls > 40, "the load made only {calls} calls");
    assert_eq!(failures.load(Ordering::Relaxed), 0, "of {calls} calls");
    a.stop();
    b.stop();
    // A restart accepts what the reloads recorded in the database.
    let a = Serve::start_with(&root.path().join("a"), &keys_file, &token_file, &store).await;
    assert_eq!(
        key_id(&mint(&mut a.api().await, &operator, &app).await.unwrap()),
        2
    );
    a.stop();
}
