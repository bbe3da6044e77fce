//! `bench-report`: merges the JSON of every part of `benches/run` (core wall-clock, instruction
//! counts, `tessera-load` on redb and PostgreSQL, the HTTP rows) into one Markdown table (printed
//! and written), one JSON file and an SVG chart of latency percentiles per scenario.
//!
//! Every part must be there: `benches/run` fails at a step that cannot run (a missing tool says
//! what to install), and a missing `PART.json` here is an error that names it.

mod chart;
mod compare;
mod cpu;
mod part;
mod table;

use std::path::PathBuf;

use clap::Parser;
use serde_json::json;

use part::Parts;

/// Merges `benches/run`'s parts into `report.md`, `report.json` and `latency.svg`.
#[derive(Debug, Parser)]
#[command(name = "bench-report", version)]
struct Args {
    /// The directory holding the parts' JSON; the report is written there too.
    #[arg(long)]
    dir: PathBuf,
    /// An earlier run's `report.json`: also print every headline ratio beside its value there,
    /// with the difference, and write it as `compare.md`.
    #[arg(long, value_name = "REPORT_JSON")]
    compare: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let cpu = cpu::Cpu::read()?;
    let parts = Parts::read(&args.dir)?;
    let markdown = table::markdown(&cpu, &parts);
    print!("{markdown}");
    std::fs::write(args.dir.join("report.md"), &markdown)?;
    let report = json!({
        "cpu": cpu.to_json(),
        "meta": parts.meta,
        "core": parts.core,
        "instructions": parts.instructions,
        "grpc": parts.grpc.iter().map(part::Grpc::to_json).collect::<Vec<_>>(),
        "postgres_vs_embedded": table::postgres_ratios(&parts),
        "http": parts.http,
        "targets": table::targets(&parts).iter().map(table::Target::to_json).collect::<Vec<_>>(),
    });
    std::fs::write(
        args.dir.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    chart::latency(&parts, &cpu, &args.dir.join("latency.svg"))?;
    if let Some(earlier) = &args.compare {
        let text = std::fs::read_to_string(earlier)
            .map_err(|e| anyhow::anyhow!("{}: {e}", earlier.display()))?;
        let earlier_report = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", earlier.display()))?;
        let comparison = compare::markdown(&earlier_report, &report);
        print!("\n{comparison}");
        std::fs::write(args.dir.join("compare.md"), comparison)?;
    }
    println!(
        "\nwrote {}/report.md, report.json and latency.svg",
        args.dir.display()
    );
    Ok(())
}
