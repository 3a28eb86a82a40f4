//! The huntglass operation registry: a name, JSON options and Arrow IPC in, Arrow IPC out.
//!
//! # Design
//!
//! Every computation huntglass offers is an [`Operation`]: a name (`ioc.extract`), options as a
//! JSON object, one Arrow IPC **stream** in and one Arrow IPC stream out. The four front doors
//! (browser wasm, the kernel module `hg_kernel` run by Python through wasmtime, the `huntglass`
//! command and the proxy) all call [`Registry::call`] on the same [`Registry::standard`], so a
//! result is the same wherever it is computed and a new operation appears everywhere at once.
//! Operations describe themselves ([`OpInfo`]: purpose, input, output and every option with its
//! type and default); [`Registry::list_json`] is that description as JSON for hosts and docs.
//!
//! Options are parsed by [`parse_options`]: an empty body or `null` means "all defaults"; a key
//! the operation does not know is rejected with a message naming it and the valid keys; a value
//! of the wrong type is rejected naming the key; a required key that is missing is named too.
//! Errors are [`OpError`]; their `Display` text is the message every front door shows
//! (the kernel hands it to Python as `ValueError`, the CLI prints it).
//!
//! # Operations
//!
//! - `ioc.extract`: indicators in string columns, one output row per occurrence
//!   (`IoCType, Observable, Canonical, SourceIndex, Column, Start, End`); see [`ioc`].
//! - `ioc.validate`: per row, whether the whole value is one indicator of a given type.
//! - `ioc.type_of`: per row, the type of the whole value (`unknown` when it is none).
//! - `decode.unpack`: encoded content of a string column decoded recursively within limits, one
//!   output row per layer (the reference's base64-unpacking columns plus the chain, limits and,
//!   with `iocs`, each layer's indicators); see [`decode`].
//! - `sessions.build`, `sessions.train`, `sessions.score`, `sessions.score_events`: sessionizing
//!   events and scoring session rarity with a Markov-chain model; see [`sessions`].
//! - `timeseries.stl`, `timeseries.periodic`: STL decomposition with the reference's residual
//!   anomalies, and periodic-traffic (beaconing) detection per key; see [`timeseries`].
//! - `proctree.build`: process trees from process-creation events (input columns in tree order
//!   plus the tree columns); see [`proctree`].
//!
//! `validate` and `type_of` are operations (rather than separate functions) so that every front
//! door reaches them through the same single entry point; they are vectorized over a column, and
//! the Python helpers for one value send a one-row table.
//!
//! # Input limits
//!
//! Input streams are read with `hg_arrow`'s default [`hg_arrow::ReadLimits`] (rows, columns and
//! decoded bytes) and its pre-flight checks against decompression bombs and corrupt framing.
//! Options are at most [`MAX_OPTIONS_BYTES`] of JSON. Output batches are cut so that no string
//! buffer passes [`MAX_OUTPUT_BATCH_BYTES`] (Arrow's 32-bit string offsets can never overflow).
//! The engines themselves are linear in their input (see `hg_ioc`).

pub mod decode;
pub mod ioc;
pub mod proctree;
pub mod sessions;
pub mod timeseries;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

/// Largest accepted options document, in bytes (options are a handful of keys).
pub const MAX_OPTIONS_BYTES: usize = 1 << 20;

/// Output record batches are finished once their string data passes this many bytes.
pub const MAX_OUTPUT_BATCH_BYTES: usize = 64 << 20;

/// Why an operation could not run.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// No operation has this name.
    #[error("unknown operation '{name}'; available operations: {}", available.join(", "))]
    UnknownOperation {
        /// The name asked for.
        name: String,
        /// The registered names.
        available: Vec<String>,
    },
    /// The options are not a JSON object.
    #[error("{op}: options must be a JSON object: {message}")]
    InvalidOptions {
        /// The operation.
        op: String,
        /// What is wrong.
        message: String,
    },
    /// An option the operation does not know.
    #[error("{op}: unknown option '{key}'; valid options: {}", valid.join(", "))]
    UnknownOption {
        /// The operation.
        op: String,
        /// The key given.
        key: String,
        /// The keys the operation accepts.
        valid: Vec<String>,
    },
    /// A required option is missing.
    #[error("{op}: option '{key}' is required")]
    MissingOption {
        /// The operation.
        op: String,
        /// The missing key.
        key: String,
    },
    /// An option has a value of the wrong type or an invalid value.
    #[error("{op}: option '{key}': {message}")]
    BadOption {
        /// The operation.
        op: String,
        /// The key.
        key: String,
        /// What is wrong with the value.
        message: String,
    },
    /// The input could not be read or lacks what the operation needs (missing column, wrong type,
    /// bad IPC, too large).
    #[error("{op}: {source}")]
    Input {
        /// The operation.
        op: String,
        /// The Arrow-level error, naming the column and the columns that exist.
        #[source]
        source: hg_arrow::HgArrowError,
    },
    /// The engine refused the request.
    #[error("{op}: {message}")]
    Engine {
        /// The operation.
        op: String,
        /// The engine's message.
        message: String,
    },
}

impl OpError {
    /// The operation's input (or output) failed at the Arrow level.
    pub fn input(op: &str, source: hg_arrow::HgArrowError) -> Self {
        OpError::Input {
            op: op.to_string(),
            source,
        }
    }

    /// The operation's engine refused the request.
    pub fn engine(op: &str, message: impl ToString) -> Self {
        OpError::Engine {
            op: op.to_string(),
            message: message.to_string(),
        }
    }
}

/// Reads an operation's input, an Arrow IPC stream; errors name the operation.
pub fn read_input(op: &str, input: &[u8]) -> Result<hg_arrow::Table, OpError> {
    hg_arrow::read_ipc_stream(input).map_err(|source| OpError::input(op, source))
}

/// Writes one batch as an operation's output, an Arrow IPC stream; errors name the operation.
pub fn write_batch(op: &str, batch: &arrow_array::RecordBatch) -> Result<Vec<u8>, OpError> {
    hg_arrow::write_ipc_stream(&batch.schema(), std::slice::from_ref(batch))
        .map_err(|source| OpError::input(op, source))
}

/// One option of an operation, as listed by the registry.
#[derive(Debug, Clone, Serialize)]
pub struct OptionInfo {
    /// The JSON key.
    pub name: &'static str,
    /// The JSON type expected (`"boolean"`, `"string"`, `"list of strings"`).
    #[serde(rename = "type")]
    pub type_name: &'static str,
    /// Whether the key must be given.
    pub required: bool,
    /// The value used when the key is absent, as JSON text (`"true"`, `"null"`).
    pub default: &'static str,
    /// What the option does.
    pub description: &'static str,
}

/// What an operation does, reads and returns.
#[derive(Debug, Clone, Serialize)]
pub struct OpInfo {
    /// The registry name (`ioc.extract`).
    pub name: &'static str,
    /// One sentence of purpose.
    pub description: &'static str,
    /// The input table it expects.
    pub input: &'static str,
    /// The output table's columns.
    pub output: &'static str,
    /// Every option it accepts.
    pub options: &'static [OptionInfo],
}

/// A computation with JSON options, Arrow IPC stream bytes in and out.
pub trait Operation: Send + Sync {
    /// The operation's self-description.
    fn info(&self) -> &'static OpInfo;

    /// Runs the operation on `input` (one Arrow IPC stream) with `options` (JSON object bytes;
    /// empty means all defaults) and returns the output stream.
    fn run(&self, options: &[u8], input: &[u8]) -> Result<Vec<u8>, OpError>;
}

/// The set of operations every front door calls.
pub struct Registry {
    operations: Vec<Box<dyn Operation>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.operations.iter().map(|op| op.info().name))
            .finish()
    }
}

impl Registry {
    /// Every huntglass operation.
    pub fn standard() -> Registry {
        Registry {
            operations: vec![
                Box::new(ioc::ExtractOp),
                Box::new(ioc::ValidateOp),
                Box::new(ioc::TypeOfOp),
                Box::new(sessions::BuildOp),
                Box::new(sessions::TrainOp),
                Box::new(sessions::ScoreOp),
                Box::new(sessions::ScoreEventsOp),
                Box::new(decode::UnpackOp),
                Box::new(proctree::BuildOp),
                Box::new(timeseries::StlOp),
                Box::new(timeseries::PeriodicOp),
            ],
        }
    }

    /// The operations' descriptions, in registration order.
    pub fn list(&self) -> Vec<&'static OpInfo> {
        self.operations.iter().map(|op| op.info()).collect()
    }

    /// The descriptions as JSON: `{"operations": [{name, description, input, output,
    /// options: [{name, type, required, default, description}]}]}` (`default` is JSON).
    pub fn list_json(&self) -> String {
        let operations: Vec<Value> = self
            .list()
            .into_iter()
            .map(|info| {
                let options: Vec<Value> = info
                    .options
                    .iter()
                    .map(|o| {
                        serde_json::json!({
                            "name": o.name,
                            "type": o.type_name,
                            "required": o.required,
                            "default": serde_json::from_str::<Value>(o.default)
                                .unwrap_or_else(|_| Value::String(o.default.to_string())),
                            "description": o.description,
                        })
                    })
                    .collect();
                serde_json::json!({
                    "name": info.name,
                    "description": info.description,
                    "input": info.input,
                    "output": info.output,
                    "options": options,
                })
            })
            .collect();
        serde_json::json!({ "operations": operations }).to_string()
    }

    /// The operation called `name`.
    pub fn get(&self, name: &str) -> Result<&dyn Operation, OpError> {
        self.operations
            .iter()
            .find(|op| op.info().name == name)
            .map(|op| op.as_ref())
            .ok_or_else(|| OpError::UnknownOperation {
                name: name.to_string(),
                available: self
                    .operations
                    .iter()
                    .map(|op| op.info().name.to_string())
                    .collect(),
            })
    }

    /// Runs the operation `name` with `options` (JSON object bytes, may be empty) on `input`
    /// (Arrow IPC stream bytes), returning its output stream.
    pub fn call(&self, name: &str, options: &[u8], input: &[u8]) -> Result<Vec<u8>, OpError> {
        self.get(name)?.run(options, input)
    }
}

/// Parses an operation's options: checks the keys against `info.options` (unknown and missing
/// required keys are named), then deserializes `T`. `T` must give every field a default
/// (`#[serde(default)]`) so that a failing key can be found by deserializing it alone.
pub fn parse_options<T: DeserializeOwned>(info: &OpInfo, json: &[u8]) -> Result<T, OpError> {
    let invalid = |message: String| OpError::InvalidOptions {
        op: info.name.to_string(),
        message,
    };
    if json.len() > MAX_OPTIONS_BYTES {
        return Err(invalid(format!(
            "{} bytes (at most {MAX_OPTIONS_BYTES})",
            json.len()
        )));
    }
    let value: Value = if json.trim_ascii().is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(json).map_err(|e| invalid(e.to_string()))?
    };
    let map = match value {
        Value::Null => Map::new(),
        Value::Object(map) => map,
        other => return Err(invalid(format!("got {}", json_kind(&other)))),
    };
    for key in map.keys() {
        if !info.options.iter().any(|o| o.name == key) {
            return Err(OpError::UnknownOption {
                op: info.name.to_string(),
                key: key.clone(),
                valid: info.options.iter().map(|o| o.name.to_string()).collect(),
            });
        }
    }
    if let Some(missing) = info
        .options
        .iter()
        .find(|o| o.required && map.get(o.name).is_none_or(Value::is_null))
    {
        return Err(OpError::MissingOption {
            op: info.name.to_string(),
            key: missing.name.to_string(),
        });
    }
    match serde_json::from_value::<T>(Value::Object(map.clone())) {
        Ok(parsed) => Ok(parsed),
        Err(whole) => {
            for (key, value) in map {
                let alone = Map::from_iter([(key.clone(), value)]);
                if let Err(e) = serde_json::from_value::<T>(Value::Object(alone)) {
                    return Err(OpError::BadOption {
                        op: info.name.to_string(),
                        key,
                        message: e.to_string(),
                    });
                }
            }
            Err(invalid(whole.to_string()))
        }
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
