//! The built-in scenario (hg_demo) through the time-series engines: the hourly `NetworkBytes` of
//! every host decomposed in one call (one series per `Computer`) flags exactly the two
//! exfiltration hours on LRK-WS104, and the periodogram ranks the C2 beacon (every 300 s +- 20 s
//! to 198.51.100.23 / telemetry-sync.example.net) first in the proxy log and in DNS.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampNanosecondType};
use hg_analytics::periodic::{periodic_events_table, periodic_table, PeriodicOptions};
use hg_analytics::timeseries::Detection;
use hg_analytics::timeseries_table::{anomalies_table, AnomalyRequest};
use hg_arrow::Table;

fn table(name: &str) -> Table {
    let scenario = hg_demo::generate(hg_demo::DEFAULT_SEED, 1).unwrap();
    let t = scenario.table(name).unwrap();
    Table::new(t.schema.clone(), t.batches.clone()).unwrap()
}

/// The rows of `name` whose `column` is `value` (keeps the debug-build test short: one client's
/// pairs instead of the whole organization's).
fn rows_of(name: &str, column: &str, value: &str) -> Table {
    let t = table(name);
    let batches = t
        .batches()
        .iter()
        .map(|b| {
            let c = b.column_by_name(column).unwrap().as_string::<i32>();
            let keep: arrow_array::BooleanArray =
                c.iter().map(|v| Some(v == Some(value))).collect();
            arrow_select::filter::filter_record_batch(b, &keep).unwrap()
        })
        .collect();
    Table::new(t.schema().clone(), batches).unwrap()
}

fn flagged(detection: Detection, robust: bool) -> Vec<(String, String, i64)> {
    let mut req = AnomalyRequest::new();
    req.time_column = Some("TimeGenerated".into());
    req.data_column = Some("TotalBytesSent".into());
    req.group_by = vec!["Computer".into()];
    req.score.detection = detection;
    req.stl.robust = robust;
    let out = anomalies_table(&table("NetworkBytes"), &req).unwrap();
    let hosts = out.column(0).as_string::<i32>();
    let times = out.column(1).as_primitive::<TimestampNanosecondType>();
    let anomalies = out
        .column_by_name("anomalies")
        .unwrap()
        .as_primitive::<Int64Type>();
    (0..out.num_rows())
        .filter(|&i| anomalies.value(i) != 0)
        .map(|i| {
            (
                hosts.value(i).to_string(),
                hg_arrow::time::format_timestamp_ms(times.value(i)),
                anomalies.value(i),
            )
        })
        .collect()
}

#[test]
fn network_bytes_outliers_are_the_two_exfiltration_hours() {
    let expected = vec![
        (
            "LRK-WS104".to_string(),
            "2026-11-05 02:00:00.000".to_string(),
            1,
        ),
        (
            "LRK-WS104".to_string(),
            "2026-11-06 03:00:00.000".to_string(),
            1,
        ),
    ];
    for (detection, robust) in [(Detection::Reference, false), (Detection::TwoSided, true)] {
        let all = flagged(detection, robust);
        // On the compromised host exactly the two exfiltration hours are flagged.
        let ws104: Vec<_> = all.iter().filter(|f| f.0 == "LRK-WS104").cloned().collect();
        assert_eq!(ws104, expected);
        // The other hosts' flags are Friday afternoon and evening peaks before the weekend drop
        // (the trend smoother anticipates the drop), never elsewhere.
        assert!(
            all.iter()
                .filter(|f| f.0 != "LRK-WS104")
                .all(|f| f.1.starts_with("2026-11-06") && f.1[11..13] >= *"11"),
            "{all:?}"
        );
    }
}

#[test]
fn c2_beacon_is_the_most_periodic_pair() {
    let proxy = rows_of("CommonSecurityLog", "SourceIP", "10.20.1.104");
    let out = periodic_table(
        &proxy,
        Some("TimeGenerated"),
        &["SourceIP".into(), "DestinationIP".into()],
        &PeriodicOptions::default(),
    )
    .unwrap();
    let dest = out.column(1).as_string::<i32>();
    let interval = out
        .column_by_name("dominant_interval")
        .unwrap()
        .as_primitive::<Float64Type>();
    let p = out
        .column_by_name("p_value")
        .unwrap()
        .as_primitive::<Float64Type>();
    assert_eq!(dest.value(0), "198.51.100.23");
    assert!(
        (interval.value(0) - 300.0).abs() < 5.0,
        "{}",
        interval.value(0)
    );
    assert!(p.value(0) < 1e-10, "{}", p.value(0));
    // The next pairs are periodic too, but with the users' daily rhythm (a dominant interval of
    // about a day); the beacon is the only pair repeating within the hour.
    for i in 1..out.num_rows() {
        let v = interval.value(i);
        assert!(
            v.is_nan() || v > 1000.0 || p.value(i) > 1e-8,
            "pair {i}: {v} s, p {}",
            p.value(i)
        );
    }

    let dns = rows_of("DnsEvents", "ClientIP", "10.20.1.104");
    let out = periodic_table(
        &dns,
        Some("TimeGenerated"),
        &["ClientIP".into(), "Name".into()],
        &PeriodicOptions::default(),
    )
    .unwrap();
    let name = out.column(1).as_string::<i32>();
    let interval = out
        .column_by_name("dominant_interval")
        .unwrap()
        .as_primitive::<Float64Type>();
    assert_eq!(name.value(0), "telemetry-sync.example.net");
    // Every beacon looks the C2 domain up first (the scenario: DNS and proxy every 300 s).
    assert!(
        (interval.value(0) - 300.0).abs() < 5.0,
        "{}",
        interval.value(0)
    );
}

#[test]
fn events_of_the_top_pairs_draw_their_timelines() {
    let proxy = rows_of("CommonSecurityLog", "SourceIP", "10.20.1.104");
    let keys = ["SourceIP".to_string(), "DestinationIP".to_string()];
    let options = PeriodicOptions::default();
    let ranking = periodic_table(&proxy, Some("TimeGenerated"), &keys, &options).unwrap();
    let events =
        periodic_events_table(&proxy, Some("TimeGenerated"), &keys, &options, Some(3)).unwrap();
    let rank = events
        .column_by_name("rank")
        .unwrap()
        .as_primitive::<Int64Type>();
    let dest = events
        .column_by_name("DestinationIP")
        .unwrap()
        .as_string::<i32>();
    let row = events
        .column_by_name("row")
        .unwrap()
        .as_primitive::<Int64Type>();
    let t_ms = events
        .column_by_name("t_ms")
        .unwrap()
        .as_primitive::<Float64Type>();
    let count = events
        .column_by_name("events")
        .unwrap()
        .as_primitive::<Int64Type>();
    let ranked_dest = ranking.column(1).as_string::<i32>();
    let ranked_events = ranking
        .column_by_name("events")
        .unwrap()
        .as_primitive::<Int64Type>();
    // Exactly the events of the first three pairs, each pair's in time order.
    let want: i64 = (0..3).map(|i| ranked_events.value(i)).sum();
    assert_eq!(events.num_rows() as i64, want);
    let input_times = proxy.times_ns("TimeGenerated").unwrap();
    let input_dest = proxy.strings("DestinationIP").unwrap();
    for i in 0..events.num_rows() {
        let r = rank.value(i) as usize;
        assert!(r < 3);
        assert_eq!(dest.value(i), ranked_dest.value(r));
        assert_eq!(count.value(i), ranked_events.value(r));
        let input_row = row.value(i) as usize;
        assert_eq!(input_dest.get(input_row), Some(dest.value(i)));
        assert_eq!(input_times.values()[input_row] as f64 / 1e6, t_ms.value(i));
        if i > 0 && rank.value(i - 1) == rank.value(i) {
            assert!(t_ms.value(i - 1) <= t_ms.value(i));
        }
    }
    assert_eq!(
        dest.value(0),
        "198.51.100.23",
        "the beacon's events come first"
    );
    // Beacons every 300 s +- 20 s (plus a few extra requests: the uploads): the median gap is
    // the period and nearly every gap is within the jitter of it.
    let mut gaps: Vec<f64> = (1..events.num_rows())
        .take_while(|&i| rank.value(i) == 0)
        .map(|i| (t_ms.value(i) - t_ms.value(i - 1)) / 1000.0)
        .collect();
    assert!(gaps.len() > 100);
    gaps.sort_by(f64::total_cmp);
    let median = gaps[gaps.len() / 2];
    assert!((290.0..=310.0).contains(&median), "{median}");
    let steady = gaps.iter().filter(|g| (260.0..=340.0).contains(*g)).count();
    assert!(
        steady * 100 >= gaps.len() * 95,
        "{steady} of {}",
        gaps.len()
    );
}
