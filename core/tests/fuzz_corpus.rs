//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/`) through the fuzz targets' own
//! checks (`tessera-testkit`'s `fuzz::checks`) on stable Rust, so an input that once crashed a
//! target stays a regression test under a plain `cargo test`.

use std::fs;

use tessera_testkit::fuzz::{checks, corpus};

#[test]
fn every_corpus_input_passes_its_targets_check() {
    let mut failures = Vec::new();
    let mut total = 0usize;
    for (target, check) in checks::TARGETS {
        let (failed, inputs) = corpus::failures(target, check);
        failures.extend(failed);
        total += inputs;
    }
    assert!(
        failures.is_empty(),
        "{} of {total} corpus inputs fail: {failures:#?}",
        failures.len()
    );
}

#[test]
fn every_corpus_directory_is_a_target() {
    for entry in fs::read_dir(corpus::dir()).unwrap() {
        let name = entry.unwrap().file_name();
        let name = name.to_str().unwrap();
        assert!(
            checks::TARGETS.iter().any(|(target, _)| *target == name)
                || checks::REPLAYED_ELSEWHERE
                    .iter()
                    .any(|(target, _)| *target == name),
            "fuzz/corpus/{name} is not replayed: add it to checks::TARGETS"
        );
    }
}
