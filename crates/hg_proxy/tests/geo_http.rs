//! `/api/geo` over real HTTP with the token, on the installed data (skipped with a message when
//! `build/geo` is absent outside CI).

mod common;

use std::path::PathBuf;

#[test]
fn geo_route_over_http() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../build/geo");
    if !dir.join("iptoasn-country/iptoasn-country.mmdb").is_file() {
        assert!(
            std::env::var_os("CI").is_none(),
            "geo data missing under CI"
        );
        eprintln!("SKIPPED: geo data not installed in {}", dir.display());
        return;
    }
    std::env::set_var("HUNTGLASS_GEO_DATA", &dir);
    let server = common::start(hg_proxy::config::Config::default(), vec![], None);
    let body = br#"{"ips": ["8.8.8.8", "203.0.113.5", "10.0.0.1", "junk", "81.2.69.142"]}"#;
    let bearer = server.bearer();
    let headers = [
        ("Authorization", bearer.as_str()),
        ("Content-Type", "application/json"),
    ];
    let r = common::request(server.port, "POST", "/api/geo", &headers, Some(body));
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    let res = v["results"].as_array().unwrap();
    assert_eq!(res.len(), 5);
    assert_eq!(res[0]["country_code"], "US");
    assert_eq!(res[0]["asn"], 15169);
    assert_eq!(res[1]["category"], "documentation");
    assert_eq!(
        res[1]["category_description"],
        "documentation (not routable)"
    );
    assert!(res[1]["country_code"].is_null());
    assert_eq!(res[2]["category"], "private");
    assert_eq!(res[3]["category"], "invalid");
    assert_eq!(res[4]["country_code"], "GB");
    assert!(v["attribution"].to_string().contains("CC BY 4.0"));
    assert_eq!(v["city"], false, "no city database configured");

    // Without the token: refused. Bad body: 400 naming the expected shape.
    let r = common::request(
        server.port,
        "POST",
        "/api/geo",
        &[("Content-Type", "application/json")],
        Some(body),
    );
    assert_eq!(r.status, 401);
    let r = common::request(
        server.port,
        "POST",
        "/api/geo",
        &headers,
        Some(br#"{"ip": 1}"#),
    );
    assert_eq!(r.status, 400);
    assert!(r.text().contains("ips"), "{}", r.text());
}
