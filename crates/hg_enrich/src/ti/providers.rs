//! The upstream providers: request shape and result normalization of each.
//!
//! Severity rules follow the reference's per provider, with its known mistakes fixed (each
//! has a test in `tests/ti_http.rs`):
//! - VirusTotal is asked through API v3 with the `x-apikey` header (the reference used v2 with
//!   the key in the URL, which then appeared in `Reference`); positives are v3's
//!   `last_analysis_stats.malicious` (> 1 high, 1 warning, 0 information, absent unknown).
//! - OTX counts `pulse_info.count` (the reference counted the listed pulses, which a page can
//!   truncate).
//! - GreyNoise sends no `key` header when no key is configured (the reference sent the text
//!   `None`), maps the newer `suspicious` class to warning, and a body without a classification
//!   to unknown (the reference failed with a KeyError).
//! - abuse.ch services get the `Auth-Key` header (the reference's MalwareBazaar look-up sent
//!   none); ThreatFox matches (`ip:port` records) are kept only when they are the observable.
//! - "Not found" answers (VirusTotal 404, GreyNoise 404, URLhaus `no_results`, ThreatFox
//!   `no_result`, MalwareBazaar `hash_not_found`) are all Result false, information, status
//!   `NO_DATA`; HTTP failures keep their status code and the reference's messages.

use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};

use super::http::{Fetched, HttpLimits, HttpSettings, Transport};
use super::observable::Observable;
use super::{status, Severity, TiResult};

/// The upstream services.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum HttpProviderKind {
    /// VirusTotal API v3.
    VirusTotal,
    /// AlienVault OTX DirectConnect v1.
    Otx,
    /// AbuseIPDB APIv2 `check`.
    AbuseIpdb,
    /// GreyNoise community API v3.
    GreyNoise,
    /// abuse.ch URLhaus.
    UrlHaus,
    /// abuse.ch ThreatFox.
    ThreatFox,
    /// abuse.ch MalwareBazaar.
    MalwareBazaar,
}

impl HttpProviderKind {
    /// The provider's name in `TIProviders` (`Provider:`), case-insensitive aliases included.
    pub fn from_name(name: &str) -> Option<HttpProviderKind> {
        Some(match name.to_ascii_lowercase().as_str() {
            "virustotal" | "vt" | "vt3" => HttpProviderKind::VirusTotal,
            "otx" | "alienvault" => HttpProviderKind::Otx,
            "abuseipdb" => HttpProviderKind::AbuseIpdb,
            "greynoise" => HttpProviderKind::GreyNoise,
            "urlhaus" => HttpProviderKind::UrlHaus,
            "threatfox" => HttpProviderKind::ThreatFox,
            "malwarebazaar" | "mblookup" => HttpProviderKind::MalwareBazaar,
            _ => return None,
        })
    }

    /// The service's base URL.
    pub fn default_base_url(self) -> &'static str {
        match self {
            HttpProviderKind::VirusTotal => "https://www.virustotal.com/api/v3",
            HttpProviderKind::Otx => "https://otx.alienvault.com",
            HttpProviderKind::AbuseIpdb => "https://api.abuseipdb.com",
            HttpProviderKind::GreyNoise => "https://api.greynoise.io",
            HttpProviderKind::UrlHaus => "https://urlhaus-api.abuse.ch",
            HttpProviderKind::ThreatFox => "https://threatfox-api.abuse.ch",
            HttpProviderKind::MalwareBazaar => "https://mb-api.abuse.ch",
        }
    }

    /// Whether the service refuses requests without a key.
    pub fn needs_key(self) -> bool {
        !matches!(self, HttpProviderKind::Otx | HttpProviderKind::GreyNoise)
    }

    /// Default limits: VirusTotal's public API allows 4 requests per minute; the others get a
    /// polite 60 per minute.
    pub fn default_limits(self) -> HttpLimits {
        let mut limits = HttpLimits::standard();
        limits.max_requests = Some(match self {
            HttpProviderKind::VirusTotal => 4,
            _ => 60,
        });
        limits.window = Duration::from_secs(60);
        if self == HttpProviderKind::VirusTotal {
            // No Retry-After on VirusTotal's 429: its quota is per minute.
            limits.backoff = Duration::from_secs(15);
            limits.concurrency = 1;
        }
        limits
    }

    /// Default cache lifetime of a result.
    pub fn default_ttl(self) -> Duration {
        Duration::from_secs(match self {
            HttpProviderKind::GreyNoise | HttpProviderKind::AbuseIpdb => 6 * 3600,
            _ => 24 * 3600,
        })
    }

    /// The observable types the service answers for.
    pub fn supported_types(self) -> &'static [&'static str] {
        match self {
            HttpProviderKind::VirusTotal => &[
                "ipv4",
                "ipv6",
                "dns",
                "url",
                "md5_hash",
                "sha1_hash",
                "sha256_hash",
            ],
            HttpProviderKind::Otx => &[
                "ipv4",
                "ipv6",
                "dns",
                "url",
                "md5_hash",
                "sha1_hash",
                "sha256_hash",
            ],
            HttpProviderKind::AbuseIpdb | HttpProviderKind::GreyNoise => &["ipv4", "ipv6"],
            HttpProviderKind::UrlHaus => &["url", "dns", "ipv4", "md5_hash", "sha256_hash"],
            HttpProviderKind::ThreatFox => &["ipv4", "dns", "url", "md5_hash", "sha256_hash"],
            HttpProviderKind::MalwareBazaar => &["md5_hash", "sha1_hash", "sha256_hash"],
        }
    }
}

/// One configured upstream provider.
#[derive(Debug)]
pub struct HttpProvider {
    kind: HttpProviderKind,
    base: String,
    key: Option<String>,
    transport: Transport,
}

impl HttpProvider {
    /// A provider of `kind` with these settings.
    pub fn new(kind: HttpProviderKind, settings: HttpSettings) -> Result<HttpProvider, String> {
        Ok(HttpProvider {
            kind,
            base: settings.base_url.trim_end_matches('/').to_string(),
            key: settings.auth_key.filter(|k| !k.is_empty()),
            transport: Transport::new(settings.limits)?,
        })
    }

    /// The kind.
    pub fn kind(&self) -> HttpProviderKind {
        self.kind
    }

    /// Looks one observable up (the caller has checked the type and the upstream rules).
    pub async fn lookup(&self, observable: &Observable, provider: &str) -> TiResult {
        let value = observable.canonical.as_str();
        let ioc_type = observable.ioc_type.as_str();
        let key = self.key.clone();
        let (url, fetched) = match self.kind {
            HttpProviderKind::VirusTotal => {
                let path = match ioc_type {
                    "ipv4" | "ipv6" => format!("ip_addresses/{value}"),
                    "dns" => format!("domains/{value}"),
                    "url" => format!(
                        "urls/{}",
                        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value)
                    ),
                    _ => format!("files/{value}"),
                };
                let url = format!("{}/{path}", self.base);
                let fetched = self
                    .transport
                    .fetch(|c| with_header(c.get(&url), "x-apikey", &key))
                    .await;
                (url, fetched)
            }
            HttpProviderKind::Otx => {
                let section = match ioc_type {
                    "ipv4" => "IPv4",
                    "ipv6" => "IPv6",
                    "dns" => "domain",
                    "url" => "url",
                    _ => "file",
                };
                let url = format!(
                    "{}/api/v1/indicators/{section}/{}/general",
                    self.base,
                    percent_encode_segment(value)
                );
                let fetched = self
                    .transport
                    .fetch(|c| with_header(c.get(&url), "X-OTX-API-KEY", &key))
                    .await;
                (url, fetched)
            }
            HttpProviderKind::AbuseIpdb => {
                let url = format!(
                    "{}/api/v2/check?ipAddress={}&maxAgeInDays=90",
                    self.base,
                    percent_encode_segment(value)
                );
                let fetched = self
                    .transport
                    .fetch(|c| {
                        with_header(c.get(&url), "Key", &key).header("Accept", "application/json")
                    })
                    .await;
                (url, fetched)
            }
            HttpProviderKind::GreyNoise => {
                let url = format!("{}/v3/community/{value}", self.base);
                let fetched = self
                    .transport
                    .fetch(|c| with_header(c.get(&url), "key", &key))
                    .await;
                (url, fetched)
            }
            HttpProviderKind::UrlHaus => {
                let (endpoint, field) = match ioc_type {
                    "url" => ("url", "url"),
                    "dns" | "ipv4" => ("host", "host"),
                    "md5_hash" => ("payload", "md5_hash"),
                    _ => ("payload", "sha256_hash"),
                };
                let url = format!("{}/v1/{endpoint}/", self.base);
                let form = [(field, value.to_string())];
                let fetched = self
                    .transport
                    .fetch(|c| with_header(c.post(&url), "Auth-Key", &key).form(&form))
                    .await;
                (url, fetched)
            }
            HttpProviderKind::ThreatFox => {
                let body = if ioc_type.ends_with("_hash") {
                    json!({"query": "search_hash", "hash": value})
                } else {
                    json!({"query": "search_ioc", "search_term": value, "exact_match": false})
                };
                let url = format!("{}/api/v1/", self.base);
                let bytes = body.to_string();
                let fetched = self
                    .transport
                    .fetch(|c| {
                        with_header(c.post(&url), "Auth-Key", &key)
                            .header("Content-Type", "application/json")
                            .body(bytes.clone())
                    })
                    .await;
                (url, fetched)
            }
            HttpProviderKind::MalwareBazaar => {
                let url = format!("{}/api/v1/", self.base);
                let form = [
                    ("query", "get_info".to_string()),
                    ("hash", value.to_string()),
                ];
                let fetched = self
                    .transport
                    .fetch(|c| with_header(c.post(&url), "Auth-Key", &key).form(&form))
                    .await;
                (url, fetched)
            }
        };
        normalize(self.kind, observable, provider, url, fetched)
    }
}

fn with_header(
    request: reqwest::RequestBuilder,
    name: &str,
    key: &Option<String>,
) -> reqwest::RequestBuilder {
    match key {
        Some(k) => request.header(name, k),
        None => request,
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters (a whole URL becomes one path
/// segment or query value).
fn percent_encode_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Longest text kept in `RawResult` when a body is not JSON.
const MAX_RAW_TEXT: usize = 4096;

fn raw_text(body: &[u8]) -> Value {
    let text = String::from_utf8_lossy(body);
    let mut end = text.len().min(MAX_RAW_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Value::String(text[..end].to_string())
}

/// Turns an HTTP outcome into the normalized result.
pub(crate) fn normalize(
    kind: HttpProviderKind,
    observable: &Observable,
    provider: &str,
    reference: String,
    fetched: Fetched,
) -> TiResult {
    let fail = |code: i32, severity: Severity, message: String, raw: Value| TiResult {
        raw_result: raw,
        reference: reference.clone(),
        ..TiResult::message(observable, provider, code, severity, message)
    };
    let (status_code, reason, body) = match fetched {
        Fetched::Failed(message) => {
            return fail(
                status::QUERY_FAILED,
                Severity::Unknown,
                message,
                Value::Null,
            )
        }
        Fetched::Response {
            status,
            reason,
            body,
        } => (status, reason, body),
    };
    let parsed: Result<Value, _> = serde_json::from_slice(&body);
    let not_found_404 = matches!(
        kind,
        HttpProviderKind::VirusTotal | HttpProviderKind::GreyNoise
    );
    if status_code == 404 && not_found_404 {
        let raw = parsed.unwrap_or_else(|_| raw_text(&body));
        return TiResult::not_found(observable, provider, raw, reference);
    }
    if !(200..300).contains(&status_code) {
        let message = match status_code {
            404 => "Not found.".to_string(),
            401 => "Authorization failed. Check account and key details.".to_string(),
            403 => "Request forbidden. Allowed query rate may have been exceeded.".to_string(),
            _ if reason.is_empty() => format!("HTTP {status_code}"),
            _ => reason,
        };
        let raw = parsed.unwrap_or_else(|_| raw_text(&body));
        return fail(i32::from(status_code), Severity::Unknown, message, raw);
    }
    let body_json = match parsed {
        Ok(v) if v.is_object() => v,
        Ok(_) => {
            return fail(
                status::QUERY_FAILED,
                Severity::Unknown,
                "malformed response: the body is not a JSON object".into(),
                raw_text(&body),
            )
        }
        Err(e) => {
            return fail(
                status::QUERY_FAILED,
                Severity::Unknown,
                format!("malformed response: {e}"),
                raw_text(&body),
            )
        }
    };
    let parsed = match kind {
        HttpProviderKind::VirusTotal => virustotal(observable, &body_json),
        HttpProviderKind::Otx => otx(&body_json),
        HttpProviderKind::AbuseIpdb => abuseipdb(&body_json),
        HttpProviderKind::GreyNoise => greynoise(&body_json),
        HttpProviderKind::UrlHaus => urlhaus(observable, &body_json),
        HttpProviderKind::ThreatFox => threatfox(observable, &body_json),
        HttpProviderKind::MalwareBazaar => malwarebazaar(&body_json),
    };
    match parsed {
        Parsed::Found(severity, details) => TiResult {
            ioc: observable.value.clone(),
            ioc_type: observable.ioc_type.clone(),
            safe_ioc: observable.canonical.clone(),
            provider: provider.to_string(),
            result: true,
            severity,
            details,
            raw_result: body_json,
            reference,
            status: status::OK,
            cached: false,
        },
        Parsed::NotFound => TiResult::not_found(observable, provider, body_json, reference),
        Parsed::Failed(code, message) => fail(code, Severity::Unknown, message, body_json),
    }
}

enum Parsed {
    Found(Severity, Value),
    NotFound,
    Failed(i32, String),
}

fn malformed(what: &str) -> Parsed {
    Parsed::Failed(status::QUERY_FAILED, format!("malformed response: {what}"))
}

fn count_severity(count: u64) -> Severity {
    match count {
        0 => Severity::Information,
        1 => Severity::Warning,
        _ => Severity::High,
    }
}

fn virustotal(observable: &Observable, body: &Value) -> Parsed {
    let Some(data) = body.get("data").filter(|d| d.is_object()) else {
        return malformed("no \"data\" object");
    };
    let attributes = data.get("attributes").cloned().unwrap_or(json!({}));
    let stats = attributes.get("last_analysis_stats");
    let stat = |name: &str| stats.and_then(|s| s.get(name)).and_then(Value::as_u64);
    let malicious = stat("malicious");
    let severity = malicious.map_or(Severity::Unknown, count_severity);
    let id = data.get("id").and_then(Value::as_str).unwrap_or("");
    let gui = match observable.ioc_type.as_str() {
        "ipv4" | "ipv6" => "ip-address",
        "dns" => "domain",
        "url" => "url",
        _ => "file",
    };
    let mut details = json!({
        "Malicious": malicious,
        "Suspicious": stat("suspicious"),
        "Harmless": stat("harmless"),
        "Undetected": stat("undetected"),
        "Reputation": attributes.get("reputation"),
        "Permalink": format!("https://www.virustotal.com/gui/{gui}/{id}"),
    });
    let extra: &[(&str, &str)] = match gui {
        "file" => &[
            ("MeaningfulName", "meaningful_name"),
            ("TypeDescription", "type_description"),
            ("Tags", "tags"),
            ("ThreatLabel", "popular_threat_classification"),
        ],
        "ip-address" => &[
            ("AsOwner", "as_owner"),
            ("Country", "country"),
            ("Network", "network"),
        ],
        "domain" => &[("Registrar", "registrar"), ("Categories", "categories")],
        _ => &[
            ("Title", "title"),
            ("FinalUrl", "last_final_url"),
            ("ThreatNames", "threat_names"),
        ],
    };
    if let Some(map) = details.as_object_mut() {
        for (name, key) in extra {
            let mut value = attributes.get(*key).cloned().unwrap_or(Value::Null);
            if *key == "popular_threat_classification" {
                value = value
                    .get("suggested_threat_label")
                    .cloned()
                    .unwrap_or(Value::Null);
            }
            map.insert((*name).to_string(), value);
        }
    }
    Parsed::Found(severity, details)
}

fn otx(body: &Value) -> Parsed {
    let Some(info) = body.get("pulse_info").filter(|p| p.is_object()) else {
        return malformed("no \"pulse_info\" object");
    };
    let pulses = info
        .get("pulses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let count = info
        .get("count")
        .and_then(Value::as_u64)
        .unwrap_or(pulses.len() as u64);
    let details = if count == 0 {
        json!({"pulse_count": 0, "sections_available": body.get("sections").cloned().unwrap_or(json!([]))})
    } else {
        let names: Vec<Value> = pulses
            .iter()
            .map(|p| p.get("name").cloned().unwrap_or(Value::Null))
            .collect();
        let tags: Vec<Value> = pulses
            .iter()
            .map(|p| p.get("tags").cloned().unwrap_or(json!([])))
            .collect();
        let references: Vec<Value> = pulses
            .iter()
            .map(|p| p.get("references").cloned().unwrap_or(json!([])))
            .collect();
        json!({"pulse_count": count, "names": names, "tags": tags, "references": references})
    };
    Parsed::Found(count_severity(count), details)
}

fn abuseipdb(body: &Value) -> Parsed {
    let Some(data) = body.get("data").filter(|d| d.is_object()) else {
        return malformed("no \"data\" object");
    };
    let Some(score) = data.get("abuseConfidenceScore").and_then(Value::as_f64) else {
        return malformed("no numeric \"abuseConfidenceScore\"");
    };
    let severity = if score > 50.0 {
        Severity::High
    } else if score > 0.0 {
        Severity::Warning
    } else {
        Severity::Information
    };
    let field = |k: &str| data.get(k).cloned().unwrap_or(Value::Null);
    Parsed::Found(
        severity,
        json!({
            "abuseConfidenceScore": field("abuseConfidenceScore"),
            "countryCode": field("countryCode"),
            "usage": field("usageType"),
            "isp": field("isp"),
            "domain": field("domain"),
            "hostNames": field("hostnames"),
            "lastReportedAt": field("lastReportedAt"),
            "totalReports": field("totalReports"),
            "isTor": field("isTor"),
        }),
    )
}

fn greynoise(body: &Value) -> Parsed {
    let classification = body.get("classification").and_then(Value::as_str);
    let severity = match classification {
        Some("malicious") => Severity::High,
        Some("suspicious") => Severity::Warning,
        Some(_) => Severity::Information,
        None => Severity::Unknown,
    };
    let field = |k: &str| body.get(k).cloned().unwrap_or(Value::Null);
    Parsed::Found(
        severity,
        json!({
            "Classification": field("classification"),
            "Name": field("name"),
            "Last Seen": field("last_seen"),
            "Message": field("message"),
            "Noise": field("noise"),
            "RIOT": field("riot"),
            "Link": field("link"),
        }),
    )
}

fn query_status(body: &Value) -> &str {
    body.get("query_status")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn abuse_ch_status(status_text: &str) -> Parsed {
    if status_text.starts_with("invalid_")
        || status_text.starts_with("illegal_")
        || status_text == "no_hash_provided"
    {
        Parsed::Failed(
            status::BAD_FORMAT,
            format!("the service refused the observable ({status_text})"),
        )
    } else if status_text.is_empty() {
        malformed("no \"query_status\"")
    } else {
        Parsed::Failed(status::QUERY_FAILED, format!("query_status {status_text}"))
    }
}

fn urlhaus(observable: &Observable, body: &Value) -> Parsed {
    match query_status(body) {
        "ok" => {}
        "no_results" => return Parsed::NotFound,
        other => return abuse_ch_status(other),
    }
    let field = |k: &str| body.get(k).cloned().unwrap_or(Value::Null);
    match observable.ioc_type.as_str() {
        "url" => {
            let online = body.get("url_status").and_then(Value::as_str) == Some("online");
            Parsed::Found(
                if online {
                    Severity::High
                } else {
                    Severity::Warning
                },
                json!({
                    "Threat": field("threat"), "UrlStatus": field("url_status"), "Tags": field("tags"),
                    "DateAdded": field("date_added"), "Blacklists": field("blacklists"),
                    "UrlhausReference": field("urlhaus_reference"),
                }),
            )
        }
        "dns" | "ipv4" => {
            let urls = body
                .get("urls")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let online = urls
                .iter()
                .any(|u| u.get("url_status").and_then(Value::as_str) == Some("online"));
            let listed: Vec<Value> = urls
                .iter()
                .take(10)
                .map(|u| json!({"url": u.get("url"), "url_status": u.get("url_status"), "threat": u.get("threat")}))
                .collect();
            Parsed::Found(
                if online {
                    Severity::High
                } else {
                    Severity::Warning
                },
                json!({
                    "UrlCount": field("url_count"), "FirstSeen": field("firstseen"),
                    "Blacklists": field("blacklists"), "Urls": listed,
                }),
            )
        }
        _ => Parsed::Found(
            Severity::High,
            json!({
                "Signature": field("signature"), "FileType": field("file_type"),
                "FirstSeen": field("firstseen"), "UrlCount": field("url_count"),
            }),
        ),
    }
}

fn threatfox(observable: &Observable, body: &Value) -> Parsed {
    match query_status(body) {
        "ok" => {}
        "no_result" | "no_results" => return Parsed::NotFound,
        other => return abuse_ch_status(other),
    }
    let Some(records) = body.get("data").and_then(Value::as_array) else {
        return malformed("\"data\" is not a list");
    };
    let wanted = observable.canonical.to_ascii_lowercase();
    let is_hash = observable.ioc_type.ends_with("_hash");
    let matching: Vec<&Value> = records
        .iter()
        .filter(|r| {
            if is_hash {
                return true;
            }
            let ioc = r
                .get("ioc")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_ascii_lowercase();
            ioc == wanted
                || ioc.strip_prefix(wanted.as_str()).is_some_and(|rest| {
                    rest.starts_with(':') && rest[1..].bytes().all(|b| b.is_ascii_digit())
                })
        })
        .collect();
    if matching.is_empty() {
        return Parsed::NotFound;
    }
    let confidence = matching
        .iter()
        .filter_map(|r| r.get("confidence_level").and_then(Value::as_f64))
        .fold(0.0f64, f64::max);
    let collect = |k: &str| -> Vec<Value> {
        let mut out: Vec<Value> = matching
            .iter()
            .filter_map(|r| r.get(k).cloned())
            .filter(|v| !v.is_null())
            .collect();
        out.dedup();
        out
    };
    Parsed::Found(
        if confidence >= 75.0 {
            Severity::High
        } else {
            Severity::Warning
        },
        json!({
            "Records": matching.len(),
            "ThreatType": collect("threat_type"),
            "Malware": collect("malware_printable"),
            "Confidence": confidence,
            "FirstSeen": collect("first_seen"),
            "Tags": collect("tags"),
        }),
    )
}

fn malwarebazaar(body: &Value) -> Parsed {
    match query_status(body) {
        "ok" => {}
        "hash_not_found" => return Parsed::NotFound,
        other => return abuse_ch_status(other),
    }
    let Some(record) = body
        .get("data")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    else {
        return malformed("\"data\" is not a non-empty list");
    };
    let field = |k: &str| record.get(k).cloned().unwrap_or(Value::Null);
    Parsed::Found(
        Severity::High,
        json!({
            "Signature": field("signature"), "FileName": field("file_name"), "FileType": field("file_type"),
            "FirstSeen": field("first_seen"), "LastSeen": field("last_seen"), "Tags": field("tags"),
            "Reporter": field("reporter"),
        }),
    )
}
