//! The shared time-series cases (`tests/cases/timeseries/`, written from the reference by
//! `make_cases.py`): huntglass's STL anomalies equal the reference's `ts_anomalies_stl` output
//! (integer components within 1 of the reference's truncated values, scores within 1e-6, the
//! same flags) and the periodogram detector the reference's `PeriodogramPollingDetector`.

use hg_analytics::periodic::periodogram_test;
use hg_analytics::timeseries::{score_anomalies, stl, Detection, ScoreOptions, StlParams};
use serde_json::Value;

fn cases(file: &str) -> Vec<Value> {
    let path = format!(
        "{}/../../tests/cases/timeseries/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn stl_anomalies_equal_the_reference() {
    for case in cases("stl_reference.json") {
        let name = case["name"].as_str().unwrap();
        let y = floats(&case["values"]);
        let fit = stl(&y, &StlParams::new(24, 7)).unwrap();
        let ours = score_anomalies(&y, fit, &ScoreOptions::default());
        let reference = &case["reference"];
        for (column, values) in [
            ("residual", &ours.residual),
            ("trend", &ours.trend),
            ("seasonal", &ours.seasonal),
            ("weights", &ours.weights),
            ("baseline", &ours.baseline),
        ] {
            let expected = floats(&reference[column]);
            for (i, (a, b)) in values.iter().zip(&expected).enumerate() {
                assert!((a - b).abs() <= 1.0, "{name} {column}[{i}]: {a} vs {b}");
            }
        }
        let score = floats(&reference["score"]);
        for (i, (a, b)) in ours.score.iter().zip(&score).enumerate() {
            assert!((a - b).abs() < 1e-6, "{name} score[{i}]: {a} vs {b}");
        }
        let flags: Vec<i64> = reference["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        assert_eq!(ours.anomalies, flags, "{name}");
    }
}

#[test]
fn two_sided_detection_flags_the_dip_the_reference_misses() {
    let case = &cases("stl_reference.json")[0];
    assert_eq!(case["name"], "spike_and_dip");
    let y = floats(&case["values"]);
    let reference: Vec<i64> = case["reference"]["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    // The reference: the -80 dip at 250 (score about -11) is not flagged, and two ordinary hours
    // with positive scores in negative seasonal hours are flagged -1.
    assert_eq!(reference[250], 0);
    assert_eq!(reference[226], -1);
    let fit = stl(&y, &StlParams::new(24, 7)).unwrap();
    let ours = score_anomalies(
        &y,
        fit,
        &ScoreOptions {
            detection: Detection::TwoSided,
            ..ScoreOptions::default()
        },
    );
    assert!(ours.score[250] < -10.0);
    assert_eq!(ours.anomalies[250], -1);
    assert_eq!(ours.anomalies[200], 1);
    // -1 now means a dip: the positive-score hours are flagged 1, as spikes.
    assert_eq!(ours.anomalies[226], 1);
}

#[test]
fn periodogram_equals_the_reference() {
    for case in cases("periodic_reference.json") {
        let name = case["name"].as_str().unwrap();
        let times: Vec<i64> = case["times"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let start = *times.iter().min().unwrap();
        let end = *times.iter().max().unwrap();
        let r = periodogram_test(&times, start, end, 1.0).unwrap();
        let reference = &case["reference"];
        let p = reference["p_value"].as_f64().unwrap();
        let f = reference["dominant_frequency"].as_f64().unwrap();
        let interval = reference["dominant_interval"].as_f64().unwrap();
        // The reference rounds a tiny p value to 0; ours keeps it positive.
        assert!(
            (r.p_value - p).abs() <= 1e-9 * p.max(1e-3),
            "{name}: p {} vs {p}",
            r.p_value
        );
        assert!((r.dominant_frequency - f).abs() < 1e-12, "{name}: {r:?}");
        assert!(
            (r.dominant_interval - interval).abs() < 1e-6 * interval,
            "{name}: {r:?}"
        );
    }
}
