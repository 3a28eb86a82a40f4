//! Reads every pyarrow-written fixture in `tests/fixtures/ipc` and compares each typed accessor
//! with the expectations `tests/fixtures/make_arrow_fixtures.py` computed independently.

use std::path::PathBuf;

use hg_arrow::{read_ipc_stream, HgArrowError, Table};
use serde_json::Value;

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ipc")
}

fn load(name: &str) -> Table {
    let bytes =
        std::fs::read(fixtures_dir().join(format!("{name}.arrow"))).expect("fixture exists");
    read_ipc_stream(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn expected() -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(fixtures_dir().join("expected.json"))
        .expect("expected.json exists");
    match serde_json::from_str(&text).expect("valid JSON") {
        Value::Object(map) => map,
        _ => panic!("expected.json is not an object"),
    }
}

fn check_column(file: &str, table: &Table, name: &str, spec: &Value) {
    let ctx = format!("{file}.{name}");
    let display: Vec<String> = spec["display"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    for (row, want) in display.iter().enumerate() {
        assert_eq!(
            &table.display(name, row).unwrap(),
            want,
            "{ctx} display row {row}"
        );
    }
    match spec["access"].as_str() {
        Some("time") => {
            let times = table
                .times_ns(name)
                .unwrap_or_else(|e| panic!("{ctx}: {e}"));
            let want: Vec<Option<i64>> = spec["ns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64())
                .collect();
            let got: Vec<Option<i64>> = (0..times.len()).map(|i| times.get(i)).collect();
            assert_eq!(got, want, "{ctx} ns");
            assert_eq!(
                times.null_count(),
                want.iter().filter(|v| v.is_none()).count(),
                "{ctx} nulls"
            );
            assert!(
                matches!(table.strings(name), Err(HgArrowError::WrongType { .. })),
                "{ctx} is not a string column"
            );
        }
        Some("string") => {
            let strings = table.strings(name).unwrap_or_else(|e| panic!("{ctx}: {e}"));
            let want: Vec<Option<&str>> = spec["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str())
                .collect();
            let got: Vec<Option<&str>> = (0..strings.len()).map(|i| strings.get(i)).collect();
            assert_eq!(got, want, "{ctx} strings");
            assert!(
                matches!(table.times_ns(name), Err(HgArrowError::WrongType { .. })),
                "{ctx} is not a time column"
            );
            assert!(
                matches!(table.numbers_f64(name), Err(HgArrowError::WrongType { .. })),
                "{ctx} is not numeric"
            );
        }
        Some("number") => {
            let numbers = table
                .numbers_f64(name)
                .unwrap_or_else(|e| panic!("{ctx}: {e}"));
            let want: Vec<Option<f64>> = spec["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64())
                .collect();
            assert_eq!(numbers.len(), want.len(), "{ctx} length");
            for (row, (g, w)) in numbers.iter().zip(&want).enumerate() {
                match w {
                    Some(w) => assert_eq!(g, w, "{ctx} row {row}"),
                    None => assert!(g.is_nan(), "{ctx} row {row}: null must be NaN, got {g}"),
                }
            }
            assert!(
                matches!(table.strings(name), Err(HgArrowError::WrongType { .. })),
                "{ctx} is not a string column"
            );
        }
        Some("boolean") => {
            assert!(
                matches!(table.numbers_f64(name), Err(HgArrowError::WrongType { .. })),
                "{ctx} booleans are not numbers"
            );
        }
        _ => {}
    }
    if let Some(cats) = spec.get("categories") {
        let got = table
            .categorize(name)
            .unwrap_or_else(|e| panic!("{ctx}: {e}"));
        let labels: Vec<&str> = cats["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let codes: Vec<u32> = cats["codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(got.labels, labels, "{ctx} category labels");
        assert_eq!(got.codes, codes, "{ctx} category codes");
        assert_eq!(
            got.missing,
            cats["missing"].as_u64().map(|m| m as u32),
            "{ctx} missing code"
        );
    }
}

#[test]
fn every_fixture_matches_its_expectations() {
    let expected = expected();
    assert!(
        expected.len() >= 9,
        "the fixture generator wrote {} files",
        expected.len()
    );
    for (file, spec) in &expected {
        let table = load(file);
        assert_eq!(
            table.num_rows() as u64,
            spec["rows"].as_u64().unwrap(),
            "{file} rows"
        );
        let columns = spec["columns"].as_object().unwrap();
        let order: Vec<&str> = spec["column_names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(table.column_names(), order, "{file} column order");
        for (name, col) in columns {
            check_column(file, &table, name, col);
        }
    }
}

#[test]
fn every_timestamp_unit_and_zone_reads_as_the_same_utc_instant() {
    let table = load("timestamps");
    for unit in ["s", "ms", "us", "ns"] {
        let naive = table.times_ns(&format!("ts_{unit}_naive")).unwrap();
        for zone in ["utc", "ist", "nyc"] {
            assert_eq!(
                table.times_ns(&format!("ts_{unit}_{zone}")).unwrap(),
                naive,
                "{unit} {zone}"
            );
        }
    }
    let ns = table.times_ns("ts_ns_utc").unwrap();
    assert_eq!(ns.get(0), Some(1_710_423_930_250_123_456));
    assert_eq!(
        table.display("ts_ns_nyc", 0).unwrap(),
        "2024-03-14 13:45:30.250"
    );
    assert_eq!(
        table.times_ns("date32").unwrap().get(0),
        Some(19_796 * 86_400 * 1_000_000_000)
    );
}

#[test]
fn missing_column_names_the_columns_that_exist() {
    let table = load("pandas");
    let err = table.strings("Hostname").unwrap_err();
    match &err {
        HgArrowError::MissingColumn { name, available } => {
            assert_eq!(name, "Hostname");
            assert_eq!(
                available,
                &["TimeGenerated", "Computer", "EventID", "Account", "Bytes"]
            );
        }
        other => panic!("unexpected error {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("'Hostname'") && message.contains("TimeGenerated, Computer, EventID"),
        "{message}"
    );
}

#[test]
fn wrong_type_names_column_expected_and_found() {
    let table = load("pandas");
    let message = table.times_ns("Computer").unwrap_err().to_string();
    assert!(message.contains("'Computer'"), "{message}");
    assert!(message.contains("LargeUtf8"), "{message}");
    assert!(message.contains("Timestamp"), "{message}");
    let message = table.numbers_f64("TimeGenerated").unwrap_err().to_string();
    assert!(
        message.contains("'TimeGenerated'") && message.contains("numeric"),
        "{message}"
    );
}

#[test]
fn zero_batches_is_an_empty_table_with_typed_columns() {
    let table = load("empty");
    assert_eq!(table.num_rows(), 0);
    assert!(table.batches().is_empty());
    assert!(table.times_ns("t").unwrap().is_empty());
    assert!(table.strings("s").unwrap().is_empty());
    assert!(table.categorize("s").unwrap().labels.is_empty());
    assert!(table.display("s", 0).is_err());
}

#[test]
fn batches_are_concatenated_in_order() {
    let table = load("multibatch");
    assert_eq!(table.batches().len(), 3, "the empty batch is dropped");
    let s = table.strings("s").unwrap();
    assert_eq!(
        (0..5).map(|i| s.get(i).unwrap()).collect::<String>(),
        "abcde"
    );
    assert_eq!(table.display("s", 4).unwrap(), "e");
}

#[test]
fn written_streams_read_back() {
    let table = load("dictionaries");
    let bytes = hg_arrow::write_ipc_stream(table.schema(), table.batches()).unwrap();
    let again = read_ipc_stream(&bytes).unwrap();
    assert_eq!(again.num_rows(), table.num_rows());
    assert_eq!(
        again.categorize("dict_int32").unwrap(),
        table.categorize("dict_int32").unwrap()
    );
}
