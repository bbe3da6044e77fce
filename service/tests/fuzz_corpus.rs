//! Replays the committed `service_request` fuzz corpus (`fuzz/corpus/service_request/`) through
//! the fuzz target's own check on stable Rust, so an input that once failed stays a regression
//! test under a plain `cargo test`. The check lives in `fuzz/src/service.rs`, compiled here as a
//! module (as `core/tests/fuzz_corpus.rs` does for the core's targets).

use core::panic::AssertUnwindSafe;
use std::fs;
use std::panic::catch_unwind;
use std::path::Path;

#[allow(
    unreachable_pub,
    reason = "the check is the public API of the fuzz crate, which shares this file"
)]
#[path = "../../fuzz/src/service.rs"]
mod service;

#[test]
fn every_service_request_corpus_input_passes_the_check() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/service_request");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} has no inputs", dir.display());
    let failures: Vec<_> = files
        .iter()
        .filter(|path| {
            let data = fs::read(path).unwrap();
            catch_unwind(AssertUnwindSafe(|| service::service_request(&data))).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} corpus inputs fail: {failures:#?}",
        failures.len(),
        files.len()
    );
}
