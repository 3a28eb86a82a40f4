//! Reads records from standard input (one per line: plain text, or with `--jsonl` a JSON string)
//! and writes one JSON line per IoC found: `{"line", "type", "observable", "canonical", "start",
//! "end"}` (offsets in bytes of the record). Used by the differential test and the benchmark.
//!
//! Options: `--types t1,t2`, `--no-paths`, `--no-defang`, `--ignore-tlds`, `--jsonl`,
//! `--count` (print only the number of IoCs and the time spent extracting, for benchmarks),
//! `--repeat N` (with `--count`: extract N times, report the fastest pass).

use std::io::{BufRead, BufWriter, Write};
use std::time::Instant;

use hg_ioc::{IocExtractor, IocMatch, IocType};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut builder = IocExtractor::builder();
    let (mut jsonl, mut count_only, mut repeat) = (false, false, 1usize);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--types" => {
                let list = args.next().ok_or("--types needs a comma-separated list")?;
                let types = list
                    .split(',')
                    .map(|name| {
                        IocType::parse(name.trim())
                            .ok_or_else(|| format!("unknown IoC type '{name}'"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                builder = builder.types(types);
            }
            "--no-paths" => builder = builder.include_paths(false),
            "--no-defang" => builder = builder.defanged(false),
            "--ignore-tlds" => builder = builder.ignore_tlds(true),
            "--jsonl" => jsonl = true,
            "--count" => count_only = true,
            "--repeat" => repeat = args.next().ok_or("--repeat needs a number")?.parse()?,
            other => return Err(format!("unknown option '{other}'").into()),
        }
    }
    let extractor = builder.build()?;
    let stdin = std::io::stdin().lock();
    let records: Vec<String> = stdin
        .lines()
        .map(|line| -> Result<String, Box<dyn std::error::Error>> {
            let line = line?;
            Ok(if jsonl {
                serde_json::from_str::<String>(&line)?
            } else {
                line
            })
        })
        .collect::<Result<_, _>>()?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    if count_only {
        let bytes: usize = records.iter().map(|r| r.len() + 1).sum();
        let (mut found, mut seconds) = (0usize, f64::INFINITY);
        for _ in 0..repeat.max(1) {
            let started = Instant::now();
            found = 0;
            for record in &records {
                extractor.extract(record, &mut |_: &IocMatch<'_>| found += 1);
            }
            seconds = seconds.min(started.elapsed().as_secs_f64());
        }
        writeln!(
            out,
            "{{\"iocs\": {found}, \"bytes\": {bytes}, \"seconds\": {seconds}}}"
        )?;
        return Ok(());
    }
    let mut failure: Option<std::io::Error> = None;
    for (line, record) in records.iter().enumerate() {
        extractor.extract(record, &mut |m: &IocMatch<'_>| {
            let row = serde_json::json!({
                "line": line, "type": m.type_name, "observable": m.observable,
                "canonical": m.canonical, "start": m.start, "end": m.end,
            });
            if let Err(e) = writeln!(out, "{row}") {
                failure.get_or_insert(e);
            }
        });
    }
    if let Some(e) = failure {
        return Err(e.into());
    }
    out.flush()?;
    Ok(())
}
