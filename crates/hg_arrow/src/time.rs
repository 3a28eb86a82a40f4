//! Civil (proleptic Gregorian, UTC) calendar arithmetic on i64 nanoseconds since the Unix epoch.
//!
//! Written here rather than taken from `chrono` so that formatting and tick generation need no
//! time-zone database (values are UTC everywhere in huntglass) and stay small in wasm.

/// Nanoseconds per microsecond.
pub const NS_PER_US: i64 = 1_000;
/// Nanoseconds per millisecond.
pub const NS_PER_MS: i64 = 1_000_000;
/// Nanoseconds per second.
pub const NS_PER_SECOND: i64 = 1_000_000_000;
/// Nanoseconds per minute.
pub const NS_PER_MINUTE: i64 = 60 * NS_PER_SECOND;
/// Nanoseconds per hour.
pub const NS_PER_HOUR: i64 = 60 * NS_PER_MINUTE;
/// Nanoseconds per day.
pub const NS_PER_DAY: i64 = 24 * NS_PER_HOUR;

/// A UTC calendar date and time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Civil {
    /// Year (astronomical numbering: 0 is 1 BC).
    pub year: i64,
    /// Month 1..=12.
    pub month: u32,
    /// Day of month 1..=31.
    pub day: u32,
    /// Hour 0..=23.
    pub hour: u32,
    /// Minute 0..=59.
    pub minute: u32,
    /// Second 0..=59.
    pub second: u32,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date `(year, month, day)` of a count of days since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl Civil {
    /// The calendar fields of an instant given in nanoseconds since the epoch (UTC).
    pub fn from_ns(ns: i64) -> Civil {
        let days = ns.div_euclid(NS_PER_DAY);
        let in_day = ns.rem_euclid(NS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let secs = in_day / NS_PER_SECOND;
        Civil {
            year,
            month,
            day,
            hour: (secs / 3600) as u32,
            minute: (secs / 60 % 60) as u32,
            second: (secs % 60) as u32,
            nanos: (in_day % NS_PER_SECOND) as u32,
        }
    }

    /// Nanoseconds since the epoch, or `None` when the instant does not fit in i64 nanoseconds
    /// (roughly outside the years 1677..=2262).
    pub fn to_ns(&self) -> Option<i64> {
        let days = days_from_civil(self.year, self.month, self.day) as i128;
        let ns = days * NS_PER_DAY as i128
            + self.hour as i128 * NS_PER_HOUR as i128
            + self.minute as i128 * NS_PER_MINUTE as i128
            + self.second as i128 * NS_PER_SECOND as i128
            + self.nanos as i128;
        i64::try_from(ns).ok()
    }

    /// Milliseconds within the second.
    pub fn millis(&self) -> u32 {
        self.nanos / 1_000_000
    }
}

/// Formats an instant as `YYYY-MM-DD HH:MM:SS.mmm` (UTC, milliseconds truncated toward the past).
pub fn format_timestamp_ms(ns: i64) -> String {
    let c = Civil::from_ns(ns);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        c.year,
        c.month,
        c.day,
        c.hour,
        c.minute,
        c.second,
        c.millis()
    )
}

/// Formats a day count since the epoch as `YYYY-MM-DD`.
pub fn format_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Short English month name (`Jan` .. `Dec`) of a month number 1..=12.
pub fn month_abbrev(month: u32) -> &'static str {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    NAMES[(month.clamp(1, 12) - 1) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_days_across_eras() {
        for days in [-719_468 * 2, -1, 0, 1, 59, 60, 11_016, 19_797, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_797), (2024, 3, 15));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(days_from_civil(2000, 2, 29), 11_016);
    }

    #[test]
    fn formats_before_and_after_the_epoch() {
        assert_eq!(format_timestamp_ms(0), "1970-01-01 00:00:00.000");
        assert_eq!(format_timestamp_ms(-1), "1969-12-31 23:59:59.999");
        assert_eq!(
            format_timestamp_ms(1_710_423_930_250_000_000),
            "2024-03-14 13:45:30.250"
        );
        let c = Civil::from_ns(1_710_423_930_250_000_007);
        assert_eq!(c.to_ns(), Some(1_710_423_930_250_000_007));
        let far = Civil {
            year: 3000,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            nanos: 0,
        };
        assert_eq!(far.to_ns(), None);
    }
}
