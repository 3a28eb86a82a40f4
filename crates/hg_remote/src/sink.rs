//! Where results go: the [`ResultSink`] trait, query events and a collecting sink.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

/// Receives a query's results as they arrive.
///
/// Call order: [`ResultSink::schema`] exactly once (also for an empty result), then any number of
/// [`ResultSink::batch`] calls, with [`ResultSink::event`] calls interleaved. A sink that returns
/// `Err` from `schema` or `batch` stops the query (the client closes the upstream request).
pub trait ResultSink: Send {
    /// The schema every following batch has.
    fn schema(&mut self, schema: &SchemaRef) -> Result<(), String>;
    /// One batch of rows (at most the client's `batch_rows`).
    fn batch(&mut self, batch: RecordBatch) -> Result<(), String>;
    /// Progress, warnings, retries and sign-in prompts.
    fn event(&mut self, event: QueryEvent);

    /// Waits until the consumer can take more. The clients await it between network reads
    /// (pages, stream chunks), so a slow consumer slows the upstream reads instead of growing
    /// memory. The default is ready at once.
    fn ready(&mut self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(std::future::ready(()))
    }

    /// A row limit of this run, below the client's `MaxRows` (the default: none).
    fn max_rows(&self) -> Option<u64> {
        None
    }
}

/// Something the analyst should know while or after a query runs.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum QueryEvent {
    /// Rows received so far (after each batch).
    Progress {
        /// Total rows so far.
        rows: u64,
    },
    /// A problem that did not stop the query (partial results, upstream messages, values that
    /// could not be converted).
    Warning(Warning),
    /// The upstream throttled the request; the client waits and sends it again.
    Retry {
        /// The attempt that failed (1 = the first request).
        attempt: u32,
        /// HTTP status that caused the retry (429, 503), or 0 for a connection failure.
        status: u16,
        /// How long the client waits before the next attempt.
        wait: Duration,
        /// True when the wait came from the upstream's `Retry-After` header.
        from_retry_after: bool,
    },
    /// The device-code flow needs the user to sign in.
    SignIn {
        /// The identity provider's instruction text.
        message: String,
        /// Where to sign in.
        verification_uri: String,
        /// The code to type there.
        user_code: String,
    },
}

/// A problem that did not stop the query.
#[derive(Clone, Debug, PartialEq)]
pub struct Warning {
    /// What kind of problem.
    pub kind: WarningKind,
    /// Human-readable text (no secrets).
    pub message: String,
}

/// Kinds of [`Warning`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WarningKind {
    /// The upstream returned only part of the result (Log Analytics `PartialError`, Elasticsearch
    /// shard failures or time-outs, a row limit reached).
    PartialResult,
    /// A message the upstream attached to the result (Splunk `messages`).
    UpstreamMessage,
    /// Values that could not be read as their column's type were set to null.
    Conversion,
    /// Fields that first appeared after the schema was fixed were dropped.
    SchemaDrift,
    /// Other result tables than the first were not returned.
    ExtraTables,
}

/// A sink that keeps everything in memory (tests, small results).
#[derive(Debug, Default)]
pub struct CollectSink {
    /// The schema, once received.
    pub schema: Option<SchemaRef>,
    /// All batches.
    pub batches: Vec<RecordBatch>,
    /// All events, in order.
    pub events: Vec<QueryEvent>,
}

impl CollectSink {
    /// Total rows received.
    pub fn rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }

    /// The warnings among the events.
    pub fn warnings(&self) -> Vec<&Warning> {
        self.events
            .iter()
            .filter_map(|e| match e {
                QueryEvent::Warning(w) => Some(w),
                _ => None,
            })
            .collect()
    }
}

impl ResultSink for CollectSink {
    fn schema(&mut self, schema: &SchemaRef) -> Result<(), String> {
        if self.schema.is_some() {
            return Err("schema received twice".into());
        }
        self.schema = Some(schema.clone());
        Ok(())
    }

    fn batch(&mut self, batch: RecordBatch) -> Result<(), String> {
        match &self.schema {
            Some(s) if s == &batch.schema() => {
                self.batches.push(batch);
                Ok(())
            }
            Some(_) => Err("batch schema differs from the announced schema".into()),
            None => Err("batch before schema".into()),
        }
    }

    fn event(&mut self, event: QueryEvent) {
        self.events.push(event);
    }
}
