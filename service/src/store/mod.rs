//! The service's durable state behind one trait: registered clients, the spent-code ledger
//! (RFC 6749 §4.1.2: codes are single-use), revocations (RFC 7009) and refresh-token families.
//!
//! (RFC 6749 §4.1.2: codes are single-use), revocations (RFC 7009), refresh-token families and
//! the failed-auth counts (RFC 6749 §10.10).
//!
//! Every entry except a client carries an expiry (unix seconds) after which the token it covers no
//! longer verifies anyway, so [`Store::purge_expired`] keeps the state bounded.
//!
//! Two backends: the embedded redb file ([`RedbStore`], one process) and PostgreSQL
//! ([`PostgresStore`], a fleet of instances sharing one database).

mod backend;
mod file;
mod metered;
mod overlay;
pub mod postgres;
mod record;
mod redb;
mod throttle;

use core::future::Future;
use core::net::IpAddr;
use std::collections::BTreeMap;
use std::sync::Arc;

use tessera_core::{ClientId, GrantId, TokenId};

pub use self::backend::Backend;
pub use self::file::{CheckedFile, FileError, KeyRecord};
pub use self::metered::Metered;
pub use self::postgres::{PostgresStore, PostgresUrl};
pub use self::record::{ClientRecord, PreviousSecret};
pub use self::redb::{DATABASE_FILE, RedbStore};

/// A storage backend could not complete an operation: nothing was acknowledged.
#[derive(Debug)]
pub struct StoreError(Box<dyn core::error::Error + Send + Sync>);

impl StoreError {
    /// Wraps a backend's error.
    pub fn new(source: impl Into<Box<dyn core::error::Error + Send + Sync>>) -> Self {
        Self(source.into())
    }
}

impl core::fmt::Display for StoreError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "storage unavailable: {}", self.0)
    }
}

impl core::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        // The message already holds the backend's own: start the chain after it.
        self.0.source()
    }
}

/// How long past its expiry an entry is kept before a purge deletes it, so that a code
/// spent at the instant it expires, or under a clock stepped back by less than this, still finds
/// its spent mark (and a revoked token its revocation).
pub const PURGE_MARGIN: u64 = 300;

/// What marking a code spent found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spend {
    /// The code was unspent: this caller won it, and the grant's refresh family starts at
    /// generation 0.
    First,
    /// The code was already spent: a replay (RFC 6749 §4.1.2).
    Replayed,
    /// The code's expiry had passed when the write would have committed: nothing was marked.
    Expired,
}

/// What presenting a refresh token of some generation found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// It was the newest generation; the family now expects the next one, whose token may
    /// live until `until` (the family's absolute deadline may cut its lifetime short).
    Rotated {
        /// The next token's latest expiry, unix seconds.
        until: u64,
    },
    /// An older generation: the token was used before, so the whole family (grant) is now revoked.
    Reused,
    /// The family is unknown, expired, past its absolute deadline, or revoked.
    Unknown,
}

/// What a failed client authentication is counted against (RFC 6749 §10.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailedAuthKey {
    /// The client whose secret was wrong.
    Client(ClientId),
    /// The source it came from: an IPv4 address, or an IPv6 /64 network (the authority
    /// reduces an address to its key).
    Source(IpAddr),
}

/// The storage the handlers use. Every method that returns `Ok` after a write has made that write
/// durable. Implementations must make [`spend_code`](Self::spend_code) and
/// [`rotate_refresh`](Self::rotate_refresh) atomic: of concurrent callers, exactly one wins.
/// Of concurrent rotations of one generation, one is [`Rotation::Rotated`]; every other is
/// [`Rotation::Reused`] (the first of them revokes the grant) or [`Rotation::Unknown`] (it
/// found the grant revoked already). The conformance suite (`tessera-testkit`'s `store`) checks
/// every promise here on each backend.
pub trait Store: Send + Sync + 'static {
    /// Stores a newly registered client.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    fn insert_client(
        &self,
        record: ClientRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Looks a client up.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    fn client(
        &self,
        id: ClientId,
    ) -> impl Future<Output = Result<Option<Arc<ClientRecord>>, StoreError>> + Send;

    /// Replaces the stored record of `current.id` with `new` (same id) if it is still `current`:
    /// `false`, and nothing written, if another write changed or deleted it meanwhile. So an
    /// update computed from a record read earlier (a re-hashed secret, an operator's change)
    /// never undoes a rotation or brings a deleted client back.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    fn replace_client(
        &self,
        current: Arc<ClientRecord>,
        new: ClientRecord,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes a client: `false` if it was not registered. Once this returns, [`client`]
    /// (Self::client) finds it no more, on every instance that shares the store.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    fn delete_client(&self, id: ClientId) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Up to `limit` clients in the order of their ids' bytes, starting after `after` (from the
    /// first without it): one page of a listing that stays stable while clients come and go.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    fn clients_page(
        &self,
        after: Option<ClientId>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<ClientRecord>, StoreError>> + Send;

    /// Atomically marks the code of `grant` spent (kept until `code_expires_at` plus
    /// [`PURGE_MARGIN`]) and, if this is the first time, opens its refresh family at generation
    /// 0, kept until `family_expires_at`, and never past `family_deadline` however often it
    /// rotates. A code whose expiry has passed by the time the write commits (read from the
    /// clock then) is [`Spend::Expired`] and marks nothing.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails; nothing is marked then.
    fn spend_code(
        &self,
        grant: GrantId,
        code_expires_at: u64,
        family_expires_at: u64,
        family_deadline: u64,
    ) -> impl Future<Output = Result<Spend, StoreError>> + Send;

    /// Atomically checks that `generation` is the newest of the family of `grant` and advances
    /// it (the new token expiring at `family_expires_at`, cut to the family's deadline); an
    /// older generation revokes the grant until `revoke_until`. A family past its deadline is
    /// [`Rotation::Unknown`]. A family without a deadline (opened before deadlines existed)
    /// gets `deadline_if_none`.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    fn rotate_refresh(
        &self,
        grant: GrantId,
        generation: u32,
        family_expires_at: u64,
        deadline_if_none: u64,
        revoke_until: u64,
        now: u64,
    ) -> impl Future<Output = Result<Rotation, StoreError>> + Send;

    /// The newest refresh generation of the family of `grant`, if it is open at `now`.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    fn refresh_generation(
        &self,
        grant: GrantId,
        now: u64,
    ) -> impl Future<Output = Result<Option<u32>, StoreError>> + Send;

    /// Revokes every token of `grant` until `until` (and closes its refresh family); a grant
    /// revoked again stays revoked until the later of the two.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    fn revoke_grant(
        &self,
        grant: GrantId,
        until: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Revokes the one token `token` until `until` (its expiry). As for a grant, the longest
    /// revocation of a token wins.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    fn revoke_token(
        &self,
        token: TokenId,
        until: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// True if `grant` or `token` is revoked at `now`.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    fn is_revoked(
        &self,
        grant: GrantId,
        token: TokenId,
        now: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Counts a failed authentication against `key` at `now`, and returns the failures of its
    /// window, this one included: the window open at `now`, or a new one of `window` seconds
    /// that this failure starts. Counts are atomic: of `n` concurrent failures in one window,
    /// the answers are `1..=n`. A backend that several processes share counts for all of them
    /// (so a fleet of N instances does not allow N times a limit); one that a single process
    /// opens may count in memory.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    fn record_failed_auth(
        &self,
        key: FailedAuthKey,
        now: u64,
        window: u32,
    ) -> impl Future<Output = Result<u32, StoreError>> + Send;

    /// Deletes the spent codes, revocations, families and family deadlines that expired more
    /// than [`PURGE_MARGIN`] before `now`, and the failed-auth windows closed at `now`,
    /// returning how many entries went. Several instances may purge one store at once.
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    fn purge_expired(&self, now: u64) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// Every entry a [`Store`] holds, decoded and in key order: what a test or a fuzz oracle compares
/// to see what a call changed, whatever the backend. Its `Debug` shows only the sizes (clients
/// hold secret verifiers).
#[doc(hidden)]
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StoreSnapshot {
    /// The registered clients.
    pub clients: BTreeMap<ClientId, ClientRecord>,
    /// The grants whose code was spent → the code's expiry.
    pub spent_codes: BTreeMap<GrantId, u64>,
    /// Revoked grants → until when.
    pub revoked_grants: BTreeMap<GrantId, u64>,
    /// Revoked tokens → until when.
    pub revoked_tokens: BTreeMap<TokenId, u64>,
    /// Open refresh families by grant.
    pub families: BTreeMap<GrantId, RefreshFamily>,
    /// Refresh families' absolute deadlines by grant.
    pub family_deadlines: BTreeMap<GrantId, u64>,
}

impl core::fmt::Debug for StoreSnapshot {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StoreSnapshot")
            .field("clients", &self.clients.len())
            .field("spent_codes", &self.spent_codes.len())
            .field("revoked_grants", &self.revoked_grants.len())
            .field("revoked_tokens", &self.revoked_tokens.len())
            .field("families", &self.families.len())
            .field("family_deadlines", &self.family_deadlines.len())
            .finish()
    }
}

/// One refresh family of a [`StoreSnapshot`].
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefreshFamily {
    /// The newest generation: the only one that rotates.
    pub newest: u32,
    /// When the newest generation's token expires, unix seconds.
    pub expires_at: u64,
}

/// A [`Store`] whose whole committed state can be read at once: what the conformance suite and
/// the `service_request` fuzz oracle compare. Not for serving (a snapshot reads every entry).
#[doc(hidden)]
pub trait Inspect: Store {
    /// Every committed entry, read from one consistent view of the backend (not from a cache).
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails.
    fn snapshot(&self) -> impl Future<Output = Result<StoreSnapshot, StoreError>> + Send;
}
