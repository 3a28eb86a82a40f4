//! Helpers shared by the op tests: build IPC inputs as pyarrow would, read outputs back.

#![allow(dead_code)]

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray};
use arrow_schema::{Field, Schema};
use hg_ops::{OpError, Registry};

/// One IPC stream of one batch with the given columns.
pub fn ipc(columns: Vec<(&str, ArrayRef)>) -> Vec<u8> {
    ipc_batches(vec![columns])
}

/// One IPC stream of several batches (all with the same columns).
pub fn ipc_batches(batches: Vec<Vec<(&str, ArrayRef)>>) -> Vec<u8> {
    let first = batches.first().expect("at least one batch");
    let schema = Arc::new(Schema::new(
        first
            .iter()
            .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batches: Vec<RecordBatch> = batches
        .into_iter()
        .map(|cols| {
            RecordBatch::try_new(schema.clone(), cols.into_iter().map(|(_, a)| a).collect())
                .expect("valid batch")
        })
        .collect();
    hg_arrow::write_ipc_stream(&schema, &batches).expect("writes")
}

/// A stream with this schema and no batches (what pyarrow writes for an empty table).
pub fn ipc_empty(fields: Vec<Field>) -> Vec<u8> {
    hg_arrow::write_ipc_stream(&Arc::new(Schema::new(fields)), &[]).expect("writes")
}

/// A nullable Utf8 array.
pub fn strings(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

/// A Utf8 array without nulls.
pub fn texts(values: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

/// Runs an op of the standard registry.
pub fn call(op: &str, options: &str, input: &[u8]) -> Result<hg_arrow::Table, OpError> {
    let out = Registry::standard().call(op, options.as_bytes(), input)?;
    Ok(hg_arrow::read_ipc_stream(&out).expect("output is a valid IPC stream"))
}

/// One row of `ioc.extract` output.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Row {
    pub source_index: i64,
    pub column: String,
    pub start: i64,
    pub end: i64,
    pub ioc_type: String,
    pub observable: String,
    pub canonical: String,
}

/// The rows of an `ioc.extract` output, in output order.
pub fn rows(table: &hg_arrow::Table) -> Vec<Row> {
    let names: Vec<String> = table.column_names();
    assert_eq!(
        names,
        [
            "IoCType",
            "Observable",
            "Canonical",
            "SourceIndex",
            "Column",
            "Start",
            "End"
        ]
    );
    let text = |name: &str| table.strings(name).expect("string column");
    let (t, o, c, col) = (
        text("IoCType"),
        text("Observable"),
        text("Canonical"),
        text("Column"),
    );
    let int = |name: &str| -> Vec<i64> {
        let array = table.column(name).expect("column");
        let ints = array
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("int64 column");
        ints.values().to_vec()
    };
    let (si, st, en) = (int("SourceIndex"), int("Start"), int("End"));
    (0..table.num_rows())
        .map(|i| Row {
            source_index: si[i],
            column: col.get(i).expect("no null").to_string(),
            start: st[i],
            end: en[i],
            ioc_type: t.get(i).expect("no null").to_string(),
            observable: o.get(i).expect("no null").to_string(),
            canonical: c.get(i).expect("no null").to_string(),
        })
        .collect()
}

/// The booleans of a one-column boolean output.
pub fn booleans(table: &hg_arrow::Table, name: &str) -> Vec<Option<bool>> {
    let array = table.column(name).expect("column");
    let b = array
        .as_any()
        .downcast_ref::<BooleanArray>()
        .expect("boolean column");
    (0..b.len())
        .map(|i| (!b.is_null(i)).then(|| b.value(i)))
        .collect()
}
