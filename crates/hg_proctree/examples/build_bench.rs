//! Times the phases of a build on an Arrow IPC stream file (bench/proctree/bench.py).
//!
//! Usage: `build_bench FILE [RUNS]`; prints one JSON line per run with the seconds of each phase:
//! `read_s` (IPC stream to a table), `link_s` (`build_forest`: reading the schema's columns and
//! linking parents), `columns_s` (`to_record_batch`: the input columns in tree order and the tree
//! columns), `write_s` (the output as an IPC stream), `in_memory_s` = link + columns (the build
//! from batches in memory to a batch in memory, what the reference's `build_process_tree` does
//! from a DataFrame) and `total_s` (all four).

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
        let t3 = Instant::now();
        let out = hg_arrow::write_ipc_stream(&batch.schema(), &[batch])?;
        let t4 = Instant::now();
        println!(
            "{{\"rows\": {}, \"read_s\": {:.4}, \"link_s\": {:.4}, \"columns_s\": {:.4}, \"write_s\": {:.4}, \"in_memory_s\": {:.4}, \"total_s\": {:.4}, \"placeholders\": {}, \"out_bytes\": {}}}",
            table.num_rows(),
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            (t3 - t2).as_secs_f64(),
            (t4 - t3).as_secs_f64(),
            (t3 - t1).as_secs_f64(),
            (t4 - t0).as_secs_f64(),
            forest.placeholders(),
            out.len()
        );
    }
    Ok(())
}
