//! The query library loader: the repository's library, the shared invalid cases, and the
//! reference's own packaged query files (the format is the reference's).

use std::path::{Path, PathBuf};

use hg_proxy::QueryLibrary;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_repository_library_loads() {
    let library = QueryLibrary::load(&[root().join("queries")]).expect("queries/ loads");
    let local: Vec<_> = library
        .queries()
        .iter()
        .filter(|q| q.runs_on(&["Local".to_string()]))
        .collect();
    assert!(local.len() >= 25, "{} local queries", local.len());
    for q in &local {
        assert!(q.data_source.is_some(), "{} names its table", q.full_name());
    }
}

#[test]
fn invalid_query_files_are_refused_with_file_key_and_problem() {
    let dir = root().join("tests/cases/proxy/queries/invalid");
    let expected: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected_errors.json")).unwrap())
            .unwrap();
    assert!(expected.len() >= 10);
    for (name, needle) in expected {
        let file = dir.join(format!("{name}.yaml"));
        let text = std::fs::read_to_string(&file).unwrap();
        let error = QueryLibrary::default()
            .add_text(&file, &text)
            .expect_err(&name)
            .to_string();
        assert!(
            error.contains(&file.display().to_string()),
            "{name}: {error}"
        );
        assert!(
            error.contains(needle.as_str().unwrap()),
            "{name}: expected {needle}, got {error}"
        );
    }
}

fn reference_queries() -> Option<PathBuf> {
    let lib = root().join(".venv-ref/lib");
    for entry in std::fs::read_dir(&lib).ok()? {
        let path = entry
            .ok()?
            .path()
            .join("site-packages/msticpy/data/queries");
        if path.is_dir() {
            return Some(path);
        }
    }
    None
}

/// The reference's packaged query files (msticpy 3.0.2) load with our loader: same layout.
/// Observed in the reference: `QueryProvider("MSSentinel")` exposes 191 queries (from three folders).
#[test]
fn the_reference_packaged_query_files_load() {
    let Some(dir) = reference_queries() else {
        eprintln!("skipped: the reference (.venv-ref) is not installed");
        return;
    };
    let sentinel = QueryLibrary::load(&[dir.join("mssentinel")])
        .expect("the reference's Sentinel queries load");
    let mut names: Vec<String> = sentinel
        .queries()
        .iter()
        // The reference's files name `LogAnalytics`, one of the Sentinel provider's environments.
        .filter(|q| q.runs_on(&["MSSentinel".to_string(), "LogAnalytics".to_string()]))
        .map(|q| q.full_name())
        .collect();
    names.sort();
    names.dedup();
    // The reference attaches each query to each of its families: this folder gives 116
    // family-qualified names (93 distinct) in 3.0.2; the reference's 191 for MSSentinel also
    // count the LogAnalytics-tagged files of its m365d and mde folders.
    let distinct: std::collections::BTreeSet<&str> =
        sentinel.queries().iter().map(|q| q.name.as_str()).collect();
    assert!(
        names.len() >= 110 && distinct.len() >= 90,
        "{} family-qualified, {} distinct Sentinel queries",
        names.len(),
        distinct.len()
    );
    // Every environment's files load, except Cybereason's connection queries, whose JSON body
    // has single braces that are not placeholders: our templates need them doubled (`{{`), as
    // Python's str.format would; the error names the file and the place.
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    let mut loaded = 0;
    for folder in folders {
        match QueryLibrary::load(std::slice::from_ref(&folder)) {
            Ok(library) => loaded += library.queries().len(),
            Err(error) => {
                let text = error.to_string();
                assert!(
                    text.contains("cybereason_connections.yaml")
                        && text.contains("is not a parameter name"),
                    "{text}"
                );
            }
        }
    }
    assert!(loaded >= 250, "{loaded} queries of the reference loaded");
    assert!(Path::new(&dir).is_dir());
}
