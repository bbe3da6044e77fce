//! What the Tessera crates' tests, fuzz targets and benches share, so that none of them keeps a
//! copy (rustls' `rustls-test` does the same for rustls):
//!
//! - [`store`]: the conformance suite every [`Store`](tessera_service::Store) backend passes,
//!   run with one line, [`store_conformance!`].
//! - [`fuzz`]: the `service_request` fuzz property (input, fixture, oracle) and the replay of the
//!   committed corpora.
//! - [`pkce`]: the RFC 7636 Appendix B pair.
//!
//! Not published: it is a test kit, its API changes with the tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test kit reports a failure by panicking, as the tests that call it do"
)]

pub mod fuzz;
pub mod h2raw;
pub mod pkce;
pub mod server;
pub mod store;
