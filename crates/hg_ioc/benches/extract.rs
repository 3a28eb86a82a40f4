//! Throughput of `IocExtractor::extract` on the 1 MB mixed corpus of `bench/ioc/gen_corpus.py`
//! (seed 11), record by record as the CLI and the ops layer call it, with all types enabled.
//! The corpus is generated on first use into the cargo target directory (needs `python3`).

use std::path::PathBuf;
use std::process::Command;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hg_ioc::{IocExtractor, IocMatch};

fn corpus() -> Vec<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let text = target.join("hg_ioc_bench_corpus_seed11.txt");
    if !text.exists() {
        let status = Command::new("python3")
            .arg(root.join("bench/ioc/gen_corpus.py"))
            .args(["--seed", "11", "--bytes", "1000000", "--out"])
            .arg(target.join("hg_ioc_bench_corpus_seed11.jsonl"))
            .arg("--text-out")
            .arg(&text)
            .status()
            .expect("python3 runs gen_corpus.py");
        assert!(status.success(), "gen_corpus.py failed");
    }
    std::fs::read_to_string(text)
        .expect("corpus readable")
        .lines()
        .map(str::to_string)
        .collect()
}

fn bench(c: &mut Criterion) {
    let records = corpus();
    let bytes: usize = records.iter().map(|r| r.len() + 1).sum();
    let mut group = c.benchmark_group("ioc_extract");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(20);
    for (name, extractor) in [
        (
            "all_types",
            IocExtractor::builder().build().expect("builds"),
        ),
        (
            "no_paths",
            IocExtractor::builder()
                .include_paths(false)
                .build()
                .expect("builds"),
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut found = 0usize;
                for record in &records {
                    extractor.extract(record, &mut |_: &IocMatch<'_>| found += 1);
                }
                found
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
