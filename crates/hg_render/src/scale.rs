//! Scales: map a data domain onto a pixel range and back.

/// Maps i64 UTC nanoseconds onto an f64 pixel range (and back).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeScale {
    start: i64,
    end: i64,
    x0: f64,
    x1: f64,
    px_per_ns: f64,
}

impl TimeScale {
    /// A scale from `[start, end]` nanoseconds onto `[x0, x1]` pixels; an empty or reversed domain
    /// is widened to one nanosecond so the scale stays finite.
    pub fn new(start: i64, end: i64, x0: f64, x1: f64) -> TimeScale {
        let end = if end > start {
            end
        } else {
            start.saturating_add(1)
        };
        let span = (end as i128 - start as i128) as f64;
        TimeScale {
            start,
            end,
            x0,
            x1,
            px_per_ns: (x1 - x0) / span,
        }
    }

    /// The domain start (ns).
    pub fn start(&self) -> i64 {
        self.start
    }

    /// The domain end (ns).
    pub fn end(&self) -> i64 {
        self.end
    }

    /// The pixel range.
    pub fn range(&self) -> (f64, f64) {
        (self.x0, self.x1)
    }

    /// Pixels per nanosecond.
    pub fn px_per_ns(&self) -> f64 {
        self.px_per_ns
    }

    /// The pixel position of a time.
    pub fn x(&self, t: i64) -> f64 {
        // The i64 difference is exact when it does not overflow (always, for real data); i128
        // keeps it exact for extreme pairs. The fast path matters: this runs once per event.
        let delta = match t.checked_sub(self.start) {
            Some(d) => d as f64,
            None => (t as i128 - self.start as i128) as f64,
        };
        self.x0 + delta * self.px_per_ns
    }

    /// The time at a pixel position (saturating at the i64 limits).
    pub fn t(&self, x: f64) -> i64 {
        let delta = ((x - self.x0) / self.px_per_ns).round();
        if !delta.is_finite() {
            return if delta > 0.0 { i64::MAX } else { i64::MIN };
        }
        // Both terms fit i128 exactly enough; clamp the sum back into i64.
        let delta = delta.clamp(-1.9e19, 1.9e19) as i128;
        (self.start as i128 + delta).clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }

    /// How many nanoseconds a pixel distance covers (rounded up, at least 1).
    pub fn ns_for_px(&self, px: f64) -> i64 {
        let ns = (px.abs() / self.px_per_ns.abs()).ceil();
        if ns >= 9.2e18 {
            i64::MAX / 4
        } else {
            (ns as i64).max(1)
        }
    }
}

/// Maps an f64 domain onto an f64 pixel range (and back).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearScale {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

impl LinearScale {
    /// A scale from `[d0, d1]` onto `[r0, r1]`; an empty domain is widened by one unit each side.
    pub fn new(d0: f64, d1: f64, r0: f64, r1: f64) -> LinearScale {
        let (d0, d1) = if d1 > d0 && (d1 - d0).is_finite() {
            (d0, d1)
        } else {
            (d0 - 1.0, d0 + 1.0)
        };
        LinearScale { d0, d1, r0, r1 }
    }

    /// The domain.
    pub fn domain(&self) -> (f64, f64) {
        (self.d0, self.d1)
    }

    /// The position of a value.
    pub fn y(&self, v: f64) -> f64 {
        self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
    }

    /// The value at a position.
    pub fn invert(&self, p: f64) -> f64 {
        self.d0 + (p - self.r0) / (self.r1 - self.r0) * (self.d1 - self.d0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_scale_maps_and_inverts() {
        let s = TimeScale::new(1_000, 2_000, 10.0, 110.0);
        assert_eq!(s.x(1_000), 10.0);
        assert_eq!(s.x(2_000), 110.0);
        assert_eq!(s.x(1_500), 60.0);
        assert_eq!(s.t(60.0), 1_500);
        assert_eq!(s.ns_for_px(6.0), 60);
    }

    #[test]
    fn time_scale_survives_extreme_domains() {
        let s = TimeScale::new(i64::MIN, i64::MAX, 0.0, 1000.0);
        assert!((s.x(0) - 500.0).abs() < 1e-6);
        assert_eq!(s.t(-1e9), i64::MIN);
        assert_eq!(s.t(1e9), i64::MAX);
        let empty = TimeScale::new(5, 5, 0.0, 10.0);
        assert!(empty.x(5).is_finite());
    }

    #[test]
    fn linear_scale_flips_for_y() {
        let s = LinearScale::new(0.0, 10.0, 100.0, 0.0);
        assert_eq!(s.y(0.0), 100.0);
        assert_eq!(s.y(10.0), 0.0);
        assert_eq!(s.invert(50.0), 5.0);
        let flat = LinearScale::new(3.0, 3.0, 0.0, 10.0);
        assert_eq!(flat.domain(), (2.0, 4.0));
    }
}
