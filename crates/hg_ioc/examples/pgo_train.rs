//! The training run for profile-guided optimisation of release builds (`scripts/pgo.sh` builds
//! this with `hg_ioc` instrumented and runs it): extracts every line of the given text files with
//! the default options and with each option that switches a part of the engine off, and every
//! `input` of the shared case files (`tests/cases/ioc/*.json`, passed as directories or files).
//!
//! `cargo run --release -p hg_ioc --example pgo_train -- FILE_OR_DIR...`. Prints how many IoCs
//! each option set found, so a run that found nothing (a wrong path) is seen.

use std::path::Path;

use hg_ioc::{IocExtractor, IocMatch};

/// How many times the default options run for each run of the other sets: a profile should
/// weigh the paths the way real use does, and the defaults are what almost every call uses.
const DEFAULT_PASSES: usize = 3;

/// The inputs of a case file (`huntglass-ioc-cases/1`): every case's `input` string.
fn case_inputs(path: &Path) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let cases = json
        .get("cases")
        .and_then(|cases| cases.as_array())
        .ok_or_else(|| format!("{}: no \"cases\" array", path.display()))?;
    Ok(cases
        .iter()
        .filter_map(|case| case.get("input")?.as_str().map(str::to_owned))
        .collect())
}

/// The records of one argument: a text file's lines, a case file's inputs, or those of every
/// `.json` file in a directory.
fn records(path: &Path) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    if path.is_dir() {
        let mut out = Vec::new();
        let mut entries: Vec<_> = std::fs::read_dir(path)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|entry| entry.path());
        for entry in entries {
            if entry.path().extension().is_some_and(|ext| ext == "json") {
                out.extend(case_inputs(&entry.path())?);
            }
        }
        Ok(out)
    } else if path.extension().is_some_and(|ext| ext == "json") {
        case_inputs(path)
    } else {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(text.lines().map(str::to_owned).collect())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        return Err("usage: pgo_train FILE_OR_DIR...".into());
    }
    let mut all = Vec::new();
    for path in &paths {
        all.extend(records(Path::new(path))?);
    }
    let option_sets = [
        ("default", IocExtractor::builder().build()?, DEFAULT_PASSES),
        (
            "no paths",
            IocExtractor::builder().include_paths(false).build()?,
            1,
        ),
        (
            "no defang",
            IocExtractor::builder().defanged(false).build()?,
            1,
        ),
        (
            "ignore TLDs",
            IocExtractor::builder().ignore_tlds(true).build()?,
            1,
        ),
    ];
    for (name, extractor, passes) in &option_sets {
        let mut found = 0usize;
        for _ in 0..*passes {
            for record in &all {
                extractor.extract(record, &mut |_: &IocMatch<'_>| found += 1);
            }
        }
        println!(
            "{name}: {} records, {found} IoCs in {passes} passes",
            all.len()
        );
        if found == 0 {
            return Err(format!("{name}: no IoC found in the training input").into());
        }
    }
    Ok(())
}
