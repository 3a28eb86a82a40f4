//! Periodic-traffic (polling, beaconing) detection with the periodogram and Fisher's g test, as
//! the reference's `PeriodogramPollingDetector` (Heard, Rubin-Delanchy and Lawson 2014).
//!
//! # Method
//!
//! For each group (for example one source and destination pair) the event times are counted on
//! a grid of `bin_seconds` steps from the first event up to, but not including, the last one's
//! step (the reference's grid). The counts minus their mean go through a real FFT; the one-sided
//! periodogram (density scaling, boxcar window, sampling rate 1 per step) gives the dominant
//! frequency (the ordinate of largest power) and its interval in seconds. Fisher's g statistic is
//! the dominant ordinate's share of the total power (the Nyquist ordinate left out when the grid
//! length is even); its p value is the exact series for at most 700 ordinates and the asymptotic
//! formula above, as the reference. A small p value means the events repeat with a period; the
//! g statistic is reported as `strength` (0..1).
//!
//! Differences from the reference (tests document them): the asymptotic p value is computed
//! without cancellation (`-expm1(m * ln_1p(-exp(-m g)))`), so strong periodicity reports a
//! tiny positive p value where the reference rounds to 0; groups with fewer than `min_events`
//! events or an empty grid are reported with NaN results instead of failing the whole call.
//!
//! # Input limits
//!
//! A group's grid has at most `max_grid` steps (the error names the group and suggests a longer
//! `bin_seconds`); times are whole seconds of the Unix epoch (sub-second parts are dropped, as
//! the reference requires integer seconds).

use std::sync::Arc;

use arrow_array::types::TimestampNanosecondType;
use arrow_array::{ArrayRef, Float64Array, Int64Array, PrimitiveArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use hg_arrow::Table;

use crate::timeseries::TimeseriesError;
use crate::timeseries_table::{group_rows, resolve_time_column};

/// Number of ordinates above which the asymptotic p value is used (the reference's constant).
pub const EXACT_G_TEST_LIMIT: usize = 700;

/// Default largest grid per group (115 days of 1-second steps).
pub const DEFAULT_MAX_GRID: usize = 10_000_000;

/// Periodogram options.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodicOptions {
    /// Grid step in seconds (the reference uses 1).
    pub bin_seconds: i64,
    /// Groups with fewer events get NaN results.
    pub min_events: usize,
    /// Largest grid per group.
    pub max_grid: usize,
}

impl Default for PeriodicOptions {
    fn default() -> Self {
        PeriodicOptions {
            bin_seconds: 1,
            min_events: 3,
            max_grid: DEFAULT_MAX_GRID,
        }
    }
}

/// The periodicity of one group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Periodicity {
    /// Fisher's g test p value (small: periodic).
    pub p_value: f64,
    /// Frequency of the largest periodogram ordinate, in cycles per second.
    pub dominant_frequency: f64,
    /// `1 / dominant_frequency`, in seconds.
    pub dominant_interval: f64,
    /// Fisher's g: the dominant ordinate's share of the total power.
    pub strength: f64,
}

impl Periodicity {
    /// The result of a group that cannot be tested.
    pub const UNTESTED: Periodicity = Periodicity {
        p_value: f64::NAN,
        dominant_frequency: f64::NAN,
        dominant_interval: f64::NAN,
        strength: f64::NAN,
    };
}

/// The periodicity of events at `steps` (grid steps: times divided by the step length), counted
/// on the grid `start..end` (end exclusive), with `step_seconds` converting frequencies to
/// seconds. `None` when the grid is empty or carries no variation.
pub fn periodogram_test(
    steps: &[i64],
    start: i64,
    end: i64,
    step_seconds: f64,
) -> Option<Periodicity> {
    if end <= start {
        return None;
    }
    let n = (end - start) as usize;
    let mut counts = vec![0.0f64; n];
    for &s in steps {
        if s >= start && s < end {
            counts[(s - start) as usize] += 1.0;
        }
    }
    // Remove the mean (the reference centres by events / steps, then the periodogram detrends
    // by the mean; both together leave the counts minus their mean).
    let mean = counts.iter().sum::<f64>() / n as f64;
    for c in counts.iter_mut() {
        *c -= mean;
    }
    let pxx = periodogram(&mut counts)?;
    let (dominant, _) =
        pxx.iter()
            .enumerate()
            .fold((0usize, f64::NEG_INFINITY), |best, (i, &p)| {
                if p > best.1 {
                    (i, p)
                } else {
                    best
                }
            });
    let frequency = dominant as f64 / n as f64 / step_seconds;
    let tested = if n & 1 == 0 {
        &pxx[..pxx.len() - 1]
    } else {
        &pxx[..]
    };
    let (g, p) = fisher_g_test(tested)?;
    Some(Periodicity {
        p_value: p,
        dominant_frequency: frequency,
        dominant_interval: if frequency > 0.0 {
            1.0 / frequency
        } else {
            f64::NAN
        },
        strength: g,
    })
}

/// One-sided periodogram with density scaling at sampling rate 1 (`x` is consumed as scratch).
fn periodogram(x: &mut [f64]) -> Option<Vec<f64>> {
    let n = x.len();
    let mut planner = realfft::RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(n);
    let mut spectrum = fft.make_output_vec();
    fft.process(x, &mut spectrum).ok()?;
    let scale = 1.0 / n as f64;
    let last = spectrum.len() - 1;
    Some(
        spectrum
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let p = c.norm_sqr() * scale;
                // Every ordinate but the zero frequency (and Nyquist, for even n) counts twice.
                if k == 0 || (n & 1 == 0 && k == last) {
                    p
                } else {
                    2.0 * p
                }
            })
            .collect(),
    )
}

/// Fisher's g statistic and p value of periodogram ordinates; `None` when the power is zero.
pub fn fisher_g_test(pxx: &[f64]) -> Option<(f64, f64)> {
    let m = pxx.len();
    let total: f64 = pxx.iter().sum();
    let max = pxx.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == 0 || total <= 0.0 || !total.is_finite() {
        return None;
    }
    let g = max / total;
    let mf = m as f64;
    let p = if m > EXACT_G_TEST_LIMIT {
        // 1 - (1 - e^{-m g})^m without cancellation.
        -(mf * (-(-mf * g).exp()).ln_1p()).exp_m1()
    } else {
        let upper = (1.0 / g).floor() as usize;
        let mut sum = 0.0;
        let mut ln_binom = 0.0; // ln C(m, j), built up as j grows
        for j in 1..upper {
            ln_binom += ((m - j + 1) as f64).ln() - (j as f64).ln();
            let base = 1.0 - j as f64 * g;
            if base <= 0.0 {
                break;
            }
            let term = (ln_binom + (mf - 1.0) * base.ln()).exp();
            if j % 2 == 1 {
                sum += term;
            } else {
                sum -= term;
            }
        }
        sum
    };
    Some((g, p.min(1.0)))
}

/// Tests every group of `table` for periodic events. Output: the `group_by` columns (utf8),
/// `events` (int64), `first`, `last` (timestamp ns UTC), `p_value`, `dominant_frequency`
/// (per second), `dominant_interval` (seconds), `strength` (float64); ranked by p value, then
/// strength (strongest first); untested groups (NaN) last.
pub fn periodic_table(
    table: &Table,
    time_column: Option<&str>,
    group_by: &[String],
    options: &PeriodicOptions,
) -> Result<RecordBatch, TimeseriesError> {
    let ranking = rank_groups(table, time_column, group_by, options)?;
    let results = &ranking.ranked;
    let labels = &ranking.labels;
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (c, name) in group_by.iter().enumerate() {
        fields.push(Field::new(name, DataType::Utf8, false));
        arrays.push(Arc::new(StringArray::from_iter_values(
            results.iter().map(|r| labels[r.group][c].as_str()),
        )));
    }
    fields.push(Field::new("events", DataType::Int64, false));
    arrays.push(Arc::new(Int64Array::from_iter_values(
        results.iter().map(|r| r.events as i64),
    )));
    let ts = DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()));
    for (name, pick) in [("first", 3usize), ("last", 4usize)] {
        fields.push(Field::new(name, ts.clone(), false));
        arrays.push(Arc::new(
            PrimitiveArray::<TimestampNanosecondType>::from_iter_values(results.iter().map(|r| {
                if pick == 3 {
                    r.first
                } else {
                    r.last
                }
            }))
            .with_timezone("UTC"),
        ));
    }
    type Getter = fn(&Periodicity) -> f64;
    let floats: [(&str, Getter); 4] = [
        ("p_value", |p| p.p_value),
        ("dominant_frequency", |p| p.dominant_frequency),
        ("dominant_interval", |p| p.dominant_interval),
        ("strength", |p| p.strength),
    ];
    for (name, get) in floats {
        fields.push(Field::new(name, DataType::Float64, false));
        arrays.push(Arc::new(Float64Array::from_iter_values(
            results.iter().map(|r| get(&r.result)),
        )));
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}

/// The events of the `top` most periodic groups (all groups with `None`), for drawing each
/// group's timeline: one row per event, ordered by rank then time. Columns: `rank` (int64, the
/// group's place in [`periodic_table`]'s ranking, 0 first), the `group_by` columns (utf8),
/// `row` (int64, the event's row in the input), `t_ms` (float64, milliseconds since the epoch),
/// and the group's `events` (int64), `p_value`, `dominant_interval` and `strength` (float64).
pub fn periodic_events_table(
    table: &Table,
    time_column: Option<&str>,
    group_by: &[String],
    options: &PeriodicOptions,
    top: Option<usize>,
) -> Result<RecordBatch, TimeseriesError> {
    let ranking = rank_groups(table, time_column, group_by, options)?;
    let shown = &ranking.ranked[..top.unwrap_or(usize::MAX).min(ranking.ranked.len())];
    let mut order: Vec<(usize, usize)> = Vec::new();
    for (rank, r) in shown.iter().enumerate() {
        let mut rows = ranking.groups[r.group].clone();
        rows.sort_by_key(|&row| (ranking.times_ns[row], row));
        order.extend(rows.into_iter().map(|row| (rank, row)));
    }
    let mut fields = vec![Field::new("rank", DataType::Int64, false)];
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(Int64Array::from_iter_values(
        order.iter().map(|&(rank, _)| rank as i64),
    ))];
    for (c, name) in group_by.iter().enumerate() {
        fields.push(Field::new(name, DataType::Utf8, false));
        arrays.push(Arc::new(StringArray::from_iter_values(
            order
                .iter()
                .map(|&(rank, _)| ranking.labels[shown[rank].group][c].as_str()),
        )));
    }
    fields.push(Field::new("row", DataType::Int64, false));
    arrays.push(Arc::new(Int64Array::from_iter_values(
        order.iter().map(|&(_, row)| row as i64),
    )));
    fields.push(Field::new("t_ms", DataType::Float64, false));
    arrays.push(Arc::new(Float64Array::from_iter_values(
        order
            .iter()
            .map(|&(_, row)| ranking.times_ns[row] as f64 / 1e6),
    )));
    fields.push(Field::new("events", DataType::Int64, false));
    arrays.push(Arc::new(Int64Array::from_iter_values(
        order.iter().map(|&(rank, _)| shown[rank].events as i64),
    )));
    type Getter = fn(&Periodicity) -> f64;
    let floats: [(&str, Getter); 3] = [
        ("p_value", |p| p.p_value),
        ("dominant_interval", |p| p.dominant_interval),
        ("strength", |p| p.strength),
    ];
    for (name, get) in floats {
        fields.push(Field::new(name, DataType::Float64, false));
        arrays.push(Arc::new(Float64Array::from_iter_values(
            order.iter().map(|&(rank, _)| get(&shown[rank].result)),
        )));
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}

/// One tested group: its index in [`Ranking::labels`], result, event count, first and last time.
struct Ranked {
    group: usize,
    result: Periodicity,
    events: usize,
    first: i64,
    last: i64,
}

/// Every group tested and ranked (most periodic first), with the rows of each group.
struct Ranking {
    labels: Vec<Vec<String>>,
    groups: Vec<Vec<usize>>,
    times_ns: Vec<i64>,
    ranked: Vec<Ranked>,
}

fn rank_groups(
    table: &Table,
    time_column: Option<&str>,
    group_by: &[String],
    options: &PeriodicOptions,
) -> Result<Ranking, TimeseriesError> {
    if options.bin_seconds < 1 {
        return Err(TimeseriesError::InvalidOption {
            name: "bin_seconds",
            detail: format!("must be at least 1, got {}", options.bin_seconds),
        });
    }
    if options.min_events < 2 {
        return Err(TimeseriesError::InvalidOption {
            name: "min_events",
            detail: format!("must be at least 2, got {}", options.min_events),
        });
    }
    let time_name = resolve_time_column(table, time_column)?;
    let times = table.times_ns(&time_name)?;
    if let Some(row) = (0..times.len()).find(|&r| !times.is_valid(r)) {
        return Err(TimeseriesError::InvalidSeries(format!(
            "column '{time_name}' is null at row {row}"
        )));
    }
    let (labels, groups) = group_rows(table, group_by)?;
    let step_ns = options.bin_seconds as i128 * 1_000_000_000;
    let mut results: Vec<Ranked> = Vec::new();
    for (g, rows) in groups.iter().enumerate() {
        if rows.is_empty() {
            continue;
        }
        let mut steps: Vec<i64> = rows
            .iter()
            .map(|&r| (times.values()[r] as i128).div_euclid(step_ns) as i64)
            .collect();
        steps.sort_unstable();
        let first = rows.iter().map(|&r| times.values()[r]).min().unwrap_or(0);
        let last = rows.iter().map(|&r| times.values()[r]).max().unwrap_or(0);
        let (start, end) = (steps[0], steps[steps.len() - 1]);
        let grid = (end - start) as u64;
        if grid > options.max_grid as u64 {
            let key: Vec<String> = group_by
                .iter()
                .zip(&labels[g])
                .map(|(c, v)| format!("{c}={v}"))
                .collect();
            return Err(TimeseriesError::TooLarge(format!(
                "group {} spans {grid} steps of {} s (at most {}); use a longer bin_seconds",
                if key.is_empty() {
                    "(all rows)".to_string()
                } else {
                    key.join(", ")
                },
                options.bin_seconds,
                options.max_grid
            )));
        }
        let result = if rows.len() < options.min_events {
            Periodicity::UNTESTED
        } else {
            periodogram_test(&steps, start, end, options.bin_seconds as f64)
                .unwrap_or(Periodicity::UNTESTED)
        };
        results.push(Ranked {
            group: g,
            result,
            events: rows.len(),
            first,
            last,
        });
    }
    results.sort_by(|a, b| {
        let key = |p: &Periodicity| (p.p_value.is_nan(), p.p_value);
        let (na, pa) = key(&a.result);
        let (nb, pb) = key(&b.result);
        na.cmp(&nb)
            .then(pa.total_cmp(&pb))
            .then(b.result.strength.total_cmp(&a.result.strength))
            .then(a.group.cmp(&b.group))
    });
    Ok(Ranking {
        labels,
        groups,
        times_ns: times.values().to_vec(),
        ranked: results,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_events_are_periodic() {
        // Every 60 s with a pseudo-random +-2 s jitter, 120 events.
        let mut x: u64 = 99;
        let steps: Vec<i64> = (0..120)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                1_000 + i * 60 + ((x >> 33) % 5) as i64 - 2
            })
            .collect();
        let r = periodogram_test(&steps, steps[0], *steps.last().unwrap(), 1.0).unwrap();
        assert!(r.p_value < 1e-10, "{r:?}");
        assert!((r.dominant_interval - 60.0).abs() < 0.5, "{r:?}");
    }

    #[test]
    fn scattered_events_are_not() {
        // A multiplicative-congruential scatter over two hours.
        let mut x: u64 = 12345;
        let mut steps: Vec<i64> = (0..120)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((x >> 33) % 7200) as i64
            })
            .collect();
        steps.sort_unstable();
        let r = periodogram_test(&steps, steps[0], *steps.last().unwrap(), 1.0).unwrap();
        assert!(r.p_value > 0.01, "{r:?}");
    }

    #[test]
    fn exact_g_test_matches_a_hand_computation() {
        // m = 4, g = 0.5: p = C(4,1) (1 - 0.5)^3 = 0.5 (j = 1 only, upper = 2).
        let (g, p) = fisher_g_test(&[1.0, 0.5, 0.25, 0.25]).unwrap();
        assert_eq!(g, 0.5);
        assert!((p - 0.5).abs() < 1e-12, "{p}");
        assert!(fisher_g_test(&[0.0, 0.0]).is_none());
    }
}
