//! Runs the `huntglass` binary: `demo-data` output read back, and `serve` over real HTTP on
//! 127.0.0.1 (pages, assets, data, content types, caching, 404s, path traversal, Ctrl-C).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_huntglass");

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hg-cli-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn repo_pages() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/pages")
}

fn demo_data(out: &Path, seed: &str) {
    let output = Command::new(BIN)
        .args(["demo-data", "--out"])
        .arg(out)
        .args(["--seed", seed])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "demo-data failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

const TABLES: [&str; 7] = [
    "SecurityEvent",
    "LogonEvents",
    "SecurityAlert",
    "OfficeActivity",
    "NetworkBytes",
    "DnsEvents",
    "CommonSecurityLog",
];

#[test]
fn demo_data_writes_arrow_csv_and_manifest_that_read_back_identically_per_seed() {
    let out = temp_dir("demo-data");
    demo_data(&out, "11");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["seed"], 11);
    assert_eq!(manifest["scale"], 1);
    assert_eq!(manifest["start"], "2026-11-02T00:00:00Z");
    assert_eq!(manifest["end"], "2026-11-09T00:00:00Z");
    let tables = manifest["tables"].as_array().unwrap();
    assert_eq!(
        tables
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        TABLES
    );
    for entry in tables {
        let name = entry["name"].as_str().unwrap();
        assert_eq!(entry["file"], format!("{name}.arrow"));
        assert!(!entry["description"].as_str().unwrap().is_empty());
        let table =
            hg_arrow::read_ipc_stream(&std::fs::read(out.join(format!("{name}.arrow"))).unwrap())
                .unwrap_or_else(|e| panic!("{name}.arrow reads back: {e}"));
        let rows = entry["rows"].as_u64().unwrap() as usize;
        assert_eq!(table.num_rows(), rows, "{name} rows");
        assert!(
            table.times_ns("TimeGenerated").is_ok(),
            "{name} has TimeGenerated as a timestamp"
        );
        let csv = std::fs::read_to_string(out.join(format!("{name}.csv"))).unwrap();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next().unwrap().split(',').collect::<Vec<_>>(),
            table.column_names(),
            "{name} CSV header"
        );
        assert_eq!(
            lines.count(),
            rows,
            "{name} CSV rows (no field holds a line break)"
        );
    }
    let events = std::fs::read_to_string(out.join("SecurityEvent.csv")).unwrap();
    let first = events.lines().nth(1).unwrap();
    assert!(
        first.contains(",2026-11-02T00:00:"),
        "ISO UTC times in CSV: {first}"
    );
    assert!(
        events.contains("<img src=x onerror=alert(1)>"),
        "the hostile string is written verbatim"
    );
    // Same seed: identical bytes; another seed: different process events.
    let again = temp_dir("demo-data-again");
    demo_data(&again, "11");
    for name in TABLES {
        for ext in ["arrow", "csv"] {
            let file = format!("{name}.{ext}");
            assert!(
                std::fs::read(out.join(&file)).unwrap()
                    == std::fs::read(again.join(&file)).unwrap(),
                "{file} is deterministic"
            );
        }
    }
    let other = temp_dir("demo-data-other");
    demo_data(&other, "12");
    assert!(
        std::fs::read(out.join("SecurityEvent.arrow")).unwrap()
            != std::fs::read(other.join("SecurityEvent.arrow")).unwrap()
    );
    for dir in [out, again, other] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn demo_data_rejects_a_bad_scale_with_a_clear_message() {
    let out = temp_dir("bad-scale");
    let output = Command::new(BIN)
        .args(["demo-data", "--out"])
        .arg(&out)
        .args(["--scale", "0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("scale must be between 1 and"), "{stderr}");
    let _ = std::fs::remove_dir_all(out);
}

/// A running `huntglass serve`, killed on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fake_assets(root: &Path) -> PathBuf {
    let assets = root.join("assets");
    std::fs::create_dir_all(&assets).unwrap();
    std::fs::write(assets.join("widget.js"), "export const version = 'test';\n").unwrap();
    std::fs::write(assets.join("hg_wasm_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    // A file beside the assets that traversal must never reach.
    std::fs::write(root.join("secret.txt"), "TOP-SECRET-BESIDE-ASSETS").unwrap();
    assets
}

fn start_serve(args: &[&str], assets: &Path) -> Server {
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0", "--assets"])
        .arg(assets)
        .arg("--pages")
        .arg(repo_pages())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let prefix = "huntglass serving http://127.0.0.1:";
    assert!(line.starts_with(prefix), "first stdout line: {line:?}");
    let port = line[prefix.len()..]
        .trim_end()
        .trim_end_matches('/')
        .parse()
        .unwrap();
    Server { child, port }
}

struct Reply {
    status: u16,
    content_type: String,
    cache_control: String,
    csp: String,
    body: Vec<u8>,
}

fn get(server: &Server, path: &str) -> Reply {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .get(format!("http://127.0.0.1:{}{path}", server.port))
        .call()
        .unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (content_type, cache_control, csp) = (
        header("content-type"),
        header("cache-control"),
        header("content-security-policy"),
    );
    Reply {
        status: response.status().as_u16(),
        content_type,
        cache_control,
        csp,
        body: response
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .unwrap(),
    }
}

/// Sends `target` verbatim (no client-side normalization of `..`) and returns status and body.
fn raw_get(server: &Server, target: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let status = reply
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, reply)
}

#[test]
fn serve_answers_pages_assets_and_in_memory_data() {
    let root = temp_dir("serve-memory");
    let assets = fake_assets(&root);
    let server = start_serve(&[], &assets);

    let page = get(&server, "/");
    assert_eq!(page.status, 200);
    assert_eq!(page.content_type, "text/html; charset=utf-8");
    assert!(
        page.csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "CSP: {}",
        page.csp
    );
    assert_eq!(
        page.body,
        std::fs::read(repo_pages().join("index.html")).unwrap()
    );
    let script = get(&server, "/overview.js");
    assert_eq!(script.status, 200);
    assert_eq!(script.content_type, "text/javascript; charset=utf-8");

    let widget = get(&server, "/static/widget.js");
    assert_eq!(
        (widget.status, widget.content_type.as_str()),
        (200, "text/javascript; charset=utf-8")
    );
    let wasm = get(&server, "/static/hg_wasm_bg.wasm");
    assert_eq!(
        (wasm.status, wasm.content_type.as_str()),
        (200, "application/wasm")
    );
    assert_eq!(wasm.body, b"\0asm\x01\0\0\0");

    let manifest = get(&server, "/data/manifest.json");
    assert_eq!(
        (manifest.status, manifest.content_type.as_str()),
        (200, "application/json")
    );
    assert_eq!(manifest.cache_control, "no-store");
    let manifest: serde_json::Value = serde_json::from_slice(&manifest.body).unwrap();
    assert_eq!(manifest["seed"], 20_261_102);
    for entry in manifest["tables"].as_array().unwrap() {
        let reply = get(
            &server,
            &format!("/data/{}", entry["file"].as_str().unwrap()),
        );
        assert_eq!(reply.status, 200);
        assert_eq!(reply.content_type, "application/vnd.apache.arrow.stream");
        assert_eq!(reply.cache_control, "no-store");
        let table = hg_arrow::read_ipc_stream(&reply.body).unwrap();
        assert_eq!(table.num_rows() as u64, entry["rows"].as_u64().unwrap());
    }

    let missing = get(&server, "/no-such-page.html");
    assert_eq!(
        (missing.status, missing.content_type.as_str()),
        (404, "text/plain; charset=utf-8")
    );
    assert_eq!(missing.body, b"not found\n");
    assert_eq!(get(&server, "/data/NoSuchTable.arrow").status, 404);
    assert_eq!(get(&server, "/static/").status, 404);

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let post = agent
        .post(format!(
            "http://127.0.0.1:{}/data/manifest.json",
            server.port
        ))
        .send("x")
        .unwrap();
    assert_eq!(post.status().as_u16(), 405);
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn serve_rejects_path_traversal() {
    let root = temp_dir("serve-traversal");
    let assets = fake_assets(&root);
    let server = start_serve(&[], &assets);
    let cargo_toml = "/../../crates/hg_cli/Cargo.toml";
    for target in [
        "/static/../secret.txt",
        "/static/..%2fsecret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2e%2e%2fsecret.txt",
        "/static/..%5csecret.txt",
        "/static/%2F..%2Fsecret.txt",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/data/..%2f..%2fsecret.txt",
        "/..%2f..%2fCargo.toml",
        "/%2e%2e/%2e%2e/Cargo.toml",
        cargo_toml,
        "/./index.html",
    ] {
        let (status, reply) = raw_get(&server, target);
        assert!(status == 404 || status == 400, "{target} answered {status}");
        assert!(!reply.contains("TOP-SECRET"), "{target} leaked the secret");
        assert!(
            !reply.contains("[package]"),
            "{target} leaked a repository file"
        );
        assert!(!reply.contains("root:"), "{target} leaked /etc/passwd");
    }
    // A symlink inside the assets that points outside is not followed out of the root.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(root.join("secret.txt"), assets.join("link.txt")).unwrap();
        let (status, reply) = raw_get(&server, "/static/link.txt");
        assert_eq!(status, 404);
        assert!(!reply.contains("TOP-SECRET"));
    }
    let (status, _) = raw_get(&server, "/static/widget.js");
    assert_eq!(status, 200, "a plain path still works");
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn serve_data_directory_and_clean_stop_on_ctrl_c() {
    let root = temp_dir("serve-dir");
    let assets = fake_assets(&root);
    let data = root.join("data");
    demo_data(&data, "5");
    let mut server = start_serve(&["--data", data.to_str().unwrap()], &assets);
    let manifest: serde_json::Value =
        serde_json::from_slice(&get(&server, "/data/manifest.json").body).unwrap();
    assert_eq!(manifest["seed"], 5);
    let csv = get(&server, "/data/NetworkBytes.csv");
    assert_eq!(
        (csv.status, csv.content_type.as_str()),
        (200, "text/csv; charset=utf-8")
    );
    let arrow = get(&server, "/data/SecurityAlert.arrow");
    assert_eq!(
        arrow.body,
        std::fs::read(data.join("SecurityAlert.arrow")).unwrap()
    );
    #[cfg(unix)]
    {
        let pid = server.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success());
        let status = server.child.wait().unwrap();
        assert!(
            status.success(),
            "serve exits cleanly on SIGINT: {status:?}"
        );
        let mut stderr = String::new();
        server
            .child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert!(stderr.contains("stopped"), "{stderr}");
    }
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn serve_explains_missing_assets_and_data() {
    let root = temp_dir("serve-missing");
    let output = Command::new(BIN)
        .args(["serve", "--port", "0", "--assets"])
        .arg(root.join("nowhere"))
        .arg("--pages")
        .arg(repo_pages())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("run `make build`"), "{stderr}");

    let assets = fake_assets(&root);
    let output = Command::new(BIN)
        .args(["serve", "--port", "0", "--assets"])
        .arg(&assets)
        .arg("--pages")
        .arg(repo_pages())
        .arg("--data")
        .arg(root.join("empty"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("demo-data --out"), "{stderr}");
    let _ = std::fs::remove_dir_all(root);
}

/// `2026-11-DDTHH:MM:SS.mmmZ` (the scenario's week) as ns since the epoch.
fn scenario_time_ns(iso: &str) -> i64 {
    assert!(
        iso.starts_with("2026-11-") && iso.ends_with('Z') && iso.len() == 24,
        "unexpected time {iso}"
    );
    let num = |range: std::ops::Range<usize>| iso[range].parse::<i64>().unwrap();
    let day = num(8..10);
    let ms = ((num(11..13) * 60 + num(14..16)) * 60 + num(17..19)) * 1000 + num(20..23);
    hg_demo::START_NS + (day - 2) * hg_demo::DAY_NS + ms * 1_000_000
}

#[test]
fn overview_page_markers_are_alert_times_and_the_page_holds_no_data() {
    let script = std::fs::read_to_string(repo_pages().join("overview.js")).unwrap();
    let marker_times: Vec<i64> = script
        .split("time: \"")
        .skip(1)
        .map(|rest| scenario_time_ns(&rest[..rest.find('"').unwrap()]))
        .collect();
    assert!(marker_times.len() >= 3, "the page marks the main alerts");
    let scenario = hg_demo::generate(hg_demo::DEFAULT_SEED, 1).unwrap();
    let alerts = scenario.table("SecurityAlert").unwrap();
    let bytes = hg_arrow::write_ipc_stream(&alerts.schema, &alerts.batches).unwrap();
    let alert_times = hg_arrow::read_ipc_stream(&bytes)
        .unwrap()
        .times_ns("TimeGenerated")
        .unwrap();
    for t in marker_times {
        assert!(
            alert_times.values().contains(&t),
            "marker at {t} ns is the time of an alert"
        );
    }
    assert!(script.contains("from \"/static/widget.js\"") && script.contains("mountStandalone("));
    assert!(
        !script.contains("innerHTML")
            && !script.contains("insertAdjacentHTML")
            && !script.contains("document.write")
    );
    let page = std::fs::read_to_string(repo_pages().join("index.html")).unwrap();
    assert!(
        !page.contains("<script>"),
        "no inline script (the CSP forbids it)"
    );
    for id in ["story", "timeline", "timeline-widget", "theme-toggle"] {
        assert!(page.contains(&format!("id=\"{id}\"")), "section {id}");
    }
}
