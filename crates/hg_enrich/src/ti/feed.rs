//! The local feed: indicators from a CSV file or a STIX 2.1 bundle, looked up in memory.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;
use serde_json::json;

use super::observable::{classify, Observable};
use super::stix;
use super::{status, Severity, TiResult};

/// Largest feed file read (CSV or STIX), so a wrong path cannot exhaust memory.
pub const MAX_FEED_BYTES: u64 = 256 * 1024 * 1024;
/// Most indicators one feed holds.
pub const MAX_FEED_ENTRIES: usize = 5_000_000;

/// Why a feed could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The file could not be read.
    #[error("cannot read the TI feed {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_FEED_BYTES`].
    #[error("the TI feed {path} is {size} bytes, more than the limit of {MAX_FEED_BYTES}")]
    TooLarge {
        /// The file.
        path: String,
        /// Its size.
        size: u64,
    },
    /// A CSV feed is malformed.
    #[error("TI feed CSV {path}, line {line}: {message}")]
    Csv {
        /// The file.
        path: String,
        /// 1-based line (0 when unknown).
        line: u64,
        /// What was wrong.
        message: String,
    },
    /// A STIX bundle is malformed.
    #[error("TI feed STIX bundle {path}: {source}")]
    Stix {
        /// The file.
        path: String,
        /// What was wrong.
        source: stix::StixError,
    },
    /// More than [`MAX_FEED_ENTRIES`] indicators.
    #[error("the TI feed {path} holds more than {MAX_FEED_ENTRIES} indicators")]
    TooManyEntries {
        /// The file.
        path: String,
    },
    /// The format is neither CSV nor STIX.
    #[error("unknown TI feed format {0:?} (expected \"csv\" or \"stix\")")]
    UnknownFormat(String),
}

/// One indicator of a feed.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct FeedEntry {
    /// Type name (`ipv4`, `dns`, `url`, `sha256_hash`, ...).
    pub ioc_type: String,
    /// The canonical value (lower-case host and hashes).
    pub value: String,
    /// Severity the feed gives it.
    pub severity: Severity,
    /// What it is.
    pub description: String,
    /// Free-form labels (CSV `tags`, STIX `labels` and `indicator_types`).
    pub tags: Vec<String>,
    /// Where the record came from: `line N` of a CSV, or the STIX indicator id.
    pub source: String,
    /// Extra fields the feed carried (STIX name, confidence, valid_from, ...; CSV columns).
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Indicators in memory, keyed by (type family, canonical value).
#[derive(Debug, Default)]
pub struct LocalFeed {
    name: String,
    entries: HashMap<(Family, String), Vec<FeedEntry>>,
    len: usize,
    skipped: usize,
}

/// Types compared with each other: every hash length shares one family (a value's length
/// decides anyway), a `dns` and a `hostname` are the same.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Family {
    Ip,
    Dns,
    Url,
    Hash,
    Email,
    Other,
}

fn family(ioc_type: &str) -> Family {
    match ioc_type {
        "ipv4" | "ipv6" => Family::Ip,
        "dns" | "hostname" | "domain" => Family::Dns,
        "url" => Family::Url,
        "md5_hash" | "sha1_hash" | "sha256_hash" | "sha512_hash" | "file_hash" => Family::Hash,
        "email" => Family::Email,
        _ => Family::Other,
    }
}

impl LocalFeed {
    /// An empty feed called `name` (the `Reference` of its results).
    pub fn new(name: impl Into<String>) -> LocalFeed {
        LocalFeed {
            name: name.into(),
            ..LocalFeed::default()
        }
    }

    /// Loads a feed file; `format` is `csv` or `stix`, or `None` to decide by the extension
    /// (`.json` is STIX, anything else CSV).
    pub fn load(path: &Path, format: Option<&str>) -> Result<LocalFeed, FeedError> {
        let shown = path.display().to_string();
        let size = std::fs::metadata(path)
            .map_err(|source| FeedError::Io {
                path: shown.clone(),
                source,
            })?
            .len();
        if size > MAX_FEED_BYTES {
            return Err(FeedError::TooLarge { path: shown, size });
        }
        let bytes = std::fs::read(path).map_err(|source| FeedError::Io {
            path: shown.clone(),
            source,
        })?;
        let format = match format {
            Some(f) => f.to_ascii_lowercase(),
            None if shown.to_ascii_lowercase().ends_with(".json") => "stix".into(),
            None => "csv".into(),
        };
        let name = path
            .file_name()
            .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
        let mut feed = LocalFeed::new(name);
        match format.as_str() {
            "csv" => feed
                .add_csv(&bytes)
                .map_err(|(line, message)| FeedError::Csv {
                    path: shown.clone(),
                    line,
                    message,
                })?,
            "stix" | "stix2" | "stix2.1" | "json" => {
                feed.add_stix(&bytes).map_err(|source| FeedError::Stix {
                    path: shown.clone(),
                    source,
                })?
            }
            other => return Err(FeedError::UnknownFormat(other.to_string())),
        }
        if feed.len > MAX_FEED_ENTRIES {
            return Err(FeedError::TooManyEntries { path: shown });
        }
        Ok(feed)
    }

    /// Adds the rows of a CSV feed: a header naming at least a value column (`value`, `ioc`,
    /// `indicator` or `observable`), optionally `type` (`ioc_type`; inferred when absent or
    /// empty), `severity` (default `high`), `description`, `tags` (`;`-separated) and any other
    /// columns (kept as extra details). Errors carry the 1-based line.
    pub fn add_csv(&mut self, bytes: &[u8]) -> Result<(), (u64, String)> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(bytes);
        let headers = reader
            .headers()
            .map_err(|e| (1, e.to_string()))?
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect::<Vec<_>>();
        let find = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
        let value_col = find(&["value", "ioc", "indicator", "observable"]).ok_or_else(|| {
            (
                1,
                format!(
                    "no value column (expected one of value, ioc, indicator, observable); the header has {}",
                    headers.join(", ")
                ),
            )
        })?;
        let type_col = find(&["type", "ioc_type", "ioctype"]);
        let severity_col = find(&["severity"]);
        let description_col = find(&["description", "details"]);
        let tags_col = find(&["tags", "labels"]);
        let known = [
            Some(value_col),
            type_col,
            severity_col,
            description_col,
            tags_col,
        ];
        for record in reader.records() {
            let record =
                record.map_err(|e| (e.position().map_or(0, |p| p.line()), e.to_string()))?;
            let line = record.position().map_or(0, |p| p.line());
            let field = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("");
            let raw_value = field(Some(value_col));
            if raw_value.is_empty() {
                return Err((line, "empty value".to_string()));
            }
            let given_type = field(type_col);
            let observable = classify(raw_value, (!given_type.is_empty()).then_some(given_type));
            if observable.kind.is_none() {
                return Err((
                    line,
                    if given_type.is_empty() {
                        format!("{raw_value:?} is not a recognised indicator")
                    } else {
                        format!("{raw_value:?} is not a valid {given_type}")
                    },
                ));
            }
            let severity_text = field(severity_col);
            let severity = if severity_text.is_empty() {
                Severity::High
            } else {
                Severity::parse(severity_text).ok_or_else(|| {
                    (
                        line,
                        format!(
                            "unknown severity {severity_text:?} (expected information, warning, high or unknown)"
                        ),
                    )
                })?
            };
            let tags = field(tags_col)
                .split([';', '|'])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect();
            let mut extra = serde_json::Map::new();
            for (i, value) in record.iter().enumerate() {
                if !known.contains(&Some(i)) && !value.is_empty() {
                    if let Some(h) = headers.get(i) {
                        extra.insert(h.clone(), json!(value));
                    }
                }
            }
            self.insert(FeedEntry {
                ioc_type: observable.ioc_type,
                value: observable.canonical,
                severity,
                description: field(description_col).to_string(),
                tags,
                source: format!("line {line}"),
                extra,
            });
        }
        Ok(())
    }

    /// Adds the indicators of a STIX 2.1 bundle (see the `stix` module for what is used).
    pub fn add_stix(&mut self, bytes: &[u8]) -> Result<(), stix::StixError> {
        for entry in stix::parse_bundle(bytes)? {
            match entry {
                Some(e) => self.insert(e),
                None => self.skipped += 1,
            }
        }
        Ok(())
    }

    /// Every indicator, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = &FeedEntry> {
        self.entries.values().flatten()
    }

    /// Adds one indicator.
    pub fn insert(&mut self, entry: FeedEntry) {
        let key = (family(&entry.ioc_type), fold(&entry.ioc_type, &entry.value));
        self.entries.entry(key).or_default().push(entry);
        self.len += 1;
    }

    /// Moves every indicator of `other` into this feed.
    pub fn absorb(&mut self, other: LocalFeed) {
        for (key, entries) in other.entries {
            self.len += entries.len();
            self.entries.entry(key).or_default().extend(entries);
        }
        self.skipped += other.skipped;
    }

    /// Number of indicators.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the feed holds no indicator.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// STIX indicators that were skipped (revoked, or patterns with no supported comparison).
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// The feed's name (its file name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The records for an observable (exact match on the canonical value of its type family).
    pub fn get(&self, observable: &Observable) -> &[FeedEntry] {
        let key = (
            family(&observable.ioc_type),
            fold(&observable.ioc_type, &observable.canonical),
        );
        self.entries.get(&key).map_or(&[], Vec::as_slice)
    }

    /// The normalized result of looking `observable` up as `provider`.
    pub fn lookup(&self, observable: &Observable, provider: &str) -> TiResult {
        let hits = self.get(observable);
        let reference = format!("feed:{}", self.name);
        if hits.is_empty() {
            return TiResult::not_found(observable, provider, serde_json::Value::Null, reference);
        }
        let severity = hits
            .iter()
            .map(|h| h.severity)
            .max()
            .unwrap_or(Severity::Unknown);
        let mut tags: Vec<&str> = hits
            .iter()
            .flat_map(|h| h.tags.iter().map(String::as_str))
            .collect();
        tags.sort_unstable();
        tags.dedup();
        let descriptions: Vec<&str> = hits
            .iter()
            .map(|h| h.description.as_str())
            .filter(|d| !d.is_empty())
            .collect();
        let details = json!({
            "Description": descriptions.join("; "),
            "Tags": tags,
            "Records": hits.len(),
            "Sources": hits.iter().map(|h| h.source.as_str()).collect::<Vec<_>>(),
        });
        TiResult {
            ioc: observable.value.clone(),
            ioc_type: observable.ioc_type.clone(),
            safe_ioc: observable.canonical.clone(),
            provider: provider.to_string(),
            result: true,
            severity,
            details,
            raw_result: serde_json::to_value(hits).unwrap_or(serde_json::Value::Null),
            reference,
            status: status::OK,
            cached: false,
        }
    }
}

/// The comparison key of a value: URLs keep their path's case (only scheme and host are
/// canonical already), everything else compares case-insensitively.
fn fold(ioc_type: &str, value: &str) -> String {
    if ioc_type == "url" {
        value.to_string()
    } else {
        value.to_ascii_lowercase()
    }
}
