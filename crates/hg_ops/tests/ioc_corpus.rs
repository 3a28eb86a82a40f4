//! The shared corpus `tests/cases/ioc/*.json` through the `ioc.extract` operation: each case as a
//! one-row table, and all default-option cases together as one multi-batch, two-column table.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::{ArrayRef, StringArray};
use common::{call, ipc, ipc_batches, rows, texts, Row};
use serde_json::Value;

struct Case {
    file: String,
    name: String,
    input: String,
    options: Value,
    /// (start, end, type, observable, canonical)
    expected: Vec<(i64, i64, String, String, String)>,
    exact: bool,
    absent: Vec<(Option<String>, String)>,
}

fn load() -> Vec<Case> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/cases/ioc");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/cases/ioc exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for path in files {
        let doc: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("readable")).expect("json");
        assert_eq!(doc["schema"], "huntglass-ioc-cases/1");
        for case in doc["cases"].as_array().expect("cases") {
            let s = |v: &Value| v.as_str().expect("string").to_string();
            cases.push(Case {
                file: path.file_name().expect("name").to_string_lossy().into(),
                name: s(&case["name"]),
                input: s(&case["input"]),
                options: case.get("options").cloned().unwrap_or(Value::Null),
                expected: case["expected"]
                    .as_array()
                    .expect("expected")
                    .iter()
                    .map(|e| {
                        let observable = s(&e["observable"]);
                        let canonical = e.get("canonical").map_or_else(|| observable.clone(), s);
                        (
                            e["start"].as_i64().expect("start"),
                            e["end"].as_i64().expect("end"),
                            s(&e["type"]),
                            observable,
                            canonical,
                        )
                    })
                    .collect(),
                exact: case.get("exact").and_then(Value::as_bool).unwrap_or(true),
                absent: case
                    .get("absent")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .map(|x| (x.get("type").map(s), s(&x["observable"])))
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        }
    }
    assert!(cases.len() >= 50, "corpus too small: {}", cases.len());
    cases
}

fn options_with_columns(options: &Value, columns: &[&str]) -> String {
    let mut map = options.as_object().cloned().unwrap_or_default();
    map.insert("columns".into(), serde_json::json!(columns));
    Value::Object(map).to_string()
}

fn check(case: &Case, found: &[Row]) -> Result<(), String> {
    for r in found {
        let start = usize::try_from(r.start).map_err(|e| e.to_string())?;
        let end = usize::try_from(r.end).map_err(|e| e.to_string())?;
        if case.input.get(start..end) != Some(r.observable.as_str()) {
            return Err(format!(
                "offsets {start}..{end} do not hold {:?}",
                r.observable
            ));
        }
    }
    let mut got: Vec<_> = found
        .iter()
        .map(|r| {
            (
                r.start,
                r.end,
                r.ioc_type.clone(),
                r.observable.clone(),
                r.canonical.clone(),
            )
        })
        .collect();
    let mut want = case.expected.clone();
    got.sort();
    want.sort();
    let missing: Vec<_> = want.iter().filter(|w| !got.contains(w)).collect();
    let extra: Vec<_> = got.iter().filter(|g| !want.contains(g)).collect();
    if !missing.is_empty() || (case.exact && !extra.is_empty()) {
        return Err(format!("missing {missing:?}; unexpected {extra:?}"));
    }
    for (ioc_type, observable) in &case.absent {
        if let Some(r) = found.iter().find(|r| {
            r.observable == *observable && ioc_type.as_ref().is_none_or(|t| *t == r.ioc_type)
        }) {
            return Err(format!(
                "{observable:?} reported as {} but listed absent",
                r.ioc_type
            ));
        }
    }
    Ok(())
}

#[test]
fn every_case_through_the_op() {
    let mut failures = Vec::new();
    let cases = load();
    for case in &cases {
        let input = ipc(vec![("Text", texts(&[&case.input]))]);
        let options = options_with_columns(&case.options, &["Text"]);
        let result = call("ioc.extract", &options, &input).map(|t| rows(&t));
        match result {
            Ok(found) => {
                assert!(found
                    .iter()
                    .all(|r| r.source_index == 0 && r.column == "Text"));
                if let Err(e) = check(case, &found) {
                    failures.push(format!("{} / {}: {e}", case.file, case.name));
                }
            }
            Err(e) => failures.push(format!("{} / {}: {e}", case.file, case.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// All cases with default options in one table: two batches, the input in column `B` (column `A`
/// holds nulls and a decoy-free filler), so `SourceIndex` must map back across batches.
#[test]
fn default_cases_as_one_table() {
    let cases: Vec<Case> = load().into_iter().filter(|c| c.options.is_null()).collect();
    assert!(cases.len() > 20);
    let half = cases.len() / 2;
    let batch = |part: &[Case]| -> Vec<(&'static str, ArrayRef)> {
        let a: Vec<Option<&str>> = part
            .iter()
            .enumerate()
            .map(|(i, _)| (i % 2 == 0).then_some("nothing to see here"))
            .collect();
        let b: Vec<&str> = part.iter().map(|c| c.input.as_str()).collect();
        vec![
            ("A", Arc::new(StringArray::from(a)) as ArrayRef),
            ("B", texts(&b)),
        ]
    };
    let input = ipc_batches(vec![batch(&cases[..half]), batch(&cases[half..])]);
    let table = call("ioc.extract", r#"{"columns": ["A", "B"]}"#, &input).expect("runs");
    let found = rows(&table);
    assert!(found.iter().all(|r| r.column == "B"));
    let mut sorted = found.clone();
    sorted.sort_by_key(|r| r.source_index);
    assert_eq!(
        found.iter().map(|r| r.source_index).collect::<Vec<_>>(),
        sorted.iter().map(|r| r.source_index).collect::<Vec<_>>(),
        "rows come out in input order"
    );
    for (i, case) in cases.iter().enumerate() {
        let own: Vec<Row> = found
            .iter()
            .filter(|r| r.source_index == i as i64)
            .cloned()
            .collect();
        if let Err(e) = check(case, &own) {
            panic!("row {i} ({} / {}): {e}", case.file, case.name);
        }
    }
}
