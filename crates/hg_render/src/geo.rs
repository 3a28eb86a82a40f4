//! The GeoMap chart: an offline world basemap with located points, source-to-destination lines,
//! hover details, pan and zoom, and point selection.
//!
//! # Design
//!
//! The basemap is data, never compiled in: the host hands over country outlines as flat rings
//! ([`Basemap::new`]: longitude/latitude pairs, the length of each ring, the country of each
//! ring, and a JSON list of countries with their ISO codes and names; longitudes may run past
//! +-180 up to +-360 so rings across the antimeridian stay continuous). huntglass builds them from
//! Natural Earth's 1:110m countries (npm `world-atlas`, public domain) at build time and ships
//! them as a separate asset, so the wasm stays small.
//!
//! The projection is equirectangular (plate carrée): `x = (lon - centre_lon) * k`,
//! `y = (centre_lat - lat) * k` with `k` CSS pixels per degree; zooming changes `k` around the
//! pointer, panning moves the centre. Countries are filled with an even-odd scanline fill of
//! their projected rings (O(edges × rows of their bounding box), clipped to the canvas) and
//! outlined with one-pixel lines. Lines between a source and a destination are arcs that bend to
//! the left of the direction of travel (so the direction can be read and opposite flows stay
//! apart); the map does not wrap at the antimeridian.
//!
//! Each row of the data set gives a point (`lat_column`/`lon_column`), or a source and a
//! destination (`dst_lat_column`/`dst_lon_column`). When a row has no coordinates but a country
//! code (ISO 3166-1 alpha-2, as the offline geolocation returns it), it is placed at that
//! country's centroid: the area centroid of the country's largest outline ring (so France sits in
//! metropolitan France, not between it and French Guiana), or the centroid the basemap lists for
//! countries too small to have an outline at 1:110m. Such points are marked as approximate and
//! their hover details say so.
//!
//! Rows at the same place with the same colour category are one mark whose area grows with
//! the number of rows (or the sum of `size_column`); selecting a mark selects all its rows.
//!
//! # Input limits
//!
//! Spec JSON up to [`MAX_SPEC_BYTES`]; basemaps up to [`MAX_BASEMAP_POINTS`] points,
//! [`MAX_BASEMAP_RINGS`] rings and [`MAX_COUNTRIES`] countries (countries JSON up to
//! [`MAX_SPEC_BYTES`]); data up to [`MAX_ROWS`] rows and [`MAX_CATEGORIES`] colour values; coordinates outside ±90° latitude or
//! ±180° longitude are treated as missing; zoom between the whole world at half size and
//! [`MAX_ZOOM`] times the fitted scale; rasters up to 16,384 pixels a side.

use std::collections::HashMap;

use hg_arrow::Table;
use serde::Serialize;

use crate::raster::{Raster, Rgba};
use crate::theme::theme;
use crate::RenderError;

/// Largest spec (and countries JSON) accepted.
pub const MAX_SPEC_BYTES: usize = 1 << 20;
/// Most basemap points (longitude/latitude pairs).
pub const MAX_BASEMAP_POINTS: usize = 4_000_000;
/// Most basemap rings.
pub const MAX_BASEMAP_RINGS: usize = 200_000;
/// Most basemap countries.
pub const MAX_COUNTRIES: usize = 2_000;
/// Most data rows.
pub const MAX_ROWS: usize = 50_000_000;
/// Largest `places` JSON accepted.
pub const MAX_PLACES_BYTES: usize = 64 << 20;
/// Most keys listed by `unplaced_keys`.
pub const MAX_LOOKUP_KEYS: usize = 100_000;
/// Most distinct values of the colour column (marks are keyed by place and category).
pub const MAX_CATEGORIES: usize = 1 << 20;
/// Largest zoom relative to the fitted world.
pub const MAX_ZOOM: f64 = 400.0;
/// Most legend entries listed (the rest are counted).
const MAX_LEGEND: usize = 20;
/// Largest raster side in device px.
const MAX_SIDE: usize = 16_384;
/// Hover distance beyond a mark's radius (CSS px).
const HIT_SLOP: f64 = 3.0;
/// The latitudes fitted by `reset_view` (Antarctica's interior is left out).
const FIT_LAT: (f64, f64) = (-58.0, 84.0);

/// Categorical colours (Tableau 10), cycled.
const CATEGORY: [Rgba; 10] = [
    Rgba::rgb(0x1f, 0x77, 0xb4),
    Rgba::rgb(0xd6, 0x27, 0x28),
    Rgba::rgb(0x2c, 0xa0, 0x2c),
    Rgba::rgb(0xff, 0x7f, 0x0e),
    Rgba::rgb(0x94, 0x67, 0xbd),
    Rgba::rgb(0x8c, 0x56, 0x4b),
    Rgba::rgb(0xe3, 0x77, 0xc2),
    Rgba::rgb(0x7f, 0x7f, 0x7f),
    Rgba::rgb(0xbc, 0xbd, 0x22),
    Rgba::rgb(0x17, 0xbe, 0xcf),
];

/// Colour of a threat-intelligence severity (light, dark), as the TIBrowser draws it: a colour
/// column holding only severities is drawn in these, so red means high on every widget.
fn severity_colors(label: &str) -> Option<(Rgba, Rgba)> {
    let pair = |l: (u8, u8, u8), d: (u8, u8, u8)| {
        Some((Rgba::rgb(l.0, l.1, l.2), Rgba::rgb(d.0, d.1, d.2)))
    };
    match label.to_ascii_lowercase().as_str() {
        "high" => pair((0xd6, 0x27, 0x28), (0xff, 0x6b, 0x6b)),
        "warning" => pair((0xff, 0x7f, 0x0e), (0xff, 0xb3, 0x47)),
        "information" => pair((0x2c, 0xa0, 0x2c), (0x6f, 0xcf, 0x6f)),
        "unknown" => pair((0x7f, 0x7f, 0x7f), (0xa0, 0xa0, 0xa0)),
        _ => None,
    }
}

/// The widget's options (traitlet `spec`); unknown keys are rejected.
#[derive(Debug, Clone)]
pub struct GeoSpec {
    /// Name of the data set (used in selections).
    pub dataset: String,
    /// Latitude of the point (or of the source when a destination is given).
    pub lat_column: Option<String>,
    /// Longitude of the point (or source).
    pub lon_column: Option<String>,
    /// ISO alpha-2 country of the point (or source): placement at its centroid when there are no coordinates.
    pub country_column: Option<String>,
    /// Latitude of the destination.
    pub dst_lat_column: Option<String>,
    /// Longitude of the destination.
    pub dst_lon_column: Option<String>,
    /// ISO alpha-2 country of the destination.
    pub dst_country_column: Option<String>,
    /// IP address (or any key) of the point or source, placed through `places`.
    pub ip_column: Option<String>,
    /// IP address (or any key) of the destination, placed through `places`.
    pub dst_ip_column: Option<String>,
    /// Known places of `ip_column` / `dst_ip_column` values (see [`GeoMapChart::set_places`]).
    pub places: Option<serde_json::Value>,
    /// Colour marks and lines by this column's values (with a legend).
    pub color_column: Option<String>,
    /// Size marks by the sum of this numeric column (default: by the number of rows).
    pub size_column: Option<String>,
    /// Columns listed in the hover details.
    pub tooltip_columns: Vec<String>,
    /// Draw lines from source to destination (when both are placed).
    pub lines: bool,
    /// Title above the map (drawn by the host).
    pub title: String,
    /// Height in CSS px (the host decides when null).
    pub height: Option<f64>,
    /// Width in CSS px (the host decides when null).
    pub width: Option<f64>,
    /// Radius of the smallest mark (CSS px).
    pub min_radius: f64,
    /// Radius of the largest mark (CSS px).
    pub max_radius: f64,
}

impl Default for GeoSpec {
    fn default() -> Self {
        GeoSpec {
            dataset: "points".into(),
            lat_column: None,
            lon_column: None,
            country_column: None,
            dst_lat_column: None,
            dst_lon_column: None,
            dst_country_column: None,
            ip_column: None,
            dst_ip_column: None,
            places: None,
            color_column: None,
            size_column: None,
            tooltip_columns: Vec::new(),
            lines: true,
            title: String::new(),
            height: None,
            width: None,
            min_radius: 3.0,
            max_radius: 14.0,
        }
    }
}

/// The keys of a spec, in documentation order.
const SPEC_KEYS: [&str; 19] = [
    "dataset",
    "lat_column",
    "lon_column",
    "country_column",
    "dst_lat_column",
    "dst_lon_column",
    "dst_country_column",
    "ip_column",
    "dst_ip_column",
    "places",
    "color_column",
    "size_column",
    "tooltip_columns",
    "lines",
    "title",
    "height",
    "width",
    "min_radius",
    "max_radius",
];

impl GeoSpec {
    /// Reads a spec from JSON (missing keys take their defaults; unknown keys are refused).
    /// Read through serde_json::Value rather than a derived deserializer: the visualization
    /// wasm has a tight size budget.
    pub fn from_json(value: &serde_json::Value) -> Result<GeoSpec, String> {
        use serde_json::Value;
        let obj = value
            .as_object()
            .ok_or_else(|| "a spec is a JSON object".to_string())?;
        if let Some(key) = obj.keys().find(|k| !SPEC_KEYS.contains(&k.as_str())) {
            return Err(format!(
                "unknown field `{key}`, expected one of {}",
                SPEC_KEYS.join(", ")
            ));
        }
        let column = |key: &str| -> Result<Option<String>, String> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(format!(
                    "`{key}` must be a column name or null, not {other}"
                )),
            }
        };
        let number = |key: &str, default: Option<f64>| -> Result<Option<f64>, String> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(default),
                Some(v) => v
                    .as_f64()
                    .map(Some)
                    .ok_or_else(|| format!("`{key}` must be a number, not {v}")),
            }
        };
        let defaults = GeoSpec::default();
        let tooltip_columns = match obj.get("tooltip_columns") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| format!("`tooltip_columns` must list column names, not {v}"))
                })
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(format!("`tooltip_columns` must be a list, not {other}")),
        };
        let lines = match obj.get("lines") {
            None | Some(Value::Null) => defaults.lines,
            Some(Value::Bool(b)) => *b,
            Some(other) => return Err(format!("`lines` must be true or false, not {other}")),
        };
        let places = match obj.get("places") {
            None | Some(Value::Null) => None,
            Some(v @ Value::Object(_)) => Some(v.clone()),
            Some(other) => return Err(format!("`places` must be an object, not {other}")),
        };
        Ok(GeoSpec {
            dataset: column("dataset")?.unwrap_or(defaults.dataset),
            lat_column: column("lat_column")?,
            lon_column: column("lon_column")?,
            country_column: column("country_column")?,
            dst_lat_column: column("dst_lat_column")?,
            dst_lon_column: column("dst_lon_column")?,
            dst_country_column: column("dst_country_column")?,
            ip_column: column("ip_column")?,
            dst_ip_column: column("dst_ip_column")?,
            places,
            color_column: column("color_column")?,
            size_column: column("size_column")?,
            tooltip_columns,
            lines,
            title: column("title")?.unwrap_or_default(),
            height: number("height", None)?,
            width: number("width", None)?,
            min_radius: number("min_radius", Some(defaults.min_radius))?
                .unwrap_or(defaults.min_radius),
            max_radius: number("max_radius", Some(defaults.max_radius))?
                .unwrap_or(defaults.max_radius),
        })
    }
}

/// One country of the basemap as the host lists it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CountryInfo {
    /// ISO 3166-1 numeric code (may be empty for disputed areas).
    pub id: String,
    /// ISO 3166-1 alpha-2 code (may be empty).
    pub a2: String,
    /// English name.
    pub name: String,
    /// Centroid `[lon, lat]` for countries without rings (too small for the outline scale).
    pub centroid: Option<(f64, f64)>,
}

/// Country outlines: rings of longitude/latitude points, each belonging to one country.
#[derive(Debug, Clone)]
pub struct Basemap {
    countries: Vec<CountryInfo>,
    /// lon, lat interleaved.
    coords: Vec<f32>,
    /// Start (in points) of each ring; one more entry than rings.
    ring_start: Vec<u32>,
    /// Rings of each country (indices into the ring arrays).
    country_rings: Vec<Vec<u32>>,
    /// Bounding box per country `[lon0, lat0, lon1, lat1]`.
    bbox: Vec<[f64; 4]>,
    centroid: Vec<Option<(f64, f64)>>,
    /// Country index by alpha-2 code (`(first - 'A') * 26 + (second - 'A')`), `u32::MAX` when none.
    by_a2: Vec<u32>,
}

/// The slot of a two-letter code in the alpha-2 table (case-insensitive, surrounding spaces ignored).
fn a2_slot(code: &str) -> Option<usize> {
    match code.trim().as_bytes() {
        [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => Some(
            (a.to_ascii_uppercase() - b'A') as usize * 26
                + (b.to_ascii_uppercase() - b'A') as usize,
        ),
        _ => None,
    }
}

fn ring_area_centroid(points: &[f32]) -> (f64, f64, f64) {
    // Shoelace area and centroid in the lon/lat plane.
    let n = points.len() / 2;
    let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let j = (i + 1) % n;
        let (x0, y0) = (points[2 * i] as f64, points[2 * i + 1] as f64);
        let (x1, y1) = (points[2 * j] as f64, points[2 * j + 1] as f64);
        let cross = x0 * y1 - x1 * y0;
        a += cross;
        cx += (x0 + x1) * cross;
        cy += (y0 + y1) * cross;
    }
    a /= 2.0;
    if a.abs() < 1e-12 {
        let (sx, sy) = (0..n).fold((0.0, 0.0), |(sx, sy), i| {
            (sx + points[2 * i] as f64, sy + points[2 * i + 1] as f64)
        });
        return (0.0, sx / n.max(1) as f64, sy / n.max(1) as f64);
    }
    (a.abs(), cx / (6.0 * a), cy / (6.0 * a))
}

impl Basemap {
    /// Validates and indexes outlines: `coords` holds lon, lat pairs; `ring_lengths` the points
    /// of each ring (at least 3); `ring_country` the country index of each ring;
    /// `countries_json` a JSON list of [`CountryInfo`].
    pub fn new(
        coords: &[f32],
        ring_lengths: &[u32],
        ring_country: &[u32],
        countries_json: &str,
    ) -> Result<Basemap, RenderError> {
        let bad = |m: String| RenderError::Argument(format!("basemap: {m}"));
        if countries_json.len() > MAX_SPEC_BYTES {
            return Err(bad(format!(
                "countries JSON of {} bytes (at most {MAX_SPEC_BYTES})",
                countries_json.len()
            )));
        }
        // Read through serde_json::Value (already in the module) rather than a derived
        // deserializer: the visualization wasm has a tight size budget.
        let list: serde_json::Value = serde_json::from_str(countries_json)
            .map_err(|e| bad(format!("countries JSON: {e}")))?;
        let list = list
            .as_array()
            .ok_or_else(|| bad("countries JSON is not a list".into()))?;
        let text = |v: &serde_json::Value, key: &str| {
            v.get(key)
                .and_then(|x| x.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let countries: Vec<CountryInfo> = list
            .iter()
            .map(|v| CountryInfo {
                id: text(v, "id"),
                a2: text(v, "a2"),
                name: text(v, "name"),
                centroid: v
                    .get("centroid")
                    .and_then(|c| Some((c.get(0)?.as_f64()?, c.get(1)?.as_f64()?))),
            })
            .collect();
        if countries.len() > MAX_COUNTRIES {
            return Err(bad(format!(
                "{} countries (at most {MAX_COUNTRIES})",
                countries.len()
            )));
        }
        if coords.len() & 1 == 1 {
            return Err(bad(format!(
                "{} coordinates is not a whole number of lon/lat pairs",
                coords.len()
            )));
        }
        let n_points = coords.len() / 2;
        if n_points > MAX_BASEMAP_POINTS {
            return Err(bad(format!(
                "{n_points} points (at most {MAX_BASEMAP_POINTS})"
            )));
        }
        if ring_lengths.len() > MAX_BASEMAP_RINGS {
            return Err(bad(format!(
                "{} rings (at most {MAX_BASEMAP_RINGS})",
                ring_lengths.len()
            )));
        }
        if ring_lengths.len() != ring_country.len() {
            return Err(bad(format!(
                "{} ring lengths but {} ring countries",
                ring_lengths.len(),
                ring_country.len()
            )));
        }
        let mut ring_start = Vec::with_capacity(ring_lengths.len() + 1);
        let mut total: u64 = 0;
        ring_start.push(0u32);
        for (i, &len) in ring_lengths.iter().enumerate() {
            if len < 3 {
                return Err(bad(format!("ring {i} has {len} points (at least 3)")));
            }
            total += len as u64;
            if total > n_points as u64 {
                break;
            }
            ring_start.push(total as u32);
        }
        if total != n_points as u64 {
            return Err(bad(format!(
                "the ring lengths add up to {total} points but {n_points} were given"
            )));
        }
        for (i, pair) in coords.chunks_exact(2).enumerate() {
            let (lon, lat) = (pair[0], pair[1]);
            // Longitudes up to +-360: rings across the antimeridian are unwrapped by the host.
            if !(lon.is_finite() && lat.is_finite()) || lon.abs() > 360.0001 || lat.abs() > 90.0001
            {
                return Err(bad(format!(
                    "point {i} ({lon}, {lat}) is not a longitude/latitude"
                )));
            }
        }
        let mut country_rings = vec![Vec::new(); countries.len()];
        for (i, &c) in ring_country.iter().enumerate() {
            let slot = country_rings.get_mut(c as usize).ok_or_else(|| {
                bad(format!(
                    "ring {i} belongs to country {c}, but there are {} countries",
                    countries.len()
                ))
            })?;
            slot.push(i as u32);
        }
        let mut bbox = Vec::with_capacity(countries.len());
        let mut centroid = Vec::with_capacity(countries.len());
        for (c, rings) in country_rings.iter().enumerate() {
            let mut b = [
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ];
            let mut best: Option<(f64, f64, f64)> = None;
            for &r in rings {
                let pts = &coords
                    [2 * ring_start[r as usize] as usize..2 * ring_start[r as usize + 1] as usize];
                for p in pts.chunks_exact(2) {
                    b[0] = b[0].min(p[0] as f64);
                    b[1] = b[1].min(p[1] as f64);
                    b[2] = b[2].max(p[0] as f64);
                    b[3] = b[3].max(p[1] as f64);
                }
                let ac = ring_area_centroid(pts);
                if best.is_none_or(|x| ac.0 > x.0) {
                    best = Some(ac);
                }
            }
            bbox.push(b);
            centroid.push(
                best.map(|(_, x, y)| (x, y))
                    .or(countries[c].centroid)
                    .filter(|(x, y)| x.is_finite() && y.is_finite()),
            );
        }
        let mut by_a2 = vec![u32::MAX; 26 * 26];
        for (i, c) in countries.iter().enumerate() {
            if let (Some(slot), true) = (a2_slot(&c.a2), centroid[i].is_some()) {
                if by_a2[slot] == u32::MAX {
                    by_a2[slot] = i as u32;
                }
            }
        }
        Ok(Basemap {
            countries,
            coords: coords.to_vec(),
            ring_start,
            country_rings,
            bbox,
            centroid,
            by_a2,
        })
    }

    /// The countries as given.
    pub fn countries(&self) -> &[CountryInfo] {
        &self.countries
    }

    /// The centroid `(lon, lat)` of a country by its alpha-2 code (case-insensitive).
    pub fn centroid_of(&self, a2: &str) -> Option<(usize, (f64, f64))> {
        let i = *self.by_a2.get(a2_slot(a2)?)?;
        if i == u32::MAX {
            return None;
        }
        Some((i as usize, self.centroid[i as usize]?))
    }

    fn ring(&self, r: usize) -> &[f32] {
        &self.coords[2 * self.ring_start[r] as usize..2 * self.ring_start[r + 1] as usize]
    }

    /// The country whose outline contains `(lon, lat)` (even-odd rule over its rings).
    pub fn country_at(&self, lon: f64, lat: f64) -> Option<usize> {
        for (c, rings) in self.country_rings.iter().enumerate() {
            let b = self.bbox[c];
            if rings.is_empty() || lon < b[0] || lon > b[2] || lat < b[1] || lat > b[3] {
                continue;
            }
            let mut inside = false;
            for &r in rings {
                let pts = self.ring(r as usize);
                let n = pts.len() / 2;
                let mut j = n - 1;
                for i in 0..n {
                    let (xi, yi) = (pts[2 * i] as f64, pts[2 * i + 1] as f64);
                    let (xj, yj) = (pts[2 * j] as f64, pts[2 * j + 1] as f64);
                    if (yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi {
                        inside = !inside;
                    }
                    j = i;
                }
            }
            if inside {
                return Some(c);
            }
        }
        None
    }
}

/// Where one end of a row is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Place {
    lon: f64,
    lat: f64,
    /// Country index when placed at a country's centroid.
    centroid_of: Option<u32>,
    /// Placement note (index into the chart's notes).
    note: Option<u32>,
}

/// A place given for a key value.
#[derive(Debug, Clone, PartialEq)]
enum PlaceSpec {
    At(f64, f64),
    Country(String),
    Nowhere,
}

/// A key column (IP addresses) whose values are placed through `places`.
#[derive(Debug, Clone)]
struct IpEnd {
    cats: hg_arrow::Categories,
    /// The place given for each distinct value (None: not given yet).
    given: Vec<Option<(PlaceSpec, Option<u32>)>>,
}

/// One drawn mark: rows at one place with one colour category.
#[derive(Debug, Clone)]
struct Mark {
    lon: f64,
    lat: f64,
    centroid_of: Option<u32>,
    note: Option<u32>,
    /// Rows of this mark carry different notes (values placed at the same spot).
    notes_differ: bool,
    category: u32,
    /// 0 = point or source, 1 = destination.
    end: u8,
    weight: f64,
    rows: Vec<u32>,
}

/// One drawn line: rows with the same two places and colour category.
#[derive(Debug, Clone)]
struct Line {
    from: (f64, f64),
    to: (f64, f64),
    category: u32,
    weight: f64,
}

/// One legend entry.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LegendEntry {
    /// The value.
    pub label: String,
    /// CSS colour.
    pub color: String,
}

/// Summary of the data and placement (JSON of `info()`).
#[derive(Debug, Clone, Serialize)]
pub struct GeoInfo {
    /// Rows of the data set.
    pub n_rows: usize,
    /// Rows with at least one end on the map.
    pub placed_rows: usize,
    /// Rows with no end on the map (no coordinates and no known country).
    pub unplaced_rows: usize,
    /// Ends placed at a country centroid.
    pub centroid_ends: usize,
    /// Rows with a source and a destination of which only one end has a place (no line).
    pub one_end_rows: usize,
    /// Country codes that could not be placed (no outline or centroid on the basemap), in the
    /// order first seen (at most 1,000).
    pub unknown_countries: Vec<String>,
    /// Marks drawn.
    pub n_marks: usize,
    /// Lines drawn.
    pub n_lines: usize,
    /// Countries on the basemap (0 until it is set).
    pub n_countries: usize,
    /// Colour legend (empty without a colour column).
    pub legend: Vec<LegendEntry>,
    /// Categories beyond those listed in the legend.
    pub legend_more: usize,
    /// What the colours mean.
    pub color_title: String,
}

/// The visible window.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct GeoView {
    /// Longitude at the canvas centre.
    pub lon: f64,
    /// Latitude at the canvas centre.
    pub lat: f64,
    /// CSS px per degree.
    pub scale: f64,
    /// Scale relative to the fitted world.
    pub zoom: f64,
}

/// What a render drew.
#[derive(Debug, Clone, Serialize)]
pub struct GeoFrame {
    /// The view drawn.
    pub view: GeoView,
    /// Marks inside the canvas.
    pub marks_drawn: usize,
    /// Lines with a visible part.
    pub lines_drawn: usize,
    /// Countries with a visible part.
    pub countries_drawn: usize,
}

/// Hover details of a mark or a country.
#[derive(Debug, Clone, Serialize)]
pub struct GeoTooltip {
    /// `mark` or `country`.
    pub kind: &'static str,
    /// Title line (the place).
    pub title: String,
    /// `[name, value]` pairs (plain text).
    pub fields: Vec<(String, String)>,
    /// Rows the mark stands for (0 for a country).
    pub rows: usize,
}

/// The GeoMap chart.
pub struct GeoMapChart {
    spec: GeoSpec,
    table: Table,
    n_rows: usize,
    src_coords: Option<(Vec<f64>, Vec<f64>)>,
    src_country: Option<hg_arrow::StringColumn>,
    dst_coords: Option<(Vec<f64>, Vec<f64>)>,
    dst_country: Option<hg_arrow::StringColumn>,
    src_ips: Option<IpEnd>,
    dst_ips: Option<IpEnd>,
    /// Placement notes given with `places` (shown in hover details).
    notes: Vec<String>,
    categories: Option<hg_arrow::Categories>,
    /// Every colour category is a TI severity: drawn in the severity colours.
    severity_palette: bool,
    sizes: Option<Vec<f64>>,
    basemap: Option<Basemap>,
    marks: Vec<Mark>,
    lines: Vec<Line>,
    /// Mark indices in drawing order (largest first).
    draw_order: Vec<u32>,
    max_weight: f64,
    info: GeoInfo,
    selected: Vec<bool>,
    hover_mark: Option<u32>,
    hover_country: Option<u32>,
    dark: bool,
    css_w: f64,
    css_h: f64,
    dpr: f64,
    view: (f64, f64, f64),
    view_set: bool,
    raster: Raster,
}

fn data_error(dataset: &str, e: hg_arrow::HgArrowError) -> RenderError {
    RenderError::Data {
        dataset: dataset.into(),
        source: e,
    }
}

fn valid_place(lon: f64, lat: f64) -> bool {
    lon.is_finite() && lat.is_finite() && lon.abs() <= 180.0 && lat.abs() <= 90.0
}

/// Points along the arc drawn from `a` to `b` (lon, lat degrees): a quadratic curve through
/// the map plane that bends to the left of the direction of travel by a fifth of the distance,
/// so two opposite flows between the same places stay apart and the direction can be read.
/// (No trigonometry: the visualization wasm has a tight size budget.)
pub fn arc(a: (f64, f64), b: (f64, f64)) -> Vec<(f64, f64)> {
    const STEPS: usize = 24;
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    if dx == 0.0 && dy == 0.0 {
        return vec![a, b];
    }
    let control = ((a.0 + b.0) / 2.0 - dy * 0.2, (a.1 + b.1) / 2.0 + dx * 0.2);
    (0..=STEPS)
        .map(|i| {
            let t = i as f64 / STEPS as f64;
            let (u, v, w) = ((1.0 - t) * (1.0 - t), 2.0 * t * (1.0 - t), t * t);
            (
                u * a.0 + v * control.0 + w * b.0,
                (u * a.1 + v * control.1 + w * b.1).clamp(-90.0, 90.0),
            )
        })
        .collect()
}

impl GeoMapChart {
    /// A chart of the rows in `ipc` (Arrow IPC stream) with the spec JSON.
    pub fn new(spec_json: &str, ipc: &[u8]) -> Result<GeoMapChart, RenderError> {
        if spec_json.len() > MAX_SPEC_BYTES {
            return Err(RenderError::Spec(format!(
                "spec of {} bytes (at most {MAX_SPEC_BYTES})",
                spec_json.len()
            )));
        }
        let spec: GeoSpec = if spec_json.trim().is_empty() {
            GeoSpec::default()
        } else {
            let value: serde_json::Value = serde_json::from_str(spec_json)
                .map_err(|e| RenderError::Spec(format!("geo map spec: {e}")))?;
            GeoSpec::from_json(&value)
                .map_err(|e| RenderError::Spec(format!("geo map spec: {e}")))?
        };
        if !(spec.min_radius.is_finite()
            && spec.max_radius.is_finite()
            && spec.min_radius > 0.0
            && spec.max_radius >= spec.min_radius
            && spec.max_radius <= 200.0)
        {
            return Err(RenderError::Spec(format!(
                "geo map spec: min_radius {} and max_radius {} must satisfy 0 < min <= max <= 200",
                spec.min_radius, spec.max_radius
            )));
        }
        let ds = spec.dataset.clone();
        let pair = |lat: &Option<String>, lon: &Option<String>, what: &str| match (lat, lon) {
            (Some(_), None) | (None, Some(_)) => Err(RenderError::Spec(format!(
                "geo map spec: give both the {what} latitude and longitude columns, or neither"
            ))),
            _ => Ok(()),
        };
        pair(&spec.lat_column, &spec.lon_column, "point/source")?;
        pair(&spec.dst_lat_column, &spec.dst_lon_column, "destination")?;
        if spec.lat_column.is_none() && spec.country_column.is_none() && spec.ip_column.is_none() {
            return Err(RenderError::Spec(
                "geo map spec: give lat_column and lon_column, country_column or ip_column".into(),
            ));
        }
        let table = hg_arrow::read_ipc_stream(ipc).map_err(|e| data_error(&ds, e))?;
        let n_rows = table.num_rows();
        if n_rows > MAX_ROWS {
            return Err(RenderError::Limit(format!(
                "{n_rows} rows (at most {MAX_ROWS})"
            )));
        }
        let coords = |lat: &Option<String>, lon: &Option<String>| -> Result<_, RenderError> {
            match (lat, lon) {
                (Some(la), Some(lo)) => Ok(Some((
                    table.numbers_f64(lo).map_err(|e| data_error(&ds, e))?,
                    table.numbers_f64(la).map_err(|e| data_error(&ds, e))?,
                ))),
                _ => Ok(None),
            }
        };
        let src_coords = coords(&spec.lat_column, &spec.lon_column)?;
        let dst_coords = coords(&spec.dst_lat_column, &spec.dst_lon_column)?;
        let strings = |c: &Option<String>| -> Result<_, RenderError> {
            c.as_ref()
                .map(|c| table.strings(c).map_err(|e| data_error(&ds, e)))
                .transpose()
        };
        let src_country = strings(&spec.country_column)?;
        let dst_country = strings(&spec.dst_country_column)?;
        let ip_end = |c: &Option<String>| -> Result<_, RenderError> {
            c.as_ref()
                .map(|c| {
                    let cats = table.categorize(c).map_err(|e| data_error(&ds, e))?;
                    let given = vec![None; cats.labels.len()];
                    Ok(IpEnd { cats, given })
                })
                .transpose()
        };
        let src_ips = ip_end(&spec.ip_column)?;
        let dst_ips = ip_end(&spec.dst_ip_column)?;
        let initial_places = spec.places.clone();
        let categories = spec
            .color_column
            .as_ref()
            .map(|c| table.categorize(c).map_err(|e| data_error(&ds, e)))
            .transpose()?;
        if let Some(c) = &categories {
            if c.labels.len() > MAX_CATEGORIES {
                return Err(RenderError::Limit(format!(
                    "colour column has {} distinct values (at most {MAX_CATEGORIES})",
                    c.labels.len()
                )));
            }
        }
        let sizes = spec
            .size_column
            .as_ref()
            .map(|c| table.numbers_f64(c).map_err(|e| data_error(&ds, e)))
            .transpose()?;
        for c in &spec.tooltip_columns {
            table.data_type(c).map_err(|e| data_error(&ds, e))?;
        }
        let mut chart = GeoMapChart {
            info: GeoInfo {
                n_rows,
                placed_rows: 0,
                unplaced_rows: n_rows,
                centroid_ends: 0,
                one_end_rows: 0,
                unknown_countries: Vec::new(),
                n_marks: 0,
                n_lines: 0,
                n_countries: 0,
                legend: Vec::new(),
                legend_more: 0,
                color_title: spec.color_column.clone().unwrap_or_default(),
            },
            spec,
            table,
            n_rows,
            src_coords,
            src_country,
            dst_coords,
            dst_country,
            src_ips,
            dst_ips,
            notes: Vec::new(),
            severity_palette: categories.as_ref().is_some_and(|c| {
                c.labels
                    .iter()
                    .enumerate()
                    .all(|(i, l)| c.missing == Some(i as u32) || severity_colors(l).is_some())
            }),
            categories,
            sizes,
            basemap: None,
            marks: Vec::new(),
            lines: Vec::new(),
            draw_order: Vec::new(),
            max_weight: 1.0,
            selected: Vec::new(),
            hover_mark: None,
            hover_country: None,
            dark: false,
            css_w: 0.0,
            css_h: 0.0,
            dpr: 1.0,
            view: (0.0, 0.0, 1.0),
            view_set: false,
            raster: Raster::new(0, 0),
        };
        match initial_places {
            Some(places) => chart.merge_places(&places)?,
            None => chart.place(),
        }
        Ok(chart)
    }

    /// Adds known places of `ip_column` / `dst_ip_column` values from JSON text (an object:
    /// value -> `{"lon", "lat"}`, `{"country": "<alpha-2>"}`, either with an optional `"label"`
    /// shown in hover details, or `null` for a value known to have no place), then places the
    /// rows again. Values never given are listed by [`GeoMapChart::unplaced_keys`].
    pub fn set_places(&mut self, places_json: &str) -> Result<(), RenderError> {
        if places_json.len() > MAX_PLACES_BYTES {
            return Err(RenderError::Argument(format!(
                "places JSON of {} bytes (at most {MAX_PLACES_BYTES})",
                places_json.len()
            )));
        }
        let value: serde_json::Value = serde_json::from_str(places_json)
            .map_err(|e| RenderError::Argument(format!("places JSON: {e}")))?;
        self.merge_places(&value)
    }

    fn merge_places(&mut self, value: &serde_json::Value) -> Result<(), RenderError> {
        let map = value.as_object().ok_or_else(|| {
            RenderError::Argument("places must be an object of value -> place".into())
        })?;
        for end in [&mut self.src_ips, &mut self.dst_ips].into_iter().flatten() {
            for (i, label) in end.cats.labels.iter().enumerate() {
                if end.cats.missing == Some(i as u32) {
                    continue;
                }
                let Some(v) = map.get(label) else { continue };
                let spec = if v.is_null() {
                    PlaceSpec::Nowhere
                } else if let (Some(lon), Some(lat)) = (
                    v.get("lon").and_then(|x| x.as_f64()),
                    v.get("lat").and_then(|x| x.as_f64()),
                ) {
                    PlaceSpec::At(lon, lat)
                } else if let Some(code) = v.get("country").and_then(|x| x.as_str()) {
                    PlaceSpec::Country(code.chars().take(16).collect())
                } else {
                    return Err(RenderError::Argument(format!(
                        "place of {label:?}: give lon and lat, a country code, or null"
                    )));
                };
                let note = match v.get("label").and_then(|x| x.as_str()) {
                    Some(text) => {
                        self.notes.push(text.chars().take(500).collect());
                        Some((self.notes.len() - 1) as u32)
                    }
                    None => None,
                };
                end.given[i] = Some((spec, note));
            }
        }
        self.place();
        Ok(())
    }

    /// Distinct `ip_column` / `dst_ip_column` values that no `places` entry has named yet (at
    /// most [`MAX_LOOKUP_KEYS`]): what the host should look up.
    pub fn unplaced_keys(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let open =
            |end: &IpEnd, i: usize| end.given[i].is_none() && end.cats.missing != Some(i as u32);
        if let Some(src) = &self.src_ips {
            for (i, label) in src.cats.labels.iter().enumerate() {
                if open(src, i) && out.len() < MAX_LOOKUP_KEYS {
                    out.push(label.clone());
                }
            }
        }
        if let Some(dst) = &self.dst_ips {
            // The source's labels are sorted (the missing label, if any, comes last): a value
            // of both columns is listed once.
            let sorted = self.src_ips.as_ref().map_or(&[][..], |src| {
                let n = src.cats.labels.len() - usize::from(src.cats.missing.is_some());
                &src.cats.labels[..n]
            });
            for (i, label) in dst.cats.labels.iter().enumerate() {
                let listed = match sorted.binary_search(label) {
                    Ok(j) => self.src_ips.as_ref().is_some_and(|src| open(src, j)),
                    Err(_) => false,
                };
                if open(dst, i) && !listed && out.len() < MAX_LOOKUP_KEYS {
                    out.push(label.clone());
                }
            }
        }
        out
    }

    /// Sets the country outlines (see [`Basemap::new`]) and places country-only rows.
    pub fn set_basemap(&mut self, basemap: Basemap) {
        self.basemap = Some(basemap);
        self.hover_country = None;
        self.place();
    }

    fn category_color(&self, category: u32) -> Rgba {
        match &self.categories {
            Some(c) if c.missing == Some(category) => theme(self.dark).missing,
            Some(c) if self.severity_palette => {
                severity_colors(&c.labels[category as usize]).map_or(
                    theme(self.dark).missing,
                    |(light, dark)| if self.dark { dark } else { light },
                )
            }
            Some(_) => CATEGORY[category as usize % CATEGORY.len()],
            None => {
                if self.dark {
                    Rgba::rgb(255, 120, 90)
                } else {
                    Rgba::rgb(0xd6, 0x27, 0x28)
                }
            }
        }
    }

    fn place_end(
        &self,
        row: usize,
        coords: &Option<(Vec<f64>, Vec<f64>)>,
        country: &Option<hg_arrow::StringColumn>,
        ips: &Option<IpEnd>,
        unknown: &mut Vec<String>,
    ) -> Option<Place> {
        if let Some((lon, lat)) = coords {
            let (x, y) = (lon[row], lat[row]);
            if valid_place(x, y) {
                return Some(Place {
                    lon: x,
                    lat: y,
                    centroid_of: None,
                    note: None,
                });
            }
        }
        let code = country
            .as_ref()
            .and_then(|c| c.get(row))
            .map(str::trim)
            .filter(|c| !c.is_empty());
        let (code, note) = match code {
            Some(code) => (code, None),
            None => {
                let end = ips.as_ref()?;
                let (spec, note) = end.given[end.cats.codes[row] as usize].as_ref()?;
                match spec {
                    PlaceSpec::At(lon, lat) => {
                        return valid_place(*lon, *lat).then_some(Place {
                            lon: *lon,
                            lat: *lat,
                            centroid_of: None,
                            note: *note,
                        })
                    }
                    PlaceSpec::Country(code) => (code.as_str(), *note),
                    PlaceSpec::Nowhere => return None,
                }
            }
        };
        match self.basemap.as_ref().and_then(|b| b.centroid_of(code)) {
            Some((c, (lon, lat))) => Some(Place {
                lon,
                lat,
                centroid_of: Some(c as u32),
                note,
            }),
            None => {
                if unknown.len() < 1_000 && !unknown.iter().any(|u| u == code) {
                    unknown.push(code.chars().take(16).collect());
                }
                None
            }
        }
    }

    fn has_destination(&self) -> bool {
        self.dst_coords.is_some() || self.dst_country.is_some() || self.dst_ips.is_some()
    }

    /// Places every row's ends and groups them into marks and lines.
    fn place(&mut self) {
        let mut unknown: Vec<String> = Vec::new();
        let mut marks: Vec<Mark> = Vec::new();
        // Keys packed into u64 (the map type the process tree already uses: the wasm stays small):
        // place quantized to 1e-4 degree (22 + 21 bits), colour category (20 bits), end (1 bit).
        let mut mark_index: HashMap<u64, u32> = HashMap::new();
        let mut lines: Vec<Line> = Vec::new();
        let mut line_index: HashMap<u64, u32> = HashMap::new();
        let (mut placed, mut centroid_ends, mut one_end_rows) = (0usize, 0usize, 0usize);
        let key = |p: &Place, category: u32, end: u8| -> u64 {
            let lon = ((p.lon + 180.0) * 1e4).round() as u64; // < 2^22
            let lat = ((p.lat + 90.0) * 1e4).round() as u64; // < 2^21
            (lon << 42) | (lat << 21) | ((category as u64) << 1) | end as u64
        };
        for row in 0..self.n_rows {
            let src = self.place_end(
                row,
                &self.src_coords,
                &self.src_country,
                &self.src_ips,
                &mut unknown,
            );
            let dst = if self.has_destination() {
                self.place_end(
                    row,
                    &self.dst_coords,
                    &self.dst_country,
                    &self.dst_ips,
                    &mut unknown,
                )
            } else {
                None
            };
            if self.has_destination() && src.is_some() != dst.is_some() {
                one_end_rows += 1;
            }
            if src.is_none() && dst.is_none() {
                continue;
            }
            placed += 1;
            let category = self.categories.as_ref().map_or(0, |c| c.codes[row]);
            let weight = match &self.sizes {
                Some(s) => {
                    let v = s[row];
                    if v.is_finite() && v > 0.0 {
                        v
                    } else {
                        0.0
                    }
                }
                None => 1.0,
            };
            let mut ends = [u32::MAX; 2];
            for (end, place) in [(0u8, src), (1u8, dst)] {
                let Some(p) = place else { continue };
                if p.centroid_of.is_some() {
                    centroid_ends += 1;
                }
                let k = key(&p, category, end);
                let i = *mark_index.entry(k).or_insert_with(|| {
                    marks.push(Mark {
                        lon: p.lon,
                        lat: p.lat,
                        centroid_of: p.centroid_of,
                        note: p.note,
                        notes_differ: false,
                        category,
                        end,
                        weight: 0.0,
                        rows: Vec::new(),
                    });
                    (marks.len() - 1) as u32
                });
                let m = &mut marks[i as usize];
                if m.note != p.note {
                    let differ = match (m.note, p.note) {
                        (Some(a), Some(b)) => self.notes[a as usize] != self.notes[b as usize],
                        _ => true,
                    };
                    m.notes_differ |= differ;
                }
                m.weight += weight;
                m.rows.push(row as u32);
                ends[end as usize] = i;
            }
            if let (Some(a), Some(b), true) = (src, dst, self.spec.lines) {
                // The two marks fix both places and the category.
                let k = ((ends[0] as u64) << 32) | ends[1] as u64;
                let i = *line_index.entry(k).or_insert_with(|| {
                    lines.push(Line {
                        from: (a.lon, a.lat),
                        to: (b.lon, b.lat),
                        category,
                        weight: 0.0,
                    });
                    (lines.len() - 1) as u32
                });
                lines[i as usize].weight += weight;
            }
        }
        self.max_weight = marks
            .iter()
            .map(|m| m.weight)
            .fold(0.0, f64::max)
            .max(f64::MIN_POSITIVE);
        // Drawing order, largest first (so small marks stay visible on top): a counting sort on
        // 256 size buckets instead of a comparison sort keeps the wasm small.
        const BUCKETS: usize = 256;
        let bucket = |m: &Mark| {
            let f = (m.weight / self.max_weight).clamp(0.0, 1.0).sqrt();
            BUCKETS - 1 - ((f * (BUCKETS - 1) as f64) as usize)
        };
        let mut starts = vec![0usize; BUCKETS + 1];
        for m in &marks {
            starts[bucket(m) + 1] += 1;
        }
        for b in 0..BUCKETS {
            starts[b + 1] += starts[b];
        }
        let mut order = vec![0u32; marks.len()];
        for (i, m) in marks.iter().enumerate() {
            let b = bucket(m);
            order[starts[b]] = i as u32;
            starts[b] += 1;
        }
        self.info.placed_rows = placed;
        self.info.unplaced_rows = self.n_rows - placed;
        self.info.centroid_ends = centroid_ends;
        self.info.one_end_rows = one_end_rows;
        self.info.unknown_countries = unknown;
        self.info.n_marks = marks.len();
        self.info.n_lines = lines.len();
        self.info.n_countries = self.basemap.as_ref().map_or(0, |b| b.countries.len());
        self.selected = vec![false; marks.len()];
        self.hover_mark = None;
        self.marks = marks;
        self.lines = lines;
        self.draw_order = order;
        self.refresh_legend();
    }

    fn refresh_legend(&mut self) {
        let Some(c) = &self.categories else {
            self.info.legend.clear();
            return;
        };
        // Only categories that have a mark are listed.
        let mut used = vec![false; c.labels.len()];
        for m in &self.marks {
            used[m.category as usize] = true;
        }
        let listed: Vec<usize> = (0..c.labels.len()).filter(|&i| used[i]).collect();
        self.info.legend = listed
            .iter()
            .take(MAX_LEGEND)
            .map(|&i| LegendEntry {
                label: c.labels[i].clone(),
                color: self.category_color(i as u32).css(),
            })
            .collect();
        self.info.legend_more = listed.len().saturating_sub(MAX_LEGEND);
    }

    /// Summary of the data and placement.
    pub fn info(&self) -> &GeoInfo {
        &self.info
    }

    /// Light (`false`) or dark (`true`) colours.
    pub fn set_theme(&mut self, dark: bool) {
        if self.dark != dark {
            self.dark = dark;
            self.refresh_legend();
        }
    }

    /// The canvas size in CSS px and the device pixel ratio (keeps the view's centre and zoom).
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
        let zoom = self.view.2 / self.fit_scale();
        self.css_w = css_w;
        self.css_h = css_h;
        self.dpr = dpr;
        self.raster.resize(w, h);
        if self.view_set {
            self.view.2 = zoom * self.fit_scale();
            self.clamp_view();
        } else {
            self.reset_view();
        }
        Ok(())
    }

    fn fit_scale(&self) -> f64 {
        let k = (self.css_w / 360.0).min(self.css_h / (FIT_LAT.1 - FIT_LAT.0));
        if k.is_finite() && k > 0.0 {
            k
        } else {
            1.0
        }
    }

    fn clamp_view(&mut self) {
        let fit = self.fit_scale();
        self.view.2 = self.view.2.clamp(fit * 0.5, fit * MAX_ZOOM);
        self.view.0 = self.view.0.clamp(-180.0, 180.0);
        self.view.1 = self.view.1.clamp(-90.0, 90.0);
    }

    /// The whole world fitted to the canvas.
    pub fn reset_view(&mut self) {
        self.view = (0.0, (FIT_LAT.0 + FIT_LAT.1) / 2.0, self.fit_scale());
        self.view_set = false;
    }

    /// The current view.
    pub fn view(&self) -> GeoView {
        GeoView {
            lon: self.view.0,
            lat: self.view.1,
            scale: self.view.2,
            zoom: self.view.2 / self.fit_scale(),
        }
    }

    /// Shows `(lon, lat)` at the centre with `zoom` times the fitted scale.
    pub fn set_view(&mut self, lon: f64, lat: f64, zoom: f64) -> Result<(), RenderError> {
        if !(lon.is_finite() && lat.is_finite() && zoom.is_finite() && zoom > 0.0) {
            return Err(RenderError::Argument(format!(
                "bad view lon {lon}, lat {lat}, zoom {zoom}"
            )));
        }
        self.view = (lon, lat, zoom * self.fit_scale());
        self.view_set = true;
        self.clamp_view();
        Ok(())
    }

    /// CSS position of a longitude/latitude.
    pub fn project(&self, lon: f64, lat: f64) -> (f64, f64) {
        let (cl, ca, k) = self.view;
        (
            self.css_w / 2.0 + (lon - cl) * k,
            self.css_h / 2.0 + (ca - lat) * k,
        )
    }

    /// Longitude/latitude at a CSS position.
    pub fn unproject(&self, x: f64, y: f64) -> (f64, f64) {
        let (cl, ca, k) = self.view;
        (
            cl + (x - self.css_w / 2.0) / k,
            ca - (y - self.css_h / 2.0) / k,
        )
    }

    /// Zooms by `factor` (> 1 enlarges) keeping the place under `(css_x, css_y)` still.
    pub fn zoom_at(&mut self, css_x: f64, css_y: f64, factor: f64) -> Result<(), RenderError> {
        if !(factor.is_finite() && factor > 0.0 && css_x.is_finite() && css_y.is_finite()) {
            return Err(RenderError::Argument(format!(
                "bad zoom factor {factor} at ({css_x}, {css_y})"
            )));
        }
        let (lon, lat) = self.unproject(css_x, css_y);
        self.view.2 *= factor;
        self.clamp_view();
        let k = self.view.2;
        self.view.0 = lon - (css_x - self.css_w / 2.0) / k;
        self.view.1 = lat + (css_y - self.css_h / 2.0) / k;
        self.view_set = true;
        self.clamp_view();
        Ok(())
    }

    /// Moves the map by CSS px (the map follows the pointer).
    pub fn pan_by(&mut self, dx: f64, dy: f64) {
        if !(dx.is_finite() && dy.is_finite()) {
            return;
        }
        self.view.0 -= dx / self.view.2;
        self.view.1 += dy / self.view.2;
        self.view_set = true;
        self.clamp_view();
    }

    fn radius(&self, m: &Mark) -> f64 {
        let (lo, hi) = (self.spec.min_radius, self.spec.max_radius);
        lo + (hi - lo) * (m.weight / self.max_weight).max(0.0).sqrt()
    }

    /// The mark under `(css_x, css_y)`: the nearest whose disc (plus 3 px) holds the point.
    pub fn hit_test(&self, css_x: f64, css_y: f64) -> Option<usize> {
        let mut best: Option<(f64, usize)> = None;
        for (i, m) in self.marks.iter().enumerate() {
            let (x, y) = self.project(m.lon, m.lat);
            let d = ((x - css_x).powi(2) + (y - css_y).powi(2)).sqrt();
            if d <= self.radius(m) + HIT_SLOP && best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, i));
            }
        }
        best.map(|(_, i)| i)
    }

    /// The country under `(css_x, css_y)` (index into the basemap's countries).
    pub fn country_at(&self, css_x: f64, css_y: f64) -> Option<usize> {
        let (lon, lat) = self.unproject(css_x, css_y);
        self.basemap.as_ref()?.country_at(lon, lat)
    }

    /// Highlights a mark (None clears).
    pub fn set_hover(&mut self, mark: Option<usize>) {
        self.hover_mark = mark.filter(|&m| m < self.marks.len()).map(|m| m as u32);
    }

    /// Highlights a country (None clears).
    pub fn set_hover_country(&mut self, country: Option<usize>) {
        let n = self.basemap.as_ref().map_or(0, |b| b.countries.len());
        self.hover_country = country.filter(|&c| c < n).map(|c| c as u32);
    }

    /// CSS position, radius and row count of a mark (for hosts and tests).
    pub fn mark_position(&self, mark: usize) -> Option<(f64, f64, f64, usize)> {
        let m = self.marks.get(mark)?;
        let (x, y) = self.project(m.lon, m.lat);
        Some((x, y, self.radius(m), m.rows.len()))
    }

    /// Number of marks.
    pub fn mark_count(&self) -> usize {
        self.marks.len()
    }

    fn country_label(&self, c: u32) -> String {
        let Some(b) = &self.basemap else {
            return String::new();
        };
        let info = &b.countries[c as usize];
        if info.a2.is_empty() {
            info.name.clone()
        } else {
            format!("{} ({})", info.name, info.a2)
        }
    }

    /// Hover details of a mark.
    pub fn tooltip(&self, mark: usize) -> Result<GeoTooltip, RenderError> {
        let m = self.marks.get(mark).ok_or_else(|| {
            RenderError::Argument(format!(
                "mark {mark} does not exist ({} marks)",
                self.marks.len()
            ))
        })?;
        let ds = &self.spec.dataset;
        let mut fields = Vec::new();
        if self.has_destination() {
            let end = if m.end == 0 { "source" } else { "destination" };
            fields.push(("End".into(), end.into()));
        }
        let title = match m.centroid_of {
            Some(c) => {
                let label = self.country_label(c);
                fields.push((
                    "Placement".into(),
                    format!(
                        "approximate: centroid of {label} (only the country is known, no coordinates)"
                    ),
                ));
                label
            }
            None => format!("{:.4}, {:.4}", m.lat, m.lon),
        };
        if let Some(n) = m.note {
            let more = if m.notes_differ {
                " (first row; others differ)"
            } else {
                ""
            };
            fields.push(("Place".into(), format!("{}{more}", self.notes[n as usize])));
        }
        if m.centroid_of.is_none() {
            fields.push((
                "Location".into(),
                format!("lat {:.4}, lon {:.4}", m.lat, m.lon),
            ));
        }
        fields.push(("Rows".into(), m.rows.len().to_string()));
        if let (Some(col), Some(c)) = (&self.spec.color_column, &self.categories) {
            fields.push((col.clone(), c.labels[m.category as usize].clone()));
        }
        if let Some(col) = &self.spec.size_column {
            let w = m.weight;
            let text = if w.fract() == 0.0 && w.abs() < 1e15 {
                format!("{}", w as i64)
            } else {
                format!("{w}")
            };
            fields.push((format!("{col} (sum)"), text));
        }
        let first = m.rows[0] as usize;
        for col in &self.spec.tooltip_columns {
            let mut value = self
                .table
                .display(col, first)
                .map_err(|e| data_error(ds, e))?;
            if m.rows.len() > 1 {
                let mut values: Vec<String> = Vec::new();
                for &r in m.rows.iter().take(200) {
                    if let Ok(v) = self.table.display(col, r as usize) {
                        if !values.contains(&v) {
                            values.push(v);
                        }
                    }
                }
                if values.len() > 1 {
                    let more = if m.rows.len() > 200 { "+" } else { "" };
                    value = format!("{value} (and {}{more} other values)", values.len() - 1);
                }
            }
            fields.push((col.clone(), value));
        }
        Ok(GeoTooltip {
            kind: "mark",
            title,
            fields,
            rows: m.rows.len(),
        })
    }

    /// Hover details of a country.
    pub fn country_tooltip(&self, country: usize) -> Result<GeoTooltip, RenderError> {
        let b = self.basemap.as_ref().ok_or_else(|| {
            RenderError::Argument("no basemap is set, so there are no countries".into())
        })?;
        let info = b.countries.get(country).ok_or_else(|| {
            RenderError::Argument(format!(
                "country {country} does not exist ({} countries)",
                b.countries.len()
            ))
        })?;
        let c = country as u32;
        let rows: usize = self
            .marks
            .iter()
            .filter(|m| m.centroid_of == Some(c))
            .map(|m| m.rows.len())
            .sum();
        let mut fields = vec![("Country".into(), info.name.clone())];
        if !info.a2.is_empty() {
            fields.push(("ISO code".into(), info.a2.clone()));
        }
        if rows > 0 {
            fields.push(("Rows placed at its centroid".into(), rows.to_string()));
        }
        Ok(GeoTooltip {
            kind: "country",
            title: info.name.clone(),
            fields,
            rows: 0,
        })
    }

    /// Selects the mark under the point (toggles it when `additive`; a miss without `additive`
    /// clears the selection).
    pub fn select_at(&mut self, css_x: f64, css_y: f64, additive: bool) {
        let hit = self.hit_test(css_x, css_y);
        if !additive {
            self.selected.iter_mut().for_each(|s| *s = false);
        }
        if let Some(i) = hit {
            self.selected[i] = if additive { !self.selected[i] } else { true };
        }
    }

    /// Selects the marks whose centre lies in the CSS rectangle (added when `additive`).
    pub fn select_box(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, additive: bool) {
        let (xa, xb) = (x0.min(x1), x0.max(x1));
        let (ya, yb) = (y0.min(y1), y0.max(y1));
        if !additive {
            self.selected.iter_mut().for_each(|s| *s = false);
        }
        for i in 0..self.marks.len() {
            let (x, y) = self.project(self.marks[i].lon, self.marks[i].lat);
            if x >= xa && x <= xb && y >= ya && y <= yb {
                self.selected[i] = true;
            }
        }
    }

    /// Selects exactly the marks that hold any of `rows` (a selection made elsewhere, e.g. in
    /// Python); a row that is not a row of the data set is an error naming it.
    pub fn select_rows(&mut self, rows: &[f64]) -> Result<(), RenderError> {
        let mut wanted = vec![false; self.n_rows];
        for &r in rows {
            if !(r.is_finite() && r >= 0.0 && r.fract() == 0.0 && (r as usize) < self.n_rows) {
                return Err(RenderError::Argument(format!(
                    "row {r} is not a row of the data set ({} rows)",
                    self.n_rows
                )));
            }
            wanted[r as usize] = true;
        }
        for (m, s) in self.marks.iter().zip(self.selected.iter_mut()) {
            *s = m.rows.iter().any(|&r| wanted[r as usize]);
        }
        Ok(())
    }

    /// Clears the selection.
    pub fn clear_selection(&mut self) {
        self.selected.iter_mut().for_each(|s| *s = false);
    }

    /// The rows of the selected marks, sorted and distinct.
    pub fn selection(&self) -> Vec<usize> {
        let mut rows: Vec<usize> = self
            .marks
            .iter()
            .zip(&self.selected)
            .filter(|(_, s)| **s)
            .flat_map(|(m, _)| m.rows.iter().map(|&r| r as usize))
            .collect();
        rows.sort_unstable();
        rows.dedup();
        rows
    }

    /// The data set name used in selections.
    pub fn dataset(&self) -> &str {
        &self.spec.dataset
    }

    /// The pixel bytes (RGBA, row-major).
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

    /// Device position of a longitude/latitude.
    fn device(&self, lon: f64, lat: f64) -> (f64, f64) {
        let (x, y) = self.project(lon, lat);
        (x * self.dpr, y * self.dpr)
    }

    /// Draws the map, lines and marks into the pixel buffer.
    pub fn render(&mut self) -> GeoFrame {
        let dark = self.dark;
        let t = *theme(dark);
        let (ocean, land, land_hover, border, graticule) = if dark {
            (
                Rgba::rgb(22, 30, 40),
                Rgba::rgb(58, 63, 71),
                Rgba::rgb(84, 92, 104),
                Rgba::rgb(110, 118, 130),
                Rgba::rgb(255, 255, 255).with_alpha(22),
            )
        } else {
            (
                Rgba::rgb(221, 233, 243),
                Rgba::rgb(242, 239, 233),
                Rgba::rgb(252, 232, 190),
                Rgba::rgb(170, 164, 152),
                Rgba::rgb(0, 0, 80).with_alpha(20),
            )
        };
        self.raster.clear(ocean);
        let (w, h) = (self.raster.width() as f64, self.raster.height() as f64);
        // Graticule every 30 degrees.
        for i in -6..=6 {
            let (x, _) = self.device(i as f64 * 30.0, 0.0);
            let (_, y0) = self.device(0.0, 90.0);
            let (_, y1) = self.device(0.0, -90.0);
            self.raster
                .line(x, y0.max(0.0), x, y1.min(h), 1.0, graticule);
        }
        for i in -3..=3 {
            let (_, y) = self.device(0.0, i as f64 * 30.0);
            let (x0, _) = self.device(-180.0, 0.0);
            let (x1, _) = self.device(180.0, 0.0);
            self.raster
                .line(x0.max(0.0), y, x1.min(w), y, 1.0, graticule);
        }
        let mut countries_drawn = 0;
        if let Some(b) = self.basemap.take() {
            let mut edges: Vec<(f64, f64, f64, f64)> = Vec::new();
            let mut xs: Vec<f64> = Vec::new();
            for (c, rings) in b.country_rings.iter().enumerate() {
                let bb = b.bbox[c];
                if rings.is_empty() {
                    continue;
                }
                let (bx0, by0) = self.device(bb[0], bb[3]);
                let (bx1, by1) = self.device(bb[2], bb[1]);
                if bx1 < 0.0 || by1 < 0.0 || bx0 > w || by0 > h {
                    continue;
                }
                countries_drawn += 1;
                edges.clear();
                for &r in rings {
                    let pts = b.ring(r as usize);
                    let n = pts.len() / 2;
                    let mut prev = self.device(pts[2 * (n - 1)] as f64, pts[2 * n - 1] as f64);
                    for i in 0..n {
                        let p = self.device(pts[2 * i] as f64, pts[2 * i + 1] as f64);
                        if prev.1 != p.1 {
                            edges.push((prev.0, prev.1, p.0, p.1));
                        }
                        prev = p;
                    }
                }
                let fill = if self.hover_country == Some(c as u32) {
                    land_hover
                } else {
                    land
                };
                let y_start = by0.max(0.0).floor() as i64;
                let y_end = by1.min(h).ceil() as i64;
                for y in y_start..y_end {
                    let sy = y as f64 + 0.5;
                    xs.clear();
                    for &(x0, y0, x1, y1) in &edges {
                        if (y0 <= sy) != (y1 <= sy) {
                            xs.push(x0 + (sy - y0) * (x1 - x0) / (y1 - y0));
                        }
                    }
                    // A handful of crossings per row: insertion sort.
                    for i in 1..xs.len() {
                        let mut j = i;
                        while j > 0 && xs[j - 1] > xs[j] {
                            xs.swap(j - 1, j);
                            j -= 1;
                        }
                    }
                    for pair in xs.chunks_exact(2) {
                        let xa = pair[0].round().clamp(-1.0, w + 1.0) as i64;
                        let xb = pair[1].round().clamp(-1.0, w + 1.0) as i64;
                        self.raster.span(y, xa, xb, fill);
                    }
                }
                for &(x0, y0, x1, y1) in &edges {
                    if (x0 < 0.0 && x1 < 0.0)
                        || (x0 > w && x1 > w)
                        || (y0 < 0.0 && y1 < 0.0)
                        || (y0 > h && y1 > h)
                    {
                        continue;
                    }
                    self.raster.line(x0, y0, x1, y1, 1.0, border);
                }
            }
            // Horizontal edges were skipped for the fill; outlines along parallels (Antarctica's
            // cut at -90) are not needed.
            self.basemap = Some(b);
        }
        let dpr = self.dpr;
        let mut lines_drawn = 0;
        if !self.lines.is_empty() {
            let max_line = self
                .lines
                .iter()
                .map(|l| l.weight)
                .fold(0.0, f64::max)
                .max(f64::MIN_POSITIVE);
            for i in 0..self.lines.len() {
                let l = self.lines[i].clone();
                let color = self.category_color(l.category).with_alpha(150);
                let width = (1.0 + 2.0 * (l.weight / max_line).sqrt()) * dpr;
                let path = arc(l.from, l.to);
                let mut visible = false;
                for seg in path.windows(2) {
                    let (x0, y0) = self.device(seg[0].0, seg[0].1);
                    let (x1, y1) = self.device(seg[1].0, seg[1].1);
                    if (x0 < 0.0 && x1 < 0.0)
                        || (x0 > w && x1 > w)
                        || (y0 < 0.0 && y1 < 0.0)
                        || (y0 > h && y1 > h)
                    {
                        continue;
                    }
                    visible = true;
                    self.raster.line(x0, y0, x1, y1, width, color);
                }
                if visible {
                    lines_drawn += 1;
                }
            }
        }
        let mut marks_drawn = 0;
        let outline = if dark {
            Rgba::rgb(20, 20, 20)
        } else {
            Rgba::rgb(255, 255, 255)
        };
        for k in 0..self.draw_order.len() {
            let i = self.draw_order[k] as usize;
            let (lon, lat, category, approximate) = {
                let m = &self.marks[i];
                (m.lon, m.lat, m.category, m.centroid_of.is_some())
            };
            let (x, y) = self.device(lon, lat);
            let r = self.radius(&self.marks[i]) * dpr;
            if x + r < 0.0 || y + r < 0.0 || x - r > w || y - r > h {
                continue;
            }
            marks_drawn += 1;
            let color = self.category_color(category);
            let emphasis = self.selected[i] || self.hover_mark == Some(i as u32);
            if emphasis {
                self.raster
                    .fill_circle(x, y, r + 2.5 * dpr, t.selection.with_alpha(255));
            }
            self.raster
                .fill_circle(x, y, r + dpr, outline.with_alpha(200));
            self.raster.fill_circle(x, y, r, color.with_alpha(215));
            if approximate {
                // Country-level placement: a hollow centre tells it from a located point.
                self.raster
                    .fill_circle(x, y, (r * 0.35).max(dpr), outline.with_alpha(230));
            }
        }
        GeoFrame {
            view: self.view(),
            marks_drawn,
            lines_drawn,
            countries_drawn,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
    use arrow_schema::{Field, Schema};
    use std::sync::Arc;

    fn ipc(columns: Vec<(&str, ArrayRef)>) -> Vec<u8> {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let batch =
            RecordBatch::try_new(schema.clone(), columns.into_iter().map(|c| c.1).collect())
                .unwrap();
        hg_arrow::write_ipc_stream(&schema, &[batch]).unwrap()
    }

    fn f(v: &[Option<f64>]) -> ArrayRef {
        Arc::new(Float64Array::from(v.to_vec()))
    }

    fn s(v: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(v.to_vec()))
    }

    /// Two square "countries": AA spanning lon 0..20, lat 0..20, and BB spanning lon -60..-40,
    /// lat -10..10 plus a small island at lon 100..102 (its largest ring is the mainland).
    fn basemap() -> Basemap {
        let coords: Vec<f32> = vec![
            0.0, 0.0, 20.0, 0.0, 20.0, 20.0, 0.0, 20.0, // AA
            -60.0, -10.0, -40.0, -10.0, -40.0, 10.0, -60.0, 10.0, // BB mainland
            100.0, 0.0, 102.0, 0.0, 102.0, 2.0, // BB island
        ];
        Basemap::new(
            &coords,
            &[4, 4, 3],
            &[0, 1, 1],
            r#"[{"id":"001","a2":"AA","name":"Alpha"},{"id":"002","a2":"bb","name":"Beta"},
                {"id":"003","a2":"CC","name":"Gamma","centroid":[50.0,50.0]}]"#,
        )
        .unwrap()
    }

    fn chart(spec: &str, cols: Vec<(&str, ArrayRef)>) -> GeoMapChart {
        let mut c = GeoMapChart::new(spec, &ipc(cols)).unwrap();
        c.set_basemap(basemap());
        c.resize(720.0, 284.0, 1.0).unwrap();
        c
    }

    #[test]
    fn centroids_come_from_the_largest_ring_or_the_listed_point() {
        let b = basemap();
        let (i, (x, y)) = b.centroid_of("aa").unwrap();
        assert_eq!(i, 0);
        assert!((x - 10.0).abs() < 1e-9 && (y - 10.0).abs() < 1e-9);
        let (_, (x, y)) = b.centroid_of("BB").unwrap();
        assert!((x + 50.0).abs() < 1e-9 && y.abs() < 1e-9, "{x} {y}");
        assert_eq!(b.centroid_of("CC").unwrap().1, (50.0, 50.0));
        assert!(b.centroid_of("ZZ").is_none());
        assert_eq!(b.country_at(5.0, 5.0), Some(0));
        assert_eq!(b.country_at(101.5, 0.5), Some(1));
        assert_eq!(b.country_at(30.0, 5.0), None);
    }

    #[test]
    fn bad_basemaps_are_refused_with_the_reason() {
        let names = r#"[{"a2":"AA","name":"A"}]"#;
        let e = Basemap::new(&[0.0, 0.0, 1.0, 0.0], &[2], &[0], names).unwrap_err();
        assert!(e.to_string().contains("ring 0 has 2 points"), "{e}");
        let e = Basemap::new(&[0.0, 0.0, 1.0, 0.0, 1.0, 1.0], &[4], &[0], names).unwrap_err();
        assert!(e.to_string().contains("add up to"), "{e}");
        let e = Basemap::new(&[0.0, 0.0, 1.0, 0.0, 1.0, 1.0], &[3], &[5], names).unwrap_err();
        assert!(e.to_string().contains("belongs to country 5"), "{e}");
        let e = Basemap::new(&[0.0, 0.0, 1.0, 0.0, 1.0, 99.0], &[3], &[0], names).unwrap_err();
        assert!(e.to_string().contains("point 2"), "{e}");
        let e = Basemap::new(&[0.0, 0.0, 1.0], &[3], &[0], names).unwrap_err();
        assert!(e.to_string().contains("whole number"), "{e}");
        let e = Basemap::new(&[], &[], &[], "{").unwrap_err();
        assert!(e.to_string().contains("countries JSON"), "{e}");
    }

    #[test]
    fn spec_errors_name_the_problem() {
        let data = ipc(vec![("lat", f(&[Some(1.0)])), ("lon", f(&[Some(2.0)]))]);
        let e = GeoMapChart::new(r#"{"lat_column":"lat"}"#, &data)
            .err()
            .unwrap();
        assert!(e.to_string().contains("both"), "{e}");
        let e = GeoMapChart::new(r#"{"colour":"x"}"#, &data).err().unwrap();
        assert!(e.to_string().contains("unknown field `colour`"), "{e}");
        for (spec, said) in [
            (
                r#"{"lat_column":3,"lon_column":"lon"}"#,
                "`lat_column` must be a column name",
            ),
            (
                r#"{"country_column":"lat","tooltip_columns":"lat"}"#,
                "must be a list",
            ),
            (
                r#"{"country_column":"lat","tooltip_columns":[1]}"#,
                "must list column names",
            ),
            (
                r#"{"country_column":"lat","lines":"yes"}"#,
                "`lines` must be true or false",
            ),
            (
                r#"{"country_column":"lat","height":"big"}"#,
                "`height` must be a number",
            ),
            (
                r#"{"country_column":"lat","places":[1]}"#,
                "`places` must be an object",
            ),
            ("[1]", "a spec is a JSON object"),
            ("{", "geo map spec"),
        ] {
            let e = GeoMapChart::new(spec, &data).err().unwrap();
            assert!(e.to_string().contains(said), "{spec}: {e}");
        }
        let ok = GeoMapChart::new(
            r#"{"lat_column":"lat","lon_column":"lon","title":null,"height":300,"min_radius":2,"lines":false}"#,
            &data,
        );
        assert!(ok.is_ok());
        let e = GeoMapChart::new("{}", &data).err().unwrap();
        assert!(e.to_string().contains("country_column"), "{e}");
        let e = GeoMapChart::new(r#"{"lat_column":"latitude","lon_column":"lon"}"#, &data)
            .err()
            .unwrap();
        let text = e.to_string();
        assert!(text.contains("latitude") && text.contains("lat"), "{text}");
        let e = GeoMapChart::new(r#"{"country_column":"lat","max_radius":0.5}"#, &data)
            .err()
            .unwrap();
        assert!(e.to_string().contains("max_radius"), "{e}");
        let e = GeoMapChart::new(r#"{"lat_column":"lat","lon_column":"lon"}"#, b"junk")
            .err()
            .unwrap();
        assert!(e.to_string().contains("points"), "{e}");
    }

    #[test]
    fn rows_are_grouped_into_marks_and_country_rows_use_centroids() {
        let c = chart(
            r#"{"lat_column":"lat","lon_column":"lon","country_column":"cc","color_column":"kind",
                "tooltip_columns":["note"]}"#,
            vec![
                (
                    "lat",
                    f(&[Some(5.0), Some(5.0), None, None, Some(95.0), None]),
                ),
                (
                    "lon",
                    f(&[Some(5.0), Some(5.0), None, None, Some(0.0), None]),
                ),
                (
                    "cc",
                    s(&[None, None, Some("BB"), Some("bb"), Some("AA"), Some("XX")]),
                ),
                (
                    "kind",
                    s(&[
                        Some("a"),
                        Some("a"),
                        Some("b"),
                        Some("b"),
                        Some("a"),
                        Some("a"),
                    ]),
                ),
                (
                    "note",
                    s(&[
                        Some("<img src=x onerror=alert(1)>"),
                        Some("two"),
                        None,
                        None,
                        None,
                        None,
                    ]),
                ),
            ],
        );
        let info = c.info();
        assert_eq!(info.placed_rows, 5);
        assert_eq!(info.unplaced_rows, 1);
        assert_eq!(info.unknown_countries, vec!["XX".to_string()]);
        assert_eq!(info.n_marks, 3);
        assert_eq!(info.centroid_ends, 3);
        assert_eq!(
            info.legend
                .iter()
                .map(|l| l.label.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        // The located mark at (5, 5) holds rows 0 and 1.
        let (x, y) = c.project(5.0, 5.0);
        let m = c.hit_test(x, y).unwrap();
        let tip = c.tooltip(m).unwrap();
        assert_eq!(tip.rows, 2);
        assert!(tip
            .fields
            .iter()
            .any(|(k, v)| k == "note" && v == "<img src=x onerror=alert(1)> (and 1 other values)"));
        // The centroid mark of BB says it is approximate.
        let (x, y) = c.project(-50.0, 0.0);
        let m = c.hit_test(x, y).unwrap();
        let tip = c.tooltip(m).unwrap();
        assert_eq!(tip.title, "Beta (bb)");
        assert!(tip.fields.iter().any(|(k, v)| k == "Placement"
            && v.contains("centroid of Beta")
            && v.contains("only the country is known")));
        assert_eq!(tip.rows, 2);
        assert!(c.hit_test(1.0, 1.0).is_none());
    }

    #[test]
    fn country_rows_wait_for_the_basemap() {
        let mut c = GeoMapChart::new(
            r#"{"country_column":"cc"}"#,
            &ipc(vec![("cc", s(&[Some("AA"), Some("AA")]))]),
        )
        .unwrap();
        assert_eq!(c.info().placed_rows, 0);
        c.set_basemap(basemap());
        assert_eq!(c.info().placed_rows, 2);
        assert_eq!(c.info().n_marks, 1);
        assert_eq!(c.info().n_countries, 3);
    }

    #[test]
    fn selection_returns_the_rows_of_the_chosen_marks() {
        let mut c = chart(
            r#"{"lat_column":"lat","lon_column":"lon","dataset":"geo"}"#,
            vec![
                ("lat", f(&[Some(5.0), Some(-5.0), Some(5.0)])),
                ("lon", f(&[Some(5.0), Some(-50.0), Some(5.0)])),
            ],
        );
        assert_eq!(c.dataset(), "geo");
        let (x, y) = c.project(5.0, 5.0);
        c.select_at(x, y, false);
        assert_eq!(c.selection(), vec![0, 2]);
        let (x2, y2) = c.project(-50.0, -5.0);
        c.select_at(x2, y2, true);
        assert_eq!(c.selection(), vec![0, 1, 2]);
        c.select_at(x, y, true);
        assert_eq!(c.selection(), vec![1]);
        c.select_at(1.0, 1.0, false);
        assert!(c.selection().is_empty());
        c.select_box(x2 - 5.0, y - 5.0, x + 5.0, y2 + 5.0, false);
        assert_eq!(c.selection(), vec![0, 1, 2]);
        // Rows chosen elsewhere select the marks that hold them (all of each mark's rows).
        c.select_rows(&[2.0]).unwrap();
        assert_eq!(c.selection(), vec![0, 2]);
        assert!(c
            .select_rows(&[3.0])
            .unwrap_err()
            .to_string()
            .contains("row 3"));
        assert!(c.select_rows(&[0.5]).is_err());
        c.clear_selection();
        assert!(c.selection().is_empty());
    }

    #[test]
    fn zoom_keeps_the_anchor_and_pan_moves_the_map() {
        let mut c = chart(
            r#"{"lat_column":"lat","lon_column":"lon"}"#,
            vec![("lat", f(&[Some(10.0)])), ("lon", f(&[Some(10.0)]))],
        );
        let before = c.project(10.0, 10.0);
        c.zoom_at(before.0, before.1, 4.0).unwrap();
        let after = c.project(10.0, 10.0);
        assert!((before.0 - after.0).abs() < 1e-6 && (before.1 - after.1).abs() < 1e-6);
        assert!((c.view().zoom - 4.0).abs() < 1e-9);
        c.pan_by(30.0, -10.0);
        let moved = c.project(10.0, 10.0);
        assert!((moved.0 - after.0 - 30.0).abs() < 1e-6);
        assert!((moved.1 - after.1 + 10.0).abs() < 1e-6);
        c.zoom_at(0.0, 0.0, 1e9).unwrap();
        assert!((c.view().zoom - MAX_ZOOM).abs() < 1e-6);
        assert!(c.zoom_at(0.0, 0.0, f64::NAN).is_err());
        c.reset_view();
        assert!((c.view().zoom - 1.0).abs() < 1e-9);
        // A resize keeps the zoom.
        c.set_view(10.0, 10.0, 3.0).unwrap();
        c.resize(360.0, 142.0, 2.0).unwrap();
        assert!((c.view().zoom - 3.0).abs() < 1e-9);
        assert_eq!(c.pixel_width(), 720);
    }

    #[test]
    fn render_fills_land_draws_marks_and_lines() {
        let mut c = chart(
            r#"{"lat_column":"lat","lon_column":"lon","dst_country_column":"dst"}"#,
            vec![
                ("lat", f(&[Some(15.0)])),
                ("lon", f(&[Some(15.0)])),
                ("dst", s(&[Some("BB")])),
            ],
        );
        assert_eq!(c.info().n_lines, 1);
        assert_eq!(c.info().n_marks, 2);
        let frame = c.render();
        assert_eq!(frame.marks_drawn, 2);
        assert_eq!(frame.lines_drawn, 1);
        assert_eq!(frame.countries_drawn, 2);
        fn px(c: &GeoMapChart, lon: f64, lat: f64) -> Rgba {
            let (x, y) = c.project(lon, lat);
            c.raster.pixel(x as usize, y as usize)
        }
        let land = Rgba::rgb(242, 239, 233);
        let ocean = Rgba::rgb(221, 233, 243);
        assert_eq!(px(&c, 3.0, 17.0), land);
        assert_eq!(px(&c, -45.0, -8.0), land);
        assert_eq!(px(&c, 50.0, -40.0), ocean);
        // The source mark is red, the line crosses the ocean between the two.
        let mark = px(&c, 15.0, 15.0);
        assert!(mark.r > 150 && mark.g < 120, "{mark:?}");
        let mid = arc((15.0, 15.0), (-50.0, 0.0));
        let (lon, lat) = mid[mid.len() / 2];
        let on_line = px(&c, lon, lat);
        assert_ne!(on_line, ocean);
        // Hovering a country tints it.
        let (x, y) = c.project(3.0, 17.0);
        let country = c.country_at(x, y).unwrap();
        c.set_hover_country(Some(country));
        c.render();
        assert_ne!(px(&c, 3.0, 17.0), land);
        assert_eq!(c.country_tooltip(country).unwrap().title, "Alpha");
        assert!(c.country_tooltip(99).is_err());
        assert!(c.tooltip(99).is_err());
    }

    #[test]
    fn key_columns_are_placed_through_places() {
        let mut c = GeoMapChart::new(
            r#"{"ip_column":"src","dst_ip_column":"dst","places":{"10.0.0.1":{"lon":10.0,"lat":10.0,"label":"office (assumed)"}}}"#,
            &ipc(vec![
                ("src", s(&[Some("10.0.0.1"), Some("10.0.0.1"), Some("10.0.0.2"), None])),
                ("dst", s(&[Some("8.8.8.8"), Some("1.1.1.1"), Some("8.8.8.8"), Some("10.0.0.1")])),
            ]),
        )
        .unwrap();
        c.set_basemap(basemap());
        c.resize(720.0, 284.0, 1.0).unwrap();
        // 10.0.0.1 is known from the spec; the others are asked for once each.
        assert_eq!(c.unplaced_keys(), vec!["10.0.0.2", "1.1.1.1", "8.8.8.8"]);
        assert_eq!(c.info().placed_rows, 3);
        c.set_places(
            r#"{"8.8.8.8":{"country":"BB"},"1.1.1.1":{"country":"ZZ"},"10.0.0.2":null,"other":null}"#,
        )
        .unwrap();
        assert!(c.unplaced_keys().is_empty());
        let info = c.info();
        assert_eq!(info.placed_rows, 4);
        // Row 1's destination (ZZ), row 2's source (null) and row 3's missing source.
        assert_eq!(info.one_end_rows, 3);
        assert_eq!(info.unknown_countries, vec!["ZZ".to_string()]);
        // Source office -> BB's centroid is one line; the office mark holds rows 0, 1 and the
        // destination end of row 3.
        assert_eq!(info.n_lines, 1);
        let (x, y) = c.project(10.0, 10.0);
        let m = c.hit_test(x, y).unwrap();
        let tip = c.tooltip(m).unwrap();
        assert!(tip
            .fields
            .iter()
            .any(|(k, v)| k == "Place" && v == "office (assumed)"));
        let e = c.set_places(r#"{"8.8.8.8":{"city":"x"}}"#).unwrap_err();
        assert!(e.to_string().contains("8.8.8.8"), "{e}");
        assert!(c.set_places("[1]").is_err());
        assert!(c
            .set_places("{")
            .unwrap_err()
            .to_string()
            .contains("places JSON"));
    }

    /// The shared cases of tests/cases/geo_map/cases.json (also checked against the reference).
    #[test]
    fn shared_cases() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/cases/geo_map/cases.json"
        );
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let bm = &doc["basemap"];
        let mut coords: Vec<f32> = Vec::new();
        let (mut lengths, mut owners) = (Vec::new(), Vec::new());
        for ring in bm["rings"].as_array().unwrap() {
            let c: Vec<f32> = ring["coords"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect();
            lengths.push((c.len() / 2) as u32);
            owners.push(ring["country"].as_u64().unwrap() as u32);
            coords.extend(c);
        }
        let countries = bm["countries"].to_string();
        let cases = doc["cases"].as_array().unwrap();
        assert!(cases.len() >= 5);
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let columns: Vec<(&str, ArrayRef)> = case["rows"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(col, values)| {
                    let values = values.as_array().unwrap();
                    let array: ArrayRef = if values.iter().any(|v| v.is_string()) {
                        Arc::new(StringArray::from(
                            values.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
                        ))
                    } else {
                        Arc::new(Float64Array::from(
                            values.iter().map(|v| v.as_f64()).collect::<Vec<_>>(),
                        ))
                    };
                    (col.as_str(), array)
                })
                .collect();
            let mut chart = GeoMapChart::new(&case["spec"].to_string(), &ipc(columns)).unwrap();
            chart.set_basemap(Basemap::new(&coords, &lengths, &owners, &countries).unwrap());
            let info = serde_json::to_value(chart.info()).unwrap();
            for (key, want) in case["expect"].as_object().unwrap() {
                assert_eq!(&info[key], want, "{name}: {key}");
            }
        }
    }

    #[test]
    fn arcs_end_at_their_ends_and_bend_left() {
        let path = arc((-74.0, 40.7), (2.35, 48.85));
        let (a, b) = (path[0], *path.last().unwrap());
        assert!((a.0 + 74.0).abs() < 1e-9 && (a.1 - 40.7).abs() < 1e-9);
        assert!((b.0 - 2.35).abs() < 1e-9 && (b.1 - 48.85).abs() < 1e-9);
        // Travelling east, left is north: the arc rises above both ends.
        assert!(path.iter().any(|p| p.1 > 52.0));
        // The way back bends the other way.
        assert!(arc((2.35, 48.85), (-74.0, 40.7)).iter().all(|p| p.1 < 49.0));
        assert_eq!(arc((1.0, 1.0), (1.0, 1.0)).len(), 2);
    }

    #[test]
    fn sizes_sum_a_column_and_marks_grow_with_it() {
        let c = chart(
            r#"{"lat_column":"lat","lon_column":"lon","size_column":"n"}"#,
            vec![
                ("lat", f(&[Some(5.0), Some(5.0), Some(-5.0)])),
                ("lon", f(&[Some(5.0), Some(5.0), Some(-50.0)])),
                ("n", f(&[Some(50.0), Some(50.0), Some(1.0)])),
            ],
        );
        let (x, y) = c.project(5.0, 5.0);
        let big = c.hit_test(x, y).unwrap();
        let (x2, y2) = c.project(-50.0, -5.0);
        let small = c.hit_test(x2, y2).unwrap();
        let (_, _, rb, nb) = c.mark_position(big).unwrap();
        let (_, _, rs, _) = c.mark_position(small).unwrap();
        assert_eq!(nb, 2);
        assert!((rb - 14.0).abs() < 1e-9 && rs < 5.0, "{rb} {rs}");
        let tip = c.tooltip(big).unwrap();
        assert!(tip.fields.iter().any(|(k, v)| k == "n (sum)" && v == "100"));
    }
}
