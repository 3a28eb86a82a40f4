//! `/api/health`, `/api/queries` and `/api/query`.
//!
//! `POST /api/query` answers `application/vnd.apache.arrow.stream`, sent in chunks as batches
//! arrive. Errors found before the first row (unknown query, wrong parameter, SQL that does not
//! plan, a provider that is not configured) are a JSON error with a 4xx/5xx status. What happens
//! after the first row is reported in a trailer that follows the Arrow stream's end-of-stream
//! marker in the same body:
//!
//! ```text
//! <Arrow IPC stream: schema, batches, end-of-stream> <trailer JSON> <u32 LE: trailer length> "HGT1"
//! ```
//!
//! The trailer is `{"rows", "batches", "complete", "truncated", "notes": [..], "error"}`:
//! `complete` is false when `error` is set (the stream failed after some rows) or `truncated`
//! (`max_rows` cut it). Arrow readers stop at the end-of-stream marker and ignore it; huntglass
//! clients read the last 8 bytes to find it. The response header `X-Huntglass-Trailer: hgt1`
//! announces the scheme.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::stream::BoxStream;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::arrow::datatypes::{Schema, SchemaRef};
use crate::arrow::ipc::writer::StreamWriter;
use crate::arrow::record_batch::RecordBatch;
use crate::error::ProxyError;
use crate::provider::{ProviderSet, QueryRequest, ResultItem, RunOptions};
use crate::queries::QueryLibrary;

/// Most notes kept in a trailer.
pub const MAX_NOTES: usize = 100;
/// Most rows one query may return through the API (a request may ask for fewer).
pub const MAX_ROWS_LIMIT: usize = 100_000_000;
/// Most rows of a `format: "json"` answer (a preview for pages; data goes as Arrow).
pub const MAX_JSON_ROWS: usize = 10_000;

/// What the API handlers share.
pub struct ApiState {
    /// The query library.
    pub library: Arc<QueryLibrary>,
    /// The providers.
    pub providers: ProviderSet,
}

type Shared = State<Arc<ApiState>>;

/// `GET /api/health`: the providers and whether each is ready.
pub async fn health(State(state): Shared) -> Json<Value> {
    let providers: Vec<Value> = state
        .providers
        .all()
        .iter()
        .map(|p| json!({"name": p.name(), "ready": p.status().is_ok(), "status": p.status().err()}))
        .collect();
    Json(
        json!({"ok": true, "service": "huntglass", "version": env!("CARGO_PKG_VERSION"), "providers": providers}),
    )
}

/// Query string of `GET /api/queries`.
#[derive(Deserialize)]
pub struct ListParams {
    provider: Option<String>,
}

/// `GET /api/queries[?provider=NAME]`: each provider's queries by family with their parameters.
pub async fn list_queries(
    State(state): Shared,
    Query(params): Query<ListParams>,
) -> Result<Json<Value>, ProxyError> {
    let providers = match &params.provider {
        Some(name) => vec![state.providers.get(name)?],
        None => state.providers.all().to_vec(),
    };
    let mut out = Vec::new();
    for provider in providers {
        let environments = provider.environments();
        let mut families: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
        for q in state
            .library
            .queries()
            .iter()
            .filter(|q| q.runs_on(&environments))
        {
            let parameters: Vec<Value> = q
                .parameters
                .iter()
                .map(|p| {
                    json!({"name": p.name, "type": p.kind.as_str(), "description": p.description,
                           "default": p.default, "required": p.default.is_none(), "aliases": p.aliases})
                })
                .collect();
            families.entry(q.family.clone()).or_default().push(json!({
                "name": q.name, "family": q.family, "description": q.description,
                "data_source": q.data_source, "parameters": parameters, "query": q.query,
            }));
        }
        let status = provider.status();
        out.push(json!({
            "name": provider.name(),
            "environments": environments,
            "raw_language": provider.raw_language(),
            "ready": status.is_ok(),
            "status": status.err(),
            "families": families,
        }));
    }
    Ok(Json(json!({ "providers": out })))
}

/// Body of `POST /api/query`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryBody {
    provider: String,
    /// `Family.name` (or a unique `name`) of a library query.
    query: Option<String>,
    /// A raw query in the provider's language.
    text: Option<String>,
    #[serde(default)]
    parameters: serde_json::Map<String, Value>,
    max_rows: Option<usize>,
    /// `arrow` (default) or `json`: display texts of at most [`MAX_JSON_ROWS`] rows, for pages.
    format: Option<String>,
}

/// `POST /api/query`: runs a named or raw query; the result streams back as Arrow IPC.
pub async fn run_query(
    State(state): Shared,
    body: Result<Json<QueryBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ProxyError> {
    let Json(body) = body.map_err(|e| {
        ProxyError::BadRequest(format!(
            "the request body must be a JSON query request: {}",
            e.body_text()
        ))
    })?;
    let provider = state.providers.get(&body.provider)?;
    provider.status().map_err(|why| {
        ProxyError::NotConfigured(format!("provider {} is not ready: {why}", provider.name()))
    })?;
    let request = match (&body.query, &body.text) {
        (Some(name), None) => {
            let query = state.library.find(&provider.environments(), name)?;
            let now_ns = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
            let params = query.bind(&body.parameters, now_ns)?;
            QueryRequest::Named { query, params }
        }
        (None, Some(text)) => {
            if provider.raw_language().is_none() {
                return Err(ProxyError::BadRequest(format!(
                    "provider {} runs library queries only",
                    provider.name()
                )));
            }
            if !body.parameters.is_empty() {
                return Err(ProxyError::BadRequest(
                    "a raw query takes no parameters".into(),
                ));
            }
            QueryRequest::Raw { text: text.clone() }
        }
        _ => {
            return Err(ProxyError::BadRequest(
                "give exactly one of `query` (a library query name) and `text` (a raw query)"
                    .into(),
            ))
        }
    };
    let json_format = match body.format.as_deref() {
        None | Some("arrow") => false,
        Some("json") => true,
        Some(other) => {
            return Err(ProxyError::BadRequest(format!(
                "format `{}` is not known: use arrow or json",
                other.chars().take(32).collect::<String>()
            )))
        }
    };
    let max_rows = match body.max_rows {
        Some(n) if n > MAX_ROWS_LIMIT => {
            return Err(ProxyError::BadRequest(format!(
                "max_rows is at most {MAX_ROWS_LIMIT}"
            )))
        }
        Some(n) if json_format && n > MAX_JSON_ROWS => {
            return Err(ProxyError::BadRequest(format!(
                "max_rows is at most {MAX_JSON_ROWS} with format json"
            )))
        }
        None if json_format => Some(1_000),
        other => other,
    };
    let mut result = provider.run(request, RunOptions { max_rows }).await?;
    // Failures before the first row keep their status code.
    let first = result.items.next().await;
    if let Some(Err(error)) = first {
        return Err(error);
    }
    let writer = ResultWriter {
        schema: result.schema,
        first: Some(first),
        items: result.items,
        writer: None,
        notes: Vec::new(),
        rows: 0,
        batches: 0,
        max_rows,
        truncated: false,
        error: None,
        done: false,
    };
    if json_format {
        return Ok(Json(writer.into_json().await).into_response());
    }
    let stream = futures::stream::unfold(writer, |mut w| async move {
        w.next_chunk().await.map(|chunk| (chunk, w))
    });
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.apache.arrow.stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("x-huntglass-trailer", HeaderValue::from_static("hgt1"));
    Ok(response)
}

struct ResultWriter {
    schema: Option<SchemaRef>,
    first: Option<Option<Result<ResultItem, ProxyError>>>,
    items: BoxStream<'static, Result<ResultItem, ProxyError>>,
    writer: Option<StreamWriter<Vec<u8>>>,
    notes: Vec<String>,
    rows: usize,
    batches: usize,
    max_rows: Option<usize>,
    truncated: bool,
    error: Option<String>,
    done: bool,
}

impl ResultWriter {
    /// The whole (small) result as display texts: `{"columns", "rows": [[text|null]], "trailer"}`.
    async fn into_json(mut self) -> Value {
        use crate::arrow::array::Array;
        use crate::arrow::util::display::{ArrayFormatter, FormatOptions};
        let mut batches = Vec::new();
        loop {
            let item = match self.first.take() {
                Some(first) => first,
                None => self.items.next().await,
            };
            match item {
                Some(Ok(ResultItem::Batch(batch))) => {
                    let mut batch = batch;
                    if let Some(max) = self.max_rows {
                        let room = max.saturating_sub(self.rows);
                        if batch.num_rows() > room {
                            batch = batch.slice(0, room);
                            self.truncated = true;
                            self.notes.push(format!("result cut at max_rows = {max}"));
                        }
                    }
                    self.rows += batch.num_rows();
                    self.batches += 1;
                    if self.schema.is_none() {
                        self.schema = Some(batch.schema());
                    }
                    batches.push(batch);
                    if self.truncated {
                        break;
                    }
                }
                Some(Ok(ResultItem::Note(note))) => {
                    if self.notes.len() < MAX_NOTES {
                        self.notes.push(note.chars().take(2000).collect());
                    }
                }
                Some(Err(error)) => {
                    self.error = Some(error.to_string());
                    break;
                }
                None => break,
            }
        }
        let columns: Vec<String> = self
            .schema
            .as_ref()
            .map(|s| s.fields().iter().map(|f| f.name().clone()).collect())
            .unwrap_or_default();
        let options = FormatOptions::default().with_null("");
        let mut rows: Vec<Vec<Value>> = Vec::new();
        for batch in &batches {
            let formatters: Vec<Option<ArrayFormatter>> = batch
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).ok())
                .collect();
            for row in 0..batch.num_rows() {
                rows.push(
                    formatters
                        .iter()
                        .enumerate()
                        .map(|(i, f)| match f {
                            Some(_) if batch.column(i).is_null(row) => Value::Null,
                            Some(f) => Value::String(f.value(row).to_string()),
                            None => Value::Null,
                        })
                        .collect(),
                );
            }
        }
        json!({
            "columns": columns,
            "rows": rows,
            "trailer": {
                "rows": self.rows,
                "batches": self.batches,
                "complete": self.error.is_none() && !self.truncated,
                "truncated": self.truncated,
                "notes": self.notes,
                "error": self.error,
            }
        })
    }

    async fn next_chunk(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        if self.done {
            return None;
        }
        loop {
            let item = match self.first.take() {
                Some(first) => first,
                None => self.items.next().await,
            };
            match item {
                Some(Ok(ResultItem::Batch(batch))) => {
                    if batch.num_rows() == 0 && self.writer.is_some() {
                        continue;
                    }
                    match self.write_batch(batch) {
                        Ok(true) => return Some(Ok(self.drain())),
                        Ok(false) => return Some(self.finish()),
                        Err(problem) => {
                            self.error = Some(problem);
                            return Some(self.finish());
                        }
                    }
                }
                Some(Ok(ResultItem::Note(note))) => {
                    if self.notes.len() < MAX_NOTES {
                        self.notes.push(note.chars().take(2000).collect());
                    }
                }
                Some(Err(error)) => {
                    self.error = Some(error.to_string());
                    return Some(self.finish());
                }
                None => return Some(self.finish()),
            }
        }
    }

    fn ensure_writer(&mut self, schema: SchemaRef) -> Result<(), String> {
        if self.writer.is_none() {
            let schema = self.schema.clone().unwrap_or(schema);
            self.schema = Some(schema.clone());
            let writer = StreamWriter::try_new(Vec::with_capacity(1 << 16), &schema)
                .map_err(|e| format!("encoding the result: {e}"))?;
            self.writer = Some(writer);
        }
        Ok(())
    }

    /// Writes a batch; `Ok(false)` when `max_rows` was reached and the result ends here.
    fn write_batch(&mut self, mut batch: RecordBatch) -> Result<bool, String> {
        self.ensure_writer(batch.schema())?;
        let schema = self.schema.clone().unwrap_or_else(|| batch.schema());
        if batch.schema().fields() != schema.fields() {
            if batch.num_columns() == schema.fields().len() {
                batch = RecordBatch::try_new(schema, batch.columns().to_vec()).map_err(|_| {
                    "the provider changed the result's columns mid-stream".to_string()
                })?;
            } else {
                return Err("the provider changed the result's columns mid-stream".into());
            }
        }
        let mut more = true;
        if let Some(max) = self.max_rows {
            let room = max.saturating_sub(self.rows);
            if batch.num_rows() > room {
                batch = batch.slice(0, room);
                self.truncated = true;
                self.notes.push(format!("result cut at max_rows = {max}"));
                more = false;
            }
        }
        if batch.num_rows() > 0 || self.batches == 0 {
            if let Some(writer) = self.writer.as_mut() {
                writer
                    .write(&batch)
                    .map_err(|e| format!("encoding the result: {e}"))?;
            }
            self.rows += batch.num_rows();
            self.batches += 1;
        }
        Ok(more)
    }

    fn drain(&mut self) -> Bytes {
        match self.writer.as_mut() {
            Some(writer) => Bytes::from(std::mem::take(writer.get_mut())),
            None => Bytes::new(),
        }
    }

    fn finish(&mut self) -> Result<Bytes, std::io::Error> {
        self.done = true;
        if self.writer.is_none() {
            let schema = self
                .schema
                .clone()
                .unwrap_or_else(|| Arc::new(Schema::empty()));
            self.schema = Some(schema.clone());
            self.writer =
                Some(StreamWriter::try_new(Vec::new(), &schema).map_err(std::io::Error::other)?);
        }
        if let Some(writer) = self.writer.as_mut() {
            writer.finish().map_err(std::io::Error::other)?;
        }
        let mut bytes = self.drain().to_vec();
        let trailer = json!({
            "rows": self.rows,
            "batches": self.batches,
            "complete": self.error.is_none() && !self.truncated,
            "truncated": self.truncated,
            "notes": self.notes,
            "error": self.error,
        })
        .to_string();
        bytes.extend_from_slice(trailer.as_bytes());
        bytes.extend_from_slice(&(trailer.len() as u32).to_le_bytes());
        bytes.extend_from_slice(b"HGT1");
        Ok(Bytes::from(bytes))
    }
}
