//! The fixtures of the core's vectors (FORMAT.md §6): master keys `00 01 … 1f` and on, a
//! counting "RNG" whose output is written out plainly in FORMAT.md, the vectors' client and
//! grant, and their time.
#![allow(
    clippy::cast_possible_truncation,
    clippy::arithmetic_side_effects,
    reason = "key bytes are counters that wrap by design"
)]

use core::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};
use tessera_core::{Audience, ClientId, Grant, KeyId, Keyring, MasterKey, Scope, Subject};

/// 2026-01-01T00:00:00Z, the `now` of the vectors.
pub const NOW: u64 = 1_767_225_600;

/// The vectors' client id.
pub const CLIENT: &str = "00112233445566778899aabbccddeeff";

/// A deterministic "RNG" for vectors: fills each byte with the next value of a counter, so a
/// vector's random ids are written out plainly in FORMAT.md. Never use outside tests.
#[derive(Debug)]
pub struct StepRng(pub u8);

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

/// Master key `id` of the vectors: key 1 is the bytes `0x00..=0x1f`, key 2 `0x20..=0x3f`, ...
pub fn master(id: u16) -> MasterKey {
    let mut bytes = [0u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (i as u8).wrapping_add(((id - 1) as u8).wrapping_mul(0x20));
    }
    MasterKey::from_bytes(KeyId::new(id), bytes)
}

/// A keyring of the vectors' master keys `ids`, `active` minting.
pub fn keyring(ids: &[u16], active: u16) -> Keyring {
    let masters: Vec<MasterKey> = ids.iter().map(|&id| master(id)).collect();
    Keyring::new(&masters, KeyId::new(active)).unwrap()
}

/// The client id `hex`.
pub fn client(hex: &str) -> ClientId {
    ClientId::parse(hex).unwrap()
}

/// A grant of the vectors' [`CLIENT`] to `subject`, for `scope` and `audience` (client ids).
pub fn grant(subject: &str, scope: &str, audience: &[&str]) -> Grant {
    Grant {
        client_id: client(CLIENT),
        subject: Subject::parse(subject).unwrap(),
        scope: Scope::parse(scope).unwrap(),
        audience: Audience::from_slice(&audience.iter().map(|h| client(h)).collect::<Vec<_>>())
            .unwrap(),
    }
}
