//! Runs the shared data-driven corpus `tests/cases/decode/*.json` (schema in its README.md).

use std::path::PathBuf;

use hg_decode::{DecodedRecord, Decoder, Encoding, Utf16Mode};
use serde::Deserialize;

#[derive(Deserialize)]
struct CaseFile {
    schema: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    input: String,
    #[serde(default)]
    options: Options,
    expected: Vec<Expected>,
    #[serde(default = "yes")]
    exact: bool,
    full_decoded_string: Option<String>,
    #[serde(default)]
    full_decoded_string_contains: Vec<String>,
    reference: String,
    #[allow(dead_code)]
    why: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Options {
    reference_mode: Option<bool>,
    utf16: Option<String>,
    max_depth: Option<usize>,
    max_total_output_bytes: Option<usize>,
    max_expansion_ratio: Option<usize>,
    expansion_floor_bytes: Option<usize>,
    max_archive_members: Option<usize>,
    max_member_size: Option<usize>,
    max_records: Option<usize>,
    disable: Option<Vec<String>>,
}

/// Fields left out are not checked. `file_type: null` is checked (None), so it is
/// deserialized with a double option.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    index: Option<String>,
    parent: Option<String>,
    reference: Option<[String; 3]>,
    chain: Option<Vec<String>>,
    original_string: Option<String>,
    file_name: Option<String>,
    #[serde(default, deserialize_with = "some")]
    file_type: Option<Option<String>>,
    encoding_type: Option<String>,
    decoded: Option<String>,
    md5: Option<String>,
    sha256: Option<String>,
    size: Option<usize>,
    stopped_by: Option<String>,
    error: Option<bool>,
}

fn some<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/cases/decode")
}

fn build(options: &Options) -> Result<Decoder, String> {
    let mut b = Decoder::builder();
    if options.reference_mode == Some(true) {
        b = b.reference_mode();
    }
    if let Some(mode) = &options.utf16 {
        b = b.utf16(match mode.as_str() {
            "auto" => Utf16Mode::Auto,
            "always" => Utf16Mode::Always,
            "never" => Utf16Mode::Never,
            other => return Err(format!("unknown utf16 mode {other}")),
        });
    }
    if let Some(v) = options.max_depth {
        b = b.max_depth(v);
    }
    if let Some(v) = options.max_total_output_bytes {
        b = b.max_total_output_bytes(v);
    }
    if let Some(v) = options.max_expansion_ratio {
        b = b.max_expansion_ratio(v);
    }
    if let Some(v) = options.expansion_floor_bytes {
        b = b.expansion_floor_bytes(v);
    }
    if let Some(v) = options.max_archive_members {
        b = b.max_archive_members(v);
    }
    if let Some(v) = options.max_member_size {
        b = b.max_member_size(v);
    }
    if let Some(v) = options.max_records {
        b = b.max_records(v);
    }
    for name in options.disable.iter().flatten() {
        let e = Encoding::parse(name).ok_or_else(|| format!("unknown encoding {name}"))?;
        b = b.encoding(e, false);
    }
    b.build().map_err(|e| e.to_string())
}

fn describe(r: &DecodedRecord) -> String {
    format!(
        "index={} ref={:?} chain={:?} name={} type={:?} enc={} size={} md5={} stopped={:?} error={:?} text={:?}",
        r.index,
        r.reference.parts(),
        r.chain.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        r.file_name,
        r.file_type,
        r.encoding_type,
        r.input_bytes.len(),
        r.hashes.md5,
        r.stopped_by,
        r.error,
        r.decoded_string.as_deref().map(|s| s.chars().take(60).collect::<String>()),
    )
}

fn check(e: &Expected, r: &DecodedRecord) -> Vec<String> {
    let mut bad = Vec::new();
    let mut field = |name: &str, ok: bool| {
        if !ok {
            bad.push(name.to_owned());
        }
    };
    if let Some(v) = &e.index {
        field("index", &r.index == v);
    }
    if let Some(v) = &e.parent {
        field("parent", r.parent.as_ref() == Some(v));
    }
    if let Some(v) = &e.reference {
        field("reference", &r.reference.parts() == v);
    }
    if let Some(v) = &e.chain {
        let got: Vec<&str> = r.chain.iter().map(|c| c.as_str()).collect();
        field(
            "chain",
            got == v.iter().map(String::as_str).collect::<Vec<_>>(),
        );
    }
    if let Some(v) = &e.original_string {
        field("original_string", &r.original_string == v);
    }
    if let Some(v) = &e.file_name {
        field("file_name", &r.file_name == v);
    }
    if let Some(v) = &e.file_type {
        field("file_type", &r.file_type == v);
    }
    if let Some(v) = &e.encoding_type {
        field("encoding_type", r.encoding_type == v);
    }
    if let Some(v) = &e.decoded {
        field("decoded", r.decoded_string.as_ref() == Some(v));
    }
    if let Some(v) = &e.md5 {
        field("md5", &r.hashes.md5 == v);
    }
    if let Some(v) = &e.sha256 {
        field("sha256", &r.hashes.sha256 == v);
    }
    if let Some(v) = e.size {
        field("size", r.input_bytes.len() == v);
    }
    if let Some(v) = &e.stopped_by {
        field(
            "stopped_by",
            r.stopped_by.map(|l| l.as_str()) == Some(v.as_str()),
        );
    } else {
        field("stopped_by (none expected)", r.stopped_by.is_none());
    }
    if let Some(v) = e.error {
        field("error", r.error.is_some() == v);
    }
    bad
}

fn run_case(case: &Case) -> Result<(), String> {
    let decoder = build(&case.options)?;
    let mut rows = Vec::new();
    let out = decoder.unpack(&case.input, &mut |r: DecodedRecord| rows.push(r));
    let listing = || rows.iter().map(describe).collect::<Vec<_>>().join("\n  ");
    if out.records != rows.len() {
        return Err(format!("records {} but {} pushed", out.records, rows.len()));
    }
    if case.exact && rows.len() != case.expected.len() {
        return Err(format!(
            "expected {} rows, got {}:\n  {}",
            case.expected.len(),
            rows.len(),
            listing()
        ));
    }
    // In order: each expected row matches the next row that fits (all rows when exact).
    let mut next = 0;
    for (i, e) in case.expected.iter().enumerate() {
        let mut found = false;
        let mut why = Vec::new();
        while next < rows.len() {
            let bad = check(e, &rows[next]);
            next += 1;
            if bad.is_empty() {
                found = true;
                break;
            }
            if case.exact {
                why = bad;
                break;
            }
        }
        if !found {
            return Err(format!(
                "expected row {i} not matched (fields {why:?}); rows:\n  {}",
                listing()
            ));
        }
    }
    if let Some(full) = &case.full_decoded_string {
        if &out.full_decoded_string != full {
            return Err(format!(
                "full_decoded_string:\n  got  {:?}\n  want {full:?}",
                out.full_decoded_string
            ));
        }
    }
    for part in &case.full_decoded_string_contains {
        if !out.full_decoded_string.contains(part.as_str()) {
            return Err(format!(
                "full_decoded_string lacks {part:?}: {:?}",
                out.full_decoded_string
            ));
        }
    }
    for r in &rows {
        if let Some(limit) = r.stopped_by {
            if !out.stopped_by.contains(&limit) {
                return Err(format!("{limit} not listed in Unpacked::stopped_by"));
            }
        }
    }
    Ok(())
}

#[test]
fn corpus() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/cases/decode exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "corpus files missing");
    let mut failures = Vec::new();
    let mut count = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable");
        let parsed: CaseFile =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(
            parsed.schema,
            "huntglass-decode-cases/1",
            "{}",
            file.display()
        );
        for case in &parsed.cases {
            count += 1;
            assert!(
                case.reference == "same" || case.reference.starts_with("differs: "),
                "{}: reference must be 'same' or 'differs: ...'",
                case.name
            );
            if let Err(e) = run_case(case) {
                let name = file.file_name().unwrap_or_default().to_string_lossy();
                failures.push(format!("{name} / {}: {e}", case.name));
            }
        }
    }
    assert!(count >= 60, "only {count} cases");
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
