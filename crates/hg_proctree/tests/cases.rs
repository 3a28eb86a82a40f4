//! The shared cases of `tests/cases/proctree/` (also run by the Python tests).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{
    Array, ArrayRef, Int64Array, RecordBatch, StringArray, TimestampNanosecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use hg_arrow::Table;
use hg_proctree::{build_forest, BuildOptions, SchemaChoice};
use serde_json::Value;

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/cases/proctree")
}

fn parse_time(text: &str) -> i64 {
    // The cases write `YYYY-MM-DD HH:MM:SS.mmm` (UTC).
    let (date, time) = text.split_once(' ').unwrap();
    let d: Vec<u32> = date.split('-').map(|x| x.parse().unwrap()).collect();
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let t: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
    let days = hg_arrow::time::days_from_civil(d[0] as i64, d[1], d[2]);
    let ms: i64 = format!("{frac:0<3}")[..3].parse().unwrap();
    ((days * 86_400 + t[0] * 3600 + t[1] * 60 + t[2]) * 1000 + ms) * 1_000_000
}

/// Builds the case's table: listed time columns as UTC timestamps, integer lists as Int64,
/// everything else as text.
pub fn case_table(case: &Value) -> Table {
    let time_columns: Vec<&str> = case["time_columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (name, values) in case["columns"].as_object().unwrap() {
        let values = values.as_array().unwrap();
        let array: ArrayRef = if time_columns.contains(&name.as_str()) {
            Arc::new(
                TimestampNanosecondArray::from(
                    values
                        .iter()
                        .map(|v| v.as_str().map(parse_time))
                        .collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            )
        } else if values.iter().all(|v| v.is_i64() || v.is_null()) {
            Arc::new(Int64Array::from(
                values.iter().map(Value::as_i64).collect::<Vec<_>>(),
            ))
        } else {
            Arc::new(StringArray::from(
                values.iter().map(Value::as_str).collect::<Vec<_>>(),
            ))
        };
        fields.push(Field::new(name, array.data_type().clone(), true));
        arrays.push(array);
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
    Table::new(schema, vec![batch]).unwrap()
}

fn options(case: &Value) -> BuildOptions {
    let schema = match &case["schema"] {
        Value::Null => SchemaChoice::Detect,
        Value::String(s) => SchemaChoice::Named(s.clone()),
        Value::Object(m) => SchemaChoice::Mapping(
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect::<BTreeMap<_, _>>(),
        ),
        other => panic!("bad schema {other}"),
    };
    BuildOptions {
        schema,
        ..BuildOptions::default()
    }
}

fn display(batch: &RecordBatch, column: &str, row: usize) -> String {
    hg_arrow::display_value(batch.column_by_name(column).unwrap().as_ref(), row)
}

fn run_case(path: &PathBuf) {
    let case: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let name = path.file_stem().unwrap().to_string_lossy().to_string();
    let table = case_table(&case);
    let expect = &case["expect"];
    let result = build_forest(&table, &options(&case));
    if let Some(needles) = expect.get("error_contains") {
        let err = result.expect_err(&name).to_string();
        for n in needles.as_array().unwrap() {
            assert!(err.contains(n.as_str().unwrap()), "{name}: {err}");
        }
        return;
    }
    let forest = result.unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        forest.schema().name,
        expect["schema"].as_str().unwrap(),
        "{name}"
    );
    let batch = forest.to_record_batch(&table).unwrap();
    let n_input = table.num_rows();
    let src = batch
        .column_by_name("source_index")
        .unwrap()
        .as_primitive::<Int64Type>();
    let par = batch
        .column_by_name("parent_index")
        .unwrap()
        .as_primitive::<Int64Type>();
    let pid_col = forest.schema().process_id.clone();
    let mut out_row_of = vec![None; n_input];
    let mut out_row_of_source = BTreeMap::new();
    for r in 0..batch.num_rows() {
        let s = src.value(r) as usize;
        out_row_of_source.insert(s, r);
        if s < n_input {
            out_row_of[s] = Some(r);
        }
    }
    let parents = expect["parents"].as_array().unwrap();
    assert_eq!(parents.len(), n_input, "{name}: expectation per input row");
    let mut parent_source = vec![None; n_input];
    for (row, want) in parents.iter().enumerate() {
        let got = out_row_of[row];
        if want.as_str() == Some("dropped") {
            assert_eq!(got, None, "{name}: row {row} should be dropped");
            continue;
        }
        let r = got.unwrap_or_else(|| panic!("{name}: row {row} missing from the output"));
        let parent = (!par.is_null(r)).then(|| par.value(r) as usize);
        parent_source[row] = parent;
        match want {
            Value::Null => assert_eq!(parent, None, "{name}: row {row} should be a root"),
            Value::Number(n) => {
                assert_eq!(
                    parent,
                    Some(n.as_u64().unwrap() as usize),
                    "{name}: row {row}"
                )
            }
            Value::String(p) => {
                let id = p.strip_prefix("p:").unwrap();
                let ps = parent.unwrap_or_else(|| panic!("{name}: row {row} has no parent"));
                assert!(
                    ps >= n_input,
                    "{name}: row {row} parent {ps} is not a placeholder"
                );
                let pr = out_row_of_source[&ps];
                assert_eq!(display(&batch, "IsPlaceholder", pr), "true");
                assert_eq!(display(&batch, &pid_col, pr), id, "{name}: row {row}");
                assert_eq!(display(&batch, forest.schema().time_stamp.as_str(), pr), "");
                assert_eq!(display(&batch, "IsOrphan", r), "true", "{name}: row {row}");
            }
            other => panic!("{name}: bad expectation {other}"),
        }
    }
    assert_eq!(
        forest.placeholders() as u64,
        expect["placeholders"].as_u64().unwrap(),
        "{name}: placeholders"
    );
    if let Some(roots) = expect.get("roots") {
        assert_eq!(
            forest.roots().len() as u64,
            roots.as_u64().unwrap(),
            "{name}: roots"
        );
    }
    if let Some(d) = expect.get("max_depth") {
        let depth = batch.column_by_name("depth").unwrap();
        let max = (0..batch.num_rows())
            .map(|r| display(&batch, "depth", r).parse::<u64>().unwrap())
            .max()
            .unwrap();
        assert_eq!(max, d.as_u64().unwrap(), "{name}: depth {depth:?}");
    }
    for pair in expect
        .get("same_parent")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let p: Vec<usize> = pair
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(parent_source[p[0]], parent_source[p[1]], "{name}: {p:?}");
    }
    for pair in expect
        .get("different_parent")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let p: Vec<usize> = pair
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_ne!(parent_source[p[0]], parent_source[p[1]], "{name}: {p:?}");
    }
    // Tree order (pre-order): the row before a child is its parent or inside its parent's
    // subtree; roots come oldest first.
    let paths: Vec<String> = (0..batch.num_rows())
        .map(|r| display(&batch, "path", r))
        .collect();
    for r in 0..batch.num_rows() {
        if !par.is_null(r) {
            let p = out_row_of_source[&(par.value(r) as usize)];
            assert!(p < r, "{name}: parent after child");
            assert!(
                r - 1 == p || paths[r - 1].starts_with(&format!("{}/", paths[p])),
                "{name}: row {r} is not in its parent's subtree"
            );
            assert!(
                paths[r].starts_with(&format!("{}/", paths[p])),
                "{name}: path"
            );
        }
    }
}

#[test]
fn shared_cases() {
    let mut n = 0;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    for path in paths {
        run_case(&path);
        n += 1;
    }
    assert!(n >= 10, "only {n} cases found");
}

#[test]
fn utilities_follow_the_forest() {
    let case: Value = serde_json::from_str(
        &std::fs::read_to_string(cases_dir().join("win_pid_reuse.json")).unwrap(),
    )
    .unwrap();
    let table = case_table(&case);
    let f = build_forest(&table, &BuildOptions::default()).unwrap();
    let node = |row: usize| f.node_of_source_index(row).unwrap();
    let rows = |nodes: Vec<usize>| {
        nodes
            .into_iter()
            .map(|n| f.source_index(n))
            .collect::<Vec<_>>()
    };
    // explorer(0) -> cmd(1) -> whoami(2), ping(5); explorer -> notepad(3) -> calc(4)
    assert_eq!(rows(f.ancestors(node(2))), vec![1, 0, 6]);
    assert_eq!(f.source_index(f.root(node(4))), 6);
    assert!(f.is_placeholder(f.root(node(4))));
    assert_eq!(rows(f.descendants(node(0), None)), vec![1, 2, 5, 3, 4]);
    assert_eq!(rows(f.descendants(node(0), Some(1))), vec![1, 3]);
    assert_eq!(rows(f.siblings(node(1))), vec![3]);
    assert_eq!(rows(f.siblings(node(2))), vec![5]);
    assert_eq!(f.depth(node(4)), 3);
    assert_eq!(f.children(node(1)).len(), 2);
}

#[test]
fn deep_chains_hit_the_depth_limit() {
    let n = hg_proctree::MAX_DEPTH + 10;
    let t0 = parse_time("2024-01-01 00:00:00.000");
    let times: Vec<Option<i64>> = (0..n).map(|i| Some(t0 + i as i64 * 1_000_000)).collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("t", DataType::Timestamp(TimeUnit::Nanosecond, None), true),
        Field::new("n", DataType::Utf8, true),
        Field::new("p", DataType::Int64, true),
        Field::new("pp", DataType::Int64, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(TimestampNanosecondArray::from(times)),
            Arc::new(StringArray::from(vec!["x"; n])),
            Arc::new(Int64Array::from_iter_values(1..=n as i64)),
            Arc::new(Int64Array::from_iter_values(0..n as i64)),
        ],
    )
    .unwrap();
    let table = Table::new(schema, vec![batch]).unwrap();
    let mapping = [
        ("process_name", "n"),
        ("process_id", "p"),
        ("parent_id", "pp"),
        ("time_stamp", "t"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let err = build_forest(
        &table,
        &BuildOptions {
            schema: SchemaChoice::Mapping(mapping),
            ..BuildOptions::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("deeper than 1000 levels"), "{err}");
}

#[test]
fn equal_times_cannot_make_a_cycle() {
    // Two processes created at the same instant, each naming the other as parent.
    let t = parse_time("2024-01-01 00:00:00.000");
    let schema = Arc::new(Schema::new(vec![
        Field::new("t", DataType::Timestamp(TimeUnit::Nanosecond, None), true),
        Field::new("n", DataType::Utf8, true),
        Field::new("p", DataType::Int64, true),
        Field::new("pp", DataType::Int64, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(TimestampNanosecondArray::from(vec![Some(t), Some(t)])),
            Arc::new(StringArray::from(vec!["a", "b"])),
            Arc::new(Int64Array::from(vec![1, 2])),
            Arc::new(Int64Array::from(vec![2, 1])),
        ],
    )
    .unwrap();
    let table = Table::new(schema, vec![batch]).unwrap();
    let mapping = [
        ("process_name", "n"),
        ("process_id", "p"),
        ("parent_id", "pp"),
        ("time_stamp", "t"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let f = build_forest(
        &table,
        &BuildOptions {
            schema: SchemaChoice::Mapping(mapping),
            ..BuildOptions::default()
        },
    )
    .unwrap();
    assert_eq!(f.roots().len(), 1);
    assert_eq!(f.order().len(), 2);
    assert!(f.is_orphan(f.roots()[0] as usize));
}
