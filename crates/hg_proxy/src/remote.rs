//! Remote query providers (Microsoft Sentinel / Log Analytics, Splunk, Elasticsearch /
//! OpenSearch): the `hg_remote` clients behind [`QueryProvider`].
//!
//! [`register`] adds the three providers to a [`ProviderSet`], each built from its
//! `DataProviders` entry (msticpyconfig.yaml) or `[providers.*]` table (huntglass.toml):
//!
//! | provider | entry names (first found) | raw queries |
//! |---|---|---|
//! | `MSSentinel` | `MSSentinel`, `MicrosoftSentinel`, `AzureSentinel`, `LogAnalytics`, else msticpyconfig's top-level `AzureSentinel` (its `Workspaces` also fill an entry without any; gaps filled from `AzureCLI.Args`: `clientId`, `clientSecret`, `tenantId`) | KQL |
//! | `Splunk` | `Splunk` | SPL |
//! | `Elastic` | `Elastic`, `Elasticsearch`, `OpenSearch` (the last defaults `Flavor` to opensearch) | a JSON search body (`index` names the index pattern) or SQL |
//!
//! A provider without an entry, or with an unusable one, is still listed: its
//! [`QueryProvider::status`] says what to configure, naming the file and key.
//!
//! A library query is written out by replacing each `{name}` of its template with the literal
//! of the parameter value in the provider's language ([`hg_remote::params::literal`]). For
//! Elasticsearch a template whose text starts with `{` is a search body, any other is SQL.
//!
//! The client runs on a task of its own and hands batches over a bounded channel: when the channel
//! is full the client stops reading from the upstream until the HTTP response catches up, and a
//! notebook that goes away stops the upstream request. Batches cross from hg_remote's Arrow
//! version to DataFusion's as IPC bytes. Warnings become result notes; the device-code sign-in
//! prompt is printed on the proxy's console (and noted).

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::io::Cursor;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use hg_remote::params::{literal, QueryLanguage};
use hg_remote::{
    ElasticClient, ElasticConfig, EsQuery, KqlQuery, QueryEvent, RemoteError, ResultSink,
    SentinelClient, SentinelConfig, SplQuery, SplunkClient, SplunkConfig,
};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::arrow::datatypes::SchemaRef;
use crate::arrow::ipc::reader::StreamReader;
use crate::arrow::record_batch::RecordBatch;
use crate::config::{Config, ProviderSection, SectionKind};
use crate::error::ProxyError;
use crate::provider::{
    ProviderSet, QueryProvider, QueryRequest, QueryResult, ResultItem, RunOptions,
};
use crate::queries::{ParamValue, TemplatePart};

/// Batches and notes buffered between a running client and the HTTP response.
const CHANNEL_ITEMS: usize = 8;

/// Which remote platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteKind {
    /// Microsoft Sentinel / Log Analytics (KQL).
    Sentinel,
    /// Splunk (SPL).
    Splunk,
    /// Elasticsearch / OpenSearch (search DSL or SQL).
    Elastic,
}

impl RemoteKind {
    /// The provider name clients use.
    pub fn name(self) -> &'static str {
        match self {
            RemoteKind::Sentinel => "MSSentinel",
            RemoteKind::Splunk => "Splunk",
            RemoteKind::Elastic => "Elastic",
        }
    }

    fn entry_names(self) -> &'static [&'static str] {
        match self {
            RemoteKind::Sentinel => &[
                "MSSentinel",
                "MicrosoftSentinel",
                "AzureSentinel",
                "LogAnalytics",
            ],
            RemoteKind::Splunk => &["Splunk"],
            RemoteKind::Elastic => &["Elastic", "Elasticsearch", "OpenSearch"],
        }
    }
}

enum Client {
    Sentinel(Arc<SentinelClient>),
    Splunk(Arc<SplunkClient>),
    Elastic(Arc<ElasticClient>),
}

enum Job {
    Sentinel(Arc<SentinelClient>, KqlQuery),
    Splunk(Arc<SplunkClient>, SplQuery),
    Elastic(Arc<ElasticClient>, EsQuery),
}

/// One remote platform as a query provider.
pub struct RemoteProvider {
    kind: RemoteKind,
    client: Result<Client, String>,
}

/// Adds the three remote providers to `set` (configured or not; see the module docs).
pub fn register(config: &Config, set: &mut ProviderSet) {
    for kind in [
        RemoteKind::Sentinel,
        RemoteKind::Splunk,
        RemoteKind::Elastic,
    ] {
        set.add(Arc::new(RemoteProvider::from_config(kind, config)));
    }
}

fn find_section<'c>(config: &'c Config, names: &[&str]) -> Option<&'c ProviderSection> {
    let sections = config.sections(SectionKind::Data);
    for want in names {
        if let Some((_, s)) = sections.iter().find(|(n, _)| n.eq_ignore_ascii_case(want)) {
            return Some(*s);
        }
    }
    None
}

impl RemoteProvider {
    /// Builds the provider from the configuration (an unusable entry gives a provider whose
    /// status explains why).
    pub fn from_config(kind: RemoteKind, config: &Config) -> RemoteProvider {
        let workspaces = match kind {
            RemoteKind::Sentinel => config.azure_sentinel.as_ref(),
            _ => None,
        };
        let (section, path) = match (find_section(config, kind.entry_names()), workspaces) {
            (Some(s), _) => (s, format!("DataProviders.{}", s.name)),
            (None, Some(w)) => (w, "AzureSentinel".to_string()),
            (None, None) => {
                let also = if kind == RemoteKind::Sentinel {
                    " (or an AzureSentinel.Workspaces section to msticpyconfig.yaml)"
                } else {
                    ""
                };
                return RemoteProvider {
                    kind,
                    client: Err(format!(
                        "not configured: add a DataProviders.{0} entry to msticpyconfig.yaml{also} or a [providers.{0}] table to huntglass.toml",
                        kind.name()
                    )),
                };
            }
        };
        let mut value = section.value().clone();
        if kind == RemoteKind::Sentinel {
            if let Some(w) = workspaces {
                merge_workspaces(&mut value, w.value());
            }
            if let Some(cli) = find_section(config, &["AzureCLI"]) {
                merge_azure_cli(&mut value, cli.value());
            }
        }
        if kind == RemoteKind::Elastic && section.name.eq_ignore_ascii_case("OpenSearch") {
            default_flavor(&mut value);
        }
        let client = RemoteProvider::build(kind, &path, &value).map_err(|e| {
            let unresolved: Vec<String> = section
                .unresolved()
                .iter()
                .map(|(key, problem)| format!("{key}: {problem}"))
                .collect();
            if unresolved.is_empty() {
                format!("{}: {e}", section.file.display())
            } else {
                format!(
                    "{}: {e} (unresolved settings: {})",
                    section.file.display(),
                    unresolved.join("; ")
                )
            }
        });
        RemoteProvider { kind, client }
    }

    /// A provider from an explicit section value (tests, embedding).
    pub fn from_value(
        kind: RemoteKind,
        path: &str,
        value: &Value,
    ) -> Result<RemoteProvider, String> {
        let client = RemoteProvider::build(kind, path, value).map_err(|e| e.to_string())?;
        Ok(RemoteProvider {
            kind,
            client: Ok(client),
        })
    }

    fn build(kind: RemoteKind, path: &str, value: &Value) -> Result<Client, RemoteError> {
        Ok(match kind {
            RemoteKind::Sentinel => Client::Sentinel(Arc::new(SentinelClient::new(
                SentinelConfig::from_msticpy(path, value, None)?,
            )?)),
            RemoteKind::Splunk => Client::Splunk(Arc::new(SplunkClient::new(
                SplunkConfig::from_msticpy(path, value)?,
            )?)),
            RemoteKind::Elastic => Client::Elastic(Arc::new(ElasticClient::new(
                ElasticConfig::from_msticpy(path, value)?,
            )?)),
        })
    }
}

/// Takes the `Workspaces` of msticpyconfig's top-level `AzureSentinel` section into a Sentinel
/// entry that names none of its own (the usual msticpyconfig layout: workspaces at the top,
/// credentials under `DataProviders`).
fn merge_workspaces(value: &mut Value, azure_sentinel: &Value) {
    let Some(found) = azure_sentinel
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("Workspaces")))
        .map(|(_, v)| v.clone())
    else {
        return;
    };
    let Some(obj) = value.as_object_mut() else {
        return;
    };
    if !obj.keys().any(|k| k.eq_ignore_ascii_case("Workspaces")) {
        obj.insert("Workspaces".into(), found);
    }
}

/// Copies `clientId` / `clientSecret` / `tenantId` of msticpyconfig's `AzureCLI.Args` into the
/// Sentinel entry's `Args` where the entry has none of its own.
fn merge_azure_cli(value: &mut Value, cli: &Value) {
    let Some(cli_args) = cli.get("Args").or(Some(cli)).and_then(Value::as_object) else {
        return;
    };
    let Some(obj) = value.as_object_mut() else {
        return;
    };
    let args = obj
        .entry("Args")
        .or_insert_with(|| Value::Object(Default::default()));
    let Some(args) = args.as_object_mut() else {
        return;
    };
    for (from, to) in [
        ("clientId", "ClientId"),
        ("clientSecret", "ClientSecret"),
        ("tenantId", "TenantId"),
    ] {
        if args.keys().any(|k| k.eq_ignore_ascii_case(to)) {
            continue;
        }
        if let Some((_, v)) = cli_args.iter().find(|(k, _)| k.eq_ignore_ascii_case(from)) {
            if !v.is_null() {
                args.insert(to.to_string(), v.clone());
            }
        }
    }
}

/// An `OpenSearch` entry means the OpenSearch flavor unless it says otherwise.
fn default_flavor(value: &mut Value) {
    let has_args = value.get("Args").is_some_and(Value::is_object);
    let target = if has_args {
        value.get_mut("Args")
    } else {
        Some(value)
    };
    if let Some(obj) = target.and_then(Value::as_object_mut) {
        if !obj.keys().any(|k| k.eq_ignore_ascii_case("Flavor")) {
            obj.insert("Flavor".into(), Value::String("opensearch".into()));
        }
    }
}

/// The query text of a library query in `lang`, every parameter written as a literal.
fn render(
    parts: &[TemplatePart],
    params: &BTreeMap<String, ParamValue>,
    lang: QueryLanguage,
) -> Result<String, ProxyError> {
    let mut out = String::new();
    for part in parts {
        match part {
            TemplatePart::Text(t) => out.push_str(t),
            TemplatePart::Param(name) => {
                let value = params.get(name).ok_or_else(|| {
                    ProxyError::BadRequest(format!("no value for parameter `{name}`"))
                })?;
                let text = literal(lang, &to_remote(value))
                    .map_err(|e| ProxyError::BadRequest(format!("parameter `{name}`: {e}")))?;
                out.push_str(&text);
            }
        }
    }
    Ok(out)
}

fn to_remote(v: &ParamValue) -> hg_remote::ParamValue {
    match v {
        ParamValue::Str(s) => hg_remote::ParamValue::Str(s.clone()),
        ParamValue::Int(i) => hg_remote::ParamValue::Int(*i),
        ParamValue::Float(f) => hg_remote::ParamValue::Float(*f),
        ParamValue::Datetime(ns) => {
            hg_remote::ParamValue::DateTime(chrono::DateTime::from_timestamp_nanos(*ns))
        }
        ParamValue::List(items) => {
            hg_remote::ParamValue::List(items.iter().map(to_remote).collect())
        }
    }
}

fn query_text(request: &QueryRequest, lang: QueryLanguage) -> Result<String, ProxyError> {
    match request {
        QueryRequest::Raw { text } => Ok(text.clone()),
        QueryRequest::Named { query, params } => render(&query.template, params, lang),
    }
}

fn starts_as_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// The client's error as an API error the notebook user can act on.
fn api_error(provider: &str, e: RemoteError) -> ProxyError {
    let message = e.to_string();
    match e {
        RemoteError::Config { .. } | RemoteError::Auth { .. } | RemoteError::Forbidden { .. } => {
            ProxyError::NotConfigured(message)
        }
        RemoteError::Throttled { retry_after, .. } => ProxyError::RateLimited {
            message,
            retry_after: retry_after.map(|d| d.as_secs().max(1)),
        },
        RemoteError::Upstream { status, .. } if (400..500).contains(&status) => {
            ProxyError::QueryFailed(message)
        }
        RemoteError::Query { .. } => ProxyError::QueryFailed(message),
        RemoteError::Param(_) => ProxyError::BadRequest(format!("{provider}: {message}")),
        RemoteError::Sink(_) | RemoteError::Arrow(_) => {
            ProxyError::internal(&format!("converting the {provider} result"), message)
        }
        RemoteError::Timeout { .. }
        | RemoteError::Transport { .. }
        | RemoteError::Upstream { .. }
        | RemoteError::Response { .. }
        | RemoteError::Limit { .. } => ProxyError::Upstream(message),
    }
}

enum Msg {
    Schema(SchemaRef),
    Item(Result<ResultItem, ProxyError>),
}

/// The sink the client writes to: converts to DataFusion's Arrow and queues for the response.
struct ChannelSink {
    provider: &'static str,
    tx: mpsc::Sender<Msg>,
    pending: VecDeque<Msg>,
    closed: bool,
    schema60: Option<hg_remote::arrow_schema::SchemaRef>,
    max_rows: Option<u64>,
}

impl ChannelSink {
    fn push(&mut self, msg: Msg) -> Result<(), String> {
        if self.closed {
            return Err("the client went away".into());
        }
        if !self.pending.is_empty() {
            self.pending.push_back(msg);
            return Ok(());
        }
        match self.tx.try_send(msg) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(m)) => {
                self.pending.push_back(m);
                Ok(())
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.closed = true;
                Err("the client went away".into())
            }
        }
    }

    async fn flush(&mut self) {
        while let Some(m) = self.pending.pop_front() {
            if self.tx.send(m).await.is_err() {
                self.closed = true;
                self.pending.clear();
            }
        }
    }
}

fn convert(bytes: Vec<u8>) -> Result<(SchemaRef, Vec<RecordBatch>), String> {
    let reader = StreamReader::try_new(Cursor::new(bytes), None).map_err(|e| e.to_string())?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    Ok((schema, batches))
}

impl ResultSink for ChannelSink {
    fn schema(&mut self, schema: &hg_remote::arrow_schema::SchemaRef) -> Result<(), String> {
        let bytes = hg_remote::ipc_stream(schema, &[]).map_err(|e| e.to_string())?;
        let (converted, _) = convert(bytes)?;
        self.schema60 = Some(schema.clone());
        self.push(Msg::Schema(converted))
    }

    fn batch(&mut self, batch: hg_remote::arrow_array::RecordBatch) -> Result<(), String> {
        let schema = self.schema60.clone().ok_or("batch before schema")?;
        let bytes = hg_remote::ipc_stream(&schema, &[batch]).map_err(|e| e.to_string())?;
        let (_, batches) = convert(bytes)?;
        for b in batches {
            self.push(Msg::Item(Ok(ResultItem::Batch(b))))?;
        }
        Ok(())
    }

    fn event(&mut self, event: QueryEvent) {
        let note = match event {
            QueryEvent::Warning(w) => w.message,
            QueryEvent::SignIn { message, .. } => {
                eprintln!("huntglass: {} sign-in: {message}", self.provider);
                format!("sign-in was requested: {message}")
            }
            _ => return,
        };
        let _ = self.push(Msg::Item(Ok(ResultItem::Note(note))));
    }

    fn ready(&mut self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(self.flush())
    }

    fn max_rows(&self) -> Option<u64> {
        self.max_rows
    }
}

#[async_trait]
impl QueryProvider for RemoteProvider {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn environments(&self) -> Vec<String> {
        let names: &[&str] = match self.kind {
            RemoteKind::Sentinel => &[
                "MSSentinel",
                "LogAnalytics",
                "AzureSentinel",
                "MSSentinel_New",
            ],
            RemoteKind::Splunk => &["Splunk"],
            RemoteKind::Elastic => &["Elastic", "Elasticsearch", "OpenSearch"],
        };
        names.iter().map(|s| s.to_string()).collect()
    }

    fn raw_language(&self) -> Option<&str> {
        Some(match self.kind {
            RemoteKind::Sentinel => "kql",
            RemoteKind::Splunk => "spl",
            RemoteKind::Elastic => "es",
        })
    }

    fn status(&self) -> Result<(), String> {
        self.client.as_ref().map(|_| ()).map_err(Clone::clone)
    }

    async fn run(
        &self,
        request: QueryRequest,
        options: RunOptions,
    ) -> Result<QueryResult, ProxyError> {
        let provider = self.kind.name();
        let client = self.client.as_ref().map_err(|why| {
            ProxyError::NotConfigured(format!("provider {provider} is not ready: {why}"))
        })?;
        let job = match client {
            Client::Sentinel(c) => Job::Sentinel(
                Arc::clone(c),
                KqlQuery {
                    query: query_text(&request, QueryLanguage::Kql)?,
                    timespan: None,
                },
            ),
            Client::Splunk(c) => Job::Splunk(
                Arc::clone(c),
                SplQuery {
                    search: query_text(&request, QueryLanguage::Spl)?,
                    earliest: None,
                    latest: None,
                },
            ),
            Client::Elastic(c) => {
                let lang = match &request {
                    QueryRequest::Named { query, .. } => match query.template.first() {
                        Some(TemplatePart::Text(t)) if starts_as_json(t) => QueryLanguage::EsDsl,
                        _ => QueryLanguage::EsSql,
                    },
                    QueryRequest::Raw { text } if starts_as_json(text) => QueryLanguage::EsDsl,
                    QueryRequest::Raw { .. } => QueryLanguage::EsSql,
                };
                let text = query_text(&request, lang)?;
                let q = EsQuery::parse(&text).map_err(|e| api_error(provider, e))?;
                Job::Elastic(Arc::clone(c), q)
            }
        };
        let (tx, mut rx) = mpsc::channel::<Msg>(CHANNEL_ITEMS);
        let mut sink = ChannelSink {
            provider,
            tx,
            pending: VecDeque::new(),
            closed: false,
            schema60: None,
            max_rows: options.max_rows.map(|n| n as u64),
        };
        tokio::spawn(async move {
            let result = match &job {
                Job::Sentinel(c, q) => c.query(q, &mut sink).await,
                Job::Splunk(c, q) => c.query(q, &mut sink).await,
                Job::Elastic(c, q) => c.query(q, &mut sink).await,
            };
            sink.flush().await;
            match result {
                Ok(_) => {}
                // The consumer went away: nobody to tell.
                Err(RemoteError::Sink(_)) if sink.closed => {}
                Err(e) => {
                    let _ = sink.tx.send(Msg::Item(Err(api_error(provider, e)))).await;
                }
            }
        });
        // Notes may come before the schema (an unavailable mapping, upstream messages).
        let mut early: Vec<Result<ResultItem, ProxyError>> = Vec::new();
        let schema = loop {
            match rx.recv().await {
                Some(Msg::Schema(schema)) => break schema,
                Some(Msg::Item(Err(e))) => return Err(e),
                Some(Msg::Item(Ok(item))) => early.push(Ok(item)),
                None => {
                    return Err(ProxyError::internal(
                        &format!("running a {provider} query"),
                        "the query task ended without a result",
                    ))
                }
            }
        };
        let rest = futures::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Some(Msg::Item(item)) => return Some((item, rx)),
                    Some(Msg::Schema(_)) => continue,
                    None => return None,
                }
            }
        });
        Ok(QueryResult {
            schema: Some(schema),
            items: futures::stream::iter(early).chain(rest).boxed(),
        })
    }
}
