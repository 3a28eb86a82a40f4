//! Parameter literals per query language, from the data-driven cases in `tests/cases/params.json`,
//! and template rendering.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hg_remote::params::{literal, lucene_escape, render, ParamValue, QueryLanguage};
use serde_json::{json, Value};

#[test]
fn shared_cases() {
    let cases: Value = serde_json::from_str(include_str!("cases/params.json")).unwrap();
    let now: DateTime<Utc> = cases["now"].as_str().unwrap().parse().unwrap();
    let langs = [
        ("kql", QueryLanguage::Kql),
        ("spl", QueryLanguage::Spl),
        ("dsl", QueryLanguage::EsDsl),
        ("sql", QueryLanguage::EsSql),
    ];
    let mut checked = 0;
    for case in cases["cases"].as_array().unwrap() {
        let ty = case["type"].as_str().unwrap();
        let parsed = ParamValue::from_json("p", ty, &case["value"], now);
        if let Some(err) = case.get("error") {
            let e = parsed.expect_err(&format!("{case}")).to_string();
            assert!(
                e.contains(err.as_str().unwrap()) && e.contains("`p`"),
                "{case}: {e}"
            );
            checked += 1;
            continue;
        }
        let v = parsed.unwrap_or_else(|e| panic!("{case}: {e}"));
        for (key, lang) in langs {
            let got = literal(lang, &v);
            match &case[key] {
                Value::String(want) => assert_eq!(
                    &got.unwrap_or_else(|e| panic!("{case} {key}: {e}")),
                    want,
                    "{case} {key}"
                ),
                Value::Object(o) => {
                    let e = got.expect_err(&format!("{case} {key}")).to_string();
                    assert!(
                        e.contains(o["error"].as_str().unwrap()),
                        "{case} {key}: {e}"
                    );
                }
                other => panic!("case without {key}: {other}"),
            }
            checked += 1;
        }
    }
    assert!(checked >= 80, "only {checked} checks ran");
}

#[test]
fn templates_fill_placeholders_and_leave_other_braces() {
    let mut p = BTreeMap::new();
    p.insert("host_name".to_string(), ParamValue::Str("ws'01".into()));
    p.insert(
        "event_ids".to_string(),
        ParamValue::List(vec![ParamValue::Int(4624), ParamValue::Int(4625)]),
    );
    let kql = render(QueryLanguage::Kql, "SecurityEvent | where Computer == {host_name} and EventID in ({event_ids}) | extend b = bag_pack('k', {host_name})", &p).unwrap();
    assert_eq!(kql, "SecurityEvent | where Computer == 'ws\\'01' and EventID in (4624, 4625) | extend b = bag_pack('k', 'ws\\'01')");
    let dsl = render(QueryLanguage::EsDsl, r#"{"query": {"bool": {"filter": [{"term": {"host.name": {host_name}}}, {"terms": {"event.code": {event_ids}}}]}}}"#, &p).unwrap();
    let v: Value = serde_json::from_str(&dsl).unwrap();
    assert_eq!(
        v["query"]["bool"]["filter"][0]["term"]["host.name"],
        "ws'01"
    );
    assert_eq!(
        v["query"]["bool"]["filter"][1]["terms"]["event.code"],
        json!([4624, 4625])
    );
    // A value that tries to close the JSON string stays inside it.
    p.insert(
        "host_name".to_string(),
        ParamValue::Str("x\"}}, {\"match_all\": {".into()),
    );
    let dsl = render(
        QueryLanguage::EsDsl,
        r#"{"term": {"host.name": {host_name}}}"#,
        &p,
    )
    .unwrap();
    let v: Value = serde_json::from_str(&dsl).unwrap();
    assert_eq!(v["term"]["host.name"], "x\"}}, {\"match_all\": {");

    let e = render(
        QueryLanguage::Spl,
        "search host={host} user={user} {host}",
        &p,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("`host`") && e.contains("`user`"), "{e}");
    assert_eq!(
        render(QueryLanguage::Spl, "{ {} {1x} {a-b}", &p).unwrap(),
        "{ {} {1x} {a-b}"
    );
    assert_eq!(lucene_escape("a:b (c)*"), "a\\:b\\ \\(c\\)\\*");
}
