//! Builds Arrow IPC streams of synthetic events for the timeline tests and benches.
#![allow(dead_code)]

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, TimestampNanosecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};

/// 2024-03-14 00:00:00 UTC in nanoseconds.
pub const T0: i64 = 1_710_374_400_000_000_000;
/// One second in nanoseconds.
pub const SEC: i64 = 1_000_000_000;

/// One column of a synthetic table.
pub enum Col {
    Time(&'static str, Vec<Option<i64>>),
    Str(&'static str, Vec<Option<String>>),
    Num(&'static str, Vec<Option<f64>>),
}

/// IPC stream bytes of the given columns (all the same length).
pub fn ipc(columns: Vec<Col>) -> Vec<u8> {
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for c in columns {
        match c {
            Col::Time(name, v) => {
                fields.push(Field::new(
                    name,
                    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                    true,
                ));
                arrays.push(Arc::new(
                    TimestampNanosecondArray::from(v).with_timezone("UTC"),
                ));
            }
            Col::Str(name, v) => {
                fields.push(Field::new(name, DataType::Utf8, true));
                arrays.push(Arc::new(StringArray::from(v)));
            }
            Col::Num(name, v) => {
                fields.push(Field::new(name, DataType::Float64, true));
                arrays.push(Arc::new(Float64Array::from(v)));
            }
        }
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays).expect("valid batch");
    hg_arrow::write_ipc_stream(&schema, &[batch]).expect("writes")
}

/// Deterministic xorshift generator.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `n` events over one day on `lanes` hosts (`host0`..), with an EventID-like number column.
pub fn events(n: usize, lanes: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed.max(1));
    let mut time = Vec::with_capacity(n);
    let mut host = Vec::with_capacity(n);
    let mut value = Vec::with_capacity(n);
    for _ in 0..n {
        time.push(Some(T0 + rng.below(86_400 * SEC as u64) as i64));
        host.push(Some(format!("host{}", rng.below(lanes as u64))));
        value.push(Some(rng.below(1000) as f64));
    }
    ipc(vec![
        Col::Time("TimeGenerated", time),
        Col::Str("Computer", host),
        Col::Num("Bytes", value),
    ])
}
