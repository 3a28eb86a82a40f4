//! The Timeline chart: events in lanes, values against time, durations; see the crate docs.

use hg_arrow::{read_ipc_stream, Categories, Table, MISSING_LABEL};
use serde::Serialize;

use crate::frame::{Align, Baseline, Frame, LaneFrame, OverviewFrame, Rect, Text, TickFrame};
use crate::raster::{stacked_alpha, Dash, Raster, Rgba};
use crate::scale::{LinearScale, TimeScale};
use crate::spec::{Mode, TimelineSpec, ValueKind};
use crate::theme::{self, palette, Theme, LABEL_FONT, SMALL_FONT, TITLE_FONT};
use crate::ticks::{numeric_ticks, time_ticks, LABEL_CHAR_PX};
use crate::RenderError;

/// Most lanes drawn.
pub const MAX_LANES: usize = 2_000;
/// Most colour categories (`color_by` distinct values).
pub const MAX_COLOR_CATEGORIES: usize = u16::MAX as usize;
/// Pointer distance (CSS pixels) within which a mark is hit.
pub const HIT_RADIUS: f64 = 6.0;
/// Shortest view span (10 ms).
pub const MIN_SPAN_NS: i64 = 10_000_000;
/// Longest view span (200 years).
pub const MAX_SPAN_NS: i64 = 200 * 365 * 86_400 * 1_000_000_000;
/// Most candidates examined on each side of the pointer in values and duration hit-tests.
const MAX_HIT_SCAN: usize = 4_096;
/// Opacity of event marks (the reference draws them at alpha 0.5).
const MARK_ALPHA: u8 = 128;
/// Opacity of duration bars (0.4) and value bars (0.7).
const DURATION_ALPHA: u8 = 102;
const VALUE_BAR_ALPHA: u8 = 179;
/// Size of the event marks drawn over duration bars (CSS pixels).
const DURATION_MARK_SIZE: f64 = 5.0;

const TITLE_H: f64 = 30.0;
const AXIS_H: f64 = 38.0;

/// Summary returned by [`TimelineChart::prepare`] (JSON for the host).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prepared {
    /// Events drawn (rows with a time, and a value in values mode).
    pub n_events: usize,
    /// Earliest event time (ms), `null` without events.
    pub t_min_ms: Option<f64>,
    /// Latest event time (ms, end times included in duration mode), `null` without events.
    pub t_max_ms: Option<f64>,
    /// Lanes (values mode: series) in drawing order.
    pub lanes: Vec<LabelColor>,
    /// Legend entries (colour categories, or data sets when lanes are groups).
    pub legend: Vec<LabelColor>,
    /// Smallest value (values mode), `null` otherwise.
    pub value_min: Option<f64>,
    /// Largest value (values mode), `null` otherwise.
    pub value_max: Option<f64>,
    /// Suggested chart height in CSS pixels: the spec's height, else the reference's automatic
    /// height (40 px per lane, 25 px beyond 15 lanes, at least 300) plus the axis and title.
    pub height: f64,
}

/// A label and its CSS colour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelColor {
    /// The label.
    pub label: String,
    /// CSS colour `#rrggbb`.
    pub color: String,
}

/// Tooltip content of one event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tooltip {
    /// Data set name.
    pub dataset: String,
    /// 0-based row in that data set as sent.
    pub row: usize,
    /// Lane label.
    pub lane: String,
    /// `[column, display text]` pairs: the time column, the source columns, then the other
    /// columns the chart uses.
    pub fields: Vec<(String, String)>,
}

/// Per data set: its rows' category codes and the map from those codes to lane indexes.
type LaneCodes = Option<(Vec<u32>, Vec<u32>)>;

/// Colour of a lane: fixed, or the theme's single-series colour.
#[derive(Debug, Clone, Copy, PartialEq)]
enum PaintColor {
    Fixed(Rgba),
    ThemeDefault,
}

impl PaintColor {
    fn resolve(self, theme: &Theme) -> Rgba {
        match self {
            PaintColor::Fixed(c) => c,
            PaintColor::ThemeDefault => theme.default_series,
        }
    }
}

/// The events of all data sets, sorted by lane then time (event id = position).
struct Model {
    lane_labels: Vec<String>,
    lane_colors: Vec<PaintColor>,
    /// `lane_start[l]..lane_start[l + 1]` are the events of lane `l`.
    lane_start: Vec<usize>,
    time: Vec<i64>,
    /// Global source row: `dataset_offset[d] + row`.
    source: Vec<u32>,
    dataset_offset: Vec<u32>,
    /// Per-event index into `colors` (colour categories or data sets), when marks are not
    /// coloured by their lane.
    color: Option<Vec<u16>>,
    colors: Vec<PaintColor>,
    legend: Vec<(String, PaintColor)>,
    /// Values mode: the value of each event.
    value: Vec<f64>,
    /// Duration rows: the end time of each event (its time is the start).
    end: Vec<i64>,
    /// Duration rows: longest bar of each lane (to find bars starting before the view).
    lane_max_duration: Vec<i64>,
    t_range: Option<(i64, i64)>,
    v_range: Option<(f64, f64)>,
}

impl Model {
    fn n_lanes(&self) -> usize {
        self.lane_labels.len()
    }

    fn lane_range(&self, lane: usize) -> std::ops::Range<usize> {
        self.lane_start[lane]..self.lane_start[lane + 1]
    }

    fn lane_of(&self, id: usize) -> usize {
        self.lane_start.partition_point(|&s| s <= id) - 1
    }

    fn dataset_row(&self, id: usize) -> (usize, usize) {
        let src = self.source[id];
        let d = self.dataset_offset.partition_point(|&o| o <= src) - 1;
        (d, (src - self.dataset_offset[d]) as usize)
    }

    fn mark_color(&self, id: usize, lane: usize) -> PaintColor {
        match &self.color {
            Some(c) => self.colors[c[id] as usize],
            None => self.lane_colors[lane],
        }
    }

    /// Index range of a lane's events with time in `[t0, t1]`.
    fn visible(&self, lane: usize, t0: i64, t1: i64) -> std::ops::Range<usize> {
        let r = self.lane_range(lane);
        let times = &self.time[r.clone()];
        let lo = times.partition_point(|&t| t < t0);
        let hi = times.partition_point(|&t| t <= t1);
        r.start + lo..r.start + hi.max(lo)
    }

    fn duration_rows(&self) -> bool {
        !self.end.is_empty()
    }
}

/// Plot geometry in CSS pixels for the current size.
struct Layout {
    plot: Rect,
    lane_h: f64,
    legend_x: Option<f64>,
    label_chars: usize,
}

/// A selection as a bitset over event ids.
#[derive(Default)]
struct Selection {
    bits: Vec<u64>,
    count: usize,
}

impl Selection {
    fn reset(&mut self, n: usize) {
        self.bits = vec![0; n.div_ceil(64)];
        self.count = 0;
    }

    fn contains(&self, id: usize) -> bool {
        self.count > 0
            && self
                .bits
                .get(id / 64)
                .is_some_and(|w| w >> (id % 64) & 1 == 1)
    }

    fn set(&mut self, id: usize, on: bool) {
        let Some(w) = self.bits.get_mut(id / 64) else {
            return;
        };
        let mask = 1u64 << (id % 64);
        if on && *w & mask == 0 {
            *w |= mask;
            self.count += 1;
        } else if !on && *w & mask != 0 {
            *w &= !mask;
            self.count -= 1;
        }
    }

    fn clear(&mut self) {
        self.bits.iter_mut().for_each(|w| *w = 0);
        self.count = 0;
    }
}

/// The Timeline: data, view, theme and size, rendering into a pixel buffer.
pub struct TimelineChart {
    spec: TimelineSpec,
    tables: Vec<Option<Table>>,
    model: Option<Model>,
    dark: bool,
    css_w: f64,
    css_h: f64,
    dpr: f64,
    view: (i64, i64),
    view_set: bool,
    raster: Raster,
    overview: Raster,
    overview_plot: Rect,
    overview_domain: (i64, i64),
    selection: Selection,
}

fn ns_to_ms(ns: i64) -> f64 {
    ns as f64 / 1e6
}

fn ms_to_ns(ms: f64) -> i64 {
    (ms * 1e6).round().clamp(i64::MIN as f64, i64::MAX as f64) as i64
}

fn text(
    x: f64,
    y: f64,
    s: impl Into<String>,
    align: Align,
    baseline: Baseline,
    color: Rgba,
    font: &str,
) -> Text {
    Text {
        x,
        y,
        text: s.into(),
        align,
        baseline,
        color: color.css(),
        font: font.to_string(),
        angle: 0.0,
    }
}

/// Cuts a label to at most `max_chars` characters, ending with `…` when cut.
/// Vertical step between rows of reference-marker labels (CSS px).
const MARKER_LABEL_ROW: f64 = 12.0;
/// Most rows of reference-marker labels stacked at the top of the plot.
const MAX_MARKER_LABEL_ROWS: usize = 8;

/// Width of `text` in [`SMALL_FONT`], estimated without a text engine (the canvas measures text in
/// the browser, but layout happens here): 10 px sans-serif averages under 6 px per character, so
/// this errs on the wide side and labels never collide.
fn estimated_small_text_width(text: &str) -> f64 {
    text.chars().count() as f64 * 6.0
}

fn fit_label(label: &str, max_chars: usize) -> String {
    if label.chars().count() <= max_chars {
        return label.to_string();
    }
    let mut s: String = label.chars().take(max_chars.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// Orders labels merged from several data sets: numerically when both parse as numbers, else
/// by text; the missing label last.
fn natural_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a == MISSING_LABEL, b == MISSING_LABEL) {
        (true, false) => return std::cmp::Ordering::Greater,
        (false, true) => return std::cmp::Ordering::Less,
        _ => {}
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    }
}

/// Merges per-data-set categories into one label list; returns the labels and, per data set,
/// the map from its codes to merged codes.
fn merge_categories(parts: &[Categories]) -> (Vec<String>, Vec<Vec<u32>>) {
    let mut labels: Vec<String> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for p in parts {
        for l in &p.labels {
            if !index.contains_key(l) {
                index.insert(l.clone(), labels.len());
                labels.push(l.clone());
            }
        }
    }
    if parts.len() > 1 {
        labels.sort_by(|a, b| natural_order(a, b));
    } else if let Some(pos) = labels.iter().position(|l| l == MISSING_LABEL) {
        // A real value spelled "(missing)" keeps its place only if no row is null.
        if parts[0].missing == Some(pos as u32) {
            let m = labels.remove(pos);
            labels.push(m);
        }
    }
    let position: std::collections::HashMap<&str, u32> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i as u32))
        .collect();
    let maps = parts
        .iter()
        .map(|p| p.labels.iter().map(|l| position[l.as_str()]).collect())
        .collect();
    (labels, maps)
}

impl TimelineChart {
    /// A chart for a spec (JSON text of the contract's Timeline spec).
    pub fn new(spec_json: &str) -> Result<TimelineChart, RenderError> {
        let spec = TimelineSpec::parse(spec_json)?;
        let n = spec.datasets.len();
        Ok(TimelineChart {
            spec,
            tables: vec![None; n],
            model: None,
            dark: false,
            css_w: 900.0,
            css_h: 300.0,
            dpr: 1.0,
            view: (0, 86_400_000_000_000),
            view_set: false,
            raster: Raster::new(900, 300),
            overview: Raster::new(0, 0),
            overview_plot: Rect::default(),
            overview_domain: (0, 1),
            selection: Selection::default(),
        })
    }

    /// The parsed spec.
    pub fn spec(&self) -> &TimelineSpec {
        &self.spec
    }

    /// Adds (or replaces) the data of a data set named in the spec from Arrow IPC stream bytes.
    pub fn add_dataset(&mut self, name: &str, ipc: &[u8]) -> Result<(), RenderError> {
        let Some(i) = self.spec.datasets.iter().position(|d| d.name == name) else {
            let names: Vec<&str> = self.spec.datasets.iter().map(|d| d.name.as_str()).collect();
            return Err(RenderError::Argument(format!(
                "data set '{name}' is not in the spec (spec data sets: {})",
                names.join(", ")
            )));
        };
        let table = read_ipc_stream(ipc).map_err(|source| RenderError::Data {
            dataset: name.to_string(),
            source,
        })?;
        self.add_table(i, table);
        Ok(())
    }

    /// Adds (or replaces) the data of the `index`-th spec data set from a decoded table.
    pub fn add_table(&mut self, index: usize, table: Table) {
        if index < self.tables.len() {
            self.tables[index] = Some(table);
            self.model = None;
        }
    }

    /// Builds the lanes, colours and sorted events from the data sets; checks every column the
    /// spec names. Called by the other methods when needed.
    pub fn prepare(&mut self) -> Result<Prepared, RenderError> {
        if self.model.is_none() {
            let model = self.build()?;
            self.selection.reset(model.time.len());
            self.model = Some(model);
            if !self.view_set {
                self.reset_view();
            }
        }
        let model = self.model.as_ref().expect("model was just built");
        let th = theme::theme(self.dark);
        let n_lanes = model.n_lanes();
        let auto = if n_lanes > 15 { 25.0 } else { 40.0 } * n_lanes.max(1) as f64;
        let height = self
            .spec
            .height
            .unwrap_or_else(|| auto.max(300.0) + TITLE_H + AXIS_H);
        Ok(Prepared {
            n_events: model.time.len(),
            t_min_ms: model.t_range.map(|r| ns_to_ms(r.0)),
            t_max_ms: model.t_range.map(|r| ns_to_ms(r.1)),
            lanes: model
                .lane_labels
                .iter()
                .zip(&model.lane_colors)
                .map(|(l, c)| LabelColor {
                    label: l.clone(),
                    color: c.resolve(th).css(),
                })
                .collect(),
            legend: model
                .legend
                .iter()
                .map(|(l, c)| LabelColor {
                    label: l.clone(),
                    color: c.resolve(th).css(),
                })
                .collect(),
            value_min: model.v_range.map(|r| r.0),
            value_max: model.v_range.map(|r| r.1),
            height,
        })
    }

    fn build(&self) -> Result<Model, RenderError> {
        let spec = &self.spec;
        let missing: Vec<&str> = spec
            .datasets
            .iter()
            .zip(&self.tables)
            .filter(|(_, t)| t.is_none())
            .map(|(d, _)| d.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(RenderError::Argument(format!(
                "data set(s) {} declared in the spec but not added",
                missing.join(", ")
            )));
        }
        let tables: Vec<&Table> = self
            .tables
            .iter()
            .map(|t| t.as_ref().expect("checked above"))
            .collect();
        let data_err = |d: usize| {
            let name = spec.datasets[d].name.clone();
            move |source| RenderError::Data {
                dataset: name.clone(),
                source,
            }
        };

        // Columns: check every named column first so the error names the first problem.
        for (d, (ds, table)) in spec.datasets.iter().zip(&tables).enumerate() {
            for c in &ds.source_columns {
                table.data_type(c).map_err(data_err(d))?;
            }
        }

        let n_ds = tables.len();
        let mut dataset_offset = Vec::with_capacity(n_ds + 1);
        let mut total: u64 = 0;
        for t in &tables {
            dataset_offset.push(total as u32);
            total += t.num_rows() as u64;
        }
        if total > u32::MAX as u64 {
            return Err(RenderError::Limit(format!(
                "{total} rows in all data sets (at most {})",
                u32::MAX
            )));
        }
        dataset_offset.push(total as u32);

        let duration_rows = spec.mode == Mode::Duration && spec.start_column.is_some();
        let mut times = Vec::with_capacity(n_ds);
        let mut ends = Vec::new();
        for (d, (ds, table)) in spec.datasets.iter().zip(&tables).enumerate() {
            let column = if duration_rows {
                spec.start_column.as_deref().unwrap_or(&ds.time_column)
            } else {
                &ds.time_column
            };
            times.push(table.times_ns(column).map_err(data_err(d))?);
            if duration_rows {
                let end_col = spec.end_column.as_deref().unwrap_or(&ds.time_column);
                ends.push(table.times_ns(end_col).map_err(data_err(d))?);
            }
        }
        let mut values = Vec::new();
        if spec.mode == Mode::Values {
            let col = spec.value_column.as_deref().unwrap_or_default();
            for (d, table) in tables.iter().enumerate() {
                values.push(table.numbers_f64(col).map_err(data_err(d))?);
            }
        }

        // Rows drawn: a time, and a value in values mode.
        let keep = |d: usize, row: usize| -> bool {
            times[d].is_valid(row) && (values.is_empty() || !values[d][row].is_nan())
        };

        // Lanes.
        let grouped = spec.grouped();
        let (mut lane_labels, mut lane_codes): (Vec<String>, Vec<LaneCodes>) = if grouped {
            let mut cats = Vec::with_capacity(n_ds);
            for (d, (ds, table)) in spec.datasets.iter().zip(&tables).enumerate() {
                cats.push(match spec.lane_column(ds) {
                    Some(col) => table.categorize(col).map_err(data_err(d))?,
                    // A data set without a lane column forms one lane named after it.
                    None => Categories {
                        labels: vec![ds.name.clone()],
                        codes: vec![0; table.num_rows()],
                        missing: None,
                    },
                });
            }
            let (labels, maps) = merge_categories(&cats);
            (
                labels,
                cats.into_iter()
                    .zip(maps)
                    .map(|(c, m)| Some((c.codes, m)))
                    .collect(),
            )
        } else {
            (
                spec.datasets.iter().map(|d| d.name.clone()).collect(),
                vec![None; n_ds],
            )
        };
        if grouped {
            // Drop groups without a drawable row (for example all their times are null).
            let mut used = vec![false; lane_labels.len()];
            for (d, table) in tables.iter().enumerate() {
                if let Some((codes, map)) = &lane_codes[d] {
                    for row in 0..table.num_rows() {
                        if keep(d, row) {
                            used[map[codes[row] as usize] as usize] = true;
                        }
                    }
                }
            }
            let mut new_index = vec![u32::MAX; lane_labels.len()];
            let mut kept = Vec::new();
            for (i, label) in lane_labels.drain(..).enumerate() {
                if used[i] {
                    new_index[i] = kept.len() as u32;
                    kept.push(label);
                }
            }
            lane_labels = kept;
            for (_, map) in lane_codes.iter_mut().flatten() {
                map.iter_mut().for_each(|m| *m = new_index[*m as usize]);
            }
        }
        if lane_labels.len() > MAX_LANES {
            let column = spec.group_by.clone().unwrap_or_else(|| "group_by".into());
            return Err(RenderError::Limit(format!(
                "'{column}' has {} distinct values; the timeline draws at most {MAX_LANES} lanes",
                lane_labels.len()
            )));
        }
        let n_lanes = lane_labels.len();

        // Colours.
        let dataset_colors: Vec<PaintColor> = {
            let pal = palette(n_ds);
            spec.datasets
                .iter()
                .enumerate()
                .map(|(i, d)| match d.color.as_deref().and_then(Rgba::parse) {
                    Some(c) => PaintColor::Fixed(c),
                    None if n_ds == 1 => PaintColor::ThemeDefault,
                    None => PaintColor::Fixed(pal[i]),
                })
                .collect()
        };
        let mut legend = Vec::new();
        let mut colors = Vec::new();
        let mut color_codes: Option<Vec<Vec<u16>>> = None;
        let lane_colors: Vec<PaintColor>;
        if let Some(color_col) = &spec.color_by {
            let mut cats = Vec::with_capacity(n_ds);
            for (d, table) in tables.iter().enumerate() {
                cats.push(table.categorize(color_col).map_err(data_err(d))?);
            }
            let (labels, maps) = merge_categories(&cats);
            if labels.len() > MAX_COLOR_CATEGORIES {
                return Err(RenderError::Limit(format!(
                    "color_by '{color_col}' has {} distinct values (at most {MAX_COLOR_CATEGORIES})",
                    labels.len()
                )));
            }
            let real = labels
                .iter()
                .filter(|l| l.as_str() != MISSING_LABEL)
                .count();
            let pal = palette(real);
            let mut k = 0;
            for l in &labels {
                let c = if l == MISSING_LABEL {
                    PaintColor::Fixed(theme::LIGHT.missing)
                } else {
                    k += 1;
                    PaintColor::Fixed(pal[k - 1])
                };
                colors.push(c);
                legend.push((l.clone(), c));
            }
            color_codes = Some(
                cats.iter()
                    .zip(&maps)
                    .map(|(c, m)| c.codes.iter().map(|&x| m[x as usize] as u16).collect())
                    .collect(),
            );
            lane_colors = if grouped {
                vec![PaintColor::ThemeDefault; n_lanes]
            } else {
                dataset_colors.clone()
            };
        } else if grouped && n_ds == 1 {
            lane_colors = match dataset_colors[0] {
                PaintColor::Fixed(c) if spec.datasets[0].color.is_some() => {
                    vec![PaintColor::Fixed(c); n_lanes]
                }
                _ => palette(n_lanes)
                    .into_iter()
                    .map(PaintColor::Fixed)
                    .collect(),
            };
        } else if grouped {
            // Lanes are groups shared by several data sets: marks take their data set's colour.
            colors = dataset_colors.clone();
            legend = spec
                .datasets
                .iter()
                .zip(&dataset_colors)
                .map(|(d, c)| (d.name.clone(), *c))
                .collect();
            color_codes = Some(
                tables
                    .iter()
                    .enumerate()
                    .map(|(d, t)| vec![d as u16; t.num_rows()])
                    .collect(),
            );
            lane_colors = vec![PaintColor::ThemeDefault; n_lanes];
        } else {
            lane_colors = dataset_colors.clone();
        }

        // Events: count per lane, then place each event in its lane slice, then sort each slice.
        let lane_of = |d: usize, row: usize| -> usize {
            match &lane_codes[d] {
                Some((codes, map)) => map[codes[row] as usize] as usize,
                None => d,
            }
        };
        let mut lane_start = vec![0usize; n_lanes + 1];
        for (d, table) in tables.iter().enumerate() {
            for row in 0..table.num_rows() {
                if keep(d, row) {
                    lane_start[lane_of(d, row) + 1] += 1;
                }
            }
        }
        for l in 0..n_lanes {
            lane_start[l + 1] += lane_start[l];
        }
        let n_events = lane_start[n_lanes];
        let mut cursor = lane_start.clone();
        let mut order: Vec<(i64, u32)> = vec![(0, 0); n_events];
        for (d, table) in tables.iter().enumerate() {
            for row in 0..table.num_rows() {
                if keep(d, row) {
                    let l = lane_of(d, row);
                    order[cursor[l]] = (times[d].values()[row], dataset_offset[d] + row as u32);
                    cursor[l] += 1;
                }
            }
        }
        for l in 0..n_lanes {
            // Stable: equal times keep data set and row order.
            order[lane_start[l]..lane_start[l + 1]].sort_by_key(|e| e.0);
        }
        let time: Vec<i64> = order.iter().map(|e| e.0).collect();
        let source: Vec<u32> = order.iter().map(|e| e.1).collect();
        drop(order);
        let locate = |src: u32| -> (usize, usize) {
            let d = dataset_offset.partition_point(|&o| o <= src) - 1;
            (d, (src - dataset_offset[d]) as usize)
        };
        let color = color_codes.map(|codes| {
            source
                .iter()
                .map(|&s| {
                    let (d, r) = locate(s);
                    codes[d][r]
                })
                .collect()
        });
        let value: Vec<f64> = if values.is_empty() {
            Vec::new()
        } else {
            source
                .iter()
                .map(|&s| {
                    let (d, r) = locate(s);
                    values[d][r]
                })
                .collect()
        };
        let end: Vec<i64> = if duration_rows {
            source
                .iter()
                .zip(&time)
                .map(|(&s, &start)| {
                    let (d, r) = locate(s);
                    // A missing or earlier end draws the row at its start (as the reference).
                    ends[d].get(r).unwrap_or(start).max(start)
                })
                .collect()
        } else {
            Vec::new()
        };
        let lane_max_duration = if duration_rows {
            (0..n_lanes)
                .map(|l| {
                    (lane_start[l]..lane_start[l + 1])
                        .map(|i| end[i].saturating_sub(time[i]))
                        .max()
                        .unwrap_or(0)
                })
                .collect()
        } else {
            vec![0; n_lanes]
        };
        let t_range = if n_events == 0 {
            None
        } else {
            let lo = (0..n_lanes)
                .filter(|&l| lane_start[l] < lane_start[l + 1])
                .map(|l| time[lane_start[l]])
                .min();
            let hi_start = (0..n_lanes)
                .filter(|&l| lane_start[l] < lane_start[l + 1])
                .map(|l| time[lane_start[l + 1] - 1])
                .max();
            let hi = end.iter().copied().max().into_iter().chain(hi_start).max();
            lo.zip(hi)
        };
        let v_range = if value.is_empty() {
            None
        } else {
            let lo = value.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = value.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (lo.is_finite() && hi.is_finite()).then_some((lo, hi))
        };
        Ok(Model {
            lane_labels,
            lane_colors,
            lane_start,
            time,
            source,
            dataset_offset,
            color,
            colors,
            legend,
            value,
            end,
            lane_max_duration,
            t_range,
            v_range,
        })
    }

    fn ensure_model(&mut self) -> Result<(), RenderError> {
        if self.model.is_none() {
            self.prepare()?;
        }
        Ok(())
    }

    /// Chooses the light or dark theme.
    pub fn set_theme(&mut self, dark: bool) {
        self.dark = dark;
    }

    /// Sets the canvas size in CSS pixels and the device pixel ratio.
    pub fn resize(&mut self, css_width: f64, css_height: f64, dpr: f64) -> Result<(), RenderError> {
        if !(css_width.is_finite() && css_height.is_finite() && css_width > 0.0 && css_height > 0.0)
        {
            return Err(RenderError::Argument(format!(
                "size {css_width} x {css_height} is not a positive size"
            )));
        }
        let dpr = if dpr.is_finite() && dpr > 0.0 {
            dpr.clamp(0.5, 4.0)
        } else {
            1.0
        };
        self.css_w = css_width.min(crate::raster::MAX_SIDE as f64 / dpr);
        self.css_h = css_height.min(crate::raster::MAX_SIDE as f64 / dpr);
        self.dpr = dpr;
        let (w, h) = self.device_size();
        if (w, h) != (self.raster.width(), self.raster.height()) {
            self.raster.resize(w, h);
        }
        Ok(())
    }

    fn device_size(&self) -> (usize, usize) {
        (
            (self.css_w * self.dpr).round() as usize,
            (self.css_h * self.dpr).round() as usize,
        )
    }

    /// Shows `[start_ms, end_ms]`.
    pub fn set_view(&mut self, start_ms: f64, end_ms: f64) -> Result<(), RenderError> {
        if !(start_ms.is_finite() && end_ms.is_finite() && end_ms > start_ms) {
            return Err(RenderError::Argument(format!(
                "view [{start_ms}, {end_ms}] is not an increasing pair of times"
            )));
        }
        self.apply_view(ms_to_ns(start_ms), ms_to_ns(end_ms));
        self.view_set = true;
        Ok(())
    }

    fn apply_view(&mut self, start: i64, end: i64) {
        let span =
            (end as i128 - start as i128).clamp(MIN_SPAN_NS as i128, MAX_SPAN_NS as i128) as i64;
        let mid = (start as i128 + (end as i128 - start as i128) / 2) as i64;
        let start = mid.saturating_sub(span / 2);
        self.view = (start, start.saturating_add(span));
    }

    /// The visible range `[start_ms, end_ms]`.
    pub fn view(&self) -> [f64; 2] {
        [ns_to_ms(self.view.0), ns_to_ms(self.view.1)]
    }

    /// Shows the data extent plus 10 % on each side (one minute each side for a single instant).
    pub fn reset_view(&mut self) {
        let (lo, hi) = self.data_extent();
        let pad = ((hi as i128 - lo as i128) / 10) as i64;
        let pad = if pad <= 0 { 60_000_000_000 } else { pad };
        self.apply_view(lo.saturating_sub(pad), hi.saturating_add(pad));
        self.view_set = false;
    }

    fn data_extent(&self) -> (i64, i64) {
        let markers = self.spec.ref_markers.iter().map(|m| ms_to_ns(m.time_ms));
        match self.model.as_ref().and_then(|m| m.t_range) {
            Some(r) => r,
            None => {
                let lo = markers.clone().min();
                let hi = markers.max();
                match (lo, hi) {
                    (Some(lo), Some(hi)) => (lo, hi),
                    _ => (0, 86_400_000_000_000),
                }
            }
        }
    }

    /// Zooms by `factor` (< 1 zooms in) keeping the time under `css_x` in place.
    pub fn zoom_at(&mut self, css_x: f64, factor: f64) -> Result<(), RenderError> {
        if !(factor.is_finite() && factor > 0.0 && css_x.is_finite()) {
            return Err(RenderError::Argument(format!(
                "zoom factor {factor} at x {css_x} is not usable"
            )));
        }
        let scale = self.css_scale();
        let anchor = scale.t(css_x.clamp(scale.range().0, scale.range().1));
        let (s, e) = (self.view.0 as f64, self.view.1 as f64);
        let a = anchor as f64;
        let mut start = a - (a - s) * factor;
        let mut end = a + (e - a) * factor;
        let span = end - start;
        if span < MIN_SPAN_NS as f64 || span > MAX_SPAN_NS as f64 {
            let target = span.clamp(MIN_SPAN_NS as f64, MAX_SPAN_NS as f64);
            let f = (a - start) / span;
            start = a - f * target;
            end = start + target;
        }
        self.view = (
            start.clamp(-9.2e18, 9.2e18) as i64,
            end.clamp(-9.2e18, 9.2e18) as i64,
        );
        self.view_set = true;
        Ok(())
    }

    /// Pans by a CSS pixel distance (positive moves the content right, showing earlier times).
    pub fn pan_by(&mut self, css_dx: f64) -> Result<(), RenderError> {
        if !css_dx.is_finite() {
            return Err(RenderError::Argument(format!(
                "pan distance {css_dx} is not finite"
            )));
        }
        let scale = self.css_scale();
        let shift = (-css_dx / scale.px_per_ns()).clamp(-9.0e18, 9.0e18) as i64;
        let span = self.view.1.saturating_sub(self.view.0);
        let start = self.view.0.saturating_add(shift);
        self.view = (start, start.saturating_add(span));
        self.view_set = true;
        Ok(())
    }

    fn layout(&self) -> Layout {
        let model = self.model.as_ref();
        let values = self.spec.mode == Mode::Values;
        let n_lanes = model.map_or(1, |m| m.n_lanes()).max(1);
        let longest = model.map_or(0, |m| {
            m.lane_labels
                .iter()
                .map(|l| l.chars().count())
                .max()
                .unwrap_or(0)
        });
        let left = if values {
            56.0
        } else {
            (longest as f64 * LABEL_CHAR_PX + 16.0).clamp(40.0, 220.0)
        };
        let legend_chars = model.map_or(0, |m| {
            m.legend
                .iter()
                .map(|(l, _)| l.chars().count())
                .max()
                .unwrap_or(0)
        });
        let has_legend = model.is_some_and(|m| !m.legend.is_empty()) || (values && n_lanes > 1);
        let legend_chars = if values && n_lanes > 1 {
            legend_chars.max(longest)
        } else {
            legend_chars
        };
        let right = if has_legend {
            (legend_chars as f64 * LABEL_CHAR_PX + 34.0).clamp(60.0, 200.0)
        } else {
            16.0
        };
        let plot = Rect {
            x: left,
            y: TITLE_H,
            w: (self.css_w - left - right).max(10.0),
            h: (self.css_h - TITLE_H - AXIS_H).max(10.0),
        };
        Layout {
            plot,
            lane_h: if values {
                plot.h
            } else {
                plot.h / n_lanes as f64
            },
            legend_x: has_legend.then(|| plot.right() + 14.0),
            label_chars: ((left - 12.0) / LABEL_CHAR_PX).floor().max(3.0) as usize,
        }
    }

    fn css_scale(&self) -> TimeScale {
        let plot = self.layout().plot;
        TimeScale::new(self.view.0, self.view.1, plot.x, plot.right())
    }

    fn value_scale(&self, model: &Model, plot: Rect) -> LinearScale {
        value_scale(self.spec.value_kind.unwrap_or_default(), model, plot)
    }

    /// The CSS x position of a time (ms).
    pub fn ms_to_x(&self, ms: f64) -> f64 {
        self.css_scale().x(ms_to_ns(ms))
    }

    /// The time (ms) at a CSS x position.
    pub fn x_to_ms(&self, css_x: f64) -> f64 {
        ns_to_ms(self.css_scale().t(css_x))
    }

    /// Draws the chart into the pixel buffer and returns the texts and geometry.
    pub fn render(&mut self) -> Result<Frame, RenderError> {
        self.ensure_model()?;
        let th = *theme::theme(self.dark);
        let layout = self.layout();
        let model = self.model.as_ref().expect("ensured");
        let dpr = self.dpr;
        let plot = layout.plot;
        let dev = |r: Rect| (r.x * dpr, r.y * dpr, r.right() * dpr, r.bottom() * dpr);
        let (px0, py0, px1, py1) = dev(plot);
        let raster = &mut self.raster;
        raster.reset_clip();
        raster.clear(th.background);
        let mut frame = Frame {
            plot,
            ..Frame::default()
        };
        let values_mode = self.spec.mode == Mode::Values;

        // Title.
        if let Some(title) = self.spec.title.as_deref().filter(|t| !t.is_empty()) {
            let max_chars = (self.css_w / 7.5).max(8.0) as usize;
            frame.texts.push(text(
                self.css_w / 2.0,
                8.0,
                fit_label(title, max_chars),
                Align::Center,
                Baseline::Top,
                th.text,
                TITLE_FONT,
            ));
        }

        // Lane bands and labels.
        if !values_mode {
            for (l, label) in model.lane_labels.iter().enumerate() {
                let y = plot.y + l as f64 * layout.lane_h;
                if l % 2 == 1 {
                    raster.fill_rect(px0, y * dpr, px1, (y + layout.lane_h) * dpr, th.lane_shade);
                }
                frame.lanes.push(LaneFrame {
                    label: label.clone(),
                    y,
                    h: layout.lane_h,
                });
                if layout.lane_h >= 9.0 || l % ((9.0 / layout.lane_h).ceil() as usize).max(1) == 0 {
                    frame.texts.push(text(
                        plot.x - 8.0,
                        y + layout.lane_h / 2.0,
                        fit_label(label, layout.label_chars),
                        Align::Right,
                        Baseline::Middle,
                        th.text,
                        LABEL_FONT,
                    ));
                }
            }
        }

        // Time axis: grid lines, tick marks and labels.
        let scale_css = TimeScale::new(self.view.0, self.view.1, plot.x, plot.right());
        let scale = TimeScale::new(self.view.0, self.view.1, px0, px1);
        let ticks = time_ticks(self.view.0, self.view.1, plot.w);
        for t in &ticks.ticks {
            let x = scale_css.x(t.ns);
            raster.fill_rect(x * dpr - 0.5 * dpr, py0, x * dpr + 0.5 * dpr, py1, th.grid);
            raster.fill_rect(
                x * dpr - 0.5 * dpr,
                py1,
                x * dpr + 0.5 * dpr,
                py1 + 4.0 * dpr,
                th.axis,
            );
            frame.texts.push(text(
                x,
                plot.bottom() + 6.0,
                t.label.clone(),
                Align::Center,
                Baseline::Top,
                th.text,
                LABEL_FONT,
            ));
            frame.ticks.push(TickFrame {
                x,
                label: t.label.clone(),
            });
        }
        if let Some(context) = &ticks.context {
            frame.texts.push(text(
                plot.x,
                plot.bottom() + 22.0,
                context.clone(),
                Align::Left,
                Baseline::Top,
                th.muted_text,
                SMALL_FONT,
            ));
        }
        raster.fill_rect(px0, py1 - 0.5 * dpr, px1, py1 + 0.5 * dpr, th.axis);
        raster.fill_rect(px0 - 0.5 * dpr, py0, px0 + 0.5 * dpr, py1, th.axis);

        // Marks.
        raster.set_clip(px0, py0, px1, py1);
        let ctx = DrawContext {
            model,
            scale: &scale,
            dpr,
            theme: &th,
            selection: &self.selection,
            view: self.view,
        };
        match self.spec.mode {
            Mode::Events => {
                for lane in 0..model.n_lanes() {
                    let cy = (plot.y + (lane as f64 + 0.5) * layout.lane_h) * dpr;
                    let r = (self.spec.marker_size / 2.0)
                        .min(layout.lane_h * 0.45)
                        .max(1.5)
                        * dpr;
                    draw_lane_marks(raster, &ctx, lane, cy, r, MARK_ALPHA);
                }
            }
            Mode::Duration => {
                for lane in 0..model.n_lanes() {
                    let top = (plot.y + lane as f64 * layout.lane_h) * dpr;
                    let h = layout.lane_h * dpr;
                    let (b0, b1) = (top + h * 0.35, top + h * 0.65);
                    if model.duration_rows() {
                        draw_duration_rows(raster, &ctx, lane, b0, b1);
                    } else {
                        let range = model.lane_range(lane);
                        if !range.is_empty() {
                            let color = model.lane_colors[lane]
                                .resolve(&th)
                                .with_alpha(DURATION_ALPHA);
                            let (x0, x1) = (
                                scale.x(model.time[range.start]),
                                scale.x(model.time[range.end - 1]),
                            );
                            raster.fill_rect(x0, b0, x1.max(x0 + dpr), b1, color);
                        }
                        let r = (DURATION_MARK_SIZE / 2.0)
                            .min(layout.lane_h * 0.45)
                            .max(1.5)
                            * dpr;
                        draw_lane_marks(raster, &ctx, lane, top + h / 2.0, r, MARK_ALPHA);
                    }
                }
            }
            Mode::Values => {
                let vscale = value_scale(self.spec.value_kind.unwrap_or_default(), model, plot);
                let vdev = LinearScale::new(vscale.domain().0, vscale.domain().1, py1, py0);
                raster.reset_clip();
                for t in numeric_ticks(
                    vscale.domain().0,
                    vscale.domain().1,
                    (plot.h / 40.0).max(2.0) as usize,
                ) {
                    let y = vscale.y(t.value);
                    raster.fill_rect(px0, y * dpr - 0.5 * dpr, px1, y * dpr + 0.5 * dpr, th.grid);
                    frame.texts.push(text(
                        plot.x - 6.0,
                        y,
                        t.label,
                        Align::Right,
                        Baseline::Middle,
                        th.text,
                        LABEL_FONT,
                    ));
                }
                if let Some(col) = &self.spec.value_column {
                    frame.texts.push(Text {
                        angle: -std::f64::consts::FRAC_PI_2,
                        ..text(
                            12.0,
                            plot.y + plot.h / 2.0,
                            fit_label(col, 40),
                            Align::Center,
                            Baseline::Middle,
                            th.muted_text,
                            SMALL_FONT,
                        )
                    });
                }
                raster.set_clip(px0, py0, px1, py1);
                let kind = self.spec.value_kind.unwrap_or_default();
                let r = (self.spec.marker_size / 4.0).max(1.0) * dpr;
                for lane in 0..model.n_lanes() {
                    draw_values(raster, &ctx, lane, &vdev, kind, r);
                }
            }
        }

        // Reference markers: every line is drawn; labels go to the first row where they do not
        // overlap a label to their left, and a label that finds no free row is left out (its line
        // stays) rather than drawn over another one.
        raster.set_clip(px0, py0, px1, py1);
        let label_rows =
            ((plot.h - 6.0) / MARKER_LABEL_ROW).clamp(1.0, MAX_MARKER_LABEL_ROWS as f64) as usize;
        let mut row_ends = vec![f64::NEG_INFINITY; label_rows];
        let mut visible: Vec<(f64, &str)> = Vec::with_capacity(self.spec.ref_markers.len());
        for m in &self.spec.ref_markers {
            let x = scale_css.x(ms_to_ns(m.time_ms));
            if x < plot.x || x > plot.right() {
                continue;
            }
            raster.vline_dashed(
                x * dpr,
                py0,
                py1,
                Dash {
                    width: 1.5 * dpr,
                    on: 6.0 * dpr,
                    off: 4.0 * dpr,
                },
                th.reference.with_alpha(220),
            );
            if !m.label.is_empty() {
                visible.push((x, &m.label));
            }
        }
        visible.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (x, label) in visible {
            let label = format!("< {}", fit_label(label, 60));
            let width = estimated_small_text_width(&label);
            let Some(row) = row_ends.iter().position(|&end| end + 4.0 <= x) else {
                continue;
            };
            row_ends[row] = x + 3.0 + width;
            frame.texts.push(text(
                x + 3.0,
                plot.y + 3.0 + row as f64 * MARKER_LABEL_ROW,
                label,
                Align::Left,
                Baseline::Top,
                th.reference,
                SMALL_FONT,
            ));
        }
        raster.reset_clip();

        // Legend (colour categories, data sets, or value series).
        if let Some(lx) = layout.legend_x {
            let entries: Vec<(String, Rgba)> = if model.legend.is_empty() {
                model
                    .lane_labels
                    .iter()
                    .zip(&model.lane_colors)
                    .map(|(l, c)| (l.clone(), c.resolve(&th)))
                    .collect()
            } else {
                model
                    .legend
                    .iter()
                    .map(|(l, c)| (l.clone(), c.resolve(&th)))
                    .collect()
            };
            let max_chars = ((self.css_w - lx - 18.0) / LABEL_CHAR_PX).max(3.0) as usize;
            let fits = ((plot.h - 4.0) / 16.0).floor().max(1.0) as usize;
            for (i, (label, color)) in entries.iter().enumerate() {
                let y = plot.y + 4.0 + i as f64 * 16.0;
                if i + 1 == fits && entries.len() > fits {
                    frame.texts.push(text(
                        lx,
                        y + 5.0,
                        format!("… {} more", entries.len() - i),
                        Align::Left,
                        Baseline::Middle,
                        th.muted_text,
                        SMALL_FONT,
                    ));
                    break;
                }
                raster.fill_rect(
                    lx * dpr,
                    y * dpr,
                    (lx + 10.0) * dpr,
                    (y + 10.0) * dpr,
                    *color,
                );
                frame.texts.push(text(
                    lx + 14.0,
                    y + 5.0,
                    fit_label(label, max_chars),
                    Align::Left,
                    Baseline::Middle,
                    th.text,
                    LABEL_FONT,
                ));
            }
        }

        if model.time.is_empty() {
            frame.texts.push(text(
                plot.x + plot.w / 2.0,
                plot.y + plot.h / 2.0,
                "No data to plot.",
                Align::Center,
                Baseline::Middle,
                th.muted_text,
                LABEL_FONT,
            ));
        }
        Ok(frame)
    }

    /// The pixels of the last render (device pixels, RGBA, row-major).
    pub fn pixels(&self) -> &[u8] {
        self.raster.pixels()
    }

    /// Width of the pixel buffer in device pixels.
    pub fn pixel_width(&self) -> usize {
        self.raster.width()
    }

    /// Height of the pixel buffer in device pixels.
    pub fn pixel_height(&self) -> usize {
        self.raster.height()
    }

    fn overview_domain_of(&self) -> (i64, i64) {
        let (lo, hi) = self.data_extent();
        let pad = ((hi as i128 - lo as i128) * 15 / 100) as i64;
        let pad = if pad <= 0 { 60_000_000_000 } else { pad };
        (lo.saturating_sub(pad), hi.saturating_add(pad))
    }

    /// Draws the density strip of all data (data extent plus 15 % each side) into the overview
    /// buffer; its plot spans the same x extent as the main plot at the same width.
    pub fn render_overview(
        &mut self,
        css_width: f64,
        css_height: f64,
        dpr: f64,
    ) -> Result<OverviewFrame, RenderError> {
        if !(css_width.is_finite() && css_height.is_finite() && css_width > 0.0 && css_height > 0.0)
        {
            return Err(RenderError::Argument(format!(
                "overview size {css_width} x {css_height} is not a positive size"
            )));
        }
        self.ensure_model()?;
        let dpr = if dpr.is_finite() && dpr > 0.0 {
            dpr.clamp(0.5, 4.0)
        } else {
            1.0
        };
        let css_width = css_width.min(crate::raster::MAX_SIDE as f64 / dpr);
        let css_height = css_height.min(crate::raster::MAX_SIDE as f64 / dpr);
        let th = *theme::theme(self.dark);
        let main = self.layout();
        let left = main.plot.x;
        let right = self.css_w - main.plot.right();
        let plot = Rect {
            x: left,
            y: 2.0,
            w: (css_width - left - right).max(10.0),
            h: (css_height - 4.0).max(4.0),
        };
        let domain = self.overview_domain_of();
        self.overview_plot = plot;
        self.overview_domain = domain;
        let (w, h) = (
            (css_width * dpr).round() as usize,
            (css_height * dpr).round() as usize,
        );
        if (w, h) != (self.overview.width(), self.overview.height()) {
            self.overview.resize(w, h);
        }
        let model = self.model.as_ref().expect("ensured");
        let raster = &mut self.overview;
        raster.reset_clip();
        raster.clear(th.background);
        let (px0, py0, px1, py1) = (
            plot.x * dpr,
            plot.y * dpr,
            plot.right() * dpr,
            plot.bottom() * dpr,
        );
        raster.fill_rect(px0, py0, px1, py1, th.lane_shade);
        raster.set_clip(px0, py0, px1, py1);
        let scale = TimeScale::new(domain.0, domain.1, px0, px1);
        let n_cols = (px1 - px0).ceil().max(1.0) as usize + 1;
        let col0 = px0.floor() as i64;
        let mut counts = vec![0u32; n_cols];
        if self.spec.mode == Mode::Values {
            let vdev = LinearScale::new(
                model.v_range.map_or(0.0, |r| r.0),
                model.v_range.map_or(1.0, |r| r.1),
                py1 - dpr,
                py0 + dpr,
            );
            let mut lo = vec![f64::INFINITY; n_cols];
            let mut hi = vec![f64::NEG_INFINITY; n_cols];
            for lane in 0..model.n_lanes() {
                lo.iter_mut().for_each(|v| *v = f64::INFINITY);
                hi.iter_mut().for_each(|v| *v = f64::NEG_INFINITY);
                for i in model.lane_range(lane) {
                    let c = scale.x(model.time[i]).floor() as i64 - col0;
                    if c >= 0 && (c as usize) < n_cols {
                        let y = vdev.y(model.value[i]);
                        lo[c as usize] = lo[c as usize].min(y);
                        hi[c as usize] = hi[c as usize].max(y);
                    }
                }
                let color = model.lane_colors[lane].resolve(&th).with_alpha(200);
                for c in 0..n_cols {
                    if lo[c] <= hi[c] {
                        let x = (col0 + c as i64) as f64;
                        raster.fill_rect(x, lo[c] - 0.5, x + 1.0, hi[c] + 0.5, color);
                    }
                }
            }
        } else {
            let band = (py1 - py0) / model.n_lanes().max(1) as f64;
            for lane in 0..model.n_lanes() {
                counts.iter_mut().for_each(|c| *c = 0);
                for i in model.lane_range(lane) {
                    let c = scale.x(model.time[i]).floor() as i64 - col0;
                    if c >= 0 && (c as usize) < n_cols {
                        counts[c as usize] += 1;
                    }
                }
                let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
                let color = model.lane_colors[lane].resolve(&th);
                let cy = py0 + (lane as f64 + 0.5) * band;
                let half = (band * 0.35).max(0.5 * dpr);
                for (c, &n) in counts.iter().enumerate() {
                    if n > 0 {
                        let a = 70.0 + 185.0 * (1.0 + n as f64).ln() / (1.0 + max).ln();
                        let x = (col0 + c as i64) as f64;
                        raster.fill_rect(
                            x,
                            cy - half,
                            x + 1.0,
                            cy + half,
                            color.with_alpha(a.min(255.0) as u8),
                        );
                    }
                }
            }
        }
        raster.reset_clip();
        Ok(OverviewFrame {
            plot,
            domain_ms: [ns_to_ms(domain.0), ns_to_ms(domain.1)],
        })
    }

    /// The overview pixels (device pixels, RGBA, row-major).
    pub fn overview_pixels(&self) -> &[u8] {
        self.overview.pixels()
    }

    /// Overview width in device pixels.
    pub fn overview_width(&self) -> usize {
        self.overview.width()
    }

    /// Overview height in device pixels.
    pub fn overview_height(&self) -> usize {
        self.overview.height()
    }

    fn overview_scale(&self) -> TimeScale {
        let p = self.overview_plot;
        let domain = if p.w > 0.0 {
            self.overview_domain
        } else {
            self.overview_domain_of()
        };
        TimeScale::new(domain.0, domain.1, p.x, p.right().max(p.x + 1.0))
    }

    /// The time (ms) at a CSS x position of the overview (after `render_overview`).
    pub fn overview_x_to_ms(&self, css_x: f64) -> f64 {
        ns_to_ms(self.overview_scale().t(css_x))
    }

    /// The overview CSS x position of a time (ms).
    pub fn ms_to_overview_x(&self, ms: f64) -> f64 {
        self.overview_scale().x(ms_to_ns(ms))
    }

    /// The event nearest to a CSS point within [`HIT_RADIUS`] (or the mark's radius when
    /// larger), or a duration bar under the point; `None` when there is none.
    pub fn hit_test(&mut self, css_x: f64, css_y: f64) -> Result<Option<usize>, RenderError> {
        self.ensure_model()?;
        if !(css_x.is_finite() && css_y.is_finite()) {
            return Ok(None);
        }
        let layout = self.layout();
        let plot = layout.plot;
        let model = self.model.as_ref().expect("ensured");
        let radius = match self.spec.mode {
            Mode::Events => HIT_RADIUS.max((self.spec.marker_size / 2.0).min(layout.lane_h * 0.45)),
            _ => HIT_RADIUS,
        };
        if css_x < plot.x - radius
            || css_x > plot.right() + radius
            || css_y < plot.y - radius
            || css_y > plot.bottom() + radius
        {
            return Ok(None);
        }
        let scale = TimeScale::new(self.view.0, self.view.1, plot.x, plot.right());
        let t = scale.t(css_x);
        let mut best: Option<(f64, usize)> = None;
        let mut consider = |d: f64, id: usize| {
            if d <= radius && best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, id));
            }
        };
        match (self.spec.mode, model.duration_rows()) {
            (Mode::Events, _) | (Mode::Duration, false) => {
                for lane in 0..model.n_lanes() {
                    let dy = (plot.y + (lane as f64 + 0.5) * layout.lane_h - css_y).abs();
                    if dy > radius {
                        continue;
                    }
                    // All marks of a lane share y, so the nearest is next to the pointer's time.
                    let r = model.lane_range(lane);
                    let k = r.start + model.time[r.clone()].partition_point(|&x| x < t);
                    for id in [k.wrapping_sub(1), k] {
                        if id >= r.start && id < r.end {
                            let dx = scale.x(model.time[id]) - css_x;
                            consider((dx * dx + dy * dy).sqrt(), id);
                        }
                    }
                }
            }
            (Mode::Duration, true) => {
                let slack = scale.ns_for_px(radius);
                for lane in 0..model.n_lanes() {
                    let top = plot.y + lane as f64 * layout.lane_h;
                    let (b0, b1) = (top + layout.lane_h * 0.35, top + layout.lane_h * 0.65);
                    let dy = if css_y < b0 {
                        b0 - css_y
                    } else if css_y > b1 {
                        css_y - b1
                    } else {
                        0.0
                    };
                    if dy > radius {
                        continue;
                    }
                    let r = model.lane_range(lane);
                    let limit = t
                        .saturating_sub(slack)
                        .saturating_sub(model.lane_max_duration[lane]);
                    let mut k = r.start
                        + model.time[r.clone()].partition_point(|&x| x <= t.saturating_add(slack));
                    let mut scanned = 0;
                    while k > r.start && scanned < MAX_HIT_SCAN {
                        k -= 1;
                        scanned += 1;
                        if model.time[k] < limit {
                            break;
                        }
                        let (x0, x1) = (scale.x(model.time[k]), scale.x(model.end[k]));
                        let dx = if css_x < x0 {
                            x0 - css_x
                        } else if css_x > x1 {
                            css_x - x1
                        } else {
                            0.0
                        };
                        consider((dx * dx + dy * dy).sqrt(), k);
                    }
                }
            }
            (Mode::Values, _) => {
                let vscale = self.value_scale(model, plot);
                let (t0, t1) = (scale.t(css_x - radius), scale.t(css_x + radius));
                for lane in 0..model.n_lanes() {
                    let r = model.lane_range(lane);
                    let times = &model.time[r.clone()];
                    let mid = r.start + times.partition_point(|&x| x < t);
                    let lo = r.start + times.partition_point(|&x| x < t0);
                    let hi = r.start + times.partition_point(|&x| x <= t1);
                    let left = (lo..mid).rev().take(MAX_HIT_SCAN);
                    let right = (mid..hi).take(MAX_HIT_SCAN);
                    for id in left.chain(right) {
                        let dx = scale.x(model.time[id]) - css_x;
                        let dy = vscale.y(model.value[id]) - css_y;
                        consider((dx * dx + dy * dy).sqrt(), id);
                    }
                }
            }
        }
        Ok(best.map(|(_, id)| id))
    }

    /// Tooltip content of an event id returned by [`TimelineChart::hit_test`].
    pub fn tooltip(&mut self, id: usize) -> Result<Tooltip, RenderError> {
        self.ensure_model()?;
        let model = self.model.as_ref().expect("ensured");
        if id >= model.time.len() {
            return Err(RenderError::Argument(format!(
                "event id {id} is out of range ({} events)",
                model.time.len()
            )));
        }
        let (d, row) = model.dataset_row(id);
        let ds = &self.spec.datasets[d];
        let table = self.tables[d].as_ref().expect("prepared tables exist");
        let mut columns: Vec<&str> = vec![&ds.time_column];
        columns.extend(ds.source_columns.iter().map(String::as_str));
        let extra = [
            self.spec.lane_column(ds),
            self.spec.color_by.as_deref(),
            self.spec.value_column.as_deref(),
            self.spec.start_column.as_deref(),
            self.spec.end_column.as_deref(),
        ];
        columns.extend(extra.into_iter().flatten());
        let mut fields = Vec::new();
        for c in columns {
            if fields.iter().any(|(n, _): &(String, String)| n == c) || !table.has_column(c) {
                continue;
            }
            let value = table.display(c, row).map_err(|source| RenderError::Data {
                dataset: ds.name.clone(),
                source,
            })?;
            fields.push((c.to_string(), value));
        }
        Ok(Tooltip {
            dataset: ds.name.clone(),
            row,
            lane: model.lane_labels[model.lane_of(id)].clone(),
            fields,
        })
    }

    /// Selects the event under a point (toggling it when `additive`); a click on nothing clears
    /// the selection unless `additive`.
    pub fn select_at(&mut self, css_x: f64, css_y: f64, additive: bool) -> Result<(), RenderError> {
        let hit = self.hit_test(css_x, css_y)?;
        match hit {
            Some(id) if additive => {
                let on = !self.selection.contains(id);
                self.selection.set(id, on);
            }
            Some(id) => {
                self.selection.clear();
                self.selection.set(id, true);
            }
            None if !additive => self.selection.clear(),
            None => {}
        }
        Ok(())
    }

    /// Selects the events whose marks lie in a CSS rectangle (adding to the selection when
    /// `additive`); in duration-row mode, the bars that intersect it.
    pub fn select_box(
        &mut self,
        x0: f64,
        y0: f64,
        x1: f64,
        y1: f64,
        additive: bool,
    ) -> Result<(), RenderError> {
        self.ensure_model()?;
        if ![x0, y0, x1, y1].iter().all(|v| v.is_finite()) {
            return Err(RenderError::Argument(
                "selection box has a non-finite corner".into(),
            ));
        }
        let (xa, xb) = (x0.min(x1), x0.max(x1));
        let (ya, yb) = (y0.min(y1), y0.max(y1));
        if !additive {
            self.selection.clear();
        }
        let layout = self.layout();
        let plot = layout.plot;
        let model = self.model.as_ref().expect("ensured");
        let scale = TimeScale::new(self.view.0, self.view.1, plot.x, plot.right());
        let (t0, t1) = (scale.t(xa), scale.t(xb));
        let mut chosen: Vec<usize> = Vec::new();
        match self.spec.mode {
            Mode::Values => {
                let vscale = self.value_scale(model, plot);
                for lane in 0..model.n_lanes() {
                    for id in model.visible(lane, t0, t1) {
                        let y = vscale.y(model.value[id]);
                        if y >= ya && y <= yb {
                            chosen.push(id);
                        }
                    }
                }
            }
            _ if model.duration_rows() => {
                for lane in 0..model.n_lanes() {
                    let top = plot.y + lane as f64 * layout.lane_h;
                    let (b0, b1) = (top + layout.lane_h * 0.35, top + layout.lane_h * 0.65);
                    if b1 < ya || b0 > yb {
                        continue;
                    }
                    let from = t0.saturating_sub(model.lane_max_duration[lane]);
                    for id in model.visible(lane, from, t1) {
                        if model.end[id] >= t0 {
                            chosen.push(id);
                        }
                    }
                }
            }
            _ => {
                for lane in 0..model.n_lanes() {
                    let cy = plot.y + (lane as f64 + 0.5) * layout.lane_h;
                    if cy >= ya && cy <= yb {
                        chosen.extend(model.visible(lane, t0, t1));
                    }
                }
            }
        }
        for id in chosen {
            self.selection.set(id, true);
        }
        Ok(())
    }

    /// Clears the selection.
    pub fn clear_selection(&mut self) {
        self.selection.clear();
    }

    /// Number of selected events.
    pub fn selected_count(&self) -> usize {
        self.selection.count
    }

    /// The selected rows per data set (every data set is listed; rows ascending).
    pub fn selection(&self) -> Vec<(String, Vec<usize>)> {
        let mut out: Vec<(String, Vec<usize>)> = self
            .spec
            .datasets
            .iter()
            .map(|d| (d.name.clone(), Vec::new()))
            .collect();
        if let Some(model) = &self.model {
            if self.selection.count > 0 {
                for (w, word) in self.selection.bits.iter().enumerate() {
                    let mut bits = *word;
                    while bits != 0 {
                        let id = w * 64 + bits.trailing_zeros() as usize;
                        bits &= bits - 1;
                        let (d, row) = model.dataset_row(id);
                        out[d].1.push(row);
                    }
                }
                out.iter_mut().for_each(|(_, rows)| rows.sort_unstable());
            }
        }
        out
    }
}

/// The value axis of values mode: the data range padded 8 % (bars always include zero).
fn value_scale(kind: ValueKind, model: &Model, plot: Rect) -> LinearScale {
    let (mut lo, mut hi) = model.v_range.unwrap_or((0.0, 1.0));
    if kind == ValueKind::Bar {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    let pad = if hi > lo { (hi - lo) * 0.08 } else { 1.0 };
    LinearScale::new(lo - pad, hi + pad, plot.bottom(), plot.y)
}

/// What the per-lane drawing functions share.
struct DrawContext<'a> {
    model: &'a Model,
    scale: &'a TimeScale,
    dpr: f64,
    theme: &'a Theme,
    selection: &'a Selection,
    view: (i64, i64),
}

/// Per-column accumulation of marks of one lane (reused buffers).
struct Columns {
    first: i64,
    count: Vec<u32>,
    /// Per column, marks composited in drawing order: premultiplied red, green, blue and the
    /// remaining transmittance (what overdrawing them one by one would leave).
    paint: Vec<[f32; 4]>,
    selected: Vec<u32>,
}

impl Columns {
    fn new(ctx: &DrawContext, pad_px: f64) -> Columns {
        let (x0, x1) = ctx.scale.range();
        let first = (x0 - pad_px).floor() as i64 - 1;
        let n = ((x1 + pad_px).ceil() as i64 - first + 2).max(1) as usize;
        Columns {
            first,
            count: vec![0; n],
            paint: Vec::new(),
            selected: vec![0; n],
        }
    }

    fn index(&self, x: f64) -> Option<usize> {
        let c = x.floor() as i64 - self.first;
        (c >= 0 && (c as usize) < self.count.len()).then_some(c as usize)
    }
}

/// Draws a lane's visible events as diamonds, one per device-pixel column.
fn draw_lane_marks(
    raster: &mut Raster,
    ctx: &DrawContext,
    lane: usize,
    cy: f64,
    r: f64,
    alpha: u8,
) {
    let model = ctx.model;
    let pad = ctx.scale.ns_for_px(r + 1.0);
    let range = model.visible(
        lane,
        ctx.view.0.saturating_sub(pad),
        ctx.view.1.saturating_add(pad),
    );
    if range.is_empty() {
        return;
    }
    let mut cols = Columns::new(ctx, r + 1.0);
    let per_event_color = model.color.is_some();
    if per_event_color {
        cols.paint = vec![[0.0, 0.0, 0.0, 1.0]; cols.count.len()];
    }
    let a = alpha as f32 / 255.0;
    let any_selected = ctx.selection.count > 0;
    for id in range {
        let Some(c) = cols.index(ctx.scale.x(model.time[id])) else {
            continue;
        };
        cols.count[c] += 1;
        if per_event_color {
            // Painter's order with opacity a: the last marks dominate, as when overdrawn.
            let rgba = model.mark_color(id, lane).resolve(ctx.theme);
            let p = &mut cols.paint[c];
            p[0] = p[0] * (1.0 - a) + rgba.r as f32 * a;
            p[1] = p[1] * (1.0 - a) + rgba.g as f32 * a;
            p[2] = p[2] * (1.0 - a) + rgba.b as f32 * a;
            p[3] *= 1.0 - a;
        }
        if any_selected && ctx.selection.contains(id) {
            cols.selected[c] += 1;
        }
    }
    let lane_color = model.lane_colors[lane].resolve(ctx.theme);
    // The colour whose stacked opacity reproduces the composited column.
    let color_of = |c: usize| -> Rgba {
        if per_event_color {
            let p = cols.paint[c];
            let coverage = (1.0 - p[3]).max(1e-6);
            let ch = |v: f32| (v / coverage).round().clamp(0.0, 255.0) as u8;
            Rgba::rgb(ch(p[0]), ch(p[1]), ch(p[2]))
        } else {
            lane_color
        }
    };
    for c in 0..cols.count.len() {
        let n = cols.count[c];
        if n > 0 {
            let x = (cols.first + c as i64) as f64 + 0.5;
            raster.fill_diamond(x, cy, r, color_of(c).with_alpha(stacked_alpha(alpha, n)));
        }
    }
    if any_selected {
        for c in 0..cols.count.len() {
            if cols.selected[c] > 0 {
                let x = (cols.first + c as i64) as f64 + 0.5;
                raster.fill_diamond(x, cy, r + 1.5 * ctx.dpr, ctx.theme.selection);
                raster.fill_diamond(x, cy, r * 0.8, color_of(c));
            }
        }
    }
}

/// Draws a lane's row bars (duration mode with start and end columns) as column coverage.
fn draw_duration_rows(raster: &mut Raster, ctx: &DrawContext, lane: usize, b0: f64, b1: f64) {
    let model = ctx.model;
    let from = ctx.view.0.saturating_sub(model.lane_max_duration[lane]);
    let range = model.visible(lane, from, ctx.view.1);
    if range.is_empty() {
        return;
    }
    let cols = Columns::new(ctx, 2.0);
    let n = cols.count.len();
    let mut diff = vec![0i64; n + 1];
    let mut diff_sel = vec![0i64; n + 1];
    let any_selected = ctx.selection.count > 0;
    let clamp = |x: f64| ((x.floor() as i64 - cols.first).clamp(0, n as i64)) as usize;
    for id in range {
        if model.end[id] < ctx.view.0 {
            continue;
        }
        let c0 = clamp(ctx.scale.x(model.time[id]));
        let c1 = clamp(ctx.scale.x(model.end[id])).max(c0 + 1).min(n);
        if c0 >= n {
            continue;
        }
        diff[c0] += 1;
        diff[c1] -= 1;
        if any_selected && ctx.selection.contains(id) {
            diff_sel[c0] += 1;
            diff_sel[c1] -= 1;
        }
    }
    let color = model.lane_colors[lane].resolve(ctx.theme);
    let (mut cover, mut cover_sel) = (0i64, 0i64);
    for c in 0..n {
        cover += diff[c];
        cover_sel += diff_sel[c];
        let x = (cols.first + c as i64) as f64;
        if cover > 0 {
            raster.fill_rect(
                x,
                b0,
                x + 1.0,
                b1,
                color.with_alpha(stacked_alpha(
                    DURATION_ALPHA,
                    cover.min(u32::MAX as i64) as u32,
                )),
            );
        }
        if cover_sel > 0 {
            let edge = 2.0 * ctx.dpr;
            raster.fill_rect(x, b0 - edge, x + 1.0, b0, ctx.theme.selection);
            raster.fill_rect(x, b1, x + 1.0, b1 + edge, ctx.theme.selection);
        }
    }
}

/// Draws one values series: a min/max-per-column line, deduplicated dots, or column bars.
fn draw_values(
    raster: &mut Raster,
    ctx: &DrawContext,
    lane: usize,
    vdev: &LinearScale,
    kind: ValueKind,
    r: f64,
) {
    let model = ctx.model;
    let pad = ctx.scale.ns_for_px(r + 2.0);
    let range = model.visible(
        lane,
        ctx.view.0.saturating_sub(pad),
        ctx.view.1.saturating_add(pad),
    );
    let lane_range = model.lane_range(lane);
    let color = model.lane_colors[lane].resolve(ctx.theme);
    let cols = Columns::new(ctx, r + 2.0);
    let n = cols.count.len();
    let any_selected = ctx.selection.count > 0;
    match kind {
        ValueKind::Line => {
            // Extend by one point each side so the line leaves the view towards its neighbours.
            let start = range.start.saturating_sub(1).max(lane_range.start);
            let end = (range.end + 1).min(lane_range.end);
            let mut points: Vec<(f64, f64)> = Vec::new();
            let mut current: Option<(usize, f64, f64, f64, f64)> = None; // column, first, min, max, last
            let mut last_x = 0.0;
            let flush = |points: &mut Vec<(f64, f64)>,
                         cur: (usize, f64, f64, f64, f64),
                         last_x: f64,
                         first_x: f64| {
                let (_, first, lo, hi, last) = cur;
                points.push((first_x, first));
                if hi > lo {
                    points.push((first_x, lo));
                    points.push((first_x, hi));
                }
                points.push((last_x, last));
            };
            let mut first_x = 0.0;
            for id in start..end {
                let x = ctx.scale.x(model.time[id]).clamp(-1e7, 1e7);
                let y = vdev.y(model.value[id]);
                let c = x.floor() as i64 - cols.first;
                let c = c.clamp(-1, n as i64) as usize;
                match &mut current {
                    Some(cur) if cur.0 == c => {
                        cur.2 = cur.2.min(y);
                        cur.3 = cur.3.max(y);
                        cur.4 = y;
                        last_x = x;
                    }
                    _ => {
                        if let Some(cur) = current.take() {
                            flush(&mut points, cur, last_x, first_x);
                        }
                        current = Some((c, y, y, y, y));
                        first_x = x;
                        last_x = x;
                    }
                }
            }
            if let Some(cur) = current {
                flush(&mut points, cur, last_x, first_x);
            }
            raster.polyline(&points, 2.0 * ctx.dpr, color);
            if any_selected {
                for id in range {
                    if ctx.selection.contains(id) {
                        raster.fill_circle(
                            ctx.scale.x(model.time[id]),
                            vdev.y(model.value[id]),
                            r + 1.5 * ctx.dpr,
                            ctx.theme.selection,
                        );
                    }
                }
            }
        }
        ValueKind::Scatter => {
            // Draw each (column, pixel row) once: later dots there would only repeat it.
            let rows = raster.height().max(1);
            let mut drawn = vec![0u64; (n * rows).div_ceil(64)];
            for id in range {
                let x = ctx.scale.x(model.time[id]);
                let y = vdev.y(model.value[id]);
                let Some(c) = cols.index(x) else { continue };
                let selected = any_selected && ctx.selection.contains(id);
                let yr = y.floor();
                if !selected && yr >= 0.0 && (yr as usize) < rows {
                    let bit = c * rows + yr as usize;
                    if drawn[bit / 64] >> (bit % 64) & 1 == 1 {
                        continue;
                    }
                    drawn[bit / 64] |= 1 << (bit % 64);
                }
                if selected {
                    raster.fill_circle(x, y, r + 1.5 * ctx.dpr, ctx.theme.selection);
                }
                raster.fill_circle(x, y, r, color.with_alpha(200));
            }
        }
        ValueKind::Bar => {
            let mut lo = vec![f64::INFINITY; n];
            let mut hi = vec![f64::NEG_INFINITY; n];
            let mut sel = vec![false; n];
            for id in range {
                let Some(c) = cols.index(ctx.scale.x(model.time[id])) else {
                    continue;
                };
                lo[c] = lo[c].min(model.value[id]);
                hi[c] = hi[c].max(model.value[id]);
                if any_selected && ctx.selection.contains(id) {
                    sel[c] = true;
                }
            }
            let (d0, d1) = vdev.domain();
            let base = vdev.y(0.0f64.clamp(d0, d1));
            let half = (1.5 * ctx.dpr).max(0.5);
            for c in 0..n {
                if lo[c] > hi[c] {
                    continue;
                }
                let x = (cols.first + c as i64) as f64 + 0.5;
                let bar = if sel[c] {
                    ctx.theme.selection
                } else {
                    color.with_alpha(VALUE_BAR_ALPHA)
                };
                if hi[c] > 0.0 {
                    raster.fill_rect(x - half, vdev.y(hi[c]), x + half, base, bar);
                }
                if lo[c] < 0.0 {
                    raster.fill_rect(x - half, base, x + half, vdev.y(lo[c]), bar);
                }
                if hi[c] == 0.0 && lo[c] == 0.0 {
                    raster.fill_rect(x - half, base - 0.5, x + half, base + 0.5, bar);
                }
            }
        }
    }
}
