//! The data directory is one unit: start-up, `tessera check` and `tessera keys rotate` against
//! real damaged copies of one. A refused start names the file and the fix, and changes nothing.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns: a failure must fail the test"
)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use tessera_service::{Config, Server};
use tessera_testkit::server::*;

/// A data directory a server created, registered a client in and stopped.
async fn populated() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    server.register("app", "read").await;
    server.stop().await;
    dir
}

/// Asserts that a start on `dir` is refused with an error holding every one of `words`, and
/// that it changed no file of the directory.
fn assert_refused_unchanged(dir: &Path, words: &[&str]) -> String {
    let before = data_files(dir);
    let error = format!("{:#}", Server::open(Config::new(dir)).unwrap_err());
    for word in words {
        assert!(error.contains(word), "{word:?} not in: {error}");
    }
    assert_eq!(data_files(dir), before, "a refused start changed the files");
    error
}

fn tessera(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn first_start_creates_every_part_privately_and_a_later_start_reads_them() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    let server = TestServer::start(&dir).await;
    server.stop().await;
    let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    for file in ["keys", "operator_token", "tessera.redb"] {
        assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
    }
    let files = data_files(&dir);
    assert_eq!(files.len(), 3, "{:?}", files.keys());
    let server = TestServer::start(&dir).await;
    server.assert_serving().await;
    server.stop().await;
}

#[tokio::test]
async fn a_missing_part_is_refused_and_nothing_is_regenerated() {
    for (part, fix) in [
        ("keys", "restore the file from a backup"),
        ("operator_token", "restore it from a backup"),
        ("tessera.redb", "restore the database from a backup"),
    ] {
        let dir = populated().await;
        let path = dir.path().join(part);
        fs::remove_file(&path).unwrap();
        assert_refused_unchanged(
            dir.path(),
            &[&format!("{} is missing", path.display()), fix],
        );
    }
}

#[tokio::test]
async fn a_damaged_or_foreign_keys_file_is_refused() {
    let dir = populated().await;
    let keys = dir.path().join("keys");
    let original = fs::read_to_string(&keys).unwrap();
    // One base64 character flipped: still 32 bytes, but not the recorded key.
    let position = original.len() - 5;
    let flipped = if &original[position..=position] == "A" {
        "B"
    } else {
        "A"
    };
    let mut damaged = original.clone();
    damaged.replace_range(position..=position, flipped);
    fs::write(&keys, &damaged).unwrap();
    assert_refused_unchanged(
        dir.path(),
        &[
            &keys.display().to_string(),
            "key 1 (line 1) is not the key",
            "restore",
        ],
    );
    // A line that is not a key at all.
    fs::write(&keys, format!("{original}2 not-a-key\n")).unwrap();
    assert_refused_unchanged(dir.path(), &["line 2", "not base64url"]);
    // The keys of another data directory.
    let other = populated().await;
    fs::copy(other.path().join("keys"), &keys).unwrap();
    assert_refused_unchanged(dir.path(), &["is not the key", "another data directory"]);
    // Put back, it starts.
    fs::write(&keys, &original).unwrap();
    Server::open(Config::new(dir.path())).unwrap();
}

#[tokio::test]
async fn a_corrupt_truncated_or_emptied_database_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let name = "a client whose page is damaged";
    server.register(name, "read").await;
    server.stop().await;
    let db = dir.path().join("tessera.redb");
    let original = fs::read(&db).unwrap();
    // Damage the page that holds the client's record: flip its name's bytes where they sit.
    let at = original
        .windows(name.len())
        .position(|window| window == name.as_bytes())
        .unwrap();
    let mut corrupt = original.clone();
    for byte in &mut corrupt[at..at + name.len()] {
        *byte ^= 0x5a;
    }
    fs::write(&db, &corrupt).unwrap();
    assert_refused_unchanged(
        dir.path(),
        &[&format!("{} is damaged", db.display()), "restore"],
    );
    // `tessera check` says the same, and exits non-zero, without a backtrace.
    let checked = tessera(&["check", "--data-dir", dir.path().to_str().unwrap()]);
    assert!(!checked.status.success());
    let stderr = text(&checked.stderr);
    assert!(stderr.contains("is damaged"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(fs::read(&db).unwrap(), corrupt);

    fs::write(&db, &original[..original.len() / 2]).unwrap();
    assert_refused_unchanged(dir.path(), &["is damaged", "restore"]);
    fs::write(&db, b"").unwrap();
    assert_refused_unchanged(dir.path(), &["is empty (0 bytes)", "restore"]);

    fs::write(&db, &original).unwrap();
    let server = TestServer::start(dir.path()).await;
    server.assert_serving().await;
    server.stop().await;
}

#[tokio::test]
async fn secret_files_readable_by_others_are_refused_and_a_shared_directory_only_warned() {
    for file in ["keys", "operator_token"] {
        let dir = populated().await;
        let path = dir.path().join(file);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert_refused_unchanged(
            dir.path(),
            &[
                &path.display().to_string(),
                "(mode 0644)",
                &format!("chmod 600 {}", path.display()),
            ],
        );
    }
    // A 0755 directory holds nothing secret itself: the server starts (and warns).
    let dir = populated().await;
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let server = TestServer::start(dir.path()).await;
    server.stop().await;
}

#[tokio::test]
async fn a_short_or_truncated_operator_token_is_refused() {
    let dir = populated().await;
    let path = dir.path().join("operator_token");
    let token = fs::read_to_string(&path).unwrap();
    for short in ["tsr_op_a\n", &token[..30]] {
        fs::write(&path, short).unwrap();
        assert_refused_unchanged(
            dir.path(),
            &[&path.display().to_string(), "whole operator token"],
        );
    }
}

#[tokio::test]
async fn check_reports_a_sound_directory_and_changes_nothing() {
    let dir = populated().await;
    let before = data_files(dir.path());
    let checked = tessera(&["check", "--data-dir", dir.path().to_str().unwrap()]);
    let stdout = text(&checked.stdout);
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    assert!(stdout.contains("sound"), "{stdout}");
    assert!(stdout.contains("keys: 1 (key 1 mints)"), "{stdout}");
    assert!(stdout.contains("client secrets under key 1: 1"), "{stdout}");
    assert_eq!(data_files(dir.path()), before);

    // While a server holds the database, the check refuses rather than read a moving file.
    let server = TestServer::start(dir.path()).await;
    let checked = tessera(&["check", "--data-dir", dir.path().to_str().unwrap()]);
    assert!(!checked.status.success());
    assert!(
        text(&checked.stderr).contains("in use"),
        "{}",
        text(&checked.stderr)
    );
    server.stop().await;

    let empty = tempfile::tempdir().unwrap();
    let checked = tessera(&["check", "--data-dir", empty.path().to_str().unwrap()]);
    assert!(!checked.status.success());
    assert!(text(&checked.stderr).contains("holds no data directory"));
}

#[tokio::test]
async fn rotation_never_silently_retires_a_key_still_in_use() {
    let dir = populated().await; // its client's secret is hashed under key 1
    let data_dir = dir.path().to_str().unwrap();
    for added in 2..=4 {
        let rotated = tessera(&["keys", "rotate", "--data-dir", data_dir]);
        assert!(rotated.status.success(), "{}", text(&rotated.stderr));
        assert!(text(&rotated.stdout).contains(&format!("new active key {added}")));
    }
    // A fifth key would retire key 1: refused, nothing changed.
    let before = data_files(dir.path());
    let refused = tessera(&["keys", "rotate", "--data-dir", data_dir]);
    assert!(!refused.status.success());
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("would retire key 1")
            && stderr.contains("1 stored client secret(s)")
            && stderr.contains("tokens it signed may verify")
            && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(data_files(dir.path()), before);

    let forced = tessera(&["keys", "rotate", "--force", "--data-dir", data_dir]);
    let stdout = text(&forced.stdout);
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    assert!(stdout.contains("kept: 2, 3, 4, 5"), "{stdout}");
    assert!(stdout.contains("retired: 1 (forced, although it verifies 1 stored client secret(s)"));
    // The database recorded key 5: the next start accepts the keys file.
    Server::open(Config::new(dir.path())).unwrap();

    // Rotation needs the server stopped.
    let server = TestServer::start(dir.path()).await;
    let refused = tessera(&["keys", "rotate", "--data-dir", data_dir]);
    assert!(
        text(&refused.stderr).contains("in use"),
        "{}",
        text(&refused.stderr)
    );
    server.stop().await;
}

#[tokio::test]
async fn a_taken_address_is_named_and_creates_no_state() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    let served = tessera(&[
        "serve",
        "--http-listen",
        "off",
        "--listen",
        &addr,
        "--data-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(!served.status.success());
    let stderr = text(&served.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")) && stderr.contains("--listen"),
        "{stderr}"
    );
    assert!(!dir.exists(), "a failed start created the data directory");
}

#[test]
fn a_data_directory_that_cannot_be_created_is_named_once() {
    // A regular file where the directory's parent should be: no user, root included, may create
    // it.
    let parent = tempfile::NamedTempFile::new().unwrap();
    let dir = parent.path().join("data");
    let error = format!("{:#}", Server::open(Config::new(&dir)).unwrap_err());
    assert!(
        error.contains(&format!(
            "cannot create the data directory {}",
            dir.display()
        )) && error.contains("--data-dir"),
        "{error}"
    );
    assert_eq!(error.matches("Not a directory").count(), 1, "{error}");
}

#[tokio::test]
async fn a_database_from_before_the_key_records_adopts_its_keys_once() {
    // The layout of earlier versions: a database without key records beside its keys file.
    let dir = tempfile::tempdir().unwrap();
    let rng = tessera_service::rng::SharedRng::from_os().unwrap();
    let key = rng.with(|rng| tessera_core::MasterKey::generate(tessera_core::KeyId::new(1), rng));
    tessera_service::keys::write_keys(&dir.path().join("keys"), &[key]).unwrap();
    tessera_service::keys::generate_operator_token(dir.path(), &rng).unwrap();
    drop(tessera_service::RedbStore::open(dir.path()).unwrap());

    let server = TestServer::start(dir.path()).await;
    server.register("app", "read").await;
    server.stop().await;
    // From now on the keys file must match what was adopted.
    let other = populated().await;
    fs::copy(other.path().join("keys"), dir.path().join("keys")).unwrap();
    assert_refused_unchanged(dir.path(), &["is not the key", "restore"]);
}

#[tokio::test]
async fn keys_changed_while_a_server_runs_never_make_its_next_start_refuse_but_an_older_copy_does()
{
    let dir = populated().await; // key 1 minted
    let path = dir.path().join("keys");
    let rng = tessera_service::rng::SharedRng::from_os().unwrap();
    let change = |f: &dyn Fn(&mut tessera_service::keys::KeysFile)| {
        let mut file = tessera_service::keys::read_keys(&path).unwrap();
        f(&mut file);
        tessera_service::keys::write_keys_file(&path, &file).unwrap();
    };
    let original = fs::read(&path).unwrap();
    // Added (not yet reloaded): the next start accepts the unrecorded key, verify-only.
    let server = TestServer::start(dir.path()).await;
    change(&|file| {
        file.add(&path, &rng).unwrap();
    });
    server.stop().await;
    let server = TestServer::start(dir.path()).await;
    // Activated while it runs: the next start records key 2 as minting.
    change(&|file| file.activate(&path, tessera_core::KeyId::new(2)).unwrap());
    server.stop().await;
    let server = TestServer::start(dir.path()).await;
    server.stop().await;
    // The keys file from before key 2: an older copy, refused.
    let newer = fs::read(&path).unwrap();
    fs::write(&path, &original).unwrap();
    assert_refused_unchanged(dir.path(), &["lacks key 2", "older copy", "restore"]);
    // Key 1 retired while stopped: accepted, the file shares key 2 with the records.
    fs::write(&path, &newer).unwrap();
    change(&|file| file.retire(&path, tessera_core::KeyId::new(1)).unwrap());
    let server = TestServer::start(dir.path()).await;
    server.stop().await;
    let checked = tessera(&["check", "--data-dir", dir.path().to_str().unwrap()]);
    assert!(
        text(&checked.stdout).contains("keys: 2 (key 2 mints)"),
        "{}",
        text(&checked.stderr)
    );
    // A keys file with none of the recorded keys (another directory's) is refused.
    let other = populated().await;
    fs::copy(other.path().join("keys"), &path).unwrap();
    let mut file = tessera_service::keys::read_keys(&path).unwrap();
    file.add(&path, &rng).unwrap();
    file.add(&path, &rng).unwrap();
    file.activate(&path, tessera_core::KeyId::new(3)).unwrap();
    file.retire(&path, tessera_core::KeyId::new(1)).unwrap();
    file.retire(&path, tessera_core::KeyId::new(2)).unwrap();
    tessera_service::keys::write_keys_file(&path, &file).unwrap();
    assert_refused_unchanged(dir.path(), &["holds none of the keys", "restore"]);
}
