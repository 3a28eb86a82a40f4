//! Microsoft Sentinel / Log Analytics: KQL over the Log Analytics query API.

use std::time::Duration;

use serde_json::{json, Value};

use crate::config::{base_url, Section};
use crate::entra::{EntraAuth, EntraConfig, EntraFlow, AZURE_CLI_CLIENT_ID};
use crate::http::{summarize_body, Http};
use crate::table::{ColumnKind, ColumnSpec, Emitter};
use crate::{
    HttpSettings, Limits, QueryEvent, QuerySummary, RemoteError, ResultSink, Warning, WarningKind,
};

const PROVIDER: &str = "MSSentinel";

/// Settings of a [`SentinelClient`].
#[derive(Clone, Debug)]
pub struct SentinelConfig {
    /// The workspace queried.
    pub workspace_id: String,
    /// More workspaces for cross-workspace queries (`workspaces` in the request body).
    pub additional_workspaces: Vec<String>,
    /// Log Analytics API base (`https://api.loganalytics.io`; sovereign clouds differ).
    pub endpoint: String,
    /// Token settings.
    pub auth: EntraConfig,
    /// Server-side wait sent as `Prefer: wait=N` (seconds, at most 600).
    pub server_wait_s: u32,
    /// Time-outs and retries.
    pub http: HttpSettings,
    /// Batching and row limit.
    pub limits: Limits,
}

fn cloud_endpoints(cloud: &str) -> Option<(&'static str, &'static str)> {
    match cloud.to_ascii_lowercase().as_str() {
        "global" | "public" | "azurecloud" => Some((
            "https://login.microsoftonline.com",
            "https://api.loganalytics.io",
        )),
        "usgov" | "azureusgovernment" => Some((
            "https://login.microsoftonline.us",
            "https://api.loganalytics.us",
        )),
        "cn" | "china" | "azurechinacloud" => Some((
            "https://login.chinacloudapi.cn",
            "https://api.loganalytics.azure.cn",
        )),
        _ => None,
    }
}

/// Tenant ids are GUIDs or domain names; workspace ids are GUIDs (both go into URL paths).
fn check_id(key: String, value: &str, allow_domain: bool) -> Result<(), RemoteError> {
    let ok = !value.is_empty()
        && value.len() <= 253
        && value.bytes().all(|b| {
            b.is_ascii_hexdigit()
                || b == b'-'
                || (allow_domain && (b.is_ascii_alphanumeric() || b == b'.'))
        });
    if ok {
        Ok(())
    } else if allow_domain {
        Err(RemoteError::config(
            key,
            "expected a tenant GUID or domain name",
        ))
    } else {
        Err(RemoteError::config(key, "expected a workspace GUID"))
    }
}

impl SentinelConfig {
    /// Reads msticpyconfig's `AzureSentinel` section (`Workspaces: {Default: {...}, Name: {...}}`),
    /// a single workspace mapping, or a `DataProviders` entry with `Args`; `path` names the
    /// section in error messages and `workspace` picks a named workspace (else `Default`, else
    /// the only one).
    ///
    /// Keys (case-insensitive; in the workspace entry or the section's `Args`): `WorkspaceId`,
    /// `TenantId`, `ClientId` + `ClientSecret` (client credentials; without a secret the device
    /// code flow runs with `ClientId` or Azure CLI's public client), `Cloud` (global, usgov, cn),
    /// `AuthorityUri`, `LogAnalyticsUri`, `AdditionalWorkspaces`, `ServerWait`, and the common
    /// options (`Timeout`, `MaxRetries`, `MaxRows`, ...).
    pub fn from_msticpy(
        path: &str,
        section: &Value,
        workspace: Option<&str>,
    ) -> Result<Self, RemoteError> {
        let top = Section::new(path, section)?;
        let args = top.args()?;
        let entry = match top.section(&["Workspaces"])? {
            Some(ws) => {
                let names = ws.keys();
                let chosen = match workspace {
                    Some(w) => ws.section(&[w])?.ok_or_else(|| {
                        RemoteError::config(
                            format!("{}.{w}", ws.path),
                            format!("no such workspace (configured: {})", names.join(", ")),
                        )
                    })?,
                    None => match ws.section(&["Default"])? {
                        Some(d) => d,
                        None if names.len() == 1 => ws.section(&[names[0]])?.expect("present"),
                        None => {
                            return Err(RemoteError::config(
                                format!("{}.Default", ws.path),
                                format!(
                                    "missing; name the workspace to use (configured: {})",
                                    if names.is_empty() {
                                        "none".to_string()
                                    } else {
                                        names.join(", ")
                                    }
                                ),
                            ))
                        }
                    },
                };
                chosen
            }
            None => args,
        };
        let args = top.args()?;
        // Look a key up in the workspace entry first, then in the section's Args.
        let text = |names: &[&str]| -> Result<Option<String>, RemoteError> {
            match entry.str_opt(names)? {
                Some(v) => Ok(Some(v)),
                None => args.str_opt(names),
            }
        };
        let workspace_id = entry.str_req(&["WorkspaceId", "workspace_id"])?;
        check_id(format!("{}.WorkspaceId", entry.path), &workspace_id, false)?;
        let tenant_id = entry
            .str_opt(&["TenantId", "tenant_id"])?
            .map(Ok)
            .unwrap_or_else(|| args.str_req(&["TenantId", "tenant_id"]))?;
        check_id(format!("{}.TenantId", entry.path), &tenant_id, true)?;
        let cloud = text(&["Cloud"])?.unwrap_or_else(|| "global".into());
        let (authority_default, endpoint_default) = cloud_endpoints(&cloud).ok_or_else(|| {
            RemoteError::config(
                format!("{}.Cloud", entry.path),
                format!("unknown cloud {cloud:?} (global, usgov or cn)"),
            )
        })?;
        let authority = match text(&["AuthorityUri", "Authority", "AuthorityHost"])? {
            Some(a) => base_url(&format!("{}.AuthorityUri", entry.path), &a)?,
            None => authority_default.to_string(),
        };
        let endpoint = match text(&["LogAnalyticsUri", "Endpoint"])? {
            Some(e) => base_url(
                &format!("{}.LogAnalyticsUri", entry.path),
                e.trim_end_matches("/v1"),
            )?,
            None => endpoint_default.to_string(),
        };
        let client_id = text(&["ClientId", "client_id"])?;
        let client_secret = match entry.secret_opt(&["ClientSecret", "client_secret"])? {
            Some(s) => Some(s),
            None => args.secret_opt(&["ClientSecret", "client_secret"])?,
        };
        let flow = match (client_id, client_secret) {
            (Some(client_id), Some(client_secret)) => EntraFlow::ClientSecret {
                client_id,
                client_secret,
            },
            (None, Some(_)) => {
                return Err(RemoteError::config(
                    format!("{}.ClientId", entry.path),
                    "missing: a ClientSecret needs the ClientId of its application",
                ))
            }
            (id, None) => EntraFlow::DeviceCode {
                client_id: id.unwrap_or_else(|| AZURE_CLI_CLIENT_ID.to_string()),
            },
        };
        let mut additional_workspaces = Vec::new();
        if let Some((k, v)) = entry
            .get(&["AdditionalWorkspaces"])
            .or_else(|| args.get(&["AdditionalWorkspaces"]))
        {
            let key = format!("{}.{k}", entry.path);
            let list = v
                .as_array()
                .ok_or_else(|| RemoteError::config(&key, "expected a list of workspace ids"))?;
            for item in list {
                let id = item
                    .as_str()
                    .ok_or_else(|| RemoteError::config(&key, "expected a list of workspace ids"))?;
                check_id(key.clone(), id, false)?;
                additional_workspaces.push(id.to_string());
            }
        }
        let server_wait_s = match entry.u64_opt(&["ServerWait"])? {
            Some(n) => n.clamp(1, 600) as u32,
            None => args.u64_opt(&["ServerWait"])?.unwrap_or(300).clamp(1, 600) as u32,
        };
        let (http, limits) = if entry.get(&["Timeout", "MaxRows", "MaxRetries"]).is_some() {
            entry.common()?
        } else {
            args.common()?
        };
        Ok(Self {
            workspace_id,
            additional_workspaces,
            endpoint,
            auth: EntraConfig {
                authority,
                tenant_id,
                flow,
                scope: "https://api.loganalytics.io/.default".into(),
                refresh_margin: Duration::from_secs(300),
                min_poll_interval: Duration::from_secs(1),
                max_sign_in_wait: Duration::from_secs(900),
            },
            server_wait_s,
            http,
            limits,
        })
    }
}

/// A KQL query and its time range.
#[derive(Clone, Debug, Default)]
pub struct KqlQuery {
    /// The KQL text.
    pub query: String,
    /// ISO-8601 `timespan`: a duration (`P7D`) or `start/end`; None leaves the range to the
    /// query's own `where` clauses.
    pub timespan: Option<String>,
}

/// Runs KQL against one Log Analytics workspace.
pub struct SentinelClient {
    cfg: SentinelConfig,
    http: Http,
    auth: EntraAuth,
}

impl SentinelClient {
    /// Creates the client (no request is sent until the first query).
    pub fn new(cfg: SentinelConfig) -> Result<Self, RemoteError> {
        let http = Http::new(PROVIDER, cfg.http.clone())?;
        let auth = EntraAuth::new(cfg.auth.clone(), http.clone());
        Ok(Self { cfg, http, auth })
    }

    /// The settings.
    pub fn config(&self) -> &SentinelConfig {
        &self.cfg
    }

    /// Runs the query; the first result table goes to the sink in batches.
    pub async fn query(
        &self,
        q: &KqlQuery,
        sink: &mut dyn ResultSink,
    ) -> Result<QuerySummary, RemoteError> {
        let url = format!(
            "{}/v1/workspaces/{}/query",
            self.cfg.endpoint, self.cfg.workspace_id
        );
        let mut body = json!({ "query": q.query });
        if let Some(ts) = &q.timespan {
            body["timespan"] = json!(ts);
        }
        if !self.cfg.additional_workspaces.is_empty() {
            body["workspaces"] = json!(self.cfg.additional_workspaces);
        }
        let prefer = format!("wait={}", self.cfg.server_wait_s);
        let mut refused_once = false;
        let resp = loop {
            let token = self.auth.token(sink).await?;
            let client = self.http.client().clone();
            let build = || {
                client
                    .post(&url)
                    .bearer_auth(token.expose())
                    .header("Prefer", &prefer)
                    .json(&body)
            };
            let resp = self.http.send(&build, sink).await?;
            // A token revoked or expired early: get a new one once.
            if resp.status() == reqwest::StatusCode::UNAUTHORIZED && !refused_once {
                refused_once = true;
                self.auth.invalidate().await;
                continue;
            }
            if !resp.status().is_success() {
                return Err(self.http.error_for(resp).await);
            }
            break resp;
        };
        let mut v = self.http.read_json(resp).await?;
        let error = v.get_mut("error").map(Value::take).filter(|e| !e.is_null());
        let tables = match v.get_mut("tables").map(Value::take) {
            Some(Value::Array(t)) => t,
            None | Some(Value::Null) => Vec::new(),
            Some(_) => return Err(self.bad("`tables` is not a list")),
        };
        if tables.is_empty() {
            return Err(match error {
                Some(e) => RemoteError::Query {
                    provider: PROVIDER,
                    detail: self.http.redact(&summarize_body(
                        json!({ "error": e }).to_string().as_bytes(),
                    )),
                },
                None => self.bad("no `tables` in the reply"),
            });
        }
        let mut partial = false;
        if let Some(e) = error {
            partial = true;
            sink.event(QueryEvent::Warning(Warning {
                kind: WarningKind::PartialResult,
                message: format!(
                    "partial results: {}",
                    self.http.redact(&summarize_body(
                        json!({ "error": e }).to_string().as_bytes()
                    ))
                ),
            }));
        }
        let n_tables = tables.len();
        let mut tables = tables.into_iter();
        let mut first = tables.next().expect("non-empty");
        if n_tables > 1 {
            let names: Vec<String> = tables
                .map(|t| {
                    t.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_string()
                })
                .collect();
            sink.event(QueryEvent::Warning(Warning {
                kind: WarningKind::ExtraTables,
                message: format!(
                    "only the first result table is returned; also produced: {}",
                    names.join(", ")
                ),
            }));
        }
        let specs = self.columns(&first)?;
        let rows = match first.get_mut("rows").map(Value::take) {
            Some(Value::Array(r)) => r,
            _ => return Err(self.bad("the table has no `rows` list")),
        };
        let mut out = Emitter::new(
            sink,
            &specs,
            self.cfg.limits.batch_rows,
            self.cfg.limits.max_rows,
        )?;
        let width = out.width();
        for (i, row) in rows.into_iter().enumerate() {
            let Value::Array(cells) = row else {
                return Err(self.bad(&format!("row {i} is not a list")));
            };
            if cells.len() != width {
                return Err(self.bad(&format!(
                    "row {i} has {} cells for {width} columns",
                    cells.len()
                )));
            }
            if !out.push_row(|c| cells.get(c))? {
                break;
            }
        }
        partial |= out.truncated();
        let rows = out.finish()?;
        Ok(QuerySummary { rows, partial })
    }

    fn columns(&self, table: &Value) -> Result<Vec<ColumnSpec>, RemoteError> {
        let cols = table
            .get("columns")
            .and_then(Value::as_array)
            .ok_or_else(|| self.bad("the table has no `columns` list"))?;
        cols.iter()
            .enumerate()
            .map(|(i, c)| {
                let name = c
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| self.bad(&format!("column {i} has no name")))?;
                let ty = c.get("type").and_then(Value::as_str).unwrap_or("string");
                Ok(ColumnSpec::new(name, kql_kind(ty)))
            })
            .collect()
    }

    fn bad(&self, what: &str) -> RemoteError {
        RemoteError::Response {
            provider: PROVIDER,
            detail: what.to_string(),
        }
    }
}

/// Arrow type of a Log Analytics column type. `decimal` stays text (exact digits);
/// `dynamic` is JSON text.
pub fn kql_kind(ty: &str) -> ColumnKind {
    match ty.to_ascii_lowercase().as_str() {
        "datetime" | "date" => ColumnKind::Timestamp,
        "timespan" | "time" => ColumnKind::Duration,
        "int" | "long" => ColumnKind::Int64,
        "real" | "double" => ColumnKind::Float64,
        "bool" | "boolean" => ColumnKind::Boolean,
        "dynamic" => ColumnKind::Json,
        _ => ColumnKind::Utf8,
    }
}
