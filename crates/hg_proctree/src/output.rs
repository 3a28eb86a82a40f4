//! The forest as one Arrow record batch: the input columns in tree order plus the tree columns.

use std::sync::Arc;

use crate::FastSet;
use arrow_array::builder::StringBuilder;
use arrow_array::types::*;
use arrow_array::{
    ArrayRef, BooleanArray, Int32Array, Int64Array, PrimitiveArray, RecordBatch, StringArray,
    UInt32Array,
};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema};
use hg_arrow::time::Civil;
use hg_arrow::Table;

use crate::forest::{ProcessForest, NONE};
use crate::input::{is_text, parse_numeric_id, IdColumn, RawId};
use crate::{ProcTreeError, MAX_PATH_BYTES, TREE_COLUMNS};

/// Appends `value` in decimal, zero-padded to `width` digits.
fn push_padded(out: &mut Vec<u8>, value: u64, width: usize) {
    let mut digits = [0u8; 20];
    let mut v = value;
    let mut n = 0;
    loop {
        digits[n] = b'0' + (v % 10) as u8;
        v /= 10;
        n += 1;
        if v == 0 {
            break;
        }
    }
    for _ in n..width {
        out.push(b'0');
    }
    out.extend(digits[..n].iter().rev());
}

/// Appends `YYYY-MM-DD HH:MM:SS.ffffff` (UTC) of `ns`.
fn push_key_time(out: &mut String, ns: i64) {
    let c = Civil::from_ns(ns);
    let mut b = Vec::with_capacity(26);
    if c.year < 0 {
        b.push(b'-');
    }
    push_padded(&mut b, c.year.unsigned_abs(), 4);
    b.push(b'-');
    push_padded(&mut b, c.month as u64, 2);
    b.push(b'-');
    push_padded(&mut b, c.day as u64, 2);
    b.push(b' ');
    push_padded(&mut b, c.hour as u64, 2);
    b.push(b':');
    push_padded(&mut b, c.minute as u64, 2);
    b.push(b':');
    push_padded(&mut b, c.second as u64, 2);
    b.push(b'.');
    push_padded(&mut b, (c.nanos / 1000) as u64, 6);
    // Only ASCII digits and separators were written.
    out.push_str(std::str::from_utf8(&b).unwrap_or_default());
}

/// A text column of values packed in one buffer, one range per node.
struct PackedTexts {
    text: String,
    /// Node -> byte range in `text`.
    ranges: Vec<(u32, u32)>,
}

impl PackedTexts {
    fn get(&self, node: usize) -> &str {
        let (s, e) = self.ranges[node];
        &self.text[s as usize..e as usize]
    }
}

/// A string array from values written one after another into `bytes` (`ends[i]` = end of
/// value i); the values are valid UTF-8 by construction (checked once by Arrow).
fn packed_string_array(bytes: Vec<u8>, ends: &[usize]) -> Result<StringArray, ProcTreeError> {
    let limit = i32::MAX as usize;
    if bytes.len() > limit {
        return Err(ProcTreeError::Limit(format!(
            "a tree column passes {limit} bytes of text"
        )));
    }
    let mut offsets = Vec::with_capacity(ends.len() + 1);
    offsets.push(0i32);
    offsets.extend(ends.iter().map(|&e| e as i32));
    StringArray::try_new(
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Buffer::from_vec(bytes),
        None,
    )
    .map_err(|e| ProcTreeError::Input(hg_arrow::HgArrowError::Ipc(e.to_string())))
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
    /// The process keys (`name|id|time`, lower-case name; placeholders `name|id|placeholder`),
    /// made unique with a `#<source_index>` suffix where two nodes would share one (the later
    /// in tree order gets the suffix). The id is the process id as `table` (the input the forest
    /// was built from) writes it. Returned by node.
    pub fn proc_keys(&self, table: &Table) -> Result<Vec<String>, ProcTreeError> {
        let packed = self.packed_keys(table)?;
        Ok((0..self.len()).map(|n| packed.get(n).to_string()).collect())
    }

    /// The keys of [`Self::proc_keys`], written in tree order into one buffer.
    fn packed_keys(&self, table: &Table) -> Result<PackedTexts, ProcTreeError> {
        let ids = IdColumn::read(table, &self.schema.process_id)?;
        let n_real = self.rows.len();
        let mut text = String::with_capacity(self.len() * 48);
        let mut ranges = vec![(0u32, 0u32); self.len()];
        let limit = u32::MAX as usize;
        let write_key = |n: usize, text: &mut String| {
            let name = self.name_lc[n]
                .map(|id| self.names.lower_texts[id as usize].as_str())
                .unwrap_or(if n >= n_real { "unknown" } else { "" });
            text.push_str(name);
            text.push('|');
            if n < n_real {
                let row = self.rows[n] as usize;
                match &ids {
                    IdColumn::Text(c) => text.push_str(c.get(row).map(str::trim).unwrap_or("")),
                    IdColumn::Number(_) => {
                        if let Some(RawId::Number(v)) = ids.raw(row) {
                            let mut b = Vec::with_capacity(20);
                            push_padded(&mut b, v, 1);
                            text.push_str(std::str::from_utf8(&b).unwrap_or_default());
                        }
                    }
                }
                text.push('|');
                if self.time_valid[n] {
                    push_key_time(text, self.time[n]);
                }
            } else {
                if let Some(id) = &self.placeholders[n - n_real].id {
                    match id {
                        RawId::Text(t) => text.push_str(t),
                        RawId::Number(v) => {
                            let mut b = Vec::with_capacity(20);
                            push_padded(&mut b, *v, 1);
                            text.push_str(std::str::from_utf8(&b).unwrap_or_default());
                        }
                    }
                }
                text.push_str("|placeholder");
            }
        };
        for &n in &self.order {
            let n = n as usize;
            let start = text.len();
            write_key(n, &mut text);
            if text.len() > limit {
                return Err(ProcTreeError::Limit(format!(
                    "the process keys pass {limit} bytes"
                )));
            }
            ranges[n] = (start as u32, text.len() as u32);
        }
        // Clashes (rare): the later node in tree order gets `#<source_index>`.
        let mut clashing = Vec::new();
        {
            let mut seen: FastSet<&str> = FastSet::default();
            seen.reserve(self.len());
            for &n in &self.order {
                let (s, e) = ranges[n as usize];
                if !seen.insert(&text[s as usize..e as usize]) {
                    clashing.push(n as usize);
                }
            }
        }
        if !clashing.is_empty() {
            clashing.sort_unstable();
            let mut rebuilt = String::with_capacity(text.len() + clashing.len() * 8);
            for &n in &self.order {
                let n = n as usize;
                let (s, e) = ranges[n];
                let start = rebuilt.len();
                rebuilt.push_str(&text[s as usize..e as usize]);
                if clashing.binary_search(&n).is_ok() {
                    rebuilt.push('#');
                    let mut b = Vec::with_capacity(20);
                    push_padded(&mut b, self.source_index(n) as u64, 1);
                    rebuilt.push_str(std::str::from_utf8(&b).unwrap_or_default());
                }
                if rebuilt.len() > limit {
                    return Err(ProcTreeError::Limit(format!(
                        "the process keys pass {limit} bytes"
                    )));
                }
                ranges[n] = (start as u32, rebuilt.len() as u32);
            }
            text = rebuilt;
        }
        Ok(PackedTexts { text, ranges })
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

        let keys = self.packed_keys(table)?;
        // Keys were written in tree order: the key column is the buffer itself.
        let key_ends: Vec<usize> = order.iter().map(|&n| keys.ranges[n].1 as usize).collect();
        let mut parent_key_b = StringBuilder::with_capacity(order.len(), keys.text.len());
        for &n in &order {
            parent_key_b.append_option(self.parent(n).map(|p| keys.get(p)));
        }
        let key_array = packed_string_array(keys.text.into_bytes(), &key_ends)?;
        // Paths in tree order: a parent's path is written before its children's, so a child
        // copies it from earlier in the same buffer.
        let width = self.len().saturating_sub(1).max(1).to_string().len().max(5);
        let mut path_bytes: Vec<u8> = Vec::with_capacity(order.len() * (width + 1) * 4);
        let mut path_range = vec![(0usize, 0usize); self.len()];
        let mut path_ends = Vec::with_capacity(order.len());
        for &n in &order {
            let start = path_bytes.len();
            if let Some(p) = self.parent(n) {
                let (ps, pe) = path_range[p];
                path_bytes.extend_from_within(ps..pe);
                path_bytes.push(b'/');
            }
            push_padded(&mut path_bytes, self.source_index(n) as u64, width);
            if path_bytes.len() > MAX_PATH_BYTES {
                return Err(ProcTreeError::Limit(format!(
                    "the tree paths pass {MAX_PATH_BYTES} bytes (trees too deep for this many \
                     processes)"
                )));
            }
            path_range[n] = (start, path_bytes.len());
            path_ends.push(path_bytes.len());
        }
        let path_array = packed_string_array(path_bytes, &path_ends)?;
        let children = |n: usize| self.children(n).len();
        let tree: Vec<(&str, ArrayRef)> = vec![
            ("proc_key", Arc::new(key_array)),
            ("parent_key", Arc::new(parent_key_b.finish())),
            ("path", Arc::new(path_array)),
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
