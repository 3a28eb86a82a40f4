//! Remote providers end to end over real HTTP: client -> proxy (`POST /api/query`) -> fake
//! Log Analytics / Splunk / Elasticsearch upstreams on 127.0.0.1, configured through a
//! huntglass.toml whose credentials come from environment variables.

mod common;

use std::collections::BTreeMap;
use std::io::Cursor;
use std::sync::{mpsc, Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use hg_proxy::config::{Config, ConfigSources};
use hg_proxy::remote::{RemoteKind, RemoteProvider};
use hg_proxy::QueryProvider;
use serde_json::{json, Value};

const TENANT: &str = "72a4c1d0-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
const WS: &str = "0b6f3d2c-9a41-4e8b-8f7d-1c2e3a4b5c6d";
const CLIENT_SECRET: &str = "az-Client-Secret-0001";
const SPLUNK_TOKEN: &str = "splunk-Token-0002";
const ES_PASSWORD: &str = "es-Password-0003";
const ACCESS_TOKEN: &str = "eyJ.access.token-0004";

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    auth: String,
    body: String,
}

type Log = Arc<Mutex<Vec<Seen>>>;

async fn upstream(
    State(log): State<Log>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = String::from_utf8_lossy(&body).to_string();
    let path = uri.path().to_string();
    log.lock().unwrap().push(Seen {
        method: method.to_string(),
        path: path.clone(),
        auth: auth.clone(),
        body: body.clone(),
    });
    let js = |status: u16, v: Value| {
        (
            StatusCode::from_u16(status).unwrap(),
            [("content-type", "application/json")],
            v.to_string(),
        )
            .into_response()
    };
    match (method.as_str(), path.as_str()) {
        ("POST", p) if p == format!("/{TENANT}/oauth2/v2.0/token") => js(
            200,
            json!({"token_type": "Bearer", "expires_in": 3599, "access_token": ACCESS_TOKEN}),
        ),
        ("POST", p) if p == format!("/v1/workspaces/{WS}/query") => js(
            200,
            json!({"tables": [{"name": "PrimaryResult",
                "columns": [{"name": "TimeGenerated", "type": "datetime"}, {"name": "Computer", "type": "string"},
                            {"name": "EventID", "type": "int"}, {"name": "CommandLine", "type": "string"}],
                "rows": [["2026-06-30T10:00:00Z", "WS7.contoso.example", 4688, "powershell -enc SQBFAFgA"],
                         ["2026-06-30T10:05:00Z", "WS7.contoso.example", 4688, "whoami /all"]]}],
                "error": {"code": "PartialError", "message": "There were some errors when processing your query.",
                          "details": [{"code": "EngineError", "message": "Query result set has exceeded the internal record count limit"}]}}),
        ),
        ("POST", "/services/search/v2/jobs/export") => {
            if auth != format!("Bearer {SPLUNK_TOKEN}") {
                return js(
                    401,
                    json!({"messages": [{"type": "WARN", "text": "call not properly authenticated"}]}),
                );
            }
            let lines = concat!(
                "{\"preview\":false,\"offset\":0,\"result\":{\"_time\":\"2026-06-30T10:00:00.000+00:00\",\"host\":\"WS7\",\"EventCode\":\"4688\",\"New_Process_Name\":\"C:\\\\Windows\\\\System32\\\\whoami.exe\"}}\n",
                "{\"preview\":false,\"offset\":1,\"messages\":[{\"type\":\"WARN\",\"text\":\"Search results might be incomplete\"}],\"lastrow\":true,\"result\":{\"_time\":\"2026-06-30T10:01:00.000+00:00\",\"host\":\"WS7\",\"EventCode\":\"4688\",\"New_Process_Name\":\"C:\\\\Windows\\\\System32\\\\net.exe\"}}\n"
            );
            (
                StatusCode::OK,
                [("content-type", "application/json")],
                lines,
            )
                .into_response()
        }
        ("GET", "/logs-*/_mapping") => js(
            200,
            json!({"logs-1": {"mappings": {"properties": {"@timestamp": {"type": "date"},
                "host": {"properties": {"name": {"type": "keyword"}}}, "event": {"properties": {"code": {"type": "keyword"}}}}}}}),
        ),
        ("POST", "/logs-*/_pit") => js(200, json!({"id": "pit-a"})),
        ("DELETE", "/_pit") => js(200, json!({"succeeded": true})),
        ("POST", "/_search") => js(
            200,
            json!({"took": 1, "timed_out": false, "_shards": {"total": 1, "successful": 1, "failed": 0},
                "hits": {"hits": [{"_index": "logs-1", "_id": "a1", "_source": {"@timestamp": "2026-06-30T10:00:00Z",
                    "host": {"name": "ws7"}, "event": {"code": "4688"}}, "sort": [1, 0]}]}}),
        ),
        ("POST", "/_sql") => js(
            200,
            json!({"columns": [{"name": "host.name", "type": "keyword"}, {"name": "n", "type": "long"}], "rows": [["ws7", 12]]}),
        ),
        _ => js(
            404,
            json!({"error": {"type": "not_found", "reason": format!("{method} {path}")}}),
        ),
    }
}

/// Starts the fake upstream on its own runtime thread; returns its base URL and request log.
fn start_upstream() -> (String, Log) {
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    let log2 = log.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let app = axum::Router::new().fallback(upstream).with_state(log2);
            axum::serve(listener, app).await.unwrap();
        });
    });
    let addr = rx.recv().unwrap();
    (format!("http://{addr}"), log)
}

fn config(dir: &std::path::Path, url: &str) -> Config {
    let toml = format!(
        r#"
[providers.MSSentinel]
Workspaces = {{ Default = {{ WorkspaceId = "{WS}", TenantId = "{TENANT}" }} }}
Args = {{ ClientId = "3f0c7a2e-58d1-4c6b-9e2a-6b1f0d4c8a11", ClientSecret = {{ EnvironmentVar = "T_AZ_SECRET" }}, AuthorityUri = "{url}", LogAnalyticsUri = "{url}" }}

[providers.Splunk]
Args = {{ host = "{url}", bearer_token = {{ EnvironmentVar = "T_SPLUNK_TOKEN" }} }}

[providers.Elastic]
Args = {{ url = "{url}", username = "analyst", password = {{ EnvironmentVar = "T_ES_PASSWORD" }}, index = "logs-*" }}
"#
    );
    let path = dir.join("huntglass.toml");
    std::fs::write(&path, toml).unwrap();
    let env = |name: &str| match name {
        "T_AZ_SECRET" => Some(CLIENT_SECRET.to_string()),
        "T_SPLUNK_TOKEN" => Some(SPLUNK_TOKEN.to_string()),
        "T_ES_PASSWORD" => Some(ES_PASSWORD.to_string()),
        _ => None,
    };
    Config::load_from(&ConfigSources {
        config_flag: Some(path),
        env: &env,
        working_dir: dir.to_path_buf(),
    })
    .expect("config")
}

fn providers(config: &Config) -> Vec<Arc<dyn QueryProvider>> {
    [
        RemoteKind::Sentinel,
        RemoteKind::Splunk,
        RemoteKind::Elastic,
    ]
    .into_iter()
    .map(|k| Arc::new(RemoteProvider::from_config(k, config)) as Arc<dyn QueryProvider>)
    .collect()
}

fn assert_no_secret(text: &str) {
    for s in [CLIENT_SECRET, SPLUNK_TOKEN, ES_PASSWORD, ACCESS_TOKEN] {
        assert!(!text.contains(s), "secret leaked: {text}");
    }
}

#[test]
fn named_and_raw_queries_run_through_the_proxy_on_every_remote_provider() {
    let (url, log) = start_upstream();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &url);
    let server = common::start(config(dir.path(), &url), providers(&cfg), None);

    let listed = server.get("/api/queries?provider=Splunk");
    assert_eq!(listed.status, 200, "{}", listed.text());
    let text = listed.text();
    assert!(
        text.contains("list_host_processes") && text.contains("list_dns_for_domain"),
        "{text}"
    );
    assert_no_secret(&text);

    // Splunk: the value escaped as an SPL string, the time range as epoch seconds.
    let r = server.post_json(
        "/api/query",
        &json!({"provider": "Splunk", "query": "WindowsSecurity.list_host_processes", "format": "json",
                "parameters": {"host_name": "WS7\" OR host=*", "start": "2026-06-30", "end": "2026-07-01"}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["rows"].as_array().unwrap().len(), 2, "{v}");
    assert!(v["columns"].to_string().contains("New_Process_Name"));
    assert!(
        v["trailer"]["notes"]
            .to_string()
            .contains("Search results might be incomplete"),
        "{v}"
    );
    let seen = log.lock().unwrap().clone();
    let export = seen
        .iter()
        .find(|s| s.path.ends_with("/jobs/export"))
        .unwrap();
    let form = url_form(&export.body);
    assert_eq!(
        form["search"],
        "search index=\"*\" source=\"WinEventLog:Security\" EventCode=4688 host=\"WS7\\\" OR host=*\" earliest=1782777600 latest=1782864000 | sort 0 _time | head 100000"
    );
    assert_no_secret(&r.text());

    // Sentinel: token from the fake authority, KQL with escaped literals, partial error noted.
    let r = server.post_json(
        "/api/query",
        &json!({"provider": "MSSentinel", "query": "WindowsSecurity.list_host_processes", "format": "json",
                "parameters": {"host_name": "WS7'", "start": "2026-06-30T00:00:00Z", "end": "2026-07-01T00:00:00Z"}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["rows"].as_array().unwrap().len(), 2);
    assert!(
        v["trailer"]["notes"].to_string().contains("PartialError"),
        "{v}"
    );
    let seen = log.lock().unwrap().clone();
    let q = seen.iter().find(|s| s.path.ends_with("/query")).unwrap();
    assert_eq!(q.auth, format!("Bearer {ACCESS_TOKEN}"));
    let kql = serde_json::from_str::<Value>(&q.body).unwrap()["query"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        kql.contains("where Computer =~ 'WS7\\'' or Computer startswith strcat('WS7\\'', '.')"),
        "{kql}"
    );
    assert!(kql.contains("TimeGenerated >= datetime(2026-06-30T00:00:00.000000000Z) and TimeGenerated < datetime(2026-07-01T00:00:00.000000000Z)"), "{kql}");
    assert_no_secret(&r.text());

    // Elastic: a named DSL query through a point-in-time, answered as Arrow IPC.
    let r = server.post_json(
        "/api/query",
        &json!({"provider": "Elastic", "query": "WindowsSecurity.list_host_processes",
                "parameters": {"host_name": "ws7", "start": "-1", "end": "0"}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let reader =
        hg_proxy::arrow::ipc::reader::StreamReader::try_new(Cursor::new(r.body.clone()), None)
            .unwrap();
    let schema = reader.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        ["_index", "_id", "@timestamp", "event.code", "host.name"]
    );
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 1);
    let seen = log.lock().unwrap().clone();
    let search: Value =
        serde_json::from_str(&seen.iter().find(|s| s.path == "/_search").unwrap().body).unwrap();
    assert_eq!(
        search["query"]["bool"]["filter"][1]["term"]["host.name"],
        "ws7"
    );
    assert_eq!(search["pit"]["id"], "pit-a");
    assert!(
        seen.iter()
            .any(|s| s.method == "DELETE" && s.path == "/_pit"),
        "the point in time is closed after the search"
    );

    // Raw SQL on Elastic.
    let r = server.post_json(
        "/api/query",
        &json!({"provider": "Elastic", "text": "SELECT host.name, COUNT(*) AS n FROM \"logs-*\" GROUP BY host.name", "format": "json"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["rows"].as_array().unwrap().len(), 1);
    assert_no_secret(&server.output);
}

#[test]
fn upstream_auth_failure_and_missing_configuration_are_clear_errors() {
    let (url, _log) = start_upstream();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &url);
    let wrong = RemoteProvider::from_value(
        RemoteKind::Splunk,
        "DataProviders.Splunk",
        &json!({"Args": {"host": url, "bearer_token": "wrong-token-value"}}),
    )
    .unwrap();
    let server = common::start(cfg, vec![Arc::new(wrong)], None);
    let r = server.post_json(
        "/api/query",
        &json!({"provider": "Splunk", "text": "search index=main", "format": "json"}),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    let e = r.json()["error"].as_str().unwrap().to_string();
    assert!(
        e.contains("Splunk: authentication failed")
            && e.contains("call not properly authenticated"),
        "{e}"
    );
    assert!(!e.contains("wrong-token-value"));

    let p = RemoteProvider::from_config(RemoteKind::Elastic, &Config::default());
    let why = p.status().unwrap_err();
    assert!(
        why.contains("DataProviders.Elastic") && why.contains("[providers.Elastic]"),
        "{why}"
    );
}

fn url_form(body: &str) -> BTreeMap<String, String> {
    body.split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn sentinel_takes_its_workspace_from_msticpyconfig_top_level_section() {
    let (url, log) = start_upstream();
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        r#"
AzureSentinel:
  Workspaces:
    Default:
      WorkspaceId: "{WS}"
      TenantId: "{TENANT}"
      AuthorityUri: "{url}"
      LogAnalyticsUri: "{url}"
DataProviders:
  AzureCLI:
    Args:
      clientId: "3f0c7a2e-58d1-4c6b-9e2a-6b1f0d4c8a11"
      clientSecret:
        EnvironmentVar: T_AZ_SECRET
      tenantId: "{TENANT}"
"#
    );
    let path = dir.path().join("msticpyconfig.yaml");
    std::fs::write(&path, yaml).unwrap();
    let path_text = path.display().to_string();
    let env = |name: &str| match name {
        "MSTICPYCONFIG" => Some(path_text.clone()),
        "T_AZ_SECRET" => Some(CLIENT_SECRET.to_string()),
        _ => None,
    };
    let cfg = Config::load_from(&ConfigSources {
        config_flag: None,
        env: &env,
        working_dir: dir.path().to_path_buf(),
    })
    .expect("config");
    assert!(cfg.azure_sentinel.is_some());
    let sentinel = RemoteProvider::from_config(RemoteKind::Sentinel, &cfg);
    assert_eq!(sentinel.status(), Ok(()));
    let server = common::start(cfg, vec![Arc::new(sentinel)], None);
    let r = server.post_json(
        "/api/query",
        &json!({"provider": "MSSentinel", "text": "SecurityEvent | take 2", "format": "json"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["rows"].as_array().unwrap().len(), 2);
    let seen = log.lock().unwrap().clone();
    let token = seen
        .iter()
        .find(|s| s.path.ends_with("/oauth2/v2.0/token"))
        .expect("a token request to the configured authority");
    assert!(token.body.contains("client_secret=az-Client-Secret-0001"));
    assert!(seen
        .iter()
        .any(|s| s.path == format!("/v1/workspaces/{WS}/query")));

    // Without any workspace the status says where one goes.
    let none = RemoteProvider::from_config(RemoteKind::Sentinel, &Config::default());
    let why = none.status().unwrap_err();
    assert!(why.contains("AzureSentinel.Workspaces"), "{why}");
}
