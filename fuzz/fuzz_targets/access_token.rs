//! Fuzz target `access_token`: the property is [`tessera_fuzz::checks::access_token`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tessera_fuzz::checks::access_token(data));
