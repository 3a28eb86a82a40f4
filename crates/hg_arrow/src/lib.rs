//! Arrow IPC in and out, and typed column access shared by every huntglass engine.
//!
//! # Design
//!
//! Every engine receives its data as one Arrow IPC **stream** (what pyarrow's `ipc.new_stream`
//! writes). [`read_ipc_stream`] decodes it into a [`Table`]: the schema plus all record batches.
//! Engines then ask for columns by name through typed accessors that implement the column rules
//! of `docs/CONTRACT.md`, so that every engine accepts the same physical types:
//!
//! - [`Table::strings`]: Utf8, LargeUtf8, Utf8View and Dictionary (any integer key) of those;
//! - [`Table::times_ns`]: Timestamp of any unit, with or without zone (values are UTC), Date32,
//!   Date64, as i64 UTC nanoseconds with explicit nulls;
//! - [`Table::numbers_f64`]: every integer and float type as f64 (null becomes NaN);
//! - [`Table::categorize`]: sorted distinct labels plus a per-row code (nulls last, `(missing)`);
//! - [`Table::display`]: the tooltip text of any cell.
//!
//! A missing column is [`HgArrowError::MissingColumn`] and names the columns that exist; a column
//! of another type is [`HgArrowError::WrongType`] and names what was expected and found.
//!
//! Times are handled with the small civil-calendar module [`time`] (no time-zone database):
//! Arrow timestamps with a zone already store UTC instants, so no conversion is needed.
//!
//! # Input safety
//!
//! The bytes come from a browser page or a notebook and may be truncated, corrupted or hostile.
//!
//! - Bad IPC (garbage, truncation, invalid flatbuffers, offsets or dictionary keys out of range)
//!   is an [`HgArrowError::Ipc`] error: arrow-rs verifies the flatbuffer metadata and validates
//!   every array it builds (validation is never skipped here), and a pre-flight walk rejects
//!   what arrow-rs 60 would panic on instead: buffers outside their message body, buffer
//!   lengths that are not whole numbers of the column type's values, and batches whose buffer
//!   count disagrees with the schema (a corrupted variadic count). The corruption test
//!   (`tests/bad_input.rs`; `HG_ARROW_FUZZ_ROUNDS=30000` for a long run, which passes) found
//!   each of these. Residual: an LZ4 buffer whose real decompressed size differs from its
//!   declared size is not checked before arrow-rs decompresses it (Python sends uncompressed
//!   streams).
//! - Before decoding, [`read_ipc_stream`] walks the message framing and rejects compressed
//!   buffers whose declared decompressed size is impossible (more than
//!   [`MAX_COMPRESSION_RATIO`] times the compressed bytes) or whose declared total passes
//!   [`ReadLimits::max_decoded_bytes`], so a few bytes cannot make the decoder allocate gigabytes.
//! - The table size is bounded by [`ReadLimits`] (rows, columns, decoded bytes); a huge
//!   dictionary is bounded by the same byte limit since its values are part of the body.
//! - Times that do not fit in i64 nanoseconds (outside about 1677..2262) are an
//!   [`HgArrowError::OutOfRange`] error naming the column and the row, not a wrapped value.
//! - Categorizing is linear in the rows and hashes each distinct value once; the number of
//!   categories is bounded by the number of rows (callers that draw one lane per category cap
//!   it themselves).

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, SchemaRef};

mod columns;
mod display;
mod preflight;
pub mod time;

pub use columns::{Categories, StringColumn, TimeColumn, MISSING_LABEL};
pub use display::display_value;
pub use preflight::MAX_COMPRESSION_RATIO;

/// Errors raised while reading, writing or accessing Arrow data.
#[derive(Debug, thiserror::Error)]
pub enum HgArrowError {
    /// The bytes are not a valid Arrow IPC stream, or could not be written as one.
    #[error("Arrow IPC error: {0}")]
    Ipc(String),
    /// A column that was asked for does not exist.
    #[error(
        "column '{name}' not found; available columns: {}",
        list_or_none(available)
    )]
    MissingColumn {
        /// The column asked for.
        name: String,
        /// The columns that exist, in schema order.
        available: Vec<String>,
    },
    /// A column exists but its Arrow type cannot be used as asked.
    #[error("column '{name}' has type {found}, expected {expected}")]
    WrongType {
        /// The column.
        name: String,
        /// What the caller needed (for example "a string column").
        expected: String,
        /// The Arrow type found.
        found: String,
    },
    /// A value cannot be represented (for example a timestamp outside the i64 nanosecond range).
    #[error("column '{name}' row {row}: {detail}")]
    OutOfRange {
        /// The column.
        name: String,
        /// 0-based row within the table.
        row: usize,
        /// What is wrong with the value.
        detail: String,
    },
    /// The input is larger than the configured limits.
    #[error("input too large: {0}")]
    TooLarge(String),
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "(none)".to_string()
    } else {
        names.join(", ")
    }
}

/// Size limits applied while reading an IPC stream.
#[derive(Debug, Clone, Copy)]
pub struct ReadLimits {
    /// Most rows accepted across all batches.
    pub max_rows: usize,
    /// Most columns accepted.
    pub max_columns: usize,
    /// Most bytes the decoded buffers may declare (compressed buffers count at their declared
    /// decompressed size).
    pub max_decoded_bytes: u64,
}

impl Default for ReadLimits {
    /// 50 million rows, 10,000 columns and 3 GiB of decoded buffers (wasm32 memory is 4 GiB).
    fn default() -> Self {
        ReadLimits {
            max_rows: 50_000_000,
            max_columns: 10_000,
            max_decoded_bytes: 3 << 30,
        }
    }
}

/// A decoded table: one schema and its record batches (possibly none).
#[derive(Debug, Clone)]
pub struct Table {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    num_rows: usize,
}

/// Reads one Arrow IPC stream with the default [`ReadLimits`].
pub fn read_ipc_stream(bytes: &[u8]) -> Result<Table, HgArrowError> {
    read_ipc_stream_with_limits(bytes, ReadLimits::default())
}

/// Reads one Arrow IPC stream; zero batches give an empty table with the stream's schema.
pub fn read_ipc_stream_with_limits(
    bytes: &[u8],
    limits: ReadLimits,
) -> Result<Table, HgArrowError> {
    preflight::check_stream(bytes, limits.max_decoded_bytes)?;
    let reader = arrow_ipc::reader::StreamReader::try_new(bytes, None)
        .map_err(|e| HgArrowError::Ipc(e.to_string()))?;
    let schema = reader.schema();
    if schema.fields().len() > limits.max_columns {
        return Err(HgArrowError::TooLarge(format!(
            "{} columns (at most {})",
            schema.fields().len(),
            limits.max_columns
        )));
    }
    let mut batches = Vec::new();
    let mut num_rows = 0usize;
    for batch in reader {
        let batch = batch.map_err(|e| HgArrowError::Ipc(e.to_string()))?;
        num_rows = num_rows.saturating_add(batch.num_rows());
        if num_rows > limits.max_rows {
            return Err(HgArrowError::TooLarge(format!(
                "more than {} rows",
                limits.max_rows
            )));
        }
        if batch.num_rows() > 0 {
            batches.push(batch);
        }
    }
    Ok(Table {
        schema,
        batches,
        num_rows,
    })
}

impl Table {
    /// Builds a table from batches that share `schema` (used by engines that produce results).
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<Table, HgArrowError> {
        for b in &batches {
            if b.schema().fields() != schema.fields() {
                return Err(HgArrowError::Ipc(
                    "record batch schema differs from the table schema".into(),
                ));
            }
        }
        let num_rows = batches.iter().map(|b| b.num_rows()).sum();
        Ok(Table {
            schema,
            batches,
            num_rows,
        })
    }

    /// The schema.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The record batches (empty batches are dropped).
    pub fn batches(&self) -> &[RecordBatch] {
        &self.batches
    }

    /// Total rows over all batches.
    pub fn num_rows(&self) -> usize {
        self.num_rows
    }

    /// Column names in schema order.
    pub fn column_names(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    /// Whether a column of that name exists.
    pub fn has_column(&self, name: &str) -> bool {
        self.schema.index_of(name).is_ok()
    }

    fn index_of(&self, name: &str) -> Result<usize, HgArrowError> {
        self.schema
            .index_of(name)
            .map_err(|_| HgArrowError::MissingColumn {
                name: name.to_string(),
                available: self.column_names(),
            })
    }

    /// The Arrow type of a column.
    pub fn data_type(&self, name: &str) -> Result<&DataType, HgArrowError> {
        let i = self.index_of(name)?;
        Ok(self.schema.field(i).data_type())
    }

    /// One array holding the whole column: the single batch's array (no copy) or the
    /// concatenation of all batches; an empty array for an empty table.
    pub fn column(&self, name: &str) -> Result<ArrayRef, HgArrowError> {
        let i = self.index_of(name)?;
        match self.batches.len() {
            0 => Ok(arrow_array::new_empty_array(
                self.schema.field(i).data_type(),
            )),
            1 => Ok(Arc::clone(self.batches[0].column(i))),
            _ => {
                let parts: Vec<&dyn Array> =
                    self.batches.iter().map(|b| b.column(i).as_ref()).collect();
                arrow_select::concat::concat(&parts).map_err(|e| HgArrowError::Ipc(e.to_string()))
            }
        }
    }

    /// A string accessor over a Utf8, LargeUtf8, Utf8View or dictionary-of-strings column.
    pub fn strings(&self, name: &str) -> Result<StringColumn, HgArrowError> {
        StringColumn::new(name, self.column(name)?)
    }

    /// A time column as i64 UTC nanoseconds (Timestamp of any unit and zone, Date32, Date64).
    pub fn times_ns(&self, name: &str) -> Result<TimeColumn, HgArrowError> {
        TimeColumn::new(name, self.column(name)?.as_ref())
    }

    /// A numeric column (any integer or float type) as f64, nulls as NaN.
    pub fn numbers_f64(&self, name: &str) -> Result<Vec<f64>, HgArrowError> {
        columns::numbers_f64(name, self.column(name)?.as_ref())
    }

    /// Sorted distinct values of a column and each row's index into them (nulls last, labelled
    /// [`MISSING_LABEL`]). Strings sort by bytes, numbers and times by value, booleans false first.
    pub fn categorize(&self, name: &str) -> Result<Categories, HgArrowError> {
        columns::categorize(name, self.column(name)?)
    }

    /// The display text of one cell (see [`display_value`]); `row` beyond the end is an error.
    pub fn display(&self, name: &str, row: usize) -> Result<String, HgArrowError> {
        let i = self.index_of(name)?;
        if row >= self.num_rows {
            return Err(HgArrowError::OutOfRange {
                name: name.to_string(),
                row,
                detail: format!("row out of range (table has {} rows)", self.num_rows),
            });
        }
        let mut rest = row;
        for b in &self.batches {
            if rest < b.num_rows() {
                return Ok(display_value(b.column(i).as_ref(), rest));
            }
            rest -= b.num_rows();
        }
        unreachable_row(name, row)
    }
}

fn unreachable_row(name: &str, row: usize) -> Result<String, HgArrowError> {
    Err(HgArrowError::OutOfRange {
        name: name.to_string(),
        row,
        detail: "row not found".into(),
    })
}

/// Writes record batches as one Arrow IPC stream (the format pyarrow's `ipc.new_stream` writes).
pub fn write_ipc_stream(
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<Vec<u8>, HgArrowError> {
    let mut out = Vec::new();
    {
        let mut writer = arrow_ipc::writer::StreamWriter::try_new(&mut out, schema)
            .map_err(|e| HgArrowError::Ipc(e.to_string()))?;
        for batch in batches {
            writer
                .write(batch)
                .map_err(|e| HgArrowError::Ipc(e.to_string()))?;
        }
        writer
            .finish()
            .map_err(|e| HgArrowError::Ipc(e.to_string()))?;
    }
    Ok(out)
}
