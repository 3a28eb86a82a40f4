//! The forest as one Arrow record batch: the input columns in tree order plus the tree columns.
//!
//! Tree order scatters reads over the input, so the work done per node (the process keys) runs
//! in node order, which is input order (sequential reads), and each output column is then
//! gathered once with Arrow's `take`: one gather index serves every input column, and the tree
//! columns are written in a single pass over the tree order that finds each row's parent on the
//! pre-order stack (the last row written one level up) rather than through the node arrays.

use std::sync::Arc;

use crate::FastSet;
use arrow_array::builder::StringBuilder;
use arrow_array::types::*;
use arrow_array::{
    Array, ArrayRef, BooleanArray, Int32Array, Int64Array, LargeStringArray, PrimitiveArray,
    RecordBatch, StringArray, UInt32Array,
};
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema};
use arrow_select::concat::concat;
use hg_arrow::time::{Civil, NS_PER_DAY, NS_PER_SECOND};
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

/// Appends `v` (0..=99) as two digits.
fn push_two(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(&[b'0' + (v / 10) as u8, b'0' + (v % 10) as u8]);
}

/// Writes the time part of process keys, `YYYY-MM-DD HH:MM:SS.ffffff` (UTC), with the date text
/// kept from the previous key of the same day (nodes come in input order, mostly by time).
#[derive(Default)]
struct KeyTimeWriter {
    day: Option<i64>,
    date: Vec<u8>,
}

impl KeyTimeWriter {
    fn push(&mut self, out: &mut Vec<u8>, ns: i64) {
        let day = ns.div_euclid(NS_PER_DAY);
        if self.day != Some(day) {
            let c = Civil::from_ns(ns);
            self.date.clear();
            if c.year < 0 {
                self.date.push(b'-');
            }
            push_padded(&mut self.date, c.year.unsigned_abs(), 4);
            self.date.push(b'-');
            push_padded(&mut self.date, c.month as u64, 2);
            self.date.push(b'-');
            push_padded(&mut self.date, c.day as u64, 2);
            self.date.push(b' ');
            self.day = Some(day);
        }
        out.extend_from_slice(&self.date);
        let in_day = ns.rem_euclid(NS_PER_DAY);
        let secs = in_day / NS_PER_SECOND;
        push_two(out, secs / 3600);
        out.push(b':');
        push_two(out, secs / 60 % 60);
        out.push(b':');
        push_two(out, secs % 60);
        out.push(b'.');
        push_padded(out, ((in_day % NS_PER_SECOND) / 1000) as u64, 6);
    }
}

/// Most bytes of one text column of the output (Arrow Utf8 offsets are i32).
const TEXT_COLUMN_LIMIT: usize = i32::MAX as usize;

/// A string array from values written one after another into `bytes` (`ends[i]` = end of
/// value i); the values are valid UTF-8 by construction (checked once by Arrow).
fn packed_string_array(bytes: Vec<u8>, ends: &[usize]) -> Result<StringArray, ProcTreeError> {
    if bytes.len() > TEXT_COLUMN_LIMIT {
        return Err(ProcTreeError::Limit(format!(
            "a tree column passes {TEXT_COLUMN_LIMIT} bytes of text"
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
    .map_err(arrow_error)
}

fn arrow_error(e: arrow_schema::ArrowError) -> ProcTreeError {
    ProcTreeError::Input(hg_arrow::HgArrowError::Ipc(e.to_string()))
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

/// The column followed by one value per placeholder (same Arrow type), for a Utf8 or
/// LargeUtf8 column; `None` for other string encodings.
fn with_placeholder_texts(
    array: &ArrayRef,
    extra: &[Option<String>],
) -> Result<Option<ArrayRef>, ProcTreeError> {
    let tail: ArrayRef = match array.data_type() {
        DataType::Utf8 => Arc::new(StringArray::from_iter(extra.iter().map(|v| v.as_deref()))),
        DataType::LargeUtf8 => Arc::new(LargeStringArray::from_iter(
            extra.iter().map(|v| v.as_deref()),
        )),
        _ => return Ok(None),
    };
    if extra.is_empty() {
        return Ok(Some(Arc::clone(array)));
    }
    concat(&[array.as_ref(), tail.as_ref()])
        .map(Some)
        .map_err(arrow_error)
}

impl ProcessForest {
    /// The process keys (`name|id|time`, lower-case name; placeholders `name|id|placeholder`),
    /// made unique with a `#<source_index>` suffix where two nodes would share one (the later
    /// in tree order gets the suffix). The id is the process id as `table` (the input the forest
    /// was built from) writes it. Returned by node.
    pub fn proc_keys(&self, table: &Table) -> Result<Vec<String>, ProcTreeError> {
        let keys = self.node_keys(table)?;
        Ok((0..self.len()).map(|n| keys.value(n).to_string()).collect())
    }

    /// The keys of [`Self::proc_keys`] as a string array by node. Written in node order, that is
    /// input order, so the input's ids and the node arrays are read sequentially.
    fn node_keys(&self, table: &Table) -> Result<StringArray, ProcTreeError> {
        let ids = IdColumn::read(table, &self.schema.process_id)?;
        let n_real = self.rows.len();
        let mut bytes: Vec<u8> = Vec::with_capacity(self.len() * 56);
        let mut ends: Vec<usize> = Vec::with_capacity(self.len());
        let mut clock = KeyTimeWriter::default();
        for n in 0..self.len() {
            let name = self.name_lc[n]
                .map(|id| self.names.lower_texts[id as usize].as_str())
                .unwrap_or(if n >= n_real { "unknown" } else { "" });
            bytes.extend_from_slice(name.as_bytes());
            bytes.push(b'|');
            if n < n_real {
                let row = self.rows[n] as usize;
                match &ids {
                    IdColumn::Text(c) => {
                        if let Some(t) = c.get(row) {
                            bytes.extend_from_slice(t.trim().as_bytes());
                        }
                    }
                    IdColumn::Number(_) => {
                        if let Some(RawId::Number(v)) = ids.raw(row) {
                            push_padded(&mut bytes, v, 1);
                        }
                    }
                }
                bytes.push(b'|');
                if self.time_valid[n] {
                    clock.push(&mut bytes, self.time[n]);
                }
            } else {
                match &self.placeholders[n - n_real].id {
                    Some(RawId::Text(t)) => bytes.extend_from_slice(t.as_bytes()),
                    Some(RawId::Number(v)) => push_padded(&mut bytes, *v, 1),
                    None => {}
                }
                bytes.extend_from_slice(b"|placeholder");
            }
            if bytes.len() > TEXT_COLUMN_LIMIT {
                return Err(ProcTreeError::Limit(format!(
                    "the process keys pass {TEXT_COLUMN_LIMIT} bytes"
                )));
            }
            ends.push(bytes.len());
        }
        let clashing = self.key_clashes(&bytes, &ends);
        if clashing.is_empty() {
            return packed_string_array(bytes, &ends);
        }
        let mut rebuilt = Vec::with_capacity(bytes.len() + clashing.len() * 8);
        let mut rebuilt_ends = Vec::with_capacity(ends.len());
        let mut next = clashing.iter().peekable();
        let mut start = 0;
        for (n, &end) in ends.iter().enumerate() {
            rebuilt.extend_from_slice(&bytes[start..end]);
            start = end;
            if next.peek() == Some(&&n) {
                next.next();
                rebuilt.push(b'#');
                push_padded(&mut rebuilt, self.source_index(n) as u64, 1);
            }
            if rebuilt.len() > TEXT_COLUMN_LIMIT {
                return Err(ProcTreeError::Limit(format!(
                    "the process keys pass {TEXT_COLUMN_LIMIT} bytes"
                )));
            }
            rebuilt_ends.push(rebuilt.len());
        }
        packed_string_array(rebuilt, &rebuilt_ends)
    }

    /// The nodes whose key (node `n`: `bytes[ends[n-1]..ends[n]]`) equals the key of a node
    /// earlier in tree order, sorted. Equal keys end in the same text after their last `|`
    /// (the time, empty for a process without a time, or `placeholder`), so only nodes of the
    /// same microsecond (or both without a time, or both placeholders) are compared; the tree
    /// positions are computed only when two such keys are equal.
    fn key_clashes(&self, bytes: &[u8], ends: &[usize]) -> Vec<usize> {
        let key = |n: u32| {
            let n = n as usize;
            let start = if n == 0 { 0 } else { ends[n - 1] };
            &bytes[start..ends[n]]
        };
        let has_equal_keys = |group: &[u32]| -> bool {
            if group.len() < 2 {
                return false;
            }
            if group.len() <= 8 {
                return group
                    .iter()
                    .enumerate()
                    .any(|(i, &a)| group[i + 1..].iter().any(|&b| key(a) == key(b)));
            }
            let mut seen: FastSet<&[u8]> = FastSet::default();
            group.iter().any(|&n| !seen.insert(key(n)))
        };
        let n_real = self.rows.len();
        let micros = |n: u32| self.time[n as usize].div_euclid(1000);
        let mut timed: Vec<u32> = (0..n_real as u32)
            .filter(|&n| self.time_valid[n as usize])
            .collect();
        if !timed.windows(2).all(|w| micros(w[0]) <= micros(w[1])) {
            timed.sort_unstable_by_key(|&n| micros(n));
        }
        let mut suspects: Vec<u32> = Vec::new();
        let mut start = 0;
        while start < timed.len() {
            let t = micros(timed[start]);
            let mut end = start + 1;
            while end < timed.len() && micros(timed[end]) == t {
                end += 1;
            }
            if has_equal_keys(&timed[start..end]) {
                suspects.extend_from_slice(&timed[start..end]);
            }
            start = end;
        }
        let untimed: Vec<u32> = (0..n_real as u32)
            .filter(|&n| !self.time_valid[n as usize])
            .collect();
        if has_equal_keys(&untimed) {
            suspects.extend_from_slice(&untimed);
        }
        let placeholders: Vec<u32> = (n_real as u32..self.len() as u32).collect();
        if has_equal_keys(&placeholders) {
            suspects.extend_from_slice(&placeholders);
        }
        if suspects.is_empty() {
            return Vec::new();
        }
        let mut position = vec![0u32; self.len()];
        for (i, &n) in self.order.iter().enumerate() {
            position[n as usize] = i as u32;
        }
        suspects.sort_unstable_by_key(|&n| position[n as usize]);
        let mut seen: FastSet<&[u8]> = FastSet::default();
        let mut clashing: Vec<usize> = suspects
            .iter()
            .filter(|&&n| !seen.insert(key(n)))
            .map(|&n| n as usize)
            .collect();
        clashing.sort_unstable();
        clashing
    }

    /// The output table: the input columns of every kept process in tree order (placeholder
    /// rows are null there, except the process name, id and host columns, which carry the
    /// parent's name and id as its children recorded them and the children's host; a
    /// dictionary or view string name or id column comes back as Utf8) followed by
    /// [`TREE_COLUMNS`].
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
        let n_input = self.input_rows;
        let total = self.len();
        let input_row = |n: usize| (n < n_real).then(|| self.rows[n] as usize);

        // One gather index for every input column: the input row of each output row, null for
        // placeholders (`placeholder_at`: output row and placeholder number).
        let mut gather: Vec<u32> = Vec::with_capacity(total);
        let mut placeholder_at: Vec<(usize, usize)> = Vec::with_capacity(self.placeholders.len());
        for (i, &n) in self.order.iter().enumerate() {
            let n = n as usize;
            if n < n_real {
                gather.push(self.rows[n]);
            } else {
                placeholder_at.push((i, n - n_real));
                gather.push(0);
            }
        }
        let gather_nulls = (!placeholder_at.is_empty()).then(|| {
            let mut valid = vec![true; total];
            for &(i, _) in &placeholder_at {
                valid[i] = false;
            }
            NullBuffer::from(valid)
        });
        let gather_index = UInt32Array::new(ScalarBuffer::from(gather.clone()), gather_nulls);
        // The same with each placeholder row pointing at `row_of(k)`.
        let patched_index = |row_of: &dyn Fn(usize) -> u32| {
            let mut index = gather.clone();
            for &(i, k) in &placeholder_at {
                index[i] = row_of(k);
            }
            UInt32Array::from(index)
        };

        let mut fields: Vec<Field> = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        let schema = &self.schema;
        for field in table.schema().fields() {
            let name = field.name().as_str();
            let array = table.column(name)?;
            let is_name = name == schema.process_name && is_text(array.data_type());
            let is_text_id = name == schema.process_id && is_text(array.data_type());
            let placeholder_texts: Option<Vec<Option<String>>> = if is_name {
                Some(self.placeholders.iter().map(|p| p.name.clone()).collect())
            } else if is_text_id {
                Some(
                    self.placeholders
                        .iter()
                        .map(|p| p.id.as_ref().map(|i| i.to_string()))
                        .collect(),
                )
            } else {
                None
            };
            let extended = match &placeholder_texts {
                Some(texts) => with_placeholder_texts(&array, texts)?,
                None => None,
            };
            let out: ArrayRef = if Some(name) == schema.host.as_deref() {
                // A placeholder is on its children's host: take the first child's cell.
                take(
                    &array,
                    &patched_index(&|k| self.placeholders[k].first_child_row),
                )?
            } else if let Some(extended) = extended {
                // Placeholder k's value is row `n_input + k` of the extended column.
                take(&extended, &patched_index(&|k| (n_input + k) as u32))?
            } else if let Some(texts) = &placeholder_texts {
                // Other string encodings (dictionary, view): built value by value as Utf8.
                let col = table.strings(name)?;
                let mut b = StringBuilder::with_capacity(total, 32 * total);
                for &n in &self.order {
                    let n = n as usize;
                    match input_row(n) {
                        Some(r) => b.append_option(col.get(r)),
                        None => b.append_option(texts[n - n_real].as_deref()),
                    }
                }
                Arc::new(b.finish())
            } else if name == schema.process_id && array.data_type().is_numeric() {
                let values = table.numbers_f64(name)?;
                let spec: Vec<(Option<usize>, Option<f64>)> = self
                    .order
                    .iter()
                    .map(|&n| n as usize)
                    .map(|n| match input_row(n) {
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
                    _ => take(&array, &gather_index)?,
                }
            } else {
                take(&array, &gather_index)?
            };
            fields.push(Field::new(name, out.data_type().clone(), true));
            columns.push(out);
        }
        drop(gather);

        // The tree columns in one pass over the tree order, from the depth, parent position and
        // child count the forest recorded in that order. A parent comes before its children, so
        // a child's path copies the parent's from earlier in the same buffer.
        let width = total.saturating_sub(1).max(1).to_string().len().max(5);
        let mut path_bytes: Vec<u8> = Vec::with_capacity(total * (width + 1) * 4);
        let mut path_ends: Vec<usize> = Vec::with_capacity(total);
        let mut source_index: Vec<i64> = Vec::with_capacity(total);
        let mut parent_index: Vec<i64> = Vec::with_capacity(total);
        let mut has_parent: Vec<bool> = Vec::with_capacity(total);
        let mut is_orphan: Vec<bool> = Vec::with_capacity(total);
        for (i, &n) in self.order.iter().enumerate() {
            let n = n as usize;
            let si = self.source_index(n) as i64;
            let parent_position = self.order_parent[i];
            if parent_position == NONE {
                parent_index.push(0);
                has_parent.push(false);
            } else {
                let pp = parent_position as usize;
                parent_index.push(source_index[pp]);
                has_parent.push(true);
                let ps = if pp == 0 { 0 } else { path_ends[pp - 1] };
                path_bytes.extend_from_within(ps..path_ends[pp]);
                path_bytes.push(b'/');
            }
            push_padded(&mut path_bytes, si as u64, width);
            if path_bytes.len() > MAX_PATH_BYTES {
                return Err(ProcTreeError::Limit(format!(
                    "the tree paths pass {MAX_PATH_BYTES} bytes (trees too deep for this many \
                     processes)"
                )));
            }
            path_ends.push(path_bytes.len());
            source_index.push(si);
            is_orphan.push(self.orphan[n]);
        }
        let parent_nulls = NullBuffer::from(has_parent);
        let keys = self.node_keys(table)?;
        let key_array = take_strings(&keys, UInt32Array::from(self.order.clone()))?;
        let parent_positions: Vec<u32> = self
            .order_parent
            .iter()
            .map(|&p| if p == NONE { 0 } else { p })
            .collect();
        let parent_key_array = take_strings(
            &key_array,
            UInt32Array::new(
                ScalarBuffer::from(parent_positions),
                Some(parent_nulls.clone()),
            ),
        )?;
        let children = &self.order_children;
        let parents = &self.order_parent;
        let tree: Vec<(&str, ArrayRef)> = vec![
            ("proc_key", key_array),
            ("parent_key", parent_key_array),
            (
                "path",
                Arc::new(packed_string_array(path_bytes, &path_ends)?),
            ),
            ("source_index", Arc::new(Int64Array::from(source_index))),
            (
                "parent_index",
                Arc::new(Int64Array::new(
                    ScalarBuffer::from(parent_index),
                    Some(parent_nulls),
                )),
            ),
            (
                "depth",
                Arc::new(Int32Array::from_iter_values(
                    self.order_depth.iter().map(|&d| d as i32),
                )),
            ),
            (
                "child_count",
                Arc::new(Int32Array::from_iter_values(
                    children.iter().map(|&c| c as i32),
                )),
            ),
            (
                "IsRoot",
                Arc::new(BooleanArray::from_iter(
                    parents.iter().map(|&p| Some(p == NONE)),
                )),
            ),
            (
                "IsLeaf",
                Arc::new(BooleanArray::from_iter(
                    children.iter().map(|&c| Some(c == 0)),
                )),
            ),
            (
                "IsBranch",
                Arc::new(BooleanArray::from_iter(
                    parents
                        .iter()
                        .zip(children)
                        .map(|(&p, &c)| Some(p != NONE && c > 0)),
                )),
            ),
            (
                "IsPlaceholder",
                Arc::new(BooleanArray::from_iter(
                    self.order.iter().map(|&n| Some(n as usize >= n_real)),
                )),
            ),
            ("IsOrphan", Arc::new(BooleanArray::from(is_orphan))),
        ];
        for (name, array) in tree {
            fields.push(Field::new(name, array.data_type().clone(), true));
            columns.push(array);
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(arrow_error)
    }
}

fn take_strings(array: &dyn Array, idx: UInt32Array) -> Result<ArrayRef, ProcTreeError> {
    arrow_select::take::take(array, &idx, None).map_err(arrow_error)
}

fn take(array: &ArrayRef, idx: &UInt32Array) -> Result<ArrayRef, ProcTreeError> {
    arrow_select::take::take(array.as_ref(), idx, None).map_err(arrow_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key time of `ns` written field by field from the calendar (no day cache).
    fn civil_text(ns: i64) -> String {
        let c = Civil::from_ns(ns);
        let sign = if c.year < 0 { "-" } else { "" };
        format!(
            "{sign}{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
            c.year.unsigned_abs(),
            c.month,
            c.day,
            c.hour,
            c.minute,
            c.second,
            c.nanos / 1000
        )
    }

    #[test]
    fn key_times_match_the_calendar_across_days() {
        let mut writer = KeyTimeWriter::default();
        let mut out = Vec::new();
        let mut samples = vec![
            0,
            -1,
            i64::MIN,
            i64::MAX,
            NS_PER_DAY - 1,
            NS_PER_DAY,
            -NS_PER_DAY,
            1_714_521_600_123_456_789,
            -6_213_559_680_000_000_000,
        ];
        // Walk over day boundaries forwards and backwards so the cached date must change.
        let mut t = 1_700_000_000_000_000_000i64;
        for step in [7_777_777_777_777i64, -3_333_333_333_333, 86_399_999_999_999] {
            for _ in 0..50 {
                t += step;
                samples.push(t);
            }
        }
        for ns in samples {
            out.clear();
            writer.push(&mut out, ns);
            assert_eq!(
                String::from_utf8(out.clone()).unwrap(),
                civil_text(ns),
                "{ns}"
            );
        }
    }
}
