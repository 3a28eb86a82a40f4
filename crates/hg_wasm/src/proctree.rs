//! The ProcessTree chart for the browser: a thin binding of `hg_render::tree`.

use hg_render::tree::{ProcessTreeChart as Chart, DATASET};
use wasm_bindgen::prelude::*;

use crate::{js_error, to_json};

/// The ProcessTree chart of `docs/CONTRACT.md` (collapsible process tree on canvas).
#[wasm_bindgen]
pub struct ProcessTreeChart {
    inner: Chart,
}

raster_api!(ProcessTreeChart);

#[wasm_bindgen]
impl ProcessTreeChart {
    /// A chart of the tree in `ipc` (the output of `proctree.build`) with the spec JSON.
    #[wasm_bindgen(constructor)]
    pub fn new(spec_json: &str, ipc: &[u8]) -> Result<ProcessTreeChart, JsError> {
        Ok(ProcessTreeChart {
            inner: Chart::new(spec_json, ipc).map_err(js_error)?,
        })
    }

    /// JSON `{n_rows, n_roots, max_depth, visible, legend: [{label, color}], color_title,
    /// color_scale}`.
    pub fn info(&mut self) -> Result<String, JsError> {
        to_json(&self.inner.info())
    }

    /// Draws the lines on screen; JSON `{texts, lines: [{row, y, depth}], content_height,
    /// scroll_y, line_height}`.
    pub fn render(&mut self) -> Result<String, JsError> {
        to_json(&self.inner.render())
    }

    /// Scrolls by CSS pixels.
    pub fn scroll_by(&mut self, dx: f64, dy: f64) {
        self.inner.scroll_by(dx, dy);
    }

    /// Zooms by `factor` (> 1 enlarges) around the line at `css_y`.
    pub fn zoom_at(&mut self, css_y: f64, factor: f64) -> Result<(), JsError> {
        self.inner.zoom_at(css_y, factor).map_err(js_error)
    }

    /// Zoom 1, scrolled to the top.
    pub fn reset_view(&mut self) {
        self.inner.reset_view();
    }

    /// The zoom factor.
    pub fn zoom(&self) -> f64 {
        self.inner.zoom()
    }

    /// The table row on the line at `css_y`, or -1.
    pub fn hit_test(&mut self, css_x: f64, css_y: f64) -> f64 {
        self.inner.hit_test(css_x, css_y) as f64
    }

    /// Whether the point is on the expand/collapse toggle of a line with children.
    pub fn on_toggle(&mut self, css_x: f64, css_y: f64) -> bool {
        self.inner.on_toggle(css_x, css_y)
    }

    /// Expands or collapses a row's node; returns whether it is now expanded.
    pub fn toggle(&mut self, row: f64) -> Result<bool, JsError> {
        self.inner.toggle(row).map_err(js_error)
    }

    /// Expands every node.
    pub fn expand_all(&mut self) {
        self.inner.expand_all();
    }

    /// Collapses every node.
    pub fn collapse_all(&mut self) {
        self.inner.collapse_all();
    }

    /// Marks matches of `query` in names, ids and command lines, expanding their ancestors;
    /// returns the number of matches.
    pub fn search(&mut self, query: &str) -> Result<usize, JsError> {
        self.inner.search(query).map_err(js_error)
    }

    /// Scrolls to the next (or previous) match; its row or -1.
    pub fn next_match(&mut self, forward: bool) -> f64 {
        self.inner.next_match(forward) as f64
    }

    /// Reveals a row and scrolls to it.
    pub fn scroll_to_row(&mut self, row: f64) -> Result<(), JsError> {
        self.inner.scroll_to_row(row).map_err(js_error)
    }

    /// Highlights the line of a row (any invalid row clears it).
    pub fn set_hover(&mut self, row: f64) {
        self.inner.set_hover(row);
    }

    /// JSON `[[name, value], ...]` describing a row.
    pub fn tooltip(&self, row: f64) -> Result<String, JsError> {
        to_json(&self.inner.tooltip(row).map_err(js_error)?)
    }

    /// JSON list of the side-table column names.
    pub fn table_columns(&self) -> Result<String, JsError> {
        to_json(&self.inner.table_columns())
    }

    /// JSON list of a row's side-table cells.
    pub fn table_cells(&self, row: f64) -> Result<String, JsError> {
        to_json(&self.inner.table_cells(row).map_err(js_error)?)
    }

    /// The creation time of a row in ms (NaN without a time column or value).
    pub fn time_ms(&self, row: f64) -> Result<f64, JsError> {
        self.inner.time_ms(row).map_err(js_error)
    }

    /// Selects the line at `css_y` (toggles with `additive`); returns the selection JSON.
    pub fn select_at(&mut self, css_y: f64, additive: bool) -> String {
        self.inner.select_at(css_y, additive);
        self.selection()
    }

    /// Selects exactly these rows; returns the selection JSON.
    pub fn select_rows(&mut self, rows: Vec<f64>) -> Result<String, JsError> {
        self.inner.select_rows(&rows).map_err(js_error)?;
        Ok(self.selection())
    }

    /// Clears the selection.
    pub fn clear_selection(&mut self) {
        self.inner.clear_selection();
    }

    /// JSON `{"Processes": [row, ...]}`.
    pub fn selection(&self) -> String {
        serde_json::json!({ DATASET: self.inner.selection() }).to_string()
    }
}
