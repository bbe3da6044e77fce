//! Fixtures shared by the integration tests.
#![allow(dead_code, reason = "each test file uses a different subset")]
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test fixtures"
)]

use core::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};
use tessera_core::{Audience, ClientId, Grant, KeyId, Keyring, MasterKey, Scope, Subject};

/// A deterministic "RNG" for vectors: fills each byte with the next value of a counter, so a
/// vector's random ids are written out plainly in FORMAT.md. Never use outside tests.
pub(crate) struct StepRng(pub(crate) u8);

impl TryRng for StepRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for b in dst {
            *b = self.0;
            self.0 = self.0.wrapping_add(1);
        }
        Ok(())
    }
}

impl TryCryptoRng for StepRng {}

/// Master key 1 of the vectors: bytes 0x00..=0x1f.
pub(crate) fn master(id: u16) -> MasterKey {
    let mut bytes = [0u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (i as u8).wrapping_add(((id - 1) as u8).wrapping_mul(0x20));
    }
    MasterKey::from_bytes(KeyId::new(id), bytes)
}

pub(crate) fn keyring(ids: &[u16], active: u16) -> Keyring {
    let masters: Vec<MasterKey> = ids.iter().map(|&id| master(id)).collect();
    Keyring::new(&masters, KeyId::new(active)).unwrap()
}

pub(crate) fn client(hex: &str) -> ClientId {
    ClientId::parse(hex).unwrap()
}

pub(crate) fn grant(subject: &str, scope: &str, audience: &[&str]) -> Grant {
    Grant {
        client_id: client("00112233445566778899aabbccddeeff"),
        subject: Subject::parse(subject).unwrap(),
        scope: Scope::parse(scope).unwrap(),
        audience: Audience::from_slice(&audience.iter().map(|h| client(h)).collect::<Vec<_>>())
            .unwrap(),
    }
}

/// 2026-01-01T00:00:00Z.
pub(crate) const NOW: u64 = 1_767_225_600;
