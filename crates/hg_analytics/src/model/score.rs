//! Likelihoods of sessions and of their sliding windows under a trained model.

use super::{
    Model, SessionBatch, SessionType, ABSENT, END, END_TOKEN, MAX_WINDOW_LENGTH, START, UNK, UNK_ID,
};
use crate::AnalyticsError;

/// How a rarest window that contains the end token is returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WindowEnd {
    /// As the reference: the session's commands in the window only, so the window is one
    /// command shorter than the window length.
    #[default]
    Reference,
    /// The window as scored: its commands followed by the end token (`##END##`).
    IncludeEndToken,
}

/// Scoring options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreOptions {
    /// Length of the sliding windows for the rarest window (`None`: no window search).
    pub window_length: Option<usize>,
    /// Whether the start and end tokens are part of the likelihoods (the reference's
    /// `use_start_end_tokens`, on in `score_sessions`).
    pub use_start_end_tokens: bool,
    /// Whether window likelihoods are raised to `1 / window_length`.
    pub use_geo_mean: bool,
    /// How a rarest window containing the end token is returned.
    pub window_end: WindowEnd,
}

impl Default for ScoreOptions {
    /// Window length 3, tokens on, no geometric mean, the reference's window ends.
    fn default() -> Self {
        ScoreOptions {
            window_length: Some(3),
            use_start_end_tokens: true,
            use_geo_mean: false,
            window_end: WindowEnd::Reference,
        }
    }
}

/// The rarest window of a session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RarestWindow {
    /// Index of the window's first command in the session.
    pub start: usize,
    /// Number of the session's commands in the window (the window length, or one less when
    /// the window ends with the end token).
    pub commands: usize,
    /// Whether the scored window ends with the end token.
    pub includes_end: bool,
    /// Its likelihood (geometric mean when asked).
    pub likelihood: f64,
}

impl RarestWindow {
    /// The window's commands as returned under `window_end`: the session's commands in it, plus
    /// the end token when asked and the window contains it.
    pub fn items<'a>(&self, session: &'a [String], window_end: WindowEnd) -> Vec<&'a str> {
        let mut out: Vec<&str> = session[self.start..self.start + self.commands]
            .iter()
            .map(String::as_str)
            .collect();
        if self.includes_end && window_end == WindowEnd::IncludeEndToken {
            out.push(END_TOKEN);
        }
        out
    }
}

/// Scores of one session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionScore {
    /// Likelihood of the whole session (with the start and end tokens when they are used).
    pub likelihood: f64,
    /// `likelihood ^ (1 / number of commands)`.
    pub geomean_likelihood: f64,
    /// The rarest window, `None` when no window fits (the reference's `[]` and NaN).
    pub rarest: Option<RarestWindow>,
}

impl SessionScore {
    /// The rarest window's likelihood, NaN when no window fits.
    pub fn rarest_likelihood(&self) -> f64 {
        self.rarest.map_or(f64::NAN, |r| r.likelihood)
    }
}

/// Batch ids translated to model ids.
struct IdMaps {
    commands: Vec<u32>,
    params: Vec<u32>,
    values: Vec<u32>,
}

impl Model {
    fn id_maps(&self, batch: &SessionBatch) -> IdMaps {
        IdMaps {
            commands: batch
                .commands
                .names
                .iter()
                .map(|n| self.commands.get(n).copied().unwrap_or(UNK))
                .collect(),
            params: batch
                .params
                .names
                .iter()
                .map(|n| self.params.get(n).copied().unwrap_or(ABSENT))
                .collect(),
            values: batch
                .values
                .names
                .iter()
                .map(|n| self.values.get(n).copied().unwrap_or(UNK_ID))
                .collect(),
        }
    }

    /// Scores every session of `batch`, pushing `(session index, score)` to `sink` in order.
    pub fn score_each(
        &self,
        batch: &SessionBatch,
        options: &ScoreOptions,
        mut sink: impl FnMut(usize, SessionScore),
    ) -> Result<(), AnalyticsError> {
        if let Some(w) = options.window_length {
            if w == 0 || w > MAX_WINDOW_LENGTH {
                return Err(AnalyticsError::InvalidOption {
                    name: "window_length",
                    detail: format!("{w} is not between 1 and {MAX_WINDOW_LENGTH}"),
                });
            }
        }
        if batch.kind == SessionType::CmdsOnly && self.session_type() != SessionType::CmdsOnly {
            return Err(AnalyticsError::InvalidSessions(format!(
                "the sessions are commands only but the model was trained on {} sessions",
                self.session_type().reference_name()
            )));
        }
        let maps = self.id_maps(batch);
        let mut cmds: Vec<u32> = Vec::new();
        let mut factors: Vec<f64> = Vec::new();
        let mut item_params: Vec<(u32, u32)> = Vec::new();
        for s in 0..batch.len() {
            cmds.clear();
            factors.clear();
            for item in batch.session_offsets[s]..batch.session_offsets[s + 1] {
                let cmd = maps.commands[batch.item_command[item] as usize];
                cmds.push(cmd);
                factors.push(self.params_factor(batch, &maps, item, cmd, &mut item_params));
            }
            sink(s, self.score_session(&cmds, &factors, options));
        }
        Ok(())
    }

    /// Scores every session of `batch`.
    pub fn score(
        &self,
        batch: &SessionBatch,
        options: &ScoreOptions,
    ) -> Result<Vec<SessionScore>, AnalyticsError> {
        let mut out = Vec::with_capacity(batch.len());
        self.score_each(batch, options, |_, s| out.push(s))?;
        Ok(out)
    }

    /// The geometric mean of a command's parameter (and value) factors: present parameters of
    /// the command's row contribute `P(p | cmd)` (times `P(value | p)` when modelled), absent
    /// ones `1 - P(p | cmd)`; a command given no parameter contributes 1.
    fn params_factor(
        &self,
        batch: &SessionBatch,
        maps: &IdMaps,
        item: usize,
        cmd: u32,
        item_params: &mut Vec<(u32, u32)>,
    ) -> f64 {
        let kind = self.session_type();
        let range = batch.param_range(item);
        if kind == SessionType::CmdsOnly || range.is_empty() {
            return 1.0;
        }
        item_params.clear();
        let with_values = batch.kind == SessionType::CmdsParamsValues;
        for j in range {
            let p = maps.params[batch.item_params[j] as usize];
            let v = if with_values {
                match batch.item_values[j] {
                    ABSENT => UNK_ID,
                    v => maps.values[v as usize],
                }
            } else {
                UNK_ID
            };
            item_params.push((p, v));
        }
        item_params.sort_unstable_by_key(|&(p, _)| p);
        let row = self.param_row(cmd);
        let mut likelihood = 1.0f64;
        let mut modelled_values = 0usize;
        for &(p, prob) in row {
            match item_params.binary_search_by_key(&p, |&(q, _)| q) {
                Ok(k) => {
                    likelihood *= prob;
                    if kind == SessionType::CmdsParamsValues && self.modellable[p as usize] {
                        modelled_values += 1;
                        likelihood *= self.value_prob(p, item_params[k].1);
                    }
                }
                Err(_) => likelihood *= 1.0 - prob,
            }
        }
        let k = row.len() + modelled_values;
        likelihood.powf(1.0 / k as f64)
    }

    /// Likelihood of the window `elements[from..from + len]` where element `n` (one past the
    /// session) is the end token.
    fn window_likelihood(
        &self,
        cmds: &[u32],
        factors: &[f64],
        from: usize,
        len: usize,
        use_start: bool,
    ) -> f64 {
        let n = cmds.len();
        let at = |j: usize| -> (u32, f64) {
            if j < n {
                (cmds[j], factors[j])
            } else {
                (END, 1.0)
            }
        };
        let (first, first_factor) = at(from);
        let mut prob = 1.0f64;
        let head = if use_start {
            self.trans(START, first)
        } else {
            self.prior[first as usize]
        };
        // The reference's multiplication order: (start or prior) * factor, then per command
        // the transition, then the factor.
        prob *= head * first_factor;
        let mut prev = first;
        for j in from + 1..from + len {
            let (cur, factor) = at(j);
            prob *= self.trans(prev, cur);
            prob *= factor;
            prev = cur;
        }
        prob
    }

    fn score_session(&self, cmds: &[u32], factors: &[f64], options: &ScoreOptions) -> SessionScore {
        let n = cmds.len();
        let tokens = options.use_start_end_tokens;
        let mut likelihood = self.window_likelihood(cmds, factors, 0, n, tokens);
        if tokens {
            likelihood *= self.trans(cmds[n - 1], END);
        }
        let geomean_likelihood = likelihood.powf(1.0 / n as f64);
        let rarest = options.window_length.and_then(|w| {
            let m = n + usize::from(tokens);
            if m < w {
                return None;
            }
            let mut best: Option<(usize, f64)> = None;
            for i in 0..=m - w {
                let mut lik = self.window_likelihood(cmds, factors, i, w, tokens && i == 0);
                if options.use_geo_mean {
                    lik = lik.powf(1.0 / w as f64);
                }
                // Strict `<`: the first window wins ties, as the reference's `min` + `index`.
                if best.is_none_or(|(_, b)| lik < b) {
                    best = Some((i, lik));
                }
            }
            best.map(|(start, lik)| RarestWindow {
                start,
                commands: (start + w).min(n) - start,
                includes_end: start + w > n,
                likelihood: lik,
            })
        });
        SessionScore {
            likelihood,
            geomean_likelihood,
            rarest,
        }
    }
}
