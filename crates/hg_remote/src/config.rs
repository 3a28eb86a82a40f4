//! Reading provider settings from an (already environment-resolved) msticpyconfig.yaml section.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::{HttpSettings, RemoteError, Secret};

/// Row batching and the row limit of one client.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Rows per Arrow batch (and per Splunk schema window).
    pub batch_rows: usize,
    /// Rows returned at most; further rows are dropped with a partial-result warning.
    pub max_rows: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            batch_rows: 50_000,
            max_rows: 10_000_000,
        }
    }
}

/// A JSON object with case-insensitive key lookup and errors that name the full key path.
pub(crate) struct Section<'a> {
    pub(crate) path: String,
    map: &'a Map<String, Value>,
}

impl<'a> Section<'a> {
    pub(crate) fn new(path: &str, value: &'a Value) -> Result<Self, RemoteError> {
        match value {
            Value::Object(map) => Ok(Self {
                path: path.to_string(),
                map,
            }),
            other => Err(RemoteError::config(
                path,
                format!("expected a mapping, found {}", kind_of(other)),
            )),
        }
    }

    fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The first of `names` present (case-insensitive), with its spelling in the file.
    pub(crate) fn get(&self, names: &[&str]) -> Option<(&'a str, &'a Value)> {
        for want in names {
            for (k, v) in self.map {
                if k.eq_ignore_ascii_case(want) {
                    return Some((k.as_str(), v));
                }
            }
        }
        None
    }

    pub(crate) fn keys(&self) -> Vec<&'a str> {
        self.map.keys().map(String::as_str).collect()
    }

    /// The `Args` sub-mapping when there is one (msticpy's provider entries), else this section.
    pub(crate) fn args(&self) -> Result<Section<'a>, RemoteError> {
        match self.get(&["Args"]) {
            Some((k, v)) => Section::new(&self.key_path(k), v),
            None => Ok(Section {
                path: self.path.clone(),
                map: self.map,
            }),
        }
    }

    pub(crate) fn section(&self, names: &[&str]) -> Result<Option<Section<'a>>, RemoteError> {
        match self.get(names) {
            None | Some((_, Value::Null)) => Ok(None),
            Some((k, v)) => Section::new(&self.key_path(k), v).map(Some),
        }
    }

    /// A text value; numbers are taken as their text; null and "" are absent.
    pub(crate) fn str_opt(&self, names: &[&str]) -> Result<Option<String>, RemoteError> {
        let Some((k, v)) = self.get(names) else {
            return Ok(None);
        };
        match v {
            Value::Null => Ok(None),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => Ok(Some(s.trim().to_string())),
            Value::Number(n) => Ok(Some(n.to_string())),
            Value::Object(m)
                if m.keys()
                    .any(|x| x == "EnvironmentVar" || x == "KeyVault") =>
            {
                Err(RemoteError::config(
                    self.key_path(k),
                    "an unresolved EnvironmentVar/KeyVault reference (resolve it before creating the client)",
                ))
            }
            other => Err(RemoteError::config(
                self.key_path(k),
                format!("expected text, found {}", kind_of(other)),
            )),
        }
    }

    pub(crate) fn str_req(&self, names: &[&str]) -> Result<String, RemoteError> {
        self.str_opt(names)?.ok_or_else(|| {
            RemoteError::config(
                self.key_path(names[0]),
                format!(
                    "missing (keys present: {})",
                    if self.map.is_empty() {
                        "none".to_string()
                    } else {
                        self.keys().join(", ")
                    }
                ),
            )
        })
    }

    pub(crate) fn secret_opt(&self, names: &[&str]) -> Result<Option<Secret>, RemoteError> {
        Ok(self.str_opt(names)?.map(Secret::new))
    }

    pub(crate) fn bool_opt(&self, names: &[&str]) -> Result<Option<bool>, RemoteError> {
        let Some((k, v)) = self.get(names) else {
            return Ok(None);
        };
        match v {
            Value::Null => Ok(None),
            Value::Bool(b) => Ok(Some(*b)),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Ok(Some(true)),
                "false" | "no" | "0" => Ok(Some(false)),
                _ => Err(RemoteError::config(
                    self.key_path(k),
                    format!("expected true or false, found {s:?}"),
                )),
            },
            other => Err(RemoteError::config(
                self.key_path(k),
                format!("expected true or false, found {}", kind_of(other)),
            )),
        }
    }

    pub(crate) fn f64_opt(&self, names: &[&str]) -> Result<Option<f64>, RemoteError> {
        let Some((k, v)) = self.get(names) else {
            return Ok(None);
        };
        let n = match v {
            Value::Null => return Ok(None),
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
            _ => Err(RemoteError::config(
                self.key_path(k),
                format!("expected a non-negative number, found {v}"),
            )),
        }
    }

    pub(crate) fn u64_opt(&self, names: &[&str]) -> Result<Option<u64>, RemoteError> {
        match self.f64_opt(names)? {
            None => Ok(None),
            Some(n) if n.fract() == 0.0 && n < 9.0e15 => Ok(Some(n as u64)),
            Some(n) => Err(RemoteError::config(
                self.key_path(names[0]),
                format!("expected a whole number, found {n}"),
            )),
        }
    }

    /// The options every client shares: `Timeout` (seconds to the response headers),
    /// `ReadTimeout`, `ConnectTimeout`, `MaxRetries`, `MaxRetryAfter`, `MaxBodyBytes`,
    /// `BatchRows`, `MaxRows`, and `verify` (false accepts any TLS certificate).
    pub(crate) fn common(&self) -> Result<(HttpSettings, Limits), RemoteError> {
        let mut http = HttpSettings::default();
        let mut limits = Limits::default();
        let secs = |n: f64| Duration::from_secs_f64(n.min(86_400.0));
        if let Some(t) = self.f64_opt(&["Timeout", "timeout"])? {
            http.response_timeout = secs(t);
        }
        if let Some(t) = self.f64_opt(&["ReadTimeout"])? {
            http.read_timeout = secs(t);
        }
        if let Some(t) = self.f64_opt(&["ConnectTimeout"])? {
            http.connect_timeout = secs(t);
        }
        if let Some(n) = self.u64_opt(&["MaxRetries"])? {
            http.retry.max_attempts = (n.min(20) as u32) + 1;
        }
        if let Some(t) = self.f64_opt(&["MaxRetryAfter"])? {
            http.retry.max_retry_after = secs(t);
        }
        if let Some(n) = self.u64_opt(&["MaxBodyBytes"])? {
            http.max_body_bytes = n.clamp(1024, 4 << 30) as usize;
        }
        if let Some(v) = self.bool_opt(&["verify", "VerifyTls"])? {
            http.accept_invalid_certs = !v;
        }
        if let Some(n) = self.u64_opt(&["BatchRows"])? {
            limits.batch_rows = n.clamp(1, 1 << 24) as usize;
        }
        if let Some(n) = self.u64_opt(&["MaxRows"])? {
            limits.max_rows = n.max(1);
        }
        Ok((http, limits))
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Base URL checks: http(s) scheme, no credentials or query in it; trailing `/` removed.
pub(crate) fn base_url(key: &str, raw: &str) -> Result<String, RemoteError> {
    let url = reqwest::Url::parse(raw)
        .map_err(|e| RemoteError::config(key, format!("not a URL ({e})")))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(RemoteError::config(
            key,
            format!("scheme must be https or http, found {}", url.scheme()),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(RemoteError::config(
            key,
            "credentials inside the URL are not accepted (use the credential keys)",
        ));
    }
    if url.query().is_some() || url.host_str().is_none() {
        return Err(RemoteError::config(
            key,
            "expected scheme://host[:port][/path] without a query",
        ));
    }
    Ok(raw.trim_end_matches('/').to_string())
}
