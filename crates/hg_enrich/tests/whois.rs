//! The whois engine against a fake RDAP registry on 127.0.0.1: addresses of one network are
//! asked once (even when they arrive together), a 404 is not found, a 429 is retried as
//! `Retry-After` says and then reported, a body that is not RDAP is a failure naming why, and
//! addresses that are not public never leave.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hg_enrich::whois::{RdapBootstrap, WhoisClient, WhoisSettings, WhoisStatus};

const NETWORK: &str = r#"{"objectClassName": "ip network", "name": "EXAMPLE-NET",
  "handle": "NET-1", "startAddress": "8.8.8.0", "endAddress": "8.8.8.255",
  "events": [{"eventAction": "registration", "eventDate": "2014-03-14T00:00:00Z"}]}"#;

#[derive(Default)]
struct Counts {
    asked: AtomicUsize,
    limited: AtomicUsize,
}

async fn ip(State(counts): State<Arc<Counts>>, Path(ip): Path<String>) -> Response {
    counts.asked.fetch_add(1, Ordering::SeqCst);
    if ip.starts_with("8.8.8.") {
        ([("content-type", "application/rdap+json")], NETWORK).into_response()
    } else if ip.starts_with("1.") {
        counts.limited.fetch_add(1, Ordering::SeqCst);
        (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "").into_response()
    } else if ip.starts_with("9.") {
        "<html>down for maintenance</html>".into_response()
    } else {
        (StatusCode::NOT_FOUND, r#"{"errorCode": 404}"#).into_response()
    }
}

#[tokio::test]
async fn batch_against_a_fake_registry() {
    let counts = Arc::new(Counts::default());
    let app = Router::new()
        .route("/rdap/ip/{ip}", get(ip))
        .with_state(Arc::clone(&counts));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/rdap/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let mut bootstrap = RdapBootstrap::new();
    let doc = serde_json::json!({"services": [[["8.0.0.0/8", "1.0.0.0/8", "9.0.0.0/8", "81.0.0.0/8"], [base]]]});
    bootstrap
        .add_json(doc.to_string().as_bytes(), "bootstrap")
        .unwrap();
    let settings = WhoisSettings {
        pace: Duration::ZERO,
        concurrency: 4,
        max_retries: 1,
        ..WhoisSettings::default()
    };
    let client = WhoisClient::new(bootstrap, &settings).unwrap();
    let inputs: Vec<String> = [
        "8.8.8.8",
        "8.8.8.9",
        "8.8.8.200",
        "10.0.0.1",
        "81.2.69.142",
        "1.1.1.1",
        "9.9.9.9",
        "x",
        "44.1.1.1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let records = client.lookup_all(&inputs, None).await.unwrap();
    let statuses: Vec<WhoisStatus> = records.iter().map(|r| r.status.unwrap()).collect();
    assert_eq!(
        statuses,
        vec![
            WhoisStatus::Found,
            WhoisStatus::Found,
            WhoisStatus::Found,
            WhoisStatus::NotPublic,
            WhoisStatus::NotFound,
            WhoisStatus::RateLimited,
            WhoisStatus::Failed,
            WhoisStatus::Invalid,
            WhoisStatus::NoRegistry,
        ]
    );
    assert_eq!(
        (records[1].shared, records[2].shared),
        (true, true),
        "answered from 8.8.8.8's network"
    );
    assert_eq!(records[1].input, "8.8.8.9");
    assert_eq!(
        records[0].registered.as_deref(),
        Some("2014-03-14T00:00:00Z")
    );
    assert!(records[6]
        .message
        .as_deref()
        .unwrap()
        .contains("malformed RDAP answer"));
    assert_eq!(
        counts.limited.load(Ordering::SeqCst),
        2,
        "one retry after Retry-After"
    );
    // 8.8.8.8 once, 81.2.69.142, 1.1.1.1 twice, 9.9.9.9: nothing for the others.
    assert_eq!(counts.asked.load(Ordering::SeqCst), 5);

    let too_many = vec!["8.8.8.8".to_string(); hg_enrich::whois::MAX_BATCH + 1];
    let e = client.lookup_all(&too_many, None).await.unwrap_err();
    assert!(e.contains("over the limit"), "{e}");
}
