//! Clients for remote log stores (Log Analytics / Microsoft Sentinel, Splunk, Elasticsearch / OpenSearch) that run a query and return Arrow record batches.
//!
//! # Design
//!
//! Each client ([`SentinelClient`], [`SplunkClient`], [`ElasticClient`]) is built from its
//! provider's section of msticpyconfig.yaml, given as an already environment-resolved
//! `serde_json::Value` (`from_msticpy`; errors name the full key), runs one query and pushes the
//! result to a [`ResultSink`]: the schema once, then record batches of at most `BatchRows` rows
//! as the pages or stream lines arrive, with [`QueryEvent`]s for progress (rows so far),
//! warnings (partial results, upstream messages, unreadable values), throttling retries and the
//! device-code sign-in prompt. The clients never format: the caller (the proxy) turns batches
//! into Arrow IPC and events into messages.
//!
//! - Log Analytics: `POST {endpoint}/v1/workspaces/{id}/query` with a bearer token from Entra ID
//!   ([`EntraAuth`]: client credentials or device code against a configurable authority, cached
//!   and renewed five minutes before expiry, refresh tokens used when the flow gave one, one
//!   renewal at a time). Column types become Arrow types ([`sentinel::kql_kind`]): `datetime`
//!   timestamps (ns, UTC), `timespan` durations, `int`/`long` Int64, `real` Float64, `bool`,
//!   `dynamic` JSON text, the rest text. A `PartialError` next to tables is a partial-result
//!   warning; an error without tables fails the query.
//! - Splunk: one `search/v2/jobs/export` request (`output_mode=json`, falling back to the v1
//!   path on 404), read line by line as it streams; preview rows are dropped, `messages` become
//!   warnings, a stream without its `lastrow` marker is reported as partial. Values are text
//!   (Splunk's own type) except `_time`, a timestamp.
//! - Elasticsearch / OpenSearch: `_search` paged with `search_after` inside a point-in-time
//!   (plain sort paging where none can be opened), `_source` flattened to dotted columns typed
//!   from the index mapping (inferred from the values where the mapping says nothing), shard
//!   failures and server time-outs reported as partial; SQL through `_sql` / `_plugins/_sql` with
//!   cursors (closed when the row limit stops early).
//! - Every request: a time-out for the response headers and one for each further part of the
//!   body (a stream may run long but never stall), retries on 429/503 and connection failures
//!   with exponential backoff, or exactly the `Retry-After` wait (seconds or HTTP-date) when the
//!   upstream gives one (longer than `MaxRetryAfter` fails at once), 401 as
//!   [`RemoteError::Auth`], 403 as [`RemoteError::Forbidden`], other error bodies summarized from
//!   their documented fields and scrubbed of every credential the client knows ([`Secret`] never
//!   prints).
//! - [`params`] writes parameter values into KQL, SPL, DSL and SQL templates as complete,
//!   escaped literals.
//!
//! # Input limits
//!
//! Whole bodies (Log Analytics replies, search pages, token replies) are read up to
//! `MaxBodyBytes` (256 MiB by default; Log Analytics itself stops near 100 MiB); Splunk lines up
//! to [`splunk::MAX_LINE_BYTES`]; error bodies up to 64 KiB and summaries to 400 characters;
//! JSON nesting is bounded by serde_json's recursion limit and `_source` flattening by
//! [`elastic::MAX_FLATTEN_DEPTH`]. At most `MaxRows` rows (10 million by default) are returned;
//! more is cut with a partial-result warning. Memory: Splunk and Elasticsearch hold one batch
//! (plus one page) at a time; Log Analytics has no paging, so its one reply is held whole.
//! Splunk and `_search` fix their columns from the first `BatchRows` rows; fields first seen
//! later are dropped with a warning naming them. Values that cannot be read as their column's
//! type become null and are counted in a warning per column.

mod config;
pub mod elastic;
pub mod entra;
mod error;
mod http;
pub mod params;
mod secret;
pub mod sentinel;
mod sink;
pub mod splunk;
mod table;

/// The Arrow crates of the batches handed to a [`ResultSink`] (for consumers on another version).
pub use arrow_array;
pub use arrow_schema;
pub use config::Limits;
pub use elastic::{ElasticClient, ElasticConfig, EsQuery};
pub use entra::{EntraAuth, EntraConfig, EntraFlow};
pub use error::RemoteError;
pub use http::{parse_retry_after, summarize_body, HttpSettings, RetryPolicy};
pub use params::{ParamValue, QueryLanguage};
pub use secret::Secret;
pub use sentinel::{KqlQuery, SentinelClient, SentinelConfig};
pub use sink::{CollectSink, QueryEvent, ResultSink, Warning, WarningKind};
pub use splunk::{SplQuery, SplunkClient, SplunkConfig};
pub use table::{parse_time_ns, parse_timespan_ns, ColumnKind, ColumnSpec};

/// What a finished query returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuerySummary {
    /// Rows pushed to the sink.
    pub rows: u64,
    /// True when the upstream or the row limit left rows out (see the warnings).
    pub partial: bool,
}

/// Arrow IPC stream bytes of a schema and its batches: how results cross to a consumer built on
/// another Arrow version (the proxy's DataFusion).
pub fn ipc_stream(
    schema: &arrow_schema::SchemaRef,
    batches: &[arrow_array::RecordBatch],
) -> Result<Vec<u8>, RemoteError> {
    let mut out = Vec::new();
    let mut writer = arrow_ipc::writer::StreamWriter::try_new(&mut out, schema)
        .map_err(|e| RemoteError::Arrow(e.to_string()))?;
    for b in batches {
        writer
            .write(b)
            .map_err(|e| RemoteError::Arrow(e.to_string()))?;
    }
    writer
        .finish()
        .map_err(|e| RemoteError::Arrow(e.to_string()))?;
    drop(writer);
    Ok(out)
}
