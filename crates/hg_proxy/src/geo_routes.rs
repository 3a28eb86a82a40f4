//! `/api/geo`: offline geolocation of IP addresses (crate `hg_enrich`, module `geo`).
//!
//! `POST /api/geo` with `{"ips": ["8.8.8.8", ...]}` (at most 1,000,000 inputs) answers
//! `{"results": [record, ...], "attribution": [...], "sources": [...]}`, one record per input in
//! order: `input`, `ip`, `category` (`public`, `private`, `documentation`, ... as in
//! `hg_enrich::geo::AddressCategory`), `category_description`, `country_code`,
//! `country_name`, `continent_code`, `continent_name`, `asn`, `as_org`, `city`, `region`,
//! `latitude`, `longitude`; `city` (bool) says whether a city database is loaded. The data
//! directory is `HUNTGLASS_GEO_DATA`, else `build/geo` (as `scripts/setup.sh` writes it) in the
//! working directory or its nearest ancestor holding one, else in the checkout the binary was
//! built from, and an optional GeoIP2-City-compatible
//! file `HUNTGLASS_GEO_CITY_MMDB`; both are read on the first request (loading the ASN tables
//! takes about a second) and kept, and shared with `/api/whois` ([`crate::whois_routes`], merged
//! here). Without any data the route answers 409 naming the directory it looked in.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use hg_enrich::geo::{GeoDb, GeoPaths};
use serde_json::{json, Value};

use crate::config::Config;
use crate::error::ProxyError;
use crate::ip_batch;

const MAX_IPS: usize = 1_000_000;

struct GeoState {
    dir: PathBuf,
    city: Option<PathBuf>,
    db: OnceLock<Result<Arc<GeoDb>, String>>,
}

impl GeoState {
    /// The data, loaded on first use and shared with `/api/whois` (its ASN table).
    fn db(&self) -> Result<Arc<GeoDb>, String> {
        self.db.get_or_init(|| load(self).map(Arc::new)).clone()
    }
}

/// The geolocation routes, data from the environment (see the module documentation), and
/// `/api/whois` ([`crate::whois_routes`]) sharing their ASN table.
pub fn routes(config: &Config) -> Router {
    let dir = std::env::var_os("HUNTGLASS_GEO_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(default_data_dir);
    let city = std::env::var_os("HUNTGLASS_GEO_CITY_MMDB").map(PathBuf::from);
    routes_with(config, dir, city)
}

/// `build/geo` in the working directory or the nearest of its ancestors that has one (a
/// notebook runs in `examples/` of the checkout), else the one of the checkout this binary was
/// built from (a proxy started by Python in a temporary folder), else `build/geo` under the
/// working directory (named in the 409 answer).
fn default_data_dir() -> PathBuf {
    let relative = PathBuf::from("build/geo");
    if let Ok(cwd) = std::env::current_dir() {
        for dir in cwd.ancestors().take(8) {
            let candidate = dir.join(&relative);
            if candidate.is_dir() {
                return candidate;
            }
        }
    }
    let built_from = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../build/geo");
    if built_from.is_dir() {
        return built_from;
    }
    relative
}

/// The geolocation and whois routes on the data directory `dir` and optional city database.
pub fn routes_with(config: &Config, dir: PathBuf, city: Option<PathBuf>) -> Router {
    let state = Arc::new(GeoState {
        dir,
        city,
        db: OnceLock::new(),
    });
    let shared = Arc::clone(&state);
    let whois = crate::whois_routes::routes(config, Arc::new(move || shared.db()));
    Router::new()
        .route("/api/geo", post(lookup))
        .with_state(state)
        .merge(whois)
}

fn load(state: &GeoState) -> Result<GeoDb, String> {
    let paths = GeoPaths::from_data_dir(&state.dir, state.city.clone());
    let db = GeoDb::open(&paths).map_err(|e| e.to_string())?;
    if !db.has_data() {
        return Err(format!(
            "no geolocation data in {} (run scripts/setup.sh, or set HUNTGLASS_GEO_DATA)",
            state.dir.display()
        ));
    }
    Ok(db)
}

async fn lookup(
    State(state): State<Arc<GeoState>>,
    body: Result<Json<ip_batch::IpBatch>, JsonRejection>,
) -> Result<Json<Value>, ProxyError> {
    let ips = ip_batch::addresses(body, MAX_IPS)?;
    let answer = tokio::task::spawn_blocking(move || {
        let db = state.db().map_err(ProxyError::NotConfigured)?;
        let mut results = Vec::with_capacity(ips.len());
        db.lookup_all(
            ips.iter().map(String::as_str),
            &mut |r: hg_enrich::geo::GeoRecord<'_>| {
                let mut v = serde_json::to_value(&r).unwrap_or(Value::Null);
                v["category_description"] = json!(r.category.description());
                results.push(v);
            },
        );
        Ok(json!({
            "results": results,
            "attribution": db.attribution(),
            "sources": db.sources(),
            "city": db.has_city(),
        }))
    })
    .await
    .map_err(|e| ProxyError::internal("geo look-up", e))??;
    Ok(Json(answer))
}
