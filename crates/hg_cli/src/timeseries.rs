//! `huntglass timeseries stl|periodic`: STL time-series anomalies and periodic-traffic
//! (beaconing) detection through the `timeseries.stl` and `timeseries.periodic` operations.
//!
//! Input kinds follow the file extension, as for the other batch subcommands (`crate::input`):
//! `.arrow` / `.arrows` / `.ipc` (an Arrow IPC stream with a timestamp or date column, what
//! `huntglass demo-data` and pyarrow write), `.csv` (a header row; column types inferred) and
//! `.jsonl` / `.ndjson` / `.json` (one JSON object per line); `-` reads JSON lines from stdin.
//! In CSV and JSON-lines input the time column (`--time-column`, else the first text column whose
//! every value is an ISO 8601 time) is parsed from text; times without a zone are UTC.
//!
//! Output: JSON lines (default; times as `YYYY-MM-DD HH:MM:SS.mmm` UTC text, numbers as numbers,
//! NaN as null) or an Arrow IPC stream (`--format arrow`), to stdout or `--out FILE`.
//! `stl --anomalies-only` keeps the flagged rows; `periodic --top N` the first N of the ranking.
//! Inputs are read whole (a decomposition needs the whole series), at most 4 GiB; the
//! operations' own limits apply after that.

use std::fs::File;
use std::io::{self, BufWriter, Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use hg_ops::Registry;
use serde_json::{json, Map, Value};

use crate::input::{self, InputKind};

/// Largest input read (the operations' own limits apply after it).
const MAX_INPUT_BYTES: u64 = 4 << 30;

/// `huntglass timeseries` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum TimeseriesCommand {
    /// STL decomposition and residual z-score anomalies (the reference's ts_anomalies_stl).
    Stl(StlArgs),
    /// Periodic traffic per key with the periodogram and Fisher's g test (beaconing).
    Periodic(PeriodicArgs),
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// An Arrow IPC stream.
    Arrow,
}

/// `huntglass timeseries stl`.
#[derive(clap::Args, Debug)]
pub struct StlArgs {
    /// The time column (default: the first timestamp column).
    #[arg(long)]
    time_column: Option<String>,
    /// The value column (default: the first numeric column that is not a key).
    #[arg(long)]
    data_column: Option<String>,
    /// Length of the seasonal smoother (odd).
    #[arg(long, default_value_t = 7)]
    seasonal: usize,
    /// Points per cycle; 0 detects it from each series.
    #[arg(long, default_value_t = 24)]
    period: usize,
    /// Z-score above which a point is flagged.
    #[arg(long, default_value_t = 3.0)]
    score_threshold: f64,
    /// Flag dips too (1 above the threshold, -1 below its negative).
    #[arg(long)]
    two_sided: bool,
    /// Robust STL (resists the outliers being looked for).
    #[arg(long)]
    robust: bool,
    /// One series per distinct value of these columns, comma-separated.
    #[arg(long, value_delimiter = ',')]
    group_by: Vec<String>,
    /// Bin times to this interval first (1h, 15min, 300s).
    #[arg(long)]
    interval: Option<String>,
    /// Count rows per interval bin instead of summing a value column.
    #[arg(long)]
    count: bool,
    /// Keep float components (the reference truncates them to integers).
    #[arg(long)]
    float_output: bool,
    /// Write only the flagged rows.
    #[arg(long)]
    anomalies_only: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    format: Format,
    /// Output file (default: stdout).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Input file (.arrow/.arrows/.ipc, .csv, .jsonl/.ndjson/.json); `-` reads JSON lines from stdin.
    file: PathBuf,
}

/// `huntglass timeseries periodic`.
#[derive(clap::Args, Debug)]
pub struct PeriodicArgs {
    /// The event time column (default: the first timestamp column).
    #[arg(long)]
    time_column: Option<String>,
    /// Key columns, comma-separated (e.g. SourceIP,DestinationIP).
    #[arg(long, value_delimiter = ',')]
    group_by: Vec<String>,
    /// Grid step in seconds.
    #[arg(long, default_value_t = 1)]
    bin_seconds: i64,
    /// Keys with fewer events are not tested.
    #[arg(long, default_value_t = 3)]
    min_events: usize,
    /// Write only the first N keys of the ranking.
    #[arg(long)]
    top: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    format: Format,
    /// Output file (default: stdout).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Input file (.arrow/.arrows/.ipc, .csv, .jsonl/.ndjson/.json); `-` reads JSON lines from stdin.
    file: PathBuf,
}

/// Runs one `huntglass timeseries` subcommand.
pub fn run(command: TimeseriesCommand) -> Result<()> {
    match command {
        TimeseriesCommand::Stl(args) => stl(&args),
        TimeseriesCommand::Periodic(args) => periodic(&args),
    }
}

fn stl(args: &StlArgs) -> Result<()> {
    if args.anomalies_only && args.format == Format::Arrow {
        bail!("--anomalies-only writes JSON lines; drop --format arrow or filter on the anomalies column");
    }
    let mut options = Map::new();
    if let Some(t) = &args.time_column {
        options.insert("time_column".into(), json!(t));
    }
    if let Some(d) = &args.data_column {
        options.insert("data_column".into(), json!(d));
    }
    options.insert("seasonal".into(), json!(args.seasonal));
    options.insert("period".into(), json!(args.period));
    options.insert("score_threshold".into(), json!(args.score_threshold));
    options.insert("two_sided".into(), json!(args.two_sided));
    options.insert("robust".into(), json!(args.robust));
    options.insert("group_by".into(), json!(args.group_by));
    if let Some(i) = &args.interval {
        options.insert("interval".into(), json!(i));
    }
    options.insert("count".into(), json!(args.count));
    options.insert("integer_output".into(), json!(!args.float_output));
    let stream = read_input(&args.file, args.time_column.as_deref())?;
    let output = call("timeseries.stl", &Value::Object(options), &stream)?;
    let anomalies_only = args.anomalies_only;
    let keep = move |batch: &RecordBatch, row: usize| {
        !anomalies_only
            || batch
                .column_by_name("anomalies")
                .and_then(|a| a.as_primitive_opt::<Int64Type>())
                .is_some_and(|a| a.is_valid(row) && a.value(row) != 0)
    };
    write(&output, args.format, args.out.as_deref(), &keep, None)
}

fn periodic(args: &PeriodicArgs) -> Result<()> {
    let mut options = Map::new();
    if let Some(t) = &args.time_column {
        options.insert("time_column".into(), json!(t));
    }
    options.insert("group_by".into(), json!(args.group_by));
    options.insert("bin_seconds".into(), json!(args.bin_seconds));
    options.insert("min_events".into(), json!(args.min_events));
    let stream = read_input(&args.file, args.time_column.as_deref())?;
    let output = call("timeseries.periodic", &Value::Object(options), &stream)?;
    write(
        &output,
        args.format,
        args.out.as_deref(),
        &|_, _| true,
        args.top,
    )
}

fn call(op: &str, options: &Value, input: &[u8]) -> Result<Vec<u8>> {
    Registry::standard()
        .call(op, options.to_string().as_bytes(), input)
        .map_err(|e| anyhow!("{e}"))
}

fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        io::stdin()
            .lock()
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut bytes)
            .context("reading stdin")
    } else {
        File::open(path)
            .with_context(|| format!("cannot open {}", path.display()))?
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("reading {}", path.display()))
    };
    read?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        bail!("{}: larger than {MAX_INPUT_BYTES} bytes", path.display());
    }
    Ok(bytes)
}

/// The input as an Arrow IPC stream with its time column as timestamps.
fn read_input(path: &Path, time_column: Option<&str>) -> Result<Vec<u8>> {
    let kind = if path == Path::new("-") {
        InputKind::JsonLines
    } else {
        input::kind_of(path)
    };
    if matches!(kind, InputKind::Text) {
        bail!(
            "{}: unknown input kind; use a .arrow/.arrows/.ipc, .csv or .jsonl/.ndjson/.json file",
            path.display()
        );
    }
    let bytes = read_bytes(path)?;
    let read = match kind {
        InputKind::Arrow => {
            if bytes.starts_with(b"ARROW1") {
                bail!(
                    "{} is an Arrow IPC file; huntglass reads the IPC stream format (pyarrow: pa.ipc.new_stream)",
                    path.display()
                );
            }
            return Ok(bytes);
        }
        InputKind::Text => bail!("{}: plain text has no columns", path.display()),
        InputKind::Csv => read_csv(&bytes).context("reading the CSV input")?,
        InputKind::JsonLines => read_json_lines(&bytes).context("reading the JSON-lines input")?,
    };
    let Some(first) = read.first() else {
        bail!("{}: no records", path.display());
    };
    let index = time_index(first, time_column)?;
    let batches = read
        .into_iter()
        .map(|b| with_parsed_times(b, index))
        .collect::<Result<Vec<_>>>()?;
    Ok(hg_arrow::write_ipc_stream(&batches[0].schema(), &batches)?)
}

/// Rows inferred from at most this many records when typing CSV and JSON-lines columns.
const INFER_RECORDS: usize = 10_000;

fn read_csv(bytes: &[u8]) -> Result<Vec<RecordBatch>> {
    let format = arrow_csv::reader::Format::default().with_header(true);
    let (schema, _) = format.infer_schema(Cursor::new(bytes), Some(INFER_RECORDS))?;
    // Times stay text here; they are parsed below with the same rules as JSON lines.
    let schema: SchemaRef = Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => {
                    Field::new(f.name(), DataType::Utf8, true)
                }
                _ => f.as_ref().clone(),
            })
            .collect::<Vec<_>>(),
    ));
    let reader = arrow_csv::ReaderBuilder::new(schema.clone())
        .with_format(format)
        .build(Cursor::new(bytes))?;
    Ok(reader.collect::<Result<Vec<_>, _>>()?)
}

fn read_json_lines(bytes: &[u8]) -> Result<Vec<RecordBatch>> {
    let (schema, _) =
        arrow_json::reader::infer_json_schema(Cursor::new(bytes), Some(INFER_RECORDS))?;
    let schema = Arc::new(schema);
    let reader = arrow_json::ReaderBuilder::new(schema.clone()).build(Cursor::new(bytes))?;
    Ok(reader.collect::<Result<Vec<_>, _>>()?)
}

const TIME_TYPE: DataType = DataType::Timestamp(TimeUnit::Nanosecond, None);

fn parse_options() -> arrow_cast::CastOptions<'static> {
    arrow_cast::CastOptions {
        safe: false,
        ..Default::default()
    }
}

/// The text time column to parse: the named one, else the first text column whose values (in
/// the first batch) all parse as times; `None` when there is none.
fn time_index(batch: &RecordBatch, time_column: Option<&str>) -> Result<Option<usize>> {
    let schema = batch.schema();
    Ok(match time_column {
        Some(name) => match schema.index_of(name) {
            Ok(i) if input::is_text(schema.field(i).data_type()) => Some(i),
            Ok(_) => None,
            Err(_) => bail!(
                "no column '{name}' in the input (columns: {})",
                column_list(&schema)
            ),
        },
        None => (0..batch.num_columns()).find(|&i| {
            input::is_text(schema.field(i).data_type())
                && batch.column(i).null_count() < batch.num_rows()
                && arrow_cast::cast_with_options(batch.column(i), &TIME_TYPE, &parse_options())
                    .is_ok()
        }),
    })
}

/// Casts column `index` (text) of `batch` to UTC nanosecond timestamps, naming the first bad value.
fn with_parsed_times(batch: RecordBatch, index: Option<usize>) -> Result<RecordBatch> {
    let Some(index) = index else {
        return Ok(batch);
    };
    let schema = batch.schema();
    let name = schema.field(index).name().clone();
    let texts = arrow_cast::cast(batch.column(index), &DataType::Utf8)?;
    let texts = texts.as_string::<i32>();
    let times = parse_times(&name, texts)?;
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields[index] = Field::new(&name, times.data_type().clone(), true);
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns[index] = times;
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

fn parse_times(name: &str, texts: &StringArray) -> Result<ArrayRef> {
    arrow_cast::cast_with_options(texts, &TIME_TYPE, &parse_options()).map_err(|e| {
        let bad = (0..texts.len())
            .find(|&i| {
                texts.is_valid(i)
                    && arrow_cast::cast_with_options(
                        &texts.slice(i, 1),
                        &TIME_TYPE,
                        &parse_options(),
                    )
                    .is_err()
            })
            .map(|i| format!(" (row {i}: {:?})", texts.value(i)))
            .unwrap_or_default();
        anyhow!("column '{name}' is not an ISO 8601 time{bad}: {e}")
    })
}

fn column_list(schema: &Schema) -> String {
    schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn output(path: Option<&Path>) -> Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(io::stdout().lock())),
    })
}

/// Writes an operation's output: the rows `keep` accepts, at most `top` of them.
fn write(
    stream: &[u8],
    format: Format,
    out: Option<&Path>,
    keep: &dyn Fn(&RecordBatch, usize) -> bool,
    top: Option<usize>,
) -> Result<()> {
    let table = hg_arrow::read_ipc_stream(stream).context("reading the operation's output")?;
    let mut sink = output(out)?;
    let result = (|| -> Result<()> {
        match format {
            Format::Arrow => {
                let mut left = top.unwrap_or(usize::MAX);
                let batches: Vec<RecordBatch> = table
                    .batches()
                    .iter()
                    .map(|b| {
                        let n = b.num_rows().min(left);
                        left -= n;
                        b.slice(0, n)
                    })
                    .collect();
                let bytes = hg_arrow::write_ipc_stream(table.schema(), &batches)?;
                sink.write_all(&bytes)?;
            }
            Format::Jsonl => {
                let mut written = 0usize;
                'batches: for batch in table.batches() {
                    for row in 0..batch.num_rows() {
                        if top.is_some_and(|t| written >= t) {
                            break 'batches;
                        }
                        if !keep(batch, row) {
                            continue;
                        }
                        written += 1;
                        let mut record = Map::new();
                        for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
                            record.insert(field.name().clone(), cell(column.as_ref(), row));
                        }
                        serde_json::to_writer(&mut sink, &Value::Object(record))?;
                        sink.write_all(b"\n")?;
                    }
                }
            }
        }
        sink.flush()?;
        Ok(())
    })();
    input::ignore_broken_pipe(result)
}

/// One cell as JSON: integers and floats as numbers (NaN and infinities as null), the rest as
/// `hg_arrow`'s display text (times as `YYYY-MM-DD HH:MM:SS.mmm`).
fn cell(array: &dyn Array, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Int64 => json!(array.as_primitive::<Int64Type>().value(row)),
        DataType::Float64 => {
            serde_json::Number::from_f64(array.as_primitive::<Float64Type>().value(row))
                .map_or(Value::Null, Value::Number)
        }
        _ => Value::String(hg_arrow::display_value(array, row)),
    }
}
