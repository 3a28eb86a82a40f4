//! Tick generation against the shared cases in `tests/cases/render/`.

use std::path::PathBuf;

use hg_arrow::time::Civil;
use hg_render::ticks::{numeric_ticks, time_ticks, TickUnit};
use serde_json::Value;

fn cases(name: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/cases/render")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).expect("valid JSON");
    doc["cases"].as_array().expect("cases").clone()
}

/// Parses `YYYY-MM-DDTHH:MM:SS.mmm` (UTC) to nanoseconds.
fn iso_ns(s: &str) -> i64 {
    let n = |a: usize, b: usize| {
        s[a..b]
            .parse::<i64>()
            .unwrap_or_else(|_| panic!("bad time {s}"))
    };
    Civil {
        year: n(0, 4),
        month: n(5, 7) as u32,
        day: n(8, 10) as u32,
        hour: n(11, 13) as u32,
        minute: n(14, 16) as u32,
        second: n(17, 19) as u32,
        nanos: n(20, 23) as u32 * 1_000_000,
    }
    .to_ns()
    .expect("in range")
}

#[test]
fn time_ticks_match_the_shared_cases() {
    let all = cases("time_ticks.json");
    assert!(all.len() >= 10);
    for case in all {
        let name = case["name"].as_str().unwrap();
        let got = time_ticks(
            iso_ns(case["start"].as_str().unwrap()),
            iso_ns(case["end"].as_str().unwrap()),
            case["width"].as_f64().unwrap(),
        );
        let unit = serde_json::to_value(got.interval.unit).unwrap();
        assert_eq!(unit, case["unit"], "{name}: unit");
        assert_eq!(
            got.interval.step,
            case["step"].as_i64().unwrap(),
            "{name}: step"
        );
        let labels: Vec<&str> = got.ticks.iter().map(|t| t.label.as_str()).collect();
        let want: Vec<&str> = case["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(labels, want, "{name}: labels");
        assert_eq!(
            got.context.as_deref(),
            case["context"].as_str(),
            "{name}: context"
        );
        assert!(
            got.ticks.windows(2).all(|w| w[0].ns < w[1].ns),
            "{name}: ascending"
        );
    }
}

#[test]
fn time_ticks_adapt_across_spans_from_centuries_to_milliseconds() {
    let start = 1_710_423_930_000_000_000i64;
    let mut previous = None;
    for span in [
        3e18, 3e17, 3e16, 3e15, 3e14, 3e13, 3e12, 3e11, 3e10, 3e9, 3e8, 3e7,
    ] {
        let got = time_ticks(start, start + span as i64, 900.0);
        assert!(
            !got.ticks.is_empty() && got.ticks.len() <= 30,
            "span {span}: {} ticks",
            got.ticks.len()
        );
        if let Some(prev) = previous {
            assert!(
                got.interval.approx_ns() <= prev,
                "interval shrinks with the span"
            );
        }
        previous = Some(got.interval.approx_ns());
    }
    assert_eq!(
        time_ticks(start, start + 30_000_000, 900.0).interval.unit,
        TickUnit::Millisecond
    );
    // Degenerate and extreme inputs still give a bounded answer.
    assert!(time_ticks(5, 5, 900.0).ticks.len() <= 2);
    assert!(time_ticks(i64::MIN, i64::MAX, 900.0).ticks.len() <= 2_000);
}

#[test]
fn numeric_ticks_match_the_shared_cases() {
    for case in cases("numeric_ticks.json") {
        let got = numeric_ticks(
            case["min"].as_f64().unwrap(),
            case["max"].as_f64().unwrap(),
            case["max_ticks"].as_u64().unwrap() as usize,
        );
        let values: Vec<f64> = got.iter().map(|t| t.value).collect();
        let want: Vec<f64> = case["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(values.len(), want.len(), "{case}");
        for (g, w) in values.iter().zip(&want) {
            assert!(
                (g - w).abs() < 1e-9 * w.abs().max(1.0),
                "{case}: {values:?}"
            );
        }
        let labels: Vec<&str> = got.iter().map(|t| t.label.as_str()).collect();
        let want: Vec<&str> = case["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(labels, want, "{case}");
    }
    assert!(numeric_ticks(f64::NAN, 1.0, 5).is_empty());
}
