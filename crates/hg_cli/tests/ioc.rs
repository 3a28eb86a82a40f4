//! Runs `huntglass ioc` on text, stdin, CSV, JSON-lines and Arrow input; output formats; errors.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use serde_json::Value;

mod common;

const CLI: common::Subcommand = common::Subcommand("ioc");

fn failure(args: &[&str]) -> String {
    CLI.failure(args, None)
}

fn brief(rows: &[Value]) -> Vec<(i64, String, String, String)> {
    rows.iter()
        .map(|r| {
            (
                r["SourceIndex"].as_i64().expect("int"),
                r["Column"].as_str().expect("str").to_string(),
                r["IoCType"].as_str().expect("str").to_string(),
                r["Canonical"].as_str().expect("str").to_string(),
            )
        })
        .collect()
}

const LOG: &str =
    "first line 10.0.0.1\n\nthird hxxps://evil[.]com/a\r\nno iocs\nlast bob@example.org";

fn t(i: i64, col: &str, ty: &str, canonical: &str) -> (i64, String, String, String) {
    (i, col.into(), ty.into(), canonical.into())
}

#[test]
fn plain_text_file_lines_are_records() {
    let dir = CLI.temp_dir("text");
    let path = dir.join("events.log");
    std::fs::write(&path, LOG).expect("writes");
    let rows = CLI.ok_jsonl(&[path.to_str().expect("path")], None);
    assert_eq!(
        brief(&rows),
        vec![
            t(0, "Text", "ipv4", "10.0.0.1"),
            t(2, "Text", "url", "https://evil.com/a"),
            t(2, "Text", "dns", "evil.com"),
            t(4, "Text", "email", "bob@example.org"),
            t(4, "Text", "dns", "example.org"),
        ]
    );
    // Every field, and offsets into the line.
    let url = &rows[1];
    assert_eq!(url["Observable"], "hxxps://evil[.]com/a");
    assert_eq!(
        (url["Start"].as_i64(), url["End"].as_i64()),
        (Some(6), Some(26))
    );
    let keys: Vec<&str> = url
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = [
        "IoCType",
        "Observable",
        "Canonical",
        "SourceIndex",
        "Column",
        "Start",
        "End",
    ];
    expected.sort_unstable();
    let mut keys_sorted = keys.clone();
    keys_sorted.sort_unstable();
    assert_eq!(keys_sorted, expected);
}

#[test]
fn stdin_and_dash_read_text_and_types_filter() {
    let rows = CLI.ok_jsonl(&["--types", "ipv4,email"], Some(LOG));
    assert_eq!(
        brief(&rows),
        vec![
            t(0, "Text", "ipv4", "10.0.0.1"),
            t(4, "Text", "email", "bob@example.org")
        ]
    );
    assert_eq!(CLI.ok_jsonl(&["-"], Some(LOG)).len(), 5);
    assert!(CLI.ok_jsonl(&[], Some("")).is_empty());
}

#[test]
fn csv_input_columns_and_csv_output() {
    let dir = CLI.temp_dir("csv");
    let path = dir.join("procs.csv");
    std::fs::write(
        &path,
        "Computer,CommandLine,Port\nhost1.example.com,\"curl http://1.2.3.4/x, quoted\",443\n,nothing,8.8.8.8\n",
    )
    .expect("writes");
    let file = path.to_str().expect("path");
    let all = brief(&CLI.ok_jsonl(&[file], None));
    assert_eq!(
        all,
        vec![
            t(0, "Computer", "dns", "host1.example.com"),
            t(0, "CommandLine", "url", "http://1.2.3.4/x"),
            t(0, "CommandLine", "ipv4", "1.2.3.4"),
            t(1, "Port", "ipv4", "8.8.8.8"),
        ]
    );
    assert!(all.contains(&t(0, "Computer", "dns", "host1.example.com")));
    assert!(all.contains(&t(0, "CommandLine", "ipv4", "1.2.3.4")));
    assert!(all.contains(&t(1, "Port", "ipv4", "8.8.8.8")));
    let only = brief(&CLI.ok_jsonl(&["--columns", "Port", file], None));
    assert_eq!(only, vec![t(1, "Port", "ipv4", "8.8.8.8")]);

    let out = CLI.run(
        &["--format", "csv", "--columns", "Port,Computer", file],
        None,
    );
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "IoCType,Observable,Canonical,SourceIndex,Column,Start,End"
    );
    assert_eq!(
        lines[1],
        "dns,host1.example.com,host1.example.com,0,Computer,0,17"
    );
    assert_eq!(lines[2], "ipv4,8.8.8.8,8.8.8.8,1,Port,0,7");
    assert_eq!(lines.len(), 3);
    // Nothing found still gives the header.
    let empty = CLI.run(&["--format", "csv"], Some("nothing here"));
    assert_eq!(
        String::from_utf8(empty.stdout).expect("utf-8"),
        "IoCType,Observable,Canonical,SourceIndex,Column,Start,End\n"
    );
}

#[test]
fn json_lines_input() {
    let dir = CLI.temp_dir("jsonl");
    let path = dir.join("events.jsonl");
    std::fs::write(
        &path,
        "{\"msg\": \"beacon 10.9.9.9\", \"n\": 1}\n\n{\"msg\": null, \"extra\": {\"ip\": \"1.1.1.1\"}}\n",
    )
    .expect("writes");
    let rows = brief(&CLI.ok_jsonl(&[path.to_str().expect("path")], None));
    assert_eq!(
        rows,
        vec![
            t(0, "msg", "ipv4", "10.9.9.9"),
            t(1, "extra", "ipv4", "1.1.1.1")
        ]
    );
    let bad = dir.join("bad.jsonl");
    std::fs::write(&bad, "{\"a\": 1}\n[1, 2]\n").expect("writes");
    let message = failure(&[bad.to_str().expect("path")]);
    assert!(
        message.contains("line 2: expected a JSON object"),
        "{message}"
    );
}

#[test]
fn arrow_input() {
    let dir = CLI.temp_dir("arrow");
    let path = dir.join("t.arrow");
    let schema = Arc::new(Schema::new(vec![
        Field::new("CommandLine", DataType::Utf8, true),
        Field::new("Other", DataType::Utf8, true),
    ]));
    let cmd: ArrayRef = Arc::new(StringArray::from(vec![
        Some("x"),
        None,
        Some("ping 4.4.4.4"),
    ]));
    let other: ArrayRef = Arc::new(StringArray::from(vec![Some("5.5.5.5"), None, None]));
    let batch = RecordBatch::try_new(schema.clone(), vec![cmd, other]).expect("batch");
    std::fs::write(
        &path,
        hg_arrow::write_ipc_stream(&schema, &[batch]).expect("ipc"),
    )
    .expect("writes");
    let file = path.to_str().expect("path");
    assert_eq!(
        brief(&CLI.ok_jsonl(&["--columns", "CommandLine", file], None)),
        vec![t(2, "CommandLine", "ipv4", "4.4.4.4")]
    );
    assert_eq!(brief(&CLI.ok_jsonl(&[file], None)).len(), 2);
    let message = failure(&["--columns", "Cmd", file]);
    assert!(
        message
            .contains("ioc.extract: column 'Cmd' not found; available columns: CommandLine, Other"),
        "{message}"
    );
    let ipc_file = dir.join("file.arrow");
    std::fs::write(&ipc_file, b"ARROW1\0\0rest").expect("writes");
    let message = failure(&[ipc_file.to_str().expect("path")]);
    assert!(message.contains("IPC stream format"), "{message}");
}

#[test]
fn errors_are_clear() {
    let message = failure(&["--types", "ipv5", "/dev/null"]);
    assert!(
        message.contains("unknown IoC type 'ipv5'; valid types: ipv4"),
        "{message}"
    );
    let message = failure(&["/no/such/file.csv"]);
    assert!(
        message.contains("cannot open /no/such/file.csv"),
        "{message}"
    );
    let message = failure(&["--columns", "X", "/dev/null"]);
    assert!(message.contains("--columns applies to CSV"), "{message}");
    let message = failure(&["--format", "xml", "/dev/null"]);
    assert!(message.contains("invalid value 'xml'"), "{message}");
}

#[test]
fn many_lines_keep_their_line_numbers_across_chunks() {
    // More than one chunk of text (CHUNK_BYTES is 8 MiB): line numbers continue across chunks.
    let line = format!("{} 10.0.0.1", "x".repeat(1000));
    let count = 9_000usize;
    let text: String = (0..count)
        .map(|_| line.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let dir = CLI.temp_dir("big");
    let path: &Path = &dir.join("big.txt");
    std::fs::write(path, &text).expect("writes");
    let rows = CLI.ok_jsonl(&["--types", "ipv4", path.to_str().expect("path")], None);
    assert_eq!(rows.len(), count);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["SourceIndex"].as_i64(), Some(i as i64));
    }
}
