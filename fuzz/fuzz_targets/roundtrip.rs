//! Fuzz target `roundtrip`: the property is [`tessera_testkit::fuzz::checks::roundtrip`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tessera_testkit::fuzz::checks::roundtrip(data));
