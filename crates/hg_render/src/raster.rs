//! An RGBA raster in device pixels with the few alpha-blended primitives the charts need.
//!
//! The raster is kept opaque (it is cleared to the theme background first), so blending only
//! mixes colours and the alpha channel stays 255: JS blits it with one `putImageData`.
//! Every primitive clips to the current clip rectangle, so callers may pass any coordinates.

/// A colour with straight (not premultiplied) alpha; `a` is the opacity used when blending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgba {
    /// Red.
    pub r: u8,
    /// Green.
    pub g: u8,
    /// Blue.
    pub b: u8,
    /// Opacity 0..=255.
    pub a: u8,
}

impl Rgba {
    /// An opaque colour.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Rgba {
        Rgba { r, g, b, a: 255 }
    }

    /// The same colour with another opacity.
    pub const fn with_alpha(self, a: u8) -> Rgba {
        Rgba { a, ..self }
    }

    /// Parses `#rgb`, `#rrggbb` or `#rrggbbaa` (and a few CSS colour names used by the
    /// reference: navy, red, black, white, grey/gray).
    pub fn parse(text: &str) -> Option<Rgba> {
        let t = text.trim();
        match t.to_ascii_lowercase().as_str() {
            "navy" => return Some(Rgba::rgb(0, 0, 128)),
            "red" => return Some(Rgba::rgb(255, 0, 0)),
            "black" => return Some(Rgba::rgb(0, 0, 0)),
            "white" => return Some(Rgba::rgb(255, 255, 255)),
            "grey" | "gray" => return Some(Rgba::rgb(128, 128, 128)),
            "green" => return Some(Rgba::rgb(0, 128, 0)),
            "blue" => return Some(Rgba::rgb(0, 0, 255)),
            "orange" => return Some(Rgba::rgb(255, 165, 0)),
            _ => {}
        }
        let hex = t.strip_prefix('#')?;
        if !hex.is_ascii() {
            return None;
        }
        let nibble = |i: usize| u8::from_str_radix(&hex[i..i + 1], 16).ok();
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        match hex.len() {
            3 => Some(Rgba::rgb(nibble(0)? * 17, nibble(1)? * 17, nibble(2)? * 17)),
            6 => Some(Rgba::rgb(byte(0)?, byte(2)?, byte(4)?)),
            8 => Some(Rgba {
                r: byte(0)?,
                g: byte(2)?,
                b: byte(4)?,
                a: byte(6)?,
            }),
            _ => None,
        }
    }

    /// CSS text `#rrggbb` (opacity dropped).
    pub fn css(&self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }

    /// Linear interpolation between two colours (`f` in 0..=1).
    pub fn mix(self, other: Rgba, f: f64) -> Rgba {
        let l = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f.clamp(0.0, 1.0)).round() as u8;
        Rgba {
            r: l(self.r, other.r),
            g: l(self.g, other.g),
            b: l(self.b, other.b),
            a: l(self.a, other.a),
        }
    }
}

/// The opacity (0..=255) that `count` identical marks of opacity `alpha` reach when stacked:
/// `1 - (1 - alpha)^count`. Used to draw many marks that land on one pixel as one mark.
pub fn stacked_alpha(alpha: u8, count: u32) -> u8 {
    if count <= 1 {
        return if count == 0 { 0 } else { alpha };
    }
    let single = alpha as f64 / 255.0;
    let stacked = 1.0 - (1.0 - single).powi(count.min(10_000) as i32);
    (stacked * 255.0).round().clamp(0.0, 255.0) as u8
}

/// Stroke width and dash pattern of a dashed line (pixels).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dash {
    /// Line width.
    pub width: f64,
    /// Length of each dash.
    pub on: f64,
    /// Gap between dashes.
    pub off: f64,
}

/// An RGBA pixel buffer, row-major, 4 bytes per pixel.
#[derive(Debug, Clone)]
pub struct Raster {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
    clip: (i64, i64, i64, i64),
}

/// Largest raster side accepted (device pixels); larger sizes are clamped.
pub const MAX_SIDE: usize = 16_384;

impl Raster {
    /// A raster of `width` x `height` device pixels (each side clamped to [`MAX_SIDE`]),
    /// transparent black.
    pub fn new(width: usize, height: usize) -> Raster {
        let (width, height) = (width.min(MAX_SIDE), height.min(MAX_SIDE));
        Raster {
            width,
            height,
            pixels: vec![0; width * height * 4],
            clip: (0, 0, width as i64, height as i64),
        }
    }

    /// Changes the size (content is cleared) and resets the clip.
    pub fn resize(&mut self, width: usize, height: usize) {
        let (width, height) = (width.min(MAX_SIDE), height.min(MAX_SIDE));
        self.width = width;
        self.height = height;
        self.pixels.clear();
        self.pixels.resize(width * height * 4, 0);
        self.pixels.shrink_to(width * height * 4 * 2);
        self.reset_clip();
    }

    /// Width in device pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in device pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The pixel bytes (RGBA, row-major).
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The colour of one pixel (for tests).
    pub fn pixel(&self, x: usize, y: usize) -> Rgba {
        let i = (y * self.width + x) * 4;
        Rgba {
            r: self.pixels[i],
            g: self.pixels[i + 1],
            b: self.pixels[i + 2],
            a: self.pixels[i + 3],
        }
    }

    /// Restricts drawing to the pixels `[x0, x1) x [y0, y1)` (intersected with the raster).
    pub fn set_clip(&mut self, x0: f64, y0: f64, x1: f64, y1: f64) {
        let c = |v: f64, max: usize| (v.round().max(0.0) as i64).min(max as i64);
        self.clip = (
            c(x0, self.width),
            c(y0, self.height),
            c(x1, self.width),
            c(y1, self.height),
        );
    }

    /// Allows drawing anywhere again.
    pub fn reset_clip(&mut self) {
        self.clip = (0, 0, self.width as i64, self.height as i64);
    }

    /// Sets every pixel (ignoring the clip and opacity) to an opaque colour.
    pub fn clear(&mut self, color: Rgba) {
        for px in self.pixels.chunks_exact_mut(4) {
            px.copy_from_slice(&[color.r, color.g, color.b, 255]);
        }
    }

    /// Blends `color` over the pixels `[x0, x1)` of row `y` (integer pixels, clipped).
    pub fn span(&mut self, y: i64, x0: i64, x1: i64, color: Rgba) {
        let (cx0, cy0, cx1, cy1) = self.clip;
        if y < cy0 || y >= cy1 || color.a == 0 {
            return;
        }
        let (x0, x1) = (x0.max(cx0), x1.min(cx1));
        if x0 >= x1 {
            return;
        }
        let row = y as usize * self.width * 4;
        let line = &mut self.pixels[row + x0 as usize * 4..row + x1 as usize * 4];
        if color.a == 255 {
            for px in line.chunks_exact_mut(4) {
                px.copy_from_slice(&[color.r, color.g, color.b, 255]);
            }
            return;
        }
        let a = color.a as u32;
        let na = 255 - a;
        let (r, g, b) = (color.r as u32 * a, color.g as u32 * a, color.b as u32 * a);
        for px in line.chunks_exact_mut(4) {
            px[0] = ((r + px[0] as u32 * na + 127) / 255) as u8;
            px[1] = ((g + px[1] as u32 * na + 127) / 255) as u8;
            px[2] = ((b + px[2] as u32 * na + 127) / 255) as u8;
            px[3] = 255;
        }
    }

    /// Fills the rectangle with corners `(x0, y0)`, `(x1, y1)` (pixel edges rounded; at least
    /// one pixel in each direction so thin marks stay visible).
    pub fn fill_rect(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, color: Rgba) {
        if !(x0.is_finite() && y0.is_finite() && x1.is_finite() && y1.is_finite()) {
            return;
        }
        let (x0, x1) = (x0.min(x1), x0.max(x1));
        let (y0, y1) = (y0.min(y1), y0.max(y1));
        let lim = |v: f64| v.clamp(-1e9, 1e9);
        let mut ix0 = lim(x0).round() as i64;
        let mut ix1 = lim(x1).round() as i64;
        let mut iy0 = lim(y0).round() as i64;
        let mut iy1 = lim(y1).round() as i64;
        if ix1 <= ix0 {
            ix0 = lim(x0).floor() as i64;
            ix1 = ix0 + 1;
        }
        if iy1 <= iy0 {
            iy0 = lim(y0).floor() as i64;
            iy1 = iy0 + 1;
        }
        let (_, cy0, _, cy1) = self.clip;
        for y in iy0.max(cy0)..iy1.min(cy1) {
            self.span(y, ix0, ix1, color);
        }
    }

    /// A filled diamond (square rotated 45 degrees) centred at `(cx, cy)` with half-diagonal `r`.
    pub fn fill_diamond(&mut self, cx: f64, cy: f64, r: f64, color: Rgba) {
        if !(cx.is_finite() && cy.is_finite()) || r <= 0.0 {
            return;
        }
        let top = (cy - r).round() as i64;
        let bottom = (cy + r).round() as i64;
        for y in top..=bottom {
            let dy = (y as f64 + 0.5 - cy).abs();
            let half = (r - dy).max(0.5);
            self.span(
                y,
                (cx - half).round() as i64,
                ((cx + half).round() as i64).max((cx - half).round() as i64 + 1),
                color,
            );
        }
    }

    /// A filled circle centred at `(cx, cy)` with radius `r`.
    pub fn fill_circle(&mut self, cx: f64, cy: f64, r: f64, color: Rgba) {
        if !(cx.is_finite() && cy.is_finite()) || r <= 0.0 {
            return;
        }
        let top = (cy - r).floor() as i64;
        let bottom = (cy + r).ceil() as i64;
        for y in top..bottom {
            let dy = (y as f64 + 0.5 - cy).abs();
            if dy > r {
                continue;
            }
            let half = (r * r - dy * dy).sqrt().max(0.5);
            let x0 = (cx - half).round() as i64;
            self.span(y, x0, ((cx + half).round() as i64).max(x0 + 1), color);
        }
    }

    /// A vertical dashed line at `x` from `y0` to `y1`.
    pub fn vline_dashed(&mut self, x: f64, y0: f64, y1: f64, dash: Dash, color: Rgba) {
        let (y0, y1) = (y0.min(y1), y0.max(y1));
        let period = (dash.on + dash.off).max(1.0);
        let mut y = y0;
        while y < y1 {
            self.fill_rect(
                x - dash.width / 2.0,
                y,
                x + dash.width / 2.0,
                (y + dash.on).min(y1),
                color,
            );
            y += period;
        }
    }

    /// A straight line `width` pixels thick (spans perpendicular to the major axis).
    pub fn line(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, width: f64, color: Rgba) {
        if !(x0.is_finite() && y0.is_finite() && x1.is_finite() && y1.is_finite()) {
            return;
        }
        let (dx, dy) = (x1 - x0, y1 - y0);
        let half = width.max(1.0) / 2.0;
        if dx.abs() >= dy.abs() {
            let (xa, ya, xb, yb) = if x0 <= x1 {
                (x0, y0, x1, y1)
            } else {
                (x1, y1, x0, y0)
            };
            let slope = if xb > xa { (yb - ya) / (xb - xa) } else { 0.0 };
            let thick = half * (1.0 + slope * slope).sqrt();
            let (cx0, _, cx1, _) = self.clip;
            let start = (xa.round() as i64).max(cx0);
            let end = (xb.round() as i64).min(cx1 - 1);
            for x in start..=end {
                let y = ya + (x as f64 + 0.5 - xa).clamp(0.0, xb - xa) * slope;
                let top = (y - thick).round() as i64;
                let bottom = ((y + thick).round() as i64).max(top + 1);
                for yy in top..bottom {
                    self.span(yy, x, x + 1, color);
                }
            }
        } else {
            let (xa, ya, xb, yb) = if y0 <= y1 {
                (x0, y0, x1, y1)
            } else {
                (x1, y1, x0, y0)
            };
            let slope = (xb - xa) / (yb - ya);
            let thick = half * (1.0 + slope * slope).sqrt();
            let (_, cy0, _, cy1) = self.clip;
            let start = (ya.round() as i64).max(cy0);
            let end = (yb.round() as i64).min(cy1 - 1);
            for y in start..=end {
                let x = xa + (y as f64 + 0.5 - ya).clamp(0.0, yb - ya) * slope;
                let left = (x - thick).round() as i64;
                self.span(y, left, ((x + thick).round() as i64).max(left + 1), color);
            }
        }
    }

    /// Connected line segments through `points`.
    pub fn polyline(&mut self, points: &[(f64, f64)], width: f64, color: Rgba) {
        for w in points.windows(2) {
            self.line(w[0].0, w[0].1, w[1].0, w[1].1, width, color);
        }
        if points.len() == 1 {
            self.fill_rect(
                points[0].0 - width / 2.0,
                points[0].1 - width / 2.0,
                points[0].0 + width / 2.0,
                points[0].1 + width / 2.0,
                color,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHITE: Rgba = Rgba::rgb(255, 255, 255);
    const RED: Rgba = Rgba::rgb(255, 0, 0);

    fn canvas() -> Raster {
        let mut r = Raster::new(20, 10);
        r.clear(WHITE);
        r
    }

    #[test]
    fn clear_makes_every_pixel_opaque() {
        let r = canvas();
        assert!(r.pixels().chunks(4).all(|p| p == [255, 255, 255, 255]));
        assert_eq!(r.pixels().len(), 20 * 10 * 4);
    }

    #[test]
    fn half_alpha_blends_halfway() {
        let mut r = canvas();
        r.fill_rect(0.0, 0.0, 2.0, 2.0, RED.with_alpha(128));
        assert_eq!(
            r.pixel(0, 0),
            Rgba {
                r: 255,
                g: 127,
                b: 127,
                a: 255
            }
        );
        assert_eq!(r.pixel(2, 0), WHITE);
    }

    #[test]
    fn rect_is_clipped() {
        let mut r = canvas();
        r.set_clip(5.0, 0.0, 10.0, 10.0);
        r.fill_rect(-100.0, -100.0, 100.0, 100.0, RED);
        assert_eq!(r.pixel(4, 5), WHITE);
        assert_eq!(r.pixel(5, 5), RED);
        assert_eq!(r.pixel(9, 9), RED);
        assert_eq!(r.pixel(10, 5), WHITE);
        r.reset_clip();
        r.fill_rect(f64::NAN, 0.0, 1.0, 1.0, RED);
        assert_eq!(r.pixel(0, 0), WHITE);
    }

    #[test]
    fn diamond_is_widest_in_the_middle() {
        let mut r = canvas();
        r.fill_diamond(10.0, 5.0, 4.0, RED);
        let row_width = |y| (0..20).filter(|&x| r.pixel(x, y) == RED).count();
        assert!(row_width(4) > row_width(2));
        assert!(row_width(2) > 0);
        assert_eq!(row_width(0), 0);
        assert_eq!(r.pixel(10, 5), RED);
        assert_eq!(r.pixel(3, 5), WHITE);
    }

    #[test]
    fn circle_covers_its_centre_not_its_corners() {
        let mut r = canvas();
        r.fill_circle(10.0, 5.0, 4.0, RED);
        assert_eq!(r.pixel(10, 5), RED);
        assert_eq!(r.pixel(6, 1), WHITE);
        assert_eq!(r.pixel(13, 8), WHITE);
    }

    #[test]
    fn dashed_line_has_gaps() {
        let mut r = canvas();
        r.vline_dashed(
            5.5,
            0.0,
            10.0,
            Dash {
                width: 1.0,
                on: 2.0,
                off: 2.0,
            },
            RED,
        );
        let column: Vec<bool> = (0..10).map(|y| r.pixel(5, y) == RED).collect();
        assert_eq!(
            column,
            [true, true, false, false, true, true, false, false, true, true]
        );
    }

    #[test]
    fn thick_line_and_polyline_cover_their_path() {
        let mut r = canvas();
        r.polyline(&[(0.0, 1.0), (19.0, 8.0)], 2.0, RED);
        assert_eq!(r.pixel(0, 1), RED);
        assert_eq!(r.pixel(19, 8), RED);
        assert_eq!(r.pixel(19, 0), WHITE);
        let mut v = canvas();
        v.line(3.0, 0.0, 3.0, 9.0, 1.0, RED);
        assert!((0..9).all(|y| v.pixel(3, y) == RED));
    }

    #[test]
    fn stacked_alpha_matches_repeated_blending() {
        let mut a = canvas();
        for _ in 0..3 {
            a.fill_rect(0.0, 0.0, 1.0, 1.0, RED.with_alpha(128));
        }
        let mut b = canvas();
        b.fill_rect(0.0, 0.0, 1.0, 1.0, RED.with_alpha(stacked_alpha(128, 3)));
        let (pa, pb) = (a.pixel(0, 0), b.pixel(0, 0));
        assert!((pa.g as i32 - pb.g as i32).abs() <= 2, "{pa:?} {pb:?}");
        assert_eq!(stacked_alpha(128, 1), 128);
        assert_eq!(stacked_alpha(128, 0), 0);
        assert_eq!(stacked_alpha(128, 100), 255);
    }

    #[test]
    fn parses_css_colours() {
        assert_eq!(Rgba::parse("#1f77b4"), Some(Rgba::rgb(0x1f, 0x77, 0xb4)));
        assert_eq!(Rgba::parse("#fff"), Some(WHITE));
        assert_eq!(Rgba::parse("navy"), Some(Rgba::rgb(0, 0, 128)));
        assert_eq!(Rgba::parse("#12345"), None);
        assert_eq!(Rgba::parse("#ééé"), None);
        assert_eq!(Rgba::rgb(1, 2, 255).css(), "#0102ff");
    }
}
