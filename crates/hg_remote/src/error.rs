//! The one error type of the remote clients.

use std::time::Duration;

/// Everything that can go wrong running a remote query.
///
/// Messages name the provider and what was wrong; they never contain a credential (upstream
/// bodies are summarized and scrubbed of every secret the client knows before they get here).
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// A configuration value is missing or malformed.
    #[error("configuration key `{key}`: {problem}")]
    Config {
        /// The key, as a path (`AzureSentinel.Workspaces.Default.WorkspaceId`).
        key: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The upstream refused the credentials (HTTP 401, or a token endpoint error).
    #[error("{provider}: authentication failed: {detail}")]
    Auth {
        /// Provider name.
        provider: &'static str,
        /// Summary of the upstream's answer.
        detail: String,
    },
    /// The credentials are valid but lack the right (HTTP 403).
    #[error("{provider}: access denied (HTTP 403): {detail}")]
    Forbidden {
        /// Provider name.
        provider: &'static str,
        /// Summary of the upstream's answer.
        detail: String,
    },
    /// The upstream kept answering 429/503 (or asked to wait longer than allowed).
    #[error("{provider}: throttled (HTTP {status}) after {attempts} attempt(s){}", retry_note(*.retry_after))]
    Throttled {
        /// Provider name.
        provider: &'static str,
        /// Last status (429 or 503).
        status: u16,
        /// Requests sent.
        attempts: u32,
        /// The last wait the upstream asked for, if it said.
        retry_after: Option<Duration>,
    },
    /// No response (or no further bytes of it) within the configured time.
    #[error("{provider}: no response within {seconds} s ({what})")]
    Timeout {
        /// Provider name.
        provider: &'static str,
        /// The limit that ran out.
        seconds: f64,
        /// Which wait: response headers or the next part of the body.
        what: &'static str,
    },
    /// The connection failed.
    #[error("{provider}: cannot reach the upstream: {detail}")]
    Transport {
        /// Provider name.
        provider: &'static str,
        /// What failed.
        detail: String,
    },
    /// Any other non-success HTTP status.
    #[error("{provider}: upstream answered HTTP {status}: {detail}")]
    Upstream {
        /// Provider name.
        provider: &'static str,
        /// HTTP status.
        status: u16,
        /// Summary of the upstream's error body.
        detail: String,
    },
    /// The upstream ran the request but reported the query failed (with no results).
    #[error("{provider}: query failed: {detail}")]
    Query {
        /// Provider name.
        provider: &'static str,
        /// The upstream's error, summarized.
        detail: String,
    },
    /// The response could not be read (not the documented shape).
    #[error("{provider}: unreadable response: {detail}")]
    Response {
        /// Provider name.
        provider: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// A size limit was exceeded.
    #[error("{provider}: {detail}")]
    Limit {
        /// Provider name.
        provider: &'static str,
        /// Which limit.
        detail: String,
    },
    /// A query parameter is missing or cannot be written in the query language.
    #[error("query parameter: {0}")]
    Param(String),
    /// The result sink refused a batch (for example, the client went away).
    #[error("result consumer stopped the query: {0}")]
    Sink(String),
    /// Building the Arrow batch failed.
    #[error("building Arrow batch: {0}")]
    Arrow(String),
}

fn retry_note(after: Option<Duration>) -> String {
    match after {
        Some(d) => format!("; the upstream asked to wait {} s", d.as_secs_f64()),
        None => String::new(),
    }
}

impl RemoteError {
    pub(crate) fn config(key: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Config {
            key: key.into(),
            problem: problem.into(),
        }
    }
}
