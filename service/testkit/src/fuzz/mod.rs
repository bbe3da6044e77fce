//! The fuzz targets' properties, one copy each: `fuzz/fuzz_targets/*` run them under libFuzzer
//! and the corpus replays ([`corpus`]) run them on stable under `cargo test`.

pub mod checks;
pub mod corpus;
#[cfg(feature = "service")]
pub mod service;
