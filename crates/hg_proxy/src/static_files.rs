//! Demo pages at `/`, widget assets at `/static/`, the scenario files at `/data/`.
//!
//! Safety rules: request paths are decoded once by the router, then every segment must be a plain
//! name (no `..`, `.`, empty segment, backslash, colon or NUL), and the resolved file must still lie
//! inside its root after symlinks are resolved; anything else is a plain-text 404. HTML is sent
//! with a Content-Security-Policy that forbids inline script (data never becomes markup), every
//! response carries `X-Content-Type-Options: nosniff`, and data responses `Cache-Control: no-store`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// Where `/data/` answers from.
pub enum DataSource {
    /// Files written by `huntglass demo-data` in this directory.
    Directory(PathBuf),
    /// The scenario generated at start: file name -> bytes.
    Memory(HashMap<String, Bytes>),
}

impl DataSource {
    /// The in-memory data of a generated scenario: `<Table>.arrow` and `manifest.json`.
    pub fn memory(scenario: &hg_demo::Scenario) -> Result<DataSource, String> {
        let mut files = HashMap::new();
        for table in &scenario.tables {
            let bytes = hg_arrow::write_ipc_stream(&table.schema, &table.batches)
                .map_err(|e| format!("encoding {} as an Arrow IPC stream: {e}", table.name))?;
            files.insert(format!("{}.arrow", table.name), Bytes::from(bytes));
        }
        let manifest = serde_json::to_vec_pretty(&scenario.manifest())
            .map_err(|e| format!("encoding the scenario manifest: {e}"))?;
        files.insert("manifest.json".to_string(), Bytes::from(manifest));
        Ok(DataSource::Memory(files))
    }
}

/// What the static part of the server serves.
pub struct StaticConfig {
    /// Root of the demo pages (`/`).
    pub pages: PathBuf,
    /// Root of the widget assets (`/static/`).
    pub assets: PathBuf,
    /// The scenario (`/data/`).
    pub data: DataSource,
}

/// Content-Security-Policy of HTML pages: scripts only from this origin (plus wasm compilation).
pub(crate) const PAGE_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The router of the static files.
pub fn router(config: StaticConfig) -> Router {
    let state = Arc::new(config);
    Router::new()
        .route("/", get(index))
        .route("/static/{*path}", get(static_file))
        .route("/data/{*path}", get(data_file))
        .route("/{*path}", get(page_file))
        .fallback(fallback)
        .with_state(state)
}

type AppState = State<Arc<StaticConfig>>;

async fn index(State(config): AppState) -> Response {
    serve_from(&config.pages, "index.html", CachePolicy::Revalidate).await
}

async fn page_file(State(config): AppState, UrlPath(path): UrlPath<String>) -> Response {
    serve_from(&config.pages, &path, CachePolicy::Revalidate).await
}

async fn static_file(State(config): AppState, UrlPath(path): UrlPath<String>) -> Response {
    serve_from(&config.assets, &path, CachePolicy::Revalidate).await
}

async fn data_file(State(config): AppState, UrlPath(path): UrlPath<String>) -> Response {
    match &config.data {
        DataSource::Directory(dir) => serve_from(dir, &path, CachePolicy::NoStore).await,
        DataSource::Memory(files) => match files.get(path.as_str()) {
            Some(bytes) => file_response(&path, bytes.clone(), CachePolicy::NoStore),
            None => not_found(),
        },
    }
}

async fn fallback(method: Method) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed: pages and data answer GET only\n",
        );
    }
    not_found()
}

#[derive(Clone, Copy)]
enum CachePolicy {
    Revalidate,
    NoStore,
}

/// The path of `request` under `root`, or `None` when it is not a plain relative path.
fn safe_join(root: &Path, request: &str) -> Option<PathBuf> {
    let mut path = root.to_path_buf();
    for segment in request.split('/') {
        let plain = !segment.is_empty()
            && segment != "."
            && segment != ".."
            && !segment.contains(['\\', ':', '\0'])
            && !segment.starts_with('~');
        if !plain {
            return None;
        }
        path.push(segment);
    }
    Some(path)
}

async fn serve_from(root: &Path, request: &str, cache: CachePolicy) -> Response {
    let Some(path) = safe_join(root, request) else {
        return not_found();
    };
    // Symlinks must not lead out of the root either.
    let (Ok(real_root), Ok(real_path)) = (
        tokio::fs::canonicalize(root).await,
        tokio::fs::canonicalize(&path).await,
    ) else {
        return not_found();
    };
    if !real_path.starts_with(&real_root) || !real_path.is_file() {
        return not_found();
    }
    match tokio::fs::read(&real_path).await {
        Ok(bytes) => file_response(request, Bytes::from(bytes), cache),
        Err(_) => not_found(),
    }
}

fn content_type(name: &str) -> &'static str {
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "wasm" => "application/wasm",
        "arrow" | "arrows" => "application/vnd.apache.arrow.stream",
        "csv" => "text/csv; charset=utf-8",
        "txt" | "md" => "text/plain; charset=utf-8",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

fn file_response(name: &str, bytes: Bytes, cache: CachePolicy) -> Response {
    let kind = content_type(name);
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(match cache {
            CachePolicy::Revalidate => "no-cache",
            CachePolicy::NoStore => "no-store",
        }),
    );
    if kind.starts_with("text/html") || kind.starts_with("image/svg") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        );
    }
    response
}

pub(crate) fn plain(status: StatusCode, message: &'static str) -> Response {
    let mut response = (status, message).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn not_found() -> Response {
    plain(StatusCode::NOT_FOUND, "not found\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_join() {
        let root = Path::new("/srv/pages");
        assert_eq!(
            safe_join(root, "a/b.js"),
            Some(PathBuf::from("/srv/pages/a/b.js"))
        );
        for bad in [
            "../x",
            "a/../../x",
            "./x",
            "/etc/passwd",
            "a//b",
            "a\\..\\b",
            "C:x",
            "x\0",
            "",
            "a/",
            "~/x",
        ] {
            assert_eq!(safe_join(root, bad), None, "{bad:?} must be rejected");
        }
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type("hg_wasm_bg.wasm"), "application/wasm");
        assert_eq!(content_type("widget.js"), "text/javascript; charset=utf-8");
        assert_eq!(
            content_type("SecurityEvent.arrow"),
            "application/vnd.apache.arrow.stream"
        );
        assert_eq!(content_type("INDEX.HTML"), "text/html; charset=utf-8");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}
