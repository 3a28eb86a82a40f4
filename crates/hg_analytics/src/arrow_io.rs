//! Sessions read from Arrow list columns, and scores appended as Arrow columns.
//!
//! A session column is a `List`/`LargeList` of:
//! - strings (Utf8, LargeUtf8, Utf8View or dictionaries of those): commands only;
//! - structs `{name: string, params: List<string>}`: commands with parameter names;
//! - structs `{name: string, params: Map<string, string>}` (or a list of `{key, value}` structs):
//!   commands with parameters and values (a null or empty value is "no value").
//!
//! A null `params` is an empty set. A null session, an empty session or a null command name is
//! an error naming the session and the item.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{
    Array, ArrayRef, Float64Array, Int64Array, ListArray, MapArray, RecordBatch, StringArray,
    StructArray,
};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, Fields, Schema};
use hg_arrow::{StringColumn, Table};

use crate::model::batch::SessionBatchBuilder;
use crate::model::{
    Model, ScoreOptions, SessionBatch, SessionType, TrainOptions, WindowEnd, END_TOKEN,
};
use crate::AnalyticsError;

/// Names of the columns [`score_table`] appends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreColumns {
    /// Rarest window likelihood: `rarest_window{N}_likelihood` (`..._likelihood_geo` with the
    /// geometric mean).
    pub likelihood: String,
    /// Rarest window: `rarest_window{N}` (`rarest_window{N}_geo` with the geometric mean).
    pub window: String,
    /// Index of the rarest window's first command (only with [`ExtraColumns::window_start`]):
    /// `rarest_window{N}_start` (`..._start_geo` with the geometric mean).
    pub start: String,
}

impl ScoreColumns {
    /// The reference's column names for a window length.
    pub fn for_window(window_length: usize, use_geo_mean: bool) -> ScoreColumns {
        let geo = if use_geo_mean { "_geo" } else { "" };
        ScoreColumns {
            likelihood: format!("rarest_window{window_length}_likelihood{geo}"),
            window: format!("rarest_window{window_length}{geo}"),
            start: format!("rarest_window{window_length}_start{geo}"),
        }
    }
}

/// Name of the whole-session likelihood column.
pub const SESSION_LIKELIHOOD: &str = "session_likelihood";
/// Name of the whole-session geometric-mean likelihood column.
pub const SESSION_GEOMEAN_LIKELIHOOD: &str = "session_geomean_likelihood";

fn one_column_table(name: &str, array: ArrayRef) -> Result<Table, AnalyticsError> {
    let schema = Arc::new(Schema::new(vec![Field::new(
        name,
        array.data_type().clone(),
        true,
    )]));
    let batch = RecordBatch::try_new(schema.clone(), vec![array])?;
    Ok(Table::new(schema, vec![batch])?)
}

fn strings(name: &str, array: ArrayRef) -> Result<StringColumn, AnalyticsError> {
    Ok(one_column_table(name, array)?.strings(name)?)
}

/// `(offsets, values)` of a List or LargeList array, offsets as usize.
fn list_parts(
    name: &str,
    array: &dyn Array,
) -> Result<(Vec<usize>, ArrayRef, Vec<bool>), AnalyticsError> {
    let valid = |a: &dyn Array| (0..a.len()).map(|i| a.is_valid(i)).collect::<Vec<bool>>();
    match array.data_type() {
        DataType::List(_) => {
            let l = array.as_list::<i32>();
            let offsets = l.value_offsets().iter().map(|&o| o as usize).collect();
            Ok((offsets, l.values().clone(), valid(array)))
        }
        DataType::LargeList(_) => {
            let l = array.as_list::<i64>();
            let offsets = l.value_offsets().iter().map(|&o| o as usize).collect();
            Ok((offsets, l.values().clone(), valid(array)))
        }
        DataType::Map(_, _) => {
            let m = array.as_map();
            let offsets = m.value_offsets().iter().map(|&o| o as usize).collect();
            Ok((offsets, Arc::new(m.entries().clone()), valid(array)))
        }
        other => Err(hg_arrow::HgArrowError::WrongType {
            name: name.to_string(),
            expected: "a list column".into(),
            found: other.to_string(),
        }
        .into()),
    }
}

fn struct_child(s: &StructArray, children: &[&str]) -> Option<ArrayRef> {
    children.iter().find_map(|c| s.column_by_name(c).cloned())
}

/// Reads a session column into a [`SessionBatch`].
pub fn sessions_from_column(table: &Table, column: &str) -> Result<SessionBatch, AnalyticsError> {
    let array = table.column(column)?;
    let (offsets, items, session_valid) = list_parts(column, array.as_ref())?;
    let wrong_item = |found: &DataType| -> AnalyticsError {
        hg_arrow::HgArrowError::WrongType {
            name: column.to_string(),
            expected: "a list of command names (strings) or of {name, params} structs".into(),
            found: found.to_string(),
        }
        .into()
    };
    let check_session = |s: usize| -> Result<(), AnalyticsError> {
        if !session_valid[s] {
            return Err(AnalyticsError::InvalidSessions(format!(
                "session {s} (row {s} of '{column}') is missing"
            )));
        }
        Ok(())
    };
    let n_sessions = offsets.len() - 1;
    if n_sessions == 0 {
        return Err(AnalyticsError::InvalidSessions(format!(
            "column '{column}' has no session"
        )));
    }
    let no_name = |s: usize, i: usize| {
        AnalyticsError::InvalidSessions(format!("session {s} item {i} has no command name"))
    };
    match items.data_type() {
        DataType::Struct(_) => {
            let st = items.as_struct();
            let names = st
                .column_by_name("name")
                .ok_or_else(|| wrong_item(items.data_type()))?;
            let names = strings(&format!("{column}.name"), names.clone())?;
            let params = struct_child(st, &["params"]);
            let (kind, param_parts) = match &params {
                None => (SessionType::CmdsParamsOnly, None),
                Some(p) => {
                    let (p_off, p_items, p_valid) =
                        list_parts(&format!("{column}.params"), p.as_ref())?;
                    match p_items.data_type() {
                        DataType::Struct(_) => {
                            let entries = p_items.as_struct();
                            let keys = struct_child(entries, &["key", "name"])
                                .ok_or_else(|| wrong_item(p.data_type()))?;
                            let values = struct_child(entries, &["value"])
                                .ok_or_else(|| wrong_item(p.data_type()))?;
                            let keys = strings(&format!("{column}.params.key"), keys)?;
                            let values = strings(&format!("{column}.params.value"), values)?;
                            (
                                SessionType::CmdsParamsValues,
                                Some((p_off, keys, Some(values), p_valid)),
                            )
                        }
                        _ => {
                            let keys = strings(&format!("{column}.params"), p_items.clone())?;
                            (
                                SessionType::CmdsParamsOnly,
                                Some((p_off, keys, None, p_valid)),
                            )
                        }
                    }
                }
            };
            let mut b = SessionBatchBuilder::new(kind);
            for s in 0..n_sessions {
                check_session(s)?;
                for (i, item) in (offsets[s]..offsets[s + 1]).enumerate() {
                    if st.is_null(item) {
                        return Err(no_name(s, i));
                    }
                    let name = names.get(item).ok_or_else(|| no_name(s, i))?;
                    b.command(name, s, i)?;
                    if let Some((p_off, keys, values, p_valid)) = &param_parts {
                        if !p_valid[item] {
                            continue;
                        }
                        for j in p_off[item]..p_off[item + 1] {
                            let key = keys.get(j).ok_or_else(|| {
                                AnalyticsError::InvalidSessions(format!(
                                    "session {s} item {i} has a missing parameter name"
                                ))
                            })?;
                            let value = values.as_ref().and_then(|v| v.get(j));
                            b.param(key, value, s, i)?;
                        }
                    }
                }
                b.end_session(s)?;
            }
            b.finish()
        }
        other => {
            let names = strings(column, items.clone()).map_err(|_| wrong_item(other))?;
            let mut b = SessionBatchBuilder::new(SessionType::CmdsOnly);
            for s in 0..n_sessions {
                check_session(s)?;
                for (i, item) in (offsets[s]..offsets[s + 1]).enumerate() {
                    b.command(names.get(item).ok_or_else(|| no_name(s, i))?, s, i)?;
                }
                b.end_session(s)?;
            }
            b.finish()
        }
    }
}

/// Scores the sessions of `session_column` and returns the table with the rarest-window
/// columns appended (the reference's `score_sessions`), plus the session likelihood columns
/// when `session_likelihoods` is set. Without a `model`, one is trained on the column itself.
/// Columns of the same names in the input are replaced.
pub fn score_table(
    table: &Table,
    session_column: &str,
    model: Option<&Model>,
    train: &TrainOptions,
    options: &ScoreOptions,
    session_likelihoods: bool,
) -> Result<(RecordBatch, Model), AnalyticsError> {
    score_table_with(
        table,
        session_column,
        model,
        train,
        options,
        &ExtraColumns {
            session_likelihoods,
            window_start: false,
        },
    )
}

/// Columns [`score_table_with`] may add beyond the reference's two.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtraColumns {
    /// `session_likelihood` and `session_geomean_likelihood` (float64).
    pub session_likelihoods: bool,
    /// `rarest_window{N}_start` (`_geo` suffixed with the geometric mean): the 0-based index of
    /// the rarest window's first command in the session (int64, null when no window fits), so
    /// that a viewer can mark the window inside the whole session.
    pub window_start: bool,
}

/// [`score_table`] with a choice of extra columns.
pub fn score_table_with(
    table: &Table,
    session_column: &str,
    model: Option<&Model>,
    train: &TrainOptions,
    options: &ScoreOptions,
    extras: &ExtraColumns,
) -> Result<(RecordBatch, Model), AnalyticsError> {
    let session_likelihoods = extras.session_likelihoods;
    let batch = sessions_from_column(table, session_column)?;
    let model = match model {
        Some(m) => m.clone(),
        None => Model::train(&batch, train)?,
    };
    let scores = model.score(&batch, options)?;
    let mut new_columns: Vec<(String, ArrayRef)> = Vec::new();
    if let Some(w) = options.window_length {
        let names = ScoreColumns::for_window(w, options.use_geo_mean);
        let lik = Float64Array::from_iter_values(scores.iter().map(|s| s.rarest_likelihood()));
        new_columns.push((names.likelihood, Arc::new(lik)));
        let windows: Vec<(usize, usize, bool)> = scores
            .iter()
            .enumerate()
            .map(|(s, sc)| match sc.rarest {
                Some(r) => {
                    let start = batch.session_offsets[s] + r.start;
                    let end_token =
                        r.includes_end && options.window_end == WindowEnd::IncludeEndToken;
                    (start, start + r.commands, end_token)
                }
                None => (0, 0, false),
            })
            .collect();
        new_columns.push((names.window, windows_array(&batch, &windows)?));
        if extras.window_start {
            let starts = Int64Array::from_iter(
                scores
                    .iter()
                    .map(|sc| sc.rarest.as_ref().map(|r| r.start as i64)),
            );
            new_columns.push((names.start, Arc::new(starts)));
        }
    }
    if session_likelihoods {
        new_columns.push((
            SESSION_LIKELIHOOD.into(),
            Arc::new(Float64Array::from_iter_values(
                scores.iter().map(|s| s.likelihood),
            )),
        ));
        new_columns.push((
            SESSION_GEOMEAN_LIKELIHOOD.into(),
            Arc::new(Float64Array::from_iter_values(
                scores.iter().map(|s| s.geomean_likelihood),
            )),
        ));
    }
    let input = match table.batches() {
        [one] => one.clone(),
        many => arrow_select::concat::concat_batches(table.schema(), many)?,
    };
    let mut fields: Vec<Field> = input
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    let mut columns: Vec<ArrayRef> = input.columns().to_vec();
    for (name, array) in new_columns {
        let field = Field::new(&name, array.data_type().clone(), true);
        match fields.iter().position(|f| f.name() == &name) {
            Some(i) => {
                fields[i] = field;
                columns[i] = array;
            }
            None => {
                fields.push(field);
                columns.push(array);
            }
        }
    }
    let out = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
    Ok((out, model))
}

/// The window column: items `[from, to)` of the batch per row, plus the end token when asked,
/// as List<Utf8> (commands only) or List<Struct{name, params}>.
fn windows_array(
    batch: &SessionBatch,
    windows: &[(usize, usize, bool)],
) -> Result<ArrayRef, AnalyticsError> {
    let lengths = windows.iter().map(|&(a, b, end)| b - a + usize::from(end));
    let offsets = OffsetBuffer::<i32>::from_lengths(lengths);
    let mut names: Vec<&str> = Vec::new();
    let mut param_offsets: Vec<i32> = vec![0];
    let mut keys: Vec<&str> = Vec::new();
    let mut values: Vec<Option<&str>> = Vec::new();
    for &(from, to, end) in windows {
        for item in from..to {
            names.push(&batch.commands.names[batch.item_command[item] as usize]);
            for j in batch.param_range(item) {
                keys.push(&batch.params.names[batch.item_params[j] as usize]);
                if batch.kind == SessionType::CmdsParamsValues {
                    let v = batch.item_values[j];
                    values.push(
                        (v != crate::model::ABSENT)
                            .then(|| batch.values.names[v as usize].as_str()),
                    );
                }
            }
            param_offsets.push(keys.len() as i32);
        }
        if end {
            names.push(END_TOKEN);
            param_offsets.push(keys.len() as i32);
        }
    }
    let names: ArrayRef = Arc::new(StringArray::from(names));
    let item: ArrayRef = match batch.kind {
        SessionType::CmdsOnly => names,
        SessionType::CmdsParamsOnly => {
            let field = Arc::new(Field::new("item", DataType::Utf8, true));
            let params = ListArray::try_new(
                field,
                OffsetBuffer::new(param_offsets.into()),
                Arc::new(StringArray::from(keys)),
                None,
            )?;
            Arc::new(StructArray::try_new(
                Fields::from(vec![
                    Field::new("name", DataType::Utf8, false),
                    Field::new("params", params.data_type().clone(), false),
                ]),
                vec![names, Arc::new(params)],
                None,
            )?)
        }
        SessionType::CmdsParamsValues => {
            let entry_fields = Fields::from(vec![
                Field::new("key", DataType::Utf8, false),
                Field::new("value", DataType::Utf8, true),
            ]);
            let entries = StructArray::try_new(
                entry_fields.clone(),
                vec![
                    Arc::new(StringArray::from(keys)),
                    Arc::new(StringArray::from(values)),
                ],
                None,
            )?;
            let map = MapArray::try_new(
                Arc::new(Field::new("entries", DataType::Struct(entry_fields), false)),
                OffsetBuffer::new(param_offsets.into()),
                entries,
                None,
                false,
            )?;
            Arc::new(StructArray::try_new(
                Fields::from(vec![
                    Field::new("name", DataType::Utf8, false),
                    Field::new("params", map.data_type().clone(), false),
                ]),
                vec![names, Arc::new(map)],
                None,
            )?)
        }
    };
    let field = Arc::new(Field::new("item", item.data_type().clone(), true));
    Ok(Arc::new(ListArray::try_new(field, offsets, item, None)?))
}
