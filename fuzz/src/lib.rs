//! The fuzz targets' properties, in [`checks`], so that `core/tests/fuzz_corpus.rs` can replay the
//! committed corpora against the very same code on stable Rust.

pub mod checks;
