//! Reading the parts' outputs, `PART.json` each, from `benches/run`'s output directory.

use std::path::Path;

use serde_json::{Value, json};

/// The scenarios `benches/run` sends with `tessera-load`, on each store.
pub(crate) const SCENARIOS: [&str; 4] = ["introspect", "issue", "register", "mixed"];
/// The stores, as `benches/run` names their files, and as the report names them.
pub(crate) const STORES: [(&str, &str); 2] =
    [("redb", "redb (embedded)"), ("postgres", "PostgreSQL")];

/// Reads `PART.json` from `dir`. Every step of `benches/run` writes its part or fails the
/// command, so a missing part is an error naming the file, never a hole in the table.
fn read(dir: &Path, name: &str) -> anyhow::Result<Value> {
    let path = dir.join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).map_err(|e| {
        anyhow::anyhow!(
            "{}: {e} (its step of benches/run did not run or failed)",
            path.display()
        )
    })?;
    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// One `tessera-load --baseline --rounds N --json` run.
#[derive(Debug)]
pub(crate) struct Grpc {
    pub(crate) store: &'static str,
    pub(crate) scenario: &'static str,
    pub(crate) part: Value,
}

impl Grpc {
    /// The merged run of `scenario` (`"empty"` for the baseline).
    pub(crate) fn run(&self, scenario: &str) -> Option<&Value> {
        self.part["runs"]
            .as_array()?
            .iter()
            .find(|r| r["scenario"] == scenario)
    }

    /// Median, min and max of the per-round ratios to `empty`.
    pub(crate) fn ratio(&self) -> Option<(f64, f64, f64)> {
        let r = &self.part["ratio_to_empty"];
        Some((
            r["median"].as_f64()?,
            r["min"].as_f64()?,
            r["max"].as_f64()?,
        ))
    }

    /// The ratio to `empty` with every round pooled.
    pub(crate) fn pooled(&self) -> Option<f64> {
        self.part["ratio_to_empty"]["pooled"].as_f64()
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({ "store": self.store, "scenario": self.scenario, "result": self.part })
    }
}

/// Everything `benches/run` left in its output directory.
#[derive(Debug)]
pub(crate) struct Parts {
    /// `meta.json`: mode, rounds and durations, load averages, PostgreSQL's origin.
    pub(crate) meta: Value,
    pub(crate) core: Value,
    pub(crate) instructions: Value,
    pub(crate) grpc: Vec<Grpc>,
    pub(crate) http: Value,
}

impl Parts {
    pub(crate) fn read(dir: &Path) -> anyhow::Result<Self> {
        let meta = read(dir, "meta")?;
        let mut grpc = Vec::new();
        for (store, _) in STORES {
            for scenario in SCENARIOS {
                let part = read(dir, &format!("grpc-{store}-{scenario}"))?;
                grpc.push(Grpc {
                    store,
                    scenario,
                    part,
                });
            }
        }
        Ok(Self {
            meta,
            core: read(dir, "core")?,
            instructions: read(dir, "instructions")?,
            grpc,
            http: read(dir, "http")?,
        })
    }

    pub(crate) fn grpc(&self, store: &str, scenario: &str) -> Option<&Grpc> {
        self.grpc
            .iter()
            .find(|g| g.store == store && g.scenario == scenario)
    }

    /// The HTTP row named `name` (`benches/http/run --json`).
    pub(crate) fn http_row(&self, name: &str) -> Option<&Value> {
        self.http["rows"]
            .as_array()?
            .iter()
            .find(|r| r["name"] == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_part_is_an_error_naming_its_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("meta.json"), "{}").unwrap();
        let err = Parts::read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("grpc-redb-introspect.json"), "{err}");
    }

    #[test]
    fn a_damaged_part_is_an_error_naming_its_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("meta.json"), "{\"mode\": ").unwrap();
        let err = Parts::read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("meta.json"), "{err}");
    }
}
