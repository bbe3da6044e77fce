//! Replays the committed `service_request` fuzz corpus (`fuzz/corpus/service_request/`) through
//! the fuzz target's own check (`tessera-testkit`'s `fuzz::service`) on stable Rust, so an input
//! that once failed stays a regression test under a plain `cargo test`.

use tessera_testkit::fuzz::{corpus, service};

#[test]
fn every_service_request_corpus_input_passes_the_check() {
    corpus::replay("service_request", service::service_request);
}
