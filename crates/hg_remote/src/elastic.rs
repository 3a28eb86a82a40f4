//! Elasticsearch / OpenSearch: `_search` paged with `search_after` (point-in-time or plain sort
//! paging) and SQL (`_sql` / `_plugins/_sql` with cursors), index mappings to Arrow types.

use std::collections::{BTreeSet, HashMap};

use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::config::{base_url, Section};
use crate::http::{summarize_body, Http};
use crate::table::{ColumnKind, ColumnSpec, Emitter};
use crate::{
    HttpSettings, Limits, QueryEvent, QuerySummary, RemoteError, ResultSink, Secret, Warning,
    WarningKind,
};

const PROVIDER: &str = "Elastic";
/// Deepest `_source` nesting flattened into dotted columns; deeper objects stay JSON.
pub const MAX_FLATTEN_DEPTH: usize = 16;

/// Which server family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// Elasticsearch (`_pit`, `_sql`).
    Elasticsearch,
    /// OpenSearch (`_search/point_in_time`, `_plugins/_sql`).
    OpenSearch,
}

/// How `_search` results are paged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paging {
    /// `search_after` inside a point-in-time (a consistent view); falls back to `Sort` when the
    /// server cannot open one (HTTP 400/404/405).
    PointInTime,
    /// `search_after` on the query's sort (plus a tiebreaker), without a point-in-time.
    Sort,
}

/// Credentials.
#[derive(Clone, Debug)]
pub enum ElasticAuth {
    /// No `Authorization` header.
    None,
    /// HTTP Basic.
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: Secret,
    },
    /// `Authorization: ApiKey <base64(id:key)>`.
    ApiKey(Secret),
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
}

/// Settings of an [`ElasticClient`].
#[derive(Clone, Debug)]
pub struct ElasticConfig {
    /// `https://host:9200`.
    pub base_url: String,
    /// Server family.
    pub flavor: Flavor,
    /// Credentials.
    pub auth: ElasticAuth,
    /// Index pattern used when a search names none.
    pub default_index: Option<String>,
    /// Hits per `_search` page and SQL `fetch_size` (at most 10,000).
    pub page_size: usize,
    /// Paging strategy.
    pub paging: Paging,
    /// Point-in-time / keep-alive duration (`1m`).
    pub keep_alive: String,
    /// Time-outs and retries.
    pub http: HttpSettings,
    /// Batching and row limit.
    pub limits: Limits,
}

impl ElasticConfig {
    /// Reads an `Elastic` / `OpenSearch` entry of msticpyconfig's `DataProviders` (with or without
    /// `Args`): `url` (or `host` + `port` 9200 + `scheme` https), `username` + `password`,
    /// `api_key` (the encoded credential; with `api_key_id` the two are encoded here) or
    /// `bearer_token`, `Flavor` (elasticsearch, opensearch), `index`, `PageSize`,
    /// `Paging` (pit, sort), `KeepAlive`, `verify` and the common options.
    pub fn from_msticpy(path: &str, section: &Value) -> Result<Self, RemoteError> {
        let top = Section::new(path, section)?;
        let args = top.args()?;
        let base = match args.str_opt(&["url", "Url", "endpoint"])? {
            Some(u) => base_url(&format!("{}.url", args.path), &u)?,
            None => {
                let host = args.str_req(&["host", "url"])?;
                if host.contains("://") {
                    base_url(&format!("{}.host", args.path), &host)?
                } else {
                    if host.contains(['/', '@', '?', '#', ' ']) {
                        return Err(RemoteError::config(
                            format!("{}.host", args.path),
                            "expected a host name",
                        ));
                    }
                    let scheme = args.str_opt(&["scheme"])?.unwrap_or_else(|| "https".into());
                    let port = args.u64_opt(&["port"])?.unwrap_or(9200);
                    if port == 0 || port > 65_535 {
                        return Err(RemoteError::config(
                            format!("{}.port", args.path),
                            "expected 1..65535",
                        ));
                    }
                    base_url(
                        &format!("{}.host", args.path),
                        &format!("{scheme}://{host}:{port}"),
                    )?
                }
            }
        };
        let auth = if let Some(key) = args.secret_opt(&["api_key", "ApiKey"])? {
            match args.str_opt(&["api_key_id", "ApiKeyId"])? {
                Some(id) => ElasticAuth::ApiKey(Secret::new(
                    base64::engine::general_purpose::STANDARD
                        .encode(format!("{id}:{}", key.expose())),
                )),
                None => ElasticAuth::ApiKey(key),
            }
        } else if let Some(t) = args.secret_opt(&["bearer_token", "token"])? {
            ElasticAuth::Bearer(t)
        } else {
            match (
                args.str_opt(&["username", "user"])?,
                args.secret_opt(&["password"])?,
            ) {
                (Some(username), Some(password)) => ElasticAuth::Basic { username, password },
                (Some(_), None) => {
                    return Err(RemoteError::config(
                        format!("{}.password", args.path),
                        "missing (username given)",
                    ))
                }
                _ => ElasticAuth::None,
            }
        };
        let flavor = match args
            .str_opt(&["Flavor", "Distribution"])?
            .map(|f| f.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("elasticsearch") | Some("elastic") => Flavor::Elasticsearch,
            Some("opensearch") => Flavor::OpenSearch,
            Some(other) => {
                return Err(RemoteError::config(
                    format!("{}.Flavor", args.path),
                    format!("expected elasticsearch or opensearch, found {other:?}"),
                ))
            }
        };
        let paging = match args
            .str_opt(&["Paging"])?
            .map(|f| f.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("pit") => Paging::PointInTime,
            Some("sort") => Paging::Sort,
            Some(other) => {
                return Err(RemoteError::config(
                    format!("{}.Paging", args.path),
                    format!("expected pit or sort, found {other:?}"),
                ))
            }
        };
        let page_size = args
            .u64_opt(&["PageSize"])?
            .unwrap_or(1000)
            .clamp(1, 10_000) as usize;
        let keep_alive = args.str_opt(&["KeepAlive"])?.unwrap_or_else(|| "1m".into());
        if !keep_alive.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(RemoteError::config(
                format!("{}.KeepAlive", args.path),
                "expected a duration such as 1m",
            ));
        }
        let default_index = args.str_opt(&["index", "Index"])?;
        if let Some(i) = &default_index {
            check_index(&format!("{}.index", args.path), i)?;
        }
        let (http, limits) = args.common()?;
        Ok(Self {
            base_url: base,
            flavor,
            auth,
            default_index,
            page_size,
            paging,
            keep_alive,
            http,
            limits,
        })
    }
}

/// Index patterns go into URL paths: letters, digits and `-_.*,:+` only.
fn check_index(key: &str, index: &str) -> Result<(), RemoteError> {
    let ok = !index.is_empty()
        && index.len() <= 1024
        && index
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.*,:+".contains(&b))
        && !index.starts_with('_');
    if ok {
        Ok(())
    } else {
        Err(RemoteError::config(
            key,
            format!("not a usable index pattern: {index:?}"),
        ))
    }
}

/// A query for [`ElasticClient::query`].
#[derive(Clone, Debug, PartialEq)]
pub enum EsQuery {
    /// A search request body (query, sort, `_source`, ...); `size` caps the total hits returned.
    Search {
        /// Index pattern (else the configured default).
        index: Option<String>,
        /// The request body.
        body: Map<String, Value>,
    },
    /// An SQL statement.
    Sql {
        /// The statement.
        query: String,
    },
}

impl EsQuery {
    /// A JSON object is a search (its `index` key names the index pattern and is removed from
    /// the body); anything else is SQL.
    pub fn parse(text: &str) -> Result<Self, RemoteError> {
        let t = text.trim();
        if t.starts_with('{') {
            let v: Value = serde_json::from_str(t).map_err(|e| {
                RemoteError::Param(format!("the search body is not valid JSON: {e}"))
            })?;
            let Value::Object(mut body) = v else {
                unreachable!("starts with {{")
            };
            let index = match body.remove("index") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s),
                Some(_) => return Err(RemoteError::Param("`index` must be text".into())),
            };
            Ok(Self::Search { index, body })
        } else if t.is_empty() {
            Err(RemoteError::Param("empty query".into()))
        } else {
            Ok(Self::Sql {
                query: t.to_string(),
            })
        }
    }
}

/// Runs searches and SQL against one cluster.
pub struct ElasticClient {
    cfg: ElasticConfig,
    http: Http,
}

impl ElasticClient {
    /// Creates the client.
    pub fn new(cfg: ElasticConfig) -> Result<Self, RemoteError> {
        let http = Http::new(PROVIDER, cfg.http.clone())?;
        match &cfg.auth {
            ElasticAuth::None => {}
            ElasticAuth::Basic { username, password } => http.add_basic(username, password),
            ElasticAuth::ApiKey(k) | ElasticAuth::Bearer(k) => http.add_secret(k),
        }
        Ok(Self { cfg, http })
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self
            .http
            .client()
            .request(method, format!("{}{path}", self.cfg.base_url));
        match &self.cfg.auth {
            ElasticAuth::None => rb,
            ElasticAuth::Basic { username, password } => {
                rb.basic_auth(username, Some(password.expose()))
            }
            ElasticAuth::ApiKey(k) => rb.header("Authorization", format!("ApiKey {}", k.expose())),
            ElasticAuth::Bearer(t) => rb.bearer_auth(t.expose()),
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        sink: &mut dyn ResultSink,
    ) -> Result<reqwest::Response, RemoteError> {
        let build = || {
            let rb = self.request(method.clone(), path);
            match body {
                Some(b) => rb.json(b),
                None => rb,
            }
        };
        self.http.send(&build, sink).await
    }

    async fn call_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        sink: &mut dyn ResultSink,
    ) -> Result<Value, RemoteError> {
        let resp = self.call(method, path, body, sink).await?;
        if !resp.status().is_success() {
            return Err(self.http.error_for(resp).await);
        }
        self.http.read_json(resp).await
    }

    /// Runs a search or SQL statement; rows go to the sink in batches.
    pub async fn query(
        &self,
        q: &EsQuery,
        sink: &mut dyn ResultSink,
    ) -> Result<QuerySummary, RemoteError> {
        match q {
            EsQuery::Search { index, body } => {
                let index = index
                    .clone()
                    .or_else(|| self.cfg.default_index.clone())
                    .ok_or_else(|| {
                        RemoteError::Param(
                            "the search names no `index` and no default index is configured".into(),
                        )
                    })?;
                check_index("index", &index).map_err(|e| RemoteError::Param(e.to_string()))?;
                self.search(&index, body, sink).await
            }
            EsQuery::Sql { query } => self.sql(query, sink).await,
        }
    }

    /// Field path -> mapping type over every index the pattern matches (conflicts -> `keyword`).
    async fn mapping(
        &self,
        index: &str,
        sink: &mut dyn ResultSink,
    ) -> Result<HashMap<String, String>, RemoteError> {
        let v = self
            .call_json(
                reqwest::Method::GET,
                &format!("/{index}/_mapping"),
                None,
                sink,
            )
            .await?;
        let mut out: HashMap<String, String> = HashMap::new();
        let Some(indices) = v.as_object() else {
            return Ok(out);
        };
        for idx in indices.values() {
            let Some(m) = idx.get("mappings") else {
                continue;
            };
            // Elasticsearch 6 has one level of mapping type (`_doc`) above `properties`.
            let props = m.get("properties").or_else(|| {
                m.as_object()
                    .and_then(|o| o.values().find_map(|t| t.get("properties")))
            });
            if let Some(p) = props {
                collect_mapping("", p, &mut out, 0);
            }
        }
        Ok(out)
    }

    async fn search(
        &self,
        index: &str,
        user_body: &Map<String, Value>,
        sink: &mut dyn ResultSink,
    ) -> Result<QuerySummary, RemoteError> {
        let types = match self.mapping(index, sink).await {
            Ok(t) => t,
            Err(
                e @ (RemoteError::Auth { .. }
                | RemoteError::Timeout { .. }
                | RemoteError::Transport { .. }),
            ) => return Err(e),
            Err(e) => {
                sink.event(QueryEvent::Warning(Warning {
                    kind: WarningKind::Conversion,
                    message: format!(
                        "index mapping unavailable, column types inferred from the values ({e})"
                    ),
                }));
                HashMap::new()
            }
        };
        let max_rows = self
            .cfg
            .limits
            .max_rows
            .min(sink.max_rows().unwrap_or(u64::MAX));
        let limit = match user_body.get("size") {
            None | Some(Value::Null) => max_rows,
            Some(v) => v
                .as_u64()
                .ok_or_else(|| {
                    RemoteError::Param("`size` must be a non-negative whole number".into())
                })?
                .min(self.cfg.limits.max_rows),
        };
        let page = (self.cfg.page_size as u64).min(limit.max(1)) as usize;
        let mut pit: Option<String> = None;
        if self.cfg.paging == Paging::PointInTime {
            pit = self.open_pit(index, sink).await?;
        }
        let result = self
            .search_pages(index, user_body, &types, limit, page, &mut pit, sink)
            .await;
        if let Some(id) = pit {
            self.close_pit(&id, sink).await;
        }
        result
    }

    async fn open_pit(
        &self,
        index: &str,
        sink: &mut dyn ResultSink,
    ) -> Result<Option<String>, RemoteError> {
        let ka = &self.cfg.keep_alive;
        let (path, key) = match self.cfg.flavor {
            Flavor::Elasticsearch => (format!("/{index}/_pit?keep_alive={ka}"), "id"),
            Flavor::OpenSearch => (
                format!("/{index}/_search/point_in_time?keep_alive={ka}"),
                "pit_id",
            ),
        };
        let resp = self.call(reqwest::Method::POST, &path, None, sink).await?;
        let status = resp.status().as_u16();
        if matches!(status, 400 | 404 | 405) {
            // No point-in-time on this server (or for this user): page on the sort alone.
            let _ = self.http.summary_of(resp).await;
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(self.http.error_for(resp).await);
        }
        let v = self.http.read_json(resp).await?;
        match v.get(key).and_then(Value::as_str) {
            Some(id) => Ok(Some(id.to_string())),
            None => Err(RemoteError::Response {
                provider: PROVIDER,
                detail: format!("point-in-time reply without `{key}`"),
            }),
        }
    }

    async fn close_pit(&self, id: &str, sink: &mut dyn ResultSink) {
        let (path, body) = match self.cfg.flavor {
            Flavor::Elasticsearch => ("/_pit", json!({ "id": id })),
            Flavor::OpenSearch => ("/_search/point_in_time", json!({ "pit_id": [id] })),
        };
        // Best effort: the keep-alive frees it anyway.
        if let Ok(resp) = self
            .call(reqwest::Method::DELETE, path, Some(&body), sink)
            .await
        {
            let _ = self.http.summary_of(resp).await;
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn search_pages(
        &self,
        index: &str,
        user_body: &Map<String, Value>,
        types: &HashMap<String, String>,
        limit: u64,
        page: usize,
        pit: &mut Option<String>,
        sink: &mut dyn ResultSink,
    ) -> Result<QuerySummary, RemoteError> {
        let mut body = user_body.clone();
        body.remove("from");
        body.insert("size".into(), json!(page));
        let tiebreak = match (&pit, self.cfg.flavor) {
            (Some(_), Flavor::Elasticsearch) => json!({ "_shard_doc": "asc" }),
            _ => json!({ "_id": "asc" }),
        };
        let sort = match body.get("sort") {
            None | Some(Value::Null) => json!([tiebreak]),
            Some(Value::Array(a)) => {
                let mut a = a.clone();
                a.push(tiebreak);
                Value::Array(a)
            }
            Some(other) => json!([other.clone(), tiebreak]),
        };
        body.insert("sort".into(), sort);
        let mut window = SchemaWindow::new(types, self.cfg.limits.clone(), sink);
        let mut partial = false;
        let mut reported: BTreeSet<String> = BTreeSet::new();
        let mut search_after: Option<Value> = None;
        let mut fetched: u64 = 0;
        let path = if pit.is_some() {
            "/_search".to_string()
        } else {
            format!("/{index}/_search")
        };
        loop {
            if let Some(id) = pit.as_ref() {
                body.insert(
                    "pit".into(),
                    json!({ "id": id, "keep_alive": self.cfg.keep_alive }),
                );
            }
            if let Some(sa) = &search_after {
                body.insert("search_after".into(), sa.clone());
            }
            let remaining = limit - fetched;
            body.insert("size".into(), json!((page as u64).min(remaining)));
            let body_v = Value::Object(body.clone());
            let mut v = self
                .call_json(reqwest::Method::POST, &path, Some(&body_v), window.sink())
                .await?;
            if let Some(id) = v.get("pit_id").and_then(Value::as_str) {
                *pit = Some(id.to_string());
            }
            let shard_problem = shard_failures(&v);
            if let Some(msg) = shard_problem {
                partial = true;
                if reported.insert(msg.clone()) {
                    window.sink().event(QueryEvent::Warning(Warning {
                        kind: WarningKind::PartialResult,
                        message: msg,
                    }));
                }
            }
            let hits = match v.pointer_mut("/hits/hits").map(Value::take) {
                Some(Value::Array(h)) => h,
                _ => {
                    return Err(RemoteError::Response {
                        provider: PROVIDER,
                        detail: "search reply without hits.hits".into(),
                    })
                }
            };
            let n = hits.len();
            let mut last_sort = None;
            for hit in hits {
                let Value::Object(mut hit) = hit else {
                    continue;
                };
                last_sort = hit.remove("sort");
                let mut row = Map::new();
                for meta in ["_index", "_id"] {
                    if let Some(x) = hit.remove(meta) {
                        row.insert(meta.into(), x);
                    }
                }
                if let Some(src) = hit.remove("_source") {
                    flatten("", src, &mut row, 0);
                }
                if !window.push(row)? {
                    break;
                }
            }
            fetched += n as u64;
            window.sink().ready().await;
            if window.stopped || n < page || fetched >= limit {
                break;
            }
            match last_sort {
                Some(s) => search_after = Some(s),
                None => {
                    return Err(RemoteError::Response {
                        provider: PROVIDER,
                        detail: "hits carry no `sort` values to page on".into(),
                    })
                }
            }
        }
        let mut summary = window.finish()?;
        summary.partial |= partial;
        Ok(summary)
    }

    async fn sql(
        &self,
        query: &str,
        sink: &mut dyn ResultSink,
    ) -> Result<QuerySummary, RemoteError> {
        let (path, close_path, cols_key, rows_key) = match self.cfg.flavor {
            Flavor::Elasticsearch => ("/_sql?format=json", "/_sql/close", "columns", "rows"),
            Flavor::OpenSearch => (
                "/_plugins/_sql",
                "/_plugins/_sql/close",
                "schema",
                "datarows",
            ),
        };
        let first = json!({ "query": query, "fetch_size": self.cfg.page_size });
        let mut v = self
            .call_json(reqwest::Method::POST, path, Some(&first), sink)
            .await?;
        let cols =
            v.get(cols_key)
                .and_then(Value::as_array)
                .ok_or_else(|| RemoteError::Response {
                    provider: PROVIDER,
                    detail: format!("SQL reply without `{cols_key}`"),
                })?;
        let specs: Vec<ColumnSpec> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let name = c
                    .get("alias")
                    .or_else(|| c.get("name"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("column_{i}"));
                let ty = c.get("type").and_then(Value::as_str).unwrap_or("keyword");
                ColumnSpec::new(name, es_kind(ty))
            })
            .collect();
        let mut out = Emitter::new(
            sink,
            &specs,
            self.cfg.limits.batch_rows,
            self.cfg.limits.max_rows,
        )?;
        let width = specs.len();
        loop {
            let rows = match v.get_mut(rows_key).map(Value::take) {
                Some(Value::Array(r)) => r,
                None | Some(Value::Null) => Vec::new(),
                Some(_) => {
                    return Err(RemoteError::Response {
                        provider: PROVIDER,
                        detail: format!("`{rows_key}` is not a list"),
                    })
                }
            };
            let mut stopped = false;
            for (i, row) in rows.into_iter().enumerate() {
                let Value::Array(cells) = row else {
                    return Err(RemoteError::Response {
                        provider: PROVIDER,
                        detail: format!("SQL row {i} is not a list"),
                    });
                };
                if cells.len() != width {
                    return Err(RemoteError::Response {
                        provider: PROVIDER,
                        detail: format!(
                            "SQL row {i} has {} cells for {width} columns",
                            cells.len()
                        ),
                    });
                }
                if !out.push_row(|c| cells.get(c))? {
                    stopped = true;
                    break;
                }
            }
            let cursor = v
                .get("cursor")
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty())
                .map(str::to_string);
            match cursor {
                None => break,
                Some(c) if stopped => {
                    let body = json!({ "cursor": c });
                    if let Ok(resp) = self
                        .call(reqwest::Method::POST, close_path, Some(&body), out.sink())
                        .await
                    {
                        let _ = self.http.summary_of(resp).await;
                    }
                    break;
                }
                Some(c) => {
                    out.sink().ready().await;
                    let body = json!({ "cursor": c });
                    v = self
                        .call_json(reqwest::Method::POST, path, Some(&body), out.sink())
                        .await?;
                }
            }
        }
        let partial = out.truncated();
        let rows = out.finish()?;
        Ok(QuerySummary { rows, partial })
    }
}

/// Shard failures or a time-out in a search reply, as one message.
fn shard_failures(v: &Value) -> Option<String> {
    let shards = v.get("_shards");
    let failed = shards
        .and_then(|s| s.get("failed"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let timed_out = v.get("timed_out").and_then(Value::as_bool).unwrap_or(false);
    if failed == 0 && !timed_out {
        return None;
    }
    let total = shards
        .and_then(|s| s.get("total"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let mut reasons: Vec<String> = Vec::new();
    for f in shards
        .and_then(|s| s.get("failures"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .take(3)
    {
        let r = f.get("reason").cloned().unwrap_or(Value::Null);
        let text = summarize_body(json!({ "error": r }).to_string().as_bytes());
        if !text.is_empty() && !reasons.contains(&text) {
            reasons.push(text);
        }
    }
    let mut msg = if failed > 0 {
        format!("partial results: {failed} of {total} shards failed")
    } else {
        String::new()
    };
    if timed_out {
        if !msg.is_empty() {
            msg.push_str("; ");
        }
        msg.push_str("partial results: the search timed out on the server");
    }
    if !reasons.is_empty() {
        msg.push_str(&format!(" ({})", reasons.join("; ")));
    }
    Some(msg)
}

fn collect_mapping(prefix: &str, props: &Value, out: &mut HashMap<String, String>, depth: usize) {
    let Some(obj) = props.as_object() else { return };
    for (name, def) in obj {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        let ty = def.get("type").and_then(Value::as_str);
        match (ty, def.get("properties")) {
            (None | Some("object"), Some(p)) if depth < MAX_FLATTEN_DEPTH => {
                collect_mapping(&path, p, out, depth + 1)
            }
            (Some(t), _) => {
                let t = t.to_string();
                match out.get(&path) {
                    Some(existing) if existing != &t && es_kind(existing) != es_kind(&t) => {
                        out.insert(path, "keyword".into());
                    }
                    Some(_) => {}
                    None => {
                        out.insert(path, t);
                    }
                }
            }
            _ => {
                out.insert(path, "object".into());
            }
        }
    }
}

/// Flattens `_source` objects into dotted keys; arrays and deeper objects stay whole (JSON).
fn flatten(prefix: &str, v: Value, out: &mut Map<String, Value>, depth: usize) {
    match v {
        Value::Object(o) if depth < MAX_FLATTEN_DEPTH => {
            for (k, x) in o {
                let path = if prefix.is_empty() {
                    k
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&path, x, out, depth + 1);
            }
        }
        other => {
            out.insert(prefix.to_string(), other);
        }
    }
}

/// Arrow type of an Elasticsearch / OpenSearch field or SQL column type.
pub fn es_kind(ty: &str) -> ColumnKind {
    match ty.to_ascii_lowercase().as_str() {
        "date" | "date_nanos" | "datetime" | "timestamp" => ColumnKind::Timestamp,
        "long" | "integer" | "short" | "byte" | "unsigned_long" | "int" | "tinyint"
        | "smallint" | "bigint" => ColumnKind::Int64,
        "double" | "float" | "half_float" | "scaled_float" | "real" => ColumnKind::Float64,
        "boolean" => ColumnKind::Boolean,
        "object" | "nested" | "flattened" | "geo_point" | "geo_shape" | "shape" | "point"
        | "array" | "struct" => ColumnKind::Json,
        _ => ColumnKind::Utf8,
    }
}

/// Buffers the first `batch_rows` rows to fix the columns (in first-seen order, `_index` and
/// `_id` first) and their types (mapping type, else inferred from the buffered values). Holds the
/// sink, and lends it to the emitter once the schema is fixed.
struct SchemaWindow<'s, 't> {
    sink: Option<&'s mut dyn ResultSink>,
    types: &'t HashMap<String, String>,
    limits: Limits,
    pending: Vec<Map<String, Value>>,
    order: Vec<String>,
    seen: BTreeSet<String>,
    emitter: Option<Emitter<'s>>,
    dropped: BTreeSet<String>,
    stopped: bool,
}

impl<'s, 't> SchemaWindow<'s, 't> {
    fn new(
        types: &'t HashMap<String, String>,
        limits: Limits,
        sink: &'s mut dyn ResultSink,
    ) -> Self {
        Self {
            sink: Some(sink),
            types,
            limits,
            pending: Vec::new(),
            order: Vec::new(),
            seen: BTreeSet::new(),
            emitter: None,
            dropped: BTreeSet::new(),
            stopped: false,
        }
    }

    fn sink(&mut self) -> &mut dyn ResultSink {
        match (self.emitter.as_mut(), self.sink.as_mut()) {
            (Some(e), _) => e.sink(),
            (None, Some(s)) => &mut **s,
            (None, None) => unreachable!("the sink is either held or lent to the emitter"),
        }
    }

    /// Adds a row; false once the row limit stops the query.
    fn push(&mut self, row: Map<String, Value>) -> Result<bool, RemoteError> {
        if self.emitter.is_none() {
            for k in row.keys() {
                if self.seen.insert(k.clone()) {
                    self.order.push(k.clone());
                }
            }
            self.pending.push(row);
            if self.pending.len() >= self.limits.batch_rows {
                return self.start();
            }
            return Ok(true);
        }
        self.push_fixed(&row)
    }

    fn push_fixed(&mut self, row: &Map<String, Value>) -> Result<bool, RemoteError> {
        for k in row.keys() {
            if !self.seen.contains(k) && self.dropped.len() < 1000 {
                self.dropped.insert(k.clone());
            }
        }
        let order = &self.order;
        let emitter = self.emitter.as_mut().expect("started");
        let ok = emitter.push_row(|i| row.get(&order[i]))?;
        if !ok {
            self.stopped = true;
        }
        Ok(ok)
    }

    fn kind_of(&self, column: &str) -> ColumnKind {
        if let Some(t) = self.types.get(column) {
            return es_kind(t);
        }
        let (mut bools, mut ints, mut nums, mut strs, mut other) = (0, 0, 0, 0, 0);
        for row in &self.pending {
            match row.get(column) {
                None | Some(Value::Null) => {}
                Some(Value::Bool(_)) => bools += 1,
                Some(Value::Number(n)) if n.is_i64() || n.is_u64() => ints += 1,
                Some(Value::Number(_)) => nums += 1,
                Some(Value::String(_)) => strs += 1,
                Some(_) => other += 1,
            }
        }
        if other > 0 && bools + ints + nums + strs == 0 {
            ColumnKind::Json
        } else if bools > 0 && ints + nums + strs + other == 0 {
            ColumnKind::Boolean
        } else if ints > 0 && bools + nums + strs + other == 0 {
            ColumnKind::Int64
        } else if ints + nums > 0 && bools + strs + other == 0 {
            ColumnKind::Float64
        } else {
            ColumnKind::Utf8
        }
    }

    fn start(&mut self) -> Result<bool, RemoteError> {
        // Hit metadata first, then the fields (objects are read with sorted keys).
        self.order.sort_by_key(|c| match c.as_str() {
            "_index" => 0,
            "_id" => 1,
            _ => 2,
        });
        let specs: Vec<ColumnSpec> = self
            .order
            .iter()
            .map(|c| ColumnSpec::new(c, self.kind_of(c)))
            .collect();
        let sink = self.sink.take().expect("not started yet");
        self.emitter = Some(Emitter::new(
            sink,
            &specs,
            self.limits.batch_rows,
            self.limits.max_rows,
        )?);
        let pending = std::mem::take(&mut self.pending);
        for row in &pending {
            if !self.push_fixed(row)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn finish(mut self) -> Result<QuerySummary, RemoteError> {
        if self.emitter.is_none() {
            self.start()?;
        }
        let mut emitter = self.emitter.take().expect("started");
        if !self.dropped.is_empty() {
            let names: Vec<&str> = self.dropped.iter().map(String::as_str).take(20).collect();
            emitter.sink().event(QueryEvent::Warning(Warning {
                kind: WarningKind::SchemaDrift,
                message: format!(
                    "fields first seen after the first {} rows were dropped: {}{} (list the fields in `_source`, or raise BatchRows)",
                    self.limits.batch_rows,
                    names.join(", "),
                    if self.dropped.len() > names.len() { ", ..." } else { "" }
                ),
            }));
        }
        let partial = emitter.truncated();
        let rows = emitter.finish()?;
        Ok(QuerySummary { rows, partial })
    }
}
