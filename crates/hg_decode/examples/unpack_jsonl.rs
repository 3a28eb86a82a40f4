//! Reads one JSON string per line (stdin or the file named first) and prints one JSON object
//! per decoded layer: `{"row": n, ...the record's columns..., "full_decoded_string": ...}`.
//! `--reference-mode` turns off everything the reference does not do, `--disable ENCODING` one
//! detector or expansion, `--no-powershell` the -EncodedCommand hints; `--utf16` tries UTF-16
//! first as the reference's `utf16=True` does. `--time N` prints nothing per record but one JSON
//! object with the best of N timed passes over all rows (`bench/decode/bench.py`). Used by
//! `bench/decode/parity.py`.

use std::io::{BufRead, BufWriter, Write};

use anyhow::Context;
use hg_decode::{DecodedRecord, Decoder, Encoding, RowContext, Utf16Mode};
use serde_json::json;

fn main() -> anyhow::Result<()> {
    let mut builder = Decoder::builder();
    let mut path = None;
    let mut timed_passes = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--time" => {
                let n = args.next().context("--time needs a pass count")?;
                timed_passes = Some(n.parse::<u32>().context("--time: not a number")?.max(1));
            }
            "--reference-mode" => builder = builder.reference_mode(),
            "--disable" => {
                let name = args.next().context("--disable needs an encoding name")?;
                let e =
                    Encoding::parse(&name).with_context(|| format!("unknown encoding {name}"))?;
                builder = builder.encoding(e, false);
            }
            "--no-powershell" => builder = builder.powershell_switches(false),
            "--utf16" => builder = builder.utf16(Utf16Mode::Always),
            _ if arg.starts_with("--") => anyhow::bail!("unknown option {arg}"),
            _ => path = Some(arg),
        }
    }
    let decoder = builder.build()?;
    let input: Box<dyn BufRead> = match &path {
        Some(p) => Box::new(std::io::BufReader::new(
            std::fs::File::open(p).with_context(|| format!("opening {p}"))?,
        )),
        None => Box::new(std::io::stdin().lock()),
    };
    let mut rows = Vec::new();
    for (n, line) in input.lines().enumerate() {
        let line = line.context("reading input")?;
        let text: String = serde_json::from_str(&line)
            .with_context(|| format!("line {}: not a JSON string", n + 1))?;
        rows.push(text);
    }
    if let Some(passes) = timed_passes {
        return time_passes(&decoder, &rows, passes);
    }
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut failure = None;
    decoder.unpack_rows(
        rows.iter().map(|r| Some(r.as_str())),
        &mut |row: &RowContext<'_>, r: DecodedRecord| {
            let line = json!({
                "row": row.src_index,
                "reference": r.reference.parts(),
                "index": r.index,
                "parent": r.parent,
                "chain": r.chain.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
                "original_string": r.original_string,
                "span": [r.span.start, r.span.end],
                "file_name": r.file_name,
                "file_type": r.file_type,
                "decoded_string": r.decoded_string,
                "encoding_type": r.encoding_type,
                "md5": r.hashes.md5,
                "sha1": r.hashes.sha1,
                "sha256": r.hashes.sha256,
                "size": r.input_bytes.len(),
                "printable_bytes": r.printable_bytes,
                "stopped_by": r.stopped_by.map(|l| l.as_str()),
                "error": r.error,
                "full_decoded_string": row.full_decoded_string,
            });
            if let Err(e) = writeln!(out, "{line}") {
                failure.get_or_insert(e);
            }
        },
    );
    if let Some(e) = failure {
        return Err(e).context("writing output");
    }
    out.flush().context("writing output")?;
    Ok(())
}

/// Unpacks every row `passes` times and prints the best pass's time and throughput.
fn time_passes(decoder: &Decoder, rows: &[String], passes: u32) -> anyhow::Result<()> {
    let bytes: usize = rows.iter().map(String::len).sum();
    let mut best = f64::INFINITY;
    let mut records = 0;
    for _ in 0..passes {
        let start = std::time::Instant::now();
        records = decoder.unpack_rows(
            rows.iter().map(|r| Some(r.as_str())),
            &mut |_: &RowContext<'_>, r: DecodedRecord| {
                std::hint::black_box(r);
            },
        );
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "{}",
        json!({"rows": rows.len(), "bytes": bytes, "records": records, "seconds": best,
               "mb_per_s": bytes as f64 / best / 1e6})
    );
    Ok(())
}
