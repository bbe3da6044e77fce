#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod auth;
pub mod authority;
pub mod cli;
pub mod config;
pub mod datadir;
pub mod error;
pub mod gateway;
pub mod grpc;
pub mod keys;
pub mod limit;
pub mod listener;
pub mod rng;
pub mod server;
pub mod store;
pub mod throttle;

pub use authority::Authority;
pub use config::Config;
pub use error::Error;
pub use server::{Server, serve};
pub use store::{RedbStore, Store};
