//! `--compare EARLIER`: every headline ratio of this run beside the same ratio of an earlier
//! run's `report.json`, with the difference, so "two consecutive runs agree within 5%" is a
//! command's output rather than arithmetic by hand.

use core::fmt::Write as _;

use serde_json::Value;

/// How far two runs' ratios may be apart and still count as repeating.
const MARGIN: f64 = 0.05;

/// One ratio in both runs.
#[derive(Debug)]
struct Pair {
    what: String,
    earlier: Option<f64>,
    this: Option<f64>,
}

impl Pair {
    fn difference(&self) -> Option<f64> {
        let (a, b) = (self.earlier?, self.this?);
        (a != 0.0).then(|| b / a - 1.0)
    }
}

/// The headline ratios of a `report.json`, by name, in report order.
fn ratios(report: &Value) -> Vec<(String, Option<f64>)> {
    let mut out = Vec::new();
    for row in report["core"]["rows"].as_array().into_iter().flatten() {
        let name = format!(
            "core {} / {}",
            row["tessera"].as_str().unwrap_or("?"),
            row["baseline"].as_str().unwrap_or("?")
        );
        out.push((format!("{name}: median"), row["ratio_median"].as_f64()));
        out.push((format!("{name}: best"), row["ratio_best"].as_f64()));
    }
    for (op, n) in report["instructions"]["counts"]
        .as_object()
        .into_iter()
        .flatten()
    {
        out.push((format!("instructions {op}"), n.as_f64()));
    }
    for g in report["grpc"].as_array().into_iter().flatten() {
        let name = format!(
            "gRPC {} / empty ({})",
            g["scenario"].as_str().unwrap_or("?"),
            g["store"].as_str().unwrap_or("?")
        );
        let r = &g["result"]["ratio_to_empty"];
        out.push((format!("{name}: median"), r["median"].as_f64()));
        out.push((format!("{name}: pooled"), r["pooled"].as_f64()));
    }
    for row in report["postgres_vs_embedded"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let name = format!(
            "PostgreSQL / redb {}, of the ratios to empty",
            row["scenario"].as_str().unwrap_or("?")
        );
        out.push((name, row["ratio_of_ratios_to_empty"].as_f64()));
    }
    for row in report["http"]["rows"].as_array().into_iter().flatten() {
        if row["name"] == row["reference"] {
            continue; // 1 by definition
        }
        let name = format!(
            "{} / {}",
            row["name"].as_str().unwrap_or("?"),
            row["reference"].as_str().unwrap_or("?")
        );
        out.push((format!("{name}: median"), row["ratio_median"].as_f64()));
        out.push((format!("{name}: pooled"), row["ratio_pooled"].as_f64()));
        out.push((
            format!("{name}: server CPU"),
            row["server_cpu_ratio"].as_f64(),
        ));
    }
    out
}

/// Pairs this run's ratios with the earlier run's, by name; a ratio in one run only is kept,
/// with a dash for the other.
fn pairs(earlier: &Value, this: &Value) -> Vec<Pair> {
    let before = ratios(earlier);
    let mut pairs: Vec<Pair> = ratios(this)
        .into_iter()
        .map(|(what, this)| Pair {
            earlier: before
                .iter()
                .find(|(w, _)| *w == what)
                .and_then(|(_, v)| *v),
            what,
            this,
        })
        .collect();
    for (what, v) in before {
        if !pairs.iter().any(|p| p.what == what) {
            pairs.push(Pair {
                what,
                earlier: v,
                this: None,
            });
        }
    }
    pairs
}

/// The comparison as Markdown: one row per ratio, then how many repeat within [`MARGIN`].
pub(crate) fn markdown(earlier: &Value, this: &Value) -> String {
    let started = |r: &Value| r["meta"]["started"].as_str().unwrap_or("?").to_owned();
    let mut out = format!(
        "## This run ({}) against the earlier one ({})\n\n\
         | ratio | earlier | this run | difference | within 5% |\n|---|---:|---:|---:|---|\n",
        started(this),
        started(earlier)
    );
    let pairs = pairs(earlier, this);
    let mut within = 0;
    for p in &pairs {
        // Ratios to 4 places; instruction counts whole.
        let num = |x: Option<f64>| {
            x.map_or_else(
                || "–".into(),
                |x| {
                    if x >= 100.0 {
                        format!("{x:.0}")
                    } else {
                        format!("{x:.4}")
                    }
                },
            )
        };
        let (diff, ok) = match p.difference() {
            Some(d) if d.abs() <= MARGIN => (format!("{:+.1}%", d * 100.0), "yes"),
            Some(d) => (format!("{:+.1}%", d * 100.0), "**no**"),
            None => ("–".into(), "–"),
        };
        within += usize::from(ok == "yes");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {diff} | {ok} |",
            p.what,
            num(p.earlier),
            num(p.this)
        );
    }
    let _ = writeln!(
        out,
        "\n{within} of {} ratios within 5% of the earlier run.",
        pairs.len()
    );
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn report(verify: f64, introspect: f64, count: u64) -> Value {
        json!({
            "meta": { "started": "t" },
            "core": { "rows": [{ "tessera": "AccessToken::verify", "baseline": "hmac_floor",
                                 "ratio_median": verify, "ratio_best": verify }] },
            "instructions": { "counts": { "access_verify": count } },
            "grpc": [{ "store": "redb", "scenario": "introspect",
                       "result": { "ratio_to_empty": { "median": introspect, "pooled": introspect } } }],
            "postgres_vs_embedded": [],
            "http": { "rows": [{ "name": "http_health", "reference": "http_health" }] },
        })
    }

    #[test]
    fn ratios_more_than_five_percent_apart_are_flagged() {
        let text = markdown(&report(1.9, 0.80, 16_815), &report(1.95, 0.90, 16_815));
        assert!(
            text.contains(
                "| core AccessToken::verify / hmac_floor: median | 1.9000 | 1.9500 | +2.6% | yes |"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "| gRPC introspect / empty (redb): median | 0.8000 | 0.9000 | +12.5% | **no** |"
            ),
            "{text}"
        );
        assert!(
            text.contains("| instructions access_verify | 16815 | 16815 | +0.0% | yes |"),
            "{text}"
        );
        assert!(text.contains("3 of 5 ratios within 5%"), "{text}");
        assert!(!text.contains("http_health / http_health"), "{text}");
    }

    #[test]
    fn a_ratio_in_one_run_only_is_listed_without_a_difference() {
        let mut earlier = report(1.9, 0.8, 1);
        earlier["instructions"]["counts"]["gone"] = json!(5.5);
        let text = markdown(&earlier, &report(1.9, 0.8, 1));
        assert!(
            text.contains("| instructions gone | 5.5000 | – | – | – |"),
            "{text}"
        );
    }
}
