//! Fuzz target `roundtrip`: the property is [`tessera_fuzz::checks::roundtrip`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tessera_fuzz::checks::roundtrip(data));
