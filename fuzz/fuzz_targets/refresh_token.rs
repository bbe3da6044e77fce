//! Fuzz target `refresh_token`: the property is [`tessera_testkit::fuzz::checks::refresh_token`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tessera_testkit::fuzz::checks::refresh_token(data));
