//! The fuzz targets' properties, one copy each: `fuzz/fuzz_targets/*` run them under libFuzzer
//! and the corpus replays ([`corpus::replay`]) run them on stable under `cargo test`.

pub mod corpus;
pub mod service;
