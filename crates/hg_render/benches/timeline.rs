//! Timeline at 1M events in 4 lanes: build (decode + sort), render at full view, render zoomed,
//! hit-test, overview. Run: `cargo bench -p hg_render --bench timeline` (HG_BENCH_10M=1 adds
//! 10M events). Results: `benches/RESULTS.md`.

use criterion::{criterion_group, criterion_main, Criterion};
use hg_render::timeline::TimelineChart;

#[path = "../tests/common/mod.rs"]
mod common;

const SPEC: &str = r#"{"mode": "events", "datasets": [{"name": "Events", "time_column": "TimeGenerated",
    "source_columns": ["Computer"], "color": null, "group_by": null}], "group_by": "Computer",
    "title": "Events", "marker_size": 8}"#;

fn chart(bytes: &[u8]) -> TimelineChart {
    let mut chart = TimelineChart::new(SPEC).expect("spec");
    chart.add_dataset("Events", bytes).expect("data");
    chart.prepare().expect("prepare");
    chart.resize(1200.0, 400.0, 2.0).expect("size");
    chart
}

fn timeline(c: &mut Criterion) {
    let bytes = common::events(1_000_000, 4, 7);
    let mut group = c.benchmark_group("timeline_1m_4_lanes");
    group.sample_size(10);
    group.bench_function("build", |b| b.iter(|| chart(&bytes)));
    let mut full = chart(&bytes);
    group.bench_function("render_full", |b| b.iter(|| full.render().expect("render")));
    let mut zoomed = chart(&bytes);
    let [start, end] = zoomed.view();
    let mid = (start + end) / 2.0;
    zoomed
        .set_view(mid - 600_000.0, mid + 600_000.0)
        .expect("view");
    group.bench_function("render_zoomed_20min", |b| {
        b.iter(|| zoomed.render().expect("render"))
    });
    full.render().expect("render");
    let mut x = 200.0;
    group.bench_function("hit_test", |b| {
        b.iter(|| {
            x = if x > 1000.0 { 200.0 } else { x + 7.3 };
            full.hit_test(x, 150.0).expect("hit")
        })
    });
    group.bench_function("overview", |b| {
        b.iter(|| full.render_overview(1200.0, 80.0, 2.0).expect("overview"))
    });
    group.finish();
}

/// 10M events (set HG_BENCH_10M=1; needs about 2 GB of memory): build and full render.
fn timeline_10m(c: &mut Criterion) {
    if std::env::var("HG_BENCH_10M").is_err() {
        return;
    }
    let bytes = common::events(10_000_000, 4, 7);
    let mut group = c.benchmark_group("timeline_10m_4_lanes");
    group.sample_size(10);
    let mut full = chart(&bytes);
    drop(bytes);
    group.bench_function("render_full", |b| b.iter(|| full.render().expect("render")));
    group.bench_function("hit_test", |b| {
        b.iter(|| full.hit_test(600.0, 150.0).expect("hit"))
    });
    group.finish();
}

criterion_group!(benches, timeline, timeline_10m);
criterion_main!(benches);
