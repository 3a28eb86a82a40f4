//! JSON cells to Arrow: typed column builders, conversion bookkeeping and the batch emitter.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, DurationNanosecondBuilder, Float64Builder, Int64Builder, StringBuilder,
    TimestampNanosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde_json::Value;

use crate::http::truncate_chars;
use crate::{QueryEvent, RemoteError, ResultSink, Warning, WarningKind};

/// The Arrow type a remote column becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    /// `Timestamp(Nanosecond, "UTC")`: ISO-8601 text (any offset; no offset means UTC) or epoch
    /// milliseconds (Elasticsearch's number form of dates).
    Timestamp,
    /// `Duration(Nanosecond)`: .NET time spans `[-][d.]hh:mm:ss[.fffffff]` (KQL `timespan`).
    Duration,
    /// `Int64`: JSON integers or integer text.
    Int64,
    /// `Float64`: JSON numbers or number text (`NaN`, `Infinity` included).
    Float64,
    /// `Boolean`: JSON booleans, `true`/`false`/`1`/`0` text or 0/1 numbers.
    Boolean,
    /// `Utf8`: text; numbers and booleans as their JSON text; arrays and objects as JSON.
    Utf8,
    /// `Utf8` holding JSON: a string is kept as is (Log Analytics sends `dynamic` JSON-encoded),
    /// anything else is serialized.
    Json,
}

impl ColumnKind {
    /// The Arrow data type.
    pub fn data_type(self) -> DataType {
        match self {
            Self::Timestamp => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            Self::Duration => DataType::Duration(TimeUnit::Nanosecond),
            Self::Int64 => DataType::Int64,
            Self::Float64 => DataType::Float64,
            Self::Boolean => DataType::Boolean,
            Self::Utf8 | Self::Json => DataType::Utf8,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Timestamp => "timestamp",
            Self::Duration => "duration",
            Self::Int64 => "integer",
            Self::Float64 => "number",
            Self::Boolean => "boolean",
            Self::Utf8 => "text",
            Self::Json => "JSON",
        }
    }
}

/// One output column.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnSpec {
    /// Column name.
    pub name: String,
    /// Arrow type.
    pub kind: ColumnKind,
}

impl ColumnSpec {
    pub(crate) fn new(name: impl Into<String>, kind: ColumnKind) -> Self {
        Self {
            name: name.into(),
            kind,
        }
    }
}

enum ColBuilder {
    Ts(TimestampNanosecondBuilder),
    Dur(DurationNanosecondBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
    Str(StringBuilder),
}

#[derive(Default, Clone)]
struct Issue {
    count: u64,
    first_row: u64,
    example: String,
}

/// Builds record batches from JSON cells, column by column, and remembers values that could not
/// be read as their column's type (they become null and are reported once per column).
pub(crate) struct BatchBuilder {
    schema: SchemaRef,
    kinds: Vec<ColumnKind>,
    cols: Vec<ColBuilder>,
    rows: usize,
    rows_before: u64,
    issues: Vec<Issue>,
}

impl BatchBuilder {
    pub(crate) fn new(specs: &[ColumnSpec]) -> Self {
        let fields: Vec<Field> = specs
            .iter()
            .map(|s| Field::new(&s.name, s.kind.data_type(), true))
            .collect();
        let kinds: Vec<ColumnKind> = specs.iter().map(|s| s.kind).collect();
        let cols = kinds.iter().map(|k| new_builder(*k)).collect();
        Self {
            schema: Arc::new(Schema::new(fields)),
            issues: vec![Issue::default(); kinds.len()],
            kinds,
            cols,
            rows: 0,
            rows_before: 0,
        }
    }

    pub(crate) fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    pub(crate) fn width(&self) -> usize {
        self.kinds.len()
    }

    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Appends one row; `cell(i)` gives column i's value (None or JSON null = null).
    pub(crate) fn push_row<'v>(&mut self, mut cell: impl FnMut(usize) -> Option<&'v Value>) {
        let row = self.rows_before + self.rows as u64;
        for i in 0..self.kinds.len() {
            let v = cell(i);
            let ok = append(&mut self.cols[i], self.kinds[i], v);
            if !ok {
                let issue = &mut self.issues[i];
                if issue.count == 0 {
                    issue.first_row = row;
                    issue.example = v
                        .map(|v| truncate_chars(&v.to_string(), 60))
                        .unwrap_or_default();
                }
                issue.count += 1;
            }
        }
        self.rows += 1;
    }

    /// The rows so far as one batch; the builder starts the next batch empty.
    pub(crate) fn finish(&mut self) -> Result<RecordBatch, RemoteError> {
        let arrays: Vec<ArrayRef> = self
            .cols
            .iter_mut()
            .map(|c| match c {
                ColBuilder::Ts(b) => Arc::new(b.finish().with_timezone("UTC")) as ArrayRef,
                ColBuilder::Dur(b) => Arc::new(b.finish()) as ArrayRef,
                ColBuilder::Int(b) => Arc::new(b.finish()) as ArrayRef,
                ColBuilder::Float(b) => Arc::new(b.finish()) as ArrayRef,
                ColBuilder::Bool(b) => Arc::new(b.finish()) as ArrayRef,
                ColBuilder::Str(b) => Arc::new(b.finish()) as ArrayRef,
            })
            .collect();
        let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(self.rows));
        let batch = RecordBatch::try_new_with_options(self.schema.clone(), arrays, &options)
            .map_err(|e| RemoteError::Arrow(e.to_string()))?;
        self.rows_before += self.rows as u64;
        self.rows = 0;
        Ok(batch)
    }

    /// One warning per column that had unreadable values.
    pub(crate) fn conversion_warnings(&self) -> Vec<Warning> {
        self.issues
            .iter()
            .enumerate()
            .filter(|(_, i)| i.count > 0)
            .map(|(c, i)| Warning {
                kind: WarningKind::Conversion,
                message: format!(
                    "column `{}` ({}): {} value(s) could not be read and are null (first at row {}: {})",
                    self.schema.field(c).name(),
                    self.kinds[c].label(),
                    i.count,
                    i.first_row,
                    i.example
                ),
            })
            .collect()
    }
}

fn new_builder(kind: ColumnKind) -> ColBuilder {
    match kind {
        ColumnKind::Timestamp => ColBuilder::Ts(TimestampNanosecondBuilder::new()),
        ColumnKind::Duration => ColBuilder::Dur(DurationNanosecondBuilder::new()),
        ColumnKind::Int64 => ColBuilder::Int(Int64Builder::new()),
        ColumnKind::Float64 => ColBuilder::Float(Float64Builder::new()),
        ColumnKind::Boolean => ColBuilder::Bool(BooleanBuilder::new()),
        ColumnKind::Utf8 | ColumnKind::Json => ColBuilder::Str(StringBuilder::new()),
    }
}

/// Appends one cell; false when the value could not be read (a null is appended instead).
fn append(col: &mut ColBuilder, kind: ColumnKind, v: Option<&Value>) -> bool {
    let v = match v {
        None | Some(Value::Null) => {
            append_null(col);
            return true;
        }
        Some(v) => v,
    };
    let ok = match (col, kind) {
        (ColBuilder::Ts(b), _) => {
            let ns = match v {
                Value::String(s) => parse_time_ns(s),
                Value::Number(n) => {
                    n.as_i64()
                        .and_then(|ms| ms.checked_mul(1_000_000))
                        .or_else(|| {
                            let ns = n.as_f64()? * 1e6;
                            (ns.is_finite() && ns.abs() < 9.2e18).then_some(ns.round() as i64)
                        })
                }
                _ => None,
            };
            b.append_option(ns);
            ns.is_some()
        }
        (ColBuilder::Dur(b), _) => {
            let ns = v.as_str().and_then(parse_timespan_ns);
            b.append_option(ns);
            ns.is_some()
        }
        (ColBuilder::Int(b), _) => {
            let n = match v {
                Value::Number(n) => n.as_i64().or_else(|| {
                    let f = n.as_f64()?;
                    (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64)
                }),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            };
            b.append_option(n);
            n.is_some()
        }
        (ColBuilder::Float(b), _) => {
            let n = match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            b.append_option(n);
            n.is_some()
        }
        (ColBuilder::Bool(b), _) => {
            let x = match v {
                Value::Bool(x) => Some(*x),
                Value::Number(n) => match n.as_i64() {
                    Some(0) => Some(false),
                    Some(1) => Some(true),
                    _ => None,
                },
                Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" => Some(true),
                    "false" | "0" => Some(false),
                    _ => None,
                },
                _ => None,
            };
            b.append_option(x);
            x.is_some()
        }
        (ColBuilder::Str(b), ColumnKind::Json) => {
            match v {
                Value::String(s) => b.append_value(s),
                other => b.append_value(other.to_string()),
            }
            true
        }
        (ColBuilder::Str(b), _) => {
            match v {
                Value::String(s) => b.append_value(s),
                other => b.append_value(other.to_string()),
            }
            true
        }
    };
    ok
}

fn append_null(col: &mut ColBuilder) {
    match col {
        ColBuilder::Ts(b) => b.append_null(),
        ColBuilder::Dur(b) => b.append_null(),
        ColBuilder::Int(b) => b.append_null(),
        ColBuilder::Float(b) => b.append_null(),
        ColBuilder::Bool(b) => b.append_null(),
        ColBuilder::Str(b) => b.append_null(),
    }
}

/// ISO-8601 / RFC 3339 text to UTC nanoseconds: with an offset (`Z`, `+02:00`), without one
/// (taken as UTC; `T` or a space between date and time), or a bare date. None when unreadable or
/// outside the i64 nanosecond range (about 1677..2262).
pub fn parse_time_ns(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return t.timestamp_nanos_opt();
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return t.and_utc().timestamp_nanos_opt();
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_nanos_opt();
    }
    None
}

/// A .NET / KQL time span `[-][d.]hh:mm:ss[.fffffff]` to nanoseconds.
pub fn parse_timespan_ns(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (days, clock) = match s.split_once(':') {
        Some((head, _)) if head.contains('.') => {
            let (d, rest) = s.split_once('.')?;
            (d.parse::<i64>().ok()?, rest)
        }
        _ => (0, s),
    };
    let mut parts = clock.splitn(3, ':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let sec_part = parts.next()?;
    let (sec, frac) = match sec_part.split_once('.') {
        Some((s, f)) => (s, f),
        None => (sec_part, ""),
    };
    let sec: i64 = sec.parse().ok()?;
    if !(0..24).contains(&h) || !(0..60).contains(&m) || !(0..60).contains(&sec) {
        return None;
    }
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_ns: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse::<i64>().ok()? * 10i64.pow(9 - frac.len() as u32)
    };
    let total = days
        .checked_mul(86_400)?
        .checked_add(h * 3600 + m * 60 + sec)?
        .checked_mul(1_000_000_000)?
        .checked_add(frac_ns)?;
    Some(if neg { -total } else { total })
}

/// Feeds rows into batches of `batch_rows` and pushes them to the sink with progress events;
/// stops accepting rows at `max_rows`.
pub(crate) struct Emitter<'s> {
    sink: &'s mut dyn ResultSink,
    builder: BatchBuilder,
    batch_rows: usize,
    max_rows: u64,
    total: u64,
    truncated: bool,
}

impl<'s> Emitter<'s> {
    /// Announces the schema to the sink.
    pub(crate) fn new(
        sink: &'s mut dyn ResultSink,
        specs: &[ColumnSpec],
        batch_rows: usize,
        max_rows: u64,
    ) -> Result<Self, RemoteError> {
        let builder = BatchBuilder::new(specs);
        sink.schema(builder.schema()).map_err(RemoteError::Sink)?;
        let max_rows = max_rows.min(sink.max_rows().unwrap_or(u64::MAX));
        Ok(Self {
            sink,
            builder,
            batch_rows: batch_rows.max(1),
            max_rows,
            total: 0,
            truncated: false,
        })
    }

    pub(crate) fn sink(&mut self) -> &mut dyn ResultSink {
        &mut *self.sink
    }

    pub(crate) fn width(&self) -> usize {
        self.builder.width()
    }

    /// Appends a row; false when the row limit is reached (the row is not added).
    pub(crate) fn push_row<'v>(
        &mut self,
        cell: impl FnMut(usize) -> Option<&'v Value>,
    ) -> Result<bool, RemoteError> {
        if self.total + self.builder.rows() as u64 >= self.max_rows {
            self.truncated = true;
            return Ok(false);
        }
        self.builder.push_row(cell);
        if self.builder.rows() >= self.batch_rows {
            self.flush()?;
        }
        Ok(true)
    }

    /// True once a row was refused by the row limit.
    pub(crate) fn truncated(&self) -> bool {
        self.truncated
    }

    fn flush(&mut self) -> Result<(), RemoteError> {
        if self.builder.rows() == 0 {
            return Ok(());
        }
        let batch = self.builder.finish()?;
        self.total += batch.num_rows() as u64;
        self.sink.batch(batch).map_err(RemoteError::Sink)?;
        self.sink.event(QueryEvent::Progress { rows: self.total });
        Ok(())
    }

    /// Pushes the last rows and the conversion warnings; returns the row count.
    pub(crate) fn finish(mut self) -> Result<u64, RemoteError> {
        self.flush()?;
        if self.truncated {
            let max = self.max_rows;
            self.sink.event(QueryEvent::Warning(Warning {
                kind: WarningKind::PartialResult,
                message: format!(
                    "row limit of {max} reached: the result was cut there (narrow the query or raise max_rows)"
                ),
            }));
        }
        for w in self.builder.conversion_warnings() {
            self.sink.event(QueryEvent::Warning(w));
        }
        Ok(self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{DurationNanosecondType, Int64Type, TimestampNanosecondType};
    use arrow_array::Array;
    use serde_json::json;

    #[test]
    fn times_in_every_documented_form() {
        let base = parse_time_ns("2026-06-30T22:41:07Z").unwrap();
        assert_eq!(
            parse_time_ns("2026-06-30T22:41:07.1234567Z"),
            Some(base + 123_456_700)
        );
        assert_eq!(parse_time_ns("2026-06-30T23:41:07.000+01:00"), Some(base));
        assert_eq!(parse_time_ns("2026-06-30 22:41:07"), Some(base));
        assert_eq!(
            parse_time_ns("2026-06-30T22:41:07.5"),
            Some(base + 500_000_000)
        );
        assert_eq!(
            parse_time_ns("2026-06-30"),
            Some(base - (22 * 3600 + 41 * 60 + 7) * 1_000_000_000)
        );
        assert_eq!(parse_time_ns("0001-01-01T00:00:00Z"), None);
        assert_eq!(parse_time_ns("yesterday"), None);
    }

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan_ns("00:05:00"), Some(300_000_000_000));
        assert_eq!(
            parse_timespan_ns("1.02:03:04.5"),
            Some(((86_400 + 2 * 3600 + 3 * 60 + 4) * 1_000_000_000) + 500_000_000)
        );
        assert_eq!(parse_timespan_ns("-00:00:01"), Some(-1_000_000_000));
        assert_eq!(parse_timespan_ns("00:00:00.0000001"), Some(100));
        assert_eq!(parse_timespan_ns("25:00:00"), None);
        assert_eq!(parse_timespan_ns("abc"), None);
    }

    #[test]
    fn cells_convert_and_bad_values_are_counted() {
        let specs = [
            ColumnSpec::new("t", ColumnKind::Timestamp),
            ColumnSpec::new("n", ColumnKind::Int64),
            ColumnSpec::new("d", ColumnKind::Json),
            ColumnSpec::new("s", ColumnKind::Utf8),
            ColumnSpec::new("span", ColumnKind::Duration),
        ];
        let mut b = BatchBuilder::new(&specs);
        let rows = [
            json!([
                "2026-06-30T22:41:07Z",
                42,
                "{\"a\":1}",
                ["x", "y"],
                "00:00:01"
            ]),
            json!([1782814272345i64, "17", {"b": 2}, 5, null]),
            json!(["junk", "x", null, true, "nope"]),
        ];
        for r in &rows {
            b.push_row(|i| r.get(i));
        }
        let batch = b.finish().unwrap();
        assert_eq!(batch.num_rows(), 3);
        let t = batch.column(0).as_primitive::<TimestampNanosecondType>();
        assert_eq!(t.value(1), 1_782_814_272_345_000_000);
        assert!(t.is_null(2));
        let n = batch.column(1).as_primitive::<Int64Type>();
        assert_eq!((n.value(0), n.value(1), n.is_null(2)), (42, 17, true));
        let d = batch.column(2).as_string::<i32>();
        assert_eq!((d.value(0), d.value(1)), ("{\"a\":1}", "{\"b\":2}"));
        let s = batch.column(3).as_string::<i32>();
        assert_eq!(
            (s.value(0), s.value(1), s.value(2)),
            ("[\"x\",\"y\"]", "5", "true")
        );
        let span = batch.column(4).as_primitive::<DurationNanosecondType>();
        assert_eq!(span.value(0), 1_000_000_000);
        let w = b.conversion_warnings();
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].message.contains("column `t`") && w[0].message.contains("row 2"));
    }
}
