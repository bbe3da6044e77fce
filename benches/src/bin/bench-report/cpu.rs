//! The CPU the numbers come from: model and the SIMD and crypto features that move them.

use serde_json::json;

/// The features named beside every table (issue 16): SHA-NI and AES change the hash and the
/// TLS-free paths' cost, AVX2 and AVX-512F the base64 lanes.
const FEATURES: [&str; 4] = ["avx2", "avx512f", "sha_ni", "aes"];

/// Model, logical CPUs and which of [`FEATURES`] it has.
#[derive(Debug)]
pub(crate) struct Cpu {
    model: String,
    logical: usize,
    features: Vec<(&'static str, bool)>,
}

impl Cpu {
    /// From `/proc/cpuinfo` (Linux).
    pub(crate) fn read() -> anyhow::Result<Self> {
        let info = std::fs::read_to_string("/proc/cpuinfo")?;
        let field = |name: &str| {
            info.lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim() == name)
                .map(|(_, v)| v.trim().to_owned())
        };
        let flags = field("flags").unwrap_or_default();
        let has = |f: &str| flags.split_whitespace().any(|x| x == f);
        Ok(Self {
            model: field("model name").unwrap_or_else(|| "unknown".into()),
            logical: info.lines().filter(|l| l.starts_with("processor")).count(),
            features: FEATURES.iter().map(|f| (*f, has(f))).collect(),
        })
    }

    /// `"MODEL", N logical CPUs; avx2 yes, avx512f no, …`
    pub(crate) fn line(&self) -> String {
        let features: Vec<String> = self
            .features
            .iter()
            .map(|(f, on)| format!("{f} {}", if *on { "yes" } else { "no" }))
            .collect();
        format!(
            "\"{}\", {} logical CPUs; {}",
            self.model,
            self.logical,
            features.join(", ")
        )
    }

    pub(crate) fn to_json(&self) -> serde_json::Value {
        let present: Vec<&str> = self
            .features
            .iter()
            .filter(|(_, on)| *on)
            .map(|(f, _)| *f)
            .collect();
        json!({ "model": self.model, "logical_cpus": self.logical, "features": present })
    }
}
