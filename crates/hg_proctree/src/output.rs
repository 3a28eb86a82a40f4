//! The forest as one Arrow record batch: the input columns in tree order plus the tree columns.

use std::collections::HashSet;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::types::*;
use arrow_array::{
    ArrayRef, BooleanArray, Int32Array, Int64Array, PrimitiveArray, RecordBatch, UInt32Array,
};
use arrow_schema::{DataType, Field, Schema};
use hg_arrow::time::Civil;
use hg_arrow::Table;

use crate::forest::{ProcessForest, NONE};
use crate::input::{is_text, parse_numeric_id, RawId};
use crate::{ProcTreeError, MAX_PATH_BYTES, TREE_COLUMNS};

fn key_time(ns: i64) -> String {
    let c = Civil::from_ns(ns);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
        c.year,
        c.month,
        c.day,
        c.hour,
        c.minute,
        c.second,
        c.nanos / 1000
    )
}

macro_rules! filled_numbers {
    ($values:expr, $ty:ty, $order:expr) => {{
        let values: &Vec<f64> = $values;
        let array: PrimitiveArray<$ty> = $order
            .iter()
            .map(|&(row, fill): &(Option<usize>, Option<f64>)| {
                let v = match row {
                    Some(r) => values[r],
                    None => fill.unwrap_or(f64::NAN),
                };
                (!v.is_nan()).then(|| v as <$ty as ArrowPrimitiveType>::Native)
            })
            .collect();
        Arc::new(array) as ArrayRef
    }};
}

impl ProcessForest {
    fn key_of(&self, node: usize) -> String {
        let name = self.name_lc[node]
            .map(|id| self.names.lower_texts[id as usize].as_str())
            .unwrap_or(if self.is_placeholder(node) {
                "unknown"
            } else {
                ""
            });
        let id = self.ids[node]
            .as_ref()
            .map(|i| i.to_string())
            .unwrap_or_default();
        if self.is_placeholder(node) {
            format!("{name}|{id}|placeholder")
        } else if self.time_valid[node] {
            format!("{name}|{id}|{}", key_time(self.time[node]))
        } else {
            format!("{name}|{id}|")
        }
    }

    /// The process keys (`name|id|time`, lower-case name; placeholders `name|id|placeholder`),
    /// made unique with a `#<source_index>` suffix where two nodes would share one.
    pub fn proc_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = (0..self.len()).map(|n| self.key_of(n)).collect();
        let mut clashing = Vec::new();
        {
            let mut seen: HashSet<&str> = HashSet::with_capacity(keys.len());
            for &n in &self.order {
                if !seen.insert(keys[n as usize].as_str()) {
                    clashing.push(n as usize);
                }
            }
        }
        for n in clashing {
            let suffix = format!("#{}", self.source_index(n));
            keys[n].push_str(&suffix);
        }
        keys
    }

    /// The output table: the input columns of every kept process in tree order (placeholder
    /// rows are null there, except the process name, id and host columns, which carry the
    /// parent's name and id as its children recorded them and the children's host; string
    /// columns of those three come back as Utf8) followed by [`TREE_COLUMNS`].
    pub fn to_record_batch(&self, table: &Table) -> Result<RecordBatch, ProcTreeError> {
        for field in table.schema().fields() {
            if TREE_COLUMNS.contains(&field.name().as_str()) {
                return Err(ProcTreeError::Schema(format!(
                    "the input already has the column '{}' (is it already a process tree?); \
                     tree columns: {}",
                    field.name(),
                    TREE_COLUMNS.join(", ")
                )));
            }
        }
        let n_real = self.rows.len();
        let order: Vec<usize> = self.order.iter().map(|&n| n as usize).collect();
        let input_row = |n: usize| (n < n_real).then(|| self.rows[n] as usize);

        let mut fields: Vec<Field> = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        for field in table.schema().fields() {
            let name = field.name().as_str();
            let array = table.column(name)?;
            let schema = &self.schema;
            let out: ArrayRef = if Some(name) == schema.host.as_deref() {
                // A placeholder is on its children's host: take the first child's cell.
                let idx: UInt32Array = order
                    .iter()
                    .map(|&n| {
                        Some(match input_row(n) {
                            Some(r) => r as u32,
                            None => self.placeholders[n - n_real].first_child_row,
                        })
                    })
                    .collect();
                take(&array, &idx)?
            } else if name == schema.process_name && is_text(array.data_type()) {
                let col = table.strings(name)?;
                let mut b = StringBuilder::with_capacity(order.len(), 32 * order.len());
                for &n in &order {
                    match input_row(n) {
                        Some(r) => b.append_option(col.get(r)),
                        None => b.append_option(self.placeholders[n - n_real].name.as_deref()),
                    }
                }
                Arc::new(b.finish())
            } else if name == schema.process_id && is_text(array.data_type()) {
                let col = table.strings(name)?;
                let mut b = StringBuilder::with_capacity(order.len(), 8 * order.len());
                for &n in &order {
                    match input_row(n) {
                        Some(r) => b.append_option(col.get(r)),
                        None => b.append_option(
                            self.placeholders[n - n_real]
                                .id
                                .as_ref()
                                .map(|i| i.to_string()),
                        ),
                    }
                }
                Arc::new(b.finish())
            } else if name == schema.process_id && array.data_type().is_numeric() {
                let values = table.numbers_f64(name)?;
                let spec: Vec<(Option<usize>, Option<f64>)> = order
                    .iter()
                    .map(|&n| match input_row(n) {
                        Some(r) => (Some(r), None),
                        None => (
                            None,
                            match &self.placeholders[n - n_real].id {
                                Some(RawId::Number(v)) => Some(*v as f64),
                                Some(RawId::Text(t)) => parse_numeric_id(t).map(|v| v as f64),
                                None => None,
                            },
                        ),
                    })
                    .collect();
                match array.data_type() {
                    DataType::Int8 => filled_numbers!(&values, Int8Type, spec),
                    DataType::Int16 => filled_numbers!(&values, Int16Type, spec),
                    DataType::Int32 => filled_numbers!(&values, Int32Type, spec),
                    DataType::Int64 => filled_numbers!(&values, Int64Type, spec),
                    DataType::UInt8 => filled_numbers!(&values, UInt8Type, spec),
                    DataType::UInt16 => filled_numbers!(&values, UInt16Type, spec),
                    DataType::UInt32 => filled_numbers!(&values, UInt32Type, spec),
                    DataType::UInt64 => filled_numbers!(&values, UInt64Type, spec),
                    DataType::Float32 => filled_numbers!(&values, Float32Type, spec),
                    DataType::Float64 => filled_numbers!(&values, Float64Type, spec),
                    _ => {
                        let idx: UInt32Array = order
                            .iter()
                            .map(|&n| input_row(n).map(|r| r as u32))
                            .collect();
                        take(&array, &idx)?
                    }
                }
            } else {
                let idx: UInt32Array = order
                    .iter()
                    .map(|&n| input_row(n).map(|r| r as u32))
                    .collect();
                take(&array, &idx)?
            };
            fields.push(Field::new(name, out.data_type().clone(), true));
            columns.push(out);
        }

        let keys = self.proc_keys();
        let width = self.len().saturating_sub(1).max(1).to_string().len().max(5);
        let mut paths: Vec<String> = vec![String::new(); self.len()];
        let mut path_bytes = 0usize;
        for &n in &order {
            let own = format!("{:0width$}", self.source_index(n));
            let path = match self.parent(n) {
                Some(p) => format!("{}/{own}", paths[p]),
                None => own,
            };
            path_bytes += path.len();
            if path_bytes > MAX_PATH_BYTES {
                return Err(ProcTreeError::Limit(format!(
                    "the tree paths pass {MAX_PATH_BYTES} bytes (trees too deep for this many \
                     processes)"
                )));
            }
            paths[n] = path;
        }
        let mut key_b = StringBuilder::with_capacity(order.len(), 64 * order.len());
        let mut parent_key_b = StringBuilder::with_capacity(order.len(), 64 * order.len());
        let mut path_b = StringBuilder::with_capacity(order.len(), path_bytes);
        for &n in &order {
            key_b.append_value(&keys[n]);
            parent_key_b.append_option(self.parent(n).map(|p| keys[p].as_str()));
            path_b.append_value(&paths[n]);
        }
        let children = |n: usize| self.children(n).len();
        let tree: Vec<(&str, ArrayRef)> = vec![
            ("proc_key", Arc::new(key_b.finish())),
            ("parent_key", Arc::new(parent_key_b.finish())),
            ("path", Arc::new(path_b.finish())),
            (
                "source_index",
                Arc::new(Int64Array::from_iter_values(
                    order.iter().map(|&n| self.source_index(n) as i64),
                )),
            ),
            (
                "parent_index",
                Arc::new(Int64Array::from_iter(
                    order
                        .iter()
                        .map(|&n| self.parent(n).map(|p| self.source_index(p) as i64)),
                )),
            ),
            (
                "depth",
                Arc::new(Int32Array::from_iter_values(
                    order.iter().map(|&n| self.depth[n] as i32),
                )),
            ),
            (
                "child_count",
                Arc::new(Int32Array::from_iter_values(
                    order.iter().map(|&n| children(n) as i32),
                )),
            ),
            (
                "IsRoot",
                Arc::new(BooleanArray::from_iter(
                    order.iter().map(|&n| Some(self.parent[n] == NONE)),
                )),
            ),
            (
                "IsLeaf",
                Arc::new(BooleanArray::from_iter(
                    order.iter().map(|&n| Some(children(n) == 0)),
                )),
            ),
            (
                "IsBranch",
                Arc::new(BooleanArray::from_iter(
                    order
                        .iter()
                        .map(|&n| Some(self.parent[n] != NONE && children(n) > 0)),
                )),
            ),
            (
                "IsPlaceholder",
                Arc::new(BooleanArray::from_iter(
                    order.iter().map(|&n| Some(self.is_placeholder(n))),
                )),
            ),
            (
                "IsOrphan",
                Arc::new(BooleanArray::from_iter(
                    order.iter().map(|&n| Some(self.orphan[n])),
                )),
            ),
        ];
        for (name, array) in tree {
            fields.push(Field::new(name, array.data_type().clone(), true));
            columns.push(array);
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
            .map_err(|e| ProcTreeError::Input(hg_arrow::HgArrowError::Ipc(e.to_string())))
    }
}

fn take(array: &ArrayRef, idx: &UInt32Array) -> Result<ArrayRef, ProcTreeError> {
    arrow_select::take::take(array.as_ref(), idx, None)
        .map_err(|e| ProcTreeError::Input(hg_arrow::HgArrowError::Ipc(e.to_string())))
}
