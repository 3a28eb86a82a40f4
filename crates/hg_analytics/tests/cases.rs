//! The shared session-model cases (`tests/cases/sessions/*.json`, expected values from the
//! reference, msticpy 3.0.2): every likelihood within the case's relative tolerance and every
//! rarest window equal, in the reference's window mode; the corrected mode adds the end token.

use std::path::PathBuf;

use hg_analytics::{
    Command, Model, ScoreOptions, SessionBatch, TrainOptions, WindowEnd, END_TOKEN,
};
use serde_json::{json, Value};

fn cases() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/cases/sessions");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                serde_json::from_str(&text).unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        out.len() >= 12,
        "expected the shared cases in {}",
        dir.display()
    );
    out
}

/// A window item as the case files write it: the name, or [name, sorted params] with values
/// (falsy values as null).
fn normalize(c: &Command) -> Value {
    match c {
        Command::Name(n) => json!(n),
        Command::WithParams { name, params } => {
            let mut p = params.clone();
            p.sort();
            json!([name, p])
        }
        Command::WithValues { name, params } => {
            let mut p = params.clone();
            p.sort();
            json!([
                name,
                p.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>()
            ])
        }
    }
}

fn check_number(case: &str, what: &str, got: f64, want: &Value, tol: f64) {
    match want.as_f64() {
        None => assert!(got.is_nan(), "{case} {what}: got {got}, want NaN"),
        Some(w) => {
            let rel = if got == w {
                0.0
            } else {
                (got - w).abs() / w.abs().max(got.abs())
            };
            assert!(
                rel <= tol,
                "{case} {what}: got {got}, want {w} (relative {rel:e})"
            );
        }
    }
}

#[test]
fn shared_cases_match_the_reference() {
    for (name, case) in cases() {
        let sessions: Vec<Vec<Command>> = serde_json::from_value(case["sessions"].clone()).unwrap();
        let tokens = case["use_start_end_tokens"].as_bool().unwrap();
        let tol = case["tolerance"].as_f64().unwrap();
        let expected = &case["expected"];
        let batch = SessionBatch::from_sessions(&sessions).unwrap();
        assert_eq!(
            batch.session_type().reference_name(),
            expected["session_type"].as_str().unwrap(),
            "{name}"
        );
        let model = Model::train(&batch, &TrainOptions::default()).unwrap();
        let mut modellable: Vec<&str> = model.modellable_params();
        modellable.sort();
        let want_modellable: Vec<&str> = expected["modellable_params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(modellable, want_modellable, "{name}");
        let base = ScoreOptions {
            window_length: None,
            use_start_end_tokens: tokens,
            ..ScoreOptions::default()
        };
        let whole = model.score(&batch, &base).unwrap();
        for (i, s) in whole.iter().enumerate() {
            check_number(
                &name,
                "likelihood",
                s.likelihood,
                &expected["likelihoods"][i],
                tol,
            );
            check_number(
                &name,
                "geomean",
                s.geomean_likelihood,
                &expected["geomean_likelihoods"][i],
                tol,
            );
        }
        for (key, want) in expected["rarest"].as_object().unwrap() {
            let geo = key.ends_with("_geo");
            let w: usize = key.trim_end_matches("_geo").parse().unwrap();
            let opts = ScoreOptions {
                window_length: Some(w),
                use_geo_mean: geo,
                ..base
            };
            let scores = model.score(&batch, &opts).unwrap();
            for (i, s) in scores.iter().enumerate() {
                let what = format!("rarest {key} session {i}");
                check_number(
                    &name,
                    &what,
                    s.rarest_likelihood(),
                    &want["likelihoods"][i],
                    tol,
                );
                let session = batch.session(i);
                let window: Vec<Value> = match s.rarest {
                    Some(r) => session[r.start..r.start + r.commands]
                        .iter()
                        .map(normalize)
                        .collect(),
                    None => Vec::new(),
                };
                assert_eq!(
                    Value::from(window.clone()),
                    want["windows"][i],
                    "{name} {what}"
                );
                // Corrected mode: the scored window, end token included, has the full length.
                if let Some(r) = s.rarest {
                    let names: Vec<String> = session.iter().map(|c| c.name().to_string()).collect();
                    let fixed = r.items(&names, WindowEnd::IncludeEndToken);
                    assert_eq!(fixed.len(), w, "{name} {what}");
                    assert_eq!(
                        fixed.last() == Some(&END_TOKEN),
                        r.includes_end,
                        "{name} {what}"
                    );
                    assert_eq!(r.items(&names, WindowEnd::Reference).len(), window.len());
                }
            }
        }
        // The same model through its bytes gives the same numbers.
        let loaded = Model::from_bytes(&model.to_bytes().unwrap()).unwrap();
        assert_eq!(loaded.score(&batch, &base).unwrap(), whole, "{name}");
    }
}
