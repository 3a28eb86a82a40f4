//! Runs the shared data-driven corpus `tests/cases/ioc/*.json` (schema in its README.md).

use std::path::PathBuf;

use hg_ioc::{IocExtractor, IocType, OwnedIocMatch};
use serde::Deserialize;

#[derive(Deserialize)]
struct CaseFile {
    schema: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    input: String,
    #[serde(default)]
    options: Options,
    expected: Vec<Expected>,
    #[serde(default = "yes")]
    exact: bool,
    #[serde(default)]
    absent: Vec<Absent>,
    reference: String,
    #[allow(dead_code)]
    why: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Options {
    types: Option<Vec<String>>,
    include_paths: Option<bool>,
    defanged: Option<bool>,
    ignore_tlds: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    #[serde(rename = "type")]
    ioc_type: String,
    observable: String,
    canonical: Option<String>,
    start: usize,
    end: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Absent {
    #[serde(rename = "type")]
    ioc_type: Option<String>,
    observable: String,
}

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/cases/ioc")
}

fn build(options: &Options) -> Result<IocExtractor, String> {
    let mut builder = IocExtractor::builder();
    if let Some(types) = &options.types {
        let types = types
            .iter()
            .map(|t| IocType::parse(t).ok_or_else(|| format!("unknown type {t}")))
            .collect::<Result<Vec<_>, _>>()?;
        builder = builder.types(types);
    }
    if let Some(v) = options.include_paths {
        builder = builder.include_paths(v);
    }
    if let Some(v) = options.defanged {
        builder = builder.defanged(v);
    }
    if let Some(v) = options.ignore_tlds {
        builder = builder.ignore_tlds(v);
    }
    builder.build().map_err(|e| e.to_string())
}

fn key(m: &OwnedIocMatch) -> (usize, usize, String, String, String) {
    (
        m.start,
        m.end,
        m.type_name.clone(),
        m.observable.clone(),
        m.canonical.clone(),
    )
}

fn check(case: &Case) -> Result<(), String> {
    let extractor = build(&case.options)?;
    let found = extractor.extract_vec(&case.input);
    for m in &found {
        if case.input.get(m.start..m.end) != Some(m.observable.as_str()) {
            return Err(format!(
                "offsets {}..{} do not hold {:?}",
                m.start, m.end, m.observable
            ));
        }
    }
    let mut want: Vec<_> = case
        .expected
        .iter()
        .map(|e| {
            let canonical = e.canonical.clone().unwrap_or_else(|| e.observable.clone());
            (
                e.start,
                e.end,
                e.ioc_type.clone(),
                e.observable.clone(),
                canonical,
            )
        })
        .collect();
    let mut got: Vec<_> = found.iter().map(key).collect();
    want.sort();
    got.sort();
    let missing: Vec<_> = want.iter().filter(|w| !got.contains(w)).collect();
    let extra: Vec<_> = got.iter().filter(|g| !want.contains(g)).collect();
    if !missing.is_empty() || (case.exact && !extra.is_empty()) {
        return Err(format!("missing {missing:?}; unexpected {extra:?}"));
    }
    for absent in &case.absent {
        if let Some(m) = found.iter().find(|m| {
            m.observable == absent.observable
                && absent.ioc_type.as_ref().is_none_or(|t| *t == m.type_name)
        }) {
            return Err(format!(
                "{:?} reported as {} but listed absent",
                m.observable, m.type_name
            ));
        }
    }
    Ok(())
}

#[test]
fn shared_ioc_corpus() {
    let mut files: Vec<_> = std::fs::read_dir(cases_dir())
        .expect("tests/cases/ioc exists")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "corpus files missing");
    let (mut total, mut failures) = (0, Vec::new());
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable case file");
        let doc: CaseFile =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(doc.schema, "huntglass-ioc-cases/1", "{}", file.display());
        for case in &doc.cases {
            total += 1;
            assert!(
                case.reference == "same" || case.reference.starts_with("differs: "),
                "{}: reference must be 'same' or 'differs: <what>'",
                case.name
            );
            if let Err(e) = check(case) {
                failures.push(format!(
                    "{} / {}: {e}",
                    file.file_name().unwrap_or_default().to_string_lossy(),
                    case.name
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
