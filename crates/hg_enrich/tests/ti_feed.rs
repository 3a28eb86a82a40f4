//! The local providers: CSV and STIX 2.1 feeds (shared cases in tests/cases/ti/stix_bundles.json),
//! the Tor exit list, the scenario's feed files and the key-less default configuration.

use std::path::Path;

use hg_enrich::ti::{
    classify, status, LocalFeed, Severity, TiConfig, TiEvent, TiLookup, TiResult, TorExitList,
};
use serde_json::Value;

fn stix_cases() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/cases/ti/stix_bundles.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn malformed_stix_bundles_fail_with_a_clear_error() {
    let cases = stix_cases();
    let malformed = cases["malformed"].as_array().unwrap();
    assert!(malformed.len() >= 10);
    for case in malformed {
        let name = case["name"].as_str().unwrap();
        let mut feed = LocalFeed::new("t");
        let err = feed
            .add_stix(case["text"].as_str().unwrap().as_bytes())
            .expect_err(name)
            .to_string();
        for needle in case["error"].as_array().unwrap() {
            assert!(err.contains(needle.as_str().unwrap()), "{name}: {err}");
        }
    }
}

#[test]
fn malformed_bundle_file_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.stix.json");
    std::fs::write(&path, "{\"type\": \"bundle\", \"objects\": [{\"type\": \"indicator\", \"id\": \"indicator--9\", \"pattern\": \"[ipv4-addr:value = \"}]}").unwrap();
    let err = LocalFeed::load(&path, None).unwrap_err().to_string();
    assert!(
        err.contains("broken.stix.json") && err.contains("indicator--9"),
        "{err}"
    );
}

#[test]
fn valid_stix_bundle_gives_its_indicators() {
    let cases = stix_cases();
    let valid = &cases["valid"];
    let mut feed = LocalFeed::new("t");
    feed.add_stix(valid["text"].as_str().unwrap().as_bytes())
        .unwrap();
    let mut got: Vec<(String, String, String)> = feed
        .entries()
        .map(|e| {
            (
                e.ioc_type.clone(),
                e.value.clone(),
                e.severity.name().to_string(),
            )
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String, String)> = valid["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e[0].as_str().unwrap().to_string(),
                e[1].as_str().unwrap().to_string(),
                e[2].as_str().unwrap().to_string(),
            )
        })
        .collect();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(feed.skipped() as u64, valid["skipped"].as_u64().unwrap());
    // Hashes compare case-insensitively; the record says which indicator it came from.
    let hit = feed.lookup(
        &classify(
            "4B6F6D4E8A1C2B3D9E0F7A6B5C4D3E2F1A0B9C8D7E6F5A4B3C2D1E0F9A8B7C6D",
            None,
        ),
        "Feed",
    );
    assert!(hit.result);
    assert_eq!(hit.details["Sources"][0], "indicator--2");
}

#[test]
fn csv_feed_rows_and_errors() {
    let mut feed = LocalFeed::new("f.csv");
    feed.add_csv(
        b"# comment line\nIOC,Type,Severity,Description,Tags,first_seen\n\
          45.148.10.92,,high,Scanner,scanner;bruteforce,2026-06-01\n\
          evil[.]example[.]com,dns,warning,Phish,,\n\
          45.148.10.92,ipv4,information,Also listed as benign,,\n",
    )
    .unwrap();
    assert_eq!(feed.len(), 3);
    let r = feed.lookup(&classify("45.148.10.92", None), "Feed");
    assert!(r.result);
    assert_eq!(r.severity, Severity::High, "the highest of the records");
    assert_eq!(r.details["Records"], 2);
    assert_eq!(
        r.details["Tags"],
        serde_json::json!(["bruteforce", "scanner"])
    );
    assert_eq!(r.raw_result[0]["extra"]["first_seen"], "2026-06-01");
    let r = feed.lookup(&classify("EVIL.example.com", None), "Feed");
    assert_eq!((r.result, r.severity), (true, Severity::Warning));
    let r = feed.lookup(&classify("8.8.8.8", None), "Feed");
    assert_eq!(
        (r.result, r.severity, r.status),
        (false, Severity::Information, status::NO_DATA)
    );

    for (text, needle) in [
        (&b"type,severity\nipv4,high\n"[..], "no value column"),
        (
            b"value,severity\n8.8.8.8,extreme\n",
            "line 2: unknown severity \"extreme\"",
        ),
        (
            b"value\nnot an indicator\n",
            "line 2: \"not an indicator\" is not a recognised indicator",
        ),
        (b"value,type\n8.8.8.8,url\n", "is not a valid url"),
        (b"value,type\n8.8.8.8\n", "line 2"),
        (b"value,type\n,ipv4\n", "line 2: empty value"),
    ] {
        let mut feed = LocalFeed::new("bad.csv");
        let (line, message) = feed.add_csv(text).unwrap_err();
        let shown = format!("line {line}: {message}");
        assert!(shown.contains(needle), "{shown}");
    }
}

#[test]
fn tor_list_keeps_the_whole_last_status() {
    let list = TorExitList::parse(
        "ExitNode 0A1B2C3D4E5F60718293A4B5C6D7E8F901234567\nPublished 2026-07-01 06:14:52\n\
         LastStatus 2026-07-01 08:00:00\nExitAddress 185.220.101.45 2026-07-01 08:07:13\n\
         ExitNode FEDCBA9876543210FEDCBA9876543210FEDCBA98\nPublished 2026-06-30 23:41:05\n\
         LastStatus 2026-07-01 07:00:00\nExitAddress 192.42.116.210 2026-07-01 07:22:40\n\
         ExitAddress 192.42.116.211 2026-07-01 07:22:41\n",
    )
    .unwrap();
    assert_eq!(list.len(), 3);
    let r = list.lookup(&classify("192.42.116.211", None), "Tor", "file:x");
    assert!(r.result);
    assert_eq!(r.severity, Severity::Warning);
    assert_eq!(
        r.details["NodeID"],
        "FEDCBA9876543210FEDCBA9876543210FEDCBA98"
    );
    // The reference keeps only "2026-07-01" (it splits the line in three).
    assert_eq!(r.details["LastStatus"], "2026-07-01 07:00:00");
    let r = list.lookup(&classify("8.8.8.8", None), "Tor", "file:x");
    assert_eq!(
        (r.result, r.severity, r.status),
        (false, Severity::Information, status::NO_DATA)
    );
    // A bulk list (one address per line) works too; garbage is refused with its line.
    assert_eq!(
        TorExitList::parse("# bulk\n1.2.3.4\n2001:db8::5\n")
            .unwrap()
            .len(),
        2
    );
    let (line, message) = TorExitList::parse("1.2.3.4\nhello world\n").unwrap_err();
    assert_eq!(line, 2);
    assert!(message.contains("hello world"));
    let (line, _) = TorExitList::parse("ExitNode X\nExitAddress 999.1.1.1 now\n").unwrap_err();
    assert_eq!(line, 2);
}

fn write_scenario_files(dir: &Path) {
    std::fs::write(
        dir.join(hg_demo::feed::TI_FEED_CSV),
        hg_demo::feed::ti_feed_csv(),
    )
    .unwrap();
    std::fs::write(
        dir.join(hg_demo::feed::TI_FEED_STIX),
        hg_demo::feed::ti_feed_stix().to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.join(hg_demo::feed::TOR_EXIT_LIST),
        hg_demo::feed::tor_exit_list(),
    )
    .unwrap();
}

#[test]
fn scenario_feeds_name_every_malicious_indicator() {
    let dir = tempfile::tempdir().unwrap();
    write_scenario_files(dir.path());
    for (file, format) in [
        (hg_demo::feed::TI_FEED_CSV, None),
        (hg_demo::feed::TI_FEED_STIX, Some("stix")),
    ] {
        let feed = LocalFeed::load(&dir.path().join(file), format).unwrap();
        assert_eq!(
            feed.len(),
            hg_demo::org::MALICIOUS_INDICATORS.len(),
            "{file}"
        );
        assert_eq!(feed.skipped(), 0);
        for indicator in hg_demo::org::MALICIOUS_INDICATORS {
            let r = feed.lookup(&classify(indicator.value, None), "Feed");
            assert!(r.result, "{file}: {}", indicator.value);
            assert_eq!(r.ioc_type, indicator.kind.as_str(), "{}", indicator.value);
            assert_eq!(
                r.severity.name(),
                indicator.severity,
                "{file}: {}",
                indicator.value
            );
        }
    }
    let tor = TorExitList::load(&dir.path().join(hg_demo::feed::TOR_EXIT_LIST)).unwrap();
    assert_eq!(tor.len(), 5);
}

#[tokio::test]
async fn default_configuration_needs_no_key() {
    let dir = tempfile::tempdir().unwrap();
    write_scenario_files(dir.path());
    let section = TiConfig::default_section(dir.path());
    let config = TiConfig::from_section(&section, dir.path()).unwrap();
    let names: Vec<&str> = config.status.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["LocalFeed", "Tor"]);
    assert!(config.status.iter().all(|s| s.loaded));
    let lookup = TiLookup::new(config, None);
    // Documentation-range addresses are looked up locally: nothing leaves the machine.
    let values = [
        "203.0.113.77",
        "telemetry-sync.example.net",
        "192.0.2.62",
        "8.8.8.8",
        "C:\\x\\y.exe",
    ];
    let mut results: Vec<TiResult> = Vec::new();
    lookup
        .lookup(
            values.iter().map(|v| classify(v, None)).collect(),
            None,
            &mut |e: TiEvent| {
                if let TiEvent::Result(r) = e {
                    results.push(r);
                }
            },
        )
        .await
        .unwrap();
    let find = |v: &str, p: &str| {
        results
            .iter()
            .find(|r| r.ioc == v && r.provider == p)
            .unwrap()
    };
    let attacker = find("203.0.113.77", "LocalFeed");
    assert!(attacker.result);
    assert_eq!(attacker.severity, Severity::High);
    assert_eq!(attacker.details["Records"], 2, "both feed files");
    assert!(find("telemetry-sync.example.net", "LocalFeed").result);
    assert_eq!(
        find("telemetry-sync.example.net", "Tor").status,
        status::NOT_SUPPORTED
    );
    assert!(find("192.0.2.62", "Tor").result);
    assert!(!find("8.8.8.8", "LocalFeed").result);
    assert_eq!(
        find("C:\\x\\y.exe", "LocalFeed").status,
        status::NOT_SUPPORTED
    );
    // An empty directory gives no providers, and a look-up says so.
    let empty = tempfile::tempdir().unwrap();
    let config =
        TiConfig::from_section(&TiConfig::default_section(empty.path()), empty.path()).unwrap();
    let err = TiLookup::new(config, None).start(vec![], None).unwrap_err();
    assert!(err.to_string().contains("no TI provider"));
}
