//! Reads one JSON object on stdin and prints the session model's scores as JSON (used by
//! `bench/sessions/parity.py` to compare with the reference).
//!
//! Input: `{"sessions": [[command, ...], ...], "train": [[...]] (optional, defaults to
//! "sessions"), "window_lengths": [2, 3], "use_start_end_tokens": true,
//! "modellable_params": null | ["name", ...]}` where a command is a string or
//! `{"name": ..., "params": [...] | {...}}`.
//! Output: `{"session_type", "modellable_params", "likelihoods", "geomean_likelihoods",
//! "rarest": {"<N>": {"likelihoods", "windows", "windows_with_end"}, "<N>_geo": {...}}}` with
//! NaN as null.

use std::io::Read;

use anyhow::Context;
use hg_analytics::{Command, Model, ScoreOptions, SessionBatch, TrainOptions};
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Deserialize)]
struct Input {
    sessions: Vec<Vec<Command>>,
    train: Option<Vec<Vec<Command>>>,
    window_lengths: Vec<usize>,
    #[serde(default = "yes")]
    use_start_end_tokens: bool,
    modellable_params: Option<Vec<String>>,
}

fn yes() -> bool {
    true
}

fn num(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

fn main() -> anyhow::Result<()> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    let input: Input = serde_json::from_str(&text).context("reading the input JSON")?;
    let batch = SessionBatch::from_sessions(&input.sessions)?;
    let train_batch = match &input.train {
        Some(t) => SessionBatch::from_sessions(t)?,
        None => batch.clone(),
    };
    let model = Model::train(
        &train_batch,
        &TrainOptions {
            modellable_params: input.modellable_params.clone(),
        },
    )?;
    // Round trip through bytes so every parity run also checks the saved model.
    let model = Model::from_bytes(&model.to_bytes()?)?;
    let base = ScoreOptions {
        window_length: None,
        use_start_end_tokens: input.use_start_end_tokens,
        ..ScoreOptions::default()
    };
    let whole = model.score(&batch, &base)?;
    let mut rarest = Map::new();
    for &w in &input.window_lengths {
        for geo in [false, true] {
            let opts = ScoreOptions {
                window_length: Some(w),
                use_geo_mean: geo,
                ..base
            };
            let scores = model.score(&batch, &opts)?;
            let mut liks = Vec::new();
            let mut windows = Vec::new();
            let mut windows_end = Vec::new();
            for (s, sc) in scores.iter().enumerate() {
                liks.push(num(sc.rarest_likelihood()));
                let session = batch.session(s);
                let (w_ref, w_end) = match sc.rarest {
                    Some(r) => {
                        let items: Vec<Command> = session[r.start..r.start + r.commands].to_vec();
                        let mut with_end = items.clone();
                        if r.includes_end {
                            with_end.push(Command::Name(hg_analytics::END_TOKEN.into()));
                        }
                        (items, with_end)
                    }
                    None => (Vec::new(), Vec::new()),
                };
                windows.push(serde_json::to_value(w_ref)?);
                windows_end.push(serde_json::to_value(w_end)?);
            }
            let key = if geo {
                format!("{w}_geo")
            } else {
                w.to_string()
            };
            rarest.insert(
                key,
                json!({"likelihoods": liks, "windows": windows, "windows_with_end": windows_end}),
            );
        }
    }
    let out = json!({
        "session_type": model.session_type().reference_name(),
        "modellable_params": model.modellable_params(),
        "likelihoods": whole.iter().map(|s| num(s.likelihood)).collect::<Vec<_>>(),
        "geomean_likelihoods": whole.iter().map(|s| num(s.geomean_likelihood)).collect::<Vec<_>>(),
        "rarest": rarest,
    });
    println!("{out}");
    Ok(())
}
