//! `/api/whois` over real HTTP with the token, against a fake RDAP service on 127.0.0.1: the
//! IANA-style bootstrap served by the fake, a found network (dates the right way round, abuse
//! contact, country from the registrant), a second address of the same network answered
//! without a second request, 404, 429 retried with Retry-After then reported, a malformed
//! answer, addresses not sent, and a bootstrap that cannot be read.

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

#[derive(Default)]
struct Counts {
    network: AtomicUsize,
    limited: AtomicUsize,
}

const NETWORK: &str = r#"{"objectClassName": "ip network", "handle": "NET-8-8-8-0-2",
  "startAddress": "8.8.8.0", "endAddress": "8.8.8.255", "ipVersion": "v4", "name": "GOGL",
  "type": "DIRECT ALLOCATION", "cidr0_cidrs": [{"v4prefix": "8.8.8.0", "length": 24}],
  "events": [{"eventAction": "last changed", "eventDate": "2023-12-28T17:24:56-05:00"},
             {"eventAction": "registration", "eventDate": "2014-03-14T16:52:05-04:00"}],
  "entities": [{"objectClassName": "entity", "handle": "GOGL", "roles": ["registrant"],
    "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "Google LLC"],
      ["adr", {"label": "1600 Amphitheatre Parkway", "cc": "US"}, "text", ["", "", "", "", "", "", ""]]]],
    "entities": [{"objectClassName": "entity", "handle": "ABUSE5250-ARIN", "roles": ["abuse"],
      "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "Abuse"],
        ["email", {}, "text", "network-abuse@google.example"]]]}]}]}"#;

async fn rdap(State(counts): State<Arc<Counts>>, Path(ip): Path<String>) -> Response {
    match ip.as_str() {
        "8.8.8.8" | "8.8.8.9" => {
            counts.network.fetch_add(1, Ordering::SeqCst);
            ([("content-type", "application/rdap+json")], NETWORK).into_response()
        }
        _ => (
            StatusCode::NOT_FOUND,
            [("content-type", "application/rdap+json")],
            r#"{"errorCode": 404, "title": "Not Found"}"#,
        )
            .into_response(),
    }
}

async fn limited(State(counts): State<Arc<Counts>>) -> Response {
    counts.limited.fetch_add(1, Ordering::SeqCst);
    (
        StatusCode::TOO_MANY_REQUESTS,
        [("retry-after", "1")],
        "slow down",
    )
        .into_response()
}

/// The fake RDAP service on its own runtime; returns its base URL and the request counts.
fn start_fake() -> (String, Arc<Counts>) {
    let counts = Arc::new(Counts::default());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let bootstrap4 = json!({"version": "1.0", "services": [
        [["8.0.0.0/8", "81.0.0.0/8"], [format!("{base}/rdap/")]],
        [["1.0.0.0/8"], [format!("{base}/limited/")]],
        [["9.0.0.0/8"], [format!("{base}/malformed/")]]]})
    .to_string();
    let bootstrap6 = json!({"version": "1.0", "services": [
        [["2001:4860::/32"], [format!("{base}/rdap")]]]})
    .to_string();
    let app = Router::new()
        .route(
            "/bootstrap/ipv4.json",
            get(move || async move { bootstrap4 }),
        )
        .route(
            "/bootstrap/ipv6.json",
            get(move || async move { bootstrap6 }),
        )
        .route("/rdap/ip/{ip}", get(rdap))
        .route("/limited/ip/{ip}", get(limited))
        .route(
            "/malformed/ip/{ip}",
            get(|| async { ([("content-type", "application/rdap+json")], "<html>oops") }),
        )
        .with_state(Arc::clone(&counts));
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let _ = axum::serve(listener, app).await;
        });
    });
    (base, counts)
}

fn post(server: &common::Server, body: &[u8]) -> common::HttpResponse {
    let bearer = server.bearer();
    let headers = [
        ("Authorization", bearer.as_str()),
        ("Content-Type", "application/json"),
    ];
    common::request(server.port, "POST", "/api/whois", &headers, Some(body))
}

#[test]
fn whois_route_over_http() {
    let (base, counts) = start_fake();
    let geo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../build/geo");
    let have_geo = geo.join("asn/asn-ipv4.csv").is_file();
    std::env::set_var("HUNTGLASS_GEO_DATA", &geo);
    std::env::set_var("HUNTGLASS_RDAP_PACE_MS", "0");

    // A bootstrap that cannot be read: 502 naming it, nothing else asked.
    std::env::set_var(
        "HUNTGLASS_RDAP_BOOTSTRAP",
        format!("{base}/bootstrap/missing.json"),
    );
    let server = common::start(hg_proxy::config::Config::default(), vec![], None);
    let r = post(&server, br#"{"ips": ["8.8.8.8"]}"#);
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(r.text().contains("missing.json"), "{}", r.text());
    drop(server);

    std::env::set_var(
        "HUNTGLASS_RDAP_BOOTSTRAP",
        format!("{base}/bootstrap/ipv4.json,{base}/bootstrap/ipv6.json"),
    );
    let server = common::start(hg_proxy::config::Config::default(), vec![], None);
    let body = br#"{"ips": ["8.8.8.8", "10.0.0.1", "8.8.8.9", "81.2.69.142", "1.1.1.1",
        "9.9.9.9", "junk", "203.0.113.5", "44.0.0.1"]}"#;
    let r = post(&server, body);
    assert_eq!(r.status, 200, "{}", r.text());
    let v: Value = r.json();
    let res = v["results"].as_array().expect("results");
    assert_eq!(res.len(), 9);
    let found = &res[0];
    assert_eq!(found["input"], "8.8.8.8");
    assert_eq!(found["status"], "found");
    assert_eq!(found["network_name"], "GOGL");
    assert_eq!(found["handle"], "NET-8-8-8-0-2");
    assert_eq!(found["registered"], "2014-03-14T16:52:05-04:00");
    assert_eq!(found["last_changed"], "2023-12-28T17:24:56-05:00");
    assert_eq!(
        found["country"], "US",
        "ARIN omits country: the registrant's"
    );
    assert_eq!(found["registrant"], "Google LLC");
    assert_eq!(found["abuse_email"], "network-abuse@google.example");
    assert_eq!(found["cidrs"], json!(["8.8.8.0/24"]));
    assert_eq!(found["reference"], format!("{base}/rdap/ip/8.8.8.8"));
    if have_geo {
        assert_eq!(found["asn"], 15169, "origin AS from the offline table");
    }
    assert_eq!(res[1]["status"], "not_public");
    assert_eq!(res[1]["category"], "private");
    // Same network as 8.8.8.8: answered without asking again.
    assert_eq!(res[2]["status"], "found");
    assert_eq!(res[2]["input"], "8.8.8.9");
    assert_eq!(res[2]["shared"], true);
    assert_eq!(counts.network.load(Ordering::SeqCst), 1);
    assert_eq!(res[3]["status"], "not_found");
    assert_eq!(res[4]["status"], "rate_limited");
    assert_eq!(
        counts.limited.load(Ordering::SeqCst),
        3,
        "the 429 was retried twice (Retry-After: 1) and then reported"
    );
    assert_eq!(res[5]["status"], "failed");
    assert!(
        res[5]["message"]
            .as_str()
            .unwrap_or("")
            .contains("malformed RDAP answer"),
        "{}",
        res[5]
    );
    assert_eq!(res[6]["status"], "invalid");
    assert_eq!(res[7]["status"], "not_public");
    assert_eq!(res[7]["category"], "documentation");
    assert_eq!(res[8]["status"], "no_registry");

    // IPv6 through the second bootstrap file (a base URL without the trailing slash).
    let r = post(&server, br#"{"ips": ["2001:4860:4860::8888"]}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["results"][0]["status"], "not_found");

    // Bad bodies and the token.
    let r = post(&server, br#"{"ip": "8.8.8.8"}"#);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("ips"), "{}", r.text());
    let many = json!({"ips": vec!["8.8.8.8"; 10_001]}).to_string();
    let r = post(&server, many.as_bytes());
    assert_eq!(r.status, 400);
    assert!(r.text().contains("10000"), "{}", r.text());
    let r = common::request(
        server.port,
        "POST",
        "/api/whois",
        &[("Content-Type", "application/json")],
        Some(body),
    );
    assert_eq!(r.status, 401);
}
