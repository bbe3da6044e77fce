//! Failed client authentications counted in this process's memory (RFC 6749 §10.10): what
//! [`Store::record_failed_auth`](super::Store::record_failed_auth) is for a backend only one
//! process opens (the embedded redb file is locked to one). Time is a parameter.
//!
//! Each table is capped at [`MAX_TRACKED`] keys. When one is full, closed windows go first,
//! then the oldest open one.

use core::hash::Hash;
use core::net::IpAddr;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tessera_core::ClientId;

use super::FailedAuthKey;

/// Most keys whose failures are counted at once, per table (clients, sources).
pub(crate) const MAX_TRACKED: usize = 16 * 1024;

/// One key's current window of failures.
#[derive(Clone, Copy, Debug)]
struct Window {
    /// Unix seconds of the window's first failure.
    start: u64,
    /// The first second past the window.
    end: u64,
    failures: u32,
}

impl Window {
    const fn is_open(self, now: u64) -> bool {
        now < self.end
    }
}

/// Failures per key, per window.
#[derive(Debug)]
struct Windows<K> {
    capacity: usize,
    windows: Mutex<HashMap<K, Window>>,
}

impl<K: Copy + Eq + Hash> Windows<K> {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            windows: Mutex::new(HashMap::new()),
        }
    }

    fn windows(&self) -> MutexGuard<'_, HashMap<K, Window>> {
        // The map stays consistent at every step, so a panic elsewhere cannot corrupt it.
        self.windows.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a failure of `key` at `now`; the failures in its window, this one included.
    fn record(&self, key: K, now: u64, window: u32) -> u32 {
        let fresh = Window {
            start: now,
            end: now.saturating_add(u64::from(window)),
            failures: 1,
        };
        let mut windows = self.windows();
        if let Some(w) = windows.get_mut(&key) {
            if w.is_open(now) {
                w.failures = w.failures.saturating_add(1);
            } else {
                *w = fresh;
            }
            return w.failures;
        }
        if windows.len() >= self.capacity {
            windows.retain(|_, w| w.is_open(now));
        }
        if windows.len() >= self.capacity {
            let oldest = windows
                .iter()
                .min_by_key(|(_, w)| w.start)
                .map(|(key, _)| *key);
            if let Some(oldest) = oldest {
                windows.remove(&oldest);
            }
        }
        windows.insert(key, fresh);
        1
    }

    /// Forgets the windows closed at `now`; how many went.
    fn purge(&self, now: u64) -> u64 {
        let mut windows = self.windows();
        let before = windows.len();
        windows.retain(|_, w| w.is_open(now));
        u64::try_from(before.saturating_sub(windows.len())).unwrap_or(u64::MAX)
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.windows().len()
    }
}

/// The failure windows of clients and of source addresses, each table capped on its own, so a
/// flood of sources cannot evict a client's window.
#[derive(Debug)]
pub(super) struct LocalFailures {
    clients: Windows<ClientId>,
    sources: Windows<IpAddr>,
}

impl Default for LocalFailures {
    fn default() -> Self {
        Self {
            clients: Windows::new(MAX_TRACKED),
            sources: Windows::new(MAX_TRACKED),
        }
    }
}

impl LocalFailures {
    /// See [`Store::record_failed_auth`](super::Store::record_failed_auth).
    pub(super) fn record(&self, key: FailedAuthKey, now: u64, window: u32) -> u32 {
        match key {
            FailedAuthKey::Client(id) => self.clients.record(id, now, window),
            FailedAuthKey::Source(addr) => self.sources.record(addr, now, window),
        }
    }

    /// Forgets the windows closed at `now`; how many went.
    pub(super) fn purge(&self, now: u64) -> u64 {
        self.clients
            .purge(now)
            .saturating_add(self.sources.purge(now))
    }
}

// The counting itself is a conformance test (`tessera-testkit`'s `store`); these are of the
// in-memory table's cap.
#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u16) -> ClientId {
        let mut bytes = [0u8; 16];
        bytes[..2].copy_from_slice(&n.to_be_bytes());
        ClientId::from_bytes(bytes)
    }

    #[test]
    fn the_table_is_capped_and_drops_closed_windows_first() {
        let table = Windows::new(8);
        let victim = id(0);
        table.record(victim, 100, 60);
        assert_eq!(table.record(victim, 100, 60), 2);
        for n in 1..8 {
            table.record(id(n), 10, 60);
        }
        assert_eq!(table.tracked(), 8);
        // At 100 the windows begun at 10 are closed: they go, the victim's stays.
        table.record(id(8), 100, 60);
        assert_eq!(table.tracked(), 2);
        assert_eq!(table.record(victim, 100, 60), 3);
        // Full of open windows: one goes for each newcomer, never more than the cap stays.
        for n in 9..200 {
            table.record(id(n), 100, 60);
            assert!(table.tracked() <= 8);
        }
        assert_eq!(table.tracked(), 8);
        assert_eq!(table.purge(160), 8);
        assert_eq!(table.tracked(), 0);
    }

    #[test]
    fn the_victim_survives_a_flood_of_younger_windows_only_until_evicted() {
        let table = Windows::new(4);
        let victim = id(0);
        table.record(victim, 100, 60);
        table.record(victim, 100, 60);
        for n in 1..4 {
            table.record(id(n), 101, 60);
        }
        // A fifth client evicts the oldest window, the victim's: an attacker must spend a
        // failure on `capacity` other registered clients to win more guesses.
        table.record(id(4), 102, 60);
        assert_eq!(table.tracked(), 4);
        assert_eq!(table.record(victim, 102, 60), 1);
    }

    #[test]
    fn times_at_the_ends_of_u64_do_not_panic() {
        let table = Windows::new(4);
        table.record(id(1), u64::MAX - 1, u32::MAX);
        assert_eq!(table.record(id(1), u64::MAX - 1, u32::MAX), 2);
        // The window's end saturates at the end of time.
        assert_eq!(table.record(id(1), u64::MAX, u32::MAX), 1);
        table.purge(u64::MAX);
        for _ in 0..10 {
            table.record(id(2), 0, 1);
        }
        assert_eq!(table.record(id(2), 0, 1), 11);
    }
}
