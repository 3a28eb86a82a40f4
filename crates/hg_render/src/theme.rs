//! Light and dark colours, fonts and the categorical palette.

use crate::raster::Rgba;

/// The colours of one theme.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Theme {
    /// Canvas background.
    pub background: Rgba,
    /// Shading of every other lane.
    pub lane_shade: Rgba,
    /// Grid lines.
    pub grid: Rgba,
    /// Axis lines.
    pub axis: Rgba,
    /// Main text.
    pub text: Rgba,
    /// Secondary text (axis context, hints).
    pub muted_text: Rgba,
    /// Outline of selected marks.
    pub selection: Rgba,
    /// Reference marker lines and labels.
    pub reference: Rgba,
    /// Marks whose colour category is missing.
    pub missing: Rgba,
    /// Colour of a single series when the spec gives none.
    pub default_series: Rgba,
}

/// The light theme.
pub const LIGHT: Theme = Theme {
    background: Rgba::rgb(255, 255, 255),
    lane_shade: Rgba::rgb(244, 246, 250),
    grid: Rgba {
        r: 0,
        g: 0,
        b: 128,
        a: 36,
    },
    axis: Rgba::rgb(120, 120, 120),
    text: Rgba::rgb(34, 34, 34),
    muted_text: Rgba::rgb(110, 110, 110),
    selection: Rgba::rgb(255, 127, 14),
    reference: Rgba::rgb(214, 39, 40),
    missing: Rgba::rgb(150, 150, 150),
    default_series: Rgba::rgb(0, 0, 128),
};

/// The dark theme.
pub const DARK: Theme = Theme {
    background: Rgba::rgb(30, 30, 30),
    lane_shade: Rgba::rgb(40, 43, 49),
    grid: Rgba {
        r: 255,
        g: 255,
        b: 255,
        a: 34,
    },
    axis: Rgba::rgb(150, 150, 150),
    text: Rgba::rgb(221, 221, 221),
    muted_text: Rgba::rgb(160, 160, 160),
    selection: Rgba::rgb(255, 176, 0),
    reference: Rgba::rgb(255, 90, 90),
    missing: Rgba::rgb(120, 120, 120),
    default_series: Rgba::rgb(122, 162, 255),
};

/// The theme for a dark flag.
pub fn theme(dark: bool) -> &'static Theme {
    if dark {
        &DARK
    } else {
        &LIGHT
    }
}

/// Font of the title.
pub const TITLE_FONT: &str = "bold 13px sans-serif";
/// Font of axis and lane labels.
pub const LABEL_FONT: &str = "11px sans-serif";
/// Font of small annotations (reference markers, axis context).
pub const SMALL_FONT: &str = "10px sans-serif";

/// Anchor colours of matplotlib's viridis map at 0, 0.1, ..., 1.
const VIRIDIS: [(u8, u8, u8); 11] = [
    (0x44, 0x01, 0x54),
    (0x48, 0x24, 0x75),
    (0x41, 0x44, 0x87),
    (0x35, 0x5f, 0x8d),
    (0x2a, 0x78, 0x8e),
    (0x21, 0x91, 0x8c),
    (0x22, 0xa8, 0x84),
    (0x44, 0xbf, 0x70),
    (0x7a, 0xd1, 0x51),
    (0xbd, 0xdf, 0x26),
    (0xfd, 0xe7, 0x25),
];

/// Viridis at `f` in 0..=1 (piecewise linear between the anchors).
pub fn viridis(f: f64) -> Rgba {
    let f = f.clamp(0.0, 1.0) * 10.0;
    let i = (f.floor() as usize).min(9);
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    Rgba::rgb(a.0, a.1, a.2).mix(Rgba::rgb(b.0, b.1, b.2), f - i as f64)
}

/// The palette for `n` categories, as the reference builds it: viridis sampled at
/// `min(256, n + n / 5)` points (the extra points drop the brightest yellows); category `i`
/// takes entry `i % size`.
pub fn palette(n: usize) -> Vec<Rgba> {
    let size = (n + n / 5).clamp(1, 256);
    (0..n)
        .map(|i| {
            let k = i % size;
            viridis(if size == 1 {
                0.0
            } else {
                k as f64 / (size - 1) as f64
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_matches_the_reference_sizes() {
        assert_eq!(palette(1), vec![Rgba::rgb(0x44, 0x01, 0x54)]);
        let five = palette(5);
        // size 6: the last entry (pure yellow) is dropped.
        assert_ne!(five[4], Rgba::rgb(0xfd, 0xe7, 0x25));
        let big = palette(300);
        assert_eq!(big[0], big[256]);
        assert_eq!(big[255], Rgba::rgb(0xfd, 0xe7, 0x25));
    }
}
