//! Runs `huntglass proctree` on the shared cases of `tests/cases/proctree/` (as JSON lines, so
//! times arrive as text), on CSV and Arrow input, in every output format; errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

mod common;

const CLI: common::Subcommand = common::Subcommand("proctree");

fn failure(args: &[&str]) -> String {
    CLI.failure(args, None)
}

fn ok_jsonl(args: &[&str]) -> Vec<Value> {
    CLI.ok_jsonl(args, None)
}

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/cases/proctree")
}

/// Writes a case's columns as JSON lines (one object per input row).
fn write_case_jsonl(case: &Value, path: &Path) -> usize {
    let columns = case["columns"].as_object().unwrap();
    let rows = columns.values().next().unwrap().as_array().unwrap().len();
    let mut text = String::new();
    for row in 0..rows {
        let object: serde_json::Map<String, Value> = columns
            .iter()
            .map(|(name, values)| (name.clone(), values[row].clone()))
            .collect();
        text.push_str(&Value::Object(object).to_string());
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
    rows
}

/// The schema arguments of a case.
fn schema_args(case: &Value) -> Vec<String> {
    match &case["schema"] {
        Value::Null => Vec::new(),
        Value::String(name) => vec!["--schema".into(), name.clone()],
        Value::Object(map) => vec![
            "--map".into(),
            map.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
                .collect::<Vec<_>>()
                .join(","),
        ],
        other => panic!("bad schema {other}"),
    }
}

#[test]
fn shared_cases_give_the_expected_parents() {
    let mut ran = 0;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let dir = CLI.temp_dir(&format!("case-{name}"));
        let input = dir.join("events.jsonl");
        let n_input = write_case_jsonl(&case, &input);
        let mut args = schema_args(&case);
        args.extend(["--format".into(), "jsonl".into()]);
        args.push(input.to_str().unwrap().into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let expect = &case["expect"];
        if let Some(needles) = expect.get("error_contains") {
            let err = failure(&args);
            for needle in needles.as_array().unwrap() {
                assert!(err.contains(needle.as_str().unwrap()), "{name}: {err}");
            }
            ran += 1;
            continue;
        }
        let rows = ok_jsonl(&args);
        // source_index -> (parent_index, IsPlaceholder, row)
        let by_source: BTreeMap<u64, &Value> = rows
            .iter()
            .map(|r| (r["source_index"].as_u64().unwrap(), r))
            .collect();
        for (row, want) in expect["parents"].as_array().unwrap().iter().enumerate() {
            let got = by_source.get(&(row as u64));
            if want.as_str() == Some("dropped") {
                assert!(got.is_none(), "{name}: row {row} should be dropped");
                continue;
            }
            let record = got.unwrap_or_else(|| panic!("{name}: row {row} missing"));
            let parent = record.get("parent_index").and_then(Value::as_u64);
            match want {
                Value::Null => assert_eq!(parent, None, "{name}: row {row} is a root"),
                Value::Number(n) => assert_eq!(parent, n.as_u64(), "{name}: row {row}"),
                Value::String(p) => {
                    assert!(p.starts_with("p:"), "{name}: bad expectation {p}");
                    let parent = parent.unwrap_or_else(|| panic!("{name}: row {row} no parent"));
                    assert!(
                        parent >= n_input as u64,
                        "{name}: row {row} not a placeholder"
                    );
                    assert_eq!(by_source[&parent]["IsPlaceholder"], Value::Bool(true));
                    assert_eq!(record["IsOrphan"], Value::Bool(true), "{name}: row {row}");
                }
                other => panic!("{name}: bad expectation {other}"),
            }
        }
        let placeholders = rows
            .iter()
            .filter(|r| r["IsPlaceholder"] == Value::Bool(true))
            .count();
        assert_eq!(
            placeholders as u64,
            expect["placeholders"].as_u64().unwrap(),
            "{name}: placeholders"
        );
        if let Some(roots) = expect.get("roots") {
            let got = rows
                .iter()
                .filter(|r| r["IsRoot"] == Value::Bool(true))
                .count();
            assert_eq!(got as u64, roots.as_u64().unwrap(), "{name}: roots");
        }
        ran += 1;
    }
    assert!(ran >= 10, "only {ran} shared cases found");
}

/// Windows 4688 events as CSV: explorer -> cmd -> whoami, and a child of a parent not in the
/// events (the placeholder gets the child's recorded parent name and id).
const EVENTS_CSV: &str = "TimeGenerated,Computer,EventID,NewProcessName,NewProcessId,ProcessId,ParentProcessName,CommandLine,SubjectUserName\n\
2024-03-05 10:00:01,WS1,4688,C:\\Windows\\System32\\cmd.exe,0x200,0x100,C:\\Windows\\explorer.exe,cmd.exe /c whoami,alice\n\
2024-03-05 10:00:00,WS1,4688,C:\\Windows\\explorer.exe,0x100,0x50,C:\\Windows\\System32\\userinit.exe,explorer.exe,alice\n\
2024-03-05 10:00:02,WS1,4688,C:\\Windows\\System32\\whoami.exe,0x300,0x200,C:\\Windows\\System32\\cmd.exe,\"whoami /all\",alice\n";

fn events_csv(dir: &Path) -> PathBuf {
    let path = dir.join("events.csv");
    std::fs::write(&path, EVENTS_CSV).unwrap();
    path
}

#[test]
fn csv_jsonl_output_links_out_of_order_events() {
    let dir = CLI.temp_dir("csv-jsonl");
    let csv = events_csv(&dir);
    let rows = ok_jsonl(&["--format", "jsonl", csv.to_str().unwrap()]);
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r["NewProcessName"].as_str().unwrap())
        .collect();
    // Tree order: the placeholder userinit root, then explorer, cmd, whoami.
    assert_eq!(
        names,
        vec![
            "C:\\Windows\\System32\\userinit.exe",
            "C:\\Windows\\explorer.exe",
            "C:\\Windows\\System32\\cmd.exe",
            "C:\\Windows\\System32\\whoami.exe",
        ]
    );
    let depths: Vec<i64> = rows.iter().map(|r| r["depth"].as_i64().unwrap()).collect();
    assert_eq!(depths, vec![0, 1, 2, 3]);
    assert_eq!(rows[0]["IsPlaceholder"], Value::Bool(true));
    assert_eq!(rows[0]["NewProcessId"], "0x50");
    // cmd (input row 0) is explorer's (input row 1) child; whoami (row 2) is cmd's.
    assert_eq!(rows[2]["source_index"], 0);
    assert_eq!(rows[2]["parent_index"], 1);
    assert_eq!(rows[3]["parent_index"], 0);
    assert_eq!(rows[3]["parent_key"], rows[2]["proc_key"]);
    assert_eq!(rows[3]["IsLeaf"], Value::Bool(true));
    assert_eq!(rows[2]["IsBranch"], Value::Bool(true));
}

#[test]
fn text_output_is_an_indented_tree() {
    let dir = CLI.temp_dir("text");
    let csv = events_csv(&dir);
    let out = CLI.run(&[csv.to_str().unwrap()], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(
        lines[0],
        "c:\\windows\\system32\\userinit.exe [0x50] (not in the events)"
    );
    assert!(
        lines[1].starts_with("  c:\\windows\\explorer.exe [0x100] 2024-03-05 10:00:00"),
        "{text}"
    );
    assert!(lines[2].ends_with("  cmd.exe /c whoami"), "{text}");
    assert!(lines[3].starts_with("      c:\\windows\\system32\\whoami.exe [0x300]"));
    assert!(lines[3].ends_with("  whoami /all"), "{text}");
}

#[test]
fn arrow_and_csv_output() {
    let dir = CLI.temp_dir("arrow");
    let csv = events_csv(&dir);
    let arrow = dir.join("tree.arrow");
    let out = CLI.run(
        &[
            "--format",
            "arrow",
            "--no-placeholders",
            "--out",
            arrow.to_str().unwrap(),
            csv.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&arrow).unwrap();
    let table = hg_arrow::read_ipc_stream(&bytes).unwrap();
    assert_eq!(table.num_rows(), 3, "no placeholder row");
    assert!(table.has_column("proc_key"));
    // A built tree given again as input is refused by name (its tree columns would clash).
    let err = failure(&[arrow.to_str().unwrap()]);
    assert!(err.contains("already has the column 'proc_key'"), "{err}");
    let csv_out = dir.join("tree.csv");
    let out = CLI.run(
        &[
            "--format",
            "csv",
            "--out",
            csv_out.to_str().unwrap(),
            csv.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&csv_out).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert!(header.contains(&"NewProcessName") && header.contains(&"IsRoot"));
    assert_eq!(lines.count(), 4, "three processes and the placeholder");
}

#[test]
fn mapping_and_schema_errors_are_named() {
    let dir = CLI.temp_dir("errors");
    let csv = events_csv(&dir);
    let csv = csv.to_str().unwrap();
    let err = failure(&["--map", "process_name", csv]);
    assert!(err.contains("'process_name' is not key=column"), "{err}");
    let err = failure(&["--schema", "mde", csv]);
    assert!(err.contains("ProcessId") || err.contains("mde"), "{err}");
    let err = failure(&["--schema", "no_such_schema", csv]);
    assert!(err.contains("no_such_schema"), "{err}");
    let text = dir.join("events.txt");
    std::fs::write(&text, "x").unwrap();
    let err = failure(&[text.to_str().unwrap()]);
    assert!(err.contains("unknown input kind"), "{err}");
    let missing = dir.join("missing.csv");
    let err = failure(&[missing.to_str().unwrap()]);
    assert!(err.contains("cannot open"), "{err}");
}
