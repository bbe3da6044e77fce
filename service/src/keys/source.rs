//! The keyring as a reloadable input: [`KeySource`] hands each request one consistent
//! [`Keyring`] and can swap in a new one atomically (live rotation, shared key files).

use std::sync::{Arc, PoisonError, RwLock};

use tessera_core::Keyring;

/// The current keyring, replaceable while requests run. A request loads it once
/// ([`current`](Self::current)) and uses that snapshot throughout, so it sees either the old
/// key set or the new one, never a mix.
#[derive(Debug)]
pub struct KeySource(RwLock<Arc<Keyring>>);

impl KeySource {
    /// A source holding `keyring`.
    pub fn new(keyring: Keyring) -> Self {
        Self(RwLock::new(Arc::new(keyring)))
    }

    /// The keyring in force now.
    pub fn current(&self) -> Arc<Keyring> {
        // A writer only swaps one `Arc`, so a poisoned lock still holds a whole keyring.
        Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Puts `keyring` in force for every request that starts after this returns.
    pub fn replace(&self, keyring: Keyring) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keyring);
    }
}

#[cfg(test)]
mod tests {
    use rand_core::SeedableRng;
    use tessera_core::{KeyId, MasterKey};

    use super::*;

    fn keyring(id: u16) -> Keyring {
        let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
        let key = MasterKey::generate(KeyId::new(id), &mut rng);
        Keyring::new(&[key], KeyId::new(id)).unwrap()
    }

    #[test]
    fn a_request_keeps_its_keyring_while_a_new_one_takes_over() {
        let source = KeySource::new(keyring(1));
        let in_flight = source.current();
        source.replace(keyring(2));
        assert_eq!(in_flight.client_secrets().active_id(), Some(KeyId::new(1)));
        assert_eq!(
            source.current().client_secrets().active_id(),
            Some(KeyId::new(2))
        );
    }
}
