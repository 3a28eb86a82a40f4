//! Threat-intelligence, geolocation and whois look-ups for observables, normalized, rate-limited and cached.
//!
//! # Threat intelligence ([`ti`])
//!
//! A look-up takes observables of any IoC type (classified and refanged by `hg_ioc` when no
//! type is given) and asks every selected provider about each, the providers side by side:
//! one Tokio task per provider, results pushed to a [`ti::TiSink`] (or read from the event
//! stream of [`ti::TiLookup::start`]) as soon as each provider answers, so a slow or failing
//! provider never holds back the others. Every answer is normalized to the reference's row
//! ([`ti::TiResult`]: `Ioc`, `IocType`, `SafeIoc`, `Provider`, `Result`, `Severity`,
//! `Details`, `RawResult`, `Reference`, `Status`) with the reference's severity rules per
//! provider and its known mistakes fixed (listed in `ti/providers.rs`).
//!
//! Providers:
//! - local, needing no key and sending nothing anywhere: a feed loaded from CSV or a STIX 2.1
//!   bundle ([`ti::LocalFeed`]), and the Tor exit list read from a file ([`ti::TorExitList`]);
//! - upstream: VirusTotal v3, AlienVault OTX, AbuseIPDB, GreyNoise (community), and abuse.ch's
//!   URLhaus, ThreatFox and MalwareBazaar, over `reqwest` with rustls.
//!
//! Before anything goes upstream: a type the provider does not handle gives a `NOT_SUPPORTED`
//! row with the reason; private, reserved and documentation addresses (and URLs on them), and
//! hashes of too low an entropy give `BAD_FORMAT` rows and are never sent. Each upstream
//! provider has a sliding-window rate limit (VirusTotal's public API: 4 per minute), a
//! concurrency limit, a timeout, and retries with exponential backoff that honour
//! `Retry-After` (waits longer than the configured maximum report the 429 instead). Keys travel
//! only in request headers, so `Reference` (the request URL) never carries one.
//!
//! Upstream answers (found or not found, never failures) are cached on disk in a `redb`
//! database ([`ti::TiCache`]) keyed by provider, type and canonical observable, with a TTL per
//! provider; the cache survives restarts. Local providers are not cached: they are faster
//! than the cache.
//!
//! Providers come from the `TIProviders` section of a configuration in msticpyconfig.yaml's
//! layout ([`ti::TiConfig::from_section`]); the key-less default is the local feed and the Tor
//! list of the scenario directory ([`ti::TiConfig::default_section`]).
//!
//! # Geolocation ([`geo`])
//!
//! Offline: country from a MaxMind DB file, ASN and AS organisation from sorted range tables,
//! city when a GeoIP2-City database is given; addresses that are not publicly routable are
//! reported by category and never looked up. Limits are in the module's documentation.
//!
//! # Whois ([`whois`])
//!
//! RDAP through the IANA bootstrap (longest-prefix registry choice), the network's name,
//! country, registration and last-changed dates and abuse contact, the origin AS from the
//! offline ASN table; batched (addresses of a network already fetched reuse it) and paced.
//!
//! # Input limits
//!
//! Observables longer than 8 KiB are reported as bad format; at most 1,000,000 distinct
//! observables per look-up. Feed files are read up to 256 MiB and 5,000,000 indicators, Tor
//! lists up to 64 MiB; STIX patterns up to 64 KiB and 64 levels of nesting (the JSON parser has
//! its own depth limit of 128). Provider response bodies are read up to 16 MiB; a body that is
//! not the documented JSON gives a `QUERY_FAILED` row naming what was wrong, and at most 4 KiB
//! of it in `RawResult`.

pub mod geo;
pub mod geo_countries;
pub mod ti;
pub mod whois;
