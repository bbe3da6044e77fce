//! What the Tessera crates' tests, fuzz targets and benches share, so that none of them keeps a
//! copy (rustls' `rustls-test` does the same for rustls):
//!
//! - `store`: the conformance suite every `Store` backend passes, run with one line,
//!   `store_conformance!`.
//! - `postgres`: a real PostgreSQL (CI's, or a throwaway one from the system's binaries) and
//!   the suite's PostgreSQL backend.
//! - `server`: a real server on 127.0.0.1:0, the operator token, `with_auth` and the requests of
//!   the authorization-code flow (`TestServer::tokens` is the register→code→exchange preamble);
//!   `h2raw`, a raw HTTP/2 peer for the transport-abuse tests; `http`, a real HTTP client for
//!   the OAuth endpoints.
//! - [`fuzz`]: every fuzz target's property (the core's `checks`, and `service` for
//!   `service_request`: input, fixture, oracle) and the replay of the committed corpora.
//! - [`vector`]: the fixtures of the core's vectors (master keys, the counting RNG, client, grant).
//! - [`pkce`]: the RFC 7636 Appendix B pair.
//!
//! The first three, and `fuzz::service`, need the `service` feature (on by default);
//! `tessera-core`'s tests use the kit without it, so they build nothing of the service.
//!
//! Not published: it is a test kit, its API changes with the tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test kit reports a failure by panicking, as the tests that call it do"
)]

pub mod fuzz;
#[cfg(feature = "service")]
pub mod h2raw;
#[cfg(feature = "service")]
pub mod http;
pub mod pkce;
#[cfg(feature = "service")]
pub mod postgres;
#[cfg(feature = "service")]
pub mod server;
#[cfg(feature = "service")]
pub mod store;
pub mod vector;
