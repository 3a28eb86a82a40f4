//! What the batch subcommands (`ioc`, `decode`, `proctree`, `sessions`) share about their input and
//! output: the input kind named by the file extension, CSV read as text, text columns, a column of
//! lines as Arrow IPC, and a closed pipe (`huntglass ... | head`) treated as a normal end.

use std::io::{self, Read, Seek};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

/// How an input file is read, from its extension.
pub enum InputKind {
    /// Plain text, one record per line (any other extension).
    Text,
    /// `.csv` with a header.
    Csv,
    /// `.jsonl`, `.ndjson` or `.json`: one JSON object per line.
    JsonLines,
    /// `.arrow`, `.arrows` or `.ipc`: Arrow IPC.
    Arrow,
}

/// The input kind of `path` by its (case-insensitive) extension.
pub fn kind_of(path: &Path) -> InputKind {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "csv" => InputKind::Csv,
        "jsonl" | "ndjson" | "json" => InputKind::JsonLines,
        "arrow" | "arrows" | "ipc" => InputKind::Arrow,
        _ => InputKind::Text,
    }
}

/// `Ok(())` when `result` failed only because the reader of stdout went away.
pub fn ignore_broken_pipe(result: Result<()>) -> Result<()> {
    match result {
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<io::Error>()
                    .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            }) =>
        {
            Ok(())
        }
        other => other,
    }
}

/// Whether a column of this type holds text (plain, large, view or dictionary-encoded strings).
pub fn is_text(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, values) => is_text(values),
        _ => false,
    }
}

/// `lines` as an Arrow IPC stream of one non-null text column named `column`.
pub fn text_ipc(column: &str, lines: &[String]) -> Result<Vec<u8>> {
    let schema = Arc::new(Schema::new(vec![Field::new(column, DataType::Utf8, false)]));
    let array: ArrayRef = Arc::new(StringArray::from_iter_values(lines));
    let batch = RecordBatch::try_new(schema.clone(), vec![array])?;
    Ok(hg_arrow::write_ipc_stream(&schema, &[batch])?)
}

/// A CSV input with a header, every column read as text (IoCs, command lines and ids live in text,
/// and a number read as text loses nothing), `batch_rows` rows a batch: the schema and the reader.
pub fn text_csv<R: Read + Seek>(
    mut input: R,
    batch_rows: usize,
) -> Result<(SchemaRef, arrow_csv::reader::Reader<R>)> {
    let format = arrow_csv::reader::Format::default().with_header(true);
    let (inferred, _) = format
        .infer_schema(&mut input, Some(1))
        .context("reading the CSV header")?;
    input.rewind().context("rewinding the CSV input")?;
    let schema: SchemaRef = Arc::new(Schema::new(
        inferred
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let reader = arrow_csv::ReaderBuilder::new(schema.clone())
        .with_format(format)
        .with_batch_size(batch_rows)
        .build(input)
        .context("reading the CSV file")?;
    Ok((schema, reader))
}
