//! Sessionizing: events grouped into sessions per user key with a maximum gap between events and a
//! maximum session duration (the reference's `sessionize_data`).
//!
//! Rows are ordered by the key columns and then by time (ties keep their input order). Walking
//! that order, a row starts a new session when any key differs from the previous row's, when the
//! gap to the previous row is greater than the maximum separation, or when the time since the
//! session's first row is greater than the maximum duration (strict `>`: equal values stay in the
//! session). One output row per session, ordered by keys and then by start time.
//!
//! Differences from the reference, on purpose: a null time is an error naming the row (the
//! reference silently makes the comparisons false); numeric key columns with nulls work (nulls
//! form their own group, sorted last; the reference fails to sort them).

use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, BooleanArray, DurationNanosecondArray, Int64Array, ListArray, RecordBatch,
    TimestampNanosecondArray, UInt32Array,
};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use hg_arrow::Table;

use crate::AnalyticsError;

/// Nanoseconds in one minute.
pub const NS_PER_MINUTE: i64 = 60_000_000_000;

/// The text the reference substitutes for missing key values while grouping.
pub const REFERENCE_NULL_KEY: &str = "dummy_str";

/// How missing values in the key columns are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NullKeys {
    /// As the reference: a missing string key is grouped (and sorted) as the text `dummy_str`,
    /// and a real `dummy_str` key comes out as missing.
    #[default]
    Reference,
    /// Missing keys form their own group, sorted after every value; real values are kept.
    OwnGroup,
}

/// Options of [`sessionize`] (the reference's keyword names).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionizeOptions {
    /// Columns identifying the user (for example `UserId`, `ClientIP`); may be empty.
    pub user_identifier_cols: Vec<String>,
    /// The event time column.
    pub time_col: String,
    /// The longest a session may last, from its first event, in nanoseconds.
    pub max_session_time_ns: i64,
    /// The longest gap between two consecutive events of a session, in nanoseconds.
    pub max_event_separation_ns: i64,
    /// The column whose values are listed per session (`<event_col>_list`).
    pub event_col: String,
    /// How missing key values are grouped.
    pub null_keys: NullKeys,
}

impl SessionizeOptions {
    /// Options with durations in minutes (fractions allowed), as the reference takes them.
    pub fn new(
        user_identifier_cols: Vec<String>,
        time_col: impl Into<String>,
        max_session_time_mins: f64,
        max_event_separation_mins: f64,
        event_col: impl Into<String>,
    ) -> Result<SessionizeOptions, AnalyticsError> {
        Ok(SessionizeOptions {
            user_identifier_cols,
            time_col: time_col.into(),
            max_session_time_ns: minutes_to_ns("max_session_time_mins", max_session_time_mins)?,
            max_event_separation_ns: minutes_to_ns(
                "max_event_separation_mins",
                max_event_separation_mins,
            )?,
            event_col: event_col.into(),
            null_keys: NullKeys::Reference,
        })
    }
}

/// Converts minutes to nanoseconds; negative, non-finite or overflowing values are errors.
pub fn minutes_to_ns(name: &'static str, minutes: f64) -> Result<i64, AnalyticsError> {
    let ns = minutes * NS_PER_MINUTE as f64;
    if !minutes.is_finite() || minutes < 0.0 || ns >= i64::MAX as f64 {
        return Err(AnalyticsError::InvalidOption {
            name,
            detail: format!("{minutes} is not a number of minutes >= 0"),
        });
    }
    Ok(ns.round() as i64)
}

/// Sessions as row groups: `rows` lists input rows session by session, in time order, and
/// session `s` is `rows[offsets[s]..offsets[s + 1]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRows {
    /// Input row indices, session by session.
    pub rows: Vec<u32>,
    /// Session boundaries into `rows` (one more than the number of sessions).
    pub offsets: Vec<usize>,
}

impl SessionRows {
    /// Number of sessions.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Whether there is no session.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Groups rows into sessions from per-row key ranks (equal rank = same user; rank order = user
/// sort order) and times in nanoseconds.
pub fn session_rows(key_rank: &[u64], times: &[i64], opts: &SessionizeOptions) -> SessionRows {
    let n = times.len();
    // Sorting contiguous (key, time, row) triples avoids an indirection per comparison; the row
    // index last keeps ties in input order (a stable sort, as the reference's).
    let mut order: Vec<(u64, i64, u32)> =
        (0..n).map(|r| (key_rank[r], times[r], r as u32)).collect();
    order.sort_unstable();
    let rows: Vec<u32> = order.iter().map(|t| t.2).collect();
    drop(order);
    let mut offsets = Vec::with_capacity(n / 4 + 2);
    if n == 0 {
        offsets.push(0);
        return SessionRows { rows, offsets };
    }
    offsets.push(0);
    let mut session_elapsed: i128 = 0;
    for i in 1..n {
        let (prev, cur) = (rows[i - 1] as usize, rows[i] as usize);
        // i128: the gap between two i64 times cannot overflow.
        let gap = times[cur] as i128 - times[prev] as i128;
        let elapsed = session_elapsed + gap;
        if key_rank[cur] != key_rank[prev]
            || gap > opts.max_event_separation_ns as i128
            || elapsed > opts.max_session_time_ns as i128
        {
            offsets.push(i);
            session_elapsed = 0;
        } else {
            session_elapsed = elapsed;
        }
    }
    offsets.push(n);
    SessionRows { rows, offsets }
}

/// Per row, whether a key value is shown as missing in the output (`None`: none is).
type HiddenKeys = Option<Vec<bool>>;

/// Ranks of the combined key columns (lexicographic order of the columns' sort codes), plus per key column whether a row's output value must
/// be shown as missing (the reference's `dummy_str` substitution).
fn key_ranks(
    table: &Table,
    opts: &SessionizeOptions,
) -> Result<(Vec<u64>, Vec<HiddenKeys>), AnalyticsError> {
    let n = table.num_rows();
    let mut combined = vec![0u64; n];
    let mut null_out = Vec::new();
    for name in &opts.user_identifier_cols {
        let is_string = table.strings(name).is_ok();
        let mut cats = table.categorize(name)?;
        let mut mask = None;
        if is_string && opts.null_keys == NullKeys::Reference {
            let n_real = cats.labels.len() - usize::from(cats.missing.is_some());
            let pos =
                cats.labels[..n_real].binary_search_by(|l| l.as_str().cmp(REFERENCE_NULL_KEY));
            let slot = match pos {
                Ok(p) | Err(p) => p as u32,
            };
            if let Some(missing) = cats.missing {
                // Nulls take the place `dummy_str` has among the sorted values (shared with a
                // real `dummy_str` when there is one).
                let shift_from = if pos.is_ok() { u32::MAX } else { slot };
                for c in cats.codes.iter_mut() {
                    if *c == missing {
                        *c = slot;
                    } else if *c >= shift_from {
                        *c += 1;
                    }
                }
            }
            if pos.is_ok() || cats.missing.is_some() {
                mask = Some(cats.codes.iter().map(|&c| c == slot).collect());
            }
        }
        null_out.push(mask);
        let cardinality = cats.labels.len() as u64 + 1;
        let max_rank = combined.iter().copied().max().unwrap_or(0);
        if max_rank.checked_mul(cardinality).is_none() {
            // Re-rank densely (at most one rank per row) so the product fits again.
            let mut distinct = combined.clone();
            distinct.sort_unstable();
            distinct.dedup();
            for slot in combined.iter_mut() {
                *slot = distinct.binary_search(slot).unwrap_or(0) as u64;
            }
        }
        for (slot, &c) in combined.iter_mut().zip(&cats.codes) {
            *slot = *slot * cardinality + c as u64;
        }
    }
    Ok((combined, null_out))
}

/// Sessionizes a table: one output row per session with the key columns, `<time>_min`,
/// `<time>_max`, `<event>_list`, `duration` and `number_events`.
pub fn sessionize(table: &Table, opts: &SessionizeOptions) -> Result<RecordBatch, AnalyticsError> {
    Ok(sessionize_with_rows(table, opts)?.0)
}

/// [`sessionize`], also returning which input rows form each output session (session `s` is
/// output row `s`), for callers that need the events themselves (the reference's
/// `create_session_col`, per-event views).
pub fn sessionize_with_rows(
    table: &Table,
    opts: &SessionizeOptions,
) -> Result<(RecordBatch, SessionRows), AnalyticsError> {
    if opts.max_session_time_ns < 0 || opts.max_event_separation_ns < 0 {
        return Err(AnalyticsError::InvalidOption {
            name: "max_session_time_mins",
            detail: "durations must be >= 0".into(),
        });
    }
    if table.num_rows() > u32::MAX as usize {
        return Err(AnalyticsError::TooLarge(format!(
            "{} rows (at most {})",
            table.num_rows(),
            u32::MAX
        )));
    }
    let times = table.times_ns(&opts.time_col)?;
    if times.null_count() > 0 {
        let row = (0..times.len()).find(|&r| !times.is_valid(r)).unwrap_or(0);
        return Err(AnalyticsError::Arrow(hg_arrow::HgArrowError::OutOfRange {
            name: opts.time_col.clone(),
            row,
            detail: "missing time: every event needs a time to be sessionized".into(),
        }));
    }
    let events = table.column(&opts.event_col)?;
    let (ranks, null_out) = key_ranks(table, opts)?;
    let groups = session_rows(&ranks, times.values(), opts);
    let batch = build_output(table, opts, &groups, times.values(), &events, &null_out)?;
    Ok((batch, groups))
}

fn build_output(
    table: &Table,
    opts: &SessionizeOptions,
    groups: &SessionRows,
    times: &[i64],
    events: &ArrayRef,
    null_out: &[HiddenKeys],
) -> Result<RecordBatch, AnalyticsError> {
    let n_sessions = groups.len();
    let first_rows =
        UInt32Array::from_iter_values(groups.offsets[..n_sessions].iter().map(|&o| groups.rows[o]));
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (name, mask) in opts.user_identifier_cols.iter().zip(null_out) {
        let col = table.column(name)?;
        let mut taken = arrow_select::take::take(col.as_ref(), &first_rows, None)?;
        if let Some(mask) = mask {
            let hide = BooleanArray::from_iter(
                first_rows.values().iter().map(|&r| Some(mask[r as usize])),
            );
            taken = arrow_select::nullif::nullif(taken.as_ref(), &hide)?;
        }
        fields.push(Field::new(name, taken.data_type().clone(), true));
        columns.push(taken);
    }
    let zone = match table.data_type(&opts.time_col)? {
        DataType::Timestamp(_, tz) => tz.clone(),
        _ => None,
    };
    let time_type = DataType::Timestamp(TimeUnit::Nanosecond, zone.clone());
    let starts: Vec<i64> = groups.offsets[..n_sessions]
        .iter()
        .map(|&o| times[groups.rows[o] as usize])
        .collect();
    let ends: Vec<i64> = groups.offsets[1..]
        .iter()
        .map(|&o| times[groups.rows[o - 1] as usize])
        .collect();
    let durations: Vec<i64> = starts
        .iter()
        .zip(&ends)
        .map(|(s, e)| e.saturating_sub(*s))
        .collect();
    let counts: Vec<i64> = groups
        .offsets
        .windows(2)
        .map(|w| (w[1] - w[0]) as i64)
        .collect();
    fields.push(Field::new(
        format!("{}_min", opts.time_col),
        time_type.clone(),
        false,
    ));
    columns.push(Arc::new(
        TimestampNanosecondArray::from(starts).with_timezone_opt(zone.clone()),
    ));
    fields.push(Field::new(
        format!("{}_max", opts.time_col),
        time_type,
        false,
    ));
    columns.push(Arc::new(
        TimestampNanosecondArray::from(ends).with_timezone_opt(zone),
    ));
    let order = UInt32Array::from(groups.rows.clone());
    let values = arrow_select::take::take(events.as_ref(), &order, None)?;
    let item = Arc::new(Field::new("item", values.data_type().clone(), true));
    let offsets = OffsetBuffer::<i32>::from_lengths(groups.offsets.windows(2).map(|w| w[1] - w[0]));
    if groups.rows.len() > i32::MAX as usize {
        return Err(AnalyticsError::TooLarge(format!(
            "{} events in one list column (at most {})",
            groups.rows.len(),
            i32::MAX
        )));
    }
    let list = ListArray::try_new(item.clone(), offsets, values, None)?;
    fields.push(Field::new(
        format!("{}_list", opts.event_col),
        DataType::List(item),
        false,
    ));
    columns.push(Arc::new(list));
    fields.push(Field::new(
        "duration",
        DataType::Duration(TimeUnit::Nanosecond),
        false,
    ));
    columns.push(Arc::new(DurationNanosecondArray::from(durations)));
    fields.push(Field::new("number_events", DataType::Int64, false));
    columns.push(Arc::new(Int64Array::from(counts)));
    let schema = Arc::new(Schema::new(fields));
    Ok(RecordBatch::try_new(schema, columns)?)
}
