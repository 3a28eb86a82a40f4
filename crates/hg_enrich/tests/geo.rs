//! Offline geolocation: categories from the shared cases, look-ups on a tiny mmdb written at
//! test time and a tiny ASN CSV, load errors, and well-known addresses on the installed data.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use hg_enrich::geo::{AddressCategory, AsnTable, GeoDb, GeoError, GeoPaths, GeoRecord};
fn net(s: &str) -> mmdb_writer::ipnet::IpNet {
    s.parse().unwrap()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[derive(serde::Serialize)]
struct Cc<'a> {
    country_code: &'a str,
}

fn tiny_country_mmdb(dir: &Path) -> PathBuf {
    let mut w = mmdb_writer::Writer::new("tiny-country");
    w.insert(net("8.8.8.0/24"), &Cc { country_code: "US" })
        .unwrap();
    w.insert(net("81.2.69.0/24"), &Cc { country_code: "GB" })
        .unwrap();
    w.insert(net("2a00:1450::/32"), &Cc { country_code: "IE" })
        .unwrap();
    w.insert(net("5.5.5.0/24"), &Cc { country_code: "ZZ" })
        .unwrap();
    let path = dir.join("country.mmdb");
    std::fs::write(&path, w.to_bytes().unwrap()).unwrap();
    path
}

const TINY_ASN_V4: &str = "8.8.8.0,8.8.8.255,15169,Google LLC\n81.2.69.0,81.2.69.255,20712,\"Andrews & Arnold, Ltd\"\n1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n";
const TINY_ASN_V6: &str = "2a00:1450::,2a00:1450:ffff:ffff:ffff:ffff:ffff:ffff,15169,Google LLC\n";

fn tiny_db(dir: &Path) -> GeoDb {
    let v4 = dir.join("asn-ipv4.csv");
    let v6 = dir.join("asn-ipv6.csv");
    std::fs::write(&v4, TINY_ASN_V4).unwrap();
    std::fs::write(&v6, TINY_ASN_V6).unwrap();
    GeoDb::open(&GeoPaths {
        country_mmdb: Some(tiny_country_mmdb(dir)),
        asn_csv: vec![v4, v6],
        city_mmdb: None,
    })
    .unwrap()
}

#[test]
fn categories_from_shared_cases() {
    let text = std::fs::read_to_string(repo().join("tests/cases/geo/categories.json")).unwrap();
    let cases: serde_json::Value = serde_json::from_str(&text).unwrap();
    let db = GeoDb::open(&GeoPaths::default()).unwrap();
    let mut n = 0;
    for case in cases["cases"].as_array().unwrap() {
        let (input, want) = (case[0].as_str().unwrap(), case[1].as_str().unwrap());
        let rec = db.lookup(input);
        assert_eq!(rec.category.as_str(), want, "{input}");
        if let Ok(ip) = input.parse::<IpAddr>() {
            assert_eq!(hg_enrich::geo::categorize(ip).as_str(), want, "{input}");
        }
        n += 1;
    }
    assert!(n > 30);
    assert_eq!(
        AddressCategory::Documentation.description(),
        "documentation (not routable)"
    );
}

#[test]
fn tiny_data_lookups() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_db(dir.path());
    assert!(db.has_data() && !db.has_city());
    assert_eq!(db.attribution().len(), 2);

    let r = db.lookup("8.8.8.8");
    assert_eq!(r.category, AddressCategory::Public);
    assert_eq!(r.country_code, Some("US"));
    assert_eq!(r.country_name, Some("United States"));
    assert_eq!(r.continent_code, Some("NA"));
    assert_eq!(r.continent_name, Some("North America"));
    assert_eq!(r.asn, Some(15169));
    assert_eq!(r.as_org, Some("Google LLC"));

    let r = db.lookup(" 81.2.69.142 ");
    assert_eq!(r.country_code, Some("GB"));
    assert_eq!(r.continent_code, Some("EU"));
    assert_eq!(r.as_org, Some("Andrews & Arnold, Ltd"));

    // IPv4-mapped IPv6 is looked up as IPv4; native IPv6 in the v6 tables.
    let r = db.lookup("::ffff:8.8.8.8");
    assert_eq!((r.country_code, r.asn), (Some("US"), Some(15169)));
    let r = db.lookup("2a00:1450:4001::1");
    assert_eq!((r.country_code, r.asn), (Some("IE"), Some(15169)));

    // ASN without country; range edges.
    let r = db.lookup("1.0.0.255");
    assert_eq!((r.country_code, r.asn), (None, Some(13335)));
    assert_eq!(db.lookup("1.0.1.0").asn, None);
    assert_eq!(db.lookup("0.255.255.255").asn, None);
    // An unknown country code is not invented into a name.
    let r = db.lookup("5.5.5.5");
    assert_eq!((r.country_code, r.country_name), (None, None));

    // Not routable: reported, never looked up.
    let r = db.lookup("203.0.113.5");
    assert_eq!(r.category, AddressCategory::Documentation);
    assert_eq!((r.country_code, r.asn), (None, None));
    let r = db.lookup("nonsense");
    assert_eq!((r.category, r.ip), (AddressCategory::Invalid, None));
    assert_eq!(
        db.lookup(&"1".repeat(100)).category,
        AddressCategory::Invalid
    );
}

#[test]
fn sink_gets_every_input_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = tiny_db(dir.path());
    let inputs = ["8.8.8.8", "bad", "10.0.0.1", "8.8.8.8"];
    let mut got = Vec::new();
    db.lookup_all(inputs.iter().copied(), &mut |r: GeoRecord<'_>| {
        got.push((
            r.input.to_string(),
            r.category,
            r.country_code.map(str::to_string),
        ))
    });
    assert_eq!(got.len(), 4);
    assert_eq!(got[1].1, AddressCategory::Invalid);
    assert_eq!(got[2].1, AddressCategory::Private);
    assert_eq!(got[3].2.as_deref(), Some("US"));
}

fn csv_err(text: &str) -> String {
    let mut t = AsnTable::new();
    match t.add_csv(text.as_bytes(), Path::new("x.csv")) {
        Err(e @ GeoError::Csv { .. }) => e.to_string(),
        other => panic!("expected a CSV error, got {other:?}"),
    }
}

#[test]
fn bad_asn_csv_names_file_line_and_problem() {
    let e = csv_err("1.0.0.0,1.0.0.255,1,A\n1.0.1.0,1.0.0.255,2,B\n");
    assert!(e.contains("x.csv line 2") && e.contains("after end"), "{e}");
    assert!(csv_err("1.0.0.0,::1,1,A\n").contains("different address families"));
    assert!(csv_err("1.0.0.0,1.0.0.9,AS1,A\n").contains("not a number"));
    assert!(csv_err("1.0.0.x,1.0.0.9,1,A\n").contains("not an IP address"));
    assert!(csv_err("1.0.0.0,1.0.0.9,1\n").contains("expected 4 fields"));
}

#[test]
fn bad_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.mmdb");
    std::fs::write(&junk, b"this is not a maxmind database").unwrap();
    let e = GeoDb::open(&GeoPaths {
        country_mmdb: Some(junk),
        ..Default::default()
    })
    .unwrap_err();
    assert!(matches!(e, GeoError::Mmdb { .. }), "{e}");
    let e = GeoDb::open(&GeoPaths {
        asn_csv: vec![dir.path().join("missing.csv")],
        ..Default::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("missing.csv"), "{e}");
}

/// The installed data (scripts/setup.sh -> build/geo, or HUNTGLASS_GEO_DATA). Skipped with a
/// message when absent, except under CI, where setup.sh must have installed it.
#[test]
fn installed_data_well_known_addresses() {
    let dir = std::env::var_os("HUNTGLASS_GEO_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("build/geo"));
    let paths = GeoPaths::from_data_dir(&dir, None);
    if paths.country_mmdb.is_none() || paths.asn_csv.len() < 2 {
        assert!(
            std::env::var_os("CI").is_none(),
            "geo data not installed in {} under CI (scripts/setup.sh install_geo_data)",
            dir.display()
        );
        eprintln!(
            "SKIPPED: geo data not installed in {} (run scripts/setup.sh)",
            dir.display()
        );
        return;
    }
    let db = GeoDb::open(&paths).unwrap();
    let r = db.lookup("8.8.8.8");
    assert_eq!(r.country_code, Some("US"));
    assert_eq!(r.asn, Some(15169));
    assert_eq!(db.lookup("81.2.69.142").country_code, Some("GB"));
    assert_eq!(db.lookup("1.1.1.1").asn, Some(13335));
    assert_eq!(db.lookup("2001:4860:4860::8888").asn, Some(15169));
    assert_eq!(db.lookup("192.0.2.1").country_code, None);
}
