//! Counting failed client authentications (RFC 6749 §10.10) per key, per window: a key (a client
//! id, or a source address) with `limit` failures within `window` seconds of the first is
//! *throttled* until the window ends.
//!
//! What a throttled key means is the authority's decision: a throttled key's further *failures*
//! are answered `RESOURCE_EXHAUSTED` after a delay, while a right secret is always checked and
//! accepted, so an outsider who knows a client id (ids are not secret, RFC 6749 §2.2) cannot
//! lock that client out. The table is capped at [`MAX_TRACKED`]. Time is a parameter.

use core::hash::Hash;
use core::net::IpAddr;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Most keys whose failures are counted at once, per table. When the table is full, closed
/// windows go first, then the oldest open one.
pub(crate) const MAX_TRACKED: usize = 16 * 1024;

/// The key a source address is counted under: an IPv4 address, or the /64 network of an IPv6
/// one (one host usually holds a whole /64), with IPv4-mapped addresses read as IPv4.
pub(crate) fn source_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let network = v6.to_bits() & !((1u128 << 64) - 1);
                IpAddr::V6(core::net::Ipv6Addr::from_bits(network))
            }
        },
    }
}

/// One client's current window of failures.
#[derive(Clone, Copy, Debug)]
struct Window {
    /// Unix seconds of the window's first failure.
    start: u64,
    failures: u32,
}

impl Window {
    fn is_open(self, now: u64, length: u64) -> bool {
        now < self.start.saturating_add(length)
    }
}

/// Failed authentications per key (a client id, a source address), per window.
#[derive(Debug)]
pub(crate) struct Throttle<K> {
    limit: u32,
    window: u64,
    capacity: usize,
    windows: Mutex<HashMap<K, Window>>,
}

impl<K: Copy + Eq + Hash> Throttle<K> {
    /// Allows `limit` failures per key in a window of `window` seconds (both at least 1;
    /// `Config::validate` checks).
    pub(crate) fn new(limit: u32, window: u32) -> Self {
        Self::with_capacity(limit, window, MAX_TRACKED)
    }

    fn with_capacity(limit: u32, window: u32, capacity: usize) -> Self {
        Self {
            limit,
            window: u64::from(window),
            capacity,
            windows: Mutex::new(HashMap::new()),
        }
    }

    fn windows(&self) -> std::sync::MutexGuard<'_, HashMap<K, Window>> {
        // The map stays consistent at every step, so a panic elsewhere cannot corrupt it.
        self.windows.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// False if `client` has used up its failures in the window open at `now`.
    pub(crate) fn allows(&self, client: &K, now: u64) -> bool {
        self.windows()
            .get(client)
            .is_none_or(|w| !w.is_open(now, self.window) || w.failures < self.limit)
    }

    /// Counts a failed authentication of `client` at `now`; true if it used up the last one.
    pub(crate) fn record_failure(&self, client: K, now: u64) -> bool {
        let mut windows = self.windows();
        if let Some(w) = windows.get_mut(&client) {
            if w.is_open(now, self.window) {
                w.failures = w.failures.saturating_add(1);
            } else {
                *w = Window {
                    start: now,
                    failures: 1,
                };
            }
            return w.failures == self.limit;
        }
        if windows.len() >= self.capacity {
            windows.retain(|_, w| w.is_open(now, self.window));
        }
        if windows.len() >= self.capacity {
            let oldest = windows
                .iter()
                .min_by_key(|(_, w)| w.start)
                .map(|(id, _)| *id);
            if let Some(oldest) = oldest {
                windows.remove(&oldest);
            }
        }
        windows.insert(
            client,
            Window {
                start: now,
                failures: 1,
            },
        );
        self.limit == 1
    }

    /// Forgets the windows closed at `now`.
    pub(crate) fn purge(&self, now: u64) {
        self.windows().retain(|_, w| w.is_open(now, self.window));
    }

    /// How many keys are counted now.
    #[cfg(test)]
    pub(crate) fn tracked(&self) -> usize {
        self.windows().len()
    }
}

#[cfg(test)]
mod tests {
    use tessera_core::ClientId;

    use super::*;

    #[test]
    fn sources_are_counted_per_ipv4_address_and_per_ipv6_network() {
        let key = |s: &str| source_key(s.parse().unwrap());
        assert_eq!(key("192.0.2.7"), key("192.0.2.7"));
        assert_ne!(key("192.0.2.7"), key("192.0.2.8"));
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), key("192.0.2.7"));
    }

    fn id(n: u16) -> ClientId {
        let mut bytes = [0u8; 16];
        bytes[..2].copy_from_slice(&n.to_be_bytes());
        ClientId::from_bytes(bytes)
    }

    #[test]
    fn the_limit_applies_within_the_window_and_resets_after_it() {
        let throttle = Throttle::new(3, 60);
        let (a, b) = (id(1), id(2));
        assert!(throttle.allows(&a, 1000));
        assert!(!throttle.record_failure(a, 1000));
        assert!(!throttle.record_failure(a, 1010));
        assert!(throttle.allows(&a, 1020));
        assert!(throttle.record_failure(a, 1020));
        // Refused for the rest of the window that began at the first failure.
        assert!(!throttle.allows(&a, 1020));
        assert!(!throttle.allows(&a, 1059));
        // Another client is not slowed.
        assert!(throttle.allows(&b, 1030));
        // More failures while refused do not extend the window.
        assert!(!throttle.record_failure(a, 1030));
        assert!(!throttle.allows(&a, 1059));
        assert!(throttle.allows(&a, 1060));
        // A new window starts at the next failure.
        assert!(!throttle.record_failure(a, 1060));
        assert!(throttle.allows(&a, 1061));
    }

    #[test]
    fn failures_spread_over_windows_never_add_up() {
        let throttle = Throttle::new(2, 10);
        let a = id(1);
        for t in (0..1000).step_by(10) {
            throttle.record_failure(a, t);
            assert!(throttle.allows(&a, t));
        }
    }

    #[test]
    fn a_limit_of_one_refuses_after_the_first_failure() {
        let throttle = Throttle::new(1, 5);
        assert!(throttle.record_failure(id(1), 0));
        assert!(!throttle.allows(&id(1), 4));
        assert!(throttle.allows(&id(1), 5));
    }

    #[test]
    fn the_table_is_capped_and_drops_closed_windows_first() {
        let throttle = Throttle::with_capacity(2, 60, 8);
        let victim = id(0);
        throttle.record_failure(victim, 100);
        throttle.record_failure(victim, 100);
        for n in 1..8 {
            throttle.record_failure(id(n), 10);
        }
        assert_eq!(throttle.tracked(), 8);
        // At 100 the windows begun at 10 are closed: they go, the victim's stays.
        throttle.record_failure(id(8), 100);
        assert_eq!(throttle.tracked(), 2);
        assert!(!throttle.allows(&victim, 100));
        // Full of open windows: one goes for each newcomer, never more than the cap stays.
        for n in 9..200 {
            throttle.record_failure(id(n), 100);
            assert!(throttle.tracked() <= 8);
        }
        assert_eq!(throttle.tracked(), 8);
        throttle.purge(160);
        assert_eq!(throttle.tracked(), 0);
    }

    #[test]
    fn the_victim_survives_a_flood_of_younger_windows_only_until_evicted() {
        let throttle = Throttle::with_capacity(2, 60, 4);
        let victim = id(0);
        throttle.record_failure(victim, 100);
        throttle.record_failure(victim, 100);
        for n in 1..4 {
            throttle.record_failure(id(n), 101);
        }
        assert!(!throttle.allows(&victim, 102));
        // A fifth client evicts the oldest window, the victim's: an attacker must spend a
        // failure on `capacity` other registered clients to win `limit` more guesses.
        throttle.record_failure(id(4), 102);
        assert_eq!(throttle.tracked(), 4);
        assert!(throttle.allows(&victim, 102));
    }

    #[test]
    fn times_at_the_ends_of_u64_do_not_panic() {
        let throttle = Throttle::new(1, u32::MAX);
        throttle.record_failure(id(1), u64::MAX - 1);
        assert!(!throttle.allows(&id(1), u64::MAX - 1));
        // The window's end saturates at the end of time.
        assert!(throttle.allows(&id(1), u64::MAX));
        // A clock that went back is still inside the window.
        assert!(!throttle.allows(&id(1), 0));
        throttle.purge(u64::MAX);
        let throttle = Throttle::new(u32::MAX, 1);
        for _ in 0..10 {
            throttle.record_failure(id(2), 0);
        }
        assert!(throttle.allows(&id(2), 0));
    }
}
