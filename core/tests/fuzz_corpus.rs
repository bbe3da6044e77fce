//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/`) through the fuzz targets' own
//! checks on stable Rust, so an input that once crashed a target stays a regression test under a
//! plain `cargo test`. The checks live in `fuzz/src/checks.rs`, compiled here as a module.

use core::panic::AssertUnwindSafe;
use std::panic::catch_unwind;
use std::path::{Path, PathBuf};
use std::{fs, io};

#[allow(
    unreachable_pub,
    reason = "the checks are the public API of the fuzz crate, which shares this file"
)]
#[path = "../../fuzz/src/checks.rs"]
mod checks;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus")
}

/// The files of one target's corpus, sorted so failures list in a stable order.
fn inputs(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[test]
fn every_corpus_input_passes_its_targets_check() {
    let mut failures = Vec::new();
    let mut total = 0usize;
    for (target, check) in checks::TARGETS {
        let files = inputs(&corpus_dir().join(target)).unwrap();
        assert!(!files.is_empty(), "fuzz/corpus/{target} has no inputs");
        for path in files {
            let data = fs::read(&path).unwrap();
            total += 1;
            if catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
                failures.push(path.display().to_string());
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} corpus inputs fail: {failures:#?}",
        failures.len()
    );
}

#[test]
fn every_corpus_directory_is_a_target() {
    for entry in fs::read_dir(corpus_dir()).unwrap() {
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
