//! The Timeline spec (`docs/CONTRACT.md`, "Timeline spec"), parsed from JSON and checked.

use serde::Deserialize;

use crate::RenderError;

/// What the Timeline draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// One mark per event in lanes.
    Events,
    /// A numeric column against time.
    Values,
    /// Bars from first to last event per lane, or per row from start to end column.
    Duration,
}

/// How values mode draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ValueKind {
    /// Connected line per series.
    Line,
    /// One dot per value.
    Scatter,
    /// Vertical bars from zero.
    #[default]
    Bar,
}

/// One data set of the spec.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSpec {
    /// Name (also the key of `add_dataset` and of the selection).
    pub name: String,
    /// The time column.
    pub time_column: String,
    /// Columns shown in the tooltip.
    #[serde(default)]
    pub source_columns: Vec<String>,
    /// Mark colour (CSS hex or a basic name); palette when absent.
    #[serde(default)]
    pub color: Option<String>,
    /// Lane column for this data set (overrides the top-level `group_by`).
    #[serde(default)]
    pub group_by: Option<String>,
}

/// A labelled reference time.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefMarker {
    /// Milliseconds since the epoch (UTC).
    pub time_ms: f64,
    /// Label.
    #[serde(default)]
    pub label: String,
}

/// The Timeline spec.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineSpec {
    /// Events, values or duration.
    pub mode: Mode,
    /// The data sets (at least one).
    pub datasets: Vec<DatasetSpec>,
    /// Lane column for every data set without its own.
    #[serde(default)]
    pub group_by: Option<String>,
    /// Column whose values colour the marks (with a legend).
    #[serde(default)]
    pub color_by: Option<String>,
    /// Numeric column (values mode).
    #[serde(default)]
    pub value_column: Option<String>,
    /// How values are drawn.
    #[serde(default)]
    pub value_kind: Option<ValueKind>,
    /// Row start time column (duration mode, with `end_column`).
    #[serde(default)]
    pub start_column: Option<String>,
    /// Row end time column (duration mode).
    #[serde(default)]
    pub end_column: Option<String>,
    /// Reference markers.
    #[serde(default)]
    pub ref_markers: Vec<RefMarker>,
    /// Title text.
    #[serde(default)]
    pub title: Option<String>,
    /// Requested height in CSS pixels (auto when absent).
    #[serde(default)]
    pub height: Option<f64>,
    /// Requested width in CSS pixels (the host decides when absent).
    #[serde(default)]
    pub width: Option<f64>,
    /// Whether the host shows the overview range selector.
    #[serde(default = "default_true")]
    pub range_tool: bool,
    /// Marker size in CSS pixels.
    #[serde(default = "default_marker_size")]
    pub marker_size: f64,
}

fn default_true() -> bool {
    true
}

fn default_marker_size() -> f64 {
    8.0
}

/// Largest accepted spec text (bytes).
pub const MAX_SPEC_BYTES: usize = 1 << 20;
/// Most data sets in one chart.
pub const MAX_DATASETS: usize = 64;
/// Most reference markers.
pub const MAX_REF_MARKERS: usize = 1_000;

impl TimelineSpec {
    /// Parses and checks a spec.
    pub fn parse(json: &str) -> Result<TimelineSpec, RenderError> {
        if json.len() > MAX_SPEC_BYTES {
            return Err(RenderError::Spec(format!(
                "spec is {} bytes (at most {MAX_SPEC_BYTES})",
                json.len()
            )));
        }
        let spec: TimelineSpec =
            serde_json::from_str(json).map_err(|e| RenderError::Spec(e.to_string()))?;
        spec.check()?;
        Ok(spec)
    }

    fn check(&self) -> Result<(), RenderError> {
        let bad = |m: String| Err(RenderError::Spec(m));
        if self.datasets.is_empty() {
            return bad("spec has no data sets".into());
        }
        if self.datasets.len() > MAX_DATASETS {
            return bad(format!(
                "spec has {} data sets (at most {MAX_DATASETS})",
                self.datasets.len()
            ));
        }
        for (i, d) in self.datasets.iter().enumerate() {
            if d.name.is_empty() {
                return bad(format!("data set {i} has an empty name"));
            }
            if self.datasets[..i].iter().any(|o| o.name == d.name) {
                return bad(format!("data set name '{}' is used twice", d.name));
            }
            if d.time_column.is_empty() {
                return bad(format!("data set '{}' has an empty time_column", d.name));
            }
            if let Some(c) = &d.color {
                if crate::raster::Rgba::parse(c).is_none() {
                    return bad(format!(
                        "data set '{}': color '{c}' is not a #rrggbb colour",
                        d.name
                    ));
                }
            }
        }
        if self.mode == Mode::Values && self.value_column.is_none() {
            return bad("values mode needs value_column".into());
        }
        if self.start_column.is_some() != self.end_column.is_some() {
            return bad("start_column and end_column must be given together".into());
        }
        if self.start_column.is_some() && self.mode != Mode::Duration {
            return bad("start_column and end_column are only used in duration mode".into());
        }
        if !(self.marker_size.is_finite() && self.marker_size > 0.0 && self.marker_size <= 100.0) {
            return bad(format!(
                "marker_size {} is not in (0, 100]",
                self.marker_size
            ));
        }
        for (name, v) in [("height", self.height), ("width", self.width)] {
            if let Some(v) = v {
                if !(v.is_finite() && v > 0.0 && v <= 20_000.0) {
                    return bad(format!("{name} {v} is not in (0, 20000]"));
                }
            }
        }
        if self.ref_markers.len() > MAX_REF_MARKERS {
            return bad(format!(
                "{} reference markers (at most {MAX_REF_MARKERS})",
                self.ref_markers.len()
            ));
        }
        for m in &self.ref_markers {
            if !m.time_ms.is_finite() || m.time_ms.abs() > 9.0e15 {
                return bad(format!(
                    "reference marker '{}' has time_ms {} (not a finite time)",
                    m.label, m.time_ms
                ));
            }
        }
        Ok(())
    }

    /// The lane column of a data set (its own, else the top-level one).
    pub fn lane_column<'a>(&'a self, d: &'a DatasetSpec) -> Option<&'a str> {
        d.group_by.as_deref().or(self.group_by.as_deref())
    }

    /// Whether lanes come from a column (else one lane per data set).
    pub fn grouped(&self) -> bool {
        self.group_by.is_some() || self.datasets.iter().any(|d| d.group_by.is_some())
    }
}
