//! Throughput of `Decoder::unpack` row by row on the seeded workloads of
//! `bench/decode/gen_workload.py`: command lines with embedded payloads (`payloads`, 10k rows,
//! seed 7; the same rows `bench/decode/bench.py` times the reference on) and text without any
//! encoded content (`plain`, about 4 MB). Workloads are generated on first use into the cargo
//! target directory (needs `python3`).

use std::path::PathBuf;
use std::process::Command;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hg_decode::{DecodedRecord, Decoder};

fn workload(kind: &str, rows: usize) -> Vec<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let file = target.join(format!("hg_decode_bench_{kind}_{rows}_seed7.jsonl"));
    if !file.exists() {
        let status = Command::new("python3")
            .arg(root.join("bench/decode/gen_workload.py"))
            .args([
                "--kind",
                kind,
                "--rows",
                &rows.to_string(),
                "--seed",
                "7",
                "--out",
            ])
            .arg(&file)
            .status()
            .expect("python3 runs gen_workload.py");
        assert!(status.success(), "gen_workload.py failed");
    }
    std::fs::read_to_string(file)
        .expect("workload readable")
        .lines()
        .map(|l| serde_json::from_str::<String>(l).expect("a JSON string per line"))
        .collect()
}

fn bench(c: &mut Criterion) {
    let decoder = Decoder::builder().build().expect("builds");
    let reference_mode = Decoder::builder().reference_mode().build().expect("builds");
    for (kind, rows) in [("payloads", 10_000), ("plain", 40_000)] {
        let records = workload(kind, rows);
        let bytes: usize = records.iter().map(|r| r.len()).sum();
        let mut group = c.benchmark_group(format!("decode_{kind}"));
        group.throughput(Throughput::Bytes(bytes as u64));
        group.sample_size(10);
        for (name, d) in [("default", &decoder), ("reference_mode", &reference_mode)] {
            group.bench_function(name, |b| {
                b.iter(|| {
                    let mut found = 0usize;
                    for record in &records {
                        d.unpack(record, &mut |_: DecodedRecord| found += 1);
                    }
                    found
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
