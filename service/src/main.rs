//! `tessera`: the server and its command line (see `tessera --help`).

use std::process::ExitCode;

use clap::Parser;
use tessera_service::cli::{Cli, run};

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
