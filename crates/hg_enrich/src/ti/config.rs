//! Providers from the `TIProviders` section of a configuration (msticpyconfig.yaml's layout, with
//! environment indirections already resolved by the caller), and the key-less default.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::feed::LocalFeed;
use super::http::HttpSettings;
use super::providers::{HttpProvider, HttpProviderKind};
use super::tor::TorExitList;

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TiConfigError {
    /// The section is not a mapping of provider names to settings.
    #[error("TIProviders: {0}")]
    Shape(String),
    /// A provider's settings are wrong.
    #[error("TIProviders.{name}: {message}")]
    Provider {
        /// The configured name.
        name: String,
        /// What was wrong.
        message: String,
    },
    /// A look-up named providers that are not loaded.
    #[error("unknown TI provider {name:?}; loaded: {loaded}")]
    UnknownProvider {
        /// The name asked for.
        name: String,
        /// The loaded names, comma-separated.
        loaded: String,
    },
    /// No provider is loaded.
    #[error("no TI provider is loaded")]
    NoProviders,
}

/// What became of one configured provider.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProviderStatus {
    /// The configured name.
    pub name: String,
    /// The provider class (`VirusTotal`, `LocalFeed`, ...).
    pub provider: String,
    /// Whether it is in use.
    pub loaded: bool,
    /// Primary providers answer look-ups that name none.
    pub primary: bool,
    /// Why it is not loaded, or what it holds.
    pub message: String,
    /// Observable types it answers for.
    pub supported_types: Vec<String>,
}

/// How a loaded provider answers.
#[derive(Debug)]
pub(crate) enum Backend {
    Feed(Arc<LocalFeed>),
    Tor(Arc<TorExitList>, String),
    Http(Arc<HttpProvider>),
}

/// A loaded provider.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub name: String,
    pub backend: Backend,
    pub primary: bool,
    pub ttl: Option<Duration>,
    pub types: Vec<&'static str>,
}

const FEED_TYPES: &[&str] = &[
    "ipv4",
    "ipv6",
    "dns",
    "url",
    "email",
    "md5_hash",
    "sha1_hash",
    "sha256_hash",
    "sha512_hash",
];
const TOR_TYPES: &[&str] = &["ipv4", "ipv6"];

/// The providers of a configuration.
#[derive(Debug, Default)]
pub struct TiConfig {
    pub(crate) loaded: Vec<Loaded>,
    /// One entry per configured provider, loaded or not.
    pub status: Vec<ProviderStatus>,
}

fn arg<'a>(args: Option<&'a Value>, names: &[&str]) -> Option<&'a Value> {
    let args = args?.as_object()?;
    args.iter()
        .find(|(k, _)| names.iter().any(|n| n.eq_ignore_ascii_case(k)))
        .map(|(_, v)| v)
}

fn arg_str(args: Option<&Value>, names: &[&str]) -> Option<String> {
    match arg(args, names)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn arg_f64(args: Option<&Value>, names: &[&str], name: &str) -> Result<Option<f64>, TiConfigError> {
    match arg(args, names) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) => {
            s.trim()
                .parse::<f64>()
                .map(Some)
                .map_err(|_| TiConfigError::Provider {
                    name: name.to_string(),
                    message: format!("{} must be a number, not {s:?}", names[0]),
                })
        }
        Some(other) => Err(TiConfigError::Provider {
            name: name.to_string(),
            message: format!("{} must be a number, not {other}", names[0]),
        }),
    }
}

fn resolve(base: &Path, path: &str) -> PathBuf {
    let p = PathBuf::from(path);
    if p.is_absolute() {
        p
    } else {
        base.join(p)
    }
}

impl TiConfig {
    /// Loads the providers of a `TIProviders` mapping. Relative paths are resolved against
    /// `base_dir`. A provider that cannot load (missing key or path, unknown class) is listed in
    /// [`TiConfig::status`] with the reason and skipped; a malformed setting (a non-numeric
    /// limit) or a feed or exit list that cannot be read or parsed is an error.
    pub fn from_section(section: &Value, base_dir: &Path) -> Result<TiConfig, TiConfigError> {
        let Some(entries) = section.as_object() else {
            return Err(TiConfigError::Shape(format!(
                "expected a mapping of provider names to settings, found {}",
                kind_of(section)
            )));
        };
        let mut config = TiConfig::default();
        for (name, entry) in entries {
            let Some(entry_map) = entry.as_object() else {
                return Err(TiConfigError::Provider {
                    name: name.clone(),
                    message: format!("expected a mapping, found {}", kind_of(entry)),
                });
            };
            let class = entry_map
                .get("Provider")
                .and_then(Value::as_str)
                .unwrap_or(name.as_str())
                .to_string();
            let primary = entry_map
                .get("Primary")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            let args = entry_map.get("Args");
            let mut status = ProviderStatus {
                name: name.clone(),
                provider: class.clone(),
                loaded: false,
                primary,
                message: String::new(),
                supported_types: Vec::new(),
            };
            if class == "--no-load--" {
                status.message = "not loaded (--no-load--)".into();
                config.status.push(status);
                continue;
            }
            let ttl_hours = arg_f64(args, &["CacheTtlHours"], name)?;
            let loaded = config.load_one(name, &class, args, base_dir, primary, ttl_hours);
            match loaded {
                Ok((loaded, message)) => {
                    status.loaded = true;
                    status.message = message;
                    status.supported_types = loaded.types.iter().map(|t| t.to_string()).collect();
                    config.loaded.push(loaded);
                }
                Err(LoadError::Skip(message)) => status.message = message,
                Err(LoadError::Fatal(e)) => return Err(e),
            }
            config.status.push(status);
        }
        Ok(config)
    }

    fn load_one(
        &self,
        name: &str,
        class: &str,
        args: Option<&Value>,
        base_dir: &Path,
        primary: bool,
        ttl_hours: Option<f64>,
    ) -> Result<(Loaded, String), LoadError> {
        let ttl_from = |default: Duration| match ttl_hours {
            Some(h) if h <= 0.0 => None,
            Some(h) => Some(Duration::from_secs_f64(h * 3600.0)),
            None => Some(default),
        };
        match class.to_ascii_lowercase().as_str() {
            "localfeed" | "feed" | "stix" | "csvfeed" => {
                let paths: Vec<String> = match arg(args, &["Path", "Paths"]) {
                    Some(Value::String(s)) => vec![s.clone()],
                    Some(Value::Array(a)) => a
                        .iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect(),
                    _ => Vec::new(),
                };
                if paths.is_empty() {
                    return Err(LoadError::Skip(
                        "Args.Path (a CSV file or a STIX bundle) is not set".into(),
                    ));
                }
                let format = arg_str(args, &["Format"]);
                let mut merged = LocalFeed::new(
                    paths
                        .iter()
                        .map(|p| {
                            Path::new(p)
                                .file_name()
                                .map_or_else(|| p.clone(), |n| n.to_string_lossy().into_owned())
                        })
                        .collect::<Vec<_>>()
                        .join("+"),
                );
                let mut skipped = 0;
                for path in &paths {
                    let feed = LocalFeed::load(&resolve(base_dir, path), format.as_deref())
                        .map_err(|e| {
                            LoadError::Fatal(TiConfigError::Provider {
                                name: name.to_string(),
                                message: e.to_string(),
                            })
                        })?;
                    skipped += feed.skipped();
                    merged.absorb(feed);
                }
                let message = format!(
                    "{} indicators from {}{}",
                    merged.len(),
                    paths.join(", "),
                    if skipped > 0 {
                        format!(" ({skipped} STIX indicators without a usable comparison skipped)")
                    } else {
                        String::new()
                    }
                );
                Ok((
                    Loaded {
                        name: name.to_string(),
                        backend: Backend::Feed(Arc::new(merged)),
                        primary,
                        ttl: None,
                        types: FEED_TYPES.to_vec(),
                    },
                    message,
                ))
            }
            "tor" | "torexitnodes" => {
                let Some(path) = arg_str(args, &["Path"]) else {
                    return Err(LoadError::Skip(
                        "Args.Path (a saved exit-addresses list) is not set; huntglass never downloads it".into(),
                    ));
                };
                let full = resolve(base_dir, &path);
                let list = TorExitList::load(&full).map_err(|e| {
                    LoadError::Fatal(TiConfigError::Provider {
                        name: name.to_string(),
                        message: e.to_string(),
                    })
                })?;
                let message = format!("{} exit addresses from {path}", list.len());
                let reference = format!(
                    "file:{}",
                    full.file_name()
                        .map_or_else(|| path.clone(), |n| n.to_string_lossy().into_owned())
                );
                Ok((
                    Loaded {
                        name: name.to_string(),
                        backend: Backend::Tor(Arc::new(list), reference),
                        primary,
                        ttl: None,
                        types: TOR_TYPES.to_vec(),
                    },
                    message,
                ))
            }
            other => {
                let Some(kind) = HttpProviderKind::from_name(other) else {
                    return Err(LoadError::Skip(format!(
                        "provider class {class:?} is not supported by huntglass (supported: VirusTotal, OTX, AbuseIPDB, GreyNoise, URLhaus, ThreatFox, MalwareBazaar, Tor, LocalFeed)"
                    )));
                };
                let key = arg_str(args, &["AuthKey", "ApiKey"]);
                if kind.needs_key() && key.is_none() {
                    return Err(LoadError::Skip(
                        "Args.AuthKey is not set (or its environment variable is empty)".into(),
                    ));
                }
                let mut limits = kind.default_limits();
                let private_vt =
                    arg(args, &["UseVT3PrivateAPI"]).and_then(Value::as_bool) == Some(true);
                if kind == HttpProviderKind::VirusTotal && private_vt {
                    limits.max_requests = None;
                    limits.concurrency = 4;
                    limits.backoff = Duration::from_secs(1);
                }
                let fatal = |e: TiConfigError| LoadError::Fatal(e);
                if let Some(rpm) = arg_f64(args, &["RequestsPerMinute"], name).map_err(fatal)? {
                    limits.max_requests = (rpm > 0.0).then_some(rpm.ceil() as u32);
                    limits.window = Duration::from_secs(60);
                }
                if let Some(w) = arg_f64(args, &["RateWindowSeconds"], name).map_err(fatal)? {
                    limits.window = Duration::from_secs_f64(w.clamp(0.001, 86_400.0));
                }
                if let Some(c) = arg_f64(args, &["Concurrency"], name).map_err(fatal)? {
                    limits.concurrency = (c.max(1.0)) as usize;
                }
                if let Some(t) =
                    arg_f64(args, &["TimeoutSeconds", "timeout"], name).map_err(fatal)?
                {
                    limits.timeout = Duration::from_secs_f64(t.clamp(0.05, 600.0));
                }
                if let Some(r) = arg_f64(args, &["MaxRetries"], name).map_err(fatal)? {
                    limits.max_retries = r.clamp(0.0, 10.0) as u32;
                }
                if let Some(b) = arg_f64(args, &["BackoffSeconds"], name).map_err(fatal)? {
                    limits.backoff = Duration::from_secs_f64(b.clamp(0.0, 600.0));
                }
                if let Some(w) = arg_f64(args, &["MaxRetryWaitSeconds"], name).map_err(fatal)? {
                    limits.max_retry_wait = Duration::from_secs_f64(w.clamp(0.0, 3600.0));
                }
                let base_url = arg_str(args, &["BaseUrl"])
                    .unwrap_or_else(|| kind.default_base_url().to_string());
                let rate = limits
                    .max_requests
                    .map_or("no rate limit".to_string(), |m| {
                        format!("{m} per {} s", limits.window.as_secs_f64())
                    });
                let provider = HttpProvider::new(
                    kind,
                    HttpSettings {
                        base_url: base_url.clone(),
                        auth_key: key,
                        limits,
                    },
                )
                .map_err(|message| {
                    LoadError::Fatal(TiConfigError::Provider {
                        name: name.to_string(),
                        message,
                    })
                })?;
                Ok((
                    Loaded {
                        name: name.to_string(),
                        backend: Backend::Http(Arc::new(provider)),
                        primary,
                        ttl: ttl_from(kind.default_ttl()),
                        types: kind.supported_types().to_vec(),
                    },
                    format!("{base_url} ({rate})"),
                ))
            }
        }
    }

    /// Adds a feed built in memory (the scenario's, when there is no scenario folder).
    pub fn add_feed(&mut self, name: &str, feed: LocalFeed, primary: bool) {
        self.status.push(ProviderStatus {
            name: name.to_string(),
            provider: "LocalFeed".into(),
            loaded: true,
            primary,
            message: format!("{} indicators from {}", feed.len(), feed.name()),
            supported_types: FEED_TYPES.iter().map(|t| t.to_string()).collect(),
        });
        self.loaded.push(Loaded {
            name: name.to_string(),
            backend: Backend::Feed(Arc::new(feed)),
            primary,
            ttl: None,
            types: FEED_TYPES.to_vec(),
        });
    }

    /// Adds a Tor exit list built in memory; `reference` is the `Reference` of its results.
    pub fn add_tor_list(&mut self, name: &str, list: TorExitList, reference: &str, primary: bool) {
        self.status.push(ProviderStatus {
            name: name.to_string(),
            provider: "Tor".into(),
            loaded: true,
            primary,
            message: format!("{} exit addresses from {reference}", list.len()),
            supported_types: TOR_TYPES.iter().map(|t| t.to_string()).collect(),
        });
        self.loaded.push(Loaded {
            name: name.to_string(),
            backend: Backend::Tor(Arc::new(list), reference.to_string()),
            primary,
            ttl: None,
            types: TOR_TYPES.to_vec(),
        });
    }

    /// Moves the providers of `other` into this configuration (a name loaded twice keeps the
    /// first).
    pub fn merge(&mut self, other: TiConfig) {
        for loaded in other.loaded {
            if !self.loaded.iter().any(|l| l.name == loaded.name) {
                self.loaded.push(loaded);
            }
        }
        self.status.extend(other.status);
    }

    /// Whether no provider is loaded.
    pub fn is_empty(&self) -> bool {
        self.loaded.is_empty()
    }

    /// The key-less default: the local feed (`ti_feed.csv` and `ti_feed.stix.json` of
    /// `data_dir`, those that exist) and the Tor exit list (`tor_exit_addresses.txt`) if present.
    pub fn default_section(data_dir: &Path) -> Value {
        let mut section = serde_json::Map::new();
        let feeds: Vec<Value> = ["ti_feed.csv", "ti_feed.stix.json"]
            .iter()
            .filter(|f| data_dir.join(f).is_file())
            .map(|f| Value::String(data_dir.join(f).display().to_string()))
            .collect();
        if !feeds.is_empty() {
            section.insert(
                "LocalFeed".into(),
                serde_json::json!({"Provider": "LocalFeed", "Primary": true, "Args": {"Path": feeds}}),
            );
        }
        let tor = data_dir.join("tor_exit_addresses.txt");
        if tor.is_file() {
            section.insert(
                "Tor".into(),
                serde_json::json!({"Provider": "Tor", "Primary": true, "Args": {"Path": tor.display().to_string()}}),
            );
        }
        Value::Object(section)
    }
}

enum LoadError {
    Skip(String),
    Fatal(TiConfigError),
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}
