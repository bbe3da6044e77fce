//! Replays a committed fuzz corpus (`fuzz/corpus/<target>/`) through its target's check on
//! stable Rust, so an input that once failed stays a regression test under a plain `cargo test`.

use core::panic::AssertUnwindSafe;
use std::fs;
use std::panic::catch_unwind;
use std::path::{Path, PathBuf};

/// The directory of the committed corpora, `fuzz/corpus/`.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

/// The files of one target's corpus, sorted so failures list in a stable order.
///
/// # Panics
/// If the directory cannot be read or holds no input.
pub fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = dir().join(target);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} has no inputs", dir.display());
    files
}

/// Runs `check` on every input of `target`'s corpus; returns the inputs that failed it and how
/// many there were.
pub fn failures(target: &str, check: impl Fn(&[u8])) -> (Vec<String>, usize) {
    let files = inputs(target);
    let failed = (files.iter())
        .filter(|path| {
            let data = fs::read(path).unwrap();
            catch_unwind(AssertUnwindSafe(|| check(&data))).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    (failed, files.len())
}

/// Asserts that every input of `target`'s corpus passes `check`.
///
/// # Panics
/// Listing the inputs that fail.
pub fn replay(target: &str, check: impl Fn(&[u8])) {
    let (failed, total) = failures(target, check);
    assert!(
        failed.is_empty(),
        "{} of {total} corpus inputs of {target} fail: {failed:#?}",
        failed.len()
    );
}
