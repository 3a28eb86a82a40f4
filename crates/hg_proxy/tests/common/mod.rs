//! A proxy started in-process on a free port, and a small raw HTTP/1.1 client (so tests control
//! every header, Host included).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use hg_proxy::config::{Config, LocalConfig};
use hg_proxy::local::{scenario_ipc, LocalProvider};
use hg_proxy::static_files::{DataSource, StaticConfig};
use hg_proxy::{ProviderSet, QueryLibrary, QueryProvider, ServeOptions};

pub struct Server {
    pub port: u16,
    pub token: String,
    pub token_file: PathBuf,
    pub output: String,
    pub dir: tempfile::TempDir,
    pub done: mpsc::Receiver<Result<(), String>>,
}

struct LineSink(mpsc::Sender<Vec<u8>>);

impl Write for LineSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = self.0.send(buf.to_vec());
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn repo_queries() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../queries")
}

pub fn scenario() -> &'static hg_demo::Scenario {
    use std::sync::OnceLock;
    static SCENARIO: OnceLock<hg_demo::Scenario> = OnceLock::new();
    SCENARIO.get_or_init(|| hg_demo::generate(hg_demo::DEFAULT_SEED, 1).expect("scenario"))
}

/// Starts a proxy with the local provider on the scenario plus `extra` providers.
pub fn start(config: Config, extra: Vec<Arc<dyn QueryProvider>>, idle: Option<Duration>) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let pages = dir.path().join("pages");
    std::fs::create_dir_all(&pages).unwrap();
    std::fs::write(pages.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    let token_file = dir.path().join("run").join("serve.json");
    let (lines_tx, lines_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let token_file_for_thread = token_file.clone();
    let library = QueryLibrary::load(&[repo_queries()]).expect("query library");
    let data = DataSource::memory(scenario()).expect("scenario data");
    let tables = scenario_ipc(scenario()).expect("scenario ipc");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let result = runtime.block_on(async move {
            let local = LocalProvider::new(
                &LocalConfig {
                    ..config.local.clone()
                },
                tables,
            )
            .await
            .map_err(|e| e.to_string())?;
            let mut providers = ProviderSet::default();
            providers.add(Arc::new(local));
            for p in extra {
                providers.add(p);
            }
            let options = ServeOptions {
                port: 0,
                statics: StaticConfig {
                    pages: pages.clone(),
                    assets: pages,
                    data,
                },
                config: Arc::new(config),
                library: Arc::new(library),
                providers,
                exit_after_idle: idle,
                exit_with_parent: false,
                token_file: Some(token_file_for_thread),
            };
            let mut sink = LineSink(lines_tx);
            hg_proxy::serve(options, &mut sink)
                .await
                .map_err(|e| e.to_string())
        });
        let _ = done_tx.send(result);
    });
    let mut output = String::new();
    while !output.contains("token file:") || !output.ends_with('\n') {
        let chunk = lines_rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the proxy printed its start-up lines");
        output.push_str(&String::from_utf8_lossy(&chunk));
    }
    let token = output
        .lines()
        .find_map(|l| l.strip_prefix("token: "))
        .expect("token line")
        .to_string();
    let url_line = output
        .lines()
        .find(|l| l.starts_with("huntglass serving "))
        .expect("url line");
    let port: u16 = url_line
        .trim_start_matches("huntglass serving http://127.0.0.1:")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    Server {
        port,
        token,
        token_file,
        output,
        dir,
        done: done_rx,
    }
}

pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// Sends one request; `headers` are written as given (include Host yourself, or use `host: None`
/// for the default `127.0.0.1:port`).
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> HttpResponse {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        if !v.is_empty() || !k.eq_ignore_ascii_case("host") {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    if let Some(body) = body {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    if let Some(body) = body {
        stream.write_all(body).unwrap();
    }
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .expect("status")
        .parse()
        .unwrap();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':').unwrap();
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line).unwrap();
            let size =
                usize::from_str_radix(size_line.trim().split(';').next().unwrap(), 16).unwrap();
            if size == 0 {
                break;
            }
            let mut chunk = vec![0u8; size];
            reader.read_exact(&mut chunk).unwrap();
            body.extend_from_slice(&chunk);
            let mut crlf = [0u8; 2];
            reader.read_exact(&mut crlf).unwrap();
        }
    } else {
        reader.read_to_end(&mut body).unwrap();
    }
    HttpResponse {
        status,
        headers,
        body,
    }
}

impl Server {
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }
    pub fn get(&self, path: &str) -> HttpResponse {
        request(
            self.port,
            "GET",
            path,
            &[("Authorization", &self.bearer())],
            None,
        )
    }
    pub fn post_json(&self, path: &str, body: &serde_json::Value) -> HttpResponse {
        let text = body.to_string();
        request(
            self.port,
            "POST",
            path,
            &[
                ("Authorization", &self.bearer()),
                ("Content-Type", "application/json"),
            ],
            Some(text.as_bytes()),
        )
    }
}

/// A query result: the Arrow batches and the trailer.
pub struct ArrowResult {
    pub batches: Vec<hg_proxy::arrow::record_batch::RecordBatch>,
    pub schema: hg_proxy::arrow::datatypes::SchemaRef,
    pub trailer: serde_json::Value,
}

impl ArrowResult {
    pub fn rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }
    pub fn strings(&self, column: &str) -> Vec<String> {
        use hg_proxy::arrow::array::{Array, StringArray};
        let mut out = Vec::new();
        for batch in &self.batches {
            let col = batch
                .column_by_name(column)
                .unwrap_or_else(|| panic!("column {column}"));
            let strings = col
                .as_any()
                .downcast_ref::<StringArray>()
                .expect("utf8 column");
            for i in 0..strings.len() {
                out.push(strings.value(i).to_string());
            }
        }
        out
    }
}

pub fn decode(body: &[u8]) -> ArrowResult {
    assert!(
        body.len() >= 8 && &body[body.len() - 4..] == b"HGT1",
        "body ends with the HGT1 trailer"
    );
    let n = u32::from_le_bytes(body[body.len() - 8..body.len() - 4].try_into().unwrap()) as usize;
    let trailer_start = body.len() - 8 - n;
    let trailer: serde_json::Value =
        serde_json::from_slice(&body[trailer_start..body.len() - 8]).unwrap();
    let reader = hg_proxy::arrow::ipc::reader::StreamReader::try_new(
        std::io::Cursor::new(&body[..trailer_start]),
        None,
    )
    .unwrap();
    let schema = reader.schema();
    let batches = reader.collect::<Result<Vec<_>, _>>().unwrap();
    ArrowResult {
        batches,
        schema,
        trailer,
    }
}
