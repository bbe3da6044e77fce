//! Fuzz target `pkce`: the property is [`tessera_testkit::fuzz::checks::pkce`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tessera_testkit::fuzz::checks::pkce(data));
