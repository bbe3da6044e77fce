//! The store conformance suite: each promise of the [`Store`] trait the domain relies on (single
//! use, rotation with reuse detection, revocation, purge, durability) as one `async fn` over a
//! [`Backend`], and [`store_conformance!`](crate::store_conformance) to run them all as
//! `#[tokio::test]`s:
//!
//! ```ignore
//! tessera_testkit::store_conformance!(tessera_testkit::store::RedbFiles::new());
//! ```
//!
//! Spends read the real clock (a code past its expiry is never spent), so the times here are
//! offsets from [`now`].

use core::future::Future;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tessera_core::{ClientId, GrantId, Scope, TokenId};
use tessera_service::RedbStore;
use tessera_service::store::{
    ClientRecord, FailedAuthKey, Inspect, PURGE_MARGIN, RefreshFamily, Rotation, Spend, Store,
    StoreSnapshot,
};

/// A store under test and how to open it again.
pub trait Backend: Sync {
    /// The store.
    type Store: Store + Inspect;

    /// Opens the store: empty the first time, and after that over what the stores it opened
    /// before committed (they are all dropped first), as a restarted server would.
    fn open(&self) -> impl Future<Output = Self::Store> + Send;
}

/// The embedded [`RedbStore`] in a real file in a temporary directory.
#[derive(Debug)]
pub struct RedbFiles {
    dir: tempfile::TempDir,
}

impl RedbFiles {
    /// A new empty temporary data directory.
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }
}

impl Default for RedbFiles {
    fn default() -> Self {
        Self::new()
    }
}

impl Backend for RedbFiles {
    type Store = RedbStore;

    async fn open(&self) -> RedbStore {
        RedbStore::open(self.dir.path()).unwrap()
    }
}

/// Runs every test of the suite on the backend `$backend` makes (a fresh one per test), as
/// `#[tokio::test]`s in the calling crate, which must depend on `tokio`.
#[macro_export]
macro_rules! store_conformance {
    ($backend:expr) => {
        $crate::store_conformance!(@tests $backend;
            spend_rotate_revoke_and_purge,
            a_code_is_spent_once,
            a_code_past_its_expiry_is_never_spent_and_its_mark_outlives_it,
            of_64_concurrent_spends_of_one_code_one_wins_and_every_spend_is_durable,
            rotation_advances_one_generation_and_reuse_revokes_the_family,
            of_64_concurrent_rotations_of_one_generation_one_wins_and_the_family_is_revoked,
            a_refresh_family_ends_at_its_deadline_however_often_it_rotates,
            a_family_expires,
            revoking_a_grant_closes_its_family_and_the_longest_revocation_wins,
            revoking_a_token_lasts_until_its_expiry_and_the_longest_revocation_wins,
            purge_keeps_every_kind_of_entry_for_the_margin,
            a_client_is_inserted_looked_up_and_replaced_durably,
            every_acknowledged_write_survives_a_reopen,
            a_snapshot_sees_every_committed_write_and_nothing_else,
            a_client_is_replaced_only_if_unchanged_and_deleted_durably,
            clients_are_listed_in_pages_in_id_order,
            a_previous_secret_and_its_grace_survive_a_reopen,
            failed_auths_count_per_key_within_a_window_and_restart_after_it,
            of_64_concurrent_failed_auths_each_is_counted_once,
            a_purge_forgets_closed_failed_auth_windows_only,
        );
    };
    (@tests $backend:expr; $($name:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::store::$name(&$backend).await;
            }
        )*
    };
}

/// Unix seconds now: the time base of every test (spends read the real clock).
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A grant id made of the byte `n`.
pub fn grant(n: u8) -> GrantId {
    GrantId::from_bytes([n; 16])
}

/// A token id made of the byte `n`.
pub fn token(n: u8) -> TokenId {
    TokenId::from_bytes([n; 16])
}

/// A public client with id bytes `[7; 16]`, named `name`.
pub fn client(name: &str) -> ClientRecord {
    ClientRecord {
        id: ClientId::from_bytes([7; 16]),
        name: name.to_owned(),
        redirect_uris: vec!["https://app.example/cb".to_owned()],
        scope: Scope::parse("read").unwrap(),
        verifier: None,
        issued_at: 1,
        previous: None,
    }
}

/// Spends the code of `g` as most tests do: the code expires 100 s after `t`, the family's
/// first token 1000 s after it, the family's deadline 9000 s after it.
pub async fn spend(store: &impl Store, g: GrantId, t: u64) -> Spend {
    store
        .spend_code(g, t + 100, t + 1000, t + 9000)
        .await
        .unwrap()
}

/// Rotates `generation` of `g` as most tests do, at `t + 10`: the next token asks for 2000 s,
/// the deadline if none is 9000 s, a reuse revokes until `t + 3000`.
pub async fn rotate(store: &impl Store, g: GrantId, generation: u32, t: u64) -> Rotation {
    store
        .rotate_refresh(g, generation, t + 2000, t + 9000, t + 3000, t + 10)
        .await
        .unwrap()
}

/// One scenario through every kind of entry: spend, replay, rotate, reuse, revoke a token, and
/// purge at, inside and past the margin.
pub async fn spend_rotate_revoke_and_purge(backend: &impl Backend) {
    let store = backend.open().await;
    let token = token(9);
    let t = now();
    let far = t + 1_000_000;

    assert_eq!(
        store
            .spend_code(grant(1), t + 100, t + 1000, far)
            .await
            .unwrap(),
        Spend::First
    );
    assert_eq!(
        store
            .spend_code(grant(1), t + 100, t + 1000, far)
            .await
            .unwrap(),
        Spend::Replayed
    );
    assert_eq!(
        store.refresh_generation(grant(1), t + 10).await.unwrap(),
        Some(0)
    );

    let rotate =
        |generation| store.rotate_refresh(grant(1), generation, t + 2000, far, t + 3000, t + 10);
    assert_eq!(
        rotate(1).await.unwrap(),
        Rotation::Unknown,
        "a future generation"
    );
    assert_eq!(
        rotate(0).await.unwrap(),
        Rotation::Rotated { until: t + 2000 }
    );
    assert_eq!(
        rotate(1).await.unwrap(),
        Rotation::Rotated { until: t + 2000 }
    );
    assert_eq!(
        store.refresh_generation(grant(1), t + 10).await.unwrap(),
        Some(2)
    );
    assert_eq!(rotate(0).await.unwrap(), Rotation::Reused);
    assert!(store.is_revoked(grant(1), token, t + 10).await.unwrap());
    assert_eq!(
        rotate(2).await.unwrap(),
        Rotation::Unknown,
        "the family is gone"
    );
    assert_eq!(
        store
            .rotate_refresh(grant(2), 0, t + 2000, far, t + 3000, t + 10)
            .await
            .unwrap(),
        Rotation::Unknown
    );

    store.revoke_token(token, t + 50).await.unwrap();
    assert!(store.is_revoked(grant(3), token, t + 49).await.unwrap());
    assert!(!store.is_revoked(grant(3), token, t + 50).await.unwrap());

    // Entries outlive their expiry by the purge margin.
    assert_eq!(store.purge_expired(t + 200).await.unwrap(), 0);
    // Past it: the spent code (100) and the token revocation (50) go; the grant
    // revocation (3000) and the family deadline stay.
    let after = t + 100 + PURGE_MARGIN;
    assert_eq!(store.purge_expired(after).await.unwrap(), 2);
    assert!(store.is_revoked(grant(1), token, after).await.unwrap());
    assert_eq!(store.purge_expired(after).await.unwrap(), 0);
    assert_eq!(store.purge_expired(far + PURGE_MARGIN).await.unwrap(), 2);
    assert!(!store.is_revoked(grant(1), token, after).await.unwrap());
}

/// A code is spent once: the first spend opens its family at generation 0, every later one is a
/// replay that changes nothing, and another grant's code is its own.
pub async fn a_code_is_spent_once(backend: &impl Backend) {
    let store = backend.open().await;
    let t = now();
    assert_eq!(store.refresh_generation(grant(1), t).await.unwrap(), None);
    assert_eq!(
        store
            .spend_code(grant(1), t + 100, t + 1000, t + 5000)
            .await
            .unwrap(),
        Spend::First
    );
    let spent = store.snapshot().await.unwrap();
    assert_eq!(spent.spent_codes, BTreeMap::from([(grant(1), t + 100)]));
    assert_eq!(
        spent.families,
        BTreeMap::from([(
            grant(1),
            RefreshFamily {
                newest: 0,
                expires_at: t + 1000
            }
        )])
    );
    assert_eq!(
        spent.family_deadlines,
        BTreeMap::from([(grant(1), t + 5000)])
    );
    for _ in 0..2 {
        // Other expiries do not make it another code.
        assert_eq!(
            store
                .spend_code(grant(1), t + 200, t + 2000, t + 6000)
                .await
                .unwrap(),
            Spend::Replayed
        );
        assert_eq!(store.snapshot().await.unwrap(), spent);
    }
    assert_eq!(
        store
            .spend_code(grant(2), t + 100, t + 1000, t + 5000)
            .await
            .unwrap(),
        Spend::First
    );
    // The family opens cut to its deadline.
    assert_eq!(
        store
            .spend_code(grant(3), t + 100, t + 1000, t + 500)
            .await
            .unwrap(),
        Spend::First
    );
    assert_eq!(
        store.refresh_generation(grant(3), t + 499).await.unwrap(),
        Some(0)
    );
    assert_eq!(
        store.refresh_generation(grant(3), t + 500).await.unwrap(),
        None
    );
}

/// [`Spend::Expired`] marks nothing; a mark kept through the margin still makes a replay.
pub async fn a_code_past_its_expiry_is_never_spent_and_its_mark_outlives_it(
    backend: &impl Backend,
) {
    let store = backend.open().await;
    let t = now();
    let before = store.snapshot().await.unwrap();
    // Its expiry passed before the write committed: nothing is marked.
    assert_eq!(
        store
            .spend_code(grant(1), t - 1, t + 1000, t + 5000)
            .await
            .unwrap(),
        Spend::Expired
    );
    assert_eq!(store.snapshot().await.unwrap(), before);
    // A code spent just before its expiry keeps its mark through a purge at the expiry and
    // after a clock stepped back: a replay within the margin is still a replay.
    assert_eq!(
        store
            .spend_code(grant(2), t + 2, t + 1000, t + 5000)
            .await
            .unwrap(),
        Spend::First
    );
    assert_eq!(store.purge_expired(t + 2).await.unwrap(), 0);
    assert_eq!(
        store.purge_expired(t + 2 + PURGE_MARGIN - 1).await.unwrap(),
        0
    );
    assert_eq!(
        store
            .spend_code(grant(2), t + 2, t + 1000, t + 5000)
            .await
            .unwrap(),
        Spend::Replayed
    );
}

/// 64 spends at once, half of one code and half of 32 others: one winner for the shared code,
/// and every acknowledged spend is there after a reopen.
pub async fn of_64_concurrent_spends_of_one_code_one_wins_and_every_spend_is_durable(
    backend: &impl Backend,
) {
    let store = Arc::new(backend.open().await);
    let t = now();
    let spends: Vec<_> = (0..64)
        .map(|i| {
            let store = Arc::clone(&store);
            // Half the spends are of one grant, the rest of 32 distinct ones.
            let g = if i % 2 == 0 { grant(0) } else { grant(i) };
            tokio::spawn(async move { (g, spend(&*store, g, t).await) })
        })
        .collect();
    let mut first_of_zero = 0;
    for outcome in spends {
        match outcome.await.unwrap() {
            (g, Spend::First) if g == grant(0) => first_of_zero += 1,
            (g, Spend::Replayed) => assert_eq!(g, grant(0)),
            (_, Spend::First) => {}
            (_, Spend::Expired) => panic!("not expired"),
        }
    }
    assert_eq!(first_of_zero, 1);
    drop(store);
    // Every acknowledged spend is durable: a fresh open sees them all.
    let reopened = backend.open().await;
    for i in (0..64).step_by(2).map(|i| i + 1).chain([0]) {
        assert_eq!(spend(&reopened, grant(i), t).await, Spend::Replayed);
    }
}

/// Only the newest generation rotates, one step at a time; an older one is a reuse that revokes
/// the grant until `revoke_until` and closes the family; a future one, or an unknown family,
/// changes nothing.
pub async fn rotation_advances_one_generation_and_reuse_revokes_the_family(backend: &impl Backend) {
    let store = backend.open().await;
    let t = now();
    spend(&store, grant(1), t).await;
    let opened = store.snapshot().await.unwrap();
    assert_eq!(rotate(&store, grant(1), 1, t).await, Rotation::Unknown);
    assert_eq!(
        rotate(&store, grant(1), u32::MAX, t).await,
        Rotation::Unknown
    );
    assert_eq!(
        store.snapshot().await.unwrap(),
        opened,
        "a future generation"
    );
    for generation in 0..3 {
        assert_eq!(
            rotate(&store, grant(1), generation, t).await,
            Rotation::Rotated { until: t + 2000 }
        );
        assert_eq!(
            store.refresh_generation(grant(1), t + 10).await.unwrap(),
            Some(generation + 1)
        );
    }
    assert_eq!(
        store.snapshot().await.unwrap().families[&grant(1)],
        RefreshFamily {
            newest: 3,
            expires_at: t + 2000
        }
    );
    assert!(!store.is_revoked(grant(1), token(1), t + 10).await.unwrap());
    assert_eq!(rotate(&store, grant(1), 1, t).await, Rotation::Reused);
    let revoked = store.snapshot().await.unwrap();
    assert_eq!(
        revoked.revoked_grants,
        BTreeMap::from([(grant(1), t + 3000)])
    );
    assert!(revoked.families.is_empty(), "the family is closed");
    assert!(
        store
            .is_revoked(grant(1), token(1), t + 2999)
            .await
            .unwrap()
    );
    assert!(
        !store
            .is_revoked(grant(1), token(1), t + 3000)
            .await
            .unwrap()
    );
    assert_eq!(
        store.refresh_generation(grant(1), t + 10).await.unwrap(),
        None
    );
    for generation in [0, 3, 4] {
        assert_eq!(
            rotate(&store, grant(1), generation, t).await,
            Rotation::Unknown
        );
    }
    assert_eq!(store.snapshot().await.unwrap(), revoked);
    assert_eq!(
        rotate(&store, grant(2), 0, t).await,
        Rotation::Unknown,
        "a family never opened"
    );
    assert_eq!(store.snapshot().await.unwrap(), revoked);
}

/// 64 rotations of one generation at once (a refresh token presented 64 times): exactly one is
/// [`Rotation::Rotated`]; the others are [`Rotation::Reused`] (at least one: a rotation it lost
/// to made its generation old) or [`Rotation::Unknown`] (the grant was revoked by then); and the
/// grant ends revoked with its family closed, durably.
pub async fn of_64_concurrent_rotations_of_one_generation_one_wins_and_the_family_is_revoked(
    backend: &impl Backend,
) {
    let store = Arc::new(backend.open().await);
    let t = now();
    spend(&*store, grant(1), t).await;
    let rotations: Vec<_> = (0..64)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { rotate(&*store, grant(1), 0, t).await })
        })
        .collect();
    let (mut rotated, mut reused) = (0, 0);
    for rotation in rotations {
        match rotation.await.unwrap() {
            Rotation::Rotated { until } => {
                assert_eq!(until, t + 2000);
                rotated += 1;
            }
            Rotation::Reused => reused += 1,
            Rotation::Unknown => {}
        }
    }
    assert_eq!(rotated, 1);
    assert!(
        reused >= 1,
        "63 presentations of an old generation, no reuse"
    );
    drop(store);
    let reopened = backend.open().await;
    assert!(
        reopened
            .is_revoked(grant(1), token(1), t + 10)
            .await
            .unwrap()
    );
    assert_eq!(
        reopened.refresh_generation(grant(1), t + 10).await.unwrap(),
        None
    );
    assert!(reopened.snapshot().await.unwrap().families.is_empty());
}

/// A family never outlives the deadline it opened with, however often it rotates.
pub async fn a_refresh_family_ends_at_its_deadline_however_often_it_rotates(
    backend: &impl Backend,
) {
    let store = backend.open().await;
    let t = now();
    let deadline = t + 100;
    store
        .spend_code(grant(1), t + 60, t + 1000, deadline)
        .await
        .unwrap();
    // The family opens cut to its deadline.
    assert_eq!(
        store.refresh_generation(grant(1), t + 99).await.unwrap(),
        Some(0)
    );
    assert_eq!(
        store.refresh_generation(grant(1), t + 100).await.unwrap(),
        None
    );
    for (generation, now) in (0u32..).zip([t + 10, t + 50, t + 99]) {
        // Each rotation asks for 1000 s more; it gets no further than the deadline.
        assert_eq!(
            store
                .rotate_refresh(grant(1), generation, now + 1000, now + 1000, now, now)
                .await
                .unwrap(),
            Rotation::Rotated { until: deadline }
        );
    }
    let snapshot = store.snapshot().await.unwrap();
    assert_eq!(
        snapshot.family_deadlines,
        BTreeMap::from([(grant(1), deadline)])
    );
    // At the deadline, the newest generation no longer rotates.
    assert_eq!(
        store
            .rotate_refresh(grant(1), 3, t + 2000, t + 2000, t + 3000, deadline)
            .await
            .unwrap(),
        Rotation::Unknown
    );
}

/// A family whose newest token expired is closed: it neither answers nor rotates, and a purge
/// past the margin drops it with the spent code.
pub async fn a_family_expires(backend: &impl Backend) {
    let store = backend.open().await;
    let t = now();
    spend(&store, grant(1), t).await;
    assert_eq!(
        store.refresh_generation(grant(1), t + 1000).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .rotate_refresh(grant(1), 0, t + 2000, t + 9000, t + 3000, t + 1000)
            .await
            .unwrap(),
        Rotation::Unknown
    );
    assert_eq!(
        store.purge_expired(t + 1000 + PURGE_MARGIN).await.unwrap(),
        2
    );
}

/// Revoking a grant revokes every token of it until `until`, closes its family (which then
/// never rotates), and a second revocation never shortens the first.
pub async fn revoking_a_grant_closes_its_family_and_the_longest_revocation_wins(
    backend: &impl Backend,
) {
    let store = backend.open().await;
    let t = now();
    spend(&store, grant(1), t).await;
    store.revoke_grant(grant(1), t + 500).await.unwrap();
    for any in [token(1), token(2)] {
        assert!(store.is_revoked(grant(1), any, t + 499).await.unwrap());
        assert!(!store.is_revoked(grant(1), any, t + 500).await.unwrap());
    }
    assert!(!store.is_revoked(grant(2), token(1), t).await.unwrap());
    assert_eq!(store.refresh_generation(grant(1), t).await.unwrap(), None);
    assert_eq!(rotate(&store, grant(1), 0, t).await, Rotation::Unknown);
    // Shorter, then longer: the longest stands.
    store.revoke_grant(grant(1), t + 200).await.unwrap();
    assert!(store.is_revoked(grant(1), token(1), t + 499).await.unwrap());
    store.revoke_grant(grant(1), t + 800).await.unwrap();
    assert!(store.is_revoked(grant(1), token(1), t + 799).await.unwrap());
    assert!(!store.is_revoked(grant(1), token(1), t + 800).await.unwrap());
    let snapshot = store.snapshot().await.unwrap();
    assert_eq!(
        snapshot.revoked_grants,
        BTreeMap::from([(grant(1), t + 800)])
    );
    assert!(snapshot.families.is_empty());
    // Revoking a grant that was never spent is a revocation all the same.
    store.revoke_grant(grant(2), t + 100).await.unwrap();
    assert!(store.is_revoked(grant(2), token(1), t + 99).await.unwrap());
}

/// Revoking one token revokes it alone until its expiry; a second revocation never shortens
/// the first.
pub async fn revoking_a_token_lasts_until_its_expiry_and_the_longest_revocation_wins(
    backend: &impl Backend,
) {
    let store = backend.open().await;
    let t = now();
    store.revoke_token(token(1), t + 500).await.unwrap();
    assert!(store.is_revoked(grant(1), token(1), t + 499).await.unwrap());
    assert!(store.is_revoked(grant(2), token(1), t + 499).await.unwrap());
    assert!(!store.is_revoked(grant(1), token(1), t + 500).await.unwrap());
    assert!(!store.is_revoked(grant(1), token(2), t).await.unwrap());
    store.revoke_token(token(1), t + 200).await.unwrap();
    assert!(store.is_revoked(grant(1), token(1), t + 499).await.unwrap());
    store.revoke_token(token(1), t + 800).await.unwrap();
    assert!(store.is_revoked(grant(1), token(1), t + 799).await.unwrap());
    assert_eq!(
        store.snapshot().await.unwrap().revoked_tokens,
        BTreeMap::from([(token(1), t + 800)])
    );
}

/// A purge deletes exactly the entries that expired more than [`PURGE_MARGIN`] ago, of every
/// kind, counts them, and never a client.
pub async fn purge_keeps_every_kind_of_entry_for_the_margin(backend: &impl Backend) {
    let store = backend.open().await;
    let t = now();
    store.insert_client(client("kept")).await.unwrap();
    // Grant 1 expires early (code 10, family 20, deadline 30), grant 2 late (1000s).
    store
        .spend_code(grant(1), t + 10, t + 20, t + 30)
        .await
        .unwrap();
    store
        .spend_code(grant(2), t + 1000, t + 1000, t + 1000)
        .await
        .unwrap();
    store.revoke_grant(grant(3), t + 40).await.unwrap();
    store.revoke_token(token(1), t + 50).await.unwrap();
    store.revoke_token(token(2), t + 1000).await.unwrap();
    let full = store.snapshot().await.unwrap();
    assert_eq!(
        store
            .purge_expired(t + 10 + PURGE_MARGIN - 1)
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.snapshot().await.unwrap(), full);
    // Each of grant 1's entries goes at its own time.
    for (at, purged) in [(10, 1), (20, 1), (30, 1), (40, 1), (50, 1), (999, 0)] {
        assert_eq!(
            store.purge_expired(t + at + PURGE_MARGIN).await.unwrap(),
            purged,
            "at t + {at} + margin"
        );
    }
    let family = RefreshFamily {
        newest: 0,
        expires_at: t + 1000,
    };
    assert_eq!(
        store.snapshot().await.unwrap(),
        StoreSnapshot {
            clients: full.clients.clone(),
            spent_codes: BTreeMap::from([(grant(2), t + 1000)]),
            revoked_grants: BTreeMap::new(),
            revoked_tokens: BTreeMap::from([(token(2), t + 1000)]),
            families: BTreeMap::from([(grant(2), family)]),
            family_deadlines: BTreeMap::from([(grant(2), t + 1000)]),
        }
    );
    assert_eq!(
        store.purge_expired(t + 1000 + PURGE_MARGIN).await.unwrap(),
        4
    );
    assert_eq!(
        store.snapshot().await.unwrap(),
        StoreSnapshot {
            clients: full.clients,
            ..StoreSnapshot::default()
        },
        "a purge never deletes a client"
    );
}

/// Clients: absent until inserted, then looked up; an insert of the same id replaces the
/// record (a re-hashed verifier); what was acknowledged is there after a reopen.
pub async fn a_client_is_inserted_looked_up_and_replaced_durably(backend: &impl Backend) {
    let store = backend.open().await;
    let id = client("x").id;
    assert!(store.client(id).await.unwrap().is_none());
    store.insert_client(client("first")).await.unwrap();
    assert_eq!(*store.client(id).await.unwrap().unwrap(), client("first"));
    // A re-write (a re-hashed verifier) replaces the record.
    store.insert_client(client("second")).await.unwrap();
    assert_eq!(store.client(id).await.unwrap().unwrap().name, "second");
    let mut other = client("other");
    other.id = ClientId::from_bytes([8; 16]);
    store.insert_client(other.clone()).await.unwrap();
    assert_eq!(store.snapshot().await.unwrap().clients.len(), 2);
    drop(store);
    let reopened = backend.open().await;
    assert_eq!(reopened.client(id).await.unwrap().unwrap().name, "second");
    assert_eq!(*reopened.client(other.id).await.unwrap().unwrap(), other);
}

/// Every kind of write, once acknowledged, is in the state a reopened store sees.
pub async fn every_acknowledged_write_survives_a_reopen(backend: &impl Backend) {
    let store = backend.open().await;
    let t = now();
    store.insert_client(client("durable")).await.unwrap();
    for g in 1..=3 {
        store
            .spend_code(grant(g), t + 100, t + 1000, t + 9000)
            .await
            .unwrap();
    }
    rotate(&store, grant(2), 0, t).await;
    rotate(&store, grant(3), 0, t).await;
    rotate(&store, grant(3), 0, t).await;
    store.revoke_grant(grant(4), t + 400).await.unwrap();
    store.revoke_token(token(1), t + 500).await.unwrap();
    let acknowledged = store.snapshot().await.unwrap();
    assert_eq!(acknowledged.clients.len(), 1);
    assert_eq!(acknowledged.spent_codes.len(), 3);
    assert_eq!(
        acknowledged.revoked_grants.len(),
        2,
        "grants 3 (reused) and 4"
    );
    assert_eq!(acknowledged.families.len(), 2);
    drop(store);
    let reopened = backend.open().await;
    assert_eq!(reopened.snapshot().await.unwrap(), acknowledged);
    assert_eq!(
        reopened.refresh_generation(grant(2), t + 10).await.unwrap(),
        Some(1)
    );
    assert!(
        reopened
            .is_revoked(grant(3), token(2), t + 10)
            .await
            .unwrap()
    );
    assert!(
        reopened
            .is_revoked(grant(5), token(1), t + 10)
            .await
            .unwrap()
    );
}

/// A snapshot is the committed state: empty at first, unchanged by a write that finds nothing to
/// do, and showing a spend's three entries.
pub async fn a_snapshot_sees_every_committed_write_and_nothing_else(backend: &impl Backend) {
    let store = backend.open().await;
    let t = now();
    let empty = store.snapshot().await.unwrap();
    assert_eq!(empty, StoreSnapshot::default());
    // A write that finds nothing to change commits and changes nothing.
    assert_eq!(rotate(&store, grant(1), 0, t).await, Rotation::Unknown);
    assert_eq!(store.purge_expired(t).await.unwrap(), 0);
    assert_eq!(store.snapshot().await.unwrap(), empty);
    spend(&store, grant(1), t).await;
    let spent = store.snapshot().await.unwrap();
    assert_eq!(spent.spent_codes, BTreeMap::from([(grant(1), t + 100)]));
    assert_eq!(spent.families.len(), 1);
    assert_eq!(spent.family_deadlines.len(), 1);
    assert_eq!(spent.clients, BTreeMap::new());
    assert!(spent.revoked_grants.is_empty() && spent.revoked_tokens.is_empty());
}

/// A client with id bytes `[n; 16]`.
fn client_n(n: u8, name: &str) -> ClientRecord {
    ClientRecord {
        id: ClientId::from_bytes([n; 16]),
        ..client(name)
    }
}

/// `replace_client` writes only over the record it was computed from (so a re-hash or an
/// operator's change never undoes another, nor brings a deleted client back), and a delete is
/// durable, seen by the next lookup, and `false` the second time.
pub async fn a_client_is_replaced_only_if_unchanged_and_deleted_durably(backend: &impl Backend) {
    let store = backend.open().await;
    store.insert_client(client("v1")).await.unwrap();
    let v1 = store.client(client("x").id).await.unwrap().unwrap();
    assert!(
        store
            .replace_client(Arc::clone(&v1), client("v2"))
            .await
            .unwrap()
    );
    assert_eq!(
        store.client(client("x").id).await.unwrap().unwrap().name,
        "v2"
    );
    // Computed from v1, which is no longer stored: refused, v2 stays.
    assert!(
        !store
            .replace_client(Arc::clone(&v1), client("stale"))
            .await
            .unwrap()
    );
    assert_eq!(
        store.client(client("x").id).await.unwrap().unwrap().name,
        "v2"
    );
    let v2 = store.client(client("x").id).await.unwrap().unwrap();
    assert!(store.delete_client(client("x").id).await.unwrap());
    assert!(store.client(client("x").id).await.unwrap().is_none());
    assert!(!store.delete_client(client("x").id).await.unwrap());
    // A replace after the delete does not bring it back.
    assert!(!store.replace_client(v2, client("revived")).await.unwrap());
    assert!(store.client(client("x").id).await.unwrap().is_none());
    drop(store);
    let reopened = backend.open().await;
    assert!(reopened.client(client("x").id).await.unwrap().is_none());
    assert!(reopened.snapshot().await.unwrap().clients.is_empty());
}

/// Pages of clients come in the order of their ids' bytes, each starting after the given id,
/// whether or not that id is still registered.
pub async fn clients_are_listed_in_pages_in_id_order(backend: &impl Backend) {
    let store = backend.open().await;
    assert!(store.clients_page(None, 10).await.unwrap().is_empty());
    // Inserted out of order; 0x80 and up check that the order is unsigned.
    for n in [0xf0, 3, 0x80, 1, 2] {
        store
            .insert_client(client_n(n, &format!("c{n}")))
            .await
            .unwrap();
    }
    let ids =
        |page: Vec<ClientRecord>| -> Vec<u8> { page.iter().map(|c| c.id.as_bytes()[0]).collect() };
    assert_eq!(ids(store.clients_page(None, 2).await.unwrap()), [1, 2]);
    let after = |n: u8| Some(ClientId::from_bytes([n; 16]));
    assert_eq!(
        ids(store.clients_page(after(2), 2).await.unwrap()),
        [3, 0x80]
    );
    assert_eq!(
        ids(store.clients_page(after(0x80), 2).await.unwrap()),
        [0xf0]
    );
    assert!(store.clients_page(after(0xf0), 2).await.unwrap().is_empty());
    // After an id that is gone: the next one still.
    assert!(
        store
            .delete_client(ClientId::from_bytes([3; 16]))
            .await
            .unwrap()
    );
    assert_eq!(
        ids(store.clients_page(after(3), 10).await.unwrap()),
        [0x80, 0xf0]
    );
    assert_eq!(
        ids(store.clients_page(None, 10).await.unwrap()),
        [1, 2, 0x80, 0xf0]
    );
    let first = store.clients_page(None, 1).await.unwrap();
    assert_eq!(first, [client_n(1, "c1")]);
}

/// A client's previous secret and the end of its grace period are stored with it, and a
/// replace that drops them is durable too.
pub async fn a_previous_secret_and_its_grace_survive_a_reopen(backend: &impl Backend) {
    use rand_core::SeedableRng as _;
    let keyring = tessera_core::Keyring::new(
        &[tessera_core::MasterKey::from_bytes(
            tessera_core::KeyId::new(1),
            [0x5c; 32],
        )],
        tessera_core::KeyId::new(1),
    )
    .unwrap();
    let id = client("x").id;
    let verifier = |seed: u8| {
        let mut rng = rand_chacha::ChaCha20Rng::from_seed([seed; 32]);
        let secret = tessera_core::ClientSecret::generate(&mut rng);
        tessera_core::SecretVerifier::new(keyring.client_secrets(), &id, &secret).unwrap()
    };
    let rotated = ClientRecord {
        verifier: Some(verifier(2)),
        previous: Some(tessera_service::store::PreviousSecret {
            verifier: verifier(1),
            until: 1_900_000_000,
        }),
        ..client("rotated")
    };
    let store = backend.open().await;
    store.insert_client(rotated.clone()).await.unwrap();
    drop(store);
    let store = backend.open().await;
    let stored = store.client(id).await.unwrap().unwrap();
    assert_eq!(*stored, rotated);
    let previous = stored.previous.as_ref().unwrap();
    assert_eq!(previous.until, 1_900_000_000);
    // A different previous verifier is a different record.
    let other = ClientRecord {
        previous: Some(tessera_service::store::PreviousSecret {
            verifier: verifier(3),
            until: 1_900_000_000,
        }),
        ..rotated.clone()
    };
    assert_ne!(other, rotated);
    let ended = ClientRecord {
        previous: None,
        ..rotated.clone()
    };
    assert!(store.replace_client(stored, ended.clone()).await.unwrap());
    drop(store);
    let store = backend.open().await;
    assert_eq!(*store.client(id).await.unwrap().unwrap(), ended);
}

/// The failed-auth key of client `n`.
fn client_key(n: u8) -> FailedAuthKey {
    FailedAuthKey::Client(ClientId::from_bytes([n; 16]))
}

/// Failures count per key within the window their first one opened (however many instances
/// share the store: the count is the store's), and a failure after the window starts a new one.
pub async fn failed_auths_count_per_key_within_a_window_and_restart_after_it(
    backend: &impl Backend,
) {
    let store = backend.open().await;
    let t = now();
    let source = |s: &str| FailedAuthKey::Source(s.parse().unwrap());
    let mut counts = Vec::new();
    for at in [0, 10, 59] {
        counts.push(
            store
                .record_failed_auth(client_key(1), t + at, 60)
                .await
                .unwrap(),
        );
    }
    assert_eq!(counts, [1, 2, 3]);
    // Other keys, of each kind, count on their own.
    assert_eq!(
        store
            .record_failed_auth(client_key(2), t, 60)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .record_failed_auth(source("192.0.2.1"), t, 60)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .record_failed_auth(source("192.0.2.1"), t, 60)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .record_failed_auth(source("2001:db8::"), t, 60)
            .await
            .unwrap(),
        1
    );
    // The window is the first failure's: at t + 60 it has closed, and this failure opens one.
    assert_eq!(
        store
            .record_failed_auth(client_key(1), t + 60, 60)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .record_failed_auth(client_key(1), t + 119, 60)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .record_failed_auth(client_key(1), t + 120, 60)
            .await
            .unwrap(),
        1
    );
    // A clock stepped back stays inside the open window.
    assert_eq!(
        store
            .record_failed_auth(client_key(1), t, 60)
            .await
            .unwrap(),
        2
    );
}

/// 64 failures of one key at once: every one is counted once (the answers are 1 to 64), so a
/// fleet's instances cannot each allow the limit.
pub async fn of_64_concurrent_failed_auths_each_is_counted_once(backend: &impl Backend) {
    let store = Arc::new(backend.open().await);
    let t = now();
    let failures: Vec<_> = (0..64)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.record_failed_auth(client_key(3), t, 60).await })
        })
        .collect();
    let mut counts = Vec::new();
    for failure in failures {
        counts.push(failure.await.unwrap().unwrap());
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=64).collect::<Vec<u32>>());
}

/// A purge forgets a failed-auth window once it closed, not before.
pub async fn a_purge_forgets_closed_failed_auth_windows_only(backend: &impl Backend) {
    let store = backend.open().await;
    let t = now();
    store
        .record_failed_auth(client_key(4), t, 60)
        .await
        .unwrap();
    store
        .record_failed_auth(client_key(5), t + 30, 60)
        .await
        .unwrap();
    assert_eq!(store.purge_expired(t + 59).await.unwrap(), 0);
    assert_eq!(
        store
            .record_failed_auth(client_key(4), t + 59, 60)
            .await
            .unwrap(),
        2
    );
    assert_eq!(store.purge_expired(t + 60).await.unwrap(), 1);
    assert_eq!(
        store
            .record_failed_auth(client_key(5), t + 60, 60)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .record_failed_auth(client_key(4), t + 60, 60)
            .await
            .unwrap(),
        1
    );
}
