//! Core micro-benchmarks under criterion: every group holds Tessera's operation and its
//! baselines over the same claims (the fixture module's `Setup::groups`), so each result reads
//! as a ratio measured in the same run. `wallclock` gives the same ratios interleaved; this
//! target gives criterion's per-function statistics and history.
//!
//! Run: `cargo bench -p tessera-benches --bench micro`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark harness"
)]

mod fixture;

use core::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use fixture::Setup;
use tessera_core::encoding::base64url_decode;

fn groups(c: &mut Criterion) {
    let setup = Setup::new();
    for group in setup.groups() {
        let mut g = c.benchmark_group(group.name);
        for mut op in core::iter::once(group.tessera).chain(group.baselines) {
            g.bench_function(op.name, |b| b.iter(|| op.run()));
        }
        g.finish();
    }

    // Decoding alone, to show its share of a verify (BENCHMARKS.md).
    let text = setup.access.expose();
    let mut g = c.benchmark_group("access_token/verify");
    g.bench_function("base64url_decode_body", |b| {
        let mut out = [0u8; 512];
        b.iter(|| {
            base64url_decode(black_box(&text.as_bytes()[7..]), &mut out)
                .unwrap()
                .len()
        })
    });
    g.finish();
}

criterion_group!(benches, groups);
criterion_main!(benches);
