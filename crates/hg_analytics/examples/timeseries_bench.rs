//! Times STL + anomaly scoring natively (the benchmark in `bench/timeseries/`), or decomposes a
//! series read from standard input for comparisons with the reference.
//!
//! `timeseries_bench N [N ...]`: seeded hourly series of N points (a daily cycle, noise and a few
//! spikes), best of 3 runs of `stl` + `score_anomalies` with the reference's defaults; prints
//! one JSON line per size: the wall time and the CPU time of the process (user + system from
//! Linux `/proc/self/stat`, in clock ticks of 10 ms; null elsewhere), each the best of the 3 runs. `timeseries_bench --file PATH`: the same timing on the values of a
//! file (whitespace-separated; what `bench/timeseries/bench.py` gives the reference too).
//! `timeseries_bench --stdin [robust]`: reads whitespace-separated values, prints
//! `trend seasonal residual weights` per line.

use std::io::Read;
use std::time::Instant;

use hg_analytics::timeseries::{score_anomalies, stl, ScoreOptions, StlParams};

fn series(n: usize) -> Vec<f64> {
    let mut x: u64 = 7;
    (0..n)
        .map(|i| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let noise = ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 40.0;
            let spike = if i % 997 == 500 { 400.0 } else { 0.0 };
            1000.0 + 200.0 * (std::f64::consts::TAU * i as f64 / 24.0).sin() + noise + spike
        })
        .collect()
}

/// User + system CPU time of this process so far (Linux, 100 ticks per second; `None` where
/// `/proc/self/stat` is missing).
fn cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesized command name: state is field 3, utime 14, stime 15.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--stdin") {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        let y: Vec<f64> = text
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        let mut params = StlParams::new(24, 7);
        params.robust = args.get(1).map(String::as_str) == Some("robust");
        let fit = stl(&y, &params)?;
        let mut out = String::new();
        for i in 0..y.len() {
            out.push_str(&format!(
                "{:e} {:e} {:e} {:e}\n",
                fit.trend[i], fit.seasonal[i], fit.residual[i], fit.weights[i]
            ));
        }
        print!("{out}");
        return Ok(());
    }
    let inputs: Vec<Vec<f64>> = if args.first().map(String::as_str) == Some("--file") {
        let path = args
            .get(1)
            .ok_or_else(|| anyhow::anyhow!("--file needs a path"))?;
        let text = std::fs::read_to_string(path)?;
        vec![text
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()?]
    } else {
        args.iter()
            .map(|a| Ok(series(a.parse()?)))
            .collect::<anyhow::Result<_>>()?
    };
    for y in inputs {
        let n = y.len();
        let mut best = f64::INFINITY;
        let mut best_cpu = f64::INFINITY;
        let mut flagged = 0;
        for _ in 0..3 {
            let cpu_start = cpu_seconds();
            let start = Instant::now();
            let fit = stl(&y, &StlParams::new(24, 7))?;
            let scored = score_anomalies(&y, fit, &ScoreOptions::default());
            best = best.min(start.elapsed().as_secs_f64());
            if let (Some(a), Some(b)) = (cpu_start, cpu_seconds()) {
                best_cpu = best_cpu.min(b - a);
            }
            flagged = scored.anomalies.iter().filter(|a| **a != 0).count();
        }
        let cpu = if best_cpu.is_finite() {
            format!("{best_cpu:.6}")
        } else {
            "null".to_string()
        };
        println!(
            "{{\"points\": {n}, \"seconds\": {best:.6}, \"cpu_seconds\": {cpu}, \"anomalies\": {flagged}}}"
        );
    }
    Ok(())
}
