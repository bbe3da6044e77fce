//! Fuzz target `client_secret`: the property is [`tessera_testkit::fuzz::checks::client_secret`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tessera_testkit::fuzz::checks::client_secret(data));
