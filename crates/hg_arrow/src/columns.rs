//! Typed column accessors: strings, times, numbers and categories.

use std::collections::HashMap;
use std::hash::Hash;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, LargeStringArray, StringArray, StringViewArray};
use arrow_schema::{DataType, TimeUnit};

use crate::display::display_value;
use crate::time::{NS_PER_DAY, NS_PER_MS, NS_PER_SECOND, NS_PER_US};
use crate::HgArrowError;

/// The label given to nulls (and float NaN) by [`crate::Table::categorize`].
pub const MISSING_LABEL: &str = "(missing)";

const STRING_TYPES: &str = "a string column (Utf8, LargeUtf8, Utf8View or a dictionary of those)";
const TIME_TYPES: &str = "a time column (Timestamp of any unit, Date32 or Date64)";
const NUMBER_TYPES: &str = "a numeric column (integer or float)";

fn wrong_type(name: &str, expected: &str, found: &DataType) -> HgArrowError {
    HgArrowError::WrongType {
        name: name.to_string(),
        expected: expected.to_string(),
        found: found.to_string(),
    }
}

#[derive(Debug)]
enum StringValues {
    Utf8(StringArray),
    Large(LargeStringArray),
    View(StringViewArray),
}

impl StringValues {
    fn from_array(array: &dyn Array) -> Option<StringValues> {
        match array.data_type() {
            DataType::Utf8 => Some(StringValues::Utf8(array.as_string::<i32>().clone())),
            DataType::LargeUtf8 => Some(StringValues::Large(array.as_string::<i64>().clone())),
            DataType::Utf8View => Some(StringValues::View(array.as_string_view().clone())),
            _ => None,
        }
    }

    fn len(&self) -> usize {
        match self {
            StringValues::Utf8(a) => a.len(),
            StringValues::Large(a) => a.len(),
            StringValues::View(a) => a.len(),
        }
    }

    fn get(&self, i: usize) -> Option<&str> {
        match self {
            StringValues::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            StringValues::Large(a) => a.is_valid(i).then(|| a.value(i)),
            StringValues::View(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

/// Null marker inside [`StringColumn`]'s decoded dictionary keys.
const NULL_KEY: u32 = u32::MAX;

/// Read access to a string column of any of the accepted physical types.
#[derive(Debug)]
pub struct StringColumn {
    values: StringValues,
    /// Dictionary keys (one per row, [`NULL_KEY`] for null) when the column is a dictionary.
    keys: Option<Vec<u32>>,
}

macro_rules! dictionary_keys {
    ($array:expr, $key:ty) => {{
        let dict = $array.as_dictionary::<$key>();
        let keys = dict.keys();
        let n_values = dict.values().len();
        let decoded: Vec<u32> = (0..keys.len())
            .map(|i| {
                if keys.is_null(i) {
                    return NULL_KEY;
                }
                // Validated by arrow-rs; out-of-range keys still read as null rather than panic.
                match usize::try_from(keys.value(i)) {
                    Ok(k) if k < n_values => k as u32,
                    _ => NULL_KEY,
                }
            })
            .collect();
        (decoded, dict.values().clone())
    }};
}

impl StringColumn {
    pub(crate) fn new(name: &str, array: ArrayRef) -> Result<StringColumn, HgArrowError> {
        if let Some(values) = StringValues::from_array(array.as_ref()) {
            return Ok(StringColumn { values, keys: None });
        }
        let DataType::Dictionary(key_type, value_type) = array.data_type() else {
            return Err(wrong_type(name, STRING_TYPES, array.data_type()));
        };
        if !matches!(
            value_type.as_ref(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ) {
            return Err(wrong_type(name, STRING_TYPES, array.data_type()));
        }
        let (keys, values) = match key_type.as_ref() {
            DataType::Int8 => dictionary_keys!(array, Int8Type),
            DataType::Int16 => dictionary_keys!(array, Int16Type),
            DataType::Int32 => dictionary_keys!(array, Int32Type),
            DataType::Int64 => dictionary_keys!(array, Int64Type),
            DataType::UInt8 => dictionary_keys!(array, UInt8Type),
            DataType::UInt16 => dictionary_keys!(array, UInt16Type),
            DataType::UInt32 => dictionary_keys!(array, UInt32Type),
            DataType::UInt64 => dictionary_keys!(array, UInt64Type),
            _ => return Err(wrong_type(name, STRING_TYPES, array.data_type())),
        };
        let values = StringValues::from_array(values.as_ref())
            .ok_or_else(|| wrong_type(name, STRING_TYPES, array.data_type()))?;
        if values.len() >= NULL_KEY as usize {
            return Err(HgArrowError::TooLarge(format!(
                "column '{name}': dictionary of {} values",
                values.len()
            )));
        }
        Ok(StringColumn {
            values,
            keys: Some(keys),
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match &self.keys {
            Some(k) => k.len(),
            None => self.values.len(),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of a row, `None` for null (or a row past the end).
    pub fn get(&self, row: usize) -> Option<&str> {
        match &self.keys {
            Some(keys) => match keys.get(row) {
                Some(&k) if k != NULL_KEY => self.values.get(k as usize),
                _ => None,
            },
            None if row < self.values.len() => self.values.get(row),
            None => None,
        }
    }

    /// Sorted distinct values and per-row codes; a dictionary is categorized by its values once.
    fn categorize(&self) -> Categories {
        match &self.keys {
            Some(keys) => {
                // Categorize the dictionary values once, then map rows through their keys and keep
                // only the values some row uses.
                let dict = categorize_keys(
                    self.values.len(),
                    |i| self.values.get(i),
                    |_, s| s.to_string(),
                );
                let n_real = dict.labels.len() - usize::from(dict.missing.is_some());
                let row_code = |k: u32| -> Option<u32> {
                    if k == NULL_KEY {
                        return None;
                    }
                    let c = dict.codes[k as usize];
                    (Some(c) != dict.missing).then_some(c)
                };
                let mut used = vec![false; n_real];
                let mut any_missing = false;
                for &k in keys {
                    match row_code(k) {
                        Some(c) => used[c as usize] = true,
                        None => any_missing = true,
                    }
                }
                let mut remap = vec![0u32; n_real];
                let mut labels = Vec::new();
                for (i, label) in dict.labels.iter().take(n_real).enumerate() {
                    if used[i] {
                        remap[i] = labels.len() as u32;
                        labels.push(label.clone());
                    }
                }
                let missing = any_missing.then_some(labels.len() as u32);
                if any_missing {
                    labels.push(MISSING_LABEL.to_string());
                }
                let missing_code = missing.unwrap_or(u32::MAX);
                let codes = keys
                    .iter()
                    .map(|&k| match row_code(k) {
                        Some(c) => remap[c as usize],
                        None => missing_code,
                    })
                    .collect();
                Categories {
                    labels,
                    codes,
                    missing,
                }
            }
            None => categorize_keys(self.len(), |i| self.get(i), |_, s| s.to_string()),
        }
    }
}

/// A time column as i64 nanoseconds since the Unix epoch (UTC), with explicit nulls.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeColumn {
    ns: Vec<i64>,
    valid: Option<Vec<bool>>,
}

macro_rules! timestamps {
    ($name:expr, $array:expr, $ty:ty, $factor:expr) => {{
        let a = $array.as_primitive::<$ty>();
        let mut ns = Vec::with_capacity(a.len());
        for i in 0..a.len() {
            if a.is_null(i) {
                ns.push(0);
                continue;
            }
            let v = a.value(i) as i64;
            match v.checked_mul($factor) {
                Some(x) => ns.push(x),
                None => {
                    return Err(HgArrowError::OutOfRange {
                        name: $name.to_string(),
                        row: i,
                        detail: format!(
                            "time value {v} does not fit in i64 nanoseconds (years 1677..2262)"
                        ),
                    })
                }
            }
        }
        ns
    }};
}

impl TimeColumn {
    pub(crate) fn new(name: &str, array: &dyn Array) -> Result<TimeColumn, HgArrowError> {
        let ns = match array.data_type() {
            DataType::Timestamp(TimeUnit::Second, _) => {
                timestamps!(name, array, TimestampSecondType, NS_PER_SECOND)
            }
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                timestamps!(name, array, TimestampMillisecondType, NS_PER_MS)
            }
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                timestamps!(name, array, TimestampMicrosecondType, NS_PER_US)
            }
            DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                timestamps!(name, array, TimestampNanosecondType, 1)
            }
            DataType::Date32 => timestamps!(name, array, Date32Type, NS_PER_DAY),
            DataType::Date64 => timestamps!(name, array, Date64Type, NS_PER_MS),
            other => return Err(wrong_type(name, TIME_TYPES, other)),
        };
        let valid =
            (array.null_count() > 0).then(|| (0..array.len()).map(|i| array.is_valid(i)).collect());
        Ok(TimeColumn { ns, valid })
    }

    /// Builds a column from values and an optional validity mask (same length).
    pub fn from_parts(ns: Vec<i64>, valid: Option<Vec<bool>>) -> TimeColumn {
        TimeColumn { ns, valid }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ns.len()
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.ns.is_empty()
    }

    /// The raw values; null rows hold 0 (check [`TimeColumn::is_valid`]).
    pub fn values(&self) -> &[i64] {
        &self.ns
    }

    /// Whether a row holds a time (false for null rows and rows past the end).
    pub fn is_valid(&self, row: usize) -> bool {
        row < self.ns.len() && self.valid.as_ref().is_none_or(|v| v[row])
    }

    /// The time of a row, `None` for null.
    pub fn get(&self, row: usize) -> Option<i64> {
        self.is_valid(row).then(|| self.ns[row])
    }

    /// Number of null rows.
    pub fn null_count(&self) -> usize {
        self.valid
            .as_ref()
            .map_or(0, |v| v.iter().filter(|x| !**x).count())
    }
}

macro_rules! to_f64 {
    ($array:expr, $ty:ty) => {{
        let a = $array.as_primitive::<$ty>();
        (0..a.len())
            .map(|i| {
                if a.is_null(i) {
                    f64::NAN
                } else {
                    a.value(i) as f64
                }
            })
            .collect()
    }};
}

pub(crate) fn numbers_f64(name: &str, array: &dyn Array) -> Result<Vec<f64>, HgArrowError> {
    Ok(match array.data_type() {
        DataType::Int8 => to_f64!(array, Int8Type),
        DataType::Int16 => to_f64!(array, Int16Type),
        DataType::Int32 => to_f64!(array, Int32Type),
        DataType::Int64 => to_f64!(array, Int64Type),
        DataType::UInt8 => to_f64!(array, UInt8Type),
        DataType::UInt16 => to_f64!(array, UInt16Type),
        DataType::UInt32 => to_f64!(array, UInt32Type),
        DataType::UInt64 => to_f64!(array, UInt64Type),
        DataType::Float32 => to_f64!(array, Float32Type),
        DataType::Float64 => to_f64!(array, Float64Type),
        DataType::Float16 => {
            let a = array.as_primitive::<Float16Type>();
            (0..a.len())
                .map(|i| {
                    if a.is_null(i) {
                        f64::NAN
                    } else {
                        a.value(i).to_f64()
                    }
                })
                .collect()
        }
        other => return Err(wrong_type(name, NUMBER_TYPES, other)),
    })
}

/// Sorted distinct values of a column and each row's index into them.
#[derive(Debug, Clone, PartialEq)]
pub struct Categories {
    /// Distinct values as display text, in sort order; [`MISSING_LABEL`] last when nulls exist.
    pub labels: Vec<String>,
    /// Index into `labels` of each row.
    pub codes: Vec<u32>,
    /// The code of the missing label, when some row is null.
    pub missing: Option<u32>,
}

/// Groups rows by a key, sorts the distinct keys and labels each from its first row.
fn categorize_keys<K: Hash + Eq + Ord + Clone>(
    n: usize,
    key_of: impl Fn(usize) -> Option<K>,
    label_of: impl Fn(usize, &K) -> String,
) -> Categories {
    let mut index: HashMap<K, u32> = HashMap::new();
    let mut first_rows: Vec<(K, usize)> = Vec::new();
    let mut provisional = Vec::with_capacity(n);
    let mut any_missing = false;
    for row in 0..n {
        match key_of(row) {
            Some(k) => {
                let next = first_rows.len() as u32;
                let code = *index.entry(k.clone()).or_insert_with(|| {
                    first_rows.push((k, row));
                    next
                });
                provisional.push(code);
            }
            None => {
                any_missing = true;
                provisional.push(u32::MAX);
            }
        }
    }
    let mut order: Vec<u32> = (0..first_rows.len() as u32).collect();
    order.sort_by(|a, b| first_rows[*a as usize].0.cmp(&first_rows[*b as usize].0));
    let mut rank = vec![0u32; first_rows.len()];
    for (r, &o) in order.iter().enumerate() {
        rank[o as usize] = r as u32;
    }
    let mut labels: Vec<String> = order
        .iter()
        .map(|&o| {
            let (k, row) = &first_rows[o as usize];
            label_of(*row, k)
        })
        .collect();
    let missing = any_missing.then_some(labels.len() as u32);
    if any_missing {
        labels.push(MISSING_LABEL.to_string());
    }
    let missing_code = missing.unwrap_or(u32::MAX);
    let codes = provisional
        .into_iter()
        .map(|c| {
            if c == u32::MAX {
                missing_code
            } else {
                rank[c as usize]
            }
        })
        .collect();
    Categories {
        labels,
        codes,
        missing,
    }
}

/// A float ordered by `total_cmp` with -0.0 folded into 0.0 (so equal values hash equally).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct OrderedF64(u64);

impl OrderedF64 {
    fn new(v: f64) -> OrderedF64 {
        OrderedF64(if v == 0.0 {
            0.0f64.to_bits()
        } else {
            v.to_bits()
        })
    }
}

impl PartialOrd for OrderedF64 {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrderedF64 {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        f64::from_bits(self.0).total_cmp(&f64::from_bits(other.0))
    }
}

macro_rules! categorize_ints {
    ($array:expr, $ty:ty) => {{
        let a = $array.as_primitive::<$ty>();
        categorize_keys(
            a.len(),
            |i| a.is_valid(i).then(|| a.value(i) as i128),
            |row, _| display_value(a, row),
        )
    }};
}

pub(crate) fn categorize(name: &str, array: ArrayRef) -> Result<Categories, HgArrowError> {
    let a = array.as_ref();
    Ok(match a.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(_, _) => {
            StringColumn::new(name, array)?.categorize()
        }
        DataType::Int8 => categorize_ints!(a, Int8Type),
        DataType::Int16 => categorize_ints!(a, Int16Type),
        DataType::Int32 => categorize_ints!(a, Int32Type),
        DataType::Int64 => categorize_ints!(a, Int64Type),
        DataType::UInt8 => categorize_ints!(a, UInt8Type),
        DataType::UInt16 => categorize_ints!(a, UInt16Type),
        DataType::UInt32 => categorize_ints!(a, UInt32Type),
        DataType::UInt64 => categorize_ints!(a, UInt64Type),
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            let values = numbers_f64(name, a)?;
            categorize_keys(
                values.len(),
                |i| (!values[i].is_nan()).then(|| OrderedF64::new(values[i])),
                |row, _| display_value(a, row),
            )
        }
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => {
            let times = TimeColumn::new(name, a)?;
            categorize_keys(
                times.len(),
                |i| times.get(i),
                |row, _| display_value(a, row),
            )
        }
        DataType::Boolean => {
            let b = a.as_boolean();
            categorize_keys(
                b.len(),
                |i| b.is_valid(i).then(|| b.value(i)),
                |_, v| v.to_string(),
            )
        }
        other => {
            return Err(wrong_type(
                name,
                "a string, numeric, boolean or time column",
                other,
            ));
        }
    })
}
