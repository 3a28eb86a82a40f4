//! Session analytics for huntglass: sessionizing events and scoring session rarity with a Markov-chain model.
//!
//! # Design
//!
//! Two engines, both pure computations (no clock, file system or network; the crate builds for
//! `wasm32-unknown-unknown`):
//!
//! - [`sessionize`]: groups events (Arrow rows) into sessions per user (any number of key
//!   columns) with a maximum gap between consecutive events and a maximum session duration, with
//!   the semantics of the reference (MSTICPy 3.0.2 `sessionize_data`): strict `>` comparisons,
//!   the session duration counted from the session's first event, output columns
//!   `<key columns>`, `<time>_min`, `<time>_max`, `<event>_list`, `duration`, `number_events`.
//!   The event column may be of any Arrow type (strings for commands, structs `{name, params}`
//!   for commands with parameters), so sessions of any kind come out of it as list columns.
//! - [`model`]: the Markov-chain session model of the reference (`anomalous_sequence`): the three
//!   session types (commands; commands with parameter names; commands with parameters and
//!   values), start/end/unknown tokens, the reference's asymmetric Laplace smoothing, window and
//!   session likelihoods, geometric means and the rarest window of any length. A [`Model`] is
//!   trained on one [`SessionBatch`] and scores any other, and is saved to and loaded from bytes
//!   ([`Model::to_bytes`], [`Model::from_bytes`]).
//!
//! Strings are interned once per batch (commands, parameter names and values each get their own
//! vocabulary, as in the reference), so training and scoring work on integer ids: counting is one
//! pass over the events, smoothing is applied in closed form (the reference's pair loop is
//! quadratic in the number of distinct commands), and a window's likelihood is a product of
//! precomputed per-event factors.
//!
//! Where the reference has a quirk it is reproduced by default and the corrected behaviour is an
//! option: the rarest window that contains the end token is returned one command short
//! ([`WindowEnd`]); missing user keys are grouped under the text `dummy_str` ([`NullKeys`]).
//! Deliberate differences (errors where the reference crashes or mixes tokens with data) are
//! listed on [`model`] and [`sessionize`].
//!
//! # Input limits
//!
//! - Arrow input is read through `hg_arrow` (its size limits apply).
//! - Command names equal to the model's tokens (`##START##`, `##END##`, `##UNK##`) and
//!   parameter names or values equal to `##UNK##` are rejected with an error naming the session
//!   and item (the reference either crashes on them or silently double-counts them).
//! - At most [`model::MAX_VOCABULARY`] distinct strings per vocabulary and `u32::MAX` events.
//! - Model bytes are checked before use ([`Model::from_bytes`]): a wrong magic, version, a
//!   truncated or corrupted payload, ids out of range or inconsistent counts are errors, never
//!   panics, and the decoder never pre-allocates more than the input can describe.
//! - Window lengths must be at least 1 and at most [`model::MAX_WINDOW_LENGTH`].

pub mod arrow_io;
pub mod model;
pub mod periodic;
pub mod sessionize;
pub mod timeseries;
pub mod timeseries_table;

pub use arrow_io::{
    score_table, score_table_with, sessions_from_column, ExtraColumns, ScoreColumns,
};
pub use model::{
    Command, Model, RarestWindow, ScoreOptions, SessionBatch, SessionScore, SessionType,
    TrainOptions, WindowEnd, END_TOKEN, START_TOKEN, UNK_TOKEN,
};
pub use sessionize::{sessionize, sessionize_with_rows, NullKeys, SessionRows, SessionizeOptions};

use hg_arrow::HgArrowError;

/// Errors of the session engines.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// Reading the Arrow input failed (missing column, wrong type, bad IPC).
    #[error(transparent)]
    Arrow(#[from] HgArrowError),
    /// An option has a value that cannot be used.
    #[error("option '{name}': {detail}")]
    InvalidOption {
        /// The option.
        name: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// The sessions cannot be modelled (empty, mixed kinds, reserved names, null items).
    #[error("sessions: {0}")]
    InvalidSessions(String),
    /// Model bytes are not a valid saved model.
    #[error("model bytes: {0}")]
    ModelBytes(String),
    /// The input is larger than the engine's limits.
    #[error("input too large: {0}")]
    TooLarge(String),
    /// Building the Arrow output failed.
    #[error("building the output: {0}")]
    Output(String),
}

impl From<arrow_schema::ArrowError> for AnalyticsError {
    fn from(e: arrow_schema::ArrowError) -> Self {
        AnalyticsError::Output(e.to_string())
    }
}
