//! The proxy over real HTTP: token, Host and Origin checks, the page cookie, the query API and
//! its Arrow streaming with trailers, idle shutdown and the token file.

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::{decode, request, start};
use hg_proxy::arrow::array::{Int64Array, RecordBatch};
use hg_proxy::arrow::datatypes::{DataType, Field, Schema};
use hg_proxy::config::Config;
use hg_proxy::{ProxyError, QueryProvider, QueryRequest, QueryResult, ResultItem, RunOptions};
use serde_json::json;

fn scenario_count(table: &str, column: &str, value: &str) -> usize {
    use arrow_array::{Array, StringArray};
    let t = common::scenario().table(table).expect("table");
    t.batches
        .iter()
        .map(|b| {
            let col = b.column_by_name(column).expect("column");
            let s = col.as_any().downcast_ref::<StringArray>().expect("strings");
            (0..s.len())
                .filter(|&i| s.is_valid(i) && s.value(i) == value)
                .count()
        })
        .sum()
}

#[test]
fn api_needs_the_token() {
    let server = start(Config::default(), vec![], None);
    assert_eq!(
        request(server.port, "GET", "/api/health", &[], None).status,
        401
    );
    let wrong = request(
        server.port,
        "GET",
        "/api/health",
        &[("Authorization", "Bearer 00")],
        None,
    );
    assert_eq!(wrong.status, 401);
    assert!(wrong.text().contains("token"), "{}", wrong.text());
    assert_eq!(
        request(server.port, "POST", "/api/query", &[], Some(b"{}")).status,
        401
    );
    assert_eq!(
        request(server.port, "GET", "/api/nothing", &[], None).status,
        401
    );
    let ok = server.get("/api/health");
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.json()["providers"][0]["name"], "local");
    // Pages and scenario files need no token.
    assert_eq!(request(server.port, "GET", "/", &[], None).status, 200);
    assert_eq!(
        request(server.port, "GET", "/data/manifest.json", &[], None).status,
        200
    );
    // The token is 64 hex digits, different at each start.
    assert_eq!(server.token.len(), 64);
    let other = start(Config::default(), vec![], None);
    assert_ne!(other.token, server.token);
}

#[test]
fn foreign_hosts_and_origins_are_refused() {
    let server = start(Config::default(), vec![], None);
    let bearer = server.bearer();
    let port = server.port;
    for host in [
        "evil.example:".to_string() + &port.to_string(),
        "127.0.0.1.nip.example".into(),
        format!("127.0.0.1:{}", port + 1),
        String::new(),
    ] {
        let response = request(
            port,
            "GET",
            "/api/health",
            &[("Host", &host), ("Authorization", &bearer)],
            None,
        );
        assert_eq!(response.status, 403, "Host {host:?}");
        assert!(
            response.text().contains("DNS-rebinding"),
            "{}",
            response.text()
        );
        assert_eq!(
            request(port, "GET", "/data/manifest.json", &[("Host", &host)], None).status,
            403
        );
    }
    for host in [
        format!("localhost:{port}"),
        "127.0.0.1".to_string(),
        "LOCALHOST".to_string(),
    ] {
        assert_eq!(
            request(
                port,
                "GET",
                "/api/health",
                &[("Host", &host), ("Authorization", &bearer)],
                None
            )
            .status,
            200,
            "{host}"
        );
    }
    for origin in [
        "http://evil.example".to_string(),
        format!("http://localhost:{}", port + 1),
        "null".into(),
        format!("https://127.0.0.1:{port}"),
    ] {
        let response = request(
            port,
            "GET",
            "/api/health",
            &[("Origin", &origin), ("Authorization", &bearer)],
            None,
        );
        assert_eq!(response.status, 403, "Origin {origin:?}");
        assert_eq!(
            request(port, "GET", "/", &[("Origin", &origin)], None).status,
            403
        );
    }
    let own = format!("http://127.0.0.1:{port}");
    assert_eq!(
        request(
            port,
            "GET",
            "/api/health",
            &[("Origin", &own), ("Authorization", &bearer)],
            None
        )
        .status,
        200
    );
}

#[test]
fn pages_get_the_token_as_an_http_only_cookie() {
    let server = start(Config::default(), vec![], None);
    let port = server.port;
    let wrong = request(port, "GET", "/?token=nope", &[], None);
    assert_eq!(wrong.status, 401);
    let response = request(port, "GET", &format!("/?token={}", server.token), &[], None);
    assert_eq!(response.status, 303);
    assert_eq!(response.header("location"), Some("/"));
    let cookie = response.header("set-cookie").expect("cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_string();
    assert_eq!(pair, format!("hg_token_{port}={}", server.token));
    assert_eq!(
        request(port, "GET", "/api/health", &[("Cookie", &pair)], None).status,
        200
    );
    let own = format!("http://127.0.0.1:{port}");
    let same_origin = request(
        port,
        "GET",
        "/api/health",
        &[
            ("Cookie", &pair),
            ("Origin", &own),
            ("Sec-Fetch-Site", "same-origin"),
        ],
        None,
    );
    assert_eq!(same_origin.status, 200);
    // A same-site page on another port carries the cookie too: the Origin check stops it.
    let other_port = format!("http://localhost:{}", port + 1);
    assert_eq!(
        request(
            port,
            "GET",
            "/api/health",
            &[("Cookie", &pair), ("Origin", &other_port)],
            None
        )
        .status,
        403
    );
    assert_eq!(
        request(
            port,
            "GET",
            "/api/health",
            &[("Cookie", &pair), ("Sec-Fetch-Site", "same-site")],
            None
        )
        .status,
        403
    );
    let stale = format!("hg_token_{port}=0000");
    assert_eq!(
        request(port, "GET", "/api/health", &[("Cookie", &stale)], None).status,
        401
    );
}

#[test]
fn the_token_file_is_private_and_removed_at_idle_exit() {
    let server = start(Config::default(), vec![], Some(Duration::from_secs(1)));
    let text = std::fs::read_to_string(&server.token_file).expect("token file");
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(file["token"], server.token.as_str());
    assert_eq!(file["port"], server.port);
    assert_eq!(file["url"], format!("http://127.0.0.1:{}/", server.port));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&server.token_file)
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(server.token_file.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
    }
    assert_eq!(
        server.output.matches(&server.token).count(),
        1,
        "the token is printed once: {}",
        server.output
    );
    assert!(server.output.starts_with(&format!(
        "huntglass serving http://127.0.0.1:{}/\ntoken: ",
        server.port
    )));
    // No request: the server stops by itself and removes the file.
    let result = server
        .done
        .recv_timeout(Duration::from_secs(60))
        .expect("the server stopped when idle");
    assert!(result.is_ok(), "{result:?}");
    assert!(!server.token_file.exists());
}

#[test]
fn the_library_lists_families_queries_and_parameters() {
    let server = start(Config::default(), vec![], None);
    let response = server.get("/api/queries?provider=local");
    assert_eq!(response.status, 200, "{}", response.text());
    let body = response.json();
    let local = &body["providers"][0];
    assert_eq!(local["name"], "local");
    assert_eq!(local["raw_language"], "sql");
    for family in [
        "WindowsSecurity",
        "SecurityAlert",
        "Office365",
        "Network",
        "Dns",
    ] {
        assert!(
            local["families"][family]
                .as_array()
                .is_some_and(|q| !q.is_empty()),
            "family {family}"
        );
    }
    let processes = local["families"]["WindowsSecurity"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "list_host_processes")
        .expect("list_host_processes");
    let params = processes["parameters"].as_array().unwrap();
    let host = params.iter().find(|p| p["name"] == "host_name").unwrap();
    assert_eq!(host["type"], "str");
    assert_eq!(host["required"], true);
    let start_param = params.iter().find(|p| p["name"] == "start").unwrap();
    assert_eq!(start_param["type"], "datetime");
    assert_eq!(start_param["required"], false);
    assert_eq!(start_param["default"], "2026-11-02T00:00:00Z");
    assert_eq!(server.get("/api/queries?provider=nope").status, 404);
}

#[test]
fn named_queries_stream_arrow_with_bound_parameters() {
    let server = start(Config::default(), vec![], None);
    let response = server.post_json(
        "/api/query",
        &json!({"provider": "local", "query": "WindowsSecurity.list_host_processes", "parameters": {"host_name": "LRK-WS104"}}),
    );
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(
        response.header("content-type"),
        Some("application/vnd.apache.arrow.stream")
    );
    assert_eq!(response.header("transfer-encoding"), Some("chunked"));
    let result = decode(&response.body);
    let expected = scenario_count("SecurityEvent", "Computer", "LRK-WS104");
    assert!(expected > 100);
    assert_eq!(result.rows(), expected);
    assert!(result.strings("Computer").iter().all(|c| c == "LRK-WS104"));
    assert_eq!(result.trailer["complete"], true);
    assert_eq!(result.trailer["rows"], expected);
    // Time columns keep their type.
    let field = result.schema.field_with_name("TimeGenerated").unwrap();
    assert!(
        matches!(field.data_type(), DataType::Timestamp(_, Some(_))),
        "{:?}",
        field.data_type()
    );

    // A narrower time range returns fewer rows, all inside it.
    let narrow = server.post_json(
        "/api/query",
        &json!({"provider": "local", "query": "list_host_processes",
                "parameters": {"host_name": "LRK-WS104", "start": "2026-11-04T09:41:00Z", "end": "2026-11-04T09:50:00"}}),
    );
    let narrow = decode(&narrow.body);
    assert!(
        narrow.rows() > 5 && narrow.rows() < expected,
        "{}",
        narrow.rows()
    );
    let command_lines = narrow.strings("CommandLine");
    assert!(command_lines.iter().any(|c| c.contains("powershell.exe")));

    // A value is data, never SQL.
    let injected = server.post_json(
        "/api/query",
        &json!({"provider": "local", "query": "list_host_processes", "parameters": {"host_name": "x' OR '1'='1"}}),
    );
    assert_eq!(injected.status, 200, "{}", injected.text());
    assert_eq!(decode(&injected.body).rows(), 0);

    // List parameters bind item by item.
    let alerts = server.post_json(
        "/api/query",
        &json!({"provider": "local", "query": "SecurityAlert.list_alerts_by_severity", "parameters": {"severities": ["High"]}}),
    );
    let alerts = decode(&alerts.body);
    assert!(alerts.rows() > 0);
    assert!(alerts.strings("AlertSeverity").iter().all(|s| s == "High"));
    let comma = server.post_json(
        "/api/query",
        &json!({"provider": "local", "query": "list_alerts_by_severity", "parameters": {"severities": "High, Medium"}}),
    );
    assert!(decode(&comma.body).rows() > alerts.rows());
}

#[test]
fn every_library_query_runs_on_the_scenario() {
    let server = start(Config::default(), vec![], None);
    let samples = json!({"host_name": "LRK-WS104", "account_name": "mbennett", "commandline": "-enc", "process_name": "powershell.exe",
        "ip_address": "203.0.113.77", "entity": "LRK-WS104", "alert_id": "none", "user": "mbennett@larkspur-labs.com",
        "ip_list": ["198.51.100.23", "198.51.100.41"], "domain": "example.net"});
    let listing = server.get("/api/queries?provider=local").json();
    let mut ran = 0;
    for (family, queries) in listing["providers"][0]["families"].as_object().unwrap() {
        for q in queries.as_array().unwrap() {
            let mut params = serde_json::Map::new();
            for p in q["parameters"].as_array().unwrap() {
                let name = p["name"].as_str().unwrap();
                if p["required"] == true {
                    params.insert(
                        name.into(),
                        samples
                            .get(name)
                            .unwrap_or_else(|| panic!("sample for {name}"))
                            .clone(),
                    );
                }
            }
            let name = format!("{family}.{}", q["name"].as_str().unwrap());
            let response = server.post_json(
                "/api/query",
                &json!({"provider": "local", "query": name, "parameters": params}),
            );
            assert_eq!(response.status, 200, "{name}: {}", response.text());
            let result = decode(&response.body);
            assert_eq!(result.trailer["complete"], true, "{name}");
            ran += 1;
        }
    }
    assert!(ran >= 25, "{ran} queries");
}

#[test]
fn raw_sql_is_read_only() {
    let server = start(Config::default(), vec![], None);
    let count = server.post_json(
        "/api/query",
        &json!({"provider": "local", "text": "SELECT count(*) AS n FROM DnsEvents"}),
    );
    assert_eq!(count.status, 200, "{}", count.text());
    let result = decode(&count.body);
    let n = result.batches[0]
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .value(0);
    assert_eq!(
        n as usize,
        common::scenario().table("DnsEvents").unwrap().num_rows()
    );
    for statement in [
        "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
        "COPY (SELECT 1) TO '/tmp/hg-proxy-test-copy.csv'",
        "INSERT INTO DnsEvents SELECT * FROM DnsEvents",
        "SET datafusion.execution.batch_size = 1",
        "DROP TABLE DnsEvents",
    ] {
        let response = server.post_json(
            "/api/query",
            &json!({"provider": "local", "text": statement}),
        );
        assert_eq!(response.status, 422, "{statement}: {}", response.text());
        assert!(
            response.json()["error"]
                .as_str()
                .unwrap()
                .starts_with("SQL"),
            "{}",
            response.text()
        );
    }
    assert!(!std::path::Path::new("/tmp/hg-proxy-test-copy.csv").exists());
    let bad = server.post_json(
        "/api/query",
        &json!({"provider": "local", "text": "SELECT nope FROM DnsEvents"}),
    );
    assert_eq!(bad.status, 422);
    assert!(
        bad.json()["error"].as_str().unwrap().contains("nope"),
        "{}",
        bad.text()
    );
}

#[test]
fn request_errors_name_what_was_wrong() {
    let server = start(Config::default(), vec![], None);
    let cases = [
        (
            json!({"provider": "local", "query": "list_host_processes"}),
            400,
            "host_name",
        ),
        (
            json!({"provider": "local", "query": "list_host_processes", "parameters": {"host_name": "a", "hots": 1}}),
            400,
            "hots",
        ),
        (
            json!({"provider": "local", "query": "list_host_processes", "parameters": {"host_name": "a", "start": "soon"}}),
            400,
            "start",
        ),
        (
            json!({"provider": "local", "query": "Nope.nothing"}),
            404,
            "Nope.nothing",
        ),
        (json!({"provider": "Splunk", "query": "x"}), 404, "Splunk"),
        (json!({"provider": "local"}), 400, "exactly one"),
        (
            json!({"provider": "local", "text": "SELECT 1", "parameters": {"a": 1}}),
            400,
            "no parameters",
        ),
        (
            json!({"provider": "local", "text": "SELECT 1", "max_rows": 1_000_000_000u64}),
            400,
            "max_rows",
        ),
    ];
    for (body, status, needle) in cases {
        let response = server.post_json("/api/query", &body);
        assert_eq!(response.status, status, "{body}: {}", response.text());
        let error = response.json()["error"].as_str().unwrap().to_string();
        assert!(error.contains(needle), "{body}: {error}");
    }
    let garbage = request(
        server.port,
        "POST",
        "/api/query",
        &[
            ("Authorization", &server.bearer()),
            ("Content-Type", "application/json"),
        ],
        Some(b"{not json"),
    );
    assert_eq!(garbage.status, 400);
    assert!(garbage.json()["error"].as_str().unwrap().contains("JSON"));
}

#[test]
fn max_rows_cuts_the_result_and_says_so() {
    let server = start(Config::default(), vec![], None);
    let response = server.post_json(
        "/api/query",
        &json!({"provider": "local", "text": "SELECT * FROM SecurityEvent", "max_rows": 1234}),
    );
    let result = decode(&response.body);
    assert_eq!(result.rows(), 1234);
    assert_eq!(result.trailer["truncated"], true);
    assert_eq!(result.trailer["complete"], false);
    assert!(result.trailer["notes"][0]
        .as_str()
        .unwrap()
        .contains("1234"));
}

/// A provider that sends rows, a note, then fails: how a remote provider's partial result looks.
struct Flaky;

#[async_trait]
impl QueryProvider for Flaky {
    fn name(&self) -> &str {
        "Flaky"
    }
    fn environments(&self) -> Vec<String> {
        vec!["Flaky".into()]
    }
    fn raw_language(&self) -> Option<&str> {
        Some("test")
    }
    async fn run(
        &self,
        request: QueryRequest,
        _options: RunOptions,
    ) -> Result<QueryResult, ProxyError> {
        let QueryRequest::Raw { text } = request else {
            return Err(ProxyError::BadRequest("raw only".into()));
        };
        if text == "fail-early" {
            return Err(ProxyError::RateLimited {
                message: "upstream said slow down".into(),
                retry_after: Some(7),
            });
        }
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int64Array::from(vec![1, 2, 3]))],
        )
        .unwrap();
        let items = futures::stream::iter(vec![
            Ok(ResultItem::Batch(batch.clone())),
            Ok(ResultItem::Note("page 2 of 3 timed out upstream".into())),
            Ok(ResultItem::Batch(batch)),
            Err(ProxyError::Upstream(
                "the upstream closed the connection".into(),
            )),
        ]);
        Ok(QueryResult {
            schema: None,
            items: Box::pin(items),
        })
    }
}

#[test]
fn partial_results_report_notes_and_the_error_in_the_trailer() {
    let server = start(Config::default(), vec![Arc::new(Flaky)], None);
    let response = server.post_json("/api/query", &json!({"provider": "flaky", "text": "go"}));
    assert_eq!(response.status, 200);
    let result = decode(&response.body);
    assert_eq!(result.rows(), 6);
    assert_eq!(result.trailer["complete"], false);
    assert_eq!(result.trailer["notes"][0], "page 2 of 3 timed out upstream");
    assert_eq!(
        result.trailer["error"],
        "the upstream closed the connection"
    );
    let early = server.post_json(
        "/api/query",
        &json!({"provider": "Flaky", "text": "fail-early"}),
    );
    assert_eq!(early.status, 429);
    assert_eq!(early.header("retry-after"), Some("7"));
    assert_eq!(early.json()["kind"], "rate_limited");
}
