//! Splunk export client against fake Splunk management ports on 127.0.0.1.

mod common;

use std::time::Duration;

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampNanosecondType;
use arrow_array::Array;
use arrow_schema::DataType;
use base64::Engine as _;
use common::{json, start, start_chunked, Reply};
use hg_remote::{CollectSink, RemoteError, SplQuery, SplunkClient, SplunkConfig, WarningKind};
use serde_json::{json as j, Value};

const TOKEN: &str = "splunk-jwt-token-value-123";
const PASSWORD: &str = "Pa55word!splunk";

fn client(url: &str, extra: Value) -> SplunkClient {
    let mut args = j!({"host": url, "bearer_token": TOKEN, "Timeout": 5});
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            args.as_object_mut().unwrap().remove(k);
        } else {
            args[k] = v.clone();
        }
    }
    let cfg = SplunkConfig::from_msticpy("DataProviders.Splunk", &j!({"Args": args})).unwrap();
    SplunkClient::new(cfg).unwrap()
}

const EXPORT: &str = concat!(
    "{\"preview\":true,\"offset\":0,\"result\":{\"src_ip\":\"1.1.1.1\",\"count\":\"1\"}}\n",
    "{\"preview\":false,\"offset\":0,\"messages\":[{\"type\":\"WARN\",\"text\":\"Search results might be incomplete: the search process on peer idx02 ended prematurely.\"},{\"type\":\"INFO\",\"text\":\"Your timerange was substituted\"}],",
    "\"result\":{\"_time\":\"2026-06-30T10:11:12.000+00:00\",\"host\":\"ws-042\",\"src_ip\":\"185.220.101.45\",\"count\":\"312\",\"user\":[\"alice\",\"bob\"]}}\n",
    "\n",
    "{\"preview\":false,\"offset\":1,\"result\":{\"_time\":\"2026-06-30T10:11:13.500+02:00\",\"host\":\"ws-043\",\"src_ip\":\"45.148.10.92\",\"count\":\"87\"}}\n",
    "{\"preview\":false,\"offset\":2,\"lastrow\":true,\"result\":{\"_time\":\"2026-06-30T10:11:14.000+00:00\",\"host\":\"ws-044\",\"src_ip\":\"91.240.118.172\",\"count\":\"14\"}}\n",
);

#[tokio::test]
async fn export_streams_rows_drops_previews_and_reports_messages() {
    let fake = start(|_, _| Reply::Text(200, "application/json", EXPORT.to_string())).await;
    let c = client(&fake.url(), j!({}));
    let q = SplQuery {
        search: "index=wineventlog EventCode=4625 | table _time host src_ip count user".into(),
        earliest: Some("-24h".into()),
        latest: Some("now".into()),
    };
    let mut sink = CollectSink::default();
    let s = c.query(&q, &mut sink).await.unwrap();
    assert_eq!((s.rows, s.partial), (3, false));

    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/services/search/v2/jobs/export")
    );
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let form = r.form();
    assert_eq!(
        form["search"],
        "search index=wineventlog EventCode=4625 | table _time host src_ip count user"
    );
    assert_eq!(form["output_mode"], "json");
    assert_eq!(form["earliest_time"], "-24h");
    assert_eq!(form["latest_time"], "now");

    let schema = sink.schema.clone().unwrap();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["_time", "host", "src_ip", "count", "user"]);
    assert!(matches!(
        schema.field(0).data_type(),
        DataType::Timestamp(_, _)
    ));
    assert_eq!(
        schema.field(3).data_type(),
        &DataType::Utf8,
        "Splunk values stay text"
    );
    let b = &sink.batches[0];
    let t = b.column(0).as_primitive::<TimestampNanosecondType>();
    assert_eq!(
        t.value(1) - t.value(0),
        1_500_000_000 - 2 * 3_600_000_000_000
    );
    assert_eq!(b.column(2).as_string::<i32>().value(0), "185.220.101.45");
    assert_eq!(
        b.column(4).as_string::<i32>().value(0),
        "[\"alice\",\"bob\"]"
    );
    assert!(b.column(4).is_null(1));
    let w = sink.warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].kind, WarningKind::UpstreamMessage);
    assert!(w[0]
        .message
        .starts_with("WARN: Search results might be incomplete"));
}

#[tokio::test]
async fn basic_auth_and_fallback_to_the_v1_path_on_404() {
    let fake = start(|s, _| {
        if s.path.contains("/v2/") {
            json(
                404,
                j!({"messages": [{"type": "ERROR", "text": "Not Found"}]}),
            )
        } else {
            Reply::Text(
                200,
                "application/json",
                "{\"preview\":false,\"lastrow\":true}\n".into(),
            )
        }
    })
    .await;
    let c = client(
        &fake.url(),
        j!({"bearer_token": null, "username": "svc_notebook", "password": PASSWORD}),
    );
    for _ in 0..2 {
        let mut sink = CollectSink::default();
        let s = c
            .query(
                &SplQuery {
                    search: "| tstats count where index=* by index".into(),
                    ..Default::default()
                },
                &mut sink,
            )
            .await
            .unwrap();
        assert_eq!(s.rows, 0);
        assert_eq!(sink.schema.as_ref().unwrap().fields().len(), 0);
    }
    let reqs = fake.requests();
    let paths: Vec<&str> = reqs.iter().map(|r| r.path.as_str()).collect();
    // The second query goes straight to v1.
    assert_eq!(
        paths,
        [
            "/services/search/v2/jobs/export",
            "/services/search/jobs/export",
            "/services/search/jobs/export"
        ]
    );
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("svc_notebook:{PASSWORD}"));
    assert_eq!(
        reqs[1].header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    assert_eq!(
        reqs[1].form()["search"],
        "| tstats count where index=* by index"
    );
}

#[tokio::test]
async fn unauthorized_is_an_auth_error_and_bad_spl_names_the_parser_message() {
    let fake = start(|s, _| {
        if s.header("authorization") == Some("Bearer wrong") {
            json(401, j!({"messages": [{"type": "WARN", "text": "call not properly authenticated"}]}))
        } else {
            json(400, j!({"messages": [{"type": "FATAL", "text": "Error in 'search' command: Unable to parse the search: unbalanced parentheses."}]}))
        }
    })
    .await;
    let bad = client(&fake.url(), j!({"bearer_token": "wrong"}));
    let err = bad
        .query(
            &SplQuery {
                search: "x".into(),
                ..Default::default()
            },
            &mut CollectSink::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::Auth { .. }), "{err}");
    assert!(err.to_string().contains("call not properly authenticated"));
    let c = client(&fake.url(), j!({}));
    let err = c
        .query(
            &SplQuery {
                search: "x (".into(),
                ..Default::default()
            },
            &mut CollectSink::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::Upstream { status: 400, .. }));
    assert!(err.to_string().contains("unbalanced parentheses"), "{err}");
}

#[tokio::test]
async fn lines_split_across_chunks_and_batches_are_reassembled() {
    // The export arrives in awkward pieces: mid-line, mid-UTF-8 character, several lines at once.
    let text = EXPORT.replace("ws-043", "wś-043");
    let bytes = text.as_bytes();
    let cut = [
        7usize,
        150,
        151,
        300,
        text.find('ś').unwrap() + 1,
        bytes.len() - 3,
    ];
    let mut parts = Vec::new();
    let mut last = 0;
    let mut cuts = cut.to_vec();
    cuts.sort();
    for c in cuts {
        parts.push((Duration::from_millis(10), bytes[last..c].to_vec()));
        last = c;
    }
    parts.push((Duration::from_millis(10), bytes[last..].to_vec()));
    assert_eq!(
        parts.iter().flat_map(|p| p.1.clone()).collect::<Vec<u8>>(),
        bytes
    );
    let (addr, heads) = start_chunked(parts, false).await;
    let c = client(&format!("http://{addr}"), j!({"BatchRows": 2}));
    let mut sink = CollectSink::default();
    let s = c
        .query(
            &SplQuery {
                search: "search index=main".into(),
                ..Default::default()
            },
            &mut sink,
        )
        .await
        .unwrap();
    assert_eq!(s.rows, 3);
    assert_eq!(
        sink.batches
            .iter()
            .map(|b| b.num_rows())
            .collect::<Vec<_>>(),
        [2, 1]
    );
    assert_eq!(
        sink.batches[0].column(1).as_string::<i32>().value(1),
        "wś-043"
    );
    assert!(heads.lock().unwrap()[0].contains("search=search+index%3Dmain"));
}

#[tokio::test]
async fn stalled_stream_times_out_and_cut_stream_is_partial() {
    let first = EXPORT.lines().nth(1).unwrap().to_string() + "\n";
    let (addr, _) = start_chunked(vec![(Duration::ZERO, first.clone().into_bytes())], true).await;
    let c = client(&format!("http://{addr}"), j!({"ReadTimeout": 0.4}));
    let err = c
        .query(
            &SplQuery {
                search: "x".into(),
                ..Default::default()
            },
            &mut CollectSink::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("more of the response body"));

    let (addr, _) = start_chunked(vec![(Duration::ZERO, first.into_bytes())], false).await;
    let c = client(&format!("http://{addr}"), j!({}));
    let mut sink = CollectSink::default();
    let s = c
        .query(
            &SplQuery {
                search: "x".into(),
                ..Default::default()
            },
            &mut sink,
        )
        .await
        .unwrap();
    assert_eq!((s.rows, s.partial), (1, true));
    assert!(sink
        .warnings()
        .iter()
        .any(|w| w.kind == WarningKind::PartialResult && w.message.contains("last-row")));
}

#[tokio::test]
async fn fields_after_the_schema_window_are_reported_and_row_limit_cuts() {
    let body = concat!(
        "{\"preview\":false,\"result\":{\"a\":\"1\"}}\n",
        "{\"preview\":false,\"result\":{\"a\":\"2\",\"b\":\"x\"}}\n",
        "{\"preview\":false,\"result\":{\"a\":\"3\",\"late\":\"y\"}}\n",
        "{\"preview\":false,\"lastrow\":true,\"result\":{\"a\":\"4\"}}\n"
    );
    let fake = start(move |_, _| Reply::Text(200, "application/json", body.to_string())).await;
    let c = client(&fake.url(), j!({"BatchRows": 2}));
    let mut sink = CollectSink::default();
    c.query(
        &SplQuery {
            search: "x".into(),
            ..Default::default()
        },
        &mut sink,
    )
    .await
    .unwrap();
    assert_eq!(sink.rows(), 4);
    let names: Vec<String> = sink
        .schema
        .as_ref()
        .unwrap()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert!(sink
        .warnings()
        .iter()
        .any(|w| w.kind == WarningKind::SchemaDrift && w.message.contains("late")));

    let c = client(&fake.url(), j!({"MaxRows": 3}));
    let mut sink = CollectSink::default();
    let s = c
        .query(
            &SplQuery {
                search: "x".into(),
                ..Default::default()
            },
            &mut sink,
        )
        .await
        .unwrap();
    assert_eq!((s.rows, s.partial), (3, true));
    assert!(sink
        .warnings()
        .iter()
        .any(|w| w.message.contains("row limit of 3")));
}

#[tokio::test]
async fn garbage_line_is_a_clear_error() {
    let fake =
        start(|_, _| Reply::Text(200, "text/html", "<html>proxy login</html>\n".into())).await;
    let err = client(&fake.url(), j!({}))
        .query(
            &SplQuery {
                search: "x".into(),
                ..Default::default()
            },
            &mut CollectSink::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::Response { .. }));
    assert!(err.to_string().contains("line 1 is not JSON"), "{err}");
}

#[test]
fn config_errors_name_the_key() {
    let e = |v: Value| {
        SplunkConfig::from_msticpy("DataProviders.Splunk", &v)
            .unwrap_err()
            .to_string()
    };
    assert!(e(j!({"Args": {"port": 8089}})).contains("DataProviders.Splunk.Args.host"));
    assert!(e(j!({"Args": {"host": "splunk.example"}})).contains("bearer_token"));
    assert!(e(j!({"Args": {"host": "splunk.example", "username": "u"}})).contains("Args.password"));
    assert!(
        e(j!({"Args": {"host": "splunk.example", "port": 70000, "bearer_token": "t"}}))
            .contains("Args.port")
    );
    assert!(e(
        j!({"Args": {"host": "splunk.example", "bearer_token": {"EnvironmentVar": "SPLUNK_TOKEN"}}})
    )
    .contains("unresolved"));
    assert!(
        e(j!({"Args": {"host": "splunk.example", "bearer_token": "t", "verify": "maybe"}}))
            .contains("Args.verify")
    );
    let ok = SplunkConfig::from_msticpy("Splunk", &j!({"Args": {"host": "splunk.example", "port": "8089", "username": "u", "password": PASSWORD, "verify": false}})).unwrap();
    assert_eq!(ok.base_url, "https://splunk.example:8089");
    assert!(ok.http.accept_invalid_certs);
    assert!(!format!("{ok:?}").contains(PASSWORD));
}
