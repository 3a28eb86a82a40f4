//! "Nice" tick positions and labels for time axes (years down to milliseconds) and numeric axes.

use hg_arrow::time::{
    days_from_civil, month_abbrev, Civil, NS_PER_DAY, NS_PER_HOUR, NS_PER_MINUTE, NS_PER_MS,
    NS_PER_SECOND,
};
use serde::Serialize;

/// The calendar unit of a tick interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TickUnit {
    /// Milliseconds.
    Millisecond,
    /// Seconds.
    Second,
    /// Minutes.
    Minute,
    /// Hours.
    Hour,
    /// Days (aligned to UTC midnight).
    Day,
    /// Calendar months.
    Month,
    /// Calendar years.
    Year,
}

/// A tick interval: `step` of `unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TickInterval {
    /// The unit.
    pub unit: TickUnit,
    /// How many units between ticks.
    pub step: i64,
}

impl TickInterval {
    /// Approximate length in nanoseconds (months as 30.44 days, years as 365.25 days).
    pub fn approx_ns(&self) -> f64 {
        let unit = match self.unit {
            TickUnit::Millisecond => NS_PER_MS as f64,
            TickUnit::Second => NS_PER_SECOND as f64,
            TickUnit::Minute => NS_PER_MINUTE as f64,
            TickUnit::Hour => NS_PER_HOUR as f64,
            TickUnit::Day => NS_PER_DAY as f64,
            TickUnit::Month => 30.436_875 * NS_PER_DAY as f64,
            TickUnit::Year => 365.2425 * NS_PER_DAY as f64,
        };
        unit * self.step as f64
    }

    /// Typical label width in characters for this unit (used to space ticks).
    fn label_chars(&self) -> usize {
        match self.unit {
            TickUnit::Millisecond => 12,
            TickUnit::Second => 8,
            TickUnit::Minute => 5,
            TickUnit::Hour => 11,
            TickUnit::Day => 5,
            TickUnit::Month => 8,
            TickUnit::Year => 4,
        }
    }
}

const INTERVALS: &[(TickUnit, &[i64])] = &[
    (TickUnit::Millisecond, &[1, 2, 5, 10, 20, 50, 100, 200, 500]),
    (TickUnit::Second, &[1, 2, 5, 10, 15, 30]),
    (TickUnit::Minute, &[1, 2, 5, 10, 15, 30]),
    (TickUnit::Hour, &[1, 2, 3, 6, 12]),
    (TickUnit::Day, &[1, 2, 4, 7, 14]),
    (TickUnit::Month, &[1, 2, 3, 6]),
    (
        TickUnit::Year,
        &[1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
    ),
];

/// Average pixel width of one label character (11 px sans-serif) plus the gap between labels.
pub const LABEL_CHAR_PX: f64 = 6.6;
const LABEL_GAP_PX: f64 = 18.0;

/// One tick of a time axis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimeTick {
    /// Position in nanoseconds since the epoch (UTC).
    pub ns: i64,
    /// Label text.
    pub label: String,
}

/// Time ticks for a span and the interval chosen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeTicks {
    /// The interval between ticks.
    pub interval: TickInterval,
    /// The ticks inside `[start, end]`, ascending.
    pub ticks: Vec<TimeTick>,
    /// The larger date part the labels leave out (the date for sub-day intervals, the year for
    /// hour and day intervals), taken at the start of the span; `None` for months and years.
    pub context: Option<String>,
}

/// Picks the finest interval whose labels fit in `width_px` pixels and lists its ticks.
pub fn time_ticks(start: i64, end: i64, width_px: f64) -> TimeTicks {
    let (start, end) = if end > start {
        (start, end)
    } else {
        (start, start.saturating_add(1))
    };
    let span = end as f64 - start as f64;
    let width_px = width_px.max(1.0);
    let mut chosen = TickInterval {
        unit: TickUnit::Year,
        step: 5000,
    };
    'search: for (unit, steps) in INTERVALS {
        for &step in *steps {
            let interval = TickInterval { unit: *unit, step };
            let count = span / interval.approx_ns();
            let needed = count * (interval.label_chars() as f64 * LABEL_CHAR_PX + LABEL_GAP_PX);
            if needed <= width_px {
                chosen = interval;
                break 'search;
            }
        }
    }
    let ticks = tick_positions(start, end, chosen)
        .into_iter()
        .map(|ns| TimeTick {
            ns,
            label: tick_label(ns, chosen.unit),
        })
        .collect();
    let c = Civil::from_ns(start);
    let context = match chosen.unit {
        TickUnit::Millisecond | TickUnit::Second | TickUnit::Minute => {
            Some(format!("{:04}-{:02}-{:02}", c.year, c.month, c.day))
        }
        TickUnit::Hour | TickUnit::Day => Some(format!("{:04}", c.year)),
        TickUnit::Month | TickUnit::Year => None,
    };
    TimeTicks {
        interval: chosen,
        ticks,
        context,
    }
}

/// Most ticks ever listed (a guard; the interval choice keeps real counts far lower).
const MAX_TICKS: usize = 2_000;

fn tick_positions(start: i64, end: i64, interval: TickInterval) -> Vec<i64> {
    let mut out = Vec::new();
    let fixed = match interval.unit {
        TickUnit::Millisecond => Some(NS_PER_MS),
        TickUnit::Second => Some(NS_PER_SECOND),
        TickUnit::Minute => Some(NS_PER_MINUTE),
        TickUnit::Hour => Some(NS_PER_HOUR),
        TickUnit::Day => Some(NS_PER_DAY),
        _ => None,
    };
    if let Some(unit_ns) = fixed {
        let step = unit_ns.saturating_mul(interval.step);
        let mut t = start.div_euclid(step).saturating_mul(step);
        if t < start {
            t = t.saturating_add(step);
        }
        while t <= end && out.len() < MAX_TICKS {
            out.push(t);
            match t.checked_add(step) {
                Some(next) => t = next,
                None => break,
            }
        }
        return out;
    }
    let first = Civil::from_ns(start);
    if interval.unit == TickUnit::Month {
        // Months counted from year 0 so that steps align to January (quarters, halves).
        let mut m = first.year * 12 + (first.month as i64 - 1);
        m = m.div_euclid(interval.step) * interval.step;
        while out.len() < MAX_TICKS {
            let (y, mo) = (m.div_euclid(12), (m.rem_euclid(12) + 1) as u32);
            let Some(t) = midnight(y, mo) else { break };
            if t > end {
                break;
            }
            if t >= start {
                out.push(t);
            }
            m += interval.step;
        }
    } else {
        let mut y = first.year.div_euclid(interval.step) * interval.step;
        while out.len() < MAX_TICKS {
            let Some(t) = midnight(y, 1) else { break };
            if t > end {
                break;
            }
            if t >= start {
                out.push(t);
            }
            y += interval.step;
        }
    }
    out
}

fn midnight(year: i64, month: u32) -> Option<i64> {
    let days = days_from_civil(year, month, 1) as i128;
    i64::try_from(days * NS_PER_DAY as i128).ok()
}

/// The label of a tick at `ns` for an interval unit: `2024`, `Mar 2024`, `03-14`, `03-14 13:00`,
/// `13:05`, `13:05:30`, `13:05:30.250`.
pub fn tick_label(ns: i64, unit: TickUnit) -> String {
    let c = Civil::from_ns(ns);
    match unit {
        TickUnit::Year => format!("{}", c.year),
        TickUnit::Month => format!("{} {}", month_abbrev(c.month), c.year),
        TickUnit::Day => format!("{:02}-{:02}", c.month, c.day),
        TickUnit::Hour => format!("{:02}-{:02} {:02}:{:02}", c.month, c.day, c.hour, c.minute),
        TickUnit::Minute => format!("{:02}:{:02}", c.hour, c.minute),
        TickUnit::Second => format!("{:02}:{:02}:{:02}", c.hour, c.minute, c.second),
        TickUnit::Millisecond => {
            format!(
                "{:02}:{:02}:{:02}.{:03}",
                c.hour,
                c.minute,
                c.second,
                c.millis()
            )
        }
    }
}

/// One tick of a numeric axis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NumericTick {
    /// The value.
    pub value: f64,
    /// Label text.
    pub label: String,
}

/// "Nice" ticks (steps of 1, 2 or 5 times a power of ten) covering `[min, max]` with at most
/// about `max_ticks` ticks. Labels use k from 10,000 and M/G/T from a million on.
pub fn numeric_ticks(min: f64, max: f64, max_ticks: usize) -> Vec<NumericTick> {
    if !min.is_finite() || !max.is_finite() {
        return Vec::new();
    }
    let (min, max) = if max > min {
        (min, max)
    } else {
        (min - 1.0, min + 1.0)
    };
    let raw = (max - min) / max_ticks.max(1) as f64;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power);
    let first = (min / step).ceil();
    let last = (max / step).floor();
    if !(last - first).is_finite() || last - first > MAX_TICKS as f64 {
        return Vec::new();
    }
    let (div, suffix) = si_suffix(min.abs().max(max.abs()));
    let decimals = (-(step / div).log10().floor()).max(0.0) as usize;
    let mut out = Vec::new();
    let mut k = first;
    while k <= last {
        let value = k * step;
        let value = if value.abs() < step * 1e-9 {
            0.0
        } else {
            value
        };
        let label = if value == 0.0 {
            "0".to_string()
        } else {
            format!("{:.*}{}", decimals, value / div, suffix)
        };
        out.push(NumericTick { value, label });
        k += 1.0;
    }
    out
}

fn si_suffix(magnitude: f64) -> (f64, &'static str) {
    if magnitude >= 1e12 {
        (1e12, "T")
    } else if magnitude >= 1e9 {
        (1e9, "G")
    } else if magnitude >= 1e6 {
        (1e6, "M")
    } else if magnitude >= 1e4 {
        (1e3, "k")
    } else {
        (1.0, "")
    }
}
