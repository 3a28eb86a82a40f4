//! Threat-intelligence look-ups: the normalized result, the providers and the engine that runs
//! them side by side (see the crate documentation for the design).

mod cache;
mod config;
mod engine;
mod feed;
pub(crate) mod http;
mod observable;
mod providers;
mod stix;
mod tor;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use cache::{CacheError, TiCache};
pub use config::{ProviderStatus, TiConfig, TiConfigError};
pub use engine::{LookupSummary, TiEvent, TiLookup, TiSink};
pub use feed::{FeedEntry, FeedError, LocalFeed, MAX_FEED_BYTES};
pub use http::{HttpLimits, HttpSettings};
pub use observable::{classify, is_global_ip, shannon_entropy, Observable};
pub use providers::{HttpProvider, HttpProviderKind};
pub use stix::{parse_pattern, StixError};
pub use tor::{TorError, TorExitList, TorNode};

/// How bad a result is, in the reference's four levels (there is no "low").
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The provider could not say.
    Unknown,
    /// Known to the provider, nothing bad (or not known at all).
    Information,
    /// Suspicious.
    Warning,
    /// Malicious.
    High,
}

impl Severity {
    /// The reference's name: `unknown`, `information`, `warning` or `high`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::Information => "information",
            Severity::Warning => "warning",
            Severity::High => "high",
        }
    }

    /// The severity of a name (ASCII case-insensitive; `info` and `medium` are accepted as
    /// `information` and `warning`, `critical` as `high`).
    pub fn parse(name: &str) -> Option<Severity> {
        let name = name.trim().to_ascii_lowercase();
        Some(match name.as_str() {
            "unknown" | "none" => Severity::Unknown,
            "information" | "info" | "informational" | "low" | "benign" => Severity::Information,
            "warning" | "medium" | "suspicious" => Severity::Warning,
            "high" | "critical" | "malicious" => Severity::High,
            _ => return None,
        })
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `Status` of a result: 0 when the look-up succeeded, the reference's internal codes, or the
/// HTTP status of a failed request.
pub mod status {
    /// The look-up ran (whether or not the provider knew the observable).
    pub const OK: i32 = 0;
    /// The provider does not handle this observable type.
    pub const NOT_SUPPORTED: i32 = 1;
    /// The observable is malformed, or may not be sent upstream (private or reserved address).
    pub const BAD_FORMAT: i32 = 2;
    /// The request failed without an HTTP status (connection, timeout, unreadable body).
    pub const QUERY_FAILED: i32 = 3;
    /// The provider answered that it has no record of the observable.
    pub const NO_DATA: i32 = 4;
    /// Anything else.
    pub const OTHER: i32 = 10;
}

/// One provider's answer about one observable, in the reference's columns.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TiResult {
    /// The observable as given.
    pub ioc: String,
    /// Its type (`ipv4`, `ipv6`, `dns`, `url`, `email`, `md5_hash`, ...; `unknown` when it is
    /// not one indicator).
    pub ioc_type: String,
    /// The value actually looked up (refanged, canonical case).
    pub safe_ioc: String,
    /// The provider's configured name.
    pub provider: String,
    /// Whether the provider holds a record of the observable.
    pub result: bool,
    /// How bad the record says it is.
    pub severity: Severity,
    /// The normalized details (an object), or a message string.
    pub details: serde_json::Value,
    /// The provider's answer as parsed JSON (or its text when it was not JSON).
    pub raw_result: serde_json::Value,
    /// Where the answer came from: the request URL (never carrying a key), or the feed file.
    pub reference: String,
    /// See [`status`].
    pub status: i32,
    /// Whether the answer was served from the cache.
    #[serde(default)]
    pub cached: bool,
}

impl TiResult {
    /// A result that carries only a message (not supported, bad format, failures).
    pub fn message(
        observable: &Observable,
        provider: &str,
        status: i32,
        severity: Severity,
        message: impl Into<String>,
    ) -> TiResult {
        TiResult {
            ioc: observable.value.clone(),
            ioc_type: observable.ioc_type.clone(),
            safe_ioc: observable.canonical.clone(),
            provider: provider.to_string(),
            result: false,
            severity,
            details: serde_json::Value::String(message.into()),
            raw_result: serde_json::Value::Null,
            reference: String::new(),
            status,
            cached: false,
        }
    }

    /// The provider answered and has no record: Result false, information, `NO_DATA`.
    pub fn not_found(
        observable: &Observable,
        provider: &str,
        raw: serde_json::Value,
        reference: String,
    ) -> TiResult {
        TiResult {
            raw_result: raw,
            reference,
            ..TiResult::message(
                observable,
                provider,
                status::NO_DATA,
                Severity::Information,
                "Not found.",
            )
        }
    }
}
