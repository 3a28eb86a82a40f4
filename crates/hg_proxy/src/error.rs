//! The one error type of the proxy's HTTP API and its mapping to responses.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// An error answered to an API client. Every variant carries a message written for the client:
/// it names what was wrong (the parameter, query or provider) and never holds file contents,
/// upstream response bodies with credentials, or secrets. Internal details go to the server log
/// through [`ProxyError::internal`], and the client only sees that something failed inside.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// No or a wrong bearer token (401).
    #[error("{0}")]
    Unauthorized(String),
    /// A request from a foreign origin or to a foreign host name (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such query, provider or route (404).
    #[error("{0}")]
    NotFound(String),
    /// The request is malformed or names wrong parameters (400).
    #[error("{0}")]
    BadRequest(String),
    /// The provider is configured incompletely or cannot be used as configured (409).
    #[error("{0}")]
    NotConfigured(String),
    /// The upstream or query engine rejected the query (422).
    #[error("{0}")]
    QueryFailed(String),
    /// An upstream platform failed or could not be reached (502).
    #[error("{0}")]
    Upstream(String),
    /// Too many requests to an upstream (429); seconds to wait when known.
    #[error("{message}")]
    RateLimited {
        /// What was limited.
        message: String,
        /// Seconds to wait before retrying, when the upstream said.
        retry_after: Option<u64>,
    },
    /// A failure inside the proxy; the message is generic, the detail is logged.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ProxyError {
    /// Logs `detail` on the server (stderr) and returns an [`ProxyError::Internal`] whose client
    /// message says only what was being done.
    pub fn internal(doing: &str, detail: impl std::fmt::Display) -> ProxyError {
        eprintln!("huntglass: internal error while {doing}: {detail}");
        ProxyError::Internal(format!(
            "the proxy failed while {doing} (details in its log)"
        ))
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ProxyError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ProxyError::Forbidden(_) => StatusCode::FORBIDDEN,
            ProxyError::NotFound(_) => StatusCode::NOT_FOUND,
            ProxyError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ProxyError::NotConfigured(_) => StatusCode::CONFLICT,
            ProxyError::QueryFailed(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ProxyError::Upstream(_) => StatusCode::BAD_GATEWAY,
            ProxyError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ProxyError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short machine-readable kind (`unauthorized`, `bad_request`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            ProxyError::Unauthorized(_) => "unauthorized",
            ProxyError::Forbidden(_) => "forbidden",
            ProxyError::NotFound(_) => "not_found",
            ProxyError::BadRequest(_) => "bad_request",
            ProxyError::NotConfigured(_) => "not_configured",
            ProxyError::QueryFailed(_) => "query_failed",
            ProxyError::Upstream(_) => "upstream",
            ProxyError::RateLimited { .. } => "rate_limited",
            ProxyError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ProxyError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.to_string(), "kind": self.kind() });
        let mut response = (self.status(), body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let ProxyError::RateLimited {
            retry_after: Some(seconds),
            ..
        } = &self
        {
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                headers.insert(header::RETRY_AFTER, value);
            }
        }
        if matches!(self, ProxyError::Unauthorized(_)) {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"huntglass\""),
            );
        }
        response
    }
}
