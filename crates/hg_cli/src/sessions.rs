//! `huntglass sessions build|score`: sessionizing events and scoring session rarity, through the
//! `sessions.build`, `sessions.train` and `sessions.score` operations.
//!
//! Input kinds follow the file extension, as for `huntglass ioc`: `.csv` (a header row; every
//! column is text), `.jsonl` / `.ndjson` / `.json` (one JSON object per line; strings as they
//! are, other values as their JSON text, except the session column of `score`, which keeps its
//! JSON array), `.arrow` / `.arrows` / `.ipc` (an Arrow IPC stream). `-` reads JSON lines from
//! stdin.
//!
//! `build`: the time column of CSV / JSON-lines input is parsed from ISO 8601 text (`2024-01-31
//! 10:00:00`, `2024-01-31T10:00:00.5Z`, ...; times without a zone are UTC); Arrow input needs a
//! timestamp or date column. Output: one record per session (the key columns,
//! `<time>_min`, `<time>_max`, `<event>_list`, `duration`, `number_events`).
//!
//! `score`: in CSV and JSON-lines input, each session is a JSON array of command names, of
//! `{"name": ..., "params": [...]}` objects or of `{"name": ..., "params": {name: value}}`
//! objects (in CSV, the cell holds that JSON text); Arrow input holds a list column (the output
//! of `build --format arrow`, for instance). Output: each input record with
//! `rarest_window{N}_likelihood` (null when the session is too short) and `rarest_window{N}`
//! added (plus `session_likelihood` and `session_geomean_likelihood` with
//! `--session-likelihoods`). `--save-model FILE` also writes the model trained on these
//! sessions; `--model FILE` scores with a saved model instead (a baseline scoring today).
//!
//! Output is JSON lines (default) or an Arrow IPC stream (`--format arrow`), to stdout or
//! `--out FILE`. Inputs are read whole (sessionizing needs every event of a user); the limits
//! are `hg_arrow`'s read limits and the operations' own.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use arrow_array::{
    Array, ArrayRef, BinaryArray, ListArray, MapArray, RecordBatch, StringArray, StructArray,
};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use base64::Engine as _;
use hg_ops::Registry;
use serde_json::{Map, Value};

use crate::input::{self, InputKind};

/// The end token the model appends to every session (shown when asked with `--include-end-token`).
const END_TOKEN: &str = "##END##";

/// `huntglass sessions` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum SessionsCommand {
    /// Group events into sessions per user (the reference's sessionize_data).
    Build(BuildArgs),
    /// Score sessions with a Markov-chain model: the rarest window of each and its likelihood.
    Score(ScoreArgs),
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// An Arrow IPC stream.
    Arrow,
}

/// `huntglass sessions build`.
#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    /// Columns identifying the user, comma-separated (a change starts a new session).
    #[arg(long = "user-cols", value_delimiter = ',', required = true)]
    user_identifier_cols: Vec<String>,
    /// The event time column.
    #[arg(long = "time-col", default_value = "TimeGenerated")]
    time_col: String,
    /// Longest session, from its first event, in minutes.
    #[arg(long = "max-session-time-mins")]
    max_session_time_mins: f64,
    /// Longest gap between consecutive events of a session, in minutes.
    #[arg(long = "max-event-separation-mins")]
    max_event_separation_mins: f64,
    /// The column listed per session.
    #[arg(long = "event-col")]
    event_col: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    format: Format,
    /// Output file (default: stdout).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Input file (.csv, .jsonl/.ndjson/.json, .arrow/.arrows/.ipc); `-` reads JSON lines from stdin.
    file: PathBuf,
}

/// `huntglass sessions score`.
#[derive(clap::Args, Debug)]
pub struct ScoreArgs {
    /// The column holding each session (a list of commands).
    #[arg(long = "session-col")]
    session_column: String,
    /// Length of the sliding windows searched for the rarest one.
    #[arg(long = "window-length", default_value_t = 3)]
    window_length: usize,
    /// Score with this saved model (from --save-model) instead of training on the input.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Also write the model trained on the input's sessions to this file.
    #[arg(long = "save-model")]
    save_model: Option<PathBuf>,
    /// Leave the session start and end tokens out of the likelihoods.
    #[arg(long = "no-tokens")]
    no_tokens: bool,
    /// Raise window likelihoods to 1/window_length (columns get a _geo suffix).
    #[arg(long = "geo-mean")]
    geo_mean: bool,
    /// A rarest window that ends the session ends with ##END## (the reference drops that item).
    #[arg(long = "include-end-token")]
    include_end_token: bool,
    /// Also output session_likelihood and session_geomean_likelihood.
    #[arg(long = "session-likelihoods")]
    session_likelihoods: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    format: Format,
    /// Output file (default: stdout).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Input file (.csv, .jsonl/.ndjson/.json, .arrow/.arrows/.ipc); `-` reads JSON lines from stdin.
    file: PathBuf,
}

/// Runs a `huntglass sessions` subcommand.
pub fn run(command: SessionsCommand) -> Result<()> {
    match command {
        SessionsCommand::Build(args) => build(&args),
        SessionsCommand::Score(args) => score(&args),
    }
}

/// The input kind of a sessions input: `-` is JSON lines; plain text is refused (events need columns).
fn kind_of(path: &Path) -> Result<InputKind> {
    if path == Path::new("-") {
        return Ok(InputKind::JsonLines);
    }
    match input::kind_of(path) {
        InputKind::Text => bail!(
            "{}: unknown input kind; use a .csv, .jsonl/.ndjson/.json or .arrow/.arrows/.ipc file",
            path.display()
        ),
        kind => Ok(kind),
    }
}

fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .context("reading stdin")?;
    } else {
        File::open(path)
            .with_context(|| format!("cannot open {}", path.display()))?
            .read_to_end(&mut bytes)
            .with_context(|| format!("reading {}", path.display()))?;
    }
    Ok(bytes)
}

fn read_arrow(path: &Path) -> Result<Vec<u8>> {
    let bytes = read_bytes(path)?;
    if bytes.starts_with(b"ARROW1") {
        bail!(
            "{} is an Arrow IPC file; huntglass reads the IPC stream format (pyarrow: pa.ipc.new_stream)",
            path.display()
        );
    }
    Ok(bytes)
}

/// The records of a CSV or JSON-lines input as JSON objects (CSV cells are strings).
fn read_records(path: &Path, kind: &InputKind) -> Result<Vec<Map<String, Value>>> {
    let bytes = read_bytes(path)?;
    match kind {
        InputKind::Csv => {
            let (schema, reader) = input::text_csv(io::Cursor::new(&bytes), 1024)?;
            let mut records = Vec::new();
            for batch in reader {
                let batch = batch.context("reading the CSV file")?;
                for row in 0..batch.num_rows() {
                    let mut record = Map::new();
                    for (i, field) in schema.fields().iter().enumerate() {
                        let column = batch.column(i);
                        let strings = column
                            .as_any()
                            .downcast_ref::<StringArray>()
                            .context("CSV column is not text")?;
                        let value = if strings.is_null(row) {
                            Value::Null
                        } else {
                            Value::String(strings.value(row).to_string())
                        };
                        record.insert(field.name().clone(), value);
                    }
                    records.push(record);
                }
            }
            Ok(records)
        }
        InputKind::JsonLines => {
            let mut records = Vec::new();
            for (number, line) in BufReader::new(bytes.as_slice()).lines().enumerate() {
                let line = line.with_context(|| format!("reading line {}", number + 1))?;
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str(&line) {
                    Ok(Value::Object(object)) => records.push(object),
                    Ok(_) => bail!("line {}: expected a JSON object", number + 1),
                    Err(e) => bail!("line {}: {e}", number + 1),
                }
            }
            Ok(records)
        }
        InputKind::Text | InputKind::Arrow => unreachable_kind(),
    }
}

fn unreachable_kind() -> Result<Vec<Map<String, Value>>> {
    Err(anyhow!(
        "internal: only CSV and JSON-lines inputs are read as records"
    ))
}

/// Every key of the records, in first-seen order.
fn keys_of(records: &[Map<String, Value>]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for record in records {
        for key in record.keys() {
            if !keys.iter().any(|k| k == key) {
                keys.push(key.clone());
            }
        }
    }
    keys
}

fn text_of(value: Option<&Value>) -> Option<String> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    }
}

fn ipc(schema: &SchemaRef, columns: Vec<ArrayRef>) -> Result<Vec<u8>> {
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    Ok(hg_arrow::write_ipc_stream(schema, &[batch])?)
}

fn call(op: &str, options: &Value, input: &[u8]) -> Result<Vec<u8>> {
    Registry::standard()
        .call(op, options.to_string().as_bytes(), input)
        .map_err(|e| anyhow!("{e}"))
}

fn output(path: Option<&Path>) -> Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(io::stdout().lock())),
    })
}

/// Writes an operation's output stream as JSON lines or as the stream itself.
fn write_table(stream: &[u8], format: Format, out: &mut dyn Write) -> Result<()> {
    match format {
        Format::Arrow => out.write_all(stream)?,
        Format::Jsonl => {
            let table =
                hg_arrow::read_ipc_stream(stream).context("reading the operation's output")?;
            let mut writer = arrow_json::LineDelimitedWriter::new(&mut *out);
            for batch in table.batches() {
                writer.write(batch)?;
            }
            writer.finish()?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Parses a text time column (ISO 8601; no zone = UTC) into timestamps, naming the bad value.
fn parse_times(name: &str, texts: &StringArray) -> Result<ArrayRef> {
    // "+00:00": a named zone would need chrono-tz (values are UTC either way).
    let target = DataType::Timestamp(TimeUnit::Nanosecond, Some("+00:00".into()));
    let options = arrow_cast::CastOptions {
        safe: false,
        ..Default::default()
    };
    arrow_cast::cast_with_options(texts, &target, &options).map_err(|e| {
        let bad = (0..texts.len())
            .find(|&i| {
                texts.is_valid(i)
                    && arrow_cast::cast_with_options(&texts.slice(i, 1), &target, &options).is_err()
            })
            .map(|i| format!(" (row {i}: {:?})", texts.value(i)))
            .unwrap_or_default();
        anyhow!("time column '{name}' must hold ISO 8601 times{bad}: {e}")
    })
}

fn build(args: &BuildArgs) -> Result<()> {
    let input = match kind_of(&args.file)? {
        InputKind::Arrow => read_arrow(&args.file)?,
        kind => {
            let records = read_records(&args.file, &kind)?;
            let keys = keys_of(&records);
            if !records.is_empty() && !keys.contains(&args.time_col) {
                bail!(
                    "time column '{}' not found; the columns are: {}",
                    args.time_col,
                    keys.join(", ")
                );
            }
            let mut fields = Vec::new();
            let mut columns: Vec<ArrayRef> = Vec::new();
            for key in &keys {
                let texts: StringArray = records.iter().map(|r| text_of(r.get(key))).collect();
                if *key == args.time_col {
                    let times = parse_times(key, &texts)?;
                    fields.push(Field::new(key, times.data_type().clone(), true));
                    columns.push(times);
                } else {
                    fields.push(Field::new(key, DataType::Utf8, true));
                    columns.push(Arc::new(texts));
                }
            }
            ipc(&Arc::new(Schema::new(fields)), columns)?
        }
    };
    let options = serde_json::json!({
        "user_identifier_cols": args.user_identifier_cols,
        "time_col": args.time_col,
        "max_session_time_mins": args.max_session_time_mins,
        "max_event_separation_mins": args.max_event_separation_mins,
        "event_col": args.event_col,
    });
    let sessions = call("sessions.build", &options, &input)?;
    let mut out = output(args.out.as_deref())?;
    input::ignore_broken_pipe(write_table(&sessions, args.format, &mut out))
}

/// The kind of command a JSON session item is (decided by the first item of the first session).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ItemKind {
    Names,
    Params,
    Values,
}

fn item_kind(item: &Value) -> Option<ItemKind> {
    match item {
        Value::String(_) => Some(ItemKind::Names),
        Value::Object(o) => match (o.get("name"), o.get("params")) {
            (Some(Value::String(_)), None | Some(Value::Null) | Some(Value::Array(_))) => {
                Some(ItemKind::Params)
            }
            (Some(Value::String(_)), Some(Value::Object(_))) => Some(ItemKind::Values),
            _ => None,
        },
        _ => None,
    }
}

/// The sessions of JSON values (arrays, or JSON text of arrays) as an Arrow list column.
fn sessions_array(column: &str, values: &[Option<Value>]) -> Result<ArrayRef> {
    let sessions: Vec<Vec<Value>> = values
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Some(Value::Array(items)) => Ok(items.clone()),
            Some(Value::String(text)) => match serde_json::from_str(text) {
                Ok(Value::Array(items)) => Ok(items),
                _ => bail!("record {i}: column '{column}' must hold a JSON array of commands"),
            },
            None | Some(Value::Null) => bail!("record {i}: column '{column}' is missing"),
            Some(_) => bail!("record {i}: column '{column}' must hold a JSON array of commands"),
        })
        .collect::<Result<_>>()?;
    let Some(first) = sessions.iter().find_map(|s| s.first()) else {
        bail!("no session has a command (column '{column}')");
    };
    let kind = item_kind(first).ok_or_else(|| {
        anyhow!("a command must be a name or a {{\"name\", \"params\"}} object; got {first}")
    })?;
    let offsets = OffsetBuffer::<i32>::from_lengths(sessions.iter().map(Vec::len));
    let items: Vec<(usize, usize, &Value)> = sessions
        .iter()
        .enumerate()
        .flat_map(|(s, items)| items.iter().enumerate().map(move |(i, v)| (s, i, v)))
        .collect();
    for &(s, i, item) in &items {
        if item_kind(item) != Some(kind) {
            bail!("record {s}, item {i}: {item} is not a command of the sessions' kind ({kind:?}, from the first command)");
        }
    }
    let values: ArrayRef = match kind {
        ItemKind::Names => Arc::new(
            items
                .iter()
                .map(|(_, _, v)| v.as_str())
                .collect::<StringArray>(),
        ),
        ItemKind::Params | ItemKind::Values => {
            let names: StringArray = items.iter().map(|(_, _, v)| v["name"].as_str()).collect();
            let params: ArrayRef = if kind == ItemKind::Params {
                let lists: Vec<Vec<String>> = items
                    .iter()
                    .map(|(_, _, v)| {
                        v["params"]
                            .as_array()
                            .map(|a| a.iter().filter_map(|p| text_of(Some(p))).collect())
                            .unwrap_or_default()
                    })
                    .collect();
                let flat: StringArray = lists.iter().flatten().map(Some).collect();
                Arc::new(ListArray::try_new(
                    Arc::new(Field::new("item", DataType::Utf8, true)),
                    OffsetBuffer::<i32>::from_lengths(lists.iter().map(Vec::len)),
                    Arc::new(flat),
                    None,
                )?)
            } else {
                let maps: Vec<Vec<(String, Option<String>)>> = items
                    .iter()
                    .map(|(_, _, v)| {
                        v["params"]
                            .as_object()
                            .map(|o| {
                                o.iter()
                                    .map(|(k, val)| (k.clone(), value_text(val)))
                                    .collect()
                            })
                            .unwrap_or_default()
                    })
                    .collect();
                let keys: StringArray = maps.iter().flatten().map(|(k, _)| Some(k)).collect();
                let vals: StringArray = maps.iter().flatten().map(|(_, v)| v.clone()).collect();
                let entry_fields = Fields::from(vec![
                    Field::new("key", DataType::Utf8, false),
                    Field::new("value", DataType::Utf8, true),
                ]);
                let entries = StructArray::try_new(
                    entry_fields.clone(),
                    vec![Arc::new(keys), Arc::new(vals)],
                    None,
                )?;
                Arc::new(MapArray::try_new(
                    Arc::new(Field::new("entries", DataType::Struct(entry_fields), false)),
                    OffsetBuffer::<i32>::from_lengths(maps.iter().map(Vec::len)),
                    entries,
                    None,
                    false,
                )?)
            };
            let fields = Fields::from(vec![
                Field::new("name", DataType::Utf8, false),
                Field::new("params", params.data_type().clone(), true),
            ]);
            Arc::new(StructArray::try_new(
                fields,
                vec![Arc::new(names), params],
                None,
            )?)
        }
    };
    let item = Arc::new(Field::new("item", values.data_type().clone(), true));
    Ok(Arc::new(ListArray::try_new(item, offsets, values, None)?))
}

/// A parameter value as the model compares it: text, and falsy values ("", false, 0, null) as
/// "no value" (the reference's truthiness test).
fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::Null | Value::Bool(false) => None,
        Value::String(s) if s.is_empty() => None,
        Value::Number(n) if n.as_f64() == Some(0.0) => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn score(args: &ScoreArgs) -> Result<()> {
    let kind = kind_of(&args.file)?;
    let mut options = serde_json::json!({
        "session_column": args.session_column,
        "window_length": args.window_length,
        "use_start_end_tokens": !args.no_tokens,
        "use_geo_mean": args.geo_mean,
        "window_end": if args.include_end_token { "include_end_token" } else { "reference" },
        "session_likelihoods": args.session_likelihoods,
    });
    if let Some(path) = &args.model {
        let bytes =
            std::fs::read(path).with_context(|| format!("reading the model {}", path.display()))?;
        options["model_base64"] =
            Value::String(base64::engine::general_purpose::STANDARD.encode(bytes));
    }
    let (input, records) = match kind {
        InputKind::Arrow => (read_arrow(&args.file)?, None),
        kind => {
            let records = read_records(&args.file, &kind)?;
            let values: Vec<Option<Value>> = records
                .iter()
                .map(|r| r.get(&args.session_column).cloned())
                .collect();
            if !records.is_empty() && values.iter().all(Option::is_none) {
                bail!(
                    "session column '{}' not found; the columns are: {}",
                    args.session_column,
                    keys_of(&records).join(", ")
                );
            }
            let sessions = sessions_array(&args.session_column, &values)?;
            let schema = Arc::new(Schema::new(vec![Field::new(
                &args.session_column,
                sessions.data_type().clone(),
                true,
            )]));
            (ipc(&schema, vec![sessions])?, Some(records))
        }
    };
    if let Some(path) = &args.save_model {
        let trained = call(
            "sessions.train",
            &serde_json::json!({"session_column": args.session_column}),
            &input,
        )?;
        let table = hg_arrow::read_ipc_stream(&trained)?;
        let model = table.column("model")?;
        let model = model
            .as_any()
            .downcast_ref::<BinaryArray>()
            .context("sessions.train returned no model")?;
        std::fs::write(path, model.value(0))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let mut out = output(args.out.as_deref())?;
    let Some(records) = records else {
        let scored = call("sessions.score", &options, &input)?;
        return input::ignore_broken_pipe(write_table(&scored, args.format, &mut out));
    };
    options["window_start"] = Value::Bool(true);
    let scored = call("sessions.score", &options, &input)?;
    if args.format == Format::Arrow {
        return input::ignore_broken_pipe(write_table(&scored, Format::Arrow, &mut out));
    }
    let table = hg_arrow::read_ipc_stream(&scored).context("reading the operation's output")?;
    let geo = if args.geo_mean { "_geo" } else { "" };
    let n = args.window_length;
    let lik_name = format!("rarest_window{n}_likelihood{geo}");
    let window_name = format!("rarest_window{n}{geo}");
    let likelihoods = table.numbers_f64(&lik_name)?;
    let starts = table.numbers_f64(&format!("rarest_window{n}_start{geo}"))?;
    let window_lengths = window_lengths(&table.column(&window_name)?)?;
    let extra = if args.session_likelihoods {
        vec![
            (
                "session_likelihood",
                table.numbers_f64("session_likelihood")?,
            ),
            (
                "session_geomean_likelihood",
                table.numbers_f64("session_geomean_likelihood")?,
            ),
        ]
    } else {
        Vec::new()
    };
    let number = |v: f64| serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number);
    let result = (|| -> Result<()> {
        for (i, mut record) in records.into_iter().enumerate() {
            let session = match record.get(&args.session_column) {
                Some(Value::Array(items)) => items.clone(),
                Some(Value::String(text)) => match serde_json::from_str(text) {
                    Ok(Value::Array(items)) => items,
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            };
            let window: Vec<Value> = if starts[i].is_nan() {
                Vec::new()
            } else {
                let start = starts[i] as usize;
                let length = window_lengths[i];
                let mut taken: Vec<Value> =
                    session.iter().skip(start).take(length).cloned().collect();
                if taken.len() < length {
                    taken.push(match session.first() {
                        Some(Value::String(_)) | None => Value::String(END_TOKEN.into()),
                        Some(_) => serde_json::json!({"name": END_TOKEN, "params": []}),
                    });
                }
                taken
            };
            record.insert(lik_name.clone(), number(likelihoods[i]));
            record.insert(window_name.clone(), Value::Array(window));
            for (name, values) in &extra {
                record.insert((*name).to_string(), number(values[i]));
            }
            serde_json::to_writer(&mut out, &Value::Object(record))?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        Ok(())
    })();
    input::ignore_broken_pipe(result)
}

/// Items per row of a list column (the window column).
fn window_lengths(column: &ArrayRef) -> Result<Vec<usize>> {
    let list = column
        .as_any()
        .downcast_ref::<ListArray>()
        .context("the window column is not a list")?;
    Ok(list
        .value_offsets()
        .windows(2)
        .map(|w| (w[1] - w[0]) as usize)
        .collect())
}
