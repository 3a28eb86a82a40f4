//! Splunk: one streamed search-jobs export (`output_mode=json`), token or basic auth.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU8, Ordering};

use serde_json::Value;

use crate::config::{base_url, Section};
use crate::http::{truncate_chars, Http};
use crate::table::{ColumnKind, ColumnSpec, Emitter};
use crate::{
    HttpSettings, Limits, QueryEvent, QuerySummary, RemoteError, ResultSink, Secret, Warning,
    WarningKind,
};

const PROVIDER: &str = "Splunk";

/// A JSON object read with its keys in the order Splunk sent them (the `| table` order).
struct OrderedFields(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for OrderedFields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = OrderedFields;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a result object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<OrderedFields, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, Value>()? {
                    out.push((k, v));
                }
                Ok(OrderedFields(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// One line of the export stream.
#[derive(serde::Deserialize)]
struct ExportLine {
    #[serde(default)]
    preview: Option<bool>,
    #[serde(default)]
    lastrow: Option<bool>,
    #[serde(default)]
    messages: Option<Vec<Value>>,
    #[serde(default)]
    result: Option<OrderedFields>,
}
/// Longest NDJSON line accepted (one result row).
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// How the client signs its requests.
#[derive(Clone, Debug)]
pub enum SplunkAuth {
    /// `Authorization: Bearer <token>` (Settings > Tokens; msticpy `bearer_token`).
    Token(Secret),
    /// HTTP Basic with a user name and password.
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: Secret,
    },
}

/// Which export endpoint to call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchApi {
    /// `/services/search/v2/jobs/export`, falling back to the v1 path on 404 (Splunk < 9.0.1).
    Auto,
    /// `/services/search/v2/jobs/export` only.
    V2,
    /// `/services/search/jobs/export` only.
    V1,
}

/// Settings of a [`SplunkClient`].
#[derive(Clone, Debug)]
pub struct SplunkConfig {
    /// `https://host:8089` (the management port).
    pub base_url: String,
    /// Credentials.
    pub auth: SplunkAuth,
    /// Export endpoint version.
    pub api: SearchApi,
    /// Time-outs and retries.
    pub http: HttpSettings,
    /// Batching (also the number of rows whose fields fix the schema) and row limit.
    pub limits: Limits,
}

impl SplunkConfig {
    /// Reads msticpyconfig's `DataProviders.Splunk` entry (with or without its `Args`): `host`
    /// (a name, or a URL), `port` (8089), `scheme`/`http_scheme` (https), `bearer_token` (also
    /// `token`), or `username` + `password`; `verify`, `SearchApi` (auto, v2, v1) and the common
    /// options.
    pub fn from_msticpy(path: &str, section: &Value) -> Result<Self, RemoteError> {
        let args = Section::new(path, section)?.args()?;
        let host = args.str_req(&["host"])?;
        let base = if host.contains("://") {
            base_url(&format!("{}.host", args.path), &host)?
        } else {
            let scheme = args
                .str_opt(&["scheme", "http_scheme"])?
                .unwrap_or_else(|| "https".into());
            let port = args.u64_opt(&["port"])?.unwrap_or(8089);
            if port == 0 || port > 65_535 {
                return Err(RemoteError::config(
                    format!("{}.port", args.path),
                    "expected 1..65535",
                ));
            }
            if host.contains(['/', '@', '?', '#', ' ']) {
                return Err(RemoteError::config(
                    format!("{}.host", args.path),
                    "expected a host name",
                ));
            }
            base_url(
                &format!("{}.host", args.path),
                &format!("{scheme}://{host}:{port}"),
            )?
        };
        let auth = match args.secret_opt(&["bearer_token", "token", "BearerToken"])? {
            Some(t) => SplunkAuth::Token(t),
            None => match (
                args.str_opt(&["username"])?,
                args.secret_opt(&["password"])?,
            ) {
                (Some(username), Some(password)) => SplunkAuth::Basic { username, password },
                (Some(_), None) => {
                    return Err(RemoteError::config(
                        format!("{}.password", args.path),
                        "missing (username given)",
                    ))
                }
                _ => {
                    return Err(RemoteError::config(
                        format!("{}.bearer_token", args.path),
                        "missing: set bearer_token, or username and password",
                    ))
                }
            },
        };
        let api = match args
            .str_opt(&["SearchApi"])?
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("auto") => SearchApi::Auto,
            Some("v2") => SearchApi::V2,
            Some("v1") => SearchApi::V1,
            Some(other) => {
                return Err(RemoteError::config(
                    format!("{}.SearchApi", args.path),
                    format!("expected auto, v2 or v1, found {other:?}"),
                ))
            }
        };
        let (http, limits) = args.common()?;
        Ok(Self {
            base_url: base,
            auth,
            api,
            http,
            limits,
        })
    }
}

/// An SPL search and its time range (Splunk time modifiers: `-24h`, `@d`, epoch seconds, ...).
#[derive(Clone, Debug, Default)]
pub struct SplQuery {
    /// The search; `search ` is prepended unless it starts with `search` or `|`.
    pub search: String,
    /// `earliest_time`.
    pub earliest: Option<String>,
    /// `latest_time`.
    pub latest: Option<String>,
}

/// Runs SPL through the streaming export endpoint.
pub struct SplunkClient {
    cfg: SplunkConfig,
    http: Http,
    /// 0 unknown, 1 v2 works, 2 v1 only (learnt from a 404).
    api_state: AtomicU8,
}

impl SplunkClient {
    /// Creates the client.
    pub fn new(cfg: SplunkConfig) -> Result<Self, RemoteError> {
        let http = Http::new(PROVIDER, cfg.http.clone())?;
        match &cfg.auth {
            SplunkAuth::Token(t) => http.add_secret(t),
            SplunkAuth::Basic { username, password } => http.add_basic(username, password),
        }
        Ok(Self {
            cfg,
            http,
            api_state: AtomicU8::new(0),
        })
    }

    fn export_url(&self, v2: bool) -> String {
        if v2 {
            format!("{}/services/search/v2/jobs/export", self.cfg.base_url)
        } else {
            format!("{}/services/search/jobs/export", self.cfg.base_url)
        }
    }

    /// Runs the search; rows stream to the sink in batches as Splunk sends them.
    pub async fn query(
        &self,
        q: &SplQuery,
        sink: &mut dyn ResultSink,
    ) -> Result<QuerySummary, RemoteError> {
        let trimmed = q.search.trim_start();
        let search = if trimmed.starts_with('|') || trimmed.starts_with("search ") {
            trimmed.to_string()
        } else {
            format!("search {trimmed}")
        };
        let mut form: Vec<(&str, String)> = vec![
            ("search", search),
            ("output_mode", "json".into()),
            ("preview", "false".into()),
        ];
        if let Some(e) = &q.earliest {
            form.push(("earliest_time", e.clone()));
        }
        if let Some(l) = &q.latest {
            form.push(("latest_time", l.clone()));
        }
        let use_v2 = match self.cfg.api {
            SearchApi::V2 => true,
            SearchApi::V1 => false,
            SearchApi::Auto => self.api_state.load(Ordering::Relaxed) != 2,
        };
        let mut resp = self.post(&self.export_url(use_v2), &form, sink).await?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND
            && use_v2
            && self.cfg.api == SearchApi::Auto
        {
            self.api_state.store(2, Ordering::Relaxed);
            resp = self.post(&self.export_url(false), &form, sink).await?;
        } else if use_v2 && resp.status().is_success() {
            self.api_state.store(1, Ordering::Relaxed);
        }
        if !resp.status().is_success() {
            return Err(self.http.error_for(resp).await);
        }
        self.read_stream(resp, sink).await
    }

    async fn post(
        &self,
        url: &str,
        form: &[(&str, String)],
        sink: &mut dyn ResultSink,
    ) -> Result<reqwest::Response, RemoteError> {
        let client = self.http.client().clone();
        let auth = self.cfg.auth.clone();
        let build = move || {
            let r = client.post(url).form(form);
            match &auth {
                SplunkAuth::Token(t) => r.bearer_auth(t.expose()),
                SplunkAuth::Basic { username, password } => {
                    r.basic_auth(username, Some(password.expose()))
                }
            }
        };
        self.http.send(&build, sink).await
    }

    async fn read_stream(
        &self,
        mut resp: reqwest::Response,
        sink: &mut dyn ResultSink,
    ) -> Result<QuerySummary, RemoteError> {
        let mut state = StreamState::new(self.cfg.limits.clone(), sink);
        let mut buf: Vec<u8> = Vec::new();
        let mut start = 0usize;
        let mut line_no = 0u64;
        let mut more = true;
        while more {
            more = self.http.read_chunk(&mut resp, &mut buf).await?;
            loop {
                let next = buf[start..].iter().position(|&b| b == b'\n');
                let end = match (next, more) {
                    (Some(p), _) => start + p,
                    (None, false) if start < buf.len() => buf.len(),
                    _ => break,
                };
                line_no += 1;
                let line = &buf[start..end];
                start = (end + 1).min(buf.len());
                if !state.line(line, line_no)? {
                    more = false;
                    break;
                }
            }
            if start > 0 {
                buf.drain(..start);
                start = 0;
            }
            state.sink().ready().await;
            if buf.len() > MAX_LINE_BYTES {
                return Err(RemoteError::Limit {
                    provider: PROVIDER,
                    detail: format!("a result line is longer than {MAX_LINE_BYTES} bytes"),
                });
            }
        }
        drop(resp);
        state.finish()
    }
}

/// The NDJSON reader: drops preview rows, reports messages, fixes the schema from the first
/// `batch_rows` rows.
struct StreamState<'s> {
    limits: Limits,
    /// The sink until the schema is fixed; then the emitter owns it.
    sink: Option<&'s mut dyn ResultSink>,
    pending: Vec<Vec<(String, Value)>>,
    columns: Vec<String>,
    index: HashMap<String, usize>,
    emitter: Option<Emitter<'s>>,
    dropped_fields: BTreeSet<String>,
    seen_messages: BTreeSet<String>,
    saw_last_row: bool,
    stopped: bool,
}

impl<'s> StreamState<'s> {
    fn new(limits: Limits, sink: &'s mut dyn ResultSink) -> Self {
        Self {
            limits,
            sink: Some(sink),
            pending: Vec::new(),
            columns: Vec::new(),
            index: HashMap::new(),
            emitter: None,
            dropped_fields: BTreeSet::new(),
            seen_messages: BTreeSet::new(),
            saw_last_row: false,
            stopped: false,
        }
    }

    /// Handles one line; false once no more rows are wanted.
    fn sink(&mut self) -> &mut dyn ResultSink {
        match (self.emitter.as_mut(), self.sink.as_mut()) {
            (Some(e), _) => e.sink(),
            (None, Some(s)) => &mut **s,
            (None, None) => unreachable!("the sink is either held or lent to the emitter"),
        }
    }

    fn line(&mut self, line: &[u8], line_no: u64) -> Result<bool, RemoteError> {
        let line = line.trim_ascii();
        if line.is_empty() {
            return Ok(true);
        }
        let obj: ExportLine = serde_json::from_slice(line).map_err(|e| RemoteError::Response {
            provider: PROVIDER,
            detail: format!(
                "line {line_no} is not JSON of the export shape ({e}): {}",
                truncate_chars(&String::from_utf8_lossy(line), 80)
            ),
        })?;
        if let Some(msgs) = &obj.messages {
            for m in msgs {
                let kind = m
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_ascii_uppercase();
                let text = m.get("text").and_then(Value::as_str).unwrap_or("");
                if matches!(kind.as_str(), "WARN" | "ERROR" | "FATAL") && !text.is_empty() {
                    let msg = format!("{kind}: {}", truncate_chars(text, 300));
                    if self.seen_messages.insert(msg.clone()) {
                        let w = Warning {
                            kind: WarningKind::UpstreamMessage,
                            message: msg,
                        };
                        self.sink().event(QueryEvent::Warning(w));
                    }
                }
            }
        }
        if obj.lastrow == Some(true) {
            self.saw_last_row = true;
        }
        if obj.preview == Some(true) {
            return Ok(true);
        }
        let Some(OrderedFields(row)) = obj.result else {
            return Ok(true);
        };
        if self.emitter.is_none() {
            for (k, _) in &row {
                if !self.index.contains_key(k) {
                    self.index.insert(k.clone(), self.columns.len());
                    self.columns.push(k.clone());
                }
            }
            self.pending.push(row);
            if self.pending.len() >= self.limits.batch_rows {
                return self.start();
            }
            return Ok(true);
        }
        self.push(&row)
    }

    fn start(&mut self) -> Result<bool, RemoteError> {
        let specs: Vec<ColumnSpec> = self
            .columns
            .iter()
            .map(|c| {
                ColumnSpec::new(
                    c,
                    if c == "_time" {
                        ColumnKind::Timestamp
                    } else {
                        ColumnKind::Utf8
                    },
                )
            })
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
            if !self.push(row)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn push(&mut self, row: &[(String, Value)]) -> Result<bool, RemoteError> {
        let mut cells: Vec<Option<&Value>> = vec![None; self.columns.len()];
        for (k, v) in row {
            match self.index.get(k) {
                Some(&i) => cells[i] = Some(v),
                None if self.dropped_fields.len() < 1000 => {
                    self.dropped_fields.insert(k.clone());
                }
                None => {}
            }
        }
        let emitter = self.emitter.as_mut().expect("started");
        let ok = emitter.push_row(|i| cells[i])?;
        if !ok {
            self.stopped = true;
        }
        Ok(ok)
    }

    fn finish(mut self) -> Result<QuerySummary, RemoteError> {
        if self.emitter.is_none() {
            self.start()?;
        }
        let mut emitter = self.emitter.take().expect("started");
        let mut partial = emitter.truncated();
        if !self.saw_last_row && !self.stopped {
            partial = true;
            emitter.sink().event(QueryEvent::Warning(Warning {
                kind: WarningKind::PartialResult,
                message:
                    "the export ended without its last-row marker: the result may be incomplete"
                        .into(),
            }));
        }
        if !self.dropped_fields.is_empty() {
            let names: Vec<&str> = self
                .dropped_fields
                .iter()
                .map(String::as_str)
                .take(20)
                .collect();
            emitter.sink().event(QueryEvent::Warning(Warning {
                kind: WarningKind::SchemaDrift,
                message: format!(
                    "fields first seen after the first {} rows were dropped: {}{} (add `| table ...` or `| fields ...` to the search, or raise BatchRows)",
                    self.limits.batch_rows,
                    names.join(", "),
                    if self.dropped_fields.len() > names.len() { ", ..." } else { "" }
                ),
            }));
        }
        let rows = emitter.finish()?;
        Ok(QuerySummary { rows, partial })
    }
}
