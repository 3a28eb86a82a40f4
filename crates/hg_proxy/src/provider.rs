//! The query-provider plug-in point: what a data platform implements to answer `/api/query`.
//!
//! The proxy resolves a named query from the [`crate::queries::QueryLibrary`], checks and types
//! its parameters, and hands the provider a [`QueryRequest`]; the provider runs it and returns a
//! [`QueryResult`]: Arrow record batches as they arrive plus notes about partial results. Errors
//! are [`ProxyError`]s whose messages are safe to show the client (no secrets, no upstream bodies
//! holding credentials). Record batches use the Arrow version DataFusion uses, re-exported as
//! [`crate::arrow`], so providers and the proxy share one set of types.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;

use crate::arrow::datatypes::SchemaRef;
use crate::arrow::record_batch::RecordBatch;
use crate::error::ProxyError;
use crate::queries::{ParamValue, QueryDef};

/// What to run.
#[derive(Debug, Clone)]
pub enum QueryRequest {
    /// A query of the library with checked, typed parameters (defaults filled).
    Named {
        /// The query definition (template, data source, family).
        query: Arc<QueryDef>,
        /// Parameter values by name.
        params: BTreeMap<String, ParamValue>,
    },
    /// A query written by the user in the provider's own language ([`QueryProvider::raw_language`]).
    Raw {
        /// The query text.
        text: String,
    },
}

/// Options of one run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Stop after this many rows (the result then carries a note saying it was cut).
    pub max_rows: Option<usize>,
}

/// One item of a result stream.
#[derive(Debug)]
pub enum ResultItem {
    /// Rows.
    Batch(RecordBatch),
    /// Something the user must know about the rows (a partial result, an upstream warning).
    Note(String),
}

/// A running query's output.
pub struct QueryResult {
    /// The schema when known before the first batch (always for SQL; remote providers may learn
    /// it from their first page). With `None` the first batch's schema is used, and a result with
    /// no batch is an empty table without columns.
    pub schema: Option<SchemaRef>,
    /// Batches and notes in order; an `Err` ends the result (rows before it are still delivered,
    /// and the error is reported in the trailer).
    pub items: BoxStream<'static, Result<ResultItem, ProxyError>>,
}

/// A data platform the proxy can query.
#[async_trait]
pub trait QueryProvider: Send + Sync {
    /// The name clients use (`local`, `MSSentinel`, `Splunk`, `Elastic`).
    fn name(&self) -> &str;

    /// The `data_environments` names of query files this provider runs (case-insensitive),
    /// e.g. `["MSSentinel", "LogAnalytics"]`.
    fn environments(&self) -> Vec<String>;

    /// The language of raw queries (`sql`, `kql`, `spl`, `esql`), or `None` when the provider
    /// runs library queries only.
    fn raw_language(&self) -> Option<&str>;

    /// Whether the provider is ready to run queries (configured and, where it applies, signed in),
    /// and if not, why: shown by `GET /api/queries` and `qp.connect()`.
    fn status(&self) -> Result<(), String> {
        Ok(())
    }

    /// Runs a query.
    async fn run(
        &self,
        request: QueryRequest,
        options: RunOptions,
    ) -> Result<QueryResult, ProxyError>;
}

/// The providers of one proxy, by name (case-insensitive look-up).
#[derive(Clone, Default)]
pub struct ProviderSet {
    providers: Vec<Arc<dyn QueryProvider>>,
}

impl ProviderSet {
    /// Adds a provider; a later one with the same name replaces the earlier.
    pub fn add(&mut self, provider: Arc<dyn QueryProvider>) {
        self.providers
            .retain(|p| !p.name().eq_ignore_ascii_case(provider.name()));
        self.providers.push(provider);
    }

    /// The provider called `name`.
    pub fn get(&self, name: &str) -> Result<Arc<dyn QueryProvider>, ProxyError> {
        self.providers
            .iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
            .cloned()
            .ok_or_else(|| {
                ProxyError::NotFound(format!(
                    "no provider `{}` (available: {})",
                    name.chars().take(64).collect::<String>(),
                    self.names().join(", ")
                ))
            })
    }

    /// Every provider.
    pub fn all(&self) -> &[Arc<dyn QueryProvider>] {
        &self.providers
    }

    /// Names of every provider.
    pub fn names(&self) -> Vec<String> {
        self.providers
            .iter()
            .map(|p| p.name().to_string())
            .collect()
    }
}
