//! `tessera-load`: drives a Tessera server over gRPC and reports throughput and latency.
//!
//! It starts its own server on a free loopback port with a temporary data dir (the embedded
//! store, or `--store postgres://…`; or targets `--addr`), runs one scenario for a duration or a request count, and prints throughput,
//! latency percentiles and errors. With `--baseline` it also runs `empty` (the health `Check`
//! RPC, the transport floor) in the same invocation and prints the ratio to it; with
//! `--rounds N` the two alternate in N rounds (ABBA: `empty` first in odd rounds, the scenario
//! first in even ones), each side for the whole `--duration` (or `--requests`) in every round,
//! and the ratio is the median of the rounds' ratios, with their range. Exits non-zero if any
//! request failed.

mod report;
mod scenario;
mod target;

use core::time::Duration;
use std::path::PathBuf;

use clap::Parser;
use tessera_service::cli::StoreUrlParser;
use tessera_service::store::PostgresUrl;

use report::{Report, Round, Summary};
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
    /// Also run `empty` and report the scenario's throughput as a ratio to it.
    #[arg(long)]
    baseline: bool,
    /// With --baseline: alternate `empty` and the scenario in this many rounds (ABBA order),
    /// each side running the whole --duration or --requests per round; the ratio reported is
    /// the median of the rounds' ratios, latency percentiles are over every round's requests.
    #[arg(long, default_value_t = 1, requires = "baseline",
          value_parser = clap::value_parser!(u32).range(1..))]
    rounds: u32,
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

    let mut rounds = Vec::new();
    for round in 0..args.rounds {
        let mut order = vec![args.scenario];
        if args.baseline && args.scenario != Scenario::Empty {
            // ABBA: `empty` first in rounds 1, 3, … and second in rounds 2, 4, …, so a drift in
            // the machine's speed weighs on both sides alike.
            let at = if round % 2 == 0 { 0 } else { 1 };
            order.insert(at, Scenario::Empty);
        }
        let mut runs = Vec::with_capacity(order.len());
        for scenario in order {
            runs.push(scenario::run(scenario, &target, &channels, args.concurrency, budget).await?);
        }
        rounds.push(Round { runs });
    }
    target.stop().await?;

    let summary = Summary::new(rounds)?;
    summary.print(args.json);
    if summary.failed() {
        std::process::exit(1);
    }
    Ok(())
}

impl Report {
    fn is_baseline(&self) -> bool {
        self.scenario == Scenario::Empty
    }
}
