//! The Markov-chain session model (the reference's `anomalous_sequence`).
//!
//! A session is an ordered list of commands. The model counts single commands and pairs of
//! consecutive commands (with a start token before and an end token after every session),
//! optionally the parameter names of each command and the values of parameters, smooths the
//! counts with the reference's asymmetric add-one rules, and turns them into probabilities:
//!
//! - `prior[c]` = smoothed count of `c` / sum of all smoothed single counts;
//! - `trans[a][b]` = smoothed count of `a` then `b` / smoothed count of `a` then anything;
//! - `P(param | cmd)` = smoothed count of the pair / smoothed count of `cmd` (independent
//!   Bernoulli per parameter);
//! - `P(value | param)` = smoothed count / row total (categorical), for *modellable* parameters.
//!
//! A window's likelihood is `trans[START][c1]` (or `prior[c1]` when the window does not start the
//! session) times `trans[c(i-1)][c(i)]` for the following commands, each command multiplied by the
//! geometric mean of its parameter (and value) factors. Unknown commands, parameters and values
//! fall back to the unknown token's entries.
//!
//! Smoothing in closed form (equal to the reference's loops): with K distinct commands, every
//! command and the unknown token gain `2(K+2)` in the single counts, start and end gain `K+2`,
//! every row (start, commands, unknown) gains 1 for each successor (commands, end, unknown);
//! every `(cmd, param)` pair seen gains 1 and every command (with start, end and unknown) gains an
//! unknown-parameter count of 1; every `(param, value)` pair seen gains 1 and every parameter
//! (with unknown) an unknown-value count of 1.
//!
//! Deliberate differences from the reference: names equal to the tokens are rejected (see the
//! crate docs); a window length of 0 is an error (the reference returns NaN); scoring sessions
//! other than the training ones is supported; numbers and booleans given as parameter values
//! are compared as text (`1` and `"1"` are the same value), with Python's truthiness (`0`,
//! `false`, `""` and `null` mean "no value").

pub(crate) mod batch;
mod codec;
mod command;
mod counts;
mod score;

pub use batch::SessionBatch;
pub use command::Command;
pub use score::{RarestWindow, ScoreOptions, SessionScore, WindowEnd};

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::AnalyticsError;
use counts::ModelCounts;

/// The token before the first command of every session.
pub const START_TOKEN: &str = "##START##";
/// The token after the last command of every session.
pub const END_TOKEN: &str = "##END##";
/// The token standing for anything not seen in training.
pub const UNK_TOKEN: &str = "##UNK##";
/// Most distinct strings in one vocabulary (commands, parameters or values).
pub const MAX_VOCABULARY: usize = 1 << 26;
/// Longest window accepted (the rarest-window search costs events × window length).
pub const MAX_WINDOW_LENGTH: usize = 100_000;

/// Model id of the start token.
pub(crate) const START: u32 = 0;
/// Model id of the end token.
pub(crate) const END: u32 = 1;
/// Model id of the unknown command.
pub(crate) const UNK: u32 = 2;
/// Model ids of real commands start here.
pub(crate) const FIRST_COMMAND: u32 = 3;
/// Model id of the unknown parameter and of the unknown value.
pub(crate) const UNK_ID: u32 = 0;
/// A parameter not in the model (never matches a model parameter) or a missing value.
pub(crate) const ABSENT: u32 = u32::MAX;

/// What each command of a session carries (decided from the first command of the first session,
/// as the reference does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionType {
    /// Commands only (`["Set-User", "Set-Mailbox"]`).
    CmdsOnly,
    /// Commands with a set of parameter names.
    CmdsParamsOnly,
    /// Commands with parameter names and values.
    CmdsParamsValues,
}

impl SessionType {
    /// The reference's name of the type (`cmds_only`, `cmds_params_only`, `cmds_params_values`).
    pub fn reference_name(self) -> &'static str {
        match self {
            SessionType::CmdsOnly => "cmds_only",
            SessionType::CmdsParamsOnly => "cmds_params_only",
            SessionType::CmdsParamsValues => "cmds_params_values",
        }
    }

    fn has_params(self) -> bool {
        self != SessionType::CmdsOnly
    }
}

/// Training options.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainOptions {
    /// Parameters whose values are modelled (commands with parameters and values only). `None`
    /// applies the reference's heuristic: a parameter seen at least 20 times with at most 20
    /// distinct values, at most 10% of its occurrences distinct.
    pub modellable_params: Option<Vec<String>>,
}

/// A trained session model: probabilities derived from smoothed counts, with vocabularies.
#[derive(Debug, Clone)]
pub struct Model {
    counts: ModelCounts,
    commands: HashMap<String, u32>,
    params: HashMap<String, u32>,
    values: HashMap<String, u32>,
    /// Smoothed single counts by command id (tokens included).
    seq1_smoothed: Vec<f64>,
    prior: Vec<f64>,
    transitions: Transitions,
    /// Per command id, its parameter row `(param id, P(param | cmd))`, unknown last.
    param_rows: Vec<(u32, f64)>,
    param_row_offsets: Vec<usize>,
    /// Per parameter id, whether its values are modelled.
    modellable: Vec<bool>,
    /// Smoothed `(param, value)` probabilities of seen pairs.
    value_probs: HashMap<(u32, u32), f64>,
    /// Per parameter id, the probability of an unseen value.
    value_unknown: Vec<f64>,
}

/// Transition probabilities: dense for small vocabularies, sparse (seen pairs + row default)
/// otherwise.
#[derive(Debug, Clone)]
enum Transitions {
    Dense {
        n: usize,
        probs: Vec<f64>,
    },
    Sparse {
        seen: HashMap<(u32, u32), f64>,
        row_default: Vec<f64>,
    },
}

/// Largest command vocabulary (tokens included) held as a dense transition matrix (8 MiB).
const DENSE_LIMIT: usize = 1024;

impl Model {
    /// Trains a model on a batch of sessions.
    pub fn train(batch: &SessionBatch, options: &TrainOptions) -> Result<Model, AnalyticsError> {
        Model::from_counts(ModelCounts::count(batch, options)?)
    }

    /// The session type the model was trained on.
    pub fn session_type(&self) -> SessionType {
        self.counts.kind
    }

    /// Number of training sessions.
    pub fn training_sessions(&self) -> u64 {
        self.counts.sessions
    }

    /// Distinct commands seen in training (tokens excluded), in first-seen order.
    pub fn commands(&self) -> &[String] {
        &self.counts.commands
    }

    /// The parameters whose values are modelled, in first-seen order.
    pub fn modellable_params(&self) -> Vec<&str> {
        self.counts
            .modellable
            .iter()
            .map(|&p| self.counts.params[p as usize - 1].as_str())
            .collect()
    }

    fn command_id(&self, name: &str) -> u32 {
        match name {
            START_TOKEN => START,
            END_TOKEN => END,
            _ => self.commands.get(name).copied().unwrap_or(UNK),
        }
    }

    /// `prior[cmd]` (unknown commands get the unknown token's probability).
    pub fn prior(&self, command: &str) -> f64 {
        self.prior[self.command_id(command) as usize]
    }

    /// `trans[prev][cur]` (unknown commands fall back to the unknown token's row or column).
    pub fn transition(&self, prev: &str, cur: &str) -> f64 {
        self.trans(self.command_id(prev), self.command_id(cur))
    }

    /// The smoothed single count of a command (a token name gives the token's count).
    pub fn smoothed_count(&self, command: &str) -> f64 {
        self.seq1_smoothed[self.command_id(command) as usize]
    }

    /// `P(param | cmd)`: the parameter's entry in the command's row (unknown commands use the
    /// unknown row; a parameter missing from the row gets the row's unknown entry).
    pub fn param_probability(&self, command: &str, param: &str) -> f64 {
        let row = self.param_row(self.command_id(command));
        let id = self.params.get(param).copied().unwrap_or(UNK_ID);
        row.iter()
            .find(|(p, _)| *p == id)
            .or_else(|| row.iter().find(|(p, _)| *p == UNK_ID))
            .map_or(0.0, |(_, prob)| *prob)
    }

    /// `P(value | param)` (unknown parameters use the unknown row, unseen values its unknown
    /// entry).
    pub fn value_probability(&self, param: &str, value: &str) -> f64 {
        let p = self.params.get(param).copied().unwrap_or(UNK_ID);
        let v = self.values.get(value).copied().unwrap_or(UNK_ID);
        self.value_prob(p, v)
    }

    pub(crate) fn trans(&self, prev: u32, cur: u32) -> f64 {
        // The end token has no row of its own: the reference falls back to the unknown row.
        let prev = if prev == END { UNK } else { prev };
        match &self.transitions {
            Transitions::Dense { n, probs } => probs[prev as usize * n + cur as usize],
            Transitions::Sparse { seen, row_default } => seen
                .get(&(prev, cur))
                .copied()
                .unwrap_or(row_default[prev as usize]),
        }
    }

    pub(crate) fn param_row(&self, cmd: u32) -> &[(u32, f64)] {
        let (a, b) = (
            self.param_row_offsets[cmd as usize],
            self.param_row_offsets[cmd as usize + 1],
        );
        &self.param_rows[a..b]
    }

    pub(crate) fn value_prob(&self, param: u32, value: u32) -> f64 {
        if param == ABSENT {
            return self.value_unknown[UNK_ID as usize];
        }
        self.value_probs
            .get(&(param, value))
            .copied()
            .unwrap_or(self.value_unknown[param as usize])
    }

    /// Saves the model (its counts; probabilities are derived again on load).
    pub fn to_bytes(&self) -> Result<Vec<u8>, AnalyticsError> {
        codec::encode(&self.counts)
    }

    /// Loads a model saved by [`Model::to_bytes`]; anything else is an error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, AnalyticsError> {
        Model::from_counts(codec::decode(bytes)?)
    }

    fn from_counts(counts: ModelCounts) -> Result<Model, AnalyticsError> {
        counts.validate()?;
        let k = counts.commands.len() as u64;
        let n_cmd = counts.commands.len() + FIRST_COMMAND as usize;
        let successors = k + 2; // real commands, END and UNK
        let mut raw1 = vec![0u64; n_cmd];
        raw1[START as usize] = counts.sessions;
        raw1[END as usize] = counts.sessions;
        for (i, &c) in counts.command_counts.iter().enumerate() {
            raw1[FIRST_COMMAND as usize + i] = c;
        }
        let mut seq1_smoothed = vec![0f64; n_cmd];
        let mut total: u64 = 2 * successors * successors;
        for (id, &raw) in raw1.iter().enumerate() {
            let gain = if id as u32 == START || id as u32 == END {
                successors
            } else {
                2 * successors
            };
            seq1_smoothed[id] = (raw + gain) as f64;
            total += raw;
        }
        let total = total as f64;
        let prior = seq1_smoothed.iter().map(|c| c / total).collect();

        let mut row_raw = vec![0u64; n_cmd];
        for &(a, _, c) in &counts.transitions {
            row_raw[a as usize] += c;
        }
        let row_total: Vec<f64> = row_raw.iter().map(|r| (r + successors) as f64).collect();
        let transitions = if n_cmd <= DENSE_LIMIT {
            let mut probs = vec![0f64; n_cmd * n_cmd];
            for prev in 0..n_cmd {
                for cur in 0..n_cmd {
                    // Nothing transitions to START (the smoothing adds no such pair).
                    if cur as u32 != START {
                        probs[prev * n_cmd + cur] = 1.0 / row_total[prev];
                    }
                }
            }
            for &(a, b, c) in &counts.transitions {
                probs[a as usize * n_cmd + b as usize] = (c + 1) as f64 / row_total[a as usize];
            }
            Transitions::Dense { n: n_cmd, probs }
        } else {
            let seen = counts
                .transitions
                .iter()
                .map(|&(a, b, c)| ((a, b), (c + 1) as f64 / row_total[a as usize]))
                .collect();
            let row_default = row_total.iter().map(|t| 1.0 / t).collect();
            Transitions::Sparse { seen, row_default }
        };

        let mut per_cmd: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n_cmd];
        if counts.kind.has_params() {
            for &(cmd, param, c) in &counts.command_params {
                per_cmd[cmd as usize].push((param, (c + 1) as f64 / seq1_smoothed[cmd as usize]));
            }
        }
        let mut param_rows = Vec::new();
        let mut param_row_offsets = Vec::with_capacity(n_cmd + 1);
        param_row_offsets.push(0);
        for (cmd, row) in per_cmd.into_iter().enumerate() {
            param_rows.extend(row);
            param_rows.push((UNK_ID, 1.0 / seq1_smoothed[cmd]));
            param_row_offsets.push(param_rows.len());
        }

        let n_params = counts.params.len() + 1;
        let mut modellable = vec![false; n_params];
        for &p in &counts.modellable {
            modellable[p as usize] = true;
        }
        let mut value_row_total = vec![1u64; n_params];
        for &(p, _, c) in &counts.param_values {
            value_row_total[p as usize] += c + 1;
        }
        let value_probs = counts
            .param_values
            .iter()
            .map(|&(p, v, c)| ((p, v), (c + 1) as f64 / value_row_total[p as usize] as f64))
            .collect();
        let value_unknown = value_row_total.iter().map(|&t| 1.0 / t as f64).collect();

        let index = |names: &[String], first: u32| -> HashMap<String, u32> {
            names
                .iter()
                .enumerate()
                .map(|(i, s)| (s.clone(), first + i as u32))
                .collect()
        };
        Ok(Model {
            commands: index(&counts.commands, FIRST_COMMAND),
            params: index(&counts.params, 1),
            values: index(&counts.values, 1),
            counts,
            seq1_smoothed,
            prior,
            transitions,
            param_rows,
            param_row_offsets,
            modellable,
            value_probs,
            value_unknown,
        })
    }
}
