//! Display text of single cells (tooltips, category labels).

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::Array;
use arrow_schema::{DataType, TimeUnit};

use crate::time::{format_date, format_timestamp_ms, NS_PER_MS, NS_PER_SECOND, NS_PER_US};

/// Most bytes of a binary value shown (as hex) before the text is cut with `…`.
const MAX_BINARY_SHOWN: usize = 64;

/// The display text of one cell: timestamps `YYYY-MM-DD HH:MM:SS.mmm` (UTC), dates `YYYY-MM-DD`,
/// integers and integral floats without a trailing `.0`, strings as they are, booleans
/// `true`/`false`, binary as hex, null (and a row past the end) as the empty string.
pub fn display_value(array: &dyn Array, row: usize) -> String {
    if row >= array.len() || array.is_null(row) {
        return String::new();
    }
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().value(row).to_string(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row).to_string(),
        DataType::Utf8View => array.as_string_view().value(row).to_string(),
        DataType::Boolean => array.as_boolean().value(row).to_string(),
        DataType::Int8 => array.as_primitive::<Int8Type>().value(row).to_string(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(row).to_string(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row).to_string(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(row).to_string(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(row).to_string(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(row).to_string(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(row).to_string(),
        // Rust's float Display already omits `.0` for integral values and prints the shortest
        // text that round-trips in the value's own width (0.1f32 shows as 0.1).
        DataType::Float16 => array
            .as_primitive::<Float16Type>()
            .value(row)
            .to_f32()
            .to_string(),
        DataType::Float32 => array.as_primitive::<Float32Type>().value(row).to_string(),
        DataType::Float64 => array.as_primitive::<Float64Type>().value(row).to_string(),
        DataType::Decimal128(_, _) => array.as_primitive::<Decimal128Type>().value_as_string(row),
        DataType::Decimal256(_, _) => array.as_primitive::<Decimal256Type>().value_as_string(row),
        DataType::Timestamp(unit, _) => {
            let (v, factor) = match unit {
                TimeUnit::Second => (
                    array.as_primitive::<TimestampSecondType>().value(row),
                    NS_PER_SECOND,
                ),
                TimeUnit::Millisecond => (
                    array.as_primitive::<TimestampMillisecondType>().value(row),
                    NS_PER_MS,
                ),
                TimeUnit::Microsecond => (
                    array.as_primitive::<TimestampMicrosecondType>().value(row),
                    NS_PER_US,
                ),
                TimeUnit::Nanosecond => (
                    array.as_primitive::<TimestampNanosecondType>().value(row),
                    1,
                ),
            };
            match v.checked_mul(factor) {
                Some(ns) => format_timestamp_ms(ns),
                None => format!("{v} ({unit:?} since 1970)"),
            }
        }
        DataType::Date32 => format_date(array.as_primitive::<Date32Type>().value(row) as i64),
        DataType::Date64 => format_timestamp_ms(
            array
                .as_primitive::<Date64Type>()
                .value(row)
                .saturating_mul(NS_PER_MS),
        ),
        DataType::Time32(TimeUnit::Second) => {
            time_of_day(array.as_primitive::<Time32SecondType>().value(row) as i64 * NS_PER_SECOND)
        }
        DataType::Time32(_) => {
            time_of_day(array.as_primitive::<Time32MillisecondType>().value(row) as i64 * NS_PER_MS)
        }
        DataType::Time64(TimeUnit::Microsecond) => time_of_day(
            array
                .as_primitive::<Time64MicrosecondType>()
                .value(row)
                .saturating_mul(NS_PER_US),
        ),
        DataType::Time64(_) => time_of_day(array.as_primitive::<Time64NanosecondType>().value(row)),
        DataType::Duration(unit) => {
            let (v, suffix) = match unit {
                TimeUnit::Second => (array.as_primitive::<DurationSecondType>().value(row), "s"),
                TimeUnit::Millisecond => (
                    array.as_primitive::<DurationMillisecondType>().value(row),
                    "ms",
                ),
                TimeUnit::Microsecond => (
                    array.as_primitive::<DurationMicrosecondType>().value(row),
                    "us",
                ),
                TimeUnit::Nanosecond => (
                    array.as_primitive::<DurationNanosecondType>().value(row),
                    "ns",
                ),
            };
            format!("{v} {suffix}")
        }
        DataType::Binary => hex(array.as_binary::<i32>().value(row)),
        DataType::LargeBinary => hex(array.as_binary::<i64>().value(row)),
        DataType::BinaryView => hex(array.as_binary_view().value(row)),
        DataType::FixedSizeBinary(_) => hex(array.as_fixed_size_binary().value(row)),
        DataType::Dictionary(_, _) => {
            let dict = array.as_any_dictionary();
            match dictionary_key(dict.keys(), row) {
                Some(k) => display_value(dict.values().as_ref(), k),
                None => String::new(),
            }
        }
        other => format!("<{other}>"),
    }
}

fn dictionary_key(keys: &dyn Array, row: usize) -> Option<usize> {
    let key = match keys.data_type() {
        DataType::Int8 => keys.as_primitive::<Int8Type>().value(row) as i64,
        DataType::Int16 => keys.as_primitive::<Int16Type>().value(row) as i64,
        DataType::Int32 => keys.as_primitive::<Int32Type>().value(row) as i64,
        DataType::Int64 => keys.as_primitive::<Int64Type>().value(row),
        DataType::UInt8 => keys.as_primitive::<UInt8Type>().value(row) as i64,
        DataType::UInt16 => keys.as_primitive::<UInt16Type>().value(row) as i64,
        DataType::UInt32 => keys.as_primitive::<UInt32Type>().value(row) as i64,
        DataType::UInt64 => i64::try_from(keys.as_primitive::<UInt64Type>().value(row)).ok()?,
        _ => return None,
    };
    usize::try_from(key).ok()
}

fn time_of_day(ns: i64) -> String {
    let ms = ns.rem_euclid(86_400 * NS_PER_SECOND) / NS_PER_MS;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

fn hex(bytes: &[u8]) -> String {
    let mut out: String = bytes
        .iter()
        .take(MAX_BINARY_SHOWN)
        .map(|b| format!("{b:02x}"))
        .collect();
    if bytes.len() > MAX_BINARY_SHOWN {
        out.push('…');
    }
    out
}
