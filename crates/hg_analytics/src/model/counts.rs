//! Raw (unsmoothed) training counts: what a saved model holds.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{
    SessionBatch, SessionType, TrainOptions, ABSENT, END, END_TOKEN, FIRST_COMMAND, MAX_VOCABULARY,
    START, START_TOKEN, UNK, UNK_TOKEN,
};
use crate::AnalyticsError;

/// Counts stay below 2^50 so that every smoothed count and total is exact in f64.
const MAX_COUNT: u64 = 1 << 50;

/// The reference's value-modelling heuristic thresholds.
const MODELLABLE_MAX_DISTINCT: u64 = 20;
const MODELLABLE_MIN_COUNT: u64 = 20;

/// Raw counts of a training set. Ids: commands `3..` (0 start, 1 end, 2 unknown), parameters and
/// values `1..` (0 unknown). Pair lists keep first-seen order (the order the reference multiplies
/// parameter factors in).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct ModelCounts {
    pub(crate) kind: SessionType,
    pub(crate) sessions: u64,
    pub(crate) commands: Vec<String>,
    pub(crate) params: Vec<String>,
    pub(crate) values: Vec<String>,
    /// Occurrences of each command (`commands[i]` has id `3 + i`).
    pub(crate) command_counts: Vec<u64>,
    /// `(prev, cur, count)` for every pair seen (start and end included).
    pub(crate) transitions: Vec<(u32, u32, u64)>,
    /// `(command, param, count)`.
    pub(crate) command_params: Vec<(u32, u32, u64)>,
    /// Occurrences of each parameter (`params[i]` has id `1 + i`).
    pub(crate) param_counts: Vec<u64>,
    /// `(param, value, count)` for parameters given a value.
    pub(crate) param_values: Vec<(u32, u32, u64)>,
    /// Parameter ids whose values are modelled.
    pub(crate) modellable: Vec<u32>,
}

fn bump(index: &mut HashMap<(u32, u32), usize>, list: &mut Vec<(u32, u32, u64)>, a: u32, b: u32) {
    match index.get(&(a, b)) {
        Some(&i) => list[i].2 += 1,
        None => {
            index.insert((a, b), list.len());
            list.push((a, b, 1));
        }
    }
}

impl ModelCounts {
    pub(crate) fn count(
        batch: &SessionBatch,
        options: &TrainOptions,
    ) -> Result<ModelCounts, AnalyticsError> {
        let n_cmd = batch.commands.names.len();
        let mut command_counts = vec![0u64; n_cmd];
        let mut transitions = Vec::new();
        let mut t_index = HashMap::new();
        let mut command_params = Vec::new();
        let mut cp_index = HashMap::new();
        let mut param_counts = vec![0u64; batch.params.names.len()];
        let mut param_values = Vec::new();
        let mut pv_index = HashMap::new();
        let values = batch.kind == SessionType::CmdsParamsValues;
        for s in 0..batch.len() {
            let mut prev = START;
            for item in batch.session_offsets[s]..batch.session_offsets[s + 1] {
                let local = batch.item_command[item];
                let cmd = FIRST_COMMAND + local;
                command_counts[local as usize] += 1;
                bump(&mut t_index, &mut transitions, prev, cmd);
                prev = cmd;
                for j in batch.param_range(item) {
                    let p = batch.item_params[j];
                    param_counts[p as usize] += 1;
                    bump(&mut cp_index, &mut command_params, cmd, p + 1);
                    if values {
                        let v = batch.item_values[j];
                        if v != ABSENT {
                            bump(&mut pv_index, &mut param_values, p + 1, v + 1);
                        }
                    }
                }
            }
            bump(&mut t_index, &mut transitions, prev, END);
        }
        let modellable = if !values {
            Vec::new()
        } else if let Some(names) = &options.modellable_params {
            let wanted: HashSet<&str> = names.iter().map(String::as_str).collect();
            // Parameters never seen cannot change a likelihood: they are left out.
            (0..batch.params.names.len())
                .filter(|&p| wanted.contains(batch.params.names[p].as_str()))
                .map(|p| p as u32 + 1)
                .collect()
        } else {
            let mut distinct = vec![0u64; batch.params.names.len() + 1];
            let mut order = Vec::new();
            for &(p, _, _) in &param_values {
                if distinct[p as usize] == 0 {
                    order.push(p);
                }
                distinct[p as usize] += 1;
            }
            order
                .into_iter()
                .filter(|&p| {
                    let (d, n) = (distinct[p as usize], param_counts[p as usize - 1]);
                    // 100 * d / n <= 10, in integers.
                    d <= MODELLABLE_MAX_DISTINCT && MODELLABLE_MIN_COUNT <= n && 10 * d <= n
                })
                .collect()
        };
        Ok(ModelCounts {
            kind: batch.kind,
            sessions: batch.len() as u64,
            commands: batch.commands.names.clone(),
            params: batch.params.names.clone(),
            values: if values {
                batch.values.names.clone()
            } else {
                Vec::new()
            },
            command_counts,
            transitions,
            command_params,
            param_counts,
            param_values,
            modellable,
        })
    }

    /// Checks that the counts are those of some training set (saved bytes are untrusted).
    pub(crate) fn validate(&self) -> Result<(), AnalyticsError> {
        let bad = |m: String| Err(AnalyticsError::ModelBytes(m));
        if self.sessions == 0 {
            return bad("no training session".into());
        }
        for (what, names) in [
            ("command", &self.commands),
            ("parameter", &self.params),
            ("value", &self.values),
        ] {
            if names.len() > MAX_VOCABULARY {
                return bad(format!("more than {MAX_VOCABULARY} {what}s"));
            }
            let mut seen = HashSet::with_capacity(names.len());
            for n in names.iter() {
                if !seen.insert(n.as_str()) {
                    return bad(format!("{what} '{n}' listed twice"));
                }
                let reserved = if what == "command" {
                    matches!(n.as_str(), START_TOKEN | END_TOKEN | UNK_TOKEN)
                } else {
                    n == UNK_TOKEN
                };
                if reserved {
                    return bad(format!("{what} '{n}' is a reserved token"));
                }
            }
        }
        if self.kind != SessionType::CmdsParamsValues && !self.values.is_empty() {
            return bad("values stored for a model without values".into());
        }
        if self.kind == SessionType::CmdsOnly && !self.params.is_empty() {
            return bad("parameters stored for a commands-only model".into());
        }
        let n_cmd = self.commands.len() + FIRST_COMMAND as usize;
        let n_param = self.params.len() + 1;
        let n_value = self.values.len() + 1;
        if self.command_counts.len() != self.commands.len()
            || self.param_counts.len() != self.params.len()
        {
            return bad("count lists do not match the vocabularies".into());
        }
        let mut all: Vec<u64> = vec![self.sessions];
        all.extend(&self.command_counts);
        all.extend(&self.param_counts);
        all.extend(self.transitions.iter().map(|t| t.2));
        all.extend(self.command_params.iter().map(|t| t.2));
        all.extend(self.param_values.iter().map(|t| t.2));
        if all.iter().any(|&c| c >= MAX_COUNT) {
            return bad("a count is too large".into());
        }
        let total: u128 = all.iter().map(|&c| c as u128).sum();
        if total >= MAX_COUNT as u128 {
            return bad("counts too large in total".into());
        }
        // Every command occurrence has one predecessor and one successor.
        let mut out = vec![0u64; n_cmd];
        let mut inc = vec![0u64; n_cmd];
        let mut pairs = HashSet::with_capacity(self.transitions.len());
        for &(a, b, c) in &self.transitions {
            if a as usize >= n_cmd
                || b as usize >= n_cmd
                || a == END
                || a == UNK
                || b == START
                || b == UNK
            {
                return bad(format!("transition ({a}, {b}) out of range"));
            }
            if c == 0 || !pairs.insert((a, b)) {
                return bad(format!("transition ({a}, {b}) repeated or zero"));
            }
            out[a as usize] += c;
            inc[b as usize] += c;
        }
        if out[START as usize] != self.sessions || inc[END as usize] != self.sessions {
            return bad("transitions do not match the number of sessions".into());
        }
        for (i, &c) in self.command_counts.iter().enumerate() {
            let id = FIRST_COMMAND as usize + i;
            if c == 0 || out[id] != c || inc[id] != c {
                return bad(format!(
                    "counts of command '{}' do not match its transitions",
                    self.commands[i]
                ));
            }
        }
        let mut param_sum = vec![0u64; n_param];
        let mut pairs = HashSet::with_capacity(self.command_params.len());
        for &(cmd, p, c) in &self.command_params {
            if (cmd as usize) < FIRST_COMMAND as usize
                || cmd as usize >= n_cmd
                || p == 0
                || p as usize >= n_param
                || c == 0
                || !pairs.insert((cmd, p))
                || c > self.command_counts[cmd as usize - FIRST_COMMAND as usize]
            {
                return bad(format!("command parameter entry ({cmd}, {p}, {c}) invalid"));
            }
            param_sum[p as usize] += c;
        }
        for (i, &c) in self.param_counts.iter().enumerate() {
            if c == 0 || param_sum[i + 1] != c {
                return bad(format!(
                    "count of parameter '{}' does not match its commands",
                    self.params[i]
                ));
            }
        }
        let mut value_sum = vec![0u64; n_param];
        let mut pairs = HashSet::with_capacity(self.param_values.len());
        for &(p, v, c) in &self.param_values {
            if p == 0
                || p as usize >= n_param
                || v == 0
                || v as usize >= n_value
                || c == 0
                || !pairs.insert((p, v))
            {
                return bad(format!("parameter value entry ({p}, {v}, {c}) invalid"));
            }
            value_sum[p as usize] += c;
        }
        if (1..n_param).any(|p| value_sum[p] > self.param_counts[p - 1]) {
            return bad("more values than parameter occurrences".into());
        }
        let mut modellable = HashSet::new();
        for &p in &self.modellable {
            if p == 0 || p as usize >= n_param || !modellable.insert(p) {
                return bad(format!("modellable parameter id {p} invalid"));
            }
        }
        Ok(())
    }
}
