//! The core targets' properties, so that the stable corpus replay runs the very same code:
//! [`checks`], from `core/tests/fuzz_corpus.rs`. The `service_request` target's property is in
//! the test kit (`tessera_testkit::fuzz::service`), replayed by `service/tests/fuzz_corpus.rs`.

pub mod checks;
