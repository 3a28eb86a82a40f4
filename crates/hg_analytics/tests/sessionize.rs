//! Sessionizing: the reference's observed example, boundaries, keys with nulls, any event type.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{DurationNanosecondType, Int64Type, TimestampNanosecondType};
use arrow_array::{
    Array, ArrayRef, Float64Array, RecordBatch, StringArray, TimestampNanosecondArray,
};
use arrow_schema::{DataType, Field, Schema};
use hg_analytics::{sessionize, AnalyticsError, NullKeys, SessionizeOptions};
use hg_arrow::Table;

const MIN: i64 = 60_000_000_000;
const T0: i64 = 1_700_000_000_000_000_000;

fn table(cols: Vec<(&str, ArrayRef)>) -> Table {
    let schema = Arc::new(Schema::new(
        cols.iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch =
        RecordBatch::try_new(schema.clone(), cols.into_iter().map(|c| c.1).collect()).unwrap();
    Table::new(schema, vec![batch]).unwrap()
}

fn times(mins: &[i64]) -> ArrayRef {
    Arc::new(
        TimestampNanosecondArray::from(mins.iter().map(|m| T0 + m * MIN).collect::<Vec<_>>())
            .with_timezone("UTC"),
    )
}

fn strs(v: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

fn opts(sep: f64, max: f64) -> SessionizeOptions {
    SessionizeOptions::new(vec!["user".into(), "host".into()], "t", max, sep, "op").unwrap()
}

fn lists(batch: &RecordBatch, col: &str) -> Vec<Vec<Option<String>>> {
    let l = batch.column_by_name(col).unwrap().as_list::<i32>();
    (0..l.len())
        .map(|i| {
            let v = l.value(i);
            let s = v.as_string::<i32>();
            (0..s.len())
                .map(|j| s.is_valid(j).then(|| s.value(j).to_string()))
                .collect()
        })
        .collect()
}

fn keys(batch: &RecordBatch, col: &str) -> Vec<Option<String>> {
    let s = batch.column_by_name(col).unwrap().as_string::<i32>();
    (0..s.len())
        .map(|j| s.is_valid(j).then(|| s.value(j).to_string()))
        .collect()
}

/// The reference's observed example (behaviour doc 3.10), rows given out of order.
#[test]
fn reference_example() {
    let rows: Vec<(Option<&str>, Option<&str>, i64, &str)> = vec![
        (Some("alice"), Some("h1"), 56, "g"),
        (Some("bob"), None, 3, "y"),
        (Some("alice"), Some("h1"), 0, "a"),
        (Some("alice"), Some("h1"), 5, "b"),
        (Some("alice"), Some("h2"), 1, "x"),
        (Some("alice"), Some("h1"), 20, "c"),
        (Some("alice"), Some("h1"), 29, "d"),
        (Some("alice"), Some("h1"), 38, "e"),
        (Some("alice"), Some("h1"), 47, "f"),
    ];
    let t = table(vec![
        ("user", strs(&rows.iter().map(|r| r.0).collect::<Vec<_>>())),
        ("host", strs(&rows.iter().map(|r| r.1).collect::<Vec<_>>())),
        ("t", times(&rows.iter().map(|r| r.2).collect::<Vec<_>>())),
        (
            "op",
            strs(&rows.iter().map(|r| Some(r.3)).collect::<Vec<_>>()),
        ),
    ]);
    let out = sessionize(&t, &opts(10.0, 30.0)).unwrap();
    let names: Vec<String> = out
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "user",
            "host",
            "t_min",
            "t_max",
            "op_list",
            "duration",
            "number_events"
        ]
    );
    let ops = lists(&out, "op_list");
    let want: Vec<Vec<Option<String>>> = [
        vec!["a", "b"],
        vec!["c", "d", "e", "f"],
        vec!["g"],
        vec!["x"],
        vec!["y"],
    ]
    .iter()
    .map(|v| v.iter().map(|s| Some(s.to_string())).collect())
    .collect();
    assert_eq!(ops, want);
    assert_eq!(
        keys(&out, "host"),
        vec![
            Some("h1".into()),
            Some("h1".into()),
            Some("h1".into()),
            Some("h2".into()),
            None
        ]
    );
    let n = out
        .column_by_name("number_events")
        .unwrap()
        .as_primitive::<Int64Type>();
    assert_eq!(n.values().to_vec(), vec![2, 4, 1, 1, 1]);
    let d = out
        .column_by_name("duration")
        .unwrap()
        .as_primitive::<DurationNanosecondType>();
    assert_eq!(d.values().to_vec(), vec![5 * MIN, 27 * MIN, 0, 0, 0]);
    let tmin = out
        .column_by_name("t_min")
        .unwrap()
        .as_primitive::<TimestampNanosecondType>();
    assert_eq!(tmin.value(1), T0 + 20 * MIN);
    assert_eq!(
        out.schema().field_with_name("t_min").unwrap().data_type(),
        &DataType::Timestamp(arrow_schema::TimeUnit::Nanosecond, Some("UTC".into()))
    );
}

/// Equal gaps and durations do not split (strict `>`); one nanosecond more does.
#[test]
fn boundaries_are_strict() {
    let t = table(vec![
        ("user", strs(&[Some("u"); 3])),
        ("host", strs(&[Some("h"); 3])),
        ("t", times(&[0, 10, 20])),
        ("op", strs(&[Some("a"), Some("b"), Some("c")])),
    ]);
    let out = sessionize(&t, &opts(10.0, 20.0)).unwrap();
    assert_eq!(out.num_rows(), 1);
    let mut o = opts(10.0, 20.0);
    o.max_session_time_ns -= 1;
    assert_eq!(sessionize(&t, &o).unwrap().num_rows(), 2);
    let mut o = opts(10.0, 20.0);
    o.max_event_separation_ns -= 1;
    assert_eq!(sessionize(&t, &o).unwrap().num_rows(), 3);
}

/// Missing keys sort as the text `dummy_str` and a real `dummy_str` comes out missing
/// (reference); with `OwnGroup` nulls are their own group, last, and real values are kept.
#[test]
fn null_keys() {
    let users = [Some("zed"), None, Some("dummy_str"), Some("amy")];
    let t = table(vec![
        ("user", strs(&users)),
        ("host", strs(&[Some("h"); 4])),
        ("t", times(&[0, 1, 2, 3])),
        ("op", strs(&[Some("z"), Some("n"), Some("d"), Some("a")])),
    ]);
    let out = sessionize(&t, &opts(10.0, 30.0)).unwrap();
    assert_eq!(
        keys(&out, "user"),
        vec![Some("amy".into()), None, Some("zed".into())]
    );
    assert_eq!(
        lists(&out, "op_list")[1],
        vec![Some("n".to_string()), Some("d".to_string())]
    );
    let mut o = opts(10.0, 30.0);
    o.null_keys = NullKeys::OwnGroup;
    let out = sessionize(&t, &o).unwrap();
    assert_eq!(
        keys(&out, "user"),
        vec![
            Some("amy".into()),
            Some("dummy_str".into()),
            Some("zed".into()),
            None
        ]
    );
}

/// Numeric keys, no key at all, struct events, empty input, errors.
#[test]
fn other_inputs_and_errors() {
    let t = table(vec![
        (
            "uid",
            Arc::new(Float64Array::from(vec![
                Some(2.0),
                None,
                Some(10.0),
                Some(2.0),
            ])) as ArrayRef,
        ),
        ("t", times(&[0, 1, 2, 100])),
        ("op", strs(&[Some("a"), Some("b"), Some("c"), Some("d")])),
    ]);
    let o = SessionizeOptions::new(vec!["uid".into()], "t", 30.0, 10.0, "op").unwrap();
    let out = sessionize(&t, &o).unwrap();
    assert_eq!(out.num_rows(), 4);
    let uid = out
        .column_by_name("uid")
        .unwrap()
        .as_primitive::<arrow_array::types::Float64Type>();
    assert_eq!((uid.value(0), uid.value(1), uid.value(2)), (2.0, 2.0, 10.0));
    assert!(uid.is_null(3));

    let o = SessionizeOptions::new(vec![], "t", 30.0, 10.0, "op").unwrap();
    let out = sessionize(&t, &o).unwrap();
    assert_eq!(out.num_rows(), 2);

    let empty = table(vec![
        (
            "uid",
            Arc::new(Float64Array::from(Vec::<f64>::new())) as ArrayRef,
        ),
        ("t", times(&[])),
        ("op", strs(&[])),
    ]);
    let o = SessionizeOptions::new(vec!["uid".into()], "t", 30.0, 10.0, "op").unwrap();
    assert_eq!(sessionize(&empty, &o).unwrap().num_rows(), 0);

    let o = SessionizeOptions::new(vec!["nope".into()], "t", 30.0, 10.0, "op").unwrap();
    let e = sessionize(&t, &o).unwrap_err().to_string();
    assert!(e.contains("nope") && e.contains("uid"), "{e}");
    let o = SessionizeOptions::new(vec![], "op", 30.0, 10.0, "op").unwrap();
    assert!(matches!(sessionize(&t, &o), Err(AnalyticsError::Arrow(_))));
    assert!(SessionizeOptions::new(vec![], "t", -1.0, 10.0, "op").is_err());
    assert!(SessionizeOptions::new(vec![], "t", f64::NAN, 10.0, "op").is_err());

    let with_null_time = table(vec![
        (
            "t",
            Arc::new(TimestampNanosecondArray::from(vec![Some(T0), None])) as ArrayRef,
        ),
        ("op", strs(&[Some("a"), Some("b")])),
    ]);
    let o = SessionizeOptions::new(vec![], "t", 30.0, 10.0, "op").unwrap();
    let e = sessionize(&with_null_time, &o).unwrap_err().to_string();
    assert!(e.contains("row 1"), "{e}");
}
