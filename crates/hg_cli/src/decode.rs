//! `huntglass decode`: encoded content of a file decoded layer by layer, through the
//! `decode.unpack` operation.
//!
//! Input kinds follow the file extension as for `huntglass ioc`: `.csv` (a header row, every
//! column read as text), `.jsonl` / `.ndjson` / `.json` (one JSON object per line), `.arrow` /
//! `.arrows` / `.ipc` (an Arrow IPC stream); anything else, and `-` or no file (stdin), is plain
//! text where each line is a record in the column `Text` (`src_index` = line number from 0), or
//! with `--whole` the whole input is one record (base64 wrapped over several lines, a saved
//! message). Tables need `--column` unless they have exactly one text column.
//!
//! Output: one record per decoded layer with the operation's columns except the raw
//! `input_bytes` and the `file_hashes` struct (the hashes, `size` and `printable_bytes` describe
//! the bytes): `reference` (a JSON array of three strings; its JSON text in CSV),
//! `original_string`, `file_name`, `file_type`, `decoded_string`, `encoding_type`, `md5`, `sha1`,
//! `sha256`, `printable_bytes`, `src_index`, the source column, `full_decoded_string`, `layer`,
//! `parent_layer`, `depth`, `chain`, `size`, `span_start`, `span_end`, `stopped_by`, `error`.
//! JSON lines (default) or CSV with a header. Lines and tables are processed in chunks of about
//! [`CHUNK_BYTES`], so memory follows the chunk, not the file; for inputs over
//! [`PROGRESS_BYTES`] a progress line goes to stderr after each chunk (`--quiet` silences it).
//! `--whole` reads at most [`MAX_WHOLE_BYTES`].

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use hg_ops::Registry;

use crate::input::{self, is_text, kind_of, text_ipc, InputKind};

/// Text sent per call of the operation.
pub const CHUNK_BYTES: usize = 4 << 20;

/// Inputs larger than this report progress on stderr.
pub const PROGRESS_BYTES: u64 = 16 << 20;

/// Largest input `--whole` accepts (one record: the engine's limits apply to it as a whole).
pub const MAX_WHOLE_BYTES: u64 = 256 << 20;

/// Rows per CSV batch.
const CSV_BATCH_ROWS: usize = 8_192;

/// The output columns (operation columns, without `input_bytes` and `file_hashes`); `{source}`
/// stands for the source column.
const OUTPUT_COLUMNS: [&str; 22] = [
    "reference",
    "original_string",
    "file_name",
    "file_type",
    "decoded_string",
    "encoding_type",
    "md5",
    "sha1",
    "sha256",
    "printable_bytes",
    "src_index",
    "{source}",
    "full_decoded_string",
    "layer",
    "parent_layer",
    "depth",
    "chain",
    "size",
    "span_start",
    "span_end",
    "stopped_by",
    "error",
];

/// Output formats of `huntglass decode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// CSV with a header row.
    Csv,
}

/// The arguments of `huntglass decode`.
#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    /// The column to decode in a CSV, JSON-lines or Arrow input (default: the only text column).
    #[arg(long)]
    pub column: Option<String>,
    /// Output format: one JSON object per line, or CSV with a header.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: Format,
    /// Plain text: decode the whole input as one record instead of one record per line.
    #[arg(long)]
    pub whole: bool,
    /// Do only what MSTICPy's base64 unpacking does (base64 and its gzip/zip/tar prefixes).
    #[arg(long)]
    pub reference_mode: bool,
    /// Deepest scan level of decoded text.
    #[arg(long, default_value_t = 20)]
    pub max_depth: usize,
    /// Rows reported for one record.
    #[arg(long, default_value_t = 10_000)]
    pub max_records: usize,
    /// Bytes all layers of one record may produce together.
    #[arg(long, default_value_t = 64 << 20)]
    pub max_total_output_bytes: usize,
    /// No progress lines on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Input file (.csv, .jsonl/.ndjson/.json, .arrow/.arrows/.ipc, else plain text); `-` or none reads stdin as text.
    pub file: Option<PathBuf>,
}

/// Runs `huntglass decode`, writing to stdout.
pub fn run(args: &DecodeArgs) -> Result<()> {
    let stdout = io::stdout();
    let mut out = Output::new(BufWriter::new(stdout.lock()), args.format);
    // `huntglass decode ... | head` is fine
    input::ignore_broken_pipe(run_to(args, &mut out).and_then(|()| out.finish()))
}

/// Progress on stderr for big inputs.
struct Progress {
    total: u64,
    done: u64,
    started: Instant,
    enabled: bool,
}

impl Progress {
    fn new(total: Option<u64>, quiet: bool) -> Self {
        let total = total.unwrap_or(0);
        Progress {
            total,
            done: 0,
            started: Instant::now(),
            enabled: !quiet && total > PROGRESS_BYTES,
        }
    }

    fn advance(&mut self, bytes: usize) {
        self.done += bytes as u64;
        if self.enabled {
            let mb = |b: u64| b as f64 / 1e6;
            eprintln!(
                "huntglass decode: {:.1} of {:.1} MB ({:.0}%), {:.1} s",
                mb(self.done),
                mb(self.total),
                100.0 * self.done as f64 / self.total.max(1) as f64,
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}

fn run_to<W: Write>(args: &DecodeArgs, out: &mut Output<W>) -> Result<()> {
    let decoder = Unpacker {
        registry: Registry::standard(),
        args,
    };
    // Check the options before reading anything, so an empty input still reports them.
    decoder.unpack(&text_ipc("Text", &[])?, "Text", 0, out)?;
    let path = args.input().map(Path::to_path_buf);
    let size = path
        .as_deref()
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| m.len());
    let mut progress = Progress::new(size, args.quiet);
    let Some(path) = path else {
        if args.column.is_some() {
            bail!("--column applies to CSV, JSON-lines and Arrow input, not to plain text");
        }
        return decoder.text(io::stdin().lock(), out, &mut progress);
    };
    let open = || File::open(&path).with_context(|| format!("cannot open {}", path.display()));
    match kind_of(&path) {
        InputKind::Text => {
            if args.column.is_some() {
                bail!(
                    "--column applies to CSV, JSON-lines and Arrow input; {} is read as plain text",
                    path.display()
                );
            }
            decoder.text(BufReader::new(open()?), out, &mut progress)
        }
        InputKind::Csv => decoder.csv(open()?, out, &mut progress),
        InputKind::JsonLines => decoder.json_lines(BufReader::new(open()?), out, &mut progress),
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
            let column = decoder.column_of(table.schema())?;
            decoder.unpack(&bytes, &column, 0, out)?;
            progress.advance(bytes.len());
            Ok(())
        }
    }
}

impl DecodeArgs {
    fn input(&self) -> Option<&Path> {
        self.file.as_deref().filter(|p| *p != Path::new("-"))
    }
}

struct Unpacker<'a> {
    registry: Registry,
    args: &'a DecodeArgs,
}

impl Unpacker<'_> {
    /// `--column`, else the only text column of `schema`.
    fn column_of(&self, schema: &SchemaRef) -> Result<String> {
        if let Some(column) = &self.args.column {
            return Ok(column.clone());
        }
        let text: Vec<&str> = schema
            .fields()
            .iter()
            .filter(|f| is_text(f.data_type()))
            .map(|f| f.name().as_str())
            .collect();
        match text.as_slice() {
            [one] => Ok((*one).to_string()),
            [] => bail!(
                "no text column to decode; the columns are: {}",
                names_or_none(schema)
            ),
            many => bail!(
                "several text columns ({}); choose one with --column",
                many.join(", ")
            ),
        }
    }

    /// Runs `decode.unpack` on one IPC stream and writes its rows, `src_index` shifted by `offset`.
    fn unpack<W: Write>(
        &self,
        ipc: &[u8],
        column: &str,
        offset: i64,
        out: &mut Output<W>,
    ) -> Result<()> {
        let options = serde_json::json!({
            "column": column,
            "reference_mode": self.args.reference_mode,
            "max_depth": self.args.max_depth,
            "max_records": self.args.max_records,
            "max_total_output_bytes": self.args.max_total_output_bytes,
        });
        let result = self
            .registry
            .call("decode.unpack", options.to_string().as_bytes(), ipc)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let table = hg_arrow::read_ipc_stream(&result).context("reading the operation's output")?;
        for batch in table.batches() {
            out.write(batch, column, offset)?;
        }
        Ok(())
    }

    fn text<R: BufRead, W: Write>(
        &self,
        mut input: R,
        out: &mut Output<W>,
        progress: &mut Progress,
    ) -> Result<()> {
        if self.args.whole {
            let mut raw = Vec::new();
            input
                .take(MAX_WHOLE_BYTES + 1)
                .read_to_end(&mut raw)
                .context("reading input")?;
            if raw.len() as u64 > MAX_WHOLE_BYTES {
                bail!("--whole reads at most {MAX_WHOLE_BYTES} bytes; decode line by line instead");
            }
            let text = String::from_utf8_lossy(&raw).into_owned();
            self.unpack(&text_ipc("Text", &[text])?, "Text", 0, out)?;
            progress.advance(raw.len());
            return Ok(());
        }
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
                pending += n;
                lines.push(String::from_utf8_lossy(line).into_owned());
            }
            if (n == 0 && !lines.is_empty()) || pending >= CHUNK_BYTES {
                self.unpack(&text_ipc("Text", &lines)?, "Text", first_line, out)?;
                first_line += i64::try_from(lines.len()).unwrap_or(i64::MAX);
                lines.clear();
                progress.advance(pending);
                pending = 0;
            }
            if n == 0 {
                return Ok(());
            }
        }
    }

    fn csv<W: Write>(
        &self,
        file: File,
        out: &mut Output<W>,
        progress: &mut Progress,
    ) -> Result<()> {
        let (schema, reader) = input::text_csv(file, CSV_BATCH_ROWS)?;
        let column = self.column_of(&schema)?;
        let mut first_row = 0i64;
        for batch in reader {
            let batch = batch.context("reading the CSV file")?;
            let rows = batch.num_rows();
            let bytes = batch.get_array_memory_size();
            let ipc = hg_arrow::write_ipc_stream(&schema, &[batch])?;
            self.unpack(&ipc, &column, first_row, out)?;
            first_row += i64::try_from(rows).unwrap_or(i64::MAX);
            progress.advance(bytes);
        }
        Ok(())
    }

    fn json_lines<R: BufRead, W: Write>(
        &self,
        input: R,
        out: &mut Output<W>,
        progress: &mut Progress,
    ) -> Result<()> {
        let column = self.args.column.clone();
        let Some(column) = column else {
            bail!("--column is required with JSON-lines input (the key holding the text)");
        };
        let mut values: Vec<Option<String>> = Vec::new();
        let mut pending = 0usize;
        let mut first_row = 0i64;
        let mut lines = input.lines().enumerate();
        loop {
            let next = lines.next();
            let done = next.is_none();
            if let Some((number, line)) = next {
                let line = line.with_context(|| format!("reading line {}", number + 1))?;
                pending += line.len() + 1;
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str(&line) {
                    Ok(serde_json::Value::Object(object)) => {
                        values.push(match object.get(&column) {
                            None | Some(serde_json::Value::Null) => None,
                            Some(serde_json::Value::String(s)) => Some(s.clone()),
                            Some(other) => Some(other.to_string()),
                        })
                    }
                    Ok(_) => bail!("line {}: expected a JSON object", number + 1),
                    Err(e) => bail!("line {}: {e}", number + 1),
                }
            }
            if (done && !values.is_empty()) || pending >= CHUNK_BYTES {
                let schema = Arc::new(Schema::new(vec![Field::new(&column, DataType::Utf8, true)]));
                let array: ArrayRef =
                    Arc::new(values.iter().map(Option::as_deref).collect::<StringArray>());
                let batch = RecordBatch::try_new(schema.clone(), vec![array])?;
                let ipc = hg_arrow::write_ipc_stream(&schema, &[batch])?;
                self.unpack(&ipc, &column, first_row, out)?;
                first_row += i64::try_from(values.len()).unwrap_or(i64::MAX);
                values.clear();
                progress.advance(pending);
                pending = 0;
            }
            if done {
                return Ok(());
            }
        }
    }
}

fn names_or_none(schema: &SchemaRef) -> String {
    let all: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    if all.is_empty() {
        "(none)".to_string()
    } else {
        all.join(", ")
    }
}

/// Writes result rows as JSON lines or CSV.
struct Output<W: Write> {
    writer: Option<W>,
    csv: Option<arrow_csv::Writer<W>>,
    wrote_header: bool,
}

/// The `reference` list of a row as JSON (`["", "1.", "1"]`).
fn reference_json(batch: &RecordBatch, row: usize) -> Result<serde_json::Value> {
    let list = batch
        .column_by_name("reference")
        .context("the output has no reference column")?
        .as_list_opt::<i32>()
        .context("reference is not a list")?;
    let parts = list.value(row);
    let parts = parts
        .as_string_opt::<i32>()
        .context("reference items are not text")?;
    Ok(serde_json::Value::Array(
        parts
            .iter()
            .map(|p| serde_json::Value::String(p.unwrap_or_default().to_string()))
            .collect(),
    ))
}

/// One cell as JSON: text, integer or null.
fn cell_json(array: &ArrayRef, row: usize) -> Result<serde_json::Value> {
    if array.is_null(row) {
        return Ok(serde_json::Value::Null);
    }
    if let Some(s) = array.as_string_opt::<i32>() {
        return Ok(serde_json::Value::String(s.value(row).to_string()));
    }
    if let Some(i) = array.as_primitive_opt::<Int64Type>() {
        return Ok(serde_json::Value::from(i.value(row)));
    }
    bail!("unexpected output column type {}", array.data_type())
}

impl<W: Write> Output<W> {
    fn new(writer: W, format: Format) -> Self {
        match format {
            Format::Jsonl => Output {
                writer: Some(writer),
                csv: None,
                wrote_header: false,
            },
            Format::Csv => Output {
                writer: None,
                csv: Some(
                    arrow_csv::WriterBuilder::new()
                        .with_header(true)
                        .build(writer),
                ),
                wrote_header: false,
            },
        }
    }

    /// The columns written, in order, with `src_index` shifted by `offset` and `reference` as
    /// its JSON text.
    fn project(batch: &RecordBatch, source: &str, offset: i64) -> Result<RecordBatch> {
        let mut fields = Vec::new();
        let mut arrays: Vec<ArrayRef> = Vec::new();
        for name in OUTPUT_COLUMNS {
            let name = if name == "{source}" { source } else { name };
            let array: ArrayRef = match name {
                "reference" => {
                    let texts: Vec<String> = (0..batch.num_rows())
                        .map(|row| reference_json(batch, row).map(|v| v.to_string()))
                        .collect::<Result<_>>()?;
                    Arc::new(StringArray::from(texts))
                }
                "src_index" => {
                    let values = batch
                        .column_by_name(name)
                        .context("the output has no src_index column")?
                        .as_primitive_opt::<Int64Type>()
                        .context("src_index is not int64")?;
                    Arc::new(arrow_array::Int64Array::from_iter_values(
                        values.values().iter().map(|v| v + offset),
                    ))
                }
                _ => Arc::clone(
                    batch
                        .column_by_name(name)
                        .with_context(|| format!("the output has no {name} column"))?,
                ),
            };
            fields.push(Field::new(name, array.data_type().clone(), true));
            arrays.push(array);
        }
        Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
    }

    fn write(&mut self, batch: &RecordBatch, source: &str, offset: i64) -> Result<()> {
        let projected = Self::project(batch, source, offset)?;
        if let Some(csv) = &mut self.csv {
            csv.write(&projected)?;
            self.wrote_header = true;
            return Ok(());
        }
        let Some(w) = &mut self.writer else {
            return Ok(());
        };
        let names: Vec<String> = projected
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        for row in 0..projected.num_rows() {
            let mut object = serde_json::Map::new();
            for (i, name) in names.iter().enumerate() {
                let value = if name == "reference" {
                    reference_json(batch, row)?
                } else {
                    cell_json(projected.column(i), row)?
                };
                object.insert(name.clone(), value);
            }
            serde_json::to_writer(&mut *w, &serde_json::Value::Object(object))?;
            w.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Flushes; writes the CSV header even when nothing was decoded.
    fn finish(&mut self) -> Result<()> {
        if let Some(mut csv) = self.csv.take() {
            if !self.wrote_header {
                let empty = RecordBatch::new_empty(Arc::new(Schema::new(
                    OUTPUT_COLUMNS
                        .iter()
                        .map(|n| {
                            let name = if *n == "{source}" { "Text" } else { n };
                            let kind = match *n {
                                "src_index" | "depth" | "size" | "span_start" | "span_end" => {
                                    DataType::Int64
                                }
                                _ => DataType::Utf8,
                            };
                            Field::new(name, kind, true)
                        })
                        .collect::<Vec<_>>(),
                )));
                csv.write(&empty)?;
            }
            csv.into_inner().flush()?;
        }
        if let Some(w) = &mut self.writer {
            w.flush()?;
        }
        Ok(())
    }
}
