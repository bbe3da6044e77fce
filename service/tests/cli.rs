//! The real `tessera` binary against a real server: the README's CLI walk with values that start
//! with `-`, credentials from standard input and files, a closed stdout pipe, `demo --json`,
//! and start-up errors for bad log filters.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns: a failure must fail the test"
)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use tessera_core::{CHALLENGE_TEXT_LEN, CodeChallenge, CodeVerifier};
use tessera_testkit::server::*;

fn tessera(server: &TestServer, dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
    command
        .env_clear()
        .env("TESSERA_SERVER", format!("http://{}", server.addr))
        .env(
            "TESSERA_OPERATOR_TOKEN_FILE",
            dir.join("operator_token").as_os_str(),
        );
    command
}

/// Runs `command` with `stdin` as its standard input; asserts success and returns stdout.
fn run(command: &mut Command, stdin: &str) -> String {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim()).unwrap()
}

fn field(value: &serde_json::Value, key: &str) -> String {
    value[key].as_str().unwrap().to_owned()
}

/// A PKCE verifier that starts with `-` and whose S256 challenge does too (1 in 4096 of the
/// values `tessera pkce` prints).
fn hyphenated_pkce() -> (String, String) {
    use rand_core::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
    loop {
        let mut raw = [0u8; 32];
        rng.fill_bytes(&mut raw);
        let mut buf = [0u8; 64];
        let verifier = tessera_core::encoding::base64url_encode(&raw, &mut buf)
            .unwrap()
            .to_owned();
        let challenge = CodeChallenge::s256(&CodeVerifier::parse(&verifier).unwrap())
            .encode(&mut [0u8; CHALLENGE_TEXT_LEN])
            .to_owned();
        if verifier.starts_with('-') && challenge.starts_with('-') {
            return (verifier, challenge);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_walk_works_with_hyphen_values_and_credentials_off_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let (verifier, challenge) = hyphenated_pkce();

    let registered = json(&run(
        tessera(&server, dir.path()).args([
            "register",
            "--name",
            "app",
            "--redirect-uri",
            REDIRECT_URI,
            "--scope",
            "read",
            "--json",
        ]),
        "",
    ));
    let client_id = field(&registered, "client_id");
    let secret_file = dir.path().join("client_secret");
    std::fs::write(&secret_file, field(&registered, "client_secret")).unwrap();
    let secret_arg = format!("@{}", secret_file.display());

    let code = field(
        &json(&run(
            tessera(&server, dir.path()).args([
                "issue-code",
                "--client-id",
                &client_id,
                "--redirect-uri",
                REDIRECT_URI,
                "--scope",
                "read",
                "--subject",
                "alice",
                "--code-challenge",
                &challenge,
                "--json",
            ]),
            "",
        )),
        "code",
    );

    // The code from standard input, the secret from a file, the verifier starting with `-`.
    let tokens = json(&run(
        tessera(&server, dir.path())
            .env("TESSERA_CLIENT_ID", &client_id)
            .env("TESSERA_CLIENT_SECRET", &secret_arg)
            .args([
                "exchange",
                "--code",
                "-",
                "--redirect-uri",
                REDIRECT_URI,
                "--code-verifier",
                &verifier,
                "--json",
            ]),
        &format!("{code}\n"),
    ));
    let refresh_file = dir.path().join("refresh_token");
    std::fs::write(&refresh_file, field(&tokens, "refresh_token")).unwrap();

    let refreshed = json(&run(
        tessera(&server, dir.path())
            .env("TESSERA_CLIENT_ID", &client_id)
            .env("TESSERA_CLIENT_SECRET", &secret_arg)
            .args([
                "exchange",
                "--grant-type",
                "refresh_token",
                "--refresh-token",
                &format!("@{}", refresh_file.display()),
                "--json",
            ]),
        "",
    ));
    let access_token = field(&refreshed, "access_token");

    // The secret from standard input this time, the token as an argument.
    let seen = json(&run(
        tessera(&server, dir.path())
            .env("TESSERA_CLIENT_ID", &client_id)
            .args([
                "introspect",
                "--client-secret",
                "-",
                "--token",
                &access_token,
                "--json",
            ]),
        &format!("{}\n", field(&registered, "client_secret")),
    ));
    assert_eq!(seen["active"], true, "{seen}");
    assert_eq!(seen["scope"], "read");

    // RFC 7009: an invalid token is "accepted", and the CLI says what that means.
    let revoked = run(
        tessera(&server, dir.path())
            .env("TESSERA_CLIENT_ID", &client_id)
            .env("TESSERA_CLIENT_SECRET", &secret_arg)
            .args(["revoke", "--token", "garbage"]),
        "",
    );
    assert!(revoked.contains("revocation: accepted"), "{revoked}");
    assert!(revoked.contains("rfc7009: the same answer"), "{revoked}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    for args in [
        &["register", "--name", "app", "--redirect-uri", REDIRECT_URI][..],
        &["demo"][..],
        &["pkce"][..],
    ] {
        // The reading end is closed before the program starts: its first line hits EPIPE.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let output: Output = tessera(&server, dir.path())
            .args(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_json_prints_one_document_of_the_walk() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let walk = json(&run(
        tessera(&server, dir.path()).args(["demo", "--json"]),
        "",
    ));
    let steps = walk["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 7, "{walk}");
    assert_eq!(steps[4]["introspection"]["active"], true, "{walk}");
    assert!(steps[5]["replay"].as_str().unwrap().starts_with("refused"));
    assert_eq!(steps[6]["introspection"]["active"], false);
    assert!(field(&walk, "note").contains("stay registered"));
    server.stop().await;
}

#[test]
fn help_says_how_to_keep_credentials_off_the_command_line() {
    for command in ["exchange", "introspect", "revoke"] {
        let help = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args([command, "--help"])
            .output()
            .unwrap();
        let text = String::from_utf8(help.stdout).unwrap();
        assert!(text.contains("standard input"), "{command}: {text}");
        assert!(text.contains("@FILE"), "{command}: {text}");
    }
}

#[test]
fn a_bad_server_url_is_one_clear_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["health", "--server", "127.0.0.1:1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success());
    assert!(
        stderr.contains("is not a URL") && stderr.contains("http://"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

fn serve(dir: &Path, log_level: &str, rust_log: Option<&str>) -> std::process::Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
    command
        .env_clear()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
        ])
        .args(["--log-level", log_level])
        .arg("--data-dir")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(rust_log) = rust_log {
        command.env("RUST_LOG", rust_log);
    }
    command.spawn().unwrap()
}

#[test]
fn bad_log_filters_are_start_up_errors_that_create_nothing() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    for (level, rust_log, named) in [
        ("nonsense", None, "--log-level \"nonsense\""),
        ("info,tessera=loud", None, "--log-level"),
        ("info", Some("nonsense"), "RUST_LOG \"nonsense\""),
    ] {
        let output = serve(&dir, level, rust_log).wait_with_output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(!output.status.success(), "{level} {rust_log:?}");
        assert!(
            stderr.contains(named) && stderr.contains("is not a log filter"),
            "{stderr}"
        );
        assert!(!dir.exists());
    }
}

#[test]
fn logs_go_to_standard_error_without_colours_when_it_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = serve(dir.path(), "info", None);
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut lines = Vec::new();
    while !lines.iter().any(|l: &String| l.contains("serving")) {
        let mut line = String::new();
        assert_ne!(stderr.read_line(&mut line).unwrap(), 0, "{lines:?}");
        lines.push(line);
    }
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.stdout.is_empty(), "{:?}", output.stdout);
    assert!(lines.iter().all(|l| !l.contains('\u{1b}')), "{lines:?}");
}

/// A login challenge from the authorization endpoint of `server` (its login URL is set).
async fn login_challenge(server: &TestServer, client_id: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "read"),
            ("state", "s1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/authorize?{query}", server.issuer()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (_, challenge) = location.split_once("login_challenge=").unwrap();
    challenge.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tessera_login_show_accept_and_reject_walk_the_hand_off() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = tessera_service::Config::new(dir.path());
    config.login_url = Some("https://login.example/signin".to_owned());
    let server = TestServer::start_with(config).await;
    let app = server.register("cli app", "read").await;

    // The challenge from standard input.
    let challenge = login_challenge(&server, &app.client_id).await;
    let shown = json(&run(
        tessera(&server, dir.path()).args(["login", "show", "--json", "--login-challenge", "-"]),
        &challenge,
    ));
    assert_eq!(field(&shown, "client_name"), "cli app");
    assert_eq!(field(&shown, "redirect_uri"), REDIRECT_URI);
    assert_eq!(field(&shown, "scope"), "read");

    // From a file: accept, and the redirect carries a code, the state and the issuer.
    let file = dir.path().join("challenge");
    std::fs::write(&file, &challenge).unwrap();
    let accepted = json(&run(
        tessera(&server, dir.path())
            .args(["login", "accept", "--json", "--subject", "alice"])
            .arg("--login-challenge")
            .arg(format!("@{}", file.display())),
        "",
    ));
    let to = field(&accepted, "redirect_to");
    assert!(
        to.starts_with(&format!("{REDIRECT_URI}?code=tsr_ac_")),
        "{to}"
    );
    assert!(to.contains("&state=s1&iss="), "{to}");

    let challenge = login_challenge(&server, &app.client_id).await;
    let rejected = json(&run(
        tessera(&server, dir.path())
            .args(["login", "reject", "--json", "--login-challenge"])
            .arg(&challenge),
        "",
    ));
    let to = field(&rejected, "redirect_to");
    assert!(
        to.starts_with(&format!("{REDIRECT_URI}?error=access_denied")),
        "{to}"
    );

    // A forged challenge is refused with the server's error, and the command fails.
    let output = tessera(&server, dir.path())
        .args(["login", "show", "--login-challenge", "tsr_lc_forged"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("login_challenge is invalid or expired"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    server.stop().await;
}
