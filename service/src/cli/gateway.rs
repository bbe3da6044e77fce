//! `tessera keys export-gateway`: the provisioning blob of a gateway (core FORMAT.md §7), made
//! from the data directory's master keys. It holds their access-token sub-keys and nothing else:
//! no master key, no other purpose's key.

use std::io::{self, IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use tessera_core::{Provisioning, Purpose, SubKey};

use crate::keys::{KEYS_FILE, read_keys, write_private};

/// The blob for the keys in `<dir>/keys`: each listed key's access-token sub-key, oldest first,
/// so the last one is the key the server mints with. Never creates a key.
///
/// # Errors
/// The I/O error (a missing keys file is `NotFound`), or `InvalidData` for a damaged one.
pub(crate) fn export(dir: &Path) -> io::Result<Provisioning> {
    let masters = read_keys(&dir.join(KEYS_FILE))?.keys;
    let keys: Vec<SubKey> = masters
        .iter()
        .map(|master| master.derive(Purpose::AccessToken))
        .collect();
    Provisioning::encode(&keys).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// `tessera keys export-gateway`: writes the blob to `out` (mode 0600), or to standard output
/// unless that is a terminal.
///
/// # Errors
/// A missing or damaged keys file, a terminal as the only destination, or the I/O error.
pub(crate) fn run(data_dir: &Path, out: Option<&Path>) -> anyhow::Result<()> {
    let keys_path = data_dir.join(KEYS_FILE);
    let blob = export(data_dir).with_context(|| {
        format!(
            "cannot export gateway keys from {} (start the server once to create it)",
            keys_path.display()
        )
    })?;
    let stdout = io::stdout();
    let terminal = stdout.is_terminal();
    emit(&blob, out, terminal, &mut stdout.lock())?;
    let ids: Vec<u16> = Provisioning::decode(blob.expose())
        .map(|set| set.key_ids().map(|id| id.get()).collect())
        .unwrap_or_default();
    eprintln!(
        "wrote {} bytes: access-token verification keys {ids:?} for a gateway{}",
        blob.expose().len(),
        out.map(|p| format!(" to {} (mode 0600)", p.display()))
            .unwrap_or_default()
    );
    Ok(())
}

/// Writes the blob to `out`, or to `stdout` unless `stdout_is_terminal`: the blob is binary key
/// material, and a terminal would show it and keep it in its scrollback.
fn emit(
    blob: &Provisioning,
    out: Option<&Path>,
    stdout_is_terminal: bool,
    stdout: &mut dyn Write,
) -> anyhow::Result<()> {
    match out {
        Some(path) => {
            write_private(path, blob.expose()).with_context(|| format!("{}", path.display()))
        }
        None if stdout_is_terminal => anyhow::bail!(
            "refusing to write secret key material to a terminal: pass --out FILE or redirect \
             standard output"
        ),
        None => {
            stdout.write_all(blob.expose())?;
            stdout.flush()?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use tessera_core::{AccessToken, ClientId, Grant, GrantId, KeyId, Scope, Subject};

    fn now() -> u64 {
        crate::clock::Clock::now(&crate::clock::SystemClock)
    }

    use super::*;
    use crate::config::Config;
    use crate::datadir;
    use crate::rng::SharedRng;

    #[test]
    fn export_holds_the_access_token_keys_of_every_listed_key_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let rng = SharedRng::from_os().unwrap();
        let config = Config::new(dir.path());
        drop(datadir::open(dir.path(), &config, &rng, now()).unwrap());
        datadir::rotate(dir.path(), &rng, false).unwrap();
        let server = datadir::open(dir.path(), &config, &rng, now())
            .unwrap()
            .keyring;

        let blob = export(dir.path()).unwrap();
        let gateway = Provisioning::decode(blob.expose()).unwrap();
        let ids: Vec<KeyId> = gateway.key_ids().collect();
        assert_eq!(ids, [KeyId::new(1), KeyId::new(2)]);

        let grant = Grant {
            client_id: rng.with(ClientId::generate),
            subject: Subject::parse("alice").unwrap(),
            scope: Scope::parse("read").unwrap(),
            audience: Default::default(),
        };
        let now = 1_767_225_600;
        let token = rng.with(|rng| {
            AccessToken::mint(
                server.access_tokens(),
                &grant,
                &GrantId::generate(rng),
                60,
                now,
                rng,
            )
            .unwrap()
        });
        let claims = AccessToken::verify(&gateway, token.expose(), now).unwrap();
        assert_eq!(claims.key_id(), KeyId::new(2));

        // No master key and no other purpose's sub-key appears anywhere in the blob.
        for master in read_keys(&dir.path().join(KEYS_FILE)).unwrap().keys {
            let mut secrets = vec![*master.expose_bytes()];
            for purpose in Purpose::ALL {
                if purpose != Purpose::AccessToken {
                    secrets.push(*master.derive(purpose).expose_bytes());
                }
            }
            for secret in secrets {
                assert!(!blob.expose().windows(32).any(|w| w == secret));
            }
            let access = *master.derive(Purpose::AccessToken).expose_bytes();
            assert!(blob.expose().windows(32).any(|w| w == access));
        }
    }

    #[test]
    fn a_missing_keys_file_is_an_error_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let err = run(dir.path(), Some(&dir.path().join("gw.keys"))).unwrap_err();
        assert!(format!("{err:#}").contains(KEYS_FILE), "{err:#}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn the_file_is_0600_even_over_a_wider_one_and_a_terminal_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let rng = SharedRng::from_os().unwrap();
        drop(datadir::open(dir.path(), &Config::new(dir.path()), &rng, now()).unwrap());
        let blob = export(dir.path()).unwrap();

        let out = dir.path().join("gw.keys");
        fs::write(&out, b"old").unwrap();
        fs::set_permissions(&out, fs::Permissions::from_mode(0o644)).unwrap();
        emit(&blob, Some(&out), true, &mut io::sink()).unwrap();
        assert_eq!(fs::read(&out).unwrap(), blob.expose());
        assert_eq!(
            fs::metadata(&out).unwrap().permissions().mode() & 0o777,
            0o600
        );

        let mut piped = Vec::new();
        emit(&blob, None, false, &mut piped).unwrap();
        assert_eq!(piped, blob.expose());
        let mut shown = Vec::new();
        let err = emit(&blob, None, true, &mut shown).unwrap_err();
        assert!(err.to_string().contains("--out"), "{err}");
        assert!(shown.is_empty());
    }
}
