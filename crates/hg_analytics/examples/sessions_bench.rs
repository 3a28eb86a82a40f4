//! Times sessionizing plus scoring (commands with parameters) on a TSV of events written by
//! `bench/sessions/bench.py` and prints one JSON object with the best of N passes.
//!
//! Usage: `sessions_bench EVENTS.tsv [PASSES]`. The TSV has a header and the columns
//! `TimeGenerated` (ns since the epoch), `UserId`, `ClientIP`, `Operation`, `Params`
//! (comma-separated parameter names). The table is built in memory before timing, as the
//! reference's timing starts from a DataFrame.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch, StringArray, StructArray, TimestampNanosecondArray};
use arrow_schema::{DataType, Field, Fields, Schema};
use hg_analytics::{score_table, sessionize, ScoreOptions, SessionizeOptions, TrainOptions};
use hg_arrow::Table;
use serde_json::json;

fn load(path: &str) -> anyhow::Result<Table> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let mut times = Vec::new();
    let (mut users, mut ips, mut ops) = (Vec::new(), Vec::new(), Vec::new());
    let mut params = ListBuilder::new(StringBuilder::new());
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 5 {
            bail!("line {}: expected 5 fields", i + 1);
        }
        times.push(
            f[0].parse::<i64>()
                .with_context(|| format!("line {}", i + 1))?,
        );
        users.push(f[1]);
        ips.push(f[2]);
        ops.push(f[3]);
        for p in f[4].split(',').filter(|p| !p.is_empty()) {
            params.values().append_value(p);
        }
        params.append(true);
    }
    let params: ArrayRef = Arc::new(params.finish());
    let names: ArrayRef = Arc::new(StringArray::from(ops));
    let cmd = StructArray::try_new(
        Fields::from(vec![
            Field::new("name", DataType::Utf8, false),
            Field::new("params", params.data_type().clone(), true),
        ]),
        vec![names, params],
        None,
    )?;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(TimestampNanosecondArray::from(times).with_timezone("UTC")),
        Arc::new(StringArray::from(users)),
        Arc::new(StringArray::from(ips)),
        Arc::new(cmd),
    ];
    let schema = Arc::new(Schema::new(
        ["TimeGenerated", "UserId", "ClientIP", "cmd"]
            .iter()
            .zip(&columns)
            .map(|(n, c)| Field::new(*n, c.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    Ok(Table::new(schema, vec![batch])?)
}

/// CPU time of this process (user + system) from `/proc/self/stat`, in seconds, on Linux; the
/// machine the benchmarks run on is shared, so wall time alone depends on the others' load.
/// `None` elsewhere. Clock ticks are USER_HZ, 100 per second on Linux.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .context("usage: sessions_bench EVENTS.tsv [PASSES]")?;
    let passes: usize = args.next().map_or(Ok(3), |p| p.parse())?;
    let table = load(&path)?;
    let opts = SessionizeOptions::new(
        vec!["UserId".into(), "ClientIP".into()],
        "TimeGenerated",
        20.0,
        2.0,
        "cmd",
    )?;
    let score = ScoreOptions::default();
    let (mut best_sessionize, mut best_score, mut best_total) = (f64::MAX, f64::MAX, f64::MAX);
    let mut n_sessions = 0;
    let mut min_likelihood = f64::NAN;
    let mut best_cpu = f64::MAX;
    for _ in 0..passes.max(1) {
        let c0 = cpu_seconds();
        let t0 = Instant::now();
        let sessions = sessionize(&table, &opts)?;
        let t1 = Instant::now();
        let sessions = Table::new(sessions.schema(), vec![sessions])?;
        let (scored, _model) = score_table(
            &sessions,
            "cmd_list",
            None,
            &TrainOptions::default(),
            &score,
            false,
        )?;
        let t2 = Instant::now();
        if let (Some(c0), Some(c2)) = (c0, cpu_seconds()) {
            best_cpu = best_cpu.min(c2 - c0);
        }
        if std::env::var_os("HG_BENCH_PHASES").is_some() {
            // Phase breakdown of the scoring step (stderr, for profiling only).
            let p0 = Instant::now();
            let batch = hg_analytics::sessions_from_column(&sessions, "cmd_list")?;
            let p1 = Instant::now();
            let model = hg_analytics::Model::train(&batch, &TrainOptions::default())?;
            let p2 = Instant::now();
            let scores = model.score(&batch, &score)?;
            let p3 = Instant::now();
            eprintln!(
                "read {:.3} train {:.3} score {:.3} ({} sessions)",
                (p1 - p0).as_secs_f64(),
                (p2 - p1).as_secs_f64(),
                (p3 - p2).as_secs_f64(),
                scores.len()
            );
        }
        best_sessionize = best_sessionize.min((t1 - t0).as_secs_f64());
        best_score = best_score.min((t2 - t1).as_secs_f64());
        best_total = best_total.min((t2 - t0).as_secs_f64());
        n_sessions = scored.num_rows();
        let lik = scored
            .column_by_name("rarest_window3_likelihood")
            .context("no likelihood column")?;
        let lik = arrow_array::cast::AsArray::as_primitive::<arrow_array::types::Float64Type>(
            lik.as_ref(),
        );
        min_likelihood = lik
            .values()
            .iter()
            .copied()
            .filter(|x| !x.is_nan())
            .fold(f64::INFINITY, f64::min);
    }
    println!(
        "{}",
        json!({
            "events": table.num_rows(),
            "sessions": n_sessions,
            "min_likelihood": min_likelihood,
            "sessionize_s": best_sessionize,
            "score_s": best_score,
            "total_s": best_total,
            "cpu_s": (best_cpu < f64::MAX).then_some(best_cpu),
            "passes": passes,
        })
    );
    Ok(())
}
