//! Log Analytics / Sentinel client against a fake Entra ID + Log Analytics on 127.0.0.1.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arrow_array::cast::AsArray;
use arrow_array::types::{DurationNanosecondType, Float64Type, Int64Type, TimestampNanosecondType};
use arrow_array::Array;
use arrow_schema::{DataType, TimeUnit};
use common::{json, start, Reply, Seen};
use hg_remote::{
    CollectSink, KqlQuery, QueryEvent, RemoteError, SentinelClient, SentinelConfig, WarningKind,
};
use serde_json::{json as j, Value};

const WS: &str = "0b6f3d2c-9a41-4e8b-8f7d-1c2e3a4b5c6d";
const TENANT: &str = "72a4c1d0-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
const CLIENT: &str = "3f0c7a2e-58d1-4c6b-9e2a-6b1f0d4c8a11";
const SECRET: &str = "s3cr3t-Client-Value~42";
const TOKEN: &str = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJodHRwczovL2FwaS5sb2dhbmFseXRpY3MuaW8ifQ.c2ln";

fn config(url: &str, extra: Value) -> SentinelConfig {
    let mut ws = j!({
        "WorkspaceId": WS, "TenantId": TENANT,
        "ClientId": CLIENT, "ClientSecret": SECRET,
        "AuthorityUri": url, "LogAnalyticsUri": format!("{url}/v1"),
        "Timeout": 5, "MaxRetries": 3
    });
    for (k, v) in extra.as_object().unwrap() {
        ws[k] = v.clone();
    }
    let section = j!({ "Workspaces": { "Default": ws } });
    let mut cfg = SentinelConfig::from_msticpy("AzureSentinel", &section, None).unwrap();
    cfg.http.retry.base_delay = Duration::from_millis(20);
    cfg
}

fn token_reply(expires_in: Value) -> Reply {
    json(
        200,
        j!({"token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": 3599, "access_token": TOKEN}),
    )
}

fn result_table() -> Value {
    j!({"tables": [{
        "name": "PrimaryResult",
        "columns": [
            {"name": "UserPrincipalName", "type": "string"},
            {"name": "Failures", "type": "long"},
            {"name": "LastFailure", "type": "datetime"},
            {"name": "Details", "type": "dynamic"},
            {"name": "Score", "type": "real"},
            {"name": "Flag", "type": "bool"},
            {"name": "Span", "type": "timespan"},
            {"name": "Id", "type": "guid"}
        ],
        "rows": [
            ["alice@contoso.example", 42, "2026-06-30T22:41:07.1234567Z", "{\"app\":\"Azure Portal\",\"code\":50126}", 1.5, true, "00:05:00", "9d2c0000-0000-0000-0000-000000000001"],
            ["bob@contoso.example", 17, "2026-06-30T19:02:55.0000000Z", "{\"app\":\"Office 365\"}", "NaN", false, "1.00:00:00", null],
            ["svc-backup@contoso.example", 9, "2026-06-30T03:15:00.5000000Z", null, null, null, null, null]
        ]
    }]})
}

fn is_token(s: &Seen) -> bool {
    s.path == format!("/{TENANT}/oauth2/v2.0/token")
}

#[tokio::test]
async fn client_credentials_query_converts_every_column_type_and_caches_the_token() {
    let fake = start(|s, _| {
        if is_token(s) {
            token_reply(j!(3599))
        } else {
            json(200, result_table())
        }
    })
    .await;
    let client = SentinelClient::new(config(&fake.url(), j!({}))).unwrap();
    let q = KqlQuery {
        query: "SigninLogs | where ResultType != 0".into(),
        timespan: Some("2026-06-30T00:00:00Z/2026-07-01T00:00:00Z".into()),
    };
    let mut sink = CollectSink::default();
    let summary = client.query(&q, &mut sink).await.unwrap();
    assert_eq!((summary.rows, summary.partial), (3, false));
    // The same token serves the next query.
    let mut sink2 = CollectSink::default();
    client.query(&q, &mut sink2).await.unwrap();

    let reqs = fake.requests();
    let tokens: Vec<&Seen> = reqs.iter().filter(|s| is_token(s)).collect();
    assert_eq!(tokens.len(), 1, "token fetched once and cached");
    let form = tokens[0].form();
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["client_id"], CLIENT);
    assert_eq!(form["client_secret"], SECRET);
    assert_eq!(form["scope"], "https://api.loganalytics.io/.default");
    let queries: Vec<&Seen> = reqs.iter().filter(|s| !is_token(s)).collect();
    assert_eq!(queries.len(), 2);
    assert_eq!(queries[0].method, "POST");
    assert_eq!(queries[0].path, format!("/v1/workspaces/{WS}/query"));
    assert_eq!(
        queries[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(queries[0].header("prefer"), Some("wait=300"));
    let body = queries[0].json();
    assert_eq!(body["query"], "SigninLogs | where ResultType != 0");
    assert_eq!(
        body["timespan"],
        "2026-06-30T00:00:00Z/2026-07-01T00:00:00Z"
    );
    assert!(body.get("workspaces").is_none());

    let schema = sink.schema.clone().unwrap();
    let types: Vec<DataType> = schema
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    assert_eq!(
        types,
        vec![
            DataType::Utf8,
            DataType::Int64,
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            DataType::Utf8,
            DataType::Float64,
            DataType::Boolean,
            DataType::Duration(TimeUnit::Nanosecond),
            DataType::Utf8
        ]
    );
    let b = &sink.batches[0];
    assert_eq!(
        b.column(0).as_string::<i32>().value(1),
        "bob@contoso.example"
    );
    assert_eq!(b.column(1).as_primitive::<Int64Type>().value(0), 42);
    let t = b.column(2).as_primitive::<TimestampNanosecondType>();
    assert_eq!(t.value(0), 1_782_859_267_123_456_700);
    assert_eq!(
        b.column(3).as_string::<i32>().value(0),
        "{\"app\":\"Azure Portal\",\"code\":50126}"
    );
    assert!(b.column(3).is_null(2));
    let score = b.column(4).as_primitive::<Float64Type>();
    assert_eq!(score.value(0), 1.5);
    assert!(score.value(1).is_nan(), "Log Analytics sends NaN as text");
    assert!(b.column(5).as_boolean().value(0));
    let span = b.column(6).as_primitive::<DurationNanosecondType>();
    assert_eq!(span.value(1), 86_400_000_000_000);
    assert!(sink.warnings().is_empty(), "{:?}", sink.warnings());
    assert!(sink.events.contains(&QueryEvent::Progress { rows: 3 }));
}

#[tokio::test]
async fn token_is_renewed_before_it_expires_and_v1_string_numbers_are_read() {
    // 100 s left is inside the 5-minute renewal margin: every query gets a new token.
    let fake = start(|s, _| {
        if is_token(s) {
            token_reply(j!("100"))
        } else {
            json(200, result_table())
        }
    })
    .await;
    let client = SentinelClient::new(config(&fake.url(), j!({}))).unwrap();
    for _ in 0..2 {
        let mut sink = CollectSink::default();
        client
            .query(
                &KqlQuery {
                    query: "T".into(),
                    timespan: None,
                },
                &mut sink,
            )
            .await
            .unwrap();
    }
    assert_eq!(fake.requests().iter().filter(|s| is_token(s)).count(), 2);
}

#[tokio::test]
async fn partial_error_is_reported_with_the_rows() {
    let fake = start(|s, _| {
        if is_token(s) {
            return token_reply(j!(3599));
        }
        let mut v = result_table();
        v["error"] = j!({"code": "PartialError", "message": "There were some errors when processing your query.",
            "details": [{"code": "EngineError", "message": "Something went wrong processing your query on the server.",
              "innererror": {"code": "-2133196797", "message": "Query result set has exceeded the internal record count limit 500000 (E_QUERY_RESULT_SET_TOO_LARGE)", "severity": 2, "severityName": "Error"}}]});
        json(200, v)
    })
    .await;
    let client = SentinelClient::new(config(&fake.url(), j!({}))).unwrap();
    let mut sink = CollectSink::default();
    let s = client
        .query(
            &KqlQuery {
                query: "T".into(),
                timespan: None,
            },
            &mut sink,
        )
        .await
        .unwrap();
    assert_eq!((s.rows, s.partial), (3, true));
    let w = sink.warnings();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].kind, WarningKind::PartialResult);
    assert!(
        w[0].message.contains("PartialError")
            && w[0].message.contains("E_QUERY_RESULT_SET_TOO_LARGE"),
        "{}",
        w[0].message
    );
}

#[tokio::test]
async fn unauthorized_query_gets_one_new_token_then_a_clear_auth_error() {
    let fake = start(|s, _| {
        if is_token(s) {
            token_reply(j!(3599))
        } else {
            json(401, j!({"error": {"code": "AuthenticationFailed", "message": "The 'Authorization' header is missing."}}))
        }
    })
    .await;
    let client = SentinelClient::new(config(&fake.url(), j!({}))).unwrap();
    let mut sink = CollectSink::default();
    let err = client
        .query(
            &KqlQuery {
                query: "T".into(),
                timespan: None,
            },
            &mut sink,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::Auth { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("MSSentinel") && msg.contains("401") && msg.contains("AuthenticationFailed"),
        "{msg}"
    );
    assert_eq!(fake.requests().iter().filter(|s| is_token(s)).count(), 2);
    assert!(sink.schema.is_none());
}

#[tokio::test]
async fn token_endpoint_error_names_the_problem_without_the_secret() {
    let fake = start(|_, _| {
        // A hostile or careless upstream that echoes the secret back.
        json(401, j!({"error": "invalid_client",
            "error_description": format!("AADSTS7000215: Invalid client secret provided ({SECRET}).\r\nTrace ID: 5b7a"),
            "error_codes": [7000215], "trace_id": "5b7a", "correlation_id": "0e1f"}))
    })
    .await;
    let client = SentinelClient::new(config(&fake.url(), j!({}))).unwrap();
    let err = client
        .query(
            &KqlQuery {
                query: "T".into(),
                timespan: None,
            },
            &mut CollectSink::default(),
        )
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, RemoteError::Auth { .. }));
    assert!(
        msg.contains("invalid_client") && msg.contains("AADSTS7000215"),
        "{msg}"
    );
    assert!(!msg.contains(SECRET), "secret leaked: {msg}");
    assert!(msg.contains("***"));
}

#[tokio::test]
async fn throttling_honours_retry_after_seconds_date_and_backs_off_without_it() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c2 = calls.clone();
    let fake = start(move |s, _| {
        if is_token(s) {
            return token_reply(j!(3599));
        }
        let throttled = j!({"error": {"code": "ThrottledError", "message": "Too many requests"}});
        match c2.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::JsonWith(429, throttled, vec![("retry-after", "1".into())]),
            // An HTTP-date 3 s ahead (whole seconds): the wait is between 2 and 3 s.
            1 => Reply::JsonWith(
                429,
                throttled,
                vec![(
                    "retry-after",
                    httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(3)),
                )],
            ),
            2 => Reply::Json(429, throttled),
            _ => json(200, result_table()),
        }
    })
    .await;
    let client = SentinelClient::new(config(&fake.url(), j!({}))).unwrap();
    let mut sink = CollectSink::default();
    let s = client
        .query(
            &KqlQuery {
                query: "T".into(),
                timespan: None,
            },
            &mut sink,
        )
        .await
        .unwrap();
    assert_eq!(s.rows, 3);
    let retries: Vec<(u32, u16, Duration, bool)> = sink
        .events
        .iter()
        .filter_map(|e| match e {
            QueryEvent::Retry {
                attempt,
                status,
                wait,
                from_retry_after,
            } => Some((*attempt, *status, *wait, *from_retry_after)),
            _ => None,
        })
        .collect();
    assert_eq!(retries.len(), 3, "{retries:?}");
    assert_eq!(retries[0], (1, 429, Duration::from_secs(1), true));
    assert_eq!((retries[1].0, retries[1].3), (2, true));
    assert!(
        retries[1].2 <= Duration::from_secs(3) && retries[1].2 >= Duration::from_secs(2),
        "{:?}",
        retries[1]
    );
    // No Retry-After: exponential backoff from the policy (20 ms base, third attempt: 80 ms).
    assert_eq!(retries[2], (3, 429, Duration::from_millis(80), false));
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn persistent_throttling_and_overlong_retry_after_fail_clearly() {
    let fake = start(|s, _| {
        if is_token(s) {
            return token_reply(j!(3599));
        }
        Reply::Json(
            429,
            j!({"error": {"code": "ThrottledError", "message": "Too many requests"}}),
        )
    })
    .await;
    let client = SentinelClient::new(config(&fake.url(), j!({"MaxRetries": 2}))).unwrap();
    let err = client
        .query(
            &KqlQuery {
                query: "T".into(),
                timespan: None,
            },
            &mut CollectSink::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            RemoteError::Throttled {
                status: 429,
                attempts: 3,
                retry_after: None,
                ..
            }
        ),
        "{err}"
    );

    let fake = start(|s, _| {
        if is_token(s) {
            return token_reply(j!(3599));
        }
        Reply::JsonWith(429, j!({}), vec![("retry-after", "3600".into())])
    })
    .await;
    let client = SentinelClient::new(config(&fake.url(), j!({}))).unwrap();
    let err = client
        .query(
            &KqlQuery {
                query: "T".into(),
                timespan: None,
            },
            &mut CollectSink::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, RemoteError::Throttled { attempts: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("3600 s"), "{err}");
}

#[tokio::test]
async fn slow_upstream_times_out() {
    let fake = start(|s, _| {
        if is_token(s) {
            return token_reply(j!(3599));
        }
        Reply::Delay(Duration::from_secs(3), Box::new(json(200, result_table())))
    })
    .await;
    let client = SentinelClient::new(config(&fake.url(), j!({"Timeout": 0.3}))).unwrap();
    let err = client
        .query(
            &KqlQuery {
                query: "T".into(),
                timespan: None,
            },
            &mut CollectSink::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("0.3 s"), "{err}");
}

#[tokio::test]
async fn bad_kql_is_an_upstream_error_with_the_parser_message() {
    let fake = start(|s, _| {
        if is_token(s) {
            return token_reply(j!(3599));
        }
        json(400, j!({"error": {"code": "BadArgumentError", "message": "The request had some invalid properties",
            "innererror": {"code": "SyntaxError", "message": "A recognition error occurred in the query."}}}))
    })
    .await;
    let client = SentinelClient::new(config(&fake.url(), j!({}))).unwrap();
    let err = client
        .query(
            &KqlQuery {
                query: "T |".into(),
                timespan: None,
            },
            &mut CollectSink::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::Upstream { status: 400, .. }));
    assert!(
        err.to_string().contains("A recognition error occurred"),
        "{err}"
    );
}

#[tokio::test]
async fn error_without_tables_fails_and_other_tables_are_named() {
    let fake = start(|s, i| {
        if is_token(s) {
            return token_reply(j!(3599));
        }
        if i == 1 {
            json(
                200,
                j!({"error": {"code": "PartialError", "message": "everything failed"}}),
            )
        } else {
            let mut v = result_table();
            v["tables"]
                .as_array_mut()
                .unwrap()
                .push(j!({"name": "Stats", "columns": [], "rows": []}));
            json(200, v)
        }
    })
    .await;
    let client = SentinelClient::new(config(&fake.url(), j!({}))).unwrap();
    let q = KqlQuery {
        query: "T".into(),
        timespan: None,
    };
    let err = client
        .query(&q, &mut CollectSink::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, RemoteError::Query { .. }) && err.to_string().contains("everything failed"),
        "{err}"
    );
    let mut sink = CollectSink::default();
    client.query(&q, &mut sink).await.unwrap();
    assert!(sink
        .warnings()
        .iter()
        .any(|w| w.kind == WarningKind::ExtraTables && w.message.contains("Stats")));
}

#[tokio::test]
async fn device_code_flow_prompts_polls_and_then_queries() {
    let polls = Arc::new(AtomicUsize::new(0));
    let p2 = polls.clone();
    let fake = start(move |s, _| {
        if s.path.ends_with("/oauth2/v2.0/devicecode") {
            return json(200, j!({"user_code": "HQ7K2PZML", "device_code": "DAQABIQEAAADx-long-device-code",
                "verification_uri": "https://microsoft.com/devicelogin", "expires_in": 900, "interval": 0,
                "message": "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code HQ7K2PZML to authenticate."}));
        }
        if is_token(s) {
            if p2.fetch_add(1, Ordering::SeqCst) < 2 {
                return json(400, j!({"error": "authorization_pending", "error_description": "AADSTS70016: pending", "error_codes": [70016]}));
            }
            return json(200, j!({"token_type": "Bearer", "scope": "https://api.loganalytics.io/.default", "expires_in": 3599,
                "ext_expires_in": 3599, "access_token": TOKEN, "refresh_token": "0.refresh-token-value"}));
        }
        json(200, result_table())
    })
    .await;
    let section = j!({"Workspaces": {"Default": {"WorkspaceId": WS, "TenantId": TENANT}},
        "Args": {"AuthorityUri": fake.url(), "LogAnalyticsUri": fake.url()}});
    let mut cfg = SentinelConfig::from_msticpy("AzureSentinel", &section, None).unwrap();
    cfg.auth.min_poll_interval = Duration::ZERO;
    let client = SentinelClient::new(cfg).unwrap();
    let mut sink = CollectSink::default();
    client
        .query(
            &KqlQuery {
                query: "T".into(),
                timespan: None,
            },
            &mut sink,
        )
        .await
        .unwrap();
    assert!(sink
        .events
        .iter()
        .any(|e| matches!(e, QueryEvent::SignIn { user_code, .. } if user_code == "HQ7K2PZML")));
    let reqs = fake.requests();
    let dc = reqs
        .iter()
        .find(|s| s.path.ends_with("/devicecode"))
        .unwrap()
        .form();
    assert_eq!(dc["client_id"], hg_remote::entra::AZURE_CLI_CLIENT_ID);
    assert_eq!(
        dc["scope"],
        "https://api.loganalytics.io/.default offline_access"
    );
    let polls_seen: Vec<_> = reqs.iter().filter(|s| is_token(s)).collect();
    assert_eq!(polls_seen.len(), 3);
    let f = polls_seen[0].form();
    assert_eq!(
        f["grant_type"],
        "urn:ietf:params:oauth:grant-type:device_code"
    );
    assert_eq!(f["device_code"], "DAQABIQEAAADx-long-device-code");
    let q = reqs.iter().find(|s| s.path.ends_with("/query")).unwrap();
    assert_eq!(
        q.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[tokio::test]
async fn declined_device_code_sign_in_is_an_auth_error() {
    let fake = start(|s, _| {
        if s.path.ends_with("/devicecode") {
            return json(200, j!({"user_code": "ABC", "device_code": "dc-value-123", "verification_uri": "https://microsoft.com/devicelogin", "expires_in": 900, "interval": 0}));
        }
        json(400, j!({"error": "authorization_declined", "error_description": "AADSTS70000: The user declined."}))
    })
    .await;
    let section = j!({"WorkspaceId": WS, "TenantId": TENANT, "AuthorityUri": fake.url(), "LogAnalyticsUri": fake.url()});
    let mut cfg = SentinelConfig::from_msticpy("DataProviders.MSSentinel", &section, None).unwrap();
    cfg.auth.min_poll_interval = Duration::ZERO;
    let err = SentinelClient::new(cfg)
        .unwrap()
        .query(&KqlQuery::default(), &mut CollectSink::default())
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::Auth { .. }));
    assert!(err.to_string().contains("declined"), "{err}");
}

#[test]
fn config_shapes_and_errors_name_the_key() {
    let section = j!({"Workspaces": {
        "Default": {"WorkspaceId": WS, "TenantId": TENANT},
        "Hunt": {"WorkspaceId": "11111111-2222-3333-4444-555555555555", "TenantId": "contoso.onmicrosoft.com", "Cloud": "usgov",
                 "AdditionalWorkspaces": ["22222222-2222-3333-4444-555555555555"]}}});
    let d = SentinelConfig::from_msticpy("AzureSentinel", &section, None).unwrap();
    assert_eq!(d.workspace_id, WS);
    assert_eq!(d.endpoint, "https://api.loganalytics.io");
    assert_eq!(d.auth.authority, "https://login.microsoftonline.com");
    let h = SentinelConfig::from_msticpy("AzureSentinel", &section, Some("Hunt")).unwrap();
    assert_eq!(h.endpoint, "https://api.loganalytics.us");
    assert_eq!(h.auth.tenant_id, "contoso.onmicrosoft.com");
    assert_eq!(h.additional_workspaces.len(), 1);

    let err = |v: Value, ws: Option<&str>| {
        SentinelConfig::from_msticpy("AzureSentinel", &v, ws)
            .unwrap_err()
            .to_string()
    };
    let e = err(section.clone(), Some("Nope"));
    assert!(
        e.contains("AzureSentinel.Workspaces.Nope") && e.contains("Default, Hunt"),
        "{e}"
    );
    let e = err(j!({"Workspaces": {"Default": {"TenantId": TENANT}}}), None);
    assert!(
        e.contains("AzureSentinel.Workspaces.Default.WorkspaceId") && e.contains("missing"),
        "{e}"
    );
    let e = err(
        j!({"Workspaces": {"Default": {"WorkspaceId": "../../etc", "TenantId": TENANT}}}),
        None,
    );
    assert!(e.contains("WorkspaceId") && e.contains("GUID"), "{e}");
    let e = err(
        j!({"Workspaces": {"Default": {"WorkspaceId": WS, "TenantId": TENANT, "ClientId": CLIENT, "ClientSecret": {"EnvironmentVar": "AZ_SECRET"}}}}),
        None,
    );
    assert!(
        e.contains("ClientSecret") && e.contains("unresolved"),
        "{e}"
    );
    let e = err(
        j!({"Workspaces": {"Default": {"WorkspaceId": WS, "TenantId": TENANT, "ClientSecret": SECRET}}}),
        None,
    );
    assert!(e.contains("ClientId") && !e.contains(SECRET), "{e}");
    let e = err(
        j!({"Workspaces": {"Default": {"WorkspaceId": WS, "TenantId": TENANT, "Cloud": "mars"}}}),
        None,
    );
    assert!(e.contains("Cloud") && e.contains("mars"), "{e}");
    let e = err(
        j!({"Workspaces": {"Default": {"WorkspaceId": WS, "TenantId": TENANT, "AuthorityUri": "https://user:pw@login.example"}}}),
        None,
    );
    assert!(
        e.contains("AuthorityUri") && e.contains("credentials"),
        "{e}"
    );
    let e = err(j!({"Workspaces": {"A": {}, "B": {}}}), None);
    assert!(
        e.contains("Workspaces.Default") && e.contains("A, B"),
        "{e}"
    );
    // The secret never shows in a Debug print of the config.
    let c = SentinelConfig::from_msticpy(
        "AzureSentinel",
        &j!({"WorkspaceId": WS, "TenantId": TENANT, "ClientId": CLIENT, "ClientSecret": SECRET}),
        None,
    )
    .unwrap();
    assert!(!format!("{c:?}").contains(SECRET));
}
