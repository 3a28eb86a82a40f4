//! Time-series anomalies over Arrow tables: series per key, binning of irregular timestamps,
//! period detection, STL and scoring (see [`crate::timeseries`]).
//!
//! Rows are grouped by the `group_by` columns (one series per distinct key, keys in sorted
//! order), each series is sorted by time (the reference decomposes in the order given, which is
//! only right for sorted input), optionally binned to a fixed interval (values summed per bin,
//! or rows counted when no value column is named; empty bins are 0), decomposed and scored.
//!
//! Output columns: the `group_by` columns (utf8), `<time_column>` (timestamp ns UTC, the bin
//! start when binned), `<data_column>` (`Count` when counting), `residual`, `trend`,
//! `seasonal`, `weights`, `baseline` (int64 as the reference, float64 with `integer: false`),
//! `score` (float64), `anomalies` (int64: -1, 0, 1), and `period` (int64) when the period was
//! detected from the data.

use std::sync::Arc;

use arrow_array::types::TimestampNanosecondType;
use arrow_array::PrimitiveArray;
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use hg_arrow::Table;

use crate::timeseries::{
    detect_period, score_anomalies, stl, ScoreOptions, StlParams, TimeseriesError, MAX_POINTS,
};

/// Name of the value column when rows are counted per bin.
pub const COUNT_COLUMN: &str = "Count";

/// What to decompose and how.
#[derive(Debug, Clone)]
pub struct AnomalyRequest {
    /// The time column; `None`: the first timestamp or date column.
    pub time_column: Option<String>,
    /// The value column; `None`: the first numeric column that is neither time nor key (or the
    /// row count per bin when `interval_ns` is set and there is none).
    pub data_column: Option<String>,
    /// One series per distinct combination of these columns.
    pub group_by: Vec<String>,
    /// STL options; `period` 0 means "detect it from the data".
    pub stl: StlParams,
    /// Scoring options.
    pub score: ScoreOptions,
    /// Bin times to this interval (ns) before decomposing.
    pub interval_ns: Option<i64>,
    /// Count rows per bin instead of summing a value column.
    pub count: bool,
    /// Write the time column as float64 milliseconds since the epoch (what browser code reads)
    /// instead of a timestamp.
    pub epoch_ms: bool,
}

impl AnomalyRequest {
    /// The reference's defaults: seasonal 7, period 24, threshold 3, integer output, no keys.
    pub fn new() -> AnomalyRequest {
        AnomalyRequest {
            time_column: None,
            data_column: None,
            group_by: Vec::new(),
            stl: StlParams::new(24, 7),
            score: ScoreOptions::default(),
            interval_ns: None,
            count: false,
            epoch_ms: false,
        }
    }
}

impl Default for AnomalyRequest {
    fn default() -> Self {
        AnomalyRequest::new()
    }
}

fn is_time(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64
    )
}

fn is_number(dt: &DataType) -> bool {
    dt.is_integer() || dt.is_floating()
}

/// The labels of one key (one per `group_by` column).
pub(crate) type KeyLabels = Vec<String>;

/// Row codes of the distinct keys of `columns` (sorted by the first column, then the next, ...)
/// and each key's labels.
pub(crate) fn group_rows(
    table: &Table,
    columns: &[String],
) -> Result<(Vec<KeyLabels>, Vec<Vec<usize>>), TimeseriesError> {
    let n = table.num_rows();
    if columns.is_empty() {
        return Ok((vec![Vec::new()], vec![(0..n).collect()]));
    }
    let cats = columns
        .iter()
        .map(|c| table.categorize(c))
        .collect::<Result<Vec<_>, _>>()?;
    let mut keyed: Vec<(Vec<u32>, usize)> = (0..n)
        .map(|row| (cats.iter().map(|c| c.codes[row]).collect(), row))
        .collect();
    keyed.sort();
    let mut labels = Vec::new();
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut current: Option<&Vec<u32>> = None;
    for (key, row) in &keyed {
        if current != Some(key) {
            labels.push(
                key.iter()
                    .zip(&cats)
                    .map(|(code, c)| c.labels[*code as usize].clone())
                    .collect(),
            );
            rows.push(Vec::new());
            current = Some(key);
        }
        if let Some(last) = rows.last_mut() {
            last.push(*row);
        }
    }
    Ok((labels, rows))
}

fn describe_key(group_by: &[String], labels: &[String]) -> String {
    if group_by.is_empty() {
        "the series".to_string()
    } else {
        let parts: Vec<String> = group_by
            .iter()
            .zip(labels)
            .map(|(c, v)| format!("{c}={v}"))
            .collect();
        format!("series {}", parts.join(", "))
    }
}

/// Resolves the time column name (given or the first time-typed column).
pub(crate) fn resolve_time_column(
    table: &Table,
    given: Option<&str>,
) -> Result<String, TimeseriesError> {
    if let Some(name) = given {
        table.data_type(name)?;
        return Ok(name.to_string());
    }
    table
        .schema()
        .fields()
        .iter()
        .find(|f| is_time(f.data_type()))
        .map(|f| f.name().clone())
        .ok_or_else(|| TimeseriesError::InvalidOption {
            name: "time_column",
            detail: format!(
                "not given and no timestamp column found; columns: {}",
                table.column_names().join(", ")
            ),
        })
}

/// Decomposes and scores every series of `table`.
pub fn anomalies_table(
    table: &Table,
    req: &AnomalyRequest,
) -> Result<RecordBatch, TimeseriesError> {
    let time_name = resolve_time_column(table, req.time_column.as_deref())?;
    let counting = req.count;
    if counting && req.interval_ns.is_none() {
        return Err(TimeseriesError::InvalidOption {
            name: "count",
            detail: "counting rows needs an interval to bin them".into(),
        });
    }
    let data_name = if counting {
        COUNT_COLUMN.to_string()
    } else if let Some(name) = &req.data_column {
        table.numbers_f64(name)?;
        name.clone()
    } else {
        table
            .schema()
            .fields()
            .iter()
            .find(|f| {
                is_number(f.data_type())
                    && *f.name() != time_name
                    && !req.group_by.contains(f.name())
            })
            .map(|f| f.name().clone())
            .ok_or_else(|| TimeseriesError::InvalidOption {
                name: "data_column",
                detail: format!(
                    "not given and no numeric column found; columns: {}",
                    table.column_names().join(", ")
                ),
            })?
    };
    if let Some(i) = req.interval_ns {
        if i <= 0 {
            return Err(TimeseriesError::InvalidOption {
                name: "interval",
                detail: format!("must be positive, got {i} ns"),
            });
        }
    }
    let times = table.times_ns(&time_name)?;
    let values = if counting {
        vec![1.0; table.num_rows()]
    } else {
        table.numbers_f64(&data_name)?
    };
    if let Some(row) = (0..times.len()).find(|&r| !times.is_valid(r)) {
        return Err(TimeseriesError::InvalidSeries(format!(
            "column '{time_name}' is null at row {row}"
        )));
    }
    let (labels, groups) = group_rows(table, &req.group_by)?;
    let detect = req.stl.period == 0;

    let mut out = Output::new(req.group_by.len());
    for (key, rows) in labels.iter().zip(&groups) {
        let mut points: Vec<(i64, f64, usize)> = rows
            .iter()
            .map(|&r| (times.values()[r], values[r], r))
            .collect();
        points.sort_by_key(|p| (p.0, p.2));
        if let Some((t, _, row)) = points.iter().find(|p| !p.1.is_finite()) {
            return Err(TimeseriesError::InvalidSeries(format!(
                "{}: column '{data_name}' has no finite value at row {row} ({})",
                describe_key(&req.group_by, key),
                hg_arrow::time::format_timestamp_ms(*t)
            )));
        }
        let (t, y) = match req.interval_ns {
            Some(interval) => bin(&points, interval)?,
            None => (
                points.iter().map(|p| p.0).collect(),
                points.iter().map(|p| p.1).collect::<Vec<f64>>(),
            ),
        };
        let mut params = req.stl.clone();
        if detect {
            params.period = detect_period(&y, y.len() / 2).ok_or_else(|| {
                TimeseriesError::InvalidSeries(format!(
                    "{}: no seasonal period found in its {} points; give the period",
                    describe_key(&req.group_by, key),
                    y.len()
                ))
            })?;
        }
        let fit = stl(&y, &params).map_err(|e| match e {
            TimeseriesError::InvalidSeries(m) => {
                TimeseriesError::InvalidSeries(format!("{}: {m}", describe_key(&req.group_by, key)))
            }
            other => other,
        })?;
        let scored = score_anomalies(&y, fit, &req.score);
        out.push(key, &t, scored, detect.then_some(params.period));
    }
    out.finish(
        &req.group_by,
        &time_name,
        &data_name,
        req.score.integer,
        detect,
        req.epoch_ms,
    )
}

/// Sums values per interval bin (bin start = time rounded down to a multiple of the interval),
/// filling empty bins between the first and the last with 0.
fn bin(
    points: &[(i64, f64, usize)],
    interval: i64,
) -> Result<(Vec<i64>, Vec<f64>), TimeseriesError> {
    let Some(first) = points.first() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let start = first.0.div_euclid(interval);
    let end = points[points.len() - 1].0.div_euclid(interval);
    let bins = (end - start) as u128 + 1;
    if bins > MAX_POINTS as u128 {
        return Err(TimeseriesError::TooLarge(format!(
            "{bins} bins of {interval} ns (at most {MAX_POINTS}); use a longer interval"
        )));
    }
    let bins = bins as usize;
    let mut y = vec![0.0; bins];
    for p in points {
        y[(p.0.div_euclid(interval) - start) as usize] += p.1;
    }
    let t = (0..bins as i64).map(|i| (start + i) * interval).collect();
    Ok((t, y))
}

struct Output {
    keys: Vec<Vec<String>>,
    time: Vec<i64>,
    observed: Vec<f64>,
    residual: Vec<f64>,
    trend: Vec<f64>,
    seasonal: Vec<f64>,
    weights: Vec<f64>,
    baseline: Vec<f64>,
    score: Vec<f64>,
    anomalies: Vec<i64>,
    period: Vec<i64>,
}

impl Output {
    fn new(key_columns: usize) -> Output {
        Output {
            keys: vec![Vec::new(); key_columns],
            time: Vec::new(),
            observed: Vec::new(),
            residual: Vec::new(),
            trend: Vec::new(),
            seasonal: Vec::new(),
            weights: Vec::new(),
            baseline: Vec::new(),
            score: Vec::new(),
            anomalies: Vec::new(),
            period: Vec::new(),
        }
    }

    fn push(
        &mut self,
        key: &[String],
        time: &[i64],
        a: crate::timeseries::Anomalies,
        period: Option<usize>,
    ) {
        let n = time.len();
        for (column, label) in self.keys.iter_mut().zip(key) {
            column.extend(std::iter::repeat_n(label.clone(), n));
        }
        self.time.extend_from_slice(time);
        self.observed.extend(a.observed);
        self.residual.extend(a.residual);
        self.trend.extend(a.trend);
        self.seasonal.extend(a.seasonal);
        self.weights.extend(a.weights);
        self.baseline.extend(a.baseline);
        self.score.extend(a.score);
        self.anomalies.extend(a.anomalies);
        if let Some(p) = period {
            self.period.extend(std::iter::repeat_n(p as i64, n));
        }
    }

    fn finish(
        self,
        group_by: &[String],
        time_name: &str,
        data_name: &str,
        integer: bool,
        with_period: bool,
        epoch_ms: bool,
    ) -> Result<RecordBatch, TimeseriesError> {
        let mut fields = Vec::new();
        let mut arrays: Vec<ArrayRef> = Vec::new();
        for (name, values) in group_by.iter().zip(self.keys) {
            fields.push(Field::new(name, DataType::Utf8, false));
            arrays.push(Arc::new(StringArray::from(values)));
        }
        if epoch_ms {
            fields.push(Field::new(time_name, DataType::Float64, false));
            arrays.push(Arc::new(Float64Array::from_iter_values(
                self.time.iter().map(|t| *t as f64 / 1e6),
            )));
        } else {
            fields.push(Field::new(
                time_name,
                DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                false,
            ));
            arrays.push(Arc::new(
                PrimitiveArray::<TimestampNanosecondType>::from(self.time).with_timezone("UTC"),
            ));
        }
        let number =
            |name: &str, v: Vec<f64>, fields: &mut Vec<Field>, arrays: &mut Vec<ArrayRef>| {
                if integer {
                    fields.push(Field::new(name, DataType::Int64, false));
                    arrays.push(Arc::new(Int64Array::from_iter_values(
                        v.into_iter().map(|x| x as i64),
                    )));
                } else {
                    fields.push(Field::new(name, DataType::Float64, false));
                    arrays.push(Arc::new(Float64Array::from(v)));
                }
            };
        number(data_name, self.observed, &mut fields, &mut arrays);
        number("residual", self.residual, &mut fields, &mut arrays);
        number("trend", self.trend, &mut fields, &mut arrays);
        number("seasonal", self.seasonal, &mut fields, &mut arrays);
        number("weights", self.weights, &mut fields, &mut arrays);
        number("baseline", self.baseline, &mut fields, &mut arrays);
        fields.push(Field::new("score", DataType::Float64, false));
        arrays.push(Arc::new(Float64Array::from(self.score)));
        fields.push(Field::new("anomalies", DataType::Int64, false));
        arrays.push(Arc::new(Int64Array::from(self.anomalies)));
        if with_period {
            fields.push(Field::new("period", DataType::Int64, false));
            arrays.push(Arc::new(Int64Array::from(self.period)));
        }
        Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
    }
}
