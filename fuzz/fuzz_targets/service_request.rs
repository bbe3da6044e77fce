//! Fuzz target `service_request`: the property is [`tessera_testkit::fuzz::service::service_request`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tessera_testkit::fuzz::service::service_request(data));
