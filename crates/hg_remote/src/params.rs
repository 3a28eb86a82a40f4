//! Query parameters written safely into KQL, SPL, Elasticsearch DSL and SQL.
//!
//! A template names its parameters as `{name}` (a letter or `_`, then letters, digits or `_`);
//! any other brace is literal text, so JSON templates need no doubling. The substitution writes
//! a complete literal in the template's language (quotes included), so a template says
//! `where Computer == {host_name}`, never `'{host_name}'`, and no value can end the literal
//! early:
//!
//! | type | KQL | SPL | DSL (JSON) | SQL |
//! |---|---|---|---|---|
//! | text | `'a\'b'` (backslash escapes) | `"a\"b"` | `"a\"b"` | `'a''b'` |
//! | integer / number | `42` / `1.5` | `42` | `42` | `42` |
//! | datetime | `datetime(2024-01-01T00:00:00.0000000Z)` | epoch seconds `1704067200` | `"2024-01-01T00:00:00.000Z"` | `CAST('2024-01-01T00:00:00.000Z' AS DATETIME)` |
//! | list | `'a', 'b'` (for `in (...)`) | `"a", "b"` (for `IN (...)`) | `["a","b"]` | `'a', 'b'` |
//!
//! Control characters other than tab and newline are refused in every language, as are empty
//! lists where the language has no empty list literal and non-finite numbers outside KQL.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::RemoteError;

/// The language a template is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryLanguage {
    /// Kusto Query Language (Log Analytics / Sentinel).
    Kql,
    /// Splunk Search Processing Language.
    Spl,
    /// Elasticsearch / OpenSearch query DSL (a JSON body).
    EsDsl,
    /// Elasticsearch / OpenSearch SQL.
    EsSql,
}

/// Longest text value accepted.
pub const MAX_TEXT_CHARS: usize = 64 * 1024;
/// Most list items accepted.
pub const MAX_LIST_ITEMS: usize = 10_000;

/// A typed parameter value.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    /// Text.
    Str(String),
    /// Whole number.
    Int(i64),
    /// Number.
    Float(f64),
    /// Point in time (UTC).
    DateTime(DateTime<Utc>),
    /// List of scalar values.
    List(Vec<ParamValue>),
}

impl ParamValue {
    /// Reads a JSON value as a parameter of the declared type (`str`, `int`, `float`,
    /// `datetime`, `list`; the reference's query-file types). Datetimes accept ISO-8601 text, a
    /// date, a number of days from `now` (negative = past), or an offset `[+-]N[unit]` with unit
    /// `y`, `mon`, `w`, `d` (default), `h`, `m`, `s`. Lists accept a JSON list or comma-separated
    /// text.
    pub fn from_json(
        name: &str,
        ty: &str,
        v: &Value,
        now: DateTime<Utc>,
    ) -> Result<Self, RemoteError> {
        let bad = |what: &str| RemoteError::Param(format!("`{name}` ({ty}): {what}, found {v}"));
        match ty {
            "str" | "string" => match v {
                Value::String(s) => Ok(Self::Str(s.clone())),
                Value::Number(n) => Ok(Self::Str(n.to_string())),
                Value::Bool(b) => Ok(Self::Str(b.to_string())),
                _ => Err(bad("expected text")),
            },
            "int" => match v {
                Value::Number(n) => n
                    .as_i64()
                    .map(Self::Int)
                    .ok_or_else(|| bad("expected a whole number")),
                Value::String(s) => s
                    .trim()
                    .parse()
                    .map(Self::Int)
                    .map_err(|_| bad("expected a whole number")),
                _ => Err(bad("expected a whole number")),
            },
            "float" => match v {
                Value::Number(n) => n
                    .as_f64()
                    .map(Self::Float)
                    .ok_or_else(|| bad("expected a number")),
                Value::String(s) => s
                    .trim()
                    .parse()
                    .map(Self::Float)
                    .map_err(|_| bad("expected a number")),
                _ => Err(bad("expected a number")),
            },
            "datetime" => match v {
                Value::Number(n) => {
                    let days = n.as_f64().ok_or_else(|| bad("expected a date"))?;
                    offset(now, days * 86_400.0)
                        .map(Self::DateTime)
                        .ok_or_else(|| bad("offset out of range"))
                }
                Value::String(s) => parse_datetime(s, now)
                    .map(Self::DateTime)
                    .ok_or_else(|| bad("expected an ISO-8601 date/time or an offset such as -7d")),
                _ => Err(bad("expected a date")),
            },
            "list" => {
                let items: Vec<Value> = match v {
                    Value::Array(a) => a.clone(),
                    Value::String(s) => s
                        .split(',')
                        .map(|x| Value::String(x.trim().to_string()))
                        .filter(|x| x != "")
                        .collect(),
                    Value::Number(_) => vec![v.clone()],
                    _ => return Err(bad("expected a list")),
                };
                if items.len() > MAX_LIST_ITEMS {
                    return Err(bad(&format!("more than {MAX_LIST_ITEMS} items")));
                }
                items
                    .iter()
                    .map(|x| match x {
                        Value::String(s) => Ok(Self::Str(s.clone())),
                        Value::Number(n) => Ok(n
                            .as_i64()
                            .map(Self::Int)
                            .unwrap_or_else(|| Self::Float(n.as_f64().unwrap_or(f64::NAN)))),
                        _ => Err(bad("list items must be text or numbers")),
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Self::List)
            }
            other => Err(RemoteError::Param(format!(
                "`{name}`: unknown parameter type `{other}` (str, int, float, datetime, list)"
            ))),
        }
    }
}

fn offset(now: DateTime<Utc>, seconds: f64) -> Option<DateTime<Utc>> {
    if !seconds.is_finite() || seconds.abs() > 1e11 {
        return None;
    }
    now.checked_add_signed(Duration::milliseconds((seconds * 1000.0).round() as i64))
}

/// ISO-8601 text, a date, or a relative offset from `now`.
pub fn parse_datetime(s: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d.and_hms_opt(0, 0, 0)?.and_utc());
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'-' => (-1.0, &s[1..]),
        b'+' => (1.0, &s[1..]),
        _ => (1.0, s),
    };
    let digits_end = rest
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(rest.len());
    let n: f64 = rest[..digits_end].parse().ok()?;
    let unit = match rest[digits_end..].trim().to_ascii_lowercase().as_str() {
        "" | "d" | "day" | "days" => 86_400.0,
        "y" | "year" | "years" => 365.0 * 86_400.0,
        "mon" | "month" | "months" => 30.0 * 86_400.0,
        "w" | "week" | "weeks" => 7.0 * 86_400.0,
        "h" | "hr" | "hour" | "hours" => 3_600.0,
        "m" | "min" | "minute" | "minutes" => 60.0,
        "s" | "sec" | "second" | "seconds" => 1.0,
        _ => return None,
    };
    offset(now, sign * n * unit)
}

fn check_text(s: &str) -> Result<(), RemoteError> {
    if s.chars().count() > MAX_TEXT_CHARS {
        return Err(RemoteError::Param(format!(
            "text longer than {MAX_TEXT_CHARS} characters"
        )));
    }
    if let Some(c) = s
        .chars()
        .find(|c| c.is_control() && *c != '\t' && *c != '\n' && *c != '\r')
    {
        return Err(RemoteError::Param(format!(
            "text contains the control character U+{:04X}",
            c as u32
        )));
    }
    Ok(())
}

/// A KQL string literal: single quotes, backslash escapes.
pub fn kql_string(s: &str) -> Result<String, RemoteError> {
    check_text(s)?;
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('\'');
    Ok(out)
}

/// An SPL quoted string: double quotes, `\"` and `\\` (newlines are refused: SPL has no escape
/// for them). In a `search` term `*` inside the quotes is still a wildcard; use `where` for exact
/// comparisons.
pub fn spl_string(s: &str) -> Result<String, RemoteError> {
    check_text(s)?;
    if s.contains(['\n', '\r']) {
        return Err(RemoteError::Param(
            "SPL values cannot contain line breaks".into(),
        ));
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(out)
}

/// An SQL string literal: single quotes, `'` doubled.
pub fn sql_string(s: &str) -> Result<String, RemoteError> {
    check_text(s)?;
    Ok(format!("'{}'", s.replace('\'', "''")))
}

/// A JSON string literal.
pub fn json_string(s: &str) -> Result<String, RemoteError> {
    check_text(s)?;
    Ok(Value::String(s.to_string()).to_string())
}

/// Escapes Lucene `query_string` syntax characters inside a value (for templates that must use
/// a `query_string` query; the result still goes through [`json_string`]).
pub fn lucene_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "+-=&|><!(){}[]^\"~*?:\\/ ".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Writes one value as a literal of the language.
pub fn literal(lang: QueryLanguage, v: &ParamValue) -> Result<String, RemoteError> {
    match (lang, v) {
        (QueryLanguage::Kql, ParamValue::Str(s)) => kql_string(s),
        (QueryLanguage::Spl, ParamValue::Str(s)) => spl_string(s),
        (QueryLanguage::EsDsl, ParamValue::Str(s)) => json_string(s),
        (QueryLanguage::EsSql, ParamValue::Str(s)) => sql_string(s),
        (_, ParamValue::Int(n)) => Ok(n.to_string()),
        (QueryLanguage::Kql, ParamValue::Float(f)) => Ok(if f.is_nan() {
            "real(nan)".into()
        } else if f.is_infinite() {
            if *f > 0.0 {
                "real(+inf)".into()
            } else {
                "real(-inf)".into()
            }
        } else {
            format!("{f:?}")
        }),
        (_, ParamValue::Float(f)) if f.is_finite() => Ok(format!("{f:?}")),
        (_, ParamValue::Float(f)) => Err(RemoteError::Param(format!(
            "{f} cannot be written in this query language"
        ))),
        (QueryLanguage::Kql, ParamValue::DateTime(t)) => Ok(format!(
            "datetime({})",
            t.to_rfc3339_opts(SecondsFormat::Nanos, true)
        )),
        (QueryLanguage::Spl, ParamValue::DateTime(t)) => {
            let ms = t.timestamp_millis();
            Ok(if ms % 1000 == 0 {
                (ms / 1000).to_string()
            } else {
                format!("{:.3}", ms as f64 / 1000.0)
            })
        }
        (QueryLanguage::EsDsl, ParamValue::DateTime(t)) => Ok(format!(
            "\"{}\"",
            t.to_rfc3339_opts(SecondsFormat::Millis, true)
        )),
        (QueryLanguage::EsSql, ParamValue::DateTime(t)) => Ok(format!(
            "CAST('{}' AS DATETIME)",
            t.to_rfc3339_opts(SecondsFormat::Millis, true)
        )),
        (lang, ParamValue::List(items)) => {
            if items.iter().any(|i| matches!(i, ParamValue::List(_))) {
                return Err(RemoteError::Param(
                    "lists of lists are not supported".into(),
                ));
            }
            let parts = items
                .iter()
                .map(|i| literal(lang, i))
                .collect::<Result<Vec<_>, _>>()?;
            match lang {
                QueryLanguage::EsDsl => Ok(format!("[{}]", parts.join(","))),
                QueryLanguage::Kql if parts.is_empty() => Ok("dynamic([])".into()),
                _ if parts.is_empty() => Err(RemoteError::Param(
                    "an empty list cannot be written in this query language".into(),
                )),
                _ => Ok(parts.join(", ")),
            }
        }
    }
}

/// Fills every `{name}` of the template with the literal of its value. Missing values are one
/// error naming all of them; values the template does not use are ignored.
pub fn render(
    lang: QueryLanguage,
    template: &str,
    params: &BTreeMap<String, ParamValue>,
) -> Result<String, RemoteError> {
    let mut out = String::with_capacity(template.len() + 64);
    let mut missing: Vec<String> = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_len = after
            .char_indices()
            .find(|&(i, c)| !(c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
            .map(|(i, _)| i)
            .unwrap_or(after.len());
        if name_len > 0 && after[name_len..].starts_with('}') {
            let name = &after[..name_len];
            match params.get(name) {
                Some(v) => out.push_str(&literal(lang, v).map_err(|e| match e {
                    RemoteError::Param(m) => RemoteError::Param(format!("`{name}`: {m}")),
                    other => other,
                })?),
                None => {
                    if !missing.iter().any(|m| m == name) {
                        missing.push(name.to_string());
                    }
                }
            }
            rest = &after[name_len + 1..];
        } else {
            out.push('{');
            rest = after;
        }
    }
    out.push_str(rest);
    if !missing.is_empty() {
        return Err(RemoteError::Param(format!(
            "no value for {}",
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(out)
}
