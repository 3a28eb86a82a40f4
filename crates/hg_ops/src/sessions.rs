//! The session operations over Arrow: `sessions.build`, `sessions.train` and `sessions.score`
//! (engine: `hg_analytics`).
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
//! `session_likelihoods` is set. Without `model_base64` the model is trained on the input's
//! sessions (the reference's `score_sessions`).

use std::sync::Arc;

use arrow_array::{ArrayRef, BinaryArray, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use base64::Engine as _;
use hg_analytics::{
    score_table, sessionize, sessions_from_column, AnalyticsError, Model, NullKeys, ScoreOptions,
    SessionizeOptions, TrainOptions, WindowEnd,
};
use hg_arrow::Table;
use serde::Deserialize;

use crate::{parse_options, OpError, OpInfo, Operation, OptionInfo};

fn engine_error(op: &str, e: AnalyticsError) -> OpError {
    match e {
        AnalyticsError::Arrow(source) => OpError::Input {
            op: op.to_string(),
            source,
        },
        other => OpError::Engine {
            op: op.to_string(),
            message: other.to_string(),
        },
    }
}

fn read_input(op: &str, input: &[u8]) -> Result<Table, OpError> {
    hg_arrow::read_ipc_stream(input).map_err(|source| OpError::Input {
        op: op.to_string(),
        source,
    })
}

fn write_output(op: &str, batch: &RecordBatch) -> Result<Vec<u8>, OpError> {
    hg_arrow::write_ipc_stream(&batch.schema(), std::slice::from_ref(batch)).map_err(|source| {
        OpError::Input {
            op: op.to_string(),
            source,
        }
    })
}

static BUILD_INFO: OpInfo = OpInfo {
    name: "sessions.build",
    description: "Group events into sessions per user with a maximum gap between events and a maximum session duration.",
    input: "events with the key columns, the time column and the event column",
    output: "<key columns>, <time_col>_min, <time_col>_max: timestamp, <event_col>_list: list, duration: duration ns, number_events: int64; one row per session",
    options: &[
        OptionInfo {
            name: "user_identifier_cols",
            type_name: "list of strings",
            required: false,
            default: "[]",
            description: "Columns identifying the user (a change starts a new session).",
        },
        OptionInfo {
            name: "time_col",
            type_name: "string",
            required: false,
            default: "\"TimeGenerated\"",
            description: "The event time column.",
        },
        OptionInfo {
            name: "max_session_time_mins",
            type_name: "number",
            required: true,
            default: "null",
            description: "Longest session, from its first event, in minutes.",
        },
        OptionInfo {
            name: "max_event_separation_mins",
            type_name: "number",
            required: true,
            default: "null",
            description: "Longest gap between consecutive events of a session, in minutes.",
        },
        OptionInfo {
            name: "event_col",
            type_name: "string",
            required: true,
            default: "null",
            description: "The column listed per session.",
        },
        OptionInfo {
            name: "null_keys",
            type_name: "string",
            required: false,
            default: "\"reference\"",
            description: "\"reference\": missing keys are grouped as the text dummy_str (as the reference); \"own_group\": missing keys form their own group, sorted last.",
        },
    ],
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
        let missing = |key: &str| OpError::MissingOption {
            op: op.into(),
            key: key.into(),
        };
        let mut opts = SessionizeOptions::new(
            o.user_identifier_cols,
            o.time_col,
            o.max_session_time_mins
                .ok_or_else(|| missing("max_session_time_mins"))?,
            o.max_event_separation_mins
                .ok_or_else(|| missing("max_event_separation_mins"))?,
            o.event_col.ok_or_else(|| missing("event_col"))?,
        )
        .map_err(|e| engine_error(op, e))?;
        opts.null_keys = match o.null_keys {
            NullKeysOption::Reference => NullKeys::Reference,
            NullKeysOption::OwnGroup => NullKeys::OwnGroup,
        };
        let table = read_input(op, input)?;
        let out = sessionize(&table, &opts).map_err(|e| engine_error(op, e))?;
        write_output(op, &out)
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
        let out = RecordBatch::try_new(schema, columns).map_err(|e| OpError::Engine {
            op: op.into(),
            message: e.to_string(),
        })?;
        write_output(op, &out)
    }
}

static SCORE_INFO: OpInfo = OpInfo {
    name: "sessions.score",
    description: "Score how likely each session's commands are under a Markov-chain model and find each session's rarest window.",
    input: "a table with the session column",
    output: "the input columns + rarest_window{N}_likelihood: float64, rarest_window{N}: list (+ session_likelihood, session_geomean_likelihood: float64)",
    options: &[
        SESSION_COLUMN,
        OptionInfo {
            name: "window_length",
            type_name: "integer",
            required: false,
            default: "3",
            description: "Length of the sliding windows searched for the rarest one.",
        },
        OptionInfo {
            name: "use_start_end_tokens",
            type_name: "boolean",
            required: false,
            default: "true",
            description: "Include the session start and end tokens in the likelihoods.",
        },
        OptionInfo {
            name: "use_geo_mean",
            type_name: "boolean",
            required: false,
            default: "false",
            description: "Raise window likelihoods to 1/window_length (columns get a _geo suffix).",
        },
        OptionInfo {
            name: "window_end",
            type_name: "string",
            required: false,
            default: "\"reference\"",
            description: "\"reference\": a rarest window that ends the session is returned one command short (as the reference); \"include_end_token\": it ends with ##END##.",
        },
        OptionInfo {
            name: "session_likelihoods",
            type_name: "boolean",
            required: false,
            default: "false",
            description: "Also return session_likelihood and session_geomean_likelihood.",
        },
        MODELLABLE_PARAMS,
        OptionInfo {
            name: "model_base64",
            type_name: "string",
            required: false,
            default: "null",
            description: "A model from sessions.train (base64); null = train on the input's sessions.",
        },
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
        let model = match &o.model_base64 {
            None => None,
            Some(text) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .map_err(|e| OpError::BadOption {
                        op: op.into(),
                        key: "model_base64".into(),
                        message: format!("not base64: {e}"),
                    })?;
                Some(Model::from_bytes(&bytes).map_err(|e| OpError::BadOption {
                    op: op.into(),
                    key: "model_base64".into(),
                    message: e.to_string(),
                })?)
            }
        };
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
        let (out, _) = score_table(
            &table,
            &column,
            model.as_ref(),
            &TrainOptions {
                modellable_params: o.modellable_params,
            },
            &score,
            o.session_likelihoods,
        )
        .map_err(|e| engine_error(op, e))?;
        write_output(op, &out)
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
