//! Offline geolocation speed: `cargo run --release -p hg_enrich --example geo_bench -- DATA_DIR [N]`.
//!
//! Loads the installed data (`build/geo`, as `scripts/setup.sh` writes it), then looks up `N`
//! (default 1,000,000) seeded random addresses given as text (90% IPv4 over the whole space,
//! so private and reserved ones are classified too; 10% IPv6 in global unicast), one thread,
//! through `GeoDb::lookup_all` into a sink that counts what it got. Prints one JSON line: load
//! time, look-up wall and process CPU time, look-ups per second, and the counts (so a run that
//! found nothing is visible).

use std::path::PathBuf;
use std::time::Instant;

use hg_enrich::geo::{AddressCategory, GeoDb, GeoPaths, GeoRecord};

/// Process CPU time (user + system) in seconds, from /proc/self/stat (Linux).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "build/geo".into()));
    let n: usize = match args.next() {
        Some(text) => text.parse()?,
        None => 1_000_000,
    };
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let inputs: Vec<String> = (0..n)
        .map(|i| {
            let r = rng.next();
            if i % 10 == 9 {
                let hi = 0x2000 | ((r >> 48) as u16 & 0x1fff);
                format!(
                    "{hi:x}:{:x}:{:x}::{:x}",
                    (r >> 32) as u16,
                    (r >> 16) as u16,
                    r as u16
                )
            } else {
                std::net::Ipv4Addr::from(r as u32).to_string()
            }
        })
        .collect();

    let started = Instant::now();
    let db = GeoDb::open(&GeoPaths::from_data_dir(&dir, None))?;
    if !db.has_data() {
        return Err(format!("no geolocation data in {}", dir.display()).into());
    }
    let load_s = started.elapsed().as_secs_f64();

    let (mut public, mut country, mut asn, mut other) = (0usize, 0usize, 0usize, 0usize);
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    db.lookup_all(inputs.iter().map(String::as_str), &mut |r: GeoRecord<
        '_,
    >| {
        if r.category == AddressCategory::Public {
            public += 1;
        } else {
            other += 1;
        }
        country += usize::from(r.country_code.is_some());
        asn += usize::from(r.asn.is_some());
    });
    let lookup_s = started.elapsed().as_secs_f64();
    let lookup_cpu_s = cpu_seconds() - cpu_before;
    println!(
        "{{\"n\": {n}, \"load_s\": {load_s:.3}, \"lookup_s\": {lookup_s:.4}, \"lookup_cpu_s\": {lookup_cpu_s:.2}, \"per_s\": {:.0}, \"per_cpu_s\": {:.0}, \"public\": {public}, \"not_public\": {other}, \"with_country\": {country}, \"with_asn\": {asn}}}",
        n as f64 / lookup_s,
        n as f64 / lookup_cpu_s.max(0.01),
    );
    Ok(())
}
