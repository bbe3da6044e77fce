//! Fuzz target `access_token`: the property is [`tessera_testkit::fuzz::checks::access_token`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tessera_testkit::fuzz::checks::access_token(data));
