//! STL decomposition (Cleveland, Cleveland, McRae and Terpenning 1990) and the reference's
//! residual z-score anomaly detection.
//!
//! # STL
//!
//! [`stl`] decomposes a regularly spaced series into trend, seasonal and residual components with
//! the algorithm of the paper: an inner loop of cycle-subseries LOESS smoothing, a low-pass
//! filter (moving averages of length `period`, `period` and 3 followed by a LOESS), seasonal
//! detrending and a trend LOESS, optionally wrapped in an outer loop that computes robustness
//! weights from the residuals (bisquare of the residual over six times the median absolute
//! residual). The options and their defaults are those of statsmodels' `STL` (which the
//! reference calls with `seasonal=7, period=24`): LOESS degree 1 everywhere, jumps of 1, the
//! trend length the smallest odd integer at least `1.5 * period / (1 - 1.5 / seasonal)`, the
//! low-pass length the smallest odd integer above `period`, 5 inner and 0 outer iterations
//! (2 and 15 when robust). The LOESS estimator follows the paper's conventions exactly (the
//! tricube bandwidth is the distance to the farthest point of the window, points at 99.9% of
//! it weigh nothing, a window longer than the series widens the bandwidth by half the excess,
//! an estimate with no weight falls back to the observation), so results agree with
//! statsmodels to rounding (the differential test checks 1e-6 relative).
//!
//! Speed: every LOESS window is evaluated in one pass that accumulates five weighted sums
//! (weights, first and second moments, weighted values and moment-weighted values), and the
//! tricube kernel of the interior bandwidth is tabulated once per smoother, so a fit costs
//! about `inner_iterations * (seasonal + trend + low_pass)` multiply-adds per point.
//!
//! # Anomalies
//!
//! [`score_anomalies`] reproduces the reference's scoring (`ts_anomalies_stl`): the components
//! are truncated toward zero to integers, the score is the population z-score of the integer
//! residual, and a point is flagged when its score exceeds the threshold: `1` when the
//! (integer) seasonal component is positive, `-1` when it is negative, not at all when it is
//! zero; dips are never flagged. [`Detection::TwoSided`] is the corrected rule: `1` above
//! `threshold`, `-1` below `-threshold`. Without integer truncation the float components are
//! scored.
//!
//! # Input limits
//!
//! The series must be finite (a NaN or infinite value is an error naming its position), hold at
//! least two full periods and at most [`MAX_POINTS`] points; `period` is at least 2; smoother
//! lengths are odd, at least 3 and at most [`MAX_SMOOTHER`]; iterations are bounded by
//! [`MAX_ITERATIONS`].

/// Most points accepted in one series.
pub const MAX_POINTS: usize = 100_000_000;
/// Longest smoother (LOESS window) accepted.
pub const MAX_SMOOTHER: usize = 1_000_001;
/// Most inner or outer iterations accepted.
pub const MAX_ITERATIONS: usize = 100;

/// Errors of the time-series engines.
#[derive(Debug, thiserror::Error)]
pub enum TimeseriesError {
    /// Reading the Arrow input failed (missing column, wrong type, bad IPC).
    #[error(transparent)]
    Arrow(#[from] hg_arrow::HgArrowError),
    /// An option has a value that cannot be used.
    #[error("option '{name}': {detail}")]
    InvalidOption {
        /// The option.
        name: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// The series cannot be decomposed (too short, non-finite values, no period found).
    #[error("{0}")]
    InvalidSeries(String),
    /// The input is larger than the engine's limits.
    #[error("input too large: {0}")]
    TooLarge(String),
    /// Building the Arrow output failed.
    #[error("building the output: {0}")]
    Output(String),
}

impl From<arrow_schema::ArrowError> for TimeseriesError {
    fn from(e: arrow_schema::ArrowError) -> Self {
        TimeseriesError::Output(e.to_string())
    }
}

/// STL options (statsmodels' names and defaults; `None` lengths are derived from the period).
#[derive(Debug, Clone, PartialEq)]
pub struct StlParams {
    /// Length of one seasonal cycle in points (at least 2).
    pub period: usize,
    /// Length of the seasonal smoother (odd, at least 3).
    pub seasonal: usize,
    /// Length of the trend smoother (odd, at least 3, above `period`); `None`: derived.
    pub trend: Option<usize>,
    /// Length of the low-pass smoother (odd, at least 3, above `period`); `None`: derived.
    pub low_pass: Option<usize>,
    /// Degree of the seasonal LOESS (0 or 1).
    pub seasonal_deg: u8,
    /// Degree of the trend LOESS (0 or 1).
    pub trend_deg: u8,
    /// Degree of the low-pass LOESS (0 or 1).
    pub low_pass_deg: u8,
    /// Evaluate the seasonal LOESS every this many points and interpolate between.
    pub seasonal_jump: usize,
    /// Evaluate the trend LOESS every this many points and interpolate between.
    pub trend_jump: usize,
    /// Evaluate the low-pass LOESS every this many points and interpolate between.
    pub low_pass_jump: usize,
    /// Compute robustness weights in an outer loop (resists outliers).
    pub robust: bool,
    /// Inner iterations; `None`: 5 (2 when robust).
    pub inner_iter: Option<usize>,
    /// Outer (robustness) iterations; `None`: 0 (15 when robust).
    pub outer_iter: Option<usize>,
}

impl StlParams {
    /// The reference's call: `seasonal` smoother length and `period`, every other option at its
    /// default.
    pub fn new(period: usize, seasonal: usize) -> StlParams {
        StlParams {
            period,
            seasonal,
            trend: None,
            low_pass: None,
            seasonal_deg: 1,
            trend_deg: 1,
            low_pass_deg: 1,
            seasonal_jump: 1,
            trend_jump: 1,
            low_pass_jump: 1,
            robust: false,
            inner_iter: None,
            outer_iter: None,
        }
    }

    /// The trend smoother length used: the given one, else the smallest odd integer at least
    /// `1.5 * period / (1 - 1.5 / seasonal)`.
    pub fn trend_length(&self) -> usize {
        self.trend.unwrap_or_else(|| {
            let t = (1.5 * self.period as f64 / (1.0 - 1.5 / self.seasonal as f64)).ceil() as usize;
            t + usize::from(t & 1 == 0)
        })
    }

    /// The low-pass smoother length used: the given one, else the smallest odd integer above
    /// `period`.
    pub fn low_pass_length(&self) -> usize {
        self.low_pass.unwrap_or_else(|| {
            let l = self.period + 1;
            l + usize::from(l & 1 == 0)
        })
    }

    /// Inner iterations used.
    pub fn inner_iterations(&self) -> usize {
        self.inner_iter.unwrap_or(if self.robust { 2 } else { 5 })
    }

    /// Outer iterations used.
    pub fn outer_iterations(&self) -> usize {
        self.outer_iter.unwrap_or(if self.robust { 15 } else { 0 })
    }

    /// Checks every option; the error names the option and the rule.
    pub fn validate(&self) -> Result<(), TimeseriesError> {
        let bad =
            |name: &'static str, detail: String| TimeseriesError::InvalidOption { name, detail };
        if self.period < 2 {
            return Err(bad(
                "period",
                format!("must be at least 2, got {}", self.period),
            ));
        }
        let odd = |name: &'static str, v: usize, above_period: bool| {
            if v < 3 || v & 1 == 0 || v > MAX_SMOOTHER {
                return Err(bad(
                    name,
                    format!("must be an odd integer from 3 to {MAX_SMOOTHER}, got {v}"),
                ));
            }
            if above_period && v <= self.period {
                return Err(bad(
                    name,
                    format!("must be larger than the period ({}), got {v}", self.period),
                ));
            }
            Ok(())
        };
        odd("seasonal", self.seasonal, false)?;
        odd("trend", self.trend_length(), true)?;
        odd("low_pass", self.low_pass_length(), true)?;
        for (name, deg) in [
            ("seasonal_deg", self.seasonal_deg),
            ("trend_deg", self.trend_deg),
            ("low_pass_deg", self.low_pass_deg),
        ] {
            if deg > 1 {
                return Err(bad(name, format!("must be 0 or 1, got {deg}")));
            }
        }
        for (name, jump) in [
            ("seasonal_jump", self.seasonal_jump),
            ("trend_jump", self.trend_jump),
            ("low_pass_jump", self.low_pass_jump),
        ] {
            if jump == 0 {
                return Err(bad(name, "must be at least 1".into()));
            }
        }
        for (name, it) in [
            ("inner_iter", self.inner_iterations()),
            ("outer_iter", self.outer_iterations()),
        ] {
            if it > MAX_ITERATIONS {
                return Err(bad(name, format!("at most {MAX_ITERATIONS}, got {it}")));
            }
        }
        if self.inner_iterations() == 0 {
            return Err(bad("inner_iter", "must be at least 1".into()));
        }
        Ok(())
    }
}

/// The components of one STL fit; `observed = trend + seasonal + residual` for every point.
#[derive(Debug, Clone, PartialEq)]
pub struct StlFit {
    /// Trend component.
    pub trend: Vec<f64>,
    /// Seasonal component.
    pub seasonal: Vec<f64>,
    /// Residual: observed minus trend minus seasonal.
    pub residual: Vec<f64>,
    /// Robustness weights (all 1 without outer iterations).
    pub weights: Vec<f64>,
}

/// Decomposes `y` (regularly spaced, finite) with STL.
pub fn stl(y: &[f64], params: &StlParams) -> Result<StlFit, TimeseriesError> {
    params.validate()?;
    let n = y.len();
    if n > MAX_POINTS {
        return Err(TimeseriesError::TooLarge(format!(
            "{n} points in one series (at most {MAX_POINTS})"
        )));
    }
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        return Err(TimeseriesError::InvalidSeries(format!(
            "value at position {i} is {} (the series must be finite)",
            y[i]
        )));
    }
    let np = params.period;
    if n < 2 * np {
        return Err(TimeseriesError::InvalidSeries(format!(
            "{n} points: STL needs at least two full periods ({} points for period {np})",
            2 * np
        )));
    }
    let mut fitter = Fitter::new(y, params);
    fitter.run();
    let residual = y
        .iter()
        .zip(fitter.trend.iter().zip(&fitter.season))
        .map(|(v, (t, s))| v - s - t)
        .collect();
    Ok(StlFit {
        trend: fitter.trend,
        seasonal: fitter.season,
        residual,
        weights: fitter.rw,
    })
}

/// One LOESS smoother's settings.
#[derive(Clone, Copy)]
struct Smoother {
    len: usize,
    deg: u8,
    jump: usize,
}

/// Working storage of one fit.
struct Fitter<'a> {
    y: &'a [f64],
    np: usize,
    seasonal: Smoother,
    trend_s: Smoother,
    low_pass: Smoother,
    inner: usize,
    outer: usize,
    trend: Vec<f64>,
    season: Vec<f64>,
    rw: Vec<f64>,
    use_rw: bool,
    /// Detrended series, then the low-pass result.
    w0: Vec<f64>,
    /// Cycle-subseries smooth, extended one period each side (n + 2 np).
    w1: Vec<f64>,
    /// Moving-average scratch (n + 2 np).
    w2: Vec<f64>,
    w3: Vec<f64>,
    sub_y: Vec<f64>,
    sub_rw: Vec<f64>,
    sub_out: Vec<f64>,
    kernel: KernelCache,
}

impl<'a> Fitter<'a> {
    fn new(y: &'a [f64], p: &StlParams) -> Fitter<'a> {
        let n = y.len();
        let np = p.period;
        let k_max = n.div_ceil(np) + 2;
        Fitter {
            y,
            np,
            seasonal: Smoother {
                len: p.seasonal,
                deg: p.seasonal_deg,
                jump: p.seasonal_jump,
            },
            trend_s: Smoother {
                len: p.trend_length(),
                deg: p.trend_deg,
                jump: p.trend_jump,
            },
            low_pass: Smoother {
                len: p.low_pass_length(),
                deg: p.low_pass_deg,
                jump: p.low_pass_jump,
            },
            inner: p.inner_iterations(),
            outer: p.outer_iterations(),
            trend: vec![0.0; n],
            season: vec![0.0; n],
            rw: vec![1.0; n],
            use_rw: false,
            w0: vec![0.0; n],
            w1: vec![0.0; n + 2 * np],
            w2: vec![0.0; n + 2 * np],
            w3: vec![0.0; n + 2 * np],
            sub_y: Vec::with_capacity(k_max),
            sub_rw: Vec::with_capacity(k_max),
            sub_out: vec![0.0; k_max],
            kernel: KernelCache::default(),
        }
    }

    fn run(&mut self) {
        let mut k = 0;
        loop {
            self.one_step();
            k += 1;
            if k > self.outer {
                break;
            }
            self.robustness_weights();
            self.use_rw = true;
        }
        if self.outer == 0 {
            self.rw.fill(1.0);
        }
    }

    fn one_step(&mut self) {
        let n = self.y.len();
        let np = self.np;
        for _ in 0..self.inner {
            for i in 0..n {
                self.w0[i] = self.y[i] - self.trend[i];
            }
            self.cycle_subseries();
            // Low-pass of the extended seasonal: moving averages np, np, 3 (length n), then LOESS.
            moving_average(&self.w1, np, &mut self.w2);
            moving_average(&self.w2[..n + np + 1], np, &mut self.w3);
            moving_average(&self.w3[..n + 2], 3, &mut self.w2);
            let lp = self.low_pass;
            loess_smooth(&self.w2[..n], lp, None, &mut self.w0, &mut self.kernel);
            for i in 0..n {
                self.season[i] = self.w1[np + i] - self.w0[i];
                self.w0[i] = self.y[i] - self.season[i];
            }
            let ts = self.trend_s;
            let rw = self.use_rw.then_some(&self.rw[..]);
            loess_smooth(&self.w0, ts, rw, &mut self.trend, &mut self.kernel);
        }
    }

    /// Smooths each cycle-subseries of the detrended series and extends it one cycle each side,
    /// writing `w1` (length n + 2 np).
    fn cycle_subseries(&mut self) {
        let n = self.y.len();
        let np = self.np;
        let s = self.seasonal;
        for j in 0..np {
            let k = (n - (j + 1)) / np + 1;
            self.sub_y.clear();
            self.sub_y.extend((0..k).map(|i| self.w0[i * np + j]));
            self.sub_rw.clear();
            if self.use_rw {
                self.sub_rw.extend((0..k).map(|i| self.rw[i * np + j]));
            }
            let rw = self.use_rw.then_some(&self.sub_rw[..]);
            let (head, rest) = self.sub_out.split_at_mut(1);
            loess_smooth(&self.sub_y, s, rw, &mut rest[..k], &mut self.kernel);
            let first = rest[0];
            let last = rest[k - 1];
            // Extrapolate one point before and one after the subseries (positions 0 and k + 1).
            let nright = s.len.min(k);
            head[0] = loess_at(&self.sub_y, s.len, s.deg, 0, 1, nright, rw, None).unwrap_or(first);
            let nleft = if k >= s.len { k - s.len + 1 } else { 1 };
            let after =
                loess_at(&self.sub_y, s.len, s.deg, k + 1, nleft, k, rw, None).unwrap_or(last);
            self.sub_out[k + 1] = after;
            for m in 0..k + 2 {
                self.w1[m * np + j] = self.sub_out[m];
            }
        }
    }

    /// Robustness weights from the current fit: bisquare of |y - fit| / (6 * median).
    fn robustness_weights(&mut self) {
        let n = self.y.len();
        for i in 0..n {
            self.rw[i] = (self.y[i] - self.trend[i] - self.season[i]).abs();
        }
        let mut sorted = self.rw.clone();
        let lo = n / 2;
        let hi = n - lo - 1;
        let (_, a, _) = sorted.select_nth_unstable_by(lo, f64::total_cmp);
        let a = *a;
        let (_, b, _) = sorted.select_nth_unstable_by(hi, f64::total_cmp);
        let cmad = 3.0 * (a + *b);
        if cmad == 0.0 {
            self.rw.fill(1.0);
            return;
        }
        let c9 = 0.999 * cmad;
        let c1 = 0.001 * cmad;
        for r in self.rw.iter_mut() {
            *r = if *r <= c1 {
                1.0
            } else if *r <= c9 {
                let u = *r / cmad;
                let v = 1.0 - u * u;
                v * v
            } else {
                0.0
            };
        }
    }
}

/// Moving average of window `len` over `x`, written to `out[..x.len() - len + 1]`.
fn moving_average(x: &[f64], len: usize, out: &mut [f64]) {
    let newn = x.len() + 1 - len;
    let flen = len as f64;
    let mut v: f64 = x[..len].iter().sum();
    out[0] = v / flen;
    for j in 1..newn {
        v += x[len + j - 1] - x[j - 1];
        out[j] = v / flen;
    }
}

/// Tricube weights of the last interior bandwidth, indexed by distance.
#[derive(Default)]
struct KernelCache {
    h: usize,
    weights: Vec<f64>,
}

impl KernelCache {
    fn for_bandwidth(&mut self, h: usize) -> &[f64] {
        if self.h != h || self.weights.is_empty() {
            self.h = h;
            self.weights.clear();
            let hf = h as f64;
            self.weights.extend((0..=h).map(|r| tricube(r as f64, hf)));
        }
        &self.weights
    }
}

/// The LOESS neighbourhood weight of a point at distance `r` for bandwidth `h`.
#[inline]
fn tricube(r: f64, h: f64) -> f64 {
    if r <= 0.999 * h {
        if r <= 0.001 * h {
            1.0
        } else {
            let t = r / h;
            let u = 1.0 - t * t * t;
            u * u * u
        }
    } else {
        0.0
    }
}

/// LOESS-smooths `y` at every position (1-based positions 1..=n), writing `ys`; positions whose
/// neighbourhood has no weight keep their observation.
fn loess_smooth(
    y: &[f64],
    s: Smoother,
    rw: Option<&[f64]>,
    ys: &mut [f64],
    kernel: &mut KernelCache,
) {
    let n = y.len();
    if n < 2 {
        ys[0] = y[0];
        return;
    }
    let len = s.len;
    let jump = s.jump.min(n - 1);
    if len >= n {
        let mut i = 0;
        while i < n {
            ys[i] = loess_at(y, len, s.deg, i + 1, 1, n, rw, None).unwrap_or(y[i]);
            i += jump;
        }
    } else if jump == 1 {
        let half = len.div_ceil(2);
        let table: Vec<f64> = kernel.for_bandwidth(half - 1).to_vec();
        // Without robustness weights, a window centred on its point has symmetric weights: the
        // local line's slope term vanishes and the estimate is a fixed weighted average, i.e. a
        // convolution with the normalized kernel (one multiply-add per point of the window).
        let total: f64 = table[0] + 2.0 * table[1..].iter().sum::<f64>();
        let conv: Vec<f64> = (0..len)
            .map(|j| table[j.abs_diff(half - 1)] / total)
            .collect();
        let mut nleft = 1;
        let mut nright = len;
        for i in 0..n {
            if i + 1 > half && nright != n {
                nleft += 1;
                nright += 1;
            }
            let interior = nright - (i + 1) == (i + 1) - nleft;
            if interior && rw.is_none() && total > 0.0 {
                ys[i] = dot(&y[nleft - 1..nright], &conv);
                continue;
            }
            let k = interior.then_some(&table[..]);
            ys[i] = loess_at(y, len, s.deg, i + 1, nleft, nright, rw, k).unwrap_or(y[i]);
        }
        return;
    } else {
        let half = len.div_ceil(2);
        let mut i = 0;
        while i < n {
            let (nleft, nright) = if i + 1 < half {
                (1, len)
            } else if i + 1 > n - half {
                (n - len + 1, n)
            } else {
                (i + 2 - half, len + i + 1 - half)
            };
            ys[i] = loess_at(y, len, s.deg, i + 1, nleft, nright, rw, None).unwrap_or(y[i]);
            i += jump;
        }
    }
    if jump == 1 {
        return;
    }
    // Linear interpolation between the evaluated positions.
    let mut i = 0;
    while i + jump < n {
        let delta = (ys[i + jump] - ys[i]) / jump as f64;
        for j in i + 1..i + jump {
            ys[j] = ys[i] + delta * (j - i) as f64;
        }
        i += jump;
    }
    let k = ((n - 1) / jump) * jump + 1;
    if k != n {
        let (nleft, nright) = if len >= n { (1, n) } else { (n - len + 1, n) };
        ys[n - 1] = loess_at(y, len, s.deg, n, nleft, nright, rw, None).unwrap_or(y[n - 1]);
        if k != n - 1 {
            let delta = (ys[n - 1] - ys[k - 1]) / (n - k) as f64;
            for j in k..n - 1 {
                ys[j] = ys[k - 1] + delta * ((j + 1) - k) as f64;
            }
        }
    }
}

/// `sum(a[i] * b[i])` over the shorter length, in four independent lanes: the compiler keeps
/// them in vector registers instead of one serial chain of additions (the convolution of the
/// interior LOESS points is most of an STL fit's time). The sum's order differs from a serial
/// loop's by rounding only (about 1e-16 relative).
#[inline]
// Indexing the three 4-wide arrays by lane is the form that vectorizes.
#[allow(clippy::needless_range_loop)]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut lanes = [0.0f64; 4];
    let mut a4 = a.chunks_exact(4);
    let mut b4 = b.chunks_exact(4);
    for (x, w) in (&mut a4).zip(&mut b4) {
        for lane in 0..4 {
            lanes[lane] += x[lane] * w[lane];
        }
    }
    let mut sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (x, w) in a4.remainder().iter().zip(b4.remainder()) {
        sum += x * w;
    }
    sum
}

/// The LOESS estimate at 1-based position `xs` from the points `nleft..=nright` (1-based) of
/// `y`, with robustness weights `rw` when given. `table` holds the tricube weights by distance
/// when the window is symmetric around `xs` (its bandwidth is then `table.len() - 1`). `None`
/// when the neighbourhood has no weight.
#[allow(clippy::too_many_arguments)]
#[inline]
fn loess_at(
    y: &[f64],
    len: usize,
    deg: u8,
    xs: usize,
    nleft: usize,
    nright: usize,
    rw: Option<&[f64]>,
    table: Option<&[f64]>,
) -> Option<f64> {
    let n = y.len();
    let range = n as f64 - 1.0;
    let mut h = (xs as f64 - nleft as f64).max(nright as f64 - xs as f64);
    if len > n {
        h += ((len - n) / 2) as f64;
    }
    // Sums over the window of w, w*d, w*d^2, w*y, w*d*y with d = position - xs.
    let (mut s0, mut s1, mut s2, mut t0, mut t1) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let xs_f = xs as f64;
    match (table, rw) {
        (Some(k), None) => {
            for j in nleft..=nright {
                let d = j as f64 - xs_f;
                let w = k[j.abs_diff(xs)];
                let v = y[j - 1];
                s0 += w;
                s1 += w * d;
                s2 += w * d * d;
                t0 += w * v;
                t1 += w * d * v;
            }
        }
        (Some(k), Some(rw)) => {
            for j in nleft..=nright {
                let d = j as f64 - xs_f;
                let w = k[j.abs_diff(xs)] * rw[j - 1];
                let v = y[j - 1];
                s0 += w;
                s1 += w * d;
                s2 += w * d * d;
                t0 += w * v;
                t1 += w * d * v;
            }
        }
        (None, _) => {
            for j in nleft..=nright {
                let d = j as f64 - xs_f;
                let mut w = tricube(d.abs(), h);
                if let Some(rw) = rw {
                    w *= rw[j - 1];
                }
                let v = y[j - 1];
                s0 += w;
                s1 += w * d;
                s2 += w * d * d;
                t0 += w * v;
                t1 += w * d * v;
            }
        }
    }
    if s0 <= 0.0 {
        return None;
    }
    let mean_y = t0 / s0;
    if h > 0.0 && deg > 0 {
        // Weighted centre and spread of the window, relative to xs.
        let a = s1 / s0;
        let c = s2 / s0 - a * a;
        if c > 0.0 && c.sqrt() > 0.001 * range {
            let b = -a / c;
            // sum w_j/s0 * (1 + b (d_j - a)) y_j
            return Some(mean_y + b * (t1 / s0 - a * mean_y));
        }
    }
    Some(mean_y)
}

/// How anomalies are flagged from the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detection {
    /// The reference's rule: only scores above the threshold, signed by the seasonal component
    /// (`1` seasonal > 0, `-1` seasonal < 0, unflagged when it is 0). Dips are never flagged.
    #[default]
    Reference,
    /// `1` for scores above `threshold`, `-1` below `-threshold`.
    TwoSided,
}

/// Scoring options.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreOptions {
    /// Flag points whose score passes this.
    pub score_threshold: f64,
    /// Which rule flags points.
    pub detection: Detection,
    /// Truncate the components to integers before scoring (the reference casts every column to
    /// int64).
    pub integer: bool,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        ScoreOptions {
            score_threshold: 3.0,
            detection: Detection::Reference,
            integer: true,
        }
    }
}

/// One series' decomposition, score and flags (all aligned with the input points).
#[derive(Debug, Clone, PartialEq)]
pub struct Anomalies {
    /// The observed values (truncated when `integer`).
    pub observed: Vec<f64>,
    /// Residual.
    pub residual: Vec<f64>,
    /// Trend.
    pub trend: Vec<f64>,
    /// Seasonal.
    pub seasonal: Vec<f64>,
    /// Robustness weights.
    pub weights: Vec<f64>,
    /// `seasonal + trend` (of the untruncated components, then truncated when `integer`).
    pub baseline: Vec<f64>,
    /// Z-score of the residual (NaN for every point when the residual is constant).
    pub score: Vec<f64>,
    /// -1, 0 or 1 (see [`Detection`]).
    pub anomalies: Vec<i64>,
}

/// Scores an STL fit of `observed` as the reference does.
pub fn score_anomalies(observed: &[f64], fit: StlFit, options: &ScoreOptions) -> Anomalies {
    let StlFit {
        mut trend,
        mut seasonal,
        mut residual,
        mut weights,
    } = fit;
    let mut baseline: Vec<f64> = seasonal.iter().zip(&trend).map(|(s, t)| s + t).collect();
    let mut observed = observed.to_vec();
    if options.integer {
        for column in [
            &mut observed,
            &mut residual,
            &mut trend,
            &mut seasonal,
            &mut weights,
            &mut baseline,
        ] {
            for v in column.iter_mut() {
                *v = truncate_to_i64(*v) as f64;
            }
        }
    }
    let score = zscore(&residual);
    let threshold = options.score_threshold;
    let anomalies = score
        .iter()
        .zip(&seasonal)
        .map(|(&z, &s)| match options.detection {
            Detection::Reference => {
                if z > threshold && s > 0.0 {
                    1
                } else if z > threshold && s < 0.0 {
                    -1
                } else {
                    0
                }
            }
            Detection::TwoSided => {
                if z > threshold {
                    1
                } else if z < -threshold {
                    -1
                } else {
                    0
                }
            }
        })
        .collect();
    Anomalies {
        observed,
        residual,
        trend,
        seasonal,
        weights,
        baseline,
        score,
        anomalies,
    }
}

/// Truncation toward zero as pandas' `astype("int64")` after `fillna(0)` (NaN becomes 0;
/// values beyond the i64 range saturate).
pub fn truncate_to_i64(v: f64) -> i64 {
    if v.is_nan() {
        0
    } else {
        v as i64
    }
}

/// Population z-score (ddof 0); NaN everywhere when the values are constant.
pub fn zscore(values: &[f64]) -> Vec<f64> {
    let n = values.len() as f64;
    if values.is_empty() {
        return Vec::new();
    }
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let sd = var.sqrt();
    values
        .iter()
        .map(|v| if sd > 0.0 { (v - mean) / sd } else { f64::NAN })
        .collect()
}

/// Estimates the seasonal period of `y` (in points) from its autocorrelation: the linear trend
/// is removed, outliers (beyond 4 median absolute deviations) are set on the line, the
/// autocorrelation is computed for lags 2..=n/2, and the shortest lag that is a
/// local maximum within 90% of the highest local maximum is returned. `None` when no lag
/// correlates positively at a local maximum (above 0.1), i.e. the series has no cycle.
pub fn detect_period(y: &[f64], max_period: usize) -> Option<usize> {
    let n = y.len();
    if n < 8 {
        return None;
    }
    // Remove the least-squares line; values beyond the median +- 4 MADs of the residual are
    // outliers (a few huge spikes, the anomalies being looked for, would make the
    // autocorrelation peak at their spacing and tilt the line): they are set on the line and the
    // line is fitted again, a few rounds.
    let mut clean = y.to_vec();
    let mut resid = detrend(&clean);
    for _ in 0..3 {
        let mut sorted = resid.clone();
        sorted.sort_unstable_by(f64::total_cmp);
        let median = sorted[n / 2];
        let mut deviations: Vec<f64> = sorted.iter().map(|v| (v - median).abs()).collect();
        deviations.sort_unstable_by(f64::total_cmp);
        let mad = deviations[n / 2];
        let mut changed = false;
        for (i, r) in resid.iter().enumerate() {
            if mad > 0.0 && (r - median).abs() > 4.0 * mad {
                clean[i] -= r - median;
                changed = true;
            }
        }
        if !changed {
            break;
        }
        resid = detrend(&clean);
    }
    let acf = autocorrelation(&resid);
    let max_lag = (n / 2).min(max_period).min(acf.len().saturating_sub(2));
    if max_lag < 3 {
        return None;
    }
    let peaks: Vec<(usize, f64)> = (2..=max_lag)
        .filter(|&k| acf[k] >= acf[k - 1] && acf[k] >= acf[k + 1] && acf[k] > 0.1)
        .map(|k| (k, acf[k]))
        .collect();
    let best = peaks.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    peaks.iter().find(|p| p.1 >= 0.9 * best).map(|p| p.0)
}

/// `y` minus its least-squares line.
fn detrend(y: &[f64]) -> Vec<f64> {
    let nf = y.len() as f64;
    let xm = (nf - 1.0) / 2.0;
    let ym = y.iter().sum::<f64>() / nf;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, v) in y.iter().enumerate() {
        let dx = i as f64 - xm;
        sxy += dx * (v - ym);
        sxx += dx * dx;
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    y.iter()
        .enumerate()
        .map(|(i, v)| v - ym - slope * (i as f64 - xm))
        .collect()
}

/// Autocorrelation of a zero-mean series at every lag (by FFT, O(n log n)); lag 0 is 1.
fn autocorrelation(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let size = (2 * n).next_power_of_two();
    let mut planner = realfft::RealFftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(size);
    let inverse = planner.plan_fft_inverse(size);
    let mut input = vec![0.0; size];
    input[..n].copy_from_slice(x);
    let mut spectrum = forward.make_output_vec();
    if forward.process(&mut input, &mut spectrum).is_err() {
        return vec![0.0; n];
    }
    for c in spectrum.iter_mut() {
        *c = realfft::num_complex::Complex::new(c.norm_sqr(), 0.0);
    }
    let mut out = inverse.make_output_vec();
    if inverse.process(&mut spectrum, &mut out).is_err() {
        return vec![0.0; n];
    }
    let c0 = out[0];
    if c0 <= 0.0 {
        return vec![0.0; n];
    }
    out.truncate(n);
    out.iter().map(|v| v / c0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize, period: usize) -> Vec<f64> {
        (0..n)
            .map(|i| {
                100.0
                    + 0.05 * i as f64
                    + 20.0 * (std::f64::consts::TAU * i as f64 / period as f64).sin()
                    + ((i * 7919) % 13) as f64 * 0.3
            })
            .collect()
    }

    #[test]
    fn default_lengths_follow_the_period() {
        let p = StlParams::new(24, 7);
        assert_eq!(p.trend_length(), 47);
        assert_eq!(p.low_pass_length(), 25);
        assert_eq!(p.inner_iterations(), 5);
        assert_eq!(p.outer_iterations(), 0);
        let p = StlParams::new(7, 7);
        assert_eq!(p.low_pass_length(), 9);
    }

    #[test]
    fn components_add_up_and_find_the_cycle() {
        let y = series(24 * 20, 24);
        let fit = stl(&y, &StlParams::new(24, 7)).expect("fits");
        for (i, v) in y.iter().enumerate() {
            let sum = fit.trend[i] + fit.seasonal[i] + fit.residual[i];
            assert!((sum - v).abs() < 1e-9);
        }
        // The seasonal component carries the sine: peak near position 6 of each day.
        let day = &fit.seasonal[240..264];
        let peak = day
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|p| p.0);
        assert_eq!(peak, Some(6));
        assert!(fit.residual.iter().all(|r| r.abs() < 5.0));
        assert!(fit.weights.iter().all(|w| *w == 1.0));
    }

    #[test]
    fn bad_options_and_series_are_named() {
        let y = series(40, 24);
        let e = stl(&y, &StlParams::new(24, 7)).unwrap_err().to_string();
        assert!(e.contains("two full periods"), "{e}");
        let e = stl(&series(200, 24), &StlParams::new(24, 8))
            .unwrap_err()
            .to_string();
        assert!(e.contains("seasonal"), "{e}");
        let e = stl(&series(200, 24), &StlParams::new(1, 7))
            .unwrap_err()
            .to_string();
        assert!(e.contains("period"), "{e}");
        let mut y = series(200, 24);
        y[17] = f64::NAN;
        let e = stl(&y, &StlParams::new(24, 7)).unwrap_err().to_string();
        assert!(e.contains("position 17"), "{e}");
        let mut p = StlParams::new(24, 7);
        p.trend = Some(23);
        let e = stl(&series(200, 24), &p).unwrap_err().to_string();
        assert!(
            e.contains("trend") && e.contains("larger than the period"),
            "{e}"
        );
    }

    #[test]
    fn robust_fit_downweights_an_outlier() {
        let mut y = series(24 * 10, 24);
        y[100] += 500.0;
        let mut p = StlParams::new(24, 7);
        p.robust = true;
        let fit = stl(&y, &p).expect("fits");
        assert!(fit.weights[100] < 0.01, "{}", fit.weights[100]);
        assert!(fit.residual[100] > 400.0);
    }

    #[test]
    fn reference_scoring_ignores_dips_two_sided_flags_them() {
        let mut y = series(24 * 14, 24);
        y[200] += 300.0;
        y[250] -= 300.0;
        let fit = stl(&y, &StlParams::new(24, 7)).expect("fits");
        let reference = score_anomalies(&y, fit.clone(), &ScoreOptions::default());
        assert_ne!(reference.anomalies[200], 0);
        assert_eq!(reference.anomalies[250], 0);
        assert!(reference.score[250] < -3.0);
        let two = score_anomalies(
            &y,
            fit,
            &ScoreOptions {
                detection: Detection::TwoSided,
                ..ScoreOptions::default()
            },
        );
        assert_eq!(two.anomalies[200], 1);
        assert_eq!(two.anomalies[250], -1);
    }

    #[test]
    fn zscore_of_constant_is_nan() {
        assert!(zscore(&[2.0, 2.0, 2.0]).iter().all(|v| v.is_nan()));
        let z = zscore(&[1.0, 2.0, 3.0]);
        assert!((z[2] - 1.224_744_871_391_589).abs() < 1e-12);
    }

    #[test]
    fn period_is_found_in_the_data() {
        assert_eq!(detect_period(&series(24 * 14, 24), 1000), Some(24));
        assert_eq!(detect_period(&series(7 * 30, 7), 1000), Some(7));
        let flat: Vec<f64> = (0..300).map(|i| i as f64 * 2.0).collect();
        assert_eq!(detect_period(&flat, 1000), None);
        // Two huge spikes 25 points apart do not make the period 25.
        let mut spiky = series(24 * 7, 24);
        spiky[74] += 1e6;
        spiky[99] += 1e6;
        assert_eq!(detect_period(&spiky, 1000), Some(24));
    }
}
