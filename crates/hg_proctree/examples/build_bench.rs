//! Times the phases of a build on an Arrow IPC stream file (bench/proctree/bench.py).
//!
//! Usage: `build_bench FILE [RUNS]`; prints one JSON line per run with the seconds of each phase:
//! `read_s` (IPC stream to a table), `link_s` (`build_forest`: reading the schema's columns and
//! linking parents), `columns_s` (`to_record_batch`: the input columns in tree order and the tree
//! columns), `write_s` (the output as an IPC stream), `in_memory_s` = link + columns (the build
//! from batches in memory to a batch in memory, what the reference's `build_process_tree` does
//! from a DataFrame) and `total_s` (all four); `*_cpu_s`: the same phases in CPU seconds of this
//! process (user + system from `/proc/self/stat`, 10 ms ticks; null elsewhere than Linux), the
//! comparable figure on a shared, loaded machine. With `HG_PROCTREE_BENCH_OUT=PATH` the output of
//! the last run is written there as an Arrow IPC stream (to compare builds before and after a
//! change).

use std::time::Instant;

use hg_proctree::{build_forest, BuildOptions};

/// User + system CPU seconds of this process (Linux `/proc/self/stat`, 100 ticks per second).
fn cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn json(v: Option<f64>) -> String {
    v.map_or("null".into(), |x| format!("{x:.2}"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: build_bench FILE [RUNS]")?;
    let runs: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(3);
    let bytes = std::fs::read(&path)?;
    for _ in 0..runs {
        let c0 = cpu_s();
        let t0 = Instant::now();
        let table = hg_arrow::read_ipc_stream(&bytes)?;
        let t1 = Instant::now();
        let c1 = cpu_s();
        let forest = build_forest(&table, &BuildOptions::default())?;
        let t2 = Instant::now();
        let c2 = cpu_s();
        let batch = forest.to_record_batch(&table)?;
        let t3 = Instant::now();
        let c3 = cpu_s();
        let out = hg_arrow::write_ipc_stream(&batch.schema(), &[batch])?;
        let t4 = Instant::now();
        let c4 = cpu_s();
        if let Some(out_path) = std::env::var_os("HG_PROCTREE_BENCH_OUT") {
            std::fs::write(out_path, &out)?;
        }
        let d = |a: Option<f64>, b: Option<f64>| Some(b? - a?);
        println!(
            "{{\"rows\": {}, \"read_s\": {:.4}, \"link_s\": {:.4}, \"columns_s\": {:.4}, \"write_s\": {:.4}, \"in_memory_s\": {:.4}, \"total_s\": {:.4}, \"placeholders\": {}, \"out_bytes\": {}, \"read_cpu_s\": {}, \"link_cpu_s\": {}, \"columns_cpu_s\": {}, \"write_cpu_s\": {}, \"in_memory_cpu_s\": {}}}",
            table.num_rows(),
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            (t3 - t2).as_secs_f64(),
            (t4 - t3).as_secs_f64(),
            (t3 - t1).as_secs_f64(),
            (t4 - t0).as_secs_f64(),
            forest.placeholders(),
            out.len(),
            json(d(c0, c1)),
            json(d(c1, c2)),
            json(d(c2, c3)),
            json(d(c3, c4)),
            json(d(c1, c3)),
        );
    }
    Ok(())
}
