//! A gateway's whole use of Tessera: hold the access-token sub-key, verify a bearer token.
//!
//! Built only to measure what the verify path costs in flash and stack on a Cortex-M4
//! (`.text` via `llvm-size`, see BENCHMARKS.md). The key and token are FORMAT.md §6's vectors;
//! `black_box` keeps the compiler from evaluating the check at build time.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use panic_halt as _;
use tessera_core::{AccessToken, KeyId, KeySet, Purpose, SubKey};

/// The access-token sub-key of FORMAT.md §6's master key 1.
const SUBKEY: [u8; 32] = [
    0x1d, 0x6d, 0xf4, 0x83, 0x97, 0x87, 0x80, 0xee, 0xc4, 0x3a, 0x1e, 0x9a, 0x0c, 0x90, 0x5b, 0xc9,
    0x10, 0xab, 0xac, 0xad, 0xfc, 0xec, 0xca, 0xf1, 0x45, 0x52, 0x51, 0xd4, 0x11, 0xb5, 0xde, 0xdd,
];
/// FORMAT.md §6's access token.
const TOKEN: &str = "tsr_at_AQIAAQAAAABpVbkAAAAOEBAREhMUFRYXGBkaGxwdHh8PDg0MCwoJCAcGBQQDAgEAABEiM0RVZneImaq7zN3u_wVhbGljZRRvcGVuaWQgcHJvZmlsZSBlbWFpbAAAHzJrCVbC1LKSq214cZTdQA";

#[entry]
fn main() -> ! {
    let mut keys = KeySet::new(Purpose::AccessToken);
    let inserted = keys.insert(&SubKey::from_bytes(
        KeyId::new(1),
        Purpose::AccessToken,
        black_box(SUBKEY),
    ));
    let verdict = inserted
        .and_then(|()| AccessToken::verify(&keys, black_box(TOKEN), black_box(1_767_225_700)));
    black_box(verdict.is_ok());
    loop {
        core::hint::spin_loop();
    }
}
