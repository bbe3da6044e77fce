//! `tessera-load`: drives a Tessera server over gRPC and reports throughput and latency.
//!
//! It starts its own server on a free loopback port with a temporary data dir (the embedded
//! store, or `--store postgres://…`; or targets `--addr`), runs one scenario for a duration or a request count, and prints throughput,
//! latency percentiles and errors. With `--baseline` it first runs `empty` (the health
//! `Check` RPC, the transport floor) in the same invocation and prints the ratio to it.
//! Exits non-zero if any request failed.

mod report;
mod scenario;
mod target;

use core::time::Duration;
use std::path::PathBuf;

use clap::Parser;
use tessera_service::cli::StoreUrlParser;
use tessera_service::store::PostgresUrl;

use report::Report;
use scenario::Scenario;
use target::Target;

// The same allocator as the `tessera` binary, so the in-process server runs as it would.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Load generator for the Tessera gRPC token service.
#[derive(Debug, Parser)]
#[command(name = "tessera-load", version)]
struct Args {
    /// What to send.
    #[arg(long, value_enum, default_value_t = Scenario::Introspect)]
    scenario: Scenario,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// HTTP/2 connections the requests are spread over.
    #[arg(long, default_value_t = 2)]
    connections: usize,
    /// Seconds to run (the default is 10 unless --requests is given).
    #[arg(long, conflicts_with = "requests")]
    duration: Option<f64>,
    /// Total requests (flows, for `issue`) to send instead of a duration.
    #[arg(long)]
    requests: Option<u64>,
    /// Also run `empty` first and report the scenario's throughput as a ratio to it.
    #[arg(long)]
    baseline: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// A running server to target instead of starting one (host:port).
    #[arg(long, requires = "operator_token_file")]
    addr: Option<String>,
    /// With --addr: the server's operator token file (`<data-dir>/operator_token`).
    #[arg(long)]
    operator_token_file: Option<PathBuf>,
    /// The server it starts uses this PostgreSQL database (`postgres://USER@HOST:PORT/DB`, an
    /// empty one: the first start records its new keys) instead of the embedded store.
    #[arg(long, env = "TESSERA_STORE", hide_env_values = true, conflicts_with = "addr",
          value_parser = StoreUrlParser)]
    store: Option<PostgresUrl>,
}

/// How long or how much to run.
#[derive(Clone, Copy, Debug)]
enum Budget {
    Time(Duration),
    Requests(u64),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.concurrency > 0 && args.connections > 0,
        "concurrency and connections must be at least 1"
    );
    let budget = match (args.requests, args.duration) {
        (Some(n), _) => Budget::Requests(n),
        (None, Some(s)) if s > 0.0 && s.is_finite() => Budget::Time(Duration::from_secs_f64(s)),
        (None, Some(_)) => anyhow::bail!("--duration must be a positive number of seconds"),
        (None, None) => Budget::Time(Duration::from_secs(10)),
    };
    let target = match (&args.addr, &args.operator_token_file) {
        (Some(addr), Some(file)) => Target::remote(addr, file).await?,
        _ => Target::start(args.store.as_ref()).await?,
    };
    let channels = target.channels(args.connections).await?;

    let mut reports = Vec::new();
    if args.baseline && args.scenario != Scenario::Empty {
        reports.push(
            scenario::run(
                Scenario::Empty,
                &target,
                &channels,
                args.concurrency,
                budget,
            )
            .await?,
        );
    }
    reports.push(scenario::run(args.scenario, &target, &channels, args.concurrency, budget).await?);
    target.stop().await?;

    let failed = reports.iter().any(|r| r.errors > 0);
    report::print(&reports, args.json);
    if failed {
        std::process::exit(1);
    }
    Ok(())
}

impl Report {
    fn is_baseline(&self) -> bool {
        self.scenario == Scenario::Empty
    }
}
