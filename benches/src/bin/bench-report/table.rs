//! The Markdown report: the CPU, then each part's table, then the targets.

use core::fmt::Write as _;

use serde_json::{Value, json};

use crate::cpu::Cpu;
use crate::part::{Parts, SCENARIOS, STORES};

fn f(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// `12,345` for a rate.
fn rate(x: f64) -> String {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a non-negative rate, rounded for display"
    )]
    let n = x.round().max(0.0) as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Microseconds, as µs below 10 ms and ms above.
fn latency(us: Option<f64>) -> String {
    match us {
        Some(us) if us >= 10_000.0 => format!("{:.1} ms", us / 1_000.0),
        Some(us) => format!("{us:.0} µs"),
        None => "–".into(),
    }
}

fn or_dash(x: Option<String>) -> String {
    x.unwrap_or_else(|| "–".into())
}

/// A headline target and whether this run met it.
#[derive(Debug)]
pub(crate) struct Target {
    what: &'static str,
    goal: f64,
    /// Median ratio and its range over the rounds.
    measured: Option<(f64, f64, f64)>,
    /// The ratio with every round pooled.
    pooled: Option<f64>,
}

impl Target {
    fn status(&self) -> &'static str {
        match self.measured {
            None => "not measured",
            Some((m, _, _)) if m >= self.goal => "met",
            Some(_) => "**not met**",
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "target": self.what,
            "goal": self.goal,
            "ratio_median": self.measured.map(|m| m.0),
            "ratio_min": self.measured.map(|m| m.1),
            "ratio_max": self.measured.map(|m| m.2),
            "ratio_pooled": self.pooled,
            "status": self.status().trim_matches('*'),
        })
    }
}

fn http_ratio(parts: &Parts, name: &str) -> Option<(f64, f64, f64)> {
    let row = parts.http_row(name)?;
    Some((
        f(&row["ratio_median"])?,
        f(&row["ratio_min"])?,
        f(&row["ratio_max"])?,
    ))
}

/// Issue 16's throughput targets, each a ratio to its transport's empty request.
pub(crate) fn targets(parts: &Parts) -> Vec<Target> {
    let grpc = |scenario| parts.grpc("redb", scenario);
    let http_pooled = |name| parts.http_row(name).and_then(|r| f(&r["ratio_pooled"]));
    vec![
        Target {
            what: "gRPC introspect ≥ 0.9× empty RPC (redb)",
            goal: 0.9,
            measured: grpc("introspect").and_then(|g| g.ratio()),
            pooled: grpc("introspect").and_then(|g| g.pooled()),
        },
        Target {
            what: "gRPC issue (IssueCode + Exchange, durable) ≥ 0.4× empty RPC (redb)",
            goal: 0.4,
            measured: grpc("issue").and_then(|g| g.ratio()),
            pooled: grpc("issue").and_then(|g| g.pooled()),
        },
        Target {
            what: "HTTP POST /token (client_credentials) ≥ 0.8× GET /health",
            goal: 0.8,
            measured: http_ratio(parts, "http_token"),
            pooled: http_pooled("http_token"),
        },
        Target {
            what: "HTTP POST /introspect ≥ 0.8× GET /health",
            goal: 0.8,
            measured: http_ratio(parts, "http_introspect"),
            pooled: http_pooled("http_introspect"),
        },
    ]
}

/// PostgreSQL against the embedded store for `issue` and `introspect`: the raw throughput ratio
/// (runs a few seconds apart) and the ratio of their ratios to `empty` (each interleaved with its
/// own `empty`, so a change in the machine's load between the two cancels).
pub(crate) fn postgres_ratios(parts: &Parts) -> Vec<Value> {
    ["introspect", "issue"]
        .iter()
        .map(|scenario| {
            let side = |store| {
                let g = parts.grpc(store, scenario)?;
                Some((
                    g.run(scenario)?["throughput_median_per_s"].as_f64()?,
                    g.ratio()?.0,
                ))
            };
            let (redb, pg) = (side("redb"), side("postgres"));
            let both = redb.zip(pg);
            json!({
                "scenario": scenario,
                "redb_per_s": redb.map(|r| r.0),
                "postgres_per_s": pg.map(|p| p.0),
                "throughput_ratio": both.map(|(r, p)| p.0 / r.0),
                "ratio_of_ratios_to_empty": both.map(|(r, p)| p.1 / r.1),
            })
        })
        .collect()
}

fn core_section(out: &mut String, v: &Value) {
    out.push_str("## Core wall-clock (`cargo bench -p tessera-benches --bench wallclock`)\n\n");
    out.push_str("Interleaved rounds in one process; ratio = Tessera / baseline, median of the rounds (interquartile range); best = each side's fastest round, one over the other.\n\n");
    out.push_str("| group | tessera | baseline | tessera ns | baseline ns | ratio (median) | IQR | best | rounds |\n");
    out.push_str("|---|---|---|---:|---:|---:|---:|---:|---:|\n");
    for row in v["rows"].as_array().into_iter().flatten() {
        let num = |k: &str, p: usize| or_dash(f(&row[k]).map(|x| format!("{x:.p$}")));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {}× | {}–{}× | {}× | {} |",
            row["group"].as_str().unwrap_or("?"),
            row["tessera"].as_str().unwrap_or("?"),
            row["baseline"].as_str().unwrap_or("?"),
            num("tessera_ns", 0),
            num("baseline_ns", 0),
            num("ratio_median", 2),
            num("ratio_lo", 2),
            num("ratio_hi", 2),
            num("ratio_best", 3),
            row["rounds"]
        );
    }
    out.push('\n');
}

fn instructions_section(out: &mut String, v: &Value) {
    out.push_str("## Instruction counts (`benches/instructions/run`, callgrind)\n\n");
    let _ = writeln!(
        out,
        "{}; the same binary counts the same on every run.\n",
        v["valgrind"].as_str().unwrap_or("valgrind")
    );
    out.push_str("| operation | instructions |\n|---|---:|\n");
    for (op, n) in v["counts"].as_object().into_iter().flatten() {
        let _ = writeln!(out, "| {op} | {} |", or_dash(f(n).map(rate)));
    }
    out.push('\n');
}

fn grpc_section(out: &mut String, parts: &Parts) {
    out.push_str("## gRPC (`tessera-load --baseline --rounds N`)\n\n");
    out.push_str(
        "Each scenario alternates with `empty` (the health Check RPC) in N rounds, ABBA; \
         ratio = the scenario's requests (flows, for `issue`) per second over `empty`'s, median of \
         the rounds (range); rates are medians of the rounds; latency percentiles over every \
         request of every round. Server, clients and (for PostgreSQL) the database share the \
         machine.\n\n",
    );
    out.push_str("| store | scenario | per second | `empty` per second | ratio to `empty` | range | p50 | p99 | p99.9 | errors |\n");
    out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (store, label) in STORES {
        for scenario in SCENARIOS {
            let Some(g) = parts.grpc(store, scenario) else {
                continue;
            };
            let run = g.run(scenario);
            let empty = g.run("empty");
            let med = |r: Option<&Value>| {
                or_dash(r.and_then(|r| f(&r["throughput_median_per_s"])).map(rate))
            };
            let lat = |q: &str| latency(run.and_then(|r| f(&r["latency_us"][q])));
            let (ratio, range) = match g.ratio() {
                Some((m, lo, hi)) => (format!("**{m:.2}×**"), format!("{lo:.2}–{hi:.2}×")),
                None => ("–".into(), "–".into()),
            };
            let errors = run.map_or(0, |r| r["errors"].as_u64().unwrap_or(0))
                + empty.map_or(0, |r| r["errors"].as_u64().unwrap_or(0));
            let _ = writeln!(
                out,
                "| {label} | `{scenario}` | {} | {} | {ratio} | {range} | {} | {} | {} | {errors} |",
                med(run),
                med(empty),
                lat("p50"),
                lat("p99"),
                lat("p99.9"),
            );
        }
    }
    out.push('\n');
    out.push_str("### PostgreSQL / embedded\n\n");
    out.push_str("| scenario | redb per second | PostgreSQL per second | PostgreSQL / redb | the same, of the ratios to `empty` |\n");
    out.push_str("|---|---:|---:|---:|---:|\n");
    for row in postgres_ratios(parts) {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            row["scenario"].as_str().unwrap_or("?"),
            or_dash(f(&row["redb_per_s"]).map(rate)),
            or_dash(f(&row["postgres_per_s"]).map(rate)),
            or_dash(f(&row["throughput_ratio"]).map(|x| format!("{x:.2}×"))),
            or_dash(f(&row["ratio_of_ratios_to_empty"]).map(|x| format!("{x:.2}×"))),
        );
    }
    out.push('\n');
}

fn http_section(out: &mut String, parts: &Parts) {
    out.push_str("## HTTP (`benches/http/run`: wrk, and tessera-load on gRPC, against one `tessera serve`)\n\n");
    let v = &parts.http;
    let _ = writeln!(
        out,
        "{} rounds of {} s per request, the requests alternating (ABBA order by round); ratio = \
         req/s over its transport's reference in the same round (HTTP: `GET /health`, the empty \
         handler; gRPC: `empty`), median of the rounds (range). Server CPU: the server's threads' \
         on-CPU time per request answered, every round pooled (the load generators left out), and \
         the reference's over it. HTTP latency: wrk's percentiles, median of the rounds (wrk does \
         not export its histogram); gRPC: over every request.\n",
        v["rounds"], v["seconds"]
    );
    out.push_str(
        "| request | req/s | range | ratio to its reference | range | server CPU / request | reference's / this | p50 | p99 | p99.9 |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for row in v["rows"].as_array().into_iter().flatten() {
        let lat = |q: &str| latency(f(&row["latency_us"][q]));
        let _ = writeln!(
            out,
            "| {} | {} | {}–{} | **{:.2}×** | {:.2}–{:.2}× | {} | {} | {} | {} | {} |",
            row["label"].as_str().unwrap_or("?"),
            or_dash(f(&row["median"]).map(rate)),
            or_dash(f(&row["min"]).map(rate)),
            or_dash(f(&row["max"]).map(rate)),
            f(&row["ratio_median"]).unwrap_or(f64::NAN),
            f(&row["ratio_min"]).unwrap_or(f64::NAN),
            f(&row["ratio_max"]).unwrap_or(f64::NAN),
            or_dash(f(&row["server_cpu_us"]).map(|us| format!("{us:.1} µs"))),
            or_dash(f(&row["server_cpu_ratio"]).map(|x| format!("{x:.2}×"))),
            lat("p50"),
            lat("p99"),
            lat("p99.9"),
        );
    }
    out.push('\n');
}

/// The whole report.
pub(crate) fn markdown(cpu: &Cpu, parts: &Parts) -> String {
    let mut out = String::from("# Tessera benchmark report (`benches/run`)\n\n");
    let _ = writeln!(out, "CPU: {}\n", cpu.line());
    let meta = &parts.meta;
    let _ = writeln!(
        out,
        "Mode: {}; started {}; load average before {}, after {}; PostgreSQL: {}.\n",
        meta["mode"].as_str().unwrap_or("?"),
        meta["started"].as_str().unwrap_or("?"),
        meta["load_before"].as_str().unwrap_or("?"),
        meta["load_after"].as_str().unwrap_or("?"),
        meta["postgres"].as_str().unwrap_or("?"),
    );
    out.push_str("## Targets (issue 16)\n\n| target | ratio (median) | range | every round pooled | status |\n|---|---:|---:|---:|---|\n");
    for t in targets(parts) {
        let (m, range) = t.measured.map_or(("–".into(), "–".into()), |(m, lo, hi)| {
            (format!("{m:.2}×"), format!("{lo:.2}–{hi:.2}×"))
        });
        let pooled = or_dash(t.pooled.map(|p| format!("{p:.3}×")));
        let _ = writeln!(
            out,
            "| {} | {m} | {range} | {pooled} | {} |",
            t.what,
            t.status()
        );
    }
    out.push('\n');
    core_section(&mut out, &parts.core);
    instructions_section(&mut out, &parts.instructions);
    grpc_section(&mut out, parts);
    http_section(&mut out, parts);
    out
}
