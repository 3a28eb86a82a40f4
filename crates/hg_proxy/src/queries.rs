//! The query library: YAML files with the structure of the reference's query definitions
//! (`metadata`, `defaults`, `sources`, `parameters`), loaded, validated and bound to parameters.
//!
//! A file:
//!
//! ```yaml
//! metadata:
//!   version: 1
//!   description: Windows process events
//!   data_environments: [Local]          # provider environments the queries run on
//!   data_families: [WindowsSecurity]    # the families (qp.WindowsSecurity.<query>)
//! defaults:
//!   metadata: {data_source: SecurityEvent}
//!   parameters:
//!     start: {description: Start of the time range, type: datetime, default: "2026-11-02T00:00:00Z"}
//! sources:
//!   list_host_processes:
//!     description: Process creation events on one host
//!     args:
//!       query: SELECT * FROM "SecurityEvent" WHERE "Computer" = {host_name} AND ...
//!     parameters:
//!       host_name: {description: Host name, type: str}
//! ```
//!
//! `{name}` marks where a parameter goes (`{{` / `}}` are literal braces). How it is filled is the
//! provider's business: the local SQL provider turns each into a bound parameter (`$n`), remote
//! providers write validated literals of their language. A parameter without `default` is required.
//!
//! Validation (errors name the file and the key): `version` is an integer; descriptions are 5 to
//! 1024 characters; `data_environments`, `data_families` and `sources` are present and not empty;
//! parameter types are `str`, `datetime`, `int`, `float` or `list`; a `default:` written without a
//! value is an error; query and parameter names are identifiers; every `{name}` in a query is a
//! declared parameter. Limits: files over 1 MiB, more than 2,000 files or 20,000 queries are refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::error::ProxyError;

/// Largest query file read.
pub const MAX_QUERY_FILE_BYTES: u64 = 1024 * 1024;
/// Most query files in a library.
pub const MAX_QUERY_FILES: usize = 2_000;
/// Most queries in a library.
pub const MAX_QUERIES: usize = 20_000;
/// Most items in a `list` parameter.
pub const MAX_LIST_ITEMS: usize = 10_000;

/// A problem in a query file.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {key}: {problem}")]
pub struct QueryFileError {
    /// The file.
    pub file: PathBuf,
    /// Dotted path of the key (`sources.list_alerts.description`), or `file`.
    pub key: String,
    /// What is wrong.
    pub problem: String,
}

/// The type of a query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// Text.
    Str,
    /// A point in time (UTC).
    Datetime,
    /// An integer.
    Int,
    /// A floating-point number.
    Float,
    /// A list of texts or numbers.
    List,
}

impl ParamType {
    /// The name used in query files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::Str => "str",
            ParamType::Datetime => "datetime",
            ParamType::Int => "int",
            ParamType::Float => "float",
            ParamType::List => "list",
        }
    }

    fn parse(text: &str) -> Option<ParamType> {
        Some(match text {
            "str" => ParamType::Str,
            "datetime" => ParamType::Datetime,
            "int" => ParamType::Int,
            "float" => ParamType::Float,
            "list" => ParamType::List,
            _ => return None,
        })
    }
}

/// A declared parameter.
#[derive(Debug, Clone)]
pub struct ParamDef {
    /// Name (the `{name}` placeholder and the keyword argument).
    pub name: String,
    /// Help text.
    pub description: String,
    /// Type.
    pub kind: ParamType,
    /// Default as written (absent: the parameter is required).
    pub default: Option<Value>,
    /// Other accepted names.
    pub aliases: Vec<String>,
}

/// A bound parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// Text.
    Str(String),
    /// Nanoseconds since the Unix epoch, UTC.
    Datetime(i64),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Items (each `Str`, `Int` or `Float`).
    List(Vec<ParamValue>),
}

/// A piece of a query template.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart {
    /// Query text as written.
    Text(String),
    /// Where the named parameter goes.
    Param(String),
}

/// One query of the library.
#[derive(Debug, Clone)]
pub struct QueryDef {
    /// Family (`WindowsSecurity`); a query listed under several families appears once per family.
    pub family: String,
    /// Name (`list_host_processes`).
    pub name: String,
    /// Help text.
    pub description: String,
    /// Environments it runs on (from `metadata.data_environments`).
    pub environments: Vec<String>,
    /// The table or index it reads (`metadata.data_source`), when given.
    pub data_source: Option<String>,
    /// Query text as written.
    pub query: String,
    /// The query split into text and parameter places.
    pub template: Vec<TemplatePart>,
    /// Parameters (file defaults merged with the query's own), in name order.
    pub parameters: Vec<ParamDef>,
    /// The file it comes from.
    pub file: PathBuf,
}

impl QueryDef {
    /// `Family.name`.
    pub fn full_name(&self) -> String {
        format!("{}.{}", self.family, self.name)
    }

    /// Whether the query runs on a provider with these environment names (case-insensitive).
    pub fn runs_on(&self, environments: &[String]) -> bool {
        self.environments
            .iter()
            .any(|e| environments.iter().any(|p| p.eq_ignore_ascii_case(e)))
    }

    /// Checks supplied parameters (by name or alias) and converts them to typed values; fills
    /// defaults. `now_ns` anchors relative times (`-7d`, a number of days).
    pub fn bind(
        &self,
        supplied: &serde_json::Map<String, Value>,
        now_ns: i64,
    ) -> Result<BTreeMap<String, ParamValue>, ProxyError> {
        let mut by_name: BTreeMap<&str, &ParamDef> = BTreeMap::new();
        for p in &self.parameters {
            by_name.insert(p.name.as_str(), p);
            for alias in &p.aliases {
                by_name.insert(alias.as_str(), p);
            }
        }
        let mut given: BTreeMap<String, &Value> = BTreeMap::new();
        for (key, value) in supplied {
            let Some(def) = by_name.get(key.as_str()) else {
                let known: Vec<&str> = self.parameters.iter().map(|p| p.name.as_str()).collect();
                return Err(ProxyError::BadRequest(format!(
                    "query {} has no parameter `{key}` (its parameters: {})",
                    self.full_name(),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )));
            };
            if value.is_null() {
                continue;
            }
            given.insert(def.name.clone(), value);
        }
        let mut bound = BTreeMap::new();
        let mut missing = Vec::new();
        for def in &self.parameters {
            let value = match (given.get(&def.name), &def.default) {
                (Some(v), _) => *v,
                (None, Some(d)) => d,
                (None, None) => {
                    missing.push(def.name.clone());
                    continue;
                }
            };
            let typed = convert(def, value, now_ns).map_err(|problem| {
                ProxyError::BadRequest(format!(
                    "query {}: parameter `{}` ({}): {problem}",
                    self.full_name(),
                    def.name,
                    def.kind.as_str()
                ))
            })?;
            bound.insert(def.name.clone(), typed);
        }
        if !missing.is_empty() {
            return Err(ProxyError::BadRequest(format!(
                "query {} needs parameter(s) {}",
                self.full_name(),
                missing.join(", ")
            )));
        }
        Ok(bound)
    }
}

fn convert(def: &ParamDef, value: &Value, now_ns: i64) -> Result<ParamValue, String> {
    match def.kind {
        ParamType::Str => match value {
            Value::String(s) => Ok(ParamValue::Str(s.clone())),
            Value::Number(n) => Ok(ParamValue::Str(n.to_string())),
            Value::Bool(b) => Ok(ParamValue::Str(b.to_string())),
            _ => Err("expected a text".into()),
        },
        ParamType::Int => match value {
            Value::Number(n) => n
                .as_i64()
                .map(ParamValue::Int)
                .ok_or_else(|| "expected an integer".into()),
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(ParamValue::Int)
                .map_err(|_| "expected an integer".into()),
            _ => Err("expected an integer".into()),
        },
        ParamType::Float => match value {
            Value::Number(n) => n
                .as_f64()
                .map(ParamValue::Float)
                .ok_or_else(|| "expected a number".into()),
            Value::String(s) => match s.trim().parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(ParamValue::Float(f)),
                _ => Err("expected a number".into()),
            },
            _ => Err("expected a number".into()),
        },
        ParamType::Datetime => parse_datetime(value, now_ns).map(ParamValue::Datetime),
        ParamType::List => {
            let items: Vec<ParamValue> = match value {
                Value::Array(items) => items
                    .iter()
                    .map(|item| match item {
                        Value::String(s) => Ok(ParamValue::Str(s.clone())),
                        Value::Number(n) => Ok(match n.as_i64() {
                            Some(i) => ParamValue::Int(i),
                            None => ParamValue::Float(n.as_f64().unwrap_or(f64::NAN)),
                        }),
                        _ => Err("list items must be texts or numbers".to_string()),
                    })
                    .collect::<Result<_, _>>()?,
                Value::String(s) => s
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| ParamValue::Str(s.to_string()))
                    .collect(),
                Value::Number(_) => vec![convert(
                    &ParamDef {
                        kind: ParamType::Float,
                        ..def.clone()
                    },
                    value,
                    now_ns,
                )?],
                _ => return Err("expected a list or a comma-separated text".into()),
            };
            if items.len() > MAX_LIST_ITEMS {
                return Err(format!("more than {MAX_LIST_ITEMS} items"));
            }
            Ok(ParamValue::List(items))
        }
    }
}

const NS_PER_SECOND: i64 = 1_000_000_000;
const NS_PER_DAY: i64 = 86_400 * NS_PER_SECOND;

/// A datetime parameter: an ISO-8601 / RFC 3339 text (date only, naive times are UTC), a number
/// (days from now, as the reference takes it), or a relative offset `[+-]N[unit]` with unit
/// `y`, `mon`, `w`, `d` (default), `h`, `m`, `s`.
pub fn parse_datetime(value: &Value, now_ns: i64) -> Result<i64, String> {
    match value {
        Value::Number(n) => {
            let days = n.as_f64().ok_or("expected a number of days")?;
            offset(now_ns, days * NS_PER_DAY as f64)
        }
        Value::String(text) => {
            let text = text.trim();
            if let Some(ns) = parse_absolute(text) {
                return Ok(ns);
            }
            if let Some(ns) = parse_relative(text, now_ns) {
                return ns;
            }
            Err(format!(
                "`{}` is not a time: use ISO 8601 (2026-11-03T09:41:00Z), a date, or an offset such as -7d / -12h",
                text.chars().take(64).collect::<String>()
            ))
        }
        _ => Err("expected a time (text) or a number of days".into()),
    }
}

fn offset(now_ns: i64, delta_ns: f64) -> Result<i64, String> {
    let result = now_ns as f64 + delta_ns;
    if !result.is_finite() || result.abs() > 9.0e18 {
        return Err("the offset is out of range".into());
    }
    Ok(result as i64)
}

fn parse_absolute(text: &str) -> Option<i64> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return dt.timestamp_nanos_opt();
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(text, format) {
            return dt.and_utc().timestamp_nanos_opt();
        }
    }
    if let Some(naive) = text.strip_suffix('Z').or_else(|| text.strip_suffix('z')) {
        if let Ok(dt) = NaiveDateTime::parse_from_str(naive, "%Y-%m-%dT%H:%M:%S%.f") {
            return dt.and_utc().timestamp_nanos_opt();
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|dt| dt.and_utc().timestamp_nanos_opt())
}

fn parse_relative(text: &str, now_ns: i64) -> Option<Result<i64, String>> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'-' => (-1.0, &text[1..]),
        b'+' => (1.0, &text[1..]),
        _ => (1.0, text),
    };
    let digits_end = rest
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(rest.len());
    if digits_end == 0 {
        return None;
    }
    let amount: f64 = rest[..digits_end].parse().ok()?;
    let unit_ns = match rest[digits_end..].trim() {
        "" | "d" => NS_PER_DAY as f64,
        "y" => 365.25 * NS_PER_DAY as f64,
        "mon" => 30.0 * NS_PER_DAY as f64,
        "w" => 7.0 * NS_PER_DAY as f64,
        "h" => 3600.0 * NS_PER_SECOND as f64,
        "m" => 60.0 * NS_PER_SECOND as f64,
        "s" => NS_PER_SECOND as f64,
        _ => return None,
    };
    Some(offset(now_ns, sign * amount * unit_ns))
}

/// All loaded queries.
#[derive(Debug, Clone, Default)]
pub struct QueryLibrary {
    queries: Vec<Arc<QueryDef>>,
}

impl QueryLibrary {
    /// Loads every `*.yaml` / `*.yml` file under the folders (recursively, in name order).
    pub fn load(folders: &[PathBuf]) -> Result<QueryLibrary, QueryFileError> {
        let mut files = Vec::new();
        for folder in folders {
            collect_files(folder, &mut files, 0)?;
        }
        let mut library = QueryLibrary::default();
        for file in files {
            library.add_file(&file)?;
        }
        Ok(library)
    }

    /// Parses one file's text and adds its queries.
    pub fn add_text(&mut self, file: &Path, text: &str) -> Result<(), QueryFileError> {
        let err = |key: &str, problem: String| QueryFileError {
            file: file.to_path_buf(),
            key: key.to_string(),
            problem,
        };
        let doc: Value = serde_yaml::from_str(text).map_err(|e| {
            err(
                "file",
                format!(
                    "not valid YAML: {}",
                    crate::config::strip_quoted(&e.to_string())
                ),
            )
        })?;
        let metadata = doc
            .get("metadata")
            .ok_or_else(|| err("metadata", "missing".into()))?;
        match metadata.get("version") {
            Some(Value::Number(n)) if n.is_u64() => {}
            Some(_) => return Err(err("metadata.version", "must be an integer (1)".into())),
            None => return Err(err("metadata.version", "missing".into())),
        }
        check_description(metadata.get("description"), "metadata.description")
            .map_err(|(k, p)| err(&k, p))?;
        let environments = string_list(
            metadata.get("data_environments"),
            "metadata.data_environments",
        )
        .map_err(|(k, p)| err(&k, p))?;
        let mut families = string_list(metadata.get("data_families"), "metadata.data_families")
            .map_err(|(k, p)| err(&k, p))?;
        if let Some(defaults_families) = doc.pointer("/defaults/metadata/data_families") {
            families.extend(
                string_list(Some(defaults_families), "defaults.metadata.data_families")
                    .map_err(|(k, p)| err(&k, p))?,
            );
            families.dedup();
        }
        let default_source = doc
            .pointer("/defaults/metadata/data_source")
            .and_then(Value::as_str)
            .map(str::to_string);
        let default_params = match doc.pointer("/defaults/parameters") {
            Some(p) => parse_params(p, "defaults.parameters").map_err(|(k, p)| err(&k, p))?,
            None => BTreeMap::new(),
        };
        let sources = match doc.get("sources") {
            Some(Value::Object(map)) if !map.is_empty() => map,
            Some(Value::Object(_)) | Some(Value::Null) => {
                return Err(err("sources", "has no queries".into()))
            }
            Some(_) => return Err(err("sources", "must be a mapping of query names".into())),
            None => return Err(err("sources", "missing".into())),
        };
        for (name, source) in sources {
            let key = format!("sources.{name}");
            if !is_identifier(name) {
                return Err(err(
                    &key,
                    "query names are identifiers (letters, digits, _)".into(),
                ));
            }
            let description =
                check_description(source.get("description"), &format!("{key}.description"))
                    .map_err(|(k, p)| err(&k, p))?;
            let query = source
                .pointer("/args/query")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    err(
                        &format!("{key}.args.query"),
                        "missing (the query text)".into(),
                    )
                })?;
            let mut params = default_params.clone();
            if let Some(own) = source.get("parameters").filter(|v| !v.is_null()) {
                params.extend(
                    parse_params(own, &format!("{key}.parameters")).map_err(|(k, p)| err(&k, p))?,
                );
            }
            let template =
                parse_template(query).map_err(|p| err(&format!("{key}.args.query"), p))?;
            // Only the parameters the query uses are offered (defaults are shared by the file).
            let used: Vec<&str> = template
                .iter()
                .filter_map(|part| match part {
                    TemplatePart::Param(p) => Some(p.as_str()),
                    TemplatePart::Text(_) => None,
                })
                .collect();
            for p in &used {
                if !params.contains_key(*p) {
                    return Err(err(
                        &format!("{key}.args.query"),
                        format!("uses `{{{p}}}`, which is not a declared parameter"),
                    ));
                }
            }
            params.retain(|name, _| used.contains(&name.as_str()));
            let data_source = source
                .pointer("/metadata/data_source")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| default_source.clone());
            for family in &families {
                if self.queries.len() >= MAX_QUERIES {
                    return Err(err(
                        "file",
                        format!("the library holds more than {MAX_QUERIES} queries"),
                    ));
                }
                self.queries.push(Arc::new(QueryDef {
                    family: family.clone(),
                    name: name.clone(),
                    description: description.clone(),
                    environments: environments.clone(),
                    data_source: data_source.clone(),
                    query: query.to_string(),
                    template: template.clone(),
                    parameters: params.values().cloned().collect(),
                    file: file.to_path_buf(),
                }));
            }
        }
        Ok(())
    }

    fn add_file(&mut self, file: &Path) -> Result<(), QueryFileError> {
        let err = |problem: String| QueryFileError {
            file: file.to_path_buf(),
            key: "file".into(),
            problem,
        };
        let size = std::fs::metadata(file)
            .map_err(|e| err(e.kind().to_string()))?
            .len();
        if size > MAX_QUERY_FILE_BYTES {
            return Err(err(format!(
                "{size} bytes, more than the {MAX_QUERY_FILE_BYTES} allowed"
            )));
        }
        let text = std::fs::read_to_string(file).map_err(|e| err(e.kind().to_string()))?;
        self.add_text(file, &text)
    }

    /// Every query.
    pub fn queries(&self) -> &[Arc<QueryDef>] {
        &self.queries
    }

    /// The query `Family.name` (or a unique bare `name`) among those running on `environments`.
    pub fn find(&self, environments: &[String], name: &str) -> Result<Arc<QueryDef>, ProxyError> {
        let candidates: Vec<&Arc<QueryDef>> = self
            .queries
            .iter()
            .filter(|q| q.runs_on(environments))
            .collect();
        let found: Vec<&Arc<QueryDef>> = match name.rsplit_once('.') {
            Some(_) => candidates
                .iter()
                .copied()
                .filter(|q| q.full_name() == name)
                .collect(),
            None => candidates
                .iter()
                .copied()
                .filter(|q| q.name == name)
                .collect(),
        };
        match found.as_slice() {
            [one] => Ok(Arc::clone(one)),
            [] => Err(ProxyError::NotFound(format!(
                "no query named `{}` for this provider ({} queries; GET /api/queries lists them)",
                name.chars().take(128).collect::<String>(),
                candidates.len()
            ))),
            [first, ..]
                if found
                    .iter()
                    .all(|q| q.name == first.name && q.query == first.query) =>
            {
                Ok(Arc::clone(first))
            }
            _ => Err(ProxyError::BadRequest(format!(
                "`{name}` is ambiguous: use Family.name ({})",
                found
                    .iter()
                    .map(|q| q.full_name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

fn collect_files(
    folder: &Path,
    files: &mut Vec<PathBuf>,
    depth: usize,
) -> Result<(), QueryFileError> {
    let err = |problem: String| QueryFileError {
        file: folder.to_path_buf(),
        key: "folder".into(),
        problem,
    };
    if depth > 8 {
        return Err(err("query folders nest deeper than 8 levels".into()));
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(folder)
        .map_err(|e| err(format!("cannot list the query folder: {}", e.kind())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_files(&path, files, depth + 1)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            if files.len() >= MAX_QUERY_FILES {
                return Err(err(format!("more than {MAX_QUERY_FILES} query files")));
            }
            files.push(path);
        }
    }
    Ok(())
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 128
}

fn check_description(value: Option<&Value>, key: &str) -> Result<String, (String, String)> {
    match value {
        Some(Value::String(s)) => {
            let n = s.chars().count();
            if !(5..=1024).contains(&n) {
                return Err((key.into(), format!("must be 5 to 1024 characters (is {n})")));
            }
            Ok(s.trim().to_string())
        }
        Some(_) => Err((key.into(), "must be a text".into())),
        None => Err((key.into(), "missing".into())),
    }
}

fn string_list(value: Option<&Value>, key: &str) -> Result<Vec<String>, (String, String)> {
    match value {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| (key.to_string(), "items must be texts".to_string()))
            })
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => Ok(vec![s.clone()]),
        Some(_) => Err((key.into(), "must be a non-empty list".into())),
        None => Err((key.into(), "missing".into())),
    }
}

fn parse_params(value: &Value, key: &str) -> Result<BTreeMap<String, ParamDef>, (String, String)> {
    let Value::Object(map) = value else {
        return Err((key.into(), "must be a mapping of parameter names".into()));
    };
    let mut params = BTreeMap::new();
    for (name, def) in map {
        let pkey = format!("{key}.{name}");
        if !is_identifier(name) {
            return Err((pkey, "parameter names are identifiers".into()));
        }
        let Value::Object(fields) = def else {
            return Err((
                pkey,
                "must be a mapping (description, type, default)".into(),
            ));
        };
        let description =
            check_description(fields.get("description"), &format!("{pkey}.description"))?;
        let kind = match fields.get("type") {
            Some(Value::String(t)) => ParamType::parse(t).ok_or_else(|| {
                (
                    format!("{pkey}.type"),
                    format!("`{t}` is not one of str, datetime, int, float, list"),
                )
            })?,
            _ => {
                return Err((
                    format!("{pkey}.type"),
                    "missing (str, datetime, int, float or list)".into(),
                ))
            }
        };
        let default = match fields.get("default") {
            None => None,
            Some(Value::Null) => {
                return Err((
                    format!("{pkey}.default"),
                    "is empty: give a value, or remove it to make the parameter required".into(),
                ))
            }
            Some(v) => Some(v.clone()),
        };
        let aliases = match fields.get("aliases") {
            None => Vec::new(),
            Some(v) => string_list(Some(v), &format!("{pkey}.aliases"))?,
        };
        params.insert(
            name.clone(),
            ParamDef {
                name: name.clone(),
                description,
                kind,
                default,
                aliases,
            },
        );
    }
    Ok(params)
}

/// Splits a query into text and `{name}` places; `{{` and `}}` are literal braces.
pub fn parse_template(query: &str) -> Result<Vec<TemplatePart>, String> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut chars = query.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if matches!(chars.peek(), Some((_, '{'))) => {
                chars.next();
                text.push('{');
            }
            '}' if matches!(chars.peek(), Some((_, '}'))) => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let rest = &query[i + 1..];
                let end = rest
                    .find('}')
                    .ok_or_else(|| format!("unclosed `{{` at byte {i}"))?;
                let name = &rest[..end];
                if !is_identifier(name) {
                    return Err(format!(
                        "`{{{}}}` at byte {i} is not a parameter name",
                        name.chars().take(40).collect::<String>()
                    ));
                }
                if !text.is_empty() {
                    parts.push(TemplatePart::Text(std::mem::take(&mut text)));
                }
                parts.push(TemplatePart::Param(name.to_string()));
                for _ in 0..=name.chars().count() {
                    chars.next();
                }
            }
            '}' => {
                return Err(format!(
                    "unmatched `}}` at byte {i} (write `}}}}` for a literal brace)"
                ))
            }
            _ => text.push(c),
        }
    }
    if !text.is_empty() {
        parts.push(TemplatePart::Text(text));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_split_into_text_and_parameters() {
        let parts = parse_template("a = {x} AND b IN ({ys}) {{lit}}").unwrap();
        assert_eq!(
            parts,
            vec![
                TemplatePart::Text("a = ".into()),
                TemplatePart::Param("x".into()),
                TemplatePart::Text(" AND b IN (".into()),
                TemplatePart::Param("ys".into()),
                TemplatePart::Text(") {lit}".into()),
            ]
        );
        assert!(parse_template("a {x").unwrap_err().contains("unclosed"));
        assert!(parse_template("a {x y}")
            .unwrap_err()
            .contains("not a parameter name"));
        assert!(parse_template("a }").unwrap_err().contains("unmatched"));
    }

    #[test]
    fn datetimes_parse_absolute_and_relative() {
        let now = 1_000 * NS_PER_DAY;
        let day = |v: Value| parse_datetime(&v, now).unwrap();
        assert_eq!(day("1970-01-02".into()), NS_PER_DAY);
        assert_eq!(
            day("1970-01-02T00:00:01Z".into()),
            NS_PER_DAY + NS_PER_SECOND
        );
        assert_eq!(
            day("1970-01-02 00:00:01".into()),
            NS_PER_DAY + NS_PER_SECOND
        );
        assert_eq!(day("1970-01-02T01:00:00+01:00".into()), NS_PER_DAY);
        assert_eq!(day("-7d".into()), now - 7 * NS_PER_DAY);
        assert_eq!(day("-2".into()), now - 2 * NS_PER_DAY);
        assert_eq!(day("+12h".into()), now + 12 * 3600 * NS_PER_SECOND);
        assert_eq!(day(serde_json::json!(-1)), now - NS_PER_DAY);
        assert!(parse_datetime(&"yesterday-ish".into(), now)
            .unwrap_err()
            .contains("not a time"));
    }
}
