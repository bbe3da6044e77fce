//! Fuzz target `authorization_code`: the property is [`tessera_fuzz::checks::authorization_code`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tessera_fuzz::checks::authorization_code(data));
