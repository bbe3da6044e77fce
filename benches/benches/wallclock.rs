//! Interleaved in-process wall-clock ratios: for each Tessera operation and each of its
//! baselines (the fixture module's `Setup::groups`, shared with `micro` and `instructions`), short
//! batches of the two alternate in one process, A B B A in every round, so a change of clock
//! speed or of load from other processes hits both sides alike; each round visits every pair,
//! so each pair's rounds spread over the whole run. A batch (~3 ms) is timed in
//! [`SLICES`] equal slices and counts its fastest, so a slice in which the shared machine ran
//! something else instead counts as what it is, not as the operation's cost. Each round gives
//! one ratio, Tessera's ns/op over the baseline's (the mean of its two batches each); the report
//! is the median ratio over the rounds and its interquartile range, with each side's median
//! ns/op.
//!
//! Run: `cargo bench -p tessera-benches --bench wallclock -- [--quick] [--json FILE]`
//! (`--quick`: 11 rounds instead of 31). Without `--bench`, which `cargo bench` passes, each
//! operation runs once (a smoke test, as criterion does under `cargo test`).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation,
    reason = "benchmark harness: counts and times as f64 and back"
)]

mod fixture;

use core::time::Duration;
use std::path::PathBuf;
use std::time::Instant;

use fixture::{Op, Setup};

const ROUNDS: usize = 31;
const QUICK_ROUNDS: usize = 11;
/// What one batch of one side should take: long enough for the clock, short enough that the
/// two sides see the same machine.
const BATCH: Duration = Duration::from_millis(3);
/// The slices a batch is timed in.
const SLICES: u64 = 10;
/// The CPU features that decide the crypto's speed, as /proc/cpuinfo names them.
const FEATURES: [&str; 4] = ["aes", "avx2", "avx512f", "sha_ni"];

/// A target of issue 16, as a bound on tessera / baseline.
fn target(group: &str, baseline: &str) -> Option<(f64, &'static str)> {
    match (group, baseline) {
        ("access_token/verify" | "access_token/mint", "hmac_floor") => Some((1.5, "≤ 1.50")),
        ("access_token/verify", "jsonwebtoken") => Some((0.125, "≤ 0.125 (8× faster)")),
        ("access_token/verify" | "access_token/mint", "pasetors" | "oxide_auth") => {
            Some((1.0, "< 1 (faster)"))
        }
        _ => None,
    }
}

struct Args {
    bench: bool,
    rounds: usize,
    json: Option<PathBuf>,
}

fn args() -> Args {
    let mut args = Args {
        bench: false,
        rounds: ROUNDS,
        json: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--bench" => args.bench = true,
            "--quick" => args.rounds = QUICK_ROUNDS,
            "--json" => {
                let file = PathBuf::from(it.next().expect("--json FILE"));
                // cargo runs benches in the package's directory: a relative FILE is taken from
                // the directory the command was typed in, as the shell's PWD says.
                args.json = Some(match std::env::var_os("PWD") {
                    Some(pwd) if file.is_relative() => PathBuf::from(pwd).join(file),
                    _ => file,
                });
            }
            other => {
                eprintln!("usage: wallclock [--quick] [--json FILE]   (unknown argument {other})");
                std::process::exit(2);
            }
        }
    }
    args
}

/// The time of `n` runs of `op`.
fn time(op: &mut Op<'_>, n: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        op.run();
    }
    start.elapsed()
}

/// One batch: [`SLICES`] slices of `n` runs of `op`; the fastest slice's ns per run.
fn batch(op: &mut Op<'_>, n: u64) -> f64 {
    let fastest = (0..SLICES).map(|_| time(op, n)).min().unwrap_or_default();
    fastest.as_nanos() as f64 / n as f64
}

/// The slice size that makes a batch take about [`BATCH`]; calibrating also warms the caches up.
fn calibrate(op: &mut Op<'_>) -> u64 {
    let mut n = 1u64;
    loop {
        let t = time(op, n);
        if t >= BATCH / 4 {
            let per_op = t.as_secs_f64() / n as f64;
            return ((BATCH.as_secs_f64() / SLICES as f64 / per_op) as u64).max(1);
        }
        n *= 2;
    }
}

/// The value at quantile `q` of sorted `v` (nearest rank).
fn quantile(v: &[f64], q: f64) -> f64 {
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

struct Row {
    group: &'static str,
    tessera: &'static str,
    baseline: &'static str,
    tessera_ns: f64,
    baseline_ns: f64,
    ratio: [f64; 3],
    /// Each side's fastest round, one over the other.
    best: f64,
    rounds: usize,
}

/// One pair's samples: per round, each side's ns/op and their ratio.
#[derive(Default)]
struct Samples {
    tessera: Vec<f64>,
    baseline: Vec<f64>,
    ratio: Vec<f64>,
}

impl Samples {
    /// One round of A B B A, A being Tessera's operation (`na` runs per slice) and B the
    /// baseline (`nb`).
    fn round(&mut self, a: &mut Op<'_>, na: u64, b: &mut Op<'_>, nb: u64) {
        let a1 = batch(a, na);
        let b1 = batch(b, nb);
        let b2 = batch(b, nb);
        let a2 = batch(a, na);
        let (x, y) = ((a1 + a2) / 2.0, (b1 + b2) / 2.0);
        self.tessera.push(x);
        self.baseline.push(y);
        self.ratio.push(x / y);
    }

    /// The medians of each side, the ratio's median and quartiles, and the ratio of each
    /// side's fastest round (the least disturbed cost of each, as a batch counts its fastest
    /// slice).
    fn summary(self) -> (f64, f64, [f64; 3], f64) {
        let ratio = sorted(self.ratio);
        let (tessera, baseline) = (sorted(self.tessera), sorted(self.baseline));
        (
            quantile(&tessera, 0.5),
            quantile(&baseline, 0.5),
            [
                quantile(&ratio, 0.5),
                quantile(&ratio, 0.25),
                quantile(&ratio, 0.75),
            ],
            tessera[0] / baseline[0],
        )
    }
}

/// The CPU's model name and which of [`FEATURES`] it has.
fn cpu() -> (String, Vec<&'static str>) {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        info.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let flags = field("flags");
    let flags: Vec<&str> = flags.split_whitespace().collect();
    let features = FEATURES.into_iter().filter(|f| flags.contains(f)).collect();
    (field("model name"), features)
}

fn main() {
    let args = args();
    let setup = Setup::new();
    let mut groups = setup.groups();
    if !args.bench {
        let mut n = 0;
        for g in &mut groups {
            for op in core::iter::once(&mut g.tessera).chain(&mut g.baselines) {
                op.run();
                n += 1;
            }
        }
        println!("wallclock: {n} operations ran once each (run under cargo bench to measure)");
        return;
    }

    let (model, features) = cpu();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    // Each round visits every pair in turn, so every pair's rounds spread over the whole run
    // and see the same mix of what the shared machine was doing.
    let sizes: Vec<(u64, Vec<u64>)> = groups
        .iter_mut()
        .map(|g| {
            let n = calibrate(&mut g.tessera);
            (n, g.baselines.iter_mut().map(calibrate).collect())
        })
        .collect();
    let mut samples: Vec<Vec<Samples>> = groups
        .iter()
        .map(|g| g.baselines.iter().map(|_| Samples::default()).collect())
        .collect();
    for _ in 0..args.rounds {
        for ((g, (na, nbs)), samples) in groups.iter_mut().zip(&sizes).zip(&mut samples) {
            for ((b, nb), s) in g.baselines.iter_mut().zip(nbs).zip(samples) {
                s.round(&mut g.tessera, *na, b, *nb);
            }
        }
    }
    let mut rows = Vec::new();
    for (g, samples) in groups.iter().zip(samples) {
        for (b, s) in g.baselines.iter().zip(samples) {
            let (tessera_ns, baseline_ns, ratio, best) = s.summary();
            rows.push(Row {
                group: g.name,
                tessera: g.call,
                baseline: b.name,
                tessera_ns,
                baseline_ns,
                ratio,
                best,
                rounds: args.rounds,
            });
        }
    }

    println!(
        "CPU: {model}; features: {} (of {}); load average before: {load}\n",
        features.join(", "),
        FEATURES.join(", ")
    );
    println!(
        "{} rounds of A B B A per row, batches of ~{} ms timed in {SLICES} slices (the fastest \
         counts); ratio = tessera / baseline (time per operation: below 1 Tessera is faster), \
         median over the rounds and interquartile range; best: each side's fastest round, one \
         over the other.\n",
        args.rounds,
        BATCH.as_millis()
    );
    println!(
        "| group | baseline | tessera ns | baseline ns | tessera / baseline: median | IQR | best | target | met |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---|---|");
    for r in &rows {
        let (target, met) = match target(r.group, r.baseline) {
            Some((max, text)) => (text, if r.ratio[0] <= max { "yes" } else { "no" }),
            None => ("", ""),
        };
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.3} | {:.3}–{:.3} | {:.3} | {target} | {met} |",
            r.group,
            r.baseline,
            r.tessera_ns,
            r.baseline_ns,
            r.ratio[0],
            r.ratio[1],
            r.ratio[2],
            r.best,
        );
    }

    if let Some(file) = args.json {
        let rows: Vec<_> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "group": r.group,
                    "tessera": r.tessera,
                    "baseline": r.baseline,
                    "tessera_ns": r.tessera_ns,
                    "baseline_ns": r.baseline_ns,
                    "ratio_median": r.ratio[0],
                    "ratio_lo": r.ratio[1],
                    "ratio_hi": r.ratio[2],
                    "ratio_best": r.best,
                    "rounds": r.rounds,
                })
            })
            .collect();
        let json = serde_json::json!({
            "cpu": model,
            "features": features,
            "load": load,
            "ratio": "tessera / baseline, median and interquartile range (ratio_lo, ratio_hi) over the rounds; ratio_best: each side's fastest round, one over the other",
            "rows": rows,
        });
        std::fs::write(&file, format!("{json:#}\n")).expect("writing the JSON file");
        println!("\nwrote {}", file.display());
    }
}
