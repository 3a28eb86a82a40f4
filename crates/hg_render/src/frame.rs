//! What a render produces besides pixels: text to draw with the canvas API, the plot rectangle,
//! lanes and ticks (all in CSS pixels). Serialized as the JSON `Frame` of `docs/CONTRACT.md`.

use serde::Serialize;

/// A rectangle in CSS pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Rect {
    /// Left.
    pub x: f64,
    /// Top.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl Rect {
    /// Right edge.
    pub fn right(&self) -> f64 {
        self.x + self.w
    }

    /// Bottom edge.
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }

    /// Whether a point lies inside (edges included).
    pub fn contains(&self, x: f64, y: f64) -> bool {
        x >= self.x && x <= self.right() && y >= self.y && y <= self.bottom()
    }
}

/// Horizontal text alignment (canvas `textAlign`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Align {
    /// Left.
    Left,
    /// Center.
    Center,
    /// Right.
    Right,
}

/// Vertical text alignment (canvas `textBaseline`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Baseline {
    /// Top.
    Top,
    /// Middle.
    Middle,
    /// Bottom.
    Bottom,
    /// Alphabetic.
    Alphabetic,
}

/// One text to draw with `fillText` (never as HTML: labels come from log data).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Text {
    /// Anchor x.
    pub x: f64,
    /// Anchor y.
    pub y: f64,
    /// The text.
    pub text: String,
    /// Horizontal alignment at the anchor.
    pub align: Align,
    /// Vertical alignment at the anchor.
    pub baseline: Baseline,
    /// CSS colour.
    pub color: String,
    /// CSS font.
    pub font: String,
    /// Rotation in radians around the anchor.
    pub angle: f64,
}

/// A lane band.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LaneFrame {
    /// Lane label.
    pub label: String,
    /// Top.
    pub y: f64,
    /// Height.
    pub h: f64,
}

/// A time-axis tick.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TickFrame {
    /// Position.
    pub x: f64,
    /// Label.
    pub label: String,
}

/// The result of one render.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Frame {
    /// The plot area.
    pub plot: Rect,
    /// Texts to draw over the pixels.
    pub texts: Vec<Text>,
    /// Lane bands (empty in values mode).
    pub lanes: Vec<LaneFrame>,
    /// Time-axis ticks.
    pub ticks: Vec<TickFrame>,
}

/// The result of rendering the overview strip.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct OverviewFrame {
    /// The strip's plot area (aligned with the main plot's x extent).
    pub plot: Rect,
    /// The time range the strip shows, `[start_ms, end_ms]`.
    pub domain_ms: [f64; 2],
}
