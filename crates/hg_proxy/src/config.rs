//! Configuration: `huntglass.toml` and an existing `msticpyconfig.yaml`.
//!
//! `huntglass.toml` (found through `--config`, else `HUNTGLASS_CONFIG`; optional) holds the
//! proxy's own settings. Relative paths are relative to the file's folder:
//!
//! ```toml
//! msticpyconfig = "msticpyconfig.yaml"  # else $MSTICPYCONFIG, else ./msticpyconfig.yaml
//! query_folders = ["my-queries"]        # more query library folders (same YAML format)
//!
//! [local]
//! scenario = true                       # the built-in scenario's tables (default true)
//! scenario_dir = "demo"                 # read them from `huntglass demo-data` output instead
//! folders = ["/data/logs"]              # CSV / JSON-lines / Arrow / Parquet files become tables
//!
//! [providers.Splunk]                    # same shape as msticpyconfig's DataProviders entries
//! Args = { host = "splunk.corp", token = { EnvironmentVar = "SPLUNK_TOKEN" } }
//! [ti_providers.VirusTotal]             # as TIProviders
//! [other_providers.GeoIPLite]           # as OtherProviders
//! ```
//!
//! `msticpyconfig.yaml` is read as is; only its `DataProviders`, `TIProviders` and
//! `OtherProviders` sections are used (entries in `huntglass.toml` win over same-named ones).
//! A setting may be written as `{EnvironmentVar: NAME}` (the variable's value is used) or
//! `{KeyVault: ...}` (not supported: reported as a problem of that key). A missing variable or a
//! KeyVault reference does not stop the proxy: the key is recorded as unresolved and the provider
//! that asks for it gets a [`ConfigError::Unresolved`] naming the file, the key and the problem.
//!
//! Limits: configuration files over 4 MiB are refused, and nesting deeper than 32 levels is an
//! error. Parse errors are reported with the file and line and with quoted text removed, so a
//! mistyped line holding a secret never reaches a log.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::secret::Secret;

/// Largest configuration file read.
pub const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;
/// Deepest nesting of a provider section.
pub const MAX_CONFIG_DEPTH: usize = 32;

/// A configuration problem; every variant names the file, and the key where there is one.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read the configuration: {problem}")]
    Read {
        /// The file.
        file: PathBuf,
        /// Why (the operating system's reason).
        problem: String,
    },
    /// The file is not valid TOML / YAML.
    #[error("{file}: {problem}")]
    Parse {
        /// The file.
        file: PathBuf,
        /// What is wrong and where (line), with quoted text removed.
        problem: String,
    },
    /// A key holds a value of the wrong kind.
    #[error("{file}: key `{key}`: {problem}")]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Dotted path of the key.
        key: String,
        /// What is wrong.
        problem: String,
    },
    /// A setting a provider needs could not be resolved (unset environment variable, KeyVault).
    #[error("{file}: key `{key}`: {problem}")]
    Unresolved {
        /// The file.
        file: PathBuf,
        /// Dotted path of the key.
        key: String,
        /// What is wrong.
        problem: String,
    },
}

/// Which section of the configuration a provider comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SectionKind {
    /// `DataProviders` (msticpyconfig) / `[providers.*]` (huntglass.toml): query providers.
    Data,
    /// `TIProviders` / `[ti_providers.*]`: threat-intelligence providers.
    Ti,
    /// `OtherProviders` / `[other_providers.*]`: geolocation and the like.
    Other,
}

impl SectionKind {
    /// The msticpyconfig section name.
    pub fn msticpy_name(self) -> &'static str {
        match self {
            SectionKind::Data => "DataProviders",
            SectionKind::Ti => "TIProviders",
            SectionKind::Other => "OtherProviders",
        }
    }
}

/// One provider's settings, with environment indirection resolved.
///
/// The other crates read their own section from [`ProviderSection::value`] (a JSON value, keys as
/// written). Its `Debug` prints the provider, the file and the key names only, never values,
/// because settings hold credentials; take credentials with [`ProviderSection::secret`].
#[derive(Clone)]
pub struct ProviderSection {
    /// Provider name as written (`Splunk`, `VirusTotal`, ...).
    pub name: String,
    /// The section it comes from.
    pub kind: SectionKind,
    /// The file it was read from.
    pub file: PathBuf,
    value: Value,
    unresolved: BTreeMap<String, String>,
}

impl fmt::Debug for ProviderSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&String> = match &self.value {
            Value::Object(map) => map.keys().collect(),
            _ => Vec::new(),
        };
        f.debug_struct("ProviderSection")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("file", &self.file)
            .field("keys", &keys)
            .field(
                "unresolved_keys",
                &self.unresolved.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl ProviderSection {
    /// The section as JSON, environment variables substituted; unresolved keys are `null`.
    /// It holds credentials: never log or return it.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The setting at a dotted path (`Args.AuthKey`) as a [`Secret`]; `Ok(None)` when absent,
    /// an error naming file and key when it could not be resolved or is not a scalar.
    pub fn secret(&self, path: &str) -> Result<Option<Secret>, ConfigError> {
        if let Some(problem) = self.unresolved.get(path) {
            return Err(ConfigError::Unresolved {
                file: self.file.clone(),
                key: self.key_name(path),
                problem: problem.clone(),
            });
        }
        let mut node = &self.value;
        for part in path.split('.') {
            match node.get(part) {
                Some(next) => node = next,
                None => return Ok(None),
            }
        }
        match node {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(Secret::new(s.clone()))),
            Value::Number(n) => Ok(Some(Secret::new(n.to_string()))),
            Value::Bool(b) => Ok(Some(Secret::new(b.to_string()))),
            _ => Err(ConfigError::Invalid {
                file: self.file.clone(),
                key: self.key_name(path),
                problem: "expected a single value, found a list or a table".into(),
            }),
        }
    }

    /// Keys (dotted paths) that could not be resolved, with the problem of each.
    pub fn unresolved(&self) -> &BTreeMap<String, String> {
        &self.unresolved
    }

    fn key_name(&self, path: &str) -> String {
        format!("{}.{}.{}", self.kind.msticpy_name(), self.name, path)
    }
}

/// Settings of the embedded `local` provider.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    /// Serve the built-in scenario's tables.
    pub scenario: bool,
    /// Read the scenario from this `huntglass demo-data` folder instead of generating it.
    pub scenario_dir: Option<PathBuf>,
    /// Folders whose CSV / JSON-lines / Arrow / Parquet files (and Parquet sub-folders) become tables.
    pub folders: Vec<PathBuf>,
}

impl Default for LocalConfig {
    fn default() -> Self {
        LocalConfig {
            scenario: true,
            scenario_dir: None,
            folders: Vec::new(),
        }
    }
}

/// The whole configuration of the proxy.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The `huntglass.toml` read, if any.
    pub file: Option<PathBuf>,
    /// The `msticpyconfig.yaml` read, if any.
    pub msticpyconfig: Option<PathBuf>,
    /// The local provider.
    pub local: LocalConfig,
    /// More query library folders.
    pub query_folders: Vec<PathBuf>,
    /// Provider sections by kind and name.
    pub providers: BTreeMap<(SectionKind, String), ProviderSection>,
    /// msticpyconfig's top-level `AzureSentinel` section (its `Workspaces`), which the Sentinel
    /// provider uses when its `DataProviders` entry names no workspace.
    pub azure_sentinel: Option<ProviderSection>,
    /// Non-fatal problems found while loading (unresolved keys), one line each, without values.
    pub warnings: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TomlFile {
    msticpyconfig: Option<PathBuf>,
    #[serde(default)]
    query_folders: Vec<PathBuf>,
    local: Option<TomlLocal>,
    #[serde(default)]
    providers: BTreeMap<String, toml::Value>,
    #[serde(default)]
    ti_providers: BTreeMap<String, toml::Value>,
    #[serde(default)]
    other_providers: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlLocal {
    scenario: Option<bool>,
    scenario_dir: Option<PathBuf>,
    #[serde(default)]
    folders: Vec<PathBuf>,
}

/// Where the configuration comes from: explicit paths and the environment to resolve
/// `EnvironmentVar` entries and the `HUNTGLASS_CONFIG` / `MSTICPYCONFIG` variables.
pub struct ConfigSources<'a> {
    /// `--config`.
    pub config_flag: Option<PathBuf>,
    /// Looks up an environment variable (the process environment in production, a map in tests).
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Folder where `./msticpyconfig.yaml` is looked for (the working directory).
    pub working_dir: PathBuf,
}

impl Config {
    /// Loads the configuration from the process environment and `config_flag`.
    pub fn load(config_flag: Option<PathBuf>) -> Result<Config, ConfigError> {
        let env = |name: &str| std::env::var(name).ok();
        Config::load_from(&ConfigSources {
            config_flag,
            env: &env,
            working_dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        })
    }

    /// Loads the configuration from explicit sources.
    pub fn load_from(sources: &ConfigSources<'_>) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        let toml_path = sources.config_flag.clone().or_else(|| {
            (sources.env)("HUNTGLASS_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        let mut toml_file = TomlFile::default();
        if let Some(path) = &toml_path {
            let text = read_limited(path)?;
            toml_file = toml::from_str(&text).map_err(|e| ConfigError::Parse {
                file: path.clone(),
                problem: toml_problem(&text, &e),
            })?;
            config.file = Some(path.clone());
        }
        let base = toml_path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_else(|| sources.working_dir.clone());
        let relative = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        config.query_folders = toml_file
            .query_folders
            .iter()
            .map(|p| relative(p))
            .collect();
        if let Some(local) = &toml_file.local {
            config.local = LocalConfig {
                scenario: local.scenario.unwrap_or(true),
                scenario_dir: local.scenario_dir.as_deref().map(relative),
                folders: local.folders.iter().map(|p| relative(p)).collect(),
            };
        }

        // msticpyconfig.yaml: the toml key, else MSTICPYCONFIG, else ./msticpyconfig.yaml.
        let msticpy_path = match &toml_file.msticpyconfig {
            Some(p) => Some(relative(p)),
            None => match (sources.env)("MSTICPYCONFIG").filter(|v| !v.is_empty()) {
                Some(p) => Some(PathBuf::from(p)),
                None => {
                    let here = sources.working_dir.join("msticpyconfig.yaml");
                    here.is_file().then_some(here)
                }
            },
        };
        if let Some(path) = msticpy_path {
            let text = read_limited(&path)?;
            let document: Value = serde_yaml::from_str(&text).map_err(|e| ConfigError::Parse {
                file: path.clone(),
                problem: yaml_problem(&e),
            })?;
            for kind in [SectionKind::Data, SectionKind::Ti, SectionKind::Other] {
                let Some(section) = document.get(kind.msticpy_name()) else {
                    continue;
                };
                match section {
                    Value::Null => {}
                    Value::Object(entries) => {
                        for (name, value) in entries {
                            config.add(&path, kind, name, value.clone(), sources.env)?;
                        }
                    }
                    _ => {
                        return Err(ConfigError::Invalid {
                            file: path.clone(),
                            key: kind.msticpy_name().into(),
                            problem: "expected a mapping of provider names to settings".into(),
                        })
                    }
                }
            }
            match document.get("AzureSentinel") {
                None | Some(Value::Null) => {}
                Some(section @ Value::Object(_)) => {
                    let section = config.resolve_section(
                        &path,
                        SectionKind::Data,
                        "AzureSentinel",
                        "AzureSentinel",
                        section.clone(),
                        sources.env,
                    )?;
                    config.azure_sentinel = Some(section);
                }
                Some(_) => {
                    return Err(ConfigError::Invalid {
                        file: path.clone(),
                        key: "AzureSentinel".into(),
                        problem: "expected a mapping (with `Workspaces`)".into(),
                    })
                }
            }
            config.msticpyconfig = Some(path);
        }

        if let Some(path) = &toml_path {
            for (kind, table) in [
                (SectionKind::Data, &toml_file.providers),
                (SectionKind::Ti, &toml_file.ti_providers),
                (SectionKind::Other, &toml_file.other_providers),
            ] {
                for (name, value) in table {
                    let json = serde_json::to_value(value).map_err(|e| ConfigError::Invalid {
                        file: path.clone(),
                        key: name.clone(),
                        problem: format!(
                            "cannot be represented as JSON ({})",
                            strip_quoted(&e.to_string())
                        ),
                    })?;
                    config.add(path, kind, name, json, sources.env)?;
                }
            }
        }
        Ok(config)
    }

    fn add(
        &mut self,
        file: &Path,
        kind: SectionKind,
        name: &str,
        value: Value,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        let label = format!("{}.{}", kind.msticpy_name(), name);
        let section = self.resolve_section(file, kind, name, &label, value, env)?;
        self.providers.insert((kind, name.to_string()), section);
        Ok(())
    }

    /// Resolves the environment indirection of one section (`label` is its dotted key in
    /// errors and warnings) and records its unresolved keys as warnings.
    fn resolve_section(
        &mut self,
        file: &Path,
        kind: SectionKind,
        name: &str,
        label: &str,
        mut value: Value,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ProviderSection, ConfigError> {
        let mut unresolved = BTreeMap::new();
        resolve(&mut value, "", 0, env, &mut unresolved).map_err(|(key, problem)| {
            ConfigError::Invalid {
                file: file.to_path_buf(),
                key: format!("{label}{key}"),
                problem,
            }
        })?;
        for (key, problem) in &unresolved {
            self.warnings.push(format!(
                "{}: key `{label}.{key}`: {problem}",
                file.display(),
            ));
        }
        Ok(ProviderSection {
            name: name.to_string(),
            kind,
            file: file.to_path_buf(),
            value,
            unresolved,
        })
    }

    /// The provider sections of one kind, by name.
    pub fn sections(&self, kind: SectionKind) -> BTreeMap<String, &ProviderSection> {
        self.providers
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .map(|((_, name), section)| (name.clone(), section))
            .collect()
    }

    /// One provider's section.
    pub fn section(&self, kind: SectionKind, name: &str) -> Option<&ProviderSection> {
        self.providers.get(&(kind, name.to_string()))
    }

    /// Each provider's resolved section as JSON, by name (the form remote and TI providers parse).
    /// The values hold credentials: pass them to provider constructors only.
    pub fn section_values(&self, kind: SectionKind) -> BTreeMap<String, Value> {
        self.sections(kind)
            .into_iter()
            .map(|(name, s)| (name, s.value.clone()))
            .collect()
    }
}

/// Replaces `{EnvironmentVar: NAME}` by the variable's value; records unresolvable entries
/// (unset variable, KeyVault) in `unresolved` with `null` in their place.
fn resolve(
    value: &mut Value,
    path: &str,
    depth: usize,
    env: &dyn Fn(&str) -> Option<String>,
    unresolved: &mut BTreeMap<String, String>,
) -> Result<(), (String, String)> {
    if depth > MAX_CONFIG_DEPTH {
        return Err((
            path.to_string(),
            format!("nested deeper than {MAX_CONFIG_DEPTH} levels"),
        ));
    }
    let key = path.trim_start_matches('.').to_string();
    if let Value::Object(map) = value {
        if map.len() == 1 {
            if let Some(var) = map.get("EnvironmentVar") {
                let Some(var) = var.as_str() else {
                    return Err((
                        path.to_string(),
                        "EnvironmentVar must name a variable (a string)".into(),
                    ));
                };
                match env(var) {
                    Some(v) => *value = Value::String(v),
                    None => {
                        unresolved.insert(key, format!("environment variable {var} is not set"));
                        *value = Value::Null;
                    }
                }
                return Ok(());
            }
            if map.contains_key("KeyVault") {
                unresolved.insert(
                    key,
                    "KeyVault secrets are not supported by huntglass: use {EnvironmentVar: NAME} or a plain value".into(),
                );
                *value = Value::Null;
                return Ok(());
            }
        }
        for (k, v) in map.iter_mut() {
            resolve(v, &format!("{path}.{k}"), depth + 1, env, unresolved)?;
        }
    } else if let Value::Array(items) = value {
        for (i, v) in items.iter_mut().enumerate() {
            resolve(v, &format!("{path}.{i}"), depth + 1, env, unresolved)?;
        }
    }
    Ok(())
}

fn read_limited(path: &Path) -> Result<String, ConfigError> {
    let meta = std::fs::metadata(path).map_err(|e| ConfigError::Read {
        file: path.to_path_buf(),
        problem: e.kind().to_string(),
    })?;
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(ConfigError::Read {
            file: path.to_path_buf(),
            problem: format!(
                "the file is {} bytes, more than the {MAX_CONFIG_BYTES} allowed",
                meta.len()
            ),
        });
    }
    std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        file: path.to_path_buf(),
        problem: e.kind().to_string(),
    })
}

/// Text with every quoted part replaced by `"…"` (parser messages may quote a mistyped secret).
pub(crate) fn strip_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quote: Option<char> = None;
    for c in message.chars() {
        match quote {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None if c == '"' || c == '`' || c == '\'' => {
                out.push(c);
                quote = Some(c);
            }
            None => out.push(c),
        }
    }
    if quote.is_some() {
        out.push('…');
    }
    out
}

fn toml_problem(text: &str, error: &toml::de::Error) -> String {
    let line = error
        .span()
        .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
    let message = error.message().trim();
    // An unknown key of huntglass.toml's own tables names keys, not values: keep the names.
    // Anything else may quote a value, so quoted text is removed.
    let message = if message.starts_with("unknown field `") {
        message.to_string()
    } else {
        strip_quoted(message)
    };
    match line {
        Some(line) => format!("line {line}: {message}"),
        None => message,
    }
}

fn yaml_problem(error: &serde_yaml::Error) -> String {
    // The message up to the location, quoted text removed; serde_yaml appends "at line L column C".
    let message = strip_quoted(&error.to_string());
    match error.location() {
        Some(loc) if !message.contains("line") => format!("line {}: {message}", loc.line()),
        _ => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_text_is_removed_from_parser_messages() {
        assert_eq!(
            strip_quoted(r#"invalid type: string "s3cr3t", expected a map"#),
            r#"invalid type: string "…", expected a map"#
        );
        assert_eq!(strip_quoted("unterminated 'abc"), "unterminated '…");
    }

    #[test]
    fn environment_indirection_and_keyvault() {
        let mut value: Value = serde_json::json!({
            "Args": {"AuthKey": {"EnvironmentVar": "K"}, "Other": {"EnvironmentVar": "MISSING"},
                     "Vault": {"KeyVault": null}, "Plain": "x"}
        });
        let env = |n: &str| (n == "K").then(|| "value-of-k".to_string());
        let mut unresolved = BTreeMap::new();
        resolve(&mut value, "", 0, &env, &mut unresolved).unwrap();
        assert_eq!(value["Args"]["AuthKey"], "value-of-k");
        assert_eq!(value["Args"]["Other"], Value::Null);
        assert!(unresolved["Args.Other"].contains("MISSING is not set"));
        assert!(unresolved["Args.Vault"].contains("KeyVault"));
    }

    #[test]
    fn nesting_is_limited() {
        let mut value = Value::String("x".into());
        for _ in 0..40 {
            value = serde_json::json!({ "a": value });
        }
        let env = |_: &str| None;
        let err = resolve(&mut value, "", 0, &env, &mut BTreeMap::new()).unwrap_err();
        assert!(err.1.contains("deeper than"));
    }
}
