//! `huntglass proctree`: process trees from process-creation events, through the
//! `proctree.build` operation.
//!
//! Input kinds follow the file extension, as for `huntglass ioc` (see [`crate::input`]): `.csv`
//! (a header row; every column is read as text: ids in decimal or `0x` hex and ISO-8601 times
//! are understood by the engine), `.jsonl` / `.ndjson` / `.json` (one JSON object per line;
//! column types inferred from the values), `.arrow` / `.arrows` / `.ipc` (an Arrow IPC stream).
//! `-` reads an Arrow IPC stream from stdin. The schema is detected from the columns unless
//! `--schema NAME` or `--map key=column,...` is given.
//!
//! Output (`--format`): `text` (default; one line per process in tree order, indented by depth:
//! name, id, creation time and command line, placeholders marked), `jsonl` (one JSON object per
//! row: the input columns and the tree columns), `csv`, or `arrow` (an IPC stream), to stdout or
//! `--out FILE`. Inputs are read whole (a tree needs every event); the limits are `hg_arrow`'s
//! read limits and `hg_proctree`'s.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use hg_ops::Registry;
use serde_json::{Map, Value};

use crate::input::{self, InputKind};

/// Longest command line shown per process in the text output (characters).
const TEXT_CMD_CHARS: usize = 300;

/// Deepest indentation of the text output (levels; deeper processes are indented as this).
const TEXT_MAX_INDENT: usize = 200;

/// Output formats of `huntglass proctree`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An indented tree, one line per process.
    Text,
    /// One JSON object per row.
    Jsonl,
    /// CSV with a header row.
    Csv,
    /// An Arrow IPC stream.
    Arrow,
}

/// Arguments of `huntglass proctree`.
#[derive(clap::Args, Debug)]
pub struct ProctreeArgs {
    /// Built-in schema: windows_4688, sysmon_1, mde or linux_auditd (default: detected from the columns).
    #[arg(long, conflicts_with = "map")]
    pub schema: Option<String>,
    /// Column mapping, comma-separated key=column pairs (process_name, process_id, parent_id, time_stamp, parent_name, cmd_line, ...).
    #[arg(long, value_delimiter = ',')]
    pub map: Option<Vec<String>>,
    /// Do not add placeholder rows for parents missing from the events (such processes become roots).
    #[arg(long)]
    pub no_placeholders: bool,
    /// Link parents across hosts (as the reference does) instead of on the same host only.
    #[arg(long)]
    pub across_hosts: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write to this file instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Input file (.csv, .jsonl/.ndjson/.json, .arrow/.arrows/.ipc); `-` reads an Arrow IPC stream from stdin.
    pub file: PathBuf,
}

/// The operation's options from the arguments.
fn options_json(args: &ProctreeArgs) -> Result<String> {
    let schema = match (&args.schema, &args.map) {
        (Some(name), _) => Value::String(name.clone()),
        (None, Some(pairs)) => {
            let mut map = Map::new();
            for pair in pairs {
                let Some((key, column)) = pair.split_once('=') else {
                    bail!("--map: '{pair}' is not key=column");
                };
                map.insert(
                    key.trim().to_string(),
                    Value::String(column.trim().to_string()),
                );
            }
            Value::Object(map)
        }
        (None, None) => Value::Null,
    };
    Ok(serde_json::json!({
        "schema": schema,
        "infer_parents": !args.no_placeholders,
        "match_host": !args.across_hosts,
    })
    .to_string())
}

/// The input as an Arrow IPC stream.
fn read_input(path: &Path) -> Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .context("reading stdin")?;
        return arrow_stream(bytes, "stdin");
    }
    match input::kind_of(path) {
        InputKind::Arrow => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            arrow_stream(bytes, &path.display().to_string())
        }
        InputKind::Csv => read_csv(path),
        InputKind::JsonLines => read_json_lines(path),
        InputKind::Text => bail!(
            "{}: unknown input kind; use a .csv, .jsonl/.ndjson/.json or .arrow/.arrows/.ipc file",
            path.display()
        ),
    }
}

/// `bytes` when they are an IPC stream; the IPC file format gets a clear error.
fn arrow_stream(bytes: Vec<u8>, source: &str) -> Result<Vec<u8>> {
    if bytes.starts_with(b"ARROW1") {
        bail!(
            "{source} is an Arrow IPC file; huntglass reads the IPC stream format (pyarrow: pa.ipc.new_stream)"
        );
    }
    Ok(bytes)
}

/// A CSV file with every column as text.
fn read_csv(path: &Path) -> Result<Vec<u8>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let (schema, reader) =
        input::text_csv(file, 65_536).with_context(|| format!("reading {}", path.display()))?;
    let batches = reader
        .collect::<Result<Vec<RecordBatch>, _>>()
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(hg_arrow::write_ipc_stream(&schema, &batches)?)
}

/// A JSON-lines file, column types inferred from the values.
fn read_json_lines(path: &Path) -> Result<Vec<u8>> {
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let (inferred, _) =
        arrow_json::reader::infer_json_schema_from_seekable(BufReader::new(&mut file), None)
            .with_context(|| format!("reading the JSON lines of {}", path.display()))?;
    file.rewind().context("rewinding the JSON-lines file")?;
    let schema: SchemaRef = Arc::new(inferred);
    let reader = arrow_json::ReaderBuilder::new(schema.clone())
        .with_batch_size(65_536)
        .build(BufReader::new(file))
        .context("reading the JSON-lines file")?;
    let batches = reader
        .collect::<Result<Vec<RecordBatch>, _>>()
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(hg_arrow::write_ipc_stream(&schema, &batches)?)
}

/// Runs `huntglass proctree`.
pub fn run(args: &ProctreeArgs) -> Result<()> {
    let input = read_input(&args.file)?;
    let options = options_json(args)?;
    let output = Registry::standard()
        .call("proctree.build", options.as_bytes(), &input)
        .map_err(|e| anyhow!("{e}"))?;
    let sink: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(io::stdout().lock()),
    };
    let mut out = BufWriter::new(sink);
    input::ignore_broken_pipe(
        write_output(args.format, &output, &mut out).and_then(|()| Ok(out.flush()?)),
    )
}

fn write_output<W: Write>(format: Format, ipc: &[u8], out: &mut W) -> Result<()> {
    if format == Format::Arrow {
        out.write_all(ipc)?;
        return Ok(());
    }
    let table = hg_arrow::read_ipc_stream(ipc).context("reading the operation's output")?;
    match format {
        Format::Csv => {
            let mut writer = arrow_csv::WriterBuilder::new().with_header(true).build(out);
            for batch in table.batches() {
                writer.write(batch)?;
            }
        }
        Format::Jsonl => {
            let mut writer = arrow_json::LineDelimitedWriter::new(out);
            for batch in table.batches() {
                writer.write(batch)?;
            }
            writer.finish()?;
        }
        Format::Text => write_text(&table, out)?,
        Format::Arrow => unreachable!("written above"),
    }
    Ok(())
}

/// The tree as indented text: `name [id] time  command line`, one line per process.
///
/// Name, id and time come from `proc_key` (`name|id|time`, the same for every schema); the
/// command line from the first of the built-in schemas' command-line columns present.
fn write_text<W: Write>(table: &hg_arrow::Table, out: &mut W) -> Result<()> {
    let cmd = ["CommandLine", "ProcessCommandLine", "cmdline"]
        .into_iter()
        .find(|c| table.has_column(c));
    let keys = table.strings("proc_key")?;
    let depths = table.numbers_f64("depth")?;
    let placeholders = table.column("IsPlaceholder")?;
    let placeholders = placeholders
        .as_any()
        .downcast_ref::<arrow_array::BooleanArray>()
        .context("IsPlaceholder is not boolean")?;
    let commands = cmd.map(|c| table.strings(c)).transpose()?;
    for (row, depth) in depths.iter().enumerate() {
        let key = keys.get(row).unwrap_or_default();
        // From the right: a process name may hold '|', the id and the time do not.
        let mut parts = key.rsplitn(3, '|');
        let time = parts.next().unwrap_or_default();
        let id = parts.next().unwrap_or_default();
        let name = parts.next().unwrap_or_default();
        let depth = depth.max(0.0) as usize;
        let mut line = "  ".repeat(depth.min(TEXT_MAX_INDENT));
        line.extend(name.chars().filter(|c| !c.is_control()));
        line.push_str(" [");
        line.extend(id.chars().filter(|c| !c.is_control()));
        line.push(']');
        if placeholders.value(row) {
            line.push_str(" (not in the events)");
        } else {
            line.push(' ');
            line.push_str(time.split('#').next().unwrap_or_default());
            if let Some(text) = commands.as_ref().and_then(|c| c.get(row)) {
                if !text.is_empty() {
                    line.push_str("  ");
                    line.extend(
                        text.chars()
                            .filter(|c| !c.is_control())
                            .take(TEXT_CMD_CHARS),
                    );
                }
            }
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}
