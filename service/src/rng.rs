//! The service's randomness: a userspace ChaCha20 CSPRNG seeded from the OS (`getrandom`).

use std::sync::Mutex;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// A shared, OS-seeded CSPRNG (the core takes any `rand_core::CryptoRng`).
#[derive(Debug)]
pub struct SharedRng(Mutex<ChaCha20Rng>);

impl SharedRng {
    /// Seeds a new generator with 256 bits from the operating system.
    ///
    /// # Errors
    /// The OS error if no entropy is available.
    pub fn from_os() -> Result<Self, getrandom::Error> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)?;
        let rng = ChaCha20Rng::from_seed(seed);
        zeroize::Zeroize::zeroize(&mut seed);
        Ok(Self(Mutex::new(rng)))
    }

    /// Runs `f` with the generator locked.
    pub fn with<T>(&self, f: impl FnOnce(&mut ChaCha20Rng) -> T) -> T {
        // A panic while holding the lock cannot leave the generator in a weak state.
        let mut rng = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut rng)
    }
}
