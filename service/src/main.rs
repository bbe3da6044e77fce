//! `tessera`: the server and its command line (see `tessera --help`).

use std::process::ExitCode;

use clap::Parser;
use tessera_service::cli::{Cli, run};

// A gRPC request allocates a few dozen small buffers across threads; with mimalloc the server
// answers about 40% more requests per second than with glibc's allocator (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
