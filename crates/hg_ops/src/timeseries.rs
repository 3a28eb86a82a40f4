//! The time-series operations over Arrow: `timeseries.stl` and `timeseries.periodic`
//! (engine: `hg_analytics::timeseries`, `hg_analytics::periodic`).
//!
//! # `timeseries.stl`
//!
//! Input: a time column and a numeric column (optionally key columns). Output (the reference's
//! `ts_anomalies_stl` columns): `<group_by columns>`, `<time_column>`, `<data_column>`,
//! `residual`, `trend`, `seasonal`, `weights`, `baseline` (int64, or float64 with
//! `integer_output: false`), `score` (float64), `anomalies` (int64 -1/0/1), plus `period` when
//! it was detected (`period: 0`). Options use the reference's keyword names (`seasonal`,
//! `period`, `score_threshold`, `time_column`, `data_column`); the rest are ours.
//!
//! # `timeseries.periodic`
//!
//! Input: events with a time column and the key columns (e.g. source and destination). Output:
//! one row per key: `<group_by columns>`, `events`, `first`, `last`, `p_value`,
//! `dominant_frequency`, `dominant_interval` (seconds), `strength`; ranked, most periodic first.
//! With `output: "events"`: the events of the `top` ranked keys for their timelines, one row per
//! event: `rank`, `<group_by columns>`, `row` (input row), `t_ms`, and the key's `events`,
//! `p_value`, `dominant_interval`, `strength` (what the periodic connections widget draws).

use hg_analytics::periodic::{
    periodic_events_table, periodic_table, PeriodicOptions, DEFAULT_MAX_GRID,
};
use hg_analytics::timeseries::{Detection, ScoreOptions, StlParams, TimeseriesError};
use hg_analytics::timeseries_table::{anomalies_table, AnomalyRequest};
use serde::Deserialize;

use crate::{parse_options, read_input, write_batch, OpError, OpInfo, Operation, OptionInfo};

fn engine_error(op: &str, e: TimeseriesError) -> OpError {
    match e {
        TimeseriesError::Arrow(source) => OpError::input(op, source),
        other => OpError::engine(op, other),
    }
}

/// Parses an interval: a number of seconds, or text `<number><unit>` with unit `ms`, `s`,
/// `min`/`m`, `h`, `d` (`"1h"`, `"15min"`, `"300s"`). Returns nanoseconds.
pub fn parse_interval(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not <number><unit> (units ms, s, min, h, d)"))?;
    let unit_ns = match unit.trim() {
        "ms" => 1e6,
        "" | "s" | "sec" => 1e9,
        "m" | "min" | "T" => 60e9,
        "h" | "H" => 3600e9,
        "d" | "D" => 86400e9,
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{text}' (ms, s, min, h, d)"
            ))
        }
    };
    let ns = value * unit_ns;
    if !(1.0..=365.0 * 86400e9 * 100.0).contains(&ns) {
        return Err(format!("'{text}' is not a usable interval"));
    }
    Ok(ns.round() as i64)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum IntervalValue {
    Seconds(f64),
    Text(String),
}

static STL_INFO: OpInfo = OpInfo {
    name: "timeseries.stl",
    description: "STL decomposition of a time series (or one per key) with residual z-score anomalies, as the reference's ts_anomalies_stl.",
    input: "a time column and a numeric column (optionally key columns)",
    output: "<group_by>, <time_column>, <data_column>, residual, trend, seasonal, weights, baseline: int64 (float64 without integer_output), score: float64, anomalies: int64 (-1, 0, 1), period: int64 when detected",
    options: &[
        OptionInfo { name: "time_column", type_name: "string", required: false, default: "null", description: "The time column (default: the first timestamp column)." },
        OptionInfo { name: "data_column", type_name: "string", required: false, default: "null", description: "The value column (default: the first numeric column that is not a key)." },
        OptionInfo { name: "seasonal", type_name: "integer", required: false, default: "7", description: "Length of the seasonal smoother (odd, at least 3)." },
        OptionInfo { name: "period", type_name: "integer", required: false, default: "24", description: "Points per seasonal cycle; 0 detects it from each series (autocorrelation)." },
        OptionInfo { name: "score_threshold", type_name: "number", required: false, default: "3.0", description: "Points whose residual z-score passes this are flagged." },
        OptionInfo { name: "two_sided", type_name: "boolean", required: false, default: "false", description: "Flag dips too: 1 above the threshold, -1 below its negative (the reference flags only spikes, signed by the seasonal component)." },
        OptionInfo { name: "robust", type_name: "boolean", required: false, default: "false", description: "Robust STL (outer loop of robustness weights; resists outliers)." },
        OptionInfo { name: "group_by", type_name: "list of strings", required: false, default: "[]", description: "One series per distinct value of these columns (e.g. one per host)." },
        OptionInfo { name: "interval", type_name: "string or number", required: false, default: "null", description: "Bin times to this interval before decomposing (\"1h\", \"15min\", or seconds); values are summed per bin, empty bins are 0." },
        OptionInfo { name: "count", type_name: "boolean", required: false, default: "false", description: "Count rows per interval bin instead of summing a value column (output column Count)." },
        OptionInfo { name: "epoch_ms", type_name: "boolean", required: false, default: "false", description: "Write the time column as float64 milliseconds since the epoch (for browser code) instead of a timestamp." },
        OptionInfo { name: "integer_output", type_name: "boolean", required: false, default: "true", description: "Truncate the components to int64 before scoring, as the reference; false keeps float64." },
        OptionInfo { name: "trend", type_name: "integer", required: false, default: "null", description: "Trend smoother length (odd; default from the period and seasonal)." },
        OptionInfo { name: "low_pass", type_name: "integer", required: false, default: "null", description: "Low-pass smoother length (odd; default the smallest odd integer above the period)." },
    ],
};

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct StlOptions {
    time_column: Option<String>,
    data_column: Option<String>,
    seasonal: usize,
    period: usize,
    score_threshold: f64,
    two_sided: bool,
    robust: bool,
    group_by: Vec<String>,
    interval: Option<IntervalValue>,
    count: bool,
    epoch_ms: bool,
    integer_output: bool,
    trend: Option<usize>,
    low_pass: Option<usize>,
}

impl Default for StlOptions {
    fn default() -> Self {
        StlOptions {
            time_column: None,
            data_column: None,
            seasonal: 7,
            period: 24,
            score_threshold: 3.0,
            two_sided: false,
            robust: false,
            group_by: Vec::new(),
            interval: None,
            count: false,
            epoch_ms: false,
            integer_output: true,
            trend: None,
            low_pass: None,
        }
    }
}

/// `timeseries.stl`.
pub struct StlOp;

impl Operation for StlOp {
    fn info(&self) -> &'static OpInfo {
        &STL_INFO
    }

    fn run(&self, options: &[u8], input: &[u8]) -> Result<Vec<u8>, OpError> {
        let op = STL_INFO.name;
        let o: StlOptions = parse_options(&STL_INFO, options)?;
        if !o.score_threshold.is_finite() {
            return Err(OpError::BadOption {
                op: op.into(),
                key: "score_threshold".into(),
                message: "must be a finite number".into(),
            });
        }
        let interval_ns = match o.interval {
            None => None,
            Some(IntervalValue::Seconds(s)) => {
                if !(s.is_finite() && s > 0.0 && s < 3.2e9) {
                    return Err(OpError::BadOption {
                        op: op.into(),
                        key: "interval".into(),
                        message: format!("{s} seconds is not a usable interval"),
                    });
                }
                Some((s * 1e9).round() as i64)
            }
            Some(IntervalValue::Text(t)) => {
                Some(parse_interval(&t).map_err(|message| OpError::BadOption {
                    op: op.into(),
                    key: "interval".into(),
                    message,
                })?)
            }
        };
        let mut stl = StlParams::new(o.period, o.seasonal);
        stl.robust = o.robust;
        stl.trend = o.trend;
        stl.low_pass = o.low_pass;
        if o.period != 0 {
            stl.validate().map_err(|e| engine_error(op, e))?;
        }
        let request = AnomalyRequest {
            time_column: o.time_column,
            data_column: o.data_column,
            group_by: o.group_by,
            stl,
            score: ScoreOptions {
                score_threshold: o.score_threshold,
                detection: if o.two_sided {
                    Detection::TwoSided
                } else {
                    Detection::Reference
                },
                integer: o.integer_output,
            },
            interval_ns,
            count: o.count,
            epoch_ms: o.epoch_ms,
        };
        let table = read_input(op, input)?;
        let out = anomalies_table(&table, &request).map_err(|e| engine_error(op, e))?;
        write_batch(op, &out)
    }
}

static PERIODIC_INFO: OpInfo = OpInfo {
    name: "timeseries.periodic",
    description: "Periodic traffic (polling, beaconing) per key with the periodogram and Fisher's g test, as the reference's PeriodogramPollingDetector.",
    input: "events with a time column and the key columns (e.g. source and destination)",
    output: "<group_by>, events: int64, first, last: timestamp, p_value, dominant_frequency (per second), dominant_interval (seconds), strength: float64; one row per key, most periodic first",
    options: &[
        OptionInfo { name: "time_column", type_name: "string", required: false, default: "null", description: "The event time column (default: the first timestamp column)." },
        OptionInfo { name: "group_by", type_name: "list of strings", required: false, default: "[]", description: "One test per distinct value of these columns (e.g. SourceIP and DestinationIP)." },
        OptionInfo { name: "bin_seconds", type_name: "integer", required: false, default: "1", description: "Grid step in seconds (the reference counts events per second)." },
        OptionInfo { name: "min_events", type_name: "integer", required: false, default: "3", description: "Keys with fewer events are not tested (NaN results, ranked last)." },
        OptionInfo { name: "max_grid", type_name: "integer", required: false, default: "10000000", description: "Largest grid (steps from first to last event) per key; longer spans are an error suggesting a longer bin_seconds." },
        OptionInfo { name: "output", type_name: "string", required: false, default: "\"ranking\"", description: "\"ranking\": one row per key; \"events\": the events of the top keys (rank, keys, row, t_ms, events, p_value, dominant_interval, strength), for timelines." },
        OptionInfo { name: "top", type_name: "integer", required: false, default: "null", description: "Keep the first N keys of the ranking (all when null)." },
    ],
};

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PeriodicOpOptions {
    time_column: Option<String>,
    group_by: Vec<String>,
    bin_seconds: i64,
    min_events: usize,
    max_grid: usize,
    output: PeriodicOutput,
    top: Option<usize>,
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum PeriodicOutput {
    #[default]
    Ranking,
    Events,
}

impl Default for PeriodicOpOptions {
    fn default() -> Self {
        PeriodicOpOptions {
            time_column: None,
            group_by: Vec::new(),
            bin_seconds: 1,
            min_events: 3,
            max_grid: DEFAULT_MAX_GRID,
            output: PeriodicOutput::Ranking,
            top: None,
        }
    }
}

/// `timeseries.periodic`.
pub struct PeriodicOp;

impl Operation for PeriodicOp {
    fn info(&self) -> &'static OpInfo {
        &PERIODIC_INFO
    }

    fn run(&self, options: &[u8], input: &[u8]) -> Result<Vec<u8>, OpError> {
        let op = PERIODIC_INFO.name;
        let o: PeriodicOpOptions = parse_options(&PERIODIC_INFO, options)?;
        let table = read_input(op, input)?;
        let options = PeriodicOptions {
            bin_seconds: o.bin_seconds,
            min_events: o.min_events,
            max_grid: o.max_grid,
        };
        let out = match o.output {
            PeriodicOutput::Ranking => {
                let ranking =
                    periodic_table(&table, o.time_column.as_deref(), &o.group_by, &options)
                        .map_err(|e| engine_error(op, e))?;
                match o.top {
                    Some(top) => ranking.slice(0, top.min(ranking.num_rows())),
                    None => ranking,
                }
            }
            PeriodicOutput::Events => periodic_events_table(
                &table,
                o.time_column.as_deref(),
                &o.group_by,
                &options,
                o.top,
            )
            .map_err(|e| engine_error(op, e))?,
        };
        write_batch(op, &out)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type};
    use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampSecondArray};
    use arrow_schema::{DataType, Field, Schema, TimeUnit};

    use super::parse_interval;
    use crate::Registry;

    /// A pair beaconing every 60 s +- 2 s (40 events; an exact train would put as much power in
    /// its harmonics) and a pair with 5 scattered events.
    fn event_stream() -> Vec<u8> {
        let mut times: Vec<i64> = {
            let mut x: u64 = 99;
            (0..40)
                .map(|i| {
                    x = x
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    1_700_000_000 + 60 * i + ((x >> 33) % 5) as i64 - 2
                })
                .collect()
        };
        let mut dest: Vec<&str> = vec!["c2"; 40];
        for t in [7, 500, 1_300, 1_333, 2_100] {
            times.push(1_700_000_000 + t);
            dest.push("web");
        }
        let schema = Arc::new(Schema::new(vec![
            Field::new("t", DataType::Timestamp(TimeUnit::Second, None), false),
            Field::new("dst", DataType::Utf8, false),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(TimestampSecondArray::from(times)),
            Arc::new(StringArray::from(dest)),
        ];
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        hg_arrow::write_ipc_stream(&schema, &[batch]).unwrap()
    }

    fn run(options: &str) -> RecordBatch {
        let out = Registry::standard()
            .call("timeseries.periodic", options.as_bytes(), &event_stream())
            .unwrap();
        let table = hg_arrow::read_ipc_stream(&out).unwrap();
        arrow_select::concat::concat_batches(table.schema(), table.batches()).unwrap()
    }

    #[test]
    fn periodic_ranking_top_and_events() {
        let ranking = run(r#"{"time_column": "t", "group_by": ["dst"]}"#);
        assert_eq!(ranking.num_rows(), 2);
        assert_eq!(ranking.column(0).as_string::<i32>().value(0), "c2");
        let top = run(r#"{"group_by": ["dst"], "top": 1}"#);
        assert_eq!(top.num_rows(), 1);
        let events = run(r#"{"group_by": ["dst"], "output": "events", "top": 1}"#);
        assert_eq!(events.num_rows(), 40, "only the top pair's events");
        let names: Vec<String> = events
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(
            names,
            [
                "rank",
                "dst",
                "row",
                "t_ms",
                "events",
                "p_value",
                "dominant_interval",
                "strength"
            ]
        );
        let rows = events.column(2).as_primitive::<Int64Type>();
        let t_ms = events.column(3).as_primitive::<Float64Type>();
        assert_eq!(rows.value(39), 39);
        assert!((58_000.0..=62_000.0).contains(&(t_ms.value(1) - t_ms.value(0))));
        let interval = events.column(6).as_primitive::<Float64Type>().value(0);
        assert!((interval - 60.0).abs() < 0.5, "{interval}");
        let all = run(r#"{"group_by": ["dst"], "output": "events"}"#);
        assert_eq!(all.num_rows(), 45);
        assert_eq!(all.column(0).as_primitive::<Int64Type>().value(44), 1);
        let err = Registry::standard()
            .call(
                "timeseries.periodic",
                br#"{"group_by": ["dst"], "output": "pairs"}"#,
                &event_stream(),
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("output") || err.contains("pairs"), "{err}");
    }

    #[test]
    fn intervals_parse() {
        assert_eq!(parse_interval("1h"), Ok(3_600_000_000_000));
        assert_eq!(parse_interval("15min"), Ok(900_000_000_000));
        assert_eq!(parse_interval("300s"), Ok(300_000_000_000));
        assert_eq!(parse_interval("2"), Ok(2_000_000_000));
        assert!(parse_interval("1 fortnight")
            .unwrap_err()
            .contains("unknown unit"));
        assert!(parse_interval("h").is_err());
        assert!(parse_interval("0s").is_err());
    }
}
