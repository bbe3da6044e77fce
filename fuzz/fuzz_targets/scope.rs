//! Fuzz target `scope`: the property is [`tessera_testkit::fuzz::checks::scope`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tessera_testkit::fuzz::checks::scope(data));
