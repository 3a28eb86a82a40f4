//! The HTTP layer shared by every client: time-outs, retries that honour `Retry-After`, status
//! mapping and error bodies summarized without secrets.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::Value;

use crate::{QueryEvent, RemoteError, ResultSink, Secret};

/// Time-outs, retries and size limits of one client.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Longest wait for the response headers of one request.
    pub response_timeout: Duration,
    /// Longest wait for the next part of a response body (streams may run long, but never stall).
    pub read_timeout: Duration,
    /// Longest wait for a TCP/TLS connection.
    pub connect_timeout: Duration,
    /// Retries on 429 / 503 and connection failures.
    pub retry: RetryPolicy,
    /// Accept any TLS certificate (only when the configuration says `verify: false`).
    pub accept_invalid_certs: bool,
    /// Largest response body read whole (Log Analytics answers, token replies, search pages).
    pub max_body_bytes: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            response_timeout: Duration::from_secs(330),
            read_timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(15),
            retry: RetryPolicy::default(),
            accept_invalid_certs: false,
            max_body_bytes: 256 * 1024 * 1024,
        }
    }
}

/// How throttled or failed requests are retried.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Requests sent at most (1 = no retry).
    pub max_attempts: u32,
    /// First backoff when the upstream gives no `Retry-After` (doubles each attempt).
    pub base_delay: Duration,
    /// Longest backoff without `Retry-After`.
    pub max_delay: Duration,
    /// Longest `Retry-After` honoured; a longer one fails at once with [`RemoteError::Throttled`].
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// Backoff before attempt `attempt + 1` when the upstream said nothing.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Parses a `Retry-After` value: delay seconds or an HTTP-date (RFC 9110 10.2.3).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(Duration::from_secs);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Most bytes of an error body read for its summary.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// Longest error summary.
const MAX_SUMMARY_CHARS: usize = 400;

/// One provider's HTTP client.
#[derive(Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    pub(crate) settings: HttpSettings,
    pub(crate) provider: &'static str,
    secrets: Arc<Mutex<Vec<String>>>,
}

impl Http {
    pub(crate) fn new(provider: &'static str, settings: HttpSettings) -> Result<Self, RemoteError> {
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .danger_accept_invalid_certs(settings.accept_invalid_certs)
            .user_agent(concat!("huntglass/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RemoteError::Transport {
                provider,
                detail: format!("cannot create the HTTP client: {e}"),
            })?;
        Ok(Self {
            client,
            settings,
            provider,
            secrets: Arc::new(Mutex::new(Vec::new())),
        })
    }

    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Remembers a credential so that it is scrubbed from every error summary.
    pub(crate) fn add_secret(&self, secret: &Secret) {
        let value = secret.expose();
        if value.len() < 4 {
            return;
        }
        let mut list = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        if !list.iter().any(|s| s == value) {
            list.push(value.to_string());
        }
    }

    /// Remembers basic-auth credentials (the pair, its base64 form and the password).
    pub(crate) fn add_basic(&self, user: &str, password: &Secret) {
        self.add_secret(password);
        let pair = format!("{user}:{}", password.expose());
        self.add_secret(&Secret::new(
            base64::engine::general_purpose::STANDARD.encode(pair.as_bytes()),
        ));
        self.add_secret(&Secret::new(pair));
    }

    /// Replaces every known secret in `text` with `***`.
    pub(crate) fn redact(&self, text: &str) -> String {
        let list = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = text.to_string();
        for s in list.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "***");
            }
        }
        out
    }

    /// Sends a request, retrying on 429 / 503 (honouring `Retry-After`) and on connection
    /// failures; returns the first other response, whatever its status.
    pub(crate) async fn send(
        &self,
        build: &(dyn Fn() -> RequestBuilder + Sync),
        sink: &mut dyn ResultSink,
    ) -> Result<Response, RemoteError> {
        let policy = &self.settings.retry;
        let max_attempts = policy.max_attempts.max(1);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let sent = tokio::time::timeout(self.settings.response_timeout, build().send()).await;
            let result = match sent {
                Err(_) => {
                    return Err(RemoteError::Timeout {
                        provider: self.provider,
                        seconds: self.settings.response_timeout.as_secs_f64(),
                        what: "waiting for the response headers",
                    })
                }
                Ok(r) => r,
            };
            match result {
                Err(e) if e.is_timeout() => {
                    return Err(RemoteError::Timeout {
                        provider: self.provider,
                        seconds: self.settings.connect_timeout.as_secs_f64(),
                        what: "connecting",
                    })
                }
                Err(e) if e.is_connect() && attempt < max_attempts => {
                    let wait = policy.backoff(attempt);
                    sink.event(QueryEvent::Retry {
                        attempt,
                        status: 0,
                        wait,
                        from_retry_after: false,
                    });
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    return Err(RemoteError::Transport {
                        provider: self.provider,
                        detail: self.redact(&error_chain(&e)),
                    })
                }
                Ok(resp) => {
                    let status = resp.status();
                    if status != StatusCode::TOO_MANY_REQUESTS
                        && status != StatusCode::SERVICE_UNAVAILABLE
                    {
                        return Ok(resp);
                    }
                    let retry_after = resp
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, SystemTime::now()));
                    let too_long = retry_after.is_some_and(|d| d > policy.max_retry_after);
                    if attempt >= max_attempts || too_long {
                        return Err(RemoteError::Throttled {
                            provider: self.provider,
                            status: status.as_u16(),
                            attempts: attempt,
                            retry_after,
                        });
                    }
                    let wait = retry_after.unwrap_or_else(|| policy.backoff(attempt));
                    sink.event(QueryEvent::Retry {
                        attempt,
                        status: status.as_u16(),
                        wait,
                        from_retry_after: retry_after.is_some(),
                    });
                    drop(resp);
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// The error for a non-success response: 401 is [`RemoteError::Auth`], 403
    /// [`RemoteError::Forbidden`], anything else [`RemoteError::Upstream`]; the body is summarized.
    pub(crate) async fn error_for(&self, resp: Response) -> RemoteError {
        let status = resp.status();
        let detail = self.summary_of(resp).await;
        match status {
            StatusCode::UNAUTHORIZED => RemoteError::Auth {
                provider: self.provider,
                detail: if detail.is_empty() {
                    "HTTP 401 (check the configured credentials)".into()
                } else {
                    format!("HTTP 401: {detail}")
                },
            },
            StatusCode::FORBIDDEN => RemoteError::Forbidden {
                provider: self.provider,
                detail,
            },
            _ => RemoteError::Upstream {
                provider: self.provider,
                status: status.as_u16(),
                detail,
            },
        }
    }

    /// Reads at most 64 KiB of an error body and summarizes it.
    pub(crate) async fn summary_of(&self, mut resp: Response) -> String {
        let mut body = Vec::new();
        while body.len() < MAX_ERROR_BODY {
            match tokio::time::timeout(self.settings.read_timeout, resp.chunk()).await {
                Ok(Ok(Some(c))) => body.extend_from_slice(&c),
                _ => break,
            }
        }
        body.truncate(MAX_ERROR_BODY);
        self.redact(&summarize_body(&body))
    }

    /// Reads one more part of a body into `buf`; false at the end.
    pub(crate) async fn read_chunk(
        &self,
        resp: &mut Response,
        buf: &mut Vec<u8>,
    ) -> Result<bool, RemoteError> {
        match tokio::time::timeout(self.settings.read_timeout, resp.chunk()).await {
            Err(_) => Err(RemoteError::Timeout {
                provider: self.provider,
                seconds: self.settings.read_timeout.as_secs_f64(),
                what: "waiting for more of the response body",
            }),
            Ok(Err(e)) => Err(RemoteError::Transport {
                provider: self.provider,
                detail: self.redact(&error_chain(&e)),
            }),
            Ok(Ok(None)) => Ok(false),
            Ok(Ok(Some(c))) => {
                buf.extend_from_slice(&c);
                Ok(true)
            }
        }
    }

    /// Reads a whole body, at most `max_body_bytes`.
    pub(crate) async fn read_body(&self, mut resp: Response) -> Result<Vec<u8>, RemoteError> {
        let max = self.settings.max_body_bytes;
        if resp.content_length().is_some_and(|n| n > max as u64) {
            return Err(self.too_big(max));
        }
        let mut body = Vec::new();
        while self.read_chunk(&mut resp, &mut body).await? {
            if body.len() > max {
                return Err(self.too_big(max));
            }
        }
        Ok(body)
    }

    fn too_big(&self, max: usize) -> RemoteError {
        RemoteError::Limit {
            provider: self.provider,
            detail: format!(
                "response body larger than the limit of {max} bytes (narrow the query or raise max_body_bytes)"
            ),
        }
    }

    /// Reads a whole JSON body.
    pub(crate) async fn read_json(&self, resp: Response) -> Result<Value, RemoteError> {
        let body = self.read_body(resp).await?;
        serde_json::from_slice(&body).map_err(|e| RemoteError::Response {
            provider: self.provider,
            detail: format!("body is not JSON: {e}"),
        })
    }
}

/// The error and its sources, one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    let mut depth = 0;
    while let Some(s) = src {
        if depth > 6 {
            break;
        }
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        src = s.source();
        depth += 1;
    }
    out
}

/// A short, single-line summary of an upstream error body: the documented error fields of the
/// OneAPI (`error.code/message/innererror/details`), OAuth (`error`, `error_description`), Splunk
/// (`messages[].text`) and Elasticsearch (`error.type/reason/root_cause`) shapes, or the first
/// characters of a text body.
pub fn summarize_body(body: &[u8]) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        collect_error_parts(&v, &mut parts);
    }
    let text = if parts.is_empty() {
        String::from_utf8_lossy(body)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        parts.dedup();
        parts.join("; ")
    };
    truncate_chars(&text, MAX_SUMMARY_CHARS)
}

pub(crate) fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

fn push_str(parts: &mut Vec<String>, v: Option<&Value>) {
    if let Some(s) = v.and_then(Value::as_str) {
        let line = s.lines().next().unwrap_or("").trim();
        if !line.is_empty() && !parts.iter().any(|p| p == line) {
            parts.push(line.to_string());
        }
    }
}

fn collect_error_parts(v: &Value, parts: &mut Vec<String>) {
    match v.get("error") {
        Some(Value::String(code)) => {
            parts.push(code.clone());
            push_str(parts, v.get("error_description"));
        }
        Some(err @ Value::Object(_)) => {
            push_str(parts, err.get("code"));
            push_str(parts, err.get("type"));
            push_str(parts, err.get("message"));
            push_str(parts, err.get("reason"));
            let mut inner = err.get("innererror");
            let mut depth = 0;
            while let Some(i) = inner {
                if depth > 5 {
                    break;
                }
                push_str(parts, i.get("message"));
                inner = i.get("innererror");
                depth += 1;
            }
            for d in err
                .get("details")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .take(3)
            {
                push_str(parts, d.get("message"));
                push_str(parts, d.get("innererror").and_then(|i| i.get("message")));
            }
            if let Some(rc) = err.get("root_cause").and_then(Value::as_array) {
                for r in rc.iter().take(2) {
                    push_str(parts, r.get("reason"));
                }
            }
        }
        _ => {}
    }
    if let Some(msgs) = v.get("messages").and_then(Value::as_array) {
        for m in msgs.iter().take(5) {
            let kind = m.get("type").and_then(Value::as_str).unwrap_or("");
            if let Some(text) = m.get("text").and_then(Value::as_str) {
                parts.push(format!("{kind} {text}").trim().to_string());
            }
        }
    }
    if parts.is_empty() {
        push_str(parts, v.get("message"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_782_900_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(42));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(42))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(42));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(700),
            max_retry_after: Duration::from_secs(1),
        };
        let waits: Vec<u128> = (1..=5).map(|a| p.backoff(a).as_millis()).collect();
        assert_eq!(waits, vec![100, 200, 400, 700, 700]);
        assert_eq!(p.backoff(99).as_millis(), 700);
    }

    #[test]
    fn summaries_of_documented_error_shapes() {
        let la = br#"{"error":{"code":"BadArgumentError","message":"The request had some invalid properties","innererror":{"code":"SyntaxError","message":"Query could not be parsed at 'x'"}}}"#;
        assert_eq!(
            summarize_body(la),
            "BadArgumentError; The request had some invalid properties; Query could not be parsed at 'x'"
        );
        let aad = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1"}"#;
        assert_eq!(
            summarize_body(aad),
            "invalid_client; AADSTS7000215: Invalid client secret provided."
        );
        let splunk = br#"{"messages":[{"type":"WARN","text":"call not properly authenticated"}]}"#;
        assert_eq!(
            summarize_body(splunk),
            "WARN call not properly authenticated"
        );
        let es = br#"{"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index [x]"}],"type":"index_not_found_exception","reason":"no such index [x]"},"status":404}"#;
        assert_eq!(
            summarize_body(es),
            "index_not_found_exception; no such index [x]"
        );
        assert_eq!(
            summarize_body(b"<html>\n Bad   gateway </html>"),
            "<html> Bad gateway </html>"
        );
        let long = "x".repeat(1000);
        assert_eq!(summarize_body(long.as_bytes()).chars().count(), 403);
    }
}
