//! Runs `huntglass sessions build|score` on CSV, JSON-lines and Arrow input; models; errors.

use serde_json::Value;

mod common;

const CLI: common::Subcommand = common::Subcommand("sessions");

const BUILD: [&str; 9] = [
    "build",
    "--user-cols",
    "UserId,ClientIP",
    "--max-session-time-mins",
    "30",
    "--max-event-separation-mins",
    "10",
    "--event-col",
    "Operation",
];

/// Behaviour reference 3.10: alice/h1 at +0, +5, +20, +29, +38, +47, +56 minutes (gaps of 10
/// and sessions of 30): [0, 5], [20 .. 47], [56]; alice/h2 and bob are sessions of their own.
const EVENTS_CSV: &str = "UserId,ClientIP,TimeGenerated,Operation\n\
alice,h1,2024-01-01 00:00:00,a0\n\
alice,h1,2024-01-01 00:05:00,a1\n\
bob,h1,2024-01-01 00:06:00,b0\n\
alice,h1,2024-01-01 00:20:00,a2\n\
alice,h1,2024-01-01T00:29:00Z,a3\n\
alice,h2,2024-01-01 00:30:00,x0\n\
alice,h1,2024-01-01 00:38:00,a4\n\
alice,h1,2024-01-01 00:47:00,a5\n\
alice,h1,2024-01-01 00:56:00,a6\n";

#[test]
fn build_csv_follows_the_reference_semantics() {
    let dir = CLI.temp_dir("build-csv");
    let csv = dir.join("events.csv");
    std::fs::write(&csv, EVENTS_CSV).unwrap();
    let mut args = BUILD.to_vec();
    args.push(csv.to_str().unwrap());
    let rows = CLI.ok_jsonl(&args, None);
    let lists: Vec<(String, String, Value, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["UserId"].as_str().unwrap().to_string(),
                r["ClientIP"].as_str().unwrap().to_string(),
                r["Operation_list"].clone(),
                r["number_events"].as_i64().unwrap(),
            )
        })
        .collect();
    let s = String::from;
    assert_eq!(
        lists,
        vec![
            (s("alice"), s("h1"), serde_json::json!(["a0", "a1"]), 2),
            (
                s("alice"),
                s("h1"),
                serde_json::json!(["a2", "a3", "a4", "a5"]),
                4
            ),
            (s("alice"), s("h1"), serde_json::json!(["a6"]), 1),
            (s("alice"), s("h2"), serde_json::json!(["x0"]), 1),
            (s("bob"), s("h1"), serde_json::json!(["b0"]), 1),
        ]
    );
    let first = &rows[1];
    assert!(first["TimeGenerated_min"]
        .as_str()
        .unwrap()
        .starts_with("2024-01-01T00:20:00"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn build_arrow_then_score_arrow() {
    let dir = CLI.temp_dir("arrow");
    let csv = dir.join("events.csv");
    std::fs::write(&csv, EVENTS_CSV).unwrap();
    let arrow = dir.join("sessions.arrow");
    let mut args = BUILD.to_vec();
    args.extend([
        "--format",
        "arrow",
        "--out",
        arrow.to_str().unwrap(),
        csv.to_str().unwrap(),
    ]);
    let out = CLI.run(&args, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scored = CLI.ok_jsonl(
        &[
            "score",
            "--session-col",
            "Operation_list",
            "--window-length",
            "2",
            arrow.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(scored.len(), 5);
    for row in &scored {
        assert!(row.get("rarest_window2_likelihood").is_some(), "{row}");
        assert!(row["rarest_window2"].is_array(), "{row}");
        assert!(
            row.get("number_events").is_some(),
            "input columns are kept: {row}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Behaviour reference 3.9, the worked example.
const WORKED: &str = r#"{"id": 1, "s": ["A", "B"]}
{"id": 2, "s": ["A", "B"]}
{"id": 3, "s": ["A", "B", "C"]}
{"id": 4, "s": ["C", "A"]}
"#;

/// The behaviour reference gives its numbers to 6 significant digits.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-5 * b.abs()
}

#[test]
fn score_json_lines_matches_the_worked_example() {
    let rows = CLI.ok_jsonl(&["score", "--session-col", "s", "-"], Some(WORKED));
    let lik: Vec<f64> = rows
        .iter()
        .map(|r| r["rarest_window3_likelihood"].as_f64().unwrap())
        .collect();
    for (got, want) in lik.iter().zip([0.0740741, 0.0740741, 0.0138593, 0.0141093]) {
        assert!(close(*got, want), "{lik:?}");
    }
    assert_eq!(rows[2]["rarest_window3"], serde_json::json!(["B", "C"]));
    assert_eq!(rows[0]["id"], 1, "the record's own fields are kept");
    // Windows of 2: [A, B] -> [B, END], returned as ['B'] (the reference), or with the token.
    let two = CLI.ok_jsonl(
        &["score", "--session-col", "s", "--window-length", "2", "-"],
        Some(WORKED),
    );
    assert_eq!(two[0]["rarest_window2"], serde_json::json!(["B"]));
    assert!(close(
        two[0]["rarest_window2_likelihood"].as_f64().unwrap(),
        0.0727612
    ));
    let with_end = CLI.ok_jsonl(
        &[
            "score",
            "--session-col",
            "s",
            "--window-length",
            "2",
            "--include-end-token",
            "-",
        ],
        Some(WORKED),
    );
    assert_eq!(
        with_end[0]["rarest_window2"],
        serde_json::json!(["B", "##END##"])
    );
    // Too short for a window of 5 (with the end token, at most 4 items): null and [].
    let five = CLI.ok_jsonl(
        &["score", "--session-col", "s", "--window-length", "5", "-"],
        Some(WORKED),
    );
    assert!(five
        .iter()
        .all(|r| r["rarest_window5_likelihood"].is_null()));
    assert!(five
        .iter()
        .all(|r| r["rarest_window5"] == serde_json::json!([])));
}

#[test]
fn saved_model_scores_other_sessions() {
    let dir = CLI.temp_dir("model");
    let baseline = dir.join("baseline.jsonl");
    std::fs::write(&baseline, WORKED).unwrap();
    let model = dir.join("model.bin");
    CLI.ok_jsonl(
        &[
            "score",
            "--session-col",
            "s",
            "--save-model",
            model.to_str().unwrap(),
            baseline.to_str().unwrap(),
        ],
        None,
    );
    assert!(std::fs::read(&model).unwrap().starts_with(b"HGSM"));
    let today = dir.join("today.csv");
    std::fs::write(
        &today,
        "user,s\nann,\"[\"\"A\"\", \"\"B\"\"]\"\nbo,\"[\"\"B\"\", \"\"X\"\"]\"\n",
    )
    .unwrap();
    let rows = CLI.ok_jsonl(
        &[
            "score",
            "--session-col",
            "s",
            "--model",
            model.to_str().unwrap(),
            "--session-likelihoods",
            today.to_str().unwrap(),
        ],
        None,
    );
    // [A, B] under the baseline's model: 4/9 * 4/9 * 3/8.
    let got = rows[0]["session_likelihood"].as_f64().unwrap();
    assert!(
        (got - 4.0 / 9.0 * 4.0 / 9.0 * 3.0 / 8.0).abs() < 1e-12,
        "{got}"
    );
    assert_eq!(rows[1]["user"], "bo");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn commands_with_parameters_and_values() {
    let input = r#"{"s": [{"name": "Set-User", "params": ["Identity"]}, {"name": "Set-Mailbox", "params": ["Identity", "AuditEnabled"]}]}
{"s": [{"name": "Set-User", "params": ["Identity"]}, {"name": "Set-Mailbox", "params": ["Identity"]}]}
{"s": [{"name": "Set-User", "params": ["Identity", "Force"]}]}
"#;
    let rows = CLI.ok_jsonl(
        &["score", "--session-col", "s", "--session-likelihoods", "-"],
        Some(input),
    );
    // Behaviour reference 3.9, params example: session likelihoods with tokens.
    for (row, want) in rows.iter().zip([0.0299315, 0.0475132, 0.0639535]) {
        let got = row["session_likelihood"].as_f64().unwrap();
        assert!(close(got, want), "{got} vs {want}");
    }
    let values = r#"{"s": [{"name": "Set-User", "params": {"Identity": "bob", "Force": "true"}}]}
{"s": [{"name": "Set-User", "params": {"Identity": "amy"}}]}
"#;
    // One command plus the end token: the only window of 2 is [Set-User, END], returned one
    // short (the reference) or with the token; the items are the input's own objects.
    let item =
        serde_json::json!({"name": "Set-User", "params": {"Identity": "bob", "Force": "true"}});
    let rows = CLI.ok_jsonl(
        &["score", "--session-col", "s", "--window-length", "2", "-"],
        Some(values),
    );
    assert_eq!(rows[0]["rarest_window2"], serde_json::json!([item.clone()]));
    let rows = CLI.ok_jsonl(
        &[
            "score",
            "--session-col",
            "s",
            "--window-length",
            "2",
            "--include-end-token",
            "-",
        ],
        Some(values),
    );
    assert_eq!(
        rows[0]["rarest_window2"],
        serde_json::json!([item, {"name": "##END##", "params": []}])
    );
}

#[test]
fn errors_name_the_problem() {
    let e = CLI.failure(&["score", "--session-col", "nope", "-"], Some(WORKED));
    assert!(e.contains("'nope'") && e.contains("id, s"), "{e}");
    let e = CLI.failure(
        &["score", "--session-col", "s", "-"],
        Some("{\"s\": [\"A\", {\"name\": \"B\"}]}\n"),
    );
    assert!(e.contains("record 0, item 1"), "{e}");
    let e = CLI.failure(&["score", "--session-col", "s", "-"], Some("{\"s\": 3}\n"));
    assert!(e.contains("JSON array"), "{e}");
    let e = CLI.failure(
        &["score", "--session-col", "s", "--window-length", "0", "-"],
        Some(WORKED),
    );
    assert!(e.contains("window_length"), "{e}");
    let dir = CLI.temp_dir("errors");
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "UserId,ClientIP,TimeGenerated,Operation\nu,h,yesterday,a\n",
    )
    .unwrap();
    let mut args = BUILD.to_vec();
    args.push(bad.to_str().unwrap());
    let e = CLI.failure(&args, None);
    assert!(
        e.contains("TimeGenerated") && e.contains("yesterday"),
        "{e}"
    );
    let model = dir.join("model.bin");
    std::fs::write(&model, b"not a model").unwrap();
    let e = CLI.failure(
        &[
            "score",
            "--session-col",
            "s",
            "--model",
            model.to_str().unwrap(),
            "-",
        ],
        Some(WORKED),
    );
    assert!(e.contains("model_base64"), "{e}");
    let e = CLI.failure(&["score", "--session-col", "s", "data.txt"], None);
    assert!(e.contains("unknown input kind"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
