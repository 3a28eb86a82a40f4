//! The session operations over Arrow: `sessions.build`, `sessions.train`, `sessions.score` and
//! `sessions.score_events` (engine: `hg_analytics`).
//!
//! # `sessions.build`
//!
//! Input: events with the key columns, a time column (Timestamp of any unit, Date32, Date64;
//! no nulls) and an event column of any type. Output: one row per session with the key columns,
//! `<time_col>_min`, `<time_col>_max` (timestamp ns, the input's zone), `<event_col>_list`
//! (list of the event column's type, in time order), `duration` (duration ns) and
//! `number_events` (int64), ordered by keys then start time (the reference's `sessionize_data`;
//! options use its keyword names).
//!
//! # `sessions.train`
//!
//! Input: a table with a session column (see `hg_analytics::arrow_io` for the accepted list
//! types). Output: one row: `model` (binary: the saved model, `HGSM` version 1),
//! `session_type` (utf8) and `sessions` (int64). The bytes go back as `model_base64` to
//! `sessions.score` to score other sessions with this baseline.
//!
//! # `sessions.score`
//!
//! Input: a table with a session column. Output: the input columns plus
//! `rarest_window{N}_likelihood` (float64, NaN when no window fits) and `rarest_window{N}`
//! (list of the window's commands: utf8, or `{name, params}` structs), `_geo` suffixed with
//! `use_geo_mean`, plus `session_likelihood` and `session_geomean_likelihood` when
//! `session_likelihoods` is set, and `rarest_window{N}_start` (int64: index of the window's first
//! command in the session, null when no window fits) when `window_start` is set. Without
//! `model_base64` the model is trained on the input's sessions (the reference's `score_sessions`).
//!
//! # `sessions.score_events`
//!
//! `sessions.build` and `sessions.score` in one call for viewers that read plain columns (the
//! SessionRarity widget reads it with the browser's Arrow reader, which has no list type):
//! input and options as `sessions.build` plus the scoring options and `columns` (more input
//! columns to carry). Output: one row per event, session by session in time order, with
//! `session` (the session's row in `sessions.build`'s output), `position` (in the session),
//! `row` (the input row), `time_ms` (float64, ms since the epoch), the session's
//! `rarest_window_likelihood` (NaN when no window fits), `rarest_window_start` (null then) and
//! `rarest_window_commands` (the session's commands inside the window), then the key, event and
//! carried columns taken from the input rows.

use std::sync::Arc;

use arrow_array::{
    ArrayRef, BinaryArray, Float64Array, Int64Array, RecordBatch, StringArray, UInt32Array,
};
use arrow_schema::{DataType, Field, Schema};
use base64::Engine as _;
use hg_analytics::{
    score_table_with, sessionize, sessionize_with_rows, sessions_from_column, AnalyticsError,
    ExtraColumns, Model, NullKeys, ScoreOptions, SessionizeOptions, TrainOptions, WindowEnd,
};
use hg_arrow::Table;
use serde::Deserialize;

use crate::{parse_options, read_input, write_batch, OpError, OpInfo, Operation, OptionInfo};

fn engine_error(op: &str, e: AnalyticsError) -> OpError {
    match e {
        AnalyticsError::Arrow(source) => OpError::input(op, source),
        other => OpError::engine(op, other),
    }
}

const USER_IDENTIFIER_COLS: OptionInfo = OptionInfo {
    name: "user_identifier_cols",
    type_name: "list of strings",
    required: false,
    default: "[]",
    description: "Columns identifying the user (a change starts a new session).",
};

const TIME_COL: OptionInfo = OptionInfo {
    name: "time_col",
    type_name: "string",
    required: false,
    default: "\"TimeGenerated\"",
    description: "The event time column.",
};

const MAX_SESSION_TIME_MINS: OptionInfo = OptionInfo {
    name: "max_session_time_mins",
    type_name: "number",
    required: true,
    default: "null",
    description: "Longest session, from its first event, in minutes.",
};

const MAX_EVENT_SEPARATION_MINS: OptionInfo = OptionInfo {
    name: "max_event_separation_mins",
    type_name: "number",
    required: true,
    default: "null",
    description: "Longest gap between consecutive events of a session, in minutes.",
};

const EVENT_COL: OptionInfo = OptionInfo {
    name: "event_col",
    type_name: "string",
    required: true,
    default: "null",
    description: "The column listed per session.",
};

const NULL_KEYS: OptionInfo = OptionInfo {
    name: "null_keys",
    type_name: "string",
    required: false,
    default: "\"reference\"",
    description: "\"reference\": missing keys are grouped as the text dummy_str (as the reference); \"own_group\": missing keys form their own group, sorted last.",
};

const BUILD_OPTIONS: [OptionInfo; 6] = [
    USER_IDENTIFIER_COLS,
    TIME_COL,
    MAX_SESSION_TIME_MINS,
    MAX_EVENT_SEPARATION_MINS,
    EVENT_COL,
    NULL_KEYS,
];

static BUILD_INFO: OpInfo = OpInfo {
    name: "sessions.build",
    description: "Group events into sessions per user with a maximum gap between events and a maximum session duration.",
    input: "events with the key columns, the time column and the event column",
    output: "<key columns>, <time_col>_min, <time_col>_max: timestamp, <event_col>_list: list, duration: duration ns, number_events: int64; one row per session",
    options: &BUILD_OPTIONS,
};

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct BuildOptions {
    user_identifier_cols: Vec<String>,
    time_col: String,
    max_session_time_mins: Option<f64>,
    max_event_separation_mins: Option<f64>,
    event_col: Option<String>,
    null_keys: NullKeysOption,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            user_identifier_cols: Vec::new(),
            time_col: "TimeGenerated".into(),
            max_session_time_mins: None,
            max_event_separation_mins: None,
            event_col: None,
            null_keys: NullKeysOption::Reference,
        }
    }
}

impl BuildOptions {
    fn sessionize_options(self, op: &str) -> Result<SessionizeOptions, OpError> {
        let missing = |key: &str| OpError::MissingOption {
            op: op.into(),
            key: key.into(),
        };
        let mut opts = SessionizeOptions::new(
            self.user_identifier_cols,
            self.time_col,
            self.max_session_time_mins
                .ok_or_else(|| missing("max_session_time_mins"))?,
            self.max_event_separation_mins
                .ok_or_else(|| missing("max_event_separation_mins"))?,
            self.event_col.ok_or_else(|| missing("event_col"))?,
        )
        .map_err(|e| engine_error(op, e))?;
        opts.null_keys = match self.null_keys {
            NullKeysOption::Reference => NullKeys::Reference,
            NullKeysOption::OwnGroup => NullKeys::OwnGroup,
        };
        Ok(opts)
    }
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum NullKeysOption {
    #[default]
    Reference,
    OwnGroup,
}

/// `sessions.build`.
pub struct BuildOp;

impl Operation for BuildOp {
    fn info(&self) -> &'static OpInfo {
        &BUILD_INFO
    }

    fn run(&self, options: &[u8], input: &[u8]) -> Result<Vec<u8>, OpError> {
        let op = BUILD_INFO.name;
        let o: BuildOptions = parse_options(&BUILD_INFO, options)?;
        let opts = o.sessionize_options(op)?;
        let table = read_input(op, input)?;
        let out = sessionize(&table, &opts).map_err(|e| engine_error(op, e))?;
        write_batch(op, &out)
    }
}

const SESSION_COLUMN: OptionInfo = OptionInfo {
    name: "session_column",
    type_name: "string",
    required: true,
    default: "null",
    description: "The column holding each session's commands (a list).",
};

const MODELLABLE_PARAMS: OptionInfo = OptionInfo {
    name: "modellable_params",
    type_name: "list of strings",
    required: false,
    default: "null",
    description: "Parameters whose values are modelled (commands with values); null = the reference's heuristic.",
};

static TRAIN_INFO: OpInfo = OpInfo {
    name: "sessions.train",
    description:
        "Train the Markov-chain session model on a set of sessions and return it as bytes.",
    input: "a table with the session column",
    output: "model: binary (HGSM v1), session_type: utf8, sessions: int64; one row",
    options: &[SESSION_COLUMN, MODELLABLE_PARAMS],
};

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct TrainOpOptions {
    session_column: Option<String>,
    modellable_params: Option<Vec<String>>,
}

/// `sessions.train`.
pub struct TrainOp;

impl Operation for TrainOp {
    fn info(&self) -> &'static OpInfo {
        &TRAIN_INFO
    }

    fn run(&self, options: &[u8], input: &[u8]) -> Result<Vec<u8>, OpError> {
        let op = TRAIN_INFO.name;
        let o: TrainOpOptions = parse_options(&TRAIN_INFO, options)?;
        let column = o.session_column.ok_or_else(|| OpError::MissingOption {
            op: op.into(),
            key: "session_column".into(),
        })?;
        let table = read_input(op, input)?;
        let batch = sessions_from_column(&table, &column).map_err(|e| engine_error(op, e))?;
        let model = Model::train(
            &batch,
            &TrainOptions {
                modellable_params: o.modellable_params,
            },
        )
        .map_err(|e| engine_error(op, e))?;
        let bytes = model.to_bytes().map_err(|e| engine_error(op, e))?;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(BinaryArray::from_vec(vec![bytes.as_slice()])),
            Arc::new(StringArray::from(vec![model
                .session_type()
                .reference_name()])),
            Arc::new(Int64Array::from(vec![model.training_sessions() as i64])),
        ];
        let schema = Arc::new(Schema::new(vec![
            Field::new("model", DataType::Binary, false),
            Field::new("session_type", DataType::Utf8, false),
            Field::new("sessions", DataType::Int64, false),
        ]));
        let out = RecordBatch::try_new(schema, columns).map_err(|e| OpError::engine(op, e))?;
        write_batch(op, &out)
    }
}

const WINDOW_LENGTH: OptionInfo = OptionInfo {
    name: "window_length",
    type_name: "integer",
    required: false,
    default: "3",
    description: "Length of the sliding windows searched for the rarest one.",
};

const USE_START_END_TOKENS: OptionInfo = OptionInfo {
    name: "use_start_end_tokens",
    type_name: "boolean",
    required: false,
    default: "true",
    description: "Include the session start and end tokens in the likelihoods.",
};

const USE_GEO_MEAN: OptionInfo = OptionInfo {
    name: "use_geo_mean",
    type_name: "boolean",
    required: false,
    default: "false",
    description: "Raise window likelihoods to 1/window_length (columns get a _geo suffix).",
};

const WINDOW_END: OptionInfo = OptionInfo {
    name: "window_end",
    type_name: "string",
    required: false,
    default: "\"reference\"",
    description: "\"reference\": a rarest window that ends the session is returned one command short (as the reference); \"include_end_token\": it ends with ##END##.",
};

const SESSION_LIKELIHOODS: OptionInfo = OptionInfo {
    name: "session_likelihoods",
    type_name: "boolean",
    required: false,
    default: "false",
    description: "Also return session_likelihood and session_geomean_likelihood.",
};

const WINDOW_START: OptionInfo = OptionInfo {
    name: "window_start",
    type_name: "boolean",
    required: false,
    default: "false",
    description: "Also return rarest_window{N}_start: the index of the rarest window's first command in the session (int64, null when no window fits).",
};

const MODEL_BASE64: OptionInfo = OptionInfo {
    name: "model_base64",
    type_name: "string",
    required: false,
    default: "null",
    description: "A model from sessions.train (base64); null = train on the input's sessions.",
};

static SCORE_INFO: OpInfo = OpInfo {
    name: "sessions.score",
    description: "Score how likely each session's commands are under a Markov-chain model and find each session's rarest window.",
    input: "a table with the session column",
    output: "the input columns + rarest_window{N}_likelihood: float64, rarest_window{N}: list (+ session_likelihood, session_geomean_likelihood: float64)",
    options: &[
        SESSION_COLUMN,
        WINDOW_LENGTH,
        USE_START_END_TOKENS,
        USE_GEO_MEAN,
        WINDOW_END,
        SESSION_LIKELIHOODS,
        WINDOW_START,
        MODELLABLE_PARAMS,
        MODEL_BASE64,
    ],
};

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ScoreOpOptions {
    session_column: Option<String>,
    window_length: usize,
    use_start_end_tokens: bool,
    use_geo_mean: bool,
    window_end: WindowEndOption,
    session_likelihoods: bool,
    window_start: bool,
    modellable_params: Option<Vec<String>>,
    model_base64: Option<String>,
}

impl Default for ScoreOpOptions {
    fn default() -> Self {
        ScoreOpOptions {
            session_column: None,
            window_length: 3,
            use_start_end_tokens: true,
            use_geo_mean: false,
            window_end: WindowEndOption::Reference,
            session_likelihoods: false,
            window_start: false,
            modellable_params: None,
            model_base64: None,
        }
    }
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum WindowEndOption {
    #[default]
    Reference,
    IncludeEndToken,
}

fn decode_model(op: &str, base64_text: Option<&str>) -> Result<Option<Model>, OpError> {
    let Some(text) = base64_text else {
        return Ok(None);
    };
    let bad = |message: String| OpError::BadOption {
        op: op.into(),
        key: "model_base64".into(),
        message,
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| bad(format!("not base64: {e}")))?;
    Ok(Some(
        Model::from_bytes(&bytes).map_err(|e| bad(e.to_string()))?,
    ))
}

/// `sessions.score`.
pub struct ScoreOp;

impl Operation for ScoreOp {
    fn info(&self) -> &'static OpInfo {
        &SCORE_INFO
    }

    fn run(&self, options: &[u8], input: &[u8]) -> Result<Vec<u8>, OpError> {
        let op = SCORE_INFO.name;
        let o: ScoreOpOptions = parse_options(&SCORE_INFO, options)?;
        let column = o.session_column.ok_or_else(|| OpError::MissingOption {
            op: op.into(),
            key: "session_column".into(),
        })?;
        let model = decode_model(op, o.model_base64.as_deref())?;
        let score = ScoreOptions {
            window_length: Some(o.window_length),
            use_start_end_tokens: o.use_start_end_tokens,
            use_geo_mean: o.use_geo_mean,
            window_end: match o.window_end {
                WindowEndOption::Reference => WindowEnd::Reference,
                WindowEndOption::IncludeEndToken => WindowEnd::IncludeEndToken,
            },
        };
        let table = read_input(op, input)?;
        let (out, _) = score_table_with(
            &table,
            &column,
            model.as_ref(),
            &TrainOptions {
                modellable_params: o.modellable_params,
            },
            &score,
            &ExtraColumns {
                session_likelihoods: o.session_likelihoods,
                window_start: o.window_start,
            },
        )
        .map_err(|e| engine_error(op, e))?;
        write_batch(op, &out)
    }
}

const DISPLAY_COLUMNS: OptionInfo = OptionInfo {
    name: "columns",
    type_name: "list of strings",
    required: false,
    default: "[]",
    description: "Further input columns carried to each event's output row (for display).",
};

static SCORE_EVENTS_INFO: OpInfo = OpInfo {
    name: "sessions.score_events",
    description: "Sessionize events, score the sessions' commands with a Markov-chain model and return one flat row per event with its session's rarest window (for viewers).",
    input: "events with the key columns, the time column and the event column (the commands)",
    output: "session, position, row: int64, time_ms: float64, rarest_window_likelihood: float64, rarest_window_start: int64, rarest_window_commands: int64, then the key, event and listed columns; one row per event, session by session in time order",
    options: &[
        USER_IDENTIFIER_COLS,
        TIME_COL,
        MAX_SESSION_TIME_MINS,
        MAX_EVENT_SEPARATION_MINS,
        EVENT_COL,
        NULL_KEYS,
        WINDOW_LENGTH,
        USE_START_END_TOKENS,
        USE_GEO_MEAN,
        MODELLABLE_PARAMS,
        MODEL_BASE64,
        DISPLAY_COLUMNS,
    ],
};

// No deny_unknown_fields (serde does not combine it with flatten): parse_options checks the keys.
#[derive(Deserialize)]
#[serde(default)]
struct ScoreEventsOptions {
    #[serde(flatten)]
    build: BuildOptions,
    window_length: usize,
    use_start_end_tokens: bool,
    use_geo_mean: bool,
    modellable_params: Option<Vec<String>>,
    model_base64: Option<String>,
    columns: Vec<String>,
}

impl Default for ScoreEventsOptions {
    fn default() -> Self {
        ScoreEventsOptions {
            build: BuildOptions::default(),
            window_length: 3,
            use_start_end_tokens: true,
            use_geo_mean: false,
            modellable_params: None,
            model_base64: None,
            columns: Vec::new(),
        }
    }
}

/// `sessions.score_events`: `sessions.build` then `sessions.score` in one call, with the result
/// laid out per event in flat columns (numbers and the input's own columns, no lists), so that
/// a viewer reading plain columns (the widgets' Arrow reader) can draw every session and list
/// its events. `session` is the session's row in `sessions.build`'s output with the same
/// options, so a host can map a viewer's choice back to those rows.
pub struct ScoreEventsOp;

impl Operation for ScoreEventsOp {
    fn info(&self) -> &'static OpInfo {
        &SCORE_EVENTS_INFO
    }

    fn run(&self, options: &[u8], input: &[u8]) -> Result<Vec<u8>, OpError> {
        let op = SCORE_EVENTS_INFO.name;
        let o: ScoreEventsOptions = parse_options(&SCORE_EVENTS_INFO, options)?;
        let model = decode_model(op, o.model_base64.as_deref())?;
        let opts = o.build.sessionize_options(op)?;
        let table = read_input(op, input)?;
        let input_err = |source| OpError::input(op, source);
        let mut carried: Vec<String> = opts.user_identifier_cols.clone();
        for name in std::iter::once(&opts.event_col).chain(&o.columns) {
            if !carried.contains(name) {
                carried.push(name.clone());
            }
        }
        for name in &carried {
            table.column(name).map_err(input_err)?;
        }
        let (sessions, groups) =
            sessionize_with_rows(&table, &opts).map_err(|e| engine_error(op, e))?;
        let list_column = format!("{}_list", opts.event_col);
        let sessions = Table::new(sessions.schema(), vec![sessions]).map_err(input_err)?;
        let batch =
            sessions_from_column(&sessions, &list_column).map_err(|e| engine_error(op, e))?;
        let model = match model {
            Some(m) => m,
            None => Model::train(
                &batch,
                &TrainOptions {
                    modellable_params: o.modellable_params,
                },
            )
            .map_err(|e| engine_error(op, e))?,
        };
        let scores = model
            .score(
                &batch,
                &ScoreOptions {
                    window_length: Some(o.window_length),
                    use_start_end_tokens: o.use_start_end_tokens,
                    use_geo_mean: o.use_geo_mean,
                    window_end: WindowEnd::Reference,
                },
            )
            .map_err(|e| engine_error(op, e))?;
        let times = table.times_ns(&opts.time_col).map_err(input_err)?;
        let n = groups.rows.len();
        let mut session = Vec::with_capacity(n);
        let mut position = Vec::with_capacity(n);
        let mut likelihood = Vec::with_capacity(n);
        let mut window_start = Vec::with_capacity(n);
        let mut window_commands = Vec::with_capacity(n);
        for (s, bounds) in groups.offsets.windows(2).enumerate() {
            let score = &scores[s];
            for p in 0..bounds[1] - bounds[0] {
                session.push(s as i64);
                position.push(p as i64);
                likelihood.push(score.rarest_likelihood());
                window_start.push(score.rarest.map(|r| r.start as i64));
                window_commands.push(score.rarest.map_or(0, |r| r.commands as i64));
            }
        }
        let time_ms: Vec<f64> = groups
            .rows
            .iter()
            .map(|&r| times.values()[r as usize] as f64 / 1e6)
            .collect();
        let rows = UInt32Array::from(groups.rows.clone());
        let mut fields = vec![
            Field::new("session", DataType::Int64, false),
            Field::new("position", DataType::Int64, false),
            Field::new("row", DataType::Int64, false),
            Field::new("time_ms", DataType::Float64, false),
            Field::new("rarest_window_likelihood", DataType::Float64, false),
            Field::new("rarest_window_start", DataType::Int64, true),
            Field::new("rarest_window_commands", DataType::Int64, false),
        ];
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(session)),
            Arc::new(Int64Array::from(position)),
            Arc::new(Int64Array::from_iter_values(
                groups.rows.iter().map(|&r| i64::from(r)),
            )),
            Arc::new(Float64Array::from(time_ms)),
            Arc::new(Float64Array::from(likelihood)),
            Arc::new(Int64Array::from(window_start)),
            Arc::new(Int64Array::from(window_commands)),
        ];
        for name in &carried {
            if fields.iter().any(|f| f.name() == name) {
                return Err(OpError::BadOption {
                    op: op.into(),
                    key: "columns".into(),
                    message: format!(
                        "column '{name}' clashes with an output column of the same name"
                    ),
                });
            }
            let column = table.column(name).map_err(input_err)?;
            let taken = arrow_select::take::take(column.as_ref(), &rows, None)
                .map_err(|e| OpError::engine(op, e))?;
            fields.push(Field::new(name, taken.data_type().clone(), true));
            columns.push(taken);
        }
        let out = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
            .map_err(|e| OpError::engine(op, e))?;
        write_batch(op, &out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Float64Type;
    use arrow_array::TimestampNanosecondArray;

    const MIN: i64 = 60_000_000_000;

    fn events() -> Vec<u8> {
        // bob: two sessions (a 10 min gap splits), amy: one session with a rare command.
        let rows = [
            ("bob", 0, "Get"),
            ("bob", 1, "Set"),
            ("bob", 12, "Get"),
            ("bob", 13, "Set"),
            ("amy", 0, "Get"),
            ("amy", 1, "Add-RoleGroupMember"),
        ];
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            )),
            Arc::new(
                TimestampNanosecondArray::from(rows.iter().map(|r| r.1 * MIN).collect::<Vec<_>>())
                    .with_timezone("UTC"),
            ),
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            )),
        ];
        let schema = Arc::new(Schema::new(
            ["UserId", "TimeGenerated", "Operation"]
                .iter()
                .zip(&columns)
                .map(|(n, c)| Field::new(*n, c.data_type().clone(), true))
                .collect::<Vec<_>>(),
        ));
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        hg_arrow::write_ipc_stream(&schema, &[batch]).unwrap()
    }

    const BUILD: &str = r#"{"user_identifier_cols": ["UserId"], "max_session_time_mins": 20,
        "max_event_separation_mins": 5, "event_col": "Operation"}"#;

    #[test]
    fn build_train_and_score() {
        let sessions = BuildOp.run(BUILD.as_bytes(), &events()).unwrap();
        let table = hg_arrow::read_ipc_stream(&sessions).unwrap();
        assert_eq!(table.num_rows(), 3);
        assert!(table.has_column("Operation_list") && table.has_column("number_events"));

        let opts = br#"{"session_column": "Operation_list", "window_length": 2, "session_likelihoods": true}"#;
        let scored = hg_arrow::read_ipc_stream(&ScoreOp.run(opts, &sessions).unwrap()).unwrap();
        for c in [
            "rarest_window2_likelihood",
            "rarest_window2",
            "session_likelihood",
        ] {
            assert!(scored.has_column(c), "{c}");
        }
        let lik = scored.column("rarest_window2_likelihood").unwrap();
        let lik = lik.as_primitive::<Float64Type>();
        // amy's session (first row: keys sort amy < bob) holds the rare command.
        assert!(lik.value(0) < lik.value(1) && lik.value(0) < lik.value(2));

        let trained = TrainOp
            .run(br#"{"session_column": "Operation_list"}"#, &sessions)
            .unwrap();
        let trained = hg_arrow::read_ipc_stream(&trained).unwrap();
        let model = trained.column("model").unwrap();
        let model = model.as_binary::<i32>().value(0).to_vec();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&model);
        let opts = format!(
            r#"{{"session_column": "Operation_list", "window_length": 2, "model_base64": "{b64}"}}"#
        );
        let again =
            hg_arrow::read_ipc_stream(&ScoreOp.run(opts.as_bytes(), &sessions).unwrap()).unwrap();
        let again = again.column("rarest_window2_likelihood").unwrap();
        assert_eq!(again.as_primitive::<Float64Type>().values(), lik.values());
    }

    #[test]
    fn window_start_marks_the_rarest_window_in_its_session() {
        let sessions = BuildOp.run(BUILD.as_bytes(), &events()).unwrap();
        // Windows of 3 with the end token: amy [Get, Add-RoleGroupMember] -> one window at 0;
        // windows of 4 fit no session of two commands -> null.
        for (length, expected) in [
            (2usize, [Some(1), Some(1), Some(1)]),
            (4, [None, None, None]),
        ] {
            let opts = format!(
                r#"{{"session_column": "Operation_list", "window_length": {length}, "window_start": true}}"#
            );
            let scored =
                hg_arrow::read_ipc_stream(&ScoreOp.run(opts.as_bytes(), &sessions).unwrap())
                    .unwrap();
            let starts = scored
                .column(&format!("rarest_window{length}_start"))
                .unwrap();
            let starts = starts.as_primitive::<arrow_array::types::Int64Type>();
            let got: Vec<Option<i64>> = starts.iter().collect();
            assert_eq!(got, expected, "window length {length}");
        }
        let plain = hg_arrow::read_ipc_stream(
            &ScoreOp
                .run(br#"{"session_column": "Operation_list"}"#, &sessions)
                .unwrap(),
        )
        .unwrap();
        assert!(!plain.has_column("rarest_window3_start"));
    }

    #[test]
    fn score_events_matches_build_then_score_per_event() {
        use arrow_array::types::Int64Type;
        let input = events();
        let sessions = BuildOp.run(BUILD.as_bytes(), &input).unwrap();
        let scored = hg_arrow::read_ipc_stream(
            &ScoreOp
                .run(
                    br#"{"session_column": "Operation_list", "window_length": 2, "window_start": true}"#,
                    &sessions,
                )
                .unwrap(),
        )
        .unwrap();
        let per_session_lik = scored.numbers_f64("rarest_window2_likelihood").unwrap();
        let per_session_start = scored.numbers_f64("rarest_window2_start").unwrap();
        let counts = scored.numbers_f64("number_events").unwrap();

        let opts = BUILD.replace('}', r#", "window_length": 2}"#);
        let flat = hg_arrow::read_ipc_stream(&ScoreEventsOp.run(opts.as_bytes(), &input).unwrap())
            .unwrap();
        assert_eq!(flat.num_rows(), 6);
        assert_eq!(
            flat.column_names(),
            [
                "session",
                "position",
                "row",
                "time_ms",
                "rarest_window_likelihood",
                "rarest_window_start",
                "rarest_window_commands",
                "UserId",
                "Operation"
            ]
        );
        let session = flat.numbers_f64("session").unwrap();
        let position = flat.numbers_f64("position").unwrap();
        let lik = flat.numbers_f64("rarest_window_likelihood").unwrap();
        let start = flat.numbers_f64("rarest_window_start").unwrap();
        let ops = flat.strings("Operation").unwrap();
        let users = flat.strings("UserId").unwrap();
        let row = flat.column("row").unwrap();
        let row = row.as_primitive::<Int64Type>();
        // amy's session first (keys sorted), then bob's two in time order.
        assert_eq!(session, [0.0, 0.0, 1.0, 1.0, 2.0, 2.0]);
        assert_eq!(position, [0.0, 1.0, 0.0, 1.0, 0.0, 1.0]);
        assert_eq!(row.values().to_vec(), [4, 5, 0, 1, 2, 3]);
        assert_eq!(ops.get(1), Some("Add-RoleGroupMember"));
        assert_eq!(users.get(0), Some("amy"));
        for i in 0..6 {
            let s = session[i] as usize;
            assert_eq!(lik[i], per_session_lik[s]);
            assert_eq!(start[i], per_session_start[s]);
        }
        assert_eq!(counts, [2.0, 2.0, 2.0]);
        let time = flat.numbers_f64("time_ms").unwrap();
        assert_eq!(time[2], 0.0);
        assert_eq!(time[5], 13.0 * 60_000.0);

        let e = ScoreEventsOp
            .run(
                BUILD.replace('}', r#", "columns": ["Nope"]}"#).as_bytes(),
                &input,
            )
            .unwrap_err();
        assert!(e.to_string().contains("Nope"), "{e}");
        let e = ScoreEventsOp
            .run(BUILD.replace('}', r#", "colums": []}"#).as_bytes(), &input)
            .unwrap_err();
        assert!(e.to_string().contains("colums"), "{e}");
    }

    #[test]
    fn errors_name_the_problem() {
        let e = BuildOp
            .run(br#"{"event_col": "Operation"}"#, &events())
            .unwrap_err();
        assert!(e.to_string().contains("max_session_time_mins"), "{e}");
        let e = BuildOp
            .run(BUILD.replace("Operation", "Nope").as_bytes(), &events())
            .unwrap_err();
        assert!(e.to_string().contains("Nope"), "{e}");
        let sessions = BuildOp.run(BUILD.as_bytes(), &events()).unwrap();
        let e = ScoreOp
            .run(
                br#"{"session_column": "Operation_list", "model_base64": "AAAA"}"#,
                &sessions,
            )
            .unwrap_err();
        assert!(e.to_string().contains("model_base64"), "{e}");
        let e = ScoreOp
            .run(
                br#"{"session_column": "Operation_list", "window_length": 0}"#,
                &sessions,
            )
            .unwrap_err();
        assert!(e.to_string().contains("window_length"), "{e}");
        let e = ScoreOp
            .run(
                br#"{"session_column": "Operation_list", "window_end": "x"}"#,
                &sessions,
            )
            .unwrap_err();
        assert!(e.to_string().contains("window_end"), "{e}");
    }
}
