//! `bench-ratios`: prints the micro-benchmark results as ratios to their baselines.
//!
//! Reads what `cargo bench -p tessera-benches --bench micro` left in `target/criterion` (each
//! function's median from `new/estimates.json`) and prints one Markdown row per group: Tessera's
//! time, each baseline's, Tessera over the HMAC floor, and `jsonwebtoken` over Tessera.
//!
//! Run: `cargo run --release -p tessera-benches --bin bench-ratios [target/criterion]`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Median time in nanoseconds of `<dir>/<function>/new/estimates.json`.
fn median_ns(function: &Path) -> anyhow::Result<f64> {
    let path = function.join("new").join("estimates.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let estimates: serde_json::Value = serde_json::from_str(&text)?;
    estimates["median"]["point_estimate"]
        .as_f64()
        .with_context(|| format!("no median in {}", path.display()))
}

fn main() -> anyhow::Result<()> {
    let root = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("target/criterion"), PathBuf::from);
    // criterion writes a group `a/b` as the directory `a_b`.
    let mut groups: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for group in std::fs::read_dir(&root).with_context(|| {
        format!(
            "reading {} (run `cargo bench -p tessera-benches --bench micro` first)",
            root.display()
        )
    })? {
        let group = group?.path();
        for function in std::fs::read_dir(&group)? {
            let function = function?.path();
            if let Ok(ns) = median_ns(&function) {
                let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
                if let (Some(g), Some(f)) = (name(&group), name(&function)) {
                    groups.entry(g).or_default().insert(f, ns);
                }
            }
        }
    }

    println!(
        "| group | tessera | floor | jsonwebtoken | tessera / floor | jsonwebtoken / tessera |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (group, times) in &groups {
        let Some(&ours) = times.get("tessera") else {
            continue;
        };
        let floor = times
            .get("hmac_floor")
            .or_else(|| times.get("sha256_floor"));
        let jwt = times.get("jsonwebtoken");
        let ns = |t: Option<&f64>| t.map_or_else(|| "–".to_owned(), |t| format!("{t:.0} ns"));
        let ratio = |r: Option<f64>| r.map_or_else(|| "–".to_owned(), |r| format!("{r:.2}×"));
        println!(
            "| {group} | {} | {} | {} | {} | {} |",
            ns(Some(&ours)),
            ns(floor),
            ns(jwt),
            ratio(floor.map(|f| ours / f)),
            ratio(jwt.map(|j| j / ours)),
        );
    }
    Ok(())
}
