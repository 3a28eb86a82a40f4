//! Timing of TI look-ups for `bench/ti/bench.py`: a list of observables against a local CSV
//! feed and a Tor exit list (local providers), then against an upstream provider served by a
//! fake on 127.0.0.1 twice, the second time entirely from the disk cache.
//!
//! `ti_bench OBSERVABLES.txt FEED.csv TOR.txt CACHE_DIR` prints one JSON object of timings.

use std::path::Path;
use std::time::Instant;

use hg_enrich::ti::{classify, TiCache, TiConfig, TiEvent, TiLookup};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [observables, feed, tor, cache_dir] = args.as_slice() else {
        return Err("usage: ti_bench OBSERVABLES.txt FEED.csv TOR.txt CACHE_DIR".into());
    };
    let values: Vec<String> = std::fs::read_to_string(observables)?
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        // Local providers: classification of every observable included in the time.
        let section = json!({
            "LocalFeed": {"Provider": "LocalFeed", "Args": {"Path": feed}},
            "Tor": {"Provider": "Tor", "Args": {"Path": tor}},
        });
        let load_started = Instant::now();
        let config = TiConfig::from_section(&section, Path::new("/"))?;
        let load_s = load_started.elapsed().as_secs_f64();
        let lookup = TiLookup::new(config, None);
        let time_local = |providers: Vec<String>| {
            let lookup = &lookup;
            let values = &values;
            async move {
                let started = Instant::now();
                let observables = values.iter().map(|v| classify(v, None)).collect();
                let mut found = 0usize;
                let mut rows = 0usize;
                lookup
                    .lookup(observables, Some(&providers), &mut |e: TiEvent| {
                        if let TiEvent::Result(r) = e {
                            rows += 1;
                            found += usize::from(r.result);
                        }
                    })
                    .await?;
                Ok::<_, Box<dyn std::error::Error>>((started.elapsed().as_secs_f64(), rows, found))
            }
        };
        let (feed_s, feed_rows, feed_found) = time_local(vec!["LocalFeed".into()]).await?;
        let (tor_s, tor_rows, tor_found) = time_local(vec!["Tor".into()]).await?;

        // Upstream provider (OTX shape) on a fake, then the same look-up from the cache.
        let fake = start_fake().await?;
        let cache_path = Path::new(cache_dir).join("bench-cache.redb");
        let _ = std::fs::remove_file(&cache_path);
        let section = json!({"OTX": {"Provider": "OTX", "Args": {
            "BaseUrl": fake, "RequestsPerMinute": 0, "Concurrency": 16, "MaxRetries": 0}}});
        let config = TiConfig::from_section(&section, Path::new("/"))?;
        let lookup = TiLookup::new(config, Some(TiCache::open(&cache_path)?));
        let ips: Vec<String> = values
            .iter()
            .filter(|v| classify(v, None).ioc_type == "ipv4")
            .cloned()
            .collect();
        let (warm_s, warm_rows, _) = run(&lookup, &ips).await?;
        let (cached_s, cached_rows, cached_hits) = run(&lookup, &ips).await?;
        // After a restart: a new handle on the same file.
        drop(lookup);
        let config = TiConfig::from_section(&section, Path::new("/"))?;
        let lookup = TiLookup::new(config, Some(TiCache::open(&cache_path)?));
        let (restart_s, _, restart_hits) = run(&lookup, &ips).await?;
        println!(
            "{}",
            json!({
                "observables": values.len(),
                "feed_load_s": load_s,
                "feed_s": feed_s, "feed_rows": feed_rows, "feed_found": feed_found,
                "tor_s": tor_s, "tor_rows": tor_rows, "tor_found": tor_found,
                "upstream_observables": ips.len(),
                "upstream_first_s": warm_s, "upstream_first_rows": warm_rows,
                "cached_s": cached_s, "cached_rows": cached_rows, "cached_hits": cached_hits,
                "cached_after_restart_s": restart_s, "cached_after_restart_hits": restart_hits,
            })
        );
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}

/// Looks `ips` up in `lookup`: elapsed seconds, rows, rows served from the cache.
async fn run(
    lookup: &TiLookup,
    ips: &[String],
) -> Result<(f64, usize, usize), Box<dyn std::error::Error>> {
    let observables = ips.iter().map(|v| classify(v, None)).collect();
    let started = Instant::now();
    let mut cached = 0usize;
    let mut rows = 0usize;
    lookup
        .lookup(observables, None, &mut |e: TiEvent| {
            if let TiEvent::Result(r) = e {
                rows += 1;
                cached += usize::from(r.cached);
            }
        })
        .await?;
    Ok((started.elapsed().as_secs_f64(), rows, cached))
}

/// An OTX-shaped fake answering every indicator with one pulse.
async fn start_fake() -> Result<String, Box<dyn std::error::Error>> {
    let app = axum::Router::new().fallback(|| async {
        (
            [("content-type", "application/json")],
            r#"{"pulse_info": {"count": 1, "pulses": [{"name": "bench pulse", "tags": ["bench"], "references": []}]}}"#,
        )
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{addr}"))
}
