//! Configuration: huntglass.toml and msticpyconfig.yaml parsing, environment indirection,
//! KeyVault entries, errors naming file and key, and secret hygiene of every output.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use hg_proxy::config::{Config, ConfigError, ConfigSources, SectionKind};
use serde_json::json;

const SECRETS: [&str; 5] = [
    "vt-secret-marker-6f1d2c",
    "otx-secret-marker-41aa",
    "splunk-password-marker-77",
    "splunk-token-marker-5e",
    "abuseipdb-secret-marker-9a7e",
];

fn cases() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/cases/proxy")
}

fn env() -> HashMap<String, String> {
    HashMap::from([
        (
            "HG_TEST_OTX_KEY".to_string(),
            "otx-secret-marker-41aa".to_string(),
        ),
        (
            "HG_TEST_SPLUNK_PASSWORD".to_string(),
            "splunk-password-marker-77".to_string(),
        ),
        (
            "HG_TEST_SPLUNK_TOKEN".to_string(),
            "splunk-token-marker-5e".to_string(),
        ),
    ])
}

fn load(
    config_flag: Option<PathBuf>,
    vars: &HashMap<String, String>,
    working_dir: &Path,
) -> Result<Config, ConfigError> {
    let lookup = |name: &str| vars.get(name).cloned();
    Config::load_from(&ConfigSources {
        config_flag,
        env: &lookup,
        working_dir: working_dir.to_path_buf(),
    })
}

fn assert_no_secret(text: &str, what: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} holds a secret: {text}");
    }
}

#[test]
fn msticpyconfig_is_read_as_is_through_the_environment_variable() {
    let mut vars = env();
    vars.insert(
        "MSTICPYCONFIG".into(),
        cases().join("msticpyconfig.yaml").display().to_string(),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = load(None, &vars, dir.path()).unwrap();
    assert_eq!(
        config.msticpyconfig.as_deref(),
        Some(cases().join("msticpyconfig.yaml").as_path())
    );
    let ti = config.sections(SectionKind::Ti);
    assert_eq!(
        ti.keys().collect::<Vec<_>>(),
        ["OTX", "VirusTotal", "XForce"]
    );
    let otx = ti["OTX"];
    assert_eq!(
        otx.secret("Args.AuthKey").unwrap().unwrap().expose(),
        "otx-secret-marker-41aa"
    );
    assert_eq!(otx.value()["Provider"], "OTX");
    assert_eq!(otx.value()["Primary"], true);
    assert_eq!(
        ti["VirusTotal"]
            .secret("Args.AuthKey")
            .unwrap()
            .unwrap()
            .expose(),
        "vt-secret-marker-6f1d2c"
    );
    // KeyVault and unset variables are reported per key, naming file, key and problem.
    let xforce = ti["XForce"];
    let vault = xforce.secret("Args.ApiID").unwrap_err().to_string();
    assert!(
        vault.contains("msticpyconfig.yaml")
            && vault.contains("TIProviders.XForce.Args.ApiID")
            && vault.contains("KeyVault"),
        "{vault}"
    );
    let unset = xforce.secret("Args.AuthKey").unwrap_err().to_string();
    assert!(
        unset.contains("HG_TEST_UNSET_VARIABLE is not set"),
        "{unset}"
    );
    // XForce's KeyVault and unset variable, GeoIPLite's unset variable.
    assert_eq!(config.warnings.len(), 3, "{:?}", config.warnings);
    // The top-level AzureSentinel section (workspaces) is kept for the Sentinel provider.
    let sentinel = config
        .azure_sentinel
        .as_ref()
        .expect("AzureSentinel section");
    assert_eq!(
        sentinel.value()["Workspaces"]["Default"]["WorkspaceId"],
        "52b1ab41-869e-4138-9e40-2a4457f09bf0"
    );
    // Data and other providers; the scalar types stay.
    let splunk = config.section(SectionKind::Data, "Splunk").unwrap();
    assert_eq!(splunk.value()["Args"]["port"], 8089);
    assert_eq!(
        splunk.secret("Args.password").unwrap().unwrap().expose(),
        "splunk-password-marker-77"
    );
    assert_eq!(splunk.secret("Args.missing").unwrap(), None);
    let geo = config.section(SectionKind::Other, "GeoIPLite").unwrap();
    assert_eq!(geo.value()["Args"]["AccountID"], "123456");
    assert!(geo.unresolved().contains_key("Args.AuthKey"));
    assert_eq!(
        config.section_values(SectionKind::Data)["LocalData"]["data_paths"],
        json!(["./data"])
    );
    // Nothing printable holds a secret.
    assert_no_secret(&format!("{config:?}"), "Debug of Config");
    assert_no_secret(&config.warnings.join("\n"), "warnings");
    assert_no_secret(
        &format!("{:?}", otx.secret("Args.AuthKey").unwrap()),
        "Debug of Secret",
    );
}

#[test]
fn huntglass_toml_adds_overrides_and_points_at_msticpyconfig() {
    let dir = tempfile::tempdir().unwrap();
    let config = load(Some(cases().join("huntglass.toml")), &env(), dir.path()).unwrap();
    assert_eq!(
        config.msticpyconfig.as_deref(),
        Some(cases().join("msticpyconfig.yaml").as_path())
    );
    assert_eq!(config.query_folders, vec![cases().join("extra-queries")]);
    assert_eq!(config.local.folders, vec![cases().join("data")]);
    let splunk = config.section(SectionKind::Data, "Splunk").unwrap();
    assert_eq!(splunk.value()["Args"]["host"], "splunk.override.example");
    assert_eq!(
        splunk.secret("Args.token").unwrap().unwrap().expose(),
        "splunk-token-marker-5e"
    );
    let abuse = config.section(SectionKind::Ti, "AbuseIPDB").unwrap();
    assert_eq!(
        abuse.secret("Args.AuthKey").unwrap().unwrap().expose(),
        "abuseipdb-secret-marker-9a7e"
    );
    assert!(config.section(SectionKind::Ti, "OTX").is_some());
    assert_no_secret(&format!("{config:?}"), "Debug of Config");
}

#[test]
fn msticpyconfig_in_the_working_directory_is_found_without_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        cases().join("msticpyconfig.yaml"),
        dir.path().join("msticpyconfig.yaml"),
    )
    .unwrap();
    let config = load(None, &env(), dir.path()).unwrap();
    assert!(config.section(SectionKind::Ti, "VirusTotal").is_some());
    let empty = tempfile::tempdir().unwrap();
    let none = load(None, &env(), empty.path()).unwrap();
    assert!(none.providers.is_empty() && none.msticpyconfig.is_none());
}

#[test]
fn errors_name_file_key_and_problem_without_values() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let cases = [
        (write("a.toml", "[local]\nfolderz = [\"x\"]\n"), "folderz"),
        (write("b.toml", "msticpyconfig = 5\n"), "b.toml"),
        (
            write("c.toml", "[local\nsecret = \"vt-secret-marker-6f1d2c\"\n"),
            "line",
        ),
        (
            write("d.toml", "query_folders = \"vt-secret-marker-6f1d2c\"\n"),
            "d.toml",
        ),
    ];
    for (path, needle) in cases {
        let error = load(Some(path.clone()), &env(), dir.path())
            .unwrap_err()
            .to_string();
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert!(error.contains(needle), "{error}");
        assert_no_secret(&error, "config error");
    }
    let yaml = write(
        "m.yaml",
        "TIProviders:\n  VT:\n    Args: {AuthKey: \"vt-secret-marker-6f1d2c\"\n",
    );
    let mut vars = env();
    vars.insert("MSTICPYCONFIG".into(), yaml.display().to_string());
    let error = load(None, &vars, dir.path()).unwrap_err().to_string();
    assert!(
        error.contains("m.yaml") && error.contains("line"),
        "{error}"
    );
    assert_no_secret(&error, "yaml error");
    let list = write("l.yaml", "TIProviders: [1, 2]\n");
    vars.insert("MSTICPYCONFIG".into(), list.display().to_string());
    let error = load(None, &vars, dir.path()).unwrap_err().to_string();
    assert!(
        error.contains("TIProviders") && error.contains("mapping"),
        "{error}"
    );
    vars.insert(
        "MSTICPYCONFIG".into(),
        dir.path().join("missing.yaml").display().to_string(),
    );
    let error = load(None, &vars, dir.path()).unwrap_err().to_string();
    assert!(
        error.contains("missing.yaml") && error.contains("cannot read"),
        "{error}"
    );
}

#[test]
fn no_response_of_a_configured_proxy_holds_a_secret() {
    let mut vars: HashMap<String, String> = env();
    vars.insert(
        "MSTICPYCONFIG".into(),
        cases().join("msticpyconfig.yaml").display().to_string(),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut config = load(None, &vars, dir.path()).unwrap();
    config.local.folders.clear();
    let server = common::start(config, vec![], None);
    let mut texts = vec![server.output.clone()];
    for path in [
        "/api/health",
        "/api/queries",
        "/api/ti",
        "/api/nothing",
        "/data/manifest.json",
        "/",
    ] {
        texts.push(server.get(path).text());
    }
    for body in [
        json!({"provider": "Splunk", "text": "search"}),
        json!({"provider": "local", "text": "SELECT 'x"}),
        json!({"nope": 1}),
    ] {
        texts.push(server.post_json("/api/query", &body).text());
    }
    for text in texts {
        assert_no_secret(&text, "a response");
    }
}
