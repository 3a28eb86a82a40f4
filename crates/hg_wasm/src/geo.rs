//! The GeoMap chart for the browser: a thin binding of `hg_render::geo`.

use hg_render::geo::{Basemap, GeoMapChart as Chart};
use wasm_bindgen::prelude::*;

use crate::{js_error, to_json};

/// The GeoMap chart of `docs/CONTRACT.md` (offline world map with points and lines on canvas).
#[wasm_bindgen]
pub struct GeoMapChart {
    inner: Chart,
}

raster_api!(GeoMapChart);

fn index_of(value: f64) -> Option<usize> {
    (value.is_finite() && value >= 0.0 && value.fract() == 0.0).then_some(value as usize)
}

#[wasm_bindgen]
impl GeoMapChart {
    /// A chart of the rows in `ipc` (Arrow IPC stream) with the spec JSON.
    #[wasm_bindgen(constructor)]
    pub fn new(spec_json: &str, ipc: &[u8]) -> Result<GeoMapChart, JsError> {
        Ok(GeoMapChart {
            inner: Chart::new(spec_json, ipc).map_err(js_error)?,
        })
    }

    /// Sets the country outlines: lon/lat pairs, points per ring, country index per ring, and
    /// the JSON list of countries `[{id, a2, name, centroid?}]`.
    pub fn set_basemap(
        &mut self,
        coords: &[f32],
        ring_lengths: &[u32],
        ring_country: &[u32],
        countries_json: &str,
    ) -> Result<(), JsError> {
        let basemap =
            Basemap::new(coords, ring_lengths, ring_country, countries_json).map_err(js_error)?;
        self.inner.set_basemap(basemap);
        Ok(())
    }

    /// Adds known places of the key columns (`ip_column`, `dst_ip_column`) from JSON: an object
    /// value -> `{lon, lat, label?}` | `{country, label?}` | `null`; places the rows again.
    pub fn set_places(&mut self, places_json: &str) -> Result<(), JsError> {
        self.inner.set_places(places_json).map_err(js_error)
    }

    /// JSON list of the key column values no `places` entry has named yet (to look up).
    pub fn unplaced_keys(&self) -> Result<String, JsError> {
        to_json(&self.inner.unplaced_keys())
    }

    /// JSON `{n_rows, placed_rows, unplaced_rows, centroid_ends, unknown_countries, n_marks,
    /// n_lines, n_countries, legend: [{label, color}], legend_more, color_title}`.
    pub fn info(&self) -> Result<String, JsError> {
        to_json(self.inner.info())
    }

    /// Draws into the pixel buffer; JSON `{view: {lon, lat, scale, zoom}, marks_drawn,
    /// lines_drawn, countries_drawn}`.
    pub fn render(&mut self) -> Result<String, JsError> {
        to_json(&self.inner.render())
    }

    /// Zooms by `factor` (> 1 enlarges) keeping the place under the point still.
    pub fn zoom_at(&mut self, css_x: f64, css_y: f64, factor: f64) -> Result<(), JsError> {
        self.inner.zoom_at(css_x, css_y, factor).map_err(js_error)
    }

    /// Moves the map by CSS pixels.
    pub fn pan_by(&mut self, dx: f64, dy: f64) {
        self.inner.pan_by(dx, dy);
    }

    /// The whole world fitted to the canvas.
    pub fn reset_view(&mut self) {
        self.inner.reset_view();
    }

    /// JSON `{lon, lat, scale, zoom}` of the view.
    pub fn view(&self) -> Result<String, JsError> {
        to_json(&self.inner.view())
    }

    /// The mark under the point, or -1.
    pub fn hit_test(&self, css_x: f64, css_y: f64) -> f64 {
        self.inner.hit_test(css_x, css_y).map_or(-1.0, |m| m as f64)
    }

    /// The basemap country under the point, or -1.
    pub fn country_at(&self, css_x: f64, css_y: f64) -> f64 {
        self.inner
            .country_at(css_x, css_y)
            .map_or(-1.0, |c| c as f64)
    }

    /// Highlights a mark (-1 clears).
    pub fn set_hover(&mut self, mark: f64) {
        self.inner.set_hover(index_of(mark));
    }

    /// Highlights a country (-1 clears).
    pub fn set_hover_country(&mut self, country: f64) {
        self.inner.set_hover_country(index_of(country));
    }

    /// Number of marks.
    pub fn mark_count(&self) -> usize {
        self.inner.mark_count()
    }

    /// CSS `[x, y, radius, rows]` of a mark (empty when it does not exist).
    pub fn mark_position(&self, mark: f64) -> Vec<f64> {
        index_of(mark)
            .and_then(|m| self.inner.mark_position(m))
            .map_or_else(Vec::new, |(x, y, r, n)| vec![x, y, r, n as f64])
    }

    /// JSON `{kind: "mark", title, fields: [[name, value], ...], rows}` of a mark.
    pub fn tooltip(&self, mark: f64) -> Result<String, JsError> {
        let m = index_of(mark)
            .ok_or_else(|| JsError::new(&format!("mark {mark} is not a mark index")))?;
        to_json(&self.inner.tooltip(m).map_err(js_error)?)
    }

    /// JSON `{kind: "country", title, fields, rows: 0}` of a basemap country.
    pub fn country_tooltip(&self, country: f64) -> Result<String, JsError> {
        let c = index_of(country)
            .ok_or_else(|| JsError::new(&format!("country {country} is not a country index")))?;
        to_json(&self.inner.country_tooltip(c).map_err(js_error)?)
    }

    /// Selects the mark under the point (toggles with `additive`); returns the selection JSON.
    pub fn select_at(&mut self, css_x: f64, css_y: f64, additive: bool) -> String {
        self.inner.select_at(css_x, css_y, additive);
        self.selection()
    }

    /// Selects the marks inside a CSS rectangle; returns the selection JSON.
    pub fn select_box(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, additive: bool) -> String {
        self.inner.select_box(x0, y0, x1, y1, additive);
        self.selection()
    }

    /// Selects the marks holding any of `rows`; returns the selection JSON.
    pub fn select_rows(&mut self, rows: Vec<f64>) -> Result<String, JsError> {
        self.inner.select_rows(&rows).map_err(js_error)?;
        Ok(self.selection())
    }

    /// Clears the selection.
    pub fn clear_selection(&mut self) {
        self.inner.clear_selection();
    }

    /// JSON `{dataset: [row, ...]}` of the selected marks' rows.
    pub fn selection(&self) -> String {
        let mut map = serde_json::Map::new();
        map.insert(
            self.inner.dataset().to_string(),
            serde_json::Value::from(self.inner.selection()),
        );
        serde_json::Value::Object(map).to_string()
    }
}
