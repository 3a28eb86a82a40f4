//! `huntglass serve` as the proxy: the start-up lines, the token file, and secret hygiene of the
//! whole process (stdout, stderr and every answer) with a configuration holding credentials.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_huntglass");
const SECRETS: [&str; 3] = [
    "vt-secret-marker-6f1d2c",
    "otx-secret-marker-41aa",
    "splunk-password-marker-77",
];

fn cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/cases/proxy")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hg-serve-proxy-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn http(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap();
    String::from_utf8_lossy(&reply).into_owned()
}

#[test]
fn serve_prints_the_token_once_and_never_a_secret() {
    let root = temp_dir("secrets");
    let assets = root.join("assets");
    std::fs::create_dir_all(&assets).unwrap();
    std::fs::write(assets.join("widget.js"), "export {};\n").unwrap();
    std::fs::write(assets.join("hg_wasm_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    // A mistyped huntglass.toml key holding a secret must not echo it either (checked below).
    let token_file = root.join("run").join("serve.json");
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--port",
            "0",
            "--exit-after-idle",
            "60",
            "--assets",
        ])
        .arg(&assets)
        .arg("--pages")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/pages"))
        .arg("--token-file")
        .arg(&token_file)
        .env("MSTICPYCONFIG", cases().join("msticpyconfig.yaml"))
        .env("HG_TEST_OTX_KEY", "otx-secret-marker-41aa")
        .env("HG_TEST_SPLUNK_PASSWORD", "splunk-password-marker-77")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..3 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        lines.push(line);
    }
    let port: u16 = lines[0]
        .trim_end()
        .strip_prefix("huntglass serving http://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix('/'))
        .unwrap_or_else(|| panic!("first line: {:?}", lines[0]))
        .parse()
        .unwrap();
    let token = lines[1]
        .trim_end()
        .strip_prefix("token: ")
        .expect("token line")
        .to_string();
    assert_eq!(token.len(), 64);
    assert!(lines[2].starts_with("token file: "), "{:?}", lines[2]);
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&token_file).unwrap()).unwrap();
    assert_eq!(file["token"], token.as_str());
    assert_eq!(file["port"], port);

    let mut answers = Vec::new();
    for path in ["/api/health", "/api/queries", "/api/ti", "/"] {
        answers.push(http(
            port,
            &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"),
        ));
    }
    let body = r#"{"provider":"local","text":"SELECT count(*) AS n FROM SecurityAlert"}"#;
    let reply = http(
        port,
        &format!(
            "POST /api/query HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("HGT1"), "the result ends with its trailer");
    answers.push(reply);
    answers.push(http(
        port,
        &format!("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"),
    ));
    assert!(answers.last().unwrap().starts_with("HTTP/1.1 401"));

    #[cfg(unix)]
    {
        let pid = child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    // The configuration's problems are logged by key (XForce's KeyVault and unset variable).
    assert!(
        stderr.contains("TIProviders.XForce.Args.ApiID") && stderr.contains("KeyVault"),
        "{stderr}"
    );
    assert!(!token_file.exists(), "the token file is removed at exit");
    let everything = format!("{}{rest}{stderr}{}", lines.concat(), answers.concat());
    assert_eq!(
        everything.matches(&token).count(),
        1,
        "the token appears once, in its line"
    );
    for secret in SECRETS {
        assert!(
            !everything.contains(secret),
            "{secret} leaked:\n{everything}"
        );
    }
    let _ = std::fs::remove_dir_all(root);
}
