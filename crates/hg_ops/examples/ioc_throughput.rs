//! Native throughput of `ioc.extract` on a text file, one line per row (the native columns of
//! `bench/ioc/kernel_bench.py` and `bench/ioc/browser_bench.mjs`):
//! `cargo run --release -p hg_ops --example ioc_throughput -- FILE [RUNS] [--ipc IPC] [--no-paths]`.
//!
//! Two things are timed on the same text: the registry operation (`Registry::call("ioc.extract")`,
//! Arrow IPC stream in, Arrow IPC stream out: the same work as the kernel and the browser do) and
//! the bare engine loop (`IocExtractor::extract` record by record, nothing built). With `--ipc`
//! the operation reads that file's bytes (e.g. the stream pyarrow wrote for the browser) instead
//! of a stream written here; its rows must be the file's lines. `--no-paths` turns paths off in
//! both. Prints one JSON line: bytes, rows, IoCs found, and for each of op and engine the median
//! and best wall seconds per pass and the best and median thread CPU seconds per pass (`CLOCK_THREAD_CPUTIME_ID`; absent
//! off Unix), which a loaded machine disturbs much less
//! than wall time.

use std::sync::Arc;
use std::time::Instant;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use hg_ioc::{IocExtractor, IocMatch};
use hg_ops::Registry;

fn median(xs: &[f64]) -> f64 {
    let mut xs = xs.to_vec();
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn best(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(f64::INFINITY, f64::min)
}

/// CPU time this thread has run, in seconds: `CLOCK_THREAD_CPUTIME_ID` includes the running
/// slice (`/proc/thread-self/schedstat` is only brought up to date at scheduler ticks, 4 ms here).
#[cfg(unix)]
#[allow(unsafe_code)] // one libc call writing into a local timespec
fn thread_cpu_seconds() -> Option<f64> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the duration of the call.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    (status == 0).then(|| now.tv_sec as f64 + now.tv_nsec as f64 / 1e9)
}

#[cfg(not(unix))]
fn thread_cpu_seconds() -> Option<f64> {
    None
}

/// Wall and (where the platform tells) CPU seconds of one pass of `body`.
struct Passes {
    wall: Vec<f64>,
    cpu: Vec<f64>,
}

impl Passes {
    fn new() -> Self {
        Passes {
            wall: Vec::new(),
            cpu: Vec::new(),
        }
    }

    fn time<T>(&mut self, body: impl FnOnce() -> T) -> T {
        let cpu_start = thread_cpu_seconds();
        let start = Instant::now();
        let out = body();
        self.wall.push(start.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (cpu_start, thread_cpu_seconds()) {
            self.cpu.push(b - a);
        }
        out
    }

    fn json(&self, prefix: &str) -> String {
        let mut out = format!(
            "\"{prefix}_seconds\": {}, \"{prefix}_best_seconds\": {}",
            median(&self.wall),
            best(&self.wall)
        );
        if self.cpu.len() == self.wall.len() {
            out += &format!(
                ", \"{prefix}_cpu_best_seconds\": {}, \"{prefix}_cpu_median_seconds\": {}",
                best(&self.cpu),
                median(&self.cpu)
            );
        }
        out
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    const USAGE: &str = "usage: ioc_throughput FILE [RUNS] [--ipc IPC_FILE] [--no-paths]";
    let mut path = None;
    let mut runs: usize = 9;
    let mut ipc_path = None;
    let mut include_paths = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--ipc" => ipc_path = Some(args.next().ok_or("--ipc needs a file")?),
            "--no-paths" => include_paths = false,
            _ if path.is_none() => path = Some(arg),
            _ => runs = arg.parse().map_err(|e| format!("RUNS '{arg}': {e}"))?,
        }
    }
    let path = path.ok_or(USAGE)?;
    let runs = runs.max(1);
    let text = std::fs::read_to_string(&path)?;
    let lines: Vec<&str> = text.lines().collect();
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let input = match &ipc_path {
        Some(ipc) => {
            let input = std::fs::read(ipc)?;
            let rows = hg_arrow::read_ipc_stream(&input)?.num_rows();
            if rows != lines.len() {
                return Err(format!("{ipc} has {rows} rows, {path} {} lines", lines.len()).into());
            }
            input
        }
        None => {
            let schema = Arc::new(Schema::new(vec![Field::new("Text", DataType::Utf8, false)]));
            let array: ArrayRef = Arc::new(StringArray::from(lines.clone()));
            let batch = RecordBatch::try_new(schema.clone(), vec![array])?;
            hg_arrow::write_ipc_stream(&schema, &[batch])?
        }
    };
    let registry = Registry::standard();
    let options = format!(r#"{{"columns": ["Text"], "include_paths": {include_paths}}}"#);
    let mut found = 0;
    let mut op = Passes::new();
    for _ in 0..runs {
        let out = op.time(|| registry.call("ioc.extract", options.as_bytes(), &input))?;
        found = hg_arrow::read_ipc_stream(&out)?.num_rows();
    }
    let extractor = IocExtractor::builder()
        .include_paths(include_paths)
        .build()?;
    let mut engine = Passes::new();
    for _ in 0..runs {
        let n = engine.time(|| {
            let mut n = 0usize;
            for line in &lines {
                extractor.extract(line, &mut |_: &IocMatch<'_>| n += 1);
            }
            n
        });
        if n != found {
            return Err(format!("the engine found {n} IoCs, the op {found}").into());
        }
    }
    println!(
        "{{\"bytes\": {bytes}, \"rows\": {}, \"iocs\": {found}, \"runs\": {runs}, {}, {}}}",
        lines.len(),
        op.json("op"),
        engine.json("engine")
    );
    Ok(())
}
