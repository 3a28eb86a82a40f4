//! Whois of IP addresses over RDAP (RFC 9082/9083), the registry found through the IANA
//! bootstrap (RFC 9224), the origin AS from the offline ASN table of [`crate::geo`].
//!
//! [`RdapBootstrap`] holds the IANA `ipv4.json` / `ipv6.json` service lists (read from files or
//! URLs the caller chose); an address goes to the registry of its longest matching prefix
//! (`{base}ip/{address}`, https preferred). [`WhoisClient::lookup_all`] looks a batch up:
//! addresses that are not publicly routable and invalid inputs are reported by category and
//! never sent; an address inside a network already fetched in the same batch reuses that
//! answer instead of asking again; requests to the registries are paced (one start per
//! `pace`, default 500 ms, as registries throttle) with a concurrency limit, a timeout and
//! retries that honour `Retry-After`. Each input gets one [`WhoisRecord`] with its
//! [`WhoisStatus`]: found, not found (404), rate limited (429 after the retries), failed
//! (timeout, connection, malformed answer: the message says which), no registry, not public.
//!
//! From the RDAP network object: `name`, `handle`, `country` (ARIN omits it: then the
//! registrant's or the first entity's vCard address country when it names one), the range
//! and CIDRs, the `registration` and `last changed` dates (each from its own event: the
//! reference swaps them), and the abuse contact (name and e-mail of the entity, or nested
//! entity, with the `abuse` role).
//!
//! # Input limits
//!
//! Bootstrap files up to 4 MiB and 10,000 prefixes; RDAP answers up to 1 MiB (larger is a
//! failure), entities searched to a depth of 4 and at most 256 of them; texts taken from an
//! answer are cut at 512 bytes; at most [`MAX_BATCH`] inputs per batch.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::geo::{categorize, AddressCategory, GeoDb};
use crate::ti::http::{Fetched, HttpLimits, Transport};

/// Most addresses in one batch.
pub const MAX_BATCH: usize = 10_000;
const MAX_BOOTSTRAP_BYTES: usize = 4 * 1024 * 1024;
const MAX_PREFIXES: usize = 10_000;
const MAX_ANSWER_BYTES: usize = 1024 * 1024;
const MAX_ENTITY_DEPTH: usize = 4;
const MAX_ENTITIES: usize = 256;
const MAX_TEXT: usize = 512;

/// A bootstrap that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum WhoisError {
    /// The bootstrap is not the IANA JSON layout.
    #[error("RDAP bootstrap {source_name}: {message}")]
    Bootstrap {
        /// The file or URL.
        source_name: String,
        /// What was wrong.
        message: String,
    },
    /// The HTTP client could not be built.
    #[error("{0}")]
    Client(String),
}

/// The IANA RDAP bootstrap for IP addresses: prefixes and the registry serving each.
#[derive(Debug, Default, Clone)]
pub struct RdapBootstrap {
    v4: Vec<(u32, u32, u8, usize)>,
    v6: Vec<(u128, u128, u8, usize)>,
    services: Vec<String>,
}

impl RdapBootstrap {
    /// An empty bootstrap (no registry for any address).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one bootstrap file's JSON (`ipv4.json` or `ipv6.json`); `source_name` names it in
    /// errors.
    pub fn add_json(&mut self, data: &[u8], source_name: &str) -> Result<(), WhoisError> {
        let fail = |message: String| WhoisError::Bootstrap {
            source_name: source_name.to_string(),
            message,
        };
        if data.len() > MAX_BOOTSTRAP_BYTES {
            return Err(fail(format!(
                "{} bytes, over the limit of {MAX_BOOTSTRAP_BYTES}",
                data.len()
            )));
        }
        let doc: Value =
            serde_json::from_slice(data).map_err(|e| fail(format!("not JSON: {e}")))?;
        let services = doc
            .get("services")
            .and_then(Value::as_array)
            .ok_or_else(|| fail("no \"services\" list".into()))?;
        for (i, service) in services.iter().enumerate() {
            let pair = service.as_array().filter(|p| p.len() == 2).ok_or_else(|| {
                fail(format!(
                    "services[{i}] is not [[prefixes], [urls]] (an ipv4/ipv6 bootstrap file?)"
                ))
            })?;
            let urls: Vec<&str> = pair[1]
                .as_array()
                .map(|u| u.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let base = urls
                .iter()
                .find(|u| u.starts_with("https://"))
                .or_else(|| urls.iter().find(|u| u.starts_with("http://")))
                .ok_or_else(|| fail(format!("services[{i}] names no http(s) URL")))?;
            let mut base = base.to_string();
            if !base.ends_with('/') {
                base.push('/');
            }
            let index = self.services.len();
            self.services.push(base);
            let prefixes = pair[0]
                .as_array()
                .ok_or_else(|| fail(format!("services[{i}] has no prefix list")))?;
            for prefix in prefixes {
                let text = prefix
                    .as_str()
                    .ok_or_else(|| fail(format!("services[{i}]: a prefix is not a string")))?;
                self.add_prefix(text, index)
                    .map_err(|m| fail(format!("services[{i}]: {m}")))?;
                if self.v4.len() + self.v6.len() > MAX_PREFIXES {
                    return Err(fail(format!("more than {MAX_PREFIXES} prefixes")));
                }
            }
        }
        Ok(())
    }

    fn add_prefix(&mut self, text: &str, service: usize) -> Result<(), String> {
        let (addr, len) = text
            .split_once('/')
            .ok_or_else(|| format!("prefix {text:?} has no /length"))?;
        let ip: IpAddr = addr
            .parse()
            .map_err(|_| format!("prefix {text:?}: {addr:?} is not an address"))?;
        let len: u8 = len
            .parse()
            .map_err(|_| format!("prefix {text:?}: bad length"))?;
        match ip {
            IpAddr::V4(v4) if len <= 32 => {
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                let start = u32::from(v4) & mask;
                self.v4.push((start, start | !mask, len, service));
            }
            IpAddr::V6(v6) if len <= 128 => {
                let mask = if len == 0 {
                    0
                } else {
                    u128::MAX << (128 - len)
                };
                let start = u128::from(v6) & mask;
                self.v6.push((start, start | !mask, len, service));
            }
            _ => return Err(format!("prefix {text:?}: length out of range")),
        }
        Ok(())
    }

    /// Number of prefixes (IPv4, IPv6).
    pub fn len(&self) -> (usize, usize) {
        (self.v4.len(), self.v6.len())
    }

    /// True when no prefix is known.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// The base URL (ending in `/`) of the registry serving `ip`: the longest matching prefix.
    pub fn base_for(&self, ip: IpAddr) -> Option<&str> {
        let best = match ip {
            IpAddr::V4(v4) => {
                let x = u32::from(v4);
                self.v4
                    .iter()
                    .filter(|(s, e, _, _)| *s <= x && x <= *e)
                    .max_by_key(|(_, _, len, _)| *len)
                    .map(|(_, _, _, i)| *i)
            }
            IpAddr::V6(v6) => {
                if let Some(v4) = v6.to_ipv4_mapped() {
                    return self.base_for(IpAddr::V4(v4));
                }
                let x = u128::from(v6);
                self.v6
                    .iter()
                    .filter(|(s, e, _, _)| *s <= x && x <= *e)
                    .max_by_key(|(_, _, len, _)| *len)
                    .map(|(_, _, _, i)| *i)
            }
        };
        best.map(|i| self.services[i].as_str())
    }
}

/// The IANA bootstrap files for IP addresses.
pub const IANA_BOOTSTRAP: [&str; 2] = [
    "https://data.iana.org/rdap/ipv4.json",
    "https://data.iana.org/rdap/ipv6.json",
];

/// Reads bootstrap files from paths or `http(s)://` URLs (each up to 4 MiB, `timeout` per
/// download) into one bootstrap.
pub async fn load_bootstrap(
    sources: &[String],
    timeout: Duration,
) -> Result<RdapBootstrap, WhoisError> {
    let mut bootstrap = RdapBootstrap::new();
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("huntglass/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| WhoisError::Client(format!("cannot build the HTTP client: {e}")))?;
    for source in sources {
        let fail = |message: String| WhoisError::Bootstrap {
            source_name: source.clone(),
            message,
        };
        let data = if source.starts_with("http://") || source.starts_with("https://") {
            let mut response = client
                .get(source)
                .send()
                .await
                .map_err(|e| fail(format!("download failed: {e}")))?;
            if !response.status().is_success() {
                return Err(fail(format!("download answered {}", response.status())));
            }
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| fail(format!("download failed: {e}")))?
            {
                if body.len() + chunk.len() > MAX_BOOTSTRAP_BYTES {
                    return Err(fail(format!("larger than {MAX_BOOTSTRAP_BYTES} bytes")));
                }
                body.extend_from_slice(&chunk);
            }
            body
        } else {
            let meta = std::fs::metadata(source).map_err(|e| fail(format!("cannot read: {e}")))?;
            if meta.len() > MAX_BOOTSTRAP_BYTES as u64 {
                return Err(fail(format!("larger than {MAX_BOOTSTRAP_BYTES} bytes")));
            }
            std::fs::read(source).map_err(|e| fail(format!("cannot read: {e}")))?
        };
        bootstrap.add_json(&data, source)?;
    }
    if bootstrap.is_empty() {
        return Err(WhoisError::Bootstrap {
            source_name: sources.join(", "),
            message: "no prefix in the bootstrap".into(),
        });
    }
    Ok(bootstrap)
}

/// What became of one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WhoisStatus {
    /// The registry answered with the network.
    Found,
    /// The registry holds no network for it (404).
    NotFound,
    /// Still rate limited (429) after the retries.
    RateLimited,
    /// Timeout, connection failure, error status or malformed answer (see the message).
    Failed,
    /// No registry in the bootstrap serves the address.
    NoRegistry,
    /// Not publicly routable (private, documentation, ...): not sent.
    NotPublic,
    /// Not an IP address.
    Invalid,
}

/// The whois of one input.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct WhoisRecord {
    /// The input as given.
    pub input: String,
    /// The address (`None` when invalid).
    pub ip: Option<IpAddr>,
    /// Address category (`public`, `private`, ...).
    pub category: String,
    /// What became of the look-up.
    pub status: Option<WhoisStatus>,
    /// Why, when it did not succeed.
    pub message: Option<String>,
    /// Origin AS from the offline table.
    pub asn: Option<u32>,
    /// The AS's organisation from the offline table.
    pub as_org: Option<String>,
    /// Network name.
    pub network_name: Option<String>,
    /// Network handle.
    pub handle: Option<String>,
    /// Network type (`ASSIGNED PA`, `DIRECT ALLOCATION`, ...).
    pub network_type: Option<String>,
    /// Country code of the network.
    pub country: Option<String>,
    /// First address of the network.
    pub start_address: Option<String>,
    /// Last address of the network.
    pub end_address: Option<String>,
    /// The network's CIDRs (`prefix/len`).
    pub cidrs: Vec<String>,
    /// Date of the `registration` event.
    pub registered: Option<String>,
    /// Date of the `last changed` event.
    pub last_changed: Option<String>,
    /// Registrant organisation (vCard `fn` of the `registrant` entity).
    pub registrant: Option<String>,
    /// Abuse contact name.
    pub abuse_name: Option<String>,
    /// Abuse contact e-mail.
    pub abuse_email: Option<String>,
    /// Registry base URL asked.
    pub registry: Option<String>,
    /// The request URL.
    pub reference: Option<String>,
    /// True when the answer came from another address of the same network in this batch.
    pub shared: bool,
}

/// Settings of a [`WhoisClient`].
#[derive(Debug, Clone)]
pub struct WhoisSettings {
    /// At most one request starts per `pace` (across registries).
    pub pace: Duration,
    /// Requests in flight.
    pub concurrency: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retries after 429/5xx/timeouts.
    pub max_retries: u32,
    /// First backoff without `Retry-After`.
    pub backoff: Duration,
    /// Longest `Retry-After` accepted.
    pub max_retry_wait: Duration,
}

impl Default for WhoisSettings {
    fn default() -> Self {
        WhoisSettings {
            pace: Duration::from_millis(500),
            concurrency: 2,
            timeout: Duration::from_secs(20),
            max_retries: 2,
            backoff: Duration::from_secs(3),
            max_retry_wait: Duration::from_secs(30),
        }
    }
}

/// Looks addresses up over RDAP.
pub struct WhoisClient {
    bootstrap: RdapBootstrap,
    transport: Transport,
}

impl std::fmt::Debug for WhoisClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhoisClient")
            .field("prefixes", &self.bootstrap.len())
            .finish()
    }
}

impl WhoisClient {
    /// A client on `bootstrap` with `settings`.
    pub fn new(bootstrap: RdapBootstrap, settings: &WhoisSettings) -> Result<Self, WhoisError> {
        let limits = HttpLimits {
            max_requests: (!settings.pace.is_zero()).then_some(1),
            window: settings.pace,
            concurrency: settings.concurrency.max(1),
            timeout: settings.timeout,
            max_retries: settings.max_retries,
            backoff: settings.backoff,
            max_retry_wait: settings.max_retry_wait,
        };
        let transport = Transport::new(limits).map_err(WhoisError::Client)?;
        Ok(WhoisClient {
            bootstrap,
            transport,
        })
    }

    /// The bootstrap in use.
    pub fn bootstrap(&self) -> &RdapBootstrap {
        &self.bootstrap
    }

    /// Looks up every input (at most [`MAX_BATCH`]; more is an error naming the count), one
    /// record per input in order; `geo` adds the origin AS from its offline table.
    pub async fn lookup_all(
        &self,
        inputs: &[String],
        geo: Option<&GeoDb>,
    ) -> Result<Vec<WhoisRecord>, String> {
        if inputs.len() > MAX_BATCH {
            return Err(format!(
                "{} addresses in one batch, over the limit of {MAX_BATCH}",
                inputs.len()
            ));
        }
        let mut records: Vec<WhoisRecord> = inputs.iter().map(|i| prepare(i, geo)).collect();
        // Distinct public addresses, in input order.
        let mut order: Vec<IpAddr> = Vec::new();
        let mut seen: HashMap<IpAddr, ()> = HashMap::new();
        for r in &records {
            if r.status.is_none() {
                if let Some(ip) = r.ip {
                    if seen.insert(ip, ()).is_none() {
                        order.push(ip);
                    }
                }
            }
        }
        // One request at a time per address; a later address inside a network already fetched
        // reuses it. Requests overlap up to the concurrency limit in waves.
        let mut answers: HashMap<IpAddr, WhoisRecord> = HashMap::new();
        let mut networks: Vec<(IpAddr, IpAddr, WhoisRecord)> = Vec::new();
        let wave = self.transport.limits.concurrency.max(1);
        let mut pending: std::collections::VecDeque<IpAddr> = order.into();
        while !pending.is_empty() {
            // A wave never holds two addresses of one /24 (IPv4) or /48 (IPv6): the second
            // waits for the first's answer, which most likely covers it.
            let mut batch: Vec<IpAddr> = Vec::new();
            let mut deferred = Vec::new();
            while batch.len() < wave {
                let Some(ip) = pending.pop_front() else { break };
                if let Some(found) = networks.iter().find(|(s, e, _)| within(ip, *s, *e)) {
                    let mut shared = found.2.clone();
                    shared.shared = true;
                    answers.insert(ip, shared);
                } else if batch.iter().any(|b| same_block(*b, ip)) {
                    deferred.push(ip);
                } else {
                    batch.push(ip);
                }
            }
            for ip in deferred.into_iter().rev() {
                pending.push_front(ip);
            }
            let fetched =
                futures::future::join_all(batch.iter().map(|ip| self.fetch_one(*ip))).await;
            for (ip, record) in batch.into_iter().zip(fetched) {
                if record.status == Some(WhoisStatus::Found) {
                    let start = record.start_address.as_deref().and_then(|s| s.parse().ok());
                    let end = record.end_address.as_deref().and_then(|s| s.parse().ok());
                    if let (Some(s), Some(e)) = (start, end) {
                        networks.push((s, e, record.clone()));
                    }
                }
                answers.insert(ip, record);
            }
        }
        for r in &mut records {
            if r.status.is_some() {
                continue;
            }
            let Some(answer) = r.ip.and_then(|ip| answers.get(&ip)) else {
                continue;
            };
            let (input, asn, as_org) = (r.input.clone(), r.asn, r.as_org.clone());
            *r = answer.clone();
            r.input = input;
            r.asn = asn;
            r.as_org = as_org;
        }
        Ok(records)
    }

    async fn fetch_one(&self, ip: IpAddr) -> WhoisRecord {
        let mut record = WhoisRecord {
            ip: Some(ip),
            category: AddressCategory::Public.as_str().to_string(),
            ..WhoisRecord::default()
        };
        let Some(base) = self.bootstrap.base_for(ip) else {
            record.status = Some(WhoisStatus::NoRegistry);
            record.message = Some("no RDAP registry in the bootstrap serves this address".into());
            return record;
        };
        let url = format!("{base}ip/{ip}");
        record.registry = Some(base.to_string());
        record.reference = Some(url.clone());
        let fetched = self
            .transport
            .fetch(|client| {
                client
                    .get(&url)
                    .header("Accept", "application/rdap+json, application/json")
            })
            .await;
        match fetched {
            Fetched::Failed(message) => {
                record.status = Some(WhoisStatus::Failed);
                record.message = Some(message);
            }
            Fetched::Response { status: 404, .. } => {
                record.status = Some(WhoisStatus::NotFound);
                record.message = Some("the registry holds no network for this address".into());
            }
            Fetched::Response { status: 429, .. } => {
                record.status = Some(WhoisStatus::RateLimited);
                record.message = Some("the registry is rate limiting (429) after retries".into());
            }
            Fetched::Response {
                status,
                reason,
                body,
            } if !(200..300).contains(&status) => {
                record.status = Some(WhoisStatus::Failed);
                let title = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v.get("title").and_then(Value::as_str).map(clip));
                record.message = Some(match title {
                    Some(t) => format!("the registry answered {status} {reason}: {t}"),
                    None => format!("the registry answered {status} {reason}"),
                });
            }
            Fetched::Response { body, .. } => {
                if body.len() > MAX_ANSWER_BYTES {
                    record.status = Some(WhoisStatus::Failed);
                    record.message = Some(format!(
                        "the answer is {} bytes, over the limit of {MAX_ANSWER_BYTES}",
                        body.len()
                    ));
                    return record;
                }
                match parse_network(&body) {
                    Ok(net) => {
                        record.status = Some(WhoisStatus::Found);
                        record.network_name = net.name;
                        record.handle = net.handle;
                        record.network_type = net.network_type;
                        record.country = net.country;
                        record.start_address = net.start;
                        record.end_address = net.end;
                        record.cidrs = net.cidrs;
                        record.registered = net.registered;
                        record.last_changed = net.last_changed;
                        record.registrant = net.registrant;
                        record.abuse_name = net.abuse_name;
                        record.abuse_email = net.abuse_email;
                    }
                    Err(message) => {
                        record.status = Some(WhoisStatus::Failed);
                        record.message = Some(format!("malformed RDAP answer: {message}"));
                    }
                }
            }
        }
        record
    }
}

/// True when both addresses are in one /24 (IPv4) or /48 (IPv6).
fn same_block(a: IpAddr, b: IpAddr) -> bool {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => u32::from(a) >> 8 == u32::from(b) >> 8,
        (IpAddr::V6(a), IpAddr::V6(b)) => u128::from(a) >> 80 == u128::from(b) >> 80,
        _ => false,
    }
}

fn within(ip: IpAddr, start: IpAddr, end: IpAddr) -> bool {
    match (ip, start, end) {
        (IpAddr::V4(x), IpAddr::V4(s), IpAddr::V4(e)) => s <= x && x <= e,
        (IpAddr::V6(x), IpAddr::V6(s), IpAddr::V6(e)) => s <= x && x <= e,
        _ => false,
    }
}

fn prepare(input: &str, geo: Option<&GeoDb>) -> WhoisRecord {
    let mut record = WhoisRecord {
        input: input.to_string(),
        ..WhoisRecord::default()
    };
    let trimmed = input.trim();
    let Some(ip) = (trimmed.len() <= 64)
        .then(|| trimmed.parse::<IpAddr>().ok())
        .flatten()
    else {
        record.category = AddressCategory::Invalid.as_str().into();
        record.status = Some(WhoisStatus::Invalid);
        record.message = Some("not an IP address".into());
        return record;
    };
    record.ip = Some(ip);
    let category = categorize(ip);
    record.category = category.as_str().into();
    if category != AddressCategory::Public {
        record.status = Some(WhoisStatus::NotPublic);
        record.message = Some(format!("{}: not sent", category.description()));
        return record;
    }
    if let Some(geo) = geo {
        let found = geo.lookup_ip(input, ip);
        record.asn = found.asn;
        record.as_org = found.as_org.map(str::to_string);
    }
    record
}

/// The fields of an RDAP IP network object.
#[derive(Debug, Default, PartialEq)]
pub struct RdapNetwork {
    /// `name`.
    pub name: Option<String>,
    /// `handle`.
    pub handle: Option<String>,
    /// `type`.
    pub network_type: Option<String>,
    /// `country` (else the registrant's vCard address country).
    pub country: Option<String>,
    /// `startAddress`.
    pub start: Option<String>,
    /// `endAddress`.
    pub end: Option<String>,
    /// `cidr0_cidrs` as `prefix/len`.
    pub cidrs: Vec<String>,
    /// `registration` event date.
    pub registered: Option<String>,
    /// `last changed` event date.
    pub last_changed: Option<String>,
    /// Registrant's vCard `fn`.
    pub registrant: Option<String>,
    /// Abuse entity's vCard `fn`.
    pub abuse_name: Option<String>,
    /// Abuse entity's vCard `email`.
    pub abuse_email: Option<String>,
}

fn clip(text: &str) -> String {
    if text.len() <= MAX_TEXT {
        return text.to_string();
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

fn text_field(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(clip)
}

/// Parses an RDAP IP network object (RFC 9083 §5.4); an answer that is not one is an error
/// saying what it is.
pub fn parse_network(body: &[u8]) -> Result<RdapNetwork, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON ({e})"))?;
    let Some(object) = v.as_object() else {
        return Err("not a JSON object".into());
    };
    match object.get("objectClassName").and_then(Value::as_str) {
        Some("ip network") => {}
        Some(other) => return Err(format!("objectClassName is {other:?}, not \"ip network\"")),
        None => return Err("no objectClassName (not an RDAP object)".into()),
    }
    let mut net = RdapNetwork {
        name: text_field(&v, "name"),
        handle: text_field(&v, "handle"),
        network_type: text_field(&v, "type"),
        country: text_field(&v, "country"),
        start: text_field(&v, "startAddress"),
        end: text_field(&v, "endAddress"),
        ..RdapNetwork::default()
    };
    for addr in [&net.start, &net.end].into_iter().flatten() {
        if addr.parse::<IpAddr>().is_err() {
            return Err(format!(
                "startAddress/endAddress {addr:?} is not an address"
            ));
        }
    }
    if let Some(cidrs) = v.get("cidr0_cidrs").and_then(Value::as_array) {
        for c in cidrs.iter().take(64) {
            let prefix = text_field(c, "v4prefix").or_else(|| text_field(c, "v6prefix"));
            if let (Some(p), Some(len)) = (prefix, c.get("length").and_then(Value::as_u64)) {
                net.cidrs.push(format!("{p}/{len}"));
            }
        }
    }
    if let Some(events) = v.get("events").and_then(Value::as_array) {
        for e in events.iter().take(64) {
            let date = text_field(e, "eventDate");
            match e.get("eventAction").and_then(Value::as_str) {
                Some("registration") => net.registered = net.registered.take().or(date),
                Some("last changed") => net.last_changed = date.or(net.last_changed.take()),
                _ => {}
            }
        }
    }
    let mut entities = Vec::new();
    collect_entities(&v, 0, &mut entities);
    for entity in &entities {
        let roles: Vec<&str> = entity
            .get("roles")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let card = vcard(entity);
        if roles.contains(&"abuse") && net.abuse_email.is_none() {
            net.abuse_email = card.email.clone();
            net.abuse_name = card.name.clone();
        }
        if roles.contains(&"registrant") && net.registrant.is_none() {
            net.registrant = card.name.clone();
            if net.country.is_none() {
                net.country = card.country.clone();
            }
        }
    }
    Ok(net)
}

fn collect_entities<'a>(v: &'a Value, depth: usize, out: &mut Vec<&'a Value>) {
    if depth >= MAX_ENTITY_DEPTH {
        return;
    }
    if let Some(list) = v.get("entities").and_then(Value::as_array) {
        for e in list {
            if out.len() >= MAX_ENTITIES {
                return;
            }
            out.push(e);
            collect_entities(e, depth + 1, out);
        }
    }
}

#[derive(Default)]
struct Card {
    name: Option<String>,
    email: Option<String>,
    country: Option<String>,
}

/// The `fn`, `email` and address country of a jCard (`["vcard", [[name, params, type, value],
/// ...]]`).
fn vcard(entity: &Value) -> Card {
    let mut card = Card::default();
    let Some(props) = entity
        .get("vcardArray")
        .and_then(Value::as_array)
        .and_then(|a| a.get(1))
        .and_then(Value::as_array)
    else {
        return card;
    };
    for p in props.iter().take(256) {
        let Some(p) = p.as_array() else { continue };
        let name = p.first().and_then(Value::as_str).unwrap_or("");
        let value = p.get(3);
        match name {
            "fn" if card.name.is_none() => {
                card.name = value.and_then(Value::as_str).map(clip);
            }
            "email" if card.email.is_none() => {
                card.email = value.and_then(Value::as_str).map(clip);
            }
            "adr" if card.country.is_none() => {
                // The structured address's last part is the country name; the params may
                // carry a `cc` (RFC 8605).
                let cc = p
                    .get(1)
                    .and_then(|params| params.get("cc"))
                    .and_then(Value::as_str);
                card.country = cc.map(clip);
            }
            _ => {}
        }
    }
    card
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins_and_https_is_preferred() {
        let mut b = RdapBootstrap::new();
        b.add_json(
            br#"{"services": [
                [["8.0.0.0/8"], ["http://a.example/rdap/", "https://a.example/rdap/"]],
                [["8.8.0.0/16"], ["http://b.example/rdap"]],
                [["2001:4860::/32"], ["https://c.example/"]]]}"#,
            "test",
        )
        .unwrap();
        assert_eq!(
            b.base_for("8.1.2.3".parse().unwrap()),
            Some("https://a.example/rdap/")
        );
        assert_eq!(
            b.base_for("8.8.8.8".parse().unwrap()),
            Some("http://b.example/rdap/")
        );
        assert_eq!(b.base_for("9.9.9.9".parse().unwrap()), None);
        assert_eq!(
            b.base_for("2001:4860:4860::8888".parse().unwrap()),
            Some("https://c.example/")
        );
        assert_eq!(
            b.base_for("::ffff:8.8.8.8".parse().unwrap()),
            Some("http://b.example/rdap/")
        );
    }

    #[test]
    fn malformed_bootstraps_name_the_problem() {
        let mut b = RdapBootstrap::new();
        let e = b.add_json(b"[1]", "ipv4.json").unwrap_err().to_string();
        assert!(e.contains("ipv4.json") && e.contains("services"), "{e}");
        let e = b
            .add_json(br#"{"services": [[["1.0.0.0/33"], ["https://x/"]]]}"#, "f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("length out of range"), "{e}");
        let e = b
            .add_json(br#"{"services": [[["1.0.0.0/8"], ["ftp://x/"]]]}"#, "f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no http(s) URL"), "{e}");
        let e = b
            .add_json(br#"{"services": [[["dns"], ["https://x/"]]]}"#, "f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no /length"), "{e}");
    }

    #[test]
    fn dates_keep_their_meaning_and_abuse_is_found_nested() {
        let body = br#"{"objectClassName": "ip network", "name": "NET", "handle": "H",
            "startAddress": "8.8.8.0", "endAddress": "8.8.8.255",
            "cidr0_cidrs": [{"v4prefix": "8.8.8.0", "length": 24}],
            "events": [{"eventAction": "registration", "eventDate": "2014-03-14T00:00:00Z"},
                       {"eventAction": "last changed", "eventDate": "2023-12-28T00:00:00Z"}],
            "entities": [{"roles": ["registrant"], "vcardArray": ["vcard", [["fn", {}, "text", "Org"],
                ["adr", {"cc": "US", "label": "x"}, "text", ["", "", "", "", "", "", ""]]]],
                "entities": [{"roles": ["abuse"], "vcardArray": ["vcard", [["fn", {}, "text", "Abuse"],
                    ["email", {}, "text", "abuse@org.example"]]]}]}]}"#;
        let net = parse_network(body).unwrap();
        assert_eq!(net.registered.as_deref(), Some("2014-03-14T00:00:00Z"));
        assert_eq!(net.last_changed.as_deref(), Some("2023-12-28T00:00:00Z"));
        assert_eq!(
            net.country.as_deref(),
            Some("US"),
            "from the registrant (ARIN style)"
        );
        assert_eq!(net.abuse_email.as_deref(), Some("abuse@org.example"));
        assert_eq!(net.abuse_name.as_deref(), Some("Abuse"));
        assert_eq!(net.registrant.as_deref(), Some("Org"));
        assert_eq!(net.cidrs, vec!["8.8.8.0/24"]);
    }

    #[test]
    fn answers_that_are_not_networks_are_errors() {
        assert!(parse_network(b"<html>").unwrap_err().contains("not JSON"));
        assert!(parse_network(b"[]")
            .unwrap_err()
            .contains("not a JSON object"));
        assert!(parse_network(br#"{"objectClassName": "domain"}"#)
            .unwrap_err()
            .contains("domain"));
        assert!(parse_network(br#"{"name": "x"}"#)
            .unwrap_err()
            .contains("objectClassName"));
        assert!(
            parse_network(br#"{"objectClassName": "ip network", "startAddress": "nope"}"#)
                .unwrap_err()
                .contains("not an address")
        );
    }
}
