//! Threat-intelligence, geolocation and WHOIS routes (`/api/ti`, `/api/geo`, `/api/whois`),
//! owned by the enrichment engineer (crate `hg_enrich`).
//!
//! [`routes`] returns a router whose paths start with `/api/`; the proxy merges it behind the
//! same token, Host and Origin checks as every other API route, so handlers need no checks of
//! their own. The configuration (TIProviders / OtherProviders sections) comes in `config`.
//!
//! # Threat intelligence
//!
//! - `GET /api/ti/providers`: `{"providers": [{name, provider, loaded, primary, message,
//!   supported_types}]}`, every configured provider and what became of it (never a key).
//! - `POST /api/ti` with `{"observables": ["8.8.8.8", {"value": "...", "type": "dns"}, ...],
//!   "providers": ["LocalFeed"] (optional: the primary providers), "format": "json" | "ndjson" |
//!   "arrow"}` (at most [`MAX_OBSERVABLES_PER_REQUEST`]):
//!   - `json` (default): `{"results": [row, ...], "summary": {observables, providers: [...]}}`
//!     once every provider is done;
//!   - `ndjson`: one JSON event per line as it happens (`{"type": "result", ...row}`,
//!     `{"type": "progress", provider, done, total}`, `{"type": "provider_done", ...}`), then
//!     `{"type": "done", "summary": ...}`: a slow provider never holds back the others' rows;
//!   - `arrow`: an Arrow IPC stream of the rows (columns `Ioc`, `IocType`, `SafeIoc`,
//!     `Provider`, `Result` (`True`/`False`), `Severity`, `Details` and `RawResult` (JSON
//!     text), `Reference`, `Status` (int32), `Cached` (`True`/`False`)). The flags are text
//!     because the widgets' Arrow reader (hg_wasm `ArrowTable`) reads strings and numbers only,
//!     and Python's TIBrowser sends the same words.
//!
//! Providers come from `TIProviders` (msticpyconfig.yaml or `[ti_providers.*]`, environment
//! variables already resolved; relative paths are relative to the file that named them). With
//! none configured the key-less default is used: the scenario's local feed (`ti_feed.csv`,
//! `ti_feed.stix.json`) and Tor exit list, from the scenario folder when `[local] scenario_dir`
//! is set, else built in memory from `hg_demo`. Upstream answers are cached in
//! `$HUNTGLASS_TI_CACHE` (a file path, or `off`), else `$XDG_CACHE_HOME/huntglass/ti-cache.redb`,
//! else `~/.cache/huntglass/ti-cache.redb`; a cache another proxy holds is skipped with a
//! warning.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hg_enrich::ti::{
    classify, LocalFeed, Observable, TiCache, TiConfig, TiEvent, TiLookup, TiResult, TorExitList,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::config::{Config, SectionKind};
use crate::error::ProxyError;

/// Most observables in one `POST /api/ti`.
pub const MAX_OBSERVABLES_PER_REQUEST: usize = 100_000;

/// What the TI routes share.
struct TiState {
    /// The providers, or why none could be loaded.
    lookup: Result<TiLookup, String>,
}

type Shared = State<Arc<TiState>>;

/// The enrichment routes.
pub fn routes(config: &Config) -> Router {
    let state = Arc::new(TiState {
        lookup: build_lookup(config),
    });
    if let Err(problem) = &state.lookup {
        eprintln!("huntglass: threat intelligence is not available: {problem}");
    }
    Router::new()
        .route("/api/ti", post(lookup))
        .route("/api/ti/providers", get(providers))
        .with_state(state)
}

fn build_lookup(config: &Config) -> Result<TiLookup, String> {
    let sections = config.sections(SectionKind::Ti);
    let mut ti = TiConfig::default();
    if sections.is_empty() {
        match &config.local.scenario_dir {
            Some(dir) => {
                let section = TiConfig::default_section(dir);
                ti = TiConfig::from_section(&section, dir).map_err(|e| e.to_string())?;
            }
            None => {
                let mut feed = LocalFeed::new("scenario ti_feed.csv");
                feed.add_csv(hg_demo::feed::ti_feed_csv().as_bytes())
                    .map_err(|(line, message)| {
                        format!("the scenario feed, line {line}: {message}")
                    })?;
                ti.add_feed("LocalFeed", feed, true);
                let tor = TorExitList::parse(&hg_demo::feed::tor_exit_list()).map_err(
                    |(line, message)| format!("the scenario Tor list, line {line}: {message}"),
                )?;
                ti.add_tor_list("Tor", tor, "scenario tor_exit_addresses.txt", true);
            }
        }
    } else {
        for (name, section) in sections {
            let base = section
                .file
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            let one = json!({ name: section.value() });
            let loaded = TiConfig::from_section(&one, &base).map_err(|e| {
                format!(
                    "{} ({}): {e}",
                    section.file.display(),
                    SectionKind::Ti.msticpy_name()
                )
            })?;
            ti.merge(loaded);
        }
    }
    for status in &ti.status {
        if !status.loaded {
            eprintln!(
                "huntglass: TI provider {} not loaded: {}",
                status.name, status.message
            );
        }
    }
    Ok(TiLookup::new(ti, open_cache()))
}

fn cache_path() -> Option<PathBuf> {
    match std::env::var("HUNTGLASS_TI_CACHE") {
        Ok(v) if v.eq_ignore_ascii_case("off") => return None,
        Ok(v) if !v.is_empty() => return Some(PathBuf::from(v)),
        _ => {}
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("huntglass").join("ti-cache.redb"))
}

fn open_cache() -> Option<TiCache> {
    let path = cache_path()?;
    match TiCache::open(&path) {
        Ok(cache) => Some(cache),
        Err(e) => {
            eprintln!("huntglass: TI results will not be cached: {e}");
            None
        }
    }
}

fn ti_lookup(state: &TiState) -> Result<&TiLookup, ProxyError> {
    state.lookup.as_ref().map_err(|problem| {
        ProxyError::NotConfigured(format!("threat intelligence is not configured: {problem}"))
    })
}

async fn providers(State(state): Shared) -> Result<Json<Value>, ProxyError> {
    let lookup = ti_lookup(&state)?;
    Ok(Json(json!({ "providers": lookup.status() })))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ObservableIn {
    Text(String),
    Typed {
        value: String,
        #[serde(default, rename = "type", alias = "ioc_type", alias = "IocType")]
        ioc_type: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TiRequest {
    observables: Vec<ObservableIn>,
    #[serde(default)]
    providers: Option<Vec<String>>,
    #[serde(default)]
    format: Option<String>,
}

async fn lookup(
    State(state): Shared,
    body: Result<Json<TiRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ProxyError> {
    let Json(request) = body.map_err(|e| {
        ProxyError::BadRequest(format!(
            "the body must be JSON {{\"observables\": [...], \"providers\": [...], \"format\": \"json\"|\"ndjson\"|\"arrow\"}}: {}",
            crate::config::strip_quoted(&e.body_text())
        ))
    })?;
    let lookup_engine = ti_lookup(&state)?;
    if request.observables.len() > MAX_OBSERVABLES_PER_REQUEST {
        return Err(ProxyError::BadRequest(format!(
            "{} observables in one request; the limit is {MAX_OBSERVABLES_PER_REQUEST}",
            request.observables.len()
        )));
    }
    let observables: Vec<Observable> = request
        .observables
        .iter()
        .map(|o| match o {
            ObservableIn::Text(v) => classify(v, None),
            ObservableIn::Typed { value, ioc_type } => classify(value, ioc_type.as_deref()),
        })
        .collect();
    let format = request.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "ndjson" | "arrow") {
        return Err(ProxyError::BadRequest(format!(
            "format `{}` is not known: use json, ndjson or arrow",
            crate::config::strip_quoted(format)
        )));
    }
    let mut rx = lookup_engine
        .start(observables, request.providers.as_deref())
        .map_err(|e| ProxyError::BadRequest(e.to_string()))?;
    if format == "ndjson" {
        let stream = futures::stream::unfold(
            (rx, Some(Summary::default())),
            |(mut rx, summary)| async move {
                let mut summary = summary?;
                match rx.recv().await {
                    Some(event) => {
                        summary.add(&event);
                        let line = event_line(&event);
                        Some((Ok::<_, std::io::Error>(line), (rx, Some(summary))))
                    }
                    None => {
                        let line =
                            format!("{}\n", json!({"type": "done", "summary": summary.value()}));
                        Some((Ok(line), (rx, None)))
                    }
                }
            },
        );
        let mut response = Body::from_stream(stream).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        );
        return Ok(response);
    }
    let mut results: Vec<TiResult> = Vec::new();
    let mut summary = Summary::default();
    while let Some(event) = rx.recv().await {
        summary.add(&event);
        if let TiEvent::Result(r) = event {
            results.push(r);
        }
    }
    if format == "arrow" {
        let bytes = results_to_ipc(&results)
            .map_err(|e| ProxyError::internal("writing TI results as Arrow", e))?;
        let mut response = Body::from(bytes).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.apache.arrow.stream"),
        );
        return Ok(response);
    }
    Ok(Json(json!({"results": results, "summary": summary.value()})).into_response())
}

fn event_line(event: &TiEvent) -> String {
    let mut text = serde_json::to_string(event).unwrap_or_else(|e| {
        json!({"type": "error", "message": format!("cannot encode an event: {e}")}).to_string()
    });
    text.push('\n');
    text
}

#[derive(Default)]
struct Summary {
    observables: usize,
    providers: Vec<Value>,
}

impl Summary {
    fn add(&mut self, event: &TiEvent) {
        match event {
            TiEvent::Progress { total, .. } => self.observables = self.observables.max(*total),
            TiEvent::ProviderDone(done) => {
                self.providers
                    .push(serde_json::to_value(done).unwrap_or(Value::Null));
            }
            TiEvent::Result(_) => {}
        }
    }

    fn value(&self) -> Value {
        json!({"observables": self.observables, "providers": self.providers})
    }
}

/// A flag as the text Python's TIBrowser data uses.
fn flag_text(flag: bool) -> String {
    if flag { "True" } else { "False" }.to_string()
}

/// The rows as one Arrow IPC stream.
fn results_to_ipc(results: &[TiResult]) -> Result<Vec<u8>, String> {
    use crate::arrow::array::{ArrayRef, Int32Array, StringArray};
    use crate::arrow::datatypes::{DataType, Field, Schema};
    use crate::arrow::ipc::writer::StreamWriter;
    use crate::arrow::record_batch::RecordBatch;

    let text = |f: &dyn Fn(&TiResult) -> String| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(results.iter().map(f)))
    };
    let json_text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("Ioc", DataType::Utf8, false),
        Field::new("IocType", DataType::Utf8, false),
        Field::new("SafeIoc", DataType::Utf8, false),
        Field::new("Provider", DataType::Utf8, false),
        Field::new("Result", DataType::Utf8, false),
        Field::new("Severity", DataType::Utf8, false),
        Field::new("Details", DataType::Utf8, false),
        Field::new("RawResult", DataType::Utf8, false),
        Field::new("Reference", DataType::Utf8, false),
        Field::new("Status", DataType::Int32, false),
        Field::new("Cached", DataType::Utf8, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        text(&|r| r.ioc.clone()),
        text(&|r| r.ioc_type.clone()),
        text(&|r| r.safe_ioc.clone()),
        text(&|r| r.provider.clone()),
        text(&|r| flag_text(r.result)),
        text(&|r| r.severity.name().to_string()),
        text(&|r| json_text(&r.details)),
        text(&|r| json_text(&r.raw_result)),
        text(&|r| r.reference.clone()),
        Arc::new(Int32Array::from(
            results.iter().map(|r| r.status).collect::<Vec<_>>(),
        )),
        text(&|r| flag_text(r.cached)),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    {
        let mut writer = StreamWriter::try_new(&mut out, &schema).map_err(|e| e.to_string())?;
        writer.write(&batch).map_err(|e| e.to_string())?;
        writer.finish().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ioc: &str, result: bool, status: i32) -> TiResult {
        serde_json::from_value(json!({
            "Ioc": ioc, "IocType": "ipv4", "SafeIoc": ioc, "Provider": "LocalFeed",
            "Result": result, "Severity": if result { "high" } else { "information" },
            "Details": {"description": "x"}, "RawResult": null, "Reference": "feed:f.csv",
            "Status": status, "Cached": false
        }))
        .expect("a TiResult from its JSON row")
    }

    /// The demo page hands this answer to the TIBrowser, whose reader (hg_arrow, as hg_wasm's
    /// ArrowTable uses it) reads strings and numbers: every column must be readable by it.
    #[test]
    fn arrow_answer_is_readable_by_the_widget_reader() {
        let rows = [row("203.0.113.77", true, 0), row("8.8.8.8", false, 4)];
        let ipc = results_to_ipc(&rows).expect("IPC");
        let table = hg_arrow::read_ipc_stream(&ipc).expect("the widget reader reads it");
        assert_eq!(table.num_rows(), 2);
        let result = table.strings("Result").expect("Result as text");
        assert_eq!(
            (result.get(0), result.get(1)),
            (Some("True"), Some("False"))
        );
        let cached = table.strings("Cached").expect("Cached as text");
        assert_eq!(cached.get(0), Some("False"));
        assert_eq!(table.numbers_f64("Status").expect("Status"), vec![0.0, 4.0]);
        let details = table.strings("Details").expect("Details");
        assert_eq!(details.get(0), Some(r#"{"description":"x"}"#));
    }
}
