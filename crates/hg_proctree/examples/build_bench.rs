//! Times `build_forest` + `to_record_batch` on an Arrow IPC stream file (bench/proctree/bench.py).
//!
//! Usage: `build_bench FILE [RUNS]`; prints one JSON line per run:
//! `{"rows", "read_s", "build_s", "output_s", "total_s", "placeholders"}`.

use std::time::Instant;

use hg_proctree::{build_forest, BuildOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: build_bench FILE [RUNS]")?;
    let runs: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(3);
    let bytes = std::fs::read(&path)?;
    for _ in 0..runs {
        let t0 = Instant::now();
        let table = hg_arrow::read_ipc_stream(&bytes)?;
        let t1 = Instant::now();
        let forest = build_forest(&table, &BuildOptions::default())?;
        let t2 = Instant::now();
        let batch = forest.to_record_batch(&table)?;
        let out = hg_arrow::write_ipc_stream(&batch.schema(), &[batch])?;
        let t3 = Instant::now();
        println!(
            "{{\"rows\": {}, \"read_s\": {:.4}, \"build_s\": {:.4}, \"output_s\": {:.4}, \"total_s\": {:.4}, \"placeholders\": {}, \"out_bytes\": {}}}",
            table.num_rows(),
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            (t3 - t2).as_secs_f64(),
            (t3 - t0).as_secs_f64(),
            forest.placeholders(),
            out.len()
        );
    }
    Ok(())
}
