//! Fuzz target `login_challenge`: the property is [`tessera_testkit::fuzz::checks::login_challenge`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tessera_testkit::fuzz::checks::login_challenge(data));
