//! One command of a session, as given by callers (JSON or Rust).

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// One command of a session.
///
/// JSON form (serde): a string (`"Set-User"`), `{"name": "Set-User", "params": ["Identity"]}`
/// (parameter names) or `{"name": "Set-User", "params": {"Identity": "bob", "Force": null}}`
/// (parameters with values; numbers and booleans are taken as text, `0`, `false`, `""` and
/// `null` as no value, like Python's truthiness in the reference).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A command name only.
    Name(String),
    /// A command with a set of parameter names (duplicates count once).
    WithParams {
        /// The command name.
        name: String,
        /// Parameter names.
        params: Vec<String>,
    },
    /// A command with parameters and their values (a later duplicate name replaces the value).
    WithValues {
        /// The command name.
        name: String,
        /// Parameter names and values (`None`: no value).
        params: Vec<(String, Option<String>)>,
    },
}

impl Command {
    /// The command name.
    pub fn name(&self) -> &str {
        match self {
            Command::Name(n) => n,
            Command::WithParams { name, .. } | Command::WithValues { name, .. } => name,
        }
    }
}

impl From<&str> for Command {
    fn from(name: &str) -> Self {
        Command::Name(name.to_string())
    }
}

impl Serialize for Command {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Command::Name(n) => s.serialize_str(n),
            Command::WithParams { name, params } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("name", name)?;
                m.serialize_entry("params", params)?;
                m.end()
            }
            Command::WithValues { name, params } => {
                struct Values<'a>(&'a [(String, Option<String>)]);
                impl Serialize for Values<'_> {
                    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                        let mut m = s.serialize_map(Some(self.0.len()))?;
                        for (k, v) in self.0 {
                            m.serialize_entry(k, v)?;
                        }
                        m.end()
                    }
                }
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("name", name)?;
                m.serialize_entry("params", &Values(params))?;
                m.end()
            }
        }
    }
}

enum ParamsRepr {
    Names(Vec<String>),
    Values(Vec<(String, Option<String>)>),
}

struct ParamsVisitor;

impl<'de> Visitor<'de> for ParamsVisitor {
    type Value = ParamsRepr;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of parameter names or an object of parameter values")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ParamsRepr, A::Error> {
        let mut names = Vec::new();
        while let Some(n) = seq.next_element::<String>()? {
            names.push(n);
        }
        Ok(ParamsRepr::Names(names))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ParamsRepr, A::Error> {
        let mut values = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, ParamValue>()? {
            values.push((k, v.0));
        }
        Ok(ParamsRepr::Values(values))
    }
}

impl<'de> Deserialize<'de> for ParamsRepr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ParamsVisitor)
    }
}

/// A parameter value with Python truthiness (`None` for no value).
struct ParamValue(Option<String>);

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = ParamValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, number, boolean or null parameter value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<ParamValue, E> {
        Ok(ParamValue((!v.is_empty()).then(|| v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<ParamValue, E> {
        Ok(ParamValue((!v.is_empty()).then_some(v)))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<ParamValue, E> {
        Ok(ParamValue(v.then(|| "True".to_string())))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<ParamValue, E> {
        Ok(ParamValue((v != 0).then(|| v.to_string())))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ParamValue, E> {
        Ok(ParamValue((v != 0).then(|| v.to_string())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<ParamValue, E> {
        Ok(ParamValue((v != 0.0).then(|| v.to_string())))
    }
    fn visit_unit<E: de::Error>(self) -> Result<ParamValue, E> {
        Ok(ParamValue(None))
    }
    fn visit_none<E: de::Error>(self) -> Result<ParamValue, E> {
        Ok(ParamValue(None))
    }
}

impl<'de> Deserialize<'de> for ParamValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct CommandVisitor;

impl<'de> Visitor<'de> for CommandVisitor {
    type Value = Command;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a command name or an object {\"name\": ..., \"params\": ...}")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Command, E> {
        Ok(Command::Name(v.to_string()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Command, A::Error> {
        let mut name: Option<String> = None;
        let mut params: Option<ParamsRepr> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "name" => name = Some(map.next_value()?),
                "params" => params = Some(map.next_value()?),
                other => {
                    return Err(de::Error::unknown_field(other, &["name", "params"]));
                }
            }
        }
        let name = name.ok_or_else(|| de::Error::missing_field("name"))?;
        match params.ok_or_else(|| de::Error::missing_field("params"))? {
            ParamsRepr::Names(params) => Ok(Command::WithParams { name, params }),
            ParamsRepr::Values(params) => Ok(Command::WithValues { name, params }),
        }
    }
}

impl<'de> Deserialize<'de> for Command {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CommandVisitor)
    }
}
