//! The SVG chart: latency percentiles (p50, p99, p99.9) per scenario, one panel each for gRPC on
//! redb, gRPC on PostgreSQL and HTTP, on one logarithmic axis so the panels compare.

use std::path::Path;

use plotters::prelude::*;

use crate::cpu::Cpu;
use crate::part::{Parts, SCENARIOS};

const QUANTILES: [(&str, RGBColor); 3] = [
    ("p50", RGBColor(66, 133, 244)),
    ("p99", RGBColor(244, 160, 0)),
    ("p99.9", RGBColor(219, 68, 55)),
];

/// One panel: a title and, per scenario, its name and the three percentiles in µs (if it ran).
type Panel = (String, Vec<(String, Option<[f64; 3]>)>);

fn percentiles(v: Option<&serde_json::Value>) -> Option<[f64; 3]> {
    let l = &v?["latency_us"];
    Some([l["p50"].as_f64()?, l["p99"].as_f64()?, l["p99.9"].as_f64()?])
}

fn panels(parts: &Parts) -> Vec<Panel> {
    let grpc = |store: &str, title: &str| {
        let mut rows = vec![(
            "empty".to_owned(),
            percentiles(parts.grpc(store, "introspect").and_then(|g| g.run("empty"))),
        )];
        for s in SCENARIOS {
            rows.push((
                s.to_owned(),
                percentiles(parts.grpc(store, s).and_then(|g| g.run(s))),
            ));
        }
        (title.to_owned(), rows)
    };
    let http = [
        ("http_health", "/health"),
        ("http_metadata", "metadata"),
        ("http_introspect", "/introspect"),
        ("http_token", "/token"),
    ]
    .iter()
    .map(|(name, label)| ((*label).to_owned(), percentiles(parts.http_row(name))))
    .collect();
    vec![
        grpc("redb", "gRPC, redb (embedded)"),
        grpc("postgres", "gRPC, PostgreSQL"),
        ("HTTP (wrk)".to_owned(), http),
    ]
}

/// Writes the chart to `path`.
pub(crate) fn latency(parts: &Parts, cpu: &Cpu, path: &Path) -> anyhow::Result<()> {
    let panels = panels(parts);
    let values: Vec<f64> = panels
        .iter()
        .flat_map(|(_, rows)| rows.iter().filter_map(|(_, p)| *p))
        .flatten()
        .filter(|v| *v > 0.0)
        .collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    let (lo, hi) = if values.is_empty() {
        (10.0, 100_000.0)
    } else {
        (lo / 2.0, hi * 2.0)
    };

    let root = SVGBackend::new(path, (1280, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(draw)?;
    let (top, body) = root.split_vertically(46);
    top.draw(&Text::new(
        "Latency percentiles per scenario (benches/run)",
        (12, 6),
        ("sans-serif", 18),
    ))
    .map_err(draw)?;
    top.draw(&Text::new(cpu.line(), (12, 28), ("sans-serif", 12)))
        .map_err(draw)?;
    for (area, (title, rows)) in body.split_evenly((1, panels.len())).iter().zip(&panels) {
        #[allow(clippy::cast_precision_loss, reason = "a handful of categories")]
        let n = rows.len() as f64;
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 15))
            .margin(8)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..n, (lo..hi).log_scale())
            .map_err(draw)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc("latency, µs (log)")
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()
            .map_err(draw)?;
        for (k, (name, color)) in QUANTILES.iter().enumerate() {
            #[allow(clippy::cast_precision_loss, reason = "small indexes")]
            let bars = rows.iter().enumerate().filter_map(|(i, (_, p))| {
                let v = p.as_ref()?.get(k).copied()?;
                let x0 = i as f64 + 0.14 + k as f64 * 0.24;
                Some(Rectangle::new([(x0, lo), (x0 + 0.22, v)], color.filled()))
            });
            chart
                .draw_series(bars)
                .map_err(draw)?
                .label(*name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                });
        }
        for (i, (name, p)) in rows.iter().enumerate() {
            #[allow(clippy::cast_precision_loss, reason = "small indexes")]
            let (x, y) = chart.backend_coord(&(i as f64 + 0.2, lo));
            let label = if p.is_some() {
                name.clone()
            } else {
                format!("{name} (not run)")
            };
            root.draw(&Text::new(label, (x, y + 8), ("sans-serif", 12)))
                .map_err(draw)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(draw)?;
    }
    root.present().map_err(draw)?;
    Ok(())
}

fn draw<E: core::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing the chart: {e:?}")
}
