//! Throughput, latency percentiles and errors of one run, and the ratio to the baseline; with
//! rounds, each round's ratio and their median and spread.

use core::time::Duration;

use hdrhistogram::Histogram;
use serde_json::json;

use crate::scenario::Scenario;

/// The outcome of one scenario run, or of several runs of one scenario merged.
#[derive(Clone, Debug)]
pub(crate) struct Report {
    pub(crate) scenario: Scenario,
    pub(crate) errors: u64,
    first_error: Option<String>,
    seconds: f64,
    /// Every successful request's latency in nanoseconds.
    latency: Histogram<u64>,
}

impl Report {
    pub(crate) fn new(
        scenario: Scenario,
        latency: Histogram<u64>,
        errors: u64,
        first_error: Option<String>,
        elapsed: Duration,
    ) -> Self {
        Self {
            scenario,
            errors,
            first_error,
            seconds: elapsed.as_secs_f64(),
            latency,
        }
    }

    /// Adds `other`'s requests, errors, time and latencies (a later round of the same scenario).
    pub(crate) fn merge(&mut self, other: &Self) -> anyhow::Result<()> {
        self.latency.add(&other.latency)?;
        self.errors += other.errors;
        self.seconds += other.seconds;
        if self.first_error.is_none() {
            self.first_error.clone_from(&other.first_error);
        }
        Ok(())
    }

    fn ok(&self) -> u64 {
        self.latency.len()
    }

    /// Latency percentiles in microseconds: p50, p90, p99, p99.9.
    fn percentiles(&self) -> [f64; 4] {
        #[allow(
            clippy::cast_precision_loss,
            reason = "nanoseconds to microseconds for display"
        )]
        let us = |q: f64| self.latency.value_at_quantile(q) as f64 / 1_000.0;
        [us(0.5), us(0.9), us(0.99), us(0.999)]
    }

    /// Successful requests (flows, for `issue`) per second.
    pub(crate) fn throughput(&self) -> f64 {
        #[allow(clippy::cast_precision_loss, reason = "a request count for display")]
        let ok = self.ok() as f64;
        if self.seconds > 0.0 {
            ok / self.seconds
        } else {
            0.0
        }
    }

    fn to_json(&self) -> serde_json::Value {
        let [p50, p90, p99, p999] = self.percentiles();
        json!({
            "scenario": self.scenario,
            "ok": self.ok(),
            "errors": self.errors,
            "first_error": self.first_error,
            "seconds": self.seconds,
            "throughput_per_s": self.throughput(),
            "latency_us": { "p50": p50, "p90": p90, "p99": p99, "p99.9": p999 },
        })
    }

    fn name(&self) -> String {
        format!("{:?}", self.scenario).to_lowercase()
    }
}

/// One round: each side's run, in the order they ran.
#[derive(Debug)]
pub(crate) struct Round {
    pub(crate) runs: Vec<Report>,
}

impl Round {
    fn baseline(&self) -> Option<&Report> {
        self.runs.iter().find(|r| r.is_baseline())
    }

    fn measured(&self) -> Option<&Report> {
        self.runs.iter().find(|r| !r.is_baseline())
    }

    /// The scenario's throughput over the baseline's in this round.
    fn ratio(&self) -> Option<f64> {
        let (b, m) = (self.baseline()?, self.measured()?);
        (b.throughput() > 0.0).then(|| m.throughput() / b.throughput())
    }
}

/// The median of `values` (the mean of the middle two for an even count); `None` if empty.
fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    match v.len() {
        0 => None,
        n if n % 2 == 1 => v.get(mid).copied(),
        _ => Some((v.get(mid - 1)? + v.get(mid)?) / 2.0),
    }
}

/// Every side merged over the rounds, the per-round ratios, and their median and range.
#[derive(Debug)]
pub(crate) struct Summary {
    rounds: Vec<Round>,
    /// One merged report per scenario, the baseline first.
    merged: Vec<Report>,
    ratios: Vec<f64>,
}

impl Summary {
    pub(crate) fn new(rounds: Vec<Round>) -> anyhow::Result<Self> {
        let mut merged: Vec<Report> = Vec::new();
        for run in rounds.iter().flat_map(|r| &r.runs) {
            match merged.iter_mut().find(|m| m.scenario == run.scenario) {
                Some(m) => m.merge(run)?,
                None => merged.push(run.clone()),
            }
        }
        merged.sort_by_key(|r| !r.is_baseline());
        let ratios = rounds.iter().filter_map(Round::ratio).collect();
        Ok(Self {
            rounds,
            merged,
            ratios,
        })
    }

    pub(crate) fn failed(&self) -> bool {
        self.merged.iter().any(|r| r.errors > 0)
    }

    /// The median throughput of `scenario` over the rounds.
    fn median_throughput(&self, scenario: Scenario) -> Option<f64> {
        let rates: Vec<f64> = self
            .rounds
            .iter()
            .flat_map(|r| &r.runs)
            .filter(|r| r.scenario == scenario)
            .map(Report::throughput)
            .collect();
        median(&rates)
    }

    /// The scenario's throughput over the baseline's with every round pooled (each side's
    /// requests over its seconds in all rounds): a load change that hits one round weighs as
    /// much as that round's share, where the median picks one round.
    fn pooled_ratio(&self) -> Option<f64> {
        let baseline = self.merged.iter().find(|r| r.is_baseline())?;
        let measured = self.merged.iter().find(|r| !r.is_baseline())?;
        (baseline.throughput() > 0.0).then(|| measured.throughput() / baseline.throughput())
    }

    fn ratio_range(&self) -> Option<(f64, f64, f64)> {
        let lo = self.ratios.iter().copied().reduce(f64::min)?;
        let hi = self.ratios.iter().copied().reduce(f64::max)?;
        Some((median(&self.ratios)?, lo, hi))
    }

    /// Prints the rounds and the merged sides, as a table or as JSON.
    pub(crate) fn print(&self, as_json: bool) {
        let range = self.ratio_range();
        if as_json {
            let runs: Vec<_> = self
                .merged
                .iter()
                .map(|r| {
                    let mut v = r.to_json();
                    v["throughput_median_per_s"] = json!(self.median_throughput(r.scenario));
                    v["ratio_to_empty"] = json!(range.filter(|_| !r.is_baseline()).map(|x| x.0));
                    v
                })
                .collect();
            let rounds: Vec<_> = self
                .rounds
                .iter()
                .map(|round| {
                    json!({
                        "order": round.runs.iter().map(|r| r.scenario).collect::<Vec<_>>(),
                        "runs": round.runs.iter().map(Report::to_json).collect::<Vec<_>>(),
                        "ratio": round.ratio(),
                    })
                })
                .collect();
            let ratio = range.map(|(median, min, max)| {
                json!({ "median": median, "min": min, "max": max, "rounds": self.ratios.len(),
                        "pooled": self.pooled_ratio() })
            });
            println!(
                "{}",
                json!({ "runs": runs, "rounds": rounds, "ratio_to_empty": ratio })
            );
            return;
        }
        let header = || {
            println!(
                "{:<11} {:>9} {:>7} {:>8} {:>12} {:>9} {:>9} {:>9} {:>9}  vs empty",
                "scenario",
                "ok",
                "errors",
                "seconds",
                "per second",
                "p50 µs",
                "p90 µs",
                "p99 µs",
                "p99.9 µs"
            );
        };
        let line = |r: &Report, vs: Option<f64>| {
            let [p50, p90, p99, p999] = r.percentiles();
            let vs = vs.map_or_else(String::new, |x| format!("{x:.2}x"));
            println!(
                "{:<11} {:>9} {:>7} {:>8.2} {:>12.0} {:>9.0} {:>9.0} {:>9.0} {:>9.0}  {vs}",
                r.name(),
                r.ok(),
                r.errors,
                r.seconds,
                r.throughput(),
                p50,
                p90,
                p99,
                p999
            );
            if let Some(e) = &r.first_error {
                println!("  first error: {e}");
            }
        };
        if self.rounds.len() > 1 {
            for (i, round) in self.rounds.iter().enumerate() {
                println!("round {} of {}", i + 1, self.rounds.len());
                header();
                for r in &round.runs {
                    line(r, round.ratio().filter(|_| !r.is_baseline()));
                }
            }
            println!("all rounds merged (latency percentiles over every request)");
        }
        header();
        for r in &self.merged {
            line(r, range.filter(|_| !r.is_baseline()).map(|x| x.0));
        }
        if let Some((median, min, max)) = range {
            println!(
                "ratio to empty: median {median:.3}x over {} round(s), range {min:.3}x–{max:.3}x; \
                 all rounds pooled {:.3}x",
                self.ratios.len(),
                self.pooled_ratio().unwrap_or(f64::NAN)
            );
        }
    }
}
