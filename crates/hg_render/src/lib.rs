//! Scales, axes, layouts, rasterization and hit-testing of every huntglass chart.
//!
//! # Design
//!
//! Charts draw dense marks into an RGBA [`raster::Raster`] in device pixels and describe
//! everything textual (title, tick and lane labels, legends) as a [`frame::Frame`] of texts
//! with positions, which the host draws with the canvas text API. Nothing here formats HTML,
//! touches a clock or does I/O, so the crate builds unchanged for `wasm32-unknown-unknown`
//! and is the whole chart engine behind `hg_wasm`.
//!
//! The [`timeline::TimelineChart`] implements the Timeline of `docs/CONTRACT.md`:
//! events (marks in lanes), values (line, scatter, bars) and durations, reference markers,
//! colour categories with a legend, selection, a density overview strip and hit-testing.
//!
//! The [`geo::GeoMapChart`] draws the GeoMap: country outlines handed over as data (never
//! compiled in), located points sized by count, source-to-destination great-circle lines,
//! pan/zoom and hit-testing; its module documents the projection and its limits.
//!
//! Events are stored once, sorted by lane and then by time, so that every lane is a
//! time-sorted slice: a render binary-searches the visible range of each lane and visits only
//! those events; marks that land in the same device-pixel column of a lane are drawn as one mark
//! whose opacity is what the stacked marks would reach (`1 - (1 - a)^n`), so a render costs
//! O(visible events + pixels) and draws at most one mark per pixel column and lane, whatever the
//! event count. Hit-testing binary-searches the same slices (O(lanes near the pointer × log n)).
//!
//! # Input limits
//!
//! Spec JSON up to 1 MiB, 64 data sets, 1,000 reference markers, 2,000 lanes, 65,535 colour
//! categories, rasters up to 16,384 pixels a side, view spans between 10 ms and 200 years.
//! Memory is linear in the events (about 16 bytes each, plus 8 per value or end time).

pub mod frame;
pub mod geo;
pub mod raster;
pub mod scale;
pub mod spec;
pub mod theme;
pub mod ticks;
pub mod timeline;
pub mod tree;

/// Errors of chart construction and interaction.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The spec is malformed or inconsistent.
    #[error("invalid timeline spec: {0}")]
    Spec(String),
    /// A data set could not be read or lacks a needed column.
    #[error("data set '{dataset}': {source}")]
    Data {
        /// The data set name.
        dataset: String,
        /// What went wrong.
        source: hg_arrow::HgArrowError,
    },
    /// A call was made with arguments that cannot be used.
    #[error("{0}")]
    Argument(String),
    /// The data exceed a limit of the chart.
    #[error("{0}")]
    Limit(String),
}
