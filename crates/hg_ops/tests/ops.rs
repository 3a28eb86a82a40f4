//! The registry and the IoC operations: options, inputs of every accepted string type, errors.

mod common;

use std::sync::Arc;

use arrow_array::builder::StringDictionaryBuilder;
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, Int64Array, LargeStringArray, StringViewArray};
use arrow_schema::{DataType, Field};
use common::{booleans, call, ipc, ipc_empty, rows, strings, texts};
use hg_ops::{OpError, Registry};

const MIXED: &str = r"hxxps://evil[.]com/a 10.0.0.1 C:\Windows\x.exe /usr/bin/python3 host.corp d41d8cd98f00b204e9800998ecf8427e";

fn types_of(options: &str, text: &str) -> Vec<(String, String)> {
    let input = ipc(vec![("Text", texts(&[text]))]);
    let table = call("ioc.extract", options, &input).expect("runs");
    rows(&table)
        .into_iter()
        .map(|r| (r.ioc_type, r.observable))
        .collect()
}

fn err(op: &str, options: &str, input: &[u8]) -> String {
    match Registry::standard().call(op, options.as_bytes(), input) {
        Ok(_) => panic!("{op} {options} should fail"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn extract_output_columns_offsets_and_order() {
    let input = ipc(vec![
        (
            "CommandLine",
            strings(&[
                Some("curl http://a.example.com/x"),
                None,
                Some("ping 8.8.8.8"),
            ]),
        ),
        (
            "Other",
            strings(&[Some("mail bob@example.org"), Some("1.1.1.1"), None]),
        ),
    ]);
    let table = call(
        "ioc.extract",
        r#"{"columns": ["CommandLine", "Other"]}"#,
        &input,
    )
    .expect("runs");
    let found: Vec<_> = rows(&table)
        .into_iter()
        .map(|r| {
            (
                r.source_index,
                r.column,
                r.ioc_type,
                r.observable,
                r.start,
                r.end,
            )
        })
        .collect();
    let s = String::from;
    assert_eq!(
        found,
        vec![
            (
                0,
                s("CommandLine"),
                s("url"),
                s("http://a.example.com/x"),
                5,
                27
            ),
            (0, s("CommandLine"), s("dns"), s("a.example.com"), 12, 25),
            (0, s("Other"), s("email"), s("bob@example.org"), 5, 20),
            (0, s("Other"), s("dns"), s("example.org"), 9, 20),
            (1, s("Other"), s("ipv4"), s("1.1.1.1"), 0, 7),
            (2, s("CommandLine"), s("ipv4"), s("8.8.8.8"), 5, 12),
        ]
    );
}

#[test]
fn extract_canonical_is_refanged() {
    let input = ipc(vec![("T", texts(&["hXXps://Evil[.]COM/a"]))]);
    let table = call("ioc.extract", r#"{"columns": "T"}"#, &input).expect("runs");
    let found = rows(&table);
    assert_eq!(found[0].observable, "hXXps://Evil[.]COM/a");
    assert_eq!(found[0].canonical, "https://evil.com/a");
    assert_eq!(found[1].canonical, "evil.com");
}

#[test]
fn option_types_and_aliases() {
    let only = |types: &str| -> Vec<String> {
        let mut t: Vec<String> = types_of(
            &format!(r#"{{"columns": ["Text"], "types": {types}}}"#),
            MIXED,
        )
        .into_iter()
        .map(|(t, _)| t)
        .collect();
        t.sort();
        t.dedup();
        t
    };
    assert_eq!(only(r#"["ipv4"]"#), ["ipv4"]);
    assert_eq!(only(r#""url""#), ["url"]);
    assert_eq!(only(r#"["IPV4", "dns"]"#), ["dns", "ipv4"]);
    assert_eq!(only(r#"["file_hash"]"#), ["md5_hash"]);
    assert_eq!(only(r#"["hostname"]"#), ["dns"]);
    assert_eq!(only("null").len(), 6, "null means every type");
}

#[test]
fn option_include_paths() {
    let has_path = |options: &str| {
        types_of(options, MIXED)
            .iter()
            .any(|(t, _)| t.ends_with("_path"))
    };
    assert!(
        has_path(r#"{"columns": ["Text"]}"#),
        "default includes paths"
    );
    assert!(!has_path(
        r#"{"columns": ["Text"], "include_paths": false}"#
    ));
    assert!(has_path(
        r#"{"columns": ["Text"], "include_paths": false, "types": ["linux_path"]}"#
    ));
}

#[test]
fn option_defanged() {
    let text = "hxxp://evil[.]com/x";
    assert!(types_of(r#"{"columns": ["Text"]}"#, text)
        .iter()
        .any(|(t, _)| t == "url"));
    assert!(
        !types_of(r#"{"columns": ["Text"], "defanged": false}"#, text)
            .iter()
            .any(|(t, _)| t == "url")
    );
}

#[test]
fn option_ignore_tlds() {
    let dns = |options: &str| -> Vec<String> {
        types_of(options, "host.corp and www.example.com")
            .into_iter()
            .filter(|(t, _)| t == "dns")
            .map(|(_, o)| o)
            .collect()
    };
    assert_eq!(dns(r#"{"columns": ["Text"]}"#), ["www.example.com"]);
    assert_eq!(
        dns(r#"{"columns": ["Text"], "ignore_tlds": true}"#),
        ["host.corp", "www.example.com"]
    );
}

#[test]
fn every_string_type_is_accepted() {
    let text = "beacon 10.9.8.7";
    let mut dict = StringDictionaryBuilder::<Int32Type>::new();
    dict.append_value(text);
    dict.append_null();
    dict.append_value(text);
    let inputs: Vec<ArrayRef> = vec![
        Arc::new(LargeStringArray::from(vec![Some(text), None, Some(text)])),
        Arc::new(StringViewArray::from(vec![Some(text), None, Some(text)])),
        Arc::new(dict.finish()),
    ];
    for array in inputs {
        let kind = array.data_type().clone();
        let table = call(
            "ioc.extract",
            r#"{"columns": ["T"]}"#,
            &ipc(vec![("T", array)]),
        )
        .unwrap_or_else(|e| panic!("{kind}: {e}"));
        let found = rows(&table);
        assert_eq!(
            found.iter().map(|r| r.source_index).collect::<Vec<_>>(),
            [0, 2],
            "{kind}"
        );
    }
}

#[test]
fn empty_inputs() {
    let empty = ipc_empty(vec![Field::new("T", DataType::Utf8, true)]);
    let table = call("ioc.extract", r#"{"columns": ["T"]}"#, &empty).expect("runs");
    assert_eq!(table.num_rows(), 0);
    assert_eq!(
        table.column_names().len(),
        7,
        "the schema is there with no rows"
    );
    // Columns are checked even when there are no rows.
    let message = err("ioc.extract", r#"{"columns": ["X"]}"#, &empty);
    assert!(
        message.contains("'X'") && message.contains("T"),
        "{message}"
    );
}

#[test]
fn missing_column_names_it_and_the_existing_ones() {
    let input = ipc(vec![
        ("CommandLine", texts(&["x"])),
        ("Account", texts(&["y"])),
    ]);
    let message = err(
        "ioc.extract",
        r#"{"columns": ["CommandLine", "Cmd"]}"#,
        &input,
    );
    assert_eq!(
        message,
        "ioc.extract: column 'Cmd' not found; available columns: CommandLine, Account"
    );
}

#[test]
fn non_string_column_is_an_error() {
    let input = ipc(vec![(
        "N",
        Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef,
    )]);
    let message = err("ioc.extract", r#"{"columns": ["N"]}"#, &input);
    assert!(
        message.contains("'N'") && message.contains("Int64"),
        "{message}"
    );
}

#[test]
fn bad_options_are_named() {
    let input = ipc(vec![("T", texts(&["x"]))]);
    let cases = [
        (r#"{"columns": ["T"], "colums": 1}"#, "unknown option 'colums'; valid options: columns, types, include_paths, defanged, ignore_tlds"),
        (r#"{"columns": ["T"], "defanged": "yes"}"#, "option 'defanged': invalid type"),
        (r#"{"columns": ["T"], "types": ["ipv5"]}"#, "option 'types': unknown IoC type 'ipv5'; valid types: ipv4, ipv6"),
        (r#"{"columns": ["T"], "types": [1]}"#, "option 'types': expected a string or a list of strings"),
        (r#"{"columns": 3}"#, "option 'columns': expected a string or a list of strings"),
        (r#"{"columns": []}"#, "option 'columns': name at least one column"),
        ("{}", "option 'columns' is required"),
        ("", "option 'columns' is required"),
        ("[1]", "options must be a JSON object: got an array"),
        ("{not json", "options must be a JSON object: key must be a string"),
    ];
    for (options, expected) in cases {
        let message = err("ioc.extract", options, &input);
        assert!(message.starts_with("ioc.extract: "), "{message}");
        assert!(message.contains(expected), "{options}: {message}");
    }
}

#[test]
fn bad_ipc_is_an_error() {
    let message = err("ioc.extract", r#"{"columns": ["T"]}"#, b"not arrow at all");
    assert!(
        message.starts_with("ioc.extract: Arrow IPC error"),
        "{message}"
    );
    let mut truncated = ipc(vec![("T", texts(&["10.0.0.1"]))]);
    truncated.truncate(truncated.len() / 2);
    let message = err("ioc.extract", r#"{"columns": ["T"]}"#, &truncated);
    assert!(message.contains("Arrow IPC error"), "{message}");
}

#[test]
fn unknown_operation_lists_the_registry() {
    let message = err("ioc.extrakt", "", &[]);
    assert_eq!(
        message,
        "unknown operation 'ioc.extrakt'; available operations: ioc.extract, ioc.validate, ioc.type_of, sessions.build, sessions.train, sessions.score, sessions.score_events, decode.unpack, proctree.build, timeseries.stl, timeseries.periodic"
    );
}

#[test]
fn registry_lists_operations_as_json() {
    let registry = Registry::standard();
    let listed: serde_json::Value = serde_json::from_str(&registry.list_json()).expect("json");
    let ops = listed["operations"].as_array().expect("operations");
    assert_eq!(ops.len(), registry.list().len());
    let extract = &ops[0];
    assert_eq!(extract["name"], "ioc.extract");
    let options: Vec<&str> = extract["options"]
        .as_array()
        .expect("options")
        .iter()
        .map(|o| o["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        options,
        [
            "columns",
            "types",
            "include_paths",
            "defanged",
            "ignore_tlds"
        ]
    );
    assert_eq!(extract["options"][0]["required"], true);
    assert_eq!(extract["options"][2]["default"], true);
    assert_eq!(ops[1]["options"][0]["default"], "Value");
    assert!(matches!(
        registry.get("nope"),
        Err(OpError::UnknownOperation { .. })
    ));
}

#[test]
fn validate_per_value() {
    let input = ipc(vec![(
        "Value",
        strings(&[
            Some("10.0.0.1"),
            Some("10.0.0.1 "),
            Some("bad[.]com"),
            None,
            Some("d41d8cd98f00b204e9800998ecf8427e"),
        ]),
    )]);
    let valid = |options: &str| {
        booleans(
            &call("ioc.validate", options, &input).expect("runs"),
            "Valid",
        )
    };
    assert_eq!(
        valid(r#"{"ioc_type": "ipv4"}"#),
        [Some(true), Some(false), Some(false), None, Some(false)]
    );
    assert_eq!(
        valid(r#"{"ioc_type": "dns"}"#),
        [Some(false), Some(false), Some(true), None, Some(false)]
    );
    assert_eq!(
        valid(r#"{"ioc_type": "dns", "defanged": false}"#),
        [Some(false), Some(false), Some(false), None, Some(false)]
    );
    assert_eq!(
        valid(r#"{"ioc_type": "file_hash"}"#),
        [Some(false), Some(false), Some(false), None, Some(true)]
    );
    let hosts = ipc(vec![("Host", texts(&["intranet.local"]))]);
    let local = |options: &str| {
        booleans(
            &call("ioc.validate", options, &hosts).expect("runs"),
            "Valid",
        )
    };
    assert_eq!(
        local(r#"{"ioc_type": "dns", "column": "Host"}"#),
        [Some(false)]
    );
    assert_eq!(
        local(r#"{"ioc_type": "dns", "column": "Host", "ignore_tlds": true}"#),
        [Some(true)]
    );
    let message = err("ioc.validate", "{}", &input);
    assert!(
        message.contains("option 'ioc_type' is required"),
        "{message}"
    );
    let message = err("ioc.validate", r#"{"ioc_type": "ip"}"#, &input);
    assert!(message.contains("unknown IoC type 'ip'"), "{message}");
    let message = err(
        "ioc.validate",
        r#"{"ioc_type": "ipv4", "column": "V"}"#,
        &input,
    );
    assert!(
        message.contains("column 'V' not found; available columns: Value"),
        "{message}"
    );
}

#[test]
fn type_of_per_value() {
    let input = ipc(vec![(
        "Value",
        strings(&[
            Some("10.0.0.1"),
            Some("https://evil.com/x"),
            Some("evil[.]com"),
            Some("2001:db8::1"),
            Some("hello"),
            None,
            Some("CVE-2021-44228"),
        ]),
    )]);
    let table = call("ioc.type_of", "", &input).expect("runs");
    let types = table.strings("IoCType").expect("strings");
    let got: Vec<Option<&str>> = (0..table.num_rows()).map(|i| types.get(i)).collect();
    assert_eq!(
        got,
        [
            Some("ipv4"),
            Some("url"),
            Some("dns"),
            Some("ipv6"),
            Some("unknown"),
            None,
            Some("cve")
        ]
    );
}
