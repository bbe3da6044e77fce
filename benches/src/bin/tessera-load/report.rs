//! Throughput, latency percentiles and errors of one run, and the ratio to the baseline.

use core::time::Duration;

use hdrhistogram::Histogram;
use serde_json::json;

use crate::scenario::Scenario;

/// The outcome of one scenario run.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) scenario: Scenario,
    ok: u64,
    pub(crate) errors: u64,
    first_error: Option<String>,
    seconds: f64,
    /// Latency percentiles in microseconds: p50, p90, p99, p99.9.
    percentiles: [f64; 4],
}

impl Report {
    pub(crate) fn new(
        scenario: Scenario,
        latency: &Histogram<u64>,
        errors: u64,
        first_error: Option<String>,
        elapsed: Duration,
    ) -> Self {
        #[allow(
            clippy::cast_precision_loss,
            reason = "nanoseconds to microseconds for display"
        )]
        let us = |q: f64| latency.value_at_quantile(q) as f64 / 1_000.0;
        Self {
            scenario,
            ok: latency.len(),
            errors,
            first_error,
            seconds: elapsed.as_secs_f64(),
            percentiles: [us(0.5), us(0.9), us(0.99), us(0.999)],
        }
    }

    /// Successful requests (flows, for `issue`) per second.
    pub(crate) fn throughput(&self) -> f64 {
        #[allow(clippy::cast_precision_loss, reason = "a request count for display")]
        let ok = self.ok as f64;
        if self.seconds > 0.0 {
            ok / self.seconds
        } else {
            0.0
        }
    }

    fn to_json(&self) -> serde_json::Value {
        let [p50, p90, p99, p999] = self.percentiles;
        json!({
            "scenario": self.scenario,
            "ok": self.ok,
            "errors": self.errors,
            "first_error": self.first_error,
            "seconds": self.seconds,
            "throughput_per_s": self.throughput(),
            "latency_us": { "p50": p50, "p90": p90, "p99": p99, "p99.9": p999 },
        })
    }
}

/// Prints every run, and each run's throughput as a ratio to `empty` if it was measured.
pub(crate) fn print(reports: &[Report], as_json: bool) {
    let baseline = reports
        .iter()
        .find(|r| r.is_baseline())
        .map(Report::throughput);
    let ratio = |r: &Report| {
        baseline
            .filter(|b| *b > 0.0 && !r.is_baseline())
            .map(|b| r.throughput() / b)
    };
    if as_json {
        let runs: Vec<_> = reports
            .iter()
            .map(|r| {
                let mut v = r.to_json();
                v["ratio_to_empty"] = json!(ratio(r));
                v
            })
            .collect();
        println!("{}", json!({ "runs": runs }));
        return;
    }
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
    for r in reports {
        let [p50, p90, p99, p999] = r.percentiles;
        let vs = ratio(r).map_or_else(String::new, |x| format!("{x:.2}x"));
        println!(
            "{:<11} {:>9} {:>7} {:>8.2} {:>12.0} {:>9.0} {:>9.0} {:>9.0} {:>9.0}  {vs}",
            format!("{:?}", r.scenario).to_lowercase(),
            r.ok,
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
    }
}
