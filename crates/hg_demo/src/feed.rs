//! The scenario's threat-intelligence files: a local TI feed naming [`MALICIOUS_INDICATORS`] as
//! CSV and as a STIX 2.1 bundle, and a Tor exit list (relays of the documentation range
//! 192.0.2.0/24 that the scenario never uses, so a Tor look-up of the scenario finds nothing,
//! as it should). `huntglass demo-data` writes them as `ti_feed.csv`, `ti_feed.stix.json` and
//! `tor_exit_addresses.txt`; the proxy's default TI configuration reads them. Deterministic:
//! ids and times derive from the indicators and [`crate::START_NS`], never from a clock.

use serde_json::{json, Value};

use crate::org::{IndicatorKind, MALICIOUS_INDICATORS};

/// File names written next to the tables.
pub const TI_FEED_CSV: &str = "ti_feed.csv";
/// STIX 2.1 bundle file name.
pub const TI_FEED_STIX: &str = "ti_feed.stix.json";
/// Tor exit list file name (the `exit-addresses` format).
pub const TOR_EXIT_LIST: &str = "tor_exit_addresses.txt";

/// When the feed says it learned of the indicators: two weeks before the scenario starts.
const FEED_TIME: &str = "2026-10-19T06:00:00.000Z";

/// The CSV feed: `type,value,severity,description,tags,source` with a header.
pub fn ti_feed_csv() -> String {
    let mut out = String::from("type,value,severity,description,tags,source\n");
    for indicator in MALICIOUS_INDICATORS {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            indicator.kind.as_str(),
            csv_field(indicator.value),
            indicator.severity,
            csv_field(indicator.description),
            tags(indicator.kind, indicator.severity).join(";"),
            "Larkspur Labs scenario feed"
        ));
    }
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn tags(kind: IndicatorKind, severity: &str) -> Vec<&'static str> {
    let role = match kind {
        IndicatorKind::Ipv4 | IndicatorKind::Domain => "infrastructure",
        IndicatorKind::Url => "payload-delivery",
        IndicatorKind::Sha256 | IndicatorKind::Md5 => "malware",
        IndicatorKind::Email => "exfiltration",
    };
    vec![
        role,
        if severity == "high" {
            "malicious-activity"
        } else {
            "anomalous-activity"
        },
    ]
}

/// A deterministic UUID-shaped id from a text (FNV-1a over two seeds; version 4 and variant
/// bits set so validators accept it).
fn stable_uuid(text: &str) -> String {
    let fnv = |seed: u64| {
        text.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let a = fnv(0xcbf2_9ce4_8422_2325);
    let b = fnv(0x84222325_cbf29ce4);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

fn stix_pattern(kind: IndicatorKind, value: &str) -> String {
    let quoted = value.replace('\\', "\\\\").replace('\'', "\\'");
    match kind {
        IndicatorKind::Ipv4 => format!("[ipv4-addr:value = '{quoted}']"),
        IndicatorKind::Domain => format!("[domain-name:value = '{quoted}']"),
        IndicatorKind::Url => format!("[url:value = '{quoted}']"),
        IndicatorKind::Sha256 => format!("[file:hashes.'SHA-256' = '{quoted}']"),
        IndicatorKind::Md5 => format!("[file:hashes.MD5 = '{quoted}']"),
        IndicatorKind::Email => format!("[email-addr:value = '{quoted}']"),
    }
}

/// The STIX 2.1 bundle: an identity (the feed's producer) and one indicator per malicious
/// indicator, `indicator_types` malicious-activity (high) or anomalous-activity (warning).
pub fn ti_feed_stix() -> Value {
    let identity = format!("identity--{}", stable_uuid("Larkspur Labs scenario feed"));
    let mut objects = vec![json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": identity,
        "created": FEED_TIME,
        "modified": FEED_TIME,
        "name": "Larkspur Labs scenario feed",
        "identity_class": "organization",
    })];
    for indicator in MALICIOUS_INDICATORS {
        let high = indicator.severity == "high";
        objects.push(json!({
            "type": "indicator",
            "spec_version": "2.1",
            "id": format!("indicator--{}", stable_uuid(indicator.value)),
            "created_by_ref": identity,
            "created": FEED_TIME,
            "modified": FEED_TIME,
            "name": format!("{} ({})", indicator.description, indicator.kind.as_str()),
            "description": indicator.description,
            "indicator_types": [if high { "malicious-activity" } else { "anomalous-activity" }],
            "pattern": stix_pattern(indicator.kind, indicator.value),
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": FEED_TIME,
            "confidence": if high { 90 } else { 60 },
            "labels": tags(indicator.kind, indicator.severity),
        }));
    }
    json!({
        "type": "bundle",
        "id": format!("bundle--{}", stable_uuid("larkspur-scenario-bundle")),
        "objects": objects,
    })
}

/// A Tor exit list in the `exit-addresses` format: four relays in 192.0.2.0/24, one of them
/// with two exit addresses.
pub fn tor_exit_list() -> String {
    let relays: [(&str, &str, &[&str]); 4] = [
        (
            "0A1B2C3D4E5F60718293A4B5C6D7E8F901234567",
            "2026-11-01 22:14:52",
            &["192.0.2.45"],
        ),
        (
            "1F2E3D4C5B6A79880796A5B4C3D2E1F0FEDCBA98",
            "2026-11-01 23:02:10",
            &["192.0.2.61", "192.0.2.62"],
        ),
        (
            "7C6B5A4938271605F4E3D2C1B0A9988776655443",
            "2026-11-01 20:41:33",
            &["192.0.2.201"],
        ),
        (
            "D4C3B2A1F0E9D8C7B6A5948372615049382716AB",
            "2026-11-01 23:45:09",
            &["192.0.2.233"],
        ),
    ];
    let mut out = String::new();
    for (fingerprint, published, addresses) in relays {
        out.push_str(&format!(
            "ExitNode {fingerprint}\nPublished {published}\nLastStatus 2026-11-02 00:00:00\n"
        ));
        for address in addresses {
            out.push_str(&format!("ExitAddress {address} 2026-11-01 23:51:07\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_indicator_is_in_both_feeds() {
        let csv = ti_feed_csv();
        let stix = ti_feed_stix().to_string();
        for indicator in MALICIOUS_INDICATORS {
            assert!(csv.contains(indicator.value), "{}", indicator.value);
            assert!(stix.contains(indicator.value), "{}", indicator.value);
        }
        assert_eq!(csv.lines().count(), MALICIOUS_INDICATORS.len() + 1);
        let bundle = ti_feed_stix();
        assert_eq!(
            bundle["objects"].as_array().map(Vec::len),
            Some(MALICIOUS_INDICATORS.len() + 1)
        );
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(stable_uuid("a"), stable_uuid("a"));
        let mut ids: Vec<String> = MALICIOUS_INDICATORS
            .iter()
            .map(|i| stable_uuid(i.value))
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), MALICIOUS_INDICATORS.len());
        assert_eq!(stable_uuid("x").len(), 36);
    }

    #[test]
    fn tor_list_avoids_the_scenario_addresses() {
        let list = tor_exit_list();
        assert!(!list.contains(crate::org::OFFICE_EGRESS_IP));
        for indicator in MALICIOUS_INDICATORS {
            assert!(!list.contains(indicator.value));
        }
        assert_eq!(list.matches("ExitAddress").count(), 5);
    }
}
