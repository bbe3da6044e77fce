//! The authorization server's decisions (RFC 6749 §4.1, §6; RFC 7662; RFC 7009), built on
//! `tessera-core` for every token, secret and PKCE check and on a [`Store`] for state. It knows
//! no transport: each edge parses its wire form into the types here, calls one method per
//! endpoint and maps [`Error::kind`] to its own status.
//!
//! One file per endpoint: [`register`](Authority::register), [`issue_code`](Authority::issue_code),
//! [`authorize`](Authority::authorize) and the login hand-off,
//! [`token`](Authority::token) (the grants), [`introspect`](Authority::introspect),
//! [`revoke`](Authority::revoke); client authentication and its failed-auth throttle beside them;
//! the operator's client management ([`update_client`](Authority::update_client) and the rest).

mod client;
mod code;
mod error;
mod introspect;
mod login;
mod management;
mod protocol;
mod register;
mod revoke;
mod throttle;
mod token;

use std::sync::Arc;

use tessera_core::Keyring;

pub use self::client::{ClientAuth, THROTTLED_DELAY};
pub use self::code::CodeRequest;
pub use self::error::{Error, ErrorKind};
pub use self::introspect::Introspected;
pub use self::login::{AuthorizationRequest, PendingLogin, REJECT_ERRORS, Refused};
pub use self::management::{
    ClientPage, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_SECRET_GRACE, RotatedSecret,
};
pub use self::protocol::{GrantType, TokenType, TokenTypeHint};
pub use self::register::{MAX_CLIENT_NAME_LEN, MAX_REDIRECT_URIS, Registration};
pub use self::token::{Issued, TokenRequest};
use crate::clock::SharedClock;
use crate::config::Config;
use crate::keys::KeySource;
use crate::rng::SharedRng;
use crate::store::Store;

/// The token server: keys, storage (failed-auth counts included), randomness, time, lifetimes.
#[derive(Debug)]
pub struct Authority<S> {
    store: S,
    keys: Arc<KeySource>,
    rng: SharedRng,
    clock: SharedClock,
    config: Config,
}

impl<S: Store> Authority<S> {
    /// An authority over `store`, minting with the keyring `keys` holds when each request
    /// starts, reading the time from `clock`.
    pub fn new(
        store: S,
        keys: Arc<KeySource>,
        rng: SharedRng,
        clock: SharedClock,
        config: Config,
    ) -> Self {
        Self {
            store,
            keys,
            rng,
            clock,
            config,
        }
    }

    /// Its configuration.
    pub const fn config(&self) -> &Config {
        &self.config
    }

    /// Its storage.
    pub const fn store(&self) -> &S {
        &self.store
    }

    /// Its key source (to reload the keyring).
    pub fn keys(&self) -> &KeySource {
        &self.keys
    }

    /// The current time by its clock, unix seconds.
    pub fn now(&self) -> u64 {
        self.clock.now()
    }

    /// The keyring for one request: loaded once, so a reload mid-request cannot mix key sets.
    fn keyring(&self) -> Arc<Keyring> {
        self.keys.current()
    }

    fn family_expiry(&self, now: u64) -> u64 {
        now.saturating_add(u64::from(self.config.refresh_lifetime))
    }

    /// The latest a refresh family opened at `now` may live, however often it rotates.
    fn family_deadline(&self, now: u64) -> u64 {
        now.saturating_add(u64::from(self.config.refresh_max_lifetime))
    }

    fn revocation_expiry(&self, now: u64) -> u64 {
        now.saturating_add(self.config.grant_revocation_window())
    }
}
