//! `/api/whois`: RDAP whois of IP addresses (crate `hg_enrich`, module `whois`).
//!
//! `POST /api/whois` with `{"ips": ["8.8.8.8", ...]}` (at most
//! [`hg_enrich::whois::MAX_BATCH`]) answers `{"results": [record, ...], "attribution": [...]}`,
//! one record per input in order: `input`, `ip`, `category`, `status` (`found`, `not_found`,
//! `rate_limited`, `failed`, `no_registry`, `not_public`, `invalid`), `message`, `asn`,
//! `as_org` (offline ASN table, as `/api/geo`), `network_name`, `handle`, `network_type`,
//! `country`, `start_address`, `end_address`, `cidrs`, `registered`, `last_changed`,
//! `registrant`, `abuse_name`, `abuse_email`, `registry`, `reference`, `shared` (answered by
//! another address of the same network in the batch).
//!
//! The registries come from the IANA RDAP bootstrap: `HUNTGLASS_RDAP_BOOTSTRAP` (comma-separated
//! files or `http(s)://` URLs), else `OtherProviders.RDAP.Args.Bootstrap` (a string or a list),
//! else IANA's `ipv4.json` and `ipv6.json`. It is read on the first request and kept; a
//! bootstrap that cannot be read answers 502 naming the source and is tried again on the next
//! request. Pacing (`Args.PaceSeconds`, default 0.5: one request start per interval),
//! `Concurrency` (2), `TimeoutSeconds` (20), `MaxRetries` (2) and `MaxRetryWaitSeconds` (30)
//! come from the same section; `HUNTGLASS_RDAP_PACE_MS` overrides the pace.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use hg_enrich::geo::GeoDb;
use hg_enrich::whois::{load_bootstrap, WhoisClient, WhoisSettings, IANA_BOOTSTRAP, MAX_BATCH};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::config::{Config, SectionKind};
use crate::error::ProxyError;
use crate::ip_batch;

/// Where the offline ASN table comes from (shared with `/api/geo`).
pub(crate) type GeoLoader = Arc<dyn Fn() -> Result<Arc<GeoDb>, String> + Send + Sync>;

struct WhoisState {
    sources: Vec<String>,
    settings: WhoisSettings,
    client: Mutex<Option<Arc<WhoisClient>>>,
    geo: GeoLoader,
}

fn seconds(args: &Value, key: &str) -> Option<Duration> {
    args.get(key)
        .and_then(Value::as_f64)
        .filter(|s| s.is_finite() && *s >= 0.0 && *s < 86_400.0)
        .map(Duration::from_secs_f64)
}

/// The whois route, settings from `config` and the environment (see the module documentation);
/// `geo` gives the offline ASN table.
pub(crate) fn routes(config: &Config, geo: GeoLoader) -> Router {
    let args = config
        .sections(SectionKind::Other)
        .get("RDAP")
        .map(|s| s.value().get("Args").cloned().unwrap_or(Value::Null))
        .unwrap_or(Value::Null);
    let mut sources: Vec<String> = match args.get("Bootstrap") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => IANA_BOOTSTRAP.iter().map(|s| s.to_string()).collect(),
    };
    if let Ok(env) = std::env::var("HUNTGLASS_RDAP_BOOTSTRAP") {
        sources = env
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
    }
    let mut settings = WhoisSettings::default();
    if let Some(pace) = seconds(&args, "PaceSeconds") {
        settings.pace = pace;
    }
    if let Some(pace) = std::env::var("HUNTGLASS_RDAP_PACE_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        settings.pace = Duration::from_millis(pace);
    }
    if let Some(n) = args.get("Concurrency").and_then(Value::as_u64) {
        settings.concurrency = n.clamp(1, 16) as usize;
    }
    if let Some(t) = seconds(&args, "TimeoutSeconds") {
        settings.timeout = t;
    }
    if let Some(n) = args.get("MaxRetries").and_then(Value::as_u64) {
        settings.max_retries = n.min(10) as u32;
    }
    if let Some(t) = seconds(&args, "MaxRetryWaitSeconds") {
        settings.max_retry_wait = t;
    }
    let state = Arc::new(WhoisState {
        sources,
        settings,
        client: Mutex::new(None),
        geo,
    });
    Router::new()
        .route("/api/whois", post(lookup))
        .with_state(state)
}

async fn client(state: &WhoisState) -> Result<Arc<WhoisClient>, ProxyError> {
    let mut held = state.client.lock().await;
    if let Some(client) = held.as_ref() {
        return Ok(Arc::clone(client));
    }
    if state.sources.is_empty() {
        return Err(ProxyError::NotConfigured(
            "no RDAP bootstrap configured (HUNTGLASS_RDAP_BOOTSTRAP is empty)".into(),
        ));
    }
    let bootstrap = load_bootstrap(&state.sources, state.settings.timeout)
        .await
        .map_err(|e| ProxyError::Upstream(e.to_string()))?;
    let client = Arc::new(
        WhoisClient::new(bootstrap, &state.settings)
            .map_err(|e| ProxyError::internal("whois client", e))?,
    );
    *held = Some(Arc::clone(&client));
    Ok(client)
}

async fn lookup(
    State(state): State<Arc<WhoisState>>,
    body: Result<Json<ip_batch::IpBatch>, JsonRejection>,
) -> Result<Json<Value>, ProxyError> {
    let ips = ip_batch::addresses(body, MAX_BATCH)?;
    let client = client(&state).await?;
    let loader = Arc::clone(&state.geo);
    // The ASN table is optional: whois works without it (no `asn`).
    let geo = tokio::task::spawn_blocking(move || loader())
        .await
        .map_err(|e| ProxyError::internal("geo data", e))?
        .ok();
    let records = client
        .lookup_all(&ips, geo.as_deref())
        .await
        .map_err(ProxyError::BadRequest)?;
    let mut attribution = vec!["Whois: RDAP (RFC 9083) of the regional internet registries"];
    if let Some(geo) = &geo {
        attribution.extend(geo.attribution());
    }
    Ok(Json(
        json!({"results": records, "attribution": attribution}),
    ))
}
