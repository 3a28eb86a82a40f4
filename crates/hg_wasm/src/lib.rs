//! Browser bindings of huntglass: the only crate that talks to JavaScript through wasm-bindgen.
//!
//! # Design
//!
//! Each widget's wasm API of `docs/CONTRACT.md` is a thin class here that forwards to the chart
//! engine in `hg_render` and converts results to JSON text; it holds no layout, analytics or
//! drawing logic of its own. Errors become JS `Error`s carrying the engine's message (which
//! names the missing column and the columns that exist, the wrong type, or the bad IPC).
//!
//! Pixel buffers stay in wasm memory: `pixels_ptr()` / `pixels_len()` give the host the range
//! to view as a `Uint8ClampedArray` over the module's memory; the view must be re-created after
//! any call that may allocate (memory growth detaches it).
//!
//! # Input limits
//!
//! Those of `hg_arrow` (IPC decoding) and `hg_render` (spec size, lanes, raster size, spans).

/// The raster half of a chart's JS API, the same for every chart of `hg_render`: the theme, the
/// canvas size and the pixel buffer the host blits (see "Pixel buffers" above). Emits one more
/// `#[wasm_bindgen] impl` block for `$chart`, whose `inner` field is the engine chart; the JS
/// names and signatures are those every widget already calls.
macro_rules! raster_api {
    ($chart:ident) => {
        #[wasm_bindgen]
        impl $chart {
            /// Light (`false`) or dark (`true`) colours.
            pub fn set_theme(&mut self, dark: bool) {
                self.inner.set_theme(dark);
            }

            /// Canvas size in CSS pixels and the device pixel ratio.
            pub fn resize(
                &mut self,
                css_width: f64,
                css_height: f64,
                dpr: f64,
            ) -> Result<(), JsError> {
                self.inner
                    .resize(css_width, css_height, dpr)
                    .map_err($crate::js_error)
            }

            /// Address of the pixel buffer in wasm memory.
            pub fn pixels_ptr(&self) -> usize {
                self.inner.pixels().as_ptr() as usize
            }

            /// Length of the pixel buffer in bytes.
            pub fn pixels_len(&self) -> usize {
                self.inner.pixels().len()
            }

            /// Pixel buffer width in device pixels.
            pub fn pixel_width(&self) -> usize {
                self.inner.pixel_width()
            }

            /// Pixel buffer height in device pixels.
            pub fn pixel_height(&self) -> usize {
                self.inner.pixel_height()
            }
        }
    };
}

mod geo;
mod proctree;
mod table;

use hg_render::timeline::TimelineChart as Chart;
use wasm_bindgen::prelude::*;

fn js_error(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, JsError> {
    serde_json::to_string(value).map_err(js_error)
}

/// The Timeline chart (events, values, durations) of `docs/CONTRACT.md`.
#[wasm_bindgen]
pub struct TimelineChart {
    inner: Chart,
}

raster_api!(TimelineChart);

#[wasm_bindgen]
impl TimelineChart {
    /// A chart for a spec given as JSON text.
    #[wasm_bindgen(constructor)]
    pub fn new(spec_json: &str) -> Result<TimelineChart, JsError> {
        Ok(TimelineChart {
            inner: Chart::new(spec_json).map_err(js_error)?,
        })
    }

    /// Adds the data of a spec data set from Arrow IPC stream bytes.
    pub fn add_dataset(&mut self, name: &str, ipc: &[u8]) -> Result<(), JsError> {
        self.inner.add_dataset(name, ipc).map_err(js_error)
    }

    /// Builds lanes and colours; JSON `{n_events, t_min_ms, t_max_ms, lanes, legend, value_min,
    /// value_max, height}`.
    pub fn prepare(&mut self) -> Result<String, JsError> {
        to_json(&self.inner.prepare().map_err(js_error)?)
    }

    /// Shows `[start_ms, end_ms]`.
    pub fn set_view(&mut self, start_ms: f64, end_ms: f64) -> Result<(), JsError> {
        self.inner.set_view(start_ms, end_ms).map_err(js_error)
    }

    /// The visible range `[start_ms, end_ms]`.
    pub fn view(&self) -> Vec<f64> {
        self.inner.view().to_vec()
    }

    /// Shows the data extent plus 10 % each side.
    pub fn reset_view(&mut self) {
        self.inner.reset_view();
    }

    /// Zooms by `factor` (< 1 zooms in) anchored at `css_x`.
    pub fn zoom_at(&mut self, css_x: f64, factor: f64) -> Result<(), JsError> {
        self.inner.zoom_at(css_x, factor).map_err(js_error)
    }

    /// Pans by a CSS pixel distance.
    pub fn pan_by(&mut self, css_dx: f64) -> Result<(), JsError> {
        self.inner.pan_by(css_dx).map_err(js_error)
    }

    /// Draws into the pixel buffer; returns the JSON Frame.
    pub fn render(&mut self) -> Result<String, JsError> {
        to_json(&self.inner.render().map_err(js_error)?)
    }

    /// Draws the density strip of all data; JSON `{plot: {x, y, w, h}, domain_ms: [start, end]}`.
    pub fn render_overview(
        &mut self,
        css_width: f64,
        css_height: f64,
        dpr: f64,
    ) -> Result<String, JsError> {
        to_json(
            &self
                .inner
                .render_overview(css_width, css_height, dpr)
                .map_err(js_error)?,
        )
    }

    /// Address of the overview buffer in wasm memory.
    pub fn overview_ptr(&self) -> usize {
        self.inner.overview_pixels().as_ptr() as usize
    }

    /// Length of the overview buffer in bytes.
    pub fn overview_len(&self) -> usize {
        self.inner.overview_pixels().len()
    }

    /// Overview width in device pixels.
    pub fn overview_width(&self) -> usize {
        self.inner.overview_width()
    }

    /// Overview height in device pixels.
    pub fn overview_height(&self) -> usize {
        self.inner.overview_height()
    }

    /// Time (ms) at an overview CSS x.
    pub fn overview_x_to_ms(&self, css_x: f64) -> f64 {
        self.inner.overview_x_to_ms(css_x)
    }

    /// Overview CSS x of a time (ms).
    pub fn ms_to_overview_x(&self, ms: f64) -> f64 {
        self.inner.ms_to_overview_x(ms)
    }

    /// Time (ms) at a chart CSS x.
    pub fn x_to_ms(&self, css_x: f64) -> f64 {
        self.inner.x_to_ms(css_x)
    }

    /// Chart CSS x of a time (ms).
    pub fn ms_to_x(&self, ms: f64) -> f64 {
        self.inner.ms_to_x(ms)
    }

    /// The event id nearest the point within 6 px, or -1.
    pub fn hit_test(&mut self, css_x: f64, css_y: f64) -> Result<f64, JsError> {
        Ok(self
            .inner
            .hit_test(css_x, css_y)
            .map_err(js_error)?
            .map_or(-1.0, |id| id as f64))
    }

    /// JSON `{dataset, row, lane, fields: [[name, value], ...]}` of an event id.
    pub fn tooltip(&mut self, id: f64) -> Result<String, JsError> {
        if !(id.is_finite() && id >= 0.0 && id.fract() == 0.0) {
            return Err(JsError::new(&format!(
                "event id {id} is not a non-negative integer"
            )));
        }
        to_json(&self.inner.tooltip(id as usize).map_err(js_error)?)
    }

    /// Selects the event under the point (toggles when `additive`); returns the selection JSON.
    pub fn select_at(&mut self, css_x: f64, css_y: f64, additive: bool) -> Result<String, JsError> {
        self.inner
            .select_at(css_x, css_y, additive)
            .map_err(js_error)?;
        Ok(self.selection())
    }

    /// Selects the events inside a CSS rectangle; returns the selection JSON.
    pub fn select_box(
        &mut self,
        x0: f64,
        y0: f64,
        x1: f64,
        y1: f64,
        additive: bool,
    ) -> Result<String, JsError> {
        self.inner
            .select_box(x0, y0, x1, y1, additive)
            .map_err(js_error)?;
        Ok(self.selection())
    }

    /// Clears the selection.
    pub fn clear_selection(&mut self) {
        self.inner.clear_selection();
    }

    /// JSON `{dataset_name: [row, ...]}` of the selected rows (every data set listed).
    pub fn selection(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .inner
            .selection()
            .into_iter()
            .map(|(name, rows)| (name, serde_json::Value::from(rows)))
            .collect();
        serde_json::Value::Object(map).to_string()
    }
}
