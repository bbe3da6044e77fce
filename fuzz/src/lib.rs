//! The fuzz targets' properties, so that the stable corpus replays run the very same code:
//! [`checks`] (the core's targets) from `core/tests/fuzz_corpus.rs`, and [`service`] (the
//! `service_request` target) from `service/tests/fuzz_corpus.rs`.

pub mod checks;
pub mod service;
