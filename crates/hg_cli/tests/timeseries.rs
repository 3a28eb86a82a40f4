//! Runs `huntglass timeseries stl|periodic` on the shared cases (`tests/cases/timeseries`) as
//! CSV, JSON lines and Arrow, on the built-in scenario, and on bad input.

use std::path::Path;

use serde_json::Value;

mod common;

const CLI: common::Subcommand = common::Subcommand("timeseries");

fn case(file: &str, name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/cases/timeseries")
        .join(file);
    let all: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    all["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no case {name} in {}", path.display()))
        .clone()
}

/// The hourly series of the `spike_and_dip` case as CSV (ISO times) with its reference output.
fn spike_and_dip_csv() -> (String, Value) {
    let case = case("stl_reference.json", "spike_and_dip");
    assert_eq!(case["start"], "2026-01-01T00:00:00Z");
    assert_eq!(case["interval_s"], 3600);
    let mut csv = String::from("TimeGenerated,TotalBytesSent\n");
    for (i, v) in case["values"].as_array().unwrap().iter().enumerate() {
        let (day, hour) = (1 + i / 24, i % 24);
        csv.push_str(&format!("2026-01-{day:02}T{hour:02}:00:00Z,{v}\n"));
    }
    (csv, case["reference"].clone())
}

fn column(rows: &[Value], name: &str) -> Vec<Value> {
    rows.iter().map(|r| r[name].clone()).collect()
}

#[test]
fn stl_csv_matches_the_reference_output() {
    let dir = CLI.temp_dir("stl-csv");
    let (csv, reference) = spike_and_dip_csv();
    let path = dir.join("bytes.csv");
    std::fs::write(&path, csv).unwrap();
    let rows = CLI.ok_jsonl(&["stl", path.to_str().unwrap()], None);
    assert_eq!(rows.len(), 336);
    assert_eq!(rows[0]["TimeGenerated"], "2026-01-01 00:00:00.000");
    // The reference truncates the components to integers: they must be equal, not close.
    for name in [
        "TotalBytesSent",
        "residual",
        "trend",
        "seasonal",
        "weights",
        "baseline",
        "anomalies",
    ] {
        let want = reference[name].as_array().unwrap();
        let got = column(&rows, name);
        assert_eq!(&got, want, "column {name}");
    }
    for (got, want) in column(&rows, "score")
        .iter()
        .zip(reference["score"].as_array().unwrap())
    {
        let (got, want) = (got.as_f64().unwrap(), want.as_f64().unwrap());
        assert!(
            (got - want).abs() <= 1e-9 * want.abs().max(1.0),
            "{got} {want}"
        );
    }
    // Only the flagged rows: the +80 spike (200) and the reference's two -1 rows; the -80 dip
    // at 250 is not among them (the reference never flags dips).
    let only = CLI.ok_jsonl(&["stl", "--anomalies-only", path.to_str().unwrap()], None);
    let flagged: Vec<(String, i64)> = only
        .iter()
        .map(|r| {
            (
                r["TimeGenerated"].as_str().unwrap().to_string(),
                r["anomalies"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        flagged,
        vec![
            ("2026-01-09 08:00:00.000".to_string(), 1),
            ("2026-01-10 10:00:00.000".to_string(), -1),
            ("2026-01-12 10:00:00.000".to_string(), -1),
        ]
    );
    // Two-sided robust detection flags the dip (row 250 = 2026-01-11 10:00) as -1.
    let two = CLI.ok_jsonl(
        &[
            "stl",
            "--two-sided",
            "--robust",
            "--anomalies-only",
            path.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        two.iter()
            .any(|r| r["TimeGenerated"] == "2026-01-11 10:00:00.000" && r["anomalies"] == -1),
        "{two:?}"
    );
    assert!(two
        .iter()
        .any(|r| r["TimeGenerated"] == "2026-01-09 08:00:00.000" && r["anomalies"] == 1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stl_json_lines_from_stdin_with_float_output() {
    let (csv, reference) = spike_and_dip_csv();
    let jsonl: String = csv
        .lines()
        .skip(1)
        .map(|line| {
            let (time, value) = line.split_once(',').unwrap();
            format!("{{\"host\": \"h1\", \"t\": \"{time}\", \"bytes\": {value}}}\n")
        })
        .collect();
    let rows = CLI.ok_jsonl(
        &[
            "stl",
            "--time-column",
            "t",
            "--data-column",
            "bytes",
            "--float-output",
            "-",
        ],
        Some(&jsonl),
    );
    assert_eq!(rows.len(), 336);
    // Float components: the reference's integers are their truncation.
    let trend = column(&rows, "trend");
    for (got, want) in trend.iter().zip(reference["trend"].as_array().unwrap()) {
        assert_eq!(got.as_f64().unwrap().trunc() as i64, want.as_i64().unwrap());
    }
    assert!(trend.iter().any(|v| v.as_f64().unwrap().fract() != 0.0));
    // Grouped: one series per host, the key column first.
    let grouped = CLI.ok_jsonl(
        &["stl", "--time-column", "t", "--group-by", "host", "-"],
        Some(&jsonl),
    );
    assert_eq!(grouped.len(), 336);
    assert_eq!(grouped[0]["host"], "h1");
}

#[test]
fn periodic_finds_the_beacon_interval() {
    let dir = CLI.temp_dir("periodic");
    let mut csv = String::from("TimeGenerated,SourceIP,DestinationIP\n");
    for (name, dest) in [("beacon_60s", "203.0.113.9"), ("scattered", "192.0.2.7")] {
        let case = case("periodic_reference.json", name);
        for t in case["times"].as_array().unwrap() {
            let t = t.as_i64().unwrap();
            let time = format_epoch(t);
            csv.push_str(&format!("{time},10.0.0.1,{dest}\n"));
        }
    }
    let path = dir.join("events.csv");
    std::fs::write(&path, &csv).unwrap();
    let rows = CLI.ok_jsonl(
        &[
            "periodic",
            "--group-by",
            "SourceIP,DestinationIP",
            path.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        rows[0]["DestinationIP"], "203.0.113.9",
        "the beacon ranks first"
    );
    assert_eq!(rows[0]["events"], 120);
    let interval = rows[0]["dominant_interval"].as_f64().unwrap();
    assert!((interval - 60.0).abs() < 0.5, "{interval}");
    assert!(rows[0]["p_value"].as_f64().unwrap() < 1e-6);
    assert!(rows[1]["p_value"].as_f64().unwrap() > 0.05);
    // --top 1 and Arrow output.
    let top = CLI.ok_jsonl(
        &[
            "periodic",
            "--group-by",
            "SourceIP,DestinationIP",
            "--top",
            "1",
            path.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(top.len(), 1);
    let arrow = dir.join("ranking.arrow");
    let out = CLI.run(
        &[
            "periodic",
            "--group-by",
            "SourceIP,DestinationIP",
            "--format",
            "arrow",
            "--out",
            arrow.to_str().unwrap(),
            path.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The Arrow output: the same ranking, with the key columns first.
    let table = hg_arrow::read_ipc_stream(&std::fs::read(&arrow).unwrap()).unwrap();
    assert_eq!(table.num_rows(), 2);
    assert_eq!(
        &table.column_names()[..4],
        ["SourceIP", "DestinationIP", "events", "first"]
    );
    assert_eq!(table.display("DestinationIP", 0).unwrap(), "203.0.113.9");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `YYYY-MM-DDTHH:MM:SSZ` of seconds since the epoch (civil-from-days, proleptic Gregorian).
fn format_epoch(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[test]
fn the_scenario_network_bytes_outliers() {
    let dir = CLI.temp_dir("scenario");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_huntglass"))
        .args(["demo-data", "--out", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let arrow = dir.join("NetworkBytes.arrow");
    let rows = CLI.ok_jsonl(
        &[
            "stl",
            "--time-column",
            "TimeGenerated",
            "--data-column",
            "TotalBytesSent",
            "--group-by",
            "Computer",
            "--anomalies-only",
            arrow.to_str().unwrap(),
        ],
        None,
    );
    let ws104: Vec<(String, i64)> = rows
        .iter()
        .filter(|r| r["Computer"] == "LRK-WS104")
        .map(|r| {
            (
                r["TimeGenerated"].as_str().unwrap().to_string(),
                r["anomalies"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ws104,
        vec![
            ("2026-11-05 02:00:00.000".to_string(), 1),
            ("2026-11-06 03:00:00.000".to_string(), 1),
        ]
    );
    // The same table as CSV (times as text) gives the same two hours.
    let csv = dir.join("NetworkBytes.csv");
    let from_csv = CLI.ok_jsonl(
        &[
            "stl",
            "--data-column",
            "TotalBytesSent",
            "--group-by",
            "Computer",
            "--anomalies-only",
            csv.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(from_csv, rows);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn errors_name_the_problem() {
    let dir = CLI.temp_dir("errors");
    let (csv, _) = spike_and_dip_csv();
    let path = dir.join("bytes.csv");
    std::fs::write(&path, &csv).unwrap();
    let e = CLI.failure(
        &["stl", "--data-column", "nope", path.to_str().unwrap()],
        None,
    );
    assert!(e.contains("nope"), "{e}");
    let e = CLI.failure(&["stl", "--seasonal", "4", path.to_str().unwrap()], None);
    assert!(e.contains("seasonal"), "{e}");
    let e = CLI.failure(
        &["stl", "--time-column", "missing", path.to_str().unwrap()],
        None,
    );
    assert!(
        e.contains("'missing'") && e.contains("TotalBytesSent"),
        "{e}"
    );
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "TimeGenerated,Bytes\n2026-01-01T00:00:00Z,1\nyesterday,2\n",
    )
    .unwrap();
    let e = CLI.failure(
        &[
            "stl",
            "--time-column",
            "TimeGenerated",
            bad.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        e.contains("TimeGenerated") && e.contains("yesterday"),
        "{e}"
    );
    let e = CLI.failure(
        &[
            "stl",
            "--anomalies-only",
            "--format",
            "arrow",
            path.to_str().unwrap(),
        ],
        None,
    );
    assert!(e.contains("--anomalies-only"), "{e}");
    let e = CLI.failure(&["stl", "notes.txt"], None);
    assert!(e.contains("unknown input kind"), "{e}");
    let e = CLI.failure(
        &["periodic", "--group-by", "SourceIP", "-"],
        Some("{\"x\": 1}\n"),
    );
    assert!(e.contains("SourceIP") || e.contains("time"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
