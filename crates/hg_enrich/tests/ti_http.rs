//! Upstream providers against fake upstreams on 127.0.0.1 with the documented shapes:
//! normalization (shared cases in tests/cases/ti/providers.json), request shapes and key
//! headers, 401 / 404 / 429 with and without Retry-After, timeouts, malformed bodies, rate and
//! concurrency limits, the disk cache, and what is never sent upstream.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Fake, Reply};
use hg_enrich::ti::{classify, status, Severity, TiCache, TiConfig, TiEvent, TiLookup, TiResult};
use serde_json::{json, Value};

fn cases() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/cases/ti/providers.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn lookup_with(section: Value, cache: Option<TiCache>) -> TiLookup {
    let config = TiConfig::from_section(&section, Path::new("/")).unwrap();
    for s in &config.status {
        assert!(s.loaded, "{} not loaded: {}", s.name, s.message);
    }
    TiLookup::new(config, cache)
}

fn provider_section(name: &str, key: Option<&str>, base: &str, extra: Value) -> Value {
    let mut args = json!({"BaseUrl": base, "MaxRetries": 0});
    if let Some(k) = key {
        args["AuthKey"] = json!(k);
    }
    for (k, v) in extra.as_object().unwrap() {
        args[k] = v.clone();
    }
    json!({ name: {"Provider": name, "Args": args} })
}

async fn run(lookup: &TiLookup, values: &[&str]) -> (Vec<TiResult>, Vec<TiEvent>) {
    let observables = values.iter().map(|v| classify(v, None)).collect();
    let mut events = Vec::new();
    lookup
        .lookup(observables, None, &mut |e: TiEvent| events.push(e))
        .await
        .unwrap();
    let results = events
        .iter()
        .filter_map(|e| match e {
            TiEvent::Result(r) => Some(r.clone()),
            _ => None,
        })
        .collect();
    (results, events)
}

/// `expected` is a subset of `actual` (objects key by key, everything else equal).
fn assert_subset(expected: &Value, actual: &Value, context: &str) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, v) in e {
                let got = a
                    .get(k)
                    .unwrap_or_else(|| panic!("{context}: no {k} in {actual}"));
                assert_subset(v, got, &format!("{context}.{k}"));
            }
        }
        _ => assert_eq!(expected, actual, "{context}"),
    }
}

#[tokio::test]
async fn documented_answers_are_normalized() {
    let cases = cases();
    let keys = &cases["keys"];
    for case in cases["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let provider = case["provider"].as_str().unwrap();
        let reply = &case["reply"];
        let status_code = reply["status"].as_u64().unwrap() as u16;
        let fake_reply = match reply.get("body") {
            Some(body) => Reply::json(status_code, body),
            None => Reply::text(status_code, reply["text"].as_str().unwrap()),
        };
        let fake = Fake::start(fake_reply).await;
        let key = keys[provider].as_str().unwrap();
        let lookup = lookup_with(
            provider_section(provider, Some(key), &fake.url, json!({})),
            None,
        );
        let ioc = case["ioc"].as_str().unwrap();
        let (results, _) = run(&lookup, &[ioc]).await;
        assert_eq!(results.len(), 1, "{name}");
        let result = serde_json::to_value(&results[0]).unwrap();
        assert_subset(&case["expect"], &result, name);
        assert_eq!(results[0].provider, provider);
        assert_eq!(results[0].ioc, ioc);
        // The key is never in the result.
        assert!(
            !result.to_string().contains(key),
            "{name}: key leaked in {result}"
        );
        let seen = fake.seen();
        assert_eq!(seen.len(), 1, "{name}: one request");
        let request = &seen[0];
        assert!(
            results[0].reference.starts_with(&fake.url),
            "{name}: reference {}",
            results[0].reference
        );
        if let Some(want) = case.get("request") {
            assert_eq!(request.method, want["method"].as_str().unwrap(), "{name}");
            assert_eq!(request.path, want["path"].as_str().unwrap(), "{name}");
            if let Some(q) = want.get("query") {
                assert_eq!(request.query, q.as_str().unwrap(), "{name}");
            }
            let header = want["header"].as_str().unwrap().to_ascii_lowercase();
            assert_eq!(
                request.headers.get(&header).map(String::as_str),
                Some(key),
                "{name}: {header}"
            );
            if let Some(form) = want.get("form") {
                let body = String::from_utf8(request.body.clone()).unwrap();
                let pairs: Vec<(String, String)> = body
                    .split('&')
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').unwrap();
                        (decode_form(k), decode_form(v))
                    })
                    .collect();
                for (k, v) in form.as_object().unwrap() {
                    assert!(
                        pairs.contains(&(k.clone(), v.as_str().unwrap().to_string())),
                        "{name}: form {body}"
                    );
                }
            }
            if let Some(body) = want.get("json") {
                let sent: Value = serde_json::from_slice(&request.body).unwrap();
                assert_eq!(&sent, body, "{name}");
            }
        }
    }
}

fn decode_form(s: &str) -> String {
    let s = s.replace('+', " ");
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn no_key_header_without_a_key() {
    // The reference sends `key: None` to GreyNoise when no key is configured.
    let body =
        json!({"ip": "45.148.10.92", "noise": true, "riot": false, "classification": "malicious"});
    let fake = Fake::start(Reply::json(200, &body)).await;
    let lookup = lookup_with(
        provider_section("GreyNoise", None, &fake.url, json!({})),
        None,
    );
    let (results, _) = run(&lookup, &["45.148.10.92"]).await;
    assert_eq!(results[0].severity, Severity::High);
    let seen = fake.seen();
    assert!(
        !seen[0].headers.contains_key("key"),
        "{:?}",
        seen[0].headers
    );
}

#[tokio::test]
async fn providers_needing_a_key_are_not_loaded_without_one() {
    for provider in [
        "VirusTotal",
        "AbuseIPDB",
        "URLhaus",
        "ThreatFox",
        "MalwareBazaar",
    ] {
        let section = provider_section(provider, None, "http://127.0.0.1:9", json!({}));
        let config = TiConfig::from_section(&section, Path::new("/")).unwrap();
        assert!(!config.status[0].loaded, "{provider}");
        assert!(
            config.status[0].message.contains("AuthKey"),
            "{}",
            config.status[0].message
        );
        let lookup = TiLookup::new(config, None);
        let err = lookup
            .start(
                vec![classify("8.8.8.8", None)],
                Some(&[provider.to_string()]),
            )
            .unwrap_err();
        assert!(err.to_string().contains("unknown TI provider"), "{err}");
    }
    let odd = json!({"XForce": {"Provider": "XForce", "Args": {"AuthKey": "k"}}, "Off": {"Provider": "--no-load--"}});
    let config = TiConfig::from_section(&odd, Path::new("/")).unwrap();
    assert!(config.status.iter().all(|s| !s.loaded));
    assert!(config
        .status
        .iter()
        .any(|s| s.message.contains("not supported by huntglass")));
    let bad = json!({"VirusTotal": {"Provider": "VirusTotal", "Args": {"AuthKey": "k", "RequestsPerMinute": "fast"}}});
    let err = TiConfig::from_section(&bad, Path::new("/"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("RequestsPerMinute") && err.contains("fast"),
        "{err}"
    );
    assert!(TiConfig::from_section(&json!([1]), Path::new("/")).is_err());
}

#[tokio::test]
async fn nothing_private_or_unsupported_goes_upstream() {
    let fake = Fake::start(Reply::json(200, &json!({}))).await;
    let lookup = lookup_with(
        provider_section("VirusTotal", Some("k"), &fake.url, json!({})),
        None,
    );
    let values = [
        "10.0.0.1",
        "203.0.113.77",
        "fe80::1",
        "http://192.168.1.1/admin",
        "http://intranet/x",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "user@example.com",
        "C:\\Windows\\System32\\cmd.exe",
        "not an indicator",
    ];
    let (results, _) = run(&lookup, &values).await;
    assert_eq!(results.len(), values.len());
    assert!(
        fake.seen().is_empty(),
        "requests were sent: {:?}",
        fake.seen()
    );
    let by = |v: &str| results.iter().find(|r| r.ioc == v).unwrap();
    for v in [
        "10.0.0.1",
        "203.0.113.77",
        "fe80::1",
        "http://192.168.1.1/admin",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "not an indicator",
    ] {
        assert_eq!(by(v).status, status::BAD_FORMAT, "{v}: {:?}", by(v).details);
    }
    assert!(by("10.0.0.1")
        .details
        .as_str()
        .unwrap()
        .contains("not global"));
    assert_eq!(by("user@example.com").status, status::NOT_SUPPORTED);
    assert_eq!(
        by("C:\\Windows\\System32\\cmd.exe").status,
        status::NOT_SUPPORTED
    );
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let ok = json!({"data": {"abuseConfidenceScore": 80, "countryCode": "DE"}});
    let fake = Fake::start(Reply::json(200, &ok)).await;
    fake.push(
        Reply::json(429, &json!({"errors": [{"detail": "Daily rate limit of 1000 requests exceeded", "status": 429}]}))
            .header("Retry-After", "1")
            .header("X-RateLimit-Limit", "1000")
            .header("X-RateLimit-Remaining", "0"),
    );
    let lookup = lookup_with(
        provider_section(
            "AbuseIPDB",
            Some("k"),
            &fake.url,
            json!({"MaxRetries": 2, "BackoffSeconds": 0.01}),
        ),
        None,
    );
    let (results, _) = run(&lookup, &["185.220.101.45"]).await;
    assert_eq!(results[0].status, status::OK);
    assert_eq!(results[0].severity, Severity::High);
    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    // The second attempt waited for Retry-After (1 s), not the 10 ms backoff.
    assert!(seen[1].at.duration_since(seen[0].at) >= Duration::from_millis(950));
}

#[tokio::test]
async fn backoff_without_retry_after_then_429_reported() {
    let quota = json!({"error": {"code": "QuotaExceededError", "message": "Quota exceeded"}});
    let fake = Fake::start(Reply::json(429, &quota)).await;
    let lookup = lookup_with(
        provider_section(
            "VirusTotal",
            Some("k"),
            &fake.url,
            json!({"MaxRetries": 2, "BackoffSeconds": 0.1}),
        ),
        None,
    );
    let (results, _) = run(&lookup, &["8.8.8.8"]).await;
    assert_eq!(results[0].status, 429);
    assert_eq!(results[0].details, json!("Too Many Requests"));
    assert!(!results[0].result);
    let seen = fake.seen();
    assert_eq!(seen.len(), 3, "one try and two retries");
    // Exponential: 100 ms, then 200 ms.
    assert!(seen[1].at.duration_since(seen[0].at) >= Duration::from_millis(95));
    assert!(seen[2].at.duration_since(seen[1].at) >= Duration::from_millis(190));
}

#[tokio::test]
async fn retry_after_longer_than_allowed_reports_the_429() {
    let fake = Fake::start(
        Reply::json(
            429,
            &json!({"message": "You have hit your daily rate limit"}),
        )
        .header("Retry-After", "3600"),
    )
    .await;
    let lookup = lookup_with(
        provider_section(
            "GreyNoise",
            None,
            &fake.url,
            json!({"MaxRetries": 3, "MaxRetryWaitSeconds": 5}),
        ),
        None,
    );
    let (results, _) = run(&lookup, &["45.148.10.92"]).await;
    assert_eq!(results[0].status, 429);
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried() {
    let fake = Fake::start(Reply::json(
        200,
        &json!({"ip": "1.1.1.1", "classification": "benign"}),
    ))
    .await;
    fake.push(Reply::text(503, "unavailable"));
    let lookup = lookup_with(
        provider_section(
            "GreyNoise",
            None,
            &fake.url,
            json!({"MaxRetries": 1, "BackoffSeconds": 0.01}),
        ),
        None,
    );
    let (results, _) = run(&lookup, &["1.1.1.1"]).await;
    assert_eq!(results[0].status, status::OK);
    assert_eq!(fake.seen().len(), 2);
}

#[tokio::test]
async fn a_slow_provider_does_not_hold_back_the_others() {
    let slow = Fake::start(Reply::json(200, &json!({})).delayed(Duration::from_secs(5))).await;
    let fast = Fake::start(Reply::json(
        200,
        &json!({"ip": "8.8.8.8", "classification": "benign"}),
    ))
    .await;
    let mut section = provider_section(
        "OTX",
        None,
        &slow.url,
        json!({"TimeoutSeconds": 0.5, "MaxRetries": 1, "BackoffSeconds": 0.01}),
    );
    section["GreyNoise"] =
        provider_section("GreyNoise", None, &fast.url, json!({}))["GreyNoise"].clone();
    let lookup = lookup_with(section, None);
    let (results, events) = run(&lookup, &["8.8.8.8"]).await;
    let otx = results.iter().find(|r| r.provider == "OTX").unwrap();
    assert_eq!(otx.status, status::QUERY_FAILED);
    assert!(
        otx.details.as_str().unwrap().contains("timed out"),
        "{:?}",
        otx.details
    );
    assert_eq!(slow.seen().len(), 2, "the timeout was retried once");
    let position = |pred: &dyn Fn(&TiEvent) -> bool| events.iter().position(pred).unwrap();
    let fast_done =
        position(&|e| matches!(e, TiEvent::ProviderDone(s) if s.provider == "GreyNoise"));
    let slow_result = position(&|e| matches!(e, TiEvent::Result(r) if r.provider == "OTX"));
    assert!(fast_done < slow_result, "{events:?}");
    let summary = events.iter().find_map(|e| match e {
        TiEvent::ProviderDone(s) if s.provider == "OTX" => Some(s.clone()),
        _ => None,
    });
    assert_eq!(summary.unwrap().failed, 1);
}

#[tokio::test]
async fn rate_and_concurrency_limits_hold() {
    let body = json!({"pulse_info": {"count": 0, "pulses": []}});
    let fake = Fake::start(Reply::json(200, &body).delayed(Duration::from_millis(20))).await;
    let lookup = lookup_with(
        provider_section(
            "OTX",
            None,
            &fake.url,
            json!({"RequestsPerMinute": 2, "RateWindowSeconds": 1.0, "Concurrency": 1}),
        ),
        None,
    );
    let ips = [
        "8.8.8.1", "8.8.8.2", "8.8.8.3", "8.8.8.4", "8.8.8.5", "8.8.8.6",
    ];
    let (results, _) = run(&lookup, &ips).await;
    assert_eq!(results.len(), 6);
    let mut times: Vec<_> = fake.seen().iter().map(|s| s.at).collect();
    times.sort();
    assert_eq!(times.len(), 6);
    // At most 2 requests start in any 0.4 s: every third one is at least a window later.
    for i in 0..times.len() - 2 {
        assert!(
            times[i + 2].duration_since(times[i]) >= Duration::from_millis(395),
            "{i}"
        );
    }
    assert_eq!(fake.max_in_flight(), 1);
}

#[test]
fn virustotal_public_default_is_four_per_minute() {
    let section = json!({"VirusTotal": {"Provider": "VirusTotal", "Args": {"AuthKey": "k"}}});
    let config = TiConfig::from_section(&section, Path::new("/")).unwrap();
    assert!(
        config.status[0].message.contains("4 per 60 s"),
        "{}",
        config.status[0].message
    );
    let private = json!({"VirusTotal": {"Provider": "VirusTotal", "Args": {"AuthKey": "k", "UseVT3PrivateAPI": true}}});
    let config = TiConfig::from_section(&private, Path::new("/")).unwrap();
    assert!(config.status[0].message.contains("no rate limit"));
}

fn temp_cache(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("ti-cache.redb")
}

#[tokio::test]
async fn cache_serves_repeats_and_survives_a_restart() {
    let body = json!({"pulse_info": {"count": 3, "pulses": []}});
    let fake = Fake::start(Reply::json(200, &body)).await;
    let dir = tempfile::tempdir().unwrap();
    let section = provider_section("OTX", None, &fake.url, json!({}));
    {
        let lookup = lookup_with(
            section.clone(),
            Some(TiCache::open(&temp_cache(&dir)).unwrap()),
        );
        let (first, _) = run(&lookup, &["45.148.10.92"]).await;
        assert!(!first[0].cached);
        assert_eq!(first[0].severity, Severity::High);
        // Same observable, defanged: served from the cache, reported as written.
        let (second, events) = run(&lookup, &["45.148.10[.]92"]).await;
        assert!(second[0].cached);
        assert_eq!(second[0].ioc, "45.148.10[.]92");
        assert_eq!(second[0].severity, Severity::High);
        assert_eq!(fake.seen().len(), 1);
        let done = events.iter().find_map(|e| match e {
            TiEvent::ProviderDone(s) => Some(s.clone()),
            _ => None,
        });
        assert_eq!(done.unwrap().cached, 1);
    }
    // A new process: the database file is all that is left.
    let lookup = lookup_with(section, Some(TiCache::open(&temp_cache(&dir)).unwrap()));
    let (third, _) = run(&lookup, &["45.148.10.92"]).await;
    assert!(third[0].cached);
    assert_eq!(third[0].details["pulse_count"], json!(3));
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn failures_are_not_cached_and_ttl_zero_disables() {
    let fake = Fake::start(Reply::json(
        200,
        &json!({"pulse_info": {"count": 0, "pulses": []}}),
    ))
    .await;
    fake.push(Reply::text(500, "boom"));
    let dir = tempfile::tempdir().unwrap();
    let lookup = lookup_with(
        provider_section("OTX", None, &fake.url, json!({})),
        Some(TiCache::open(&temp_cache(&dir)).unwrap()),
    );
    let (first, _) = run(&lookup, &["8.8.8.8"]).await;
    assert_eq!(first[0].status, 500);
    let (second, _) = run(&lookup, &["8.8.8.8"]).await;
    assert_eq!(second[0].status, status::OK);
    assert!(!second[0].cached);
    assert_eq!(fake.seen().len(), 2);

    let fake = Fake::start(Reply::json(
        200,
        &json!({"pulse_info": {"count": 0, "pulses": []}}),
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let lookup = lookup_with(
        provider_section("OTX", None, &fake.url, json!({"CacheTtlHours": 0})),
        Some(TiCache::open(&temp_cache(&dir)).unwrap()),
    );
    run(&lookup, &["8.8.8.8"]).await;
    run(&lookup, &["8.8.8.8"]).await;
    assert_eq!(fake.seen().len(), 2);
}

#[test]
fn cache_ttl_and_purge() {
    let dir = tempfile::tempdir().unwrap();
    let cache = TiCache::open(&temp_cache(&dir)).unwrap();
    let observable = classify("8.8.8.8", None);
    let result = TiResult::not_found(&observable, "OTX", Value::Null, "r".into());
    assert_eq!(cache.put_many([&result]).unwrap(), 1);
    assert!(cache
        .get("OTX", "ipv4", "8.8.8.8", Duration::from_secs(60))
        .unwrap()
        .is_some());
    assert!(cache
        .get("OTX", "ipv4", "8.8.8.8", Duration::ZERO)
        .unwrap()
        .is_none());
    assert!(cache
        .get("VirusTotal", "ipv4", "8.8.8.8", Duration::from_secs(60))
        .unwrap()
        .is_none());
    assert_eq!(
        cache.purge_older_than(Duration::from_secs(3600)).unwrap(),
        0
    );
    // A second handle on the same file fails with a message naming it (one proxy per cache).
    let err = TiCache::open(&temp_cache(&dir)).unwrap_err().to_string();
    assert!(err.contains("ti-cache.redb"), "{err}");
}

#[tokio::test]
async fn oversized_and_truncated_bodies_fail_cleanly() {
    let fake = Fake::start(Reply::text(200, "{\"data\": {\"attributes\": ")).await;
    let lookup = lookup_with(
        provider_section("VirusTotal", Some("k"), &fake.url, json!({})),
        None,
    );
    let (results, _) = run(&lookup, &["8.8.8.8"]).await;
    assert_eq!(results[0].status, status::QUERY_FAILED);
    assert!(results[0]
        .details
        .as_str()
        .unwrap()
        .starts_with("malformed response"));
    assert_eq!(results[0].raw_result, json!("{\"data\": {\"attributes\": "));
}

#[tokio::test]
async fn connection_refused_is_a_failed_query() {
    // Port 9 (discard) on 127.0.0.1 is closed here.
    let lookup = lookup_with(
        provider_section("GreyNoise", None, "http://127.0.0.1:9", json!({})),
        None,
    );
    let (results, _) = run(&lookup, &["8.8.8.8"]).await;
    assert_eq!(results[0].status, status::QUERY_FAILED);
    assert!(
        results[0].details.as_str().unwrap().contains("connect"),
        "{:?}",
        results[0].details
    );
}
