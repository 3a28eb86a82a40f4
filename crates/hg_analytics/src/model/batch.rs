//! Sessions encoded as integer ids over per-batch vocabularies.

use std::collections::HashMap;

use super::{Command, SessionType, ABSENT, END_TOKEN, MAX_VOCABULARY, START_TOKEN, UNK_TOKEN};
use crate::AnalyticsError;

/// Strings numbered in first-seen order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Interner {
    pub(crate) names: Vec<String>,
    index: HashMap<String, u32>,
}

impl Interner {
    fn intern(&mut self, s: &str, what: &str) -> Result<u32, AnalyticsError> {
        if let Some(&id) = self.index.get(s) {
            return Ok(id);
        }
        if self.names.len() >= MAX_VOCABULARY {
            return Err(AnalyticsError::TooLarge(format!(
                "more than {MAX_VOCABULARY} distinct {what}"
            )));
        }
        let id = self.names.len() as u32;
        self.names.push(s.to_string());
        self.index.insert(s.to_string(), id);
        Ok(id)
    }
}

/// A set of sessions ready for training or scoring: every command, parameter name and value is
/// numbered once (three separate vocabularies, as in the reference).
#[derive(Debug, Clone)]
pub struct SessionBatch {
    pub(crate) kind: SessionType,
    pub(crate) commands: Interner,
    pub(crate) params: Interner,
    pub(crate) values: Interner,
    /// Session boundaries into the items (one more than the number of sessions).
    pub(crate) session_offsets: Vec<usize>,
    /// Command id of every item.
    pub(crate) item_command: Vec<u32>,
    /// Parameter boundaries of every item (empty for commands only).
    pub(crate) item_param_offsets: Vec<usize>,
    /// Parameter ids, item by item (each item's distinct parameters in first-seen order).
    pub(crate) item_params: Vec<u32>,
    /// Value id of each parameter ([`ABSENT`] for no value); values type only.
    pub(crate) item_values: Vec<u32>,
}

impl SessionBatch {
    /// Encodes sessions; the session type is detected from the first command of the first
    /// session, as the reference does.
    pub fn from_sessions(sessions: &[Vec<Command>]) -> Result<SessionBatch, AnalyticsError> {
        let first = sessions
            .first()
            .ok_or_else(|| AnalyticsError::InvalidSessions("no session given".into()))?
            .first()
            .ok_or_else(|| empty_session(0))?;
        let kind = match first {
            Command::Name(_) => SessionType::CmdsOnly,
            Command::WithParams { .. } => SessionType::CmdsParamsOnly,
            Command::WithValues { .. } => SessionType::CmdsParamsValues,
        };
        let mut b = SessionBatchBuilder::new(kind);
        for (s, session) in sessions.iter().enumerate() {
            for (i, cmd) in session.iter().enumerate() {
                match (kind, cmd) {
                    (SessionType::CmdsOnly, Command::Name(n)) => b.command(n, s, i)?,
                    (SessionType::CmdsOnly, _) => {
                        return Err(AnalyticsError::InvalidSessions(format!(
                            "session {s} item {i} has parameters but the sessions are commands \
                             only (decided by the first command of the first session)"
                        )))
                    }
                    (_, Command::Name(n)) => {
                        return Err(AnalyticsError::InvalidSessions(format!(
                            "session {s} item {i} ('{n}') is a bare command name but the sessions \
                             are commands with parameters (decided by the first command of the \
                             first session)"
                        )))
                    }
                    (_, Command::WithParams { name, params }) => {
                        b.command(name, s, i)?;
                        for p in params {
                            b.param(p, None, s, i)?;
                        }
                    }
                    (_, Command::WithValues { name, params }) => {
                        b.command(name, s, i)?;
                        for (p, v) in params {
                            b.param(p, v.as_deref(), s, i)?;
                        }
                    }
                }
            }
            b.end_session(s)?;
        }
        b.finish()
    }

    /// The session type.
    pub fn session_type(&self) -> SessionType {
        self.kind
    }

    /// Number of sessions.
    pub fn len(&self) -> usize {
        self.session_offsets.len() - 1
    }

    /// Whether the batch has no session (never true for a built batch).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of commands in session `s`.
    pub fn session_len(&self, s: usize) -> usize {
        self.session_offsets[s + 1] - self.session_offsets[s]
    }

    /// Total number of commands.
    pub fn events(&self) -> usize {
        self.item_command.len()
    }

    /// The commands of session `s` (as given, parameters deduplicated).
    pub fn session(&self, s: usize) -> Vec<Command> {
        (self.session_offsets[s]..self.session_offsets[s + 1])
            .map(|item| self.command(item))
            .collect()
    }

    pub(crate) fn command(&self, item: usize) -> Command {
        let name = self.commands.names[self.item_command[item] as usize].clone();
        match self.kind {
            SessionType::CmdsOnly => Command::Name(name),
            SessionType::CmdsParamsOnly => Command::WithParams {
                name,
                params: self
                    .param_range(item)
                    .map(|j| self.params.names[self.item_params[j] as usize].clone())
                    .collect(),
            },
            SessionType::CmdsParamsValues => Command::WithValues {
                name,
                params: self
                    .param_range(item)
                    .map(|j| {
                        let v = self.item_values[j];
                        (
                            self.params.names[self.item_params[j] as usize].clone(),
                            (v != ABSENT).then(|| self.values.names[v as usize].clone()),
                        )
                    })
                    .collect(),
            },
        }
    }

    pub(crate) fn param_range(&self, item: usize) -> std::ops::Range<usize> {
        if self.item_param_offsets.is_empty() {
            0..0
        } else {
            self.item_param_offsets[item]..self.item_param_offsets[item + 1]
        }
    }
}

fn empty_session(s: usize) -> AnalyticsError {
    AnalyticsError::InvalidSessions(format!(
        "session {s} is empty; every session needs at least one command"
    ))
}

fn reserved(what: &str, name: &str, s: usize, i: usize) -> AnalyticsError {
    AnalyticsError::InvalidSessions(format!(
        "session {s} item {i}: the {what} '{name}' is reserved for the model's tokens"
    ))
}

/// Items with at most this many parameters are deduplicated by a linear scan.
const LINEAR_DEDUP: usize = 16;

/// Builds a [`SessionBatch`] command by command (used by the JSON and Arrow readers).
#[derive(Debug)]
pub(crate) struct SessionBatchBuilder {
    batch: SessionBatch,
    /// Parameters of the current item: id -> position in `item_params`, filled only for items
    /// with many parameters (small items are deduplicated by a linear scan).
    current: HashMap<u32, usize>,
}

impl SessionBatchBuilder {
    pub(crate) fn new(kind: SessionType) -> SessionBatchBuilder {
        SessionBatchBuilder {
            batch: SessionBatch {
                kind,
                commands: Interner::default(),
                params: Interner::default(),
                values: Interner::default(),
                session_offsets: vec![0],
                item_command: Vec::new(),
                item_param_offsets: if kind == SessionType::CmdsOnly {
                    Vec::new()
                } else {
                    vec![0]
                },
                item_params: Vec::new(),
                item_values: Vec::new(),
            },
            current: HashMap::new(),
        }
    }

    fn close_item(&mut self) {
        let b = &mut self.batch;
        if b.kind != SessionType::CmdsOnly && b.item_param_offsets.len() <= b.item_command.len() {
            b.item_param_offsets.push(b.item_params.len());
        }
        self.current.clear();
    }

    /// Starts a new command (closing the previous one).
    pub(crate) fn command(&mut self, name: &str, s: usize, i: usize) -> Result<(), AnalyticsError> {
        if matches!(name, START_TOKEN | END_TOKEN | UNK_TOKEN) {
            return Err(reserved("command name", name, s, i));
        }
        if self.batch.item_command.len() >= u32::MAX as usize {
            return Err(AnalyticsError::TooLarge(format!(
                "more than {} commands",
                u32::MAX
            )));
        }
        self.close_item();
        let id = self.batch.commands.intern(name, "commands")?;
        self.batch.item_command.push(id);
        Ok(())
    }

    /// Adds a parameter (and value) to the current command.
    pub(crate) fn param(
        &mut self,
        name: &str,
        value: Option<&str>,
        s: usize,
        i: usize,
    ) -> Result<(), AnalyticsError> {
        if name == UNK_TOKEN {
            return Err(reserved("parameter name", name, s, i));
        }
        let b = &mut self.batch;
        let id = b.params.intern(name, "parameters")?;
        let value = match value {
            Some(v) if !v.is_empty() && b.kind == SessionType::CmdsParamsValues => {
                if v == UNK_TOKEN {
                    return Err(reserved("parameter value", v, s, i));
                }
                b.values.intern(v, "values")?
            }
            _ => ABSENT,
        };
        let start = *b.item_param_offsets.last().unwrap_or(&0);
        let existing = if b.item_params.len() - start <= LINEAR_DEDUP {
            b.item_params[start..]
                .iter()
                .position(|&p| p == id)
                .map(|k| start + k)
        } else {
            if self.current.is_empty() {
                for (k, &p) in b.item_params[start..].iter().enumerate() {
                    self.current.insert(p, start + k);
                }
            }
            self.current.get(&id).copied()
        };
        match existing {
            // A set counts a name once; a dict keeps the last value in the first position.
            Some(pos) => {
                if b.kind == SessionType::CmdsParamsValues {
                    b.item_values[pos] = value;
                }
            }
            None => {
                if !self.current.is_empty() {
                    self.current.insert(id, b.item_params.len());
                }
                b.item_params.push(id);
                if b.kind == SessionType::CmdsParamsValues {
                    b.item_values.push(value);
                }
            }
        }
        Ok(())
    }

    /// Ends the current session; an empty session is an error.
    pub(crate) fn end_session(&mut self, s: usize) -> Result<(), AnalyticsError> {
        self.close_item();
        let b = &mut self.batch;
        if b.item_command.len() == *b.session_offsets.last().unwrap_or(&0) {
            return Err(empty_session(s));
        }
        b.session_offsets.push(b.item_command.len());
        Ok(())
    }

    pub(crate) fn finish(self) -> Result<SessionBatch, AnalyticsError> {
        if self.batch.is_empty() {
            return Err(AnalyticsError::InvalidSessions("no session given".into()));
        }
        Ok(self.batch)
    }
}
