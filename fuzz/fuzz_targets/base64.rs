//! Fuzz target `base64`: the property is [`tessera_testkit::fuzz::checks::base64`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tessera_testkit::fuzz::checks::base64(data));
