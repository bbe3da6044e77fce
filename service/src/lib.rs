#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod authority;
pub mod cli;
pub mod clock;
pub mod config;
pub mod credentials;
pub mod datadir;
pub mod gateway;
pub mod grpc;
pub mod keys;
pub mod limit;
pub mod listener;
pub mod rng;
pub mod server;
pub mod store;

pub use authority::{Authority, Error};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::Config;
pub use server::{Server, serve};
pub use store::{RedbStore, Store};
