//! Fuzz target `authorization_code`: the property is [`tessera_testkit::fuzz::checks::authorization_code`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tessera_testkit::fuzz::checks::authorization_code(data));
