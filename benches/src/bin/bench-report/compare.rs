//! `--compare EARLIER`: every ratio of this run beside the same ratio of an earlier run's
//! `report.json`, with the difference, so "two consecutive runs agree within 5%" is a command's
//! output rather than arithmetic by hand. The headline ratios (issue 16's targets) are marked
//! and counted on their own. Beside them, the references' own speed in both runs (the HMAC
//! floor's and jsonwebtoken's ns, the empty RPC's and `GET /health`'s rates): when one of the
//! core's two moved by more than [`SPEED_MARGIN`], the machine itself ran at another speed
//! between the runs (on a shared VM, another tenant on the same cores), and the report says so.

use core::fmt::Write as _;

use serde_json::Value;

/// How far two runs' ratios may be apart and still count as repeating.
const MARGIN: f64 = 0.05;
/// How far a reference's own time may move before the report says the machine changed speed.
const SPEED_MARGIN: f64 = 0.10;

/// The core groups whose ratios are headlines (issue 16's targets name them).
const HEADLINE_CORE: [&str; 2] = ["access_token/verify", "access_token/mint"];
/// The gRPC scenarios (on redb) and HTTP rows whose ratios are headlines.
const HEADLINE_GRPC: [&str; 2] = ["introspect", "issue"];
const HEADLINE_HTTP: [&str; 2] = ["http_token", "http_introspect"];

/// One ratio (or a reference's speed) in both runs.
#[derive(Debug)]
struct Pair {
    what: String,
    /// A headline ratio; among the speeds, one the warning reads.
    headline: bool,
    earlier: Option<f64>,
    this: Option<f64>,
}

/// A named value of one report, and whether it is a headline (see [`Pair::headline`]).
type Named = (String, bool, Option<f64>);

impl Pair {
    fn difference(&self) -> Option<f64> {
        let (a, b) = (self.earlier?, self.this?);
        (a != 0.0).then(|| b / a - 1.0)
    }
}

/// The ratios of a `report.json`, by name, in report order.
fn ratios(report: &Value) -> Vec<Named> {
    let mut out = Vec::new();
    for row in report["core"]["rows"].as_array().into_iter().flatten() {
        let name = format!(
            "core {} / {}",
            row["tessera"].as_str().unwrap_or("?"),
            row["baseline"].as_str().unwrap_or("?")
        );
        let headline = HEADLINE_CORE.iter().any(|g| row["group"] == *g);
        out.push((
            format!("{name}: median"),
            headline,
            row["ratio_median"].as_f64(),
        ));
        out.push((format!("{name}: best"), false, row["ratio_best"].as_f64()));
    }
    for (op, n) in report["instructions"]["counts"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let headline = op.starts_with("access_");
        out.push((format!("instructions {op}"), headline, n.as_f64()));
    }
    for g in report["grpc"].as_array().into_iter().flatten() {
        let name = format!(
            "gRPC {} / empty ({})",
            g["scenario"].as_str().unwrap_or("?"),
            g["store"].as_str().unwrap_or("?")
        );
        let r = &g["result"]["ratio_to_empty"];
        let headline = g["store"] == "redb" && HEADLINE_GRPC.iter().any(|s| g["scenario"] == *s);
        out.push((format!("{name}: median"), headline, r["median"].as_f64()));
        out.push((format!("{name}: pooled"), false, r["pooled"].as_f64()));
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
        out.push((name, false, row["ratio_of_ratios_to_empty"].as_f64()));
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
        let headline = HEADLINE_HTTP.iter().any(|n| row["name"] == *n);
        out.push((
            format!("{name}: median"),
            headline,
            row["ratio_median"].as_f64(),
        ));
        out.push((
            format!("{name}: pooled"),
            false,
            row["ratio_pooled"].as_f64(),
        ));
        out.push((
            format!("{name}: server CPU"),
            false,
            row["server_cpu_ratio"].as_f64(),
        ));
    }
    out
}

/// The references' own speed: what every ratio divides by.
fn speeds(report: &Value) -> Vec<Named> {
    let mut out = Vec::new();
    let core = report["core"]["rows"].as_array();
    for baseline in ["hmac_floor", "jsonwebtoken"] {
        let ns = core
            .into_iter()
            .flatten()
            .find(|r| r["group"] == "access_token/verify" && r["baseline"] == baseline)
            .and_then(|r| r["baseline_ns"].as_f64());
        // The core's references are the cleanest gauge of the machine's speed (one process,
        // 31 rounds, each batch's fastest slice): `true` marks them as what the warning reads.
        out.push((format!("{baseline}, ns per access-token verify"), true, ns));
    }
    for g in report["grpc"].as_array().into_iter().flatten() {
        let empty = g["result"]["runs"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["scenario"] == "empty")
            .and_then(|r| r["throughput_median_per_s"].as_f64());
        let name = format!(
            "empty RPC per second, beside {} ({})",
            g["scenario"].as_str().unwrap_or("?"),
            g["store"].as_str().unwrap_or("?")
        );
        out.push((name, false, empty));
    }
    let health = report["http"]["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["name"] == "http_health")
        .and_then(|r| r["median"].as_f64());
    out.push(("GET /health per second".into(), false, health));
    out
}

/// Pairs this run's values with the earlier run's, by name; a value in one run only is kept,
/// with a dash for the other.
fn pairs(earlier: Vec<Named>, this: Vec<Named>) -> Vec<Pair> {
    let mut pairs: Vec<Pair> = this
        .into_iter()
        .map(|(what, headline, this)| Pair {
            earlier: earlier
                .iter()
                .find(|(w, _, _)| *w == what)
                .and_then(|(_, _, v)| *v),
            what,
            headline,
            this,
        })
        .collect();
    for (what, headline, v) in earlier {
        if !pairs.iter().any(|p| p.what == what) {
            pairs.push(Pair {
                what,
                headline,
                earlier: v,
                this: None,
            });
        }
    }
    pairs
}

/// Ratios to 4 places; counts and rates whole.
fn num(x: Option<f64>) -> String {
    match x {
        None => "–".into(),
        Some(x) if x >= 100.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.4}"),
    }
}

/// The comparison as Markdown: the references' speed, one row per ratio, then how many
/// (headlines, and all) repeat within [`MARGIN`].
pub(crate) fn markdown(earlier: &Value, this: &Value) -> String {
    let started = |r: &Value| r["meta"]["started"].as_str().unwrap_or("?").to_owned();
    let mut out = format!(
        "## This run ({}) against the earlier one ({})\n\n",
        started(this),
        started(earlier)
    );
    out.push_str("### The machine's speed: the references' own\n\n| reference | earlier | this run | difference |\n|---|---:|---:|---:|\n");
    let mut moved = 0;
    for p in pairs(speeds(earlier), speeds(this)) {
        let diff = p.difference();
        moved += usize::from(p.headline && diff.is_some_and(|d| d.abs() > SPEED_MARGIN));
        let diff = diff.map_or_else(|| "–".into(), |d| format!("{:+.1}%", d * 100.0));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {diff} |",
            p.what,
            num(p.earlier),
            num(p.this)
        );
    }
    if moved > 0 {
        let _ = writeln!(
            out,
            "\n**The machine ran at another speed**: {moved} of the core's references moved by \
             more than {:.0}% between the runs (the loaded rates move more from run to run \
             anyway), so ratios between differently affected operations need not repeat; run \
             both again on a quiet machine.",
            SPEED_MARGIN * 100.0
        );
    }
    out.push_str("\n### Ratios (instruction counts: per operation)\n\n| ratio | headline | earlier | this run | difference | within 5% |\n|---|---|---:|---:|---:|---|\n");
    let pairs = pairs(ratios(earlier), ratios(this));
    let (mut within, mut headlines, mut headlines_within) = (0, 0, 0);
    for p in &pairs {
        let (diff, ok) = match p.difference() {
            Some(d) if d.abs() <= MARGIN => (format!("{:+.1}%", d * 100.0), "yes"),
            Some(d) => (format!("{:+.1}%", d * 100.0), "**no**"),
            None => ("–".into(), "–"),
        };
        within += usize::from(ok == "yes");
        headlines += usize::from(p.headline);
        headlines_within += usize::from(p.headline && ok == "yes");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {diff} | {ok} |",
            p.what,
            if p.headline { "yes" } else { "" },
            num(p.earlier),
            num(p.this)
        );
    }
    let _ = writeln!(
        out,
        "\nHeadline ratios within 5% of the earlier run: {headlines_within} of {headlines}; \
         all: {within} of {}.",
        pairs.len()
    );
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn report(verify: f64, introspect: f64, count: u64, floor_ns: f64) -> Value {
        json!({
            "meta": { "started": "t" },
            "core": { "rows": [{ "group": "access_token/verify", "tessera": "AccessToken::verify",
                                 "baseline": "hmac_floor", "baseline_ns": floor_ns,
                                 "ratio_median": verify, "ratio_best": verify }] },
            "instructions": { "counts": { "access_verify": count } },
            "grpc": [{ "store": "redb", "scenario": "introspect",
                       "result": { "ratio_to_empty": { "median": introspect, "pooled": introspect },
                                   "runs": [{ "scenario": "empty", "throughput_median_per_s": 40000.0 }] } }],
            "postgres_vs_embedded": [],
            "http": { "rows": [{ "name": "http_health", "reference": "http_health", "median": 80000.0 }] },
        })
    }

    #[test]
    fn ratios_more_than_five_percent_apart_are_flagged() {
        let text = markdown(
            &report(1.9, 0.80, 16_815, 270.0),
            &report(1.95, 0.90, 16_815, 280.0),
        );
        assert!(text.contains("| core AccessToken::verify / hmac_floor: median | yes | 1.9000 | 1.9500 | +2.6% | yes |"), "{text}");
        assert!(text.contains("| gRPC introspect / empty (redb): median | yes | 0.8000 | 0.9000 | +12.5% | **no** |"), "{text}");
        assert!(
            text.contains(
                "| gRPC introspect / empty (redb): pooled |  | 0.8000 | 0.9000 | +12.5% | **no** |"
            ),
            "{text}"
        );
        assert!(
            text.contains("| instructions access_verify | yes | 16815 | 16815 | +0.0% | yes |"),
            "{text}"
        );
        assert!(
            text.contains("Headline ratios within 5% of the earlier run: 2 of 3; all: 3 of 5."),
            "{text}"
        );
        assert!(!text.contains("http_health / http_health"), "{text}");
        assert!(
            text.contains("| hmac_floor, ns per access-token verify | 270 | 280 | +3.7% |"),
            "{text}"
        );
        assert!(!text.contains("another speed"), "{text}");
    }

    #[test]
    fn a_reference_that_moved_says_the_machine_changed_speed() {
        let text = markdown(&report(1.9, 0.8, 1, 270.0), &report(2.4, 0.8, 1, 330.0));
        assert!(
            text.contains("**The machine ran at another speed**: 1 of the core's references moved"),
            "{text}"
        );
    }

    #[test]
    fn a_ratio_in_one_run_only_is_listed_without_a_difference() {
        let mut earlier = report(1.9, 0.8, 1, 270.0);
        earlier["instructions"]["counts"]["gone"] = json!(5.5);
        let text = markdown(&earlier, &report(1.9, 0.8, 1, 270.0));
        assert!(
            text.contains("| instructions gone |  | 5.5000 | – | – | – |"),
            "{text}"
        );
    }
}
