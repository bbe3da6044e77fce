//! Security events (service/README.md, "Security events"): each is one `tracing` event with
//! target [`TARGET`] and a fixed snake_case `event` field, defined once here, and one increment
//! of [`SECURITY_EVENTS`](crate::meter::SECURITY_EVENTS) with the same name. Fields are ids,
//! addresses and paths: never a secret, token, code or verifier.

use core::net::IpAddr;
use std::path::Path;

use tessera_core::{ClientId, GrantId, KeyId};

/// The `tracing` target of every security event.
pub const TARGET: &str = "tessera::audit";

/// A spent authorization code was presented again; its grant is revoked (RFC 6749 §4.1.2).
pub const CODE_REPLAYED: &str = "code_replayed";
/// A rotated-away refresh token was presented; its family is revoked (RFC 6819 §5.2.2.3).
pub const REFRESH_REUSED: &str = "refresh_reused";
/// A client or a source address used up its failed authentications in the window.
pub const THROTTLE_ENGAGED: &str = "throttle_engaged";
/// An operator call (or `/register`) came with a missing or wrong operator token.
pub const OPERATOR_AUTH_FAILED: &str = "operator_auth_failed";
/// A running server put a re-read keys file in force (SIGHUP).
pub const KEYS_RELOADED: &str = "keys_reloaded";
/// `tessera keys add` (or `rotate`) added a master key to a keys file.
pub const KEY_ADDED: &str = "key_added";
/// `tessera keys activate` (or `rotate`) made a key the minting one.
pub const KEY_ACTIVATED: &str = "key_activated";
/// `tessera keys retire` (or `rotate`) removed a key.
pub const KEY_RETIRED: &str = "key_retired";
/// A client was deleted (its tokens are inactive from then on).
pub const CLIENT_DELETED: &str = "client_deleted";
/// A client's secret was rotated.
pub const CLIENT_SECRET_ROTATED: &str = "client_secret_rotated";

/// Every security event, in the order the README lists them.
pub const EVENTS: [&str; 10] = [
    CODE_REPLAYED,
    REFRESH_REUSED,
    THROTTLE_ENGAGED,
    OPERATOR_AUTH_FAILED,
    KEYS_RELOADED,
    KEY_ADDED,
    KEY_ACTIVATED,
    KEY_RETIRED,
    CLIENT_DELETED,
    CLIENT_SECRET_ROTATED,
];

/// What a throttle counts failures under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Throttled {
    /// One client id.
    Client(ClientId),
    /// One source address (IPv6: its /64).
    Source(IpAddr),
}

fn count(event: &'static str) {
    metrics::counter!(crate::meter::SECURITY_EVENTS, "event" => event).increment(1);
}

/// The peer's address, or `unknown`.
fn peer_text(peer: Option<IpAddr>) -> String {
    peer.map_or_else(|| "unknown".to_owned(), |p| p.to_string())
}

/// [`CODE_REPLAYED`].
pub fn code_replayed(client: &ClientId, grant: &GrantId, peer: Option<IpAddr>) {
    tracing::warn!(target: "tessera::audit", event = CODE_REPLAYED, client_id = %client,
        grant_id = %grant, peer = %peer_text(peer),
        "authorization code replayed: grant revoked");
    count(CODE_REPLAYED);
}

/// [`REFRESH_REUSED`].
pub fn refresh_reused(client: &ClientId, grant: &GrantId, peer: Option<IpAddr>) {
    tracing::warn!(target: "tessera::audit", event = REFRESH_REUSED, client_id = %client,
        grant_id = %grant, peer = %peer_text(peer),
        "refresh token reused: family revoked");
    count(REFRESH_REUSED);
}

/// [`THROTTLE_ENGAGED`]: `key` used up its failures after a wrong secret for `client` from
/// `peer`.
pub fn throttle_engaged(key: Throttled, client: &ClientId, peer: Option<IpAddr>) {
    match key {
        Throttled::Client(throttled) => {
            tracing::warn!(target: "tessera::audit", event = THROTTLE_ENGAGED, scope = "client",
                client_id = %throttled, peer = %peer_text(peer),
                "too many failed authentications: client throttled");
        }
        Throttled::Source(source) => {
            tracing::warn!(target: "tessera::audit", event = THROTTLE_ENGAGED, scope = "source",
                source = %source, client_id = %client, peer = %peer_text(peer),
                "too many failed authentications: source throttled");
        }
    }
    count(THROTTLE_ENGAGED);
}

/// [`OPERATOR_AUTH_FAILED`] over `transport` (`grpc`, `http`) at `call` (an RPC or a path).
pub fn operator_auth_failed(transport: &'static str, call: &'static str, peer: Option<IpAddr>) {
    tracing::warn!(target: "tessera::audit", event = OPERATOR_AUTH_FAILED, transport, call,
        peer = %peer_text(peer), "operator authentication failed");
    count(OPERATOR_AUTH_FAILED);
}

/// `1, 2, 3`.
fn id_list(ids: &[KeyId]) -> String {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    ids.join(", ")
}

/// [`KEYS_RELOADED`]: the server now holds `ids` and mints with `active`.
pub fn keys_reloaded(path: &Path, ids: &[KeyId], active: KeyId) {
    tracing::info!(target: "tessera::audit", event = KEYS_RELOADED, path = %path.display(),
        keys = %id_list(ids), active = %active, "reloaded the keys file");
    count(KEYS_RELOADED);
}

/// [`KEY_ADDED`].
pub fn key_added(path: &Path, id: KeyId) {
    tracing::info!(target: "tessera::audit", event = KEY_ADDED, path = %path.display(),
        key_id = %id, "added a master key");
    count(KEY_ADDED);
}

/// [`KEY_ACTIVATED`].
pub fn key_activated(path: &Path, id: KeyId) {
    tracing::info!(target: "tessera::audit", event = KEY_ACTIVATED, path = %path.display(),
        key_id = %id, "activated a master key");
    count(KEY_ACTIVATED);
}

/// [`KEY_RETIRED`].
pub fn key_retired(path: &Path, id: KeyId) {
    tracing::info!(target: "tessera::audit", event = KEY_RETIRED, path = %path.display(),
        key_id = %id, "retired a master key");
    count(KEY_RETIRED);
}

/// [`CLIENT_DELETED`] (for the client lifecycle RPCs).
pub fn client_deleted(client: &ClientId, peer: Option<IpAddr>) {
    tracing::info!(target: "tessera::audit", event = CLIENT_DELETED, client_id = %client,
        peer = %peer_text(peer), "client deleted");
    count(CLIENT_DELETED);
}

/// [`CLIENT_SECRET_ROTATED`]: the old secret keeps working `grace_seconds` more (0: none).
pub fn client_secret_rotated(client: &ClientId, grace_seconds: u64, peer: Option<IpAddr>) {
    tracing::info!(target: "tessera::audit", event = CLIENT_SECRET_ROTATED, client_id = %client,
        grace_seconds, peer = %peer_text(peer), "client secret rotated");
    count(CLIENT_SECRET_ROTATED);
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Collects what a subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_lifecycle_hooks_emit_their_events_with_ids_only() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(move || writer.clone())
            .finish();
        let client = ClientId::from_bytes([7; 16]);
        tracing::subscriber::with_default(subscriber, || {
            client_deleted(&client, Some("192.0.2.1".parse().unwrap()));
            client_secret_rotated(&client, 300, None);
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        for (line, event) in lines.iter().zip([CLIENT_DELETED, CLIENT_SECRET_ROTATED]) {
            assert_eq!(line["target"], TARGET);
            assert_eq!(line["fields"]["event"], event);
            assert_eq!(line["fields"]["client_id"], client.to_string());
        }
        assert_eq!(lines[0]["fields"]["peer"], "192.0.2.1");
        assert_eq!(lines[1]["fields"]["grace_seconds"], 300);
    }

    #[test]
    fn event_names_are_distinct_snake_case() {
        for (i, event) in EVENTS.iter().enumerate() {
            assert!(
                event.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{event}"
            );
            assert!(!EVENTS[..i].contains(event), "{event} twice");
        }
    }
}
