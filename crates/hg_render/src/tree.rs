//! The ProcessTree chart: a collapsible tree of processes (rows of `proctree.build`), laid out as
//! one line per visible process, rasterized for the visible window only.
//!
//! The input is the table `proctree.build` returns (any order; it needs `source_index` and
//! `parent_index`, and reads `IsPlaceholder` when present). The display order is a pre-order
//! walk (roots and children in table order), so every subtree is one contiguous range and
//! collapsing a node skips its range: the visible list costs O(visible lines) to rebuild and a
//! render O(lines on screen × depth). Text (names, ids, command lines, toggles) is returned as
//! [`TreeText`]s for the canvas text API; the pixels hold row bands, connectors and colour
//! markers.
//!
//! Limits: [`MAX_SPEC_BYTES`] of spec JSON, [`MAX_TREE_DEPTH`] levels of depth are drawn,
//! 16,384-pixel rasters, search queries of [`MAX_QUERY_CHARS`] characters.

use std::collections::HashMap;

use hg_arrow::{StringColumn, Table};
use serde::{Deserialize, Serialize};

use crate::raster::{Raster, Rgba};
use crate::theme::{palette, theme, viridis};
use crate::RenderError;

/// Largest spec accepted.
pub const MAX_SPEC_BYTES: usize = 1 << 20;
/// Deepest indentation drawn (deeper rows are drawn at this depth).
pub const MAX_TREE_DEPTH: usize = 1_000;
/// Longest search query.
pub const MAX_QUERY_CHARS: usize = 1_000;
/// Largest raster side in device pixels.
const MAX_SIDE: usize = 16_384;
/// Categories coloured individually; more distinct values than this use a value scale.
const MAX_CATEGORIES: usize = 12;
/// Characters of a command line shown on a line.
const MAX_CMD_CHARS: usize = 240;

const NONE: u32 = u32::MAX;
/// The data set name used in selections.
pub const DATASET: &str = "Processes";

/// The widget's options (traitlet `spec`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TreeSpec {
    /// Column of the process name or path (the last path element is shown).
    pub name_column: String,
    /// Column of the process id.
    pub id_column: Option<String>,
    /// Column of the command line.
    pub cmd_column: Option<String>,
    /// Column of the creation time.
    pub time_column: Option<String>,
    /// Column of the account.
    pub user_column: Option<String>,
    /// Column of the host.
    pub host_column: Option<String>,
    /// Colour the markers by this column (default: by depth).
    pub color_by: Option<String>,
    /// Columns listed in the hover details (default: name, id, command line, user, time, host).
    pub tooltip_columns: Option<Vec<String>>,
    /// Columns of the side table of visible processes.
    pub table_columns: Option<Vec<String>>,
    /// Show the side table.
    pub show_table: bool,
    /// Title above the tree.
    pub title: String,
    /// Height in CSS px (the host decides when null).
    pub height: Option<f64>,
    /// Width in CSS px.
    pub width: Option<f64>,
    /// Expand only this many levels at first (null: everything).
    pub expand_depth: Option<usize>,
    /// Search text the host puts in its search box at first (the chart ignores it).
    pub search: Option<String>,
    /// Options of `proctree.build` when the data set holds raw events that the host builds
    /// into a tree first (pages without a kernel); the chart ignores it.
    pub build: Option<serde_json::Value>,
}

impl Default for TreeSpec {
    fn default() -> Self {
        TreeSpec {
            name_column: "NewProcessName".into(),
            id_column: None,
            cmd_column: None,
            time_column: None,
            user_column: None,
            host_column: None,
            color_by: None,
            tooltip_columns: None,
            table_columns: None,
            show_table: false,
            title: "Process tree".into(),
            height: None,
            width: None,
            expand_depth: None,
            search: None,
            build: None,
        }
    }
}

/// One legend entry.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LegendEntry {
    /// The value.
    pub label: String,
    /// CSS colour.
    pub color: String,
}

/// Summary returned after loading.
#[derive(Debug, Clone, Serialize)]
pub struct TreeInfo {
    /// Rows (processes and placeholders).
    pub n_rows: usize,
    /// Roots.
    pub n_roots: usize,
    /// Deepest level (0 = roots).
    pub max_depth: usize,
    /// Lines visible with the current expansion.
    pub visible: usize,
    /// Colour legend (empty when colouring by depth with a value scale).
    pub legend: Vec<LegendEntry>,
    /// What the colours mean.
    pub color_title: String,
    /// Whether the colours are a value scale (low = dark purple, high = yellow).
    pub color_scale: bool,
}

/// A text to draw with the canvas text API (CSS px, baseline middle, left aligned).
#[derive(Debug, Clone, Serialize)]
pub struct TreeText {
    /// Left x.
    pub x: f64,
    /// Middle y.
    pub y: f64,
    /// The text.
    pub text: String,
    /// CSS colour.
    pub color: String,
    /// CSS font.
    pub font: String,
    /// `toggle`, `name` or `cmd` (the host draws a `cmd` right after the `name` before it).
    pub kind: &'static str,
}

/// One line on screen.
#[derive(Debug, Clone, Serialize)]
pub struct TreeLine {
    /// Table row.
    pub row: usize,
    /// Top y (CSS px).
    pub y: f64,
    /// Depth.
    pub depth: usize,
}

/// What a render drew.
#[derive(Debug, Clone, Serialize)]
pub struct TreeFrame {
    /// Texts to draw.
    pub texts: Vec<TreeText>,
    /// The lines on screen, top to bottom.
    pub lines: Vec<TreeLine>,
    /// Height of all visible lines (CSS px) at the current zoom.
    pub content_height: f64,
    /// Vertical scroll offset (CSS px).
    pub scroll_y: f64,
    /// Line height (CSS px).
    pub line_height: f64,
}

/// The id column, read on demand.
enum Ids {
    Text(StringColumn),
    Number(Vec<f64>),
    Absent,
}

impl Ids {
    fn text(&self, row: usize) -> Option<String> {
        match self {
            Ids::Text(c) => c.get(row).map(str::to_string),
            Ids::Number(v) => v.get(row).filter(|x| x.is_finite()).map(|x| {
                if x.fract() == 0.0 {
                    format!("{}", *x as i64)
                } else {
                    x.to_string()
                }
            }),
            Ids::Absent => None,
        }
    }
}

/// The process tree chart.
pub struct ProcessTreeChart {
    spec: TreeSpec,
    table: Table,
    names: StringColumn,
    ids: Ids,
    cmds: Option<StringColumn>,
    /// Table rows in display (pre-)order.
    order: Vec<u32>,
    /// Display position of each table row.
    pos: Vec<u32>,
    /// Per display position: parent position, depth, end of subtree, last child flag.
    parent: Vec<u32>,
    depth: Vec<u32>,
    end: Vec<u32>,
    last_child: Vec<bool>,
    placeholder: Vec<bool>,
    expanded: Vec<bool>,
    visible: Vec<u32>,
    visible_dirty: bool,
    matched: Vec<bool>,
    match_positions: Vec<u32>,
    match_cursor: Option<usize>,
    selected: Vec<bool>,
    colors: Vec<Rgba>,
    info_legend: Vec<LegendEntry>,
    color_title: String,
    color_scale: bool,
    dark: bool,
    raster: Raster,
    css_w: f64,
    css_h: f64,
    dpr: f64,
    zoom: f64,
    scroll_x: f64,
    scroll_y: f64,
    hover: Option<u32>,
    n_roots: usize,
    max_depth: usize,
}

fn column_error(e: hg_arrow::HgArrowError) -> RenderError {
    RenderError::Data {
        dataset: DATASET.into(),
        source: e,
    }
}

fn base_name(name: &str) -> &str {
    match name.rfind(['\\', '/']) {
        Some(i) if i + 1 < name.len() => &name[i + 1..],
        _ => name,
    }
}

fn contains_ci(haystack: &str, needle_lower: &str) -> bool {
    if haystack.is_ascii() && needle_lower.is_ascii() {
        let h = haystack.as_bytes();
        let n = needle_lower.as_bytes();
        if n.len() > h.len() {
            return false;
        }
        return h
            .windows(n.len())
            .any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b));
    }
    haystack.to_lowercase().contains(needle_lower)
}

impl ProcessTreeChart {
    /// A chart of the tree in `ipc` (the output of `proctree.build`) with the spec JSON.
    pub fn new(spec_json: &str, ipc: &[u8]) -> Result<ProcessTreeChart, RenderError> {
        if spec_json.len() > MAX_SPEC_BYTES {
            return Err(RenderError::Spec(format!(
                "spec of {} bytes (at most {MAX_SPEC_BYTES})",
                spec_json.len()
            )));
        }
        let spec: TreeSpec = if spec_json.trim().is_empty() {
            TreeSpec::default()
        } else {
            serde_json::from_str(spec_json)
                .map_err(|e| RenderError::Spec(format!("process tree spec: {e}")))?
        };
        let table = hg_arrow::read_ipc_stream(ipc).map_err(column_error)?;
        let n = table.num_rows();
        if n >= NONE as usize {
            return Err(RenderError::Limit(format!("{n} rows is too many")));
        }
        let names = table.strings(&spec.name_column).map_err(column_error)?;
        // Ids are read on demand (only the lines on screen and searches need them).
        let ids = match &spec.id_column {
            Some(c) => match table.strings(c) {
                Ok(col) => Ids::Text(col),
                Err(_) => Ids::Number(table.numbers_f64(c).map_err(column_error)?),
            },
            None => Ids::Absent,
        };
        let cmds = match &spec.cmd_column {
            Some(c) => Some(table.strings(c).map_err(column_error)?),
            None => None,
        };
        for c in [
            &spec.time_column,
            &spec.user_column,
            &spec.host_column,
            &spec.color_by,
        ]
        .into_iter()
        .flatten()
        .chain(spec.tooltip_columns.iter().flatten())
        .chain(spec.table_columns.iter().flatten())
        {
            table.data_type(c).map_err(column_error)?;
        }
        let source = table.numbers_f64("source_index").map_err(column_error)?;
        let parent_source = table.numbers_f64("parent_index").map_err(column_error)?;
        let placeholder_rows: Vec<bool> = if table.has_column("IsPlaceholder") {
            let cats = table.categorize("IsPlaceholder").map_err(column_error)?;
            let yes: Vec<bool> = cats.labels.iter().map(|l| l == "true").collect();
            cats.codes.iter().map(|&c| yes[c as usize]).collect()
        } else {
            vec![false; n]
        };

        // Parent row of each row, from the source indexes.
        let mut row_of_source: HashMap<u64, u32> = HashMap::with_capacity(n);
        for (r, s) in source.iter().enumerate() {
            if s.is_finite() && *s >= 0.0 {
                row_of_source.entry(*s as u64).or_insert(r as u32);
            }
        }
        let parent_row: Vec<u32> = parent_source
            .iter()
            .enumerate()
            .map(|(r, p)| {
                if p.is_finite() && *p >= 0.0 {
                    match row_of_source.get(&(*p as u64)) {
                        Some(&q) if q as usize != r => q,
                        _ => NONE,
                    }
                } else {
                    NONE
                }
            })
            .collect();
        // Children in table order (CSR), then a pre-order walk from the roots.
        let mut counts = vec![0u32; n + 1];
        for &p in &parent_row {
            if p != NONE {
                counts[p as usize] += 1;
            }
        }
        let mut start = vec![0u32; n + 1];
        for i in 0..n {
            start[i + 1] = start[i] + counts[i];
        }
        let mut fill = start.clone();
        let mut kids = vec![0u32; start[n] as usize];
        let mut roots = Vec::new();
        for (r, &p) in parent_row.iter().enumerate() {
            if p == NONE {
                roots.push(r as u32);
            } else {
                kids[fill[p as usize] as usize] = r as u32;
                fill[p as usize] += 1;
            }
        }
        let mut order = Vec::with_capacity(n);
        let mut pos = vec![NONE; n];
        let mut depth_pos = Vec::with_capacity(n);
        let mut parent_pos = Vec::with_capacity(n);
        let mut last_child = Vec::with_capacity(n);
        let mut stack: Vec<(u32, u32, bool)> = roots.iter().rev().map(|&r| (r, 0, false)).collect();
        if let Some(first) = stack.first_mut() {
            first.2 = true; // the last root
        }
        while let Some((r, d, last)) = stack.pop() {
            pos[r as usize] = order.len() as u32;
            order.push(r);
            depth_pos.push(d);
            let p = parent_row[r as usize];
            parent_pos.push(if p == NONE { NONE } else { pos[p as usize] });
            last_child.push(last);
            let ks = &kids[start[r as usize] as usize..start[r as usize + 1] as usize];
            for (i, &k) in ks.iter().enumerate().rev() {
                stack.push((k, d + 1, i + 1 == ks.len()));
            }
        }
        // Rows in a parent cycle are unreachable from a root: show them as roots at the end.
        for (r, slot) in pos.iter_mut().enumerate() {
            if *slot == NONE {
                *slot = order.len() as u32;
                order.push(r as u32);
                depth_pos.push(0);
                parent_pos.push(NONE);
                last_child.push(true);
            }
        }
        let mut end = vec![0u32; n];
        for i in (0..n).rev() {
            let e = (i as u32 + 1).max(end[i]);
            end[i] = e;
            let p = parent_pos[i];
            if p != NONE && end[p as usize] < e {
                end[p as usize] = e;
            }
        }
        let max_depth = depth_pos.iter().copied().max().unwrap_or(0) as usize;
        let expanded = depth_pos
            .iter()
            .map(|&d| spec.expand_depth.is_none_or(|x| (d as usize) < x))
            .collect();
        let placeholder = order
            .iter()
            .map(|&r| placeholder_rows[r as usize])
            .collect();
        let mut chart = ProcessTreeChart {
            names,
            ids,
            cmds,
            order,
            pos,
            parent: parent_pos,
            depth: depth_pos,
            end,
            last_child,
            placeholder,
            expanded,
            visible: Vec::new(),
            visible_dirty: true,
            matched: vec![false; n],
            match_positions: Vec::new(),
            match_cursor: None,
            selected: vec![false; n],
            colors: Vec::new(),
            info_legend: Vec::new(),
            color_title: String::new(),
            color_scale: false,
            dark: false,
            raster: Raster::new(0, 0),
            css_w: 0.0,
            css_h: 0.0,
            dpr: 1.0,
            zoom: 1.0,
            scroll_x: 0.0,
            scroll_y: 0.0,
            hover: None,
            n_roots: roots.len(),
            max_depth,
            spec,
            table,
        };
        chart.compute_colors()?;
        Ok(chart)
    }

    fn compute_colors(&mut self) -> Result<(), RenderError> {
        let n = self.order.len();
        let missing = theme(self.dark).missing;
        let Some(column) = self.spec.color_by.clone() else {
            let max = self.max_depth.max(1) as f64;
            self.colors = (0..n)
                .map(|p| viridis(self.depth[p] as f64 / max * 0.85))
                .collect();
            self.color_title = "depth".into();
            self.color_scale = true;
            self.info_legend = (0..=self.max_depth.min(8))
                .map(|d| LegendEntry {
                    label: format!("level {d}"),
                    color: viridis(d as f64 / max * 0.85).css(),
                })
                .collect();
            return Ok(());
        };
        let cats = self.table.categorize(&column).map_err(column_error)?;
        let real = cats.labels.len() - usize::from(cats.missing.is_some());
        let numeric =
            self.table.numbers_f64(&column).is_ok() || self.table.times_ns(&column).is_ok();
        self.color_title = column;
        if real > MAX_CATEGORIES && numeric {
            // A value scale over the sorted distinct values.
            let denom = (real.max(2) - 1) as f64;
            self.colors = self
                .order
                .iter()
                .map(|&r| {
                    let c = cats.codes[r as usize];
                    if Some(c) == cats.missing {
                        missing
                    } else {
                        viridis(c as f64 / denom)
                    }
                })
                .collect();
            self.color_scale = true;
            self.info_legend = vec![
                LegendEntry {
                    label: cats.labels[0].clone(),
                    color: viridis(0.0).css(),
                },
                LegendEntry {
                    label: cats.labels[real - 1].clone(),
                    color: viridis(1.0).css(),
                },
            ];
        } else {
            let pal = palette(real.max(1));
            self.colors = self
                .order
                .iter()
                .map(|&r| {
                    let c = cats.codes[r as usize];
                    if Some(c) == cats.missing {
                        missing
                    } else {
                        pal[c as usize % pal.len()]
                    }
                })
                .collect();
            self.color_scale = false;
            self.info_legend = cats
                .labels
                .iter()
                .enumerate()
                .take(64)
                .map(|(i, l)| LegendEntry {
                    label: l.clone(),
                    color: if Some(i as u32) == cats.missing {
                        missing.css()
                    } else {
                        pal[i % pal.len()].css()
                    },
                })
                .collect();
        }
        Ok(())
    }

    /// Summary of the loaded tree.
    pub fn info(&mut self) -> TreeInfo {
        self.refresh_visible();
        TreeInfo {
            n_rows: self.order.len(),
            n_roots: self.n_roots,
            max_depth: self.max_depth,
            visible: self.visible.len(),
            legend: self.info_legend.clone(),
            color_title: self.color_title.clone(),
            color_scale: self.color_scale,
        }
    }

    fn refresh_visible(&mut self) {
        if !self.visible_dirty {
            return;
        }
        self.visible.clear();
        let n = self.order.len();
        let mut i = 0usize;
        while i < n {
            self.visible.push(i as u32);
            i = if self.expanded[i] {
                i + 1
            } else {
                self.end[i] as usize
            };
        }
        self.visible_dirty = false;
    }

    /// Light or dark colours.
    pub fn set_theme(&mut self, dark: bool) {
        if self.dark != dark {
            self.dark = dark;
            // Only the "missing" colour depends on the theme.
            let _ = self.compute_colors();
        }
    }

    /// The canvas size in CSS px and the device pixel ratio.
    pub fn resize(&mut self, css_w: f64, css_h: f64, dpr: f64) -> Result<(), RenderError> {
        if !(css_w.is_finite() && css_h.is_finite() && dpr.is_finite() && dpr > 0.0)
            || css_w < 0.0
            || css_h < 0.0
        {
            return Err(RenderError::Argument(format!(
                "bad size {css_w}x{css_h} at ratio {dpr}"
            )));
        }
        let w = (css_w * dpr).round() as usize;
        let h = (css_h * dpr).round() as usize;
        if w > MAX_SIDE || h > MAX_SIDE {
            return Err(RenderError::Limit(format!(
                "canvas {w}x{h} device px (at most {MAX_SIDE} a side)"
            )));
        }
        self.css_w = css_w;
        self.css_h = css_h;
        self.dpr = dpr;
        self.raster.resize(w, h);
        self.clamp_scroll();
        Ok(())
    }

    fn line_h(&self) -> f64 {
        22.0 * self.zoom
    }

    fn indent(&self) -> f64 {
        18.0 * self.zoom
    }

    fn clamp_scroll(&mut self) {
        self.refresh_visible();
        let content = self.visible.len() as f64 * self.line_h();
        let max_y = (content - self.css_h + self.line_h()).max(0.0);
        self.scroll_y = self.scroll_y.clamp(0.0, max_y);
        let max_x = (self.max_depth as f64 * self.indent()).max(0.0);
        self.scroll_x = self.scroll_x.clamp(0.0, max_x);
    }

    /// Scrolls by CSS px.
    pub fn scroll_by(&mut self, dx: f64, dy: f64) {
        if dx.is_finite() {
            self.scroll_x += dx;
        }
        if dy.is_finite() {
            self.scroll_y += dy;
        }
        self.clamp_scroll();
    }

    /// Zooms by `factor` (> 1 enlarges) keeping the line under `css_y` in place.
    pub fn zoom_at(&mut self, css_y: f64, factor: f64) -> Result<(), RenderError> {
        if !(factor.is_finite() && factor > 0.0 && css_y.is_finite()) {
            return Err(RenderError::Argument(format!("bad zoom factor {factor}")));
        }
        let before = (self.scroll_y + css_y) / self.line_h();
        self.zoom = (self.zoom * factor).clamp(0.3, 3.0);
        self.scroll_y = before * self.line_h() - css_y;
        self.clamp_scroll();
        Ok(())
    }

    /// Zoom 1, scrolled to the top left.
    pub fn reset_view(&mut self) {
        self.zoom = 1.0;
        self.scroll_x = 0.0;
        self.scroll_y = 0.0;
    }

    /// The current zoom factor.
    pub fn zoom(&self) -> f64 {
        self.zoom
    }

    fn row_at(&mut self, css_y: f64) -> Option<u32> {
        self.refresh_visible();
        if !css_y.is_finite() || css_y < 0.0 {
            return None;
        }
        let k = ((css_y + self.scroll_y) / self.line_h()).floor();
        if k < 0.0 {
            return None;
        }
        self.visible.get(k as usize).copied()
    }

    fn x_of_depth(&self, depth: usize) -> f64 {
        8.0 + depth.min(MAX_TREE_DEPTH) as f64 * self.indent() - self.scroll_x
    }

    /// The table row on the line at `css_y`, or -1.
    pub fn hit_test(&mut self, _css_x: f64, css_y: f64) -> i64 {
        match self.row_at(css_y) {
            Some(p) => self.order[p as usize] as i64,
            None => -1,
        }
    }

    /// Whether `(css_x, css_y)` is on the expand/collapse toggle of a line with children.
    pub fn on_toggle(&mut self, css_x: f64, css_y: f64) -> bool {
        let Some(p) = self.row_at(css_y) else {
            return false;
        };
        let x = self.x_of_depth(self.depth[p as usize] as usize);
        self.has_children(p) && css_x >= x - 2.0 && css_x <= x + 14.0 * self.zoom
    }

    fn has_children(&self, p: u32) -> bool {
        self.end[p as usize] > p + 1
    }

    fn position(&self, row: f64) -> Result<u32, RenderError> {
        if !(row.is_finite() && row >= 0.0 && row.fract() == 0.0 && (row as usize) < self.pos.len())
        {
            return Err(RenderError::Argument(format!(
                "row {row} is not a row of the tree (0..{})",
                self.pos.len()
            )));
        }
        Ok(self.pos[row as usize])
    }

    /// Expands or collapses the node of a table row; returns whether it is now expanded.
    pub fn toggle(&mut self, row: f64) -> Result<bool, RenderError> {
        let p = self.position(row)? as usize;
        self.expanded[p] = !self.expanded[p];
        self.visible_dirty = true;
        self.clamp_scroll();
        Ok(self.expanded[p])
    }

    /// Expands every node.
    pub fn expand_all(&mut self) {
        self.expanded.iter_mut().for_each(|e| *e = true);
        self.visible_dirty = true;
        self.clamp_scroll();
    }

    /// Collapses every node (only the roots stay visible).
    pub fn collapse_all(&mut self) {
        self.expanded.iter_mut().for_each(|e| *e = false);
        self.visible_dirty = true;
        self.clamp_scroll();
    }

    /// Expands the ancestors of a position so that it is visible.
    fn reveal(&mut self, p: u32) {
        let mut q = self.parent[p as usize];
        while q != NONE {
            if !self.expanded[q as usize] {
                self.expanded[q as usize] = true;
                self.visible_dirty = true;
            }
            q = self.parent[q as usize];
        }
    }

    /// Marks the processes whose name, id or command line contains `query` (case-insensitive)
    /// and expands their ancestors; an empty query clears the marks. Returns the match count.
    pub fn search(&mut self, query: &str) -> Result<usize, RenderError> {
        if query.chars().count() > MAX_QUERY_CHARS {
            return Err(RenderError::Argument(format!(
                "search text longer than {MAX_QUERY_CHARS} characters"
            )));
        }
        self.matched.iter_mut().for_each(|m| *m = false);
        self.match_positions.clear();
        self.match_cursor = None;
        let needle = query.trim().to_lowercase();
        if needle.is_empty() {
            return Ok(0);
        }
        for p in 0..self.order.len() {
            let r = self.order[p] as usize;
            let hit = self.names.get(r).is_some_and(|t| contains_ci(t, &needle))
                || self
                    .ids
                    .text(r)
                    .is_some_and(|id| id.to_lowercase() == needle)
                || self
                    .cmds
                    .as_ref()
                    .is_some_and(|c| c.get(r).is_some_and(|t| contains_ci(t, &needle)));
            if hit {
                self.matched[p] = true;
                self.match_positions.push(p as u32);
            }
        }
        let found = self.match_positions.clone();
        for p in found {
            self.reveal(p);
        }
        self.clamp_scroll();
        Ok(self.match_positions.len())
    }

    /// Moves to the next (or previous) match, scrolls it into view and returns its table row
    /// (-1 without matches).
    pub fn next_match(&mut self, forward: bool) -> i64 {
        let n = self.match_positions.len();
        if n == 0 {
            return -1;
        }
        let k = match (self.match_cursor, forward) {
            (None, true) => 0,
            (None, false) => n - 1,
            (Some(c), true) => (c + 1) % n,
            (Some(c), false) => (c + n - 1) % n,
        };
        self.match_cursor = Some(k);
        let p = self.match_positions[k];
        self.reveal(p);
        self.scroll_to_position(p);
        self.order[p as usize] as i64
    }

    fn scroll_to_position(&mut self, p: u32) {
        self.refresh_visible();
        if let Ok(k) = self.visible.binary_search(&p) {
            self.scroll_y = k as f64 * self.line_h() - self.css_h / 3.0;
            let x = 8.0 + self.depth[p as usize] as f64 * self.indent();
            if x - self.scroll_x > self.css_w * 0.6 || x < self.scroll_x {
                self.scroll_x = (x - self.css_w * 0.2).max(0.0);
            }
            self.clamp_scroll();
        }
    }

    /// Reveals a table row and scrolls to it.
    pub fn scroll_to_row(&mut self, row: f64) -> Result<(), RenderError> {
        let p = self.position(row)?;
        self.reveal(p);
        self.scroll_to_position(p);
        Ok(())
    }

    /// The line under the pointer (highlighted), or none.
    pub fn set_hover(&mut self, row: f64) {
        self.hover = self.position(row).ok();
    }

    /// Selects the process on the line at `css_y` (toggled when `additive`; a click on empty
    /// space clears the selection unless `additive`).
    pub fn select_at(&mut self, css_y: f64, additive: bool) {
        let hit = self.row_at(css_y);
        if !additive {
            self.selected.iter_mut().for_each(|s| *s = false);
        }
        if let Some(p) = hit {
            let r = self.order[p as usize] as usize;
            self.selected[r] = if additive { !self.selected[r] } else { true };
        }
    }

    /// Selects exactly these table rows (rows out of range are an error).
    pub fn select_rows(&mut self, rows: &[f64]) -> Result<(), RenderError> {
        let mut next = vec![false; self.selected.len()];
        for &r in rows {
            self.position(r)?;
            next[r as usize] = true;
        }
        self.selected = next;
        Ok(())
    }

    /// Clears the selection.
    pub fn clear_selection(&mut self) {
        self.selected.iter_mut().for_each(|s| *s = false);
    }

    /// Selected table rows, ascending.
    pub fn selection(&self) -> Vec<usize> {
        (0..self.selected.len())
            .filter(|&r| self.selected[r])
            .collect()
    }

    /// Name/value pairs describing a table row (the tooltip columns, placeholders marked).
    pub fn tooltip(&self, row: f64) -> Result<Vec<(String, String)>, RenderError> {
        let p = self.position(row)?;
        let r = row as usize;
        let columns: Vec<String> = match &self.spec.tooltip_columns {
            Some(c) => c.clone(),
            None => [
                Some(&self.spec.name_column),
                self.spec.id_column.as_ref(),
                self.spec.cmd_column.as_ref(),
                self.spec.user_column.as_ref(),
                self.spec.time_column.as_ref(),
                self.spec.host_column.as_ref(),
            ]
            .into_iter()
            .flatten()
            .cloned()
            .collect(),
        };
        let mut out = Vec::new();
        if self.placeholder[p as usize] {
            out.push((
                "Placeholder".to_string(),
                "parent named by its children, not in the events".to_string(),
            ));
        }
        for c in columns {
            let v = self.table.display(&c, r).map_err(column_error)?;
            out.push((c, v));
        }
        out.push(("Children".into(), self.direct_children(p).to_string()));
        Ok(out)
    }

    fn direct_children(&self, p: u32) -> usize {
        let mut count = 0;
        let mut q = p as usize + 1;
        let end = self.end[p as usize] as usize;
        while q < end {
            count += 1;
            q = self.end[q] as usize;
        }
        count
    }

    /// Cells of the side-table columns for a table row.
    pub fn table_cells(&self, row: f64) -> Result<Vec<String>, RenderError> {
        self.position(row)?;
        let r = row as usize;
        let columns = self.table_columns();
        columns
            .iter()
            .map(|c| self.table.display(c, r).map_err(column_error))
            .collect()
    }

    /// The side-table columns.
    pub fn table_columns(&self) -> Vec<String> {
        match &self.spec.table_columns {
            Some(c) => c.clone(),
            None => [
                self.spec.time_column.as_ref(),
                Some(&self.spec.name_column),
                self.spec.id_column.as_ref(),
                self.spec.user_column.as_ref(),
                self.spec.cmd_column.as_ref(),
            ]
            .into_iter()
            .flatten()
            .cloned()
            .collect(),
        }
    }

    /// The creation time of a table row in ms since the epoch (NaN without a time).
    pub fn time_ms(&self, row: f64) -> Result<f64, RenderError> {
        self.position(row)?;
        let Some(c) = &self.spec.time_column else {
            return Ok(f64::NAN);
        };
        let times = self.table.times_ns(c).map_err(column_error)?;
        Ok(times
            .get(row as usize)
            .map_or(f64::NAN, |ns| ns as f64 / 1e6))
    }

    /// The RGBA pixels (device px, row-major).
    pub fn pixels(&self) -> &[u8] {
        self.raster.pixels()
    }

    /// Raster width in device px.
    pub fn pixel_width(&self) -> usize {
        self.raster.width()
    }

    /// Raster height in device px.
    pub fn pixel_height(&self) -> usize {
        self.raster.height()
    }

    /// Draws the lines on screen; returns their texts and positions.
    pub fn render(&mut self) -> TreeFrame {
        self.refresh_visible();
        let t = *theme(self.dark);
        let dpr = self.dpr;
        self.raster.clear(t.background);
        let lh = self.line_h();
        let indent = self.indent();
        let first = (self.scroll_y / lh).floor().max(0.0) as usize;
        let count = (self.css_h / lh).ceil() as usize + 1;
        let font_px = (12.0 * self.zoom).clamp(6.0, 30.0);
        let name_font = format!("{font_px:.1}px sans-serif");
        let cmd_font = format!("{:.1}px monospace", (font_px - 1.0).max(5.0));
        let italic = format!("italic {font_px:.1}px sans-serif");
        let text_css = t.text.css();
        let muted_css = t.muted_text.css();
        let highlight = if self.dark {
            Rgba::rgb(92, 80, 20)
        } else {
            Rgba::rgb(255, 241, 168)
        };
        let hover_band = t.lane_shade;
        let select_band = t.selection.mix(t.background, 0.65);
        let line_color = t.axis.mix(t.background, 0.45);
        let mut texts = Vec::new();
        let mut lines = Vec::new();
        let visible_len = self.visible.len();
        for k in first..(first + count).min(visible_len) {
            let p = self.visible[k] as usize;
            let r = self.order[p] as usize;
            let y = k as f64 * lh - self.scroll_y;
            let d = self.depth[p] as usize;
            let x = self.x_of_depth(d);
            let band = if self.selected[r] {
                Some(select_band)
            } else if self.matched[p] {
                Some(highlight)
            } else if self.hover == Some(p as u32) {
                Some(hover_band)
            } else {
                None
            };
            if let Some(c) = band {
                self.raster
                    .fill_rect(0.0, y * dpr, self.css_w * dpr, (y + lh) * dpr, c);
            }
            if self.selected[r] && self.matched[p] {
                self.raster
                    .fill_rect(0.0, y * dpr, 4.0 * dpr, (y + lh) * dpr, highlight);
            }
            // Connectors: the elbow to this node, and the lines of ancestors that continue.
            let mid = y + lh / 2.0;
            let lw = dpr.max(1.0);
            if d > 0 {
                let cx = self.x_of_depth(d - 1) + indent / 2.0;
                let bottom = if self.last_child[p] { mid } else { y + lh };
                self.raster
                    .fill_rect(cx * dpr, y * dpr, cx * dpr + lw, bottom * dpr, line_color);
                self.raster.fill_rect(
                    cx * dpr,
                    mid * dpr,
                    (x + 1.0) * dpr,
                    mid * dpr + lw,
                    line_color,
                );
                let mut a = self.parent[p];
                while a != NONE {
                    let ad = self.depth[a as usize] as usize;
                    if ad == 0 {
                        break;
                    }
                    if !self.last_child[a as usize] {
                        let ax = self.x_of_depth(ad - 1) + indent / 2.0;
                        self.raster.fill_rect(
                            ax * dpr,
                            y * dpr,
                            ax * dpr + lw,
                            (y + lh) * dpr,
                            line_color,
                        );
                    }
                    a = self.parent[a as usize];
                }
            }
            let has_kids = self.has_children(p as u32);
            if has_kids {
                texts.push(TreeText {
                    x: x + 1.0,
                    y: mid,
                    text: if self.expanded[p] { "▾" } else { "▸" }.into(),
                    color: muted_css.clone(),
                    font: name_font.clone(),
                    kind: "toggle",
                });
            }
            let mx = x + 14.0 * self.zoom;
            let ms = 9.0 * self.zoom;
            let color = self.colors[p];
            if self.placeholder[p] {
                let o = (1.5 * self.zoom).max(1.0);
                self.raster.fill_rect(
                    mx * dpr,
                    (mid - ms / 2.0) * dpr,
                    (mx + ms) * dpr,
                    (mid + ms / 2.0) * dpr,
                    color,
                );
                self.raster.fill_rect(
                    (mx + o) * dpr,
                    (mid - ms / 2.0 + o) * dpr,
                    (mx + ms - o) * dpr,
                    (mid + ms / 2.0 - o) * dpr,
                    band.unwrap_or(t.background),
                );
            } else {
                self.raster.fill_rect(
                    mx * dpr,
                    (mid - ms / 2.0) * dpr,
                    (mx + ms) * dpr,
                    (mid + ms / 2.0) * dpr,
                    color,
                );
            }
            let name = self.names.get(r).map(base_name).unwrap_or("(unknown)");
            let mut label = name.chars().take(120).collect::<String>();
            if let Some(id) = self.ids.text(r) {
                if !id.is_empty() {
                    label.push_str(&format!("  [{id}]"));
                }
            }
            let tx = mx + ms + 5.0 * self.zoom;
            if self.placeholder[p] {
                label.push_str("  (not in the events)");
                texts.push(TreeText {
                    x: tx,
                    y: mid,
                    text: label,
                    color: muted_css.clone(),
                    font: italic.clone(),
                    kind: "name",
                });
            } else {
                texts.push(TreeText {
                    x: tx,
                    y: mid,
                    text: label,
                    color: text_css.clone(),
                    font: name_font.clone(),
                    kind: "name",
                });
                if let Some(cmd) = self.cmds.as_ref().and_then(|c| c.get(r)) {
                    let shown: String = cmd
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(MAX_CMD_CHARS)
                        .collect();
                    if !shown.trim().is_empty() {
                        let more = if cmd.chars().count() > MAX_CMD_CHARS {
                            "…"
                        } else {
                            ""
                        };
                        texts.push(TreeText {
                            x: tx,
                            y: mid,
                            text: format!("{shown}{more}"),
                            color: muted_css.clone(),
                            font: cmd_font.clone(),
                            kind: "cmd",
                        });
                    }
                }
            }
            lines.push(TreeLine {
                row: r,
                y,
                depth: d,
            });
        }
        TreeFrame {
            texts,
            lines,
            content_height: visible_len as f64 * lh,
            scroll_y: self.scroll_y,
            line_height: lh,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray};
    use arrow_schema::{Field, Schema};

    use super::*;

    /// root(0) -> a(1) -> c(3); root -> b(2); orphan root d(4). Rows deliberately not in
    /// pre-order.
    fn tree_ipc() -> Vec<u8> {
        let cols: Vec<(&str, ArrayRef)> = vec![
            (
                "NewProcessName",
                Arc::new(StringArray::from(vec![
                    "C:\\w\\root.exe",
                    "C:\\w\\a.exe",
                    "C:\\w\\b.exe",
                    "C:\\w\\powershell.exe",
                    "C:\\w\\d.exe",
                ])),
            ),
            (
                "CommandLine",
                Arc::new(StringArray::from(vec![
                    Some("root"),
                    Some("a -x"),
                    Some("b"),
                    Some("powershell -enc AAAA"),
                    None,
                ])),
            ),
            (
                "source_index",
                Arc::new(Int64Array::from(vec![10, 11, 12, 13, 14])),
            ),
            (
                "parent_index",
                Arc::new(Int64Array::from(vec![
                    None,
                    Some(10),
                    Some(10),
                    Some(11),
                    None,
                ])),
            ),
            (
                "IsPlaceholder",
                Arc::new(BooleanArray::from(vec![true, false, false, false, false])),
            ),
        ];
        let schema = Arc::new(Schema::new(
            cols.iter()
                .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        ));
        let batch =
            RecordBatch::try_new(schema.clone(), cols.into_iter().map(|c| c.1).collect()).unwrap();
        hg_arrow::write_ipc_stream(&schema, &[batch]).unwrap()
    }

    fn chart() -> ProcessTreeChart {
        let spec = r#"{"name_column": "NewProcessName", "cmd_column": "CommandLine"}"#;
        let mut c = ProcessTreeChart::new(spec, &tree_ipc()).unwrap();
        c.resize(400.0, 300.0, 1.0).unwrap();
        c
    }

    fn rows_on_screen(c: &mut ProcessTreeChart) -> Vec<usize> {
        c.render().lines.iter().map(|l| l.row).collect()
    }

    #[test]
    fn lays_out_in_pre_order_and_collapses() {
        let mut c = chart();
        assert_eq!(c.info().n_roots, 2);
        assert_eq!(rows_on_screen(&mut c), vec![0, 1, 3, 2, 4]);
        assert!(!c.toggle(1.0).unwrap());
        assert_eq!(rows_on_screen(&mut c), vec![0, 1, 2, 4]);
        c.collapse_all();
        assert_eq!(rows_on_screen(&mut c), vec![0, 4]);
        c.expand_all();
        assert_eq!(c.info().visible, 5);
        assert_eq!(c.info().max_depth, 2);
    }

    #[test]
    fn search_expands_ancestors_and_scrolls() {
        let mut c = chart();
        c.collapse_all();
        assert_eq!(c.search("ENC aaaa").unwrap(), 1);
        assert_eq!(rows_on_screen(&mut c), vec![0, 1, 3, 2, 4]);
        assert_eq!(c.next_match(true), 3);
        assert_eq!(c.search("").unwrap(), 0);
        assert_eq!(c.next_match(true), -1);
        assert!(c.search(&"x".repeat(MAX_QUERY_CHARS + 1)).is_err());
    }

    #[test]
    fn hit_test_select_and_tooltip() {
        let mut c = chart();
        // line 2 (y 44..66) shows row 3
        assert_eq!(c.hit_test(50.0, 50.0), 3);
        assert_eq!(c.hit_test(50.0, 500.0), -1);
        c.select_at(50.0, false);
        assert_eq!(c.selection(), vec![3]);
        c.select_at(5.0, true);
        assert_eq!(c.selection(), vec![0, 3]);
        let tip = c.tooltip(0.0).unwrap();
        assert_eq!(tip[0].0, "Placeholder");
        assert!(c.tooltip(9.0).is_err());
        // toggle area of row 1 (depth 1): x from 8 + 18
        assert!(c.on_toggle(28.0, 30.0));
        assert!(!c.on_toggle(28.0, 50.0)); // row 3 has no children
    }

    #[test]
    fn texts_name_the_process_and_command_line() {
        let mut c = chart();
        let frame = c.render();
        let names: Vec<&str> = frame
            .texts
            .iter()
            .filter(|t| t.kind == "name")
            .map(|t| t.text.as_str())
            .collect();
        assert_eq!(names[0], "root.exe  (not in the events)");
        assert_eq!(names[2], "powershell.exe");
        assert!(frame
            .texts
            .iter()
            .any(|t| t.kind == "cmd" && t.text == "powershell -enc AAAA"));
        // the raster holds more than the background (markers and connectors)
        let bg = theme(false).background;
        assert!(c.pixels().chunks(4).any(|px| px != [bg.r, bg.g, bg.b, 255]));
    }

    #[test]
    fn bad_input_is_named() {
        let err = ProcessTreeChart::new(r#"{"name_column": "Nope"}"#, &tree_ipc())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("column 'Nope' not found"), "{err}");
        let err = ProcessTreeChart::new(r#"{"colour": 1}"#, &tree_ipc())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("unknown field `colour`"), "{err}");
        assert!(ProcessTreeChart::new("", b"junk").is_err());
    }

    #[test]
    fn colour_by_a_column_gives_a_legend() {
        let spec = r#"{"name_column": "NewProcessName", "color_by": "CommandLine"}"#;
        let mut c = ProcessTreeChart::new(spec, &tree_ipc()).unwrap();
        let info = c.info();
        assert_eq!(info.color_title, "CommandLine");
        assert_eq!(info.legend.len(), 5); // four values and (missing)
        assert!(!info.color_scale);
    }
}
