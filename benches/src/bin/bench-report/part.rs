//! Reading the parts' outputs: `PART.json` if it ran, `PART.not-run` (the reason) if not.

use std::path::Path;

use serde_json::{Value, json};

/// The scenarios `benches/run` sends with `tessera-load`, on each store.
pub(crate) const SCENARIOS: [&str; 4] = ["introspect", "issue", "register", "mixed"];
/// The stores, as `benches/run` names their files, and as the report names them.
pub(crate) const STORES: [(&str, &str); 2] =
    [("redb", "redb (embedded)"), ("postgres", "PostgreSQL")];

/// One part's output, or why there is none.
#[derive(Debug)]
pub(crate) enum Part {
    Ran(Value),
    NotRun(String),
}

impl Part {
    fn read(dir: &Path, name: &str) -> anyhow::Result<Self> {
        let json = dir.join(format!("{name}.json"));
        let not_run = dir.join(format!("{name}.not-run"));
        if json.exists() {
            let text = std::fs::read_to_string(&json)?;
            let value = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", json.display()))?;
            Ok(Self::Ran(value))
        } else if not_run.exists() {
            Ok(Self::NotRun(
                std::fs::read_to_string(not_run)?.trim().to_owned(),
            ))
        } else {
            Ok(Self::NotRun(format!(
                "no output: {} is missing",
                json.display()
            )))
        }
    }

    pub(crate) fn value(&self) -> Option<&Value> {
        match self {
            Self::Ran(v) => Some(v),
            Self::NotRun(_) => None,
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        match self {
            Self::Ran(v) => v.clone(),
            Self::NotRun(why) => json!({ "not_run": why }),
        }
    }
}

/// One `tessera-load --baseline --rounds N --json` run.
#[derive(Debug)]
pub(crate) struct Grpc {
    pub(crate) store: &'static str,
    pub(crate) scenario: &'static str,
    pub(crate) part: Part,
}

impl Grpc {
    /// The merged run of `scenario` (`"empty"` for the baseline).
    pub(crate) fn run(&self, scenario: &str) -> Option<&Value> {
        self.part.value()?["runs"]
            .as_array()?
            .iter()
            .find(|r| r["scenario"] == scenario)
    }

    /// Median, min and max of the per-round ratios to `empty`.
    pub(crate) fn ratio(&self) -> Option<(f64, f64, f64)> {
        let r = &self.part.value()?["ratio_to_empty"];
        Some((
            r["median"].as_f64()?,
            r["min"].as_f64()?,
            r["max"].as_f64()?,
        ))
    }

    /// The ratio to `empty` with every round pooled.
    pub(crate) fn pooled(&self) -> Option<f64> {
        self.part.value()?["ratio_to_empty"]["pooled"].as_f64()
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({ "store": self.store, "scenario": self.scenario, "result": self.part.to_json() })
    }
}

/// Everything `benches/run` left in its output directory.
#[derive(Debug)]
pub(crate) struct Parts {
    /// `meta.json`: mode, rounds and durations, load averages, PostgreSQL's origin.
    pub(crate) meta: Value,
    pub(crate) core: Part,
    pub(crate) instructions: Part,
    pub(crate) grpc: Vec<Grpc>,
    pub(crate) http: Part,
}

impl Parts {
    pub(crate) fn read(dir: &Path) -> anyhow::Result<Self> {
        let meta = Part::read(dir, "meta")?.to_json();
        let mut grpc = Vec::new();
        for (store, _) in STORES {
            for scenario in SCENARIOS {
                let part = Part::read(dir, &format!("grpc-{store}-{scenario}"))?;
                grpc.push(Grpc {
                    store,
                    scenario,
                    part,
                });
            }
        }
        Ok(Self {
            meta,
            core: Part::read(dir, "core")?,
            instructions: Part::read(dir, "instructions")?,
            grpc,
            http: Part::read(dir, "http")?,
        })
    }

    pub(crate) fn grpc(&self, store: &str, scenario: &str) -> Option<&Grpc> {
        self.grpc
            .iter()
            .find(|g| g.store == store && g.scenario == scenario)
    }

    /// The HTTP row named `name` (`benches/http/run --json`).
    pub(crate) fn http_row(&self, name: &str) -> Option<&Value> {
        self.http.value()?["rows"]
            .as_array()?
            .iter()
            .find(|r| r["name"] == name)
    }
}
