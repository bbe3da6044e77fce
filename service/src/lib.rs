#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

// The embedder's surface is the `pub use` block below, `store` (to implement a backend),
// `listener` (its limits), `credentials` (a client's Basic header), `meter` (the metric names)
// and `audit` (the security events). The `#[doc(hidden)]`
// modules are reachable for the `tessera` binary, this crate's tests, the benches and the
// fuzz targets; they are not an API.
pub mod audit;
mod authority;
#[doc(hidden)]
pub mod cli;
mod clock;
mod config;
pub mod credentials;
#[doc(hidden)]
pub mod datadir;
#[doc(hidden)]
pub mod grpc;
pub mod http;
#[doc(hidden)]
pub mod keys;
#[doc(hidden)]
pub mod limit;
pub mod listener;
pub mod meter;
#[doc(hidden)]
pub mod rng;
#[doc(hidden)]
pub mod server;
pub mod store;

pub use authority::{
    Authority, AuthorizationRequest, ClientAuth, ClientPage, CodeRequest, DEFAULT_PAGE_SIZE, Error,
    ErrorKind, GrantType, Introspected, Issued, MAX_CLIENT_NAME_LEN, MAX_PAGE_SIZE,
    MAX_REDIRECT_URIS, MAX_SECRET_GRACE, PendingLogin, REJECT_ERRORS, Refused, Registration,
    RotatedSecret, THROTTLED_DELAY, TokenRequest, TokenType, TokenTypeHint,
};
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use config::{Config, DEFAULT_ISSUER, InvalidConfig, KeyFiles, StoreConfig};
pub use datadir::DataDirError;
pub use keys::KeySource;
pub use listener::Limits;
pub use server::{KeyReloader, MAX_REQUEST_BYTES, Server, ServerError, TIMED_OUT, serve};
pub use store::{Backend, Metered, RedbStore, Store};
