//! Criterion benchmarks: sessionizing and scoring (commands with parameters) seeded events.
//! `bench/sessions/bench.py` compares the same pipeline with the reference and writes the table.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch, StringArray, StructArray, TimestampNanosecondArray};
use arrow_schema::{DataType, Field, Fields, Schema};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hg_analytics::{
    score_table, sessionize, sessions_from_column, Model, ScoreOptions, SessionizeOptions,
    TrainOptions,
};
use hg_arrow::Table;

/// xorshift64*: a tiny seeded generator (the benchmark needs no statistical quality).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const OPS: [(&str, &[&str]); 6] = [
    ("MailItemsAccessed", &["MailboxGuid", "ClientInfo"]),
    ("Send", &["Subject", "Recipients"]),
    (
        "Set-Mailbox",
        &["Identity", "AuditEnabled", "ForwardingSmtpAddress"],
    ),
    ("New-InboxRule", &["Name", "ForwardTo"]),
    ("FileAccessed", &["SiteUrl", "SourceFileName"]),
    ("Update", &[]),
];

fn events(n: usize) -> Table {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let n_users = (n / 60).max(10);
    let users: Vec<String> = (0..n_users)
        .map(|i| format!("user{i}@example.com"))
        .collect();
    let mut clock: Vec<i64> = (0..n_users).map(|_| 1_700_000_000_000_000_000).collect();
    let (mut times, mut us, mut ips, mut names) = (vec![], vec![], vec![], vec![]);
    let mut params = ListBuilder::new(StringBuilder::new());
    for _ in 0..n {
        let u = rng.below(n_users as u64) as usize;
        let gap = if rng.below(100) < 85 {
            1 + rng.below(90)
        } else {
            150 + rng.below(7000)
        };
        clock[u] += gap as i64 * 1_000_000_000;
        times.push(clock[u]);
        us.push(users[u].clone());
        ips.push(format!("10.0.{}.{}", u % 250, rng.below(2)));
        let (op, ps) = OPS[rng.below(OPS.len() as u64) as usize];
        names.push(op);
        for p in ps.iter() {
            if rng.below(10) < 7 {
                params.values().append_value(p);
            }
        }
        params.append(true);
    }
    let params: ArrayRef = Arc::new(params.finish());
    let cmd = StructArray::try_new(
        Fields::from(vec![
            Field::new("name", DataType::Utf8, false),
            Field::new("params", params.data_type().clone(), true),
        ]),
        vec![Arc::new(StringArray::from(names)), params],
        None,
    )
    .unwrap();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(TimestampNanosecondArray::from(times).with_timezone("UTC")),
        Arc::new(StringArray::from(us)),
        Arc::new(StringArray::from(ips)),
        Arc::new(cmd),
    ];
    let schema = Arc::new(Schema::new(
        ["TimeGenerated", "UserId", "ClientIP", "cmd"]
            .iter()
            .zip(&columns)
            .map(|(n, c)| Field::new(*n, c.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    Table::new(schema, vec![batch]).unwrap()
}

fn bench(c: &mut Criterion) {
    let opts = SessionizeOptions::new(
        vec!["UserId".into(), "ClientIP".into()],
        "TimeGenerated",
        20.0,
        2.0,
        "cmd",
    )
    .unwrap();
    let score = ScoreOptions::default();
    let mut g = c.benchmark_group("sessions");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    for n in [10_000usize, 100_000, 1_000_000] {
        let table = events(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("sessionize", n), &table, |b, t| {
            b.iter(|| black_box(sessionize(t, &opts).unwrap()))
        });
        let sessions = sessionize(&table, &opts).unwrap();
        let sessions = Table::new(sessions.schema(), vec![sessions]).unwrap();
        let batch = sessions_from_column(&sessions, "cmd_list").unwrap();
        g.bench_with_input(BenchmarkId::new("train", n), &batch, |b, s| {
            b.iter(|| black_box(Model::train(s, &TrainOptions::default()).unwrap()))
        });
        let model = Model::train(&batch, &TrainOptions::default()).unwrap();
        g.bench_with_input(BenchmarkId::new("score", n), &batch, |b, s| {
            b.iter(|| black_box(model.score(s, &score).unwrap()))
        });
        g.bench_with_input(
            BenchmarkId::new("sessionize_and_score", n),
            &table,
            |b, t| {
                b.iter(|| {
                    let s = sessionize(t, &opts).unwrap();
                    let s = Table::new(s.schema(), vec![s]).unwrap();
                    black_box(
                        score_table(
                            &s,
                            "cmd_list",
                            None,
                            &TrainOptions::default(),
                            &score,
                            false,
                        )
                        .unwrap(),
                    )
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
