//! Native throughput of `ioc.extract` on a text file, one line per row (the native column of
//! `bench/ioc/kernel_bench.py`): `cargo run --release -p hg_ops --example ioc_throughput -- FILE [RUNS]`.
//! Prints one JSON line: bytes, rows, IoCs found, median seconds of the op and of the bare engine.

use std::sync::Arc;
use std::time::Instant;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use hg_ioc::{IocExtractor, IocMatch};
use hg_ops::Registry;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: ioc_throughput FILE [RUNS]")?;
    let runs: usize = args.next().map_or(Ok(9), |r| r.parse())?;
    let text = std::fs::read_to_string(&path)?;
    let lines: Vec<&str> = text.lines().collect();
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let schema = Arc::new(Schema::new(vec![Field::new("Text", DataType::Utf8, false)]));
    let array: ArrayRef = Arc::new(StringArray::from(lines.clone()));
    let batch = RecordBatch::try_new(schema.clone(), vec![array])?;
    let input = hg_arrow::write_ipc_stream(&schema, &[batch])?;
    let registry = Registry::standard();
    let options = br#"{"columns": ["Text"]}"#;
    let mut found = 0;
    let mut op_times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let out = registry.call("ioc.extract", options, &input)?;
        op_times.push(start.elapsed().as_secs_f64());
        found = hg_arrow::read_ipc_stream(&out)?.num_rows();
    }
    let extractor = IocExtractor::builder().build()?;
    let mut engine_times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let mut n = 0usize;
        for line in &lines {
            extractor.extract(line, &mut |_: &IocMatch<'_>| n += 1);
        }
        engine_times.push(start.elapsed().as_secs_f64());
        assert_eq!(n, found, "engine and op agree");
    }
    println!(
        "{{\"bytes\": {bytes}, \"rows\": {}, \"iocs\": {found}, \"op_seconds\": {}, \"engine_seconds\": {}}}",
        lines.len(),
        median(op_times),
        median(engine_times)
    );
    Ok(())
}
