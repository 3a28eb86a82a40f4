//! Runs look-ups: every selected provider in its own task, results streamed as they come.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::cache::TiCache;
use super::config::{Backend, Loaded, ProviderStatus, TiConfig, TiConfigError};
use super::observable::{upstream_refusal, Observable};
use super::{status, Severity, TiResult};

/// What a look-up reports, in the order it happens (results of different providers interleave).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TiEvent {
    /// One provider's answer about one observable.
    Result(TiResult),
    /// A provider has handled `done` of `total` observables.
    Progress {
        /// The provider.
        provider: String,
        /// Observables handled.
        done: usize,
        /// Observables in the look-up.
        total: usize,
    },
    /// A provider has finished.
    ProviderDone(ProviderSummary),
}

/// What one provider did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ProviderSummary {
    /// The provider.
    pub provider: String,
    /// Results emitted.
    pub results: usize,
    /// Results with a record (`Result` true).
    pub found: usize,
    /// Results served from the cache.
    pub cached: usize,
    /// Observables skipped (type not supported, bad format, not sent upstream).
    pub skipped: usize,
    /// Failed requests.
    pub failed: usize,
    /// Cache writes that failed (the look-up itself went on).
    pub cache_errors: usize,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
}

/// Receives the events of a look-up.
pub trait TiSink {
    /// Called for every event, in order.
    fn event(&mut self, event: TiEvent);
}

impl<F: FnMut(TiEvent)> TiSink for F {
    fn event(&mut self, event: TiEvent) {
        self(event)
    }
}

/// The totals of a finished look-up.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LookupSummary {
    /// Distinct observables looked up.
    pub observables: usize,
    /// One entry per provider, in the order they finished.
    pub providers: Vec<ProviderSummary>,
}

/// The configured providers and the cache.
#[derive(Debug)]
pub struct TiLookup {
    providers: Vec<Arc<Loaded>>,
    status: Vec<ProviderStatus>,
    cache: Option<Arc<TiCache>>,
}

/// Results written to the cache per transaction.
const CACHE_BATCH: usize = 64;
/// Results between two progress events of one provider.
const PROGRESS_EVERY: usize = 256;
/// Most distinct observables in one look-up.
pub const MAX_OBSERVABLES: usize = 1_000_000;

impl TiLookup {
    /// A look-up over the providers of `config`, caching upstream answers in `cache`.
    pub fn new(config: TiConfig, cache: Option<TiCache>) -> TiLookup {
        TiLookup {
            providers: config.loaded.into_iter().map(Arc::new).collect(),
            status: config.status,
            cache: cache.map(Arc::new),
        }
    }

    /// Every configured provider and what became of it.
    pub fn status(&self) -> &[ProviderStatus] {
        &self.status
    }

    /// Names of the loaded providers.
    pub fn provider_names(&self) -> Vec<&str> {
        self.providers.iter().map(|p| p.name.as_str()).collect()
    }

    fn select(&self, names: Option<&[String]>) -> Result<Vec<Arc<Loaded>>, TiConfigError> {
        let chosen: Vec<Arc<Loaded>> = match names {
            Some(names) if !names.is_empty() => names
                .iter()
                .map(|n| {
                    self.providers
                        .iter()
                        .find(|p| p.name.eq_ignore_ascii_case(n))
                        .cloned()
                        .ok_or_else(|| TiConfigError::UnknownProvider {
                            name: n.clone(),
                            loaded: self.provider_names().join(", "),
                        })
                })
                .collect::<Result<_, _>>()?,
            _ => self
                .providers
                .iter()
                .filter(|p| p.primary)
                .cloned()
                .collect(),
        };
        if chosen.is_empty() {
            return Err(TiConfigError::NoProviders);
        }
        Ok(chosen)
    }

    /// Starts a look-up of `observables` (duplicates are looked up once) on the named providers
    /// (the primary ones when `None`) and returns the stream of its events; the stream ends when
    /// every provider is done. Must be called inside a Tokio runtime.
    pub fn start(
        &self,
        observables: Vec<Observable>,
        providers: Option<&[String]>,
    ) -> Result<mpsc::Receiver<TiEvent>, TiConfigError> {
        let chosen = self.select(providers)?;
        let mut seen = HashSet::new();
        let unique: Vec<Observable> = observables
            .into_iter()
            .filter(|o| seen.insert((o.value.clone(), o.ioc_type.clone())))
            .take(MAX_OBSERVABLES)
            .collect();
        let observables = Arc::new(unique);
        let (tx, rx) = mpsc::channel(1024);
        for provider in chosen {
            let tx = tx.clone();
            let observables = observables.clone();
            let cache = self.cache.clone();
            tokio::spawn(async move {
                run_provider(provider, observables, cache, tx).await;
            });
        }
        Ok(rx)
    }

    /// Runs a look-up to the end, handing every event to `sink`.
    pub async fn lookup(
        &self,
        observables: Vec<Observable>,
        providers: Option<&[String]>,
        sink: &mut impl TiSink,
    ) -> Result<LookupSummary, TiConfigError> {
        let mut seen = HashSet::new();
        let count = observables
            .iter()
            .filter(|o| seen.insert((o.value.as_str(), o.ioc_type.as_str())))
            .count();
        let mut rx = self.start(observables, providers)?;
        let mut summary = LookupSummary {
            observables: count.min(MAX_OBSERVABLES),
            providers: Vec::new(),
        };
        while let Some(event) = rx.recv().await {
            if let TiEvent::ProviderDone(done) = &event {
                summary.providers.push(done.clone());
            }
            sink.event(event);
        }
        Ok(summary)
    }
}

/// What to do with one observable before any request.
fn precheck(provider: &Loaded, observable: &Observable) -> Option<TiResult> {
    if observable.kind.is_none() {
        let message = if observable.ioc_type == "unknown" {
            "Not a recognised indicator (IP address, domain, URL, e-mail address or hash)."
                .to_string()
        } else {
            format!(
                "Observable does not match the pattern of {}.",
                observable.ioc_type
            )
        };
        return Some(TiResult::message(
            observable,
            &provider.name,
            status::BAD_FORMAT,
            Severity::Unknown,
            message,
        ));
    }
    if !provider.types.contains(&observable.ioc_type.as_str()) {
        return Some(TiResult::message(
            observable,
            &provider.name,
            status::NOT_SUPPORTED,
            Severity::Unknown,
            format!(
                "{} does not look up {} observables.",
                provider.name, observable.ioc_type
            ),
        ));
    }
    if matches!(provider.backend, Backend::Http(_)) {
        if let Some(reason) = upstream_refusal(observable) {
            return Some(TiResult::message(
                observable,
                &provider.name,
                status::BAD_FORMAT,
                Severity::Unknown,
                reason,
            ));
        }
    }
    None
}

struct Run {
    summary: ProviderSummary,
    tx: mpsc::Sender<TiEvent>,
    total: usize,
    done: usize,
}

impl Run {
    /// Sends a result; false when nobody listens any more.
    async fn emit(&mut self, result: TiResult) -> bool {
        self.summary.results += 1;
        self.summary.found += usize::from(result.result);
        self.summary.cached += usize::from(result.cached);
        match result.status {
            status::NOT_SUPPORTED | status::BAD_FORMAT => self.summary.skipped += 1,
            status::OK | status::NO_DATA => {}
            _ => self.summary.failed += 1,
        }
        self.done += 1;
        if self.tx.send(TiEvent::Result(result)).await.is_err() {
            return false;
        }
        if self.done % PROGRESS_EVERY == 0 && self.done < self.total {
            let progress = TiEvent::Progress {
                provider: self.summary.provider.clone(),
                done: self.done,
                total: self.total,
            };
            return self.tx.send(progress).await.is_ok();
        }
        true
    }
}

async fn run_provider(
    provider: Arc<Loaded>,
    observables: Arc<Vec<Observable>>,
    cache: Option<Arc<TiCache>>,
    tx: mpsc::Sender<TiEvent>,
) {
    let started = Instant::now();
    let mut run = Run {
        summary: ProviderSummary {
            provider: provider.name.clone(),
            ..ProviderSummary::default()
        },
        tx,
        total: observables.len(),
        done: 0,
    };
    let alive = match &provider.backend {
        Backend::Feed(_) | Backend::Tor(..) => run_local(&provider, &observables, &mut run).await,
        Backend::Http(_) => run_http(&provider, &observables, cache.as_deref(), &mut run).await,
    };
    if alive {
        run.summary.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let _ = run
            .tx
            .send(TiEvent::Progress {
                provider: provider.name.clone(),
                done: run.done,
                total: run.total,
            })
            .await;
        let summary = run.summary.clone();
        let _ = run.tx.send(TiEvent::ProviderDone(summary)).await;
    }
}

async fn run_local(provider: &Loaded, observables: &[Observable], run: &mut Run) -> bool {
    for (i, observable) in observables.iter().enumerate() {
        let result = precheck(provider, observable).unwrap_or_else(|| match &provider.backend {
            Backend::Feed(feed) => feed.lookup(observable, &provider.name),
            Backend::Tor(list, reference) => list.lookup(observable, &provider.name, reference),
            Backend::Http(_) => unreachable_backend(observable, &provider.name),
        });
        if !run.emit(result).await {
            return false;
        }
        if i % 1024 == 1023 {
            tokio::task::yield_now().await;
        }
    }
    true
}

#[cold]
fn unreachable_backend(observable: &Observable, provider: &str) -> TiResult {
    TiResult::message(
        observable,
        provider,
        status::OTHER,
        Severity::Unknown,
        "internal error: an upstream provider in the local loop",
    )
}

async fn run_http(
    provider: &Loaded,
    observables: &[Observable],
    cache: Option<&TiCache>,
    run: &mut Run,
) -> bool {
    let Backend::Http(http) = &provider.backend else {
        return true;
    };
    let ttl = provider.ttl.filter(|_| cache.is_some());
    let mut to_fetch = Vec::new();
    let prechecked: Vec<Option<TiResult>> = observables
        .iter()
        .map(|observable| precheck(provider, observable))
        .collect();
    // One read transaction for every key; an unreadable cache is treated as all misses.
    let hits = match (cache, ttl) {
        (Some(cache), Some(ttl)) => cache
            .get_many(
                &provider.name,
                observables
                    .iter()
                    .zip(&prechecked)
                    .filter(|(_, early)| early.is_none())
                    .map(|(o, _)| (o.ioc_type.as_str(), o.canonical.as_str())),
                ttl,
            )
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut hits = hits.into_iter();
    // Emitted in the callers' order: early answers and cache hits as they come.
    for (observable, early) in observables.iter().zip(prechecked) {
        let answer = match early {
            Some(result) => Some(result),
            None => hits.next().flatten().map(|mut result| {
                // The cache is keyed by the canonical value: report the caller's spelling.
                result.ioc = observable.value.clone();
                result
            }),
        };
        match answer {
            Some(result) => {
                if !run.emit(result).await {
                    return false;
                }
            }
            None => to_fetch.push(observable.clone()),
        }
    }
    // Enough tasks to keep the provider's concurrency busy; the transport's semaphore and rate
    // limit decide when each request really goes out.
    let window = http_window(provider);
    let mut pending = to_fetch.into_iter();
    let mut tasks = JoinSet::new();
    let mut in_flight: HashMap<tokio::task::Id, Observable> = HashMap::new();
    let mut to_cache: Vec<TiResult> = Vec::new();
    loop {
        while tasks.len() < window {
            let Some(observable) = pending.next() else {
                break;
            };
            let http = http.clone();
            let name = provider.name.clone();
            let kept = observable.clone();
            let handle = tasks.spawn(async move { http.lookup(&observable, &name).await });
            in_flight.insert(handle.id(), kept);
        }
        let Some(joined) = tasks.join_next_with_id().await else {
            break;
        };
        let result = match joined {
            Ok((id, result)) => {
                in_flight.remove(&id);
                result
            }
            Err(e) => match in_flight.remove(&e.id()) {
                Some(observable) => TiResult::message(
                    &observable,
                    &provider.name,
                    status::OTHER,
                    Severity::Unknown,
                    format!("internal error in the look-up task: {e}"),
                ),
                None => continue,
            },
        };
        if ttl.is_some() && matches!(result.status, status::OK | status::NO_DATA) {
            to_cache.push(result.clone());
            if to_cache.len() >= CACHE_BATCH {
                flush(cache, &mut to_cache, run);
            }
        }
        if !run.emit(result).await {
            tasks.abort_all();
            flush(cache, &mut to_cache, run);
            return false;
        }
    }
    flush(cache, &mut to_cache, run);
    true
}

fn http_window(provider: &Loaded) -> usize {
    match &provider.backend {
        Backend::Http(_) => 64,
        _ => 1,
    }
}

fn flush(cache: Option<&TiCache>, results: &mut Vec<TiResult>, run: &mut Run) {
    if let Some(cache) = cache {
        if !results.is_empty() && cache.put_many(results.iter()).is_err() {
            run.summary.cache_errors += 1;
        }
    }
    results.clear();
}
