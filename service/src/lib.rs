//! The Tessera gRPC token server (`tessera.v1.TokenService`), its durable storage and the
//! `tessera` command line. All token logic lives in `tessera-core`; this crate adds transport,
//! authentication, storage and the single-use, revocation and rotation state.
#![doc = ""]
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod auth;
pub mod authority;
pub mod cli;
pub mod config;
pub mod error;
pub mod grpc;
pub mod keys;
pub mod rng;
pub mod server;
pub mod store;

pub use config::Config;
pub use error::Error;
pub use server::{Server, serve};
