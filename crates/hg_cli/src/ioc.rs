//! `huntglass ioc`: indicators of compromise in a file, through the `ioc.extract` operation.
//!
//! The input kind follows the file extension: `.csv` (a header row; every column is read as
//! text), `.jsonl` / `.ndjson` / `.json` (JSON lines: one object per line; string values as
//! they are, other values as their JSON text), `.arrow` / `.arrows` / `.ipc` (an Arrow IPC
//! stream); anything else, and `-` or no file (stdin), is plain text where each line is a record
//! in the column `Text` and `SourceIndex` is the line number from 0. Tables are scanned in the
//! `--columns` given, by default every text column.
//!
//! Output: one record per indicator occurrence with the fields `IoCType, Observable, Canonical,
//! SourceIndex, Column, Start, End` (byte offsets in the cell), as JSON lines (default) or CSV
//! with a header. Input is processed in chunks (about [`CHUNK_BYTES`] of text or one CSV
//! batch), so memory stays bounded by the chunk size on large text, CSV and JSON-lines files;
//! an Arrow stream is read whole. Lines that are not UTF-8 are read with replacement characters
//! (offsets then refer to that text).

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use hg_ops::Registry;

use crate::input::{self, is_text, kind_of, text_ipc, InputKind};

/// Text read per call of the operation (plain text and JSON lines).
pub const CHUNK_BYTES: usize = 8 << 20;

/// Rows per CSV batch.
const CSV_BATCH_ROWS: usize = 16_384;

/// Output formats of `huntglass ioc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// CSV with a header row.
    Csv,
}

/// What `huntglass ioc` was asked to do.
#[derive(Debug)]
pub struct IocArgs {
    /// Input file; `None` or `-` reads plain text from stdin.
    pub input: Option<PathBuf>,
    /// Types to report (`None`: all).
    pub types: Option<Vec<String>>,
    /// Columns to scan in a table (`None`: every text column).
    pub columns: Option<Vec<String>>,
    /// Output format.
    pub format: Format,
    /// Accept domains without a known public suffix.
    pub ignore_tlds: bool,
    /// Do not recognise defanged forms.
    pub no_defang: bool,
}

/// Runs `huntglass ioc`, writing to stdout.
pub fn run(args: &IocArgs) -> Result<()> {
    let stdout = io::stdout();
    let mut out = Output::new(BufWriter::new(stdout.lock()), args.format);
    // `huntglass ioc ... | head` is fine
    input::ignore_broken_pipe(run_to(args, &mut out).and_then(|()| out.finish()))
}

fn run_to<W: Write>(args: &IocArgs, out: &mut Output<W>) -> Result<()> {
    let scanner = Scanner {
        registry: Registry::standard(),
        args,
    };
    // Check the options (type names) before reading anything, so an empty input still reports them.
    scanner.scan(&text_ipc("Text", &[])?, &["Text".to_string()], 0, out)?;
    let path = args.input.as_deref().filter(|p| *p != Path::new("-"));
    let Some(path) = path else {
        if args.columns.is_some() {
            bail!("--columns applies to CSV, JSON-lines and Arrow input, not to plain text");
        }
        return scanner.text(io::stdin().lock(), out);
    };
    let open = || File::open(path).with_context(|| format!("cannot open {}", path.display()));
    match kind_of(path) {
        InputKind::Text => {
            if args.columns.is_some() {
                bail!(
                    "--columns applies to CSV, JSON-lines and Arrow input; {} is read as plain text \
                     (one record per line)",
                    path.display()
                );
            }
            scanner.text(BufReader::new(open()?), out)
        }
        InputKind::Csv => scanner.csv(open()?, out),
        InputKind::JsonLines => scanner.json_lines(BufReader::new(open()?), out),
        InputKind::Arrow => {
            let mut bytes = Vec::new();
            open()?
                .read_to_end(&mut bytes)
                .with_context(|| format!("reading {}", path.display()))?;
            if bytes.starts_with(b"ARROW1") {
                bail!(
                    "{} is an Arrow IPC file; huntglass reads the IPC stream format \
                     (pyarrow: pa.ipc.new_stream)",
                    path.display()
                );
            }
            let table = hg_arrow::read_ipc_stream(&bytes)
                .with_context(|| format!("reading {}", path.display()))?;
            let columns = scanner.columns_of(table.schema())?;
            scanner.scan(&bytes, &columns, 0, out)
        }
    }
}

struct Scanner<'a> {
    registry: Registry,
    args: &'a IocArgs,
}

impl Scanner<'_> {
    /// `--columns`, else every text column of `schema` (an error when there is none).
    fn columns_of(&self, schema: &SchemaRef) -> Result<Vec<String>> {
        if let Some(columns) = &self.args.columns {
            return Ok(columns.clone());
        }
        let text: Vec<String> = schema
            .fields()
            .iter()
            .filter(|f| is_text(f.data_type()))
            .map(|f| f.name().clone())
            .collect();
        if text.is_empty() {
            let all: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            bail!(
                "no text column to scan; the columns are: {} (choose with --columns)",
                if all.is_empty() {
                    "(none)".to_string()
                } else {
                    all.join(", ")
                }
            );
        }
        Ok(text)
    }

    /// Runs `ioc.extract` on one IPC stream and writes its rows, `SourceIndex` shifted by `offset`.
    fn scan<W: Write>(
        &self,
        ipc: &[u8],
        columns: &[String],
        offset: i64,
        out: &mut Output<W>,
    ) -> Result<()> {
        let mut options = serde_json::json!({
            "columns": columns,
            "ignore_tlds": self.args.ignore_tlds,
            "defanged": !self.args.no_defang,
        });
        if let Some(types) = &self.args.types {
            options["types"] = serde_json::json!(types);
        }
        let result = self
            .registry
            .call("ioc.extract", options.to_string().as_bytes(), ipc)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let table = hg_arrow::read_ipc_stream(&result).context("reading the operation's output")?;
        for batch in table.batches() {
            out.write(batch, offset)?;
        }
        Ok(())
    }

    fn text<R: BufRead, W: Write>(&self, mut input: R, out: &mut Output<W>) -> Result<()> {
        let columns = ["Text".to_string()];
        let mut lines: Vec<String> = Vec::new();
        let mut pending = 0usize;
        let mut first_line = 0i64;
        let mut raw = Vec::new();
        loop {
            raw.clear();
            let n = input.read_until(b'\n', &mut raw).context("reading input")?;
            if n > 0 {
                let line = raw.strip_suffix(b"\n").unwrap_or(&raw);
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                pending += line.len();
                lines.push(String::from_utf8_lossy(line).into_owned());
            }
            if (n == 0 && !lines.is_empty()) || pending >= CHUNK_BYTES {
                let ipc = text_ipc("Text", &lines)?;
                self.scan(&ipc, &columns, first_line, out)?;
                first_line += i64::try_from(lines.len()).unwrap_or(i64::MAX);
                lines.clear();
                pending = 0;
            }
            if n == 0 {
                return Ok(());
            }
        }
    }

    fn csv<W: Write>(&self, file: File, out: &mut Output<W>) -> Result<()> {
        let (schema, reader) = input::text_csv(file, CSV_BATCH_ROWS)?;
        let columns = self.columns_of(&schema)?;
        let mut first_row = 0i64;
        for batch in reader {
            let batch = batch.context("reading the CSV file")?;
            let rows = batch.num_rows();
            let ipc = hg_arrow::write_ipc_stream(&schema, &[batch])?;
            self.scan(&ipc, &columns, first_row, out)?;
            first_row += i64::try_from(rows).unwrap_or(i64::MAX);
        }
        Ok(())
    }

    fn json_lines<R: BufRead, W: Write>(&self, input: R, out: &mut Output<W>) -> Result<()> {
        let mut records: Vec<serde_json::Map<String, serde_json::Value>> = Vec::new();
        let mut pending = 0usize;
        let mut first_row = 0i64;
        let mut lines = input.lines().enumerate();
        loop {
            let next = lines.next();
            let done = next.is_none();
            if let Some((number, line)) = next {
                let line = line.with_context(|| format!("reading line {}", number + 1))?;
                if line.trim().is_empty() {
                    continue;
                }
                pending += line.len();
                match serde_json::from_str(&line) {
                    Ok(serde_json::Value::Object(object)) => records.push(object),
                    Ok(_) => bail!("line {}: expected a JSON object", number + 1),
                    Err(e) => bail!("line {}: {e}", number + 1),
                }
            }
            if (done && !records.is_empty()) || pending >= CHUNK_BYTES {
                let (schema, batch) = json_batch(&records)?;
                let columns = self.columns_of(&schema)?;
                let ipc = hg_arrow::write_ipc_stream(&schema, &[batch])?;
                self.scan(&ipc, &columns, first_row, out)?;
                first_row += i64::try_from(records.len()).unwrap_or(i64::MAX);
                records.clear();
                pending = 0;
            }
            if done {
                return Ok(());
            }
        }
    }
}

/// JSON objects as one batch of text columns (keys in first-seen order; missing keys and
/// nulls are null; non-string values are their JSON text).
fn json_batch(
    records: &[serde_json::Map<String, serde_json::Value>],
) -> Result<(SchemaRef, RecordBatch)> {
    let mut keys: Vec<&str> = Vec::new();
    for record in records {
        for key in record.keys() {
            if !keys.contains(&key.as_str()) {
                keys.push(key);
            }
        }
    }
    let schema: SchemaRef = Arc::new(Schema::new(
        keys.iter()
            .map(|k| Field::new(*k, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> = keys
        .iter()
        .map(|key| {
            let values = records.iter().map(|r| match r.get(*key) {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                Some(other) => Some(other.to_string()),
            });
            Arc::new(values.collect::<StringArray>()) as ArrayRef
        })
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    Ok((schema, batch))
}

/// Writes result rows as JSON lines or CSV.
struct Output<W: Write> {
    writer: Option<W>,
    csv: Option<arrow_csv::Writer<W>>,
}

impl<W: Write> Output<W> {
    fn new(writer: W, format: Format) -> Self {
        match format {
            Format::Jsonl => Output {
                writer: Some(writer),
                csv: None,
            },
            Format::Csv => Output {
                writer: None,
                csv: Some(
                    arrow_csv::WriterBuilder::new()
                        .with_header(true)
                        .build(writer),
                ),
            },
        }
    }

    fn write(&mut self, batch: &RecordBatch, offset: i64) -> Result<()> {
        let shifted = shift_source_index(batch, offset)?;
        if let Some(csv) = &mut self.csv {
            csv.write(&shifted)?;
            return Ok(());
        }
        let Some(w) = &mut self.writer else {
            return Ok(());
        };
        let text = |i: usize| -> Result<&StringArray> {
            shifted
                .column(i)
                .as_any()
                .downcast_ref::<StringArray>()
                .context("unexpected output column type")
        };
        let int = |i: usize| -> Result<&Int64Array> {
            shifted
                .column(i)
                .as_any()
                .downcast_ref::<Int64Array>()
                .context("unexpected output column type")
        };
        let (ioc_type, observable, canonical, source, column, start, end) = (
            text(0)?,
            text(1)?,
            text(2)?,
            int(3)?,
            text(4)?,
            int(5)?,
            int(6)?,
        );
        let q = |s: &str| serde_json::Value::String(s.to_string()).to_string();
        for row in 0..shifted.num_rows() {
            writeln!(
                w,
                "{{\"IoCType\":{},\"Observable\":{},\"Canonical\":{},\"SourceIndex\":{},\"Column\":{},\"Start\":{},\"End\":{}}}",
                q(ioc_type.value(row)),
                q(observable.value(row)),
                q(canonical.value(row)),
                source.value(row),
                q(column.value(row)),
                start.value(row),
                end.value(row)
            )?;
        }
        Ok(())
    }

    /// Flushes; writes the CSV header even when nothing was found.
    fn finish(&mut self) -> Result<()> {
        if let Some(csv) = self.csv.take() {
            let mut csv = csv;
            let empty = RecordBatch::new_empty(output_schema());
            csv.write(&empty)?;
            csv.into_inner().flush()?;
        }
        if let Some(w) = &mut self.writer {
            w.flush()?;
        }
        Ok(())
    }
}

fn output_schema() -> SchemaRef {
    let utf8 = |n: &str| Field::new(n, DataType::Utf8, false);
    let int = |n: &str| Field::new(n, DataType::Int64, false);
    Arc::new(Schema::new(vec![
        utf8("IoCType"),
        utf8("Observable"),
        utf8("Canonical"),
        int("SourceIndex"),
        utf8("Column"),
        int("Start"),
        int("End"),
    ]))
}

fn shift_source_index(batch: &RecordBatch, offset: i64) -> Result<RecordBatch> {
    if offset == 0 {
        return Ok(batch.clone());
    }
    let source = batch
        .column(3)
        .as_any()
        .downcast_ref::<Int64Array>()
        .context("unexpected SourceIndex type")?;
    let shifted: ArrayRef = Arc::new(Int64Array::from_iter_values(
        source.values().iter().map(|v| v.saturating_add(offset)),
    ));
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns[3] = shifted;
    debug_assert_eq!(columns[3].len(), batch.num_rows());
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}
