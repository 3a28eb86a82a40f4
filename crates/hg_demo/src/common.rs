//! Shared helpers: the seeded random source, time arithmetic and Arrow column builders.

use std::sync::Arc;

use arrow_array::{ArrayRef, Int32Array, Int64Array, StringArray, TimestampNanosecondArray};
use arrow_schema::{DataType, Field, TimeUnit};
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Nanoseconds in one millisecond.
pub const MS: i64 = 1_000_000;
/// Nanoseconds in one second.
pub const SEC: i64 = 1_000 * MS;
/// Nanoseconds in one minute.
pub const MIN: i64 = 60 * SEC;
/// Nanoseconds in one hour.
pub const HOUR: i64 = 60 * MIN;
/// Nanoseconds in one day.
pub const DAY: i64 = 24 * HOUR;

/// The random source of one table: ChaCha8 keyed by the scenario seed and a per-table stream,
/// so that changing one table's generator never shifts the values of another.
pub struct DemoRng(ChaCha8Rng);

impl DemoRng {
    /// A random source for `seed` and the table-specific `stream`.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(&stream.to_le_bytes());
        key[16..24].copy_from_slice(b"huntglas");
        DemoRng(ChaCha8Rng::from_seed(key))
    }

    /// A uniform integer in `0..n` (`n` > 0). The modulo bias is below 2^-40 for our ranges.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        self.0.next_u64() % n.max(1)
    }

    /// A uniform integer in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// A uniform float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// One element chosen with integer weights (the slice must hold a positive weight).
    pub fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut draw = self.below(total);
        for (item, weight) in items {
            if draw < u64::from(*weight) {
                return item;
            }
            draw -= u64::from(*weight);
        }
        &items[items.len() - 1].0
    }

    /// A count near `mean` (uniform within plus or minus `spread` of it), never negative.
    pub fn around(&mut self, mean: f64, spread: f64) -> u64 {
        let factor = 1.0 + spread * (2.0 * self.unit() - 1.0);
        (mean * factor).round().max(0.0) as u64
    }
}

/// The Arrow type of every time column: `Timestamp(ns, "UTC")`.
pub fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

/// A field of the given type.
pub fn field(name: &str, data_type: DataType, nullable: bool) -> Field {
    Field::new(name, data_type, nullable)
}

/// A non-null UTC nanosecond timestamp column.
pub fn ts_col(values: impl IntoIterator<Item = i64>) -> ArrayRef {
    Arc::new(TimestampNanosecondArray::from_iter_values(values).with_timezone("UTC"))
}

/// A nullable UTC nanosecond timestamp column.
pub fn ts_opt_col(values: impl IntoIterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(TimestampNanosecondArray::from_iter(values).with_timezone("UTC"))
}

/// A non-null string column.
pub fn str_col<'a>(values: impl IntoIterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

/// A nullable string column.
pub fn str_opt_col<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(values.into_iter().collect::<StringArray>())
}

/// A non-null Int32 column.
pub fn i32_col(values: impl IntoIterator<Item = i32>) -> ArrayRef {
    Arc::new(Int32Array::from_iter_values(values))
}

/// A non-null Int64 column.
pub fn i64_col(values: impl IntoIterator<Item = i64>) -> ArrayRef {
    Arc::new(Int64Array::from_iter_values(values))
}

/// Rows per record batch of the larger tables.
pub const BATCH_ROWS: usize = 65_536;

/// Formats an integer as the lowercase `0x...` hex Windows uses for process and logon ids.
pub fn hex_id(value: u64) -> String {
    format!("{value:#x}")
}

/// Day of week of a scenario time: 0 = Monday ... 6 = Sunday (the scenario starts on a Monday).
pub fn weekday(start_ns: i64, t: i64) -> i64 {
    ((t - start_ns).div_euclid(DAY)).rem_euclid(7)
}
