//! Fuzz target `scope`: the property is [`tessera_fuzz::checks::scope`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tessera_fuzz::checks::scope(data));
